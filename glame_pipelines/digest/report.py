"""The digest itself: yesterday against the same weekday a week ago and the 4-week average, the gaps
named, the anomalies flagged, and the severe ones as alerts of their own.

Honesty rules: a source that failed, or has no data for the day, is named at the top and its section
says so instead of showing numbers (never zeros, never an older day's numbers). Anomalies are judged
only on complete data: a source that failed or is stale, or a store without its counter file, is
not judged at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from statistics import mean

from glame_pipelines.digest.baseline import Anomaly, Metric, Thresholds, judge
from glame_pipelines.digest.figures import SOURCE_LABELS, Day, Figures, read_figures
from glame_pipelines.digest.text import (
    change,
    day_title,
    escape,
    number,
    percent,
    rub,
    short_day,
    signed,
    split_message,
)

AVERAGE_WEEKS = 4
CHANNELS = {"offline": "магазин", "online": "интернет-магазин", "instagram": "Instagram", "vk": "ВКонтакте"}
PLATFORMS = {"instagram": "Instagram", "vk": "ВКонтакте", "telegram": "Telegram"}
TRAFFIC_SOURCES = {  # Yandex.Metrika's lastTrafficSource names (lang=en), as the brand's people say them
    "Search engine traffic": "поисковые системы",
    "Direct traffic": "прямые заходы",
    "Link traffic": "ссылки на сайтах",
    "Social network traffic": "социальные сети",
    "Ad traffic": "реклама",
    "Internal traffic": "внутренние переходы",
    "Messenger traffic": "мессенджеры",
    "Recommendation system traffic": "рекомендательные системы",
    "Mailing traffic": "рассылки",
    "Cached page traffic": "сохранённые страницы",
}
OK, FAILED, STALE = "ok", "failed", "stale"


@dataclass(frozen=True)
class Alert:
    key: str  # the metric: alerted at most once per day
    html: str  # its line in the alert message


@dataclass
class Digest:
    day: date
    html: str
    gaps: list[str]  # plain Russian, one per missing source or counter file
    anomalies: list[Anomaly]
    alerts: list[Alert] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.gaps

    def parts(self) -> list[str]:
        return split_message(self.html)


def source_states(figures: Figures, failed: Iterable[str] = (), loaded: Iterable[str] = ()) -> dict[str, str]:
    """ok / failed / stale for each source that has had data in the baseline's weeks (or failed); sources
    never seen (not connected) are left out. `loaded`: sources Dagster loaded for the day, so a day
    without rows is a true zero (e.g. no visits to the site) rather than a gap."""
    failed, loaded = set(failed), set(loaded)
    states = {}
    for source, last in figures.last_days.items():
        if source in failed:
            states[source] = FAILED
        elif last == figures.day.day or source in loaded:
            states[source] = OK
        elif last is not None:
            states[source] = STALE
    return states


def build_digest(
    figures: Figures, failed: Iterable[str] = (), loaded: Iterable[str] = (), thresholds: Thresholds | None = None
) -> Digest:
    thresholds = thresholds or Thresholds()
    states = source_states(figures, failed, loaded)
    gaps = _gaps(figures, states)
    anomalies = _anomalies(figures, states, thresholds)
    day = figures.day.day
    lines = [
        f"<b>GLAME · {day_title(day)}</b>",
        "<i>В скобках: к тому же дню неделю назад / к среднему за 4 таких дня</i>",
    ]
    if gaps:
        lines += ["", "⚠️ <b>Данные за день неполные</b>", *(f"• {escape(gap)}" for gap in gaps)]
    for section in (
        _sales(figures, states),
        _stores(figures, states),
        _web(figures, states),
        _social(figures, states),
        _anomaly_lines(anomalies, states),
    ):
        lines += ["", *section] if section else []
    alerts = [_alert(day, anomaly) for anomaly in anomalies if anomaly.severe]
    return Digest(day, "\n".join(lines).strip(), gaps, anomalies, alerts)


# --- gaps ---------------------------------------------------------------------------------------------


def _gaps(figures: Figures, states: dict[str, str]) -> list[str]:
    day = short_day(figures.day.day)
    gaps = []
    for source, state in states.items():
        label, last = SOURCE_LABELS[source], figures.last_days[source]
        if state == FAILED:
            gaps.append(f"{label}: загрузка за {day} не удалась, цифры не показаны")
        elif state == STALE:
            gaps.append(f"{label}: нет данных за {day} (последние — за {short_day(last)}), цифры не показаны")
    if states.get("ftp_counters") == OK:
        for folder, store in sorted(figures.day.stores.items()):
            if not store.has_counter_data and _had_counter(figures, folder):
                gaps.append(f"{store.name}: нет файла счётчика за {day}, посетители не показаны")
    return gaps


def _had_counter(figures: Figures, folder: str) -> bool:
    return any(week.stores.get(folder) and week.stores[folder].has_counter_data for week in figures.weeks)


def _missing(states: dict[str, str], source: str) -> str | None:
    """The section's line when its source has no numbers to show, else None."""
    if states.get(source) in (FAILED, STALE):
        return f"{escape(SOURCE_LABELS[source])}: нет данных за день (см. выше)"
    return None


