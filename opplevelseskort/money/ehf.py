"""The settlement as a self-billed EHF invoice (Peppol BIS Billing 3.0, self-billing profile; UBL 2.1): the
municipality, the buyer, issues the invoice on the partner's behalf (issue 40, item 7). Its accounting system reads
it like any other EHF invoice: the partner (seller) by organisation number and bank account, one line per settled
visit (day, offer, reservation reference and card number — never a child's name), no VAT (activity money is
outside its scope; a partner that must charge VAT sends its own invoice instead).

The document is checked in the tests against the OASIS UBL 2.1 schema (vendored in tests/data/ubl-2.1) and by an
independent implementation of the Peppol rules; the element order below is the schema's."""

from __future__ import annotations

from datetime import date, timedelta
from xml.etree import ElementTree as ET

from flask_babel import gettext as _

from ..core.clock import local_date
from ..core.errors import DomainError
from ..core.models import Municipality
from ..extensions import db
from ..partners.models import Partner
from .models import MoneyRegistration, Settlement, SettlementStatus

UBL = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:selfbilling:3.0"
PROFILE = "urn:fdc:peppol.eu:2017:poacc:selfbilling:01:1.0"
SELF_BILLED = "389"  # UNTDID 1001: self-billed invoice
NORWEGIAN_ORG = "0192"  # the Peppol scheme of Norwegian organisation numbers (Enhetsregisteret)
CREDIT_TRANSFER = "30"
NOT_SUBJECT_TO_VAT = "O"
DAYS_TO_PAY = 14

def _amount(ore: int) -> str:
    whole, rest = divmod(ore, 100)
    return f"{whole}.{rest:02d}"


class _Doc:
    """A small builder: children in the order they are added (the schema's order is the caller's)."""

    def __init__(self, root: ET.Element):
        self.root = root

    @staticmethod
    def basic(parent: ET.Element, name: str, text: str, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"cbc:{name}", attrs)  # prefixes bound on the root (see `invoice`)
        element.text = text
        return element

    @staticmethod
    def aggregate(parent: ET.Element, name: str) -> ET.Element:
        return ET.SubElement(parent, f"cac:{name}")


def _party(parent: ET.Element, *, name: str, org_number: str, email: str = "") -> None:
    party = _Doc.aggregate(parent, "Party")
    _Doc.basic(party, "EndpointID", org_number, schemeID=NORWEGIAN_ORG)
    _Doc.basic(_Doc.aggregate(party, "PartyName"), "Name", name)
    address = _Doc.aggregate(party, "PostalAddress")
    _Doc.basic(_Doc.aggregate(address, "Country"), "IdentificationCode", "NO")
    legal = _Doc.aggregate(party, "PartyLegalEntity")
    _Doc.basic(legal, "RegistrationName", name)
    _Doc.basic(legal, "CompanyID", org_number, schemeID=NORWEGIAN_ORG)
    if email:
        _Doc.basic(_Doc.aggregate(party, "Contact"), "ElectronicMail", email)


def _tax_category(parent: ET.Element, name: str, *, reason: bool) -> None:
    category = _Doc.aggregate(parent, name)
    _Doc.basic(category, "ID", NOT_SUBJECT_TO_VAT)
    if reason:
        _Doc.basic(category, "TaxExemptionReasonCode", "VATEX-EU-O")
        _Doc.basic(category, "TaxExemptionReason", "Aktivitetspenger: utenfor merverdiavgiftsområdet")
    _Doc.basic(_Doc.aggregate(category, "TaxScheme"), "ID", "VAT")


def _parties(settlement: Settlement) -> tuple[Partner, MoneyRegistration, Municipality]:
    """The seller, its register entry and the buyer, or a refusal naming what is missing."""
    if settlement.status != SettlementStatus.APPROVED:
        raise DomainError("settlement_not_approved", _("Oppgjøret må godkjennes før EHF-fakturaen kan lages."))
    if not settlement.total_ore:
        raise DomainError("settlement_empty", _("Oppgjøret har ingen linjer, så det blir ingen faktura."))
    partner = db.session.get(Partner, settlement.partner_id)
    registration = db.session.scalar(db.select(MoneyRegistration).filter_by(partner_id=partner.id))
    municipality = db.session.get(Municipality, settlement.municipality_id)
    if not municipality.org_number:
        raise DomainError("municipality_org_missing", _("Kommunens organisasjonsnummer mangler. Skriv det inn under "
                                                        "Kommunens innstillinger, så kan EHF-fakturaen lages."))
    if registration is None:
        raise DomainError("partner_not_registered", _("Partneren står ikke i registeret for aktivitetspenger."))
    return partner, registration, municipality


