"""Files analysts open (issue 28, item 4): a GeoPackage per period and level read back with pyogrio (GDAL), and
the read-only OGC API Features endpoint walked with a real client (OWSLib) against a server on a socket."""

import threading

import pytest
import requests
from pyogrio import list_layers
from pyogrio.raw import read
from werkzeug.serving import make_server

from opplevelseskort.accounts import tokens as api_tokens
from opplevelseskort.extensions import db
from opplevelseskort.reports import formats, gis, published, services
from opplevelseskort.reports import jobs as report_jobs
from opplevelseskort.reports.suppression import Cell

from .test_reports import Y, world  # noqa: F401  (the fixture)


def _gpkg(tmp_path, data: bytes):
    path = tmp_path / "opptak.gpkg"
    path.write_bytes(data)
    return str(path)


def test_a_geopackage_holds_the_published_figures_in_utm_with_a_metadata_table(app, muni, world, tmp_path,  # noqa: F811
                                                                              monkeypatch):
    report = published.uptake_report(muni, Y, "grunnkrets")
    report.cells["30010101"]["active_children"] = Cell(None, ":")  # as disclosure control hides a figure
    path = _gpkg(tmp_path, gis.geopackage(report))
    layers = {name: kind for name, kind in list_layers(path)}
    assert layers == {"opptak_grunnkrets_2026": "MultiPolygon", "metadata": None}
    meta, _fids, geometry, fields = read(path, layer="opptak_grunnkrets_2026")
    assert meta["crs"] == "EPSG:25833" and len(geometry) == 3
    columns = dict(zip(meta["fields"], fields, strict=True))
    codes = list(columns["code"])
    a = codes.index("30010101")
    for i, code in enumerate(codes):  # every count as published: NULL where hidden, its symbol beside it
        for m in services.COUNT_MEASURES:
            cell, got = report.cells[code][m], columns[m][i]
            assert (got != got) if cell.status else got == cell.value, (code, m)  # NaN is how NULL reads back
            assert (columns[f"{m}_status"][i] or None) == cell.status
    assert columns["active_children"][a] != columns["active_children"][a]  # NULL (read as NaN)
    assert columns["active_children_status"][a] == ":"
    assert {"need", "need_reach", "levekarsindeks", "uptake", "reach_status"} <= set(meta["fields"])
    import shapely

    x, y = shapely.from_wkb(geometry[a]).centroid.coords[0]
    assert 200_000 < x < 300_000 and 6_600_000 < y < 6_700_000  # 10°E 59.9°N (Oslo) in EUREF89 UTM 33
    _m, _f, _g, (keys, values) = read(path, layer="metadata")
    info = dict(zip(keys, values, strict=True))
    assert info["period"] == "2026" and info["level"] == "grunnkrets" and info["crs"] == "EPSG:25833"
    assert info["rule_version"] and info["generated_at"].startswith("20") and "NULL" in info["suppression"]
    west = _gpkg(tmp_path, gis.geopackage(report, 25832))
    assert read(west, layer="opptak_grunnkrets_2026")[0]["crs"] == "EPSG:25832"


