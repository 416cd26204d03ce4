"""Files shaped as SSB and Geonorge publish them go in unedited: several municipalities in one file, SSB's status
symbols, unknown-grunnkrets codes, SSB's header names, PxWeb JSON-stat with roles, status and notes."""

import json

import pytest

from opplevelseskort.accounts import services as accounts
from opplevelseskort.core import municipalities
from opplevelseskort.core.errors import ImportFailed
from opplevelseskort.extensions import db
from opplevelseskort.reports import formats, periods
from opplevelseskort.reports import published as services
from opplevelseskort.reports.indicators import import_indicators, parse_column_map
from opplevelseskort.reports.models import ZoneIndicator
from opplevelseskort.zones import imports as zones
from opplevelseskort.zones.models import Zone


@pytest.fixture
def baerum_asker():
    baerum = municipalities.get_or_create_municipality("0219", "Bærum")
    asker = municipalities.get_or_create_municipality("0220", "Asker")
    zones.import_zones_csv(baerum, "code;name;level;parent\n02190101;Skui;grunnkrets;\n02190102;Hauger;grunnkrets;\n"
                                   "02190201;Bærums verk;grunnkrets;\n")
    zones.import_zones_csv(asker, "code;name;level;parent\n02200101;Heggedal;grunnkrets;\n"
                                  "02200102;Vollen;grunnkrets;\n")
    db.session.flush()
    return baerum, asker


# As SSB's statistics bank writes a table per grunnkrets for a county: "code name" labels, SSB's column names,
# its symbols for missing figures, the kommune's own total, a municipality this deployment does not serve
# (Oslo) and the "unknown grunnkrets" code.
SSB_CSV = """region;statistikkvariabel;år;verdi
"02190101 Skui";Barn 6-17 år;2024;120
"02190102 Hauger";Barn 6-17 år;2024;..
"02190201 Bærums verk";Barn 6-17 år;2024;-
"02199999 Uoppgitt grunnkrets Bærum";Barn 6-17 år;2024;7
"0219 Bærum";Barn 6-17 år;2024;9000
"02200101 Heggedal";Barn 6-17 år;2024;:
"02200102 Vollen";Barn 6-17 år;2024;88
"03010101 Sentrum";Barn 6-17 år;2024;50
"03010102 Grünerløkka";Barn 6-17 år;2024;...
"""


def _values(code, key="barn_6_17_ar"):
    return db.session.execute(db.select(ZoneIndicator.year, ZoneIndicator.value, ZoneIndicator.status)
                              .join(Zone).where(Zone.code == code, ZoneIndicator.key == key)).all()


def test_ssb_csv_for_a_county_goes_in_unedited(baerum_asker):
    result = import_indicators(SSB_CSV.encode("utf-8"), fmt="csv")
    assert result.imported == {"0219": 4, "0220": 2}
    assert result.missing == {"0219": {"..": 1, "-": 1}, "0220": {":": 1}}
    assert result.set_aside == {"0301": 2, "0219 (kommunetotal)": 1}
    assert result.unknown_zones_created == ["02199999"]
    assert _values("02190101") == [(2024, 120.0, None)]
    assert _values("02190102") == [(2024, None, "..")]
    assert _values("02200101") == [(2024, None, ":")]
    unknown = db.session.scalar(db.select(Zone).filter_by(code="02199999"))
    assert unknown.name == "Uoppgitt grunnkrets" and unknown.boundary is None
    lines = result.lines()
    assert any("0219: 4 verdier lagret, 2 av dem mangler" in line for line in lines)
    assert any("0301: 2 rader satt til side" in line for line in lines)


def test_municipality_flag_narrows_to_one(baerum_asker):
    baerum, _asker = baerum_asker
    result = import_indicators(SSB_CSV, fmt="csv", municipality=baerum)
    assert result.imported == {"0219": 4} and result.set_aside["0220"] == 2
    assert _values("02200102") == []


def test_unknown_zone_refuses_the_file_unless_skipped(baerum_asker):
    text = SSB_CSV + '"02190999 Ny krets";Barn 6-17 år;2024;5\n'
    with pytest.raises(ImportFailed) as exc:
        import_indicators(text, fmt="csv")
    assert exc.value.errors == ["Linje 11: ukjent sone 02190999 i kommune 0219."]
    assert db.session.scalar(db.select(db.func.count(ZoneIndicator.id))) == 0
    assert db.session.scalar(db.select(Zone).filter_by(code="02199999")) is None  # nothing half-written
    result = import_indicators(text, fmt="csv", skip_unknown=True)
    assert result.skipped_unknown == {"0219": (["02190999"], 1)}
    assert any("02190999" in line for line in result.lines())
    assert result.imported["0219"] == 4


