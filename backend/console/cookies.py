"""The console session cookie: signed with SECRET_KEY, carrying the user id and a CSRF token."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from backend.settings import Settings

COOKIE_NAME = "parley_console"
COOKIE_PATH = "/console"
MAX_AGE_SECONDS = 12 * 3600
_SALT = "parley.console.session"


@dataclass(frozen=True)
class CookieSession:
    """What the cookie says: who is logged in (None before login) and their CSRF token."""

    agent_id: int | None
    csrf: str


def new_session(agent_id: int | None = None) -> CookieSession:
    """A session with a fresh CSRF token (a login rotates it, so a planted token dies)."""
    return CookieSession(agent_id, secrets.token_urlsafe(32))


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=_SALT)


def read_session(settings: Settings, raw: str | None) -> CookieSession | None:
    """The session from a cookie value; None when absent, forged or expired."""
    if not raw:
        return None
    try:
        body = _serializer(settings).loads(raw, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("csrf"), str):
        return None
    agent_id = body.get("uid")
    return CookieSession(agent_id if isinstance(agent_id, int) else None, body["csrf"])


def write_session(response: Response, settings: Settings, session: CookieSession) -> None:
    """Set the signed cookie: HttpOnly, SameSite=Lax, Secure unless served over plain http."""
    value = _serializer(settings).dumps({"uid": session.agent_id, "csrf": session.csrf})
    response.set_cookie(
        COOKIE_NAME, value, max_age=MAX_AGE_SECONDS, path=COOKIE_PATH, httponly=True,
        samesite="lax", secure=secure_cookies(settings),
    )


def clear_session(response: Response, settings: Settings) -> None:
    """Remove the cookie (logout)."""
    response.delete_cookie(
        COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="lax",
        secure=secure_cookies(settings),
    )


def secure_cookies(settings: Settings) -> bool:
    """Secure cookies in production and whenever the public URL is https."""
    return settings.parley_env == "production" or settings.public_base_url.startswith("https")


def csrf_matches(session: CookieSession | None, token: str | None) -> bool:
    """Constant-time comparison of the submitted token with the session's."""
    if session is None or not token:
        return False
    return hmac.compare_digest(session.csrf.encode(), token.encode())
