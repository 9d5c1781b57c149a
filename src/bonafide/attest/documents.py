"""Signed documents: attestations and liability roots, how they are signed and how they verify.

Owns: the signed envelope, the payload shapes, and ``verify_document``, which checks a document
offline against known keyrings and returns a ``Verification`` naming the first rule it breaks.
Imports: the standard library and the rest of ``bonafide.attest``. Pure: ``now`` is an argument.

A signed document is canonical JSON (see ``canonical``), optionally followed by one newline::

    {"payload":{...},"signature":{"algorithm":"ed25519","key_id":"4f1c...","value":"<base64>"}}

The signature is over ``SIGNING_CONTEXT + canonical(payload)``; the context keeps a bonafide
signature from meaning anything in another protocol. The file itself must be canonical, so a
re-ordered, re-indented or otherwise re-written document fails with ``document_not_canonical``
even where its meaning is unchanged: what was signed is exactly what is kept.

Payload types (every payload has ``type``, ``version``, ``issuer: {id, name}`` and ``issued_at``):

``bonafide.seller_reputation``
    A market's summary of one seller: ``subject {seller_id, handle}``, ``period {from, until}``,
    ``verified_orders``, ``disputes``, ``refunds``, ``dispute_rate_bp``, ``refund_rate_bp``,
    ``score {value_bp, verified_reviews, method}`` (basis points, 10 000 = 1; the method names
    the issuing market's scoring), ``audience`` (``null``, or ``{market_id, account_id}``: the
    account on another market the seller asked the attestation for, so nobody else can import
    it as theirs), ``attestation_id``, ``expires_at``. Rates are counts over
    ``verified_orders`` rounded down to basis points.
``bonafide.claim_verification``
    A third party's check of a listing's claim: ``listing {market_id, listing_id}``, ``claim``
    (the text checked), ``evidence {sha256, description}`` (hash of the report, e.g. the lab PDF),
    ``verdict`` (``confirmed`` | ``refuted`` | ``inconclusive``), ``attestation_id``,
    ``expires_at``. Its issuer is the verifier (a keyring of kind ``verifier``).
``bonafide.liabilities_root``
    A market's signed proof-of-liabilities root: ``snapshot_id``, ``accounts`` (the account kinds
    counted), ``tree`` (the construction), ``roots [{currency, root_hash, total, leaf_count}]``,
    and ``ledger {entries, heads [{chain, sequence, hash}]}``: how many journal entries the
    snapshot saw and the head of each hash chain of the journal at that moment, which ties the
    totals to one point of the hash-chained ledger.
    It does not expire: it states what was owed at ``issued_at``.

Verification reasons, in the order they are checked (``Reason``): the first that applies is
returned, so a tampered document reports ``signature_invalid`` and a document cut short reports
``document_truncated``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bonafide.attest.canonical import CanonicalError, dumps, loads
from bonafide.attest.keys import (
    SIGNATURE_BYTES,
    Keyring,
    KeyringError,
    PublicKey,
    SigningKey,
    b64decode,
    b64encode,
    format_time,
    parse_time,
    signature_valid,
)

SIGNING_CONTEXT = b"bonafide-signed-document-v1\x00"
ALGORITHM = "ed25519"

SELLER_REPUTATION = "bonafide.seller_reputation"
CLAIM_VERIFICATION = "bonafide.claim_verification"
LIABILITIES_ROOT = "bonafide.liabilities_root"

LIFETIME_MAX = timedelta(days=400)
"""An attestation may claim validity for at most this long after it was issued."""

CLOCK_SKEW_MAX = timedelta(minutes=5)
"""How far in the future ``issued_at`` may lie before a document is refused."""

TEXT_MAX = 2_000
CHAINS_MAX = 64
"""Limit on the journal's hash chains a liabilities root lists."""
BASIS_POINTS = 10_000
VERDICTS = ("confirmed", "refuted", "inconclusive")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Reason(enum.StrEnum):
    """Why a document verified or did not; the value is the stable name."""

    ok = "ok"
    document_too_large = "document_too_large"
    document_truncated = "document_truncated"
    document_malformed = "document_malformed"
    document_has_float = "document_has_float"
    document_not_canonical = "document_not_canonical"
    document_schema_invalid = "document_schema_invalid"
    document_type_unexpected = "document_type_unexpected"
    algorithm_unsupported = "algorithm_unsupported"
    key_unknown = "key_unknown"
    issuer_mismatch = "issuer_mismatch"
    signature_invalid = "signature_invalid"
    key_not_yet_valid = "key_not_yet_valid"
    key_expired = "key_expired"
    attestation_not_yet_valid = "attestation_not_yet_valid"
    attestation_expired = "attestation_expired"
    attestation_lifetime_too_long = "attestation_lifetime_too_long"


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of ``verify_document``: ``reason`` is ``ok`` or the first rule broken."""

    reason: Reason
    detail: str = ""
    payload: dict[str, Any] | None = None
    key: PublicKey | None = None
    issuer: Keyring | None = None

    @property
    def ok(self) -> bool:
        return self.reason is Reason.ok


class SchemaError(ValueError):
    """A payload outside its type's shape (raised while building, reported while verifying)."""


