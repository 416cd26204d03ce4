"""Check-in forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class ScanForm(FlaskForm):
    offer_id = SelectField(_l("Tilbud"), coerce=int, validators=[DataRequired(_l("Velg tilbud."))])
    code = StringField(_l("Kortkode"), validators=[DataRequired(_l("Skriv inn koden på kortet.")), Length(max=500)],
                       description=_l("Koden står under QR-koden, for eksempel K7M-4QX-9TV."),
                       # the door's next card: the field has focus when the page opens ("Skann neste kort")
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                  "inputmode": "text", "autofocus": True})
    source = HiddenField(default="typed")


class CompanionsForm(FlaskForm):
    companions = IntegerField(_l("Antall ledsagere som kom"), validators=[Optional(), NumberRange(min=0, max=20)],
                              default=0, render_kw={"inputmode": "numeric"})


class VoidForm(FlaskForm):
    reason = StringField(_l("Hvorfor annulleres besøket?"), validators=[DataRequired(), Length(max=500)])


class FollowUpForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter

    weeks = IntegerField(_l("Ikke brukt på minst (uker)"), default=8, validators=[Optional(), NumberRange(min=1, max=104)])
