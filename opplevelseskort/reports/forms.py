"""Report forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False

    period = StringField(_l("Periode"), validators=[Optional(), Length(max=30)],
                         description=_l("Et år (2026), et kvartal (2026-Q1) eller en måned (2026-03)"))
    level = SelectField(_l("Nivå"), validators=[Optional()])


class IndicatorImportForm(FlaskForm):
    kind = SelectField(_l("Filtype"), choices=[("csv", _l("CSV: zone;indicator;year;value")),
                                               ("jsonstat", _l("JSON-stat 2.0"))])
    file = FileField(_l("Fil"), validators=[FileRequired(_l("Velg en fil."))])
    # Without it one unknown zone refuses the whole file.
    skip_unknown = BooleanField(_l("Hopp over rader med ukjente soner (de listes etterpå)"))


class NeedFilterForm(FlaskForm):
    class Meta:
        csrf = False

    year = IntegerField(_l("År"), validators=[Optional(), NumberRange(min=2000, max=2100)])
    level = SelectField(_l("Nivå"), validators=[Optional()])
    indicator = SelectField(_l("Behov anslått fra"), validators=[Optional()],
                            description=_l("Indikatoren som anslår hvor mange barn som trenger kortet i hver sone"))
    pool = SelectField(_l("Slå sammen"), choices=[("1", _l("Ett år")), ("2", _l("To år")), ("3", _l("Tre år"))],
                       default="1", validators=[Optional()],
                       description=_l("Små soner blir sikrere med flere år sammen (barn-år)"))


class OwnIndexImportForm(FlaskForm):
    kind = SelectField(_l("Filtype"), choices=[("csv", _l("CSV: sone;år;indeks;delskårer …, eller SSBs brede tabell")),
                                               ("jsonstat", _l("JSON-stat 2.0"))])
    method = StringField(_l("Metodens navn"), validators=[DataRequired(), Length(max=120)],
                         description=_l("For eksempel «Drammen levekårsindeks»"))
    method_version = StringField(_l("Versjon"), validators=[DataRequired(), Length(max=40)],
                                 description=_l("For eksempel «2023»"))
    file = FileField(_l("Fil"), validators=[FileRequired(_l("Velg en fil."))])


class CompareForm(FlaskForm):
    class Meta:
        csrf = False

    indicator = SelectField(_l("Tall"), validators=[Optional()])
    level = SelectField(_l("Nivå"), validators=[Optional()], description=_l("For publiserte tall"))
    before = IntegerField(_l("Fra år"), validators=[Optional(), NumberRange(min=1900, max=2100)])
    after = IntegerField(_l("Til år"), validators=[Optional(), NumberRange(min=1900, max=2100)])


class CorrespondenceImportForm(FlaskForm):
    from_version = StringField(_l("Gammel versjon"), validators=[DataRequired(), Length(max=20)],
                               description=_l("For eksempel 2019"))
    to_version = StringField(_l("Ny versjon"), validators=[DataRequired(), Length(max=20)],
                             description=_l("For eksempel 2020"))
    file = FileField(_l("Endringsliste (CSV)"), validators=[FileRequired(_l("Velg en fil."))],
                     description=_l("SSBs endringsliste (oldCode;newCode), eller old_code;new_code;weight"))
