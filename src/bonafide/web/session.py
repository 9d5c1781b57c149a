"""Browser sessions and CSRF protection for the web interface.

Owns: the session cookie (it holds the member's API key: ``HttpOnly``, ``SameSite=Lax``, ``Secure``
when served over HTTPS, never readable by scripts), the CSRF cookie and its check, and reading the
signed-in ``Principal`` through ``service.accounts.authenticate`` (the same check as the API's
Bearer keys). Imports: Starlette/FastAPI, ``bonafide.service``, ``bonafide.bootstrap``.

CSRF: double-submit. Every page sets a random ``bf_csrf`` cookie if missing and every form carries
the same value in a hidden ``csrf_token`` field; a POST whose field does not match its cookie is
refused. A cross-site form can send the cookie (or, with ``SameSite=Lax``, not even that) but
cannot read it to fill in the field.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from starlette.responses import Response

from bonafide.bootstrap import Container
from bonafide.errors import Forbidden, Unauthorized
from bonafide.market.accounts import Principal
from bonafide.service import accounts as accounts_service

SESSION_COOKIE = "bf_session"
CSRF_COOKIE = "bf_csrf"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 8 * 3600


def container_of(request: Request) -> Container:
    container = request.app.state.container
    assert isinstance(container, Container)
    return container


def csrf_token(request: Request) -> str:
    """The request's CSRF token: the cookie's, or a fresh one the response will set."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise Forbidden("csrf_token_invalid",
                        "the form has expired or came from another site; reload and try again")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def finish(request: Request, response: Response) -> Response:
    """Set the CSRF cookie on ``response`` when this request made one."""
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax",
                            secure=_secure(request), path="/")
    return response


def sign_in(request: Request, response: Response, api_key: str) -> None:
    response.set_cookie(SESSION_COOKIE, api_key, max_age=SESSION_SECONDS, httponly=True,
                        samesite="lax", secure=_secure(request), path="/")


def sign_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def authenticate(container: Container, api_key: str) -> Principal:
    return accounts_service.authenticate(
        container.uow(read_only=True), api_key=api_key, settings=container.settings,
        now=container.clock.now(),
    )


def current(request: Request) -> Principal | None:
    """The signed-in member, or None (an invalid or revoked key reads as signed out)."""
    if hasattr(request.state, "web_principal"):
        cached: Principal | None = request.state.web_principal
        return cached
    key = request.cookies.get(SESSION_COOKIE)
    principal = None
    if key:
        try:
            principal = authenticate(container_of(request), key)
        except Unauthorized:
            principal = None
    request.state.web_principal = principal
    return principal


def session_key(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)
