"""Shared machinery of the HTML pages: templates, rendering, errors as pages, form parsing.

Owns: the Jinja2 environment and its filters, ``render``, the ``html_errors`` decorator (expected
failures become an error page or a redirect to sign in, never a JSON problem), money parsing
from form text. Imports: FastAPI/Starlette, Jinja2, ``bonafide.web.session``, the domain's value
types and ``bonafide.service`` read functions used by every page (wallet, demo logins).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ParamSpec
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from bonafide.errors import (
    BonafideError,
    Conflict,
    Forbidden,
    NotFound,
    Rejected,
    TooMany,
    Unauthorized,
)
from bonafide.market.accounts import Principal, Role
from bonafide.money import MINOR_UNITS, Money
from bonafide.service import demo as demo_service
from bonafide.service import wallets as wallets_service
from bonafide.web import session

HERE = Path(__file__).parent
P = ParamSpec("P")

STATUS = ((NotFound, 404), (Unauthorized, 401), (Forbidden, 403), (Conflict, 409),
          (Rejected, 422), (TooMany, 429))


class SignInRequired(Exception):
    """Raised by ``need`` when a page needs a member and nobody is signed in."""


@functools.cache
def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=HERE / "templates")
    env = found.env
    env.filters["money"] = _money
    env.filters["minor"] = lambda value, currency: _money(Money(int(value), currency))
    env.filters["when"] = _when
    env.filters["pct"] = lambda v, digits=0: "—" if v is None else f"{float(v):.{digits}%}"
    env.filters["signed"] = lambda v: f"{float(v):+.3f}"
    env.filters["duration"] = _duration
    env.globals["Role"] = Role
    return found


def _money(value: Money | None) -> str:
    if value is None:
        return "—"
    digits = MINOR_UNITS.get(value.currency, 2)
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}.get(value.currency)
    whole, frac = divmod(abs(value.value), 10**digits)
    sign = "−" if value.value < 0 else ""
    number = f"{whole:,}" + (f".{frac:0{digits}d}" if digits else "")
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {value.currency}"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")


def _duration(seconds: float | int | None) -> str:
    if seconds is None:
        return "—"
    s = float(seconds)
    if s < 3600:
        return f"{max(1, round(s / 60))} min"
    if s < 86_400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86_400:.1f} days"


def render(request: Request, name: str, *, status: int = 200, **context: Any) -> Response:
    """Render ``name`` with the common context (member, CSRF token, wallet, notices)."""
    me = session.current(request)
    container = session.container_of(request)
    common = {
        "me": me,
        "csrf": session.csrf_token(request),
        "notice": request.query_params.get("notice"),
        "wallet": _wallet(request, me) if me is not None else None,
        "market_name": container.settings.market_name,
        "path": request.url.path,
    }
    response = templates().TemplateResponse(request, name, {**common, **context},
                                             status_code=status)
    return session.finish(request, response)


def _wallet(request: Request, me: Principal) -> list[wallets_service.WalletBalance]:
    if not me.has_any((Role.buyer, Role.seller)):
        return []
    container = session.container_of(request)
    return wallets_service.balances(container.uow(read_only=True), viewer=me, account_id=me.id)


def need(request: Request, *roles: Role) -> Principal:
    """The signed-in member, holding one of ``roles`` when any are named."""
    me = session.current(request)
    if me is None:
        raise SignInRequired()
    if roles and not me.has_any(roles):
        names = " or ".join(r.value for r in roles)
        raise Forbidden("role_required", f"this page is for a {names}")
    return me


def error_page(request: Request, error: BonafideError) -> Response:
    status = next((s for cls, s in STATUS if isinstance(error, cls)), 400)
    return render(request, "error.html", status=status, error=error, status_code=status)


def html_errors(handler: Callable[P, Response]) -> Callable[P, Response]:
    """Expected failures become a page with the error's code and message; a missing sign-in
    becomes a redirect to the sign-in page that comes back here afterwards."""

    @functools.wraps(handler)
    def run(*args: P.args, **kwargs: P.kwargs) -> Response:
        request = kwargs["request"]
        assert isinstance(request, Request)
        try:
            return handler(*args, **kwargs)
        except SignInRequired:
            target = request.url.path if request.method == "GET" else "/"
            return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
        except BonafideError as error:
            return error_page(request, error)

    return run


def redirect(url: str, *, notice: str | None = None) -> Response:
    if notice:
        url += ("&" if "?" in url else "?") + "notice=" + quote(notice)
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after signing in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


_AMOUNT = re.compile(r"^\d{1,13}(\.\d{1,4})?$")


def parse_amount(text: str | None, *, currency: str, field: str) -> Money:
    """``"12.5"`` → ``Money(1250, "EUR")``: exact decimal parsing, never floats."""
    cleaned = (text or "").strip().replace(",", ".")
    digits = MINOR_UNITS.get(currency, 2)
    try:
        if not _AMOUNT.match(cleaned):
            raise InvalidOperation
        value = Decimal(cleaned) * (10**digits)
    except InvalidOperation:
        raise Rejected("amount_unreadable", f"{field}: write an amount like 12.50") from None
    if value != value.to_integral_value():
        raise Rejected("amount_too_precise", f"{field}: at most {digits} decimals")
    return Money(int(value), currency)


def parse_int(text: str | None, *, field: str, low: int, high: int) -> int:
    try:
        value = int((text or "").strip())
    except ValueError:
        raise Rejected("number_unreadable", f"{field} must be a whole number") from None
    if not low <= value <= high:
        raise Rejected("number_out_of_range", f"{field} must be between {low} and {high}")
    return value


def is_demo(request: Request) -> bool:
    container = session.container_of(request)
    return demo_service.demo_logins(container.uow(read_only=True)) is not None


def html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status)
