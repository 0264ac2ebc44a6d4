"""What the caller's key allows: tier, role and limits (never the secret)."""

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import PrincipalDep
from api.errors import AUTHENTICATED_RESPONSES

router = APIRouter(prefix="/v1", tags=["access"])


class KeyEntitlements(BaseModel):
    key_id: str
    name: str
    tier: str
    role: str
    delay_seconds: int
    history_days: int | None
    requests_per_minute: int
    max_page_size: int
    bulk_export: bool


@router.get("/me", response_model=KeyEntitlements, responses=AUTHENTICATED_RESPONSES)
def me(principal: PrincipalDep) -> KeyEntitlements:
    """The calling key's tier, role and limits."""
    tier = principal.tier
    return KeyEntitlements(
        key_id=principal.key_id,
        name=principal.name,
        tier=tier.name,
        role=principal.role,
        delay_seconds=int(tier.delay.total_seconds()),
        history_days=tier.history.days if tier.history else None,
        requests_per_minute=tier.requests_per_minute,
        max_page_size=tier.max_page_size,
        bulk_export=tier.bulk_export,
    )
