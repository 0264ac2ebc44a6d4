"""Who may do what: API keys (keys.py: created, hashed, authenticated, revoked) and what each tier
and role may see (entitlements.py). Below the API, so that the `gcx keys` command, privacy erasure
and the warehouse build share them without importing FastAPI."""
