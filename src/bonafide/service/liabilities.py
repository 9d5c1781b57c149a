"""Proof of liabilities: publish a signed snapshot, serve owners' proofs, declare reserves, and
check a proof offline.

Owns: which accounts are liabilities, the snapshot read, signing the root, and the file formats
users verify. Imports: ``bonafide.ledger.liabilities`` (the tree), ``bonafide.attest`` (signing),
``bonafide.service.keys``, ``bonafide.store`` (the repository and unit of work), ``bonafide.ids``.

Liabilities
    What the market owes its users: the posted balance (``credits_posted - debits_posted``) of
    every ``wallet`` and ``escrow`` account. Funds held by a pending transfer are still in the
    buyer's wallet's posted balance, so each unit owed is counted exactly once. ``fees`` and
    ``promotions`` are the operator's own money and ``external`` is the outside world; none of
    them is a liability. Leaves are labelled ``wallet:<owner id>`` and ``escrow:<name>``.
Consistency
    The snapshot is read in one read-only transaction (REPEATABLE READ on PostgreSQL; one WAL
    read transaction on SQLite) together with the heads of the journal's hash chains, so its
    totals are the ledger's after exactly those entries, and the signed root names them
    (``ledger.entries``, ``ledger.heads``; an auditor with the journal can replay to that point).
    Building and signing happen after the read; the snapshot is stored in a second transaction.

Formats a user handles (both plain JSON; only the embedded root document is signed)::

    ROOT.json   {"type": "bonafide.liabilities", "version": 1, "snapshot_id", "issued_at",
                 "document": <signed bonafide.liabilities_root>, "keyring": <market keyring>,
                 "totals": [{currency, liabilities, reserves, status}], "warnings": [...]}
    PROOF.json  {"type": "bonafide.liability_proofs", "version": 1, "snapshot_id", "account_id",
                 "proofs": [<bonafide.liability_proof>, ...]}

``check_offline`` is what ``bonafide liabilities verify`` runs: no database, no network.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bonafide.attest.canonical import CanonicalError, dumps, loads
from bonafide.attest.documents import (
    LIABILITIES_ROOT,
    CurrencyRoot,
    liabilities_root_payload,
    read_roots,
    sign_document,
    verify_document,
)
from bonafide.attest.keys import Keyring, KeyringError, PublicKey, b64decode, key_id_of
from bonafide.errors import Forbidden, NotFound, Rejected
from bonafide.ids import new_id
from bonafide.ledger.liabilities import (
    SALT_BYTES,
    TREE,
    InclusionProof,
    Liability,
    SumTree,
    TreeRoot,
    build_trees,
    verify_proof,
)
from bonafide.ledger.model import AccountKind
from bonafide.market.accounts import Principal
from bonafide.money import Money, check_currency
from bonafide.service import keys
from bonafide.settings import Settings
from bonafide.store.attest_repo import (
    LiabilityAccountRow,
    LiabilityRepository,
    ReserveRow,
    RootRow,
    SnapshotRow,
)
from bonafide.store.uow import UnitOfWork

LIABILITY_KINDS: tuple[AccountKind, ...] = (AccountKind.WALLET, AccountKind.ESCROW)
"""The account kinds whose posted balances the market owes its users."""

NOTE_LENGTH_MAX = 500
TREES_CACHED_MAX = 8
"""Built trees kept in memory for serving proofs (each costs ~50 bytes per account)."""
PROOFS_PER_FILE_MAX = 1_000


def account_label(row: LiabilityAccountRow) -> str:
    """The label a leaf commits to: ``wallet:<owner id>`` or ``escrow:<name>``."""
    if row.kind == AccountKind.WALLET:
        assert row.owner_id, "a wallet has an owner"
        return f"wallet:{row.owner_id}"
    assert row.kind == AccountKind.ESCROW and row.name, "an escrow account has a name"
    return f"escrow:{row.name}"


# --- publishing -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """The liabilities as one consistent read found them, with the journal chains' heads."""

    heads: tuple[tuple[int, int, str], ...]
    rows: tuple[LiabilityAccountRow, ...]

    @property
    def entries(self) -> int:
        """How many journal entries the snapshot saw (each chain is numbered without gaps)."""
        return sum(sequence for _, sequence, _ in self.heads)

    @property
    def heads_digest(self) -> str:
        lines = "".join(f"{c}:{s}:{h}\n" for c, s, h in self.heads)
        return hashlib.sha256(lines.encode("ascii")).hexdigest()

    def by_currency(self) -> dict[str, list[Liability]]:
        grouped: dict[str, list[Liability]] = {}
        for row in self.rows:
            grouped.setdefault(row.currency, []).append(Liability(account_label(row),
                                                                  row.balance_posted))
        return grouped


