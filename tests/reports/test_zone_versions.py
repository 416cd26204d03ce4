"""Zone versions over time (issue 28, item 3), with real changes from SSB's classification of municipalities:
the merge of Asker (0220), Røyken (0627) and Hurum (0628) into Asker (3025) in 2020, and the split of Ålesund (1507)
into Ålesund (1508) and Haram (1580) in 2024. The figures are made up; the codes and changes are SSB's."""

import pytest

from opplevelseskort.core.errors import DomainError, ImportFailed
from opplevelseskort.extensions import db
from opplevelseskort.reports import compare as versions
from opplevelseskort.reports import periods, services
from opplevelseskort.reports import published as readers
from opplevelseskort.reports.models import ZoneIndicator
from opplevelseskort.zones import imports as zone_imports
from opplevelseskort.zones import services as zones
from opplevelseskort.zones import versions as zone_versions
from opplevelseskort.zones.models import ZoneCorrespondence

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
    zone_imports.import_zones_csv(muni, ZONES)
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
    in_reports, _tree = services.report_zones(muni)
    assert {"0220", "3025", "1507", "1580"} <= {z.code for z in in_reports}  # a visit on 0220 in 2019 still counts


def test_published_uptake_crosses_a_merge_and_a_hidden_part_stays_hidden(app, muni, versioned, monkeypatch):
    from opplevelseskort.reports.publication import Period, Report
    from opplevelseskort.reports.suppression import Cell

    zone_versions.import_correspondence(muni, MERGE_2020, from_version="2019", to_version="2020", actor=None)
    published = {2019: {"0220": 40, "0627": 12, "0628": 7}, 2020: {"3025": 66}}

    def report(m, period, level):
        year = period.start.year
        zs = [versioned[c] for c in ("0220", "0627", "0628", "3025")]
        rep = Report(m, Period(str(year), period.start, period.end), level, zs)
        for z in zs:
            n = published[year].get(z.code, 0)
            rep.cells[z.code] = {"active_children": Cell(n, None), "children_with_card": Cell(None, ":")}
        return rep

    monkeypatch.setattr(readers, "uptake_report", report)
    [asker] = versions.compare(muni, "active_children", 2019, 2020, source="uptake", level="kommune")
    assert (asker.code, asker.before, asker.after, asker.change) == ("3025", 59, 66, 7)
    [hidden] = versions.compare(muni, "children_with_card", 2019, 2020, source="uptake", level="kommune")
    assert hidden.before is None and hidden.status == ":"  # a hidden part: the merged figure is hidden too


def test_a_share_without_its_parts_is_not_added_up_in_a_merge(app, muni, versioned):
    for code, year, value in [("0220", 2019, 6.2), ("0627", 2019, 6.4), ("0628", 2019, 8.0), ("3025", 2020, 6.3)]:
        db.session.add(ZoneIndicator(zone_id=versioned[code].id, key="andel_lavinntekt", year=year, value=value))
    db.session.flush()
    zone_versions.import_correspondence(muni, MERGE_2020, from_version="2019", to_version="2020", actor=None)
    [asker] = versions.compare(muni, "andel_lavinntekt", 2019, 2020)
    assert asker.before is None and asker.status == ".." and "teller og nevner" in asker.note


def test_a_merge_adds_counts_and_recomputes_shares(app, muni, versioned, users):
    assert zone_versions.import_correspondence(muni, MERGE_2020, from_version="2019", to_version="2020",
                                          actor=users["analyst"]) == 3
    [asker] = versions.compare(muni, "barn_0_17", 2019, 2020)
    assert (asker.code, asker.before, asker.after, asker.change) == ("3025", 20500, 20800, 300)
    assert "0220" in asker.note and "0627" in asker.note and "0628" in asker.note
    [share] = versions.compare(muni, "lavinntekt", 2019, 2020)
    assert share.before == pytest.approx((800 + 350 + 160) / 20500 * 100)  # not the mean of the three shares
    assert share.after == pytest.approx(6.2)


