"""Realtime: the tail of the live feed, Server-Sent Events and a WebSocket."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["realtime"])