def invoice(settlement: Settlement, lines: list) -> bytes:
    """The approved settlement as a self-billed UBL 2.1 invoice (UTF-8 bytes); refused while it is a draft, when
    it is empty, or when the municipality's organisation number is missing."""
    partner, registration, municipality = _parties(settlement)
    issued = local_date(settlement.approved_at)
    first = date(int(settlement.month[:4]), int(settlement.month[5:]), 1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    root = ET.Element("Invoice", {"xmlns": UBL, "xmlns:cac": CAC, "xmlns:cbc": CBC})
    basic, aggregate = _Doc.basic, _Doc.aggregate
    basic(root, "CustomizationID", CUSTOMIZATION)
    basic(root, "ProfileID", PROFILE)
    basic(root, "ID", settlement.reference)
    basic(root, "IssueDate", issued.isoformat())
    basic(root, "DueDate", (issued + timedelta(days=DAYS_TO_PAY)).isoformat())
    basic(root, "InvoiceTypeCode", SELF_BILLED)
    basic(root, "Note", f"Aktivitetspenger {settlement.month}: egenfakturering fra {municipality.name}")
    basic(root, "DocumentCurrencyCode", "NOK")
    basic(root, "BuyerReference", settlement.reference)
    period = aggregate(root, "InvoicePeriod")
    basic(period, "StartDate", first.isoformat())
    basic(period, "EndDate", last.isoformat())
    _party(aggregate(root, "AccountingSupplierParty"), name=partner.name, org_number=registration.org_number,
           email=registration.contact_email)
    _party(aggregate(root, "AccountingCustomerParty"), name=municipality.name, org_number=municipality.org_number)
    means = aggregate(root, "PaymentMeans")
    basic(means, "PaymentMeansCode", CREDIT_TRANSFER)
    basic(means, "PaymentID", settlement.reference)
    basic(aggregate(means, "PayeeFinancialAccount"), "ID", registration.account_number)
    total = _amount(settlement.total_ore)
    taxes = aggregate(root, "TaxTotal")
    basic(taxes, "TaxAmount", "0.00", currencyID="NOK")
    subtotal = aggregate(taxes, "TaxSubtotal")
    basic(subtotal, "TaxableAmount", total, currencyID="NOK")
    basic(subtotal, "TaxAmount", "0.00", currencyID="NOK")
    _tax_category(subtotal, "TaxCategory", reason=True)
    sums = aggregate(root, "LegalMonetaryTotal")
    for name in ("LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount", "PayableAmount"):
        basic(sums, name, total, currencyID="NOK")
    for number, line in enumerate(lines, start=1):
        _line(aggregate(root, "InvoiceLine"), number, line)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def _line(element: ET.Element, number: int, line) -> None:
    basic, aggregate = _Doc.basic, _Doc.aggregate
    amount = _amount(line.amount_ore)
    basic(element, "ID", str(number))
    basic(element, "Note", f"Kort {line.card_number}, referanse {line.booking_ref}")
    basic(element, "InvoicedQuantity", "1", unitCode="C62")
    basic(element, "LineExtensionAmount", amount, currencyID="NOK")
    period = aggregate(element, "InvoicePeriod")
    basic(period, "StartDate", line.day.isoformat())
    basic(period, "EndDate", line.day.isoformat())
    item = aggregate(element, "Item")
    basic(item, "Name", line.offer_title[:200] or "Aktivitet")
    _tax_category(item, "ClassifiedTaxCategory", reason=False)
    basic(aggregate(element, "Price"), "PriceAmount", amount, currencyID="NOK")