def test_a_split_carries_a_share_as_an_estimate_and_a_count_only_with_weights(app, muni, versioned):
    zone_versions.import_correspondence(muni, SPLIT_2024, from_version="2023", to_version="2024", actor=None)
    shares = {c.code: c for c in versions.compare(muni, "lavinntekt", 2023, 2024)}
    assert shares["1508"].before == shares["1580"].before == pytest.approx(8.0) and "anslått" in shares["1508"].note
    counts = {c.code: c for c in versions.compare(muni, "barn_0_17", 2023, 2024)}
    assert counts["1580"].before is None and counts["1580"].status == ".."  # a count cannot be split unweighted
    weighted = SPLIT_2024.replace("oldCode;oldName;newCode;newName;changeOccurred",
                                  "old_code;old_name;new_code;new_name;changed;weight")
    weighted = weighted.replace("1508;Ålesund;2024-01-01", "1508;Ålesund;2024-01-01;0,8").replace(
        "1580;Haram;2024-01-01", "1580;Haram;2024-01-01;0,2")
    zone_versions.import_correspondence(muni, weighted, from_version="2023", to_version="2024", actor=None)
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
        zone_versions.import_correspondence(muni, data, from_version="2023", to_version="2024", actor=None)
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


# --- each child once across a zone change (issue 36, item 5) -------------------------------------------------------

