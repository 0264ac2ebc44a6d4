"""Platform settings, read from the environment (prefix ``GCX_``) or a local ``.env`` file.

Nothing here touches the disk or the network: paths are computed, never created, so importing
any module of the platform has no side effects.
"""

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GCX_", env_file=".env", extra="ignore")

    home: Path = Path(".gcx")
    """Where the platform keeps its state: embedded database, lake, landing folder, truth, reports."""

    database_url: str | None = None
    """An external PostgreSQL server (any database on it); unset means the embedded server under ``home``."""

    smtp_host: str | None = None
    """SMTP server the compliance reports are e-mailed through; unset means reports are only archived."""

    smtp_port: int = 25
    smtp_starttls: bool = False
    """Upgrade the connection with STARTTLS before logging in (port 587 servers)."""

    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "gcx-reports@localhost"
    smtp_recipients: Annotated[list[str], NoDecode] = []
    """Who receives the reports: comma-separated in GCX_SMTP_RECIPIENTS."""

    api_cors_origins: Annotated[list[str], NoDecode] = []
    """Web origins allowed to call the API from a browser (comma-separated in GCX_API_CORS_ORIGINS);
    none by default: only same-origin pages (the dashboards) and non-browser clients."""

    backup: Path | None = None
    """Where `gcx db backup` keeps base backups and archived WAL (GCX_BACKUP); unset means
    <home>/backup. Put it on another disk in production."""

    api_database_password: SecretStr | None = None
    """Password of the API's database role (gcx_api) on an external server (GCX_API_DATABASE_PASSWORD);
    the embedded server lets it in over its Unix socket without one (docs/governance.md)."""

    trusted_proxies: Annotated[list[str], NoDecode] = []
    """Addresses of the reverse proxies in front of the API (comma-separated in GCX_TRUSTED_PROXIES).
    Only a request from one of them is taken to come from the address its X-Forwarded-For names;
    unset, that header is ignored (any client can write it)."""

    failed_auth_per_minute: int = 30
    """Requests without a valid key (and failed dashboard logins) one client address may make per
    minute before it gets 429 (GCX_FAILED_AUTH_PER_MINUTE): guessing and floods."""

    @field_validator("smtp_recipients", "api_cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [address.strip() for address in value.split(",") if address.strip()]
        return value

    @property
    def pgdata_dir(self) -> Path:
        return self.home.resolve() / "pg"

    @property
    def lake_dir(self) -> Path:
        return self.home.resolve() / "lake"

    @property
    def landing_dir(self) -> Path:
        """Where compliance and platform-event file drops arrive."""
        return self.home.resolve() / "landing"

    @property
    def truth_dir(self) -> Path:
        """Simulator ground truth (labelled episodes, injected bad records); never ingested."""
        return self.home.resolve() / "truth"

    @property
    def backup_dir(self) -> Path:
        return (self.backup or self.home / "backup").resolve()

    @property
    def reports_dir(self) -> Path:
        return self.home.resolve() / "reports"


@lru_cache
def get_settings() -> Settings:
    return Settings()
