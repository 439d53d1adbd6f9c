"""Every vendor sample in ../shared/contracts/, mutated, fed to the clients and to the row functions the
assets use (issue 10, section 4).

A mutation is one of: a field removed, a number as text, null where an object or list was, an empty
list, a truncated body. Each must end in exactly one of these outcomes, which the test names:
  failed       the source's own error (its ApiError family), naming the source and, for an unexpected
               shape, the field; no token in the message
  quarantined  the bad record is set aside with a reason, the other records are the unmutated ones
  unchanged    the result equals the unmutated one (the field is not used, or text was read as its number)
  nulled       a value the vendor documents as optional became null (never 0, never another number)
and, where the sample's contract allows nothing better (each declared per case below):
  empty        an empty collection where the answer has no count to check it against (1C `value`,
               Telegram updates, VK stats, Instagram edges)
  not ours     the record became one of a kind the asset does not load (an update without a channel post)
  cut short    a CSV cut mid-line: that line is quarantined; the lines after the cut cannot be missed
               (the FTP sensor waits for a stable size before a file is read)
Any other exception, or a result that differs otherwise, fails the test: that would be a stack trace
or a silently wrong number in the warehouse.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import orjson
import pytest
from conftest import fast_retry
from contracts import CONTRACTS, ReplayApi, sample

from glame_pipelines.clients.counter_files import CounterFileError, parse
from glame_pipelines.clients.http import ApiError, TransientError, UnexpectedResponse
from glame_pipelines.clients.instagram import InstagramClient, InstagramError
from glame_pipelines.clients.metrika import MetrikaClient, MetrikaError
from glame_pipelines.clients.onec import OnecClient, OnecError
from glame_pipelines.clients.telegram import TelegramClient, TelegramError
from glame_pipelines.clients.vk import VkClient, VkError
from glame_pipelines.defs.instagram.assets import SNAPSHOT_FIELDS, media_head, media_row
from glame_pipelines.defs.loads import readable
from glame_pipelines.defs.onec.assets import catalog_row, receipt_row
from glame_pipelines.defs.telegram.assets import post_row as telegram_post_row
from glame_pipelines.defs.vk.assets import post_row as vk_post_row
from glame_pipelines.defs.vk.assets import stats_row
from glame_pipelines.sandbox.server import Response, SandboxServer
from glame_pipelines.warehouse.loader import Rejects

pytestmark = pytest.mark.skipif(not CONTRACTS.exists(), reason="shared/contracts is not beside the repo")
TOKEN = "contract-token-0123456789"
BOT = "123456:ABCdefGhIJKlmnOPQrstUVwxyz012345678"
ONEC_TOKEN = "dXNlcjpwYXNzd29yZC0wMTIz"
SECRETS = (TOKEN, BOT, BOT.split(":")[1], ONEC_TOKEN)
CAP = 48  # mutations per sample: the envelope first (breadth first), every kind represented


# --- mutations -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    kind: str  # removed | as text | null | empty list | truncated
    path: tuple
    body: bytes

    @property
    def keys(self) -> list[str]:
        return [step for step in self.path if isinstance(step, str)]

    def __str__(self) -> str:
        return f"{self.kind} at {'.'.join(map(str, self.path)) or '(root)'}"


def _set(document, path: tuple, value):
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def _delete(document, path: tuple):
    target = document
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]


def json_mutations(body: bytes, cap: int = CAP) -> list[Mutation]:
    """Every kind of mutation the JSON allows, `cap` of them taken round robin over the kinds (the
    envelope first: the walk is breadth first), plus the truncations."""
    document = orjson.loads(body)
    by_kind = [[(kind, path) for path in paths] for kind, paths in _paths(document).items()]
    mutations = []
    for kind, path in (entry for entry in itertools.chain.from_iterable(itertools.zip_longest(*by_kind)) if entry):
        mutations.append(mutated(document, kind, path))
        if len(mutations) == cap:
            break
    return mutations + truncations(body)


def mutated(document, kind: str, path: tuple) -> Mutation:
    """One mutation of a decoded answer, re-encoded."""
    if kind == "removed":
        changed = copy.deepcopy(document)
        _delete(changed, path)
    elif path == ():
        changed = None if kind == "null" else []
    else:
        changed = copy.deepcopy(document)
        value = _get(document, path)
        _set(changed, path, str(value) if kind == "as text" else None if kind == "null" else [])
    return Mutation(kind, path, orjson.dumps(changed))


def _paths(document) -> dict[str, list[tuple]]:
    """Where each kind of mutation applies, breadth first, at most two elements of each list."""
    found: dict[str, list[tuple]] = {"removed": [], "as text": [], "null": [], "empty list": []}
    queue = [((), document)]
    while queue:
        path, value = queue.pop(0)
        if isinstance(value, (dict, list)):
            found["null"].append(path)
        if isinstance(value, dict):
            for key, child in value.items():
                found["removed"].append((*path, key))
                queue.append(((*path, key), child))
        elif isinstance(value, list):
            if value:
                found["empty list"].append(path)
            queue.extend(((*path, i), child) for i, child in enumerate(value[:2]))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            found["as text"].append(path)
    return found


def _get(document, path: tuple):
    for step in path:
        document = document[step]
    return document


def truncations(body: bytes) -> list[Mutation]:
    return [
        Mutation("truncated", (f"{size} of {len(body)} bytes",), body[:size])
        for size in sorted({0, len(body) // 3, len(body) // 2, len(body) - 2})
        if 0 <= size < len(body)
    ]


def csv_mutations(body: bytes) -> list[Mutation]:
    """A column dropped from every line, each cell of the first data line emptied, truncations."""
    lines = body.decode("utf-8").splitlines()
    header = lines[0].split(",")
    mutations = [
        Mutation(
            "removed",
            (column,),
            "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != n) for line in lines).encode(),
        )
        for n, column in enumerate(header)
    ]
    last = lines[-1].split(",")
    names = next((line.split(",") for line in lines if len(line.split(",")) == len(last) and line != lines[-1]), header)
    for n in range(len(last)):
        emptied = ",".join("" if i == n else c for i, c in enumerate(last))
        mutations.append(Mutation("emptied", (names[n],), "\n".join([*lines[:-1], emptied]).encode()))
    return mutations + truncations(body)


def xml_mutations(body: bytes) -> list[Mutation]:
    """Each attribute name removed from every element that has it, truncations."""
    import re

    text = body.decode("utf-8")
    names = sorted(set(re.findall(r'\s([A-Za-z]+)="[^"]*"', text)))
    return [
        Mutation("removed", (name,), re.sub(rf'\s{name}="[^"]*"', "", text).encode()) for name in names
    ] + truncations(body)


# --- outcomes ------------------------------------------------------------------------------------------


@dataclass
class Result:
    rows: list
    rejects: list[str] = field(default_factory=list)


def _frozen(row) -> bytes:
    return orjson.dumps(row, default=str, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


@dataclass
class Case:
    source: str
    name: str
    run: Callable  # (server, api) -> Result, or raises
    errors: tuple[type, ...]
    label: str
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    prepare: Callable[[dict], dict] | None = None  # what the replay cannot serve as recorded (a next page)
    optional: frozenset[str] = frozenset()  # keys the vendor documents as optional: absent means null
    not_ours: frozenset[str] = frozenset()  # keys whose absence makes a record one the asset does not load
    empty_ok: frozenset[tuple] = frozenset()  # lists with no count to check against: empty is a valid answer
    envelope_only: bool = False  # nothing of the result is loaded (a probe's answer): only its envelope counts

    def is_optional(self, keys: set[str]) -> bool:
        """`*_Key` stands for every 1C reference: an absent one is the empty reference."""
        return bool(keys & self.optional) or ("*_Key" in self.optional and any(k.endswith("_Key") for k in keys))

    @property
    def is_error_sample(self) -> bool:
        return self.name.startswith("error") or self.status >= 400 or self.name.endswith(".xml")

    def body(self) -> bytes:
        raw = sample(self.source, self.name)
        return orjson.dumps(self.prepare(orjson.loads(raw))) if self.prepare else raw

    def mutations(self) -> list[Mutation]:
        body = self.body()
        if self.name.endswith(".json"):
            return json_mutations(body)
        if self.name.endswith(".csv"):
            return csv_mutations(body)
        if self.name.endswith(".xml") and self.source == "people_counters":
            return xml_mutations(body)
        return truncations(body)


def outcome(case: Case, mutation: Mutation, baseline, attempt: Callable[[], Result]) -> str:
    """Which of the allowed outcomes this mutation had; anything else fails with the mutation named."""
    try:
        result = attempt()
    except (ApiError, CounterFileError) as error:
        message = str(error)
        assert isinstance(error, case.errors) or (isinstance(error, TransientError) and case.label in message), (
            f"{case.name}, {mutation}: {type(error).__name__} is not a {case.label} error: {message}"
        )
        assert case.label in message, f"{case.name}, {mutation}: the message does not name {case.label}: {message}"
        assert not any(secret in message for secret in SECRETS), f"{case.name}, {mutation}: a secret in {message}"
        if isinstance(error, UnexpectedResponse) and mutation.keys:
            assert any(key in message for key in mutation.keys), (
                f"{case.name}, {mutation}: the message names none of {mutation.keys}: {message}"
            )
        return "failed"
    assert not isinstance(baseline, Exception), f"{case.name}, {mutation}: an error answer was taken as data: {result}"
    if case.envelope_only:
        return "unchanged"
    base_rows, rows = Counter(map(_frozen, baseline.rows)), Counter(map(_frozen, result.rows))
    if rows == base_rows and len(result.rejects) == len(baseline.rejects):
        return "unchanged"
    new_rejects = len(result.rejects) - len(baseline.rejects)
    lost, extra = base_rows - rows, rows - base_rows
    if new_rejects > 0 and not extra and sum(lost.values()) <= new_rejects and all(result.rejects):
        return "quarantined"
    if mutation.kind == "truncated" and case.name.endswith(".csv") and new_rejects > 0 and not extra:
        return "cut short"  # the cut line is quarantined; a text file has no length to miss the rest by
    keys = set(mutation.keys)
    if not extra and not new_rejects and keys & case.not_ours:
        return "not ours"
    if not result.rows and mutation.kind == "empty list" and mutation.path in case.empty_ok:
        return "empty"
    if case.is_optional(keys) and new_rejects <= 0 and _only_nulled(baseline.rows, result.rows):
        return "nulled"
    raise AssertionError(
        f"{case.name}, {mutation}: a silently different result\n  was {baseline.rows}\n  now {result.rows}"
    )


def _only_nulled(before: list, after: list) -> bool:
    """Same rows, where every value that changed became null."""
    if len(before) != len(after):
        return False
    for old, new in zip(before, after, strict=True):
        if len(old) != len(new) or any(o != n and n is not None for o, n in zip(old, new, strict=True)):
            return False
    return True


# --- the clients, as the assets call them -----------------------------------------------------------------


def metrika(server, api) -> MetrikaClient:
    return MetrikaClient(TOKEN, server.url(api), retry=fast_retry(max_attempts=2), timeout=5)


def instagram(server, api) -> InstagramClient:
    return InstagramClient(
        TOKEN, "17841405822304914", server.url(api), "v23.0", retry=fast_retry(max_attempts=2), timeout=5
    )


def vk(server, api) -> VkClient:
    return VkClient(TOKEN, server.url(api), requests_per_second=0, retry=fast_retry(max_attempts=2), timeout=5)


def telegram(server, api) -> TelegramClient:
    return TelegramClient(BOT, server.url(api), retry=fast_retry(max_attempts=2), timeout=5)


def onec(server, api) -> OnecClient:
    return OnecClient(server.url(api), ONEC_TOKEN, page_size=500, timeout=5, retry=fast_retry(max_attempts=2))


def checked(records, to_row) -> Result:
    rejects = Rejects()
    rows = list(readable(records, to_row, rejects))
    return Result(rows, [reason for _, reason, _ in rejects.items])


DAY = (datetime(2024, 1, 14, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC))


def metrika_report(name: str) -> Callable:
    query = orjson.loads(sample("yandex_metrika", name))["query"]

    def run(server, api) -> Result:
        rows = metrika(server, api).report(
            "1", date(2020, 1, 1), date(2020, 1, 1), query["metrics"], query["dimensions"]
        )
        return Result(
            [(tuple(r.dimensions.values()), tuple(r.metrics.values()), r.sampled, r.sample_share) for r in rows]
        )

    return run


def metrika_counter(server, api) -> Result:
    counter = metrika(server, api).counter("1")
    return Result([(counter.get("id"), counter.get("site"), counter.get("name"))])


def ig_account(server, api) -> Result:
    account = instagram(server, api).account()
    return Result([tuple(account.get(f) for f in ("username", *SNAPSHOT_FIELDS))])


def ig_totals(server, api) -> Result:
    return Result([tuple(instagram(server, api).account_totals(*DAY).values())])


def ig_new_followers(server, api) -> Result:
    series = instagram(server, api).follower_count(*DAY)
    return Result([(next(iter(series.values()), None),)])


def ig_media(server, api) -> Result:
    client = instagram(server, api)
    return checked(client.media(), lambda item: media_row(client.account_id, item)[:-1])


def ig_reel_insights(server, api) -> Result:
    values, reason = instagram(server, api).media_insights({"id": "17897668449516451", "media_product_type": "REELS"})
    metrics = ("reach", "likes", "comments", "shares", "saved", "total_interactions", "views")
    return Result([(*tuple(values.get(m) for m in metrics), reason)])


def ig_stories(server, api) -> Result:
    return checked(instagram(server, api).stories(), media_head)


def no_next_page(body: dict) -> dict:
    """The replay answers every request with this body: a next page would be itself, for ever."""
    return {**body, "paging": {k: v for k, v in (body.get("paging") or {}).items() if k != "next"}}


def vk_stats(server, api) -> Result:
    return Result([stats_row("1", p)[:-1] for p in vk(server, api).stats("1", *DAY)])


def vk_wall(server, api) -> Result:
    return checked(vk(server, api).wall("1"), lambda post: vk_post_row(post)[:-1])


def one_page(body: dict) -> dict:
    """The wall's `count` is the group's total; the replay has only this page of it."""
    return {"response": {**body["response"], "count": len(body["response"]["items"])}}


def tg_updates(server, api) -> Result:
    def row(update):
        found = telegram_post_row(update)
        return found[:-1] if found else None

    return checked(telegram(server, api).updates(), row)


def tg_chat(server, api) -> Result:
    chat = telegram(server, api).chat("@x")
    return Result([(chat["id"], chat.get("username"), chat.get("title"), chat.get("type"))])


def onec_collection(server, api) -> Result:
    return checked(onec(server, api).iter_records("Document_Контракт"), lambda r: (*catalog_row(r), *receipt_row(r)))


def onec_catalog(server, api) -> Result:
    return checked(onec(server, api).iter_all("Catalog_Контрагенты", orderby=["Ref_Key"]), catalog_row)


def as_collection(element: dict) -> dict:
    """A single element's sample, served as the one record of a collection page."""
    return {"odata.metadata": "http://host/base/odata/standard.odata/$metadata#Catalog_Контрагенты", "value": [element]}


