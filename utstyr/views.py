"""Equipment pool pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("utstyr", __name__)
