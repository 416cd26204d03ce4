"""Volunteers' phone pages for the lending central, the public availability page, statistics and labels."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from opplevelseskort.core import files, nav
from opplevelseskort.core.guards import form_page, year_arg
from opplevelseskort.core.i18n import current_locale_code
from opplevelseskort.core.models import Role
from opplevelseskort.core.permissions import roles_required
from opplevelseskort.core.uow import refuse_form, refused
from opplevelseskort.extensions import db

from . import label_sheets, overview, services
from . import reservations as reserving
from .forms import (
    CATEGORY_LABELS,
    CONDITION_LABELS,
    BlockForm,
    BorrowerForm,
    CheckoutForm,
    LocationForm,
    ReservationForm,
    ReturnForm,
    UnitsForm,
    UnmetForm,
)
from .models import Borrower, ItemType, Reservation, Unit, UnitStatus

bp = Blueprint("utstyr", __name__)
STAFF = (Role.VOLUNTEER, Role.ADMIN)


@bp.context_processor
def _labels():
    return {"category_labels": CATEGORY_LABELS, "condition_labels": CONDITION_LABELS}


def _location():
    locs = services.locations_for(current_user)
    if not locs:  # not a dead end: the page says what to do (an admin creates a central, a volunteer asks)
        abort(make_response(render_template("utstyr/no_location.html"), 200 if request.method == "GET" else 409))
    wanted = request.values.get("location", type=int) or session.get("utstyr_location")
    loc = next((l for l in locs if l.id == wanted), locs[0])  # noqa: E741
    session["utstyr_location"] = loc.id
    return loc, locs


@dataclass
class Picker:
    """The borrower search inside the checkout and reservation forms."""
    query: str = ""
    results: list = field(default_factory=list)
    holders: dict = field(default_factory=dict)
    chosen: object | None = None
    chosen_name: str = ""
    keep: dict = field(default_factory=dict)


def _picker(loc, form) -> Picker:
    """?finn= searches borrowers; ?laaner= (a "Velg" link) fills the form's borrower number."""
    picker = Picker(query=(request.args.get("finn") or "").strip()[:100])
    if picker.query:
        picker.results = services.search_borrowers(loc.municipality_id, picker.query)
        picker.holders = services.holder_details(picker.results)
    chosen = request.args.get("laaner", type=int)
    if chosen and request.method == "GET":
        b = services.borrower_in(loc.municipality_id, chosen)
        if b is not None:
            form.borrower_id.data = b.id
            picker.chosen = b
            picker.chosen_name = services.holder_details([b]).get(b.id, (b.name or "–",))[0]
    return picker


@bp.get("/")
@roles_required(*STAFF)
def home():
    loc, locs = _location()
    return render_template("utstyr/home.html", loc=loc, locs=locs,
                           unchecked=services.units_at(loc, status=UnitStatus.UNCHECKED),
                           maintenance=services.units_at(loc, status=UnitStatus.MAINTENANCE),
                           overdue=overview.overdue_lines(current_user), unmet_form=UnmetForm())


@bp.route("/utlan", methods=["GET", "POST"])
@roles_required(*STAFF)
def checkout():
    loc, locs = _location()
    form = CheckoutForm()
    picker = _picker(loc, form)
    if form.validate_on_submit():
        codes = form.unit_codes.data.split()
        kits = services.kits_to_tick(codes, shown=bool(request.form.get("kit_shown")))
        if kits:
            return render_template("utstyr/checkout.html", form=form, loc=loc, locs=locs, kits=kits, picker=picker)
        with refused(lambda: form_page("utstyr/checkout.html", form, loc=loc, locs=locs, kits=[], picker=picker),
                     field={"due_invalid": form.late_reason, "borrower_missing": form.borrower_id,
                            "borrower_unknown": form.borrower_id, "card_unknown": form.card_code,
                            None: form.unit_codes}):
            borrower = services.resolve_borrower(loc.municipality_id, card_code=form.card_code.data,
                                                 borrower_id=form.borrower_id.data)
            checklists = {code: request.form.getlist(f"kit-{code}") for code in codes}
            loan = services.checkout(loc, borrower, codes, volunteer=current_user, due_on=form.due_on.data,
                                     checklists=checklists, late_reason=form.late_reason.data)
        flash(_("Utlånt til %(name)s (låner %(id)d): %(n)d enheter, leveres innen %(date)s.",
                name=borrower.name or "–", id=borrower.id, n=len(loan.lines),
                date=format_date(loan.due_on, "d. MMMM y")), "success")
        missing = services.missing_at_checkout(loan)
        if missing:
            flash(_("Mangler ved utlevering: %(missing)s", missing="; ".join(missing)), "info")
        return redirect(url_for("utstyr.checkout"))
    return form_page("utstyr/checkout.html", form, loc=loc, locs=locs, kits=[], picker=picker)


