"""Wish rounds' pages: the culture office's rounds (classes and their sheets, results, gaps, calls), a class's code
page where a pupil answers and later sees what came of it, the partners' calls, and the public page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..core import nav, tenancy
from ..core.guards import form_page
from ..core.i18n import current_locale_code
from ..core.models import Role
from ..core.permissions import can_access_municipality, private_page, roles_required
from ..core.uow import refuse_form, refused
from ..extensions import limiter
from ..partners.forms import ReasonForm
from . import calls, catalogue, notice, results, services
from .forms import CallAnswerForm, CallForm, ClassForm, RoundForm

bp = Blueprint("wishes", __name__)


# --- the culture office (admin) -------------------------------------------------------------------------------------

@bp.route("/admin/onsker", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def rounds():
    muni, choose = tenancy.municipality_or_choose()
    if choose is not None:
        return choose
    if not can_access_municipality(current_user, muni.id):
        abort(404)
    form = RoundForm()
    form.zone_ids.choices = list(services.zone_names(muni.id).items())
    if form.validate_on_submit():
        with refused(lambda: form_page("wishes/rounds.html", form, rows=services.rounds_of(muni.id)), form=form):
            made = services.open_round(muni, services.RoundInput(
                form.title.data, form.opens_on.data, form.closes_on.data, list(form.grade_bands.data or []),
                list(form.zone_ids.data or []), (form.schools.data or "").splitlines(), bool(form.free_text.data),
                bool(form.card_holders.data)), actor=current_user)
        flash(_("Ønskerunden er åpnet."), "success")
        return redirect(url_for("wishes.round_page", round_id=made.id))
    return form_page("wishes/rounds.html", form, rows=services.rounds_of(muni.id))


def _round(round_id: int):
    with refused(not_found=True):
        return services.round_of(round_id, current_user)


def _class_form(wish_round) -> ClassForm:
    form = ClassForm()
    allowed = set(wish_round.zone_ids or [])
    form.zone_id.choices = [(zid, name) for zid, name in services.zone_names(wish_round.municipality_id).items()
                            if not allowed or zid in allowed]
    form.grade_band.choices = [(b, b) for b in wish_round.grade_bands]
    form.languages.choices = [(lang, notice.language_name(lang)) for lang in catalogue.LANGS if lang != "nb"]
    return form


def _call_form(wish_round) -> CallForm:
    form = CallForm(prefix="call")  # beside the class form on one page: ids of its own
    lang = current_locale_code()
    form.activity.choices = [(a.code, a.name(lang)) for a in catalogue.ACTIVITIES if a.code != "other"]
    form.zone_id.choices = list(services.zone_names(wish_round.municipality_id).items())
    form.times.choices = notice.time_choices()
    return form


def _round_page(wish_round, class_form=None, call_form=None, status: int = 200):
    lang = current_locale_code()
    return render_template(
        "wishes/round.html", r=wish_round, classes=services.classes_of(wish_round),
        used=services.codes_used(wish_round), results=results.results(wish_round), gaps=results.gaps(wish_round),
        calls=calls.calls_of(wish_round), uptake=calls.uptake(wish_round), held=services.held_texts(wish_round),
        class_form=class_form or _class_form(wish_round), call_form=call_form or _call_form(wish_round),
        action=ReasonForm(), names={a.code: a.name(lang) for a in catalogue.ACTIVITIES},
        pictograms={a.code: a.pictogram for a in catalogue.ACTIVITIES}, min_answers=services.MIN_ANSWERS,
        zone_names=services.zone_names(wish_round.municipality_id), is_open=services.is_open(wish_round)), status


@bp.get("/admin/onsker/<int:round_id>")
@roles_required(Role.ADMIN)
def round_page(round_id: int):
    return _round_page(_round(round_id))


@bp.post("/admin/onsker/<int:round_id>/klasser")
@roles_required(Role.ADMIN)
def add_class(round_id: int):
    wish_round = _round(round_id)
    form = _class_form(wish_round)
    if not form.validate_on_submit():
        return _round_page(wish_round, class_form=form, status=422)
    with refused(lambda: _round_page(wish_round, class_form=form, status=422), form=form):
        made = services.add_class(wish_round, school=form.school.data, name=form.name.data,
                                  grade_band=form.grade_band.data, zone_id=form.zone_id.data, pupils=form.pupils.data,
                                  languages=list(form.languages.data or []), actor=current_user)
    return redirect(url_for("wishes.class_sheet", round_id=round_id, class_id=made.id))


@bp.get("/admin/onsker/<int:round_id>/klasser/<int:class_id>")
@roles_required(Role.ADMIN)
def class_sheet(round_id: int, class_id: int):
    """The class's sheet to print: its codes to cut out, and the notice in bokmål and the class's languages."""
    wish_round = _round(round_id)
    with refused(not_found=True):
        wish_class = services.class_of(wish_round, class_id)
    return private_page(make_response(render_template(
        "wishes/sheet.html", r=wish_round, c=wish_class, codes=services.codes_of(wish_class),
        notices=[notice.notice(lang, wish_round) for lang in ["nb", *wish_class.languages]],
        answer_url=url_for("wishes.code_entry", _external=True))))


def _round_action(round_id: int, act, done: str):
    """A button on the round's page: its small form checked, `act(round)` done, back to the page with the answer."""
    wish_round = _round(round_id)
    back = url_for("wishes.round_page", round_id=round_id)
    with refused(redirect_to=back):
        if not ReasonForm().validate_on_submit():
            refuse_form(ReasonForm(), _("Skjemaet er utløpt. Prøv igjen."))
        act(wish_round)
    if done:
        flash(done, "success")
    return redirect(back)


