"""Uploads kept on the server have a quota per user and per municipality; a failed import's file is deleted when
it fails; a failed job keeps its first 1,000 problems on its page and the whole list as a CSV (issue 37, items 4,
5 and 8)."""

from __future__ import annotations

import io

import sqlalchemy as sa

from opplevelseskort.core import jobs, uploads
from opplevelseskort.core.models import JobRun, JobStatus
from opplevelseskort.extensions import db

from ..cards.test_applications_import import HEADER, _row


def _upload(client, text: str, dry_run: bool = True):
    data = {"file": (io.BytesIO(text.encode()), "h.csv")}
    if dry_run:
        data["dry_run"] = "y"
    return client.post("/barn/import", data=data, content_type="multipart/form-data")


def _kept(user) -> tuple[int, int]:
    return uploads.stored_uploads([user.id])


def test_a_users_kept_uploads_have_a_quota_with_a_clear_message(app, client, login_as, zone_set, users):
    app.config.update(UPLOAD_QUOTA_FILES=2)
    try:
        login_as("caseworker")
        for _i in range(2):  # dry runs: each file is kept for "import now"
            assert _upload(client, "\n".join([HEADER, _row()])).status_code == 302
        assert _kept(users["caseworker"])[0] == 2
        r = _upload(client, "\n".join([HEADER, _row()]))
        assert r.status_code == 422 and "grensen er 2 filer" in r.text
        assert _kept(users["caseworker"])[0] == 2  # the refused file is not kept
        assert db.session.scalar(sa.select(sa.func.count(JobRun.id)).where(JobRun.kind == "household_import")) == 2
        login_as("admin")  # another person of the same municipality is not held up by the first one's files
        assert _upload(client, "\n".join([HEADER, _row()])).status_code == 302
    finally:
        app.config.update(UPLOAD_QUOTA_FILES=4)


def test_a_municipalitys_kept_uploads_have_a_quota_in_bytes(app, client, login_as, zone_set, users):
    body = "\n".join([HEADER, *[_row() for _i in range(30)]])
    app.config.update(UPLOAD_QUOTA_MUNICIPALITY_BYTES=len(body) * 2 + 10, UPLOAD_QUOTA_FILES=10)
    try:
        login_as("caseworker")
        assert _upload(client, body).status_code == 302
        assert _upload(client, body).status_code == 302
        r = _upload(client, body)
        assert r.status_code == 422 and "Kommunen har" in r.text
    finally:
        app.config.update(UPLOAD_QUOTA_MUNICIPALITY_BYTES=1024 ** 3, UPLOAD_QUOTA_FILES=4)


def test_a_failed_imports_file_is_deleted_when_it_fails(client, login_as, zone_set, users):
    login_as("caseworker")
    r = _upload(client, "\n".join([HEADER, _row(birth_year="tjue")]))
    run = db.session.scalar(sa.select(JobRun).where(JobRun.kind == "household_import"))
    assert run.status == JobStatus.FAILED
    assert _kept(users["caseworker"]) == (0, 0)  # children's data does not wait 24 hours
    assert r.status_code == 302


def test_a_long_list_of_problems_is_cut_on_the_page_and_whole_in_a_csv(client, login_as, zone_set, users):
    login_as("analyst")
    rows = [f"3001{i:04d}77;lavinntekt;2024;1" for i in range(1500)]  # 1,500 unknown zones
    r = client.post("/rapporter/indikatorer", data={"kind": "csv", "file": (io.BytesIO(
        "\n".join(["zone;indicator;year;value", *rows]).encode()), "i.csv")}, content_type="multipart/form-data")
    run = db.session.scalar(sa.select(JobRun).where(JobRun.kind == "indicator_import"))
    assert run.status == JobStatus.FAILED
    total = run.result["errors_total"]
    assert total >= 1500 and len(run.errors) == jobs.ERRORS_KEPT + 1 and "i alt" in run.errors[-1]
    page = client.get(r.headers["Location"])
    assert page.status_code == 422 and f"/jobber/{run.id}/feil.csv" in page.text
    assert page.text.count("ukjent sone") <= jobs.ERRORS_KEPT
    whole = client.get(f"/jobber/{run.id}/feil.csv")
    assert whole.status_code == 200 and len(whole.data.decode("utf-8-sig").strip().splitlines()) == total + 1
    assert _kept(users["analyst"]) == (0, 0)  # the failed import's file is gone already
    login_as("caseworker")  # somebody else's job: not found
    assert client.get(f"/jobber/{run.id}/feil.csv").status_code == 404


def test_the_admin_jobs_page_shows_lanes_uploads_and_quotas(client, login_as, zone_set, users):
    login_as("caseworker")
    body = "\n".join([HEADER, *[_row(given_name=f"B{i}") for i in range(3)]])
    assert _upload(client, body).status_code == 302  # a dry run: its file is kept for "import now"
    login_as("admin")
    page = client.get("/admin/jobber").text
    assert "Opplastede filer som venter" in page and "caseworker@test.no: 1" in page
    assert "Grense per person: 4 filer" in page and "Jobber som kjører eller venter" in page
