"""Concurrency pools per 1C base and per Metrika counter: 1C Fresh fails under parallel requests to one base,
and Metrika's quotas are per user and counter. A pool named after the base (counter) keeps two runs on one
base apart while two bases, served by two code locations on one instance, load in parallel."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from glame_pipelines.defs.onec.source import base_identity
from glame_pipelines.defs.onec.source import pool as onec_pool
from glame_pipelines.defs.yandex_metrika.source import pool as metrika_pool
from glame_pipelines.runtime import MODELS_POOL, pool_limits
from glame_pipelines.sources import pool_for

FRESH = "https://1cfresh.com/a/ea/1234567/odata/standard.odata"


@pytest.mark.parametrize(
    "url",
    [
        FRESH,
        FRESH + "/",
        "https://glame:secret@1CFresh.com/a/ea/1234567/odata/standard.odata/",
        "https://1cfresh.com/a/ea/1234567/odata/standard.odata?$format=json",
        "http://1cfresh.com/a/ea/1234567/OData/Standard.odata",
    ],
)
def test_one_base_whichever_way_its_url_is_written(url):
    """Credentials, a trailing slash, a query, the scheme or the host's case must not split one base into two
    pools (two runs on it would then overlap); the credentials never reach a pool name."""
    assert onec_pool({"ONEC_API_URL": url}) == "onec:1cfresh.com/a/ea/1234567"


def test_two_bases_have_two_pools():
    """Two areas of 1C Fresh, or a base on the brand's own server, load in parallel: one stream each."""
    pools = {
        onec_pool({"ONEC_API_URL": url})
        for url in (
            FRESH,
            "https://1cfresh.com/a/ea/7654321/odata/standard.odata",
            "http://srv-1c:8080/unf/odata/standard.odata",
            "http://srv-1c:8081/unf/odata/standard.odata",
        )
    }
    assert len(pools) == 4
    assert "onec:srv-1c:8080/unf" in pools


def test_a_cyrillic_publication_name_is_readable_and_a_valid_pool():
    """1C publications are often named in Russian; Dagster rejects a pool name holding whitespace."""
    url = "http://srv/%D0%A0%D0%BE%D0%B7%D0%BD%D0%B8%D1%86%D0%B0%20%D0%A3%D0%9D%D0%A4/odata/standard.odata"
    assert base_identity(url) == "srv/Розница УНФ"
    assert onec_pool({"ONEC_API_URL": url}) == "onec:srv/Розница_УНФ"


def test_unconfigured_sources_still_have_a_pool():
    """Definitions load before a source is configured (`glame demo`, `dg check defs`): a bare pool then."""
    assert onec_pool({}) == "onec" and metrika_pool({}) == "yandex_metrika"
    assert pool_for("onec", "  ") == "onec"


def test_metrika_pool_per_counter():
    assert metrika_pool({"YANDEX_METRIKA_COUNTER_ID": " 4567 "}) == "yandex_metrika:4567"
    assert metrika_pool({"YANDEX_METRIKA_COUNTER_ID": "4567"}) != metrika_pool({"YANDEX_METRIKA_COUNTER_ID": "89"})


def test_limits_apply_to_the_actual_pool_names():
    """`glame serve` writes these to the instance: a limit keyed by the bare source's name would limit a pool
    no asset takes, and the base's pool would run at the default."""
    env = {
        "ONEC_API_URL": FRESH,
        "YANDEX_METRIKA_COUNTER_ID": "4567",
        "GLAME_POOL_LIMIT_ONEC": "2",
        "GLAME_POOL_LIMIT_DBT": "1",
    }
    limits = pool_limits(env)
    assert limits["onec:1cfresh.com/a/ea/1234567"] == 2
    assert limits["yandex_metrika:4567"] == 1
    assert limits[MODELS_POOL] == 1
    assert "onec" not in limits


def test_definitions_take_the_configured_pools():
    """The code location (and each run worker, which re-imports it with the same environment) names the pools
    from its configuration: every 1C asset in its base's pool, every Metrika asset in its counter's, dbt in
    `dbt`. Loaded in a fresh process because the definitions read the configuration once, when loaded."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ONEC_", "YANDEX_"))},
        "ONEC_API_URL": "https://glame:secret@1cfresh.com/a/ea/1234567/odata/standard.odata",
        "YANDEX_METRIKA_COUNTER_ID": "4567",
    }
    script = (
        "import json\n"
        "from glame_pipelines.definitions import defs\n"
        "g = defs.resolve_asset_graph()\n"
        "print(json.dumps({k.to_user_string(): sorted(g.get(k).pools or ()) for k in g.get_all_asset_keys()}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    pools = json.loads(out.stdout.strip().splitlines()[-1])
    by_source = {}
    for key, names in pools.items():
        by_source.setdefault(key.split("/")[0], set()).update(names)
    assert by_source["onec"] == {"onec:1cfresh.com/a/ea/1234567"}
    assert by_source["yandex_metrika"] == {"yandex_metrika:4567"}
    assert by_source["marts"] == {MODELS_POOL}
    assert "secret" not in out.stdout
