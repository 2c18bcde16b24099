"""Validating the next rows of a file while the rows before them are being written."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

from backend.services.imports.rows import AccountRow
from backend.services.imports.writer import AccountWriter, Chunk

Chunks = asyncio.Queue[list[AccountRow] | None]


async def write_while_validating(
    batches: Iterator[list[AccountRow]],
    writer: AccountWriter,
    keep_writing: Callable[[], bool],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Hand each full chunk of valid rows to the writer as soon as it is validated.

    Validation is plain Python on the event loop; giving the loop back after every small
    batch lets the writer send its next statement while the database works on the last one,
    so the two overlap instead of adding up. Once `keep_writing()` is false (an invalid row
    in an all-or-nothing import) the rest is validated but no longer written.
    """
    chunks: Chunks = asyncio.Queue()
    task = asyncio.create_task(_drain(chunks, writer, keep_writing, progress))
    try:
        pending: list[AccountRow] = []
        # The first chunks are small, so the database starts working early; then they double.
        size = max(1, writer.chunk_size // 8)
        for batch in batches:
            pending.extend(batch)
            while len(pending) >= size:
                _hand_over(chunks, pending[:size], keep_writing)
                pending = pending[size:]
                size = min(2 * size, writer.chunk_size)
            await asyncio.sleep(0)
            if task.done():
                break  # the writer failed; awaiting it below raises why
        _hand_over(chunks, pending, keep_writing)
        chunks.put_nowait(None)
        await task
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _hand_over(chunks: Chunks, rows: list[AccountRow], keep_writing: Callable[[], bool]) -> None:
    if rows and keep_writing():
        chunks.put_nowait(rows)


async def _drain(
    chunks: Chunks,
    writer: AccountWriter,
    keep_writing: Callable[[], bool],
    progress: Callable[[int], None] | None,
) -> None:
    """Write chunks in order, building each next one while the one before it is sent."""
    await writer.connect()  # while the first chunk is being validated
    ready: Chunk | None = None
    while (rows := await chunks.get()) is not None:
        if not keep_writing():
            ready = None
            continue
        prepared = await writer.prepare(rows)
        if ready is None:
            ready = writer.build(prepared)
            continue
        building = asyncio.create_task(_build(writer, prepared))
        try:
            await _send(writer, ready, progress)
        finally:
            if not building.done():
                building.cancel()
        ready = await building
    if ready is not None and keep_writing():
        await _send(writer, ready, progress)


async def _build(writer: AccountWriter, prepared: Chunk) -> Chunk:
    return writer.build(prepared)


async def _send(
    writer: AccountWriter, chunk: Chunk, progress: Callable[[int], None] | None
) -> None:
    await writer.send(chunk)
    if progress:
        progress(chunk.size)
