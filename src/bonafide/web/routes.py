"""The web interface's routes: each one reads a form or a path, calls one use case, renders.

Owns: the URL space of the HTML interface (everything outside ``/v1``): sign-in, listings with
the seller's trust card, purchase with a quote, orders with their escrow timeline, reviews,
conversations, the moderators' dispute queue and the operator's trust & safety view. Imports:
FastAPI, ``bonafide.service`` use cases, the pure domain's types, ``bonafide.web``; never
``bonafide.store`` or SQLAlchemy (import-linter holds this).

Reading needs no JavaScript; htmx only refreshes the price quote as the quantity changes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse
from starlette.responses import Response

from bonafide.errors import NotFound, Rejected, Unauthorized
from bonafide.market.accounts import Principal, Role
from bonafide.market.disputes import DisputeState
from bonafide.market.quotes import quote_listing
from bonafide.market.reviews import REVIEWABLE_STATES, window_closes_at
from bonafide.service import demo as demo_service
from bonafide.service import disputes as disputes_service
from bonafide.service import listings as listings_service
from bonafide.service import orders as orders_service
from bonafide.service import reputation as reputation_service
from bonafide.service import reviews as reviews_service
from bonafide.service import trust as trust_service
from bonafide.service.idempotency import fingerprint, run_idempotent
from bonafide.service.ratelimit import RateLimiter
from bonafide.web import charts, session
from bonafide.web.pages import (
    HERE,
    error_page,
    html_errors,
    need,
    parse_amount,
    parse_int,
    redirect,
    render,
    safe_next,
)
from bonafide.web.support_pages import seller_service, support_router
from bonafide.web.trust_pages import trust_router

router = APIRouter(include_in_schema=False)
router.include_router(support_router)
router.include_router(trust_router)

STATIC_FILES = {
    "htmx.min.js": "text/javascript",
    "style.css": "text/css",
    "LICENSE.htmx.txt": "text/plain",
}
LISTINGS_PAGE = 24
Csrf = Annotated[str | None, Form(alias="csrf_token")]
Text = Annotated[str | None, Form()]


def _container(request: Request) -> Any:
    return session.container_of(request)


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The stylesheet and htmx, from a fixed list (no path from the URL reaches the disk)."""
    media = STATIC_FILES.get(name)
    if media is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(HERE / "static" / name, media_type=media,
                        headers={"Cache-Control": "public, max-age=3600"})


# --- signing in ---------------------------------------------------------------------------------


@router.get("/signin")
@html_errors
def signin_page(request: Request, next: str | None = None) -> Response:
    c = _container(request)
    logins = demo_service.demo_logins(c.uow(read_only=True))
    return render(request, "signin.html", next=safe_next(next), logins=logins, error=None)


@router.post("/signin")
@html_errors
def signin(request: Request, csrf: Csrf = None, api_key: Text = None,
           next: Text = None) -> Response:
    session.check_csrf(request, csrf)
    c = _container(request)
    key = (api_key or "").strip()
    # The API's limit on failed authentication per client address holds here too.
    limiter: RateLimiter = request.app.state.auth_failure_limiter
    address = request.client.host if request.client else "unknown"
    limiter.check(address, now=c.clock.now())
    try:
        session.authenticate(c, key)
    except Unauthorized:
        limiter.spend(address, now=c.clock.now())
        logins = demo_service.demo_logins(c.uow(read_only=True))
        return render(request, "signin.html", status=401, next=safe_next(next), logins=logins,
                      error="That API key is not valid.")
    response = redirect(safe_next(next), notice="Signed in.")
    session.sign_in(request, response, key)
    return response


@router.post("/signin/demo")
@html_errors
def signin_demo(request: Request, csrf: Csrf = None, role: Text = None,
                next: Text = None) -> Response:
    """The demo's one-click sign-in: only a database seeded by ``bonafide demo`` has logins."""
    session.check_csrf(request, csrf)
    logins = demo_service.demo_logins(_container(request).uow(read_only=True))
    if logins is None or role not in logins:
        raise NotFound("demo_login_not_available", "demo logins exist only in the demo market")
    response = redirect(safe_next(next), notice=f"Signed in as the demo {role}.")
    session.sign_in(request, response, logins[role].api_key)
    return response


