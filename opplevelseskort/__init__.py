"""Opplevelseskort: experience cards, partner offers, check-in, equipment pool, zone reports."""

from __future__ import annotations

import logging.config
import os
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app, g, has_app_context, render_template, request
from flask_babel import lazy_gettext as _l

from .config import DEFAULT_SECRET_KEY, load_config
from .core import jobs
from .extensions import babel, csrf, db, limiter, login_manager, migrate, talisman

PACKAGE_DIR = Path(__file__).resolve().parent

__version__ = "0.1.0"


def resource_dir(name: str) -> Path:
    """templates/ and migrations/ live at the repository root and are mapped into the wheel's package."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


CSP = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:", "blob:"],
    "script-src": "'self'",
    "style-src": "'self'",
    "media-src": ["'self'", "blob:"],
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def configure_logging(level: str, fmt: str = "plain") -> None:
    from .core.ops import logging_config

    logging.config.dictConfig(logging_config(level, fmt))


def _limits_off_here() -> bool:
    """Flask-Limiter keeps `enabled` on its one shared instance, set by whichever app was initialised last: a
    process that builds several apps (the tests, a CLI beside a worker) must still honour each app's own
    RATELIMIT_ENABLED."""
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def create_app(config: dict | None = None) -> Flask:
    """Build the application: settings from the environment, extensions, blueprints, CLI, error pages.

    The factory is the one place that imports every part, and it does so inside its functions, once the extensions
    exist (the parts' models and views use them at import); everywhere else imports sit at the top of the module.
    """
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("OPPLEVELSESKORT_INSTANCE") or None
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        instance_relative_config=True,
        template_folder=str(resource_dir("templates")),
        static_folder=str(PACKAGE_DIR / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(app.instance_path, config))
    if app.config["PRODUCTION"] and app.config["SECRET_KEY"] in (DEFAULT_SECRET_KEY, "", None):
        raise RuntimeError("Refusing to start in production with the default SECRET_KEY; set SECRET_KEY.")
    if not (config or {}).get("SKIP_LOGGING_CONFIG"):
        configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    if app.config.get("PROXY_FIX_X_FOR"):
        # Behind a reverse proxy: take the client's address (rate limits, logs) and scheme from the headers the
        # configured number of trusted proxies add, and nothing a client could forge beyond them.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX_X_FOR"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    db.init_app(app)
    _sqlite_transactions(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    if _limits_off_here not in limiter._request_filters:  # one filter, however many apps a process builds
        limiter.request_filter(_limits_off_here)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Logg inn for å se denne siden.")
    login_manager.login_message_category = "info"

    from .core.i18n import select_locale, template_helpers

    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(PACKAGE_DIR / "translations"))
    # Registered before Talisman so it runs after it: pages with secrets in their URL (the family's card)
    # ask for a stricter Referrer-Policy through g.referrer_policy.
    @app.after_request
    def _page_referrer_policy(response):
        from flask import g

        if g.get("referrer_policy"):
            response.headers["Referrer-Policy"] = g.referrer_policy
        return response

    csp = {k: (list(v) if isinstance(v, list) else v) for k, v in CSP.items()}
    if app.config.get("MAP_TILE_URL"):
        # A configured map tile server is the one outside origin pages may load images from.
        from urllib.parse import urlsplit

        parts = urlsplit(app.config["MAP_TILE_URL"].replace("{s}", "a"))
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in app.config["MAP_TILE_URL"] else parts.netloc
        tile_origin = f"{parts.scheme}://{host}"
        csp["img-src"] = [*csp["img-src"], tile_origin]
    talisman.init_app(
        app,
        content_security_policy=csp,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=True,
        strict_transport_security_max_age=31536000,
        frame_options="DENY",
        referrer_policy="same-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        x_content_type_options=True,
    )

    from .accounts import oidc, sessions
    from .core import guards, ops

    guards.init_app(app)  # before the blueprints: their <int:> rules take the bounded converter
    ops.init_app(app)
    oidc.init_app(app)
    sessions.init_app(app)  # who a request is, how long a session lasts, the second factor a role needs
    # A load balancer probes the nodes over plain HTTP: no redirect to HTTPS for the probes.
    for endpoint in ("ops.healthz", "ops.readyz", "ops.metrics"):
        app.view_functions[endpoint] = talisman(force_https=False)(app.view_functions[endpoint])
    _register_models()
    _register_blueprints(app)
    _register_jobs(app)
    _wire_hooks(app)
    _register_cli(app)
    _register_error_pages(app)
    app.jinja_env.globals.update(template_helpers())
    from .core.labels import label

    app.jinja_env.globals["label"] = label
    from .core.forms import leaf_fields
    from .core.outbox import state_text, status_token

    app.jinja_env.globals["leaf_fields"] = leaf_fields
    app.jinja_env.globals["message_state_text"] = state_text
    app.jinja_env.globals["message_status_token"] = status_token
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    return app


SQLITE_BUSY_MS = 15_000  # how long a write waits for the one writer before the page says "try again"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _sqlite_transactions(app: Flask) -> None:
    """Give pysqlite real transactions (and savepoints), enforce foreign keys, and let the embedded database serve
    pages while the worker writes.

    SQLite has one writer. In write-ahead mode a reader never waits for it and its commit never waits for a reader;
    but a transaction that reads, then writes after another committed cannot go on (SQLITE_BUSY_SNAPSHOT, at once,
    whatever the busy timeout). So the unit of work that will write takes the write lock when it begins (BEGIN
    IMMEDIATE) and waits its turn: a request that may change data, and a job in the worker. A page that only reads,
    and any other session (another app context in the same thread, the shell, a test's own checks), begins deferred:
    it never holds the lock while it reads, and never waits for its own request's."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cur.execute("PRAGMA journal_mode=WAL")  # a file keeps it; an in-memory database answers "memory"
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _will_write() else "BEGIN")

    @app.before_request  # the first hook: before any other reads the database
    def _mark_writing_request():
        if request.method not in SAFE_METHODS:
            g.sqlite_writer = True

    @app.teardown_request
    def _unmark_writing_request(_exc):
        g.pop("sqlite_writer", None)  # tests keep one app context across requests


def _will_write() -> bool:
    """Whether this app context's unit of work will write: a request that may change data, or a job."""
    return has_app_context() and (g.get("sqlite_writer", False) or jobs.is_job_thread())


# From the bottom up: the platform, sign-in and zones, then the parts built on them.
PARTS = ["opplevelseskort.core", "opplevelseskort.accounts", "opplevelseskort.zones", "opplevelseskort.cards",
         "opplevelseskort.partners", "opplevelseskort.money", "opplevelseskort.checkin", "opplevelseskort.reports",
         "opplevelseskort.wishes", "utstyr", "opplevelseskort.portal"]
# Parts without tables or commands of their own (the family's pages read the parts below them).
NO_MODELS = {"opplevelseskort.portal"}
NO_CLI = {"opplevelseskort.portal"}
URL_PREFIXES = {"utstyr": "/utstyr", "opplevelseskort.reports": "/rapporter"}


def _register_models() -> None:
    # Importing every part's models registers their tables on the shared metadata.
    import importlib

    for part in PARTS:
        if part not in NO_MODELS:
            importlib.import_module(part + ".models")


def _register_blueprints(app: Flask) -> None:
    import importlib

    from .api.views import bp as api_bp
    from .core import nav

    menu, counts = [], []
    for part in PARTS:
        views = importlib.import_module(part + ".views")
        app.register_blueprint(views.bp, url_prefix=URL_PREFIXES.get(part))
        menu += getattr(views, "MENU", ())
        counts += getattr(views, "COUNTS", ())
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)
    nav.init_app(app, menu, counts)  # the menu and dashboard figures, from each part's MENU and COUNTS

    from .core import uow

    uow.init_app(app)  # one commit per request, at the boundary: views never commit


