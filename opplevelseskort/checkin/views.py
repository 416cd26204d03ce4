"""Scanner page, card-link landing, visit log, statements and the caseworkers' follow-up list."""

from __future__ import annotations

import logging
from datetime import timedelta

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
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..core import nav
from ..core.clock import today
from ..core.exports import attachment
from ..core.guards import form_page, json_error
from ..core.models import Role
from ..core.permissions import current_actor, roles_required
from ..core.uow import refuse_form, refused
from ..extensions import db
from ..partners import bookings as partners
from ..partners.forms import ReasonForm
from ..partners.services import partner_id_of
from . import offline, services, statements
from .forms import CompanionsForm, FollowUpForm, ScanForm, VoidForm
from .models import CheckIn, CheckinSource

log = logging.getLogger(__name__)
bp = Blueprint("checkin", __name__)


def _offer_choices():
    return [(o.id, o.title) for o in statements.offers_for_scanner(current_user)]


@bp.route("/skann", methods=["GET", "POST"])
@roles_required(Role.PARTNER)
def scanner():
    if services.partner_suspended(current_actor()):
        # said plainly, not the scanner: every card it scanned would be refused
        return render_template("checkin/suspended.html"), 403
    form = ScanForm()
    form.offer_id.choices = _offer_choices()
    if request.method == "GET" and session.get("scan_offer_id"):
        form.offer_id.data = session["scan_offer_id"]
    if not form.offer_id.choices:
        return render_template("checkin/scanner.html", form=form, no_offers=True)
    if form.validate_on_submit():
        session["scan_offer_id"] = form.offer_id.data
        source = form.source.data if form.source.data in ("camera", "typed") else "typed"
        with refused(verdict=lambda exc: render_template(
                "checkin/result_no.html", error=exc, form=ScanForm(formdata=None, offer_id=form.offer_id.data))):
            me = current_actor()
            offer = services.get_offer_for(me, form.offer_id.data)
            result = services.record_checkin(form.code.data, offer, actor=me, source=source)
        return redirect(url_for("checkin.result", checkin_id=result.visit.id, gjentatt=0 if result.created else 1))
    return form_page("checkin/scanner.html", form)


@bp.get("/skann/uten-nett")
@roles_required(Role.PARTNER)
def offline_scanner():
    """The scanner that works where the network ends: an installable page that caches its rules and keys, judges
    signed codes on the phone, queues each scan and syncs when it can (checkin.offline judges them again)."""
    if services.partner_suspended(current_actor()):
        return render_template("checkin/suspended.html"), 403
    return render_template("checkin/offline.html")


@bp.get("/skann/uten-nett/pakke.json")
@roles_required(Role.PARTNER)
def offline_bundle():
    with refused(verdict=lambda exc: json_error(403, exc.code, exc.message)):
        out = offline.bundle(current_actor())
    response = jsonify({**out, "csrf_token": generate_csrf()})  # the sync's token, fresh when the page is old
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/skann/synk")
@roles_required(Role.PARTNER)
def offline_sync():
    """The offline scanner's queue (JSON, with the page's CSRF token in X-CSRFToken)."""
    with refused(verdict=lambda exc: json_error(422, exc.code, exc.message, **{
            k: exc.details[k] for k in ("fields",) if k in exc.details})):
        batch = offline.parse_batch(request.get_json(silent=True))
        return jsonify(offline.sync_batch(batch, actor=current_actor()))


@bp.get("/skann/sw.js")
def offline_service_worker():
    """The offline scanner's service worker, under /skann/ so its scope is the scanner's pages only."""
    resp = send_from_directory(current_app.static_folder, "js/scanner-sw.js", mimetype="text/javascript", max_age=0)
    resp.headers["Service-Worker-Allowed"] = "/skann/"
    return resp


@bp.get("/skann/manifest.webmanifest")
def offline_manifest():
    """What installs the offline scanner on a phone's home screen."""
    return Response(render_template("checkin/manifest.webmanifest"), mimetype="application/manifest+json")


offline_service_worker.public = True  # scripts and a manifest: nothing of anyone's
offline_manifest.public = True


