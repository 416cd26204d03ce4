"""Equipment pool forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from opplevelseskort.core.labels import labels_for

from .models import ItemCategory, UnitCondition

CATEGORY_LABELS = labels_for("item_category", ItemCategory)
CONDITION_LABELS = labels_for("unit_condition", UnitCondition)


class CheckoutForm(FlaskForm):
    card_code = StringField(_l("Kortkode (for kortholdere)"), validators=[Optional(), Length(max=300)],
                            render_kw={"autocomplete": "off"})
    borrower_id = IntegerField(_l("Eller lånernummer"), validators=[Optional()], render_kw={"inputmode": "numeric"})
    unit_codes = TextAreaField(_l("Etiketter (én per linje)"), validators=[DataRequired(), Length(max=2000)],
                               description=_l("Skann eller skriv etikettkodene, for eksempel U2345ABX."),
                               render_kw={"rows": 4, "autocapitalize": "characters", "spellcheck": "false"})
    due_on = DateField(_l("Leveres innen (tomt: standard for utstyret)"), validators=[Optional()])
    late_reason = StringField(_l("Grunn, når lånet registreres i etterkant"), validators=[Optional(), Length(max=300)],
                              description=_l("Bare når leveringsdatoen har passert, for eksempel «registrert fra "
                                             "papirliste, utlånt 3. mars»."))


class ReturnForm(FlaskForm):
    unit_code = StringField(_l("Etikett"), validators=[DataRequired(), Length(max=40)],
                            render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    condition = SelectField(_l("Tilstand"), choices=list(CONDITION_LABELS.items()), default="good")
    unchecked = BooleanField(_l("Levert, men ikke sjekket ennå (vått eller skittent)"))
    lost = BooleanField(_l("Meldt tapt"))
    missing = StringField(_l("Mangler noe? (valgfritt)"), validators=[Optional(), Length(max=300)])


class UnmetForm(FlaskForm):
    category = SelectField(_l("Hva ble spurt etter?"), choices=list(CATEGORY_LABELS.items()))
    size = StringField(_l("Størrelse"), validators=[Optional(), Length(max=40)])


class BlockForm(FlaskForm):
    reason = StringField(_l("Grunn til sperring"), validators=[Optional(), Length(max=500)])


class BorrowerForm(FlaskForm):
    kind = SelectField(_l("Type"), choices=[("adult", _l("Voksen")), ("group", _l("Gruppe (klasse, lag)"))])
    name = StringField(_l("Navn"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Telefon"), validators=[Optional(), Length(max=32)])
    email = StringField(_l("E-post"), validators=[Optional(), Length(max=254)])


class UnitsForm(FlaskForm):
    name = StringField(_l("Utstyr"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(_l("Kategori"), choices=list(CATEGORY_LABELS.items()))
    size = StringField(_l("Størrelse"), validators=[Optional(), Length(max=40)])
    default_loan_days = IntegerField(_l("Utlånsdager"), default=7, validators=[InputRequired(), NumberRange(min=1, max=365)])
    guardian_consent_required = BooleanField(_l("Krever samtykke fra foresatt for barn"))
    kit_items = StringField(_l("Sjekkliste for sett (kommaseparert)"), validators=[Optional(), Length(max=300)])
    count = IntegerField(_l("Antall enheter"), default=1, validators=[InputRequired(), NumberRange(min=1, max=500)])
    safety_expires_on = DateField(_l("Sikkerhetsdato (hjelmer, vester)"), validators=[Optional()])
    photo = FileField(_l("Bilde (valgfritt, JPEG, PNG eller WebP, høyst 2 MB)"))


class ReservationForm(FlaskForm):
    borrower_id = IntegerField(_l("Lånernummer"), validators=[InputRequired()], render_kw={"inputmode": "numeric"})
    item_type_id = SelectField(_l("Utstyr"), coerce=int)
    quantity = IntegerField(_l("Antall"), default=1, validators=[InputRequired(), NumberRange(min=1, max=200)])
    date_from = DateField(_l("Fra dato"), validators=[DataRequired()])
    date_to = DateField(_l("Til dato"), validators=[DataRequired()])


class LocationForm(FlaskForm):
    name = StringField(_l("Navn"), validators=[DataRequired(), Length(max=200)])
    address = StringField(_l("Adresse"), validators=[Optional(), Length(max=300)])
    contact = StringField(_l("Kontakt"), validators=[Optional(), Length(max=300)])
    hours = TextAreaField(_l("Åpningstider (én linje per dag, for eksempel «mandag 15–19»)"),
                          validators=[Optional(), Length(max=1000)])
    exceptions = TextAreaField(_l("Unntak (én linje per dato, for eksempel «2026-12-24 stengt»)"),
                               validators=[Optional(), Length(max=1000)])
    solo_age = IntegerField(_l("Alder barn kan låne alene fra"), validators=[Optional(), NumberRange(min=0, max=18)])
    household_cap = IntegerField(_l("Største antall enheter per husstand i høysesong"),
                                 validators=[Optional(), NumberRange(min=1, max=100)])
    peak_from = DateField(_l("Høysesong fra"), validators=[Optional()])
    peak_until = DateField(_l("Høysesong til"), validators=[Optional()])
    volunteers = StringField(_l("Frivillige (e-post, kommaseparert)"), validators=[Optional(), Length(max=2000)])
