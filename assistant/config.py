"""One typed `Settings` object, read once from the environment, with errors that name the variable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigError

ModelProvider = Literal["auto", "openai", "openai_compatible", "local"]


def _default_model_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cahier" / "models"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "cahier"


class Settings(BaseSettings):
    """Everything Cahier can be configured with.

    Values come from arguments (tests), then ``CAHIER_*`` environment variables, then the standard
    ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``. Nothing is read from a ``.env`` file unless
    `load_settings` is asked to, so a developer's local file never leaks into tests.
    """

    model_config = SettingsConfigDict(env_prefix="CAHIER_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default_factory=_default_data_dir, description="Where the database, index and files live.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file in the data dir."
    )
    chroma_path: Path | None = Field(default=None, description="Chroma persistent directory; default data_dir/chroma.")
    chroma_host: str | None = Field(default=None, description="Chroma server host; when set, the HTTP client is used.")
    chroma_port: int = Field(default=8000, ge=1, le=65535)
    model_provider: ModelProvider = Field(
        default="auto",
        description="auto: OpenAI with a key, a compatible server with a base URL, else the embedded model.",
    )
    model: str | None = Field(default=None, description="Model name sent to the server.")
    model_cache: Path = Field(
        default_factory=_default_model_cache,
        description="Where the embedded model file is assembled from its packages (derived data, 1.1 GB).",
    )
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("openai_api_key", "CAHIER_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("openai_base_url", "CAHIER_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    structured_output: Literal["json_schema", "function_calling", "json_mode"] = Field(
        default="json_schema",
        description="How structured output is requested from an OpenAI-compatible server that lacks JSON schema.",
    )
    request_timeout_s: float = Field(default=180.0, gt=0, le=3600)
    max_retries: int = Field(default=2, ge=0, le=10)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    extraction_workers: int = Field(
        default=1,
        ge=0,
        le=16,
        description="Extraction workers the app starts; 0 when `cahier worker` processes do the extraction.",
    )
    extraction_lease_s: float = Field(
        default=30.0, ge=1, le=3600, description="How long a worker's claim on an answer lasts unless renewed."
    )
    extraction_attempts: int = Field(
        default=3, ge=1, le=10, description="Model calls per answer before a timeout or server error is final."
    )
    extraction_retry_s: float = Field(
        default=5.0, ge=0, le=600, description="Delay before the first retry; each further retry doubles it."
    )
    extraction_poll_s: float = Field(
        default=0.1, gt=0, le=60, description="How often idle workers look for answers queued by other processes."
    )

    @field_validator("data_dir", "model_cache", "chroma_path", mode="before")
    @classmethod
    def _directory(cls, value: object, info: ValidationInfo) -> object:
        # An empty value means "unset", as for the URLs below; `Path("")` would silently be the working directory.
        if isinstance(value, str) and not value.strip():
            return _DIRECTORY_DEFAULTS[str(info.field_name)]()
        if isinstance(value, str | Path):
            path = Path(value)
            existing = next((p for p in (path, *path.parents) if p.exists()), None)
            if existing is not None and not existing.is_dir():
                raise ValueError(f"`{existing}` is a file, not a directory; point it at a directory Cahier can use")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_engine(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "must start with `sqlite` or `postgresql` (for example `postgresql+psycopg://u:p@host/db`)"
            )
        return value

    @field_validator("openai_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL such as `http://127.0.0.1:8080/v1`")
        return value.rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        """The database to use: the configured URL, or a SQLite file inside the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'cahier.db'}"

    @property
    def resolved_chroma_path(self) -> Path:
        return self.chroma_path or self.data_dir / "chroma"

    @property
    def resolved_provider(self) -> Literal["openai", "openai_compatible", "local"]:
        """Which model backend `auto` stands for with the current values."""
        if self.model_provider != "auto":
            return self.model_provider
        if self.openai_base_url:
            return "openai_compatible"
        if self.openai_api_key is not None:
            return "openai"
        return "local"


_DIRECTORY_DEFAULTS = {"data_dir": _default_data_dir, "model_cache": _default_model_cache, "chroma_path": lambda: None}
"""What an empty directory variable stands for: the same as leaving it unset."""

_ENV_NAMES = {
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
}


def env_name(field: str) -> str:
    """The environment variable a person sets to change `field`."""
    return _ENV_NAMES.get(field, f"CAHIER_{field.upper()}")


def load_settings(env_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Build `Settings`, turning a validation failure into a `ConfigError` naming the variable.

    Args:
        env_file: an optional dotenv file to read as well (the app passes `.env` when it exists).
        **overrides: explicit values, which win over the environment.
    """
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        # An error is reported under the alias that was used when it came from `OPENAI_*`.
        variable = field if field.isupper() else env_name(field)
        raise ConfigError(variable, f"{first['msg']} (got {first.get('input')!r})") from exc
