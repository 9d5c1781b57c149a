"""Attestations on a real database: export, trust, import (and every refusal), claim checks.

"Another market" is a second identity (its own key files and market id) over the same database,
so one fixture database can hold both ends of a transfer of reputation.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bonafide.attest.canonical import dumps, loads
from bonafide.attest.documents import claim_verification_payload, sign_document, verify_document
from bonafide.attest.keys import SigningKey, new_keyring
from bonafide.errors import Conflict, Forbidden, NotFound, Rejected
from bonafide.market.accounts import Principal, Role
from bonafide.money import Money
from bonafide.service import accounts, attestations, keys, listings
from bonafide.settings import Settings
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
LAB_KEY = SigningKey(hashlib.sha256(b"lab").digest())
LAB_RING = new_keyring(issuer_id="lab.example", name="Example Lab",
                       public_key=LAB_KEY.public_key, now=NOW - timedelta(days=30),
                       kind="verifier")


@pytest.fixture
def home(database_url: str, tmp_path: Path) -> Settings:
    """This market."""
    return Settings(database_url=database_url, key_path=tmp_path / "home" / "market.key",
                    market_id="mkt_home", market_name="Home market")


@pytest.fixture
def away(database_url: str, tmp_path: Path) -> Settings:
    """The market a seller comes from."""
    return Settings(database_url=database_url, key_path=tmp_path / "away" / "market.key",
                    market_id="mkt_away", market_name="Away market")


def member(engine: Engine, settings: Settings, handle: str, *roles: Role) -> Principal:
    made = accounts.sign_up(UnitOfWork(engine), handle=handle,
                            roles=frozenset(roles or {Role.seller}), settings=settings, now=NOW)
    return made.account.principal


def operator(engine: Engine, settings: Settings) -> Principal:
    return accounts.create_operator(UnitOfWork(engine), handle="ops", settings=settings,
                                    now=NOW).account.principal


def trust(engine: Engine, settings: Settings) -> None:
    attestations.trust_issuer(UnitOfWork(engine),
                              document=keys.well_known(settings, now=NOW), added_by="test",
                              now=NOW)


def export(engine: Engine, settings: Settings, seller: Principal, *,
           audience: tuple[str, str] | None, now: datetime = NOW) -> bytes:
    return attestations.export_seller(UnitOfWork(engine), settings=settings, seller_id=seller.id,
                                      now=now, audience=audience)


def do_import(engine: Engine, settings: Settings, viewer: Principal, document: bytes, *,
              seller_id: str | None = None, now: datetime = NOW
              ) -> attestations.ImportedEvidence:
    return attestations.import_seller_attestation(
        UnitOfWork(engine), viewer=viewer, document=document, settings=settings, now=now,
        seller_id=seller_id)


def test_an_exported_summary_verifies_against_the_markets_own_keyring(
    engine: Engine, away: Settings
) -> None:
    seller = member(engine, away, "hana")
    document = export(engine, away, seller, audience=None)
    keyring = keys.load(away).keyring
    result = verify_document(document, keyrings=[keyring], now=NOW)
    assert result.ok, result
    payload = result.payload
    assert payload is not None
    assert payload["subject"] == {"seller_id": seller.id, "handle": "hana"}
    assert payload["issuer"] == {"id": "mkt_away", "name": "Away market"}
    assert payload["verified_orders"] == 0 and payload["score"]["method"]
    assert payload["expires_at"] == "2026-05-30T12:00:00Z"  # 90 days


def test_a_seller_imports_their_own_bound_attestation_weighted_down(
    engine: Engine, home: Settings, away: Settings
) -> None:
    seller = member(engine, home, "hana")
    trust(engine, away)
    document = export(engine, away, seller, audience=("mkt_home", seller.id))
    evidence = do_import(engine, home, seller, document)
    assert evidence.status == "imported" and evidence.weight_bp == 2_500
    assert evidence.issuer_id == "mkt_away" and evidence.imported_by == seller.id
    listed = attestations.imported_evidence(UnitOfWork(engine, read_only=True),
                                            seller_id=seller.id)
    assert [e.id for e in listed] == [evidence.id]
    assert listed[0].document.encode() == document
    with pytest.raises(Conflict, match="attestation_already_imported"):
        do_import(engine, home, seller, document)


def test_an_attestation_from_an_unknown_market_is_refused(
    engine: Engine, home: Settings, away: Settings
) -> None:
    seller = member(engine, home, "hana")
    document = export(engine, away, seller, audience=("mkt_home", seller.id))
    with pytest.raises(Rejected) as caught:
        do_import(engine, home, seller, document)
    assert caught.value.code == "key_unknown"


def test_an_attestation_signed_by_a_retired_key_after_retirement_is_refused(
    engine: Engine, home: Settings, away: Settings
) -> None:
    seller = member(engine, home, "hana")
    old = keys.load_or_create(away, now=NOW - timedelta(days=10))
    keys.rotate(away, now=NOW - timedelta(days=1))
    trust(engine, away)
    # Someone holding the retired key signs a fresh summary: refused.
    payload = loads(export(engine, away, seller, audience=("mkt_home", seller.id)))
    assert isinstance(payload, dict)
    forged = sign_document(payload["payload"], key=old.signing_key)
    with pytest.raises(Rejected) as caught:
        do_import(engine, home, seller, forged)
    assert caught.value.code == "key_expired"
    # One the old key signed before the rotation still imports.
    early = export(engine, away, seller, audience=("mkt_home", seller.id),
                   now=NOW - timedelta(days=5))
    assert keys.load(away).keyring.find(old.signing_key.key_id) is not None
    payload = loads(early)
    assert isinstance(payload, dict)
    resigned_by_old = sign_document(payload["payload"], key=old.signing_key)
    assert do_import(engine, home, seller, resigned_by_old).issuer_id == "mkt_away"


def test_expired_tampered_and_resigned_attestations_are_refused_by_name(
    engine: Engine, home: Settings, away: Settings
) -> None:
    seller = member(engine, home, "hana")
    trust(engine, away)
    document = export(engine, away, seller, audience=("mkt_home", seller.id))

    def refused(code: str, data: bytes, *, now: datetime = NOW) -> None:
        with pytest.raises(Rejected) as caught:
            do_import(engine, home, seller, data, now=now)
        assert caught.value.code == code

    refused("attestation_expired", document, now=NOW + timedelta(days=91))
    value = loads(document)
    assert isinstance(value, dict)
    value["payload"]["verified_orders"] = 5_000
    value["payload"]["disputes"] = 0
    refused("signature_invalid", dumps(value))
    refused("key_unknown", sign_document(value["payload"], key=SigningKey(b"\x05" * 32)))
    refused("document_truncated", document[: len(document) // 2])
    refused("document_not_canonical", document.replace(b'{"payload":', b'{ "payload":'))


def test_binding_to_an_account_stops_importing_someone_elses_record(
    engine: Engine, home: Settings, away: Settings
) -> None:
    hana, mallory = member(engine, home, "hana"), member(engine, home, "mallory")
    trust(engine, away)
    for_hana = export(engine, away, hana, audience=("mkt_home", hana.id))
    with pytest.raises(Rejected, match="attestation_audience_mismatch"):
        do_import(engine, home, mallory, for_hana)
    unbound = export(engine, away, hana, audience=None)
    with pytest.raises(Rejected, match="attestation_not_bound_to_an_account"):
        do_import(engine, home, hana, unbound)
    # An operator who vetted the seller may import an unbound one for them.
    ops = operator(engine, home)
    assert do_import(engine, home, ops, unbound, seller_id=hana.id).imported_by == ops.id
    with pytest.raises(Rejected, match="seller_id_required"):
        do_import(engine, home, ops, unbound)


def test_who_may_import(engine: Engine, home: Settings, away: Settings) -> None:
    hana = member(engine, home, "hana")
    buyer = member(engine, home, "bert", Role.buyer)
    other = member(engine, home, "olga")
    trust(engine, away)
    document = export(engine, away, hana, audience=("mkt_home", hana.id))
    with pytest.raises(Forbidden, match="role_required"):
        do_import(engine, home, buyer, document)
    with pytest.raises(Forbidden, match="not_your_account"):
        do_import(engine, home, other, document, seller_id=hana.id)
    with pytest.raises(NotFound, match="seller_not_found"):
        do_import(engine, home, operator(engine, home), document, seller_id=buyer.id)
    with pytest.raises(NotFound, match="seller_not_found"):
        attestations.imported_evidence(UnitOfWork(engine), seller_id="acc_nobody")


def test_this_markets_own_attestation_is_not_imported(engine: Engine, home: Settings) -> None:
    hana = member(engine, home, "hana")
    document = export(engine, home, hana, audience=("mkt_home", hana.id))
    with pytest.raises(Rejected, match="attestation_from_this_market"):
        do_import(engine, home, hana, document)


def test_a_malformed_keyring_is_not_trusted(engine: Engine) -> None:
    with pytest.raises(Rejected, match="keyring_invalid"):
        attestations.trust_issuer(UnitOfWork(engine), document={"market_id": "x"},
                                  added_by="t", now=NOW)


def lab_document(listing_id: str, *, market_id: str = "mkt_home", attestation_id: str = "lab_1",
                 key: SigningKey = LAB_KEY) -> bytes:
    payload = claim_verification_payload(
        issuer_id="lab.example", issuer_name="Example Lab", attestation_id=attestation_id,
        market_id=market_id, listing_id=listing_id, claim="Extra virgin olive oil, acidity < 0.8%",
        evidence_sha256=hashlib.sha256(b"report").hexdigest(),
        evidence_description="Lab report 2026-118", verdict="confirmed",
        issued_at=NOW - timedelta(days=1), expires_at=NOW + timedelta(days=180),
    )
    return sign_document(payload, key=key)


def test_a_labs_claim_verification_attaches_to_the_listing(
    engine: Engine, home: Settings
) -> None:
    seller = member(engine, home, "olivia")
    listing = listings.create_listing(
        UnitOfWork(engine), seller=seller, title="Olive oil", description="1 l",
        price=Money(1_500, "EUR"), stock=3, settings=home, now=NOW)
    attestations.trust_issuer(UnitOfWork(engine), document=LAB_RING.to_document(),
                              added_by="test", now=NOW)
    document = lab_document(listing.id)
    attached = attestations.attach_claim_verification(
        UnitOfWork(engine), viewer=seller, listing_id=listing.id, document=document,
        settings=home, now=NOW)
    assert attached.verdict == "confirmed" and attached.issuer_name == "Example Lab"
    shown = attestations.claim_verifications(UnitOfWork(engine, read_only=True), viewer=None,
                                             listing_id=listing.id)
    assert [c.id for c in shown] == [attached.id] and not shown[0].expired(NOW)
    with pytest.raises(Conflict, match="claim_verification_already_attached"):
        attestations.attach_claim_verification(
            UnitOfWork(engine), viewer=seller, listing_id=listing.id, document=document,
            settings=home, now=NOW)


def test_claim_verifications_are_refused_by_name(engine: Engine, home: Settings) -> None:
    seller = member(engine, home, "olivia")
    rival = member(engine, home, "rival")
    listing = listings.create_listing(
        UnitOfWork(engine), seller=seller, title="Olive oil", description="1 l",
        price=Money(1_500, "EUR"), stock=3, settings=home, now=NOW)

    def refused(error: type[Exception], code: str, document: bytes, *,
                viewer: Principal = seller, listing_id: str = listing.id) -> None:
        with pytest.raises(error) as caught:
            attestations.attach_claim_verification(
                UnitOfWork(engine), viewer=viewer, listing_id=listing_id, document=document,
                settings=home, now=NOW)
        assert caught.value.code == code  # type: ignore[attr-defined]

    refused(Rejected, "key_unknown", lab_document(listing.id))
    attestations.trust_issuer(UnitOfWork(engine), document=LAB_RING.to_document(),
                              added_by="test", now=NOW)
    refused(Forbidden, "not_your_listing", lab_document(listing.id), viewer=rival)
    refused(Rejected, "claim_verification_for_another_listing", lab_document("lst_other"))
    refused(Rejected, "claim_verification_for_another_listing",
            lab_document(listing.id, market_id="mkt_elsewhere"))
    refused(Rejected, "key_unknown", lab_document(listing.id, key=SigningKey(b"\x06" * 32)))
    refused(NotFound, "listing_not_found", lab_document("lst_nope"), listing_id="lst_nope")
    # A market's reputation document is not a claim verification.
    refused(Rejected, "document_type_unexpected",
            export(engine, home, seller, audience=None))
