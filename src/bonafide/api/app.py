"""The FastAPI application: ``create_app(container)`` wires routes, limits and error handling.

Owns: the list of route modules (``ROUTER_MODULES``; each exposes ``router``), the request guard
(request ids, the body size limit, UTF-8 bodies) and the per-process rate limiters. Imports:
FastAPI/Starlette, ``bonafide.api.*``, ``bonafide.bootstrap``.

``from_environment`` is the factory ``bonafide serve`` hands to uvicorn: it reads the settings and
connects once, when the server starts.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bonafide import __version__
from bonafide.api import problems
from bonafide.bootstrap import Container, connect
from bonafide.service.ratelimit import RateLimiter

ROUTER_MODULES: tuple[str, ...] = (
    "bonafide.api.routes.health",
    "bonafide.api.routes.accounts",
    "bonafide.api.routes.wallets",
    "bonafide.api.routes.sellers",
    "bonafide.api.routes.listings",
    "bonafide.api.routes.ledger",
    "bonafide.api.routes.orders",
    "bonafide.api.routes.disputes",
    "bonafide.api.routes.reviews",
    "bonafide.api.routes.moderation",
    "bonafide.api.routes.reputation",
    "bonafide.api.routes.liabilities",
    "bonafide.api.routes.attestations",
    "bonafide.api.routes.well_known",
    "bonafide.web.routes",
    "bonafide.api.routes.support",
    "bonafide.api.routes.promotions",
)
"""Route modules in the order their routes are matched; each has a module-level ``router``."""

REQUEST_ID_HEADER = b"x-request-id"


class RequestGuard:
    """Pure ASGI middleware: gives each request an id (``X-Request-Id`` on every response), reads
    the body up to ``body_max_bytes`` (larger → 413) and refuses JSON that is not UTF-8 (400)."""

    def __init__(self, app: ASGIApp, *, body_max_bytes: int) -> None:
        self.app = app
        self.body_max_bytes = body_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        refusal = await self._read_body(scope, receive)
        if isinstance(refusal, tuple):
            status, code, detail = refusal
            response = problems.problem_response(
                Request(scope), status=status, code=code, detail=detail
            )
            await response(scope, receive, send_with_id)
            return
        body = refusal
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send_with_id)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | tuple[int, str, str]:
        headers = dict(scope.get("headers", []))
        too_large = (
            413,
            "request_body_too_large",
            f"request bodies are limited to {self.body_max_bytes} bytes",
        )
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.body_max_bytes):
            return too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.body_max_bytes:
                return too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").lower()
        if body and b"json" in content_type:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                return 400, "request_body_not_utf8", "JSON request bodies must be UTF-8"
        return body


def database_work_limit(tokens: int) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that lets ``tokens`` requests at a time run their database work in threads.

    Each request's database work runs in the thread pool (``api.deps``); anyio lets 40 threads
    run at once by default, more than the database pool's connections, so under load the extra
    threads either queued on the pool or (with its overflow) had connections opened and closed
    for them, each a new PostgreSQL process. Limited to the pool's size, the requests beyond it
    wait on the event loop, holding neither a thread nor a connection.
    """

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = tokens
        yield

    return lifespan


_ROUTE_OPTIONS = tuple(
    name
    for name in inspect.signature(APIRouter.add_api_route).parameters
    if name not in ("self", "path", "endpoint", "route_class_override")
)
"""What ``add_api_route`` takes besides the path and the endpoint; each is also an attribute of the
``APIRoute`` it made (checked per route below)."""


def add_routes(app: FastAPI, routers: Sequence[APIRouter]) -> list[APIRouter]:
    """Declare the routers' routes on ``app``'s own router, in order; the routers so declared.

    Why not ``include_router``: FastAPI keeps an included router as one branch of the app's
    router and matches a request branch by branch, walking each branch's routes, then matches
    the chosen branch again inside; with seventeen branches that was about a tenth of the order
    flow's CPU in a profile. Declared on the app's router, the routes form one list matched
    once. Each route is declared again with the options it was declared with (its router's
    prefix, tags and responses are in them already), so it also gets the app router's own
    ``responses`` (the problems every route may answer, ``problems.install``), as an included
    route does. A router with routers inside, with a route of another kind or with limits on
    form bodies of its own (which ``add_api_route`` does not pass to its routes) is included,
    and ``include_router`` runs its lifespan; the lifespans of the routers returned must be run
    by the app's own (``create_app`` does).
    """
    declared: list[APIRouter] = []
    for router in routers:
        flat = not router.form_limits and all(
            type(route) is APIRoute and all(hasattr(route, name) for name in _ROUTE_OPTIONS)
            for route in router.routes
        )
        if not flat:
            app.include_router(router)
            continue
        for route in router.routes:
            assert isinstance(route, APIRoute)
            app.router.add_api_route(
                route.path,
                route.endpoint,
                **{name: getattr(route, name) for name in _ROUTE_OPTIONS},
            )
        declared.append(router)
    return declared


def create_app(container: Container) -> FastAPI:
    """The HTTP API over ``container``'s database, clock and settings."""
    settings = container.settings
    routers: list[APIRouter] = [
        importlib.import_module(name).router for name in ROUTER_MODULES
    ]
    work_limit = database_work_limit(settings.database_pool_size)
    declared: list[APIRouter] = []  # filled by add_routes below, before the app starts

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Mapping[str, Any]]:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(work_limit(app))
            state: dict[str, Any] = {}  # what the routers' lifespans yield, as FastAPI merges it
            for router in declared:  # e.g. the market key made at start (routes.well_known)
                context: AbstractAsyncContextManager[Any] = router.lifespan_context(app)
                state.update(await stack.enter_async_context(context) or {})
            yield state

    app = FastAPI(
        lifespan=lifespan,
        title="bonafide",
        version=__version__,
        summary="The trust layer for marketplaces of unknown sellers: escrow, verified reviews, "
        "fraud-resistant reputation.",
        description="Errors are RFC 9457 `application/problem+json` with a stable `type`. "
        "Money is `{\"value\": <integer minor units>, \"currency\": \"<ISO 4217>\"}`. "
        "Money-moving POSTs require an `Idempotency-Key` header.",
    )
    app.state.container = container
    minute = timedelta(minutes=1)
    app.state.signup_limiter = RateLimiter(
        name="signup", capacity=settings.signup_limit_per_minute, period=minute
    )
    app.state.auth_failure_limiter = RateLimiter(
        name="authentication_failure",
        capacity=settings.auth_failure_limit_per_minute,
        period=minute,
    )
    problems.install(app)
    declared.extend(add_routes(app, routers))
    app.add_middleware(RequestGuard, body_max_bytes=settings.request_body_max_bytes)
    return app


def from_environment() -> FastAPI:
    """Factory for uvicorn (``bonafide serve``): settings from ``BONAFIDE_*``, connect once."""
    return create_app(connect())