def read_snapshot(uow: UnitOfWork) -> LedgerSnapshot:
    """Read every liability and the journal head in one read-only transaction."""
    assert uow.read_only, "a snapshot reads in a read-only unit of work"
    with uow:
        repo = uow.repo(LiabilityRepository)
        repo.begin_snapshot()
        heads = tuple(repo.ledger_heads())
        rows = tuple(repo.liability_accounts([str(k) for k in LIABILITY_KINDS]))
    assert heads, "the journal has at least one chain head"
    return LedgerSnapshot(heads, rows)


@dataclass(frozen=True, slots=True)
class Published:
    snapshot_id: str
    issued_at: datetime
    document: bytes
    roots: tuple[CurrencyRoot, ...]
    ledger_entries: int
    ledger_heads: tuple[tuple[int, int, str], ...]
    accounts: int


def publish(
    uow: UnitOfWork,
    *,
    read_uow: UnitOfWork,
    settings: Settings,
    now: datetime,
    published_by: str,
    salt: bytes | None = None,
) -> Published:
    """Snapshot the ledger, build one tree per currency, sign the roots and store it all.

    ``read_uow`` must be read-only (the snapshot); ``uow`` stores the result. A negative
    liability (a broken ledger) raises ``Rejected(liability_balance_out_of_range)`` and nothing is
    published.
    """
    identity = keys.load_or_create(settings, now=now)
    snapshot = read_snapshot(read_uow)
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    trees = build_trees(snapshot.by_currency(), salt=salt)
    roots = tuple(
        CurrencyRoot(c, t.root.root_hash.hex(), t.root.total, t.root.leaf_count)
        for c, t in trees.items()
    )
    snapshot_id = new_id("lsn", now=now)
    payload = liabilities_root_payload(
        issuer_id=identity.market_id, issuer_name=identity.name, snapshot_id=snapshot_id,
        accounts=[str(k) for k in LIABILITY_KINDS], tree=TREE, roots=roots,
        ledger_heads=snapshot.heads, issued_at=now,
    )
    document = sign_document(payload, key=identity.signing_key)
    leaves = (
        (row.currency, account_label(row), row.owner_id if row.kind == AccountKind.WALLET
         else None, row.balance_posted)
        for row in snapshot.rows
    )
    with uow:
        uow.repo(LiabilityRepository).add_snapshot(
            SnapshotRow(snapshot_id, now, salt.hex(), identity.signing_key.key_id,
                        snapshot.entries, snapshot.heads_digest, document.decode("utf-8")),
            published_by=published_by,
            roots=[RootRow(r.currency, r.root_hash, r.total, r.leaf_count) for r in roots],
            leaves=leaves,
        )
        uow.commit()
    for currency, tree in trees.items():
        _remember(snapshot_id, currency, tree)
    return Published(snapshot_id, now, document, roots, snapshot.entries, snapshot.heads,
                     len(snapshot.rows))


# --- the latest root, with reserves -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Coverage:
    currency: str
    liabilities: int
    reserves: int | None
    status: str
    """``covered`` (reserves ≥ liabilities), ``reserves_below_liabilities`` or
    ``reserves_not_declared``."""


