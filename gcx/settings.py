"""Platform settings, read from the environment (prefix ``GCX_``) or a local ``.env`` file.

Nothing here touches the disk or the network: paths are computed, never created, so importing
any module of the platform has no side effects.
"""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GCX_", env_file=".env", extra="ignore")

    home: Path = Path(".gcx")
    """Where the platform keeps its state: embedded database, lake, landing folder, truth, reports."""

    database_url: str | None = None
    """An external PostgreSQL server (any database on it); unset means the embedded server under ``home``."""

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
    def reports_dir(self) -> Path:
        return self.home.resolve() / "reports"


@lru_cache
def get_settings() -> Settings:
    return Settings()
