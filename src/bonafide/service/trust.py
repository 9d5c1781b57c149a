"""Trust & safety read model: the fraud engine run over the market's reviews.

Owns: feeding ``bonafide.reputation.score_graph`` from the store (revealed, visible reviews as a
rating graph; accounts sharing a stored fingerprint as links; suspended accounts, and moderators'
decisions read by ``fraud_repo.FraudRepository.decision_labels``, as known-bad / known-good
labels) and shaping what comes back for people: per-account fraud scores with readable reasons,
suspicious clusters of ratings, and each seller's trust card (reputation with its interval and
breakdown, rating histogram, dispute and refund rates). Imports: ``bonafide.reputation``,
``bonafide.market``, ``bonafide.store`` (``trust_repo``, ``order_repo``, ``fraud_repo``).

``service.fraud.refresh_scores`` runs the engine on a schedule and stores its scores (issue 4,
part 5); reads run it on demand here and keep the result in-process, keyed on the database and
on a digest of the inputs (``EngineInputs.key``: revealed reviews, fingerprints, labels), so a
page view re-scores only after something it depends on changed. Only revealed reviews feed the
graph: a hidden review must not move a public score before the reveal (DESIGN.md §4).
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from bonafide.errors import NotFound
from bonafide.market.accounts import AccountStatus, Principal, Role
from bonafide.market.reviews import ReviewerRole
from bonafide.reputation import ConvergenceError, RatingGraph, ScoreResult, score_graph
from bonafide.store.fraud_repo import FraudRepository
from bonafide.store.order_repo import OrderRepository
from bonafide.store.trust_repo import ReviewEdge, TrustRepository
from bonafide.store.uow import UnitOfWork

FLAG_THRESHOLD = 0.65
"""Fraud score from which an account is flagged for review. An account nobody has rated sits at
the engine's cold-start 0.5, so the threshold must be well above it; on the full demo market
(seed 6) 0.65 flags 37 accounts, 36 of them planted attackers (tests/service/test_demo.py)."""
CLUSTER_SIZE_MIN = 3
CLUSTERS_MAX = 6
CLUSTER_NODES_MAX = 40
FLAGGED_MAX = 200
CACHE_DATABASES_MAX = 8
"""Reports kept in-process: one per database (tests open many; a server opens one)."""

SIGNAL_TEXT = {
    "linked": "{pct} of its ratings are with accounts that share its device or payment "
    "fingerprint (self-dealing)",
    "benefit": "{pct} of the praise it received came from suspicious ratings",
    "ring": "it rates, and is rated by, the same closed group of accounts (a ring)",
    "block": "it belongs to an unusually dense block of ratings (FRAUDAR)",
    "hired": "its ratings are extreme and spread over many young, unrelated sellers "
    "(reviewer for hire)",
    "burst": "{pct} of its ratings fell in a sudden burst on one seller",
}


@dataclass(frozen=True, slots=True)
class Factor:
    """One line of a breakdown: what it is, its signed effect on the score, and why."""

    code: str
    effect: float
    detail: str


@dataclass(frozen=True, slots=True)
class AccountRisk:
    account_id: str
    handle: str
    roles: tuple[str, ...]
    suspended: bool
    fraud_score: float
    reasons: tuple[str, ...]
    linked_handles: tuple[str, ...]
    ratings_given: int
    ratings_received: int


@dataclass(frozen=True, slots=True)
class ClusterEdge:
    rater: int
    ratee: int
    stars: int
    linked: bool


@dataclass(frozen=True, slots=True)
class Cluster:
    """A connected group of suspicious ratings: nodes are accounts, edges are ratings."""

    nodes: tuple[AccountRisk, ...]
    edges: tuple[ClusterEdge, ...]


@dataclass(frozen=True)
class TrustReport:
    """One run of the engine over the market."""

    computed_at: datetime
    method: str
    reviews: int
    links: int
    accounts: dict[str, AccountRisk]
    flagged: tuple[AccountRisk, ...]
    clusters: tuple[Cluster, ...]
    reputation: dict[str, tuple[float, float, float]]
    breakdown: dict[str, tuple[Factor, ...]]
    histogram: dict[str, tuple[int, int, int, int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SellerTrust:
    """A seller's trust card."""

    seller_id: str
    handle: str
    score: float | None
    low: float | None
    high: float | None
    histogram: tuple[int, int, int, int, int]
    verified_reviews: int
    orders_finished: int
    dispute_rate: float | None
    refund_rate: float | None
    fraud_score: float | None
    flagged_reasons: tuple[str, ...]


