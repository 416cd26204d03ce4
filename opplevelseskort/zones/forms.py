"""Zone import and edit forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional


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

