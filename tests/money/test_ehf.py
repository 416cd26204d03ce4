"""The settlement as a self-billed EHF invoice (issue 40, item 7): valid against the OASIS UBL 2.1 schema vendored
in tests/data/ubl-2.1 (read by lxml) and by an independent implementation of the Peppol BIS Billing 3.0 rules
(peppol-ubl-validate); refused, with the reason, while it is a draft or when the municipality's organisation
number is missing; offered on the finance page once approved; the number typed on the municipality's page is
checked (mod 11)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from peppol.rules import check_rules

from opplevelseskort.core.errors import DomainError
from opplevelseskort.money import services, settlements

from ..conftest import login
from .conftest import BANK_ACCOUNT
from .test_settlements import MONTH, spent  # noqa: F401  (the fixture: a month's settled money)

SCHEMA = Path(__file__).parent.parent / "data" / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd"
NS = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
      "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"}
MUNICIPALITY_ORG = "964338531"


@pytest.fixture(scope="module")
def ubl():
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


@pytest.fixture
def approved(spent, club, users, muni):  # noqa: F811
    muni.org_number = MUNICIPALITY_ORG
    made = settlements.make(club, MONTH, actor=users["finance"])
    return settlements.approve(made, actor=users["finance"])


def _valid(ubl, body: bytes) -> list[str]:
    document = etree.fromstring(body)
    problems = [] if ubl.validate(document) else [str(e) for e in ubl.error_log]
    return problems + [str(f) for f in check_rules(body) if f.severity == "fatal"]


def test_an_approved_month_is_a_self_billed_invoice_valid_against_ubl_and_the_peppol_rules(ubl, approved, club):
    body = settlements.as_ehf(approved)
    assert _valid(ubl, body) == []
    doc = etree.fromstring(body)
    text = lambda path: doc.findtext(path, namespaces=NS)  # noqa: E731
    assert text("cbc:CustomizationID").endswith("poacc:selfbilling:3.0") and text("cbc:InvoiceTypeCode") == "389"
    assert text("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID") == club.org_number
    assert text("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID") == MUNICIPALITY_ORG
    assert text("cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == BANK_ACCOUNT
    assert text("cac:LegalMonetaryTotal/cbc:PayableAmount") == "450.00"
    amounts = [e.text for e in doc.findall("cac:InvoiceLine/cbc:LineExtensionAmount", NS)]
    assert sorted(amounts) == ["150.00", "300.00"]
    assert "Sara" not in body.decode("utf-8")  # card numbers, never a child


def test_the_checkers_refuse_a_broken_invoice(ubl, approved):
    """The two oracles can fail: an element the schema does not know, a missing type code, a total that does not
    add up."""
    body = settlements.as_ehf(approved)
    misnamed = body.replace(b"cbc:IssueDate>", b"cbc:IssuedDate>")
    assert any("IssuedDate" in p for p in _valid(ubl, misnamed))
    no_type = body.replace(b"<cbc:InvoiceTypeCode>389</cbc:InvoiceTypeCode>", b"")
    assert any("BR-04" in p for p in _valid(ubl, no_type))
    wrong_total = body.replace(b'<cbc:PayableAmount currencyID="NOK">450.00', b'<cbc:PayableAmount currencyID="NOK">451.00')
    assert any("BR-CO-16" in p for p in _valid(ubl, wrong_total))


def test_no_invoice_for_a_draft_or_without_the_municipalitys_organisation_number(spent, club, users, muni):  # noqa: F811
    made = settlements.make(club, MONTH, actor=users["finance"])
    with pytest.raises(DomainError) as draft:
        settlements.as_ehf(made)
    assert draft.value.code == "settlement_not_approved"
    settlements.approve(made, actor=users["finance"])
    muni.org_number = ""
    with pytest.raises(DomainError) as missing:
        settlements.as_ehf(made)
    assert missing.value.code == "municipality_org_missing" and "organisasjonsnummer" in missing.value.message


def test_an_empty_month_is_no_invoice(club, users, muni, scheme):
    muni.org_number = MUNICIPALITY_ORG
    services.grant(scheme)
    made = settlements.approve(settlements.make(club, MONTH, actor=users["finance"]), actor=users["finance"])
    assert not settlements.has_invoice(made)
    with pytest.raises(DomainError) as empty:
        settlements.as_ehf(made)
    assert empty.value.code == "settlement_empty"


def test_the_finance_page_offers_the_invoice_once_approved(client, ubl, spent, club, users, muni):  # noqa: F811
    muni.org_number = MUNICIPALITY_ORG
    made = settlements.make(club, MONTH, actor=users["finance"])
    login(client, users["finance"])
    assert "EHF" not in client.get(f"/okonomi/oppgjor/{made.id}").get_data(as_text=True)
    draft = client.get(f"/okonomi/oppgjor/{made.id}.xml")
    assert draft.status_code == 302 and draft.headers["Location"].endswith(f"/okonomi/oppgjor/{made.id}")
    assert "godkjennes" in client.get(draft.headers["Location"]).get_data(as_text=True)
    assert client.post(f"/okonomi/oppgjor/{made.id}/godkjenn").status_code == 302
    assert "EHF" in client.get(f"/okonomi/oppgjor/{made.id}").get_data(as_text=True)
    got = client.get(f"/okonomi/oppgjor/{made.id}.xml")
    assert got.status_code == 200 and got.content_type.startswith("application/xml")
    assert _valid(ubl, got.data) == []
    login(client, users["partner"])
    assert client.get(f"/okonomi/oppgjor/{made.id}.xml").status_code == 403


def test_the_municipalitys_organisation_number_is_checked_when_typed(client, users, muni):
    login(client, users["admin"])
    base = {"contact_line": "", "sms_sender": "", "default_report_period": "", "support_email": "",
            "scheme_end": "31.12"}
    bad = client.post("/admin/kommune", data={**base, "org_number": "964338532"})
    assert bad.status_code == 422 and "964338532" in bad.get_data(as_text=True)
    assert muni.org_number == ""
    good = client.post("/admin/kommune", data={**base, "org_number": "964 338 531"})
    assert good.status_code == 302 and muni.org_number == MUNICIPALITY_ORG
