"""Need beside uptake (issue 28, item 1): children in need per zone from an indicator the municipality chooses,
cards, active children, reach with a Wilson interval, the zones to go to first; hidden figures stay hidden; small
zones pooled over years from the published yearly figures, labelled."""

import math
from datetime import UTC, date, datetime

import pytest

from opplevelseskort.cards import households
from opplevelseskort.cards import services as cards
from opplevelseskort.checkin import services as checkin
from opplevelseskort.extensions import db
from opplevelseskort.partners import services as partners
from opplevelseskort.reports import formats, need, periods, published, services
from opplevelseskort.reports.models import ZoneIndicator
from opplevelseskort.reports.suppression import Cell

from ..factories import child_input, guardian_input, offer_values

LOW = services.LOW_INCOME_KEY
# zone: (children with a card, of them active in 2026)
POPULATION = {"30010101": (30, 12), "30010102": (12, 5), "30010201": (12, 6)}


@pytest.fixture
def town(muni, zone_set, users):
    offer = partners.save_offer(users["partner"], offer_values(price_nok=100), {})
    n = 0
    for code, (with_card, active) in POPULATION.items():
        for i in range(with_card):
            n += 1
            h = households.register_household(muni, [guardian_input(phone=f"9{n:07d}", email=f"g{n}@example.org")],
                                         [child_input(given_name=f"Barn{n}", zone=code)], actor=users["caseworker"])
            card = cards.issue_card(h.children[0], actor=users["caseworker"], valid_from=date(2026, 1, 1),
                                    valid_until=date(2026, 12, 31))
            if i < active:
                checkin.record_checkin(card.short_code, offer, actor=users["partner"],
                                       at=datetime(2026, 3, 2 + i % 20, 12, tzinfo=UTC))
    # SSB: persistent low income, 2025 (a year behind): a count, a share of a denominator, and one SSB could not give
    for code, value, numerator, denominator, status in [("30010101", 30.0, 60, 200, None),
                                                         ("30010102", 20.0, None, 50, None),
                                                         ("30010201", None, None, None, ":")]:
        db.session.add(ZoneIndicator(zone_id=zone_set[code].id, key=LOW, year=2025, value=value,
                                     numerator=numerator, denominator=denominator, status=status))
    db.session.flush()
    return offer


def _wilson(k, n, z=1.959963984540054):
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def test_wilson_interval_known_values():
    low, high = need.wilson(12, 60)
    assert (round(low, 4), round(high, 4)) == (0.1183, 0.3178)  # 12 of 60 (Wilson 1927; e.g. Newcombe 1998)
    assert need.wilson(0, 10)[0] == 0.0 and need.wilson(10, 10)[1] == 1.0  # stays inside 0-1
    assert need.wilson(15, 10) == need.wilson(10, 10)  # more active than estimated need: capped at 1
    small, large = need.wilson(2, 10), need.wilson(200, 1000)
    assert small[1] - small[0] > large[1] - large[0]  # a small zone's figure is less sure


def test_need_beside_uptake_per_zone_with_where_to_go_first(app, muni, town, zone_set):
    table = need.need_table(muni, 2026, "grunnkrets", LOW)
    rows = {r.zone.code: r for r in table.rows}
    a = rows["30010101"]
    assert (a.need, a.cards, a.active) == (60.0, 30, 12)  # the numerator is the count in need
    assert a.reach == pytest.approx(0.2) and (a.low, a.high) == pytest.approx(_wilson(12, 60))
    b = rows["30010102"]
    assert b.need == pytest.approx(10.0) and b.active == 5  # 20 % of 50
    assert b.reach == pytest.approx(0.5)
    c = rows["30010201"]
    assert c.need is None and c.need_status == ":" and c.reach is None and c.active == 6
    assert table.indicator_years == [2025]  # SSB's latest year not after the period
    assert [r.zone.code for r in table.where_to_go()] == ["30010101", "30010102"]  # 48 not reached, then 5
    # delområde: the sum of its grunnkretser
    assert {r.zone.code: r.need for r in need.need_table(muni, 2026, "delomrade", LOW).rows}["300101"] == 70.0