@dataclass(frozen=True)
class EngineInputs:
    """What one run of the engine reads: the graph's reviews, links and known labels."""

    edges: list[ReviewEdge]
    fingerprints: dict[str, str]
    principals: dict[str, Principal]
    labels: dict[str, int]
    """Account id → 1 known bad (suspended, or found against), 0 known good (cleared)."""

    @property
    def key(self) -> str:
        """A digest that changes whenever any input does (a new reveal, a hide, a label...)."""
        digest = hashlib.sha256()
        for e in self.edges:
            digest.update(f"{e.review_id}\x00".encode())
        for account, value in sorted(self.fingerprints.items()):
            digest.update(f"f{account}={value}\x00".encode())
        for account, label in sorted(self.labels.items()):
            digest.update(f"l{account}={label}\x00".encode())
        return digest.hexdigest()


_cache: dict[str, tuple[str, TrustReport]] = {}
_cache_lock = threading.Lock()


def fingerprint_hash(*, salt: str, kind: str, value: str) -> str:
    """The stored form of a fingerprint: ``kind:`` + salted SHA-256, never the raw value."""
    digest = hashlib.sha256(f"{salt}\x00{kind}\x00{value}".encode()).hexdigest()
    return f"{kind}:{digest}"


def engine_inputs(uow: UnitOfWork) -> EngineInputs:
    """Read the engine's inputs in one transaction."""
    with uow:
        repo = uow.repo(TrustRepository)
        edges = [e for e in repo.review_edges()
                 if e.revealed and not e.hidden and e.role is ReviewerRole.BUYER]
        fingerprints = repo.fingerprints()
        ids = {e.author_id for e in edges} | {e.subject_id for e in edges} | set(fingerprints)
        principals = repo.principals(sorted(ids))
        decided = uow.repo(FraudRepository).decision_labels()
    labels = {a: label for a, label in decided.items() if a in ids}
    labels.update({a: 1 for a, p in principals.items() if p.status is AccountStatus.suspended})
    return EngineInputs(edges, fingerprints, principals, labels)


def trust_report(uow: UnitOfWork, *, now: datetime, refresh: bool = False) -> TrustReport:
    """The engine's view of the market (cached until an input changes; ``refresh`` re-runs)."""
    inputs = engine_inputs(uow)
    key = inputs.key
    cache_name = str(uow.engine.url)
    with _cache_lock:
        cached = _cache.get(cache_name)
    if cached is not None and cached[0] == key and not refresh:
        return cached[1]
    edges = inputs.edges
    try:
        report = _score(edges, inputs.fingerprints, inputs.principals, inputs.labels, now=now)
    except ConvergenceError as error:
        # A named, expected failure of the engine: pages show no scores rather than fail.
        report = TrustReport(now, f"unavailable: {error.code}", len(edges), 0, {}, (), (), {}, {})
    with _cache_lock:
        if cache_name not in _cache and len(_cache) >= CACHE_DATABASES_MAX:
            _cache.pop(next(iter(_cache)))
        _cache[cache_name] = (key, report)
    return report


