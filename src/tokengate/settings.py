"""Runtime configuration, read once from ``TOKENGATE_*`` environment variables."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tokengate.errors import ConfigError

PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "change_me", "secret", "password", "placeholder", "xxx", "todo"}
)
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Every setting of tokengate; documented one by one in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="TOKENGATE_", frozen=True, extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./tokengate.db"
    database_pool_size: int = Field(default=10, ge=1, le=500)
    redis_url: str | None = None
    master_key: SecretStr | None = None
    secret_keys: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "console"
    demo: bool = False
    demo_password: SecretStr | None = None
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    upstream_connect_timeout: float = Field(default=5.0, gt=0)
    upstream_read_timeout: float = Field(default=120.0, gt=0)
    upstream_total_timeout: float = Field(default=600.0, gt=0)
    default_locale: Literal["ko", "en"] = "ko"
    config_poll_interval: float = Field(default=0.5, gt=0)
    ledger: Literal["sql", "redis"] = "sql"
    ledger_on_insufficient: Literal["reject", "clamp"] = "reject"
    ledger_min_output_tokens: int = Field(default=16, ge=1)
    ledger_sweep_interval: float = Field(default=5.0, gt=0)
    default_max_tokens: int = Field(default=4096, ge=1)
    public_url: str | None = None
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    access_token_minutes: int = Field(default=15, ge=1, le=1440)
    refresh_token_days: int = Field(default=14, ge=1)
    cookie_secure: bool = True
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=30, ge=1)
    oidc_providers: str = "[]"

    def session_idle(self) -> timedelta:
        """How long a browser session lives without a request."""
        return timedelta(minutes=self.session_idle_minutes)

    def session_absolute(self) -> timedelta:
        """How long a browser session lives at most, however busy."""
        return timedelta(hours=self.session_absolute_hours)

    def reservation_ttl(self) -> timedelta:
        """How long a reservation lives: past the longest a relay may take."""
        return timedelta(seconds=self.upstream_total_timeout + 60)

    def secret_key_list(self) -> list[str]:
        """Return the encryption keys, current one first."""
        if self.secret_keys is None:
            return []
        return [k.strip() for k in self.secret_keys.get_secret_value().split(",") if k.strip()]

    def check_secrets(self) -> None:
        """Refuse to run outside demo mode with a missing or placeholder secret."""
        if self.demo:
            return
        problems = []
        if _is_weak(self.master_key.get_secret_value() if self.master_key else None):
            problems.append(f"TOKENGATE_MASTER_KEY is missing or a placeholder ({_RULE})")
        keys = self.secret_key_list()
        if not keys or any(_is_weak(k) for k in keys):
            problems.append(f"TOKENGATE_SECRET_KEYS is missing or holds a placeholder ({_RULE})")
        if problems:
            raise ConfigError("; ".join(problems))


_RULE = f"needs at least {MIN_SECRET_LENGTH} random characters"


def _is_weak(value: str | None) -> bool:
    if value is None:
        return True
    return value.strip().lower() in PLACEHOLDER_SECRETS or len(value.strip()) < MIN_SECRET_LENGTH
