"""Publications are built once by a job, stored with their data version, and read by every page, export and API
call: a request never runs the solver; new data makes the stored one stale (debounced), and a rebuild replaces it."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from opplevelseskort.checkin import services as checkin
from opplevelseskort.core import jobs
from opplevelseskort.core.models import JobRun, JobStatus
from opplevelseskort.extensions import db
from opplevelseskort.reports import jobs as report_jobs
from opplevelseskort.reports import published, services, store
from opplevelseskort.reports.models import ReportPublication

from ..conftest import login
from .test_reports import Y, world  # noqa: F401 - the fixture

PROTECT = "opplevelseskort.reports.disclosure.protect"


def _no_solver(*_a, **_kw):
    raise AssertionError("the solver ran in a request")


@pytest.fixture
def queued_app(make_app, app, tmp_path):
    """The app as production runs it: jobs go to a queue (a file here) that no worker empties during the test."""
    other = make_app(JOBS_IMMEDIATE=False, JOBS_URL=f"sqlite:///{tmp_path}/queue.sqlite3", REPORT_REFRESH_SECONDS=300)
    yield other
    jobs.init_app(app)


def test_a_year_and_its_quarters_are_built_in_one_job_and_read_back_as_built(app, muni, world):  # noqa: F811
    built = services.build_publications(muni, Y)
    whole_year = ["2026", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", *(f"2026-{m:02d}" for m in range(1, 13))]
    assert [p.period.label for p in built] == whole_year
    report_jobs.build_and_store(muni, Y)
    rows = db.session.scalars(db.select(ReportPublication.period).order_by(ReportPublication.period)).all()
    assert rows == sorted(whole_year)
    with mock.patch(PROTECT, _no_solver):
        for pub in built:
            loaded = store.load(muni, store.stored(muni, pub.period))
            assert store.dump(loaded) == store.dump(pub)  # every cell and status, every table
            assert loaded.built_at is not None


def test_a_page_with_no_stored_figures_queues_one_build_and_says_so(queued_app, muni, world, users):  # noqa: F811
    client = queued_app.test_client()
    with queued_app.app_context(), mock.patch(PROTECT, _no_solver):
        login(client, users["analyst"])
        r = client.get("/rapporter/?period=2026")
        assert r.status_code == 202 and "Tallene lages nå" in r.text
        r = client.get("/rapporter/eksport?period=2026&format=csv")
        assert r.status_code == 202
        runs = db.session.scalars(db.select(JobRun).filter_by(kind="publication_build")).all()
        assert len(runs) == 1 and runs[0].status == JobStatus.QUEUED and runs[0].params["period"] == "2026"
        assert client.get("/rapporter/status.json?period=2026").json["finished"] is False
        jobs.execute(runs[0].id)  # what the worker does
        assert client.get("/rapporter/status.json?period=2026").json["finished"] is True
        r = client.get("/rapporter/?period=2026")
        assert r.status_code == 200 and "Tallene er fra" in r.text


def test_the_api_answers_202_with_retry_after_while_the_figures_are_made(queued_app, muni, world, users):  # noqa: F811
    from opplevelseskort.accounts import tokens as api_tokens

    with queued_app.app_context():
        token = api_tokens.create_token(users["analyst"], "rapport")[1]
        r = queued_app.test_client().get("/api/v1/reports/uptake?period=2026",
                                         headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 202 and r.headers["Retry-After"] == "10"
        assert r.json["error"] == "publication_pending"


def test_new_data_is_shown_after_the_debounce_and_only_then(make_app, app, muni, world, users):  # noqa: F811
    debounced = make_app(REPORT_REFRESH_SECONDS=300)
    store._CHECKED.clear()  # what this process looked at in earlier tests
    with debounced.app_context():
        before = published.uptake_report(muni, Y, "grunnkrets").cells["total"]["checkins"].value
        version = store.data_version(muni.id)
        card = world["Bo"][1]
        from opplevelseskort.partners.models import Offer

        any_offer = db.session.scalar(db.select(Offer))
        checkin.record_checkin(card.short_code, any_offer, actor=users["partner"],
                               at=datetime(2026, 4, 2, 12, tzinfo=UTC))
        assert store.data_version(muni.id) != version  # a new check-in changes the fingerprint
        with mock.patch(PROTECT, _no_solver):  # within the debounce: the stored figures, no solve
            assert published.uptake_report(muni, Y, "grunnkrets").cells["total"]["checkins"].value == before
        assert store.due_for_refresh(muni) == []
        later = datetime.now(UTC) + timedelta(seconds=301)
        assert store.due_for_refresh(muni, now=later) == ["2026"]  # a quarter goes with its year
        with mock.patch("opplevelseskort.reports.store.utcnow", return_value=later):
            fresh = published.uptake_report(muni, Y, "grunnkrets").cells["total"]["checkins"].value
        assert fresh == before + 1


def test_the_schedule_rebuilds_changed_publications_and_builds_the_current_year(app, muni, world, users):  # noqa: F811
    result = report_jobs.refresh_publications()
    assert any(r.endswith(":" + str(datetime.now(UTC).year)) for r in result["rebuilt"])
    assert report_jobs.refresh_publications()["rebuilt"] == []  # nothing changed since: nothing rebuilt


def test_the_schedule_keeps_each_build_it_finished_when_a_later_step_fails(app, muni, world, users):  # noqa: F811
    """Each build is committed on its own (on SQLite the one write lock is held for one build at a time): a failure
    rendering the features afterwards fails the run but leaves the build stored; the next minute renders them."""
    this_year = services.periods.parse_period(str(datetime.now(UTC).year))
    assert store.stored(muni, this_year) is None
    with mock.patch("opplevelseskort.reports.features.store_features", side_effect=RuntimeError("disk full")):
        run = jobs.run_scheduled("publications")
    assert run.status == JobStatus.FAILED
    assert store.stored(muni, this_year) is not None
    assert report_jobs.refresh_publications() == {"rebuilt": [], "features": [f"{muni.number}:{this_year.label}"]}


def test_a_void_and_a_new_card_change_the_data_version(app, muni, world, users):  # noqa: F811
    from opplevelseskort.checkin.models import CheckIn

    v0 = store.data_version(muni.id)
    visit = db.session.scalar(db.select(CheckIn).limit(1))
    visit.voided_at = datetime.now(UTC)
    db.session.flush()
    v1 = store.data_version(muni.id)
    assert v1 != v0
    world["Anna"][1].revoked_at = datetime.now(UTC)  # a card revoked
    db.session.flush()
    assert store.data_version(muni.id) != v1


def test_the_dashboard_trend_reads_stored_quarters_without_solving(client, login_as, muni, world):  # noqa: F811
    login_as("analyst")
    assert client.get("/rapporter/?period=2026").status_code == 200  # builds (jobs at once here)
    with mock.patch(PROTECT, _no_solver):
        r = client.get("/rapporter/?period=2026")
        assert r.status_code == 200 and "2026-Q4" in r.text


def test_update_now_queues_a_build_once(queued_app, muni, world, users):  # noqa: F811
    client = queued_app.test_client()
    with queued_app.app_context():
        login(client, users["analyst"])
        for _ in range(3):
            r = client.post("/rapporter/oppdater", data={"period": "2026"})
            assert r.status_code == 302
        assert db.session.scalar(db.select(db.func.count(JobRun.id)).filter_by(kind="publication_build")) == 1
