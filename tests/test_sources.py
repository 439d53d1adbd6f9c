"""A source is one folder: everything central discovers the sources, so a new one appears everywhere by
adding its folder. Proven with a throwaway eighth source in a package of its own (tests/throwaway_source),
named by GLAME_SOURCE_PACKAGES the way a brand would keep a private source outside this repository."""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from glame_pipelines.sources import all_sources
from glame_pipelines.warehouse import tables as warehouse_tables
from glame_pipelines.warehouse.connection import sqlalchemy_url

ROOT = Path(__file__).resolve().parents[1]
THROWAWAY = Path(__file__).parent / "throwaway_source"
PROJECT_SOURCES = {"onec", "yandex_metrika", "instagram", "vk", "telegram", "ftp_counters", "onec_files"}


def python(code: str, env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """A fresh process (discovery is per process), with the throwaway package importable and named."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("WILDBERRIES_", "GLAME_SOURCE_"))}
    full = {**clean, "PYTHONPATH": f"{THROWAWAY}{os.pathsep}{ROOT}", "GLAME_SOURCE_PACKAGES": "glame_extra.defs", **env}
    command = [sys.executable, "-m", "glame_pipelines.cli", *args] if not code else [sys.executable, "-c", code]
    return subprocess.run(command, env=full, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_project_sources_are_found_in_their_folders():
    sources = all_sources()
    assert set(sources) == PROJECT_SOURCES
    assert next(iter(sources)) == "onec"  # `glame check` and `glame run` go 1C first
    assert [s.name for s in sources.values() if s.daily] == ["onec", "yandex_metrika", "instagram", "vk", "telegram"]


def test_a_throwaway_source_appears_in_the_definitions_and_the_daily_schedule(tmp_path):
    code = """
import dagster as dg
from datetime import date
from glame_pipelines.definitions import defs
from glame_pipelines.defs.schedules import daily_run_request
dg.Definitions.validate_loadable(defs)
graph = defs.resolve_asset_graph()
key = dg.AssetKey(["wildberries", "orders"])
assert key in graph.get_all_asset_keys(), "asset"
assert "wildberries" in defs.resources, "resource"
assert graph.get(key).freshness_policy is not None, "freshness"
assert key in defs.resolve_job_def("daily_analytics_job").asset_layer.selected_asset_keys, "daily job"
request = daily_run_request(date(2025, 6, 10), graph, env={"WILDBERRIES_API_TOKEN": "t"})
assert set(request.asset_selection) == {key}, request.asset_selection
skipped = daily_run_request(date(2025, 6, 10), graph, env={"VK_ACCESS_TOKEN": "t", "VK_GROUP_ID": "1"})
assert "wildberries (set WILDBERRIES_API_TOKEN)" in skipped.tags["glame/skipped_sources"]
print("seen")
"""
    result = python(code, {}, tmp_path)
    assert result.returncode == 0 and "seen" in result.stdout, result.stdout + result.stderr[-3000:]


def test_a_throwaway_source_is_checked_by_glame_check(tmp_path):
    unset = python("", {}, tmp_path, "check", "--only", "wildberries")
    assert unset.returncode == 0 and "SKIP wildberries" in unset.stdout and "WILDBERRIES_API_TOKEN" in unset.stdout
    ok = python("", {"WILDBERRIES_API_TOKEN": "t", "WILDBERRIES_SELLER_ID": "s-42"}, tmp_path, "check")
    assert "OK   wildberries     seller s-42 readable" in ok.stdout, ok.stdout + ok.stderr
    revoked = python("", {"WILDBERRIES_API_TOKEN": "revoked"}, tmp_path, "check", "--only", "wildberries")
    assert revoked.returncode == 1 and "FAIL wildberries" in revoked.stdout and "issue a new one" in revoked.stdout


def test_a_throwaway_source_is_loaded_by_glame_run_only(warehouse_url, tmp_path):
    last = date.today() - timedelta(3)
    env = {
        "WILDBERRIES_API_TOKEN": "t",
        "GLAME_WAREHOUSE_URL": warehouse_url,
        "GLAME_DAGSTER_PG_URL": sqlalchemy_url(warehouse_url),
    }
    result = python(
        "",
        env,
        tmp_path,
        "run",
        "--start",
        str(last - timedelta(2)),
        "--end",
        str(last),
        "--only",
        "wildberries",
        "--no-dbt",
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "Loading wildberries for" in result.stdout and "ok    wildberries/orders" in result.stdout
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute("select date, orders from raw.wildberries_orders order by date").fetchall()
    assert rows == [(last - timedelta(n), (last - timedelta(n)).day) for n in (2, 1, 0)]


def test_a_throwaway_source_has_its_raw_table_created_by_the_dbt_step(warehouse_url, tmp_path):
    """The dbt step creates every raw table before it builds, so a source that never loaded leaves its models
    empty, not broken. Its list once came from a central module that knew only this project's sources: the
    throwaway source's table, declared in its own folder, must be created by that step too."""
    code = """
import os
import dagster as dg
import psycopg
from glame_pipelines.definitions import defs
from glame_pipelines.defs.partitions import daily_partitions
seed = dg.AssetKey(["reference", "sales_channels"])  # the smallest thing the dbt step builds
step = defs.resolve_assets_def(seed)  # bound to the definitions' resources, the warehouse's URL among them
day = daily_partitions.get_last_partition_key()  # the dbt assets are built by Moscow day
result = dg.materialize([step], selection=[seed], instance=dg.DagsterInstance.ephemeral(), partition_key=day)
assert result.success, "dbt step"
with psycopg.connect(os.environ["GLAME_WAREHOUSE_URL"]) as conn:
    print("rows", conn.execute("select count(*) from raw.wildberries_orders").fetchone()[0])
"""
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select to_regclass('raw.wildberries_orders')").fetchone()[0] is None
    result = python(code, {"GLAME_WAREHOUSE_URL": warehouse_url}, tmp_path)
    assert result.returncode == 0 and "rows 0" in result.stdout, result.stdout + result.stderr[-3000:]


def test_every_raw_table_belongs_to_one_source_or_to_the_warehouse(monkeypatch):
    """A raw table is named once: a second source declaring the same name would silently share its rows."""
    names = [table.name for table in warehouse_tables.all_raw_tables()]
    assert len(names) == len(set(names)) and {"load_rejects", "source_state", "onec_sales"} <= set(names)
    twin = dataclasses.replace(all_sources()["vk"], name="vk_again")
    monkeypatch.setattr(warehouse_tables, "all_sources", lambda: {**all_sources(), twin.name: twin})
    with pytest.raises(ValueError, match="vk_group_stats"):
        warehouse_tables.all_raw_tables()


# --- one definition of each thing ------------------------------------------------------------------------

ENV_EXAMPLE = ROOT / ".env.example"


def example_variables() -> set[str]:
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M))


