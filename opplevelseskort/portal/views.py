"""The family's pages (no account: the card's secret link is the key) and the neutral page behind the QR."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..cards import codes, devices, pdf, wallet
from ..cards import services as cards
from ..cards.models import CardStatus
from ..core.clock import today
from ..core.guards import form_page, json_error
from ..core.i18n import current_locale_code
from ..core.models import Role
from ..core.permissions import private_page, roles_required
from ..core.qr import qr_svg
from ..core.uow import refuse_form, refused
from ..extensions import limiter
from ..partners import bookings
from ..partners.forms import BookOnBehalfForm, ReasonForm
from ..partners.models import BookingStatus
from ..wishes import notice as wish_notice
from ..wishes import services as wishes
from ..wishes.forms import OptOutForm
from . import services

bp = Blueprint("portal", __name__)


def _card(token: str):
    with refused(not_found=True):
        return services.family_card(token)


@bp.get("/kort/<token>")
@limiter.limit(lambda: "120 per minute")
def family_card(token: str):
    page = services.card_page(_card(token), current_locale_code())
    offers = [{"title": title, "url": url_for("partners.offer_page", offer_id=o.id, kort=token)}
              for o, title in page.offers]
    bookings = [{"title": b.offer_title, "when": b.starts_at, "state": b.state,
                 "cancel_url": url_for("portal.family_cancel", token=token, booking_id=b.booking_id)}
                for b in page.bookings]
    return private_page(Response(render_template(
        "portal/family_card.html", card=page.card, child=page.card.child, status=page.status, CardStatus=CardStatus,
        offers=offers, bookings=bookings, short_code=codes.format_short_code(page.card.short_code), token=token,
        contact_line=page.contact_line, replaced=page.replaced, visits=page.visits, on_loan=page.on_loan,
        returned=page.returned, today=today(), wallets=page.wallets, money=page.money,
        wish_rounds=[{"title": r.title, "answered": answered, "url": url_for("portal.family_wish", token=token,
                                                                           round_id=r.id)}
                     for r, answered in page.wishes],
        wished=[{"title": title, "url": url_for("partners.offer_page", offer_id=o.id, kort=token)}
                for o, title in page.wished],
        opt_out_form=OptOutForm(opt_out=page.card.wishes_opt_out))))


@bp.get("/kort/<token>/qr.svg")
@limiter.limit(lambda: "120 per minute")
def family_card_qr(token: str):
    with refused(not_found=True):
        card = services.usable_card(token)
    # the signed code: a scanner reads it with or without a network (cards.signing)
    return private_page(Response(qr_svg(cards.signed_code(card), "Q"), mimetype="image/svg+xml"))


@bp.get("/kort/<token>/kort.pdf")
@limiter.limit(lambda: "30 per minute")
def family_card_pdf(token: str):
    with refused(not_found=True):
        card = services.usable_card(token)
    data = pdf.card_pdf(cards.card_face(card), current_locale_code())
    return private_page(Response(data, mimetype="application/pdf",
                                 headers={"Content-Disposition": 'attachment; filename="opplevelseskort.pdf"'}))


@bp.get("/kort/sw.js")
def card_service_worker():
    """The service worker lives under /kort/ so its scope covers the card pages only."""
    resp = send_from_directory(current_app.static_folder, "js/card-sw.js", mimetype="text/javascript", max_age=0)
    resp.headers["Service-Worker-Allowed"] = "/kort/"
    return resp


@bp.get("/kort/<token>/lommebok/apple.pkpass")
@limiter.limit(lambda: "30 per minute")
def family_apple_pass(token: str):
    """The card as an Apple Wallet pass (where the municipality offers it)."""
    with refused(not_found=True):
        card = services.usable_card(token)
        data, _pass = wallet.apple_pass(card)
    return private_page(Response(data, mimetype="application/vnd.apple.pkpass",
                                 headers={"Content-Disposition": 'attachment; filename="opplevelseskort.pkpass"'}))


@bp.get("/kort/<token>/lommebok/google")
@limiter.limit(lambda: "30 per minute")
def family_google_pass(token: str):
    """On to Google Wallet with the card (where the municipality offers it)."""
    with refused(not_found=True):
        link = wallet.google_save_link(services.usable_card(token))
    return private_page(redirect(link))


@bp.post("/kort/<token>/enhet")
@limiter.limit(lambda: "20 per hour")
def family_device(token: str):
    """The card page binds the card to this phone's own key (JSON, the page's CSRF token in X-CSRFToken): the phone
    then signs a new code every few seconds, which a screenshot cannot copy (cards.devices)."""
    with refused(not_found=True):
        card = services.usable_card(token)  # a revoked or expired card binds no phone (its codes would be new)
    with refused(verdict=lambda exc: json_error(422, exc.code, exc.message)):
        answer = devices.bind(card, str((request.get_json(silent=True) or {}).get("public_key") or ""))
    return private_page(jsonify(answer))


@bp.get("/k/<token>")
@limiter.limit(lambda: "60 per minute")
def scan_landing(token: str):
    """What the QR opens. A signed-in partner at the door goes on to check the card in; anyone else (an ordinary
    phone camera) gets the same neutral page for every code, valid or not."""
    if current_user.is_authenticated and current_user.role == Role.PARTNER:
        return redirect(url_for("checkin.from_link", token=token))
    return private_page(Response(render_template("portal/scan_landing.html")))


@bp.post("/kort/<token>/pamelding/<int:occasion_id>")
@limiter.limit(lambda: "30 per hour")
def family_book(token: str, occasion_id: int):
    """A family books from its card page (identified by the card's secret link, no login)."""
    card = _card(token)
    with refused(not_found=True):
        occ = services.occasion_for_family(occasion_id)
    back = url_for("portal.family_card", token=token)
    with refused(redirect_to=back):
        form = ReasonForm()
        if not form.validate_on_submit():
            refuse_form(form, _("Skjemaet er utløpt. Prøv igjen."))
        booking = services.book(occ, card)
    if booking.status == BookingStatus.BOOKED:
        flash(_("Du har fått plass."), "success")
    else:
        flash(_("Det er fullt. Du står på venteliste som nummer %(n)d. Du får beskjed hvis du får plass.",
                n=bookings.waitlist_position(booking)), "info")
    return redirect(back)


@bp.post("/kort/<token>/avmelding/<int:booking_id>")
@limiter.limit(lambda: "30 per hour")
def family_cancel(token: str, booking_id: int):
    card = _card(token)
    with refused(not_found=True):
        booking = services.booking_of_family(card, booking_id)
    back = url_for("portal.family_card", token=token)
    with refused(redirect_to=back):
        form = ReasonForm()
        if not form.validate_on_submit():
            refuse_form(form, _("Skjemaet er utløpt. Prøv igjen."))
        services.cancel(booking)
    flash(_("Påmeldingen er avbestilt."), "success")
    return redirect(back)


for _public_view in (family_card, family_card_qr, family_card_pdf, scan_landing, card_service_worker, family_book,
                     family_cancel, family_device, family_apple_pass, family_google_pass):
    _public_view.public = True


@bp.post("/tilbud/<int:offer_id>/pamelding/<int:occasion_id>/pa-vegne")
@roles_required(Role.CASEWORKER, Role.ADMIN)
def book_on_behalf(offer_id: int, occasion_id: int):
    """A caseworker books a place for a child, identified by the child's card code; at a priced offer of a
    registered partner the child's activity money is held for it, as when the family books."""
    with refused(not_found=True):
        occ = services.occasion_of_offer(offer_id, occasion_id)
    form = BookOnBehalfForm()
    back = url_for("partners.offer_page", offer_id=offer_id)
    with refused(redirect_to=back):
        if not form.validate_on_submit():
            refuse_form(form, _("Skriv kortkoden til barnet."))
        booking = services.book_on_behalf(occ, form.card_code.data, actor=current_user)
    flash(_("Påmeldt.") if booking.status == BookingStatus.BOOKED else _("Satt på venteliste."), "success")
    return redirect(back)


@bp.route("/kort/<token>/onsker/<int:round_id>", methods=["GET", "POST"])
@limiter.limit(lambda: "30 per minute")
def family_wish(token: str, round_id: int):
    """A card holder says what they would try: once per round, never tied to the card (see wishes.services)."""
    card = _card(token)
    with refused(not_found=True):
        wish_round = services.wish_round_for_card(card, round_id)
    back = url_for("portal.family_card", token=token)
    if wishes.has_answered(wish_round, card):
        flash(_("Du har allerede svart i denne runden. Takk!"), "success")
        return redirect(back)
    form = wish_notice.answer_form(wish_round)

    def page(*_unplaced):
        return private_page(make_response(form_page("wishes/answer.html", form, r=wish_round,
                                                    pictograms=wish_notice.pictograms(),
                                                    notice=wish_notice.notice(current_locale_code(), wish_round))))

    if form.validate_on_submit():
        with refused(page, form=form):
            wishes.answer_with_card(wish_round, card, wish_notice.answer_input(form))
        flash(_("Takk for svaret ditt!"), "success")
        return redirect(back)
    return page()


family_wish.public = True


@bp.post("/kort/<token>/onsker")
@limiter.limit(lambda: "30 per minute")
def family_wish_opt_out(token: str):
    """A parent turns wishes off for the child's card (or on again)."""
    card = _card(token)
    back = url_for("portal.family_card", token=token)
    form = OptOutForm()
    with refused(redirect_to=back):
        if not form.validate_on_submit():
            refuse_form(form, _("Skjemaet er utløpt. Prøv igjen."))
        wishes.set_opt_out(card, bool(form.opt_out.data))
    flash(_("Lagret."), "success")
    return redirect(back)


family_wish_opt_out.public = True
