"""The access matrix: every route of url_map × every role (and anonymous visitors), with the exact status each
must get.

Each request runs in its own savepoint, rolled back afterwards, so every cell starts from the same world
(municipality A's household, card, offer, booking, visit, application, loan, reservation...). The rule:

- a public view answers everyone as listed in PUBLIC (200 unless said otherwise);
- a guarded page sends anonymous visitors to the login page (302), the API answers them 401;
- a role the view does not allow gets 403;
- a role it allows gets 200 for a GET, and for a POST with an empty form what ALLOWED_POST says (a refused
  form is 422 or 400, an action with nothing to confirm is a redirect back with the reason).

Set ACCESS_MATRIX_PRINT=1 to print what the app answers, when a route is added.
"""

from __future__ import annotations

import os

from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.core.models import Role
from opplevelseskort.extensions import db

from .conftest import all_urls

ROLES = [None, *Role]

A, C, P = Role.ADMIN, Role.CASEWORKER, Role.PARTNER

# Public views: what each visitor gets, None being anonymous and "*" any logged-in role (200 when not listed).
PUBLIC = {
    ("core.home", "GET"): {None: 200, "*": 302},  # logged in: on to the dashboard
    ("accounts.login", "GET"): {None: 200, "*": 302},
    ("accounts.oidc_login", "GET"): {None: 404, "*": 404},  # no identity provider configured in the tests' app
    ("accounts.oidc_callback", "GET"): {None: 404, "*": 404},
    ("accounts.oidc_backchannel_logout", "POST"): {None: 404, "*": 404},
    ("accounts.login_code", "GET"): {None: 302, "*": 302},  # nobody owes a code: back to the password
    ("accounts.login_code", "POST"): {None: 302, "*": 302},
    ("accounts.login_passkey_options", "POST"): {None: 401, "*": 401},  # nobody gave the password first
    ("accounts.login_passkey", "POST"): {None: 401, "*": 401},
    ("accounts.login", "POST"): {None: 200, "*": 302},  # an empty form is shown again, without saying which field
    ("accounts.logout", "POST"): {None: 302, "*": 302},
    ("core.set_language", "POST"): {None: 302, "*": 302},
    ("core.favicon", "GET"): {None: 301, "*": 301},
    ("core.choose_municipality", "POST"): {None: 422, "*": 422},
    # Two municipalities share this deployment: whoever the request cannot place (a visitor, an admin over
    # both) chooses first and comes back.
    ("cards.apply", "GET"): {None: 302, A: 302, "*": 200},
    ("cards.apply", "POST"): {None: 302, A: 302, "*": 422},
    ("partners.register", "GET"): {None: 302, A: 302, "*": 200},
    ("partners.register", "POST"): {None: 302, A: 302, "*": 422},
    ("portal.family_book", "POST"): {None: 302, "*": 302},  # back to the card page, with the answer
    ("portal.family_cancel", "POST"): {None: 302, "*": 302},
    ("portal.family_device", "POST"): {None: 422, "*": 422},  # an empty body is no phone's key
    # the wallets are off until a municipality configures them; Apple's devices are answered as its spec says
    ("portal.family_apple_pass", "GET"): {None: 404, "*": 404},
    ("portal.family_google_pass", "GET"): {None: 404, "*": 404},
    ("cards.apple_changed", "GET"): {None: 204, "*": 204},  # a device with no passes: nothing changed
    ("cards.apple_register", "POST"): {None: 404, "*": 404},  # the world's serial is no pass
    ("cards.apple_unregister", "DELETE"): {None: 404, "*": 404},
    ("cards.apple_latest", "GET"): {None: 404, "*": 404},
    ("portal.scan_landing", "GET"): {None: 200, P: 302, "*": 200},  # a partner goes on to check the card in
    ("partners.offer_image", "GET"): {None: 404, "*": 404},  # the world's offer has no picture
    ("utstyr.photo", "GET"): {None: 404, "*": 404},
    ("accounts.set_password_link", "GET"): {None: 404, "*": 404},  # the world's token is no set-password link
    ("accounts.set_password_link", "POST"): {None: 404, "*": 404},
    ("wishes.code_entry", "POST"): {None: 422, "*": 422},  # no code typed
    ("wishes.answer", "GET"): {None: 404, "*": 404},  # the world's code is a card's: no class has it
    ("wishes.answer", "POST"): {None: 404, "*": 404},
    ("wishes.public_page", "GET"): {None: 302, A: 302, "*": 200},  # two municipalities: which one first
    ("portal.family_wish", "POST"): {None: 422, "*": 422},  # nothing chosen
    ("portal.family_wish_opt_out", "POST"): {None: 302, "*": 302},  # back to the card page
}

