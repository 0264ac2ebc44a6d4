"""One error shape for every status the API returns, with a machine-readable reason:

    {"error": {"status": 403, "reason": "role_not_allowed", "message": "...", "detail": ...}}

Routes raise `ApiError`; FastAPI's own validation errors and HTTP exceptions are rewritten into the
same shape, and a database outage becomes 503 (retry later), never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

DATABASE_RETRY_AFTER_S = 5


class ErrorDetail(BaseModel):
    status: int
    reason: str
    """Stable, machine-readable: e.g. missing_key, invalid_key, role_not_allowed, tier_not_allowed,
    outside_tier_window, rate_limited, not_found, invalid_request, database_unavailable."""
    message: str
    """What went wrong and what to do about it, for a human."""
    detail: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        detail: Any = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.reason, self.message, self.detail = status, reason, message, detail
        self.headers = headers or {}


def error_response(
    status: int, reason: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(status=status, reason=reason, message=message, detail=detail))
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "The request cannot be served as asked (the body says why).",
        401: "No API key, or the key is unknown or revoked (`Authorization: Bearer <key>`).",
        403: "The key's role or tier does not allow this (the reason says which).",
        404: "No such resource.",
        422: "A parameter is malformed or out of range (detail lists each one).",
        429: "Rate limit exceeded: retry after `Retry-After` seconds.",
        503: "The database is unavailable: retry after `Retry-After` seconds.",
    }
    return {status: {"model": ErrorBody, "description": descriptions[status]} for status in statuses}


AUTHENTICATED_RESPONSES = _responses(401, 403, 422, 429, 503)
"""The error responses of every route that needs a key (add 404 where a resource can be missing)."""
NOT_FOUND_RESPONSE = _responses(404)
BAD_BODY_RESPONSE = _responses(400)
"""Routes with a request body: a body that is not JSON at all is 400."""
PUBLIC_RESPONSES = _responses(503)


_REASON_BY_STATUS = {
    400: "bad_request",
    401: "missing_key",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.reason, error.message, error.detail, error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {"location": ".".join(str(part) for part in problem["loc"]), "message": problem["msg"]}
            for problem in error.errors()
        ]
        summary = "; ".join(f"{p['location']}: {p['message']}" for p in problems)
        return error_response(422, "invalid_request", summary or "invalid request", problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        reason = _REASON_BY_STATUS.get(error.status_code, "error")
        return error_response(error.status_code, reason, str(error.detail), headers=error.headers)

    @app.exception_handler(psycopg.DataError)
    async def value_the_database_refuses(request: Request, error: psycopg.DataError) -> JSONResponse:
        # A last line of defence: parameters are validated first, but a value PostgreSQL cannot
        # take (a NUL byte in text, an out-of-range number) is the caller's error, not the server's.
        return error_response(
            422, "invalid_request", f"a parameter has a value the database refuses: {error}"
        )

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(psycopg_pool.PoolTimeout)
    async def database_unavailable(request: Request, error: Exception) -> JSONResponse:
        log.warning("database unavailable for %s: %s", request.url.path, error)
        return error_response(
            503,
            "database_unavailable",
            "the database is unavailable; retry shortly",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )
