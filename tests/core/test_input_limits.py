"""Issue 23's probe values answer with a named refusal, never a 500: report periods far outside the data, the
password rule, the per-account login limit and a private, cheap /metrics."""

from opplevelseskort.accounts import services as accounts
from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.core.models import OutboxMessage
from opplevelseskort.extensions import db

from ..conftest import PASSWORD


def test_a_repeated_string_is_no_password():
    for weak in ("weakpwweakpw", "abcabcabcabc", "passpasspass", "aaaaaaaaaaaa", "abababababab"):
        problem = accounts.password_problem(weak)
        assert problem is not None and problem.code == "password_common", weak
    assert accounts.password_problem("korrekt hest batteri stift") is None


def test_one_account_is_limited_across_addresses_and_its_holder_told_once(make_app, users):
    """Guessing one account from many addresses meets the account's own limit; the holder gets one e-mail. The
    limit is a window, not a lockout: the right password works again when it has passed."""
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="100 per minute", LOGIN_ADDRESS_RATE_LIMIT="100 per minute",
                   LOGIN_ACCOUNT_RATE_LIMIT="4 per hour")
    c = app.test_client()
    codes = [c.post("/logg-inn", data={"email": "analyst@test.no", "password": "feil"},
                    environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code for i in range(7)]
    assert codes == [200, 200, 200, 200, 429, 429, 429]
    told = db.session.scalars(db.select(OutboxMessage).filter_by(recipient="analyst@test.no",
                                                                 kind="login_limited")).all()
    assert len(told) == 1
    # another account is not held back by this one's limit
    assert c.post("/logg-inn", data={"email": "caseworker@test.no", "password": PASSWORD},
                  environ_base={"REMOTE_ADDR": "10.0.0.99"}).status_code == 302
    # an account that does not exist gets the same answers and no e-mail goes anywhere
    c = app.test_client()
    codes = [c.post("/logg-inn", data={"email": "ingen@test.no", "password": "feil"},
                    environ_base={"REMOTE_ADDR": f"10.1.0.{i}"}).status_code for i in range(5)]
    assert codes == [200, 200, 200, 200, 429]
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id)).filter_by(recipient="ingen@test.no")) == 0


def test_metrics_answer_nobody_in_production_without_a_token(make_app):
    app = make_app(PRODUCTION=True, SECRET_KEY="s" * 40, METRICS_TOKEN="", FORCE_HTTPS=False)
    assert app.test_client().get("/metrics").status_code == 404


def test_metrics_read_the_database_at_most_every_30_seconds(make_app, users, monkeypatch):
    from opplevelseskort.core import hooks, ops

    calls = []
    real = hooks.collect

    def counting(name, *args):
        calls.append(name)
        return real(name, *args)

    monkeypatch.setattr(hooks, "collect", counting)
    now = [1000.0]
    monkeypatch.setattr(ops, "_monotonic", lambda: now[0])
    app = make_app(METRICS_TOKEN="skrape")
    c = app.test_client()
    auth = {"Authorization": "Bearer skrape"}
    first = c.get("/metrics", headers=auth).get_data(as_text=True)
    c.get("/metrics", headers=auth)
    now[0] += 10
    c.get("/metrics", headers=auth)
    assert calls == ["metric_counts"]  # three scrapes inside 30 s: one read
    now[0] += 25
    c.get("/metrics", headers=auth)
    assert calls == ["metric_counts", "metric_counts"]
    assert "opplevelseskort_checkins" in first


def test_json_nested_100000_deep_is_refused_by_name_in_zone_and_indicator_imports(muni):
    import pytest

    from opplevelseskort.core.errors import ImportFailed
    from opplevelseskort.reports.indicators import import_indicators
    from opplevelseskort.zones import imports as zones

    deep = ("[" * 100_000 + "]" * 100_000).encode()
    with pytest.raises(ImportFailed) as exc:
        zones.import_zones_geojson(muni, deep, code_property="c", name_property="n", level="grunnkrets")
    assert "dypere enn 64" in exc.value.errors[0]
    with pytest.raises(ImportFailed) as exc:
        import_indicators(deep, fmt="jsonstat", actor=None, allowed=[muni])
    assert "dypere enn 64" in exc.value.errors[0]


def test_a_jsonstat_declaring_300000_by_300000_cells_is_refused_before_reading_them(muni):
    import json

    import pytest

    from opplevelseskort.core.errors import ImportFailed
    from opplevelseskort.reports.indicators import import_indicators

    doc = {"class": "dataset", "id": ["Region", "Tid", "ContentsCode"], "size": [300_000, 300_000, 1],
           "dimension": {"Region": {"category": {"index": {}}}, "Tid": {"category": {"index": {}}},
                         "ContentsCode": {"category": {"index": {"x": 0}}}}, "value": []}
    with pytest.raises(ImportFailed) as exc:
        import_indicators(json.dumps(doc).encode(), fmt="jsonstat", actor=None, allowed=[muni])
    assert "90 000 000 000 verdier" in exc.value.errors[0]


def test_a_one_megabyte_csv_field_is_a_named_refusal_in_every_csv_import(muni, users):
    import pytest

    from opplevelseskort.cards import applications
    from opplevelseskort.core.errors import ImportFailed
    from opplevelseskort.reports.indicators import import_indicators
    from opplevelseskort.zones import imports as zones

    big = '"' + "x" * 1_000_000 + '"'
    for run in (lambda: zones.import_zones_csv(muni, f"code;name;level\nA;{big};x\n".encode()),
                lambda: applications.import_households(muni, f"{';'.join(applications.IMPORT_COLUMNS)}\n{big}\n",
                                                       actor=users["caseworker"]),
                lambda: import_indicators(f"zone;indicator;year;value\n{big};x;2024;1\n".encode(), fmt="csv",
                                          actor=None, allowed=[muni])):
        with pytest.raises(ImportFailed) as exc:
            run()
        assert "kan ikke leses som CSV" in exc.value.errors[0]


