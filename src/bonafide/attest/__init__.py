"""Attestations: canonical JSON, Ed25519 keys and keyrings, signed documents and their checks.

Owns: everything a verifier needs offline to check a bonafide document. Imports: PyNaCl and the
standard library; it is pure domain code (no database, no clock: ``now`` is passed in), and it
knows nothing of the ledger (the liability tree lives in ``bonafide.ledger.liabilities``; the
service layer joins the two).

- ``canonical``: the canonical JSON encoding (RFC 8785 restricted to integers) and strict parser.
- ``keys``: ``SigningKey``, ``PublicKey``, ``Keyring`` and the keyring (well-known) document.
- ``documents``: the signed envelope, payload shapes, ``sign_document`` and ``verify_document``.
"""

from bonafide.attest.canonical import CanonicalError, dumps, is_canonical, loads
from bonafide.attest.documents import (
    CLAIM_VERIFICATION,
    LIABILITIES_ROOT,
    SELLER_REPUTATION,
    Reason,
    Verification,
    sign_document,
    verify_document,
)
from bonafide.attest.keys import Keyring, KeyringError, PublicKey, SigningKey, new_keyring

__all__ = [
    "CLAIM_VERIFICATION",
    "LIABILITIES_ROOT",
    "SELLER_REPUTATION",
    "CanonicalError",
    "Keyring",
    "KeyringError",
    "PublicKey",
    "Reason",
    "SigningKey",
    "Verification",
    "dumps",
    "is_canonical",
    "loads",
    "new_keyring",
    "sign_document",
    "verify_document",
]
