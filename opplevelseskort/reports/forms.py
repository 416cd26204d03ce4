"""Report forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False

    period = StringField(_l("Periode"), validators=[Optional(), Length(max=30)],
                         description=_l("2026, 2026-Q1, 2026-03 eller 2026-01-01..2026-06-30"))
    level = SelectField(_l("Nivå"), validators=[Optional()])


class IndicatorImportForm(FlaskForm):
    kind = SelectField(_l("Filtype"), choices=[("csv", _l("CSV: zone;indicator;year;value")),
                                               ("jsonstat", _l("JSON-stat 2.0"))])
    file = FileField(_l("Fil"), validators=[FileRequired(_l("Velg en fil."))])
    # Without it one unknown zone refuses the whole file.
    skip_unknown = BooleanField(_l("Hopp over rader med ukjente soner (de listes etterpå)"))
