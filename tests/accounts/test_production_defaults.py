"""Production defaults that protect children's data (issue 38, item 4): the roles that see children must sign in
with a second factor in production unless the operator says otherwise; development asks nobody."""

from __future__ import annotations

from opplevelseskort.config import load_config


def test_production_asks_admins_and_caseworkers_for_a_second_factor(monkeypatch, tmp_path):
    monkeypatch.setenv("OPPLEVELSESKORT_ENV", "production")
    monkeypatch.delenv("SECOND_FACTOR_ROLES", raising=False)
    assert load_config(str(tmp_path))["SECOND_FACTOR_ROLES"] == ["admin", "caseworker", "finance"]
    monkeypatch.setenv("SECOND_FACTOR_ROLES", "admin,caseworker,analyst")
    assert load_config(str(tmp_path))["SECOND_FACTOR_ROLES"] == ["admin", "caseworker", "analyst"]


def test_development_asks_nobody_so_the_demo_signs_in_with_a_password(monkeypatch, tmp_path):
    monkeypatch.delenv("OPPLEVELSESKORT_ENV", raising=False)
    monkeypatch.delenv("SECOND_FACTOR_ROLES", raising=False)
    assert load_config(str(tmp_path))["SECOND_FACTOR_ROLES"] == []
