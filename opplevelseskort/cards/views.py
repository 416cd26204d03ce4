"""Caseworkers' pages for children and cards; the family's card page; the neutral page behind the QR."""

from __future__ import annotations

import json
import logging
import secrets

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from ..accounts.permissions import fresh_login_required
from ..core import files, jobs, nav, tenancy, uploads
from ..core.forms import ActionForm
from ..core.guards import form_page
from ..core.i18n import current_locale_code
from ..core.models import JobStatus, Municipality, Role
from ..core.permissions import can_access_municipality, private_page, roles_required
from ..core.qr import qr_svg_inline
from ..core.uow import refuse_form, refused
from ..extensions import db, limiter
from . import codes, households, services, signing
from . import jobs as card_jobs
from .forms import CHANNEL_LABELS, REVOKE_LABELS, HouseholdForm, IssueForm, RenewForm, RevokeForm, SearchForm
from .models import Card, Household

log = logging.getLogger(__name__)
bp = Blueprint("cards", __name__)

CASE = (Role.CASEWORKER, Role.ADMIN)


def _municipality() -> Municipality:
    """The caseworker's municipality; an unrestricted admin works in the one chosen on /kommune."""
    muni, choose = tenancy.municipality_or_choose()
    if choose is not None:
        abort(choose)
    return muni


@bp.get("/barn")
@roles_required(*CASE)
def children():
    form = SearchForm(request.args)
    rows = households.search_children(current_user, form.q.data or "")
    on = services.today()
    return render_template("cards/children.html", form=form, rows=rows,
                           current_card=lambda child: services.current_card(child, on))


@bp.route("/husstand/ny", methods=["GET", "POST"])
@roles_required(*CASE)
def household_new():
    muni = _municipality()
    form = HouseholdForm()
    if request.method == "GET":  # the scheme's period from today, as the municipality set it
        form.eligible_from.data, form.eligible_until.data = services.scheme_period(muni)
    if form.validate_on_submit():
        g_slots = [i for i, g in enumerate(form.guardians)
                   if g.form.name.data or g.form.phone.data or g.form.email.data]
        guardians = [households.GuardianInput(form.guardians[i].form.name.data or "", form.guardians[i].form.phone.data,
                                            form.guardians[i].form.email.data,
                                            form.guardians[i].form.preferred_language.data) for i in g_slots]
        c_slots = [i for i, c in enumerate(form.children)
                   if c.form.given_name.data or c.form.family_name.data or c.form.birth_year.data]
        kids = []
        for i in c_slots:
            f = form.children[i].form
            kids.append(households.ChildInput(f.given_name.data or "", f.family_name.data or "", f.birth_year.data,
                                            f.birth_month.data, (f.zone.data or "").strip(), form.channel.data,
                                            form.eligible_from.data, form.eligible_until.data,
                                            bool(form.confirmed.data), f.gender.data or None))

        def page(errors=None):
            return form_page("cards/household_form.html", form, errors=errors or [],
                             zones=services.zones_by_name(muni), duplicates=duplicates)

        duplicates = [] if request.form.get("not_duplicate") else households.possible_duplicates(muni, guardians, kids)
        if duplicates:  # the same child may already be registered: say so and offer that household
            return page()
        with refused(verdict=lambda exc: page(_place_household_problems(form, exc, g_slots, c_slots))):
            household = households.register_household(muni, guardians, kids, actor=current_user,
                                                     address=form.address.data)
        flash(_("Husstanden er registrert."), "success")
        return redirect(url_for("cards.household", household_id=household.id))
    return form_page("cards/household_form.html", form, zones=services.zones_by_name(muni), duplicates=[])


HOUSEHOLD_LEVEL = {"channel", "eligible_from", "eligible_until", "confirmed", "address"}


def _place_household_problems(form, exc, g_slots: list[int], c_slots: list[int]) -> list[str]:
    """Put each of the service's problems under its own field of the household form (a child's channel, period
    and confirmation are the household's fields: said once); returns the ones with no field of their own."""
    unplaced = []
    for part, index, name, message in exc.details.get("problems", []):
        if name in HOUSEHOLD_LEVEL:
            target = form[name]
            if target.errors:
                continue  # "Barn 2: bekreft …" adds nothing to "Barn 1: bekreft …" under the same box
        elif part == "guardian":
            target = form.guardians[g_slots[index]].form[name]
        elif part == "child":
            target = form.children[c_slots[index]].form[name]
        else:
            unplaced.append(message)
            continue
        target.errors = [*target.errors, message]
    return unplaced


