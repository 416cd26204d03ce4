"""Core forms: login, password, users, tokens, zones, language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from flask_wtf.i18n import translations as wtf_translations
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .i18n import LANGUAGE_NAMES
from .labels import labels_for
from .models import Role

ROLE_LABELS = labels_for("role", Role)


class SubForm(Form):
    """A form inside a FlaskForm (a FieldList of FormFields): WTForms' own messages ("Tall må være mellom …") in the
    page's language, as in the FlaskForm around it; a plain wtforms.Form would answer in English."""

    class Meta:
        def get_translations(self, form):
            return wtf_translations


def leaf_fields(form):
    """Every input field of a form, inside FieldLists and FormFields too (an error summary lists them all)."""
    for f in form:
        if f.type == "FieldList":
            for entry in f:
                yield from (leaf_fields(entry.form) if entry.type == "FormField" else [entry])
        elif f.type == "FormField":
            yield from leaf_fields(f.form)
        else:
            yield f


def field_named(form, name: str):
    """The field whose input name is `name` ("guardians-1-phone" inside a FieldList), or None."""
    return next((f for f in leaf_fields(form) if f.name == name), None)


class LoginForm(FlaskForm):
    email = EmailField(_l("E-post"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Passord"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Nåværende passord"), validators=[DataRequired()],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("Nytt passord"), validators=[DataRequired(), Length(min=8, max=200)],
                        description=_l("Minst 8 tegn."), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Gjenta nytt passord"),
                            validators=[DataRequired(), EqualTo("new", message=_l("Passordene er ikke like."))],
                            render_kw={"autocomplete": "new-password"})


class SecondFactorForm(FlaskForm):
    code = StringField(_l("Kode"), validators=[DataRequired(), Length(max=20)],
                       description=_l("Seks sifre fra appen, eller en av reservekodene."),
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True})