def test_env_example_lists_every_variable_each_source_declares():
    listed = example_variables()
    for source in all_sources().values():
        declared = set(source.variable_meanings()) - set(source.aliases)  # an old name is read, not advertised
        assert declared <= listed, f"{source.name}: {sorted(declared - listed)} missing from .env.example"


def test_every_source_variable_in_env_example_is_declared_by_its_source():
    declared = {var for source in all_sources().values() for var in source.variable_meanings()}
    prefixes = ("ONEC_", "YANDEX_METRIKA_", "INSTAGRAM_", "VK_", "FTP_")
    stray = {v for v in example_variables() if v.startswith(prefixes)} - declared
    assert not stray, f"in .env.example but read by no source: {sorted(stray)}"


def test_every_source_variable_has_a_meaning():
    """The meaning is the resource field's description: more than the variable's name repeated."""
    for source in all_sources().values():
        for variable, meaning in source.variable_meanings().items():
            words = re.sub(r"[^A-Za-z]+", " ", meaning.replace(variable, "")).split()
            assert len(words) >= 2, (source.name, variable, meaning)


# --- no cycles, no reaching back into the definitions -------------------------------------------------------

ENTRY_POINTS = {"glame_pipelines/cli.py"}  # `glame`: loads the definitions after preparing the environment


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """(module, inside a function) for every import of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and child.module:
                found.append((child.module, inner))
            elif isinstance(child, ast.Import):
                found.extend((alias.name, inner) for alias in child.names)
            visit(child, inner)

    visit(tree, False)
    return found


# Run inside Superset's own virtualenv (.venv-bi), where selenium and superset are installed.
BI_VENV_MODULES = {"glame_pipelines/bi/render.py", "glame_pipelines/bi/superset_tasks.py"}


def package_modules() -> list[Path]:
    return sorted(
        p for p in (ROOT / "glame_pipelines").rglob("*.py") if str(p.relative_to(ROOT)) not in BI_VENV_MODULES
    )


def test_no_module_imports_the_definitions_except_the_entry_points():
    offenders = [
        str(p.relative_to(ROOT))
        for p in package_modules()
        if any(module == "glame_pipelines.definitions" for module, _ in imports_of(p))
        and str(p.relative_to(ROOT)) not in ENTRY_POINTS
    ]
    assert not offenders


def test_the_package_imports_without_cycles():
    """Each module imported first in a fresh interpreter: a cycle between module-level imports fails one."""
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for p in package_modules()]
    code = (
        "import importlib, sys\nfailed = []\nfor name in sys.argv[1:]:\n"
        "    for loaded in [m for m in sys.modules if m.startswith('glame_pipelines')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n        importlib.import_module(name)\n"
        "    except ImportError as error:\n        failed.append(f'{name}: {error}')\n"
        "print('\\n'.join(failed))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "GLAME_SOURCE_PACKAGES": ""},
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr[-2000:]


@pytest.mark.parametrize("folder", sorted(PROJECT_SOURCES))
def test_each_source_folder_declares_itself(folder):
    source = all_sources()[folder]
    assert (ROOT / "glame_pipelines" / "defs" / folder / "source.py").exists()
    assert source.label and source.check and source.required
    assert source.daily or source.load, f"{folder}: `glame run` needs a way to load it"
