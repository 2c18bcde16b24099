"""Parley's settings, read from the environment and an optional `.env`; built once by the caller."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev-secret-change-me"})
DEFAULT_SQLITE_PATH = Path("var/parley.db")


class Settings(BaseSettings):
    """Every knob an operator can turn; see `.env.example` for the documented list."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    parley_env: Literal["development", "test", "production"] = "development"
    parley_sandbox: bool = False
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"
    redis_url: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = "dev-secret-change-me"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    demo_seed: bool = True

    nlu_backend: Literal["embedded", "rasa"] = "embedded"
    rasa_url: str | None = None
    rasa_timeout_seconds: float = 2.0
    nlu_model_dir: Path = Path("var/models/nlu")
    nlu_training_data: Path = Path("nlu/training_data")
    nlu_confidence_threshold: float = Field(0.5, ge=0.0, le=1.0)
    nlu_reload_seconds: float = Field(default=5.0, ge=0.0)

    policy_dir: Path = Path("backend/policies")
    import_dir: Path = Path("var/imports")
    stripe_webhook_secret: str | None = None

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_api_url: str | None = None
    twilio_sms_from: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_messaging_service_sid: str | None = None

    telegram_bot_token: str | None = None
    telegram_api_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_bot_username: str | None = None

    whatsapp_access_token: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.parley_env != "production":
            return self
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
            raise ValueError(
                "SECRET_KEY must be a real secret (32+ chars) when PARLEY_ENV=production"
            )
        if self.parley_sandbox:
            raise ValueError("PARLEY_SANDBOX=true is refused when PARLEY_ENV=production")
        return self

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")
