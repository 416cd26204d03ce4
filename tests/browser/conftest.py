"""Browser fixtures: the app served on localhost in a thread, Debian's chromium driven by Playwright, axe-core.

With CI=true a missing chromium or Playwright is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from opplevelseskort import create_app
from opplevelseskort.demo import DEMO_PASSWORD, load_demo
from opplevelseskort.extensions import db

from ..conftest import BASE_DB_URL, CI, IS_PG, TEST_CONFIG, _worker_db_url

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
AXE_JS = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
PHONE = {"width": 360, "height": 740}

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _need_browser():
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        if CI:
            pytest.fail(f"CI=true but chromium is missing at {CHROMIUM}")
        pytest.skip("chromium not installed")
    try:
        import playwright  # noqa: F401
    except ImportError:
        if CI:
            pytest.fail("CI=true but playwright is not installed")
        pytest.skip("playwright not installed")


class LiveServer:
    def __init__(self, app, host="127.0.0.1"):
        self.app = app
        self.server = make_server(host, 0, app, threaded=True)
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, worker_id):
    if IS_PG:
        url = _worker_db_url(f"{worker_id}_live")
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("live") / "live.sqlite")
    config = {**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": True, "SERVER_NAME": None,
              "INSTANCE_PATH": str(tmp_path_factory.mktemp("live-instance"))}
    config.pop("PUBLIC_BASE_URL", None)
    app = create_app(config)
    with app.app_context():
        db.create_all()
        load_demo(small=True)
        db.session.commit()
    return app


@pytest.fixture(scope="session")
def live_server(live_app):
    server = LiveServer(live_app).start()
    live_app.config["PUBLIC_BASE_URL"] = server.url
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_instance():
    _need_browser()
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance):
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def context_factory(browser):
    contexts = []

    def make(**kwargs):
        kwargs.setdefault("locale", "nb-NO")
        ctx = browser.new_context(**kwargs)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


class PageErrors(list):
    pass


@pytest.fixture
def page(context_factory):
    """A desktop page; CSP violations and JS errors make the test fail at teardown."""
    ctx = context_factory(viewport={"width": 1280, "height": 900})
    p = _watched(ctx.new_page())
    yield p
    assert not p.errors, p.errors


def _watched(p):
    """Collect the page's JS errors and CSP violations (the fixtures fail the test on any)."""
    errors = PageErrors()
    p.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    p.on("console", lambda msg: errors.append(f"console: {msg.text}")
         if msg.type == "error" and "Content Security Policy" in msg.text else None)
    p.errors = errors
    return p


@pytest.fixture
def phone_page(context_factory):
    """A 360 px wide touch phone page."""
    ctx = context_factory(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    p = _watched(ctx.new_page())
    yield p
    assert not p.errors, p.errors


def axe_violations(page, impacts=("serious", "critical")):
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) in the page; return the violations of the given impacts."""
    page.evaluate(AXE_JS)  # evaluated over the DevTools protocol, so the page's CSP does not block it
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})""")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in impacts
    ]


@pytest.fixture
def axe_check():
    def check(page):
        violations = axe_violations(page)
        assert not violations, f"axe found serious/critical violations on {page.url}: {violations}"

    return check


def login(page, base_url: str, email: str, password: str = DEMO_PASSWORD):
    page.goto(base_url + "/logg-inn")
    page.get_by_label("E-post").fill(email)
    page.get_by_label("Passord", exact=True).fill(password)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_url("**/oversikt")


__all__ = ["login", "axe_violations", "BASE_DB_URL"]