class ReauthForm(FlaskForm):
    password = PasswordField(_l("Passord"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"})


class PasswordSetForm(FlaskForm):
    """A new user chooses their password through a set-password link."""

    new = PasswordField(_l("Nytt passord"), validators=[DataRequired(), Length(min=8, max=200)],
                        description=_l("Minst 8 tegn."), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Gjenta nytt passord"),
                            validators=[DataRequired(), EqualTo("new", message=_l("Passordene er ikke like."))],
                            render_kw={"autocomplete": "new-password"})


class UserForm(FlaskForm):
    email = EmailField(_l("E-post"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Navn"), validators=[Optional(), Length(max=200)])
    password = PasswordField(_l("Passord (valgfritt)"), validators=[Optional(), Length(min=8, max=200)],
                             description=_l("La feltet stå tomt: brukeren får en e-post med en lenke for å velge "
                                            "passordet selv (anbefalt; ingen passord sendes)."),
                             render_kw={"autocomplete": "new-password"})
    role = SelectField(_l("Rolle"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    municipality_id = SelectField(_l("Kommune"), coerce=int, validators=[Optional()])


class UserEditForm(FlaskForm):
    name = StringField(_l("Navn"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Rolle"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()])
    municipality_id = SelectField(_l("Kommune"), coerce=int, validators=[Optional()])
    active = BooleanField(_l("Aktiv"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(FlaskForm):
    name = StringField(_l("Navn på nøkkelen"), validators=[DataRequired(), Length(max=120)],
                       description=_l("For eksempel «Skanner i resepsjonen»."))
    scopes = MultiCheckboxField(_l("Hva nøkkelen kan gjøre"), validate_choice=False)
    days = SelectField(_l("Virker i"), coerce=int, default=90,
                       choices=[(30, _l("30 dager")), (90, _l("90 dager")), (365, _l("ett år"))])


class ActionForm(FlaskForm):
    """A button-only form (revoke, log out): CSRF and nothing else."""


def _line_field(code: str) -> StringField:
    """The contact line as one language's families read it (typed in that language and direction)."""
    return StringField(LANGUAGE_NAMES[code], validators=[Optional(), Length(max=1000)],
                       render_kw={"lang": code, "dir": "auto"})


class MunicipalitySettingsForm(FlaskForm):
    contact_line = StringField(_l("Kontaktlinje for familiene"), validators=[Optional(), Length(max=1000)],
                               description=_l("Vises på familiens kortside, for eksempel «Spørsmål? Ring "
                                              "servicetorget på 69 19 60 00»."))
    # the form only bounds the sizes: the service checks every field's rule at once (each problem under its field)
    sms_sender = StringField(_l("Avsendernavn på SMS"), validators=[Optional(), Length(max=100)],
                             description=_l("Høyst 11 tegn, for eksempel «Halden kom»."))
    default_report_period = StringField(_l("Standard rapportperiode"), validators=[Optional(), Length(max=40)],
                                        description=_l("Tomt: inneværende år. Eller 2026, 2026-Q1, 2026-03."))
    support_email = StringField(_l("E-post for brukerstøtte"), validators=[Optional(), Length(max=254)])
    # the contact line in each family language beside bokmål (labelled by the language's own name)
    contact_line_nn = _line_field("nn")
    contact_line_en = _line_field("en")
    contact_line_sv = _line_field("sv")
    contact_line_ar = _line_field("ar")
    contact_line_so = _line_field("so")
    contact_line_pl = _line_field("pl")
    contact_line_uk = _line_field("uk")
    contact_line_ti = _line_field("ti")
    scheme_end = StringField(_l("Ordningens år slutter"), validators=[Optional(), Length(max=10)],
                             description=_l("Dag og måned (DD.MM), for eksempel 31.12 for kalenderåret eller 31.07 "
                                            "for skoleåret. Nye kort og godkjente søknader får perioden fram til da."))


class MunicipalityForm(FlaskForm):
    municipality = SelectField(_l("Kommune"), validators=[DataRequired()])


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Språk"))


class ZoneImportForm(FlaskForm):
    municipality_id = SelectField(_l("Kommune"), coerce=int)
    kind = SelectField(_l("Filtype"), choices=[
        ("geojson", _l("GeoJSON med grenser (Kartverket/Geonorge)")),
        ("csv", _l("CSV: code;name;level;parent")),
        ("mapping", _l("CSV: grunnkrets;sone (koblingstabell)")),
    ])
    file = FileField(_l("Fil"), validators=[FileRequired(_l("Velg en fil."))])
    code_property = StringField(_l("Egenskap med kode"), default="grunnkretsnummer",
                                validators=[Optional(), Length(max=80)],
                                description=_l("Bare for GeoJSON: navnet på egenskapen som har sonekoden."))
    name_property = StringField(_l("Egenskap med navn"), default="grunnkretsnavn",
                                validators=[Optional(), Length(max=80)])
    level = StringField(_l("Nivå"), default="grunnkrets", validators=[Optional(), Length(max=40)])
    parent_prefix = IntegerField(_l("Lag overordnede soner fra de første sifrene i koden"),
                                 validators=[Optional(), NumberRange(min=1, max=31)],
                                 description=_l("For eksempel 6: de seks første sifrene i et grunnkretsnummer er delområdet."))
    parent_level = StringField(_l("Nivå for overordnede soner"), default="delomrade",
                               validators=[Optional(), Length(max=40)])
    parent_name_property = StringField(_l("Egenskap med navn på overordnet sone"),
                                       validators=[Optional(), Length(max=80)])
    repair = BooleanField(_l("Reparer ugyldige polygoner (de listes etterpå) i stedet for å avvise filen"))


class ZoneEditForm(FlaskForm):
    name = StringField(_l("Navn"), validators=[DataRequired(), Length(max=200)])
    level = StringField(_l("Nivå"), validators=[DataRequired(), Length(max=40)])
    parent_code = StringField(_l("Kode for overordnet sone"), validators=[Optional(), Length(max=32)])