def _wire_hooks(app: Flask) -> None:
    """The two real plug-in points (see core/hooks.py), each with a provider per part, wired here explicitly."""
    from utstyr import demo as utstyr_demo
    from utstyr import overview as utstyr

    from .cards import demo as cards_demo
    from .checkin import demo as checkin_demo
    from .checkin import services as checkin
    from .core import hooks
    from .money import demo as money_demo
    from .partners import demo as partners_demo
    from .reports import demo as reports_demo
    from .wishes import demo as wishes_demo

    hooks.provide(app, "metric_counts", checkin.metric_counts)
    hooks.provide(app, "metric_counts", utstyr.metric_counts)
    for add_demo_data in (partners_demo.demo_offers, cards_demo.demo_cards, money_demo.demo_money,
                          checkin_demo.demo_checkins, utstyr_demo.demo_utstyr, wishes_demo.demo_wishes,
                          reports_demo.demo_publications):  # last: built from the rest
        hooks.provide(app, "demo_data", add_demo_data)


# Parts with jobs of their own (`jobs.py`: queued work and scheduled work).
JOB_PARTS = ["opplevelseskort.zones", "opplevelseskort.cards", "opplevelseskort.money", "opplevelseskort.checkin",
             "opplevelseskort.reports", "opplevelseskort.wishes", "utstyr"]


def _register_jobs(app: Flask) -> None:
    import importlib

    from .core import jobs

    for part in JOB_PARTS:
        importlib.import_module(part + ".jobs")
    jobs.init_app(app)


def _register_cli(app: Flask) -> None:
    import importlib

    from . import demo

    for part in PARTS:
        if part not in NO_CLI:
            importlib.import_module(part + ".cli").register(app)
    demo.register(app)  # the demo municipality is built from every part


def _register_error_pages(app: Flask) -> None:
    def render_error(status: int):
        def handler(error):
            # Keep the exception's headers (Allow on 405, Retry-After on 429, WWW-Authenticate on 401).
            headers = {k: v for k, v in (error.get_headers() if hasattr(error, "get_headers") else [])
                       if k.lower() != "content-type"}
            if status == 500:
                from .extensions import db

                try:
                    db.session.rollback()
                except Exception:  # noqa: BLE001 - a broken connection must not turn the page into a trace
                    pass
            # Our own refusals carry a translated description (werkzeug's defaults are English and generic).
            detail = getattr(error, "description", None)
            detail = detail if isinstance(detail, str) and detail != type(error).description else None
            from .core.guards import json_error, wants_json

            if wants_json():
                resp = json_error(status, message=detail)
                resp.headers.update(headers)
                return resp
            return render_template(f"errors/{status}.html", detail=detail), status, headers

        return handler

    for status in (400, 401, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(status, render_error(status))