def counter_file(name: str) -> Callable:
    def run(content: bytes) -> Result:
        path = f"STORE/251201.{name.rsplit('.', 1)[1]}"
        parsed = parse(path, content)
        if not parsed.rows:  # what the asset does with such a file (load_counter_file): it fails, naming it
            raise CounterFileError(f"{path} has no valid row")
        return Result(
            [(r.visit_date, r.period_start, r.period_end, r.entries, r.exits) for r in parsed.rows],
            [r.reason for r in parsed.rejects],
        )

    return run


def failing(call: Callable) -> Callable:
    def run(server, api):
        call(server, api)
        raise AssertionError("an error sample was read as data")

    return run


IG_OPTIONAL = frozenset(
    {
        "username",
        "followers_count",
        "follows_count",
        "media_count",
        "media_type",
        "media_product_type",
        "like_count",
        "comments_count",
        "permalink",
        "caption",
        "values",
    }
)
VK_STAT_OPTIONAL = frozenset(
    {
        "visitors",
        "reach",
        "activity",
        "views",
        "mobile_views",
        "reach_subscribers",
        "mobile_reach",
        "likes",
        "comments",
        "copies",
        "subscribed",
        "unsubscribed",
        "hidden",
    }
)
METRIKA, INSTAGRAM = (MetrikaError,), (InstagramError,)
CASES = [
    *[
        Case("yandex_metrika", n, metrika_report(n), METRIKA, "Yandex.Metrika")
        for n in (
            "stat_v1_data_aiotapioca_daily_visits.json",
            "stat_v1_data_redash_real_example.json",
            "stat_v1_data_traffic_source_kotlin_fixture.json",
        )
    ],
    Case(
        "yandex_metrika",
        "stat_v1_data_schema_docs.json",
        metrika_report("stat_v1_data_schema_docs.json"),
        METRIKA,
        "Yandex.Metrika",
        empty_ok=frozenset({("data",)}),
    ),  # its total_rows is 0: no data is a consistent answer
    *[
        Case(
            "yandex_metrika",
            n,
            metrika_counter,
            METRIKA,
            "Yandex.Metrika",
            prepare=lambda b: {"counter": b["counters"][0]},
            optional=frozenset({"id", "site", "name"}),
        )
        for n in ("management_v1_counters_aiotapioca.json", "management_v1_counters_quickstart_docs.json")
    ],
    *[
        Case("yandex_metrika", n, failing(metrika_counter), METRIKA, "Yandex.Metrika", status=s)
        for n, s in (
            ("error_400_invalid_parameter_no_object.json", 400),
            ("error_403_access_denied.json", 403),
            ("error_403_invalid_token.json", 403),
        )
    ],
    Case("instagram", "ig_user_fields_metadocs.json", ig_account, INSTAGRAM, "Instagram", optional=IG_OPTIONAL),
    Case(
        "instagram",
        "ig_user_insights_reach_total_value_breakdown_metadocs.json",
        ig_totals,
        INSTAGRAM,
        "Instagram",
        optional=frozenset({"data"}),
    ),
    Case(
        "instagram", "ig_user_insights_engaged_audience_demographics_metadocs.json", ig_totals, INSTAGRAM, "Instagram"
    ),
    Case(
        "instagram",
        "ig_user_insights_time_series_airbyte.json",
        ig_new_followers,
        INSTAGRAM,
        "Instagram",
        optional=frozenset({"data", "values", "value"}),
    ),
    *[
        Case(
            "instagram",
            n,
            ig_media,
            INSTAGRAM,
            "Instagram",
            prepare=no_next_page,
            optional=IG_OPTIONAL,
            empty_ok=frozenset({("data",)}),
        )
        for n in ("ig_user_media_ids_paging_metadocs.json", "ig_user_media_EXCERPT_airbyte.json")
    ],
    Case(
        "instagram",
        "ig_media_insights_reel_recorded_2026.json",
        ig_reel_insights,
        INSTAGRAM,
        "Instagram",
        optional=frozenset({"data", "values", "value"}),
    ),
    Case(
        "instagram",
        "ig_stories_airbyte.json",
        ig_stories,
        INSTAGRAM,
        "Instagram",
        prepare=no_next_page,
        empty_ok=frozenset({("data",)}),
    ),
    *[
        Case("instagram", n, failing(ig_account), INSTAGRAM, "Instagram", status=s)
        for n, s in (
            ("error_100_2108006_posted_before_business_airbyte.json", 400),
            ("error_100_media_insights_metric_unsupported.json", 400),
            ("error_100_subcode_33_unsupported_get_airbyte.json", 400),
            ("error_10_permission_airbyte.json", 400),
            ("error_190_463_token_expired.json", 400),
            ("error_4_app_rate_limit.json", 403),
            ("error_envelope_metadocs.json", 400),
        )
    ],
    Case(
        "vk",
        "stats.get_interval_day_openintegrations.json",
        vk_stats,
        (VkError,),
        "VK",
        optional=VK_STAT_OPTIONAL,
        empty_ok=frozenset({("response",)}),
    ),
    *[
        Case(
            "vk",
            n,
            vk_wall,
            (VkError,),
            "VK",
            prepare=one_page,
            optional=frozenset({"likes", "comments", "reposts", "views"}),
        )
        for n in ("wall.get_group_-140233986.json", "wall.get_group_-51651959_2021.json")
    ],
    Case(
        "vk",
        "execute_with_execute_errors.json",
        lambda s, a: vk(s, a).call("execute", code="return 1;"),
        (VkError,),
        "VK",
        envelope_only=True,
    ),
    *[
        Case("vk", n, failing(lambda s, a: vk(s, a).call("wall.get", owner_id="-1")), (VkError,), "VK")
        for n in (
            "error_15_access_denied_wall.get.json",
            "error_15_token_required.json",
            "error_18_user_deleted.json",
            "error_30_private_profile.json",
            "error_5_invalid_access_token.json",
        )
    ],
    Case(
        "telegram", "getMe_ok.json", lambda s, a: telegram(s, a).me(), (TelegramError,), "Telegram", envelope_only=True
    ),
    Case(
        "telegram",
        "getChatMemberCount_ok.json",
        lambda s, a: Result([(telegram(s, a).member_count("@x"),)]),
        (TelegramError,),
        "Telegram",
    ),
    Case(
        "telegram",
        "getChat_private_chatfullinfo_real.json",
        tg_chat,
        (TelegramError,),
        "Telegram",
        optional=frozenset({"username", "title", "type"}),
    ),
    Case(
        "telegram",
        "getUpdates_channel_post_and_messages.json",
        tg_updates,
        (TelegramError,),
        "Telegram",
        optional=frozenset({"text", "caption"}),
        not_ours=frozenset({"channel_post", "edited_channel_post"}),
        empty_ok=frozenset({("result",)}),
    ),
    *[
        Case("telegram", n, failing(tg_chat), (TelegramError,), "Telegram", status=s, content_type=t)
        for n, s, t in (
            ("error_400_chat_not_found.json", 400, "application/json"),
            ("error_401_unauthorized.json", 401, "application/json"),
            ("error_429_too_many_requests.json", 429, "application/json"),
            ("error_502_bad_gateway_nginx.html", 502, "text/html"),
        )
    ],
    Case(
        "onec_odata",
        "document_kontrakt_collection.json",
        onec_collection,
        (OnecError,),
        "1C",
        optional=frozenset({"Code", "Description", "СуммаДокумента", "*_Key"}),
        empty_ok=frozenset({("value",)}),
    ),
    *[
        Case(
            "onec_odata",
            n,
            onec_catalog,
            (OnecError,),
            "1C",
            prepare=as_collection,
            optional=frozenset({"Code", "Description", "*_Key"}),
            empty_ok=frozenset({("value",)}),
        )
        for n in ("catalog_kontragenty_element_json.json", "catalog_kontragenty_value_item_bp30.json")
    ],
    *[
        Case(
            "onec_odata",
            n,
            failing(lambda s, a: onec(s, a).probe("Catalog_Контрагенты")),
            (OnecError,),
            "1C",
            status=st,
            content_type=t,
        )
        for n, st, t in (
            ("error_13_tabular_rows_not_supported.json", 400, "application/json"),
            ("error_minus1_internal.json", 500, "application/json"),
            ("catalog_kontragenty_element_atom.xml", 200, "application/atom+xml;type=entry;charset=utf-8"),
            ("service_document_empty.xml", 200, "application/xml"),
        )
    ],
]
COUNTER_CASES = [
    Case("people_counters", n, counter_file(n), (CounterFileError,), "", optional=frozenset({"end", "EndTime"}))
    for n in (
        "axis_p8815_3d_export_hour.json",
        "axis_p8815_3d_export_minute.csv",
        "axis_tvpc_live-sum.json",
        "brickstream_3d_metrics_STRUCTURE_ONLY.xml",
        "vivotek_sc8131_report_push.csv",
        "vivotek_sc8131_report_push.json",
    )
]