def test_an_upload_over_the_size_cap_is_a_named_413_and_writes_nothing(make_app, users, muni):
    import io

    from opplevelseskort.cards.models import Household

    from ..conftest import login

    app = make_app(MAX_CONTENT_LENGTH=2 * 1024 * 1024)
    c = app.test_client()
    login(c, users["caseworker"])
    big = io.BytesIO(b"guardian_name;x\n" + b"a;b\n" * 1_000_000)  # about 4 MB
    r = c.post("/barn/import", data={"file": (big, "husstander.csv")}, content_type="multipart/form-data")
    assert r.status_code == 413
    assert "større enn 2 MB" in r.text
    assert db.session.scalar(db.select(db.func.count(Household.id))) == 0
    raw = api_tokens.create_token(users["admin"], "t")[1]
    r = c.post("/api/v1/checkins", data=b"{" + b" " * (3 * 1024 * 1024) + b"}",
               headers={"Authorization": f"Bearer {raw}", "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json["error"] == "payload_too_large"


def test_a_csv_beyond_the_row_limit_is_refused_by_name(monkeypatch, muni):
    import pytest

    from opplevelseskort.core import csvfile
    from opplevelseskort.core.errors import ImportFailed
    from opplevelseskort.zones import imports as zones

    monkeypatch.setattr(csvfile, "MAX_ROWS", 100)
    with pytest.raises(ImportFailed) as exc:
        zones.import_zones_csv(muni, ("code;name;level\n" + "A;B;x\n" * 200).encode())
    assert "mer enn 100 rader" in exc.value.errors[0]


def _guess_from_many_addresses(app, email, n, password="feil"):
    c = app.test_client()
    return [c.post("/logg-inn", data={"email": email, "password": password},
                   environ_base={"REMOTE_ADDR": f"10.9.{i // 250}.{i % 250}"}).status_code for i in range(n)]


def test_strangers_failures_do_not_lock_out_a_browser_the_holder_signed_in_from(make_app, users):
    """OWASP's device cookie: a browser the account signed in from before keeps getting in with the right password
    while strangers have spent the account's window; a new browser does not."""
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="100 per minute", LOGIN_ADDRESS_RATE_LIMIT="100 per minute",
                   LOGIN_ACCOUNT_RATE_LIMIT="4 per hour")
    own = app.test_client()
    assert own.post("/logg-inn", data={"email": "analyst@test.no", "password": PASSWORD}).status_code == 302
    assert own.get_cookie("kjent_enhet") is not None
    own.post("/logg-ut")
    assert _guess_from_many_addresses(app, "analyst@test.no", 6)[-1] == 429
    assert own.post("/logg-inn", data={"email": "analyst@test.no", "password": PASSWORD}).status_code == 302
    assert own.get("/oversikt").status_code == 200
    new_browser = app.test_client()
    assert new_browser.post("/logg-inn", data={"email": "analyst@test.no", "password": PASSWORD}).status_code == 429
    # a forged or another account's device cookie is no key
    new_browser.set_cookie("kjent_enhet", "forged")
    assert new_browser.post("/logg-inn", data={"email": "analyst@test.no", "password": PASSWORD}).status_code == 429


def test_the_holder_who_proves_the_second_factor_is_not_locked_out(make_app, users, frozen_clock):
    """With the window spent, an account with a second factor is asked for it whatever the password was (a
    guesser learns nothing); the right password and code get in, a wrong password never does."""
    import pyotp

    from opplevelseskort.accounts import services as accounts
    from opplevelseskort.core.clock import utcnow

    user = users["caseworker"]
    secret = accounts.new_totp_secret()
    accounts.enable_second_factor(user, secret, pyotp.TOTP(secret).at(int(utcnow().timestamp())), actor=user)
    db.session.commit()
    frozen_clock.move(seconds=60)
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="100 per minute", LOGIN_ADDRESS_RATE_LIMIT="100 per minute",
                   LOGIN_ACCOUNT_RATE_LIMIT="4 per hour", SECOND_FACTOR_RATE_LIMIT="100 per minute")
    codes = _guess_from_many_addresses(app, "caseworker@test.no", 6)
    assert codes == [200, 200, 200, 200, 302, 302]  # spent: every answer is the code step, right or wrong
    guesser = app.test_client()
    r = guesser.post("/logg-inn", data={"email": "caseworker@test.no", "password": "feil"})
    assert "/logg-inn/kode" in r.headers["Location"]
    code = pyotp.TOTP(secret).at(int(utcnow().timestamp()))
    assert guesser.post("/logg-inn/kode", data={"code": code}).status_code == 422  # no code passes a wrong password
    assert guesser.get("/oversikt").status_code == 302
    frozen_clock.move(seconds=60)
    holder = app.test_client()
    r = holder.post("/logg-inn", data={"email": "caseworker@test.no", "password": PASSWORD})
    assert "/logg-inn/kode" in r.headers["Location"]
    assert holder.post("/logg-inn/kode", data={"code": pyotp.TOTP(secret).at(int(utcnow().timestamp()))}
                       ).status_code == 302
    assert holder.get("/oversikt").status_code == 200
    told = db.session.scalars(db.select(OutboxMessage).filter_by(recipient="caseworker@test.no",
                                                                 kind="login_limited")).all()
    assert len(told) == 1
