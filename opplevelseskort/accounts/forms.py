"""Sign-in, password, second factor, user and token forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.forms import ROLE_LABELS


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

