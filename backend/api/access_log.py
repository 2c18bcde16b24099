"""Request lines without secrets: link tokens and query strings never reach the access log."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
# A portal token or payment link in a path is a working credential, and a payment token
# carries the amount; a query string may carry a verify token (hub.verify_token).
_LINK = re.compile(r"/(p|pay)/[^/?]+")
_TOKEN_LIKE = re.compile(r"/[A-Za-z0-9_.~=-]{32,}")


def redact_path(path: str) -> str:
    """`path` with link tokens, long token-like segments and the query string elided."""
    bare, query = (path.split("?", 1) + [""])[:2]
    bare = _TOKEN_LIKE.sub("/…", _LINK.sub(lambda m: f"/{m.group(1)}/…", bare))
    return bare + ("?…" if query else "")


class RedactSecrets(logging.Filter):
    """Rewrites uvicorn's access record (client, method, path, version, status) in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_path(args[2]), args[3], args[4])
        return True


def install_access_log_filter() -> None:
    """Add the filter to uvicorn's access logger once (after uvicorn configured logging)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
