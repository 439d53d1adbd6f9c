"""Counter-file parsers: the brand's MEGACOUNT_3D text, CSV variants, and the vendors' documented exports."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from contracts import CONTRACTS, sample

from glame_pipelines.clients.counter_files import CounterFileError, file_day, parse

MEGACOUNT = "device_name: MEGACOUNT_3D\nserial: MC-1\ntotal_in: 412\ntotal_out: 398\n"


def test_file_name_gives_the_day_and_a_name_without_one_is_refused():
    assert file_day("CENTRUM/251201.txt") == date(2025, 12, 1)
    with pytest.raises(CounterFileError, match="no YYMMDD date"):
        file_day("CENTRUM/latest.txt")
    with pytest.raises(CounterFileError, match="not a valid"):
        file_day("CENTRUM/251341.txt")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_megacount_totals_in_any_encoding(encoding):
    text = MEGACOUNT + "магазин: Центрум\n"
    parsed = parse("CENTRUM/251201.txt", text.encode(encoding))
    assert parsed.format == "megacount_text" and parsed.device == "MEGACOUNT_3D"
    assert [(r.visit_date, r.entries, r.exits) for r in parsed.rows] == [(date(2025, 12, 1), 412, 398)]
    assert parsed.rejects == []


def test_megacount_intervals_win_and_a_bad_line_is_rejected_with_its_reason():
    text = (
        "device_name: MEGACOUNT_3D\n10:00-11:00 in: 5 out: 4\n11:00-12:00 7;6\n12:00-13:00 in: x out: 3\ntotal_in: 12\n"
    )
    parsed = parse("YALTA/251201.txt", text.encode())
    assert [(r.period_start, r.entries, r.exits) for r in parsed.rows] == [
        (datetime(2025, 12, 1, 10), 5, 4),
        (datetime(2025, 12, 1, 11), 7, 6),
    ]
    assert [(r.line_no, r.raw_text) for r in parsed.rejects] == [(4, "12:00-13:00 in: x out: 3")]


def test_csv_with_russian_headers_and_semicolons():
    text = "дата;посетители;продажи;выручка\n01.12.2025;120;14;45000\n02.12.2025;abc;1;1\n\n"
    parsed = parse("CENTRUM/251201.csv", text.encode("cp1251"))
    assert [(r.visit_date, r.entries, r.exits) for r in parsed.rows] == [(date(2025, 12, 1), 120, None)]
    assert parsed.rows[0].extra == {"продажи": "14", "выручка": "45000"}
    assert parsed.rejects[0].line_no == 3 and "whole number" in parsed.rejects[0].reason


def test_english_csv_with_comma():
    parsed = parse("X/251201.csv", b"date,visitors,sales,revenue\n2025-12-01,88,9,31000\n")
    assert parsed.rows[0].entries == 88


def test_empty_file_has_no_rows():
    parsed = parse("CENTRUM/251201.txt", b"")
    assert parsed.rows == [] and parsed.format == "empty"


def test_unknown_json_is_refused():
    with pytest.raises(CounterFileError, match="unknown counter format"):
        parse("X/251201.json", b'{"hello": 1}')


needs_contracts = pytest.mark.skipif(not CONTRACTS.exists(), reason="shared/contracts is not beside the repo")


@needs_contracts
@pytest.mark.parametrize(
    "name, fmt, rows, first",
    [
        ("axis_p8815_3d_export_minute.csv", "axis_csv", 9, (datetime(2020, 9, 23, 0, 0), 0, 0)),
        ("axis_p8815_3d_export_hour.json", "axis_json", 1, (datetime(2020, 6, 23, 0, 0), 0, 0)),
        ("axis_tvpc_live-sum.json", "axis_live_sum", 1, (datetime(2017, 5, 3, 0, 0), 12, 318)),
        ("vivotek_sc8131_report_push.csv", "vivotek_csv", 2, (datetime(2015, 5, 28, 9, 15), 1, 2)),
        ("vivotek_sc8131_report_push.json", "vivotek_json", 2, (datetime(2015, 5, 28, 9, 15), 1, 2)),
        ("brickstream_3d_metrics_STRUCTURE_ONLY.xml", "brickstream_xml", 2, (datetime(2025, 11, 18, 10, 0), 3, 1)),
    ],
)
def test_vendor_exports(name, fmt, rows, first):
    """VIVOTEK reports UTC (Z): 06:15Z is 09:15 in Moscow."""
    parsed = parse(f"STORE/251201.{name.rsplit('.', 1)[1]}", sample("people_counters", name))
    assert parsed.format == fmt and len(parsed.rows) == rows and parsed.rejects == []
    row = parsed.rows[0]
    assert (row.period_start, row.entries, row.exits) == first