@bp.route("/retur", methods=["GET", "POST"])
@roles_required(*STAFF)
def return_():
    loc, locs = _location()
    form = ReturnForm()
    kit = []
    code = request.values.get("unit_code") or ""
    if code and request.method == "GET":
        form.unit_code.data = code
        kit = next((items for _code, items in services.kits_to_tick([code], shown=False)), [])
    if form.validate_on_submit():
        shown = bool(request.form.get("kit_shown"))
        if services.kits_to_tick([form.unit_code.data], shown=shown):
            # a kit: show its checklist before taking it back
            return redirect(url_for("utstyr.return_", unit_code=form.unit_code.data))
        with refused(lambda: form_page("utstyr/return.html", form, loc=loc, locs=locs, kit=kit), field=form.unit_code):
            line = services.return_unit(form.unit_code.data, volunteer=current_user, condition=form.condition.data,
                                        unchecked=form.unchecked.data, lost=form.lost.data,
                                        missing=form.missing.data,
                                        checklist_in=request.form.getlist("kit") if shown else None)
        status = line.unit.status
        message = {UnitStatus.MAINTENANCE: _("%(code)s er levert og satt til reparasjon."),
                   UnitStatus.UNCHECKED: _("%(code)s er levert og står i køen for sjekk."),
                   UnitStatus.LOST: _("%(code)s er skrevet av som tapt.")}.get(status, _("%(code)s er levert."))
        flash(message % {"code": line.unit.label_code}, "success")
        if line.missing:
            flash(_("Mangler: %(missing)s", missing=line.missing), "info")
        return redirect(url_for("utstyr.return_"))
    return form_page("utstyr/return.html", form, loc=loc, locs=locs, kit=kit)


@bp.post("/enhet/<int:unit_id>/<action>")
@roles_required(*STAFF)
def unit_action(unit_id: int, action: str):
    unit = db.session.get(Unit, unit_id)
    if unit is None or unit.location_id not in {loc.id for loc in services.locations_for(current_user)}:
        abort(404)
    actions = {"sjekket": lambda: services.finish_check(unit, volunteer=current_user,
                                                        condition=request.form.get("condition", "good")),
               "reparert": lambda: services.repaired(unit, volunteer=current_user),
               "kasser": lambda: services.retire(unit, volunteer=current_user)}
    if action not in actions:
        abort(404)
    with refused(redirect_to=url_for("utstyr.home")):
        actions[action]()
    flash(_("%(code)s er oppdatert.", code=unit.label_code), "success")
    return redirect(url_for("utstyr.home"))


@bp.post("/mangler")
@roles_required(*STAFF)
def unmet():
    loc, _locs = _location()
    form = UnmetForm()
    with refused(redirect_to=url_for("utstyr.home")):
        if not form.validate_on_submit():
            refuse_form(form, _("Velg hva som ble spurt etter."))
        overview.record_unmet_demand(loc, category=form.category.data, size=form.size.data or "",
                                     volunteer=current_user)
    flash(_("Takk! Ønsket er notert."), "success")
    return redirect(url_for("utstyr.home"))


@bp.route("/lanere/ny", methods=["GET", "POST"])
@roles_required(*STAFF)
def borrower_new():
    loc, locs = _location()
    form = BorrowerForm()
    if form.validate_on_submit():
        with refused(lambda: form_page("utstyr/borrower_form.html", form), field=form.name):
            b = services.register_borrower(loc.municipality_id, kind=form.kind.data, name=form.name.data,
                                           phone=form.phone.data, email=form.email.data, actor=current_user)
        flash(_("Låneren er registrert med lånernummer %(id)d.", id=b.id), "success")
        return redirect(url_for("utstyr.checkout"))
    return form_page("utstyr/borrower_form.html", form)


