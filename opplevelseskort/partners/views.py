"""Partner registration and approval, partners' offers, the public catalogue and bookings."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from ..accounts import oidc
from ..accounts import services as accounts
from ..cards import services as cards
from ..core import files, municipalities, nav, tenancy
from ..core.clock import OSLO, today
from ..core.guards import form_page
from ..core.i18n import current_locale_code
from ..core.models import Role
from ..core.permissions import can_access_municipality, private_page, roles_required
from ..core.uow import refuse_form, refused
from ..extensions import db, limiter
from . import catalogue_cache, services
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
    StaffUserEditForm,
    StaffUserForm,
)
from .models import Partner

log = logging.getLogger(__name__)
bp = Blueprint("partners", __name__)


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
    if form.validate_on_submit():
        data = services.PartnerInput(form.name.data, form.org_number.data, form.kind.data, form.contact_name.data,
                                     form.contact_email.data, form.contact_phone.data or "", form.address.data or "",
                                     form.zone.data or "")
        with refused(lambda errors: form_page("partners/register.html", form, errors=errors)):
            services.register_partner(muni, data)
        return render_template("partners/registered.html")
    return form_page("partners/register.html", form)


register.public = True


@bp.get("/admin/partnere")
@roles_required(Role.ADMIN)
def partner_list():
    partners = services.partners_for_admin(current_user)
    return render_template("partners/partner_list.html", partners=partners, form=ReasonForm(),
                           actions={p.id: services.status_actions(p) for p in partners},
                           invites=services.invitations(partners))


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
    actions = {"godkjenn": lambda: services.approve_partner(partner, actor=current_user),
               "avvis": lambda: services.reject_partner(partner, form.reason.data, actor=current_user),
               "suspender": lambda: services.suspend_partner(partner, form.reason.data, actor=current_user)}
    if action not in actions:
        abort(404)
    with refused(redirect_to=url_for("partners.partner_list")):
        actions[action]()
    message = {"godkjenn": _("%(name)s er godkjent. Invitasjonen til %(email)s står i kø; listen viser når den er "
                             "sendt.", name=partner.name, email=partner.contact_email),
               "avvis": _("%(name)s er avvist.", name=partner.name),
               "suspender": _("%(name)s er suspendert.", name=partner.name)}[action]
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
        with refused(not_found=True):
            offer = services.get_offer_for_edit(current_user, offer_id)
    form = OfferForm(obj=offer)
    if request.method == "GET" and offer is not None:
        form.category.data, form.status.data = str(offer.category), str(offer.status)
        form.use_limit_period.data = str(offer.use_limit_period)
        form.zone.data = offer.zone.code if offer.zone else ""
        form.opening_hours.data = offer.opening_hours.as_one_text() if offer.opening_hours else ""
        for lang in ("en", "nn"):
            t = (offer.translations or {}).get(lang, {})
            getattr(form, f"title_{lang}").data = t.get("title", "")
            getattr(form, f"description_{lang}").data = t.get("description", "")

    def page(errors=None):
        return form_page("partners/offer_form.html", form, offer=offer, errors=errors or [], occasion_form=OccasionForm())

    if form.validate_on_submit():
        values, translations = _form_values(form)
        with refused(page):
            saved = services.save_offer(current_user, values, translations, offer=offer,
                                        zone_text=form.zone.data or "")
            if form.image.data and getattr(form.image.data, "filename", ""):
                services.set_offer_image(saved, form.image.data.read(), actor=current_user)
        flash(_("Tilbudet er lagret."), "success")
        return redirect(url_for("partners.offer_edit", offer_id=saved.id))
    return page()


@bp.post("/mine-tilbud/<int:offer_id>/datoer")
@roles_required(Role.PARTNER)
def occasion_add(offer_id: int):
    with refused(not_found=True):
        offer = services.get_offer_for_edit(current_user, offer_id)
    form = OccasionForm()
    with refused(redirect_to=url_for("partners.offer_edit", offer_id=offer.id)):
        if not form.validate_on_submit():
            refuse_form(form, _("Skriv inn start og slutt."))
        services.add_occasion(offer, form.starts_at.data.replace(tzinfo=OSLO),
                              form.ends_at.data.replace(tzinfo=OSLO), form.capacity.data, actor=current_user)
    flash(_("Datoen er lagt til."), "success")
    return redirect(url_for("partners.offer_edit", offer_id=offer.id))


# --- the public catalogue and booking --------------------------------------------------------

@bp.get("/tilbud")
def catalogue():
    # A shared deployment shows the offers of the request's municipality (host, choice or the user's own).
    muni = tenancy.current_municipality()
    locale = current_locale_code()

    def render_body() -> str:
        form = CatalogueForm(request.args)
        zones = services.catalogue_zones(muni)
        form.zone.choices = [(0, _("Alle områder"))] + [(z.id, z.name) for z in zones]
        form.validate()
        f = services.CatalogueFilter(age=form.age.data if not form.age.errors else None,
                                     category=(form.category.data or None) if not form.category.errors else None,
                                     zone_id=(form.zone.data or None) if not form.zone.errors else None,
                                     on=form.on.data if not form.on.errors else None, text=form.q.data or None,
                                     municipality_id=muni.id if muni else None)
        return render_template("partners/catalogue_body.html", form=form, offers=services.catalogue(f),
                               locale=locale)

    if muni is not None and not current_user.is_authenticated:  # the same body for every family asking this
        key = (muni.id, muni.catalogue_version, today(), locale, tuple(sorted(request.args.items(multi=True))))
        body = catalogue_cache.body(key, render_body)
    else:
        body = render_body()
    return render_template("partners/catalogue.html", body=Markup(body))


catalogue.public = True


@bp.get("/tilbud/<int:offer_id>")
def offer_page(offer_id: int):
    with refused(not_found=True):
        offer = services.public_offer(offer_id)
    token = request.args.get("kort")
    family = cards.find_card_by_family_token(token) if token else None  # a wrong link shows the plain page
    if family is not None:
        g.referrer_policy = "no-referrer"
    upcoming = services.upcoming_occasions(offer)
    staff_can_book = current_user.is_authenticated and current_user.role in (Role.CASEWORKER, Role.ADMIN)
    resp = make_response(render_template(
        "partners/offer_page.html", offer=offer, locale=current_locale_code(), upcoming=upcoming, family=family,
        today=today(),
        token=token, behalf_form=BookOnBehalfForm(), staff_can_book=staff_can_book))
    # With ?kort=<secret> the URL is the family's key: as private as the card page itself.
    return private_page(resp) if token else resp


offer_page.public = True


@bp.get("/tilbud/<int:offer_id>/bilde.jpg")
def offer_image(offer_id: int):
    with refused(not_found=True):
        offer = services.public_offer(offer_id)
    if not offer.has_image:
        abort(404)
    return files.response(services.image_key(offer))


offer_image.public = True


# --- staff users with their partner tie (admin): users are core's, which partner a user works for is ours ------

def _user_form_choices(form) -> None:
    munis = municipalities.municipalities_for(current_user)
    form.municipality_id.choices = [(0, _("Ingen (alle kommuner)"))] * (current_user.municipality_id is None) + [
        (m.id, f"{m.name} ({m.number})") for m in munis]
    form.partner_id.choices = [(0, _("Ingen"))] + services.partner_choices(current_user)


def _municipality_chosen(form) -> int | None:
    """A municipality-bound admin creates users in their own municipality only."""
    return current_user.municipality_id or form.municipality_id.data or None


@bp.route("/admin/brukere/ny", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_new():
    form = StaffUserForm()
    _user_form_choices(form)
    if form.validate_on_submit():
        with refused(lambda: form_page("partners/user_form.html", form),
                     field={"partner_unknown": form.partner_id, "partner_required": form.partner_id,
                            "password_too_short": form.password, "password_too_long": form.password,
                            "password_common": form.password, "role_invalid": form.role,
                            "municipality_required": form.municipality_id, None: form.email}):
            user = services.create_staff_user(
                form.email.data, form.password.data or accounts.unusable_password(), form.role.data,
                name=form.name.data or "", municipality_id=_municipality_chosen(form),
                partner_id=form.partner_id.data or None, actor=current_user)
        if form.password.data:
            flash(_("Brukeren %(email)s er opprettet.", email=user.email), "success")
        else:  # the user chooses their own password through a link
            accounts.send_password_link(user, actor=current_user)
            flash(_("Brukeren %(email)s er opprettet. En lenke for å velge passord står i kø; listen viser når den er "
                    "sendt.", email=user.email), "success")
        return redirect(url_for("accounts.users"))
    return form_page("partners/user_form.html", form)


@bp.route("/admin/brukere/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user_edit(user_id: int):
    with refused(not_found=True):
        user = accounts.user_to_manage(current_user, user_id)
    form = StaffUserEditForm(obj=user) if request.method == "GET" else StaffUserEditForm()
    if request.method == "GET":
        form.role.data = user.role.value
        form.municipality_id.data = user.municipality_id or 0
        form.partner_id.data = services.partner_id_of(user) or 0
    _user_form_choices(form)
    if form.validate_on_submit():
        with refused(lambda: form_page("partners/user_edit.html", form, user=user,
                                       oidc_providers=oidc.providers_for(user)),
                     field={"partner_unknown": form.partner_id, "partner_required": form.partner_id,
                            None: form.role}):
            services.update_staff_user(user, actor=current_user, role=form.role.data, active=form.active.data,
                                       name=form.name.data, municipality_id=_municipality_chosen(form),
                                       partner_id=form.partner_id.data or None)
        flash(_("Endringene er lagret."), "success")
        return redirect(url_for("accounts.users"))
    return form_page("partners/user_edit.html", form, user=user, oidc_providers=oidc.providers_for(user))


# The menu entries and dashboard figures of this part (wired by the app factory: core.nav.init_app)
MENU = (
    nav.item("partners.catalogue", _l("Tilbud"), list(Role), public=True, order=5, group="offers"),
    nav.item("partners.register", _l("Bli partner"), [], public=True, order=90),
    nav.item("partners.my_offers", _l("Mine tilbud"), [Role.PARTNER], order=11, group="offers"),
    nav.item("partners.partner_list", _l("Partnere"), [Role.ADMIN], order=60, group="admin"),
)
COUNTS = (
    nav.count(_l("partnere venter på godkjenning"), [Role.ADMIN], services.partners_waiting_count,
              endpoint="partners.partner_list", order=25),
)
