"""Levekårsindeks by SSB's method: decile scores 1–10 (10 = most problems), the mean of the available scores
with one decimal, refused under ten zones; weights shown and editable, each change a new version."""

import pytest

from opplevelseskort.core.errors import DomainError
from opplevelseskort.core.models import AuditLog
from opplevelseskort.extensions import db
from opplevelseskort.reports import levekar
from opplevelseskort.reports.models import IndexMethod, ZoneIndicator
from opplevelseskort.zones.models import Zone


def test_golden_stavanger_1999_sub_scores_give_5_3():
    """Stavanger's published sub-scores for a levekårssone (1999): 7, 6, 2, 4, 7, 6, 5 → index 5.3."""
    scores = dict(zip("abcdefg", [7, 6, 2, 4, 7, 6, 5], strict=True))
    assert levekar.index_value(scores) == 5.3


def test_a_blank_indicator_is_left_out_of_the_mean():
    scores = {"a": 7, "b": 6, "c": 2, "d": None, "e": 7, "f": 6, "g": 5}
    assert levekar.index_value(scores) == round((7 + 6 + 2 + 7 + 6 + 5) / 6, 1) == 5.5
    assert levekar.index_value({"a": None}) is None


def test_one_decimal_rounds_half_up_as_ssb():
    assert levekar.index_value({"a": 5, "b": 6}) == 5.5
    assert levekar.index_value({"a": 1, "b": 2, "c": 2, "d": 2}) == 1.8  # 1.75 → 1.8, not banker's 1.8/1.7


def test_deciles_over_ten_and_thirty_six_zones():
    ten = levekar.decile_scores({z: float(z) for z in range(10)})
    assert [ten[z] for z in range(10)] == list(range(1, 11))
    turned = levekar.decile_scores({z: float(z) for z in range(10)}, higher_is_worse=False)
    assert turned[0] == 10 and turned[9] == 1  # low employment is the problem
    many = levekar.decile_scores({z: float(z) for z in range(36)})
    assert min(many.values()) == 1 and max(many.values()) == 10
    assert sorted(set(many.values())) == list(range(1, 11)) and many[35] == 10 and many[0] == 1
    ties = levekar.decile_scores({z: (1.0 if z < 5 else float(z)) for z in range(10)})
    assert len({ties[z] for z in range(5)}) == 1  # equal values, equal scores


def test_fewer_than_ten_zones_is_refused_with_a_clear_message():
    with pytest.raises(DomainError) as exc:
        levekar.decile_scores({z: float(z) for z in range(9)})
    assert exc.value.code == "index_too_few_zones" and "minst 10 soner" in exc.value.message


@pytest.fixture
def twelve_zones(muni):
    zones = []
    for i in range(12):
        z = Zone(municipality_id=muni.id, code=f"3001{i:04d}", name=f"Sone {i}", level="grunnkrets")
        db.session.add(z)
        zones.append(z)
    db.session.flush()
    for i, z in enumerate(zones):
        db.session.add_all([
            ZoneIndicator(zone_id=z.id, key="lavinntekt", year=2024, value=float(i)),
            ZoneIndicator(zone_id=z.id, key="sysselsetting", year=2024, value=float(100 - i)),
            ZoneIndicator(zone_id=z.id, key="lav_utdanning", year=2024, value=float(i)),
            ZoneIndicator(zone_id=z.id, key="sosialhjelp", year=2024, value=float(i)),
        ])
    db.session.commit()
    return zones


def test_index_per_zone_from_imported_indicators(muni, twelve_zones):
    table = levekar.compute(muni, 2024)
    assert table.method.version == 1 and "lav_utdanning" not in table.keys  # left out unless chosen
    worst = table.rows[0]
    assert worst.zone.name == "Sone 11" and worst.scores == {"lavinntekt": 10, "sysselsetting": 10,
                                                             "sosialhjelp": 10} and \
        worst.index == 10.0  # sysselsetting: low is the problem
    assert table.rows[-1].index == 1.0


