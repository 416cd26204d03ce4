"""Forms of the money part."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp


class SettlementForm(FlaskForm):
    partner_id = SelectField(_l("Partner"), coerce=int, validators=[DataRequired()])
    month = StringField(_l("Måned (ÅÅÅÅ-MM)"), validators=[DataRequired(), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$",
                                                                                     message=_l("Skriv måneden som ÅÅÅÅ-MM."))])


class SchemeForm(FlaskForm):
    name = StringField(_l("Navn på ordningen"), validators=[DataRequired(), Length(max=120)])
    amount_kr = IntegerField(_l("Beløp per barn per periode (kr)"), validators=[DataRequired(), NumberRange(1, 100_000)])
    half_years = BooleanField(_l("Halvårlige perioder (ellers hele år)"))
    age_min = IntegerField(_l("Laveste alder"), validators=[Optional(), NumberRange(0, 25)])
    age_max = IntegerField(_l("Høyeste alder"), validators=[Optional(), NumberRange(0, 25)])
    topup_kr = IntegerField(_l("Ekstra beløp i valgte soner (kr)"), default=0, validators=[Optional(), NumberRange(0, 100_000)])
    topup_zones = SelectMultipleField(_l("Soner med ekstra beløp"), coerce=int,
                                      description=_l("For eksempel soner der få barn bruker kortet."))


class RegistrationForm(FlaskForm):
    partner_id = SelectField(_l("Partner"), coerce=int, validators=[DataRequired()])
    org_number = StringField(_l("Organisasjonsnummer"), validators=[DataRequired(), Length(max=20)])
    account_number = StringField(_l("Kontonummer"), validators=[DataRequired(), Length(max=20)])
    contact_email = StringField(_l("E-post til kontaktperson"), validators=[DataRequired(), Length(max=254)])
    repayment_accepted = BooleanField(_l("Partneren godtar å betale tilbake utbetalinger den visste eller burde visst "
                                         "var feil"))