def test_a_hidden_figure_stays_hidden_and_gives_no_reach(app, muni, town, monkeypatch):
    real = published.uptake_report

    def with_hidden(m, period, level):
        report = real(m, period, level)
        report.cells["30010101"]["active_children"] = Cell(None, ":")
        return report

    monkeypatch.setattr(published, "uptake_report", with_hidden)
    table = need.need_table(muni, 2026, "grunnkrets", LOW)
    row = {r.zone.code: r for r in table.rows}["30010101"]
    assert row.active is None and row.active_status == ":" and row.reach is None and row.unmet is None
    line = next(line for line in formats.need_csv(table).splitlines() if line.startswith("30010101"))
    fields = line.split(";")
    assert fields[11] == "" and fields[12] == ":" and fields[13] == ""  # no count, its symbol, no reach


def test_pooled_years_add_the_published_yearly_figures_and_say_so(app, muni, town):
    table = need.need_table(muni, 2026, "grunnkrets", LOW, pool=2)
    assert table.pooled and table.label == "2025–2026" and table.indicator_years == [2025, 2025]
    a = {r.zone.code: r for r in table.rows}["30010101"]
    assert (a.need, a.active) == (120.0, 12)  # child-years: 2025 had no cards yet
    assert a.reach == pytest.approx(0.1) and (a.low, a.high) == pytest.approx(_wilson(12, 120))
    csv = formats.need_csv(table)
    assert ";2025-2026;yes;" in csv


def test_the_page_for_caseworkers_and_analysts_and_its_csv(client, login_as, muni, town):
    login_as("caseworker")
    page = client.get("/rapporter/behov?year=2026&level=grunnkrets")
    assert page.status_code == 200
    assert "Her bør vi først" in page.text and "Rekkevidde" in page.text and "Wilson" in page.text
    csv = client.get("/rapporter/behov?year=2026&level=grunnkrets&format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "30010101;" in csv.text and ";60.0;" in csv.text and ";0.2000;" in csv.text
    pooled = client.get("/rapporter/behov?year=2026&level=grunnkrets&pool=3").text
    assert "2024–2026 slått sammen" in pooled
    client.post("/logg-ut")
    login_as("partner")
    assert client.get("/rapporter/behov").status_code == 403


def test_no_indicator_says_what_to_import(client, login_as, muni, zone_set):
    login_as("analyst")
    page = client.get("/rapporter/behov?year=2026")
    assert page.status_code == 200 and "Ingen indikator er importert ennå" in page.text
    assert "/rapporter/indikatorer" in page.text


def test_the_councils_yearly_report_is_a_pdf_in_bokmal_with_map_table_trend_and_method(client, login_as, muni, town,
                                                                                        tmp_path):
    import subprocess

    from opplevelseskort.reports import jobs as report_jobs

    report_jobs.build_and_store(muni, periods.parse_period("2026"))
    login_as("analyst")
    r = client.get("/rapporter/arsrapport.pdf?year=2026")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    path = tmp_path / "rapport.pdf"
    path.write_bytes(r.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Opplevelseskortet i Testby 2026" in text
    for heading in ("Utviklingen over årene", "Rekkevidde per sone", "Behov og rekkevidde per sone",
                    "Slik er tallene laget"):
        assert heading in text
    assert "Elvekanten (30010101)" in text and "20 %" in text  # 12 active of 60 in need
    assert "ikke vist (:)" in text and "best å bo" in text
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", str(path), str(tmp_path / "p")], check=True)
    page = Image.open(next(tmp_path.glob("p*.png"))).convert("RGB")
    pixels = {c: n for n, c in page.getcolors(1_000_000)}
    # the map: 30010101 reaches 20 % (10-25 %), 30010102 50 % (50 % and more), 30010201 has no need figure (grey);
    # each a zone's area, far more than its legend swatch (about 80 pixels at this resolution)
    for colour in ((94, 201, 98), (59, 82, 139), (200, 200, 200)):
        assert pixels.get(colour, 0) > 1000, (colour, pixels.get(colour))
    assert pixels.get((253, 231, 37), 0) < 200  # under 10 %: no zone, only its swatch
    assert "Årsrapport til kommunestyret" in client.get("/rapporter/?period=2026").text