# --- sections -----------------------------------------------------------------------------------------


def _compare(value: float | None, weeks: list[float | None]) -> str:
    """'(+12 % / −3 %)': against a week ago and the average of the last 4 same weekdays with data."""
    previous = weeks[0] if weeks else None
    recent = [w for w in weeks[:AVERAGE_WEEKS] if w is not None]
    return f"({change(value, previous)} / {change(value, mean(recent) if recent else None)})"


def _sales_weeks(figures: Figures, pick) -> list[float | None]:
    return [pick(week) if week.has_sales else None for week in figures.weeks]


def _aov(day: Day) -> float | None:
    return day.revenue / day.orders if day.orders else None


def _sales(figures: Figures, states: dict[str, str]) -> list[str]:
    lines = ["<b>Продажи</b>"]
    if "onec" not in states:
        return []
    if missing := _missing(states, "onec"):
        return [*lines, missing]
    day = figures.day
    lines += [
        f"Выручка: <b>{rub(day.revenue)}</b> {_compare(day.revenue, _sales_weeks(figures, lambda d: d.revenue))}",
        f"Заказы: {number(day.orders)} {_compare(day.orders, _sales_weeks(figures, lambda d: d.orders))}",
    ]
    if (aov := _aov(day)) is not None:
        lines.append(f"Средний чек: {rub(aov)} {_compare(aov, _sales_weeks(figures, _aov))}")
    lines.append(f"Возвраты: {rub(day.returns)} {_compare(day.returns, _sales_weeks(figures, lambda d: d.returns))}")
    by_channel: dict[str, float] = {}
    for (_, channel), row in day.sales.items():
        by_channel[channel] = by_channel.get(channel, 0) + row["revenue"]
    if len(by_channel) > 1:
        lines.append(
            "По каналам: "
            + " · ".join(
                f"{escape(CHANNELS.get(channel, channel))} {rub(revenue)}"
                for channel, revenue in sorted(by_channel.items(), key=lambda item: -item[1])
            )
        )
    return lines


def _stores(figures: Figures, states: dict[str, str]) -> list[str]:
    if "ftp_counters" not in states:
        return []
    lines = ["<b>Магазины</b>"]
    if missing := _missing(states, "ftp_counters"):
        return [*lines, missing]
    for folder, store in sorted(figures.day.stores.items(), key=lambda item: -item[1].revenue):
        if not store.has_counter_data:
            if _had_counter(figures, folder):
                lines.append(f"{escape(store.name)}: нет файла счётчика")
            continue
        weeks = [week.stores.get(folder) for week in figures.weeks]
        visitors = [w.visitors if w and w.has_counter_data else None for w in weeks]
        receipts = [w.receipts if w and w.has_counter_data else None for w in weeks]
        line = f"{escape(store.name)}: посетители {number(store.visitors)} {_compare(store.visitors, visitors)}"
        if store.receipts is not None:
            line += f", чеки {number(store.receipts)} {_compare(store.receipts, receipts)}"
            if store.visitors:
                line += f", конверсия {percent(store.receipts / store.visitors)}"
        lines.append(line)
    return lines


