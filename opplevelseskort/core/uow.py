"""One unit of work per request: what a view changed is committed once, at the boundary, or not at all.

Every view is wrapped when the app is built (`init_app`), as indico's request handler does it:

- the view returns a success (1xx-3xx): the session is committed before the answer leaves;
- the view answers an error status or raises (a refused service call too): everything is rolled back.

Views therefore never commit or roll back. They parse, check permission, call one service and render. Where a
service may refuse (DomainError), the view says how that refusal is answered, right around the call:

    with refused(lambda errors: form_page("x.html", form, errors=errors)):   # the form again, 422, listed
        services.save(...)
    with refused(lambda: form_page("x.html", form), field=form.name):         # the message under one field
    with refused(page, field={"volunteers_unknown": form.volunteers, None: form.hours}):  # ... by error code
    with refused(redirect_to=url_for("cards.household", household_id=h.id)):  # an action button: flash, go back
    with refused(verdict=lambda exc: render_template("checkin/result_no.html", error=exc)):  # refusal is the page
    with refused(not_found=True):                                              # not yours, or not there: 404
        offer = services.get_offer_for_edit(current_user, offer_id)
    with refused(status=422):                                  # API: an unknown card is a refusal like the others
        result = services.record_checkin(...)

A refusal outside any `with refused` is the generic error page (or the JSON error on the API, which has its own
handler). The answer leaves as an HTTPException, so the boundary rolls back exactly as for any other error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, abort, current_app, flash, redirect, session

from ..extensions import db
from .errors import DomainError
from .forms import field_named
from .guards import json_error, wants_json


@dataclass
class Refusal:
    render: Callable | None = None
    field: object | None = None
    redirect_to: str | None = None
    verdict: Callable | None = None
    form: object | None = None

    def answer(self, exc: DomainError):
        if self.redirect_to is not None:
            flash(exc.message, "error")
            return redirect(self.redirect_to)
        if self.verdict is not None:
            rv = self.verdict(exc)
        elif self.form is not None and exc.details.get("fields"):
            # a service that checked several fields at once: each problem under its own field
            unplaced = []
            for name, message in exc.details["fields"].items():
                target = field_named(self.form, name)
                if target is None:
                    unplaced.append(message)
                else:
                    target.errors = [*target.errors, message]
            rv = self.render(unplaced) if unplaced else self.render()
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


@contextmanager
def refused(render: Callable | None = None, *, field=None, redirect_to: str | None = None,
            verdict: Callable | None = None, not_found: bool = False, status: int | None = None,
            form=None) -> Iterator[None]:
    """Answer a DomainError raised inside the block as declared here (see the module's docstring). `status`
    answers the usual error (JSON on the API) with that status instead of the error's own; `form` takes a
    refusal that names several fields (`fields={name: message}`) and puts each message under its field."""
    try:
        yield
    except DomainError as exc:
        if exc.status < 400:  # not a refusal (figures still being made): its own handler answers
            raise
        if not_found:
            abort(404)
        if status is not None:
            if wants_json():
                abort(json_error(status, exc.code, exc.message))
            answer = DomainError(exc.code, exc.message, **exc.details)
            answer.status = status
            raise answer from None
        abort(Refusal(render, field, redirect_to, verdict, form).answer(exc))


def refuse_form(form, fallback: str):
    """A button's small form did not validate: refuse with what its fields said (or `fallback`), answered by the
    enclosing `refused` block (usually back to the page, with the reason)."""
    messages = [str(e) for errs in form.errors.values() for e in errs]
    raise DomainError("form_invalid", " ".join(messages) or fallback)


def unit_of_work(view: Callable) -> Callable:
    @functools.wraps(view)
    def run(*args, **kwargs):
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
