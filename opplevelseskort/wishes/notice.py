"""What a child and a parent are told, in their language: the notice of a round (what is asked, why, that nobody
can see who answered, when the answers are deleted, how a parent says no), and the answer form's words. The
round's page, the class sheet and the public page show the notice; README "Wishes" holds the impact assessment."""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..core.i18n import LANGUAGE_NAMES, current_locale_code, force_locale
from ..core.labels import label
from . import catalogue
from .forms import AnswerForm
from .models import WishRound, WishTime
from .services import AnswerInput

RETENTION_DAYS = 30  # answers are deleted when the results are published, at the latest this long after the close


def language_name(lang: str) -> str:
    return LANGUAGE_NAMES.get(lang, lang)


def notice(lang: str, wish_round: WishRound | None) -> dict:
    """The notice in one language (rendered with `lang` and `dir` by the template)."""
    with force_locale(lang):
        deleted_by = wish_round.closes_on + timedelta(days=RETENTION_DAYS) if wish_round else None
        return {"lang": lang, "rtl": lang == "ar", "language": language_name(lang),
                "title": _("Om ønskerunden"),
                "paragraphs": [
                    _("Kommunen spør barn hvilke fritidsaktiviteter de har lyst til å prøve, slik at klubber og lag "
                      "kan lage tilbud som barna ønsker seg."),
                    _("Du svarer uten navn. Ingen kan se hva akkurat du svarte, heller ikke læreren eller kommunen. "
                      "Vi viser bare tall for mange barn sammen."),
                    _("Svarene slettes når resultatene er publisert, senest %(date)s.", date=deleted_by.isoformat())
                    if deleted_by else
                    _("Svarene slettes når resultatene er publisert, senest 30 dager etter at runden stenger."),
                    _("Det er frivillig å svare. Foreldre som ikke vil at barnet skal svare, kan si fra til læreren, "
                      "eller slå av ønsker på barnets kortside."),
                ]}


def friend_choices() -> list[tuple[str, str]]:
    return [("yes", _("Ja")), ("no", _("Nei")), ("either", _("Det spiller ingen rolle"))]


def time_choices() -> list[tuple[str, str]]:
    return [(t.value, label("wish_time", t)) for t in WishTime]


def pictograms() -> dict[str, str]:
    return {a.code: a.pictogram for a in catalogue.ACTIVITIES}


def clean_code(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text or "").upper()[:12] or "-"


class CodeForm(FlaskForm):
    code = StringField(_l("Koden fra arket"), validators=[DataRequired(), Length(max=20)])


def answer_form(wish_round: WishRound) -> AnswerForm:
    """The answer form, its choices in the reader's language (pictograms beside them in the template)."""
    form = AnswerForm()
    lang = current_locale_code()
    form.activities.choices = [(a.code, a.name(lang)) for a in catalogue.ACTIVITIES]
    form.with_friend.choices = friend_choices()
    form.times.choices = time_choices()
    return form


def answer_input(form):
    """The answer form's data as the service takes it."""
    friend = {"yes": True, "no": False}.get(form.with_friend.data or "")
    return AnswerInput(list(form.activities.data or []), friend, list(form.times.data or []),
                       form.free_text.data or "")