@router.post("/signout")
@html_errors
def signout(request: Request, csrf: Csrf = None) -> Response:
    session.check_csrf(request, csrf)
    response = redirect("/", notice="Signed out.")
    session.sign_out(response)
    return response


# --- listings and sellers -----------------------------------------------------------------------


@router.get("/")
@html_errors
def home(request: Request, after: str | None = None) -> Response:
    c = _container(request)
    me = session.current(request)
    found = listings_service.list_listings(c.uow(read_only=True), viewer=me, after_id=after,
                                           limit=LISTINGS_PAGE, seller_id=None, active=True)
    report = trust_service.trust_report(c.uow(read_only=True), now=c.clock.now())
    names = trust_service.handles(c.uow(read_only=True), [x.seller_id for x in found])
    more = found[-1].id if len(found) == LISTINGS_PAGE else None
    return render(request, "home.html", listings=found, names=names,
                  reputation=report.reputation, more=more)


@dataclass(frozen=True, slots=True)
class CardLine:
    """A line of the trust card's "what moved the score" table.

    ``kind`` is ``start`` (where the score starts: the engine's reputation), ``part`` (one of the
    engine's own reasons, explaining the start; its effect is how much it moved the engine's
    score), ``step`` (an effect added to the start) or ``total`` (the served score). The start
    and the steps add up to the total.
    """

    label: str
    effect: float
    detail: str
    kind: str


SHOWN_EFFECT_MIN = 0.0005
"""Effects smaller than this read 0.000 on the card (three decimals) and are left out."""


def card_lines(served: reputation_service.SellerReputation) -> list[CardLine]:
    """The served score's breakdown as the card shows it (fraud signals stay with staff)."""
    lines = []
    for factor in served.breakdown:
        if factor.name == "engine_reputation":
            lines.append(CardLine("starting point", factor.effect, factor.explanation, "start"))
            lines.extend(CardLine(r.code.replace("_", " "), r.effect, r.detail, "part")
                         for r in served.reasons
                         if r.applies_to == "reputation" and r.code != "no_engine_score"
                         and abs(r.effect) >= SHOWN_EFFECT_MIN)
        elif abs(factor.effect) >= SHOWN_EFFECT_MIN:
            lines.append(CardLine(factor.name.replace("_", " "), factor.effect,
                                  factor.explanation, "step"))
    lines.append(CardLine("score", served.score, "what the market serves for this seller",
                          "total"))
    return lines


def _trust_card(request: Request, seller_id: str) -> dict[str, Any]:
    c = _container(request)
    now = c.clock.now()
    report = trust_service.trust_report(c.uow(read_only=True), now=now)
    card = trust_service.seller_trust(c.uow(read_only=True), seller_id=seller_id, now=now,
                                      report=report)
    lines: list[CardLine] = []
    if card.score is not None:
        # Show the score the API serves (GET /v1/sellers/{id}/reputation): the engine's
        # reputation with disputes, refunds, imported records and customer service folded in.
        served = reputation_service.seller_reputation(
            c.uow(read_only=True), seller_id=seller_id, now=now, report=report
        )
        card = replace(card, score=served.score, low=served.low, high=served.high)
        lines = card_lines(served)
    service = seller_service(c, seller_id)
    return {
        "card": card,
        "lines": lines,
        "bars": charts.histogram(card.histogram),
        "service": service,
        "cells": charts.heat_cells(service.figures.heat_map) if service else [],
        "weekdays": charts.WEEKDAYS,
    }


REVIEW_PAGES_MAX = 50


def _latest_reviews(request: Request, seller_id: str, *, count: int) -> list[Any]:
    """The seller's ``count`` newest revealed reviews, newest first (pages are oldest first)."""
    c = _container(request)
    kept: list[Any] = []
    after = None
    for _ in range(REVIEW_PAGES_MAX):
        page = reviews_service.seller_reviews(c.uow(read_only=True), seller_id=seller_id,
                                              after=after, limit=200)
        kept = (kept + page)[-count:]
        if len(page) < 200:
            break
        after = page[-1].id
    return list(reversed(kept))


