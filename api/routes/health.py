"""Liveness and readiness: the only data-free routes that need no key."""

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.errors import PUBLIC_RESPONSES

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str


@router.get("/health", response_model=Health, responses=PUBLIC_RESPONSES)
def health(request: Request) -> Health:
    """200 when the API can reach the warehouse; 503 (with `Retry-After`) while the database is away."""
    with request.app.state.pool.connection() as conn:
        conn.execute("select 1")
    return Health(status="ok", database="ok")
