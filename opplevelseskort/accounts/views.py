"""Staff sign-in pages: password, municipal login (OIDC), second factor and passkeys, sign-out, password,
users and API tokens."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
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
from flask_login import current_user, login_required, login_user, logout_user

from ..core import audit, nav, ratelimit, tenancy
from ..core.clock import utcnow
from ..core.forms import ActionForm
from ..core.guards import form_page, json_error, safe_next
from ..core.models import Role
from ..core.permissions import ALL_STAFF, private_page, roles_required
from ..core.qr import qr_svg_inline
from ..core.uow import refused
from ..extensions import csrf, db, limiter
from . import oidc, oidc_providers, passkeys
from . import services as accounts
from . import tokens as api_tokens
from .forms import LoginForm, PasswordChangeForm, PasswordSetForm, ReauthForm, SecondFactorForm, TokenForm
from .models import ApiToken, User
from .permissions import can_manage_user
from .sessions import account_key, known_accounts, sign_in

log = logging.getLogger(__name__)
bp = Blueprint("accounts", __name__)


@bp.route("/logg-inn/bekreft", methods=["GET", "POST"])
@roles_required(*ALL_STAFF)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def reauthenticate():
    """Confirm the password before something that hands out or deletes a family's data."""
    form = ReauthForm()
    if form.validate_on_submit():
        if accounts.check_password(current_user._get_current_object(), form.password.data):
            session["auth_at"] = utcnow().timestamp()
            audit.record(current_user, "user.reauthenticate", "user", current_user.id,
                         municipality_id=current_user.municipality_id)
            flash(_("Passordet er bekreftet. Gjør det du skulle nå."), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("core.dashboard"))
        form.password.errors = [_("Feil passord.")]
    return form_page("accounts/reauthenticate.html", form)


def _login_account_key() -> str:
    # Per account *and* address: guessing one account's password is limited without letting anyone lock the
    # account out for everybody else.
    return f"login:{accounts.normalise_email(request.form.get('email', ''))}:{request.remote_addr}"