@router.get("/listings/{listing_id}")
@html_errors
def listing_page(request: Request, listing_id: str) -> Response:
    c = _container(request)
    me = session.current(request)
    listing = listings_service.read_listing(c.uow(read_only=True), viewer=me,
                                            listing_id=listing_id)
    reviews = _latest_reviews(request, listing.seller_id, count=5)
    quote = quote_listing(title=listing.title, unit_price=listing.price, quantity=1)
    names = trust_service.handles(c.uow(read_only=True), [r.author_id for r in reviews])
    return render(request, "listing.html", listing=listing, quote=quote, quantity=1,
                  reviews=reviews, names=names,
                  purchase_key=secrets.token_urlsafe(16), **_trust_card(request, listing.seller_id))


@router.get("/listings/{listing_id}/quote")
@html_errors
def listing_quote(request: Request, listing_id: str, quantity: str = "1") -> Response:
    """The price quote fragment the purchase form refreshes with htmx."""
    c = _container(request)
    listing = listings_service.read_listing(c.uow(read_only=True), viewer=session.current(request),
                                            listing_id=listing_id)
    count = parse_int(quantity, field="quantity", low=1, high=100)
    quote = quote_listing(title=listing.title, unit_price=listing.price, quantity=count)
    return render(request, "_quote.html", quote=quote)


@router.post("/listings/{listing_id}/buy")
@html_errors
def buy(request: Request, listing_id: str, csrf: Csrf = None, quantity: Text = None,
        purchase_key: Text = None) -> Response:
    """Place the order under the form's idempotency key: a double submit buys once."""
    session.check_csrf(request, csrf)
    me = need(request, Role.buyer)
    c = _container(request)
    count = parse_int(quantity, field="quantity", low=1, high=100)
    key = f"web-{purchase_key or secrets.token_urlsafe(16)}"

    def place(uow: Any) -> tuple[int, dict[str, Any]]:
        view = orders_service.place_order_in(uow, buyer=me, listing_id=listing_id,
                                             quantity=count, settings=c.settings,
                                             now=c.clock.now())
        return 201, {"order_id": view.order.id}

    stored = run_idempotent(
        c.uow(), account_id=me.id, key=key[:255],
        request_hash=fingerprint(method="POST", path=request.url.path,
                                 body={"quantity": count}),
        now=c.clock.now(), action=place,
    )
    return redirect(f"/orders/{stored.body['order_id']}",
                    notice="Order placed: the money is held in escrow until you confirm.")


@router.get("/sellers/{seller_id}")
@html_errors
def seller_page(request: Request, seller_id: str) -> Response:
    c = _container(request)
    card = _trust_card(request, seller_id)
    reviews = _latest_reviews(request, seller_id, count=30)
    listings = listings_service.list_listings(c.uow(read_only=True),
                                              viewer=session.current(request), after_id=None,
                                              limit=50, seller_id=seller_id, active=True)
    profile = listings_service.get_profile(c.uow(read_only=True), seller_id=seller_id)
    names = trust_service.handles(c.uow(read_only=True), [r.author_id for r in reviews])
    return render(request, "seller.html", reviews=reviews, names=names,
                  listings=listings, profile=profile, **card)


# --- orders -------------------------------------------------------------------------------------


@router.get("/orders")
@html_errors
def orders_page(request: Request) -> Response:
    me = need(request)
    c = _container(request)
    found = orders_service.list_orders(c.uow(read_only=True), viewer=me, state=None, after=None,
                                       limit=100)
    found.sort(key=lambda o: o.placed_at, reverse=True)
    ids = [o.seller_id if o.buyer_id == me.id else o.buyer_id for o in found]
    names = trust_service.handles(c.uow(read_only=True), ids)
    return render(request, "orders.html", orders=found, names=names)


ESCROW_STEPS = {
    "funded": "Funded: held in escrow",
    "shipped": "Shipped",
    "completed": "Released to the seller",
    "auto-released": "Released automatically",
    "cancelled": "Refunded: hold voided",
    "disputed": "Disputed: timeouts stop",
    "resolved": "Resolved: escrow settled",
}