# A role the view allows: 200 for a GET and, for a POST with an empty form, the status listed ("*": the other
# allowed roles). A refused form page is 422; an action button goes back (302) with its answer.
ALLOWED = {
    ("cards.household_new", "GET"): {A: 302},  # an admin over several municipalities chooses one first
    ("cards.import_template", "GET"): {A: 302},
    ("reports.dashboard", "GET"): {A: 302},
    ("reports.export", "GET"): {A: 302},
    ("reports.grant", "GET"): {A: 302},
    ("reports.living_conditions_index", "GET"): {A: 302},  # an admin over every municipality says which first
    ("reports.need_page", "GET"): {A: 302},
    ("reports.qgis_guide", "GET"): {A: 302},
    ("reports.council_report", "GET"): {A: 302},
    ("reports.own_index_import", "POST"): {"*": 302},
    ("reports.correspondence_import", "POST"): {"*": 302},  # an empty form: back, saying what is missing
    ("reports.compare", "GET"): {A: 302},  # an empty form: back to the index page, saying what is missing
    ("api.ogc_collection", "GET"): {"*": 404},  # the world has no stored publication: no collection yet
    ("api.ogc_items", "GET"): {"*": 404},
    ("api.ogc_feature", "GET"): {"*": 404},  # the world has no indicator: the page says to import one
    ("reports.build_status", "GET"): {A: 302},
    ("core.municipality_settings", "GET"): {A: 302},  # an admin over several municipalities chooses one first
    ("core.municipality_settings", "POST"): {A: 302},
    ("reports.refresh", "POST"): {"*": 302},  # an empty form goes back to the report with the reason
    ("api.uptake_report", "GET"): {"*": 422},  # the period is required
    ("api.grant_report", "GET"): {"*": 422},  # the year is required
    ("cards.import_job", "GET"): {"*": 422},  # the world's import job failed: its page lists why
    ("cards.import_links_job", "GET"): {"*": 404},  # the world has no link-sending job
    ("cards.import_send_links", "POST"): {"*": 404},  # the world's import failed: nothing to send
    ("cards.import_sheets", "POST"): {"*": 404},
    ("core.job_status", "GET"): {C: 200, A: 200, "*": 404},  # a job is followed by its starter (and admins)
    ("core.job_page", "GET"): {C: 422, A: 422, "*": 404},
    ("core.job_errors", "GET"): {"*": 404},  # the world's failed job had few problems: no whole list to download
    ("cards.message_resend", "POST"): {"*": 302},  # back to the household, the message queued again
    ("api.create_checkin", "POST"): {"*": 422},
    ("api.sync_offline", "POST"): {"*": 422},
    ("api.settle_reservation", "POST"): {"*": 400},  # no Idempotency-Key
    ("money.settlement_list", "POST"): {"*": 422},  # no partner, no month
    ("money.settlement_ehf", "GET"): {"*": 302},  # a draft is no invoice yet: back to it, with the reason
    ("money.approve", "POST"): {"*": 302},  # an action button: back to the settlement, with the answer
    ("money.schemes", "POST"): {"*": 422},
    ("money.register", "POST"): {"*": 422},
    ("money.grant_now", "POST"): {"*": 302},
    ("money.suspend", "POST"): {"*": 302},
    ("checkin.offline_sync", "POST"): {"*": 422},
    ("api.create_loan", "POST"): {"*": 422},
    ("api.return_loan", "POST"): {"*": 200},  # no list: every open unit of the loan comes back
    ("cards.application_detail", "POST"): {"*": 302},
    ("cards.bulk_import", "POST"): {"*": 422},
    ("cards.card_issue", "POST"): {"*": 302},
    ("cards.card_renew", "POST"): {"*": 302},
    ("cards.card_replace", "POST"): {"*": 302},
    ("cards.card_revoke", "POST"): {"*": 302},
    ("cards.card_send", "POST"): {"*": 302},
    ("cards.card_show_link", "POST"): {"*": 200},
    ("cards.card_new_link", "POST"): {"*": 200},
    ("cards.card_handover_sheet", "POST"): {"*": 200},
    ("cards.household_delete", "POST"): {"*": 302},  # not without the ticked confirmation: back, with why
    ("cards.household_export", "GET"): {"*": 302},  # the matrix's sessions gave no password lately: confirm it
    ("accounts.reauthenticate", "POST"): {"*": 422},  # an empty form is shown again, saying what is missing
    ("accounts.totp_setup", "POST"): {"*": 422},  # no code typed: said under the field
    ("accounts.totp_reset", "POST"): {"*": 302},
    ("accounts.user_oidc", "POST"): {"*": 302},
    ("accounts.account_link", "POST"): {"*": 404},  # no provider in the test world
    ("accounts.passkey_options", "POST"): {"*": 200},  # the options to make a passkey with
    ("accounts.passkey_add", "POST"): {"*": 422},  # no credential sent (and no challenge asked for)
    ("accounts.passkey_remove", "POST"): {"*": 404},  # the world's passkey is nobody's here
    ("cards.household_new", "POST"): {A: 302, "*": 422},
    ("checkin.companions", "POST"): {"*": 302},
    ("checkin.from_link", "POST"): {"*": 200},
    ("checkin.scanner", "POST"): {"*": 422},
    ("checkin.void", "POST"): {"*": 302},
    ("accounts.change_password", "POST"): {"*": 422},
    ("accounts.token_revoke", "POST"): {A: 302, C: 302, "*": 404},  # the caseworker's token: not another user's
    ("accounts.tokens", "POST"): {"*": 422},
    ("partners.user_edit", "POST"): {"*": 422},
    ("partners.user_new", "POST"): {"*": 422},
    ("zones.zone_edit", "POST"): {"*": 302},  # the form keeps the zone's own values
    ("zones.zone_import", "POST"): {"*": 422},
    ("portal.book_on_behalf", "POST"): {"*": 302},  # back to the offer, with what is missing
    ("partners.occasion_add", "POST"): {"*": 302},
    ("partners.offer_edit", "POST"): {"*": 422},
    ("partners.partner_action", "POST"): {"*": 302},
    ("checkin.release", "POST"): {"*": 302},
    ("reports.indicators", "POST"): {"*": 422},
    ("reports.living_conditions_index", "POST"): {"*": 302},  # nothing chosen: back, saying so
    ("utstyr.borrower", "POST"): {"*": 422},
    ("utstyr.borrower_new", "POST"): {"*": 422},
    ("utstyr.cancel_reservation", "POST"): {"*": 302},
    ("utstyr.checkout", "POST"): {"*": 422},
    ("utstyr.locations", "POST"): {"*": 422},
    ("utstyr.reservations", "POST"): {"*": 422},
    ("utstyr.return_", "POST"): {"*": 422},
    ("utstyr.unit_action", "POST"): {"*": 302},
    ("utstyr.units", "POST"): {"*": 422},
    ("utstyr.unmet", "POST"): {"*": 302},
    ("wishes.rounds", "GET"): {A: 302},  # an admin over several municipalities chooses one first
    ("wishes.rounds", "POST"): {A: 302},
    ("wishes.add_class", "POST"): {"*": 422},
    ("wishes.answer_call", "POST"): {"*": 422},
    ("wishes.close", "POST"): {"*": 302},  # back to the round, with the answer
    ("wishes.publish", "POST"): {"*": 302},
    ("wishes.create_call", "POST"): {"*": 302},
    ("wishes.moderate", "POST"): {"*": 302},
}
UNGUARDED = {"accounts.login", "accounts.logout", "core.set_language", "core.home", "core.accessibility"}