def test_header_error_names_what_was_found_and_expected(baerum_asker):
    with pytest.raises(ImportFailed) as exc:
        import_indicators("sted;variabel;periode;tall\n02190101;x;2024;1\n", fmt="csv")
    message = exc.value.errors[0]
    assert "sted; variabel; periode; tall" in message and "mangler zone, year, value" in message


def test_column_mapping_takes_other_headers(baerum_asker):
    text = "sted;variabel;periode;tall\n02190101;Barn 6-17 år;2024;12\n"
    columns = parse_column_map("zone=sted,indicator=variabel,year=periode,value=tall")
    assert import_indicators(text, fmt="csv", columns=columns).imported == {"0219": 1}
    with pytest.raises(ImportFailed):
        parse_column_map("sone=sted")


def test_non_numbers_that_are_not_ssb_symbols_are_still_errors(baerum_asker):
    with pytest.raises(ImportFailed) as exc:
        import_indicators("zone;indicator;year;value\n02190101;barn;2024;mange\n", fmt="csv")
    assert "«mange» er ikke et tall eller et av SSBs symboler" in exc.value.errors[0]


# A PxWeb API answer (JSON-stat 2.0) as SSB serves it: dimensions found by role, not by name; status per cell;
# extension and note members; the kommune total with SSB's K- prefix.
PXWEB = {
    "version": "2.0", "class": "dataset", "label": "04317: Personer, etter grunnkrets, statistikkvariabel og år",
    "source": "Statistisk sentralbyrå", "updated": "2025-03-12T07:00:00Z",
    "note": ["Tall for grunnkretser kan være avrundet."],
    "role": {"time": ["Aargang"], "metric": ["Innhold"], "geo": ["Krets"]},
    "id": ["Krets", "Innhold", "Aargang"], "size": [4, 1, 2],
    "dimension": {
        "Krets": {"label": "region", "category": {
            "index": {"K-0219": 0, "02190101": 1, "G-02190102": 2, "02200101": 3},
            "label": {"K-0219": "Bærum", "02190101": "Skui", "G-02190102": "Hauger", "02200101": "Heggedal"}}},
        "Innhold": {"label": "statistikkvariabel", "category": {"index": {"Personer1": 0},
                                                                 "label": {"Personer1": "Personer"}}},
        "Aargang": {"label": "år", "category": {"index": {"2023": 0, "2024": 1}, "label": {"2023": "2023",
                                                                                          "2024": "2024"}}},
    },
    "value": [9000, 9100, 101, 102, None, None, 70, 71],
    "status": {"4": "..", "5": ":"},
    "extension": {"px": {"infofile": "None", "decimals": 0}},
}


def test_pxweb_jsonstat_goes_in_unedited(baerum_asker):
    result = import_indicators(json.dumps(PXWEB), fmt="jsonstat")
    assert result.imported == {"0219": 4, "0220": 2}
    assert result.set_aside == {"0219 (kommunetotal)": 2}
    assert _values("02190101", "personer1") == [(2023, 101.0, None), (2024, 102.0, None)]
    assert sorted(_values("02190102", "personer1")) == [(2023, None, ".."), (2024, None, ":")]


def test_jsonstat_names_the_dimensions_it_could_not_find(baerum_asker):
    doc = {**PXWEB, "role": {}}
    with pytest.raises(ImportFailed) as exc:
        import_indicators(json.dumps(doc), fmt="jsonstat")
    assert "Krets, Innhold, Aargang" in exc.value.errors[0]


def test_status_symbols_reach_pages_and_exports(baerum_asker, client, users):
    from ..conftest import login

    baerum, _asker = baerum_asker
    import_indicators("zone;indicator;year;value\n02190101;children_6_17;2026;..\n02190102;children_6_17;2026;40\n"
                      "02190101;low_income_children_share;2026;:\n", fmt="csv")
    rep = services.uptake_report(baerum, periods.parse_period("2026"), "grunnkrets")
    assert rep.cells["02190101"]["reach"].status == ".."
    assert rep.cells["total"]["reach"].status == ".."
    doc = formats.jsonstat(rep)
    measures = doc["dimension"]["measure"]["category"]["index"]
    idx = 0 * len(measures) + measures.index("reach")
    assert doc["status"][str(idx)] == ".." and doc["value"][idx] is None
    assert ";.." in "".join(formats.csv_rows(rep))
    analyst = accounts.create_user("a@baerum.no", "gront eple 47", "analyst", municipality_id=baerum.id)
    login(client, analyst)
    page = client.get("/rapporter/?period=2026")
    assert page.status_code == 200 and "«..» ikke tilgjengelig" in page.text


