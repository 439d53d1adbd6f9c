"""Superset-side tasks, run by `glame bi` with .venv-bi's Python (this file imports Superset, never
glame_pipelines): create the admin, import the dashboards from bi/assets, export them back.

    python superset_tasks.py setup|export ASSETS_DIR

Settings come from the environment the launcher sets (GLAME_BI_*). The exported files are normalised so
that exporting right after an import changes no file: numeric ids (which differ between installations)
are replaced by stable numbers, the database URI by a placeholder, the export timestamp by a constant.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import yaml

ADMIN = "admin"
DATABASE_FILE = "databases/glame_warehouse.yaml"
PASSWORD_MASK = "X" * 10  # what Superset's export writes in place of a database password
URI_PLACEHOLDER = f"postgresql+psycopg2://glame_superset:{PASSWORD_MASK}@warehouse/glame"
FIXED_TIMESTAMP = "2026-01-01T00:00:00+00:00"


def app_context():
    from superset.app import create_app

    app = create_app()
    return app, app.app_context()


def masked(uri: str) -> str:
    """The URI with its password masked the way Superset's export masks it."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", rf"\1{PASSWORD_MASK}@", uri)


def ensure_admin() -> None:
    from superset import security_manager

    password = os.environ["GLAME_BI_ADMIN_PASSWORD"]
    user = security_manager.find_user(username=ADMIN)
    if user is None:
        role = security_manager.find_role("Admin")
        security_manager.add_user(ADMIN, "GLAME", "Admin", "admin@glame.local", role, password=password)
    else:
        security_manager.reset_password(user.id, password)


def read_assets(assets: Path) -> dict[str, str]:
    """The bundle as Superset's importer wants it, with this machine's warehouse URI filled in."""
    contents = {str(p.relative_to(assets)): p.read_text(encoding="utf-8") for p in sorted(assets.rglob("*.yaml"))}
    database = yaml.safe_load(contents[DATABASE_FILE])
    database["sqlalchemy_uri"] = masked(os.environ["GLAME_BI_READER_URL"])
    contents[DATABASE_FILE] = yaml.safe_dump(database, sort_keys=False, allow_unicode=True)
    return contents


def upgrade_and_init() -> None:
    """`superset db upgrade` and `superset init` in this process (each CLI call costs an app start)."""
    import superset
    from flask_migrate import upgrade
    from superset import appbuilder, db, security_manager

    upgrade(directory=str(Path(superset.__file__).parent / "migrations"))
    appbuilder.add_permissions(update_perms=True)
    security_manager.sync_role_definitions()
    db.session.commit()


def import_assets(assets: Path) -> None:
    """Import databases, datasets, charts, then dashboards, each overwriting what the UUID names: importing a
    dashboard bundle alone never updates existing charts or datasets, so a changed chart would not land."""
    from flask import g
    from superset import db, security_manager
    from superset.commands.chart.importers.v1 import ImportChartsCommand
    from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
    from superset.commands.database.importers.v1 import ImportDatabasesCommand
    from superset.commands.dataset.importers.v1 import ImportDatasetsCommand
    from superset.connectors.sqla.models import SqlaTable

    g.user = security_manager.find_user(username=ADMIN)
    contents = read_assets(assets)
    passwords = {DATABASE_FILE: os.environ["GLAME_BI_READER_PASSWORD"]}
    steps = (
        (ImportDatabasesCommand, "Database", ("databases/",)),
        (ImportDatasetsCommand, "SqlaTable", ("databases/", "datasets/")),
        (ImportChartsCommand, "Slice", ("databases/", "datasets/", "charts/")),
        (ImportDashboardsCommand, "Dashboard", ("databases/", "datasets/", "charts/", "dashboards/")),
    )
    for command, kind, folders in steps:
        part = {name: text for name, text in contents.items() if name.startswith(folders)}
        part["metadata.yaml"] = yaml.safe_dump({"version": "1.0.0", "type": kind, "timestamp": FIXED_TIMESTAMP})
        command(part, passwords=passwords, overwrite=True).run()
    # a dataset written by hand (without columns) learns them from the warehouse once
    for dataset in db.session.query(SqlaTable).all():
        if not dataset.columns:
            dataset.fetch_metadata()
    db.session.commit()
    print(f"imported {sum(1 for name in contents if name != 'metadata.yaml')} objects from {assets}")


def canonical_ids(files: dict[str, dict]) -> dict[str, dict[int, int]]:
    """Stable numbers for charts and datasets: their rank by UUID."""
    charts = sorted((c["uuid"], c["_id"]) for n, c in files.items() if n.startswith("charts/"))
    return {"chart": {old: new for new, (_, old) in enumerate(charts, start=1)}}


