"""Request bodies over MAX_BODY_BYTES (MAX_UPLOAD_BYTES for account files) get 413, unread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from backend.api.app import create_app
from backend.api.body_limit import BodyLimit
from backend.container import Container
from backend.services import apikeys
from backend.settings import Settings
from bot.clock import SettableClock

KIB = 1024


class _Chunks:
    """A streamed (chunked) request body that counts how much of it was pulled."""

    def __init__(self, count: int, size: int) -> None:
        self.count, self.size, self.sent = count, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.sent += 1
            yield b"x" * self.size


@pytest.fixture
def tiny() -> tuple[BodyLimit, list[int]]:
    """A bare app behind the middleware: 1 KiB everywhere, 4 KiB on /upload."""
    app = FastAPI()
    reached: list[int] = []

    @app.post("/echo")
    @app.post("/upload")
    async def echo(request: Request) -> dict[str, int]:
        reached.append(1)
        return {"bytes": len(await request.body())}

    @app.post("/lenient")
    async def lenient(request: Request) -> JSONResponse:
        reached.append(1)
        try:
            await request.body()
        except Exception:  # what a careless handler does: answer as if all were well
            return JSONResponse({"ok": True})
        return JSONResponse({"ok": True})

    return BodyLimit(app, default=KIB, larger={"/upload": 4 * KIB}), reached


async def _post(app: BodyLimit, path: str, content: bytes | _Chunks) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post(path, content=content)


async def test_an_oversize_content_length_is_refused_before_the_app_runs(tiny) -> None:  # type: ignore[no-untyped-def]
    app, reached = tiny
    response = await _post(app, "/echo", b"x" * (KIB + 1))
    assert response.status_code == 413
    assert response.json() == {"detail": "request body too large: the limit is 1024 bytes"}
    assert reached == []


async def test_a_streamed_body_is_stopped_once_over_the_limit(tiny) -> None:  # type: ignore[no-untyped-def]
    app, _ = tiny
    chunks = _Chunks(count=1000, size=512)  # 500 KiB, no Content-Length
    response = await _post(app, "/echo", chunks)
    assert response.status_code == 413
    assert chunks.sent <= 3  # read up to just past 1 KiB, never the rest


async def test_a_handler_that_swallows_the_error_still_answers_413(tiny) -> None:  # type: ignore[no-untyped-def]
    app, _ = tiny
    assert (await _post(app, "/lenient", _Chunks(count=10, size=512))).status_code == 413


async def test_bodies_within_the_limit_and_larger_uploads_pass(tiny) -> None:  # type: ignore[no-untyped-def]
    app, reached = tiny
    assert (await _post(app, "/echo", b"x" * KIB)).json() == {"bytes": KIB}
    assert (await _post(app, "/echo", _Chunks(count=2, size=512))).json() == {"bytes": KIB}
    assert (await _post(app, "/upload", b"x" * (3 * KIB))).json() == {"bytes": 3 * KIB}
    assert (await _post(app, "/upload", _Chunks(count=6, size=512))).json() == {"bytes": 3 * KIB}
    assert (await _post(app, "/upload", b"x" * (4 * KIB + 1))).status_code == 413
    assert len(reached) == 4


@pytest.fixture
async def parley(
    settings: Settings, clock: SettableClock, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """The app with its limits from settings: 64 KiB for bodies, 256 KiB for account files."""
    limited = settings.model_copy(
        update={
            "max_body_bytes": 64 * KIB,
            "max_upload_bytes": 256 * KIB,
            "import_dir": tmp_path / "imports",
        }
    )
    app = create_app(limited, clock=clock, migrate=False)
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        async with container.sessions.begin() as session:
            _, raw = await apikeys.create_key(session, "test", clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, {"Authorization": f"Bearer {raw}"}


def _csv(size: int) -> bytes:
    header = b"external_ref,creditor,portfolio,debtor_name,currency,balance,due_date\n"
    row = b"R1,Acme,Cards,Pat Doe,USD,10.00,2026-01-01\n"
    return header + row * ((size - len(header)) // len(row) + 1)


async def test_the_app_refuses_an_oversize_body_before_auth_and_routes(parley) -> None:  # type: ignore[no-untyped-def]
    client, _ = parley
    # Without a key the route would answer 401: the 413 comes first, nothing was read.
    declared = await client.post(
        "/api/accounts",
        content=b"{" + b" " * (64 * KIB) + b"}",
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413
    streamed = await client.post(
        "/api/accounts",
        content=_Chunks(count=200, size=KIB),
        headers={"content-type": "application/json"},
    )
    assert streamed.status_code == 413
    assert (await client.post("/api/accounts", json={})).status_code == 401


async def test_account_files_have_the_upload_limit(parley) -> None:  # type: ignore[no-untyped-def]
    client, auth = parley
    big = _csv(200 * KIB)  # over MAX_BODY_BYTES, under MAX_UPLOAD_BYTES
    queued = await client.post(
        "/api/accounts/imports", headers=auth, files={"file": ("accounts.csv", big, "text/csv")}
    )
    assert queued.status_code == 202, queued.text
    direct = await client.post(
        "/api/accounts/import", headers=auth, files={"file": ("accounts.csv", big, "text/csv")}
    )
    assert direct.status_code != 413, direct.text
    too_big = await client.post(
        "/api/accounts/imports",
        headers=auth,
        files={"file": ("accounts.csv", _csv(300 * KIB), "text/csv")},
    )
    assert too_big.status_code == 413
