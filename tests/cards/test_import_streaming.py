"""Household imports stream: the upload is stored a chunk at a time, the reader pulls the file as it goes, the
first pass stages checked rows and the second writes households from them; memory does not grow with the file
(measured in bench/import_bench.py; here, the shape that makes it so)."""

import io

import pytest

from opplevelseskort.cards import applications
from opplevelseskort.cards.models import Card, Child, Household
from opplevelseskort.core import csvfile, files
from opplevelseskort.core.errors import ImportFailed
from opplevelseskort.core.models import ImportRow, StoredFile, StoredFileChunk
from opplevelseskort.extensions import db

from .test_applications_import import HEADER, _row


class CountingStream(io.RawIOBase):
    """A binary stream that records how far it has been read."""

    def __init__(self, data: bytes):
        self._data, self.read_to = data, 0

    def readable(self):
        return True

    def readinto(self, b):
        chunk = self._data[self.read_to:self.read_to + min(len(b), 4096)]
        b[:len(chunk)] = chunk
        self.read_to += len(chunk)
        return len(chunk)


def _file(rows: int, **kw) -> bytes:
    lines = [HEADER] + [_row(guardian_phone=f"9{n:07d}", given_name=f"Barn{n}", **kw) for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_the_reader_pulls_the_file_as_it_goes():
    data = _file(5000)
    stream = CountingStream(data)
    reader = csvfile.TableReader(io.BufferedReader(stream, 8192), applications.HouseholdRow, exact=True)
    first = next(iter(reader))
    assert first[0] == 2 and first[1].given_name == "Barn0"
    assert stream.read_to < len(data) / 10  # a reader that holds the file would have read all of it


def test_an_upload_is_stored_and_read_back_in_chunks(app, monkeypatch):
    monkeypatch.setattr(files, "CHUNK", 1000)
    data = _file(200)
    row = files.put_stream("upload/test/1", io.BytesIO(data), "text/csv")
    assert row.size == len(data) and row.chunks == -(-len(data) // 1000)
    assert db.session.scalar(db.select(db.func.count()).select_from(StoredFileChunk)) == row.chunks
    assert files.open_stream("upload/test/1").read() == data
    files.delete("upload/test/1")
    assert db.session.scalar(db.select(db.func.count()).select_from(StoredFileChunk)) == 0
    assert files.open_stream("upload/test/1") is None


def test_a_streamed_import_writes_households_from_staged_rows(muni, zone_set, users, monkeypatch):
    monkeypatch.setattr(files, "CHUNK", 512)
    monkeypatch.setattr(applications, "STAGE_BATCH", 7)  # pages and batches smaller than the file
    monkeypatch.setattr(applications, "WRITE_BATCH", 3)  # the session is cleared while writing
    rows = [HEADER] + [_row(guardian_phone=f"9{n % 20:07d}", given_name=f"Barn{n}") for n in range(60)]
    files.put_stream("upload/test/2", io.BytesIO(("\n".join(rows) + "\n").encode()), "text/csv")
    preview = applications.import_households(muni, lambda: files.open_stream("upload/test/2"),
                                             actor=users["caseworker"])
    # rows sharing a phone form one household even when they are far apart in the file
    assert (preview.households, preview.children, preview.cards) == (20, 60, 60)
    assert db.session.scalar(db.select(db.func.count(Household.id))) == 20
    assert db.session.scalar(db.select(db.func.count(Card.id))) == 60
    sizes = db.session.execute(db.select(db.func.count(Child.id)).group_by(Child.household_id)).scalars().all()
    assert sorted(sizes) == [3] * 20
    assert db.session.scalar(db.select(db.func.count(ImportRow.id))) == 0  # the staging is gone


def test_a_dry_run_counts_from_the_staging_and_leaves_none(muni, zone_set, users):
    data = _file(30)
    preview = applications.import_households(muni, data, actor=users["caseworker"], dry_run=True)
    assert (preview.households, preview.children) == (30, 30)
    assert db.session.scalar(db.select(db.func.count(ImportRow.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Household.id))) == 0


def test_a_refused_import_stages_nothing_and_keeps_the_first_problems_with_a_count(muni, zone_set, users,
                                                                                     monkeypatch):
    monkeypatch.setattr(csvfile, "MAX_ERRORS", 10)
    data = _file(25, birth_year="tjue")
    with pytest.raises(ImportFailed) as exc:
        applications.import_households(muni, data, actor=users["caseworker"])
    assert len(exc.value.errors) == 11 and exc.value.errors[0].startswith("Linje 2:")
    assert exc.value.errors[-1] == "… og 15 problemer til i filen."
    assert db.session.scalar(db.select(db.func.count(ImportRow.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Household.id))) == 0


def test_a_line_beyond_the_limit_is_refused_by_name(muni, zone_set, users, monkeypatch):
    monkeypatch.setattr(csvfile, "LINE_LIMIT", 1000)
    data = (HEADER + "\n" + _row() + "\n" + _row(guardian_name="x" * 2000) + "\n").encode()
    with pytest.raises(ImportFailed) as exc:
        applications.import_households(muni, data, actor=users["caseworker"])
    assert len(exc.value.errors) == 1 and exc.value.errors[0].startswith("Linje 3 er lengre enn")


def test_not_utf8_names_the_line_when_streamed(muni, zone_set, users):
    data = (HEADER + "\n" + _row() + "\n").encode() + _row(given_name="Bjørn").encode("latin-1") + b"\n"
    with pytest.raises(ImportFailed) as exc:
        applications.import_households(muni, io.BufferedReader(io.BytesIO(data)), actor=users["caseworker"])
    assert exc.value.errors[0].startswith("Linje 3: filen er ikke UTF-8")


def test_a_page_upload_is_streamed_into_chunks(client, login_as, zone_set, monkeypatch):
    monkeypatch.setattr(files, "CHUNK", 4096)
    login_as("caseworker")
    data = _file(200)
    r = client.post("/barn/import", data={"file": (io.BytesIO(data), "barn.csv"), "dry_run": "y"},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    stored = db.session.scalar(db.select(StoredFile).where(StoredFile.key.startswith("household-import/")))
    assert stored.size == len(data) and stored.chunks == -(-len(data) // 4096)


def test_the_batch_write_leaves_what_one_by_one_registration_leaves(muni, zone_set, users):
    from opplevelseskort.cards import codes
    from opplevelseskort.cards.models import Guardian
    from opplevelseskort.core.models import AuditLog

    data = "\n".join([HEADER, _row(guardian_phone="912 34 567"), _row(guardian_phone="912 34 567", given_name="Jon")])
    applications.import_households(muni, data, actor=users["caseworker"])
    guardian = db.session.scalar(db.select(Guardian))
    assert guardian.phone == "+4791234567"
    cards_ = db.session.scalars(db.select(Card)).all()
    assert len(cards_) == 2 and all(codes.is_valid_short_code(c.short_code) for c in cards_)
    assert all(c.issued_by_id == users["caseworker"].id and c.revoked_at is None for c in cards_)
    actions = sorted(a for (a,) in db.session.execute(db.select(AuditLog.action).where(
        AuditLog.object_type.in_(["child", "household", "card"]) | (AuditLog.action == "household.bulk_import"))))
    assert actions == ["card.issue", "card.issue", "child.create", "child.create", "household.bulk_import",
                       "household.create"]


def test_short_codes_already_taken_are_drawn_again(muni, zone_set, users, monkeypatch):
    from opplevelseskort.cards import codes, services

    from ..factories import make_card

    taken = make_card(muni, users, "Eksisterende").short_code
    draws = iter([taken, taken, codes.new_short_code()])
    monkeypatch.setattr(codes, "new_short_code", lambda: next(draws))
    fresh = services.unused_short_codes(1)
    assert fresh != [taken] and len(fresh) == 1