def _changed_world(muni, seed: int, ops: tuple[str, ...] = ("rename", "merge", "split", "split_weighted")):
    """A generated change between version 2019 and 2020 of eight grunnkretser in two delområder: each old zone is
    renamed, merged with its neighbour or split in two (with or without shares); children registered on an old or a
    new code (the register was updated on some day), each with a card for 2019-2020 and visits in both years,
    recorded on the zone they were registered on that day."""
    import random
    from datetime import UTC, date, datetime

    from opplevelseskort.cards.models import Card, Channel, Child, Household
    from opplevelseskort.checkin.models import CheckIn
    from opplevelseskort.partners.models import Offer, Partner

    rng = random.Random(seed)
    Zone = zones.Zone
    parents = {}
    for version in ("2019", "2020"):
        for d in (1, 2):
            parents[(version, d)] = Zone(municipality_id=muni.id, code=f"3001{d:02d}" + ("" if version == "2019"
                                         else "x"), name=f"Del {d}", level="delomrade", version=version)
    db.session.add_all(parents.values())
    db.session.flush()
    old = [Zone(municipality_id=muni.id, code=f"3001{1 + i // 4:02d}{i + 1:02d}", name=f"Gammel {i}",
                level="grunnkrets", version="2019", parent_id=parents[("2019", 1 + i // 4)].id) for i in range(8)]
    db.session.add_all(old)
    db.session.flush()
    new, links, lives = [], [], {}  # lives: old zone -> the new zones its people live in
    i, n = 0, 0
    while i < len(old):
        op = rng.choice([o for o in ops if i + 1 < len(old) or o != "merge"])
        def make():
            nonlocal n
            n += 1
            z = Zone(municipality_id=muni.id, code=f"3025{n:04d}", name=f"Ny {n}", level="grunnkrets",
                     version="2020", parent_id=parents[("2020", 1 + (n % 2))].id)
            new.append(z)
            return z
        if op == "merge":
            z = make()
            for o in old[i:i + 2]:
                links.append((o, z, None))
                lives[o.id] = [z]
            i += 2
            continue
        o = old[i]
        if op == "rename":
            z = make()
            links.append((o, z, None))
            lives[o.id] = [z]
        else:
            a, b = make(), make()
            w = (0.7, 0.3) if op == "split_weighted" else (None, None)
            links += [(o, a, w[0]), (o, b, w[1])]
            lives[o.id] = [a, b]
        i += 1
    db.session.add_all(new)
    db.session.flush()
    links += [(parents[("2019", d)], parents[("2020", d)], None) for d in (1, 2)]  # the delområder renamed
    change = "old_code;new_code;weight\n" + "".join(f"{o.code};{z.code};{'' if w is None else w}\n"
                                                     for o, z, w in links)
    zone_versions.import_correspondence(muni, change, from_version="2019", to_version="2020", actor=None)
    partner = Partner(municipality_id=muni.id, name="Klubb", org_number="974760673", status="approved")
    db.session.add(partner)
    db.session.flush()
    offer = Offer(partner_id=partner.id, municipality_id=muni.id, title="Trening", description="", translations={},
                  category="sport", age_min=0, age_max=25, address="", start_date=date(2019, 1, 1),
                  end_date=date(2020, 12, 31), opening_hours="", companions_allowed=0, price_nok=100,
                  use_limit_period="period", requires_booking=False, status="published")
    db.session.add(offer)
    db.session.flush()
    active = {2019: set(), 2020: set()}
    for c in range(60):
        home_old = rng.choice(old)
        home_new = rng.choice(lives[home_old.id])
        updated = rng.choice([date(2019, 6, 1), date(2020, 3, 1), date(2021, 1, 1)])  # when the register changed
        household = Household(municipality_id=muni.id)
        db.session.add(household)
        db.session.flush()
        child = Child(municipality_id=muni.id, household_id=household.id, given_name=f"B{c}", family_name="X",
                      birth_year=2014, gender="girl", channel=Channel.NAV, eligible_from=date(2019, 1, 1),
                      eligible_until=date(2020, 12, 31),
                      zone_id=(home_new if updated <= date(2020, 12, 31) else home_old).id)
        db.session.add(child)
        db.session.flush()
        card = Card(municipality_id=muni.id, child_id=child.id, qr_token=f"zv{seed}-{c}", short_code=f"ZV{seed}X{c}",
                    family_token=f"zf{seed}-{c}",
                    valid_from=date(2019, 1, 1), valid_until=date(2020, 12, 31))
        db.session.add(card)
        db.session.flush()
        for _v in range(rng.randint(0, 3)):
            day = date(rng.choice([2019, 2020]), rng.randint(1, 12), rng.randint(1, 28))
            zone = home_new if day >= updated else home_old
            db.session.add(CheckIn(municipality_id=muni.id, card_id=card.id, child_id=child.id, offer_id=offer.id,
                                   partner_id=partner.id, zone_id=zone.id, age=10, birth_year=2014, gender="girl",
                                   value_nok=100, source="typed", at=datetime(day.year, day.month, day.day, 17,
                                                                                tzinfo=UTC)))
            active[day.year].add(child.id)
    db.session.flush()
    return active


@pytest.mark.parametrize("seed", range(12))
def test_a_zone_change_counts_each_child_once_and_never_more_active_than_card_holders(app, muni, seed):
    """Generated change lists (renames, merges, splits with and without shares), children and visits on old and new
    codes in one year: every row of every level has active <= cards (uptake <= 1), every child is counted once,
    and the zones in force for the year are the rows."""
    active = _changed_world(muni, seed)
    for year in (2019, 2020):
        period = periods.parse_period(str(year))
        every = list(db.session.scalars(db.select(zones.Zone).filter_by(municipality_id=muni.id)))
        in_force, remap = zone_versions.zones_in_force(muni, every, year)
        tree = services.tables.zone_tree(in_force)
        facts = services.period_facts(muni, period, [z.id for z in every], remap)
        for level in tree.levels:
            rows, _m, per_zone, total = services.compute_counts(muni, period, level, facts, in_force, tree=tree)
            assert total["active_children"] == len(active[year]), (year, level)  # each child once
            assert total["children_with_card"] == 60
            assert sum(c["active_children"] for c in per_zone.values()) == len(active[year])
            for z in rows:
                c = per_zone[z.id]
                assert c["active_children"] <= c["children_with_card"], (year, level, z.code, c)
        if year == 2020:  # the version in force: no zone of 2019 is a row, its figures are on the new zones
            assert {z.version for z in in_force} == {"2020"}


def test_the_published_year_of_a_merger_shows_no_zone_with_more_active_than_cards(app, muni):
    active = _changed_world(muni, 3)
    app.config.update(SUPPRESS_MIN_COUNT=1, SUPPRESS_MIN_DENOMINATOR=1)
    try:
        report = readers.uptake_report(muni, periods.parse_period("2020"), "grunnkrets")
    finally:
        app.config.update(SUPPRESS_MIN_COUNT=5, SUPPRESS_MIN_DENOMINATOR=10)
    assert {z.version for z in report.zones} == {"2020"}
    for _zone, cells in report.rows():
        assert cells["active_children"].value <= cells["children_with_card"].value
        assert cells["uptake"].value is None or cells["uptake"].value <= 1
    assert report.cells["total"]["active_children"].value == len(active[2020])


@pytest.mark.parametrize("seed", [1, 3, 7])
def test_the_across_year_comparison_of_uptake_keeps_every_child(app, muni, seed):
    """2019 (old codes in force) beside 2020 (new codes) on the new zones: every active child of 2019 is in the
    earlier column, whether they were recorded on an old code or on a new one already (renames, merges and splits
    with shares: a split without shares cannot divide a count, and says so)."""
    active = _changed_world(muni, seed, ops=("rename", "merge", "split_weighted"))
    app.config.update(SUPPRESS_MIN_COUNT=1, SUPPRESS_MIN_DENOMINATOR=1)
    try:
        rows = versions.compare(muni, "active_children", 2019, 2020, source="uptake", level="grunnkrets")
    finally:
        app.config.update(SUPPRESS_MIN_COUNT=5, SUPPRESS_MIN_DENOMINATOR=10)
    assert all(r.before is not None for r in rows), [(r.code, r.note, r.status) for r in rows]
    assert sum(r.before for r in rows) == pytest.approx(len(active[2019]))
    assert sum(r.after for r in rows) == len(active[2020])
