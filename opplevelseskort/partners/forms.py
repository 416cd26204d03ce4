"""Partner and offer forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FloatField,
    IntegerField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..accounts.forms import UserEditForm, UserForm
from ..core.labels import labels_for
from .models import LimitPeriod, OfferCategory, OfferStatus, PartnerKind

KIND_LABELS = labels_for("partner_kind", PartnerKind)
CATEGORY_LABELS = labels_for("offer_category", OfferCategory)
STATUS_LABELS = labels_for("offer_status", OfferStatus)
PERIOD_LABELS = labels_for("limit_period", LimitPeriod)


class PartnerRegistrationForm(FlaskForm):
    name = StringField(_l("Navn på organisasjonen"), validators=[DataRequired(), Length(max=200)])
    org_number = StringField(_l("Organisasjonsnummer"), validators=[DataRequired(), Length(max=11)],
                             description=_l("Ni siffer, fra Brønnøysundregistrene."), render_kw={"inputmode": "numeric"})
    kind = SelectField(_l("Type"), choices=list(KIND_LABELS.items()))
    contact_name = StringField(_l("Kontaktperson"), validators=[DataRequired(), Length(max=200)])
    contact_email = EmailField(_l("E-post til kontaktperson"), validators=[DataRequired(), Length(max=254)])
    contact_phone = TelField(_l("Telefon"), validators=[Optional(), Length(max=32)])
    address = StringField(_l("Adresse"), validators=[Optional(), Length(max=300)])
    zone = StringField(_l("Sone (valgfritt)"), validators=[Optional(), Length(max=200)])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Begrunnelse"), validators=[Optional(), Length(max=500)])


class OfferForm(FlaskForm):
    title = StringField(_l("Tittel (bokmål)"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Beskrivelse (bokmål)"), validators=[Optional(), Length(max=5000)])
    title_en = StringField(_l("Tittel på engelsk (valgfritt)"), validators=[Optional(), Length(max=200)])
    description_en = TextAreaField(_l("Beskrivelse på engelsk (valgfritt)"), validators=[Optional(), Length(max=5000)])
    title_nn = StringField(_l("Tittel på nynorsk (valgfritt)"), validators=[Optional(), Length(max=200)])
    description_nn = TextAreaField(_l("Beskrivelse på nynorsk (valgfritt)"), validators=[Optional(), Length(max=5000)])
    category = SelectField(_l("Kategori"), choices=list(CATEGORY_LABELS.items()))
    age_min = IntegerField(_l("Alder fra"), default=6, validators=[InputRequired(), NumberRange(min=0, max=25)])
    age_max = IntegerField(_l("Alder til"), default=17, validators=[InputRequired(), NumberRange(min=0, max=25)])
    address = StringField(_l("Sted"), validators=[Optional(), Length(max=300)])
    zone = StringField(_l("Sone (valgfritt)"), validators=[Optional(), Length(max=200)])
    lat = FloatField(_l("Breddegrad (valgfritt)"), validators=[Optional(), NumberRange(min=-90, max=90)])
    lon = FloatField(_l("Lengdegrad (valgfritt)"), validators=[Optional(), NumberRange(min=-180, max=180)])
    start_date = DateField(_l("Fra dato"), validators=[DataRequired()])
    end_date = DateField(_l("Til dato"), validators=[DataRequired()])
    opening_hours = TextAreaField(_l("Åpningstider"), validators=[Optional(), Length(max=2000)],
                                  description=_l("Én linje per dag eller dager, for eksempel «tirsdag 17–19» eller "
                                                 "«man–fre 15:00–19:30». Unntak: «2026-12-24 stengt»."))
    companions_allowed = IntegerField(_l("Ledsagere som kan bli med gratis"), default=1,
                                      validators=[Optional(), NumberRange(min=0, max=5)])
    price_nok = IntegerField(_l("Ordinær pris (kr)"), default=0, validators=[Optional(), NumberRange(min=0)],
                             description=_l("Verdien barnet får. Brukes i oppgjøret."))
    use_limit = IntegerField(_l("Største antall bruk per kort (valgfritt)"), validators=[Optional(), NumberRange(min=1)])
    use_limit_period = SelectField(_l("Per"), choices=list(PERIOD_LABELS.items()), default="period")
    requires_booking = BooleanField(_l("Krever påmelding (begrenset antall plasser)"))
    status = SelectField(_l("Status"), choices=list(STATUS_LABELS.items()), default="draft")
    image = FileField(_l("Bilde (valgfritt, JPEG, PNG eller WebP, høyst 2 MB)"))


class OccasionForm(FlaskForm):
    starts_at = DateTimeLocalField(_l("Start"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    ends_at = DateTimeLocalField(_l("Slutt"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    capacity = IntegerField(_l("Antall plasser (tomt: ubegrenset)"), validators=[Optional(), NumberRange(min=1)])


class CatalogueForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Søk"), validators=[Optional(), Length(max=100)])
    age = IntegerField(_l("Alder"), validators=[Optional(), NumberRange(min=0, max=25)])
    category = SelectField(_l("Kategori"), choices=[("", _l("Alle"))] + list(CATEGORY_LABELS.items()), default="")
    zone = SelectField(_l("Område"), coerce=int, default=0)
    on = DateField(_l("Dato"), validators=[Optional()])


class BookOnBehalfForm(FlaskForm):
    card_code = StringField(_l("Kortkode til barnet"), validators=[DataRequired(), Length(max=200)])


class StaffUserForm(UserForm):
    """A new staff user; a partner user also names the organisation they work for."""
    partner_id = SelectField(_l("Partnerorganisasjon"), coerce=int, validators=[Optional()],
                             description=_l("Bare for partnerbrukere."))


class StaffUserEditForm(UserEditForm):
    partner_id = SelectField(_l("Partnerorganisasjon"), coerce=int, validators=[Optional()])