def test_every_sample_has_a_case():
    """A sample added to shared/contracts without a case here would go untested."""
    covered = {(c.source, c.name) for c in CASES + COUNTER_CASES}
    present = {(p.parent.name, p.name) for p in CONTRACTS.glob("*/*") if p.suffix != ".md"}
    assert present - covered == set()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.source}/{c.name}")
def test_mutated_api_answers_fail_by_name_quarantine_or_change_nothing(case: Case):
    body = case.body()
    api = ReplayApi("/replay/", body, case.status, case.content_type)
    with SandboxServer([api]) as server:
        try:
            baseline = case.run(server, api)
        except (ApiError, AssertionError) as error:
            baseline = error
        if case.is_error_sample:
            assert isinstance(baseline, Exception) and not isinstance(baseline, AssertionError), baseline
        else:
            assert not isinstance(baseline, Exception), f"the unmutated sample fails: {baseline}"
        seen = Counter()
        for mutation in case.mutations():
            api.response = Response(case.status, mutation.body, {"Content-Type": case.content_type})
            seen[outcome(case, mutation, baseline, lambda: case.run(server, api))] += 1
    print(f"{case.source}/{case.name}: {dict(seen)}")
    assert sum(seen.values()) >= 4
    if not isinstance(baseline, Exception) and not case.envelope_only:
        assert seen["failed"] or seen["quarantined"], "no mutation of a data sample was caught"


