"""Guardians' own applications, and bulk import of households from CSV.
Writes are flushed; the request's boundary (core.uow) or the CLI commits."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from pydantic import Field, field_validator

from ..accounts.models import User
from ..core import audit, csvfile, outbox
from ..core.clock import today, utcnow
from ..core.errors import DomainError, ImportFailed, NotFound
from ..core.i18n import force_locale
from ..core.models import ImportRow, Municipality, OutboxChannel, OutboxMessage
from ..core.permissions import can_access_municipality, scope_to_municipality
from ..extensions import db
from ..zones.models import Zone
from ..zones.services import find_zone, memo_find_zone, zones_of
from . import households, services
from .models import Application, ApplicationStatus, Card, Channel, Child, Gender

MAX_CHILDREN = 6


def submit_application(municipality: Municipality, guardian: households.GuardianInput, children: list[dict],
                       *, consent: bool) -> Application:
    """A guardian applies for cards for their children; nothing is stored without consent."""
    errors = []
    if not consent:
        errors.append(_("Du må samtykke før vi kan ta imot søknaden."))
    errors += households.validate_guardian(guardian, _("Foresatt"))
    kids = [c for c in children if any((c.get(k) or "") for k in ("given_name", "family_name", "birth_year"))]
    if not kids:
        errors.append(_("Skriv inn minst ett barn."))
    if len(kids) > MAX_CHILDREN:
        errors.append(_("Høyst %(n)d barn per søknad.", n=MAX_CHILDREN))
    this_year = services.today().year
    for i, c in enumerate(kids, start=1):
        if not (c.get("given_name") or "").strip() or not (c.get("family_name") or "").strip():
            errors.append(_("Barn %(n)d: skriv fornavn og etternavn.", n=i))
        year = c.get("birth_year")
        if not isinstance(year, int) or not (this_year - 18 <= year <= this_year):
            errors.append(_("Barn %(n)d: fødselsåret må være mellom %(a)d og %(b)d.", n=i, a=this_year - 18, b=this_year))
    if errors:
        raise DomainError("application_invalid", " ".join(errors), errors=errors)
    app_row = Application(municipality_id=municipality.id, guardian_name=guardian.name.strip(),
                          guardian_phone=households.normalise_phone(guardian.phone),
                          guardian_email=(guardian.email or "").strip() or None,
                          preferred_language=guardian.preferred_language,
                          children=[{k: c.get(k) for k in ("given_name", "family_name", "birth_year", "birth_month",
                                                           "zone")} for c in kids])
    db.session.add(app_row)
    db.session.flush()
    audit.record(None, "application.submit", "application", app_row.id, municipality_id=municipality.id)
    return app_row


def get_application(app_id: int, actor: User) -> Application:
    a = db.session.get(Application, app_id)
    if a is None or not can_access_municipality(actor, a.municipality_id):
        raise NotFound("application_not_found", _("Fant ikke søknaden."))
    audit.record(actor, "application.view", "application", a.id, municipality_id=a.municipality_id)
    return a


def zone_choices(a: Application) -> list[Zone]:
    """The zones a caseworker chooses a child's zone from: the municipality's list."""
    return list(db.session.scalars(zones_of(a.municipality_id)))


def suggested_zones(a: Application) -> list[str]:
    """Each child's zone code as the family gave it (a name or a code), where it names one of the municipality's
    zones; "" where it does not (the caseworker chooses)."""
    out = []
    for c in a.children:
        try:
            out.append(find_zone(a.municipality_id, c.get("zone") or "").code if (c.get("zone") or "").strip()
                       else "")
        except DomainError:
            out.append("")
    return out


def approve_application(a: Application, *, actor: User, eligible_from: date | None, eligible_until: date | None,
                        zones: list[str]) -> list[Card]:
    """Register the household, issue the cards and send the link; the caseworker confirms the criteria."""
    if a.status != ApplicationStatus.PENDING:
        raise DomainError("application_decided", _("Søknaden er allerede behandlet."))
    if not eligible_from or not eligible_until:
        raise DomainError("period_required", _("Fyll inn perioden barna har rett til kort."))
    muni = db.session.get(Municipality, a.municipality_id)
    guardian = households.GuardianInput(a.guardian_name, a.guardian_phone, a.guardian_email, a.preferred_language)
    kids = [households.ChildInput(c["given_name"], c["family_name"], c["birth_year"], c.get("birth_month"),
                                zones[i] if i < len(zones) and zones[i] else (c.get("zone") or ""),
                                "application", eligible_from, eligible_until, True)
            for i, c in enumerate(a.children)]
    household = households.register_household(muni, [guardian], kids, actor=actor)
    issued = []
    for child in household.children:
        card = services.issue_card(child, actor=actor)
        issued.append(card)
    for card in issued:
        services.send_card_link(card, actor=actor)
    a.status, a.decided_by_id, a.decided_at, a.household_id = ApplicationStatus.APPROVED, actor.id, utcnow(), household.id
    audit.record(actor, "application.approve", "application", a.id, municipality_id=a.municipality_id)
    return issued


def answer_messages(a: Application) -> list[OutboxMessage]:
    """The messages that carried a rejection's answer to the guardian (their state shows on the application)."""
    return list(db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.ref == f"application:{a.id}")
                                   .order_by(OutboxMessage.id)))