@bp.route("/enheter", methods=["GET", "POST"])
@roles_required(*STAFF)
def units():
    loc, locs = _location()
    form = UnitsForm()

    def page():
        return form_page("utstyr/units.html", form, rows=services.units_at(loc), loc=loc)

    if form.validate_on_submit():
        photo = form.photo.data.read() if form.photo.data and getattr(form.photo.data, "filename", "") else None
        with refused(page, field=form.photo):
            services.register_units(loc, name=form.name.data, size=form.size.data or "",
                                    category=form.category.data, count=form.count.data, actor=current_user,
                                    default_loan_days=form.default_loan_days.data,
                                    guardian_consent_required=form.guardian_consent_required.data,
                                    kit_items=(form.kit_items.data or "").split(","), photo=photo,
                                    safety_expires_on=form.safety_expires_on.data)
        flash(_("%(n)d enheter er registrert.", n=form.count.data), "success")
        return redirect(url_for("utstyr.units"))
    return page()


@bp.get("/etiketter.pdf")
@roles_required(*STAFF)
def label_pdf():
    loc, _locs = _location()
    ids = request.args.getlist("unit", type=int)
    return Response(label_sheets.label_sheet(services.units_at(loc, ids=ids)), mimetype="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="etiketter.pdf"'})


@bp.get("/statistikk")
@roles_required(Role.VOLUNTEER, Role.ADMIN, Role.ANALYST)
def stats():
    year = year_arg()
    data = overview.statistics_for(current_user, year)
    return render_template("utstyr/stats.html", data=data, year=year)


@bp.route("/reservasjoner", methods=["GET", "POST"])
@roles_required(*STAFF)
def reservations():
    loc, locs = _location()
    types = services.item_types(loc.municipality_id)
    form = ReservationForm()
    form.item_type_id.choices = [(t.id, t.display_name()) for t in types]
    picker = _picker(loc, form)
    wanted = request.args.get("type", type=int)
    if wanted:
        picker.keep = {"type": wanted}

    def page():
        shown = wanted if wanted in {t.id for t in types} else (types[0].id if types else None)
        days = reserving.calendar(loc.id, shown, services.today()) if shown else []
        return form_page("utstyr/reservations.html", form, loc=loc, locs=locs, types=types, shown=shown,
                         days=days, rows=reserving.active_reservations(loc), picker=picker)

    if form.validate_on_submit():
        item_type = db.session.get(ItemType, form.item_type_id.data)
        with refused(page, field={"borrower_unknown": form.borrower_id, "borrower_missing": form.borrower_id,
                                  None: form.quantity}):
            borrower = services.resolve_borrower(loc.municipality_id, borrower_id=form.borrower_id.data)
            reserving.reserve(loc, borrower, item_type, form.quantity.data, form.date_from.data, form.date_to.data,
                             actor=current_user)
        flash(_("Reservert."), "success")
        return redirect(url_for("utstyr.reservations", type=item_type.id))
    return page()


@bp.route("/steder", methods=["GET", "POST"])
@bp.route("/steder/<int:location_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def locations(location_id: int | None = None):
    """Admins create lending locations, change them later (address, opening hours, volunteers)."""
    loc = services.require_location(current_user, location_id) if location_id else None
    # The saved location fills the form on GET only: an empty POST must not read its relationships as text.
    form = LocationForm(obj=loc if request.method == "GET" else None)
    if loc is not None and request.method == "GET":
        form.hours.data, form.exceptions.data = loc.opening_hours.as_text()
        form.volunteers.data = ", ".join(v.email for v in loc.volunteers)
    if form.validate_on_submit():
        values = {k: getattr(form, k).data for k in ("name", "address", "contact", "hours", "exceptions",
                                                     "solo_age", "household_cap", "peak_from", "peak_until")}
        values.update(name=values["name"].strip(), address=values["address"] or "", contact=values["contact"] or "")
        emails = [e.strip() for e in (form.volunteers.data or "").split(",") if e.strip()]
        with refused(lambda: form_page("utstyr/locations.html", form, loc=loc,
                                       locs=services.locations_for(current_user)),
                     field={"volunteers_unknown": form.volunteers, None: form.hours}):
            saved = services.save_location(current_user, values, location=loc, volunteer_emails=emails)
        flash(_("Utlånsstedet er lagret."), "success")
        return redirect(url_for("utstyr.locations", location_id=saved.id))
    return form_page("utstyr/locations.html", form, loc=loc, locs=services.locations_for(current_user))


@bp.route("/lanere/<int:borrower_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def borrower(borrower_id: int):
    loc, _locs = _location()
    b = db.session.get(Borrower, borrower_id)
    if b is None or b.municipality_id != loc.municipality_id:
        abort(404)
    form = BlockForm()

    def page():
        return form_page("utstyr/borrower.html", form, b=b, history=services.borrower_history(b), today=services.today())

    if form.validate_on_submit():
        with refused(page, field=form.reason):
            if request.form.get("action") == "unblock":
                services.unblock_borrower(b, actor=current_user)
            else:
                services.block_borrower(b, form.reason.data, actor=current_user)
        flash(_("Låneren er oppdatert."), "success")
        return redirect(url_for("utstyr.borrower", borrower_id=b.id))
    return page()


@bp.get("/lanere")
@roles_required(*STAFF)
def borrowers():
    """Find a borrower by name, phone, card code or number, to see what they have and have reserved."""
    loc, _locs = _location()
    query = (request.args.get("q") or "").strip()[:100]
    results = services.search_borrowers(loc.municipality_id, query) if query else []
    return render_template("utstyr/borrowers.html", query=query, results=results,
                           holders=services.holder_details(results))


@bp.post("/reservasjoner/<int:reservation_id>/avbestill")
@roles_required(*STAFF)
def cancel_reservation(reservation_id: int):
    reservation = db.session.get(Reservation, reservation_id)
    if reservation is None:
        abort(404)
    back = request.form.get("next")
    back = back if back in (url_for("utstyr.reservations"),
                            url_for("utstyr.borrower", borrower_id=reservation.borrower_id)) else url_for("utstyr.reservations")
    with refused(redirect_to=back):
        reserving.cancel_reservation(reservation, actor=current_user)
    flash(_("Reservasjonen for %(name)s er avbestilt.", name=reservation.borrower.name or "–"), "success")
    return redirect(back)


@bp.get("/bilde/<int:type_id>.jpg")
def photo(type_id: int):
    it = db.session.get(ItemType, type_id)
    if it is None or not it.has_photo:
        abort(404)
    return files.response(services.photo_key(it))


photo.public = True


@bp.get("/lan")
def public():
    return render_template("utstyr/public.html", rows=overview.public_availability(current_locale_code()),
                           today=services.today())


public.public = True


# The menu entries and dashboard figures of this part (wired by the app factory: core.nav.init_app)
MENU = (
    nav.item("utstyr.home", _l("Utstyr"), STAFF, order=12, group="equipment"),
    nav.item("utstyr.checkout", _l("Lån ut"), STAFF, order=13, group="equipment"),
    nav.item("utstyr.return_", _l("Ta imot"), STAFF, order=14, group="equipment"),
    nav.item("utstyr.borrowers", _l("Lånere"), STAFF, order=15, group="equipment"),
    nav.item("utstyr.reservations", _l("Reservasjoner"), STAFF, order=15, group="equipment"),
    nav.item("utstyr.locations", _l("Utlånssteder"), [Role.ADMIN], order=62, group="admin"),
    nav.item("utstyr.stats", _l("Utstyrsstatistikk"), [Role.VOLUNTEER, Role.ADMIN, Role.ANALYST], order=50, group="equipment"),
    nav.item("utstyr.public", _l("Lån utstyr"), [], public=True, order=6),
)
COUNTS = (
    nav.count(_l("utlån skal leveres i dag eller er på overtid"), [Role.VOLUNTEER, Role.ADMIN], overview.loans_due_count,
              endpoint="utstyr.home", order=30),
)
