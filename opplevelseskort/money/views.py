"""Pages of the money part: the finance office's monthly settlements per partner (make, look, approve, export)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core import nav
from ..core.clock import today
from ..core.exports import attachment
from ..core.forms import ActionForm
from ..core.guards import form_page
from ..core.models import Role
from ..core.permissions import current_actor, roles_required
from ..core.uow import refuse_form, refused
from . import admin, services, settlements
from .forms import RegistrationForm, SchemeForm, SettlementForm

bp = Blueprint("money", __name__)
FINANCE = (Role.FINANCE, Role.ADMIN)


def _form() -> SettlementForm:
    form = SettlementForm()
    form.partner_id.choices = [(p.id, p.name) for p in settlements.registered_partners(current_actor())]
    return form


@bp.route("/okonomi/oppgjor", methods=["GET", "POST"])
@roles_required(*FINANCE)
def settlement_list():
    """The partners' monthly settlements of activity money, and making one."""
    form = _form()
    if form.validate_on_submit():
        me = current_actor()
        with refused(lambda: form_page("money/settlements.html", form, rows=settlements.settlements_of(me),
                                       this_year=today().year), field=form.month):
            partner = next(p for p in settlements.registered_partners(me) if p.id == form.partner_id.data)
            made = settlements.make(partner, form.month.data, actor=me)
        return redirect(url_for("money.settlement", settlement_id=made.id))
    return form_page("money/settlements.html", form, rows=settlements.settlements_of(current_actor()),
                     this_year=today().year)


@bp.get("/okonomi/oppgjor/<int:settlement_id>")
@roles_required(*FINANCE)
def settlement(settlement_id: int):
    with refused(not_found=True):
        found = settlements.settlement_of(settlement_id, current_actor())
    return render_template("money/settlement.html", s=found, lines=settlements.lines(found),
                           reference=found.reference, form=ActionForm(),
                           may_approve=settlements.may_approve(found, current_actor()),
                           has_invoice=settlements.has_invoice(found))


@bp.post("/okonomi/oppgjor/<int:settlement_id>/godkjenn")
@roles_required(Role.FINANCE)
def approve(settlement_id: int):
    back = url_for("money.settlement", settlement_id=settlement_id)
    with refused(not_found=True):
        found = settlements.settlement_of(settlement_id, current_actor())
    with refused(redirect_to=back):
        form = ActionForm()
        if not form.validate_on_submit():
            refuse_form(form, _("Skjemaet er utløpt. Prøv igjen."))
        settlements.approve(found, actor=current_actor())
    flash(_("Oppgjøret er godkjent, og utbetalingen er bokført."), "success")
    return redirect(back)


@bp.get("/okonomi/oppgjor/<int:settlement_id>.csv")
@roles_required(*FINANCE)
def settlement_csv(settlement_id: int):
    with refused(not_found=True):
        found = settlements.settlement_of(settlement_id, current_actor())
    return Response(settlements.as_csv(found), content_type="text/csv; charset=utf-8",
                    headers=attachment("aktivitetspenger", settlements.reference(found), ext="csv"))


@bp.get("/okonomi/oppgjor/<int:settlement_id>.xml")
@roles_required(*FINANCE)
def settlement_ehf(settlement_id: int):
    """The approved settlement as a self-billed EHF invoice for the accounting system."""
    with refused(not_found=True):
        found = settlements.settlement_of(settlement_id, current_actor())
    with refused(redirect_to=url_for("money.settlement", settlement_id=settlement_id)):
        body = settlements.as_ehf(found)
    return Response(body, content_type="application/xml; charset=utf-8",
                    headers=attachment("ehf-aktivitetspenger", settlements.reference(found), ext="xml"))


@bp.get("/okonomi/bilag/<int:year>.csv")
@roles_required(*FINANCE)
def vouchers(year: int):
    """Every posting of the year by voucher number (gap-free), for the accounting system."""
    if not 2000 <= year <= 2999:
        abort(404)
    return Response(admin.vouchers_csv(current_actor(), year), content_type="text/csv; charset=utf-8",
                    headers=attachment("bilag-aktivitetspenger", str(year), ext="csv"))