def _links(graph: RatingGraph, fingerprints: dict[str, str]) -> np.ndarray:
    groups: dict[str, list[int]] = defaultdict(list)
    index = graph.index_of(sorted(fingerprints))
    for account, i in zip(sorted(fingerprints), index, strict=True):
        if i >= 0:
            groups[fingerprints[account]].append(int(i))
    pairs = [(a, b) for members in groups.values() for a in members for b in members if a < b]
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _score(
    edges: list[ReviewEdge],
    fingerprints: dict[str, str],
    principals: dict[str, Principal],
    known: dict[str, int],
    *,
    now: datetime,
) -> TrustReport:
    if not edges:
        return TrustReport(now, "default", 0, 0, {}, (), (), {}, {})
    graph = RatingGraph.from_ids(
        [e.author_id for e in edges],
        [e.subject_id for e in edges],
        [(e.overall - 3) / 2 for e in edges],
        timestamp=[e.submitted_at.timestamp() for e in edges],
        value=[e.order_value for e in edges],
        accounts_extra=sorted(fingerprints),
    )
    ids = [str(a) for a in graph.accounts]
    labels = [known.get(a, -1) for a in ids]
    links = _links(graph, fingerprints)
    result = score_graph(graph, labels=labels, links=links, now=now.timestamp())
    linked_edge = _linked_edges(graph, links)
    risks = _risks(result, principals, fingerprints, linked_edge)
    flagged = sorted((r for r in risks.values() if r.fraud_score >= FLAG_THRESHOLD),
                     key=lambda r: (-r.fraud_score, r.handle))[:FLAGGED_MAX]
    histogram: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for e in edges:
        if e.role is ReviewerRole.BUYER:
            histogram[e.subject_id][e.overall - 1] += 1
    reputation = {}
    breakdown = {}
    for i in result.ratees():
        account = ids[int(i)]
        reputation[account] = (float(result.reputation[i]), float(result.reputation_low[i]),
                               float(result.reputation_high[i]))
        breakdown[account] = tuple(Factor(r.code, float(r.effect), r.detail)
                                   for r in result.reasons(int(i)))
    return TrustReport(
        computed_at=now,
        method=result.method,
        reviews=len(edges),
        links=int(links.shape[0]),
        accounts=risks,
        flagged=tuple(flagged),
        clusters=_clusters(graph, result, risks, edges, linked_edge),
        reputation=reputation,
        breakdown=breakdown,
        histogram={k: (v[0], v[1], v[2], v[3], v[4]) for k, v in histogram.items()},
    )


def _linked_edges(graph: RatingGraph, links: np.ndarray) -> np.ndarray:
    n = graph.n_accounts
    link_key = np.minimum(links[:, 0], links[:, 1]) * n + np.maximum(links[:, 0], links[:, 1])
    # int64 keys: the graph may store int32 indices, and ``low * n`` overflows int32.
    edge_key = (np.minimum(graph.rater, graph.ratee).astype(np.int64) * n
                + np.maximum(graph.rater, graph.ratee))
    return np.isin(edge_key, link_key)


def _reasons(result: ScoreResult, i: int, linked_share: float) -> tuple[str, ...]:
    lines = []
    for name, template in SIGNAL_TEXT.items():
        value = float(result.signals.get(name, np.zeros(i + 1))[i])
        if name == "linked":
            value = linked_share
        if value > 0.05:
            lines.append((value, template.format(pct=f"{value:.0%}")))
    trust = result.signals.get("trust")
    if trust is not None and float(trust[i]) < 0.4:
        lines.append((1 - float(trust[i]),
                      f"low trust ({float(trust[i]):.2f}): trusted accounts rated it badly"))
    lines.sort(key=lambda pair: -pair[0])
    return tuple(text for _, text in lines)


def _risks(
    result: ScoreResult,
    principals: dict[str, Principal],
    fingerprints: dict[str, str],
    linked_edge: np.ndarray,
) -> dict[str, AccountRisk]:
    graph = result.graph
    ids = [str(a) for a in graph.accounts]
    n = graph.n_accounts
    given = np.bincount(graph.rater, minlength=n)
    received = np.bincount(graph.ratee, minlength=n)
    linked_given = np.bincount(graph.rater, weights=linked_edge.astype(np.float64), minlength=n)
    by_print: dict[str, list[str]] = defaultdict(list)
    for account, value in fingerprints.items():
        by_print[value].append(account)
    risks = {}
    for i, account in enumerate(ids):
        principal = principals.get(account)
        handle = principal.handle if principal else account
        share = float(linked_given[i] / given[i]) if given[i] else 0.0
        others = [principals[a].handle for a in by_print.get(fingerprints.get(account, ""), [])
                  if a != account and a in principals]
        risks[account] = AccountRisk(
            account_id=account,
            handle=handle,
            roles=tuple(sorted(r.value for r in principal.roles)) if principal else (),
            suspended=bool(principal and principal.status is AccountStatus.suspended),
            fraud_score=float(result.fraud_score[i]),
            reasons=_reasons(result, i, share),
            linked_handles=tuple(sorted(others)),
            ratings_given=int(given[i]),
            ratings_received=int(received[i]),
        )
    return risks


