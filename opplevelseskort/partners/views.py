"""Partner registration and approval, partners' offers, the public catalogue and bookings."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..cards import services as cards
from ..cards.models import Card
from ..core import nav, tenancy
from ..core.errors import DomainError
from ..core.guards import form_page
from ..core.i18n import current_locale_code, today
from ..core.models import Role
from ..core.permissions import can_access_municipality, private_page, roles_required
from ..core.uow import on_refusal, refuse_form
from ..extensions import db, limiter
from . import services
from .forms import (
    CATEGORY_LABELS,
    KIND_LABELS,
    PERIOD_LABELS,
    STATUS_LABELS,
    BookOnBehalfForm,
    CatalogueForm,
    OccasionForm,
    OfferForm,
    PartnerRegistrationForm,
    ReasonForm,
)
from .models import Booking, BookingStatus, Occasion, Partner

log = logging.getLogger(__name__)
bp = Blueprint("partners", __name__)
OSLO = ZoneInfo("Europe/Oslo")


@bp.context_processor
def _labels():
    return {"category_labels": CATEGORY_LABELS, "status_labels": STATUS_LABELS, "kind_labels": KIND_LABELS,
            "period_labels": PERIOD_LABELS}


# --- registration and approval ---------------------------------------------------------------

@bp.route("/partnere/registrer", methods=["GET", "POST"])
@limiter.limit(lambda: "20 per hour", methods=["POST"])
def register():
    muni, choose = tenancy.municipality_or_choose()
    if choose is not None:
        return choose
    form = PartnerRegistrationForm()
    errors: list[str] = []
    if form.validate_on_submit():
        data = services.PartnerInput(form.name.data, form.org_number.data, form.kind.data, form.contact_name.data,
                                     form.contact_email.data, form.contact_phone.data or "", form.address.data or "",
                                     form.zone.data or "")
        on_refusal(lambda refused: form_page("partners/register.html", form, errors=refused))
        services.register_partner(muni, data)
        return render_template("partners/registered.html")
    return form_page("partners/register.html", form, errors=errors)


register.public = True


@bp.get("/admin/partnere")
@roles_required(Role.ADMIN)
def partner_list():
    return render_template("partners/partner_list.html", partners=services.partners_for_admin(current_user),
                           form=ReasonForm())


def _admin_partner(partner_id: int) -> Partner:
    p = db.session.get(Partner, partner_id)
    if p is None or not can_access_municipality(current_user, p.municipality_id):
        abort(404)
    return p


@bp.post("/admin/partnere/<int:partner_id>/<action>")
@roles_required(Role.ADMIN)
def partner_action(partner_id: int, action: str):
    partner = _admin_partner(partner_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    on_refusal(redirect_to=url_for("partners.partner_list"))
    if action == "godkjenn":
        services.approve_partner(partner, actor=current_user)
        message = _("%(name)s er godkjent, og kontaktpersonen har fått en invitasjon.", name=partner.name)
    elif action == "avvis":
        services.reject_partner(partner, form.reason.data, actor=current_user)
        message = _("%(name)s er avvist.", name=partner.name)
    elif action == "suspender":
        services.suspend_partner(partner, form.reason.data, actor=current_user)
        message = _("%(name)s er suspendert.", name=partner.name)
    else:
        abort(404)
    flash(message, "success")
    return redirect(url_for("partners.partner_list"))


# --- partners' own offers --------------------------------------------------------------------

@bp.get("/mine-tilbud")
@roles_required(Role.PARTNER)
def my_offers():
    return render_template("partners/my_offers.html", offers=list(db.session.scalars(services.offers_of(current_user))))


def _form_values(form: OfferForm) -> tuple[dict, dict]:
    values = {name: getattr(form, name).data for name in services.OFFER_FIELDS if hasattr(form, name)}
    values["title"] = (values.get("title") or "").strip()
    values["description"] = (values.get("description") or "").strip()
    values["price_nok"] = values.get("price_nok") or 0
    values["companions_allowed"] = values.get("companions_allowed") or 0
    translations = {lang: {"title": (getattr(form, f"title_{lang}").data or "").strip(),
                           "description": (getattr(form, f"description_{lang}").data or "").strip()}
                    for lang in ("en", "nn")}
    return values, translations


@bp.route("/mine-tilbud/ny", methods=["GET", "POST"])
@bp.route("/mine-tilbud/<int:offer_id>", methods=["GET", "POST"])
@roles_required(Role.PARTNER)
def offer_edit(offer_id: int | None = None):
    offer = None
    if offer_id is not None:
        try:
            offer = services.get_offer_for_edit(current_user, offer_id)
        except DomainError:
            abort(404)
    form = OfferForm(obj=offer)
    if request.method == "GET" and offer is not None:
        form.category.data, form.status.data = str(offer.category), str(offer.status)
        form.use_limit_period.data = str(offer.use_limit_period)
        form.zone.data = offer.zone.code if offer.zone else ""
        for lang in ("en", "nn"):
            t = (offer.translations or {}).get(lang, {})
            getattr(form, f"title_{lang}").data = t.get("title", "")
            getattr(form, f"description_{lang}").data = t.get("description", "")

    def page(errors=None):
        return form_page("partners/offer_form.html", form, offer=offer, errors=errors or [], occasion_form=OccasionForm())

    if form.validate_on_submit():
        values, translations = _form_values(form)
        on_refusal(page)
        saved = services.save_offer(current_user, values, translations, offer=offer, zone_text=form.zone.data or "")
        if form.image.data and getattr(form.image.data, "filename", ""):
            services.set_offer_image(saved, form.image.data.read(), actor=current_user)
        flash(_("Tilbudet er lagret."), "success")
        return redirect(url_for("partners.offer_edit", offer_id=saved.id))
    return page()


@bp.post("/mine-tilbud/<int:offer_id>/datoer")
@roles_required(Role.PARTNER)
def occasion_add(offer_id: int):
    try:
        offer = services.get_offer_for_edit(current_user, offer_id)
    except DomainError:
        abort(404)
    form = OccasionForm()
    on_refusal(redirect_to=url_for("partners.offer_edit", offer_id=offer.id))
    if not form.validate_on_submit():
        raise DomainError("form_invalid", _("Skriv inn start og slutt."))
    services.add_occasion(offer, form.starts_at.data.replace(tzinfo=OSLO), form.ends_at.data.replace(tzinfo=OSLO),
                          form.capacity.data, actor=current_user)
    flash(_("Datoen er lagt til."), "success")
    return redirect(url_for("partners.offer_edit", offer_id=offer.id))


@bp.get("/mine-tilbud/<int:offer_id>/pameldte/<int:occasion_id>")
@roles_required(Role.PARTNER)
def occasion_bookings(offer_id: int, occasion_id: int):
    occ = _own_occasion(offer_id, occasion_id)
    return render_template("partners/occasion_bookings.html", occ=occ, rows=services.bookings_of(occ),
                           no_shows=services.no_shows(occ))


@bp.post("/mine-tilbud/<int:offer_id>/pameldte/<int:occasion_id>/frigi")
@roles_required(Role.PARTNER)
def release(offer_id: int, occasion_id: int):
    occ = _own_occasion(offer_id, occasion_id)
    if not ReasonForm().validate_on_submit():
        abort(400)
    n = services.release_no_shows(occ, actor=current_user)
    flash(_("%(n)d plasser er gitt videre til ventelisten.", n=n), "success")
    return redirect(url_for("partners.occasion_bookings", offer_id=offer_id, occasion_id=occasion_id))


def _own_occasion(offer_id: int, occasion_id: int) -> Occasion:
    try:
        offer = services.get_offer_for_edit(current_user, offer_id)
    except DomainError:
        abort(404)
    occ = db.session.get(Occasion, occasion_id)
    if occ is None or occ.offer_id != offer.id:
        abort(404)
    return occ


# --- the public catalogue and booking --------------------------------------------------------

@bp.get("/tilbud")
def catalogue():
    form = CatalogueForm(request.args)
    # A shared deployment shows the offers of the request's municipality (host, choice or the user's own).
    muni = tenancy.current_municipality()
    zones = services.catalogue_zones(muni)
    form.zone.choices = [(0, _("Alle områder"))] + [(z.id, z.name) for z in zones]
    form.validate()
    f = services.CatalogueFilter(age=form.age.data if not form.age.errors else None,
                                 category=(form.category.data or None) if not form.category.errors else None,
                                 zone_id=(form.zone.data or None) if not form.zone.errors else None,
                                 on=form.on.data if not form.on.errors else None, text=form.q.data or None,
                                 municipality_id=muni.id if muni else None)
    offers = services.catalogue(f)
    return render_template("partners/catalogue.html", form=form, offers=offers, locale=current_locale_code())


catalogue.public = True


@bp.get("/tilbud/<int:offer_id>")
def offer_page(offer_id: int):
    try:
        offer = services.public_offer(offer_id)
    except DomainError:
        abort(404)
    family = None
    token = request.args.get("kort")
    if token:
        try:
            family = cards.card_by_family_token(token)
            g.referrer_policy = "no-referrer"
        except DomainError:
            family = None
    upcoming = [o for o in offer.occasions if o.starts_at > services.utcnow()]
    staff_can_book = current_user.is_authenticated and current_user.role in (Role.CASEWORKER, Role.ADMIN)
    resp = make_response(render_template(
        "partners/offer_page.html", offer=offer, locale=current_locale_code(), upcoming=upcoming, family=family,
        token=token, behalf_form=BookOnBehalfForm(), staff_can_book=staff_can_book))
    # With ?kort=<secret> the URL is the family's key: as private as the card page itself.
    return private_page(resp) if token else resp


offer_page.public = True


@bp.get("/tilbud/<int:offer_id>/bilde.jpg")
def offer_image(offer_id: int):
    from ..core import files

    try:
        offer = services.public_offer(offer_id)
    except DomainError:
        abort(404)
    if not offer.has_image:
        abort(404)
    return files.response(services.image_key(offer))


offer_image.public = True


@bp.post("/kort/<token>/pamelding/<int:occasion_id>")
@limiter.limit(lambda: "30 per hour")
def family_book(token: str, occasion_id: int):
    """A family books from its card page (identified by the card's secret link, no login)."""
    try:
        card = cards.card_by_family_token(token)
    except DomainError:
        abort(404)
    occ = db.session.get(Occasion, occasion_id)
    if occ is None:
        abort(404)
    if not ReasonForm().validate_on_submit():
        abort(400)
    back = url_for("cards.family_card", token=token)
    on_refusal(redirect_to=back)
    booking = services.book(occ, card, actor=None)
    if booking.status == BookingStatus.BOOKED:
        flash(_("Du har fått plass."), "success")
    else:
        flash(_("Det er fullt. Du står på venteliste som nummer %(n)d. Du får beskjed hvis du får plass.",
                n=services.waitlist_position(booking)), "info")
    return redirect(back)


family_book.public = True


@bp.post("/kort/<token>/avmelding/<int:booking_id>")
@limiter.limit(lambda: "30 per hour")
def family_cancel(token: str, booking_id: int):
    try:
        card = cards.card_by_family_token(token)
    except DomainError:
        abort(404)
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.child_id != card.child_id:
        abort(404)
    if not ReasonForm().validate_on_submit():
        abort(400)
    back = url_for("cards.family_card", token=token)
    on_refusal(redirect_to=back)
    services.cancel_booking(booking, actor=None)
    flash(_("Påmeldingen er avbestilt."), "success")
    return redirect(back)


family_cancel.public = True


@bp.post("/tilbud/<int:offer_id>/pamelding/<int:occasion_id>/pa-vegne")
@roles_required(Role.CASEWORKER, Role.ADMIN)
def book_on_behalf(offer_id: int, occasion_id: int):
    """A caseworker books a place for a child, identified by the child's card code."""
    occ = db.session.get(Occasion, occasion_id)
    if occ is None or occ.offer_id != offer_id:
        abort(404)
    form = BookOnBehalfForm()
    back = url_for("partners.offer_page", offer_id=offer_id)
    on_refusal(redirect_to=back)
    if not form.validate_on_submit():
        refuse_form(form, _("Skriv kortkoden til barnet."))
    card = cards.lookup_card(form.card_code.data)
    if not can_access_municipality(current_user, card.municipality_id):
        raise DomainError("card_unknown", _("Ukjent kort."))
    booking = services.book(occ, card, actor=current_user)
    flash(_("Påmeldt.") if booking.status == BookingStatus.BOOKED else _("Satt på venteliste."), "success")
    return redirect(back)


nav.register("partners.catalogue", _l("Tilbud"), list(Role), public=True, order=5, group="offers")
nav.register("partners.register", _l("Bli partner"), [], public=True, order=90)
nav.register("partners.my_offers", _l("Mine tilbud"), [Role.PARTNER], order=11, group="offers")
nav.register("partners.partner_list", _l("Partnere"), [Role.ADMIN], order=60, group="admin")


# --- what the family's card page (cards) shows from this part: wired in the factory (core.hooks) ---------------

def offers_for_card_page(card: Card) -> list[dict]:
    """Offers the child can use now: published, running today, for the child's age."""
    on = today()
    if cards.card_status(card, on) != "active":
        return []
    age = cards.child_age(card.child, on)
    offers = services.catalogue(services.CatalogueFilter(age=age, on=on), limit=50)
    locale = current_locale_code()
    return [{"title": o.text(locale)[0], "url": url_for("partners.offer_page", offer_id=o.id, kort=card.family_token),
             "offer": o} for o in offers]


def bookings_for_card_page(card: Card) -> list[dict]:
    out = []
    for b in services.bookings_for_card(card):
        occ = db.session.get(Occasion, b.occasion_id)
        out.append({"title": occ.offer.text(current_locale_code())[0], "when": occ.starts_at, "status": str(b.status),
                    "position": services.waitlist_position(b),
                    "cancel_url": url_for("partners.family_cancel", token=card.family_token, booking_id=b.id)})
    return out
