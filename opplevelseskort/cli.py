"""The `opplevelseskort` console script: the Flask CLI of this application."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo

from . import create_app


def _make_app():
    return create_app()


class _Cli(FlaskGroup):
    """The app's own commands come first: a Flask plugin another installed package brings (flask-dramatiq's
    `worker`, installed with a test tool) never shadows one of ours."""

    def get_command(self, ctx: click.Context, name: str):
        try:
            app = ctx.ensure_object(ScriptInfo).load_app()
        except Exception:  # noqa: BLE001 - no app: Flask's own commands and plugins still answer
            app = None
        own = app.cli.get_command(ctx, name) if app is not None else None
        if own is None:
            return super().get_command(ctx, name)
        if not current_app or current_app._get_current_object() is not app:
            ctx.with_resource(app.app_context())  # as Flask does for the app's commands
        return own


def main() -> None:
    cli = _Cli(create_app=_make_app, help="Opplevelseskortet: kommandolinje (Flask CLI).")
    cli.main(prog_name="opplevelseskort")


if __name__ == "__main__":  # pragma: no cover
    main()