def _clusters(
    graph: RatingGraph,
    result: ScoreResult,
    risks: dict[str, AccountRisk],
    edges: list[ReviewEdge],
    linked_edge: np.ndarray,
) -> tuple[Cluster, ...]:
    """Connected components of the ratings given by flagged accounts or between linked ones."""
    flagged = result.fraud_score >= FLAG_THRESHOLD
    suspicious = np.flatnonzero(flagged[graph.rater] | linked_edge)
    parent = list(range(graph.n_accounts))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in suspicious:
        a, b = find(int(graph.rater[e])), find(int(graph.ratee[e]))
        if a != b:
            parent[a] = b
    members: dict[int, set[int]] = defaultdict(set)
    for e in suspicious:
        members[find(int(graph.rater[e]))].update((int(graph.rater[e]), int(graph.ratee[e])))
    groups = sorted((m for m in members.values() if len(m) >= CLUSTER_SIZE_MIN),
                    key=lambda m: -len(m))[:CLUSTERS_MAX]
    ids = [str(a) for a in graph.accounts]
    clusters = []
    for group in groups:
        nodes = sorted(group, key=lambda i: -float(result.fraud_score[i]))[:CLUSTER_NODES_MAX]
        position = {node: k for k, node in enumerate(nodes)}
        seen: set[tuple[int, int]] = set()
        cluster_edges = []
        for e in suspicious:
            a, b = int(graph.rater[e]), int(graph.ratee[e])
            if a in position and b in position and (a, b) not in seen:
                seen.add((a, b))
                cluster_edges.append(ClusterEdge(position[a], position[b], edges[e].overall,
                                                 bool(linked_edge[e])))
        clusters.append(Cluster(tuple(risks[ids[i]] for i in nodes), tuple(cluster_edges)))
    return tuple(clusters)


def seller_trust(
    uow: UnitOfWork, *, seller_id: str, now: datetime, report: TrustReport | None = None
) -> SellerTrust:
    """A seller's trust card: engine reputation with interval, plus outcomes (the card's
    breakdown is the served score's, ``service.reputation``).

    ``report`` is the engine's view when the caller has it already (each ``trust_report`` call
    reads the whole rating graph to check its cache)."""
    if report is None:
        report = trust_report(uow, now=now)
    with uow:
        found = uow.repo(TrustRepository).principals([seller_id]).get(seller_id)
        if found is None or not found.has_role(Role.seller):
            raise NotFound("seller_not_found", f"no seller {seller_id}")
        finished, disputed, refunded = uow.repo(OrderRepository).seller_outcomes(seller_id)
    score = report.reputation.get(seller_id)
    risk = report.accounts.get(seller_id)
    histogram = report.histogram.get(seller_id, (0, 0, 0, 0, 0))
    flagged = risk is not None and risk.fraud_score >= FLAG_THRESHOLD
    return SellerTrust(
        seller_id=seller_id,
        handle=found.handle,
        score=None if score is None else score[0],
        low=None if score is None else score[1],
        high=None if score is None else score[2],
        histogram=histogram,
        verified_reviews=sum(histogram),
        orders_finished=finished,
        dispute_rate=disputed / finished if finished else None,
        refund_rate=refunded / finished if finished else None,
        fraud_score=None if risk is None else risk.fraud_score,
        flagged_reasons=risk.reasons if flagged and risk is not None else (),
    )


def handles(uow: UnitOfWork, account_ids: list[str]) -> dict[str, str]:
    """Public handles of accounts, for display (unknown ids map to themselves)."""
    with uow:
        found = uow.repo(TrustRepository).principals(account_ids)
    return {a: found[a].handle if a in found else a for a in account_ids}


def account_by_handle(uow: UnitOfWork, *, handle: str) -> str | None:
    with uow:
        return uow.repo(TrustRepository).by_handle(handle)
