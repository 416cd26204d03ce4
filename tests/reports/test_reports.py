"""Zone reports: known answers by hand, roll-up, a family that moved, suppression, exports, access."""

import json
from datetime import UTC, date, datetime

import pytest

from opplevelseskort.cards import households
from opplevelseskort.cards import services as cards
from opplevelseskort.checkin import services as checkin
from opplevelseskort.core.errors import DomainError, ImportFailed
from opplevelseskort.extensions import db
from opplevelseskort.partners import services as partners
from opplevelseskort.reports import formats, periods, published, services
from opplevelseskort.reports.models import ZoneIndicator
from opplevelseskort.reports.suppression import primary_count

from ..factories import child_input, guardian_input, offer_values

P = periods.parse_period("2026-03")
Y = periods.parse_period("2026")  # zone tables are the year's (the plan)


@pytest.fixture
def world(muni, zone_set, users):
    """Four children: Anna, Bo, Cas in 30010101; Dan in 30010102, moves to 30010201 mid-March."""
    kids = {}
    for name, zone in [("Anna", "30010101"), ("Bo", "30010101"), ("Cas", "30010101"), ("Dan", "30010102")]:
        h = households.register_household(muni, [guardian_input()], [child_input(given_name=name, zone=zone)],
                                     actor=users["caseworker"])
        child = h.children[0]
        kids[name] = (child, cards.issue_card(child, actor=users["caseworker"], valid_from=date(2026, 1, 1),
                                              valid_until=date(2026, 12, 31)))
    offer = partners.save_offer(users["partner"], offer_values(price_nok=100), {})
    p = users["partner"]

    def visit(name, day):
        checkin.record_checkin(kids[name][1].short_code, offer, actor=p, at=datetime(2026, 3, day, 12, tzinfo=UTC))

    visit("Anna", 2)
    visit("Anna", 9)
    visit("Bo", 3)
    visit("Dan", 4)                      # still in 30010102
    kids["Dan"][0].zone_id = zone_set["30010201"].id  # the family moves
    visit("Dan", 20)                     # now in 30010201
    db.session.flush()
    return kids


def test_known_counts_at_grunnkrets_level(app, muni, world, zone_set):
    zones, _m, per_zone, total = services.compute_counts(muni, P, "grunnkrets")
    by_code = {z.code: per_zone[z.id] for z in zones}
    assert by_code["30010101"]["children_with_card"] == 3
    assert by_code["30010101"]["active_children"] == 2 and by_code["30010101"]["checkins"] == 3
    assert by_code["30010102"]["checkins"] == 1 and by_code["30010201"]["checkins"] == 1  # zone at event time
    assert by_code["30010102"]["children_with_card"] == 0 and by_code["30010201"]["children_with_card"] == 1
    assert by_code["30010101"]["value_nok"] == 300
    assert total["active_children"] == 3 and total["checkins"] == 5 and total["children_with_card"] == 4


def test_roll_up_to_delomrade_counts_each_child_once_where_their_card_is(app, muni, world):
    zones, _m, per_zone, total = services.compute_counts(muni, P, "delomrade")
    by_code = {z.code: per_zone[z.id] for z in zones}
    assert by_code["300101"]["active_children"] == 2 and by_code["300101"]["checkins"] == 4
    # Dan visited from both delområder; he is one active child, counted where he lives and his card is counted (so
    # no zone has more active children than card holders), and the zones add up to the total (each visit still
    # counts as a check-in where it happened)
    assert by_code["300102"]["active_children"] == 1 and by_code["300102"]["checkins"] == 1
    assert total["active_children"] == 3 == sum(c["active_children"] for c in per_zone.values())
    assert all(c["active_children"] <= c["children_with_card"] for c in per_zone.values())


def test_revoked_before_period_not_counted(app, muni, world, users):
    card = world["Cas"][1]
    card.revoked_at = datetime(2026, 2, 1, tzinfo=UTC)
    db.session.flush()
    zones, _m, per_zone, _t = services.compute_counts(muni, P, "grunnkrets")
    assert {z.code: per_zone[z.id] for z in zones}["30010101"]["children_with_card"] == 2


