"""Russian number and date formatting, HTML escaping and splitting for Telegram's HTML parse mode."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from glame_pipelines.clients.telegram import MESSAGE_LIMIT

MINUS = "−"  # U+2212: the sign people read in a change, not a hyphen
WEEKDAYS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")
MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_TAG = re.compile(r"<[^>]*>")
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>')


def _whole(value: float) -> int:
    """Rounded half up, as people round (Python's round() goes to even)."""
    return int(Decimal(repr(float(value))).quantize(Decimal(1), ROUND_HALF_UP))


def escape(text: object) -> str:
    """Text for HTML parse mode: `<`, `>`, `&` (and quotes, for attributes) escaped."""
    return html.escape(str(text), quote=True)


def number(value: float) -> str:
    """1234567 -> '1 234 567' (thousands separated by spaces, rounded to units)."""
    rounded = _whole(value)
    return (MINUS if rounded < 0 else "") + f"{abs(rounded):,}".replace(",", " ")


def rub(value: float) -> str:
    return f"{number(value)} ₽"


def percent(share: float, digits: int = 1) -> str:
    """0.0735 -> '7,4 %' (a share, such as a conversion)."""
    value = Decimal(repr(float(share) * 100)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return f"{value}".replace(".", ",").replace("-", MINUS) + " %"


def change(current: float | None, reference: float | None) -> str:
    """'+12 %', '−5 %', '0 %'; a dash when there is nothing to compare with."""
    if current is None or not reference:
        return "—"
    value = _whole((float(current) - float(reference)) / abs(float(reference)) * 100)
    return "0 %" if value == 0 else f"{'+' if value > 0 else MINUS}{abs(value)} %"


def signed(value: float) -> str:
    """+12, −3, 0: a gain or a loss of followers."""
    return number(value) if value <= 0 else f"+{number(value)}"


def day_title(day: date) -> str:
    """'вторник, 2 декабря 2025'."""
    return f"{WEEKDAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year}"


def short_day(day: date) -> str:
    return f"{day:%d.%m}"


def plain(fragment: str) -> str:
    """The text a reader sees of an HTML fragment (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub("", fragment))


def readable(fragment: str) -> str:
    """Plain text for other channels and the terminal: like `plain`, keeping each link's address."""
    return plain(_LINK.sub(r"\2 (\1)", fragment))


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji such as 🚨 counts two)."""
    return len(text.encode("utf-16-le")) // 2


def shorten(line: str, limit: int) -> str:
    """A line too long for one message, as escaped plain text within `limit`: cut in the text, never
    inside a tag or an entity."""
    text = plain(line)
    if units(escape(text)) <= limit:
        return escape(text)
    keep = limit - 1
    while (excess := units(escape(text[:keep])) - (limit - 1)) > 0:
        keep -= max(1, excess // 6)  # an escaped character takes at most 6 units
    return escape(text[:keep]) + "…"


def split_message(message: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Messages of at most `limit` UTF-16 units of HTML (stricter than Telegram, which counts the parsed
    text), cut only between lines. Every line of a digest is balanced HTML on its own, so no part opens
    a tag it does not close; a single line longer than a message is shortened to plain text."""
    parts: list[str] = []
    current = ""
    for line in message.split("\n"):
        if units(line) > limit:
            line = shorten(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if units(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            parts.append(current.strip("\n"))
        current = line
    if current.strip():
        parts.append(current.strip("\n"))
    return parts
