"""The one place that fits a message to a channel: buttons or numbered text, split or shortened."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.base import ChannelLimits
from bot.messages import Choice

ELLIPSIS = "…"


@dataclass(frozen=True)
class Rendered:
    """A message as a channel will carry it."""

    parts: tuple[str, ...]
    buttons: tuple[Choice, ...] = ()

    @property
    def text(self) -> str:
        """The whole text as the recipient reads it (parts go as separate messages)."""
        return "\n\n".join(self.parts)


def render(text: str, choices: tuple[Choice, ...], limits: ChannelLimits) -> Rendered:
    """Keep choices as buttons where the channel can, else number them; then fit the length."""
    if choices and _fits_buttons(choices, limits):
        return Rendered(_split_for_buttons(text, limits), choices)
    room = limits.max_chars * limits.max_parts
    lines = numbered(choices).splitlines()
    # Options the text already lists ("1. Pay the balance…") are not listed twice.
    listed = [line for line in lines if line in text]
    missing = "\n".join(line for line in lines if line not in text)
    if listed and missing and len(text) + 1 + len(missing) <= room:
        # The rest go right after the last one listed: the text may end with the disclosure
        # and opt-out line, which stay last.
        body, menu = _insert_after(text, listed[-1], missing), ""
    elif len(text) + 2 + len(missing) <= room:
        body, menu = text, missing
    else:  # the body gets shortened, and may lose the options it listed: the whole menu
        menu = "\n".join(lines)
        body = shorten(text, max(room - len(menu) - 2, 1))
    if not menu:
        return Rendered(split_text(body, limits.max_chars, limits.max_parts))
    return Rendered(split_text(f"{body}\n\n{menu}", limits.max_chars, limits.max_parts))


def numbered(choices: tuple[Choice, ...]) -> str:
    """Choices as "1. label" lines (a reply of "1" means the first choice)."""
    return "\n".join(f"{i}. {choice.label}" for i, choice in enumerate(choices, start=1))


def _insert_after(text: str, line: str, extra: str) -> str:
    """`text` with `extra` on the lines right after the line holding `line`."""
    end = text.find("\n", text.index(line) + len(line))
    return f"{text}\n{extra}" if end == -1 else f"{text[:end]}\n{extra}{text[end:]}"


def _fits_buttons(choices: tuple[Choice, ...], limits: ChannelLimits) -> bool:
    return len(choices) <= limits.max_buttons and all(
        len(c.label) <= limits.button_label_chars for c in choices
    )


def _split_for_buttons(text: str, limits: ChannelLimits) -> tuple[str, ...]:
    """The text split as usual, its last part (the one the buttons ride on) split again when
    longer than the channel lets a message with buttons be: its tail carries them."""
    parts = split_text(text, limits.max_chars, limits.max_parts)
    room = limits.button_text_chars
    if not room or len(parts[-1]) <= room:
        return parts
    cut = _tail_point(parts[-1], room)
    return (*parts[:-1], parts[-1][:cut].rstrip(), parts[-1][cut:].lstrip())


def split_text(text: str, max_chars: int, max_parts: int) -> tuple[str, ...]:
    """Split at paragraph, line or word boundaries; shorten what does not fit in `max_parts`."""
    text = shorten(text.strip(), max_chars * max_parts)
    parts: list[str] = []
    while len(text) > max_chars:
        cut = _cut_point(text, max_chars)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    if len(parts) > max_parts:
        merged = " ".join(parts[max_parts - 1 :])
        parts = [*parts[: max_parts - 1], shorten(merged, max_chars)]
    return tuple(parts)


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[: limit - len(ELLIPSIS)]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def _cut_point(text: str, max_chars: int) -> int:
    window = text[: max_chars + 1]
    for sep in ("\n\n", "\n", ". ", " "):
        at = window.rfind(sep)
        if at > max_chars // 2:
            return at + len(sep)
    return max_chars


def _tail_point(text: str, max_chars: int) -> int:
    """Where the last at most `max_chars` characters of `text` begin: after a paragraph, line,
    sentence or word boundary in the first half of that window, else exactly there."""
    start = len(text) - max_chars
    window = text[start:]
    for sep in ("\n\n", "\n", ". ", " "):
        at = window.find(sep)
        if 0 <= at < max_chars // 2:
            return start + at + len(sep)
    return start
