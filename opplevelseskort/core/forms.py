"""Core forms: login, password, users, tokens, zones, language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtf_translations
from wtforms import (
    Form,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

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
    org_number = StringField(_l("Kommunens organisasjonsnummer"), validators=[Optional(), Length(max=20)],
                             description=_l("Ni sifre. Står som kjøper på EHF-fakturaene for aktivitetspenger."))
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

