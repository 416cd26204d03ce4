"""The analysts' dashboard (map, table, trends, reach against low income), exports and the grant report."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..core import jobs, nav, tenancy, uploads
from ..core.clock import today
from ..core.errors import DomainError
from ..core.exports import attachment
from ..core.forms import ActionForm
from ..core.guards import form_page, year_arg
from ..core.labels import label
from ..core.models import Role
from ..core.permissions import roles_required
from ..core.uow import refused
from ..zones import jobs as zone_jobs
from . import compare as versions
from . import council, formats, gis, levekar, need, periods, published, services, store
from . import jobs as report_jobs
from .forms import (
    CompareForm,
    CorrespondenceImportForm,
    IndicatorImportForm,
    NeedFilterForm,
    OwnIndexImportForm,
    ReportFilterForm,
)

bp = Blueprint("reports", __name__)
READERS = (Role.ANALYST, Role.ADMIN)
NEED_READERS = (Role.CASEWORKER, Role.ANALYST, Role.ADMIN)  # caseworkers plan where to go


def _municipality():
    """The municipality the report is about. An admin over several municipalities who has not said which is sent
    to choose (and back), never left with an error page."""
    number = request.args.get("municipality")
    if not number:
        _muni, choose = tenancy.municipality_or_choose()
        if choose is not None:
            abort(choose)
    return published.municipality_for(current_user, number)


def _filters():
    form = ReportFilterForm(request.args)
    muni = _municipality()
    period_text = form.period.data or periods.default_period(muni)
    levels = published.levels_to_choose(muni, period_text)
    # a shorter period than a year is published for the municipality as a whole (the plan): no level to choose
    form.level.choices = [(lv, label("zone_level", lv)) for lv in levels] or [("", _("Hele kommunen"))]
    level = form.level.data if form.level.data in levels else ("grunnkrets" if "grunnkrets" in levels else
                                                                (levels[0] if levels else ""))
    form.period.data, form.level.data = period_text, level
    return form, muni, period_text, level


@bp.errorhandler(store.PublicationPending)
def _pending(exc: store.PublicationPending):
    """No stored publication for the period yet: its build is queued (and committed); this page follows it and
    reloads when the figures are ready."""
    args = {k: v for k, v in request.args.items() if k in ("municipality",)}
    return render_template("reports/pending.html", period=exc.period,
                           status_url=url_for("reports.build_status", period=exc.period.label, **args)), 202


@bp.get("/status.json")
@roles_required(*READERS)
def build_status():
    """What the waiting page polls: finished once the period's publication is stored."""
    with refused(status=422):
        state = store.build_state(_municipality(), periods.parse_period(request.args.get("period") or str(today().year)))
    response = jsonify(state)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/oppdater")
@roles_required(*READERS)
def refresh():
    """An analyst asks for the figures to be made again now (new data since "as of"): one build per period at a
    time, however often the button is pressed."""
    form = ReportFilterForm(request.form)
    period_text = form.period.data or str(today().year)
    with refused(redirect_to=url_for("reports.dashboard")):
        if not ActionForm().validate_on_submit():
            raise DomainError("form_invalid", _("Skjemaet var for gammelt. Prøv igjen."))
        services.request_build(_municipality(), periods.parse_period(period_text), actor=current_user)
    flash(_("Tallene for %(period)s lages på nytt. Last inn siden om litt.", period=period_text), "success")
    return redirect(url_for("reports.dashboard", period=period_text, level=form.level.data or None))


@bp.get("/")
@roles_required(*READERS)
def dashboard():
    form, muni, period_text, level = _filters()

    def no_report(errors):
        for message in errors:
            flash(message, "error")
        return render_template("reports/dashboard.html", form=form, report=None, measures=services.MEASURES)

    with refused(no_report):
        period = periods.parse_period(period_text)
        report = published.uptake_report(muni, period, level) if level else published.municipality_report(muni, period)
    year = report.period.start.year
    trend = []
    for q in range(1, 5):
        total = services.publication(muni, periods.parse_period(f"{year}-Q{q}")).municipality_row.cells["total"]
        trend.append((f"{year}-Q{q}", services.shown(total["children_with_card"]), services.shown(total["active_children"]),
                      services.shown(total["checkins"])))
    return render_template("reports/dashboard.html", form=form, report=report, measures=services.MEASURES,
                           trend=trend, reach_rows=published.reach_vs_low_income(report, year),
                           as_of=services.publication(muni, period).built_at,
                           plan=published.plan_for(muni),
                           geo_url=url_for("reports.export", format="geojson", period=period_text, level=level),
                           tile_url=current_app.config.get("MAP_TILE_URL", ""))