def _web(figures: Figures, states: dict[str, str]) -> list[str]:
    if "yandex_metrika" not in states:
        return []
    lines = ["<b>Сайт</b>"]
    if missing := _missing(states, "yandex_metrika"):
        return [*lines, missing]
    visits = figures.day.web_visits or 0
    lines.append(f"Визиты: {number(visits)} {_compare(visits, [w.web_visits for w in figures.weeks])}")
    if figures.day.web and visits:
        source, top = max(figures.day.web.items(), key=lambda item: (item[1], item[0]))
        lines.append(
            f"Главный источник: {escape(TRAFFIC_SOURCES.get(source, source))} — {number(top)} "
            f"({percent(top / visits, 0)})"
        )
    return lines


def _follower_change(figures: Figures, platform: str) -> float | None:
    today, before = figures.day.social.get(platform), figures.previous.social.get(platform)
    if today and before and today["followers"] is not None and before["followers"] is not None:
        return today["followers"] - before["followers"]
    metadata = (today or {}).get("metadata") or {}
    if metadata.get("subscribed") is not None and metadata.get("unsubscribed") is not None:
        return metadata["subscribed"] - metadata["unsubscribed"]
    return None


def _social(figures: Figures, states: dict[str, str]) -> list[str]:
    platforms = [p for p in PLATFORMS if p in states]
    if not platforms:
        return []
    lines = ["<b>Соцсети</b>"]
    for platform in platforms:
        if missing := _missing(states, platform):
            lines.append(missing)
            continue
        figures_of = figures.day.social.get(platform) or {}
        parts = []
        if figures_of.get("reach") is not None:
            weeks = [(w.social.get(platform) or {}).get("reach") for w in figures.weeks]
            parts.append(f"охват {number(figures_of['reach'])} {_compare(figures_of['reach'], weeks)}")
        if figures_of.get("followers") is not None:
            noun = {"vk": "участники", "telegram": "подписчики"}.get(platform, "подписчики")
            gained = _follower_change(figures, platform)
            parts.append(
                f"{noun} {number(figures_of['followers'])}"
                + (f" ({signed(gained)} за день)" if gained is not None else "")
            )
        lines.append(f"{PLATFORMS[platform]}: {', '.join(parts) or 'нет цифр за день'}")
    shown = [post for post in figures.posts if states.get(post.platform) == OK and post.engagement > 0]
    if shown:
        post = shown[0]
        link = f' — <a href="{escape(post.url)}">открыть</a>' if post.url else ""
        lines.append(
            f"Пост дня: {PLATFORMS.get(post.platform, escape(post.platform))}, реакций {number(post.engagement)}{link}"
        )
    return lines


# --- anomalies ----------------------------------------------------------------------------------------