def test_cli_imports_a_county_file_and_prints_the_summary(app, baerum_asker, tmp_path):
    path = tmp_path / "ssb.csv"
    path.write_text(SSB_CSV + '"02190999 Ny krets";Barn 6-17 år;2024;5\n', encoding="utf-8")
    runner = app.test_cli_runner()
    done = runner.invoke(args=["report", "indicators", "import", str(path), "--skip-unknown"])
    assert done.exit_code == 0, done.output
    assert "6 values imported" in done.output and "0301: 2 rader satt til side" in done.output
    assert "02190999" in done.output
    # (last: the refused run rolls back, and in this test the fixtures share its connection)
    refused = runner.invoke(args=["report", "indicators", "import", str(path)])
    assert refused.exit_code == 1 and "ukjent sone 02190999" in refused.output


def test_indicator_page_offers_skip_unknown_and_shows_the_summary(client, users, baerum_asker):
    import io

    from ..conftest import login

    login(client, users["admin"])
    text = (SSB_CSV + '"02190999 Ny krets";Barn 6-17 år;2024;5\n').encode()
    r = client.post("/rapporter/indikatorer", content_type="multipart/form-data",
                    data={"kind": "csv", "file": (io.BytesIO(text), "ssb.csv")}, follow_redirects=True)
    assert r.status_code == 422 and "ukjent sone 02190999" in r.text
    r = client.post("/rapporter/indikatorer", content_type="multipart/form-data",
                    data={"kind": "csv", "skip_unknown": "y", "file": (io.BytesIO(text), "ssb.csv")},
                    follow_redirects=True)
    assert r.status_code == 200 and "Resultat av importen" in r.text and "02190999" in r.text


def test_combined_geojson_takes_only_the_municipality_asked_for(baerum_asker):
    baerum, _asker = baerum_asker

    def feat(code, komm):
        return {"type": "Feature", "properties": {"grunnkretsnummer": code, "grunnkretsnavn": f"Krets {code}",
                                                  "kommunenummer": komm},
                "geometry": {"type": "Polygon", "coordinates": [[[10.5, 59.9], [10.51, 59.9], [10.51, 59.91],
                                                                 [10.5, 59.91], [10.5, 59.9]]]}}

    doc = {"type": "FeatureCollection", "features": [feat("02190301", "0219"), feat("02200301", "0220"),
                                                     feat("02200302", "0220")]}
    result = zones.import_zones_geojson(baerum, json.dumps(doc), code_property="grunnkretsnummer",
                                        name_property="grunnkretsnavn", level="grunnkrets")
    assert result.created == 1 and result.set_aside == {"0220": 2}
    assert db.session.scalar(db.select(Zone).filter_by(code="02200301")) is None
    only_other = {"type": "FeatureCollection", "features": [feat("02200303", "0220")]}
    with pytest.raises(ImportFailed) as exc:
        zones.import_zones_geojson(baerum, json.dumps(only_other), code_property="grunnkretsnummer",
                                   name_property="grunnkretsnavn", level="grunnkrets")
    assert "0219" in exc.value.errors[0] and "0220: 1" in exc.value.errors[0]


def test_geonorge_county_file_in_utm33_through_the_cli(app, data_dir, tmp_path):
    """A Geonorge-style county file (EPSG:25833) with two municipalities: the CLI imports one, counts the other."""
    doc = json.loads((data_dir / "grunnkretser_25833.geojson").read_text())
    others = json.loads(json.dumps(doc["features"][:2]))
    for i, feat in enumerate(others):
        feat["properties"].update(grunnkretsnummer=f"3403010{i + 1}", kommunenummer="3403")
    doc["features"] += others
    path = tmp_path / "county.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=[
        "zones", "import", str(path), "--municipality", "3401", "--code-property", "grunnkretsnummer",
        "--name-property", "grunnkretsnavn", "--level", "grunnkrets"])
    assert result.exit_code == 0, result.output
    assert "4 created" in result.output and "set aside (other municipalities): 3403: 2" in result.output
    assert db.session.scalar(db.select(db.func.count(Zone.id)).where(Zone.code.like("3403%"))) == 0