@bp.get("/eksport")
@roles_required(*READERS)
def export():
    _form, muni, period_text, level = _filters()
    fmt = request.args.get("format", "csv")
    with refused(redirect_to=url_for("reports.dashboard")):
        period = periods.parse_period(period_text)
        report = published.uptake_report(muni, period, level) if level else published.municipality_report(muni, period)
        body, mimetype = formats.render(report, fmt, "," if request.args.get("sep") == "comma" else ";",
                                        epsg=request.args.get("epsg", 25833, type=int))
    headers = attachment("opptak", level or "kommune", period.label, ext=formats.EXTENSIONS[fmt])
    if fmt == "csv":
        return Response(stream_with_context(body), content_type=mimetype, headers=headers)
    return Response(body, content_type=mimetype, headers=headers)


@bp.get("/tilskudd")
@roles_required(*READERS)
def grant():
    muni = _municipality()
    year = year_arg()
    data = published.grant_report(muni, year)
    as_of = services.publication(muni, periods.parse_period(str(year))).built_at
    if request.args.get("format") == "csv":
        return Response(formats.grant_csv(data), content_type="text/csv; charset=utf-8",
                        headers=attachment("tilskuddsrapport", year, ext="csv"))
    return render_template("reports/grant.html", data=data, year=year, muni=muni, as_of=as_of)


@bp.route("/indikatorer", methods=["GET", "POST"])
@roles_required(*READERS)
def indicators():
    form = IndicatorImportForm()
    if form.validate_on_submit():
        upload = uploads.keep_upload("indicators", current_user, form.file.data.stream)
        run = jobs.start(report_jobs.indicator_import, actor=current_user,
                         municipality_id=current_user.municipality_id, upload=upload, fmt=form.kind.data,
                         skip_unknown=bool(form.skip_unknown.data), back="reports.indicators")
        return redirect(url_for("core.job_page", run_id=run.id))
    return form_page("reports/indicators.html", form, summary=[])


@bp.route("/levekarsindeks", methods=["GET", "POST"])
@roles_required(*READERS)
def living_conditions_index():
    """The levekårsindeks per zone by SSB's method from the imported indicators: each indicator's decile score,
    the index, the method's version with its weights; a change of weights or indicators is a new version."""
    muni = _municipality()
    years = levekar.years_of(muni)
    year = request.args.get("year", type=int) or (years[0] if years else today().year)
    method = levekar.current_method(muni)
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        chosen = [{"key": k, "weight": request.form.get(f"weight-{k}", "1").replace(",", "."),
                   "higher_is_worse": request.form.get(f"direction-{k}", "higher") == "higher"}
                  for k in levekar.available_keys(muni) if request.form.get(f"use-{k}")]
        back = url_for("reports.living_conditions_index", year=year)
        with refused(redirect_to=back):
            saved = levekar.save_method(muni, [_weight(c) for c in chosen], actor=current_user)
        flash(_("Metoden er lagret som versjon %(n)d.", n=saved.version), "success")
        return redirect(back)

    levels = levekar.levels(muni)
    level = request.args.get("level") if request.args.get("level") in levels else (levels[0] if levels else None)

    def page(errors=()):
        return render_template("reports/levekar.html", muni=muni, years=years, year=year, method=method,
                               table=table, keys=levekar.available_keys(muni), errors=list(errors),
                               action_form=ActionForm(), imported=levekar.imported_indices(muni, year),
                               import_form=OwnIndexImportForm(formdata=None), levels=levels, level=level,
                               designated=levekar.living_conditions, min_indicators=levekar.MIN_INDICATORS)

    table = None
    with refused(lambda errors: page(errors)):
        table = levekar.compute(muni, year, method, level) if years else None
    return page()


@bp.get("/arsrapport.pdf")
@roles_required(*READERS)
def council_report():
    """The yearly report for the council (PDF, bokmål): map of reach, need beside reach, trend, index, method."""
    muni = _municipality()
    year = year_arg()
    with refused(redirect_to=url_for("reports.dashboard", period=year)):
        body = council.council_pdf(muni, year)
    return Response(body, content_type="application/pdf", headers={
        **attachment("opplevelseskortet", muni.number, year, ext="pdf")})


@bp.get("/sammenlign")
@roles_required(*READERS)
def compare():
    """An indicator of one year beside a later year, across zone versions through a change list."""
    muni = _municipality()
    form = CompareForm(request.args)
    keys = need.indicator_keys(muni)
    choices = [(f"uptake:{m}", label("measure", m)) for m in versions.UPTAKE_MEASURES]
    choices += [("index", _("Levekårsindeks"))] + [(k, k) for k in keys]
    form.indicator.choices = choices
    levels = published.levels_of(muni)
    form.level.choices = [(lv, label("zone_level", lv)) for lv in levels] or [("", "–")]
    form.validate()
    rows = None
    what = form.indicator.data or ""
    source, key = ("uptake", what.split(":", 1)[1]) if what.startswith("uptake:") else \
        (("index", "") if what == "index" else ("indicator", what))

    def page(errors=()):
        return render_template("reports/compare.html", form=form, rows=rows, errors=list(errors),
                               import_form=CorrespondenceImportForm(formdata=None))

    if what in {c for c, _l in choices} and form.before.data and form.after.data and not form.errors:
        with refused(lambda errors: page(errors)):
            rows = versions.compare(muni, key, form.before.data, form.after.data, source=source,
                                    level=form.level.data or "grunnkrets")
    return page()


