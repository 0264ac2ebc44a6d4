"""Python client for the GCX market data API (README.md): `Client` (blocking) and `AsyncClient`
(asyncio), with the same calls; history as pandas, Arrow or Polars."""

from gcx_client._async import AsyncClient
from gcx_client._common import ApiError, Output, Tail, Timestamp
from gcx_client._sync import Client

__all__ = ["ApiError", "AsyncClient", "Client", "Output", "Tail", "Timestamp"]
