"""Zones: GeoJSON (WGS84 and Norwegian UTM) and CSV imports, parents, all-or-nothing, point-in-polygon."""

import json

import pytest

from opplevelseskort.core.errors import DomainError, ImportFailed
from opplevelseskort.core.models import AuditLog
from opplevelseskort.extensions import db
from opplevelseskort.zones import imports as zone_imports
from opplevelseskort.zones import services as zones
from opplevelseskort.zones.geo import load_geometry
from opplevelseskort.zones.models import Zone


@pytest.fixture
def kv():
    """Kongsvinger (3401): the municipality of tests/data/grunnkretser_25833.geojson."""
    from opplevelseskort.core import municipalities

    return municipalities.get_or_create_municipality("3401", "Kongsvinger")


def _count():
    return db.session.scalar(db.select(db.func.count(Zone.id)))


def _import_25833(muni, data_dir, **kw):
    data = (data_dir / "grunnkretser_25833.geojson").read_bytes()
    return zone_imports.import_zones_geojson(muni, data, code_property="grunnkretsnummer", name_property="grunnkretsnavn",
                                      level="grunnkrets", **kw)


def test_utm33_grunnkretser_are_stored_in_wgs84_inside_norway(kv, data_dir):
    result = _import_25833(kv, data_dir)
    assert result.created == 4
    z = db.session.scalar(db.select(Zone).filter_by(code="34010101"))
    geom = load_geometry(z.boundary)
    minx, miny, maxx, maxy = geom.bounds
    # Norway's mainland lies within about 4-32 E, 57-72 N; the source square is 12.00-12.01 E, 60.19-60.20 N.
    assert 4 < minx < maxx < 32 and 57 < miny < maxy < 72
    assert minx == pytest.approx(12.00, abs=1e-4) and miny == pytest.approx(60.19, abs=1e-4)
    assert (z.min_lon, z.min_lat) == pytest.approx((minx, miny))


def test_parents_built_from_six_digit_code_prefix(kv, data_dir):
    result = _import_25833(kv, data_dir, parent_prefix=6, parent_level="delomrade",
                           parent_name_property="delomradenavn")
    assert result.parents_created == 2
    gk = db.session.scalar(db.select(Zone).filter_by(code="34010202"))
    assert gk.parent.code == "340102"
    assert gk.parent.name == "Langeland"
    assert gk.parent.level == "delomrade"
    # the delområde's boundary is the union of its grunnkretser
    pminx, _, pmaxx, _ = load_geometry(gk.parent.boundary).bounds
    assert pminx == pytest.approx(12.00, abs=1e-4) and pmaxx == pytest.approx(12.02, abs=1e-4)


def test_codes_keep_leading_zeros():
    from opplevelseskort.core import municipalities

    muni = municipalities.get_or_create_municipality("0301", "Oslo")
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kode": "03010101", "navn": "Gamle Oslo"}, "geometry": None}]}
    zone_imports.import_zones_geojson(muni, json.dumps(doc), code_property="kode", name_property="navn", level="grunnkrets")
    assert db.session.scalar(db.select(Zone.code)) == "03010101"


def test_reimport_updates_instead_of_duplicating(kv, data_dir):
    _import_25833(kv, data_dir)
    result = _import_25833(kv, data_dir)
    assert (result.created, result.updated) == (0, 4)
    assert _count() == 4


@pytest.mark.parametrize("payload, expected", [
    (b"{not json", "ikke gyldig JSON"),
    (json.dumps({"type": "Feature"}).encode(), "FeatureCollection"),
    (json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
                 "features": []}).encode(), "EPSG:3857"),
])
def test_malformed_files_name_the_problem_and_write_nothing(muni, payload, expected):
    with pytest.raises(ImportFailed) as exc:
        zone_imports.import_zones_geojson(muni, payload, code_property="grunnkretsnummer", name_property="grunnkretsnavn",
                                   level="grunnkrets")
    assert expected in " ".join(exc.value.errors)
    assert _count() == 0


