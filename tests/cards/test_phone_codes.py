"""A phone card that cannot simply be copied (issue 39, item 2): the card page binds the card to a key made on the
phone, the phone signs a fresh time for every code it shows, and scanners (online, and offline at sync) take a code
shown just now and refuse or flag one shown long ago: a screenshot. The phone here is `cryptography`'s P-256, signing
as WebCrypto does (r || s); the browser test does it with the phone's own WebCrypto."""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlparse

import base45
import cbor2
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from opplevelseskort.cards import devices, signing
from opplevelseskort.cards import services as cards
from opplevelseskort.cards.models import CardDevice
from opplevelseskort.checkin import offline
from opplevelseskort.checkin import services as checkin
from opplevelseskort.core.clock import OSLO, today, utcnow
from opplevelseskort.core.errors import DomainError
from opplevelseskort.extensions import db
from opplevelseskort.partners import services as partners

from ..factories import make_card, offer_values


class Phone:
    """A phone: its own key, bound once through the card page, then a code per moment."""

    def __init__(self, client, card):
        self.key = ec.generate_private_key(ec.SECP256R1())
        point = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
        path = urlparse(cards.family_url(card)).path + "/enhet"
        self.answer = client.post(path, json={"public_key": base64.urlsafe_b64encode(point).rstrip(b"=").decode()})
        assert self.answer.status_code == 200, self.answer.data
        self.certificate = base64.urlsafe_b64decode(self.answer.json["certificate"] + "==")

    def code(self, at, *, certificate: bytes | None = None) -> str:
        certificate = certificate or self.certificate
        t = int(at.timestamp())
        der = self.key.sign(b"OK2:" + certificate + t.to_bytes(8, "big"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        message = cbor2.dumps([certificate, t, r.to_bytes(32, "big") + s.to_bytes(32, "big")])
        return "OK2:" + base45.b45encode(zlib.compress(message, 9)).decode()


@pytest.fixture
def card(muni, users, zone_set):
    return make_card(muni, users, "Sara", birth_year=2014)


def test_a_phone_code_shown_now_names_the_card_and_a_screenshot_of_it_does_not(client, card):
    phone = Phone(client, card)
    assert phone.answer.json["refresh_seconds"] == 5 and phone.answer.json["window_seconds"] == 30
    assert signing.card_number_of(phone.code(utcnow())) == card.short_code
    with pytest.raises(signing.BadToken) as old:
        signing.card_number_of(phone.code(utcnow() - timedelta(minutes=2)))  # a screenshot from two minutes ago
    assert old.value.reason == "stale" and old.value.code == "code_copied"


def test_a_code_signed_by_another_phone_or_altered_is_refused(client, card):
    phone, other = Phone(client, card), Phone(client, card)
    stolen = other.code(utcnow(), certificate=phone.certificate)  # the bound card of one phone, the key of another
    with pytest.raises(signing.BadToken) as exc:
        signing.card_number_of(stolen)
    assert exc.value.reason == "device_signature"
    good = phone.code(utcnow())
    message = cbor2.loads(zlib.decompress(base45.b45decode(good[4:])))
    message[1] += 1  # another time under the same signature
    with pytest.raises(signing.BadToken):
        signing.card_number_of("OK2:" + base45.b45encode(zlib.compress(cbor2.dumps(message))).decode())


def test_the_door_takes_a_live_phone_code_and_refuses_a_copied_one(client, card, users):
    offer = partners.save_offer(users["partner"], offer_values(), {})
    phone = Phone(client, card)
    result = checkin.record_checkin(phone.code(utcnow()), offer, actor=users["partner"])
    assert result.created and result.visit.card_id == card.id
    with pytest.raises(DomainError) as exc:
        checkin.record_checkin(phone.code(utcnow() - timedelta(minutes=5)), offer, actor=users["partner"])
    assert exc.value.code == "code_copied"


def test_an_offline_scan_of_a_copied_phone_code_is_stored_and_flagged(client, card, users):
    offer = partners.save_offer(users["partner"], offer_values(), {})
    phone = Phone(client, card)
    # mid-morning of a Norwegian day (three hours ago crossed midnight when the suite ran between 00 and 03, Oslo
    # time: the copy then fell on another day, a visit of its own, and was accepted)
    shown = datetime.combine(today() - timedelta(days=1), time(10), tzinfo=OSLO).astimezone(UTC)
    live = offline.ScanEvent("phone-live-0001", offer.id, phone.code(shown), shown + timedelta(seconds=4))
    copy = offline.ScanEvent("phone-copy-0001", offer.id, phone.code(shown), shown + timedelta(minutes=20))
    now = utcnow()
    verdicts = offline.sync([live, copy], actor=users["partner"], device_id="door", sent_at=now, now=now)
    assert [str(v.status) for v in verdicts] == ["accepted", "duplicate"]
    assert "copied_code" not in verdicts[0].flags and "copied_code" in verdicts[1].flags


def test_a_card_binds_a_few_phones_and_a_revoked_card_binds_none(client, card, users):
    for _n in range(devices.MAX_DEVICES + 1):
        Phone(client, card)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CardDevice).where(
        CardDevice.card_id == card.id)) == devices.MAX_DEVICES
    path = urlparse(cards.family_url(card)).path + "/enhet"
    bad = client.post(path, json={"public_key": "bm90IGEga2V5"})
    assert bad.status_code == 422 and bad.json["error"] == "device_key_invalid"
    cards.revoke_card(card, "lost", actor=users["caseworker"])
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    refused = client.post(path, json={"public_key": base64.urlsafe_b64encode(point).decode()})
    assert refused.status_code == 404  # no new code for a revoked card: the revocation covers only older ones