def _expected(app, endpoint, method, role):
    view = app.view_functions[endpoint]
    if getattr(view, "public", False) or endpoint in UNGUARDED:
        cell = PUBLIC.get((endpoint, method), {})
        return cell.get(role, cell.get("*" if role is not None else None, 200))
    if role is None:
        return 401 if endpoint.startswith("api.") else 302
    if role not in view.allowed_roles:
        return 403
    cell = ALLOWED.get((endpoint, method))
    if cell is None:
        assert method == "GET", f"{method} {endpoint}: say in ALLOWED what an empty form gets"
        return 200
    return cell.get(role, cell.get("*", 200))


def _answers(app, world, users):
    from ..conftest import _CURRENT_CONNECTION

    conn = _CURRENT_CONNECTION[-1]
    ids = {role: users[role.value].get_id() for role in Role}
    tokens = {role: api_tokens.create_token(users[role.value], "matrix")[1] for role in Role}
    db.session.commit()  # the world, in the test's outer transaction: each cell's savepoint starts from it
    answers = []
    for endpoint, method, url in all_urls(app, world, skip={"static"}):
        for role in ROLES:
            db.session.remove()  # the next session joins inside the savepoint, and its rollbacks stay there
            savepoint = conn.begin_nested()
            try:
                c = app.test_client()
                headers = {}
                if url.startswith("/api/"):
                    if role is not None:
                        headers["Authorization"] = f"Bearer {tokens[role]}"
                elif role is not None:
                    with c.session_transaction() as sess:
                        sess["_user_id"], sess["_fresh"] = ids[role], True
                kw = {"json": {}} if url.startswith("/api/") and method == "POST" else {}
                r = c.open(url, method=method, headers=headers, **kw)
                answers.append((endpoint, method, url, role, r.status_code, r.headers.get("Location", "")))
            finally:
                db.session.remove()
                savepoint.rollback()
    return answers


