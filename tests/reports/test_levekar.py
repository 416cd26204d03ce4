"""Levekårsindeks by SSB's method: decile scores 1–10 (10 = most problems), the mean of the available scores
with one decimal, refused under ten zones; weights shown and editable, each change a new version."""

import pytest

from opplevelseskort.core.errors import DomainError
from opplevelseskort.core.models import AuditLog, Zone
from opplevelseskort.extensions import db
from opplevelseskort.reports import levekar
from opplevelseskort.reports.models import IndexMethod, ZoneIndicator


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
        ])
    db.session.commit()
    return zones


def test_index_per_zone_from_imported_indicators(muni, twelve_zones):
    table = levekar.compute(muni, 2024)
    assert table.method.version == 1 and "lav_utdanning" not in table.keys  # left out unless chosen
    worst = table.rows[0]
    assert worst.zone.name == "Sone 11" and worst.scores == {"lavinntekt": 10, "sysselsetting": 10} and \
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
        db.session.add(ZoneIndicator(zone_id=z.id, key="lavinntekt", year=2024, value=1.0))
    db.session.commit()
    login_as("analyst")
    page = client.get("/rapporter/levekarsindeks?year=2024")
    assert page.status_code == 422 and "minst 10 soner" in page.text
