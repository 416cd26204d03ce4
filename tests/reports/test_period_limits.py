"""A report period must lie where reports can have data: far dates are a named 422, never an overflow 500."""

import pytest

from opplevelseskort.core.errors import DomainError
from opplevelseskort.reports import periods as services

FAR = ["2026-01-01..9999-12-31", "0001-01-01..2026-12-31", "9999", "9999-Q4", "9999-12", "1899"]


@pytest.mark.parametrize("text", FAR)
def test_a_period_outside_the_allowed_years_is_refused_with_the_range(app, text):
    with pytest.raises(DomainError) as exc:
        services.parse_period(text)
    assert exc.value.code == "period_out_of_range"
    assert "2000" in exc.value.message


@pytest.mark.parametrize("text", FAR)
def test_far_periods_on_the_page_the_export_and_the_api_are_refused_not_500(app, client, login_as, text, users):
    from opplevelseskort.accounts import tokens as api_tokens

    raw = api_tokens.create_token(users["analyst"], "t")[1]
    r = app.test_client().get("/api/v1/reports/uptake", query_string={"period": text, "level": "grunnkrets"},
                              headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 422 and r.json["error"] == "period_out_of_range"
    login_as("analyst")
    r = client.get("/rapporter/", query_string={"period": text})
    assert r.status_code == 422 and "2000" in r.text
    r = client.get("/rapporter/eksport", query_string={"period": text, "format": "csv"})
    assert r.status_code == 302
