"""Zone versions over time (issue 28, item 3), with real changes from SSB's classification of municipalities:
the merge of Asker (0220), Røyken (0627) and Hurum (0628) into Asker (3025) in 2020, and the split of Ålesund (1507)
into Ålesund (1508) and Haram (1580) in 2024. The figures are made up; the codes and changes are SSB's."""

import pytest

from opplevelseskort.core import zones
from opplevelseskort.core.errors import DomainError, ImportFailed
from opplevelseskort.extensions import db
from opplevelseskort.reports import services, versions
from opplevelseskort.reports.models import ZoneCorrespondence, ZoneIndicator

ZONES = """code;name;level;parent;version
0220;Asker;kommune;;2019
0627;Røyken;kommune;;2019
0628;Hurum;kommune;;2019
3025;Asker;kommune;;2020
1507;Ålesund;kommune;;2023
1508;Ålesund;kommune;;2024
1580;Haram;kommune;;2024
"""
# SSB's change list as KLASS exports it (oldCode;oldName;newCode;newName;changeOccurred)
MERGE_2020 = """oldCode;oldName;newCode;newName;changeOccurred
0220;Asker;3025;Asker;2020-01-01
0627;Røyken;3025;Asker;2020-01-01
0628;Hurum;3025;Asker;2020-01-01
"""
SPLIT_2024 = """oldCode;oldName;newCode;newName;changeOccurred
1507;Ålesund;1508;Ålesund;2024-01-01
1507;Ålesund;1580;Haram;2024-01-01
"""


@pytest.fixture
def versioned(muni):
    zones.import_zones_csv(muni, ZONES)
    db.session.flush()
    by_code = {z.code: z for z in db.session.scalars(db.select(zones.Zone).filter_by(municipality_id=muni.id))}

    def put(code, key, year, value=None, numerator=None, denominator=None):
        db.session.add(ZoneIndicator(zone_id=by_code[code].id, key=key, year=year, value=value, numerator=numerator,
                                     denominator=denominator))

    # children 0-17 (a count) and persistent low income (a share with its numerator and denominator)
    for code, children, low, year in [("0220", 13000, 800, 2019), ("0627", 5500, 350, 2019),
                                      ("0628", 2000, 160, 2019), ("3025", 20800, 1290, 2020),
                                      ("1507", 14000, 1120, 2023), ("1508", 11000, 880, 2024),
                                      ("1580", 2900, 232, 2024)]:
        put(code, "barn_0_17", year, value=children)
        put(code, "lavinntekt", year, value=round(low / children * 100, 1), numerator=low, denominator=children)
    db.session.flush()
    return by_code


def test_zones_carry_their_version_and_reports_lose_nothing_recorded_on_an_old_one(app, muni, versioned):
    assert versioned["0220"].version == "2019" and versioned["1580"].version == "2024"
    assert versions.version_for_year(muni, 2021) == "2020" and versions.version_for_year(muni, 2024) == "2024"
    in_reports, _tree = services._zones(muni)
    assert {"0220", "3025", "1507", "1580"} <= {z.code for z in in_reports}  # a visit on 0220 in 2019 still counts


def test_published_uptake_crosses_a_merge_and_a_hidden_part_stays_hidden(app, muni, versioned, monkeypatch):
    from opplevelseskort.reports.publication import Period, Report
    from opplevelseskort.reports.suppression import Cell

    versions.import_correspondence(muni, MERGE_2020, from_version="2019", to_version="2020", actor=None)
    published = {2019: {"0220": 40, "0627": 12, "0628": 7}, 2020: {"3025": 66}}

    def report(m, period, level):
        year = period.start.year
        zs = [versioned[c] for c in ("0220", "0627", "0628", "3025")]
        rep = Report(m, Period(str(year), period.start, period.end), level, zs)
        for z in zs:
            n = published[year].get(z.code, 0)
            rep.cells[z.code] = {"active_children": Cell(n, None), "children_with_card": Cell(None, ":")}
        return rep

    monkeypatch.setattr(services, "uptake_report", report)
    [asker] = versions.compare(muni, "active_children", 2019, 2020, source="uptake", level="kommune")
    assert (asker.code, asker.before, asker.after, asker.change) == ("3025", 59, 66, 7)
    [hidden] = versions.compare(muni, "children_with_card", 2019, 2020, source="uptake", level="kommune")
    assert hidden.before is None and hidden.status == ":"  # a hidden part: the merged figure is hidden too


def test_a_share_without_its_parts_is_not_added_up_in_a_merge(app, muni, versioned):
    for code, year, value in [("0220", 2019, 6.2), ("0627", 2019, 6.4), ("0628", 2019, 8.0), ("3025", 2020, 6.3)]:
        db.session.add(ZoneIndicator(zone_id=versioned[code].id, key="andel_lavinntekt", year=year, value=value))
    db.session.flush()
    versions.import_correspondence(muni, MERGE_2020, from_version="2019", to_version="2020", actor=None)
    [asker] = versions.compare(muni, "andel_lavinntekt", 2019, 2020)
    assert asker.before is None and asker.status == ".." and "teller og nevner" in asker.note


