"""API tokens: hashed at rest, shown once, scoped to the user's role, revocable; the API takes tokens only."""

import hashlib

from click.testing import CliRunner

from opplevelseskort.accounts import services as accounts
from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.accounts.models import ApiToken
from opplevelseskort.core.models import Role
from opplevelseskort.extensions import db


def _bearer(raw):
    return {"Authorization": f"Bearer {raw}"}


def test_token_is_stored_only_as_hash(users):
    token, raw = api_tokens.create_token(users["partner"], "skanner")
    assert raw.startswith("okt_") and len(raw) > 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in (token.prefix, token.token_hash)
    assert token.role == Role.PARTNER


def test_api_answers_with_valid_token_and_401_without(client, users):
    _token, raw = api_tokens.create_token(users["analyst"], "r")
    r = client.get("/api/v1/me", headers=_bearer(raw))
    assert r.status_code == 200 and r.json["role"] == "analyst"
    assert client.get("/api/v1/me").status_code == 401
    r = client.get("/api/v1/me", headers=_bearer("okt_forged"))
    assert r.status_code == 401 and r.json["error"] == "unauthorized"


def test_revoked_token_stops_working(client, users):
    token, raw = api_tokens.create_token(users["analyst"], "r")
    api_tokens.revoke_token(token, actor=users["analyst"])
    assert client.get("/api/v1/me", headers=_bearer(raw)).status_code == 401


def test_token_stops_when_role_changes_or_user_disabled(client, users):
    _t, raw = api_tokens.create_token(users["analyst"], "r")
    accounts.update_user(users["analyst"], actor=users["admin"], role=Role.CASEWORKER)
    assert client.get("/api/v1/me", headers=_bearer(raw)).status_code == 401
    _t2, raw2 = api_tokens.create_token(users["volunteer"], "v")
    accounts.update_user(users["volunteer"], actor=users["admin"], active=False)
    assert client.get("/api/v1/me", headers=_bearer(raw2)).status_code == 401


def test_browser_session_cannot_drive_the_api(client, login_as):
    login_as("admin")
    assert client.get("/api/v1/me").status_code == 401


def test_token_page_shows_raw_token_once(client, login_as, users):
    login_as("partner")
    r = client.post("/api-nokler", data={"name": "Resepsjon", "scopes": ["checkin"], "days": "90"})
    assert r.status_code == 200
    token = db.session.scalar(db.select(ApiToken).filter_by(user_id=users["partner"].id))
    assert token.prefix in r.text and 'id="new-token"' in r.text
    again = client.get("/api-nokler")
    assert 'id="new-token"' not in again.text


def test_revoke_via_page_and_not_someone_elses(client, login_as, users):
    other, _ = api_tokens.create_token(users["analyst"], "a")
    mine, raw = api_tokens.create_token(users["partner"], "p")
    login_as("partner")
    assert client.post(f"/api-nokler/{other.id}/trekk-tilbake").status_code == 404
    assert client.post(f"/api-nokler/{mine.id}/trekk-tilbake").status_code == 302
    assert db.session.get(ApiToken, mine.id).revoked_at is not None
    assert db.session.get(ApiToken, other.id).revoked_at is None


def test_cli_tokens_create_prints_only_the_token(app, users):
    runner = CliRunner()
    result = app.test_cli_runner().invoke(args=["tokens", "create", "--user", "analyst@test.no"])
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip()
    assert raw.startswith("okt_") and "\n" not in raw
    assert api_tokens.user_for_token(raw).email == "analyst@test.no"
    assert runner is not None


def test_cli_tokens_create_unknown_user_fails(app, users):
    result = app.test_cli_runner().invoke(args=["tokens", "create", "--user", "ghost@test.no"])
    assert result.exit_code == 1
    assert "ghost@test.no" in result.output


def test_api_unknown_path_is_json_404(client):
    r = client.get("/api/v1/does-not-exist")
    assert r.status_code == 404 and r.json["error"] == "not_found"


def test_a_process_remembers_a_token_for_seconds_and_forgets_it_when_revoked(make_app, app, users, monkeypatch):
    """The token and its user are read once per API_TOKEN_CACHE_SECONDS (a scanner's every request would read them
    again); a revoke on this node stops it at once, a user disabled elsewhere stops within the seconds."""
    import sqlalchemy as sa

    from opplevelseskort.accounts import tokens as api_tokens
    from opplevelseskort.accounts.models import User
    from opplevelseskort.extensions import db

    cached = make_app(API_TOKEN_CACHE_SECONDS=5)
    with cached.app_context():
        token, raw = api_tokens.create_token(users["analyst"], "skanner")
        api_tokens._TOKENS.clear()
        client = cached.test_client()
        headers = {"Authorization": f"Bearer {raw}"}
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        statements = []
        conn = db.session.connection()
        listener = lambda *a, **k: statements.append(a[2])  # noqa: E731
        sa.event.listen(conn, "before_cursor_execute", listener)
        try:
            assert client.get("/api/v1/me", headers=headers).status_code == 200
        finally:
            sa.event.remove(conn, "before_cursor_execute", listener)
        assert not any("api_token" in s for s in statements)  # remembered: no statement for the token
        analyst = users["analyst"].id
        disable = sa.update(User).where(User.id == analyst)
        db.session.execute(disable.values(active=False))  # disabled "on another node": trusted for the seconds ...
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        monkeypatch.setattr(api_tokens.time, "monotonic", lambda: 10**9)  # ... and no longer after them
        assert client.get("/api/v1/me", headers=headers).status_code == 401
        db.session.execute(disable.values(active=True))
        monkeypatch.undo()
        api_tokens._TOKENS.clear()
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        api_tokens.revoke_token(db.session.get(type(token), token.id), actor=db.session.get(User, users["admin"].id))
        db.session.flush()  # revoked on this node: at once
        assert client.get("/api/v1/me", headers=headers).status_code == 401
