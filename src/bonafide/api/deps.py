"""FastAPI dependencies shared by every route module.

Owns: ``ContainerDep``, ``CurrentAccount`` / ``OptionalAccount`` (Bearer API key → ``Principal``),
``require_roles``, ``IdempotencyKey``, ``PageParams`` (limit ≤ 100, opaque cursor) and
``run_idempotent_route`` (the one-liner routes use for money-moving POSTs). Imports: FastAPI, the
service layer and ``bonafide.bootstrap``'s ``Container``; never ``bonafide.store``.

Threads: routes and dependencies that only compute are ``async`` and run on the event loop; the
database work of a request goes to the thread pool once (``run_idempotent_route``, or the
route's own ``run_in_threadpool``), not once per dependency. Authentication answers from a
short-lived in-process cache when it can (``service.accounts``, "Recently seen keys") and goes to
the database on a miss.

Failed authentication is rate-limited per client IP (``RateLimiter`` in ``app.state``): when an
address has used up its failures, even a valid key from it gets 429 until the bucket refills. The
client IP is the socket's peer; headers such as X-Forwarded-For are not trusted.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from bonafide.bootstrap import Container
from bonafide.errors import Forbidden, Rejected, Unauthorized
from bonafide.market.accounts import Principal, Role
from bonafide.service import accounts as accounts_service
from bonafide.service.idempotency import Action, fingerprint, run_idempotent
from bonafide.service.ratelimit import RateLimiter

PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
CURSOR_LENGTH_MAX = 200


async def get_container(request: Request) -> Container:
    container = request.app.state.container
    assert isinstance(container, Container)
    return container


ContainerDep = Annotated[Container, Depends(get_container)]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer bfk_...`")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _authenticate(
    request: Request,
    container: Container,
    credentials: HTTPAuthorizationCredentials | None,
) -> Principal | None:
    if credentials is None:
        return None
    limiter: RateLimiter = request.app.state.auth_failure_limiter
    now = container.clock.now()
    ip = client_ip(request)
    limiter.check(ip, now=now)
    uow = container.uow(read_only=True)
    principal = accounts_service.recently_authenticated(uow, api_key=credentials.credentials)
    if principal is None:
        try:
            principal = await run_in_threadpool(
                accounts_service.authenticate,
                uow,
                api_key=credentials.credentials,
                settings=container.settings,
                now=now,
            )
        except Unauthorized:
            limiter.spend(ip, now=now)
            raise
    request.state.principal_id = principal.id
    return principal


async def current_account(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    principal = await _authenticate(request, container, credentials)
    if principal is None:
        raise Unauthorized(
            "authentication_required", "send an API key: Authorization: Bearer <key>"
        )
    return principal


async def optional_account(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller if they sent a key (a wrong key is still an error), else None."""
    return await _authenticate(request, container, credentials)


CurrentAccount = Annotated[Principal, Depends(current_account)]
OptionalAccount = Annotated[Principal | None, Depends(optional_account)]


def require_roles(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency that lets through callers holding at least one of ``roles``.

    Use as ``principal: Annotated[Principal, Depends(require_roles(Role.seller))]``.
    """
    wanted = frozenset(roles)
    names = " or ".join(sorted(r.value for r in wanted))

    async def dependency(principal: CurrentAccount) -> Principal:
        if not principal.has_any(wanted):
            raise Forbidden("role_required", f"this needs the role {names}")
        return principal

    return dependency


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Required on money-moving requests: a unique string per intended operation. "
        "A retry with the same key and body returns the first response.",
    ),
]


# --- pagination -----------------------------------------------------------------------------------


def encode_cursor(last_id: str) -> str:
    """An opaque cursor for the page after the item ``last_id``."""
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith("v1:") or len(raw) < 4:
        raise Rejected("cursor_invalid", "the cursor is not one this API gave out")
    return raw[3:]


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    after_id: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description="Page size, 1 to 100")] = (
        PAGE_SIZE_DEFAULT
    ),
    cursor: Annotated[
        str | None,
        Query(max_length=CURSOR_LENGTH_MAX, description="`next_cursor` of the previous page"),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, after_id=None if cursor is None else decode_cursor(cursor))


Page = Annotated[PageParams, Depends(page_params)]


# --- idempotent money-moving routes ---------------------------------------------------------------


class SerialisedJSONResponse(JSONResponse):
    """A JSON response whose content is already serialised JSON bytes (sent as they are)."""

    def render(self, content: Any) -> bytes:
        assert isinstance(content, bytes)
        return content


def model_response(model: BaseModel, *, status: int = 200) -> JSONResponse:
    """``model`` as the response, serialised once by pydantic (a route that returns this skips
    FastAPI's second validation of its response model)."""
    return SerialisedJSONResponse(model.__pydantic_serializer__.to_json(model), status_code=status)


async def run_idempotent_route(
    request: Request,
    container: Container,
    *,
    principal: Principal,
    key: str,
    body: Any,
    action: Action,
) -> JSONResponse:
    """Run ``action`` under ``key`` for ``principal`` and answer with its (stored) response.

    ``body`` is the request's JSON-able content (``model.model_dump(mode="json")``); with the
    method and path it forms the fingerprint that a reused key must match. ``action`` gets the
    open unit of work, must not commit, and returns ``(status, json_body)``; it runs in the
    thread pool with the rest of the request's database work. A replay carries the header
    ``Idempotent-Replayed: true``. The response's bytes are the stored ones (serialised once).
    """
    stored = await run_in_threadpool(
        run_idempotent,
        container.uow(),
        account_id=principal.id,
        key=key,
        request_hash=fingerprint(method=request.method, path=request.url.path, body=body),
        now=container.clock.now(),
        action=action,
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    return SerialisedJSONResponse(stored.content, status_code=stored.status, headers=headers)
