"""One module per domain, each with `router = APIRouter(prefix=..., tags=[...])`; main.py includes them all."""