@bp.route("/logg-inn", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"], methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], key_func=_login_account_key)
def login():
    """The password sign-in. One account's attempts from every address together are limited
    (LOGIN_ACCOUNT_RATE_LIMIT) for browsers it never signed in from; when that window is spent the holder is told
    once, a browser the account signed in from before still gets in, and an account with a second factor is
    asked for it (whatever the password was, so the page tells a guesser nothing)."""
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = LoginForm()
    if request.method == "POST" and not _login_choices()["local_login"]:
        abort(404)  # the municipality signs its staff in through its identity provider only
    if form.validate_on_submit():
        key = account_key(form.email.data)
        spent = key not in known_accounts() and ratelimit.login_account_spent(key)
        user = accounts.authenticate(form.email.data, form.password.data)
        if spent:
            accounts.notify_login_limited(form.email.data)
            holder = accounts.account_with_second_factor(form.email.data)
            if holder is None:
                flash(_("For mange forsøk på denne kontoen. Vent en stund og prøv igjen, eller logg inn fra en enhet "
                        "du har brukt før."), "error")
                return render_template("accounts/login.html", form=form, **_login_choices()), 429
            # the second factor decides; a wrong password reaches a step no code passes
            return _to_second_step(holder, safe_next(request.args.get("next")), decoy=user is None)
        if user is None:
            # One message for unknown e-mail, wrong password and disabled account: no user enumeration.
            flash(_("Feil e-post eller passord."), "error")
            return render_template("accounts/login.html", form=form, **_login_choices()), 200
        if accounts.has_second_factor(user):  # the password is right; the code from the app comes next
            return _to_second_step(user, safe_next(request.args.get("next")))
        sign_in(user, "with a password")
        return redirect(safe_next(request.args.get("next")) or url_for("core.dashboard"))
    return render_template("accounts/login.html", form=form, **_login_choices())


def _to_second_step(user: User, next_url: str | None, *, decoy: bool = False):
    """The first step is done (a password, or a provider that asserted no second factor): whatever this browser
    held is cleared and the account's code or passkey is asked for within five minutes. A decoy step (a wrong
    password on an account whose window is spent) looks the same and lets no code pass."""
    session.clear()
    session["pending_user"], session["pending_at"] = user.get_id(), utcnow().timestamp()
    if decoy:
        session["pending_decoy"] = True
    return redirect(url_for("accounts.login_code", next=next_url))


def _login_choices() -> dict:
    """The municipality's own sign-in first (the providers of the municipality this host serves, or every one
    when the host names none); the local password login second, or not at all when it says so."""
    muni = tenancy.current_municipality()
    offered = [p for p in oidc.providers() if muni is None or not p.municipality or p.municipality == muni.number]
    return {"providers": offered, "local_login": current_app.config["OIDC_LOCAL_LOGIN"] or not offered}


def _provider_or_404(name: str) -> oidc_providers.Provider:
    provider = oidc.provider(name)
    if provider is None:
        abort(404)
    return provider


def _callback_url(name: str) -> str:
    return url_for("accounts.oidc_callback", name=name, _external=True)


def _provider_trouble(name: str, exc: oidc.Trouble, back: str):
    """A provider in trouble: the log says what, the person is told and sent back."""
    log.warning("oidc provider %s unavailable: %s", name, exc.what)
    flash(exc.message, "error")
    return redirect(back)


@bp.get("/logg-inn/oidc/<name>")
def oidc_login(name: str):
    """Off to the municipality's identity provider (PKCE, state and nonce; the scopes and level the entry asks)."""
    provider = _provider_or_404(name)
    try:
        return redirect(oidc.begin(provider, _callback_url(name), next_url=safe_next(request.args.get("next"))))
    except oidc.Trouble as exc:
        return _provider_trouble(name, exc, url_for("accounts.login"))


@bp.get("/logg-inn/oidc/<name>/svar")
def oidc_callback(name: str):
    """Back from the provider: the code for tokens, the ID token checked, the person to their bound account (or
    the signed-in holder's account bound). The provider's sign-in stands for the second factor only when the
    provider says it asked for one; otherwise the app asks, as after a password."""
    provider = _provider_or_404(name)
    back = url_for("accounts.login")
    try:
        claims, flow = oidc.finish(provider, request.args, _callback_url(name))
        if flow.get("link"):
            back = url_for("accounts.account")
            if not current_user.is_authenticated or current_user.get_id() != flow["link"]:
                raise oidc.Refused(_("Logg inn på nytt og prøv igjen."), "link_session")
            oidc.link_account(current_user._get_current_object(), provider, claims)
            flash(_("Kontoen er nå knyttet til innloggingen hos %(provider)s.", provider=provider.label), "success")
            return redirect(back)
        user = oidc.user_for_claims(provider, claims)
    except oidc.Trouble as exc:
        return _provider_trouble(name, exc, back)
    except oidc.Refused as exc:
        log.info("oidc sign-in via %s refused: %s", name, exc.reason)
        oidc.record_refusal(provider, exc)
        flash(exc.message, "error")
        return redirect(back)
    user.last_login_at = utcnow()
    target = flow.get("next")
    if not provider.asserts_second_factor(claims) and accounts.has_second_factor(user):
        return _to_second_step(user, target)
    sign_in(user, f"through {name}")
    if provider.asserts_second_factor(claims):
        session["signed_in_with"] = name  # the provider's own second factor stands for the app's
    return redirect(target or url_for("core.dashboard"))


@bp.post("/logg-inn/oidc/<name>/utlogging")
@csrf.exempt  # the provider calls this itself, with a signed logout token
def oidc_backchannel_logout(name: str):
    """OpenID Connect back-channel logout: the provider ended the person's session; every session here ends."""
    provider = _provider_or_404(name)
    try:
        with refused(verdict=lambda exc: (jsonify({"error": "invalid_request", "error_description": exc.message}),
                                          400)):
            oidc.backchannel_logout(provider, request.form.get("logout_token", ""))
    except oidc.Trouble as exc:
        log.warning("oidc provider %s unavailable for a logout: %s", name, exc.what)
        return jsonify({"error": "temporarily_unavailable"}), 503
    response = current_app.make_response(("", 200))
    response.headers["Cache-Control"] = "no-store"
    return response


for _view in (oidc_login, oidc_callback, oidc_backchannel_logout):
    _view.public = True


@bp.get("/konto")
@roles_required(*ALL_STAFF)
def account():
    """The account holder's page: the municipal login it is tied to, and the way to tie it."""
    user = current_user._get_current_object()
    return render_template("accounts/account.html", user=user, providers=oidc.providers_for(user),
                           action_form=ActionForm())


@bp.post("/konto/innlogging/<name>")
@roles_required(*ALL_STAFF)
def account_link(name: str):
    """The signed-in holder ties their account to their municipal login: off to the provider, back to bind."""
    provider = _provider_or_404(name)
    if not ActionForm().validate_on_submit():
        abort(400)
    if provider not in oidc.providers_for(current_user._get_current_object()):
        abort(404)
    try:
        return redirect(oidc.begin(provider, _callback_url(name), link_user=current_user._get_current_object()))
    except oidc.Trouble as exc:
        return _provider_trouble(name, exc, url_for("accounts.account"))


@bp.post("/admin/brukere/<int:user_id>/innlogging")
@roles_required(Role.ADMIN)
def user_oidc(user_id: int):
    """An admin invites the person to sign in through one of the municipality's providers, or unbinds them."""
    with refused(not_found=True):
        user = accounts.user_to_manage(current_user, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    back = url_for("partners.user_edit", user_id=user.id)
    with refused(redirect_to=back):
        if request.form.get("handling") == "fjern":
            oidc.unbind(user, actor=current_user)
            flash(_("Koblingen til innloggingen er fjernet."), "success")
        else:
            oidc.invite(user, request.form.get("provider") or None, actor=current_user)
            flash(_("Invitasjonen er lagret."), "success")
    return redirect(back)


def _pending_user():
    """The user who gave the right password in the last five minutes and still owes the code."""
    if utcnow().timestamp() - session.get("pending_at", 0) > 300:
        return None
    return accounts.load_user_from_session(session.get("pending_user", ""))


def _code_key() -> str:
    return "2fa:" + str(session.get("pending_user") or request.remote_addr)


def _second_step_limit(view):
    """The second step's budget (the code or the passkey), per pending sign-in; nothing to guess, and so no
    limit, before the right password was given."""
    return limiter.limit(lambda: current_app.config["SECOND_FACTOR_RATE_LIMIT"], methods=["POST"], key_func=_code_key,
                         exempt_when=lambda: not session.get("pending_user"))(view)


@bp.route("/logg-inn/kode", methods=["GET", "POST"])
@_second_step_limit
def login_code():
    """The second step of signing in: the six digits from the authenticator app, or a recovery code."""
    user = _pending_user()
    if user is None:
        flash(_("Logg inn på nytt."), "info")
        return redirect(url_for("accounts.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        if not session.get("pending_decoy") and accounts.verify_second_factor(user, form.code.data):
            sign_in(user, "with a second factor")
            return redirect(safe_next(request.args.get("next")) or url_for("core.dashboard"))
        form.code.errors = [_("Koden stemmer ikke, eller er brukt før. Prøv koden appen viser nå.")]
    return form_page("accounts/login_code.html", form, has_totp=accounts.has_totp(user) or bool(user.recovery_codes),
                     has_passkey=passkeys.has_passkey(user))


def _json_body() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


@bp.post("/logg-inn/passnokkel/valg")
@_second_step_limit
def login_passkey_options():
    """The challenge for the pending user's passkeys (after the right password)."""
    user = _pending_user()
    if user is None:
        return json_error(401, "login_again", _("Logg inn på nytt."))
    options, session["passkey_challenge"] = passkeys.authentication_options(user)
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/logg-inn/passnokkel")
@_second_step_limit
def login_passkey():
    """The second step with a passkey: the signed challenge checked, then the session starts."""
    user = _pending_user()
    if user is None:
        return json_error(401, "login_again", _("Logg inn på nytt."))
    challenge = session.pop("passkey_challenge", None)
    if session.get("pending_decoy") or not passkeys.verify(user, _json_body().get("credential"), challenge):
        return json_error(422, "passkey_refused", _("Passnøkkelen ble ikke godtatt. Prøv igjen, eller bruk koden fra "
                                                    "appen."))
    target = safe_next(request.args.get("next")) or url_for("core.dashboard")
    sign_in(user, "with a passkey")
    return jsonify({"next": target})


for _view in (login_passkey_options, login_passkey):
    _view.public = True  # reached between the password and the session


@bp.route("/konto/tofaktor", methods=["GET", "POST"])
@roles_required(*ALL_STAFF)
@limiter.limit(lambda: current_app.config["SECOND_FACTOR_RATE_LIMIT"], methods=["POST"])
def totp_setup():
    """Set up the second factor: scan the QR code with an authenticator app, type its code, keep the recovery
    codes (shown once)."""
    user = current_user._get_current_object()
    if accounts.has_totp(user):
        return _setup_page(None, user, None)
    form = SecondFactorForm()
    secret = session.get("totp_secret") or accounts.new_totp_secret()
    session["totp_secret"] = secret  # kept until the app shows it works; then stored
    if form.validate_on_submit():
        with refused(lambda: _setup_page(form, user, secret), form=form):
            codes = accounts.enable_second_factor(user, secret, form.code.data, actor=user)
        session.pop("totp_secret", None)
        return private_page(current_app.make_response(render_template("accounts/totp_codes.html", codes=codes)))
    return _setup_page(form, user, secret)


def _setup_page(form, user, secret):
    """The account's second factors: the app's codes (set up, or on) and the passkeys, with room to add one."""
    keys = passkeys.passkeys_of(user)
    common = {"required": accounts.second_factor_required(user), "passkeys": keys, "action_form": ActionForm(),
              "oidc_providers": oidc.providers_for(user)}
    if secret is None:
        return private_page(current_app.make_response(render_template("accounts/totp_setup.html", enabled=True,
                                                                      **common)))
    svg = qr_svg_inline(accounts.totp_uri(user, secret))
    return private_page(current_app.make_response(form_page(
        "accounts/totp_setup.html", form, enabled=False, secret=secret, qr=svg, **common)))


@bp.post("/konto/passnokkel/valg")
@roles_required(*ALL_STAFF)
@limiter.limit(lambda: current_app.config["SECOND_FACTOR_RATE_LIMIT"])
def passkey_options():
    """The options for registering a new passkey (navigator.credentials.create)."""
    options, session["passkey_reg_challenge"] = passkeys.registration_options(current_user._get_current_object())
    return current_app.response_class(options, mimetype="application/json")


@bp.post("/konto/passnokkel")
@roles_required(*ALL_STAFF)
@limiter.limit(lambda: current_app.config["SECOND_FACTOR_RATE_LIMIT"])
def passkey_add():
    """Keep the passkey the browser just made (its attestation checked for this site and challenge)."""
    user = current_user._get_current_object()
    body = _json_body()
    with refused(verdict=lambda exc: json_error(422, exc.code, exc.message)):
        passkeys.register(user, body.get("credential"), session.pop("passkey_reg_challenge", None),
                          str(body.get("name") or ""), actor=user)
    flash(_("Passnøkkelen er lagt til. Neste gang du logger inn kan du bruke den i stedet for koden."), "success")
    return jsonify({"next": url_for("accounts.totp_setup")}), 201


@bp.post("/konto/passnokkel/<int:passkey_id>/slett")
@roles_required(*ALL_STAFF)
def passkey_remove(passkey_id: int):
    user = current_user._get_current_object()
    if not ActionForm().validate_on_submit():
        abort(400)
    with refused(not_found=True):
        passkeys.remove(user, passkey_id, actor=user)
    flash(_("Passnøkkelen er fjernet."), "success")
    return redirect(url_for("accounts.totp_setup"))


@bp.post("/admin/brukere/<int:user_id>/tofaktor/nullstill")
@roles_required(Role.ADMIN)
def totp_reset(user_id: int):
    """An admin turns a user's second factor off (a lost phone); audited, the user's sessions end."""
    user = db.session.get(User, user_id)
    if user is None or not can_manage_user(current_user, user):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    accounts.reset_second_factor(user, actor=current_user)
    flash(_("Tofaktoren for %(email)s er slått av. Brukeren setter den opp på nytt ved neste innlogging.",
            email=user.email), "success")
    return redirect(url_for("partners.user_edit", user_id=user.id))


@bp.post("/logg-ut")
@login_required
def logout():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    # The cookie is signed, not stored: a copy of it stays valid unless the server refuses its version.
    accounts.end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("Du er logget ut."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/passord", methods=["GET", "POST"])
@roles_required(*ALL_STAFF)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        with refused(lambda: form_page("accounts/password.html", form),
                     field={"password_wrong": form.current, None: form.new}):
            accounts.change_password(current_user, form.current.data, form.new.data)
        login_user(current_user._get_current_object())  # re-issue the session with the new version
        flash(_("Passordet er endret."), "success")
        return redirect(url_for("core.dashboard"))
    return form_page("accounts/password.html", form)


@bp.route(accounts.SET_PASSWORD_PATH + "<token>", methods=["GET", "POST"])
def set_password_link(token: str):
    """A new user's single-use, expiring link to choose their password (no password is ever sent)."""
    with refused(lambda errors: (render_template("accounts/password_link_invalid.html", message=errors[0]), 404)):
        user = accounts.user_for_password_link(token)
    form = PasswordSetForm()
    if form.validate_on_submit():
        with refused(lambda: form_page("accounts/password_set.html", form, email=user.email), field=form.new):
            accounts.set_password(user, form.new.data, actor=user)
        flash(_("Passordet er satt. Logg inn med e-postadressen din og det nye passordet."), "success")
        return redirect(url_for("accounts.login"))
    return form_page("accounts/password_set.html", form, email=user.email)


@bp.get("/admin/brukere")
@roles_required(Role.ADMIN)
def users():
    rows = list(db.session.scalars(accounts.users_visible_to(current_user)))
    return render_template("accounts/users.html", users=rows, invites=accounts.pending_invitations(rows))


@bp.route("/api-nokler", methods=["GET", "POST"])
@roles_required(*ALL_STAFF)
def tokens():
    form = TokenForm()
    allowed = api_tokens.scopes_for_role(current_user.role)
    form.scopes.choices = [(s, api_tokens.SCOPE_LABELS[s]) for s in allowed]
    if request.method == "GET":
        form.scopes.data = list(allowed)
    raw = None

    def page():
        return form_page("accounts/tokens.html", form, raw_token=raw, tokens=api_tokens.tokens_of(current_user),
                         action_form=ActionForm(), scope_labels=api_tokens.SCOPE_LABELS, now=utcnow())

    if form.validate_on_submit():
        with refused(page, form=form):
            _token, raw = api_tokens.create_token(current_user, form.name.data, actor=current_user,
                                                scopes=form.scopes.data or [], days=form.days.data)
        form = TokenForm(formdata=None)
        form.scopes.choices, form.scopes.data = [(s, api_tokens.SCOPE_LABELS[s]) for s in allowed], list(allowed)
    # The raw token is rendered in this response only (never stored, never put in the session).
    return page()


@bp.post("/api-nokler/<int:token_id>/trekk-tilbake")
@roles_required(*ALL_STAFF)
def token_revoke(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or not (token.user_id == current_user.id or can_manage_user(current_user, token.user)):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    api_tokens.revoke_token(token, actor=current_user)
    flash(_("Nøkkelen er trukket tilbake."), "success")
    return redirect(url_for("accounts.tokens"))


login_code.public = True  # reached between the password and the session
set_password_link.public = True  # reached by the new user through the link, before any login

# The menu entries of this part (wired by the app factory: core.nav.init_app)
MENU = (
    nav.item("accounts.users", _l("Brukere"), [Role.ADMIN], order=80, group="admin"),
    nav.item("accounts.tokens", _l("API-nøkler"), list(Role), order=90, group="account"),
    nav.item("accounts.change_password", _l("Passord"), list(Role), order=91, group="account"),
    nav.item("accounts.totp_setup", _l("Tofaktor"), list(Role), order=92, group="account"),
)