@bp.post("/sammenlign/koblinger")
@roles_required(*READERS)
def correspondence_import():
    """A change list between two zone versions, as a job: all rows or none."""
    return _upload_job(CorrespondenceImportForm(), zone_jobs.correspondence_import, back="reports.compare",
                       upload_kind="correspondence", fields={"from_version": "from_version", "to_version": "to_version"})


def _upload_job(form, job, *, back: str, upload_kind: str, fields: dict[str, str]):
    """An uploaded file for the municipality, read by `job` with its parameters from the form's fields
    (`fields`: parameter -> field); the page follows the job. A form that does not validate goes back, saying
    what is missing."""
    muni = _municipality()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for(back))
    upload = uploads.keep_upload(upload_kind, current_user, form.file.data.stream)
    run = jobs.start(job, actor=current_user, municipality_id=muni.id, upload=upload, back=back,
                     **{param: getattr(form, name).data for param, name in fields.items()})
    return redirect(url_for("core.job_page", run_id=run.id))


@bp.get("/qgis")
@roles_required(*READERS)
def qgis_guide():
    """How to open the figures in QGIS: the GeoPackage, or a live connection to the OGC API."""
    muni = _municipality()
    return render_template("reports/qgis.html", muni=muni, years=gis.published_years(muni),
                           ogc_url=request.host_url.rstrip("/") + url_for("api.ogc_landing", municipality=muni.number))


@bp.get("/behov")
@roles_required(*NEED_READERS)
def need_page():
    """Need beside uptake per zone: children in need (from the indicator chosen), cards, active children, reach
    with its interval, and the zones to go to first."""
    muni = _municipality()
    form = NeedFilterForm(request.args)
    keys = need.indicator_keys(muni)
    form.indicator.choices = [(k, label("indicator", k)) for k in keys] or [("", _("Ingen indikatorer importert"))]
    levels = published.levels_to_choose(muni, str(form.year.data or today().year))
    form.level.choices = [(lv, label("zone_level", lv)) for lv in levels]
    form.validate()
    key = form.indicator.data if form.indicator.data in keys else need.default_key(keys)
    year = form.year.data if form.year.data and not form.year.errors else today().year
    pool = int(form.pool.data) if form.pool.data in ("1", "2", "3") else 1
    level = form.level.data if form.level.data in levels else (levels[-1] if len(levels) > 1 else
                                                               (levels[0] if levels else ""))
    form.year.data, form.level.data, form.indicator.data, form.pool.data = year, level, key, str(pool)

    def page(table=None, errors=()):
        return render_template("reports/need.html", form=form, table=table, errors=list(errors), muni=muni,
                               no_indicator=not keys)

    if not keys:  # nothing to estimate need from yet: the page says what to import (a menu entry, not an error)
        return page()
    with refused(lambda errors: page(errors=errors)):
        table = need.need_table(muni, year, level, key or "", pool)
    if request.args.get("format") == "csv":
        return Response(formats.need_csv(table), content_type="text/csv; charset=utf-8",
                        headers=attachment("behov", level, table.label, ext="csv"))
    return page(table)


@bp.post("/levekarsindeks/import")
@roles_required(*READERS)
def own_index_import():
    """A municipality's own index with its sub-scores (method name and version), as a job: all rows or none."""
    return _upload_job(OwnIndexImportForm(), report_jobs.own_index_import, back="reports.living_conditions_index",
                       upload_kind="own_index", fields={"fmt": "kind", "method": "method", "method_version": "method_version"})


def _weight(entry: dict) -> dict:
    try:
        return {**entry, "weight": float(entry["weight"])}
    except ValueError:
        return {**entry, "weight": -1.0}  # refused by the service, with the indicator named


# The menu entries and dashboard figures of this part (wired by the app factory: core.nav.init_app)
MENU = (
    nav.item("reports.dashboard", _l("Rapporter"), READERS, order=70, group="reports"),
    nav.item("reports.grant", _l("Tilskuddsrapport"), READERS, order=71, group="reports"),
    nav.item("reports.indicators", _l("Levekårsindikatorer"), READERS, order=72, group="reports"),
    nav.item("reports.living_conditions_index", _l("Levekårsindeks"), READERS, order=73, group="reports"),
    nav.item("reports.need_page", _l("Behov og rekkevidde"), NEED_READERS, order=74, group="reports"),
    nav.item("reports.compare", _l("Sammenlign over år"), READERS, order=75, group="reports"),
)
COUNTS = (
)