def _timeline(view: orders_service.OrderView, names: dict[str, str]) -> list[dict[str, Any]]:
    """The escrow's steps from the order's history: who moved it, when and why."""
    steps = []
    for entry in view.history:
        steps.append({
            "label": ESCROW_STEPS.get(entry.to_state.value, entry.to_state.value),
            "state": entry.to_state.value,
            "action": entry.action,
            "at": entry.at,
            "actor": names.get(entry.actor, entry.actor),
            "reason": entry.reason,
        })
    return steps


def _order_context(request: Request, me: Principal, order_id: str) -> dict[str, Any]:
    c = _container(request)
    view = orders_service.get_order(c.uow(read_only=True), viewer=me, order_id=order_id)
    order = view.order
    reviews = reviews_service.order_reviews(c.uow(read_only=True), viewer=me, order_id=order_id,
                                            settings=c.settings, now=c.clock.now())
    ids = [order.buyer_id, order.seller_id, *(h.actor for h in view.history),
           *(r.author_id for r in reviews)]
    names = trust_service.handles(c.uow(read_only=True), ids)
    party = order.party_of(me.id)
    mine = any(r.author_id == me.id for r in reviews)
    closes = None
    if order.finished_at is not None:
        closes = window_closes_at(finished_at=order.finished_at,
                                  review_window=c.settings.review_window)
    may_review = (party is not None and not mine and order.state in REVIEWABLE_STATES
                  and closes is not None and c.clock.now() < closes)
    return {
        "view": view, "order": order, "names": names, "party": party and party.value,
        "timeline": _timeline(view, names), "reviews": reviews, "may_review": may_review,
        "review_closes": closes, "now": c.clock.now(),
        "open_dispute": next((d for d in view.disputes if d.state is DisputeState.OPEN), None),
    }


@router.get("/orders/{order_id}")
@html_errors
def order_page(request: Request, order_id: str) -> Response:
    me = need(request)
    return render(request, "order.html", **_order_context(request, me, order_id))


@router.post("/orders/{order_id}/reviews")
@html_errors
def review(request: Request, order_id: str, csrf: Csrf = None, overall: Text = None,
           item_as_described: Text = None, communication: Text = None,
           shipping_speed: Text = None, text: Text = None) -> Response:
    session.check_csrf(request, csrf)
    me = need(request)
    c = _container(request)

    def stars(value: str | None, field: str) -> int:
        return parse_int(value, field=field, low=1, high=5)

    as_buyer = item_as_described is not None
    draft = reviews_service.ReviewDraft(
        overall=stars(overall, "overall"),
        text=text or "",
        item_as_described=stars(item_as_described, "item as described") if as_buyer else None,
        communication=stars(communication, "communication") if as_buyer else None,
        shipping_speed=stars(shipping_speed, "shipping speed") if as_buyer else None,
    )
    saved = reviews_service.submit_review(c.uow(), actor=me, order_id=order_id, draft=draft,
                                          settings=c.settings, now=c.clock.now())
    notice = ("Review published: both sides have reviewed." if saved.revealed_at else
              "Review saved. It stays hidden until the other side reviews or the window closes.")
    return redirect(f"/orders/{order_id}", notice=notice)


@router.post("/orders/{order_id}/{action}")
@html_errors
def order_action(request: Request, order_id: str, action: str, csrf: Csrf = None,
                 tracking: Text = None, reason: Text = None) -> Response:
    session.check_csrf(request, csrf)
    me = need(request)
    c = _container(request)
    now, s = c.clock.now(), c.settings
    if action == "ship":
        orders_service.ship_order(c.uow(), actor=me, order_id=order_id, tracking=tracking or None,
                                  settings=s, now=now)
        notice = "Marked as shipped. The buyer now has the release window to confirm."
    elif action == "confirm":
        orders_service.confirm_order(c.uow(), actor=me, order_id=order_id, settings=s, now=now)
        notice = "Receipt confirmed: the escrow was released to the seller."
    elif action == "cancel":
        orders_service.cancel_order(c.uow(), actor=me, order_id=order_id, reason=reason or None,
                                    now=now)
        notice = "Order cancelled: the hold was voided and the money is back in the wallet."
    elif action == "refund":
        orders_service.refund_order(c.uow(), actor=me, order_id=order_id, amount=None,
                                    reason=reason or None, settings=s, now=now)
        notice = "Refunded in full: the hold was voided and the buyer has the money back."
    elif action == "dispute":
        disputes_service.open_dispute(c.uow(), actor=me, order_id=order_id,
                                      reason=reason or "", now=now)
        notice = "Dispute opened: timeouts stop until a moderator decides."
    else:
        raise NotFound("page_not_found", f"no action {action}")
    return redirect(f"/orders/{order_id}", notice=notice)