def test_weights_are_shown_and_a_change_is_a_new_version(client, login_as, muni, twelve_zones, users):
    login_as("analyst")
    page = client.get("/rapporter/levekarsindeks?year=2024").text
    assert "Metode, versjon 1" in page and "like vekter er et valg" in page and "ikke hvor det er best å bo" in page
    assert 'name="weight-lavinntekt" value="1.0"' in page
    r = client.post("/rapporter/levekarsindeks?year=2024", data={
        "use-lavinntekt": "y", "weight-lavinntekt": "2", "direction-lavinntekt": "higher",
        "use-sysselsetting": "y", "weight-sysselsetting": "1", "direction-sysselsetting": "lower",
        "use-lav_utdanning": "y", "weight-lav_utdanning": "1", "direction-lav_utdanning": "higher"})
    assert r.status_code == 302
    method = db.session.scalar(db.select(IndexMethod))
    assert method.version == 2 and {e["key"] for e in method.indicators} == {"lavinntekt", "sysselsetting",
                                                                             "lav_utdanning"}
    assert db.session.scalar(db.select(AuditLog).filter_by(action="index_method.save"))
    assert "Metode, versjon 2" in client.get("/rapporter/levekarsindeks?year=2024").text
    bad = client.post("/rapporter/levekarsindeks?year=2024", data={"use-lavinntekt": "y", "weight-lavinntekt": "x"},
                      follow_redirects=True)
    assert "Vekten for «lavinntekt»" in bad.text
    assert db.session.scalar(db.select(db.func.count(IndexMethod.id))) == 1  # nothing half-saved


def test_too_few_zones_says_so_on_the_page(client, login_as, muni, zone_set):
    for z in list(zone_set.values())[:3]:
        for key in ("lavinntekt", "sosialhjelp", "uforetrygd"):
            db.session.add(ZoneIndicator(zone_id=z.id, key=key, year=2024, value=1.0))
    db.session.commit()
    login_as("analyst")
    page = client.get("/rapporter/levekarsindeks?year=2024")
    assert page.status_code == 422 and "minst 10 soner" in page.text


# --- only living-conditions indicators, SSB's files as published (issue 36, item 4) ---------------------------

STAVANGER_RANKS = {"lavinntekt": 7, "sosialhjelp": 6, "arbeidsledighet": 2, "uforetrygd": 4,
                   "enslige_forsorgere": 7, "trangboddhet": 6, "dodelighet": 5}  # published sub-scores, 1999


def _ssb_file(zones: list[str], *, denominator: bool) -> str:
    """Ten zones in SSB's long layout ("code name" labels, Norwegian variable names); the first zone ranks as
    Stavanger's levekårssone did in 1999 on each indicator. With `denominator`, SSB's children 6-17 per zone is
    in the same file, largest where the index is highest (an index that took it would move)."""
    names = {"lavinntekt": "Vedvarende lavinntekt", "sosialhjelp": "Sosialhjelpsmottakere",
             "arbeidsledighet": "Arbeidsledighet", "uforetrygd": "Uføretrygdede", "enslige_forsorgere":
             "Enslige forsørgere", "trangboddhet": "Trangboddhet", "dodelighet": "Dødelighet"}
    lines = ["region;statistikkvariabel;år;verdi"]
    for key, rank in STAVANGER_RANKS.items():
        others = [r for r in range(1, 11) if r != rank]
        for i, code in enumerate(zones):
            value = rank if i == 0 else others[i - 1]
            lines.append(f'"{code} Sone {i}";{names[key]} (prosent);1999;{value}.0')
    if denominator:
        for i, code in enumerate(zones):
            lines.append(f'"{code} Sone {i}";Barn 6-17 år;1999;{1000 - 50 * i}')
    return "\n".join(lines) + "\n"


@pytest.fixture
def ten_zones(muni):
    codes = [f"3001{i:04d}" for i in range(10)]
    for i, code in enumerate(codes):
        db.session.add(Zone(municipality_id=muni.id, code=code, name=f"Sone {i}", level="grunnkrets"))
    db.session.flush()
    return codes


