"""The deployment files (systemd, Compose, Helm) start what `glame serve` starts: the same processes, the
same commands and the same variables; the Helm values carry the instance settings of dagster.yaml.
(Images cannot be built on these machines, so the files are checked, not run.)"""

from __future__ import annotations

import configparser
import itertools
import os
import shlex
from pathlib import Path

import yaml

from glame_pipelines import serve
from glame_pipelines.runtime import DAGSTER_DEFAULTS, prepare

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = {
    "code-server": "glame-code-server.service",
    "webserver": "glame-webserver.service",
    "daemon": "glame-daemon.service",
}
COMPOSE_SERVICES = {"code-server": "code", "webserver": "webserver", "daemon": "daemon"}
VALUE_FLAGS = {"-h", "-p", "-w"}  # hosts, ports and workspace paths differ by design between deployments


def normalized(argv: list[str]) -> list[str]:
    """The program's name and its arguments, with the values of host, port and workspace flags blanked."""
    out = [os.path.basename(argv[0])]
    for previous, arg in itertools.pairwise(argv):
        out.append("*" if previous in VALUE_FLAGS else arg)
    return out


def serve_commands() -> dict[str, list[str]]:
    return {p.name: normalized(p.argv) for p in serve.topology(serve.ServeSettings(), Path("workspace.yaml"))}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(DEPLOY / "systemd" / name)
    return parser


def env_names(path: Path) -> set[str]:
    return {line.split("=", 1)[0] for line in path.read_text().splitlines() if "=" in line and not line.startswith("#")}


def test_prepare_exports_exactly_the_runtime_variables(monkeypatch, tmp_path):
    """If `glame serve` starts handing its processes a new variable, RUNTIME_ENV (and so the deployment
    files checked below) must name it."""
    for name in serve.RUNTIME_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GLAME_WAREHOUSE_URL", "postgresql://glame:pw@db.example:5432/glame")
    monkeypatch.setenv("GLAME_DAGSTER_PG_URL", "postgresql+psycopg2://glame:pw@db.example:5432/dagster")
    before = dict(os.environ)
    prepare()
    changed = {k for k, v in os.environ.items() if before.get(k) != v}
    assert changed | {"GLAME_WAREHOUSE_URL", "GLAME_DAGSTER_PG_URL"} == set(serve.RUNTIME_ENV)


def test_systemd_units_run_the_serve_commands_with_its_variables():
    commands = serve_commands()
    for process, name in UNITS.items():
        service = unit(name)["Service"]
        argv = shlex.split(service["ExecStart"])
        assert normalized(argv) == commands[process], name
        assert service["EnvironmentFile"] == "/etc/glame/glame.env"
        assert service["KillMode"] == "control-group" and int(service["TimeoutStopSec"]) <= 15
    assert set(serve.RUNTIME_ENV) | set(serve.SERVE_ENV) <= env_names(DEPLOY / "systemd" / "glame.env.example")
    target = unit("glame.target")["Unit"]["Wants"].split()
    assert sorted(target) == sorted(UNITS.values())
    grpc = yaml.safe_load(serve.workspace_yaml(serve.ServeSettings()))
    assert yaml.safe_load((DEPLOY / "workspace.yaml").read_text()) == grpc


def test_compose_runs_the_serve_commands_with_its_variables_and_superset():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    commands = serve_commands()
    for process, name in COMPOSE_SERVICES.items():
        assert normalized(services[name]["command"]) == commands[process], name
        assert set(serve.RUNTIME_ENV) | set(serve.SERVE_ENV) <= set(services[name]["environment"])
        assert services[name]["stop_grace_period"] == "15s"
    workspace = yaml.safe_load((DEPLOY / "workspace-compose.yaml").read_text())["load_from"][0]["grpc_server"]
    code_port = services["code"]["command"][services["code"]["command"].index("-p") + 1]
    assert workspace == {"host": "code", "port": int(code_port), "location_name": serve.CODE_LOCATION}
    assert services["webserver"]["ports"] == ["127.0.0.1:3000:3000"]  # never published beyond the host
    assert services["superset"]["command"] == ["glame", "bi"] and "postgres" in services
    assert "bi/requirements.txt" in (DEPLOY / "Dockerfile").read_text()