def test_missing_property_is_reported_with_feature_number(kv, data_dir):
    doc = json.loads((data_dir / "grunnkretser_25833.geojson").read_text())
    del doc["features"][2]["properties"]["grunnkretsnavn"]
    with pytest.raises(ImportFailed) as exc:
        zone_imports.import_zones_geojson(kv, json.dumps(doc), code_property="grunnkretsnummer",
                                   name_property="grunnkretsnavn", level="grunnkrets")
    assert exc.value.errors == ["Objekt 3: egenskapen «grunnkretsnavn» (navn) mangler."]
    assert _count() == 0


def test_duplicate_code_is_reported_and_nothing_written(kv, data_dir):
    doc = json.loads((data_dir / "grunnkretser_25833.geojson").read_text())
    doc["features"][3]["properties"]["grunnkretsnummer"] = "34010101"
    with pytest.raises(ImportFailed) as exc:
        zone_imports.import_zones_geojson(kv, json.dumps(doc), code_property="grunnkretsnummer",
                                   name_property="grunnkretsnavn", level="grunnkrets", parent_prefix=6)
    assert "Objekt 4: koden 34010101 finnes også i objekt 1." in exc.value.errors
    assert _count() == 0


def test_wrongly_declared_crs_is_caught_by_coordinate_range(kv, data_dir):
    doc = json.loads((data_dir / "grunnkretser_25833.geojson").read_text())
    del doc["crs"]  # UTM metres read as degrees
    with pytest.raises(ImportFailed) as exc:
        zone_imports.import_zones_geojson(kv, json.dumps(doc), code_property="grunnkretsnummer",
                                   name_property="grunnkretsnavn", level="grunnkrets")
    assert "WGS84" in exc.value.errors[0]
    assert _count() == 0


@pytest.mark.parametrize("crs_name, epsg", [("urn:ogc:def:crs:EPSG::25832", 25832), ("EPSG:25835", 25835),
                                            ("urn:ogc:def:crs:OGC:1.3:CRS84", 4326), ("EPSG:4326", 4326)])
def test_supported_crs_names(crs_name, epsg):
    from opplevelseskort.zones.geo import parse_crs

    assert parse_crs({"type": "name", "properties": {"name": crs_name}}) == epsg


def test_point_in_polygon_finds_the_grunnkrets_not_its_parent(kv, data_dir):
    _import_25833(kv, data_dir, parent_prefix=6)
    z = zones.zone_at(kv.id, 12.015, 60.205)
    assert z.code == "34010202"
    assert zones.zone_at(kv.id, 5.0, 60.0) is None


CSV = "code;name;level;parent\n3401A;Levekårssone A;levekar;\n34010101;Sentrum nord;grunnkrets;3401A\n"


def test_csv_import_creates_hierarchy(muni):
    result = zone_imports.import_zones_csv(muni, CSV.encode())
    assert result.created == 2
    assert db.session.scalar(db.select(Zone).filter_by(code="34010101")).parent.code == "3401A"


@pytest.mark.parametrize("text, fragment", [
    ("code;name;level;parent\n;Uten kode;grunnkrets;\n", "Linje 2: «code» mangler."),
    ("code;name;level;parent\nA;A;x;\nA;B;x;\n", "Linje 3: koden A står også på linje 2."),
    ("code;name;level;parent\nA;A;x;NOPE\n", "Linje 2: ukjent overordnet sone NOPE."),
    ("kode;navn\nA;A\n", "Linje 1: fant kolonnene kode; navn, men mangler level"),
    ("code;name;level;parent\nA;;x;\n", "Linje 2: «name» mangler."),
    ("kode;navn;nivå\nA;Sentrum;x;y\n", "Linje 2: for mange kolonner"),
    ("code;name;level\n" + "A" * 40 + ";A;x\n", "Linje 2: «code» kan være høyst 32 tegn. (fant «AAAA"),
    ('code;name;level\nA;"' + "x" * 200_000 + '";x\n', "Linje 2: filen kan ikke leses som CSV"),
])
def test_bad_csv_rows_are_numbered_and_nothing_is_written(muni, text, fragment):
    with pytest.raises(ImportFailed) as exc:
        zone_imports.import_zones_csv(muni, text.encode())
    assert any(fragment in e for e in exc.value.errors), exc.value.errors
    assert _count() == 0