def remap_dashboard(config: dict, chart_ids: dict[int, int]) -> dict:
    for node in config.get("position", {}).values():
        if isinstance(node, dict) and node.get("type") == "CHART":
            node["meta"]["chartId"] = chart_ids.get(node["meta"].get("chartId"), node["meta"].get("chartId"))
    metadata = config.get("metadata", {})
    if "chart_configuration" in metadata:
        remapped = {}
        for key, value in metadata["chart_configuration"].items():
            new = chart_ids.get(int(key), int(key))
            if isinstance(value, dict):
                value["id"] = new
                scope = value.get("crossFilters", {}).get("scope")
                if isinstance(scope, dict):
                    scope["excluded"] = sorted(chart_ids.get(i, i) for i in scope.get("excluded", []))
            remapped[str(new)] = value
        metadata["chart_configuration"] = dict(sorted(remapped.items(), key=lambda kv: int(kv[0])))
    for native in metadata.get("native_filter_configuration", []):
        if "chartsInScope" in native:
            native["chartsInScope"] = sorted(chart_ids.get(i, i) for i in native["chartsInScope"])
        scope = native.get("scope", {})
        if scope.get("excluded"):
            scope["excluded"] = sorted(chart_ids.get(i, i) for i in scope["excluded"])
    global_scope = metadata.get("global_chart_configuration", {}).get("scope", {})
    if global_scope.get("excluded"):
        global_scope["excluded"] = sorted(chart_ids.get(i, i) for i in global_scope["excluded"])
    for key in ("shared_label_colors", "map_label_colors", "color_scheme_domain"):
        metadata.pop(key, None)  # written by the browser on each view, not part of the design
    return config


def normalise(name: str, config: dict, chart_ids: dict[int, int]) -> dict:
    config.pop("_id", None)
    if name == "metadata.yaml":
        config["timestamp"] = FIXED_TIMESTAMP
    elif name.startswith("databases/"):
        config["sqlalchemy_uri"] = URI_PLACEHOLDER
    elif name.startswith("charts/"):
        params = config.get("params") or {}
        for key in ("slice_id", "dashboards", "datasource"):
            params.pop(key, None)
        config["query_context"] = None  # rebuilt by the browser; holds numeric ids
    elif name.startswith("dashboards/"):
        remap_dashboard(config, chart_ids)
    return config


CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch - y - e iu ia".split(),  # noqa: SIM905
        strict=True,
    )
)


def slugify(title: str) -> str:
    latin = "".join(
        CYRILLIC.get(ch, ch) if ch.lower() == ch else CYRILLIC.get(ch.lower(), ch).capitalize() for ch in title
    ).replace("-", "")
    return re.sub(r"[^A-Za-z0-9]+", "_", latin).strip("_")


def file_name(name: str, config: dict) -> str:
    """Names without Superset's numeric id suffix (ids differ between installations)."""
    if name.startswith("dashboards/"):
        return f"dashboards/{config.get('slug') or slugify(config['dashboard_title'])}.yaml"
    if name.startswith("charts/"):
        return f"charts/{slugify(config['slice_name'])}_{config['uuid'][:8]}.yaml"
    if name.startswith("datasets/"):
        return re.sub(r"_\d+\.yaml$", ".yaml", name)
    return name


def export_assets(assets: Path) -> None:
    from flask import g
    from superset import db, security_manager
    from superset.commands.dashboard.export import ExportDashboardsCommand
    from superset.models.dashboard import Dashboard
    from superset.models.slice import Slice

    g.user = security_manager.find_user(username=ADMIN)
    ids = [d.id for d in db.session.query(Dashboard).order_by(Dashboard.id)]
    chart_id_by_uuid = {str(s.uuid): s.id for s in db.session.query(Slice)}
    files: dict[str, dict] = {}
    for name, content in ExportDashboardsCommand(ids).run():
        config = yaml.safe_load(content() if callable(content) else content)
        if name.startswith("charts/"):
            config["_id"] = chart_id_by_uuid[config["uuid"]]
        files[name] = config
    chart_ids = canonical_ids(files)["chart"]
    written: set[Path] = set()
    for name, config in files.items():
        target = assets / file_name(name, config)
        config = normalise(name, config, chart_ids)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(config, sort_keys=True, allow_unicode=True, width=120)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.add(target)
    removed = [p for p in assets.rglob("*.yaml") if p not in written]
    for path in removed:
        path.unlink()
    print(f"exported {len(written)} files to {assets} ({len(removed)} removed)")


def main(argv: list[str]) -> int:
    task, assets = argv[1], Path(argv[2])
    app, context = app_context()
    with context, app.test_request_context():
        if task == "setup":
            upgrade_and_init()
            ensure_admin()
            import_assets(assets)
        elif task == "export":
            export_assets(assets)
        else:
            raise SystemExit(f"unknown task {task}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