def _household(household_id: int, *, viewed: bool = False) -> Household:
    with refused(not_found=True):
        return households.get_household(household_id, actor=current_user, audit_view=viewed)


@bp.get("/husstand/<int:household_id>")
@roles_required(*CASE)
def household(household_id: int):
    h = _household(household_id, viewed=True)
    messages = services.link_messages([c for child in h.children for c in child.cards])
    return render_template("cards/household.html", h=h, today=services.today(), channel_labels=CHANNEL_LABELS,
                           messages=messages,
                           status_of=lambda c: services.card_status(c, services.today()),
                           issue_form=IssueForm(), renew_form=RenewForm(), revoke_form=RevokeForm(),
                           revoke_labels=REVOKE_LABELS, format_code=codes.format_short_code)


@bp.get("/husstand/<int:household_id>/eksport.json")
@roles_required(*CASE)
@fresh_login_required
def household_export(household_id: int):
    data = households.export_household(_household(household_id), actor=current_user)
    return Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="husstand-{household_id}.json"'})


@bp.post("/husstand/<int:household_id>/slett")
@roles_required(*CASE)
@fresh_login_required
def household_delete(household_id: int):
    h = _household(household_id)
    if request.form.get("confirm") != "yes":
        flash(_("Kryss av for å bekrefte slettingen."), "error")
        return redirect(url_for("cards.household", household_id=household_id))
    households.delete_household(h, actor=current_user)
    flash(_("Husstanden og alle opplysninger om den er slettet."), "success")
    return redirect(url_for("cards.children"))


def _child_action(child_id: int):
    with refused(not_found=True):
        return households.get_child(child_id, actor=current_user, audit_view=False)


def _card(card_id: int) -> Card:
    card = db.session.get(Card, card_id)
    if card is None or not can_access_municipality(current_user, card.municipality_id):
        abort(404)
    return card


def _back_to_household(household_id: int) -> str:
    """Card and child buttons live on the household page: a refusal is flashed there, and so is success."""
    return url_for("cards.household", household_id=household_id)


def _done(url: str, message: str):
    flash(message, "success")
    return redirect(url)


@bp.post("/barn/<int:child_id>/kort")
@roles_required(*CASE)
def card_issue(child_id: int):
    child = _child_action(child_id)
    back = _back_to_household(child.household_id)
    form = IssueForm()
    with refused(redirect_to=back):
        if not form.validate_on_submit():
            refuse_form(form, _("Sjekk datoen og antall ledsagere."))
        card = services.issue_card(child, actor=current_user, valid_until=form.valid_until.data,
                                   companions=form.companions.data if form.companions.data is not None else 1)
        services.send_card_link(card, actor=current_user)
    return _done(back, _("Kortet er laget. Lenken til de foresatte står i kø; under kortet ser du når den er sendt."))


@bp.post("/kort/<int:card_id>/forny")
@roles_required(*CASE)
def card_renew(card_id: int):
    card = _card(card_id)
    back = _back_to_household(card.child.household_id)
    form = RenewForm()
    with refused(redirect_to=back):
        if not form.validate_on_submit():
            refuse_form(form, _("Skriv inn en gyldig dato."))
        services.renew_card(card, form.valid_until.data, actor=current_user)
    return _done(back, _("Kortet er fornyet."))


@bp.post("/kort/<int:card_id>/erstatt")
@roles_required(*CASE)
def card_replace(card_id: int):
    card = _card(card_id)
    back = _back_to_household(card.child.household_id)
    with refused(redirect_to=back):
        new = services.replace_lost_card(card, actor=current_user)
        services.send_card_link(new, actor=current_user)
    return _done(back, _("Det gamle kortet er sperret. Lenken til det nye står i kø; under kortet ser du når den er sendt."))


@bp.post("/kort/<int:card_id>/sperr")
@roles_required(*CASE)
def card_revoke(card_id: int):
    card = _card(card_id)
    back = _back_to_household(card.child.household_id)
    form = RevokeForm()
    with refused(redirect_to=back):
        if not form.validate_on_submit():
            # A card is never blocked by a slip of the finger: a reason and a ticked confirmation are both needed.
            refuse_form(form, _("Kortet ble ikke sperret."))
        services.revoke_card(card, form.reason.data, actor=current_user)
    return _done(back, _("Kortet er sperret."))


@bp.post("/kort/<int:card_id>/send")
@roles_required(*CASE)
def card_send(card_id: int):
    card = _card(card_id)
    back = _back_to_household(card.child.household_id)
    with refused(redirect_to=back):
        services.send_card_link(card, actor=current_user)
    return _done(back, _("Lenken står i kø for å sendes på nytt; under kortet ser du når den er sendt."))


