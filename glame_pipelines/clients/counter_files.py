"""Parsers for the files in-store people counters drop on FTP.

Formats: MEGACOUNT_3D `key: value` text (the brand's counters), CSV with a header (`date,visitors`,
Russian headers, comma or semicolon; AXIS `start,end,in,out`; VIVOTEK report push), JSON (AXIS export
and live-sum, VIVOTEK) and Brickstream XML. Text is decoded as UTF-8 (with or without BOM), else cp1251.
A line that does not parse is returned as a reject with its reason; the good lines still count.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import orjson

MOSCOW = ZoneInfo("Europe/Moscow")
_FILE_DAY_RE = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})(?!\d)")
_KEY_VALUE_RE = re.compile(r"^\s*([A-Za-zА-Яа-я_][\w\s.-]*?)\s*[:=]\s*(.*?)\s*$")
_INTERVAL_RE = re.compile(
    r"^\s*(\d{1,2}:\d{2})(?::\d{2})?\s*(?:-\s*(\d{1,2}:\d{2})(?::\d{2})?)?\s*[:;,]?\s*"
    r"(?:in\s*[:=]?\s*)?(\d+)\s*[;,/\s]\s*(?:out\s*[:=]?\s*)?(\d+)\s*$",
    re.IGNORECASE,
)
_DATE_HEADERS = {"date", "дата", "day", "день"}
_VISITOR_HEADERS = {"visitors", "посетители", "visits", "посещения", "in", "вход", "входы"}
_EXIT_HEADERS = {"out", "exits", "выход", "выходы"}


class CounterFileError(ValueError):
    """The whole file is unusable (no date in its name, unknown format, not text)."""


@dataclass(frozen=True)
class CounterRow:
    visit_date: date
    period_start: datetime | None  # naive Moscow local time
    period_end: datetime | None
    entries: int
    exits: int | None
    line_no: int
    extra: dict = field(default_factory=dict)  # sales, revenue, rule names: kept in the payload


@dataclass(frozen=True)
class Reject:
    line_no: int
    raw_text: str
    reason: str


@dataclass
class ParsedFile:
    format: str
    device: str | None
    rows: list[CounterRow]
    rejects: list[Reject]


def file_day(name: str) -> date:
    """`251201.txt` is 2025-12-01. A name without such a date is refused, never dated "today"."""
    stem = name.rsplit("/", 1)[-1]
    match = _FILE_DAY_RE.search(stem)
    if not match:
        raise CounterFileError(f"{name}: the file name has no YYMMDD date")
    yy, mm, dd = map(int, match.groups())
    try:
        return date(2000 + yy, mm, dd)
    except ValueError as error:
        raise CounterFileError(f"{name}: {match.group(0)} is not a valid YYMMDD date ({error})") from None


def decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CounterFileError("the file is neither UTF-8 nor cp1251 text")


def parse(name: str, content: bytes) -> ParsedFile:
    """Parse one counter file; the format is recognised from its content, not its extension."""
    day = file_day(name)
    text = decode(content)
    stripped = text.lstrip()
    if not stripped:
        return ParsedFile("empty", None, [], [])
    if stripped.startswith("{") or stripped.startswith("["):
        return _parse_json(text, day)
    if stripped.startswith("<"):
        return _parse_brickstream(text)
    first = stripped.splitlines()[0]
    if first.lower().startswith("utctime,"):
        return _parse_vivotek_csv(text)
    if ("," in first or ";" in first) and _looks_like_header(first):
        return _parse_csv(text, day)
    return _parse_key_value(text, day)


def _looks_like_header(line: str) -> bool:
    cells = {c.strip().lower() for c in re.split(r"[;,]", line)}
    return bool(cells & (_DATE_HEADERS | {"start"}))


# --- MEGACOUNT_3D key: value ------------------------------------------------------------------------


def _parse_key_value(text: str, day: date) -> ParsedFile:
    values: dict[str, str] = {}
    intervals: list[CounterRow] = []
    rejects: list[Reject] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        interval = _INTERVAL_RE.match(line)
        if interval:
            start, end, entries, exits = interval.groups()
            begin = datetime.combine(day, _clock(start))
            finish = datetime.combine(day, _clock(end)) if end else None
            intervals.append(CounterRow(day, begin, finish, int(entries), int(exits), number))
            continue
        pair = _KEY_VALUE_RE.match(line)
        if pair:
            values[pair.group(1).strip().lower().replace(" ", "_")] = pair.group(2)
            continue
        rejects.append(Reject(number, line, "neither a `key: value` line nor an interval `HH:MM-HH:MM in out`"))
    rows = intervals
    if not rows and ("total_in" in values or "total_out" in values):
        try:
            entries = int(values.get("total_in", ""))
            exits = int(values["total_out"]) if values.get("total_out", "").strip() else None
            rows = [CounterRow(day, None, None, entries, exits, _line_of(text, "total_in"), {"totals": True})]
        except ValueError:
            rejects.append(
                Reject(
                    _line_of(text, "total_in"), f"total_in: {values.get('total_in')}", "total_in is not a whole number"
                )
            )
    elif (
        rows
        and values.get("total_in", "").strip().isdigit()
        and int(values["total_in"]) != sum(r.entries for r in rows)
    ):
        rejects.append(
            Reject(
                _line_of(text, "total_in"),
                f"total_in: {values['total_in']}",
                f"total_in differs from the intervals' sum ({sum(r.entries for r in rows)}); intervals kept",
            )
        )
    return ParsedFile("megacount_text", values.get("device_name"), rows, rejects)


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().lower().startswith(key):
            return number
    return 0


def _clock(value: str) -> time:
    hours, minutes = map(int, value.split(":")[:2])
    if hours == 24 and minutes == 0:
        return time(23, 59, 59)
    return time(hours, minutes)


# --- CSV ----------------------------------------------------------------------------------------------


def _parse_csv(text: str, day: date) -> ParsedFile:
    lines = text.splitlines()
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    if {"start", "in"} <= set(header):
        return _rows_from_dicts(
            "axis_csv",
            None,
            ((n, dict(zip(header, cells, strict=False)), delimiter.join(cells)) for n, cells in enumerate(reader, 2)),
            _axis_row,
        )
    date_col = next((i for i, h in enumerate(header) if h in _DATE_HEADERS), None)
    visitors_col = next((i for i, h in enumerate(header) if h in _VISITOR_HEADERS), None)
    if date_col is None or visitors_col is None:
        raise CounterFileError(
            f"CSV header {header} has no date and visitors columns (date,visitors or дата,посетители)"
        )
    exits_col = next((i for i, h in enumerate(header) if h in _EXIT_HEADERS), None)
    rows, rejects = [], []
    for number, cells in enumerate(reader, 2):
        raw = delimiter.join(cells)
        if not any(c.strip() for c in cells):
            continue
        try:
            visit_date = _parse_date(cells[date_col])
            entries = _whole(cells[visitors_col])
            exits = _whole(cells[exits_col]) if exits_col is not None and cells[exits_col].strip() else None
            extra = {
                h: cells[i]
                for i, h in enumerate(header)
                if i not in (date_col, visitors_col, exits_col) and i < len(cells)
            }
        except (ValueError, IndexError) as error:
            rejects.append(Reject(number, raw, str(error) or type(error).__name__))
            continue
        rows.append(CounterRow(visit_date, None, None, entries, exits, number, extra))
    return ParsedFile("csv", None, rows, rejects)


def _whole(value: str) -> int:
    cleaned = value.strip().replace("\u00a0", "").replace(" ", "")
    if not re.fullmatch(r"\d+(?:[.,]0+)?", cleaned):
        raise ValueError(f"{value!r} is not a whole number of visitors")
    return int(re.split(r"[.,]", cleaned)[0])


def _parse_date(value: str) -> date:
    value = value.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)")


def _axis_row(number: int, item: dict) -> CounterRow:
    start = datetime.strptime(str(item["start"]).strip(), "%Y-%m-%d %H:%M:%S")
    end = datetime.strptime(str(item["end"]).strip(), "%Y-%m-%d %H:%M:%S") if item.get("end") else None
    return CounterRow(start.date(), start, end, _whole(str(item["in"])), _whole(str(item["out"])), number)


def _rows_from_dicts(fmt: str, device: str | None, items, to_row) -> ParsedFile:
    rows, rejects = [], []
    for number, item, raw in items:
        try:
            rows.append(to_row(number, item))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            rejects.append(Reject(number, raw, f"{type(error).__name__}: {error}"))
    return ParsedFile(fmt, device, rows, rejects)


def _utc_to_moscow(value: str) -> datetime:
    moment = datetime.strptime(value.strip(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return moment.astimezone(MOSCOW).replace(tzinfo=None)


def _vivotek_row(number: int, item: dict) -> CounterRow:
    start, end = _utc_to_moscow(item["StartTime"]), _utc_to_moscow(item["EndTime"])
    return CounterRow(
        start.date(),
        start,
        end,
        _whole(str(item["In"])),
        _whole(str(item["Out"])),
        number,
        {"rule": (item.get("RuleName") or "").strip()},
    )


def _parse_vivotek_csv(text: str) -> ParsedFile:
    lines = text.splitlines()
    cells = next(csv.reader([lines[1]])) if len(lines) > 1 else []
    device = cells[3].strip() if len(cells) > 3 else None
    header_at = next((i for i, line in enumerate(lines) if line.lower().startswith("ruletype,")), None)
    if header_at is None:
        raise CounterFileError("VIVOTEK report without its RuleType,RuleName,In,Out,StartTime,EndTime section")
    header = next(csv.reader([lines[header_at]]))
    items = (
        (n + 1, dict(zip(header, next(csv.reader([line])), strict=False)), line)
        for n, line in enumerate(lines[header_at + 1 :], header_at + 1)
        if line.strip()
    )
    return _rows_from_dicts("vivotek_csv", device, items, _vivotek_row)


# --- JSON and XML -------------------------------------------------------------------------------------


def _parse_json(text: str, day: date) -> ParsedFile:
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise CounterFileError(f"malformed JSON: {error}") from None
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        items = ((n, item, orjson.dumps(item).decode()) for n, item in enumerate(body["data"], 1))
        return _rows_from_dicts("axis_json", None, items, _axis_row)
    if isinstance(body, dict) and isinstance(body.get("Data"), list):
        source = body.get("Source")
        model = source.get("ModelName") if isinstance(source, dict) else None
        device = model.strip() or None if isinstance(model, str) else None
        blocks = [
            (n, block.get("CountingInfo") if isinstance(block, dict) else None, block)
            for n, block in enumerate(body["Data"], 1)
        ]
        counts = [c for _, block_counts, _ in blocks if isinstance(block_counts, list) for c in block_counts]
        bad = [
            Reject(len(counts) + k, orjson.dumps(block).decode(), f"Data block {n} has no CountingInfo list")
            for k, (n, _, block) in enumerate((b for b in blocks if not isinstance(b[1], list)), 1)
        ]
        items = ((n, item, orjson.dumps(item).decode()) for n, item in enumerate(counts, 1))
        parsed = _rows_from_dicts("vivotek_json", device, items, _vivotek_row)
        return ParsedFile(parsed.format, device, parsed.rows, bad + parsed.rejects)
    if isinstance(body, dict) and {"in", "out", "timestamp"} <= set(body):
        try:
            moment = datetime.strptime(str(body["timestamp"]), "%Y%m%d%H%M%S")
            row = CounterRow(
                moment.date(),
                datetime.combine(moment.date(), time(0)),
                moment,
                _whole(str(body["in"])),
                _whole(str(body["out"])),
                1,
                {"cumulative": True, "serial": body.get("serial")},
            )
        except ValueError as error:
            return ParsedFile("axis_live_sum", None, [], [Reject(1, text.strip()[:500], str(error))])
        name = body.get("name")
        return ParsedFile("axis_live_sum", name if isinstance(name, str) else None, [row], [])
    raise CounterFileError("JSON of an unknown counter format (expected AXIS data[], VIVOTEK Data[] or live-sum)")


def _parse_brickstream(text: str) -> ParsedFile:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise CounterFileError(f"malformed XML: {error}") from None
    rows, rejects, number = [], [], 0
    for report in root.iter("Report"):
        try:
            report_day = _parse_date(report.get("Date", ""))
        except ValueError as error:
            report_day, undated = None, f"its Report has no valid Date: {error}"
        for count in report.iter("Count"):
            number += 1
            try:
                if report_day is None:
                    raise ValueError(undated)
                start = datetime.combine(report_day, time.fromisoformat(count.get("StartTime", "").strip()))
                end = datetime.combine(report_day, time.fromisoformat(count.get("EndTime", "").strip()))
                rows.append(
                    CounterRow(
                        report_day, start, end, _whole(count.get("Enters", "")), _whole(count.get("Exits", "")), number
                    )
                )
            except ValueError as error:
                rejects.append(Reject(number, ET.tostring(count, encoding="unicode").strip(), str(error)))
    return ParsedFile("brickstream_xml", root.get("Devicename"), rows, rejects)


def days_of(parsed: ParsedFile, fallback: date) -> list[date]:
    return sorted({row.visit_date for row in parsed.rows}) or [fallback]