# --- signing --------------------------------------------------------------------------------
def signing_message(payload: Mapping[str, Any]) -> bytes:
    return SIGNING_CONTEXT + dumps(dict(payload))


def sign_document(payload: Mapping[str, Any], *, key: SigningKey) -> bytes:
    """The canonical signed document for ``payload`` (its shape is checked first)."""
    check_payload(payload)
    signature = key.sign(signing_message(payload))
    return dumps(
        {
            "payload": dict(payload),
            "signature": {"algorithm": ALGORITHM, "key_id": key.key_id,
                          "value": b64encode(signature)},
        }
    )


# --- payload shapes -------------------------------------------------------------------------
def _need(condition: bool, message: str) -> None:
    if not condition:
        raise SchemaError(message)


def _is_int(value: object, low: int = 0, high: int | None = None) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= low
        and (high is None or value <= high)
    )


def _is_text(value: object, high: int = 200) -> bool:
    return isinstance(value, str) and 0 < len(value) <= high


def _fields(data: object, names: set[str], where: str) -> dict[str, Any]:
    _need(isinstance(data, dict), f"{where} is an object")
    assert isinstance(data, dict)
    _need(set(data) == names, f"{where} has exactly the fields {sorted(names)}, got {sorted(data)}")
    return data


def _time(value: object, where: str) -> datetime:
    try:
        return parse_time(value)
    except KeyringError as error:
        raise SchemaError(f"{where}: {error.detail}") from None


_COMMON = {"type", "version", "issuer", "issued_at"}


def _check_seller_reputation(p: dict[str, Any]) -> None:
    _fields(p, _COMMON | {"attestation_id", "expires_at", "subject", "period", "verified_orders",
                          "disputes", "refunds", "dispute_rate_bp", "refund_rate_bp", "score",
                          "audience"},
            "a seller reputation")
    if p["audience"] is not None:
        audience = _fields(p["audience"], {"market_id", "account_id"}, "audience")
        _need(_is_text(audience["market_id"], 128) and _is_text(audience["account_id"], 128),
              "audience ids are text")
    subject = _fields(p["subject"], {"seller_id", "handle"}, "subject")
    _need(_is_text(subject["seller_id"]) and _is_text(subject["handle"]), "subject ids are text")
    period = _fields(p["period"], {"from", "until"}, "period")
    _need(_time(period["from"], "period.from") <= _time(period["until"], "period.until"),
          "period ends before it starts")
    for name in ("verified_orders", "disputes", "refunds"):
        _need(_is_int(p[name]), f"{name} is a non-negative integer")
    _need(p["disputes"] <= p["verified_orders"] and p["refunds"] <= p["verified_orders"],
          "disputes and refunds are counted among verified orders")
    for name in ("dispute_rate_bp", "refund_rate_bp"):
        _need(_is_int(p[name], 0, BASIS_POINTS), f"{name} is 0 to {BASIS_POINTS} basis points")
    score = _fields(p["score"], {"value_bp", "verified_reviews", "method"}, "score")
    _need(_is_int(score["value_bp"], 0, BASIS_POINTS), f"score.value_bp is 0 to {BASIS_POINTS}")
    _need(_is_int(score["verified_reviews"]), "score.verified_reviews is a count")
    _need(_is_text(score["method"], 100), "score.method names the scoring")


def _check_claim_verification(p: dict[str, Any]) -> None:
    _fields(p, _COMMON | {"attestation_id", "expires_at", "listing", "claim", "evidence",
                          "verdict"}, "a claim verification")
    listing = _fields(p["listing"], {"market_id", "listing_id"}, "listing")
    _need(_is_text(listing["market_id"]) and _is_text(listing["listing_id"]), "listing ids")
    _need(_is_text(p["claim"], TEXT_MAX), f"claim is 1 to {TEXT_MAX} characters")
    evidence = _fields(p["evidence"], {"sha256", "description"}, "evidence")
    _need(isinstance(evidence["sha256"], str) and bool(_HEX64.match(evidence["sha256"])),
          "evidence.sha256 is 64 lower-case hex digits")
    _need(_is_text(evidence["description"], TEXT_MAX), "evidence.description is text")
    _need(p["verdict"] in VERDICTS, f"verdict is one of {VERDICTS}")


