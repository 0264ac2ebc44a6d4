"""The dataset catalog and bulk exports."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["datasets"])