def test_helm_values_serve_the_module_and_mirror_dagster_yaml():
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    instance = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    deployment = values["dagster-user-deployments"]["deployments"][0]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", serve.DEFINITIONS_MODULE]
    assert deployment["port"] == serve.ServeSettings().grpc_port
    names = {item["name"] for item in deployment["env"]}
    assert set(serve.RUNTIME_ENV) - {"GLAME_DB_PASSWORD"} <= names  # the password comes from the secret
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    pools, runs = values["concurrency"]["pools"], values["concurrency"]["runs"]
    assert (pools["defaultLimit"], pools["granularity"]) == (
        instance["concurrency"]["pools"]["default_limit"],
        instance["concurrency"]["pools"]["granularity"],
    )
    assert runs["maxConcurrentRuns"] == instance["concurrency"]["runs"]["max_concurrent_runs"]
    queue = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queue["dequeueIntervalSeconds"] == instance["run_coordinator"]["config"]["dequeue_interval_seconds"]
    monitoring, retries = values["dagsterDaemon"]["runMonitoring"], values["dagsterDaemon"]["runRetries"]
    for helm_key, yaml_key in (
        ("startTimeoutSeconds", "start_timeout_seconds"),
        ("maxRuntimeSeconds", "max_runtime_seconds"),
        ("pollIntervalSeconds", "poll_interval_seconds"),
    ):
        assert monitoring[helm_key] == instance["run_monitoring"][yaml_key], helm_key
    assert (retries["maxRetries"], retries["retryOnAssetOrOpFailure"]) == (
        instance["run_retries"]["max_retries"],
        instance["run_retries"]["retry_on_asset_or_op_failure"],
    )
    assert values["retention"]["sensor"]["purgeAfterDays"] == instance["retention"]["sensor"]["purge_after_days"]
    assert values["retention"]["schedule"]["purgeAfterDays"] == instance["retention"]["schedule"]["purge_after_days"]


def test_deploy_files_set_the_dagster_defaults_glame_serve_sets():
    """`glame serve` hands its processes DAGSTER_DEFAULTS (the event batch size the counter backlog relies
    on); a deployment with another value, or without it, would store a year of partition events one by one."""
    systemd = dict(
        line.split("=", 1)
        for line in (DEPLOY / "systemd" / "glame.env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["x-glame-env"]
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    code = {e["name"]: e["value"] for e in values["dagster-user-deployments"]["deployments"][0]["env"]}
    runs = dict(item.split("=", 1) for item in values["runLauncher"]["config"]["k8sRunLauncher"]["envVars"])
    for name, value in DAGSTER_DEFAULTS.items():
        assert name in serve.RUNTIME_ENV
        for where, env in (("systemd", systemd), ("compose", compose), ("helm code", code), ("helm runs", runs)):
            assert env.get(name) == value, (where, name)


def test_prepare_keeps_an_operators_dagster_setting(monkeypatch):
    """The defaults are defaults: an operator's DAGSTER_EVENT_BATCH_SIZE is what the processes get."""
    for name in serve.RUNTIME_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GLAME_WAREHOUSE_URL", "postgresql://glame:pw@db.example:5432/glame")
    monkeypatch.setenv("GLAME_DAGSTER_PG_URL", "postgresql+psycopg2://glame:pw@db.example:5432/dagster")
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "50")
    prepare()
    assert os.environ["DAGSTER_EVENT_BATCH_SIZE"] == "50"


def test_every_compose_service_caps_its_log():
    """Docker's json-file driver keeps all a container prints unless told a size: years unattended fill the disk."""
    services = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["services"]
    for name, service in services.items():
        options = (service.get("logging") or {}).get("options") or {}
        assert options.get("max-size") and int(options.get("max-file", 0)) >= 1, name
