"""The monthly statement is an invoice basis: month name, the period's first and last day, the partner's name and
organisation number, a reference number, totals per offer and in all; page, CSV and PDF give the same numbers."""

import csv
import io
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from opplevelseskort.checkin import services, statements
from opplevelseskort.extensions import db
from opplevelseskort.partners import services as partners

from ..factories import make_card, offer_values

AT = datetime(2026, 2, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def february(muni, users, zone_set):
    football = partners.save_offer(users["partner"], offer_values(title="Fotball", price_nok=200), {})
    swim = partners.save_offer(users["partner"], offer_values(title="Svømming", price_nok=150), {})
    for i, name in enumerate(["Sara", "Ola", "Iben"]):
        card = make_card(muni, users, name)
        services.record_checkin(card.short_code, football, actor=users["partner"], at=AT.replace(day=3 + i),
                                companions=1)
    kid = make_card(muni, users, "Noor")
    services.record_checkin(kid.short_code, swim, actor=users["partner"], at=AT)
    voided = services.record_checkin(make_card(muni, users, "Ali").short_code, swim, actor=users["partner"],
                                     at=AT.replace(day=11)).checkin
    services.void_checkin(voided, "feil", actor=users["partner"], now=AT.replace(day=11, hour=16))
    db.session.commit()
    return football.partner


def test_statement_page_is_an_invoice_basis(client, login_as, february):
    login_as("partner")
    page = client.get("/besok/oppgjor?month=2026-02").text
    assert "februar 2026" in page
    assert "1. februar 2026–28. februar 2026" in page
    assert february.name in page and february.org_number in page
    ref = f"OK-202602-{february.id:04d}"
    assert ref in page
    assert "Forrige måned" in page and "month=2026-01" in page and "month=2026-03" in page


def test_csv_and_pdf_give_the_same_numbers(client, login_as, february, tmp_path):
    login_as("partner")
    text = client.get("/besok/oppgjor?month=2026-02&format=csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["Referanse", "Partner", "Organisasjonsnummer", "Fra", "Til"]
    assert all(r[0] == f"OK-202602-{february.id:04d}" and r[2] == february.org_number and r[3] == "2026-02-01"
               and r[4] == "2026-02-28" for r in body)
    by_offer = {r[5]: r[6:] for r in body}
    assert by_offer["Fotball"] == ["3", "3", "200", "600"]
    assert by_offer["Svømming"] == ["1", "0", "150", "150"]  # the voided visit is not counted
    assert by_offer["Sum"] == ["4", "3", "", "750"]
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils")
    pdf = client.get("/besok/oppgjor?month=2026-02&format=pdf").data
    (tmp_path / "s.pdf").write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(tmp_path / "s.pdf"), "-"], capture_output=True,
                         text=True).stdout
    lines = {" ".join(line.split()[:1]): line.split() for line in out.splitlines() if line.strip()}
    assert lines["Fotball"][-4:] == ["3", "3", "200", "600"]
    assert lines["Svømming"][-4:] == ["1", "0", "150", "150"]
    assert lines["Sum"][-3:] == ["4", "3", "750"]
    assert "februar 2026" in out and f"OK-202602-{february.id:04d}" in out and february.org_number in out
    assert "1. februar 2026–28. februar 2026" in out


def test_statement_of_a_month_in_another_language(client, login_as, february):
    login_as("partner")
    client.post("/sprak", data={"locale": "en"})
    st = statements.statement(february.id, "2026-02")
    with client.application.test_request_context():
        from opplevelseskort.core.i18n import force_locale

        with force_locale("en"):
            assert statements.month_label(st) == "February 2026"