@bp.get("/okonomi/oppgjor/<int:settlement_id>.json")
@roles_required(*FINANCE)
def settlement_json(settlement_id: int):
    with refused(not_found=True):
        found = settlements.settlement_of(settlement_id, current_actor())
    response = jsonify(settlements.as_basis(found))
    response.headers.update(attachment("aktivitetspenger", settlements.reference(found), ext="json"))
    return response



# --- the admin's schemes and register ---------------------------------------------------------------------------

def _scheme_form() -> SchemeForm:
    form = SchemeForm()
    form.topup_zones.choices = [(z.id, f"{z.code} {z.name}") for z in admin.zones_for_topup(current_actor())]
    return form


@bp.route("/admin/aktivitetspenger", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def schemes():
    """The municipality's schemes (what each has granted, spent and lapsed), and a new one."""
    form = _scheme_form()
    me = current_actor()
    page = lambda errors=None: form_page("money/schemes.html", form, rows=admin.scheme_rows(me),  # noqa: E731
                                         errors=errors)
    if form.validate_on_submit():
        with refused(page):
            made = admin.create_scheme(me, services.SchemeInput(
                form.name.data, form.amount_kr.data * 100, bool(form.half_years.data), form.age_min.data,
                form.age_max.data, (form.topup_kr.data or 0) * 100, tuple(form.topup_zones.data or ())))
        flash(_("Ordningen «%(name)s» er lagret. Barna får pengene i natt, eller med knappen under.", name=made.name),
              "success")
        return redirect(url_for("money.schemes"))
    return page()


@bp.post("/admin/aktivitetspenger/<int:scheme_id>/del-ut")
@roles_required(Role.ADMIN)
def grant_now(scheme_id: int):
    back = url_for("money.schemes")
    with refused(redirect_to=back):
        form = ActionForm()
        if not form.validate_on_submit():
            refuse_form(form, _("Skjemaet er utløpt. Prøv igjen."))
        granted = admin.grant_now(scheme_id, current_actor())
    flash(_("%(n)d barn fikk aktivitetspenger nå.", n=granted), "success")
    return redirect(back)


def _registration_form() -> RegistrationForm:
    form = RegistrationForm()
    form.partner_id.choices = [(p.id, p.name) for p in admin.partners_in_reach(current_actor())]
    return form


@bp.route("/admin/aktivitetspenger/partnere", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def register():
    """The register of providers that may take money: put a partner on it, or suspend one."""
    form = _registration_form()
    me = current_actor()
    page = lambda errors=None: form_page("money/register.html", form, rows=admin.register_rows(me),  # noqa: E731
                                         action=ActionForm(), errors=errors)
    if form.validate_on_submit():
        with refused(page):
            admin.register(me, form.partner_id.data, org_number=form.org_number.data,
                           account_number=form.account_number.data, contact_email=form.contact_email.data,
                           repayment_accepted=bool(form.repayment_accepted.data))
        flash(_("Partneren er registrert og kan ta imot aktivitetspenger."), "success")
        return redirect(url_for("money.register"))
    return page()


@bp.post("/admin/aktivitetspenger/partnere/<int:partner_id>/suspender")
@roles_required(Role.ADMIN)
def suspend(partner_id: int):
    back = url_for("money.register")
    with refused(redirect_to=back):
        form = ActionForm()
        if not form.validate_on_submit():
            refuse_form(form, _("Skjemaet er utløpt. Prøv igjen."))
        admin.suspend(current_actor(), partner_id)
    flash(_("Registreringen er suspendert: partneren tar ikke imot aktivitetspenger."), "success")
    return redirect(back)


MENU = (
    nav.item("money.settlement_list", _l("Oppgjør av aktivitetspenger"), list(FINANCE), order=35, group="offers"),
    nav.item("money.schemes", _l("Aktivitetspenger"), [Role.ADMIN], order=85, group="admin"),
    nav.item("money.register", _l("Partnere som tar imot aktivitetspenger"), [Role.ADMIN], order=86, group="admin"),
)
