"""The wish rounds' forms: the culture office's round, class and call; a child's answer; a partner's answer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .models import GradeBand, WishTime


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


BANDS = [(b.value, b.value) for b in GradeBand]


class RoundForm(FlaskForm):
    title = StringField(_l("Navn på runden"), validators=[DataRequired(), Length(max=200)])
    opens_on = DateField(_l("Første dag"), validators=[DataRequired()])
    closes_on = DateField(_l("Siste dag"), validators=[DataRequired()])
    grade_bands = MultiCheckboxField(_l("Klassetrinn"), choices=BANDS, default=[b for b, _x in BANDS])
    zone_ids = MultiCheckboxField(_l("Soner (ingen valgt: alle)"), coerce=int, choices=[])
    schools = TextAreaField(_l("Skoler (én per linje, tomt: alle)"), validators=[Optional(), Length(max=4000)])
    free_text = BooleanField(_l("Barna kan skrive «noe annet» med egne ord (blir moderert)"))
    card_holders = BooleanField(_l("Barn med kort kan svare på kortsiden"), default=True)


class ClassForm(FlaskForm):
    school = StringField(_l("Skole"), validators=[DataRequired(), Length(max=120)])
    name = StringField(_l("Klasse"), validators=[Optional(), Length(max=40)], description=_l("For eksempel 5B."))
    grade_band = SelectField(_l("Klassetrinn"), choices=BANDS)
    zone_id = SelectField(_l("Sone"), coerce=int, choices=[])
    pupils = IntegerField(_l("Antall elever (koder)"), validators=[DataRequired(), NumberRange(min=1, max=40)])
    languages = MultiCheckboxField(_l("Språk på arket i tillegg til bokmål"), choices=[])


class CallForm(FlaskForm):
    activity = SelectField(_l("Aktivitet"), choices=[])
    zone_id = SelectField(_l("Sone"), coerce=int, choices=[])
    grade_band = SelectField(_l("Klassetrinn"), choices=BANDS)
    times = MultiCheckboxField(_l("Når"), choices=[])
    text = TextAreaField(_l("Tekst til partnerne"), validators=[Optional(), Length(max=2000)])


class AnswerForm(FlaskForm):
    activities = MultiCheckboxField(_l("Hva vil du prøve? Velg opptil fem."), choices=[])
    with_friend = RadioField(_l("Vil du gjøre det sammen med en venn?"), choices=[], validators=[Optional()])
    times = MultiCheckboxField(_l("Når passer det?"), choices=[(t.value, t.value) for t in WishTime])
    free_text = TextAreaField(_l("Noe annet? Skriv det her (ikke skriv navn)"), validators=[Optional(),
                                                                                            Length(max=200)])


class OptOutForm(FlaskForm):
    opt_out = BooleanField(_l("Ikke spør barnet mitt om ønsker"))


class CallAnswerForm(FlaskForm):
    title = StringField(_l("Tittel"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Beskrivelse"), validators=[DataRequired(), Length(max=4000)])
    address = StringField(_l("Sted"), validators=[DataRequired(), Length(max=300)])
    start_date = DateField(_l("Fra"), validators=[DataRequired()])
    end_date = DateField(_l("Til"), validators=[DataRequired()])
    price_nok = IntegerField(_l("Pris (kr)"), validators=[Optional(), NumberRange(min=0, max=100000)], default=0)