def test_mapping_table_groups_grunnkretser_into_levekar_zones(kv, data_dir):
    _import_25833(kv, data_dir)
    zone_imports.import_zones_csv(kv, b"code;name;level;parent\nLK1;Levekar 1;levekar;\n")
    n = zone_imports.import_zone_mapping(kv, b"grunnkrets;sone\n34010101;LK1\n34010102;LK1\n")
    assert n == 2
    assert db.session.scalar(db.select(Zone).filter_by(code="34010102")).parent.code == "LK1"
    # the levekår zone's boundary is the union of its grunnkretser, so it can be drawn on the map
    lk = load_geometry(db.session.scalar(db.select(Zone.boundary).filter_by(code="LK1")))
    assert lk is not None and lk.bounds[0] == pytest.approx(12.00, abs=1e-4)


def test_mapping_with_unknown_zone_changes_nothing(kv, data_dir):
    _import_25833(kv, data_dir)
    zone_imports.import_zones_csv(kv, b"code;name;level;parent\nLK1;Levekar 1;levekar;\n")
    with pytest.raises(ImportFailed) as exc:
        zone_imports.import_zone_mapping(kv, b"34010101;LK1\n99999999;LK1\n")
    assert "Linje 2: ukjent sone 99999999." in exc.value.errors
    assert db.session.scalar(db.select(Zone).filter_by(code="34010101")).parent is None


def test_update_zone_refuses_a_cycle(muni, users):
    zone_imports.import_zones_csv(muni, b"code;name;level;parent\nA;A;x;\nB;B;x;A\n")
    a = db.session.scalar(db.select(Zone).filter_by(code="A"))
    with pytest.raises(DomainError) as exc:
        zones.update_zone(a, name="A", level="x", parent_code="B", actor=users["admin"])
    assert exc.value.code == "zone_cycle"


def test_import_is_audited(kv, data_dir):
    _import_25833(kv, data_dir)
    row = db.session.scalar(db.select(AuditLog).filter_by(action="zones.import_geojson"))
    assert row.details["created"] == 4 and row.details["epsg"] == 25833


