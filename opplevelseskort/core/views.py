"""Core pages: home, login/logout, password, dashboard, language, users, tokens, zones."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
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
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..extensions import csrf, db, limiter, login_manager
from . import audit, jobs, nav, oidc, outbox, passkeys, ratelimit, services, tenancy, zones
from .clock import utcnow
from .exports import attachment
from .forms import (
    ROLE_LABELS,
    ActionForm,
    LanguageForm,
    LoginForm,
    MunicipalityForm,
    MunicipalitySettingsForm,
    PasswordChangeForm,
    PasswordSetForm,
    ReauthForm,
    SecondFactorForm,
    TokenForm,
    ZoneEditForm,
    ZoneImportForm,
)
from .guards import form_page, json_error
from .i18n import LANGUAGE_NAMES, offered_locales
from .models import ApiToken, JobStatus, Role, User, Zone
from .permissions import (
    ALL_STAFF,
    can_access_municipality,
    can_manage_user,
    private_page,
    roles_required,
)
from .qr import qr_svg_inline
from .uow import refused

log = logging.getLogger(__name__)
bp = Blueprint("core", __name__)


@login_manager.user_loader
def _load_user(session_id: str):
    return services.load_user_from_session(session_id)


@login_manager.request_loader
def _load_user_from_token(req):
    # Bearer tokens authenticate the JSON API only; pages always use the session.
    if not req.path.startswith("/api/"):
        return None
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    token = services.token_for(header[7:].strip())
    user = token.user if token is not None else None
    if user is not None:
        g.token_auth = True
        g.api_token_id = token.id
        g.api_token_scopes = token.scopes
    return user


def _sign_in(user: User, how: str) -> None:
    """Start a new session for the user (whatever came before in this browser is cleared) and stamp it: when it
    began, when it was last used, when the password was last given. The browser is remembered as one this
    account signed in from (OWASP's device cookie), so strangers' failures never lock its holder out."""
    session.clear()
    login_user(user)
    now = utcnow().timestamp()
    session["signed_in_at"] = session["seen_at"] = session["auth_at"] = now
    _remember_device(user.email)
    log.info("user %s logged in %s", user.id, how)


DEVICE_COOKIE = "kjent_enhet"
DEVICE_DAYS = 180


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="staff-device")


def _account_key(email: str) -> str:
    """A keyed digest of the account's e-mail: what the device cookie and the account-wide limit are kept by."""
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key
    return hmac.new(key, services.normalise_email(email).encode(), hashlib.sha256).hexdigest()[:24]


def _known_accounts() -> list[str]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        known = _devices().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return []
    return [k for k in known if isinstance(k, str)] if isinstance(known, list) else []


def _remember_device(email: str) -> None:
    key = _account_key(email)
    known = [k for k in _known_accounts() if k != key][-4:] + [key]

    @after_this_request
    def _set(response):
        response.set_cookie(DEVICE_COOKIE, _devices().dumps(known), max_age=DEVICE_DAYS * 86400, httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Lax")
        return response


@bp.before_app_request
def _session_timeouts():
    """A staff session ends after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS after sign-in."""
    if request.endpoint == "static" or not current_user.is_authenticated or g.get("token_auth"):
        return None  # a stylesheet or script neither loads the user nor counts as activity
    now = utcnow().timestamp()
    signed_in = session.setdefault("signed_in_at", now)
    seen = session.get("seen_at", now)
    idle = now - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60
    if idle or now - signed_in > current_app.config["SESSION_MAX_HOURS"] * 3600:
        logout_user()
        session.clear()
        flash(_("Du ble logget ut etter %(n)d minutter uten aktivitet.", n=current_app.config["SESSION_IDLE_MINUTES"])
              if idle else _("Du ble logget ut: en innlogging varer høyst %(n)d timer.",
                              n=current_app.config["SESSION_MAX_HOURS"]), "info")
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            abort(401)
        return redirect(url_for("core.login", next=request.full_path if request.method == "GET" else None))
    if now - seen > 30:  # the cookie is rewritten at most twice a minute
        session["seen_at"] = now
    return None


@bp.route("/logg-inn/bekreft", methods=["GET", "POST"])
@roles_required(*ALL_STAFF)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def reauthenticate():
    """Confirm the password before something that hands out or deletes a family's data."""
    form = ReauthForm()
    if form.validate_on_submit():
        if services.check_password(current_user._get_current_object(), form.password.data):
            session["auth_at"] = utcnow().timestamp()
            audit.record(current_user, "user.reauthenticate", "user", current_user.id,
                         municipality_id=current_user.municipality_id)
            flash(_("Passordet er bekreftet. Gjør det du skulle nå."), "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("core.dashboard"))
        form.password.errors = [_("Feil passord.")]
    return form_page("core/reauthenticate.html", form)


@bp.before_app_request
def _language_from_link():
    """A link may carry ?sprak=xx (the guardian's preferred language in the card link): remember it."""
    wanted = request.args.get("sprak")
    if wanted and wanted in current_app.config["SUPPORTED_LOCALES"]:
        session["locale"] = wanted


@bp.app_context_processor
def _inject():
    return {"role_labels": ROLE_LABELS, "Role": Role, "language_form": LanguageForm(prefix="lang", formdata=None)}


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    return render_template("core/home.html")


def _login_account_key() -> str:
    # Per account *and* address: guessing one account's password is limited without letting anyone lock the
    # account out for everybody else.
    return f"login:{services.normalise_email(request.form.get('email', ''))}:{request.remote_addr}"


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
        key = _account_key(form.email.data)
        spent = key not in _known_accounts() and ratelimit.login_account_spent(key)
        user = services.authenticate(form.email.data, form.password.data)
        if spent:
            services.notify_login_limited(form.email.data)
            holder = services.account_with_second_factor(form.email.data)
            if holder is None:
                flash(_("For mange forsøk på denne kontoen. Vent en stund og prøv igjen, eller logg inn fra en enhet "
                        "du har brukt før."), "error")
                return render_template("core/login.html", form=form, **_login_choices()), 429
            # the second factor decides; a wrong password reaches a step no code passes
            return _to_second_step(holder, _safe_next(request.args.get("next")), decoy=user is None)
        if user is None:
            # One message for unknown e-mail, wrong password and disabled account: no user enumeration.
            flash(_("Feil e-post eller passord."), "error")
            return render_template("core/login.html", form=form, **_login_choices()), 200
        if services.has_second_factor(user):  # the password is right; the code from the app comes next
            return _to_second_step(user, _safe_next(request.args.get("next")))
        _sign_in(user, "with a password")
        return redirect(_safe_next(request.args.get("next")) or url_for("core.dashboard"))
    return render_template("core/login.html", form=form, **_login_choices())


def _to_second_step(user: User, next_url: str | None, *, decoy: bool = False):
    """The first step is done (a password, or a provider that asserted no second factor): whatever this browser
    held is cleared and the account's code or passkey is asked for within five minutes. A decoy step (a wrong
    password on an account whose window is spent) looks the same and lets no code pass."""
    session.clear()
    session["pending_user"], session["pending_at"] = user.get_id(), utcnow().timestamp()
    if decoy:
        session["pending_decoy"] = True
    return redirect(url_for("core.login_code", next=next_url))


def _login_choices() -> dict:
    """The municipality's own sign-in first (the providers of the municipality this host serves, or every one
    when the host names none); the local password login second, or not at all when it says so."""
    muni = tenancy.current_municipality()
    offered = [p for p in oidc.providers() if muni is None or not p.municipality or p.municipality == muni.number]
    return {"providers": offered, "local_login": current_app.config["OIDC_LOCAL_LOGIN"] or not offered}


def _provider_or_404(name: str) -> oidc.Provider:
    provider = oidc.provider(name)
    if provider is None:
        abort(404)
    return provider


def _callback_url(name: str) -> str:
    return url_for("core.oidc_callback", name=name, _external=True)


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
        return redirect(oidc.begin(provider, _callback_url(name), next_url=_safe_next(request.args.get("next"))))
    except oidc.Trouble as exc:
        return _provider_trouble(name, exc, url_for("core.login"))


@bp.get("/logg-inn/oidc/<name>/svar")
def oidc_callback(name: str):
    """Back from the provider: the code for tokens, the ID token checked, the person to their bound account (or
    the signed-in holder's account bound). The provider's sign-in stands for the second factor only when the
    provider says it asked for one; otherwise the app asks, as after a password."""
    provider = _provider_or_404(name)
    back = url_for("core.login")
    try:
        claims, flow = oidc.finish(provider, request.args, _callback_url(name))
        if flow.get("link"):
            back = url_for("core.account")
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
    if not provider.asserts_second_factor(claims) and services.has_second_factor(user):
        return _to_second_step(user, target)
    _sign_in(user, f"through {name}")
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
    return render_template("core/account.html", user=user, providers=oidc.providers_for(user),
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
        return _provider_trouble(name, exc, url_for("core.account"))


@bp.post("/admin/brukere/<int:user_id>/innlogging")
@roles_required(Role.ADMIN)
def user_oidc(user_id: int):
    """An admin invites the person to sign in through one of the municipality's providers, or unbinds them."""
    with refused(not_found=True):
        user = services.user_to_manage(current_user, user_id)
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
    return services.load_user_from_session(session.get("pending_user", ""))


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
        return redirect(url_for("core.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        if not session.get("pending_decoy") and services.verify_second_factor(user, form.code.data):
            _sign_in(user, "with a second factor")
            return redirect(_safe_next(request.args.get("next")) or url_for("core.dashboard"))
        form.code.errors = [_("Koden stemmer ikke, eller er brukt før. Prøv koden appen viser nå.")]
    return form_page("core/login_code.html", form, has_totp=services.has_totp(user) or bool(user.recovery_codes),
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
    target = _safe_next(request.args.get("next")) or url_for("core.dashboard")
    _sign_in(user, "with a passkey")
    return jsonify({"next": target})


for _view in (login_passkey_options, login_passkey):
    _view.public = True  # reached between the password and the session


login_code.public = True  # reached between the password and the session


SECOND_FACTOR_FREE = {"core.totp_setup", "core.logout", "core.set_language", "static", "core.login_code",
                      "core.passkey_options", "core.passkey_add"}


@bp.before_app_request
def _second_factor_required():
    """A role that must sign in with a second factor (SECOND_FACTOR_ROLES) sets it up before anything else."""
    if (request.endpoint in SECOND_FACTOR_FREE or not current_user.is_authenticated or g.get("token_auth")
            or session.get("signed_in_with")):
        return None
    if services.second_factor_required(current_user) and not services.has_second_factor(current_user):
        return redirect(url_for("core.totp_setup"))
    return None


@bp.route("/konto/tofaktor", methods=["GET", "POST"])
@roles_required(*ALL_STAFF)
@limiter.limit(lambda: current_app.config["SECOND_FACTOR_RATE_LIMIT"], methods=["POST"])
def totp_setup():
    """Set up the second factor: scan the QR code with an authenticator app, type its code, keep the recovery
    codes (shown once)."""
    user = current_user._get_current_object()
    if services.has_totp(user):
        return _setup_page(None, user, None)
    form = SecondFactorForm()
    secret = session.get("totp_secret") or services.new_totp_secret()
    session["totp_secret"] = secret  # kept until the app shows it works; then stored
    if form.validate_on_submit():
        with refused(lambda: _setup_page(form, user, secret), form=form):
            codes = services.enable_second_factor(user, secret, form.code.data, actor=user)
        session.pop("totp_secret", None)
        return private_page(current_app.make_response(render_template("core/totp_codes.html", codes=codes)))
    return _setup_page(form, user, secret)


def _setup_page(form, user, secret):
    """The account's second factors: the app's codes (set up, or on) and the passkeys, with room to add one."""
    keys = passkeys.passkeys_of(user)
    common = {"required": services.second_factor_required(user), "passkeys": keys, "action_form": ActionForm(),
              "oidc_providers": oidc.providers_for(user)}
    if secret is None:
        return private_page(current_app.make_response(render_template("core/totp_setup.html", enabled=True,
                                                                      **common)))
    svg = qr_svg_inline(services.totp_uri(user, secret))
    return private_page(current_app.make_response(form_page(
        "core/totp_setup.html", form, enabled=False, secret=secret, qr=svg, **common)))


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
    return jsonify({"next": url_for("core.totp_setup")}), 201


@bp.post("/konto/passnokkel/<int:passkey_id>/slett")
@roles_required(*ALL_STAFF)
def passkey_remove(passkey_id: int):
    user = current_user._get_current_object()
    if not ActionForm().validate_on_submit():
        abort(400)
    with refused(not_found=True):
        passkeys.remove(user, passkey_id, actor=user)
    flash(_("Passnøkkelen er fjernet."), "success")
    return redirect(url_for("core.totp_setup"))


@bp.post("/admin/brukere/<int:user_id>/tofaktor/nullstill")
@roles_required(Role.ADMIN)
def totp_reset(user_id: int):
    """An admin turns a user's second factor off (a lost phone); audited, the user's sessions end."""
    user = db.session.get(User, user_id)
    if user is None or not can_manage_user(current_user, user):
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.reset_second_factor(user, actor=current_user)
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
    services.end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("Du er logget ut."), "info")
    return redirect(url_for("core.login"))


@bp.post("/sprak")
def set_language():
    form = LanguageForm(prefix="lang")
    form.locale.choices = [(c, c) for c in current_app.config["SUPPORTED_LOCALES"]]
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
    return redirect(_without_language(_safe_next(request.form.get("next"))) or url_for("core.home"))


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


@bp.route("/passord", methods=["GET", "POST"])
@roles_required(*ALL_STAFF)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        with refused(lambda: form_page("core/password.html", form),
                     field={"password_wrong": form.current, None: form.new}):
            services.change_password(current_user, form.current.data, form.new.data)
        login_user(current_user._get_current_object())  # re-issue the session with the new version
        flash(_("Passordet er endret."), "success")
        return redirect(url_for("core.dashboard"))
    return form_page("core/password.html", form)


@bp.route(services.SET_PASSWORD_PATH + "<token>", methods=["GET", "POST"])
def set_password_link(token: str):
    """A new user's single-use, expiring link to choose their password (no password is ever sent)."""
    with refused(lambda errors: (render_template("core/password_link_invalid.html", message=errors[0]), 404)):
        user = services.user_for_password_link(token)
    form = PasswordSetForm()
    if form.validate_on_submit():
        with refused(lambda: form_page("core/password_set.html", form, email=user.email), field=form.new):
            services.set_password(user, form.new.data, actor=user)
        flash(_("Passordet er satt. Logg inn med e-postadressen din og det nye passordet."), "success")
        return redirect(url_for("core.login"))
    return form_page("core/password_set.html", form, email=user.email)


set_password_link.public = True  # reached by the new user through the link, before any login


# --- users (admin) ---------------------------------------------------------------------------

@bp.get("/admin/brukere")
@roles_required(Role.ADMIN)
def users():
    rows = list(db.session.scalars(services.users_visible_to(current_user)))
    return render_template("core/users.html", users=rows, invites=services.pending_invitations(rows))


# --- jobs ---------------------------------------------------------------------------------------

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


JOB_TITLES = {"zones": _l("Importer soner"), "indicators": _l("Levekårsindikatorer"),
              "own_index": _l("Kommunens egen levekårsindeks"), "correspondence": _l("Endringsliste for soner")}


@bp.get("/jobber/<int:run_id>")
@roles_required(*ALL_STAFF)
def job_page(run_id: int):
    """A job's progress while it runs; then what it did (or every problem, by line) and the way back."""
    with refused(not_found=True):
        run = jobs.run_of(run_id, actor=current_user)
    title = JOB_TITLES.get(run.params.get("_title"), _("Jobb"))
    back = url_for(run.params["_back"]) if run.params.get("_back") else url_for("core.dashboard")
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
                           uploads=jobs.upload_use(current_user), quota=current_app.config)


# --- API tokens ------------------------------------------------------------------------------

@bp.route("/api-nokler", methods=["GET", "POST"])
@roles_required(*ALL_STAFF)
def tokens():
    form = TokenForm()
    allowed = services.scopes_for_role(current_user.role)
    form.scopes.choices = [(s, services.SCOPE_LABELS[s]) for s in allowed]
    if request.method == "GET":
        form.scopes.data = list(allowed)
    raw = None

    def page():
        return form_page("core/tokens.html", form, raw_token=raw, tokens=services.tokens_of(current_user),
                         action_form=ActionForm(), scope_labels=services.SCOPE_LABELS, now=utcnow())

    if form.validate_on_submit():
        with refused(page, form=form):
            _token, raw = services.create_token(current_user, form.name.data, actor=current_user,
                                                scopes=form.scopes.data or [], days=form.days.data)
        form = TokenForm(formdata=None)
        form.scopes.choices, form.scopes.data = [(s, services.SCOPE_LABELS[s]) for s in allowed], list(allowed)
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
    services.revoke_token(token, actor=current_user)
    flash(_("Nøkkelen er trukket tilbake."), "success")
    return redirect(url_for("core.tokens"))


# --- zones (admin) ---------------------------------------------------------------------------

@bp.get("/soner.geojson")
@roles_required(Role.PARTNER, Role.ADMIN)
def zone_outlines():
    """The municipality's zone boundaries (public geography: codes, names, levels) for map pickers."""
    features = zones.outline_features(tenancy.current_municipality())
    return current_app.response_class(json.dumps({"type": "FeatureCollection", "features": features}),
                                      mimetype="application/geo+json")


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
    line_fields = [getattr(form, f"contact_line_{code}") for code in services.FAMILY_LANGUAGES]
    if request.method == "GET":  # stored as MM-DD, read and written as DD.MM
        form.scheme_end.data = ".".join(reversed((muni.scheme_end or "12-31").split("-")))
        for code, field in zip(services.FAMILY_LANGUAGES, line_fields, strict=True):
            field.data = (muni.contact_line_translations or {}).get(code, "")

    def page(*_unplaced):
        return form_page("core/municipality_settings.html", form, muni=muni, line_fields=line_fields)

    if form.validate_on_submit():
        with refused(page, form=form):
            changed = services.update_municipality_settings(
                muni, actor=current_user, contact_line=form.contact_line.data, sms_sender=form.sms_sender.data,
                default_report_period=form.default_report_period.data, support_email=form.support_email.data,
                scheme_end=form.scheme_end.data,
                contact_lines={code: f.data or "" for code, f in zip(services.FAMILY_LANGUAGES, line_fields,
                                                                     strict=True)})
        flash(_("Innstillingene er lagret.") if changed else _("Ingenting ble endret."), "success")
        return redirect(url_for("core.municipality_settings"))
    return page()


@bp.get("/admin/soner")
@roles_required(Role.ADMIN)
def zone_list():
    level = request.args.get("level") or None
    return render_template("core/zones.html", zones=zones.zones_visible_to(current_user, level), level=level)


@bp.route("/admin/soner/<int:zone_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def zone_edit(zone_id: int):
    zone = db.session.get(Zone, zone_id)
    if zone is None or not can_access_municipality(current_user, zone.municipality_id):
        abort(404)
    form = ZoneEditForm(obj=zone)
    if request.method == "GET":
        form.parent_code.data = zone.parent.code if zone.parent else ""
    if form.validate_on_submit():
        with refused(lambda: form_page("core/zone_edit.html", form, zone=zone), field=form.parent_code):
            zones.update_zone(zone, name=form.name.data, level=form.level.data, parent_code=form.parent_code.data,
                              actor=current_user)
        flash(_("Sonen er lagret."), "success")
        return redirect(url_for("core.zone_list"))
    return form_page("core/zone_edit.html", form, zone=zone)


@bp.route("/admin/soner/import", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def zone_import():
    form = ZoneImportForm()
    form.municipality_id.choices = [(m.id, f"{m.name} ({m.number})") for m in services.municipalities_for(current_user)]
    if form.validate_on_submit():
        muni = next((m for m in services.municipalities_for(current_user) if m.id == form.municipality_id.data), None)
        if muni is None:
            abort(404)
        options = {}
        if form.kind.data == "geojson":
            options = {"code_property": (form.code_property.data or "").strip(),
                       "name_property": (form.name_property.data or "").strip(), "level": form.level.data or "",
                       "parent_prefix": form.parent_prefix.data, "parent_level": form.parent_level.data or "delomrade",
                       "parent_name_property": (form.parent_name_property.data or "").strip() or None,
                       "repair": bool(form.repair.data)}
        upload = jobs.keep_upload("zones", current_user, form.file.data.stream)
        run = jobs.start("zone_import", actor=current_user, municipality_id=muni.id, upload=upload,
                         kind=form.kind.data, options=options, _back="core.zone_list", _title="zones")
        return redirect(url_for("core.job_page", run_id=run.id))
    return form_page("core/zone_import.html", form)


@bp.route("/kommune", methods=["GET", "POST"])
def choose_municipality():
    """Public pages of a shared deployment ask which municipality the visitor means, once."""
    form = MunicipalityForm()
    form.municipality.choices = [(m.number, m.name) for m in tenancy.all_municipalities()]
    next_url = _safe_next(request.values.get("next")) or url_for("core.home")
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


# The menu entries and dashboard figures of this part (wired by the app factory: core.nav.init_app)
MENU = (
    nav.item("core.users", _l("Brukere"), [Role.ADMIN], order=80, group="admin"),
    nav.item("core.zone_list", _l("Soner"), [Role.ADMIN], order=81, group="admin"),
    nav.item("core.municipality_settings", _l("Kommunens innstillinger"), [Role.ADMIN], order=83, group="admin"),
    nav.item("core.jobs_overview", _l("Jobber"), [Role.ADMIN], order=82, group="admin"),
    nav.item("core.tokens", _l("API-nøkler"), list(Role), order=90, group="account"),
    nav.item("core.change_password", _l("Passord"), list(Role), order=91, group="account"),
    nav.item("core.totp_setup", _l("Tofaktor"), list(Role), order=92, group="account"),
)
COUNTS = (
)