def test_the_geopackage_from_the_page_the_api_and_the_cli(app, client, login_as, muni, world, users, tmp_path):  # noqa: F811
    login_as("analyst")
    r = client.get("/rapporter/eksport?period=2026&level=grunnkrets&format=gpkg")
    assert r.status_code == 200 and r.mimetype == "application/geopackage+sqlite3"
    assert r.data[:16] == b"SQLite format 3\x00"
    assert "GeoPackage (QGIS)" in client.get("/rapporter/?period=2026").text
    bad = client.get("/rapporter/eksport?period=2026&level=grunnkrets&format=gpkg&epsg=4326")
    assert bad.status_code == 302  # back to the report, saying which systems it writes
    raw = api_tokens.create_token(users["analyst"], "gis")[1]
    api = app.test_client().get("/api/v1/reports/uptake?period=2026&level=grunnkrets&format=gpkg&epsg=25835",
                     headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200 and api.mimetype == "application/geopackage+sqlite3", api.text
    assert read(_gpkg(tmp_path, api.data), layer="opptak_grunnkrets_2026")[0]["crs"] == "EPSG:25835"
    out = tmp_path / "cli.gpkg"
    done = app.test_cli_runner().invoke(args=["report", "uptake", "--period", "2026", "--format", "gpkg",
                                              "--output", str(out)])
    assert done.exit_code == 0, done.output
    assert read(str(out), layer="opptak_grunnkrets_2026")[0]["crs"] == "EPSG:25833"
    assert formats.EXTENSIONS["gpkg"] == "gpkg"


@pytest.fixture
def ogc_server(app, muni, world, users, other_muni, committing):  # noqa: F811
    report_jobs.build_and_store(muni, Y)
    token = api_tokens.create_token(users["analyst"], "qgis", scopes=["reports"])[1]
    partner = api_tokens.create_token(users["partner"], "door")[1]
    numbers = (muni.number, other_muni.number)
    db.session.commit()
    db.session.close()  # no transaction of the test's beside the server's (SQLite: a reader blocks a writer)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", token, partner, numbers
    server.shutdown()


def test_owslib_walks_the_ogc_api_with_an_analysts_token(ogc_server, app):
    from owslib.ogcapi.features import Features

    base, token, _partner, (number, _other) = ogc_server
    url = f"{base}/api/v1/ogc/{number}/"
    landing = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert landing.status_code == 200, landing.text[:300]
    api = Features(url, headers={"Authorization": f"Bearer {token}"})
    assert any("ogcapi-features-1/1.0/conf/core" in c for c in api.conformance()["conformsTo"])
    ids = [c["id"] for c in api.collections()["collections"]]
    assert "opptak-2026-grunnkrets" in ids and "opptak-2026-delomrade" in ids
    meta = api.collection("opptak-2026-grunnkrets")
    assert meta["extent"]["spatial"]["bbox"][0] == pytest.approx([10.0, 59.9, 10.02, 59.92])
    first = api.collection_items("opptak-2026-grunnkrets", limit=2)
    assert first["numberMatched"] == 3 and first["numberReturned"] == 2
    following = next(link["href"] for link in first["links"] if link["rel"] == "next")
    rest = requests.get(following, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert rest["numberReturned"] == 1 and any(link["rel"] == "prev" for link in rest["links"])
    assert {f["id"] for f in first["features"] + rest["features"]} == {"30010101", "30010102", "30010201"}
    boxed = api.collection_items("opptak-2026-grunnkrets", bbox=[10.0, 59.9, 10.009, 59.909])
    assert [f["id"] for f in boxed["features"]] == ["30010101"]
    one = api.collection_item("opptak-2026-grunnkrets", "30010101")
    assert one["geometry"]["type"] == "Polygon"
    from opplevelseskort.core.models import Municipality

    muni = db.session.scalar(db.select(Municipality).filter_by(number=number))
    cells = published.uptake_report(muni, Y, "grunnkrets").cells["30010101"]
    for m in services.MEASURES:  # the same figures as the page: hidden ones null with their symbol
        assert one["properties"][m] == services.shown(cells[m])
        assert one["properties"][f"{m}_status"] == cells[m].status


def test_the_ogc_api_refuses_what_it_should(ogc_server):
    base, token, partner, (number, other) = ogc_server
    auth = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{base}/api/v1/ogc/{other}/collections", headers=auth, timeout=10).status_code \
        == 404  # another municipality's collections
    assert requests.get(f"{base}/api/v1/ogc/{number}/collections/opptak-1999-grunnkrets", headers=auth,
                        timeout=10).status_code == 404
    items = f"{base}/api/v1/ogc/{number}/collections/opptak-2026-grunnkrets/items"
    assert requests.get(items + "?bbox=1,2,3", headers=auth, timeout=10).status_code == 422
    assert requests.get(items + "?limit=0", headers=auth, timeout=10).status_code == 422
    assert requests.get(items, timeout=10).status_code == 401  # no token
    assert requests.get(items, headers={"Authorization": f"Bearer {partner}"}, timeout=10).status_code == 403


def test_no_geopackage_without_zones(app, client, login_as, muni, world):  # noqa: F811
    login_as("analyst")
    r = client.get("/rapporter/eksport?period=2026-03&format=gpkg")  # a month: the municipality as a whole only
    assert r.status_code == 302  # back to the report, saying there are no zones to write


def test_an_items_page_reads_its_page_from_the_stored_features_not_the_publication(app, client, muni, world, users):  # noqa: F811
    """Issue 36 item 7: the scheduled job renders each stored year's features once per build; a page is read by
    position with LIMIT/OFFSET (the publication itself is not loaded), and a rebuild replaces the features."""
    from unittest import mock

    import sqlalchemy as sa

    from opplevelseskort.accounts import tokens as api_tokens
    from opplevelseskort.reports.models import ReportFeature

    raw = api_tokens.create_token(users["analyst"], "gis")[1]
    auth = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/reports/uptake?period=2026", headers=auth).status_code == 200  # built by its job
    assert db.session.scalar(sa.select(sa.func.count(ReportFeature.id))) == 0  # the build stores the figures only
    assert report_jobs.refresh_publications()["features"] == [f"{muni.number}:2026"]  # the schedule renders them
    assert db.session.scalar(sa.select(sa.func.count(ReportFeature.id))) >= 3
    assert report_jobs.refresh_publications()["features"] == []  # once per build
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        with mock.patch("opplevelseskort.reports.store.load", side_effect=AssertionError("the whole publication")):
            r = client.get(f"/api/v1/ogc/{muni.number}/collections/opptak-2026-grunnkrets/items?limit=1&offset=1",
                           headers=auth)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert r.status_code == 200 and r.json["numberMatched"] == 3 and r.json["numberReturned"] == 1
    assert r.json["features"][0]["id"] == "30010102"
    assert any("report_feature" in s and "position >=" in s for s in statements)  # the page, by position
    assert not any("content" in s and "report_publication" in s for s in statements)

    report_jobs.build_and_store(muni, Y)  # a rebuild: the earlier build's features go with it
    assert db.session.scalar(sa.select(sa.func.count(ReportFeature.id))) == 0
    r = client.get(f"/api/v1/ogc/{muni.number}/collections/opptak-2026-grunnkrets/items", headers=auth)
    assert r.status_code == 200 and r.json["numberMatched"] == 3  # rendered once again, for the new build
    assert db.session.scalar(sa.select(sa.func.count(ReportFeature.id))) >= 3