def _check_liabilities_root(p: dict[str, Any]) -> None:
    _fields(p, _COMMON | {"snapshot_id", "accounts", "tree", "roots", "ledger"},
            "a liabilities root")
    _need(_is_text(p["snapshot_id"]), "snapshot_id is text")
    ledger = _fields(p["ledger"], {"entries", "heads"}, "ledger")
    _need(_is_int(ledger["entries"]), "ledger.entries is a count")
    heads = ledger["heads"]
    _need(isinstance(heads, list) and 0 < len(heads) <= CHAINS_MAX, "ledger.heads is a list")
    for head in heads:
        h = _fields(head, {"chain", "sequence", "hash"}, "a ledger head")
        _need(_is_int(h["chain"]) and _is_int(h["sequence"]) and _is_text(h["hash"], 128),
              "a ledger head is {chain, sequence, hash}")
    _need(sum(h["sequence"] for h in heads) == ledger["entries"],
          "ledger.entries is the sum of the chains' sequences")
    _need(isinstance(p["accounts"], list) and all(_is_text(a) for a in p["accounts"]),
          "accounts is a list of account kinds")
    _need(_is_text(p["tree"]), "tree names the construction")
    _need(isinstance(p["roots"], list) and len(p["roots"]) <= 500, "roots is a list")
    currencies = []
    for root in p["roots"]:
        r = _fields(root, {"currency", "root_hash", "total", "leaf_count"}, "a root")
        _need(_is_text(r["currency"], 8), "currency is a code")
        _need(isinstance(r["root_hash"], str) and bool(_HEX64.match(r["root_hash"])),
              "root_hash is 64 lower-case hex digits")
        _need(_is_int(r["total"]) and _is_int(r["leaf_count"], 1), "total and leaf_count")
        currencies.append(r["currency"])
    _need(currencies == sorted(set(currencies)), "roots are sorted by currency, one each")


_SHAPES: dict[str, Callable[[dict[str, Any]], None]] = {
    SELLER_REPUTATION: _check_seller_reputation,
    CLAIM_VERIFICATION: _check_claim_verification,
    LIABILITIES_ROOT: _check_liabilities_root,
}


def check_payload(payload: Mapping[str, Any]) -> None:
    """Raise ``SchemaError`` unless ``payload`` has the shape of its ``type`` (version 1)."""
    p = dict(payload)
    kind = p.get("type")
    _need(isinstance(kind, str) and kind in _SHAPES, f"type is one of {sorted(_SHAPES)}")
    _need(p.get("version") == 1, "version is 1")
    issuer = _fields(p.get("issuer"), {"id", "name"}, "issuer")
    _need(_is_text(issuer["id"], 128) and _is_text(issuer["name"]), "issuer id and name are text")
    issued_at = _time(p.get("issued_at"), "issued_at")
    if "attestation_id" in p:
        _need(_is_text(p["attestation_id"], 128), "attestation_id is text")
    if "expires_at" in p:
        _need(_time(p["expires_at"], "expires_at") > issued_at, "expires_at is after issued_at")
    _SHAPES[p["type"]](p)


# --- verifying ------------------------------------------------------------------------------
def _parse(data: bytes) -> tuple[dict[str, Any] | None, Verification | None]:
    try:
        value = loads(data)
    except CanonicalError as error:
        reason = {
            "document_truncated": Reason.document_truncated,
            "float_not_allowed": Reason.document_has_float,
            "too_large": Reason.document_too_large,
        }.get(error.reason, Reason.document_malformed)
        return None, Verification(reason, error.detail)
    if not isinstance(value, dict):
        return None, Verification(Reason.document_schema_invalid, "a document is an object")
    body = data[:-1] if data.endswith(b"\n") else data
    if dumps(value) != body:
        return None, Verification(
            Reason.document_not_canonical,
            "the bytes differ from the canonical form (sorted keys, no spaces); "
            "a signed document must be kept exactly as issued",
        )
    return value, None