@pytest.mark.parametrize("case", COUNTER_CASES, ids=lambda c: c.name)
def test_mutated_counter_files_are_rejected_or_quarantined_with_a_reason(case: Case):
    baseline = case.run(case.body())
    assert baseline.rows and not baseline.rejects
    seen = Counter()
    for mutation in case.mutations():
        seen[outcome(case, mutation, baseline, lambda mutation=mutation: case.run(mutation.body))] += 1
    print(f"{case.name}: {dict(seen)}")
    assert seen["failed"] + seen["quarantined"] > 0


# Named mutations with the outcome each must have: what the walk above accepts among several outcomes,
# pinned down where it matters (the envelope fails, a number as text is read, a bad record is quarantined).
EXPECTED = [
    ("yandex_metrika/stat_v1_data_aiotapioca_daily_visits.json", "removed", ("data",), "failed"),
    ("yandex_metrika/stat_v1_data_aiotapioca_daily_visits.json", "removed", ("total_rows",), "failed"),
    ("yandex_metrika/stat_v1_data_aiotapioca_daily_visits.json", "empty list", ("data", 0, "dimensions"), "failed"),
    ("yandex_metrika/stat_v1_data_aiotapioca_daily_visits.json", "null", ("data", 1, "metrics"), "failed"),
    ("yandex_metrika/stat_v1_data_aiotapioca_daily_visits.json", "as text", ("data", 0, "metrics", 0), "unchanged"),
    ("yandex_metrika/stat_v1_data_aiotapioca_daily_visits.json", "removed", ("query",), "unchanged"),
    ("yandex_metrika/stat_v1_data_redash_real_example.json", "removed", ("sample_share",), "failed"),
    (
        "yandex_metrika/stat_v1_data_traffic_source_kotlin_fixture.json",
        "removed",
        ("data", 0, "dimensions", 0, "name"),
        "failed",
    ),
    (
        "instagram/ig_user_insights_reach_total_value_breakdown_metadocs.json",
        "null",
        ("data", 0, "total_value"),
        "failed",
    ),
    (
        "instagram/ig_user_insights_reach_total_value_breakdown_metadocs.json",
        "as text",
        ("data", 0, "total_value", "value"),
        "unchanged",
    ),
    ("instagram/ig_user_media_EXCERPT_airbyte.json", "removed", ("data", 0, "timestamp"), "quarantined"),
    ("instagram/ig_user_media_EXCERPT_airbyte.json", "as text", ("data", 0, "like_count"), "unchanged"),
    ("vk/stats.get_interval_day_openintegrations.json", "removed", ("response", 0, "period_from"), "failed"),
    ("vk/stats.get_interval_day_openintegrations.json", "as text", ("response", 0, "visitors", "views"), "unchanged"),
    ("vk/wall.get_group_-140233986.json", "removed", ("response", "count"), "failed"),
    ("vk/wall.get_group_-140233986.json", "removed", ("response", "items", 0, "date"), "quarantined"),
    ("vk/wall.get_group_-140233986.json", "null", ("response", "items", 0, "likes"), "nulled"),
    ("telegram/getUpdates_channel_post_and_messages.json", "removed", ("result", 0, "update_id"), "failed"),
    ("telegram/getChatMemberCount_ok.json", "as text", ("result",), "unchanged"),
    ("onec_odata/document_kontrakt_collection.json", "removed", ("value", 0, "Ref_Key"), "quarantined"),
    ("onec_odata/document_kontrakt_collection.json", "null", ("value", 1), "failed"),
    ("onec_odata/document_kontrakt_collection.json", "removed", ("value",), "failed"),
]


