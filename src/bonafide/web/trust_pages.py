"""The operator's trust & safety page: flagged accounts with reasons, suspicious clusters drawn as
graphs, the ledger's verification and the published liabilities root.

Owns: ``/trust``. Imports: FastAPI, ``bonafide.service`` (``trust``, ``ledger``,
``liabilities``), ``bonafide.web``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bonafide.errors import NotFound
from bonafide.market.accounts import Role
from bonafide.service import ledger as ledger_service
from bonafide.service import liabilities as liabilities_service
from bonafide.service import trust as trust_service
from bonafide.web import charts, session
from bonafide.web.pages import html_errors, need, render

trust_router = APIRouter(include_in_schema=False)
GRAPH_SIZE = 420.0
GRAPH_MARGIN = 30.0


@dataclass(frozen=True, slots=True)
class Drawn:
    """A cluster ready to draw: node positions in pixels, edges as line ends."""

    cluster: trust_service.Cluster
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    size: float


def draw(cluster: trust_service.Cluster) -> Drawn:
    pairs = [(e.rater, e.ratee) for e in cluster.edges]
    pos = charts.layout(len(cluster.nodes), pairs, size=GRAPH_SIZE - 2 * GRAPH_MARGIN)
    pos = pos + GRAPH_MARGIN
    nodes = [
        {"x": float(pos[i, 0]), "y": float(pos[i, 1]), "risk": node,
         "r": 6 + 6 * node.fraud_score, "flagged": node.fraud_score >= trust_service.FLAG_THRESHOLD,
         "seller": "seller" in node.roles}
        for i, node in enumerate(cluster.nodes)
    ]
    edges = [
        {"x1": float(pos[e.rater, 0]), "y1": float(pos[e.rater, 1]),
         "x2": float(pos[e.ratee, 0]), "y2": float(pos[e.ratee, 1]), "linked": e.linked,
         "stars": e.stars}
        for e in cluster.edges
    ]
    return Drawn(cluster, nodes, edges, GRAPH_SIZE)


@trust_router.get("/trust")
@html_errors
def trust_page(request: Request) -> Response:
    need(request, Role.operator)
    c = session.container_of(request)
    now = c.clock.now()
    report = trust_service.trust_report(c.uow(read_only=True), now=now)
    verify = ledger_service.verify(c.uow(read_only=True))
    try:
        root = liabilities_service.latest_root(c.uow(read_only=True), settings=c.settings,
                                               now=now)
    except NotFound:
        root = None
    return render(request, "trust.html", report=report, verify=verify, root=root,
                  drawn=[draw(cluster) for cluster in report.clusters],
                  threshold=trust_service.FLAG_THRESHOLD)
