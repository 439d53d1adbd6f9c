"""A register record's row: the inline path taken by usual records gives exactly what the checked path gives,
and every unusual value falls through to the checked path and its message."""

from __future__ import annotations

import math

import pytest

from glame_pipelines.clients.onec import EMPTY_REF
from glame_pipelines.defs.onec.assets import bonus_points_row, card_sales_row, sales_row

HEAD = {
    "Recorder": "0a1b2c3d-0000-4000-8000-000000000001",
    "Recorder_Type": "StandardODATA.Document_ОтчетОРозничныхПродажах",
    "LineNumber": 3,
    "Period": "2025-03-14T23:55:00",
    "Active": True,
}
RECORDS = {
    "sales": (
        sales_row,
        {
            **HEAD,
            "Склад_Key": "b5b075c2-a355-5256-83ea-c38497c7bca8",
            "Номенклатура_Key": "00000002-0000-4000-8000-000000000011",
            "Контрагент_Key": EMPTY_REF,
            "Количество": 2,
            "Сумма": 4590.5,
        },
    ),
    "card_sales": (
        card_sales_row,
        {
            **HEAD,
            "ДисконтнаяКарта_Key": "00000004-0000-4000-8000-000000000001",
            "ВладелецКарты_Key": "00000005-0000-4000-8000-000000000001",
            "Номенклатура_Key": "00000002-0000-4000-8000-000000000011",
            "Количество": 1,
            "Сумма": 1990,
            "Скидка": 210.0,
        },
    ),
    "bonus_points": (
        bonus_points_row,
        {
            **HEAD,
            "RecordType": "Receipt",
            "БонуснаяКарта_Key": "00000006-0000-4000-8000-000000000001",
            "Начислено": 45,
            "КСписанию": 0,
        },
    ),
}
MISSING = object()
ODD_VALUES = [
    MISSING,
    None,
    "",
    " ",
    EMPTY_REF,
    "0001-01-01T00:00:00",
    "0001-01-01",
    "2025-03-14",
    "2025-03-14T00:05:00+03:00",
    "14.03.2025 00:05:00",
    "42",
    " 17.5 ",
    "1e3",
    "NaN",
    "abc",
    0,
    -7,
    10**20,
    1.5,
    -0.0,
    math.nan,
    math.inf,
    True,
    False,
    [],
    {},
    ["a"],
]


def outcome(to_row, record):
    """The row with each value's type, or the error the conversion raised (type and message)."""
    try:
        row = to_row(record)
    except Exception as error:  # every kind is compared, not only the ones the loader quarantines
        return ("error", type(error), str(error))
    return ("row", row, [type(value) for value in row])


def with_value(record: dict, key: str, value) -> dict:
    changed = dict(record)
    if value is MISSING:
        del changed[key]
    else:
        changed[key] = value
    return changed


@pytest.mark.parametrize("register", RECORDS)
def test_a_usual_record_reads_the_same_on_both_paths(register):
    to_row, record = RECORDS[register]
    assert outcome(to_row, record) == outcome(to_row.checked, record)
    assert outcome(to_row, record)[0] == "row"


@pytest.mark.parametrize("register", RECORDS)
def test_every_odd_value_of_every_field_reads_as_the_checked_path_reads_it(register):
    to_row, record = RECORDS[register]
    compared = 0
    for key in record:
        for value in ODD_VALUES:
            changed = with_value(record, key, value)
            assert outcome(to_row, changed) == outcome(to_row.checked, changed), (key, value)
            compared += 1
    assert compared == len(record) * len(ODD_VALUES)


@pytest.mark.parametrize("not_an_object", [None, [], "record", 7])
def test_a_record_that_is_not_an_object_gets_the_checked_message(not_an_object):
    assert outcome(sales_row, not_an_object) == outcome(sales_row.checked, not_an_object)
    assert outcome(sales_row, not_an_object)[0] == "error"


def test_the_checked_path_names_the_missing_resource_and_refuses_text_that_is_no_number():
    _, record = RECORDS["sales"]
    assert outcome(sales_row, with_value(record, "Сумма", MISSING))[2] == "the record has no 'Сумма'"
    assert outcome(sales_row, with_value(record, "Сумма", "abc"))[0] == "error"
    assert outcome(sales_row, with_value(record, "Сумма", " 17.5 "))[1][-1] == "17.5"
