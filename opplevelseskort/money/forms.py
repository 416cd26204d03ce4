"""Forms of the money part."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Regexp


class SettlementForm(FlaskForm):
    partner_id = SelectField(_l("Partner"), coerce=int, validators=[DataRequired()])
    month = StringField(_l("Måned (ÅÅÅÅ-MM)"), validators=[DataRequired(), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$",
                                                                                     message=_l("Skriv måneden som ÅÅÅÅ-MM."))])
