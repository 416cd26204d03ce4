"""cards pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cards", __name__)
