"""Attestations over HTTP: a seller carries their record from one market to another; refusals
are problems named after the verification's reason; listing claims verified by a lab."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from live_server import Live, Member

from bonafide.attest.canonical import dumps, loads
from bonafide.attest.documents import claim_verification_payload, sign_document
from bonafide.attest.keys import SigningKey, new_keyring

LAB_KEY = SigningKey(hashlib.sha256(b"api lab").digest())


@pytest.fixture
def markets(live_factory: Callable[..., Live], tmp_path: Path) -> tuple[Live, Live]:
    """``home`` and ``away``: two markets (own keys and ids) over the one test database."""
    home = live_factory(key_path=tmp_path / "home.key", market_id="mkt_home",
                        market_name="Home market")
    away = live_factory(key_path=tmp_path / "away.key", market_id="mkt_away",
                        market_name="Away market")
    return home, away


def problem(response: object, status: int, code: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.json()["code"] == code, response.text  # type: ignore[attr-defined]


def export(away: Live, seller: Member, audience: dict[str, str] | None) -> bytes:
    response = away.client.post(f"/v1/sellers/{seller.id}/attestations",
                                json={"audience": audience}, headers=seller.headers)
    assert response.status_code == 200, response.text
    return response.content


def import_(home: Live, who: Member, document: bytes, **params: str) -> object:
    return home.client.post("/v1/attestations/import", content=document, params=params,
                            headers={**who.headers, "Content-Type": "application/json"})


def trust(home: Live, away: Live) -> None:
    well_known = away.client.get("/.well-known/bonafide-market.json").json()
    response = home.client.post("/v1/attestations/trusted-issuers", json=well_known,
                                headers=home.operator.headers)
    assert response.status_code == 201, response.text
    assert response.json()["issuer_id"] == "mkt_away"


def test_a_seller_carries_their_record_to_another_market(markets: tuple[Live, Live]) -> None:
    home, away = markets
    hana = home.seller()
    document = export(away, hana, {"market_id": "mkt_home", "account_id": hana.id})
    problem(import_(home, hana, document), 422, "key_unknown")
    trust(home, away)
    imported = import_(home, hana, document)
    assert imported.status_code == 201, imported.text  # type: ignore[attr-defined]
    body = imported.json()  # type: ignore[attr-defined]
    assert body["status"] == "imported" and body["weight_bp"] == 2_500
    assert body["issuer_id"] == "mkt_away" and body["seller_id"] == hana.id
    assert body["document"].encode() == document
    problem(import_(home, hana, document), 409, "attestation_already_imported")
    listed = home.client.get(f"/v1/sellers/{hana.id}/imported-attestations")
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()["items"]] == [body["id"]]
    issuers = home.client.get("/v1/attestations/trusted-issuers").json()["items"]
    assert [(i["issuer_id"], i["kind"]) for i in issuers] == [("mkt_away", "market")]


def test_refused_imports_are_named_problems(markets: tuple[Live, Live]) -> None:
    home, away = markets
    hana, mallory, bert = home.seller(), home.seller(), home.buyer()
    trust(home, away)
    document = export(away, hana, {"market_id": "mkt_home", "account_id": hana.id})
    problem(import_(home, mallory, document), 422, "attestation_audience_mismatch")
    problem(import_(home, bert, document), 403, "role_required")
    problem(import_(home, bert, b"garbage"), 403, "role_required")
    problem(import_(home, mallory, document, seller_id=hana.id), 403, "not_your_account")
    problem(import_(home, hana, document[:-20]), 422, "document_truncated")
    problem(import_(home, hana, b"not json"), 422, "document_malformed")
    problem(import_(home, hana, b'{"payload":1.5}'), 422, "document_has_float")
    value = loads(document)
    assert isinstance(value, dict)
    value["payload"]["verified_orders"] += 1_000
    problem(import_(home, hana, dumps(value)), 422, "signature_invalid")
    problem(import_(home, hana, sign_document(value["payload"], key=SigningKey(b"\x08" * 32))),
            422, "key_unknown")
    home.clock.advance(timedelta(days=200))
    problem(import_(home, hana, document), 422, "attestation_expired")
    assert home.client.post("/v1/attestations/import", content=document).status_code == 401


def test_an_attestation_signed_after_its_key_was_retired_is_refused(
    markets: tuple[Live, Live]
) -> None:
    from bonafide.service import keys

    home, away = markets
    hana = home.seller()
    old = keys.load_or_create(away.settings, now=away.clock.now())
    keys.rotate(away.settings, now=away.clock.advance(timedelta(days=1)))
    trust(home, away)
    home.clock.advance(timedelta(days=2))
    fresh = loads(export(away, hana, {"market_id": "mkt_home", "account_id": hana.id}))
    assert isinstance(fresh, dict)
    problem(import_(home, hana, sign_document(fresh["payload"], key=old.signing_key)), 422,
            "key_expired")


def test_unbound_attestations_are_for_operators_to_import(markets: tuple[Live, Live]) -> None:
    home, away = markets
    hana = home.seller()
    trust(home, away)
    unbound = export(away, hana, None)
    problem(import_(home, hana, unbound), 422, "attestation_not_bound_to_an_account")
    problem(import_(home, home.operator, unbound), 422, "seller_id_required")
    done = import_(home, home.operator, unbound, seller_id=hana.id)
    assert done.status_code == 201, done.text  # type: ignore[attr-defined]


def test_exports_are_for_the_seller_themselves(markets: tuple[Live, Live]) -> None:
    home, _ = markets
    hana, other, bert = home.seller(), home.seller(), home.buyer()
    url = f"/v1/sellers/{hana.id}/attestations"
    problem(home.client.post(url, json={}, headers=other.headers), 403, "not_your_account")
    problem(home.client.post(url, json={}), 401, "authentication_required")
    problem(home.client.post(f"/v1/sellers/{bert.id}/attestations", json={},
                             headers=bert.headers), 404, "seller_not_found")
    assert home.client.post(url, json={"audience": {"market_id": "m"}},
                            headers=hana.headers).status_code == 422
    assert home.client.post(url, json={}, headers=home.operator.headers).status_code == 200


def test_only_operators_trust_issuers_and_bad_keyrings_are_refused(
    markets: tuple[Live, Live]
) -> None:
    home, away = markets
    seller = home.seller()
    well_known = away.client.get("/.well-known/bonafide-market.json").json()
    url = "/v1/attestations/trusted-issuers"
    problem(home.client.post(url, json=well_known, headers=seller.headers), 403, "role_required")
    problem(home.client.post(url, json=well_known), 401, "authentication_required")
    broken = {**well_known, "keys": [{**well_known["keys"][0], "key_id": "0" * 24}]}
    problem(home.client.post(url, json=broken, headers=home.operator.headers), 422,
            "key_id_mismatch")


def lab_document(listing_id: str, now: object) -> bytes:
    payload = claim_verification_payload(
        issuer_id="lab.example", issuer_name="Example Lab", attestation_id="lab-2026-118",
        market_id="mkt_home", listing_id=listing_id, claim="Raw honey, not heated above 40 °C",
        evidence_sha256=hashlib.sha256(b"report pdf").hexdigest(),
        evidence_description="HMF and diastase test, report 2026-118", verdict="confirmed",
        issued_at=now, expires_at=now + timedelta(days=365),  # type: ignore[operator]
    )
    return sign_document(payload, key=LAB_KEY)


def test_a_lab_verification_is_attached_to_the_listing_and_shown(
    markets: tuple[Live, Live]
) -> None:
    home, _ = markets
    seller, rival = home.seller(), home.seller()
    listing = home.listing(seller, title="Raw honey")
    lab_ring = new_keyring(issuer_id="lab.example", name="Example Lab",
                           public_key=LAB_KEY.public_key,
                           now=home.clock.now() - timedelta(days=1), kind="verifier")
    trusted = home.client.post("/v1/attestations/trusted-issuers", json=lab_ring.to_document(),
                               headers=home.operator.headers)
    assert trusted.status_code == 201 and trusted.json()["kind"] == "verifier"
    url = f"/v1/listings/{listing['id']}/claims/verifications"
    document = lab_document(listing["id"], home.clock.now())
    headers = {"Content-Type": "application/json"}
    problem(home.client.post(url, content=document, headers={**headers, **rival.headers}), 403,
            "not_your_listing")
    attached = home.client.post(url, content=document, headers={**headers, **seller.headers})
    assert attached.status_code == 201, attached.text
    assert attached.json()["verdict"] == "confirmed"
    problem(home.client.post(url, content=document, headers={**headers, **seller.headers}), 409,
            "claim_verification_already_attached")
    shown = home.client.get(url)
    assert shown.status_code == 200
    [item] = shown.json()["items"]
    assert item["claim"].startswith("Raw honey") and item["issuer_name"] == "Example Lab"
    assert item["expired"] is False and item["document"].encode() == document
    other = home.listing(seller, title="Other honey")
    problem(home.client.post(f"/v1/listings/{other['id']}/claims/verifications",
                             content=document, headers={**headers, **seller.headers}), 422,
            "claim_verification_for_another_listing")
    problem(home.client.get("/v1/listings/lst_nope/claims/verifications"), 404,
            "listing_not_found")