def _issuer_keyring(
    keyrings: Iterable[Keyring], issuer_id: str, key_id: str
) -> tuple[Keyring | None, Verification | None]:
    rings = list(keyrings)
    ring = next((r for r in rings if r.issuer_id == issuer_id), None)
    if ring is not None and ring.find(key_id) is not None:
        return ring, None
    elsewhere = next((r for r in rings if r.find(key_id) is not None), None)
    if elsewhere is not None:
        return None, Verification(
            Reason.issuer_mismatch,
            f"key {key_id} belongs to {elsewhere.issuer_id!r}, not to {issuer_id!r}",
        )
    known = "known" if ring is not None else "not known"
    return None, Verification(
        Reason.key_unknown, f"key {key_id} is not a key of issuer {issuer_id!r} ({known} here)"
    )


def _times(payload: dict[str, Any], key: PublicKey, now: datetime) -> Verification | None:
    issued_at = parse_time(payload["issued_at"])
    if issued_at < key.valid_from:
        return Verification(Reason.key_not_yet_valid,
                            f"signed at {payload['issued_at']}, before the key's period")
    if key.valid_until is not None and issued_at >= key.valid_until:
        return Verification(Reason.key_expired,
                            f"signed at {payload['issued_at']}, after the key was retired at "
                            f"{format_time(key.valid_until)}")
    if issued_at > now + CLOCK_SKEW_MAX:
        return Verification(Reason.attestation_not_yet_valid,
                            f"issued at {payload['issued_at']}, in the future")
    if "expires_at" in payload:
        expires_at = parse_time(payload["expires_at"])
        if expires_at - issued_at > LIFETIME_MAX:
            return Verification(Reason.attestation_lifetime_too_long,
                                f"valid for more than {LIFETIME_MAX.days} days")
        if now >= expires_at:
            return Verification(Reason.attestation_expired,
                                f"expired at {payload['expires_at']}")
    return None


def verify_document(
    data: bytes,
    *,
    keyrings: Iterable[Keyring],
    now: datetime,
    expected_type: str | None = None,
) -> Verification:
    """Check a signed document offline; the result names the first rule it breaks, if any.

    Parameters
    ----------
    data
        The document's bytes exactly as issued (one trailing newline is tolerated).
    keyrings
        The issuers this verifier knows, with their keys and validity periods.
    now
        The verifier's time, for expiry (aware UTC).
    expected_type
        Refuse other payload types with ``document_type_unexpected``.
    """
    value, failed = _parse(data)
    if failed is not None:
        return failed
    assert value is not None
    if set(value) != {"payload", "signature"}:
        return Verification(Reason.document_schema_invalid, "a document is {payload, signature}")
    payload, signature = value["payload"], value["signature"]
    try:
        check_payload(payload)
        _fields(signature, {"algorithm", "key_id", "value"}, "signature")
    except SchemaError as error:
        return Verification(Reason.document_schema_invalid, str(error))
    if expected_type is not None and payload["type"] != expected_type:
        return Verification(Reason.document_type_unexpected,
                            f"expected {expected_type}, got {payload['type']}")
    if signature["algorithm"] != ALGORITHM:
        return Verification(Reason.algorithm_unsupported, f"{signature['algorithm']!r}")
    key_id = signature["key_id"]
    if not isinstance(key_id, str):
        return Verification(Reason.document_schema_invalid, "signature.key_id is text")
    ring, failed = _issuer_keyring(keyrings, payload["issuer"]["id"], key_id)
    if failed is not None:
        return failed
    assert ring is not None
    key = ring.find(key_id)
    assert key is not None
    try:
        raw = b64decode(signature["value"], length=SIGNATURE_BYTES, what="signature")
    except KeyringError as error:
        return Verification(Reason.signature_invalid, error.detail)
    if not signature_valid(public_key=key.public_key, message=signing_message(payload),
                           signature=raw):
        return Verification(Reason.signature_invalid,
                            f"the signature does not match key {key_id} over this payload")
    failed = _times(payload, key, now)
    if failed is not None:
        return failed
    return Verification(Reason.ok, "", payload, key, ring)


# --- building payloads ----------------------------------------------------------------------
def _rate_bp(count: int, total: int) -> int:
    """``count / total`` in basis points, rounded down; 0 when there is nothing to count."""
    return 0 if total == 0 else count * BASIS_POINTS // total


