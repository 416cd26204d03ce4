"""One unit of work per request (core/uow.py): views never commit; the boundary commits a success and rolls back
everything else; a refused service call is answered the way the view declared."""

from pathlib import Path

import pytest
from flask import get_flashed_messages, session

import opplevelseskort
import utstyr
from opplevelseskort.core.errors import DomainError
from opplevelseskort.core.models import Municipality
from opplevelseskort.core.uow import on_refusal, unit_of_work
from opplevelseskort.extensions import db

VIEW_MODULES = [p for root in (Path(opplevelseskort.__file__).parent, Path(utstyr.__file__).parent)
                for p in root.rglob("*.py") if p.name == "views.py" or p.parent.name == "api"]


def _numbers() -> set[str]:
    return set(db.session.scalars(db.select(Municipality.number)))


def _adds(number: str, answer):
    def view():
        db.session.add(Municipality(number=number, name="Prøve"))
        db.session.flush()
        return answer

    return view


def test_no_view_commits_or_rolls_back_itself():
    offenders = [f"{p.name}:{n}" for p in VIEW_MODULES for n, line in enumerate(p.read_text().splitlines(), 1)
                 if "session.commit()" in line or "session.rollback()" in line]
    assert not offenders, offenders


def test_every_view_is_wrapped(app):
    unwrapped = [e for e, v in app.view_functions.items() if e != "static" and not getattr(v, "unit_of_work", False)]
    assert not unwrapped, unwrapped


@pytest.mark.parametrize(("answer", "kept"), [("ok", True), (("moved", 302, {"Location": "/"}), True),
                                              (("refused", 422), False), (("not found", 404), False)])
def test_success_is_committed_and_an_error_status_is_rolled_back(app, answer, kept):
    with app.test_request_context("/"):
        unit_of_work(_adds("9901", answer))()
        db.session.rollback()  # what the boundary committed survives this; what it rolled back is gone
        assert ("9901" in _numbers()) is kept


def test_an_exception_in_the_view_writes_nothing(app):
    def view():
        _adds("9902", "ok")()
        raise DomainError("refused", "Nei.")

    with app.test_request_context("/"), pytest.raises(DomainError):
        unit_of_work(view)()
    assert "9902" not in _numbers()


def test_a_failed_commit_takes_back_the_success_message(app, muni):
    def view():
        from flask import flash

        db.session.add(Municipality(number=muni.number, name="Dublett"))  # the unique number fails at commit
        flash("Lagret.", "success")
        return "ok"

    with app.test_request_context("/"):
        session["x"] = 1
        with pytest.raises(Exception):  # noqa: B017 - the database's IntegrityError, whichever driver
            unit_of_work(view)()
        assert get_flashed_messages() == []


def test_a_declared_form_answer_shows_the_refusal_under_its_field(app):
    from flask_wtf import FlaskForm
    from wtforms import StringField

    class F(FlaskForm):
        name = StringField()

    with app.test_request_context("/", method="POST", data={"name": "x"}):
        form = F(meta={"csrf": False})
        form.validate()
        on_refusal(lambda: ("; ".join(form.name.errors), 200), field={"taken": form.name})
        handler = app.error_handler_spec[None][None][DomainError]
        response = app.make_response(handler(DomainError("taken", "Navnet er tatt.")))
        assert response.status_code == 422  # a refusal is never a 200, whatever the page says
        assert form.name.errors == ["Navnet er tatt."]
        assert response.get_data(as_text=True) == "Navnet er tatt."


def test_a_refused_checkout_is_answered_on_the_form_and_leaves_nothing(client, login_as, muni):
    """A real view: the service refuses after it has started writing; the page shows why, with 422, and
    no borrower, loan or line is left behind."""
    from utstyr import services
    from utstyr.models import Loan, Location

    loc = Location(municipality_id=muni.id, name="Sentralen")
    db.session.add(loc)
    borrower = services.register_borrower(muni.id, kind="adult", name="Kari", phone="41234567")
    db.session.flush()
    login_as("admin")
    before = db.session.scalar(db.select(db.func.count(Loan.id)))
    r = client.post("/utstyr/utlan", data={"location": loc.id, "borrower_id": borrower.id, "unit_codes": "ZZZZ-0000"})
    assert r.status_code == 422
    assert "Ukjent etikett" in r.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Loan.id))) == before


def test_what_a_streamed_answer_reads_after_the_commit_is_not_expired(app, muni):
    """A CSV export streams after the view returned (and the boundary committed): the rows it reads must still be
    loaded, not expired for a session that may be gone by then (DetachedInstanceError in the middle of a file)."""
    with app.test_request_context("/"):
        zone_name = db.session.get(Municipality, muni.id)
        unit_of_work(lambda: "ok")()
        assert "name" in zone_name.__dict__
        assert db.session().expire_on_commit is True  # only the boundary's commit keeps them


def test_views_build_no_queries_of_their_own():
    """Views load the object they were given (db.session.get) and ask services for the rest."""
    offenders = [f"{p.name}:{n}" for p in VIEW_MODULES for n, line in enumerate(p.read_text().splitlines(), 1)
                 if "db.select(" in line or "sa.select(" in line]
    assert not offenders, offenders


def test_a_refusal_answer_declared_by_one_request_does_not_answer_the_next(app):
    from flask import g

    with app.test_request_context("/"):
        unit_of_work(lambda: (on_refusal(redirect_to="/elsewhere"), "ok")[1])()
        assert g.get("refusal") is not None  # declared, never needed

        def refused():
            raise DomainError("refused", "Nei.")

        with pytest.raises(DomainError):
            unit_of_work(refused)()
        assert g.get("refusal") is None  # the next view starts without the earlier declaration