@bp.post("/admin/onsker/<int:round_id>/lukk")
@roles_required(Role.ADMIN)
def close(round_id: int):
    return _round_action(round_id, lambda r: services.close_round(r, actor=current_user),
                         _("Runden er lukket. Kortholdernes spor er slettet."))


@bp.post("/admin/onsker/<int:round_id>/publiser")
@roles_required(Role.ADMIN)
def publish(round_id: int):
    return _round_action(round_id, lambda r: results.publish(r, actor=current_user),
                         _("Resultatene er publisert, og svarene er slettet."))


@bp.post("/admin/onsker/<int:round_id>/utlysninger")
@roles_required(Role.ADMIN)
def create_call(round_id: int):
    wish_round = _round(round_id)
    form = _call_form(wish_round)
    back = url_for("wishes.round_page", round_id=round_id)
    with refused(redirect_to=back):
        if not form.validate_on_submit():
            refuse_form(form, _("Velg aktivitet, sone og klassetrinn."))
        calls.create_call(wish_round, activity=form.activity.data, zone_id=form.zone_id.data,
                          grade_band=form.grade_band.data, times=list(form.times.data or []), text=form.text.data,
                          actor=current_user)
    flash(_("Utlysningen er sendt til partnerne."), "success")
    return redirect(back)


@bp.post("/admin/onsker/<int:round_id>/tekster/<int:answer_id>/<verdict>")
@roles_required(Role.ADMIN)
def moderate(round_id: int, answer_id: int, verdict: str):
    if verdict not in ("godkjenn", "avvis"):
        abort(404)
    return _round_action(round_id, lambda _r: services.moderate(answer_id, verdict == "godkjenn", actor=current_user),
                         "")


# --- partners -------------------------------------------------------------------------------------------------------

@bp.get("/partner/utlysninger")
@roles_required(Role.PARTNER)
def partner_calls():
    lang = current_locale_code()
    return render_template("wishes/calls.html", calls=calls.calls_for(current_user),
                           names={a.code: a.name(lang) for a in catalogue.ACTIVITIES},
                           zone_names=services.zone_names(current_user.municipality_id))


@bp.route("/partner/utlysninger/<int:call_id>", methods=["GET", "POST"])
@roles_required(Role.PARTNER)
def answer_call(call_id: int):
    with refused(not_found=True):
        call = calls.call_for(call_id, current_user)
    form = CallAnswerForm()
    lang = current_locale_code()

    def page(*_unplaced):
        return form_page("wishes/call.html", form, call=call, name=catalogue.BY_CODE[call.activity].name(lang),
                         zone_names=services.zone_names(call.municipality_id))

    if form.validate_on_submit():
        with refused(page, form=form):
            offer = calls.answer_call(call, current_user, calls.CallAnswer(
                form.title.data, form.description.data, form.address.data, form.start_date.data, form.end_date.data,
                form.price_nok.data or 0))
        flash(_("Takk! Tilbudet er publisert og vises for barna som ønsket det."), "success")
        return redirect(url_for("partners.offer_page", offer_id=offer.id))
    return page()


# --- the children's pages (no account) -------------------------------------------------------------------------

@bp.route("/onsker/kode", methods=["GET", "POST"])
@limiter.limit(lambda: "30 per minute", methods=["POST"])
def code_entry():
    """Where a pupil types the code from the class sheet."""
    form = notice.CodeForm()
    if form.validate_on_submit():
        return redirect(url_for("wishes.answer", code=notice.clean_code(form.code.data)))
    return form_page("wishes/code.html", form)


code_entry.public = True


@bp.route("/onsker/svar/<code>", methods=["GET", "POST"])
@limiter.limit(lambda: "30 per minute")
def answer(code: str):
    """A pupil answers with the class code (once); the same code later shows what came of the round."""
    with refused(not_found=True):
        found = services.code_of(code)
    wish_class = found.wish_class
    wish_round = wish_class.round
    born = calls.born_offers(wish_round.municipality_id, zone_id=wish_class.zone_id, round_id=wish_round.id)
    if found.used or not services.is_open(wish_round):
        return private_page(make_response(render_template("wishes/answered.html", r=wish_round, born=born,
                                                          used=found.used)))
    form = notice.answer_form(wish_round)

    def page(*_unplaced):
        return private_page(make_response(form_page("wishes/answer.html", form, r=wish_round,
                                                    pictograms=notice.pictograms(),
                                                    notice=notice.notice(current_locale_code(), wish_round))))

    if form.validate_on_submit():
        with refused(page, form=form):
            services.answer_with_code(code, notice.answer_input(form))
        flash(_("Takk for svaret ditt!"), "success")
        return redirect(url_for("wishes.answer", code=found.code))
    return page()


answer.public = True


@bp.get("/onsker")
def public_page():
    """What the municipality's wish rounds asked, and what they led to."""
    muni, choose = tenancy.municipality_or_choose()
    if choose is not None:
        return choose
    lang = current_locale_code()
    shown = services.rounds_of(muni.id)
    return render_template("wishes/public.html", muni=muni, rounds=shown,
                           born={r.id: calls.born_offers(muni.id, round_id=r.id) for r in shown},
                           notice=notice.notice(lang, None),
                           names={a.code: a.name(lang) for a in catalogue.ACTIVITIES})


public_page.public = True


# The menu entries of this part (wired by the app factory: core.nav.init_app)
MENU = (nav.item("wishes.rounds", _l("Ønskerunder"), [Role.ADMIN], order=78, group="admin"),
        nav.item("wishes.partner_calls", _l("Utlysninger fra ønsker"), [Role.PARTNER], order=32))