@dataclass(frozen=True, slots=True)
class RootView:
    snapshot_id: str
    issued_at: datetime
    document: bytes
    keyring: Keyring
    coverage: tuple[Coverage, ...]
    reserves: dict[str, ReserveRow] = field(default_factory=dict)

    @property
    def warnings(self) -> list[dict[str, str]]:
        return [
            {"code": c.status, "currency": c.currency,
             "detail": (f"declared reserves {c.reserves} < liabilities {c.liabilities}"
                        if c.status == "reserves_below_liabilities"
                        else f"no reserves declared for {c.currency}")}
            for c in self.coverage if c.status != "covered"
        ]

    def to_json(self) -> dict[str, Any]:
        """The ROOT.json bundle (see the module docstring)."""
        return {
            "type": "bonafide.liabilities",
            "version": 1,
            "snapshot_id": self.snapshot_id,
            "issued_at": self.issued_at.isoformat(),
            "document": _document_value(self.document),
            "keyring": self.keyring.to_document(),
            "totals": [
                {"currency": c.currency, "liabilities": c.liabilities, "reserves": c.reserves,
                 "status": c.status}
                for c in self.coverage
            ],
            "reserves": [
                {"currency": r.currency, "amount": r.amount, "note": r.note,
                 "declared_at": r.declared_at.isoformat(), "declared_by": r.declared_by}
                for r in self.reserves.values()
            ],
            "warnings": self.warnings,
        }


def _document_value(document: bytes) -> Any:
    return loads(document)


def coverage_of(roots: Iterable[RootRow], reserves: Mapping[str, ReserveRow]) -> list[Coverage]:
    """Per currency, liabilities against the newest declared reserves."""
    totals = {r.currency: r.total for r in roots}
    found = []
    for currency in sorted(set(totals) | set(reserves)):
        owed = totals.get(currency, 0)
        declared = reserves.get(currency)
        if declared is None:
            status = "reserves_not_declared"
        elif declared.amount >= owed:
            status = "covered"
        else:
            status = "reserves_below_liabilities"
        found.append(Coverage(currency, owed, None if declared is None else declared.amount,
                              status))
    return found


def latest_root(uow: UnitOfWork, *, settings: Settings, now: datetime) -> RootView:
    """The newest published root, with reserves; ``NotFound(liabilities_not_published)``."""
    with uow:
        repo = uow.repo(LiabilityRepository)
        snapshot = repo.latest_snapshot()
        if snapshot is None:
            raise NotFound("liabilities_not_published",
                           "no snapshot yet; the operator runs `bonafide liabilities publish`")
        roots = repo.roots(snapshot.id)
        reserves = repo.latest_reserves()
    keyring = keys.load_or_create(settings, now=now).keyring
    return RootView(snapshot.id, snapshot.taken_at, snapshot.document.encode("utf-8"), keyring,
                    tuple(coverage_of(roots, reserves)), reserves)


def declare_reserves(
    uow: UnitOfWork, *, actor: Principal, amount: Money, note: str, now: datetime
) -> ReserveRow:
    """Record the operator's declaration of reserves held in ``amount.currency``."""
    if not actor.is_operator:
        raise Forbidden("role_required", "only an operator declares reserves")
    if amount.value < 0:
        raise Rejected("reserves_must_not_be_negative", f"{amount.value} < 0")
    if len(note) > NOTE_LENGTH_MAX:
        raise Rejected("note_too_long", f"at most {NOTE_LENGTH_MAX} characters")
    row = ReserveRow(amount.currency, amount.value, note, now, actor.id)
    with uow:
        uow.repo(LiabilityRepository).declare_reserve(row)
        uow.commit()
    return row


# --- owners' proofs ---------------------------------------------------------------------------
_trees: OrderedDict[tuple[str, str], SumTree] = OrderedDict()
_trees_lock = threading.Lock()


