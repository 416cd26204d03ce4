"""One unit of work per request: what a view changed is committed once, at the boundary, or not at all.

Every view is wrapped when the app is built (`init_app`), as indico's request handler does it:

- the view returns a success (1xx-3xx): the session is committed before the answer leaves;
- the view answers an error status, raises, or a service refuses (DomainError): everything is rolled back.

Views therefore never commit or roll back. They parse, check permission, call one service and render. When a
service refuses, the DomainError handler (core.guards) answers; a view says beforehand what that answer is:

    on_refusal(lambda errors: form_page("x.html", form, errors=errors))   # the form again, 422, message listed
    on_refusal(lambda: form_page("x.html", form), field=form.name)        # the message under one field
    on_refusal(page, field={"volunteers_unknown": form.volunteers, None: form.hours})  # ... chosen by error code
    on_refusal(redirect_to=url_for("cards.household", household_id=h.id))  # an action button: flash and go back
    on_refusal(verdict=lambda exc: render_template("checkin/result_no.html", error=exc))  # the refusal is the page

Without a declared answer the refusal is the generic error page (or the JSON error on the API).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, flash, g, redirect, session

from ..extensions import db
from .errors import DomainError


@dataclass
class Refusal:
    render: Callable | None = None
    field: object | None = None
    redirect_to: str | None = None
    verdict: Callable | None = None

    def answer(self, exc: DomainError):
        if self.redirect_to is not None:
            flash(exc.message, "error")
            return redirect(self.redirect_to)
        if self.verdict is not None:
            rv = self.verdict(exc)
        elif self.field is not None:
            # one field, or {error code: field} with None for the rest
            field = self.field.get(exc.code, self.field.get(None)) if isinstance(self.field, dict) else self.field
            field.errors = [*field.errors, exc.message]
            rv = self.render()
        else:
            rv = self.render(getattr(exc, "errors", None) or exc.details.get("errors") or [exc.message])
        response = current_app.make_response(rv)
        response.status_code = 422 if response.status_code < 400 else response.status_code
        return response


def on_refusal(render: Callable | None = None, *, field=None, redirect_to: str | None = None,
               verdict: Callable | None = None) -> None:
    """Declare how this request answers a refused service call (see the module's docstring)."""
    g.refusal = Refusal(render, field, redirect_to, verdict)


def refuse_form(form, fallback: str):
    """A button's small form did not validate: refuse with what its fields said (or `fallback`), answered as the
    view declared (usually back to the page, with the reason)."""
    messages = [str(e) for errs in form.errors.values() for e in errs]
    raise DomainError("form_invalid", " ".join(messages) or fallback)


def refusal_answer(exc: DomainError):
    """The view's declared answer to a refusal, or None for the generic one. A view that must answer 404 for
    what is not the user's checks that before it declares its answer (a typed unknown code is a form error)."""
    refusal = g.pop("refusal", None)
    return None if refusal is None else refusal.answer(exc)


def unit_of_work(view: Callable) -> Callable:
    @functools.wraps(view)
    def run(*args, **kwargs):
        g.pop("refusal", None)  # a refusal answer is this request's own (g can outlive a request)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            db.session.rollback()
            raise
        if response.status_code >= 400:
            db.session.rollback()
            return response
        # The answer is made; what it still reads (a streamed CSV) reads the objects as they were, not reloaded.
        orm_session = db.session()
        orm_session.expire_on_commit = False
        try:
            orm_session.commit()
        except BaseException:
            orm_session.rollback()
            session.pop("_flashes", None)  # "saved" must not be shown for what was not saved
            raise
        finally:
            orm_session.expire_on_commit = True
        return response

    run.unit_of_work = True
    return run


def init_app(app: Flask) -> None:
    """Wrap every view registered so far (call it after the blueprints)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static" and not getattr(view, "unit_of_work", False):
            app.view_functions[endpoint] = unit_of_work(view)
