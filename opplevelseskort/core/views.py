"""Core pages: home, login/logout, password, dashboard, language, users, tokens, zones."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit

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
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from . import jobs, municipalities, nav, outbox, tenancy, uploads
from .exports import attachment
from .forms import ROLE_LABELS, LanguageForm, MunicipalityForm, MunicipalitySettingsForm
from .guards import form_page, safe_next
from .i18n import LANGUAGE_NAMES, offered_locales
from .models import JobStatus, Role
from .permissions import ALL_STAFF, can_access_municipality, roles_required
from .uow import refused

log = logging.getLogger(__name__)


bp = Blueprint("core", __name__)


@bp.before_app_request
def _language_from_link():
    """A link may carry ?sprak=xx (the guardian's preferred language in the card link): remember it."""
    wanted = request.args.get("sprak")
    if wanted and wanted in current_app.config["SUPPORTED_LOCALES"]:
        session["locale"] = wanted


@bp.app_context_processor
def _inject():
    return {"role_labels": ROLE_LABELS, "Role": Role, "language_form": LanguageForm(prefix="lang", formdata=None)}


@bp.get("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    return render_template("core/home.html")


@bp.post("/sprak")
def set_language():
    form = LanguageForm(prefix="lang")
    form.locale.choices = [(c, c) for c in current_app.config["SUPPORTED_LOCALES"]]
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
    return redirect(_without_language(safe_next(request.form.get("next"))) or url_for("core.home"))


def _without_language(target: str | None) -> str | None:
    """The page to return to, without a `sprak` the link carried: the visitor's own choice wins."""
    if not target:
        return target

    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "sprak"]
    return parts.path + (f"?{urlencode(query)}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")


@bp.get("/oversikt")
@roles_required(*ALL_STAFF)
def dashboard():
    return render_template("core/dashboard.html")


@bp.get("/jobber/<int:run_id>.json")
@roles_required(*ALL_STAFF)
def job_status(run_id: int):
    """What a job's progress page polls (its own starter, or an admin of its municipality)."""
    with refused(not_found=True):
        run = jobs.run_of(run_id, actor=current_user)
    response = jsonify(jobs.status_of(run))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/meldinger/status.json")
@roles_required(*ALL_STAFF)
def message_status():
    """The state of the messages a page reports (named by its signed token), polled until each is final."""
    response = jsonify({"messages": outbox.states_for_token(request.args.get("t", ""))})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobber/<int:run_id>")
@roles_required(*ALL_STAFF)
def job_page(run_id: int):
    """A job's progress while it runs; then what it did (or every problem, by line) and the way back."""
    with refused(not_found=True):
        run = jobs.run_of(run_id, actor=current_user)
    title = jobs.title_of(run)
    back = url_for(run.context["back"]) if (run.context or {}).get("back") else url_for("core.dashboard")
    if run.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return render_template("core/job.html", run=run, status_url=url_for("core.job_status", run_id=run.id),
                               title=title)
    return render_template("core/job_done.html", run=run, title=title, back=back), \
        (422 if run.status == JobStatus.FAILED else 200)


@bp.get("/jobber/<int:run_id>/feil.csv")
@roles_required(*ALL_STAFF)
def job_errors(run_id: int):
    """Every problem of a failed job whose list was too long for its page."""
    with refused(not_found=True):
        run = jobs.run_of(run_id, actor=current_user)
    body = jobs.errors_csv(run)
    if body is None:
        abort(404)
    return Response(body, content_type="text/csv; charset=utf-8", headers=attachment("jobb", run.id, "feil",
                                                                                       ext="csv"))


@bp.get("/admin/jobber")
@roles_required(Role.ADMIN)
def jobs_overview():
    """Each scheduled job's timing, last run and failures, the queue's backlog, and the jobs people started that
    failed in the last week (with their message and a link to the job's page)."""
    return render_template("core/jobs.html", rows=jobs.schedule_overview(), backlog=jobs.backlog(),
                           failures=jobs.recent_failures(current_user), running=jobs.running_now(current_user),
                           uploads=uploads.upload_use(current_user), quota=current_app.config)


@bp.route("/admin/kommune", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def municipality_settings():
    """The municipality's own settings (contact line shown to families, SMS sender name, default report period,
    support e-mail); every change is audited."""
    muni, choose = tenancy.municipality_or_choose()
    if choose is not None:
        return choose
    if not can_access_municipality(current_user, muni.id):
        abort(404)
    form = MunicipalitySettingsForm(obj=muni) if request.method == "GET" else MunicipalitySettingsForm()
    line_fields = [getattr(form, f"contact_line_{code}") for code in municipalities.FAMILY_LANGUAGES]
    if request.method == "GET":  # stored as MM-DD, read and written as DD.MM
        form.scheme_end.data = ".".join(reversed((muni.scheme_end or "12-31").split("-")))
        for code, field in zip(municipalities.FAMILY_LANGUAGES, line_fields, strict=True):
            field.data = (muni.contact_line_translations or {}).get(code, "")

    def page(*_unplaced):
        return form_page("core/municipality_settings.html", form, muni=muni, line_fields=line_fields)

    if form.validate_on_submit():
        with refused(page, form=form):
            changed = municipalities.update_municipality_settings(
                muni, actor=current_user, contact_line=form.contact_line.data, sms_sender=form.sms_sender.data,
                default_report_period=form.default_report_period.data, support_email=form.support_email.data,
                scheme_end=form.scheme_end.data, org_number=form.org_number.data,
                contact_lines={code: f.data or "" for code, f in zip(municipalities.FAMILY_LANGUAGES, line_fields,
                                                                     strict=True)})
        flash(_("Innstillingene er lagret.") if changed else _("Ingenting ble endret."), "success")
        return redirect(url_for("core.municipality_settings"))
    return page()


@bp.route("/kommune", methods=["GET", "POST"])
def choose_municipality():
    """Public pages of a shared deployment ask which municipality the visitor means, once."""
    form = MunicipalityForm()
    form.municipality.choices = [(m.number, m.name) for m in tenancy.all_municipalities()]
    next_url = safe_next(request.values.get("next")) or url_for("core.home")
    if form.validate_on_submit() and tenancy.choose_municipality(form.municipality.data):
        return redirect(next_url)
    return form_page("core/choose_municipality.html", form, next_url=next_url)


choose_municipality.public = True


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: send them to the one icon there is."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


favicon.public = True


@bp.get("/tilgjengelighet")
def accessibility():
    return render_template("core/accessibility.html")


@bp.app_template_global()
def language_choices():
    return [(c, LANGUAGE_NAMES.get(c, c)) for c in offered_locales()]


@bp.app_template_global()
def nav_items():
    return nav.staff_items()


@bp.app_template_global()
def dashboard_counts():
    return nav.dashboard_counts()


@bp.app_template_global()
def shortcuts():
    return nav.shortcuts()


@bp.app_template_global()
def public_nav_items():
    return nav.public_items()


MENU = (
    nav.item("core.municipality_settings", _l("Kommunens innstillinger"), [Role.ADMIN], order=83, group="admin"),
    nav.item("core.jobs_overview", _l("Jobber"), [Role.ADMIN], order=82, group="admin"),
)


COUNTS = (
)

