"""Text for people: one line, printable (no terminal control characters), plural-aware."""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with control and format characters escaped, so it cannot redraw a terminal line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def one_line(text: str, limit: int = 300) -> str:
    """`text` printable, whitespace runs collapsed to single spaces, cut to `limit` characters."""
    flat = printable(" ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1 task`, `2 tasks`, `1 AZ`, `2 AZs`."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"