def reject_application(a: Application, reason: str, *, actor: User) -> None:
    """Reject with a reason that is sent to the guardian in their language."""
    if a.status != ApplicationStatus.PENDING:
        raise DomainError("application_decided", _("Søknaden er allerede behandlet."))
    if not (reason or "").strip():
        raise DomainError("reason_required", _("Skriv en begrunnelse."))
    a.status, a.decided_by_id, a.decided_at, a.reason = ApplicationStatus.REJECTED, actor.id, utcnow(), reason.strip()
    with force_locale(a.preferred_language):
        subject = _("Svar på søknaden om opplevelseskort")
        # the caseworker writes in Norwegian: the family is told so in their own language, around the reason
        body = _("Hei %(name)s. Vi kan dessverre ikke gi opplevelseskort denne gangen. Kommunen skrev, på norsk: "
                 "«%(reason)s»", name=a.guardian_name, reason=a.reason)
    if a.guardian_email:
        outbox.enqueue(OutboxChannel.EMAIL, a.guardian_email, subject, body, kind="application_rejected",
                       locale=a.preferred_language, ref=f"application:{a.id}")
    if a.guardian_phone:
        outbox.enqueue(OutboxChannel.SMS, a.guardian_phone, subject, body, kind="application_rejected",
                       locale=a.preferred_language, ref=f"application:{a.id}")
    audit.record(actor, "application.reject", "application", a.id, municipality_id=a.municipality_id)


# --- bulk import -----------------------------------------------------------------------------



# Norwegian words a caseworker writes, beside the codes (compared in lower case).
GENDER_WORDS = {"jente": "girl", "gutt": "boy", "annet": "other", "annen": "other", "ukjent": "", "-": ""}
CHANNEL_WORDS = {"nav": "nav", "barnevern": "child_welfare", "barnevernet": "child_welfare", "skole": "school",
                 "skolen": "school", "helsesykepleier": "health_nurse", "helsestasjon": "health_nurse",
                 "introduksjonsprogram": "introduction", "introduksjonsprogrammet": "introduction",
                 "introduksjon": "introduction", "søknad": "application", "soknad": "application", "annet": "other"}


def template_csv(municipality: Municipality) -> str:
    """A template that imports as it is: one of the municipality's own zones, this year's dates."""
    zone = db.session.scalar(db.select(Zone.code).where(Zone.municipality_id == municipality.id,
                                                        Zone.level == "grunnkrets").order_by(Zone.code).limit(1)) or \
        db.session.scalar(db.select(Zone.code).where(Zone.municipality_id == municipality.id).order_by(Zone.code)
                          .limit(1)) or ""
    year = today().year
    example = ["Kari Nordmann", "91234567", "kari@example.org", "nb", "Emma", "Nordmann", str(year - 11), "5", "jente",
               zone, "NAV", f"{year}-01-01", f"{year}-12-31"]
    return "\ufeff" + ";".join(IMPORT_COLUMNS) + "\n" + ";".join(example) + "\n"


def _word(value: str, words: dict[str, str], codes: set[str]) -> str:
    low = (value or "").strip().lower()
    return low if low in codes else words.get(low, (value or "").strip())


@dataclass
class ImportPreview:
    households: int = 0
    children: int = 0
    cards: int = 0
    duplicates: list[str] = field(default_factory=list)  # the first MAX_ERRORS by line, then how many more
    duplicate_count: int = 0