def test_a_code_of_another_municipality_under_this_ones_number_is_refused(baerum_asker):
    baerum, _asker = baerum_asker
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"grunnkretsnummer": "02200401", "grunnkretsnavn": "Feil", "kommunenummer": "0219"},
        "geometry": {"type": "Polygon", "coordinates": [[[10.5, 59.9], [10.51, 59.9], [10.51, 59.91], [10.5, 59.91],
                                                         [10.5, 59.9]]]}}]}
    with pytest.raises(ImportFailed) as exc:
        zones.import_zones_geojson(baerum, json.dumps(doc), code_property="grunnkretsnummer",
                                   name_property="grunnkretsnavn", level="grunnkrets")
    assert "koden 02200401 hører til kommune 0220, men objektet sier kommune 0219" in exc.value.errors[0]


def test_an_indicator_import_reports_its_progress_to_the_end(baerum_asker):
    from opplevelseskort.reports.indicators import import_indicators

    seen = []
    import_indicators(SSB_CSV.encode(), fmt="csv", skip_unknown=True, progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1] > 0
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)


# SSB's statistics bank, "semikolonseparert med overskrift", wide: one column per variable and year, as
# downloaded (quoted headers, "code name" regions, a comma as decimal mark, SSB's symbols).
SSB_WIDE = ('"region";"Personer i husholdninger med vedvarende lav inntekt. Andel (%) 2018";'
            '"Personer i husholdninger med vedvarende lav inntekt. Andel (%) 2019";"Barn 0-17 år 2019"\n'
            '"02190101 Skui";"7,4";"7,9";"310"\n'
            '"02190102 Hauger";":";"12,1";"95"\n'
            '"0301 Oslo";"10,2";"10,6";"120000"\n')


def test_ssbs_wide_pxweb_csv_is_imported_unedited(baerum_asker):
    baerum, _asker = baerum_asker
    result = import_indicators(SSB_WIDE, fmt="csv")
    assert result.imported["0219"] == 6 and result.set_aside["0301"] == 3
    got = {(i.zone.code, i.key, i.year): (i.value, i.status) for i in db.session.scalars(db.select(ZoneIndicator))}
    key = "personer_i_husholdninger_med_vedvarende_lav_inntekt_andel"
    assert got[("02190101", key, 2018)] == (7.4, None) and got[("02190101", key, 2019)] == (7.9, None)
    assert got[("02190102", key, 2018)] == (None, ":") and got[("02190102", "barn_0_17_ar", 2019)] == (95.0, None)


def test_a_wide_column_without_a_year_is_named_and_nothing_is_written(baerum_asker):
    with pytest.raises(ImportFailed) as exc:
        import_indicators('"region";"Andel (%) 2018";"Merknad"\n"02190101 Skui";"7,4";"x"\n', fmt="csv")
    assert "«Merknad»" in exc.value.errors[0]
    assert db.session.scalar(db.select(db.func.count(ZoneIndicator.id))) == 0


def test_a_nil_numerator_beside_a_value_keeps_its_symbol(baerum_asker):
    import_indicators("zone;indicator;year;value;numerator;denominator\n02190101;lavinntekt;2024;0;-;120\n"
                      "02190102;lavinntekt;2024;12,5;..;80\n", fmt="csv")
    rows = {i.zone.code: i for i in db.session.scalars(db.select(ZoneIndicator))}
    assert (rows["02190101"].value, rows["02190101"].numerator, rows["02190101"].numerator_status) == (0.0, None, "-")
    assert rows["02190102"].numerator_status == ".." and rows["02190102"].denominator == 80.0
    assert rows["02190101"].status is None  # the value itself is there


def test_a_wide_file_streamed_from_an_upload_reads_the_same(baerum_asker):
    import io

    class Stream(io.RawIOBase):  # an upload read a line at a time, not seekable (the job's stored chunks)
        def __init__(self, data):
            self.inner = io.BytesIO(data)

        def readline(self, limit=-1):
            return self.inner.readline(limit)

        def seekable(self):
            return False

    result = import_indicators(Stream(SSB_WIDE.encode("utf-8")), fmt="csv")
    assert result.imported["0219"] == 6
