"""The README's first command as a new user runs it, checked: from a plain `pip install .` (no extras) in a clean
virtual environment, `opplevelseskort demo`, then `opplevelseskort run` serves the home page and each demo role
signs in and sees its main page; the analyst downloads the GeoPackage (read back with pyogrio: EPSG:25833, one
feature per zone) and the council PDF (its text names at least five zones, read with poppler's pdftotext); the
caseworker imports a household file and sends its card links with PUBLIC_BASE_URL unset (the job finishes and the
messages are queued, not failed). Uses only what the package itself installs (requests is a runtime dependency).

Usage: python tools/first_run.py   (inside the clean environment; run by tools/test.sh)
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pyogrio
import requests

PAGES = {"admin@demo.no": "/admin/brukere", "saksbehandler@demo.no": "/barn", "partner@demo.no": "/mine-tilbud",
         "frivillig@demo.no": "/utstyr/", "analytiker@demo.no": "/rapporter/", "okonomi@demo.no": "/okonomi/oppgjor"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'type="hidden" name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _signed_in(base: str, email: str) -> requests.Session:
    s = requests.Session()
    form = s.get(base + "/logg-inn", timeout=10).text
    signed = s.post(base + "/logg-inn", data={"email": email, "password": "demo1234", "csrf_token": _csrf(form)},
                    allow_redirects=False, timeout=10)
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/oversikt"), (email, signed.text[:300])
    return s


def _wait_for_job(s: requests.Session, base: str, page_url: str) -> None:
    run_id = re.search(r"/(\d+)(?:\?|$)", page_url).group(1)
    for _ in range(600):
        status = s.get(f"{base}/jobber/{run_id}.json", timeout=10).json()
        if status["finished"]:
            assert status["status"] == "done", f"job {run_id}: {status}"
            return
        time.sleep(0.2)
    raise SystemExit(f"first run: job {run_id} did not finish")


def _analyst(base: str, work: str) -> None:
    s = _signed_in(base, "analytiker@demo.no")
    year = datetime.now(ZoneInfo("Europe/Oslo")).year  # the app's own "this year"
    gpkg = s.get(f"{base}/rapporter/eksport?period={year}&level=grunnkrets&format=gpkg", timeout=60)
    assert gpkg.status_code == 200, gpkg.status_code
    path = os.path.join(work, "demo.gpkg")
    with open(path, "wb") as f:
        f.write(gpkg.content)
    layer = pyogrio.list_layers(path)[0][0]
    assert pyogrio.read_info(path, layer=layer)["crs"] == "EPSG:25833"
    features = pyogrio.raw.read(path, layer=layer)[2]
    assert len(features) >= 30, len(features)
    print(f"first run: the GeoPackage has {len(features)} zones in EPSG:25833")
    pdf = s.get(f"{base}/rapporter/arsrapport.pdf?year={year}", timeout=120)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.status_code
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode()
    named = [name for name in ("Torget", "Stasjonen", "Kirkebakken", "Elvebredden", "Skoleveien", "Furumoen",
                               "Solhaug", "Myrvang", "Brygga", "Parken", "Berget", "Lunden", "Stranda")
             if name in text]
    assert len(named) >= 5, text[:400]
    print(f"first run: the council report names {len(named)} of the zones looked for")


def _caseworker(base: str) -> None:
    s = _signed_in(base, "saksbehandler@demo.no")
    template = s.get(base + "/barn/import/mal.csv", timeout=10).content.decode("utf-8-sig").splitlines()
    header, example = template[0], template[1].split(";")
    rows = []
    for n, name in enumerate(("Førstegang", "Andregang", "Tredjegang")):
        row = list(example)
        row[0], row[1], row[2] = f"Foresatt {name}", f"9876543{n}", f"forste.kjoring{n}@example.org"
        row[4], row[5] = "Barn", name  # three guardians (one per phone and e-mail): three households
        rows.append(";".join(row))
    form = s.get(base + "/barn/import", timeout=10).text
    started = s.post(base + "/barn/import", data={"csrf_token": _csrf(form)},
                     files={"file": ("husstander.csv", ("\n".join([header, *rows]) + "\n").encode(), "text/csv")},
                     allow_redirects=False, timeout=30)
    assert started.status_code == 302, started.text[:300]
    _wait_for_job(s, base, started.headers["Location"])
    result = s.get(base + started.headers["Location"], timeout=30).text
    action = re.search(r'action="([^"]*/send-lenker)"', result)
    assert action, re.findall(r"<(?:li|p)[^>]*>([^<]{5,200})<", result)[-15:]
    sending = s.post(base + action.group(1), data={"csrf_token": _csrf(result)}, allow_redirects=False, timeout=30)
    assert sending.status_code == 302, sending.status_code
    _wait_for_job(s, base, sending.headers["Location"])
    done = s.get(base + sending.headers["Location"], timeout=30).text
    flashes = re.findall(r"class=\"flash[^\"]*\"[^>]*>(.*?)<", done, re.S)
    assert any("Kortlenkene sendes til 3 familier" in f for f in flashes), flashes or done[-1500:]
    print("first run: the caseworker imported 3 households and their card links are queued")


def main() -> int:
    work = tempfile.mkdtemp(prefix="first-run-")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "OPPLEVELSESKORT_", "OIDC_", "PUBLIC_BASE_URL"))}
    env["OPPLEVELSESKORT_INSTANCE"] = os.path.join(work, "instance")  # a fresh database every time
    started = time.perf_counter()
    subprocess.run(["opplevelseskort", "demo"], cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"first run: demo took {time.perf_counter() - started:.1f} s")
    port = _free_port()
    server = subprocess.Popen(["opplevelseskort", "run", "--port", str(port)], cwd=work, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                home = requests.get(base + "/", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            raise SystemExit("first run: the app did not answer")
        assert home.status_code == 200, f"home page: {home.status_code}"
        for email, page in PAGES.items():
            s = requests.Session()
            form = s.get(base + "/logg-inn", timeout=10).text
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
            signed = s.post(base + "/logg-inn", data={"email": email, "password": "demo1234",
                                                       "csrf_token": token.group(1)}, allow_redirects=False, timeout=10)
            assert signed.status_code == 302 and signed.headers["Location"].endswith("/oversikt"), (email, signed.text)
            answer = s.get(base + page, timeout=30, allow_redirects=False)
            assert answer.status_code == 200, f"{email} {page}: {answer.status_code}"
            print(f"first run: {email} sees {page}")
        _analyst(base, work)
        _caseworker(base)
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