def test_golden_stavanger_1999_from_ssbs_latin1_file_with_a_denominator_beside(muni, ten_zones):
    """Stavanger 1999: the zone's sub-scores 7, 6, 2, 4, 7, 6, 5 give 5.3. The file is SSB's Latin-1 download with
    the children 6-17 beside the indicators: it imports like its UTF-8 twin and the denominator stays out."""
    from opplevelseskort.reports import services

    text = _ssb_file(ten_zones, denominator=True)
    services.import_indicators_csv(muni, text.encode("latin-1"))
    table = levekar.compute(muni, 1999)
    assert "barn_6_17_ar" in levekar.available_keys(muni) and "barn_6_17_ar" not in table.keys
    assert len(table.keys) == 7
    first = next(r for r in table.rows if r.zone.code == ten_zones[0])
    assert sorted(first.scores.values()) == sorted(STAVANGER_RANKS.values()) and first.index == 5.3
    latin1 = {(r.zone.code, r.index) for r in table.rows}
    db.session.execute(db.delete(ZoneIndicator))
    services.import_indicators_csv(muni, text.encode("utf-8"))
    assert {(r.zone.code, r.index) for r in levekar.compute(muni, 1999).rows} == latin1
    assert "Uføretrygdede" not in str(latin1)


def test_a_latin1_file_gives_the_same_values_as_its_utf8_twin_also_streamed(muni, ten_zones):
    import io

    from opplevelseskort.reports.indicators import import_indicators

    text = _ssb_file(ten_zones, denominator=True)
    import_indicators(io.BytesIO(text.encode("latin-1")), municipality=muni)
    latin = sorted(db.session.execute(db.select(ZoneIndicator.key, ZoneIndicator.value, ZoneIndicator.zone_id)).all())
    db.session.execute(db.delete(ZoneIndicator))
    import_indicators(io.BytesIO(text.encode("utf-8")), municipality=muni)
    utf8 = sorted(db.session.execute(db.select(ZoneIndicator.key, ZoneIndicator.value, ZoneIndicator.zone_id)).all())
    assert latin == utf8 and any(k.startswith("uforetrygdede") for k, _v, _z in utf8)


def test_a_count_or_denominator_never_enters_an_index(muni, ten_zones, users):
    from opplevelseskort.reports import services

    services.import_indicators_csv(muni, _ssb_file(ten_zones, denominator=True))
    assert "barn_6_17_ar" not in [e["key"] for e in levekar.current_method(muni).indicators]
    with pytest.raises(DomainError) as exc:
        levekar.save_method(muni, [{"key": "barn_6_17_ar"}, *({"key": k} for k in levekar.available_keys(muni)
                                                              if k != "barn_6_17_ar")], actor=users["analyst"])
    assert exc.value.code == "index_not_living_conditions" and "barn_6_17_ar" in exc.value.message
    # a method saved before this rule with the denominator in it: the denominator is left out, and said so
    keys = levekar.available_keys(muni)
    db.session.add(IndexMethod(municipality_id=muni.id, version=2, indicators=[
        {"key": k, "weight": 1.0, "higher_is_worse": True} for k in keys]))
    db.session.flush()
    table = levekar.compute(muni, 1999)
    assert table.left_out == ["barn_6_17_ar"] and "barn_6_17_ar" not in table.keys
    # the index does not follow the zones' size: it is the same with and without the denominator imported
    with_denominator = {r.zone.code: r.index for r in table.rows}
    db.session.execute(db.delete(ZoneIndicator).where(ZoneIndicator.key == "barn_6_17_ar"))
    assert {r.zone.code: r.index for r in levekar.compute(muni, 1999).rows} == with_denominator


