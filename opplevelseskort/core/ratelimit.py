"""One limiter for card-code look-ups, whichever door the code comes through.

Every path that turns a typed or scanned card code into a card (the scanner page, the QR link, the check-in
and card APIs, the equipment desk and its API, booking on a child's behalf) calls `hit_card_lookup()` through
`cards.services.lookup_card`, so guesses made through one door count against the same budget as the others.
The budget is kept per logged-in user (their API tokens and sessions together), else per client address (the real one behind a
configured proxy), in the same storage as the other limits (Redis with several app nodes).
"""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from flask_login import current_user
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests


def _strategy() -> FixedWindowRateLimiter:
    ext = current_app.extensions.get("card_lookup_limiter")
    if ext is None:
        ext = FixedWindowRateLimiter(storage_from_string(current_app.config["RATELIMIT_STORAGE_URI"]))
        current_app.extensions["card_lookup_limiter"] = ext
    return ext


def card_lookup_key() -> str:
    """Per user (a user's tokens and sessions share one budget: a token's own count could never pass its user's,
    so it is not kept), else per address."""
    user = current_user._get_current_object()
    if user.is_authenticated:
        return f"user:{user.id}"
    return f"addr:{request.remote_addr or 'unknown'}"


def _limits():
    """The configured limits, parsed once per value."""
    text = current_app.config["CARD_LOOKUP_RATE_LIMIT"]
    cached = current_app.extensions.get("card_lookup_limits")
    if cached is None or cached[0] != text:
        cached = (text, parse_many(text))
        current_app.extensions["card_lookup_limits"] = cached
    return cached[1]


def hit_card_lookup() -> None:
    """Count one card-code look-up; refuse it with 429 when the caller's budget is spent."""
    if not has_request_context() or not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    strategy, key = _strategy(), card_lookup_key()
    for item in _limits():  # one round-trip to the storage for each limit configured (one by default)
        if not strategy.hit(item, "card-lookup", key):
            raise TooManyRequests(_("For mange kortoppslag. Vent litt og prøv igjen."), retry_after=item.get_expiry())


def login_account_spent(email_key: str) -> bool:
    """Count one sign-in attempt on an account from a browser it does not know; True when the account's window
    (LOGIN_ACCOUNT_RATE_LIMIT, every address together) is spent. Guessing is slowed; the view decides what the
    true holder may still do (a known browser, or the second factor)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return False
    strategy = _strategy()
    spent = False
    for item in parse_many(current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]):
        if not strategy.hit(item, "login-account", email_key):
            spent = True
    return spent