@bp.get("/skann/resultat/<int:checkin_id>")
@roles_required(Role.PARTNER)
def result(checkin_id: int):
    checkin = _own_checkin(checkin_id)
    view = services.result_view(checkin)
    return render_template("checkin/result_yes.html", c=checkin, v=view, repeat=request.args.get("gjentatt") == "1",
                           form=CompanionsForm(companions=checkin.companions))


@bp.post("/skann/resultat/<int:checkin_id>/ledsagere")
@roles_required(Role.PARTNER)
def companions(checkin_id: int):
    checkin = _own_checkin(checkin_id)
    form = CompanionsForm()
    if form.validate_on_submit():
        with refused(redirect_to=url_for("checkin.result", checkin_id=checkin.id)):
            services.set_companions(checkin, form.companions.data or 0, actor=current_user)
        flash(ngettext("Registrert med %(num)d ledsager.", "Registrert med %(num)d ledsagere.", checkin.companions), "success")
        return redirect(url_for("checkin.scanner"))
    flash(_("Antall ledsagere må være et tall fra 0."), "error")
    return redirect(url_for("checkin.result", checkin_id=checkin.id))


@bp.route("/skann/kort/<token>", methods=["GET", "POST"])
@roles_required(Role.PARTNER)
def from_link(token: str):
    """A partner opened the card's QR link with the phone's camera: confirm the check-in for the current offer."""
    choices = _offer_choices()
    allowed = {c[0] for c in choices}
    chosen = request.form.get("offer_id", type=int) if request.method == "POST" else None
    offer_id = chosen if chosen in allowed else session.get("scan_offer_id")
    if offer_id not in allowed:
        offer_id = choices[0][0] if len(choices) == 1 else None
    if offer_id is None:
        if not choices:
            flash(_("Dere har ingen publiserte tilbud ennå. Publiser et tilbud før dere tar imot kort."), "info")
            return redirect(url_for("checkin.scanner"))
        # The phone's own camera opened the card link before an offer was chosen: choose it here, one tap each.
        return render_template("checkin/choose_offer.html", choices=choices, token=token, form=CompanionsForm())
    if chosen:
        session["scan_offer_id"] = offer_id
    form = CompanionsForm()
    offer = services.get_offer_for(current_user, offer_id)
    with refused(verdict=lambda exc: render_template("checkin/result_no.html", error=exc, form=None)):
        if request.method == "POST" and form.validate_on_submit():
            res = services.record_checkin(token, offer, actor=current_user, source=CheckinSource.LINK,
                                          companions=form.companions.data or 0)
            return redirect(url_for("checkin.result", checkin_id=res.visit.id, gjentatt=0 if res.created else 1))
        preview = services.preview(token, offer)
    return render_template("checkin/confirm.html", p=preview, offer=offer, form=form)


def _own_checkin(checkin_id: int) -> CheckIn:
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None or checkin.partner_id != partner_id_of(current_user):
        abort(404)
    return checkin


# --- an occasion's bookings and its no-shows ---------------------------------------------------------------------

def _own_occasion(offer_id: int, occasion_id: int):
    with refused(not_found=True):
        return partners.occasion_for_edit(current_user, offer_id, occasion_id)


@bp.get("/mine-tilbud/<int:offer_id>/pameldte/<int:occasion_id>")
@roles_required(Role.PARTNER)
def occasion_bookings(offer_id: int, occasion_id: int):
    occ = _own_occasion(offer_id, occasion_id)
    return render_template("checkin/occasion_bookings.html", occ=occ, rows=partners.bookings_of(occ),
                           no_shows=services.no_shows(occ), form=ReasonForm())


@bp.post("/mine-tilbud/<int:offer_id>/pameldte/<int:occasion_id>/frigi")
@roles_required(Role.PARTNER)
def release(offer_id: int, occasion_id: int):
    occ = _own_occasion(offer_id, occasion_id)
    back = url_for("checkin.occasion_bookings", offer_id=offer_id, occasion_id=occasion_id)
    with refused(redirect_to=back):
        form = ReasonForm()
        if not form.validate_on_submit():
            refuse_form(form, _("Skjemaet er utløpt. Prøv igjen."))
        n = services.release_no_shows(occ, actor=current_user)
    flash(_("%(n)d plasser er gitt videre til ventelisten.", n=n), "success")
    return redirect(back)