def seller_reputation_payload(
    *,
    issuer_id: str,
    issuer_name: str,
    attestation_id: str,
    seller_id: str,
    handle: str,
    period_from: datetime,
    period_until: datetime,
    verified_orders: int,
    disputes: int,
    refunds: int,
    score_bp: int,
    verified_reviews: int,
    method: str,
    issued_at: datetime,
    expires_at: datetime,
    audience: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """A ``bonafide.seller_reputation`` payload; rates are derived here from the counts.

    >>> from datetime import UTC
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> p = seller_reputation_payload(issuer_id="mkt_a", issuer_name="A", attestation_id="att_1",
    ...     seller_id="acc_1", handle="ann", period_from=t, period_until=t, verified_orders=40,
    ...     disputes=1, refunds=3, score_bp=9120, verified_reviews=31, method="baseline",
    ...     issued_at=t, expires_at=t + timedelta(days=90))
    >>> p["dispute_rate_bp"], p["refund_rate_bp"]
    (250, 750)
    """
    payload = {
        "type": SELLER_REPUTATION,
        "version": 1,
        "attestation_id": attestation_id,
        "issuer": {"id": issuer_id, "name": issuer_name},
        "subject": {"seller_id": seller_id, "handle": handle},
        "period": {"from": format_time(period_from), "until": format_time(period_until)},
        "verified_orders": verified_orders,
        "disputes": disputes,
        "refunds": refunds,
        "dispute_rate_bp": _rate_bp(disputes, verified_orders),
        "refund_rate_bp": _rate_bp(refunds, verified_orders),
        "score": {"value_bp": score_bp, "verified_reviews": verified_reviews, "method": method},
        "audience": None if audience is None else {"market_id": audience[0],
                                                   "account_id": audience[1]},
        "issued_at": format_time(issued_at),
        "expires_at": format_time(expires_at),
    }
    check_payload(payload)
    return payload


def claim_verification_payload(
    *,
    issuer_id: str,
    issuer_name: str,
    attestation_id: str,
    market_id: str,
    listing_id: str,
    claim: str,
    evidence_sha256: str,
    evidence_description: str,
    verdict: str,
    issued_at: datetime,
    expires_at: datetime,
) -> dict[str, Any]:
    """A ``bonafide.claim_verification`` payload, as a lab or other verifier would sign it."""
    payload = {
        "type": CLAIM_VERIFICATION,
        "version": 1,
        "attestation_id": attestation_id,
        "issuer": {"id": issuer_id, "name": issuer_name},
        "listing": {"market_id": market_id, "listing_id": listing_id},
        "claim": claim,
        "evidence": {"sha256": evidence_sha256, "description": evidence_description},
        "verdict": verdict,
        "issued_at": format_time(issued_at),
        "expires_at": format_time(expires_at),
    }
    check_payload(payload)
    return payload


@dataclass(frozen=True, slots=True)
class CurrencyRoot:
    """One currency's tree root as a liabilities root document states it."""

    currency: str
    root_hash: str
    total: int
    leaf_count: int

    def to_json(self) -> dict[str, Any]:
        return {"currency": self.currency, "root_hash": self.root_hash, "total": self.total,
                "leaf_count": self.leaf_count}


def liabilities_root_payload(
    *,
    issuer_id: str,
    issuer_name: str,
    snapshot_id: str,
    accounts: Iterable[str],
    tree: str,
    roots: Iterable[CurrencyRoot],
    ledger_heads: Iterable[tuple[int, int, str]],
    issued_at: datetime,
) -> dict[str, Any]:
    """A ``bonafide.liabilities_root`` payload: the signed statement of what the market owes.

    ``ledger_heads`` are ``(chain, sequence, hash)``: each hash chain of the journal, its last
    entry's number in that chain and hash, as the snapshot read them.
    """
    heads = sorted(ledger_heads)
    payload = {
        "type": LIABILITIES_ROOT,
        "version": 1,
        "issuer": {"id": issuer_id, "name": issuer_name},
        "snapshot_id": snapshot_id,
        "accounts": sorted(accounts),
        "tree": tree,
        "roots": [r.to_json() for r in sorted(roots, key=lambda r: r.currency)],
        "ledger": {
            "entries": sum(sequence for _, sequence, _ in heads),
            "heads": [{"chain": c, "sequence": s, "hash": h} for c, s, h in heads],
        },
        "issued_at": format_time(issued_at),
    }
    check_payload(payload)
    return payload


def read_roots(payload: Mapping[str, Any]) -> dict[str, CurrencyRoot]:
    """The per-currency roots of a verified ``bonafide.liabilities_root`` payload."""
    assert payload["type"] == LIABILITIES_ROOT
    return {
        r["currency"]: CurrencyRoot(r["currency"], r["root_hash"], r["total"], r["leaf_count"])
        for r in payload["roots"]
    }