def test_a_merge_adds_counts_and_recomputes_shares(app, muni, versioned, users):
    assert versions.import_correspondence(muni, MERGE_2020, from_version="2019", to_version="2020",
                                          actor=users["analyst"]) == 3
    [asker] = versions.compare(muni, "barn_0_17", 2019, 2020)
    assert (asker.code, asker.before, asker.after, asker.change) == ("3025", 20500, 20800, 300)
    assert "0220" in asker.note and "0627" in asker.note and "0628" in asker.note
    [share] = versions.compare(muni, "lavinntekt", 2019, 2020)
    assert share.before == pytest.approx((800 + 350 + 160) / 20500 * 100)  # not the mean of the three shares
    assert share.after == pytest.approx(6.2)


def test_a_split_carries_a_share_as_an_estimate_and_a_count_only_with_weights(app, muni, versioned):
    versions.import_correspondence(muni, SPLIT_2024, from_version="2023", to_version="2024", actor=None)
    shares = {c.code: c for c in versions.compare(muni, "lavinntekt", 2023, 2024)}
    assert shares["1508"].before == shares["1580"].before == pytest.approx(8.0) and "anslått" in shares["1508"].note
    counts = {c.code: c for c in versions.compare(muni, "barn_0_17", 2023, 2024)}
    assert counts["1580"].before is None and counts["1580"].status == ".."  # a count cannot be split unweighted
    weighted = SPLIT_2024.replace("oldCode;oldName;newCode;newName;changeOccurred",
                                  "old_code;old_name;new_code;new_name;changed;weight")
    weighted = weighted.replace("1508;Ålesund;2024-01-01", "1508;Ålesund;2024-01-01;0,8").replace(
        "1580;Haram;2024-01-01", "1580;Haram;2024-01-01;0,2")
    versions.import_correspondence(muni, weighted, from_version="2023", to_version="2024", actor=None)
    counts = {c.code: c for c in versions.compare(muni, "barn_0_17", 2023, 2024)}
    assert counts["1508"].before == pytest.approx(11200) and counts["1580"].before == pytest.approx(2800)
    assert db.session.scalar(db.select(db.func.count(ZoneCorrespondence.id))) == 2  # replaced, not added


def test_comparing_across_versions_without_a_correspondence_is_refused(app, muni, versioned):
    with pytest.raises(DomainError) as exc:
        versions.compare(muni, "barn_0_17", 2019, 2020)
    assert exc.value.code == "versions_not_linked" and "endringsliste" in exc.value.message
    same = versions.compare(muni, "barn_0_17", 2024, 2024)  # one version: joined by code
    assert {c.code for c in same} == {"1508", "1580"}


@pytest.mark.parametrize(("data", "says"), [
    ("oldCode;newCode\n0220;9999\n", "ukjent sone 9999"),
    ("a;b\n0220;3025\n", "gammel og en for ny kode"),
    ("old_code;new_code;weight\n1507;1508;0,8\n1507;1580;0,5\n", "mer enn 1"),
    ("old_code;new_code;weight\n1507;1508;2\n", "høyst 1"),
])
def test_a_bad_change_list_is_refused_whole(app, muni, versioned, data, says):
    with pytest.raises(ImportFailed) as exc:
        versions.import_correspondence(muni, data, from_version="2023", to_version="2024", actor=None)
    assert any(says in e for e in exc.value.errors), exc.value.errors
    assert db.session.scalar(db.select(db.func.count(ZoneCorrespondence.id))) == 0


def test_the_comparison_page_imports_a_change_list_and_compares(client, login_as, muni, versioned):
    import io

    login_as("analyst")
    refused = client.get("/rapporter/sammenlign?indicator=barn_0_17&before=2019&after=2020")
    assert "ingen koblingstabell" in refused.text
    r = client.post("/rapporter/sammenlign/koblinger", data={
        "from_version": "2019", "to_version": "2020",
        "file": (io.BytesIO(MERGE_2020.encode("utf-8")), "endringer.csv")}, content_type="multipart/form-data")
    assert r.status_code == 302 and "/jobber/" in r.headers["Location"]
    page = client.get("/rapporter/sammenlign?indicator=barn_0_17&before=2019&after=2020")
    assert page.status_code == 200 and "3025" in page.text and "slått sammen fra 0220, 0627, 0628" in page.text
    offered = client.get("/rapporter/sammenlign").text  # published counts and the index can be compared too
    assert 'value="uptake:active_children"' in offered and 'value="index"' in offered
