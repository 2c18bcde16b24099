"""Parley's settings, read from the environment and an optional `.env`; built once by the caller."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

import nlu
from backend.db.engine import normalize_url
from backend.services.payments.page import check_payment_page

WHATSAPP_CLOUD_SETTINGS = (
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
)
TWILIO_CREDENTIALS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
TWILIO_SENDERS = ("TWILIO_SMS_FROM", "TWILIO_WHATSAPP_FROM", "TWILIO_MESSAGING_SERVICE_SID")
TWILIO_EXTRAS = ("TWILIO_WHATSAPP_CONTENT_SIDS",)  # TWILIO_API_URL alone (a fake) is harmless
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev-secret-change-me"})
DEFAULT_SQLITE_PATH = Path("var/parley.db")
SECRET_KEY_FILE = Path("var/secret_key")
MIB = 1024 * 1024
SHIPPED_POLICIES = Path(__file__).resolve().parent / "policies"
SHIPPED_TRAINING_DATA = Path(nlu.__file__).resolve().parent / "training_data"
CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
TWILIO_SIDS = {"twilio_account_sid": "AC", "twilio_messaging_service_sid": "MG"}
TEMPLATE_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DATABASE_DRIVERS = frozenset({"sqlite+aiosqlite", "postgresql+asyncpg"})
REDIS_SCHEMES = frozenset({"redis", "rediss", "unix"})


class Settings(BaseSettings):
    """Every knob an operator can turn; see `.env.example` for the documented list."""

    # Errors never echo what was given (secrets among it); defaults go through the same checks
    # as values from the environment, so production's placeholder SECRET_KEY is refused too.
    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,
        validate_default=True,
    )

    parley_env: Literal["development", "test", "production"] = "development"
    parley_sandbox: bool = False
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"
    redis_url: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""  # unset: generated once into SECRET_KEY_FILE (production refuses it)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    demo_seed: bool = True

    nlu_backend: Literal["embedded", "rasa"] = "embedded"
    rasa_url: str | None = None
    rasa_timeout_seconds: float = Field(default=2.0, gt=0.0)
    nlu_model_dir: Path = Path("var/models/nlu")
    # The shipped training data, wherever Parley is started from (a relative
    # NLU_TRAINING_DATA is read from the working directory).
    nlu_training_data: Path = SHIPPED_TRAINING_DATA
    nlu_confidence_threshold: float = Field(0.5, ge=0.0, le=1.0)
    nlu_reload_seconds: float = Field(default=5.0, ge=0.0)

    # The shipped policies, wherever Parley is started from (a relative POLICY_DIR is read
    # from the working directory).
    policy_dir: Path = SHIPPED_POLICIES
    import_dir: Path = Path("var/imports")
    max_body_bytes: int = Field(default=MIB, ge=1024)
    max_upload_bytes: int = Field(default=200 * MIB, ge=1024)
    stripe_webhook_secret: str | None = None
    # The creditor's own hosted payment page; {reference}, {amount}, {currency} and {account}
    # are filled in. Unset: the test-card page outside production, no online payment in it.
    payment_page_url: str | None = None
    # How people reach the creditor's team, said in HELP replies (CTIA: compliance.md item
    # 49), e.g. "1-800-555-0100, example.com/help". Unset: HELP names no contact.
    support_contact: str | None = None

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_api_url: str | None = None
    twilio_sms_from: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_whatsapp_content_sids: str = ""  # parley_reminder=HX...,other=HX...

    telegram_bot_token: str | None = None
    telegram_api_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_bot_username: str | None = None

    whatsapp_access_token: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_template_languages: str = "en=en_US,es=es"  # Parley locale=template language

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            drivername = make_url(normalize_url(value)).drivername
        except ArgumentError:
            drivername = ""
        if drivername not in DATABASE_DRIVERS:
            raise ValueError(
                "DATABASE_URL must be sqlite:///PATH or "
                "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
            )
        return value

    @field_validator(
        "public_base_url",
        "rasa_url",
        "twilio_api_url",
        "telegram_api_url",
        "whatsapp_api_url",
        "payment_page_url",
        mode="before",
    )
    @classmethod
    def _http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A link sent to debtors, or a provider's base, must be absolute: "notaurl/p/..."
        # would reach every debtor broken.
        if value is None or (info.field_name != "public_base_url" and not str(value).strip()):
            return value
        parts = urlsplit(str(value).strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            name = (info.field_name or "").upper()
            raise ValueError(f"{name} must be an http:// or https:// URL with a host")
        return str(value).strip()

    @field_validator("policy_dir")
    @classmethod
    def _policy_dir(cls, value: Path) -> Path:
        # A mistyped folder would negotiate on the built-in defaults, not the creditor's terms.
        if not value.is_dir():
            raise ValueError(
                f"POLICY_DIR {value} is not a folder (the creditors' policies, default.yml in it)"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if urlsplit(value.strip()).scheme not in REDIS_SCHEMES:
            raise ValueError("REDIS_URL must be redis://HOST:PORT/DB, rediss://... or unix:///PATH")
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        return value.strip().upper()

    @field_validator("secret_key")
    @classmethod
    def _real_secret_in_production(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("parley_env") == "production" and (
            value.strip().lower() in PLACEHOLDER_SECRETS or len(value) < 32
        ):
            raise ValueError(
                "SECRET_KEY must be a real secret (32+ chars) when PARLEY_ENV=production"
            )
        return value

    @field_validator("parley_sandbox")
    @classmethod
    def _no_sandbox_in_production(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("parley_env") == "production":
            raise ValueError("PARLEY_SANDBOX=true is refused when PARLEY_ENV=production")
        return value

    @field_validator("payment_page_url")
    @classmethod
    def _payment_page(cls, value: str | None) -> str | None:
        if not value:
            return None
        check_payment_page(value)
        return value

    @field_validator("support_contact")
    @classmethod
    def _support_contact(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if "\n" in value or "\r" in value:
            raise ValueError("SUPPORT_CONTACT must be one line (a phone number, a web address)")
        return value.strip()

    @field_validator("rasa_url")
    @classmethod
    def _rasa_needs_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("nlu_backend") == "rasa" and not (value or "").strip():
            raise ValueError("NLU_BACKEND=rasa needs RASA_URL")
        return value

    @field_validator("twilio_whatsapp_content_sids")
    @classmethod
    def _content_sids(cls, value: str) -> str:
        _pairs(value, "TWILIO_WHATSAPP_CONTENT_SIDS", "parley_reminder=HX<32 hex>", CONTENT_SID)
        return value

    @field_validator("twilio_account_sid", "twilio_messaging_service_sid")
    @classmethod
    def _twilio_sid(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A mistyped SID starts fine, then every send fails at Twilio.
        if value is None or not value.strip():
            return None
        prefix = TWILIO_SIDS[info.field_name or ""]
        if not re.fullmatch(f"{prefix}[0-9a-fA-F]{{32}}", value.strip()):
            name = (info.field_name or "").upper()
            raise ValueError(
                f"{name} must be {prefix} followed by 32 hex characters, as the "
                "Twilio Console shows it"
            )
        return value.strip()

    @field_validator("twilio_sms_from", "twilio_whatsapp_from")
    @classmethod
    def _e164_sender(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Inbound messages are matched on the sender exactly: "(305) 555-0100" would start,
        # then drop every message to the real number as "not a configured sender".
        if value is None or not value.strip():
            return None
        number = value.strip()
        if info.field_name == "twilio_whatsapp_from":
            number = number.removeprefix("whatsapp:")
        if not E164.fullmatch(number):
            name = (info.field_name or "").upper()
            raise ValueError(
                f"{name} must be an E.164 number: + and 8-15 digits, like +15005550006"
            )
        return value.strip()

    @field_validator("whatsapp_template_languages")
    @classmethod
    def _template_languages(cls, value: str) -> str:
        _pairs(value, "WHATSAPP_TEMPLATE_LANGUAGES", "en=en_US,es=es", TEMPLATE_LANGUAGE)
        return value

    @model_validator(mode="after")
    def _whatsapp_cloud_complete(self) -> Settings:
        # Without the app secret every X-Hub-Signature-256 made with an empty key would pass,
        # and without the verify token anyone could subscribe: the channel is all or nothing.
        given = {name: getattr(self, name.lower()) for name in WHATSAPP_CLOUD_SETTINGS}
        missing = [name for name, value in given.items() if not (value or "").strip()]
        if missing and len(missing) < len(given):
            raise ValueError(
                f"the WhatsApp Cloud API channel needs {', '.join(missing)} as "
                f"well (set all of {', '.join(given)}, or none)"
            )
        return self

    @model_validator(mode="after")
    def _twilio_complete(self) -> Settings:
        # A partial Twilio configuration would start with the channel off and answer every
        # webhook 404: the credentials and a sender go together, or Twilio is not configured.
        # Content SIDs are only ever sent through Twilio, so they count as a part too.
        given = [
            name
            for name in (*TWILIO_CREDENTIALS, *TWILIO_SENDERS, *TWILIO_EXTRAS)
            if self._given(name)
        ]
        needed = [name for name in TWILIO_CREDENTIALS if not self._given(name)]
        if not any(name in given for name in TWILIO_SENDERS):
            needed.append(f"a sender ({' or '.join(TWILIO_SENDERS)})")
        if given and needed:
            raise ValueError(
                f"Twilio needs {', '.join(needed)} as well (given: "
                f"{', '.join(given)}; set the account SID, the auth token and a "
                "sender, or none of them)"
            )
        return self

    def _given(self, name: str) -> bool:
        return bool((getattr(self, name.lower()) or "").strip())

    @model_validator(mode="after")
    def _secret_key(self) -> Settings:
        # Runs last, so a refused setting leaves no secret file behind.
        if not self.secret_key.strip():
            self.secret_key = local_secret(SECRET_KEY_FILE)
        elif self.secret_key.strip().lower() in PLACEHOLDER_SECRETS and not self.loopback_only:
            # The placeholder is public: anyone could sign console cookies and portal links.
            raise ValueError(
                "SECRET_KEY is a published placeholder, refused when HOST or PUBLIC_BASE_URL is "
                "not a loopback address: set a real secret (32+ chars), or unset SECRET_KEY to "
                f"use the one generated into {SECRET_KEY_FILE}"
            )
        return self

    @property
    def loopback_only(self) -> bool:
        """True when both HOST and PUBLIC_BASE_URL name this machine only."""
        return is_loopback(self.host) and is_loopback(urlsplit(self.public_base_url).hostname)

    @property
    def content_sids(self) -> dict[str, str]:
        """Twilio Content SIDs by template name (TWILIO_WHATSAPP_CONTENT_SIDS)."""
        return _pairs(
            self.twilio_whatsapp_content_sids, "TWILIO_WHATSAPP_CONTENT_SIDS", "", CONTENT_SID
        )

    @property
    def template_languages(self) -> dict[str, str]:
        """WhatsApp template language codes by Parley locale (WHATSAPP_TEMPLATE_LANGUAGES)."""
        return _pairs(
            self.whatsapp_template_languages, "WHATSAPP_TEMPLATE_LANGUAGES", "", TEMPLATE_LANGUAGE
        )

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")


def is_loopback(host: str | None) -> bool:
    """True for `localhost` and loopback IP addresses (`127.0.0.1`, `::1`)."""
    name = (host or "").strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def local_secret(path: Path) -> str:
    """This install's secret, kept in `path` (mode 0600): made the first time, then reused."""
    try:
        if not path.exists():
            _write_secret(path)
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(
            f"SECRET_KEY is unset and {path} cannot be used ({exc.strerror}): "
            "set SECRET_KEY, or make the file readable"
        ) from None
    if len(secret) < 32:
        raise ValueError(
            f"SECRET_KEY is unset and {path} holds no generated secret (32+ chars): "
            "set SECRET_KEY, or delete the file to have a new one made"
        )
    return secret


def _write_secret(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
            file.flush()
            os.fsync(file.fileno())
        # A link never replaces: of processes starting at once, the first one's secret wins
        # and no process ever reads a half-written file.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _pairs(value: str, env: str, example: str, valid: re.Pattern[str]) -> dict[str, str]:
    """`name=value,name2=value2` as a dict; a malformed item is refused with `env` named."""
    items = [_pair(item) for item in value.split(",") if item.strip()]
    for name, found in items:
        if not name or not valid.fullmatch(found):
            raise ValueError(
                f"{env} must be comma-separated name=value pairs like {example}; "
                f"the item named {name or '(no name)'} is not valid"
            )
    return dict(items)


def _pair(item: str) -> tuple[str, str]:
    name, _, value = item.partition("=")
    return name.strip(), value.strip()
