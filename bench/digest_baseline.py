"""Why the digest's baseline is the weekday median and MAD: false alarms on ordinary days and detected
drops, on a year of the sandbox's simulated sales (8-22 receipts per store and day, a busier weekend,
4 % returns: noisy, like a small jewellery store).

    .venv/bin/python bench/digest_baseline.py

For every store-day with 8 weeks of history: is the ordinary day flagged (a false alarm), and is the
same day with 60 % of its revenue removed flagged (a detected drop)? Each is judged twice: against the
plain 8 weeks, and with one of them made a holiday (x3 revenue), as real calendars have.
"""

from __future__ import annotations

from datetime import date, timedelta
from statistics import mean, pstdev

from glame_pipelines.digest.baseline import Metric, Thresholds, judge
from glame_pipelines.sandbox.retail import PHYSICAL_STORES, RetailWorld


def revenue_by_store(world: RetailWorld, first: date, last: date) -> dict[tuple[str, date], float]:
    out: dict[tuple[str, date], float] = {}
    for day in world.days(first, last + timedelta(1)):
        for receipt in day.receipts:
            key = (receipt.store.code, day.day)
            out[key] = out.get(key, 0) + receipt.total_kopecks / 100
    return out


def mean_rule(value: float, history: list[float], t: Thresholds) -> bool:
    centre, spread = mean(history), pstdev(history)
    return abs(value - centre) >= t.z * spread and abs(value - centre) >= t.min_change * centre


def week_rule(value: float, history: list[float], t: Thresholds) -> bool:
    return abs(value - history[0]) >= t.min_change * history[0]


def main() -> None:
    world = RetailWorld(seed=7, customers=500, history_start=date(2024, 1, 1), today=date(2025, 1, 1))
    revenue = revenue_by_store(world, date(2024, 1, 1), date(2024, 12, 31))
    cases = []
    for n, ((store, day), value) in enumerate(sorted(revenue.items())):
        history = [revenue.get((store, day - timedelta(weeks=k))) for k in range(1, 9)]
        if all(h is not None for h in history):
            holiday = list(history)
            holiday[n % 8] *= 3  # a holiday week in the baseline
            cases.append((value, history, holiday))
    print(f"{len(cases)} store-days of {len(PHYSICAL_STORES)} stores; min change 30 %; counts of the {len(cases)}")
    print("| rule | baseline | false alarms | 60 % drops caught |")
    print("| --- | --- | --- | --- |")
    for z in (2.5, 3.0, 3.5):
        t = Thresholds(z=z)
        rules = {
            f"median + MAD, z={z}": lambda v, h, t=t: judge(Metric("m", "m", "onec", v, tuple(h)), t) is not None,
            f"mean + std, z={z}": lambda v, h, t=t: mean_rule(v, h, t),
        }
        for name, rule in rules.items():
            for label, index in (("plain", 1), ("a holiday x3 in it", 2)):
                alarms = sum(rule(case[0], case[index]) for case in cases)
                caught = sum(rule(case[0] * 0.4, case[index]) for case in cases)
                print(f"| {name} | {label} | {alarms} | {caught} |")
    for label, index in (("plain", 1), ("a holiday x3 in it", 2)):
        t = Thresholds()
        alarms = sum(week_rule(case[0], case[index], t) for case in cases)
        caught = sum(week_rule(case[0] * 0.4, case[index], t) for case in cases)
        print(f"| ±30 % against a week ago | {label} | {alarms} | {caught} |")


if __name__ == "__main__":
    main()
