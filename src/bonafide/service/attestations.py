"""Attestations: export a seller's signed reputation, import another market's, trust issuers,
and attach third parties' signed verifications of listing claims.

Owns: the use cases of DESIGN.md section 7. Imports: ``bonafide.attest`` (documents and checks),
``bonafide.service.keys`` (this market's identity), ``bonafide.service.reputation`` (the seam
``seller_reputation``), ``bonafide.service.accounts`` / ``listings`` (building blocks), and
``bonafide.store`` (repositories, unit of work).

Trust
    Signatures are checked against ``trusted_issuers``: keyring documents the operator registered
    (``bonafide attest trust FILE`` or ``POST /v1/attestations/trusted-issuers``), of kind
    ``market`` (for reputation attestations) or ``verifier`` (for claim verifications, e.g. a lab).
    A document signed by a key not listed there is refused with ``key_unknown``; by a key outside
    its validity period with ``key_expired`` / ``key_not_yet_valid``; and so on (``attest.Reason``).
Import
    A seller imports an attestation that names *them* as its audience (``audience.market_id`` is
    this market, ``audience.account_id`` their account), so one seller cannot import another's
    record; the issuing market only writes that audience for its own authenticated seller. An
    operator may import an attestation without an audience for a seller they vetted. Imported
    evidence is stored apart from this market's own (``imported_attestations``), marked
    ``imported``, with ``weight_bp`` (``settings.imported_evidence_weight_bp``, 25 % by default):
    ``effective_orders = verified_orders * weight_bp / 10 000`` is what it may count for.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bonafide.attest.canonical import CanonicalError, loads
from bonafide.attest.documents import (
    BASIS_POINTS,
    CLAIM_VERIFICATION,
    LIFETIME_MAX,
    SELLER_REPUTATION,
    Verification,
    seller_reputation_payload,
    sign_document,
    verify_document,
)
from bonafide.attest.keys import Keyring, KeyringError, parse_time
from bonafide.errors import Conflict, Forbidden, NotFound, Rejected
from bonafide.ids import new_id
from bonafide.market.accounts import Principal, Role
from bonafide.market.listings import may_see_listing
from bonafide.service import keys
from bonafide.service.accounts import principal_of
from bonafide.service.listings import get_listing
from bonafide.service.reputation import seller_reputation
from bonafide.settings import Settings
from bonafide.store.attest_repo import AttestationRepository, TrustedIssuerRow
from bonafide.store.market_repo import AccountRepository
from bonafide.store.order_repo import OrderRepository
from bonafide.store.uow import UnitOfWork

EVIDENCE_PAGE_MAX = 100
"""Limit on the imported attestations or claim verifications one read returns."""
ISSUERS_MAX = 1_000


# --- trusted issuers --------------------------------------------------------------------------
def trust_issuer(
    uow: UnitOfWork, *, document: object, added_by: str, now: datetime
) -> tuple[Keyring, bool]:
    """Register (or replace) an issuer's keyring; returns it and whether it was new.

    ``document`` is a keyring document (``/.well-known/bonafide-market.json`` of another market,
    or a verifier's equivalent). Refused with ``Rejected(<keyring reason>)`` if malformed.
    """
    try:
        keyring = Keyring.from_document(document)
    except KeyringError as error:
        raise Rejected(error.reason, error.detail) from None
    with uow:
        repo = uow.repo(AttestationRepository)
        if len(repo.issuers()) >= ISSUERS_MAX:
            raise Rejected("trusted_issuers_full", f"at most {ISSUERS_MAX} trusted issuers")
        new = repo.put_issuer(TrustedIssuerRow(
            keyring.issuer_id, keyring.kind, keyring.name,
            _keyring_text(keyring), now, added_by,
        ))
        uow.commit()
    return keyring, new


def _keyring_text(keyring: Keyring) -> str:
    return json.dumps(keyring.to_document(), sort_keys=True, ensure_ascii=False)


def trusted_keyrings(uow: UnitOfWork, *, kind: str | None = None) -> list[Keyring]:
    """The keyrings of the issuers this market trusts (of ``kind``, or all)."""
    with uow:
        rows = uow.repo(AttestationRepository).issuers(kind)
    return [Keyring.from_document(loads(row.keyring)) for row in rows]


# --- export -----------------------------------------------------------------------------------
def _basis_points(fraction: float) -> int:
    # The seam speaks floats in [0, 1]; documents hold integers. Round down: never overstate.
    return max(0, min(BASIS_POINTS, math.floor(fraction * BASIS_POINTS)))


def export_seller(
    uow: UnitOfWork,
    *,
    settings: Settings,
    seller_id: str,
    now: datetime,
    audience: tuple[str, str] | None = None,
) -> bytes:
    """This market's signed reputation summary of ``seller_id`` (canonical JSON bytes).

    ``audience`` is ``(market id, account id)`` of the account on another market the seller
    asked for it; without one, only that market's operator can import it.
    """
    identity = keys.load_or_create(settings, now=now)
    reputation = seller_reputation(uow, seller_id=seller_id, now=now)
    with uow:
        finished, disputed, refunded = uow.repo(OrderRepository).seller_outcomes(seller_id)
        found = uow.repo(AccountRepository).get_with_created(seller_id)
    assert found is not None, "seller_reputation found the seller a moment ago"
    principal, created_at = found
    lifetime = min(settings.attestation_lifetime, LIFETIME_MAX)
    payload = seller_reputation_payload(
        issuer_id=identity.market_id, issuer_name=identity.name,
        attestation_id=new_id("att", now=now), seller_id=seller_id, handle=principal.handle,
        period_from=min(created_at, now), period_until=now, verified_orders=finished,
        disputes=disputed, refunds=refunded, score_bp=_basis_points(reputation.score),
        verified_reviews=reputation.verified_reviews, method=reputation.method,
        issued_at=now, expires_at=now + lifetime, audience=audience,
    )
    return sign_document(payload, key=identity.signing_key)


# --- import -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ImportedEvidence:
    id: str
    seller_id: str
    issuer_id: str
    issuer_name: str
    attestation_id: str
    verified_orders: int
    disputes: int
    refunds: int
    score_bp: int
    weight_bp: int
    issued_at: datetime
    expires_at: datetime
    imported_at: datetime
    imported_by: str
    document: str

    status = "imported"

    @property
    def effective_orders(self) -> int:
        """How many orders of this market's own this evidence may count as (rounded down)."""
        return self.verified_orders * self.weight_bp // BASIS_POINTS

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def _refuse(verification: Verification) -> Rejected:
    return Rejected(verification.reason.value, verification.detail)


def _target_seller(*, viewer: Principal, seller_id: str | None) -> str:
    """Whom ``viewer`` may import for: themselves (a seller) or the seller named (an operator)."""
    if viewer.is_operator:
        if seller_id is None:
            raise Rejected("seller_id_required", "an operator names the seller to import for")
        return seller_id
    if not viewer.has_role(Role.seller):
        raise Forbidden("role_required", "this needs the role operator or seller")
    if seller_id not in (None, viewer.id):
        raise Forbidden("not_your_account", "a seller imports attestations for themselves")
    return viewer.id


def _require_seller(uow: UnitOfWork, seller_id: str) -> None:
    try:
        seller = principal_of(uow, seller_id)
    except NotFound:
        seller = None
    if seller is None or not seller.has_role(Role.seller):
        raise NotFound("seller_not_found", f"no seller {seller_id}")


def _check_audience(payload: dict[str, Any], *, market_id: str, seller_id: str,
                    by_operator: bool) -> None:
    audience = payload["audience"]
    if audience is None:
        if not by_operator:
            raise Rejected(
                "attestation_not_bound_to_an_account",
                "ask the issuing market for an attestation naming this market and your account "
                "as its audience, or ask this market's operator to import it",
            )
        return
    if audience != {"market_id": market_id, "account_id": seller_id}:
        raise Rejected(
            "attestation_audience_mismatch",
            f"it was issued for account {audience['account_id']} on {audience['market_id']}",
        )


def import_seller_attestation(
    uow: UnitOfWork,
    *,
    viewer: Principal,
    document: bytes,
    settings: Settings,
    now: datetime,
    seller_id: str | None = None,
) -> ImportedEvidence:
    """Verify another market's attestation and keep it as weighted-down prior evidence.

    Refusals: ``Rejected(<verification reason>)`` (``key_unknown``, ``key_expired``,
    ``signature_invalid``, ``attestation_expired``, ...), ``attestation_from_this_market``,
    ``attestation_not_bound_to_an_account``, ``attestation_audience_mismatch``;
    ``Conflict(attestation_already_imported)`` for a second import of the same attestation.
    """
    target = _target_seller(viewer=viewer, seller_id=seller_id)
    identity = keys.load_or_create(settings, now=now)
    keyrings = trusted_keyrings(uow, kind="market")
    verification = verify_document(document, keyrings=keyrings, now=now,
                                   expected_type=SELLER_REPUTATION)
    if not verification.ok:
        try:
            issuer = _issuer_of(document)
        except (CanonicalError, KeyError, TypeError):
            issuer = None
        if issuer == identity.market_id:
            raise Rejected("attestation_from_this_market",
                           "this market's own record already counts in full")
        raise _refuse(verification)
    payload = verification.payload
    assert payload is not None and verification.issuer is not None
    with uow:
        _require_seller(uow, target)
        _check_audience(payload, market_id=identity.market_id, seller_id=target,
                        by_operator=viewer.is_operator)
        evidence = ImportedEvidence(
            id=new_id("imp", now=now), seller_id=target, issuer_id=payload["issuer"]["id"],
            issuer_name=verification.issuer.name, attestation_id=payload["attestation_id"],
            verified_orders=payload["verified_orders"], disputes=payload["disputes"],
            refunds=payload["refunds"], score_bp=payload["score"]["value_bp"],
            weight_bp=settings.imported_evidence_weight_bp,
            issued_at=parse_time(payload["issued_at"]),
            expires_at=parse_time(payload["expires_at"]), imported_at=now,
            imported_by=viewer.id, document=document.rstrip(b"\n").decode("utf-8"),
        )
        values = {name: getattr(evidence, name) for name in _IMPORTED_COLUMNS}
        if not uow.repo(AttestationRepository).add_imported(values):
            raise Conflict("attestation_already_imported",
                           f"{evidence.issuer_id} {evidence.attestation_id} is already here")
        uow.commit()
    return evidence


_IMPORTED_COLUMNS = (
    "id", "seller_id", "issuer_id", "issuer_name", "attestation_id", "verified_orders",
    "disputes", "refunds", "score_bp", "weight_bp", "issued_at", "expires_at", "document",
    "imported_at", "imported_by",
)


def _issuer_of(document: bytes) -> object:
    value: Any = loads(document)
    return value["payload"]["issuer"]["id"]


def imported_evidence(uow: UnitOfWork, *, seller_id: str) -> list[ImportedEvidence]:
    """The attestations imported for ``seller_id`` (anyone may read them), oldest first.

    This is the seam for reputation: each item says how much it may count
    (``effective_orders``, ``weight_bp``) and whether it has expired.
    """
    with uow:
        _require_seller(uow, seller_id)
        rows = uow.repo(AttestationRepository).imported_of(seller_id, limit=EVIDENCE_PAGE_MAX)
    return [ImportedEvidence(**{name: row[name] for name in _IMPORTED_COLUMNS}) for row in rows]


# --- listing claims ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ClaimVerification:
    id: str
    listing_id: str
    issuer_id: str
    issuer_name: str
    attestation_id: str
    claim: str
    verdict: str
    evidence_sha256: str
    evidence_description: str
    issued_at: datetime
    expires_at: datetime
    document: str
    attached_at: datetime
    attached_by: str

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


_CLAIM_COLUMNS = tuple(ClaimVerification.__dataclass_fields__)


def attach_claim_verification(
    uow: UnitOfWork,
    *,
    viewer: Principal,
    listing_id: str,
    document: bytes,
    settings: Settings,
    now: datetime,
) -> ClaimVerification:
    """Verify a third party's signed claim verification and attach it to the listing.

    Who: the listing's seller or an operator. Refusals: ``Rejected(<verification reason>)``
    against the trusted verifiers, ``claim_verification_for_another_listing``,
    ``Conflict(claim_verification_already_attached)``.
    """
    identity = keys.load_or_create(settings, now=now)
    keyrings = trusted_keyrings(uow, kind="verifier")
    verification = verify_document(document, keyrings=keyrings, now=now,
                                   expected_type=CLAIM_VERIFICATION)
    with uow:
        listing = get_listing(uow, listing_id)
        if not (viewer.is_operator or viewer.id == listing.seller_id):
            raise Forbidden("not_your_listing", "only the listing's seller or an operator")
        if not verification.ok:
            raise _refuse(verification)
        payload = verification.payload
        assert payload is not None and verification.issuer is not None
        if payload["listing"] != {"market_id": identity.market_id, "listing_id": listing_id}:
            raise Rejected(
                "claim_verification_for_another_listing",
                f"it verifies listing {payload['listing']['listing_id']} on "
                f"{payload['listing']['market_id']}",
            )
        found = ClaimVerification(
            id=new_id("clv", now=now), listing_id=listing_id, issuer_id=payload["issuer"]["id"],
            issuer_name=verification.issuer.name, attestation_id=payload["attestation_id"],
            claim=payload["claim"], verdict=payload["verdict"],
            evidence_sha256=payload["evidence"]["sha256"],
            evidence_description=payload["evidence"]["description"],
            issued_at=parse_time(payload["issued_at"]),
            expires_at=parse_time(payload["expires_at"]),
            document=document.rstrip(b"\n").decode("utf-8"), attached_at=now,
            attached_by=viewer.id,
        )
        values = {name: getattr(found, name) for name in _CLAIM_COLUMNS}
        if not uow.repo(AttestationRepository).add_claim(values):
            raise Conflict("claim_verification_already_attached",
                           f"{found.issuer_id} {found.attestation_id} is already attached")
        uow.commit()
    return found


def claim_verifications(
    uow: UnitOfWork, *, viewer: Principal | None, listing_id: str
) -> list[ClaimVerification]:
    """The verifications attached to a listing, for whoever may see the listing."""
    with uow:
        listing = get_listing(uow, listing_id)
        if not may_see_listing(viewer=viewer, listing=listing):
            raise NotFound("listing_not_found", f"no listing {listing_id}")
        rows = uow.repo(AttestationRepository).claims_of(listing_id, limit=EVIDENCE_PAGE_MAX)
    return [ClaimVerification(**{name: row[name] for name in _CLAIM_COLUMNS}) for row in rows]
