"""Attestations over HTTP: export a seller's signed record, import another market's, trust
issuers, and attach third parties' verifications of listing claims.

| route                                             | who                               |
|---------------------------------------------------|-----------------------------------|
| POST /v1/sellers/{id}/attestations                | the seller, operators             |
| POST /v1/attestations/import                      | sellers (for themselves), operators|
| GET  /v1/sellers/{id}/imported-attestations       | anyone                            |
| GET  /v1/attestations/trusted-issuers             | anyone                            |
| POST /v1/attestations/trusted-issuers             | operators                         |
| POST /v1/listings/{id}/claims/verifications       | the listing's seller, operators   |
| GET  /v1/listings/{id}/claims/verifications       | whoever may see the listing       |

Signed documents travel as the request body exactly as issued (``curl --data-binary @file``):
they must be canonical JSON, so the body is read as bytes, never re-serialised. A refused
document answers 422 with the verification's reason as the problem type (``key_unknown``,
``key_expired``, ``signature_invalid``, ``attestation_expired``, ...).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from bonafide.api.deps import ContainerDep, CurrentAccount, OptionalAccount, require_roles
from bonafide.api.problems import problem_responses
from bonafide.errors import Forbidden
from bonafide.market.accounts import Principal, Role
from bonafide.service import attestations as service

router = APIRouter(prefix="/v1", tags=["attestations"],
                   responses=problem_responses(400, 413, 422))

Operator = Annotated[Principal, Depends(require_roles(Role.operator))]
Id = Annotated[str, Path(min_length=1, max_length=64)]
SIGNED_DOCUMENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A signed bonafide document, byte for byte as issued (canonical JSON).",
        "content": {"application/json": {"schema": {
            "type": "object", "required": ["payload", "signature"],
            "properties": {"payload": {"type": "object"}, "signature": {"type": "object"}},
        }}},
    }
}


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


class AudienceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    market_id: Annotated[StrictStr, Field(min_length=1, max_length=128)]
    account_id: Annotated[StrictStr, Field(min_length=1, max_length=128)]


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    audience: AudienceIn | None = None


class ImportedOut(BaseModel):
    id: str
    seller_id: str
    status: str
    issuer_id: str
    issuer_name: str
    attestation_id: str
    verified_orders: int
    disputes: int
    refunds: int
    score_bp: int
    weight_bp: int
    effective_orders: int
    issued_at: datetime
    expires_at: datetime
    expired: bool
    imported_at: datetime
    imported_by: str
    document: str

    @classmethod
    def of(cls, e: service.ImportedEvidence, *, now: datetime) -> ImportedOut:
        return cls(
            id=e.id, seller_id=e.seller_id, status=e.status, issuer_id=e.issuer_id,
            issuer_name=e.issuer_name, attestation_id=e.attestation_id,
            verified_orders=e.verified_orders, disputes=e.disputes, refunds=e.refunds,
            score_bp=e.score_bp, weight_bp=e.weight_bp, effective_orders=e.effective_orders,
            issued_at=e.issued_at, expires_at=e.expires_at, expired=e.expired(now),
            imported_at=e.imported_at, imported_by=e.imported_by, document=e.document,
        )


class ImportedListOut(BaseModel):
    seller_id: str
    items: list[ImportedOut]


class ClaimVerificationOut(BaseModel):
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
    expired: bool
    attached_at: datetime
    attached_by: str
    document: str

    @classmethod
    def of(cls, c: service.ClaimVerification, *, now: datetime) -> ClaimVerificationOut:
        return cls(
            id=c.id, listing_id=c.listing_id, issuer_id=c.issuer_id, issuer_name=c.issuer_name,
            attestation_id=c.attestation_id, claim=c.claim, verdict=c.verdict,
            evidence_sha256=c.evidence_sha256, evidence_description=c.evidence_description,
            issued_at=c.issued_at, expires_at=c.expires_at, expired=c.expired(now),
            attached_at=c.attached_at, attached_by=c.attached_by, document=c.document,
        )


class ClaimVerificationsOut(BaseModel):
    listing_id: str
    items: list[ClaimVerificationOut]


class IssuerOut(BaseModel):
    issuer_id: str
    kind: str
    name: str
    keys: int
    created: bool = False


class IssuersOut(BaseModel):
    items: list[IssuerOut]


# --- export and import ------------------------------------------------------------------------
@router.post(
    "/sellers/{seller_id}/attestations",
    responses={200: {"content": {"application/json": {}},
                     "description": "The signed attestation, canonical JSON; save it as is."},
               **problem_responses(401, 403, 404)},
    response_class=Response,
)
def export(seller_id: Id, body: ExportIn, principal: CurrentAccount, container: ContainerDep
           ) -> Response:
    """This market's signed summary of the seller's record, to take to another market.

    Name the ``audience`` (the other market's id and your account there) so that you, and only
    you, can import it there yourself.
    """
    if principal.id != seller_id and not principal.is_operator:
        raise Forbidden("not_your_account", "a seller exports their own record")
    audience = None if body.audience is None else (body.audience.market_id,
                                                   body.audience.account_id)
    document = service.export_seller(container.uow(read_only=True), settings=container.settings,
                                     seller_id=seller_id, now=container.clock.now(),
                                     audience=audience)
    return Response(content=document, media_type="application/json")


@router.post(
    "/attestations/import", status_code=201, response_model=ImportedOut,
    responses=problem_responses(401, 403, 404, 409), openapi_extra=SIGNED_DOCUMENT_BODY,
)
def import_attestation(
    document: RawBody,
    principal: CurrentAccount,
    container: ContainerDep,
    seller_id: Annotated[str | None, Query(min_length=1, max_length=64,
                                           description="Operators: the seller to import for")]
    = None,
) -> ImportedOut:
    """Import another market's signed reputation summary as prior evidence (weighted down)."""
    now = container.clock.now()
    evidence = service.import_seller_attestation(
        container.uow(), viewer=principal, document=document, settings=container.settings,
        now=now, seller_id=seller_id)
    return ImportedOut.of(evidence, now=now)


@router.get("/sellers/{seller_id}/imported-attestations", response_model=ImportedListOut,
            responses=problem_responses(404))
def imported(seller_id: Id, container: ContainerDep) -> ImportedListOut:
    """Evidence imported from other markets for this seller, marked ``imported``."""
    now = container.clock.now()
    items = service.imported_evidence(container.uow(read_only=True), seller_id=seller_id)
    return ImportedListOut(seller_id=seller_id,
                           items=[ImportedOut.of(e, now=now) for e in items])


# --- trusted issuers --------------------------------------------------------------------------
@router.get("/attestations/trusted-issuers", response_model=IssuersOut)
def issuers(container: ContainerDep) -> IssuersOut:
    """The markets and verifiers whose signatures this market accepts."""
    rings = service.trusted_keyrings(container.uow(read_only=True))
    return IssuersOut(items=[IssuerOut(issuer_id=r.issuer_id, kind=r.kind, name=r.name,
                                       keys=len(r.keys)) for r in rings])


@router.post("/attestations/trusted-issuers", status_code=201, response_model=IssuerOut,
             responses=problem_responses(401, 403))
def trust(document: dict[str, Any], principal: Operator, container: ContainerDep) -> IssuerOut:
    """Trust a market or verifier: the body is its keyring document (operators only)."""
    keyring, created = service.trust_issuer(container.uow(), document=document,
                                            added_by=principal.id, now=container.clock.now())
    return IssuerOut(issuer_id=keyring.issuer_id, kind=keyring.kind, name=keyring.name,
                     keys=len(keyring.keys), created=created)


# --- listing claims ---------------------------------------------------------------------------
@router.post(
    "/listings/{listing_id}/claims/verifications", status_code=201,
    response_model=ClaimVerificationOut, responses=problem_responses(401, 403, 404, 409),
    openapi_extra=SIGNED_DOCUMENT_BODY,
)
def attach_claim(listing_id: Id, document: RawBody, principal: CurrentAccount,
                 container: ContainerDep) -> ClaimVerificationOut:
    """Attach a third party's signed verification of a claim of this listing."""
    now = container.clock.now()
    found = service.attach_claim_verification(
        container.uow(), viewer=principal, listing_id=listing_id, document=document,
        settings=container.settings, now=now)
    return ClaimVerificationOut.of(found, now=now)


@router.get("/listings/{listing_id}/claims/verifications", response_model=ClaimVerificationsOut,
            responses=problem_responses(401, 404))
def claims(listing_id: Id, principal: OptionalAccount, container: ContainerDep
           ) -> ClaimVerificationsOut:
    """The signed verifications attached to this listing, each with the document to re-check."""
    now = container.clock.now()
    items = service.claim_verifications(container.uow(read_only=True), viewer=principal,
                                        listing_id=listing_id)
    return ClaimVerificationsOut(listing_id=listing_id,
                                 items=[ClaimVerificationOut.of(c, now=now) for c in items])