def test_primary_rules():
    assert primary_count(3, None, 5) and not primary_count(0, None, 5) and not primary_count(5, None, 5)
    assert primary_count(18, 20, 5)  # complement 2 would reveal the two who did not
    assert not primary_count(15, 20, 5)


def test_report_suppresses_small_counts_and_never_shows_zero(app, muni, world):
    r = published.uptake_report(muni, Y, "grunnkrets")
    a = r.cells["30010101"]
    assert a["active_children"].suppressed and a["checkins"].suppressed and a["uptake"].suppressed
    csv_text = "".join(formats.csv_rows(r))
    assert ":" in csv_text
    row = [line for line in csv_text.splitlines() if line.startswith("30010101")][0].split(";")
    assert row[4] == ":" and row[5] == ":"


def _unsuppressed(app, muni, level):
    """The report with the thresholds at 1, to check the raw arithmetic."""
    app.config.update(SUPPRESS_MIN_COUNT=1, SUPPRESS_MIN_DENOMINATOR=1)
    try:
        return published.uptake_report(muni, Y, level)
    finally:
        app.config.update(SUPPRESS_MIN_COUNT=5, SUPPRESS_MIN_DENOMINATOR=10)


def test_report_without_suppression_thresholds_gives_raw_rates(app, muni, world):
    r = _unsuppressed(app, muni, "grunnkrets")
    assert r.cells["30010101"]["uptake"].value == pytest.approx(2 / 3, abs=1e-4)
    assert r.cells["total"]["uptake"].value == pytest.approx(3 / 4)


def test_reach_from_eligible_indicator(app, muni, world, zone_set):
    services.import_indicators_csv(muni, "zone;indicator;year;value\n30010101;children_6_17;2026;40\n"
                                         "30010102;children_6_17;2026;30\n30010201;children_6_17;2026;30\n")
    r = _unsuppressed(app, muni, "delomrade")
    assert r.cells["300101"]["reach"].value == pytest.approx(3 / 70, abs=1e-4)
    assert r.cells["total"]["reach"].value == pytest.approx(4 / 100)


@pytest.mark.parametrize("text, start, end", [("2026", date(2026, 1, 1), date(2027, 1, 1)),
                                              ("2026-Q1", date(2026, 1, 1), date(2026, 4, 1)),
                                              ("2026-12", date(2026, 12, 1), date(2027, 1, 1)),
                                              ("2026-04-01..2026-06-30", date(2026, 4, 1), date(2026, 7, 1)),
                                              ("2026-02-01..2026-02-28", date(2026, 2, 1), date(2026, 3, 1))])
def test_periods(text, start, end):
    p = periods.parse_period(text)
    assert (p.start, p.end) == (start, end)


@pytest.mark.parametrize("text, label", [("2026-04-01..2026-06-30", "2026-Q2"), ("2026-01-01..2026-12-31", "2026"),
                                         ("2026-02-01..2026-02-28", "2026-02"), ("2026-q3", "2026-Q3")])
def test_a_range_that_is_a_whole_period_is_that_period(text, label):
    assert periods.parse_period(text).label == label


@pytest.mark.parametrize("text", ["2026-01-01..2026-11-23", "2026-01-01..2026-06-30", "2026-11-24..2026-11-24",
                                  "2026-03-02..2026-03-31", "2025-12-01..2026-01-31"])
def test_a_range_of_dates_that_is_no_whole_period_is_refused_and_says_why(text):
    """Two ranges a day apart would give that day's children exactly: only whole periods, protected together."""
    with pytest.raises(DomainError) as exc:
        periods.parse_period(text)
    assert exc.value.code == "period_not_whole"
    assert text in str(exc.value) and "-Q1" in str(exc.value)


