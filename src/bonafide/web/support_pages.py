"""Conversation pages (customer service) and the seller's service figures for the trust card.

Owns: ``/threads`` (a member's conversations), a thread with its messages and read receipts,
posting, opening an order's thread; ``seller_service`` for the trust card. Imports: FastAPI,
``bonafide.service.support`` / ``service_figures`` / ``trust``, ``bonafide.web``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from bonafide.bootstrap import Container
from bonafide.errors import NotFound
from bonafide.service import service_figures as figures_service
from bonafide.service import support as support_service
from bonafide.service import trust as trust_service
from bonafide.web import session
from bonafide.web.pages import html_errors, need, redirect, render

support_router = APIRouter(include_in_schema=False)
Csrf = Annotated[str | None, Form(alias="csrf_token")]
Text = Annotated[str | None, Form()]


def seller_service(container: Container, seller_id: str) -> figures_service.SellerService | None:
    """The seller's service figures, or None when they have no conversations to show."""
    try:
        found = figures_service.seller_service(container.uow(read_only=True),
                                               seller_id=seller_id, now=container.clock.now())
    except NotFound:
        return None
    return found if found.figures.threads > 0 else None


@support_router.get("/threads")
@html_errors
def threads_page(request: Request) -> Response:
    me = need(request)
    c = session.container_of(request)
    found = support_service.list_threads(c.uow(read_only=True), viewer=me, after_id=None,
                                         limit=100)
    found = sorted(found, key=lambda t: t.opened_at, reverse=True)
    ids = [t.seller_id if t.buyer_id == me.id else t.buyer_id for t in found]
    names = trust_service.handles(c.uow(read_only=True), ids)
    return render(request, "threads.html", threads=found, names=names)


@support_router.get("/threads/{thread_id}")
@html_errors
def thread_page(request: Request, thread_id: str) -> Response:
    me = need(request)
    c = session.container_of(request)
    view = support_service.mark_read(c.uow(), actor=me, thread_id=thread_id, now=c.clock.now())
    ids = [view.thread.buyer_id, view.thread.seller_id,
           *(m.author_id for m in view.messages if m.author_id)]
    names = trust_service.handles(c.uow(read_only=True), ids)
    receipts: dict[str, Any] = {m.id: [names.get(r, r) for r in view.read_by(m)]
                                for m in view.messages}
    return render(request, "thread.html", view=view, thread=view.thread, names=names,
                  receipts=receipts)


@support_router.post("/threads/{thread_id}/messages")
@html_errors
def post_message(request: Request, thread_id: str, csrf: Csrf = None,
                 body: Text = None) -> Response:
    session.check_csrf(request, csrf)
    me = need(request)
    c = session.container_of(request)
    posted = support_service.post_message(c.uow(), actor=me, thread_id=thread_id,
                                          body=body or "", now=c.clock.now())
    notice = "Message sent."
    if posted.acknowledgement is not None:
        notice += " The seller is out of office; you got an automatic reply with their hours."
    return redirect(f"/threads/{thread_id}", notice=notice)


@support_router.post("/orders/{order_id}/thread")
@html_errors
def open_order_thread(request: Request, order_id: str, csrf: Csrf = None) -> Response:
    session.check_csrf(request, csrf)
    me = need(request)
    c = session.container_of(request)
    view = support_service.open_order_thread(c.uow(), actor=me, order_id=order_id,
                                             subject=f"About order {order_id}",
                                             now=c.clock.now())
    return redirect(f"/threads/{view.thread.id}")