@bp.post("/melding/<int:message_id>/send-igjen")
@roles_required(*CASE)
def message_resend(message_id: int):
    """Send a card-link message again after staff checked that it did not reach the family."""
    if not ActionForm().validate_on_submit():
        abort(400)
    with refused(not_found=True):
        card = services.resend_link_message(message_id, actor=current_user)
    return _done(_back_to_household(card.child.household_id),
                 _("Meldingen står i kø for å sendes igjen; under kortet ser du når den er sendt."))


@bp.post("/kort/<int:card_id>/lenke")
@roles_required(*CASE)
def card_show_link(card_id: int):
    """Shown once, in this answer only: the family's link to copy, print or show as a QR code."""
    card = _card(card_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with refused(redirect_to=_back_to_household(card.child.household_id)):
        link = services.show_family_link(card, actor=current_user)
    return _link_page(card, link)


def _link_page(card: Card, link: str, renewed: bool = False):
    return private_page(Response(render_template("cards/family_link.html", card=card, link=link, qr=qr_svg_inline(link),
                                                 renewed=renewed, language=services.guardian_language(card))))


@bp.post("/kort/<int:card_id>/ny-lenke")
@roles_required(*CASE)
def card_new_link(card_id: int):
    """A new secret link for the family (the old one was shared by mistake): the old link stops working."""
    card = _card(card_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with refused(redirect_to=_back_to_household(card.child.household_id)):
        link = services.new_family_link(card, actor=current_user)
    return _link_page(card, link, renewed=True)


@bp.post("/kort/<int:card_id>/ark.pdf")
@roles_required(*CASE)
def card_handover_sheet(card_id: int):
    """The family's printable hand-over sheet (their language with bokmål beside it), audited."""
    card = _card(card_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with refused(redirect_to=_back_to_household(card.child.household_id)):
        data = services.handover_sheets([card], actor=current_user)
    return private_page(Response(data, mimetype="application/pdf",
                                 headers={"Content-Disposition": 'inline; filename="opplevelseskortet-ark.pdf"'}))


# --- applications and bulk import ------------------------------------------------------------

from . import applications  # noqa: E402
from .forms import ApplicationForm, BulkImportForm, DecisionForm  # noqa: E402
from .models import ApplicationStatus  # noqa: E402


@bp.route("/sok-om-kort", methods=["GET", "POST"])
@limiter.limit(lambda: "10 per hour", methods=["POST"])
def apply():
    """The public, translated application form for guardians."""
    form = ApplicationForm()
    if request.method == "GET":  # messages in the language the family reads the form in, unless they choose
        form.preferred_language.data = current_locale_code()
    errors: list[str] = []
    muni, choose = tenancy.municipality_or_choose()
    if choose is not None:
        return choose
    if form.validate_on_submit():
        guardian = households.GuardianInput(form.name.data, form.phone.data, form.email.data, form.preferred_language.data)
        kids = [{"given_name": c.form.given_name.data, "family_name": c.form.family_name.data,
                 "birth_year": c.form.birth_year.data, "birth_month": c.form.birth_month.data,
                 "zone": form.zone.data or ""} for c in form.children]
        with refused(lambda errors: form_page("cards/apply.html", form, errors=errors,
                                              months=current_app_config("RETENTION_MONTHS"))):
            applications.submit_application(muni, guardian, kids, consent=bool(form.consent.data))
        return render_template("cards/applied.html")
    return form_page("cards/apply.html", form, errors=errors,
                           months=current_app_config("RETENTION_MONTHS"))


def current_app_config(key):
    return current_app.config[key]


@bp.get("/soknader")
@roles_required(*CASE)
def application_list():
    return render_template("cards/applications.html", rows=applications.applications_for(current_user))


@bp.route("/soknader/<int:app_id>", methods=["GET", "POST"])
@roles_required(*CASE)
def application_detail(app_id: int):
    with refused(not_found=True):
        a = applications.get_application(app_id, current_user)
    form = DecisionForm()
    if request.method == "GET":  # the scheme's period from today, as the municipality set it
        form.eligible_from.data, form.eligible_until.data = services.scheme_period(_municipality_of(a))
    if request.method == "POST" and form.validate_on_submit():
        with refused(redirect_to=url_for("cards.application_detail", app_id=app_id)):
            if request.form.get("decision") == "approve":
                # each child's zone chosen from the municipality's list (the family's own answer preselected)
                zones = [request.form.get(f"zone-{i}", "").strip() for i in range(len(a.children))]
                applications.approve_application(a, actor=current_user, eligible_from=form.eligible_from.data,
                                                 eligible_until=form.eligible_until.data, zones=zones)
                flash(_("Søknaden er godkjent. Lenken til kortene står i kø; her ser du når den er sendt."), "success")
                return redirect(url_for("cards.household", household_id=a.household_id))
            applications.reject_application(a, form.reason.data, actor=current_user)
        flash(_("Søknaden er avslått. Svaret med begrunnelsen står i kø; her ser du når det er sendt."), "success")
        return redirect(url_for("cards.application_detail", app_id=app_id))
    return render_template("cards/application.html", a=a, form=form, pending=a.status == ApplicationStatus.PENDING,
                           zones=applications.zone_choices(a), suggested=applications.suggested_zones(a),
                           answers=applications.answer_messages(a))


def _municipality_of(a) -> Municipality:
    return db.session.get(Municipality, a.municipality_id)


@bp.route("/barn/import", methods=["GET", "POST"])
@roles_required(*CASE)
def bulk_import():
    """Upload a file (kept on the server), then the import runs as a job; this page follows it to the end."""
    form = BulkImportForm()
    errors: list[str] = []
    upload = request.form.get("upload", "")
    if request.method == "POST" and upload:
        # "Import now" after a dry run: the same file, kept on the server, is imported (no second upload).
        key = card_jobs.upload_key(current_user.id, upload)
        if ActionForm().validate_on_submit() and upload.isalnum() and files.get(key) is not None:
            run = jobs.start(card_jobs.household_import, actor=current_user, municipality_id=_municipality().id,
                             upload=key, dry_run=False, page={"token": upload})
            return redirect(url_for("cards.import_job", run_id=run.id))
        errors = [_("Forhåndsvisningen er for gammel eller finnes ikke. Last opp filen på nytt.")]
    elif form.validate_on_submit():
        token = secrets.token_hex(12)
        key = card_jobs.upload_key(current_user.id, token)
        files.put_stream(key, form.file.data.stream, "text/csv")
        with refused(lambda problems: form_page("cards/import.html", form, errors=problems, preview=None, kept=None,
                                                columns=applications.IMPORT_COLUMNS)):
            uploads.check_upload_quota(current_user)
        run = jobs.start(card_jobs.household_import, actor=current_user, municipality_id=_municipality().id,
                         upload=key, dry_run=bool(form.dry_run.data), page={"token": token})
        return redirect(url_for("cards.import_job", run_id=run.id))
    return form_page("cards/import.html", form, errors=errors, preview=None, kept=None,
                     columns=applications.IMPORT_COLUMNS)


@bp.get("/barn/import/jobb/<int:run_id>")
@roles_required(*CASE)
def import_job(run_id: int):
    """The import's progress while it runs; then the same result page as before: the preview, the import, or
    every problem by line."""
    with refused(not_found=True):
        run = jobs.run_of(run_id, actor=current_user, job=card_jobs.household_import)
    form = BulkImportForm(formdata=None)  # the next upload is a preview again, whatever this one was
    if run.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return render_template("core/job.html", run=run, status_url=url_for("core.job_status", run_id=run.id),
                               title=_("Importer husstander"))
    if run.status == JobStatus.FAILED:
        whole = (run.result or {}).get("errors_file")
        return form_page("cards/import.html", form, errors=run.errors, preview=None, kept=None,
                         columns=applications.IMPORT_COLUMNS,
                         errors_csv=url_for("core.job_errors", run_id=run.id) if whole else None,
                         errors_total=(run.result or {}).get("errors_total"))
    preview = applications.ImportPreview(**{k: run.result[k] for k in ("households", "children", "cards",
                                                                         "duplicates")})
    outreach, parts = None, []
    if not run.result.get("dry_run"):
        outreach = services.import_outreach(run.id)
        sheets = services.import_unreachable_count(run.id)
        parts = [(i + 1, i * services.SHEETS_PER_PDF + 1, min((i + 1) * services.SHEETS_PER_PDF, sheets))
                 for i in range(-(-sheets // services.SHEETS_PER_PDF))]
        if request.args.get("ny") != "0":  # said once, when the import has just finished
            flash(_("%(n)d barn i %(h)d husstander er registrert med kort.", n=preview.children,
                    h=preview.households), "success")
    return form_page("cards/import.html", form, errors=[], preview=preview,
                     kept=run.context.get("token") if run.result.get("dry_run") else None,
                     columns=applications.IMPORT_COLUMNS, outreach=outreach, run=run, parts=parts)


def _finished_import(run_id: int):
    with refused(not_found=True):
        run = jobs.run_of(run_id, actor=current_user, job=card_jobs.household_import)
    if run.status != JobStatus.DONE or run.result.get("dry_run"):
        abort(404)
    return run


@bp.post("/barn/import/jobb/<int:run_id>/send-lenker")
@roles_required(*CASE)
def import_send_links(run_id: int):
    """Send the card links to the families the import registered (a job: thousands of messages)."""
    run = _finished_import(run_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    sending = jobs.start(card_jobs.import_card_links, actor=current_user, municipality_id=run.municipality_id,
                         import_run=run.id)
    return redirect(url_for("cards.import_links_job", run_id=sending.id))


@bp.get("/barn/import/lenker/<int:run_id>")
@roles_required(*CASE)
def import_links_job(run_id: int):
    with refused(not_found=True):
        run = jobs.run_of(run_id, actor=current_user, job=card_jobs.import_card_links)
    if run.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return render_template("core/job.html", run=run, status_url=url_for("core.job_status", run_id=run.id),
                               title=_("Sender kortlenker"))
    if run.status == JobStatus.FAILED:
        flash(" ".join(run.errors) or _("Sendingen stoppet."), "error")
    else:
        flash(ngettext("Kortlenken sendes til %(num)d familie.", "Kortlenkene sendes til %(num)d familier.",
                       run.result["families"]), "success")
    return redirect(url_for("cards.import_job", run_id=run.params["import_run"], ny=0))


@bp.post("/barn/import/jobb/<int:run_id>/ark.pdf")
@roles_required(*CASE)
def import_sheets(run_id: int):
    """One printable PDF of hand-over sheets for the import's families with neither phone nor e-mail (audited)."""
    run = _finished_import(run_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    back = url_for("cards.import_job", run_id=run.id, ny=0)
    unreachable = services.import_unreachable_cards(run.id, request.args.get("del", 1, type=int) or 1)
    if not unreachable:
        flash(_("Alle familiene i importen har telefon eller e-post."), "info")
        return redirect(back)
    with refused(redirect_to=back):
        data = services.handover_sheets(unreachable, actor=current_user)
    return private_page(Response(data, mimetype="application/pdf",
                                 headers={"Content-Disposition": 'inline; filename="opplevelseskortet-ark.pdf"'}))


@bp.get("/barn/import/mal.csv")
@roles_required(*CASE)
def import_template():
    return Response(applications.template_csv(_municipality()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="husstander-mal.csv"'})


apply.public = True


# The menu entries and dashboard figures of this part (wired by the app factory: core.nav.init_app)
MENU = (
    nav.item("cards.children", _l("Barn og kort"), CASE, order=20, group="cards"),
    nav.item("cards.household_new", _l("Registrer husstand"), CASE, order=21, group="cards"),
    nav.item("cards.apply", _l("Søk om kort"), [], public=True, order=4),
    nav.item("cards.application_list", _l("Søknader"), CASE, order=22, group="cards"),
    nav.item("cards.bulk_import", _l("Importer husstander"), CASE, order=23, group="cards"),
    nav.item("cards.wallet_status", _l("Kortet i telefonens lommebok"), [Role.ADMIN], order=84, group="admin"),
)
COUNTS = (
    nav.count(_l("søknader venter"), [Role.CASEWORKER, Role.ADMIN], applications.waiting_count,
              endpoint="cards.application_list", order=20),
)


# --- the trust list of signed card codes (public: scanners fetch it while online) ------------------------------

def _public_json(data: dict):
    response = current_app.response_class(json.dumps(data, ensure_ascii=False), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/tillit/<number>.json")
def trust_list(number: str):
    """The keys that sign the municipality's card codes, each with its revocation counter (SMART Health Cards'
    layout: a scanner fetches a key's revocations only when its counter moved)."""
    with refused(not_found=True):
        listed = signing.trust_list_of(number)
    return _public_json(listed)


@bp.get("/tillit/<number>/<kid>.json")
def revocation_list(number: str, kid: str):
    """A key's revoked card numbers after the counter the scanner holds (`?siden=N`): the delta it needs."""
    since = request.args.get("siden", "0")
    if not since.isdigit() or len(since) > 9:
        abort(400)
    with refused(not_found=True):
        delta = signing.revocations_of(number, kid, int(since))
    return _public_json(delta)


for _view in (trust_list, revocation_list):
    _view.public = True  # what a scanner checks codes with: public keys and hashed card ids, never a name


from . import wallet_views  # noqa: E402,F401  (the wallet's routes, on this blueprint)