def test_fewer_indicators_than_the_method_needs_is_refused_with_a_clear_message(muni, ten_zones):
    for i, code in enumerate(ten_zones):
        zone = db.session.scalar(db.select(Zone).filter_by(code=code))
        db.session.add_all([ZoneIndicator(zone_id=zone.id, key="lavinntekt", year=2024, value=float(i)),
                            ZoneIndicator(zone_id=zone.id, key="children_6_17", year=2024, value=100.0 + i)])
    db.session.flush()
    with pytest.raises(DomainError) as exc:
        levekar.compute(muni, 2024)
    assert exc.value.code == "index_too_few_indicators" and "minst 3" in exc.value.message


def _two_levels(muni, shares_only: bool = False):
    """Twelve delområder of two grunnkretser each, and the parentless "uoppgitt" grunnkrets; four living-conditions
    shares per grunnkrets with numerator and denominator (or shares only)."""
    kids = []
    for d in range(12):
        parent = Zone(municipality_id=muni.id, code=f"3001{d:02d}", name=f"Delområde {d}", level="delomrade")
        db.session.add(parent)
        db.session.flush()
        for g in range(2):
            kids.append(Zone(municipality_id=muni.id, code=f"3001{d:02d}{g:02d}", name=f"Krets {d}.{g}",
                             level="grunnkrets", parent_id=parent.id))
    orphan = Zone(municipality_id=muni.id, code="30019999", name="Uoppgitt", level="grunnkrets")
    db.session.add_all([*kids, orphan])
    db.session.flush()
    for i, z in enumerate([*kids, orphan]):
        den = 100.0 + 37 * (i % 5)
        for j, key in enumerate(("lavinntekt", "sosialhjelp", "arbeidsledighet", "uforetrygd")):
            num = float((i * (j + 3)) % 17 + (60 if z is orphan else 0))
            db.session.add(ZoneIndicator(zone_id=z.id, key=key, year=2024, value=round(100 * num / den, 1),
                                         numerator=None if shares_only else num,
                                         denominator=None if shares_only else den))
    db.session.flush()
    return kids, orphan


def test_delomrader_get_an_index_from_their_grunnkretser_numerators_and_the_parentless_zone_is_never_ranked(muni):
    kids, orphan = _two_levels(muni)
    finest = levekar.compute(muni, 2024)
    assert finest.level == "grunnkrets" and orphan.code not in {r.zone.code for r in finest.rows}
    assert [z.code for z in finest.not_ranked] == [orphan.code]
    upper = levekar.compute(muni, 2024, level="delomrade")
    assert len(upper.rows) == 12 and all(r.index is not None for r in upper.rows)
    # a delområde's share is the sum of its grunnkretser' numerators over the sum of their denominators
    rows = db.session.execute(db.select(ZoneIndicator.zone_id, ZoneIndicator.numerator, ZoneIndicator.denominator)
                              .where(ZoneIndicator.key == "lavinntekt", ZoneIndicator.zone_id.in_(
                                  [kids[0].id, kids[1].id]))).all()
    expected = 100 * sum(n for _z, n, _d in rows) / sum(d for _z, _n, d in rows)
    values, _notes = levekar._values(muni, 2024, ["lavinntekt"], {kids[0].parent_id: None},
                                     {z.id: z for z in db.session.scalars(db.select(Zone))}, False)
    assert values["lavinntekt"][kids[0].parent_id] == pytest.approx(expected, abs=1e-3)


def test_delomrader_from_shares_only_say_why_they_have_no_index(muni):
    _two_levels(muni, shares_only=True)
    with pytest.raises(DomainError) as exc:
        levekar.compute(muni, 2024, level="delomrade")
    assert exc.value.code == "index_no_values" and "uten teller og nevner" in exc.value.message


def test_the_index_page_shows_which_figures_are_living_conditions_indicators(client, login_as, muni, ten_zones):
    from opplevelseskort.reports import services

    services.import_indicators_csv(muni, _ssb_file(ten_zones, denominator=True))
    login_as("analyst")
    page = client.get("/rapporter/levekarsindeks?year=1999").text
    assert "Nei: et antall, en nevner" in page and 'name="use-barn_6_17_ar"' not in page
    assert "Vedvarende lavinntekt (andel)" in page and "5,3" in page
