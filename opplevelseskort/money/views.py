"""Pages of the money part (the ledger's admin pages come with the settlement work; see README, Money)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("money", __name__)
