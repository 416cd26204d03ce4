"""Card forms: household registration, card actions, search."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..config import SUPPORTED_LOCALES
from ..core.forms import SubForm
from ..core.i18n import LANGUAGE_NAMES
from ..core.labels import labels_for
from .models import Channel, Gender, RevokeReason

CHANNEL_LABELS = labels_for("channel", Channel)
GENDER_LABELS = labels_for("gender", Gender)
REVOKE_LABELS = labels_for("revoke_reason", RevokeReason)
LANGUAGE_CHOICES = [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES]


class GuardianSubForm(SubForm):
    name = StringField(_l("Navn"), validators=[Optional(), Length(max=200)])
    phone = TelField(_l("Mobilnummer"), validators=[Optional(), Length(max=32)], render_kw={"autocomplete": "tel"})
    email = EmailField(_l("E-post"), validators=[Optional(), Length(max=254)], render_kw={"autocomplete": "email"})
    preferred_language = SelectField(_l("Foretrukket språk"), choices=LANGUAGE_CHOICES, default="nb")


class ApplicantChildForm(SubForm):
    """A child as a family gives it on the application; the caseworker's form adds gender and zone."""
    given_name = StringField(_l("Fornavn"), validators=[Optional(), Length(max=100)])
    family_name = StringField(_l("Etternavn"), validators=[Optional(), Length(max=100)])
    birth_year = IntegerField(_l("Fødselsår"), validators=[Optional(), NumberRange(min=1990, max=2100)],
                              render_kw={"inputmode": "numeric"})
    birth_month = IntegerField(_l("Fødselsmåned (1–12)"), validators=[Optional(), NumberRange(min=1, max=12)],
                               render_kw={"inputmode": "numeric"})


class ChildSubForm(ApplicantChildForm):
    gender = SelectField(_l("Kjønn (valgfritt)"), choices=[("", _l("Ikke oppgitt"))] + list(GENDER_LABELS.items()),
                         default="")
    zone = StringField(_l("Sone (navn eller kode)"), validators=[Optional(), Length(max=200)],
                       render_kw={"list": "zone-list"})


class HouseholdForm(FlaskForm):
    guardians = FieldList(FormField(GuardianSubForm), min_entries=2, max_entries=2)
    children = FieldList(FormField(ChildSubForm), min_entries=4, max_entries=4)
    address = StringField(_l("Adresse (brukes bare til å finne sonen, lagres ikke)"),
                          validators=[Optional(), Length(max=200)], render_kw={"autocomplete": "street-address"})
    channel = SelectField(_l("Hvordan kom familien til oss?"), choices=list(CHANNEL_LABELS.items()))
    eligible_from = DateField(_l("Rett til kort fra"), validators=[DataRequired()])
    eligible_until = DateField(_l("Rett til kort til"), validators=[DataRequired()])
    confirmed = BooleanField(_l("Jeg bekrefter at kommunens kriterier er oppfylt"))


class IssueForm(FlaskForm):
    valid_until = DateField(_l("Gyldig til"), validators=[Optional()],
                            description=_l("Tomt: til retten til kort slutter."))
    companions = IntegerField(_l("Antall ledsagere"), default=1, validators=[Optional(), NumberRange(min=0, max=5)])


class RenewForm(FlaskForm):
    valid_until = DateField(_l("Ny sluttdato"), validators=[DataRequired()])


class RevokeForm(FlaskForm):
    reason = SelectField(_l("Grunn"), choices=[("", _l("Velg grunn"))] + list(REVOKE_LABELS.items()),
                         validators=[DataRequired(_l("Velg hvorfor kortet sperres."))])
    confirm = BooleanField(_l("Ja, sperr kortet. Familien kan ikke bruke det lenger."),
                           validators=[DataRequired(_l("Bekreft at kortet skal sperres."))])


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Søk etter navn, kortkode eller en foresatts telefon eller e-post"),
                    validators=[Optional(), Length(max=100)])


class ApplicationForm(FlaskForm):
    name = StringField(_l("Ditt navn"), validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "name"})
    phone = TelField(_l("Mobilnummer"), validators=[Optional(), Length(max=32)], render_kw={"autocomplete": "tel"})
    email = EmailField(_l("E-post"), validators=[Optional(), Length(max=254)], render_kw={"autocomplete": "email"})
    preferred_language = SelectField(_l("Hvilket språk vil du ha meldinger på?"), choices=LANGUAGE_CHOICES, default="nb")
    zone = StringField(_l("Hvor bor dere? (område eller grunnkrets, valgfritt)"), validators=[Optional(), Length(max=200)])
    children = FieldList(FormField(ApplicantChildForm), min_entries=3, max_entries=3)
    consent = BooleanField(_l("Jeg samtykker til at kommunen lagrer disse opplysningene"))


class DecisionForm(FlaskForm):
    eligible_from = DateField(_l("Rett til kort fra"), validators=[Optional()])
    eligible_until = DateField(_l("Rett til kort til"), validators=[Optional()])
    reason = StringField(_l("Begrunnelse ved avslag"), validators=[Optional(), Length(max=500)])


class BulkImportForm(FlaskForm):
    file = FileField(_l("CSV-fil"), validators=[FileRequired(_l("Velg en fil."))])
    dry_run = BooleanField(_l("Bare forhåndsvis (lagre ingenting)"), default=True)
