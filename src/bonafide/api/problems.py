"""RFC 9457 problem details: the only table from errors to HTTP statuses.

Owns: ``STATUS_OF`` (error class → status), the problem+json body, and the exception handlers
for everything that can go wrong on the way in (validation, malformed JSON, body limits, unknown
routes) or deep inside (a bug: 500 with a request id and nothing else).

Every problem has ``type`` = ``https://bonafide.dev/problems/<code>`` (``code`` is the error's
stable snake_case sentence, also given on its own as ``code``), ``title``, ``status``,
``detail`` and ``instance`` (the request path), plus ``request_id``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from bonafide.errors import (
    BonafideError,
    Conflict,
    Forbidden,
    NotFound,
    Rejected,
    TooMany,
    Unauthorized,
)

PROBLEM_BASE = "https://bonafide.dev/problems/"
MEDIA_TYPE = "application/problem+json"

STATUS_OF: dict[type[BonafideError], int] = {
    NotFound: 404,
    Unauthorized: 401,
    Forbidden: 403,
    Conflict: 409,
    Rejected: 422,
    TooMany: 429,
}
"""Error class → HTTP status; subclasses take their nearest listed ancestor's."""

HTTP_CODES: dict[int, str] = {
    400: "request_unreadable",
    401: "authentication_required",
    403: "forbidden",
    404: "route_not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_body_too_large",
    415: "unsupported_media_type",
    422: "request_invalid",
    429: "rate_limited",
    500: "internal_error",
}
"""Codes for errors raised by the framework itself (routing, parsing) rather than by bonafide."""

TITLES: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
}

log = logging.getLogger("bonafide.api")


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem (``application/problem+json``)."""

    type: str = Field(examples=[PROBLEM_BASE + "exceeds_available_balance"])
    title: str
    status: int
    detail: str
    instance: str
    code: str
    request_id: str
    errors: list[ValidationIssue] | None = None


def status_of(error: BonafideError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        "request_id": request_id_of(request),
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _bonafide_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BonafideError)
    status = status_of(exc)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="bonafide"'
    retry_after = getattr(exc, "retry_after_seconds", None)
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    elif exc.transient and status in (409, 429):
        headers["Retry-After"] = "1"
    return problem_response(
        request, status=status, code=exc.code, detail=exc.message, headers=headers
    )


def _issues(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only where, what and which kind: never the input itself, which may be large or secret.
    return [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in err.get("loc", ())],
            "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()[:50]
    ]


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = _issues(exc)
    if any(issue["type"] == "json_invalid" for issue in issues):
        return problem_response(
            request,
            status=400,
            code="request_body_malformed_json",
            detail="the request body is not valid JSON",
        )
    return problem_response(
        request,
        status=422,
        code="request_invalid",
        detail="the request does not match the schema; see errors",
        errors=issues,
    )


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = HTTP_CODES.get(status, "request_failed" if status < 500 else "internal_error")
    detail = exc.detail if isinstance(exc.detail, str) and status < 500 else code.replace("_", " ")
    return problem_response(
        request, status=status, code=code, detail=detail, headers=dict(exc.headers or {})
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # A bug (a failed assert, a database failure): log it whole, answer with nothing but an id.
    log.error("unhandled error on %s %s [request %s]", request.method, request.url.path,
              request_id_of(request), exc_info=exc)
    return problem_response(
        request,
        status=500,
        code="internal_error",
        detail="an internal error occurred; quote the request id when reporting it",
        # This answer comes from the outermost middleware, past the one that adds the header.
        headers={"X-Request-Id": request_id_of(request)},
    )


GENERIC_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429)
"""Problems any route may answer with (unreadable or oversized bodies, authentication, rate
limits, authorization, unknown ids, conflicts, rule violations), documented on every route."""


def install(app: FastAPI) -> None:
    """Register the handlers on ``app`` and document the generic problems on every route.

    Call before including routers: the app's router hands its ``responses`` to each route added.
    """
    app.router.responses = {**problem_responses(*GENERIC_STATUSES), **app.router.responses}
    app.add_exception_handler(BonafideError, _bonafide_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem+json for ``statuses``."""
    return {
        status: {
            "model": Problem,
            "description": TITLES.get(status, "Error"),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
