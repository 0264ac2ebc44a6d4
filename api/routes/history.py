"""History: trades, OHLCV bars and the daily summary, from the marts."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["history"])