def _remember(snapshot_id: str, currency: str, tree: SumTree) -> None:
    with _trees_lock:
        _trees[(snapshot_id, currency)] = tree
        _trees.move_to_end((snapshot_id, currency))
        while len(_trees) > TREES_CACHED_MAX:
            _trees.popitem(last=False)


def _tree(repo: LiabilityRepository, snapshot: SnapshotRow, root: RootRow) -> SumTree:
    with _trees_lock:
        cached = _trees.get((snapshot.id, root.currency))
    if cached is not None:
        return cached
    leaves = [Liability(a, b) for a, b in repo.leaves(snapshot.id, root.currency)]
    tree = SumTree.build(root.currency, leaves, salt=bytes.fromhex(snapshot.salt))
    # Check on reading what was checked on writing: the stored leaves rebuild the signed root.
    assert tree.root.root_hash.hex() == root.root_hash and tree.root.total == root.total, (
        f"stored leaves of {snapshot.id} {root.currency} do not rebuild the published root"
    )
    _remember(snapshot.id, root.currency, tree)
    return tree


@dataclass(frozen=True, slots=True)
class ProofBundle:
    snapshot_id: str
    account_id: str
    proofs: tuple[InclusionProof, ...]

    def to_json(self) -> dict[str, Any]:
        """The PROOF.json bundle (see the module docstring)."""
        return {
            "type": "bonafide.liability_proofs",
            "version": 1,
            "snapshot_id": self.snapshot_id,
            "account_id": self.account_id,
            "proofs": [p.to_json() for p in self.proofs],
        }


def owner_proofs(
    uow: UnitOfWork, *, viewer: Principal, account_id: str, snapshot_id: str | None = None
) -> ProofBundle:
    """The inclusion proofs of ``account_id``'s accounts in a snapshot (the newest by default).

    Only the account itself may ask (``Forbidden(proof_owner_only)``): a proof reveals the
    balance and the snapshot's salt. An account with no liabilities gets an empty list.
    """
    if viewer.id != account_id:
        raise Forbidden("proof_owner_only", "only the account itself may fetch its proofs")
    with uow:
        repo = uow.repo(LiabilityRepository)
        snapshot = repo.latest_snapshot() if snapshot_id is None else repo.snapshot(snapshot_id)
        if snapshot is None:
            raise NotFound("liabilities_not_published" if snapshot_id is None
                           else "snapshot_not_found", "no such liabilities snapshot")
        roots = {r.currency: r for r in repo.roots(snapshot.id)}
        proofs = []
        for currency, account in repo.owner_leaves(snapshot.id, account_id):
            proofs.append(_tree(repo, snapshot, roots[currency]).proof(account))
    return ProofBundle(snapshot.id, account_id, tuple(proofs))


def all_proofs(uow: UnitOfWork, *, snapshot_id: str) -> dict[str, ProofBundle]:
    """Every owner's proof bundle of a snapshot, for the operator to hand out (``--out``)."""
    with uow:
        repo = uow.repo(LiabilityRepository)
        snapshot = repo.snapshot(snapshot_id)
        if snapshot is None:
            raise NotFound("snapshot_not_found", snapshot_id)
        bundles: dict[str, list[InclusionProof]] = {}
        for root in repo.roots(snapshot_id):
            tree = _tree(repo, snapshot, root)
            for account, _ in repo.leaves(snapshot_id, root.currency):
                if account.startswith("wallet:"):
                    owner = account.removeprefix("wallet:")
                    bundles.setdefault(owner, []).append(tree.proof(account))
    return {o: ProofBundle(snapshot_id, o, tuple(p)) for o, p in sorted(bundles.items())}


# --- checking offline -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ProofOutcome:
    currency: str
    account: str
    balance: int
    total: int


@dataclass(frozen=True, slots=True)
class OfflineCheck:
    snapshot_id: str
    issuer_id: str
    issuer_name: str
    key_id: str
    issued_at: str
    key_source: str
    outcomes: tuple[ProofOutcome, ...]


def _need_object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Rejected(f"{what}_unreadable", f"{what} is not a JSON object")
    return value


