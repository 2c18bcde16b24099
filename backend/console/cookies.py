"""The console session cookie: signed with SECRET_KEY, carrying user id, session version, CSRF."""

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
    """What the cookie says: who is logged in (None before login), their CSRF token, and the
    user's session version at login (the cookie is dead once the user's version moves on)."""

    agent_id: int | None
    csrf: str
    version: int = 0


def new_session(agent_id: int | None = None, version: int = 0) -> CookieSession:
    """A session with a fresh CSRF token (a login rotates it, so a planted token dies)."""
    return CookieSession(agent_id, secrets.token_urlsafe(32), version)


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
    agent_id, version = body.get("uid"), body.get("ver")
    if not isinstance(agent_id, int) or not isinstance(version, int):
        return CookieSession(None, body["csrf"])
    return CookieSession(agent_id, body["csrf"], version)


def write_session(response: Response, settings: Settings, session: CookieSession) -> None:
    """Set the signed cookie: HttpOnly, SameSite=Lax, Secure unless served over plain http."""
    value = _serializer(settings).dumps(
        {"uid": session.agent_id, "csrf": session.csrf, "ver": session.version}
    )
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
