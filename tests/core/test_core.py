

def test_every_role_sees_at_most_seven_top_menu_entries_and_every_page_behind_them(app, users):
    """The admin menu is grouped: at most seven top entries (the overview and six groups), and no page lost."""
    import re

    from flask import url_for

    from opplevelseskort.core import nav

    from ..conftest import login

    staff = [i for i in app.extensions["opplevelseskort.nav"][0] if not i.public]
    assert staff and all(isinstance(i, nav.NavItem) for i in staff)
    with app.test_request_context():
        urls = {i.endpoint: url_for(i.endpoint) for i in staff}
        dashboard = url_for("core.dashboard")
    for role in ("admin", "caseworker", "partner", "volunteer", "analyst"):
        c = app.test_client()
        login(c, users[role])
        menu = c.get(dashboard).text.split('<ul class="nav-list">')[1].split("</nav>")[0]
        # top-level entries: the menu list's own <li>s, not those inside a group's disclosure
        outside = re.sub(r"<details>.*?</details>", "", menu, flags=re.S)
        top = outside.count("<li")
        assert 2 <= top <= 7, (role, top)
        for item in staff:
            if users[role].role in item.roles:
                assert f'href="{urls[item.endpoint]}"' in menu, (role, item.endpoint)
    assert "<details>" in menu or role != "analyst"


def test_every_enum_code_has_one_translated_word(app):
    """Every StrEnum of every model is in core/labels.py, member by member; a new enum or member without a word
    fails here. The words are translated (English differs from bokmål for at least most of them)."""
    import enum
    import importlib

    from flask_babel import force_locale

    from opplevelseskort.core.labels import LABELS, label

    kinds = {"CheckinSource": "checkin_source", "ScanOutcome": "scan_outcome", "ScanFlag": "scan_flag",
             "ScanReason": "scan_reason", "Channel": "channel", "Gender": "gender",
             "RevokeReason": "revoke_reason", "CardStatus": "card_status", "ApplicationStatus": "application_status",
             "PartnerStatus": "partner_status", "PartnerKind": "partner_kind", "OfferCategory": "offer_category",
             "OfferStatus": "offer_status", "LimitPeriod": "limit_period", "BookingStatus": "booking_status",
             "Role": "role", "OutboxStatus": "outbox_status", "OutboxChannel": "outbox_channel",
             "ItemCategory": "item_category", "UnitCondition": "unit_condition", "UnitStatus": "unit_status",
             "UnitSource": "unit_source", "BorrowerKind": "borrower_kind", "ReservationStatus": "reservation_status",
             "JobStatus": "job_status", "SigningKeyStatus": "signing_key_status",
             "WalletKind": "wallet_kind", "AccountKind": "account_kind", "TransferKind": "transfer_kind",
             "MoneyReservationStatus": "money_reservation_status",
             "SettlementStatus": "settlement_status", "WishRoundStatus": "wish_round_status",
             "GradeBand": "grade_band", "WishTime": "wish_time", "WishSource": "wish_source",
             "TextStatus": "text_status", "WishCallStatus": "wish_call_status"}
    found = {}
    for module in ("opplevelseskort.core.models", "opplevelseskort.accounts.models", "opplevelseskort.zones.models",
                   "opplevelseskort.cards.models", "opplevelseskort.checkin.models",
                   "opplevelseskort.partners.models", "opplevelseskort.money.models", "opplevelseskort.wishes.models",
                   "utstyr.models"):
        for name, obj in vars(importlib.import_module(module)).items():
            if isinstance(obj, type) and issubclass(obj, enum.StrEnum) and obj is not enum.StrEnum \
                    and obj.__module__ == module:
                found[name] = obj
    assert set(found) == set(kinds), set(found) ^ set(kinds)
    missing = [(kinds[n], m.value) for n, e in found.items() for m in e if (kinds[n], m.value) not in LABELS]
    assert not missing, missing
    with app.test_request_context(), force_locale("en"):
        english = {k: label(*k) for k in LABELS}
    same = [k for k, v in english.items() if v == str(LABELS[k]._args[0] if hasattr(LABELS[k], "_args") else v)]
    assert len(same) < 0.2 * len(LABELS), same