class HouseholdRow(csvfile.Row):
    """One child per line, with a guardian; lines sharing a guardian's phone or e-mail form one household."""

    guardian_name: str
    guardian_phone: str | None = None
    guardian_email: str | None = None
    guardian_language: str = "nb"
    given_name: str
    family_name: str
    birth_year: int = Field(ge=1900, le=2200)
    birth_month: int | None = Field(default=None, ge=1, le=12)
    gender: str | None = None  # a code or a Norwegian word; the child's rules (validate_child) name what is allowed
    zone: str = ""
    channel: str = Channel.OTHER.value
    eligible_from: date
    eligible_until: date

    @field_validator("gender", mode="before")
    @classmethod
    def _gender_word(cls, value):
        word = _word(value, GENDER_WORDS, {g.value for g in Gender})
        return word or None

    @field_validator("channel", mode="before")
    @classmethod
    def _channel_word(cls, value):
        return _word(value, CHANNEL_WORDS, {c.value for c in Channel}) or Channel.OTHER.value


IMPORT_COLUMNS = list(HouseholdRow.model_fields)  # the template's header, in order

STAGE_BATCH = 1000  # staged rows written per statement, and read back per page
WRITE_BATCH = 200  # households written between two clears of the session (memory stays flat)


def import_households(municipality: Municipality, source: csvfile.Source | Callable[[], csvfile.Source], *,
                      actor: User, dry_run: bool = False, import_run_id: int | None = None,
                      progress: Callable[[int, int], None] | None = None) -> ImportPreview:
    """Rows of one child each; rows sharing a guardian's phone or e-mail form one household (a guardian with
    neither: one household per guardian name and zone, given its card link on a printed sheet).

    Every row is validated; any error means nothing is written. A child who already holds an active card
    (same names and birth year and month) is reported as a duplicate and skipped, never doubled.

    The file is streamed (`source` may be a function that opens it, e.g. a stored upload read a chunk at a
    time), so memory does not grow with it: the first pass checks each row and stages it in `import_row`, the
    second registers households from there, one household's rows together. Both run in the caller's transaction:
    a refused import leaves no staged row behind. The households remember `import_run_id` (the job's run), so
    their card links can be sent, and sheets printed, from the import's result page.
    """
    total = _count_lines(source) * 2 if progress and (callable(source) or isinstance(source, bytes | str)) else 0
    opened = source() if callable(source) else source
    reader = csvfile.TableReader(opened, HouseholdRow, exact=True)
    run_key = secrets.token_hex(8)
    find = memo_find_zone()
    supported = current_app.config["SUPPORTED_LOCALES"]
    existing = _active_children(municipality.id)
    preview = ImportPreview()
    duplicates = 0
    batch: list[dict] = []
    line_label = _("Linje %(line)d")  # translated once, not per row
    for n, row in reader:
        where = line_label % {"line": n}
        g = households.GuardianInput(row.guardian_name, row.guardian_phone, row.guardian_email, row.guardian_language)
        if g.preferred_language not in supported:
            g.preferred_language = "invalid:" + g.preferred_language
        child = households.ChildInput(row.given_name, row.family_name, row.birth_year, row.birth_month, row.zone,
                                    row.channel, row.eligible_from, row.eligible_until, True, row.gender)
        problems = households.validate_guardian(g, where, contact_required=False) + households.validate_child(
            municipality.id, child, where, find=find)[0]
        for problem in problems:
            reader.error(problem)
        if progress:
            progress(reader.lines, max(total, reader.lines))
        if problems or reader.error_count:
            continue  # a refused file stages nothing more: only its problems are still collected
        if _child_key(child.given_name, child.family_name, child.birth_year, child.birth_month) in existing:
            duplicates += 1
            if duplicates <= csvfile.MAX_ERRORS:
                preview.duplicates.append(_("Linje %(line)d: %(name)s har allerede et aktivt kort og blir ikke lagt "
                                            "inn på nytt.", line=n, name=f"{child.given_name} {child.family_name}"))
            continue
        batch.append({"run_key": run_key, "line": n,
                      "group_key": _group_key(g, child),
                      "payload": {"guardian": vars(g).copy(), "child": {**vars(child), "eligible_from": str(
                          child.eligible_from), "eligible_until": str(child.eligible_until)}}})
        if len(batch) >= STAGE_BATCH:
            db.session.execute(db.insert(ImportRow), batch)
            batch = []
    if not reader.lines:
        raise ImportFailed([_("Filen har ingen rader.")])
    reader.fail_if_errors()
    if batch:
        db.session.execute(db.insert(ImportRow), batch)
    preview.duplicate_count = duplicates
    if duplicates > len(preview.duplicates):
        preview.duplicates.append(_("… og %(n)d barn til som allerede har et aktivt kort.",
                                    n=duplicates - len(preview.duplicates)))
    staged = ImportRow.run_key == run_key
    preview.households = db.session.scalar(db.select(db.func.count(db.distinct(ImportRow.group_key))).where(staged))
    preview.children = preview.cards = db.session.scalar(db.select(db.func.count()).where(staged))
    if not dry_run:
        _register_staged(municipality, run_key, actor=actor, find=find, import_run_id=import_run_id,
                         progress=(lambda done: progress(reader.lines + done, max(total, reader.lines * 2)))
                         if progress else None)
        audit.record(actor, "household.bulk_import", "municipality", municipality.id,
                     municipality_id=municipality.id, households=preview.households, children=preview.children,
                     duplicates=duplicates)
    db.session.execute(db.delete(ImportRow).where(staged))
    return preview


