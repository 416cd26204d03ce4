"""A municipality's own levekårsindeks imported as published (issue 28, item 2): index and sub-scores per zone and
year, with the method's name and version, from CSV (long or SSB's wide layout) or JSON-stat; all or nothing."""

import json

import pytest

from opplevelseskort.core.errors import ImportFailed
from opplevelseskort.core.models import AuditLog
from opplevelseskort.extensions import db
from opplevelseskort.reports import levekar
from opplevelseskort.reports.models import ImportedIndex

# Drammen-style: the index and its sub-scores per grunnkrets, one column per variable and year (SSB's wide layout)
WIDE = ('"region";"Indeks 2023";"Lavinntekt 2023";"Trangboddhet 2023"\n'
        '"30010101 Elvekanten";"6,2";"7";"5"\n'
        '"30010102 Bakken";"3,1";"2";":"\n'
        '"30010201 Skogen";"..";"4";"3"\n')


def test_an_own_index_is_imported_with_its_sub_scores_method_and_version(app, muni, zone_set, users):
    n = levekar.import_own_index(muni, WIDE, fmt="csv", method="Testby levekårsindeks", method_version="2023",
                                 actor=users["analyst"])
    assert n == 3
    rows = {r.zone.code: r for r in db.session.scalars(db.select(ImportedIndex))}
    assert (rows["30010101"].value, rows["30010101"].sub_scores) == (6.2, {"lavinntekt": 7.0, "trangboddhet": 5.0})
    assert rows["30010102"].sub_scores == {"lavinntekt": 2.0, "trangboddhet": None}  # SSB's ":" kept as missing
    assert rows["30010201"].value is None and rows["30010201"].status == ".."
    assert {(r.method, r.method_version, r.year) for r in rows.values()} == {("Testby levekårsindeks", "2023", 2023)}
    assert db.session.scalar(db.select(AuditLog).filter_by(action="index.import"))
    [table] = levekar.imported_indices(muni, 2023)
    assert [r.zone.code for r in table.rows] == ["30010101", "30010102", "30010201"]  # highest index first
    # the same method and version again replaces its values; another version stands beside it
    levekar.import_own_index(muni, WIDE.replace('"6,2"', '"6,4"'), fmt="csv", method="Testby levekårsindeks",
                             method_version="2023", actor=None)
    levekar.import_own_index(muni, WIDE, fmt="csv", method="Testby levekårsindeks", method_version="2024", actor=None)
    assert db.session.scalar(db.select(db.func.count(ImportedIndex.id))) == 6
    assert [t.method_version for t in levekar.imported_indices(muni, 2023)] == ["2023", "2024"]


def test_long_csv_and_json_stat_read_the_same(app, muni, zone_set):
    long = ("zone;indicator;year;value\n30010101;indeks;2022;5,5\n30010101;lavinntekt;2022;6\n"
            "30010102;indeks;2022;4\n")
    assert levekar.import_own_index(muni, long, fmt="csv", method="M", method_version="1", actor=None) == 2
    doc = {"version": "2.0", "class": "dataset", "id": ["region", "contents", "tid"], "size": [1, 2, 1],
           "role": {"geo": ["region"], "time": ["tid"], "metric": ["contents"]},
           "dimension": {"region": {"category": {"index": {"30010201": 0}}},
                         "contents": {"category": {"index": {"Indeks": 0, "Utdanning": 1}}},
                         "tid": {"category": {"index": {"2022": 0}}}},
           "value": [3.3, 8]}
    assert levekar.import_own_index(muni, json.dumps(doc), fmt="jsonstat", method="M", method_version="2",
                                    actor=None) == 1
    row = db.session.scalar(db.select(ImportedIndex).filter_by(method_version="2"))
    assert (row.zone.code, row.value, row.sub_scores) == ("30010201", 3.3, {"utdanning": 8.0})


@pytest.mark.parametrize(("data", "says"), [
    ("zone;indicator;year;value\n99999999;indeks;2022;5\n", "ukjent sone 99999999"),
    ("zone;indicator;year;value\n30010101;lavinntekt;2022;5\n", "ingen indeks for 2022"),
    ("zone;indicator;year;value\n30010101;indeks;2022;mye\n", "ikke et tall"),
])
def test_a_bad_file_is_refused_whole_and_says_why(app, muni, zone_set, data, says):
    good = "zone;indicator;year;value\n30010102;indeks;2022;4\n"
    with pytest.raises(ImportFailed) as exc:
        levekar.import_own_index(muni, good + data.split("\n", 1)[1], fmt="csv", method="M", method_version="1",
                                 actor=None)
    assert any(says in e for e in exc.value.errors), exc.value.errors
    assert db.session.scalar(db.select(db.func.count(ImportedIndex.id))) == 0
    with pytest.raises(ImportFailed) as exc:
        levekar.import_own_index(muni, good, fmt="csv", method="", method_version="1", actor=None)
    assert "navn og versjon" in exc.value.errors[0]


def test_the_page_imports_through_a_job_and_shows_the_table(client, login_as, muni, zone_set):
    import io

    login_as("analyst")
    page = client.get("/rapporter/levekarsindeks")
    assert "Importer kommunens egen indeks" in page.text
    r = client.post("/rapporter/levekarsindeks/import", data={
        "method": "Testby levekårsindeks", "method_version": "2023", "kind": "csv",
        "file": (io.BytesIO(WIDE.encode("utf-8")), "indeks.csv")}, content_type="multipart/form-data")
    assert r.status_code == 302 and "/jobber/" in r.headers["Location"]
    assert db.session.scalar(db.select(db.func.count(ImportedIndex.id))) == 3  # the test app runs jobs at once
    shown = client.get("/rapporter/levekarsindeks?year=2023").text
    assert "Testby levekårsindeks, versjon 2023, 2023" in shown and "lavinntekt" in shown


def test_the_cli_imports_an_own_index(app, muni, zone_set, tmp_path):
    path = tmp_path / "indeks.csv"
    path.write_text(WIDE, encoding="utf-8")
    done = app.test_cli_runner().invoke(args=["report", "index-import", str(path), "--method", "Testby",
                                              "--method-version", "2023"])
    assert done.exit_code == 0, done.output
    assert "3 index values imported" in done.output