def test_import_page_reports_errors_and_writes_nothing(client, login_as, muni):
    import io

    login_as("admin")
    r = client.post("/admin/soner/import", data={
        "municipality_id": muni.id, "kind": "geojson", "code_property": "grunnkretsnummer",
        "name_property": "grunnkretsnavn", "level": "grunnkrets",
        "file": (io.BytesIO(b"{broken"), "soner.geojson")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert r.status_code == 422
    assert "ikke gyldig JSON" in r.text
    assert _count() == 0


def test_import_page_imports_utm_file(client, login_as, kv, data_dir):
    login_as("admin")
    r = client.post("/admin/soner/import", data={
        "municipality_id": kv.id, "kind": "geojson", "code_property": "grunnkretsnummer",
        "name_property": "grunnkretsnavn", "level": "grunnkrets", "parent_prefix": "6",
        "parent_level": "delomrade", "file": ((data_dir / "grunnkretser_25833.geojson").open("rb"), "g.geojson")},
        content_type="multipart/form-data")
    assert r.status_code == 302 and "/jobber/" in r.headers["Location"]  # the import runs as a job
    page = client.get(r.headers["Location"])
    assert page.status_code == 200 and "4 soner opprettet, 0 oppdatert, 2 overordnede soner laget" in page.text
    assert _count() == 6


def test_zone_edit_page_renames(client, login_as, zone_set):
    login_as("admin")
    z = zone_set["30010101"]
    r = client.post(f"/admin/soner/{z.id}", data={"name": "Nytt navn", "level": "grunnkrets", "parent_code": "300101"})
    assert r.status_code == 302
    assert db.session.get(Zone, z.id).name == "Nytt navn"


def test_admin_limited_to_other_municipality_cannot_edit_zone(client, zone_set, other_muni):
    from opplevelseskort.accounts import services as accounts

    from ..conftest import login

    limited = accounts.create_user("lim@test.no", "gront eple 47", "admin", municipality_id=other_muni.id)
    login(client, limited)
    z = zone_set["30010101"]
    assert client.get(f"/admin/soner/{z.id}").status_code == 404
    assert "30010101" not in client.get("/admin/soner").text


# --- geometry is validated, not guessed ------------------------------------------------------------------

def _square_doc(ring, code="34010101", crs=None):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"grunnkretsnummer": code, "grunnkretsnavn": "Krets"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{crs}"}}
    return json.dumps(doc)


BOWTIE = [[12.00, 60.19], [12.01, 60.20], [12.01, 60.19], [12.00, 60.20], [12.00, 60.19]]


def _import(kv, data, **kw):
    return zone_imports.import_zones_geojson(kv, data, code_property="grunnkretsnummer", name_property="grunnkretsnavn",
                                      level="grunnkrets", **kw)


def test_self_intersecting_polygon_is_refused_with_shapelys_reason(kv):
    with pytest.raises(ImportFailed) as exc:
        _import(kv, _square_doc(BOWTIE))
    assert exc.value.errors[0].startswith("Objekt 1 (34010101): ugyldig geometri: invalid polygon: Self-intersection")
    assert _count() == 0


def test_repair_is_a_choice_and_is_listed(kv):
    result = _import(kv, _square_doc(BOWTIE), repair=True)
    assert result.created == 1 and result.repaired and "Self-intersection" in result.repaired[0]
    assert load_geometry(db.session.scalar(db.select(Zone.boundary))).is_valid


@pytest.mark.parametrize("ring, reason", [
    ([[12.00, 60.19], [12.01, 60.19], [12.01, 60.20]], "fewer than 4 positions"),
    ([[12.00, 60.19], [12.01, 60.19], [12.01, 60.20], [12.00, 60.20]], "not closed"),
])
def test_unclosed_or_too_short_rings_are_refused(kv, ring, reason):
    with pytest.raises(ImportFailed) as exc:
        _import(kv, _square_doc(ring))
    assert reason in exc.value.errors[0] and "Objekt 1" in exc.value.errors[0]
    assert _count() == 0


def test_a_file_declaring_the_wrong_utm_zone_is_caught(kv, data_dir):
    doc = json.loads((data_dir / "grunnkretser_25833.geojson").read_text())
    doc["crs"]["properties"]["name"] = "urn:ogc:def:crs:EPSG::25832"  # the data are in 25833
    with pytest.raises(ImportFailed) as exc:
        _import(kv, json.dumps(doc))
    assert len(exc.value.errors) == 4
    assert "utenfor kommunens område" in exc.value.errors[0] and "passer med EPSG:25833" in exc.value.errors[0]
    assert _count() == 0


def test_features_far_from_the_municipalitys_other_zones_are_refused(kv, data_dir):
    _import_25833(kv, data_dir)
    far = [[12.9, 61.5], [12.91, 61.5], [12.91, 61.51], [12.9, 61.51], [12.9, 61.5]]  # Innlandet, not Kongsvinger
    with pytest.raises(ImportFailed) as exc:
        _import(kv, _square_doc(far, code="34019999"))
    assert "utenfor kommunens område" in exc.value.errors[0]


# --- parents stay true, RFC 7946 winding, small things ----------------------------------------------------

def test_reimport_with_new_geometry_rebuilds_the_parent_boundary(kv, data_dir):
    _import_25833(kv, data_dir, parent_prefix=6, parent_level="delomrade", parent_name_property="delomradenavn")
    parent = db.session.scalar(db.select(Zone).filter_by(code="340101"))
    before = load_geometry(parent.boundary).bounds
    doc = json.loads((data_dir / "grunnkretser_25833.geojson").read_text())
    moved = [f for f in doc["features"] if f["properties"]["grunnkretsnummer"] == "34010101"]
    for ring in moved[0]["geometry"]["coordinates"]:
        for pt in ring:
            pt[1] += 2000  # 2 km north (UTM metres)
    zone_imports.import_zones_geojson(kv, json.dumps({**doc, "features": moved}), code_property="grunnkretsnummer",
                               name_property="grunnkretsnavn", level="grunnkrets")
    db.session.expire_all()
    after = load_geometry(db.session.get(Zone, parent.id).boundary).bounds
    assert after[3] > before[3] + 0.015  # the delområde reaches the moved grunnkrets (2 km ~ 0.018 degrees)


def test_delomrade_names_come_from_a_names_csv(kv, data_dir):
    _import_25833(kv, data_dir, parent_prefix=6)
    zone_imports.import_zones_csv(kv, "code;name;level;parent\n340101;Sentrum;delomrade;\n")
    assert db.session.scalar(db.select(Zone.name).filter_by(code="340101")) == "Sentrum"


def test_boundaries_follow_rfc7946_winding(kv):
    from shapely.geometry import shape

    clockwise = [[12.00, 60.19], [12.00, 60.20], [12.01, 60.20], [12.01, 60.19], [12.00, 60.19]]
    _import(kv, _square_doc(clockwise))
    stored = shape(json.loads(db.session.scalar(db.select(Zone.boundary))))
    assert stored.exterior.is_ccw


def test_latin1_csv_names_the_first_bad_line(muni):
    data = "code;name;level;parent\n30010101;Elvekanten;grunnkrets;\n30010102;Bøkeskogen;grunnkrets;\n".encode("latin-1")
    with pytest.raises(ImportFailed) as exc:
        zone_imports.import_zones_csv(muni, data)
    assert exc.value.errors[0].startswith("Linje 3: filen er ikke UTF-8-kodet tekst")


def test_empty_geojson_file_gets_a_norwegian_message(kv):
    with pytest.raises(ImportFailed) as exc:
        _import(kv, b"")
    assert exc.value.errors == ["Filen er tom."]


def test_error_summary_counts_every_problem(client, login_as, muni):
    import io

    login_as("admin")
    rows = "".join(f"3001{i:04d};;grunnkrets;\n" for i in range(1, 424))
    r = client.post("/admin/soner/import", data={"municipality_id": muni.id, "kind": "csv",
                                                 "file": (io.BytesIO(("code;name;level;parent\n" + rows).encode()),
                                                          "z.csv")}, content_type="multipart/form-data",
                    follow_redirects=True)
    assert r.status_code == 422 and "Noe må rettes (423 feil)" in r.text


def test_a_mapping_table_is_read_by_its_header_or_by_place_with_the_files_own_line_numbers(kv, data_dir):
    """The mapping table is read through a row model: columns found by their header (in any order), or by place in a
    table without one; a problem names the file's own line."""
    _import_25833(kv, data_dir)
    zone_imports.import_zones_csv(kv, b"code;name;level;parent\nLK1;Levekar 1;levekar;\n")
    assert zone_imports.import_zone_mapping(kv, b"sone;grunnkrets\nLK1;34010101\n") == 1  # by header, any order
    assert db.session.scalar(db.select(Zone).filter_by(code="34010101")).parent.code == "LK1"
    with pytest.raises(ImportFailed) as exc:
        zone_imports.import_zone_mapping(kv, b"34010101;LK1\n34010102\n")
    assert any(e.startswith("Linje 2:") for e in exc.value.errors), exc.value.errors