def _metrics(figures: Figures, states: dict[str, str]) -> list[Metric]:
    """The key figures judged against their weekday baseline, for the sources whose day is complete."""
    day, weeks = figures.day, figures.weeks
    metrics: list[Metric] = []
    if states.get("onec") == OK:
        sales_weeks = [w for w in weeks if w.has_sales]
        metrics.append(
            Metric(
                "revenue:total",
                "Выручка, всего",
                "onec",
                day.revenue,
                tuple(w.revenue for w in sales_weeks),
                money=True,
                kind="revenue",
            )
        )
        keys = sorted({key for d in (day, *sales_weeks) for key in d.sales})
        for key in keys:
            name = next(d.sales[key]["name"] for d in (day, *sales_weeks) if key in d.sales)
            label = f"{name} ({CHANNELS.get(key[1], key[1])})"
            for figure, kind, title, money in (
                ("revenue", "revenue", "Выручка", True),
                ("orders", "orders", "Заказы", False),
            ):
                metrics.append(
                    Metric(
                        f"{figure}:{key[0]}:{key[1]}",
                        f"{title}: {label}",
                        "onec",
                        (day.sales.get(key) or {}).get(figure, 0),
                        tuple((w.sales.get(key) or {}).get(figure, 0) for w in sales_weeks),
                        money=money,
                        kind=kind,
                    )
                )
    if states.get("ftp_counters") == OK:
        for folder, store in sorted(day.stores.items()):
            if store.has_counter_data:
                history = tuple(
                    w.stores[folder].visitors
                    for w in weeks
                    if w.stores.get(folder) and w.stores[folder].has_counter_data
                )
                metrics.append(
                    Metric(
                        f"visitors:{folder}",
                        f"Посетители: {store.name}",
                        "ftp_counters",
                        store.visitors or 0,
                        history,
                        kind="visitors",
                    )
                )
    if states.get("yandex_metrika") == OK:
        metrics.append(
            Metric(
                "web_visits",
                "Визиты на сайт",
                "yandex_metrika",
                day.web_visits or 0,
                tuple(w.web_visits for w in weeks if w.web_visits is not None),
                kind="web_visits",
            )
        )
    for platform in ("instagram", "vk"):
        reach = (day.social.get(platform) or {}).get("reach")
        if states.get(platform) == OK and reach is not None:
            history = tuple(
                w.social[platform]["reach"] for w in weeks if (w.social.get(platform) or {}).get("reach") is not None
            )
            metrics.append(
                Metric(f"reach:{platform}", f"Охват {PLATFORMS[platform]}", platform, reach, history, kind="reach")
            )
    return metrics


def _anomalies(figures: Figures, states: dict[str, str], thresholds: Thresholds) -> list[Anomaly]:
    found = [anomaly for metric in _metrics(figures, states) if (anomaly := judge(metric, thresholds))]
    by_key = {anomaly.metric.key: anomaly for anomaly in found}
    for metric in _metrics(figures, states):
        if metric.kind == "web_visits" and metric.value == 0:
            by_key[metric.key] = Anomaly(metric, None, True, "ни одного визита на сайт")
        if metric.kind == "visitors" and metric.value == 0:
            store = figures.day.stores[metric.key.split(":", 1)[1]]
            if store.revenue > 0:
                by_key[metric.key] = Anomaly(
                    metric, None, True, f"продажи на {rub(store.revenue)}, а счётчик насчитал 0 посетителей"
                )
    return sorted(by_key.values(), key=lambda a: (not a.severe, a.metric.key))


def _anomaly_text(anomaly: Anomaly) -> str:
    metric = anomaly.metric
    value = rub(metric.value) if metric.money else number(metric.value)
    if anomaly.expected is None:
        return f"{escape(metric.label)}: {value} — {escape(anomaly.reason)}"
    expected = rub(anomaly.expected) if metric.money else number(anomaly.expected)
    return (
        f"{escape(metric.label)}: {value} при обычных ~{expected} ({change(metric.value, anomaly.expected)}), "
        f"{anomaly.reason}"
    )


def _anomaly_lines(anomalies: list[Anomaly], states: dict[str, str]) -> list[str]:
    lines = ["<b>Отклонения</b> <i>(медиана того же дня недели за 8 недель)</i>"]
    lines += [f"{'🔴' if a.severe else '🟡'} {_anomaly_text(a)}" for a in anomalies] or ["Всё в пределах обычного."]
    unjudged = [SOURCE_LABELS[s] for s, state in states.items() if state != OK]
    if unjudged:
        lines.append(f"Не проверялись (данные неполные): {escape(', '.join(unjudged))}.")
    return lines


def _alert(day: date, anomaly: Anomaly) -> Alert:
    return Alert(anomaly.metric.key, f"🔴 {_anomaly_text(anomaly)}")


def alert_message(day: date, alerts: list[Alert]) -> str:
    """One message for the severe anomalies of a day not sent yet: several at once never make a storm."""
    return "\n".join([f"🚨 <b>GLAME · {short_day(day)}</b>", *(alert.html for alert in alerts)])


def make_digest(
    conn, day: date, failed: Iterable[str] = (), loaded: Iterable[str] = (), thresholds: Thresholds | None = None
) -> Digest:
    """The digest of `day` as the marts have it now."""
    return build_digest(read_figures(conn, day), failed, loaded, thresholds or Thresholds.from_env())