@pytest.mark.parametrize("bad", ["", "26", "2026-Q5", "2026-13", "2026-06-30..2026-01-01", "last year"])
def test_bad_periods(bad):
    with pytest.raises(DomainError) as exc:
        periods.parse_period(bad)
    assert exc.value.code == "period_invalid"


def test_indicator_csv_errors_write_nothing(muni, zone_set):
    bad = "zone;indicator;year;value\n30010101;children_6_17;2026;abc\n30019998;children_6_17;2026;3\n"
    with pytest.raises(ImportFailed) as exc:
        services.import_indicators_csv(muni, bad)
    assert any("Linje 2" in e for e in exc.value.errors) and any("Linje 3" in e for e in exc.value.errors)
    assert db.session.scalar(db.select(db.func.count(ZoneIndicator.id))) == 0


def test_indicator_jsonstat_import(muni, zone_set):
    doc = {"version": "2.0", "class": "dataset", "id": ["Region", "ContentsCode", "Tid"], "size": [2, 1, 2],
           "dimension": {"Region": {"category": {"index": {"30010101": 0, "30010102": 1}}},
                         "ContentsCode": {"category": {"index": ["children_6_17"]}},
                         "Tid": {"category": {"index": ["2025", "2026"]}}},
           "value": [10, 11, 20, 21]}
    assert services.import_indicators_jsonstat(muni, json.dumps(doc)) == 4
    ind = db.session.scalar(db.select(ZoneIndicator).join(ZoneIndicator.zone).where(
        ZoneIndicator.year == 2026, ZoneIndicator.zone.has(code="30010102")))
    assert ind.value == 21


def test_indicator_jsonstat_bad_size(muni, zone_set):
    doc = {"id": ["Region", "ContentsCode", "Tid"], "size": [2, 1, 1], "value": [1],
           "dimension": {"Region": {"category": {"index": ["30010101", "30010102"]}},
                         "ContentsCode": {"category": {"index": ["x"]}}, "Tid": {"category": {"index": ["2026"]}}}}
    with pytest.raises(ImportFailed):
        services.import_indicators_jsonstat(muni, json.dumps(doc))


def test_jsonstat_export_loads_in_a_jsonstat_reader(app, muni, world):
    from pyjstat import pyjstat

    doc = formats.jsonstat(published.uptake_report(muni, Y, "grunnkrets"))
    frames = pyjstat.from_json_stat(json.loads(json.dumps(doc)), naming="id")
    df = frames[0] if isinstance(frames, list) else frames
    assert len(df) == (len(doc["dimension"]["zone"]["category"]["index"]) * len(services.MEASURES))
    assert doc["status"]  # suppressed cells are marked


def test_geojson_export_is_valid_featurecollection(app, muni, world):
    from shapely.geometry import shape

    doc = formats.geojson(published.uptake_report(muni, Y, "grunnkrets"))
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 3
    for f in doc["features"]:
        geom = shape(f["geometry"])
        assert geom.is_valid and -180 <= geom.bounds[0] <= 180
        assert set(services.MEASURES) <= set(f["properties"])


