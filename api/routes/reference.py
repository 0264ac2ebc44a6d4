"""Reference data: instruments (as of a date) and the trading calendar."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["reference"])