def keyring_from_key(key: object, *, issuer_id: str, name: str) -> Keyring:
    """A keyring from ``--key``: a keyring document, or one base64 public key (valid always)."""
    if isinstance(key, dict):
        try:
            return Keyring.from_document(key.get("keyring", key))
        except KeyringError as error:
            raise Rejected(error.reason, error.detail) from None
    try:
        public_key = b64decode(key, length=32, what="public_key")
    except KeyringError as error:
        raise Rejected(error.reason, error.detail) from None
    listed = PublicKey(key_id_of(public_key), public_key, datetime(1970, 1, 1, tzinfo=UTC), None)
    return Keyring(issuer_id, name, (listed,))


def check_offline(
    *, root: object, proof: object, key: object | None, now: datetime
) -> OfflineCheck:
    """Check a ROOT.json (or a bare signed root) and a PROOF.json (or one proof) together.

    The root's signature is checked against ``key`` (a keyring document or a base64 public key)
    or, failing that, the keyring inside ROOT.json, which only proves the file is intact: compare
    its key id with the market's published one. Each proof must be in that root. Raises
    ``Rejected`` named after the first failure.
    """
    bundle = _need_object(root, "root")
    signed = _need_object(bundle.get("document", bundle), "root")
    payload = _need_object(signed.get("payload"), "root")
    issuer = _need_object(payload.get("issuer"), "root")
    if key is not None:
        keyring = keyring_from_key(key, issuer_id=str(issuer.get("id")),
                                   name=str(issuer.get("name")))
        source = "given key"
    elif "keyring" in bundle:
        keyring = keyring_from_key(bundle["keyring"], issuer_id="", name="")
        source = "keyring inside ROOT.json"
    else:
        raise Rejected("key_required", "give --key: the root file carries no keyring")
    try:
        data = dumps(signed)
    except CanonicalError as error:
        raise Rejected("document_malformed", error.detail) from None
    verified = verify_document(data, keyrings=[keyring], now=now, expected_type=LIABILITIES_ROOT)
    if not verified.ok:
        raise Rejected(verified.reason.value, verified.detail)
    assert verified.payload is not None and verified.key is not None
    roots = read_roots(verified.payload)
    proof_bundle = _need_object(proof, "proof")
    snapshot_id = verified.payload["snapshot_id"]
    if proof_bundle.get("snapshot_id", snapshot_id) != snapshot_id:
        raise Rejected("proof_for_another_snapshot",
                       f"the proofs are of {proof_bundle.get('snapshot_id')}, the root of "
                       f"{snapshot_id}")
    items = proof_bundle.get("proofs", [proof_bundle])
    if not isinstance(items, list) or not 0 < len(items) <= PROOFS_PER_FILE_MAX:
        raise Rejected("proof_malformed", f"1 to {PROOFS_PER_FILE_MAX} proofs per file")
    outcomes = []
    for item in items:
        parsed = InclusionProof.from_json(item)
        found = roots.get(parsed.currency)
        if found is None:
            raise Rejected("currency_not_in_root", f"the root has no {parsed.currency} tree")
        result = verify_proof(parsed, TreeRoot(found.currency, bytes.fromhex(found.root_hash),
                                               found.total, found.leaf_count))
        if not result.ok:
            raise Rejected(result.result.value, f"{parsed.account}: {result.detail}")
        outcomes.append(ProofOutcome(parsed.currency, parsed.account, parsed.balance,
                                     found.total))
    return OfflineCheck(snapshot_id, verified.payload["issuer"]["id"],
                        verified.payload["issuer"]["name"], verified.key.key_id,
                        verified.payload["issued_at"], source, tuple(outcomes))


def format_amount(value: int, currency: str) -> str:
    """``12.34 EUR`` for display; currencies bonafide does not know print in minor units."""
    try:
        return Money(value, check_currency(currency)).format()
    except Rejected:
        return f"{value} {currency} (minor units)"