def test_same_numbers_from_cli_api_and_page(app, client, muni, world, users):
    from opplevelseskort.accounts import tokens as api_tokens

    result = app.test_cli_runner().invoke(args=["report", "uptake", "--period", "2026", "--format", "csv"])
    assert result.exit_code == 0, result.output
    raw = api_tokens.create_token(users["analyst"], "r")[1]
    api = client.get("/api/v1/reports/uptake?period=2026&level=grunnkrets&format=csv",
                     headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200
    norm = lambda t: t.lstrip("\ufeff").replace("\r\n", "\n")  # noqa: E731
    assert norm(api.data.decode("utf-8")) == norm(result.output)


def test_api_refuses_partner_tokens_and_bad_period(client, users):
    from opplevelseskort.accounts import tokens as api_tokens

    raw = api_tokens.create_token(users["partner"], "p")[1]
    assert client.get("/api/v1/reports/uptake?period=2026", headers={"Authorization": f"Bearer {raw}"}).status_code == 403
    raw = api_tokens.create_token(users["analyst"], "a")[1]
    r = client.get("/api/v1/reports/uptake?period=nope", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 422 and r.json["error"] == "period_invalid"


@pytest.mark.parametrize("role, status", [("analyst", 200), ("admin", 200), ("partner", 403), ("volunteer", 403),
                                          ("caseworker", 403)])
def test_dashboard_access(client, login_as, world, role, status):
    login_as(role)
    assert client.get("/rapporter/?period=2026").status_code == status


def test_dashboard_never_shows_a_child(client, login_as, world):
    login_as("analyst")
    import re

    page = client.get("/rapporter/?period=2026").text
    page = re.sub(r'value="[A-Za-z0-9._-]{40,}"', 'value="TOKEN"', page)  # a random CSRF token may hold "Bo"
    for name in ("Anna", "Bo", "Cas", "Dan", "Nordmann"):
        assert not re.search(rf"\b{name}\b", page), name


def test_grant_report_page_and_csv(client, login_as, world):
    login_as("analyst")
    assert client.get("/rapporter/tilskudd?year=2026").status_code == 200
    csv = client.get("/rapporter/tilskudd?year=2026&format=csv").data.decode("utf-8-sig")
    assert "children_reached;;;:" in csv  # 3 children: suppressed


def test_configured_tile_server_is_allowed_by_csp_and_passed_to_the_map(make_app, users, zone_set):
    from ..conftest import login

    app = make_app(MAP_TILE_URL="https://tiles.example.no/{z}/{x}/{y}.png")
    c = app.test_client()
    login(c, users["analyst"])
    r = c.get("/rapporter/?period=2026")
    assert "https://tiles.example.no" in r.headers["Content-Security-Policy"]
    assert 'data-tile-url="https://tiles.example.no/{z}/{x}/{y}.png"' in r.text


def test_breakdown_by_age_and_gender_with_suppression(app, muni, world):
    app.config.update(SUPPRESS_MIN_COUNT=1)
    try:
        rep = published.breakdown_report(muni, Y, "delomrade", "gender")
        assert rep["cells"][("300101", "girl", "active_children")].value == 2  # Anna and Bo ("girl" here; Dan moved)
        assert rep["cells"][("300101", "girl", "checkins")].value == 4
        age = published.breakdown_report(muni, Y, "delomrade", "age")
        assert age["cells"][("300101", "10-12", "active_children")].value == 2  # born 2014 (Dan lives in 300102 now)
    finally:
        app.config.update(SUPPRESS_MIN_COUNT=5)
    rep = published.breakdown_report(muni, Y, "delomrade", "gender")
    assert rep["cells"][("300101", "girl", "active_children")].suppressed
    text = "".join(formats.breakdown_csv(rep))
    assert "300101;" in text and ";girl;:;:" in text
    with pytest.raises(DomainError):
        published.breakdown_report(muni, Y, "delomrade", "shoe size")


def test_breakdown_from_cli(app, muni, world):
    result = app.test_cli_runner().invoke(args=["report", "uptake", "--period", "2026", "--level", "delomrade",
                                                "--breakdown", "age"])
    assert result.exit_code == 0 and "zone_code;zone_name;level;period;age" in result.output


def test_csv_answers_carry_one_charset(client, login_as, world):
    login_as("analyst")
    r = client.get("/rapporter/tilskudd?year=2026&format=csv")
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    r = client.get("/rapporter/eksport?period=2026&format=csv")
    assert r.headers["Content-Type"].count("charset") == 1


def test_report_pages_show_words_not_codes(client, login_as, world, app):
    app.config.update(SUPPRESS_MIN_COUNT=1)
    try:
        login_as("analyst")
        grant = client.get("/rapporter/tilskudd?year=2026").text
        dash = client.get("/rapporter/?period=2026").text
    finally:
        app.config.update(SUPPRESS_MIN_COUNT=5)
    assert "10–12 år" in grant and "<td>10-12</td>" not in grant
    assert ">Delområde</option>" in dash and ">delomrade</option>" not in dash


def test_report_cli_with_two_municipalities_says_which_to_name(app, muni, other_muni, world):
    """Without --municipality the command takes the only municipality; with two it says which numbers it knows,
    and an unknown number is named in the error."""
    from opplevelseskort.extensions import db

    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["report", "uptake", "--period", "2026"])
    assert result.exit_code == 1
    assert "--municipality" in result.output and "3001" in result.output and "3002" in result.output
    assert runner.invoke(args=["report", "uptake", "--period", "2026", "--municipality", "3001"]).exit_code == 0
    unknown = runner.invoke(args=["report", "uptake", "--period", "2026", "--municipality", "9999"])
    assert unknown.exit_code == 1 and "9999" in unknown.output


@pytest.mark.parametrize("period", ["2026", "2026-Q1", "2026-03"])
def test_the_municipality_as_a_whole_is_reachable_from_cli_api_and_page_for_any_period(app, client, muni, world,
                                                                                         users, period):
    """Issue 36 item 6: `--level municipality` answers the municipality's own row of any period, the same as the
    page's export and the API."""
    from opplevelseskort.accounts import tokens as api_tokens

    cli = app.test_cli_runner().invoke(args=["report", "uptake", "--period", period, "--level", "municipality"])
    assert cli.exit_code == 0, cli.output
    lines = cli.output.lstrip("\ufeff").splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"total;Testby;municipality;{period};")
    raw = api_tokens.create_token(users["analyst"], "r")[1]
    api = client.get(f"/api/v1/reports/uptake?period={period}&level=municipality&format=csv",
                     headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200
    assert api.data.decode("utf-8").lstrip("\ufeff").splitlines() == lines
    js = client.get(f"/api/v1/reports/uptake?period={period}&level=municipality&format=jsonstat",
                    headers={"Authorization": f"Bearer {raw}"}).json
    assert js["dimension"]["zone"]["category"]["index"] == ["total"]
    geo = client.get(f"/api/v1/reports/uptake?period={period}&level=municipality&format=geojson",
                     headers={"Authorization": f"Bearer {raw}"})
    assert geo.status_code == 422 and geo.json["error"] == "format_not_for_level"


def test_every_table_of_the_plan_is_reachable_from_the_cli_and_the_api(app, client, muni, world, users):
    from opplevelseskort.accounts import tokens as api_tokens

    runner = app.test_cli_runner()
    raw = api_tokens.create_token(users["analyst"], "r")[1]
    auth = {"Authorization": f"Bearer {raw}"}
    for by in ("age", "gender"):
        out = runner.invoke(args=["report", "uptake", "--period", "2026", "--level", "municipality",
                                  "--breakdown", by])
        assert out.exit_code == 0 and ";municipality;2026;" in out.output, out.output
        api = client.get(f"/api/v1/reports/uptake?period=2026&level=municipality&breakdown={by}", headers=auth)
        assert api.status_code == 200 and api.data.decode().lstrip("\ufeff").splitlines() == \
            out.output.lstrip("\ufeff").splitlines()
    quarter = runner.invoke(args=["report", "uptake", "--period", "2026-Q1", "--level", "municipality",
                                  "--breakdown", "age"])
    assert quarter.exit_code == 1 and "breakdown_not_published" in quarter.output
    grant = runner.invoke(args=["report", "grant", "--year", "2026"])
    assert grant.exit_code == 0 and "children_reached;;;:" in grant.output
    api = client.get("/api/v1/reports/grant?year=2026&format=csv", headers=auth)
    assert api.status_code == 200 and api.data.decode("utf-8").splitlines() == grant.output.splitlines()
    js = client.get("/api/v1/reports/grant?year=2026", headers=auth).json
    assert js["children_reached"] == ":" and js["year"] == 2026
    assert client.get("/api/v1/reports/grant?year=1800", headers=auth).status_code == 422
