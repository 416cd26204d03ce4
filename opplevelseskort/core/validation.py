"""pydantic's validation errors in the reader's language: one wording for the API's bodies and the CSV imports."""

from __future__ import annotations

import re
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import BeforeValidator, StrictInt

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # an address, not a proof it exists


ORG_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def valid_org_number(value: str) -> bool:
    """Norwegian organisation number: 9 digits, the last a modulus-11 check digit (weights 3,2,7,6,5,4,3,2)."""
    digits = re.sub(r"\s", "", value or "")
    if not re.fullmatch(r"\d{9}", digits):
        return False
    rest = sum(int(d) * w for d, w in zip(digits[:8], ORG_WEIGHTS, strict=True)) % 11
    check = 0 if rest == 0 else 11 - rest
    return check != 10 and check == int(digits[8])


def _integral(value: Any) -> Any:
    """JSON Schema counts 9.0 as an integer; so do we. Booleans are not numbers here."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Integer = Annotated[StrictInt, BeforeValidator(_integral)]  # a JSON body's whole number


def field_message(err: dict, name: str | None = None) -> tuple[str, str]:
    """(field, message) for one of pydantic's errors, in the reader's language. `name` is how the reader knows the
    field (a CSV column as written in the file); by default its place in the body."""
    where = name or ".".join(str(p) for p in err["loc"]) or "body"
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        text = _("«%(field)s» mangler.", field=where)
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        text = _("«%(field)s» må være et heltall.", field=where)
    elif kind in ("string_type", "string_unicode"):
        text = _("«%(field)s» må være en tekst.", field=where)
    elif kind == "string_too_short":
        text = _("«%(field)s» kan ikke være tom.", field=where)
    elif kind == "string_too_long":
        text = _("«%(field)s» kan være høyst %(n)s tegn.", field=where, n=ctx.get("max_length"))
    elif kind == "string_pattern_mismatch":
        text = _("«%(field)s» har ugyldige tegn.", field=where)
    elif kind in ("greater_than_equal", "greater_than"):
        text = _("«%(field)s» må være minst %(limit)s.", field=where, limit=ctx.get("ge", ctx.get("gt")))
    elif kind in ("less_than_equal", "less_than"):
        text = _("«%(field)s» kan være høyst %(limit)s.", field=where, limit=ctx.get("le", ctx.get("lt")))
    elif kind == "list_type":
        text = _("«%(field)s» må være en liste.", field=where)
    elif kind == "too_short":
        text = _("«%(field)s» må ha minst én verdi.", field=where)
    elif kind == "too_long":
        text = _("«%(field)s» har for mange verdier (høyst %(n)s).", field=where, n=ctx.get("max_length"))
    elif kind in ("literal_error", "enum"):
        text = _("«%(field)s» må være en av: %(expected)s.", field=where, expected=ctx.get("expected", ""))
    elif kind == "extra_forbidden":
        text = _("«%(field)s» er ikke et kjent felt.", field=where)
    elif kind in ("date_parsing", "date_from_datetime_parsing", "date_type", "date_from_datetime_inexact"):
        text = _("«%(field)s» må være en dato (ÅÅÅÅ-MM-DD).", field=where)
    elif kind == "value_error":
        text = _("«%(field)s»: %(problem)s", field=where, problem=str(ctx.get("error", "")))
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        text = _("Forespørselen må være et JSON-objekt.")
    else:
        text = _("«%(field)s» er ugyldig.", field=where)
    return where, text
