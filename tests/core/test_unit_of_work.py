"""One unit of work per request (core/uow.py): views never commit; the boundary commits a success and rolls back
everything else; a refused service call is answered the way the view declared around it (`with refused(...)`)."""

import ast
from pathlib import Path

import pytest
from flask import get_flashed_messages, session

import opplevelseskort
import utstyr
from opplevelseskort.core.errors import DomainError
from opplevelseskort.core.models import Municipality
from opplevelseskort.core.uow import refused, unit_of_work
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


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


def session_ends(source: str) -> list[int]:
    """Lines where code commits or rolls back a session itself (`db.session.commit()`, `s = db.session; s.commit()`,
    `session.rollback()`...): any `.commit()`/`.rollback()` call."""
    return [c.lineno for c in _calls(ast.parse(source))
            if isinstance(c.func, ast.Attribute) and c.func.attr in ("commit", "rollback")]


def refusals_caught(source: str) -> list[int]:
    """Lines where code catches DomainError (or a subclass named *Error from core.errors) itself."""
    caught = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            names = [t.id if isinstance(t, ast.Name) else getattr(t, "attr", "") for t in types]
            if any(n in ("DomainError", "NotFound", "Conflict", "PermissionDenied", "ImportFailed") for n in names):
                caught.append(node.lineno)
    return caught


def test_no_view_commits_or_rolls_back_itself():
    offenders = [f"{p.name}:{n}" for p in VIEW_MODULES for n in session_ends(p.read_text())]
    assert not offenders, offenders


def test_the_checks_find_what_they_look_for():
    """The two checks above and below fail when the rule is broken (shown on a small example each)."""
    assert session_ends("def v():\n    s = db.session\n    s.commit()\n") == [3]
    assert session_ends("def v():\n    db.session.rollback()\n") == [2]
    assert refusals_caught("try:\n    f()\nexcept (ValueError, DomainError) as e:\n    pass\n") == [3]
    assert refusals_caught("try:\n    f()\nexcept errors.NotFound:\n    pass\n") == [3]
    assert refusals_caught("try:\n    f()\nexcept ValueError:\n    pass\n") == []


def test_every_view_answers_refusals_one_way():
    """A view never catches a refusal itself: it says how it is answered with `with refused(...)`."""
    offenders = [f"{p.parent.name}/{p.name}:{n}" for p in VIEW_MODULES for n in refusals_caught(p.read_text())]
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

        def view():
            with refused(lambda: ("; ".join(form.name.errors), 200), field={"taken": form.name}):
                raise DomainError("taken", "Navnet er tatt.")

        from werkzeug.exceptions import HTTPException

        with pytest.raises(HTTPException) as exc:
            unit_of_work(view)()
        response = exc.value.get_response()
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


def queries_built(source: str) -> list[int]:
    """Lines that build a query: any call of `select` (db.select, sa.select, select imported bare)."""
    return [c.lineno for c in _calls(ast.parse(source))
            if (isinstance(c.func, ast.Attribute) and c.func.attr == "select")
            or (isinstance(c.func, ast.Name) and c.func.id == "select")]


def test_views_build_no_queries_of_their_own():
    """Views load the object they were given (db.session.get) and ask services for the rest."""
    assert queries_built("from sqlalchemy import select\nq = select(X)\nr = db.select(Y)\n") == [2, 3]
    offenders = [f"{p.name}:{n}" for p in VIEW_MODULES for n in queries_built(p.read_text())]
    assert not offenders, offenders


def test_a_refusal_outside_the_block_is_not_answered_by_it(app):
    """The answer belongs to the block around the call: a refusal after it is the generic error, and what the
    block's call wrote is rolled back with everything else."""
    with app.test_request_context("/"):
        def view():
            with refused(redirect_to="/elsewhere"):
                db.session.add(Municipality(number="4444", name="Prøve"))
                db.session.flush()
            raise DomainError("refused", "Nei.")

        with pytest.raises(DomainError):
            unit_of_work(view)()
        assert "4444" not in _numbers()


def test_a_refusal_inside_the_block_is_answered_as_declared_and_rolled_back(app):
    from werkzeug.exceptions import HTTPException

    with app.test_request_context("/"):
        def view():
            with refused(redirect_to="/elsewhere"):
                db.session.add(Municipality(number="4445", name="Prøve"))
                db.session.flush()
                raise DomainError("refused", "Nei.")

        with pytest.raises(HTTPException) as exc:
            unit_of_work(view)()
        response = exc.value.get_response()
        assert (response.status_code, response.headers["Location"]) == (302, "/elsewhere")
        assert get_flashed_messages() == ["Nei."]
        assert "4445" not in _numbers()


def _commits_without_a_reason(source: str) -> list[str]:
    """Functions that call `<session>.commit()` without their docstring saying they commit (and why)."""
    import ast

    out = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        commits = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "commit"
                      for n in ast.walk(fn))
        if commits and "commit" not in (ast.get_docstring(fn) or "").lower():
            out.append(fn.name)
    return out


def test_a_service_commits_only_where_its_docstring_says_why():
    """The request's boundary (core.uow), the CLI and the job runner commit; a service that must commit on its own
    (a refused request's notice, a token's last use, a delivery run, a queued build) says so in its docstring."""
    from pathlib import Path

    import opplevelseskort
    import utstyr

    assert _commits_without_a_reason("def f():\n    db.session.commit()\n\ndef g():\n    '''Commits: x.'''\n"
                                     "    db.session.commit()\n") == ["f"]
    boundary = {"uow.py", "cli.py", "jobs.py", "demo.py", "__init__.py"}
    roots = (Path(opplevelseskort.__file__).parent, Path(utstyr.__file__).parent)
    offenders = {f"{p.parent.name}/{p.name}": names for root in roots for p in root.rglob("*.py")
                 if p.name not in boundary and "migrations" not in p.parts
                 and (names := _commits_without_a_reason(p.read_text()))}
    assert offenders == {}
