"""Values checked at the boundary (issue 37, item 6): every number imported or typed is finite and in its range,
refused by line; a job never ends "running" on an unexpected error; filenames in Content-Disposition are built
from validated parts only."""

from __future__ import annotations

from datetime import date

import pytest

from opplevelseskort.core import jobs
from opplevelseskort.core import municipalities as services
from opplevelseskort.core.errors import ImportFailed
from opplevelseskort.core.models import JobRun, JobStatus, Municipality
from opplevelseskort.extensions import db
from opplevelseskort.reports import levekar
from opplevelseskort.reports import services as reports
from opplevelseskort.reports.models import ImportedIndex, ZoneIndicator


def _settings_problems(muni, admin, period: str) -> dict:
    from opplevelseskort.core.errors import DomainError

    try:
        services.update_municipality_settings(muni, actor=admin, contact_line="", sms_sender="",
                                              default_report_period=period, support_email="")
    except DomainError as exc:
        return dict(exc.details.get("fields") or {}) or {"default_report_period": exc.message}
    return {}


@pytest.mark.parametrize("bad", ["nan", "NaN", "inf", "-inf", "1e308", "-5"])
def test_an_own_index_refuses_a_value_no_page_can_show_by_line(muni, zone_set, bad):
    data = f'"region";"Indeks 2023";"Lavinntekt 2023"\n"30010101 Elvekanten";"6,2";"7"\n"30010102 Bakken";"{bad}";"2"\n'
    with pytest.raises(ImportFailed) as exc:
        levekar.import_own_index(muni, data, fmt="csv", method="M", method_version="1", actor=None)
    assert any("Linje 3" in e for e in exc.value.errors), exc.value.errors
    assert db.session.scalar(db.select(db.func.count(ImportedIndex.id))) == 0


@pytest.mark.parametrize("bad", ["nan", "inf", "1e400", "-1e13"])
def test_an_indicator_refuses_a_value_that_is_not_a_finite_number(muni, zone_set, bad):
    with pytest.raises(ImportFailed) as exc:
        reports.import_indicators_csv(muni, f"zone;indicator;year;value\n30010101;lavinntekt;2024;{bad}\n")
    assert any("endelig tall" in e and "Linje 2" in e for e in exc.value.errors), exc.value.errors
    assert db.session.scalar(db.select(db.func.count(ZoneIndicator.id))) == 0


def test_a_default_report_period_outside_the_reports_years_is_refused_and_an_old_one_never_breaks_the_page(
        client, login_as, muni, zone_set, users):
    problems = _settings_problems(muni, users["admin"], "9999")
    assert "default_report_period" in problems and "2000" in problems["default_report_period"]
    assert not _settings_problems(muni, users["admin"], "2026-Q1")
    muni.default_report_period = "9999"  # saved before the rule
    db.session.commit()
    login_as("analyst")
    page = client.get("/rapporter/")
    assert page.status_code == 200 and f'value="{date.today().year}"' in page.text  # this year instead


def test_a_period_with_a_line_break_never_reaches_a_header(client, login_as, muni, zone_set):
    login_as("analyst")
    r = client.get("/rapporter/eksport?period=2026%0A&format=csv")
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == 'attachment; filename="opptak-grunnkrets-2026.csv"'
    r = client.get('/rapporter/eksport?period=2026"x&format=csv')
    assert r.status_code == 302  # back to the report page, which says what is wrong with the period


def test_a_job_whose_writes_the_database_refuses_at_the_end_fails_and_says_so(make_app, app, committing, tmp_path):
    @jobs.job("test_refused_at_commit")
    def _bad(run):
        db.session.add(Municipality(number=None, name="Uten nummer"))  # NOT NULL: refused when committed
        return {}

    worker = make_app(JOBS_IMMEDIATE=False, JOBS_URL=f"sqlite:///{tmp_path}/queue.sqlite3")
    try:
        with worker.app_context():
            run = JobRun(kind="test_refused_at_commit", params={})
            db.session.add(run)
            db.session.commit()
            db.session.autoflush = False
            try:
                jobs.execute(run.id)
            finally:
                db.session.autoflush = True
            db.session.expire_all()
            done = db.session.get(JobRun, run.id)
            assert done.status == JobStatus.FAILED and "uventet feil" in done.errors[0]
    finally:
        jobs._JOBS.pop("test_refused_at_commit", None)
        jobs.init_app(app)
