"""Money by zone (issue 40, item 8): children who used activity money and the kroner, counted where the child lives,
in the zone report beside card uptake, published only as protected aggregates: not on the finest level (the plan),
small counts hidden with the kroner beside them, the zones adding up to the municipality, in every export."""

from __future__ import annotations

import pytest

from opplevelseskort.core.clock import today
from opplevelseskort.extensions import db
from opplevelseskort.money import services as money
from opplevelseskort.partners import services as partners
from opplevelseskort.reports import formats, periods, plan, published, services, store
from opplevelseskort.reports import jobs as report_jobs
from opplevelseskort.reports.suppression import SUPPRESSED

from ..factories import make_card, offer_values

YEAR = periods.parse_period(str(today().year))
SPENT = {"30010101": [300, 150, 200], "30010102": [100], "30010201": [250]}  # kroner per child, by zone


@pytest.fixture
def spenders(muni, zone_set, users, partner_org):
    money.register_partner(partner_org, org_number=partner_org.org_number, account_number="86011117947",
                           contact_email="kasserer@klubb.no", repayment_accepted=True, actor=users["admin"])
    offer = partners.save_offer(users["partner"], offer_values(price_nok=300), {})
    scheme = money.create_scheme(muni, money.SchemeInput("Fritidskortet", 100_000, age_min=6, age_max=17),
                                 actor=users["admin"])
    cards = []
    for code, amounts in SPENT.items():
        for i, _kroner in enumerate(amounts):
            card = make_card(muni, users, f"Barn{code[-2:]}{i}")
            card.child.zone_id = zone_set[code].id
            cards.append((card, _kroner))
    db.session.flush()
    money.grant(scheme)
    for card, kroner in cards:
        held = money.reserve(card.child_id, offer, kroner * 100)
        money.settle(held.id)
    return cards


def test_money_used_is_counted_by_the_childs_zone_and_adds_up(app, muni, spenders):
    zones, _m, per_zone, total = services.compute_counts(muni, YEAR, "grunnkrets")
    by_code = {z.code: per_zone[z.id] for z in zones}
    assert by_code["30010101"]["money_children"] == 3 and by_code["30010101"]["money_nok"] == 650
    assert by_code["30010201"]["money_children"] == 1 and by_code["30010201"]["money_nok"] == 250
    assert total["money_children"] == 5 and total["money_nok"] == 1000
    _z, _m, upper, _t = services.compute_counts(muni, YEAR, "delomrade")
    assert sorted(c["money_children"] for c in upper.values()) == [1, 4]


def test_the_plan_keeps_money_off_the_finest_level_and_protects_small_counts(app, muni, spenders):
    assert plan.published("money", ["grunnkrets", "delomrade"], "delomrade", yearly=True)
    assert not plan.published("money", ["grunnkrets", "delomrade"], "grunnkrets", yearly=True)
    finest = published.uptake_report(muni, YEAR, "grunnkrets")
    assert finest.cells["30010101"]["money_children"].status == plan.NOT_PUBLISHED
    assert finest.cells["30010101"]["money_nok"].status == plan.NOT_PUBLISHED
    upper = published.uptake_report(muni, YEAR, "delomrade")
    small = upper.cells["300102"]  # one child: hidden, and the kroner with it (kroner / price gives the count)
    assert small["money_children"].status == SUPPRESSED and small["money_nok"].status == SUPPRESSED
    shown = [c for c in upper.cells.values() if not c["money_children"].status]
    assert all(c["money_children"].value >= 5 or c["money_children"].value == 0 for c in shown)
    # the municipality's row and the one delområde above the threshold would give the small one away: not both shown
    visible = {code for code, c in upper.cells.items() if not c["money_children"].status}
    assert not {"total", "300101"} <= visible


def test_money_is_in_every_export_as_the_report_shows_it(app, muni, spenders):
    upper = published.uptake_report(muni, YEAR, "delomrade")
    csv_text = "".join(formats.csv_rows(upper))
    header = csv_text.splitlines()[0].split(";")
    assert "money_children" in header and "money_nok" in header
    row = next(line.split(";") for line in csv_text.splitlines() if line.startswith("300102"))
    assert row[header.index("money_children")] == ":" and row[header.index("money_nok")] == ":"
    stat = formats.jsonstat(upper)
    assert "money_children" in stat["dimension"]["measure"]["category"]["index"]
    assert "Barn" not in csv_text and "Barn" not in str(stat["value"])  # never a child


def test_money_is_shown_when_the_counts_are_large_enough(app, muni, spenders):
    app.config.update(SUPPRESS_MIN_COUNT=1, SUPPRESS_MIN_DENOMINATOR=1)
    try:
        upper = published.uptake_report(muni, YEAR, "delomrade")
    finally:
        app.config.update(SUPPRESS_MIN_COUNT=5, SUPPRESS_MIN_DENOMINATOR=10)
    assert upper.cells["total"]["money_children"].value == 5 and upper.cells["total"]["money_nok"].value == 1000
    assert not upper.cells["total"]["money_nok"].status


def test_a_publication_stored_before_money_existed_reads_it_as_not_published(app, muni, spenders):
    report_jobs.build_and_store(muni, YEAR)
    row = store.stored(muni, YEAR)
    content = dict(row.content)
    content["reports"] = [{**r, "cells": {code: {m: v for m, v in cells.items() if not m.startswith("money_")}
                                          for code, cells in r["cells"].items()}} for r in content["reports"]]
    row.content = content
    db.session.flush()
    store._PARSED.clear()
    old = store.load(muni, row)
    cell = old.reports["delomrade"].cells["300101"]["money_children"]
    assert (cell.value, cell.status) == (None, plan.NOT_PUBLISHED)
    assert "money_children" in "".join(formats.csv_rows(old.reports["delomrade"]))


def test_money_used_changes_the_data_version_the_stored_figures_are_checked_against(app, muni, spenders, users):
    before = store.data_version(muni.id)
    card, _kroner = spenders[0]
    offer = partners.save_offer(users["partner"], offer_values(price_nok=10, title="Bading"), {})
    money.settle(money.reserve(card.child_id, offer, 1000).id)
    assert store.data_version(muni.id) != before
