"""The README's first command as a new user runs it, checked: from a plain `pip install .` (no extras) in a clean
virtual environment, `opplevelseskort demo`, then `opplevelseskort run` serves the home page and each demo role
signs in and sees its main page. Uses only what the package itself installs (requests is a runtime dependency).

Usage: python tools/first_run.py   (inside the clean environment; run by tools/test.sh)
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time

import requests

PAGES = {"admin@demo.no": "/admin/brukere", "saksbehandler@demo.no": "/barn", "partner@demo.no": "/mine-tilbud",
         "frivillig@demo.no": "/utstyr/", "analytiker@demo.no": "/rapporter/"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    work = tempfile.mkdtemp(prefix="first-run-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "OPPLEVELSESKORT_", "OIDC_"))}
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
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