def test_every_dashboard_tile_of_every_role_leads_to_a_page_that_role_gets(app, users, muni, zone_set):
    """The dashboard's shortcuts and counts are links, each to a page the role may open (a group of the menu is
    opened out into its pages: none is href="")."""
    import re

    from ..conftest import login

    for role in ("admin", "caseworker", "partner", "volunteer", "analyst"):
        c = app.test_client()
        login(c, users[role])
        page = c.get("/oversikt").text
        tiles = re.findall(r'<a class="tile" href="([^"]*)"', page)
        assert len(tiles) >= 2, role
        for href in tiles:
            assert href.startswith("/"), (role, href)
            assert c.get(href).status_code == 200, (role, href)


def test_an_admin_sets_the_municipalitys_settings_each_problem_under_its_field_and_audited(client, login_as, muni,
                                                                                         zone_set, users):
    import re

    from opplevelseskort.core.models import AuditLog, Municipality
    from opplevelseskort.extensions import db

    login_as("admin")
    assert client.get("/admin/kommune").status_code == 200
    bad = {"contact_line": "Ring oss", "sms_sender": "Altfor langt navn!", "default_report_period": "i fjor",
           "support_email": "ikke-epost"}
    r = client.post("/admin/kommune", data=bad)
    assert r.status_code == 422
    for name in ("sms_sender", "default_report_period", "support_email"):
        block = re.search(rf'<div class="field[^"]*">\s*<label for="{name}".*?</div>', r.text, re.S).group(0)
        assert 'class="error"' in block, name
    assert db.session.get(Municipality, muni.id).contact_line == ""  # nothing saved unless every field holds
    good = {"contact_line": "Spørsmål? Ring servicetorget på 69 19 60 00.", "sms_sender": "Halden kom",
            "default_report_period": "2026-Q1", "support_email": "kort@halden.kommune.no"}
    assert client.post("/admin/kommune", data=good).status_code == 302
    m = db.session.get(Municipality, muni.id)
    assert (m.contact_line, m.sms_sender, m.default_report_period, m.support_email) == tuple(good.values())
    entry = db.session.scalar(db.select(AuditLog).filter_by(action="municipality.settings"))
    assert set(entry.details["changed"]) == set(good)
    # used: the report page opens on the default period, the family's card page shows the contact line
    login_as("analyst")
    assert 'value="2026-Q1"' in client.get("/rapporter/").text
    from ..factories import make_card

    card = make_card(muni, users, "Kontakt")
    assert "Ring servicetorget på 69 19 60 00" in client.get(f"/kort/{card.family_token}").text


def test_the_contact_line_is_shown_in_the_familys_language_with_bokmal_where_none_is_given(client, login_as, muni,
                                                                                         zone_set, users):
    from opplevelseskort.core.models import AuditLog, Municipality
    from opplevelseskort.extensions import db

    from ..factories import make_card

    login_as("admin")
    form = client.get("/admin/kommune").text
    assert 'name="contact_line_ar"' in form and 'lang="ar"' in form and 'name="contact_line_nb"' not in form
    too_long = client.post("/admin/kommune", data={"contact_line": "Ring oss på 69 19 60 00.",
                                                   "contact_line_uk": "д" * 201})
    assert too_long.status_code == 422
    assert db.session.get(Municipality, muni.id).contact_line == ""  # nothing saved
    assert client.post("/admin/kommune", data={
        "contact_line": "Ring oss på 69 19 60 00.", "contact_line_ar": "اتصل بنا على 69 19 60 00.",
        "contact_line_uk": "Телефонуйте нам: 69 19 60 00."}).status_code == 302
    m = db.session.get(Municipality, muni.id)
    assert m.contact_line_translations == {"ar": "اتصل بنا على 69 19 60 00.", "uk": "Телефонуйте нам: 69 19 60 00."}
    entry = db.session.scalar(db.select(AuditLog).filter_by(action="municipality.settings"))
    assert "contact_line_translations" in entry.details["changed"]
    card = make_card(muni, users, "Kontakt")
    client.post("/logg-ut")
    assert "اتصل بنا على" in client.get(f"/kort/{card.family_token}?sprak=ar").text
    assert "Телефонуйте нам" in client.get(f"/kort/{card.family_token}?sprak=uk").text
    assert "Ring oss på 69 19 60 00." in client.get(f"/kort/{card.family_token}?sprak=pl").text  # none in Polish
    from opplevelseskort.cards import services as cards

    # the printed hand-over sheet takes the guardian's language's line the same way
    assert cards.family_contact(muni.id, "ar") == "اتصل بنا على 69 19 60 00."
    assert cards.family_contact(muni.id, "so") == "Ring oss på 69 19 60 00."
