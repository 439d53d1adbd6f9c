"""What a normal day looks like, and when a figure is far enough from it to say so.

The baseline of a figure is the same weekday over the previous 8 weeks (retail has a weekly rhythm:
a Saturday is not compared with a Monday). Its centre is the median and its spread the MAD scaled to a
standard deviation (x1.4826): one holiday or one broken day among the eight moves neither, where a mean
and a standard deviation would be dragged by it. A figure is an anomaly when it is at least
`z` spreads away from the median *and* at least `min_change` away relatively, so a store whose sales
are very regular is not flagged for a 5 % wobble; the spread is never taken below 5 % of the median.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from statistics import median

WEEKS = 8
MAD_TO_SIGMA = 1.4826
MIN_SPREAD = 0.05  # of the median: eight almost equal weeks must not make every wobble an anomaly

ENV = {
    "z": "GLAME_ANOMALY_Z",
    "min_change": "GLAME_ANOMALY_MIN_CHANGE",
    "min_weeks": "GLAME_ANOMALY_MIN_WEEKS",
    "severe_revenue_ratio": "GLAME_ANOMALY_SEVERE_REVENUE_RATIO",
}


@dataclass(frozen=True)
class Thresholds:
    z: float = 3.5  # robust z-score from which a figure is unusual
    min_change: float = 0.3  # and at least this far from the median, relatively
    min_weeks: int = 4  # weeks of history needed before judging at all
    severe_revenue_ratio: float = 0.5  # revenue under this share of expected is sent at once

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Thresholds:
        env = os.environ if env is None else env
        types = {f.name: f.type for f in fields(cls)}
        values = {}
        for name, variable in ENV.items():
            if env.get(variable):
                try:
                    values[name] = (int if types[name] in (int, "int") else float)(env[variable])
                except ValueError:
                    raise ValueError(f"{variable}={env[variable]!r} is not a number") from None
        return cls(**values)


@dataclass(frozen=True)
class Baseline:
    expected: float  # median of the same weekday
    spread: float  # scaled MAD, at least MIN_SPREAD of the median
    weeks: int


def baseline(history: list[float]) -> Baseline | None:
    """The weekday baseline of the values found (weeks without data are simply absent)."""
    if not history:
        return None
    history = [float(value) for value in history]
    centre = median(history)
    mad = median(abs(value - centre) for value in history)
    return Baseline(centre, max(mad * MAD_TO_SIGMA, abs(centre) * MIN_SPREAD), len(history))


@dataclass(frozen=True)
class Metric:
    key: str  # stable id, e.g. revenue:<store_key>:offline; one alert per day per key
    label: str  # Russian, for the message
    source: str  # the source group whose data it is
    value: float
    history: tuple[float, ...]  # same weekday, previous weeks, newest first
    money: bool = False
    kind: str = "count"  # revenue, orders, visitors, web_visits, reach


@dataclass(frozen=True)
class Anomaly:
    metric: Metric
    expected: float | None
    severe: bool
    reason: str  # short Russian explanation

    @property
    def change(self) -> float | None:
        if not self.expected:
            return None
        return (self.metric.value - self.expected) / abs(self.expected)


def judge(metric: Metric, thresholds: Thresholds) -> Anomaly | None:
    """The metric's anomaly, if it is one: far from its weekday median by both measures."""
    base = baseline(list(metric.history))
    if base is None or base.weeks < thresholds.min_weeks or base.expected == 0:
        return None
    deviation = float(metric.value) - base.expected
    if abs(deviation) < thresholds.z * base.spread or abs(deviation) < thresholds.min_change * abs(base.expected):
        return None
    severe = metric.kind == "revenue" and metric.value < thresholds.severe_revenue_ratio * base.expected
    ratio = thresholds.severe_revenue_ratio
    share = "половины" if ratio == 0.5 else f"{round(ratio * 100)} %"
    reason = f"меньше {share} обычного" if severe else "ниже обычного" if deviation < 0 else "выше обычного"
    return Anomaly(metric, base.expected, severe, reason)