@router.post("/reviews/{review_id}/reply")
@html_errors
def reply(request: Request, review_id: str, csrf: Csrf = None, text: Text = None,
          back: Text = None) -> Response:
    """The reviewed seller's one public reply to a revealed review."""
    session.check_csrf(request, csrf)
    me = need(request, Role.seller)
    c = _container(request)
    reviews_service.reply_to_review(c.uow(), actor=me, review_id=review_id, text=text or "",
                                    now=c.clock.now())
    return redirect(safe_next(back), notice="Reply published under the review.")


# --- moderators ---------------------------------------------------------------------------------


@router.get("/disputes")
@html_errors
def dispute_queue(request: Request, state: str = "open") -> Response:
    me = need(request, Role.moderator, Role.operator)
    c = _container(request)
    wanted = DisputeState.CLOSED if state == "closed" else DisputeState.OPEN
    found = disputes_service.list_disputes(c.uow(read_only=True), viewer=me, state=wanted,
                                           after=None, limit=200)
    ids = [d.opened_by for d in found]
    names = trust_service.handles(c.uow(read_only=True), ids)
    if wanted is DisputeState.CLOSED:
        found = list(reversed(found))
    return render(request, "disputes.html", disputes=found, names=names, state=wanted.value)


@router.get("/disputes/{dispute_id}")
@html_errors
def dispute_page(request: Request, dispute_id: str) -> Response:
    me = need(request)
    c = _container(request)
    view = disputes_service.get_dispute(c.uow(read_only=True), viewer=me, dispute_id=dispute_id)
    order = orders_service.get_order(c.uow(read_only=True), viewer=me, order_id=view.order.id)
    ids = [view.order.buyer_id, view.order.seller_id, *(m.author_id for m in view.messages),
           *(h.actor for h in order.history)]
    names = trust_service.handles(c.uow(read_only=True), ids)
    return render(request, "dispute.html", view=view, order=view.order, names=names,
                  timeline=_timeline(order, names),
                  may_resolve=me.has_role(Role.moderator) and view.order.party_of(me.id) is None)


@router.post("/disputes/{dispute_id}/resolve")
@html_errors
def resolve(request: Request, dispute_id: str, csrf: Csrf = None, refund: Text = None) -> Response:
    session.check_csrf(request, csrf)
    me = need(request, Role.moderator)
    c = _container(request)
    view = disputes_service.get_dispute(c.uow(read_only=True), viewer=me, dispute_id=dispute_id)
    amount = parse_amount(refund, currency=view.order.total.currency, field="refund")
    if amount > view.order.total:
        raise Rejected("refund_exceeds_order_total", "the refund cannot exceed the order total")
    disputes_service.resolve_dispute(c.uow(), actor=me, dispute_id=dispute_id, refund=amount,
                                     settings=c.settings, now=c.clock.now())
    return redirect(f"/disputes/{dispute_id}", notice="Resolved: the escrow was settled.")


@router.post("/disputes/{dispute_id}/messages")
@html_errors
def dispute_message(request: Request, dispute_id: str, csrf: Csrf = None,
                    body: Text = None) -> Response:
    session.check_csrf(request, csrf)
    me = need(request)
    c = _container(request)
    disputes_service.add_message(c.uow(), actor=me, dispute_id=dispute_id, body=body or "",
                                 now=c.clock.now())
    return redirect(f"/disputes/{dispute_id}", notice="Message added.")


__all__ = ["error_page", "router"]
