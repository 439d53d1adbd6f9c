"""Which executor runs a job's steps, chosen by configuration alone (GLAME_EXECUTOR), never by code.

- `in_process` (default): every step in the run's own process, one after another. A daily run's steps do
  0.1–2 s of work each; under `multiprocess` each also paid a process start, and the run a forkserver
  importing the definitions again (`bench/serve_bench.py daily`: the load run took 66 s forked, 11 s in
  process). Pools still hold across runs (1C one request stream per base).
- `multiprocess`: each step in its own process, forked from a server that has imported the definitions
  once per run (`forkserver`), as many at once as the machine has cores: isolation, and parallel steps.
- `celery`: each step is a Celery task for workers on other machines (`dagster-celery worker start`),
  through GLAME_CELERY_BROKER (RabbitMQ `pyamqp://…` or Redis `redis://…`). A task is acknowledged only
  when its step ends, so a worker killed mid-step hands it to another worker; the loads are transactional
  and replace their window, so the repeated step neither loses nor doubles rows.
"""

from __future__ import annotations

import os

import dagster as dg
import yaml
from dagster_celery import celery_executor

EXECUTOR_ENV = "GLAME_EXECUTOR"
DEFAULT_BROKER = "pyamqp://guest:guest@127.0.0.1:5672//"
# Redelivery of the step of a worker that died: acknowledge late, reject on a lost worker.
CELERY_SETTINGS = {"task_acks_late": True, "task_reject_on_worker_lost": True, "worker_prefetch_multiplier": 1}


# Named explicitly: without a list Dagster preloads only its executor module, and each step imported the rest.
FORKSERVER_PRELOAD = ["glame_pipelines.definitions"]
MULTIPROCESS = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": FORKSERVER_PRELOAD}}}, name="multiprocess"
)


def celery_config(env=None) -> dict:
    """The executor's config; the workers must be started with the same (see `worker_config_yaml`)."""
    env = os.environ if env is None else env
    return {
        "broker": env.get("GLAME_CELERY_BROKER") or DEFAULT_BROKER,
        "backend": env.get("GLAME_CELERY_BACKEND") or "rpc://",
        "config_source": {**CELERY_SETTINGS, "task_default_queue": env.get("GLAME_CELERY_QUEUE") or "dagster"},
    }


def worker_config_yaml(env=None) -> str:
    """The YAML `dagster-celery worker start -y` reads: the same broker and settings as the executor."""
    return yaml.safe_dump({"execution": {"config": celery_config(env)}}, sort_keys=True)


def executor_from_env(env=None) -> dg.ExecutorDefinition:
    env = os.environ if env is None else env
    name = env.get(EXECUTOR_ENV) or "in_process"
    if name == "celery":
        return celery_executor.configured(celery_config(env), name="glame_celery")
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return MULTIPROCESS
    raise ValueError(f"{EXECUTOR_ENV}={name!r}: expected in_process, multiprocess or celery")
