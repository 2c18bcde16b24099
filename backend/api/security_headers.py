"""The security headers of the pages we serve ourselves: the agent console and the debtor portal."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

# Everything comes from our own origin: no external script, style, font or frame.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# A debtor page's address holds its signed token, which opens the account: no Referer at all.
PORTAL_HEADERS = {**SECURITY_HEADERS, "Referrer-Policy": "no-referrer"}


def secure(response: Response, headers: Mapping[str, str] = PORTAL_HEADERS) -> Response:
    """`response` with `headers` set on it."""
    response.headers.update(headers)
    return response


class PortalRoute(APIRoute):
    """A debtor page's route: every response carries PORTAL_HEADERS, its errors too.

    An HTTPException or a request that fails validation is answered here, as FastAPI's own
    handlers answer it, so the error response gets the headers as well.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except HTTPException as exc:
                response = await http_exception_handler(request, exc)
            except RequestValidationError as exc:
                response = await request_validation_exception_handler(request, exc)
            return secure(response)

        return portal_handler
