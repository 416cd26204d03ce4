"""The `opplevelseskort` console script: the Flask CLI of this application."""

from __future__ import annotations

from flask.cli import FlaskGroup

from . import create_app


def _make_app():
    return create_app()


def main() -> None:
    cli = FlaskGroup(create_app=_make_app, help="Opplevelseskortet: kommandolinje (Flask CLI).")
    cli.main(prog_name="opplevelseskort")


if __name__ == "__main__":  # pragma: no cover
    main()
