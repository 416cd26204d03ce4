"""Card codes: a QR token (192 random bits) and a short typed code with a check character.

The short code uses 31 unambiguous symbols (no 0/O, 1/I, Z) — a prime — so a weighted sum modulo 31
catches every single mistyped character and every swap of two neighbouring characters.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXY"
MOD = len(ALPHABET)  # 31, prime
BODY_LENGTH = 8
VALUE = {c: i for i, c in enumerate(ALPHABET)}
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{30,64}$")


def new_token() -> str:
    """An unguessable URL-safe token (24 random bytes = 192 bits)."""
    return secrets.token_urlsafe(24)


def _check_value(body: str) -> int:
    total = sum((i + 1) * VALUE[c] for i, c in enumerate(body))
    weight = len(body) + 1
    # choose c so that total + weight*c ≡ 0 (mod 31)
    return (-total * pow(weight, -1, MOD)) % MOD


def new_short_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + ALPHABET[_check_value(body)]


def normalise(text: str) -> str:
    return re.sub(r"[\s\-.]", "", (text or "")).upper()


def is_valid_short_code(code: str) -> bool:
    code = normalise(code)
    if len(code) != BODY_LENGTH + 1 or any(c not in VALUE for c in code):
        return False
    return sum((i + 1) * VALUE[c] for i, c in enumerate(code)) % MOD == 0


def looks_like_short_code(text: str) -> bool:
    code = normalise(text)
    return len(code) == BODY_LENGTH + 1 and code.isalnum()


def format_short_code(code: str) -> str:
    """K7M4QX9AB -> K7M-4QX-9AB, easier to read aloud and type."""
    return "-".join(code[i:i + 3] for i in range(0, len(code), 3))