@pytest.mark.parametrize(
    "sample_name, kind, path, expected", EXPECTED, ids=lambda v: str(v) if isinstance(v, str) else None
)
def test_named_mutations_have_their_outcome(sample_name, kind, path, expected):
    case = next(c for c in CASES if f"{c.source}/{c.name}" == sample_name)
    api = ReplayApi("/replay/", case.body(), case.status, case.content_type)
    with SandboxServer([api]) as server:
        baseline = case.run(server, api)
        mutation = mutated(orjson.loads(case.body()), kind, path)
        api.response = Response(case.status, mutation.body, {"Content-Type": case.content_type})
        assert outcome(case, mutation, baseline, lambda: case.run(server, api)) == expected


def test_the_regression_row_without_gender_names_it():
    """Issue 10: a demographics row lacking ym:s:gender was a bare KeyError with a stack trace."""
    body = {
        "data": [{"dimensions": [{"name": "2025-03-14"}, {"name": "25-34"}], "metrics": [5.0, 4.0]}],
        "total_rows": 1,
    }
    api = ReplayApi("/replay/", orjson.dumps(body))
    with SandboxServer([api]) as server, pytest.raises(MetrikaError) as caught:
        metrika(server, api).report(
            "98765432",
            date(2025, 3, 14),
            date(2025, 3, 14),
            ["ym:s:visits", "ym:s:users"],
            ["ym:s:date", "ym:s:gender", "ym:s:ageInterval"],
        )
    assert isinstance(caught.value, UnexpectedResponse)
    assert "row 1 of 'data' has 2 'dimensions' where 3 were requested (ym:s:date, ym:s:gender" in str(caught.value)
    assert TOKEN not in str(caught.value)