def spec_problems(routed: set, cells: list, public: dict, allowed: dict) -> list[str]:
    """What makes the matrix say less than it seems to: a route or role without a cell, or a specified route that
    no longer exists (a stale line that would hide a renamed endpoint)."""
    problems = []
    seen = {(e, m) for e, m, *_rest in cells}
    problems += [f"no cell for {m} {e}" for e, m in sorted(routed - seen)]
    for e, m in routed:
        roles = {role for e2, m2, _url, role, *_x in cells if (e2, m2) == (e, m)}
        if e in {e2 for e2, _m in seen} and roles != set(ROLES):
            problems.append(f"{m} {e} not asked as {sorted(str(r) for r in set(ROLES) - roles)}")
    problems += [f"specified but not routed: {m} {e}" for e, m in sorted((set(public) | set(allowed)) - routed)]
    return problems


def test_every_route_answers_every_role_exactly_as_specified(app, world, users):
    """Every route of the URL map, asked by every role and anonymously (the cells are built once, here)."""
    cells = _answers(app, world, users)
    routed = {(r.endpoint, m) for r in app.url_map.iter_rules() if r.endpoint != "static"
              for m in r.methods - {"HEAD", "OPTIONS"}}
    assert not spec_problems(routed, cells, PUBLIC, ALLOWED)
    if os.environ.get("ACCESS_MATRIX_PRINT"):
        for endpoint, method, url, role, status, location in cells:
            print("CELL", endpoint, method, url, role and role.value, status, location)
    wrong = []
    for endpoint, method, url, role, status, location in cells:
        expected = _expected(app, endpoint, method, role)
        if status != expected:
            wrong.append(f"{method} {url} as {role and role.value}: {status}, expected {expected}")
        elif status == 302 and role is None and not endpoint.startswith("api.") and \
                (endpoint, method) not in PUBLIC and "/logg-inn" not in location:
            wrong.append(f"{method} {url} anonymous: sent to {location}, not to the login page")
    assert not wrong, "\n".join(wrong)


def test_the_coverage_check_finds_a_missing_route_a_missing_role_and_a_stale_line():
    routed = {("a.page", "GET"), ("a.form", "POST")}
    cells = [("a.page", "GET", "/a", role, 200, "") for role in ROLES]
    cells += [("a.form", "POST", "/f", role, 302, "") for role in ROLES[:-1]]
    problems = spec_problems(routed | {("b.new", "GET")}, cells, {("gone.page", "GET"): {}}, {})
    assert any("no cell for GET b.new" in p for p in problems)
    assert any(p.startswith("POST a.form not asked as") for p in problems)
    assert any("specified but not routed: GET gone.page" in p for p in problems)
    assert spec_problems(routed, [*cells, ("a.form", "POST", "/f", ROLES[-1], 302, "")], {}, {}) == []