def _count_lines(source: csvfile.Source | Callable[[], csvfile.Source]) -> int:
    """Physical lines of the file (a cheap pass of its own, for the progress bar's total)."""
    data = source() if callable(source) else source
    if isinstance(data, str):
        return data.count("\n") + 1
    if isinstance(data, bytes):
        return data.count(b"\n") + 1
    n = 1
    while piece := data.read(1024 * 1024):
        n += piece.count(b"\n")
    return n


def _child_key(given: str, family: str, year: int | None, month: int | None) -> tuple:
    return ((given or "").strip(), (family or "").strip(), year, month)


def _active_children(municipality_id: int) -> set[tuple]:
    """Who already holds an active card: (given name, family name, birth year, birth month)."""
    rows = db.session.execute(db.select(Child.given_name, Child.family_name, Child.birth_year, Child.birth_month)
                              .join(Card, Card.child_id == Child.id)
                              .where(Child.municipality_id == municipality_id, Card.revoked_at.is_(None)))
    return {_child_key(*r) for r in rows}


def _group_key(g: households.GuardianInput, child: households.ChildInput) -> str:
    """Rows with the same key form one household: the guardian's phone, else e-mail; a guardian with neither is
    one household per name and zone (two children of "Amina Ali" in one zone are siblings, in two zones not)."""
    contact = households.normalise_phone(g.phone) or (g.email or "").strip().lower()
    return contact or f"~{' '.join(g.name.lower().split())}|{child.zone.strip()}"[:200]


def _register_staged(municipality: Municipality, run_key: str, *, actor: User, find, progress,
                     import_run_id: int | None = None) -> None:
    """The second pass: households from the staged rows, one group of rows at a time, a page at a time, written
    WRITE_BATCH households per batch in a handful of statements (`households.register_households_bulk`): memory
    stays flat and the rate is the database's."""
    after = ("", 0)
    group_key, group = None, []
    batch: list[tuple[households.GuardianInput, list[households.ChildInput]]] = []
    done = 0

    def zone_of(text: str) -> Zone:
        return find(municipality.id, text)

    def add(rows: list[dict]) -> None:
        g = households.GuardianInput(**rows[0]["guardian"])
        kids = [households.ChildInput(**{**r["child"], "eligible_from": date.fromisoformat(r["child"]["eligible_from"]),
                                       "eligible_until": date.fromisoformat(r["child"]["eligible_until"])})
                for r in rows]
        batch.append((g, kids))
        if len(batch) >= WRITE_BATCH:
            flush()

    def flush() -> None:
        nonlocal done
        if batch:
            done += households.register_households_bulk(municipality, batch, zone_of, actor=actor,
                                                      import_run_id=import_run_id)
            batch.clear()
            if progress:
                progress(done)

    while True:
        page = db.session.execute(
            db.select(ImportRow.group_key, ImportRow.line, ImportRow.payload)
            .where(ImportRow.run_key == run_key, sa.tuple_(ImportRow.group_key, ImportRow.line) > after)
            .order_by(ImportRow.group_key, ImportRow.line).limit(STAGE_BATCH)).all()
        if not page:
            break
        for key, line, payload in page:
            if key != group_key and group:
                add(group)
                group = []
            group_key = key
            group.append(payload)
            after = (key, line)
    if group:
        add(group)
    flush()


def applications_for(user: User) -> list[Application]:
    """The applications a caseworker may handle (their municipality's), waiting ones first, newest first."""
    q = scope_to_municipality(db.select(Application).order_by(Application.status, Application.created_at.desc()),
                              Application.municipality_id, user)
    return list(db.session.scalars(q))


def waiting_count(user: User) -> int:
    q = db.select(db.func.count(Application.id)).where(Application.status == ApplicationStatus.PENDING)
    if user.municipality_id is not None:
        q = q.where(Application.municipality_id == user.municipality_id)
    return db.session.scalar(q) or 0