# --- visit log and statements ----------------------------------------------------------------

@bp.get("/besok")
@roles_required(Role.PARTNER, Role.ADMIN)
def visits():
    partner_id = statements.partner_scope(current_user, request.args.get("partner", type=int))
    month = request.args.get("month") or today().strftime("%Y-%m")
    with refused(redirect_to=url_for("checkin.visits", partner=partner_id)):  # a month that is no month
        rows = statements.visit_log(partner_id, month)
    offer_titles = statements.offer_titles({c.offer_id for c in rows})
    return render_template("checkin/visits.html", rows=rows, offer_titles=offer_titles, month=month, partner_id=partner_id,
                           partners=statements.partners_for(current_user), void_form=VoidForm(),
                           voidable=services.void_choices(current_user, rows))


@bp.post("/besok/<int:checkin_id>/annuller")
@roles_required(Role.PARTNER, Role.ADMIN)
def void(checkin_id: int):
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None or not services.can_void(current_user, checkin):
        abort(404)
    form = VoidForm()
    if not form.validate_on_submit():
        flash(_("Skriv hvorfor besøket annulleres."), "error")
        return redirect(url_for("checkin.visits"))
    with refused(redirect_to=url_for("checkin.visits")):
        services.void_checkin(checkin, form.reason.data, actor=current_user)
    flash(_("Besøket er annullert."), "success")
    return redirect(url_for("checkin.visits"))


@bp.get("/besok/oppgjor")
@roles_required(Role.PARTNER, Role.ADMIN)
def statement():
    partner_id = statements.partner_scope(current_user, request.args.get("partner", type=int))
    month = request.args.get("month") or today().strftime("%Y-%m")
    fmt = request.args.get("format", "html")
    with refused(redirect_to=url_for("checkin.visits")):
        st = statements.statement(partner_id, month)
    if fmt == "csv":
        return Response(statements.statement_csv(st), content_type="text/csv; charset=utf-8",
                        headers=attachment("oppgjor", st.first_day.strftime("%Y-%m"), ext="csv"))
    if fmt == "pdf":
        return Response(statements.statement_pdf(st), mimetype="application/pdf",
                        headers=attachment("oppgjor", st.first_day.strftime("%Y-%m"), ext="pdf"))
    first = st.first_day
    months = {"previous": (first - timedelta(days=1)).strftime("%Y-%m"),
              "next": (first + timedelta(days=32)).strftime("%Y-%m")}
    return render_template("checkin/statement.html", st=st, month=st.month, partner_id=partner_id,
                           partners=statements.partners_for(current_user), head=statements.statement_head(st),
                           month_label=statements.month_label(st), months=months)


# --- caseworkers' follow-up of unused cards --------------------------------------------------

@bp.get("/oppfolging")
@roles_required(Role.CASEWORKER, Role.ADMIN)
def follow_up():
    form = FollowUpForm(request.args)
    weeks = form.weeks.data if form.validate() and form.weeks.data else 8
    rows = statements.unused_cards(current_user, weeks)
    return render_template("checkin/follow_up.html", rows=rows, form=form, weeks=weeks)


# The menu entries and dashboard figures of this part (wired by the app factory: core.nav.init_app)
MENU = (
    nav.item("checkin.scanner", _l("Skann kort"), [Role.PARTNER], order=10, group="offers"),
    nav.item("checkin.offline_scanner", _l("Skann uten nett"), [Role.PARTNER], order=11, group="offers"),
    nav.item("checkin.visits", _l("Besøk og oppgjør"), [Role.PARTNER, Role.ADMIN], order=30, group="offers"),
    nav.item("checkin.follow_up", _l("Ubrukte kort"), [Role.CASEWORKER, Role.ADMIN], order=40, group="cards"),
)
COUNTS = (
    nav.count(_l("besøk registrert i dag"), [Role.PARTNER, Role.ADMIN], services.checkins_today,
              endpoint="checkin.visits", order=10),
)
