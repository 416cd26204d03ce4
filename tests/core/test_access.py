"""Access control: every staff URL × every role, plus anonymous visitors."""

import pytest

from opplevelseskort.core.models import Role

ADMIN_ONLY = ["/admin/brukere", "/admin/brukere/ny", "/admin/soner", "/admin/soner/import"]
ALL_STAFF = ["/oversikt", "/passord", "/api-nokler"]


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("url", ADMIN_ONLY)
def test_admin_pages_refuse_other_roles(client, login_as, role, url):
    login_as(role)
    expected = 200 if role == "admin" else 403
    assert client.get(url).status_code == expected


@pytest.mark.parametrize("role", [r.value for r in Role])
@pytest.mark.parametrize("url", ALL_STAFF)
def test_staff_pages_open_to_every_role(client, login_as, role, url):
    login_as(role)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ADMIN_ONLY + ALL_STAFF)
def test_anonymous_is_sent_to_login(client, url):
    r = client.get(url)
    assert r.status_code == 302 and "/logg-inn" in r.headers["Location"]


def test_every_staff_view_declares_its_roles(app):
    """No view under a staff URL escapes the role decorator (public endpoints are listed explicitly)."""
    public = {"static", "core.home", "accounts.login", "accounts.logout", "core.set_language", "core.accessibility"}
    unguarded = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") or rule.endpoint in public:
            continue
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, "allowed_roles") and not getattr(view, "public", False):
            unguarded.append(rule.rule)
    assert unguarded == []
