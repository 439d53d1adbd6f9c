"""What a source is, and where the sources are found: each `defs/<source>/source.py` declares one `SOURCE`.

Nothing central lists the sources. The definitions, the daily schedule, the freshness policy, `glame run`,
`glame check`, the sandbox and the tests all iterate over `all_sources()`, which imports the `source`
module of every folder under `glame_pipelines/defs/` (and under each package named in
GLAME_SOURCE_PACKAGES, for sources kept outside this repository). Discovery happens when asked, never
at import time, and reads the environment when asked, so no source's missing variable stops another.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import dagster as dg

from glame_pipelines.clients.http import RetryPolicy
from glame_pipelines.warehouse.loader import RawTable

SOURCE_PACKAGES_ENV = "GLAME_SOURCE_PACKAGES"
PROJECT_SOURCES = "glame_pipelines.defs"


class SourceNotConfigured(RuntimeError):
    """Raised by a source's resource when variables it needs are unset; names them."""

    def __init__(self, missing: list[str]):
        super().__init__(f"not configured: set {', '.join(missing)} (see .env.example).")
        self.missing = missing


class CheckFailed(Exception):
    """A connection check that reached the source and found something to fix; the message says what."""


def check_retry() -> RetryPolicy:
    """`glame check` answers in seconds: two attempts, short waits."""
    return RetryPolicy(max_attempts=2, base_delay=0.2, max_delay=5)


@dataclass(frozen=True)
class SandboxHook:
    """How the demo and the tests point a source at its local simulator: the HTTP APIs it mounts on the
    sandbox server, and the variables that point the source at them once the sandbox is built."""

    env: Callable[[Any], dict[str, str]]  # (the built glame_pipelines.sandbox.build.Sandbox) -> variables
    apis: Callable[[Any], list] = lambda world: []  # (the sandbox's RetailWorld) -> HTTP simulators to mount


@dataclass(frozen=True)
class Source:
    """Everything the project needs to know about one source, declared once in its folder.

    `variables` maps the resource's fields to environment variables; their meaning is the field's
    description. `required` must all be set; each entry of `alternatives` is satisfied by any one of its
    sets of variables. A `daily` source's assets are daily-partitioned: the daily schedule and `glame run`
    load them over a window of Moscow days. Any other source names in `load` its own way for `glame run` to
    load a window (per-file partitions, an inbox), by reference, since that loader needs the source's assets.
    `tables` are its raw landing tables (declared in its folder's `tables.py`): the dbt step creates the
    missing ones before a build, so a source that never loaded leaves its models empty, not broken.
    """

    name: str
    label: str
    resource: type[dg.ConfigurableResource]
    variables: Mapping[str, str] | Callable[[], Mapping[str, str]]
    required: tuple[str, ...]
    check: Callable[[Any], str]
    tables: tuple[RawTable, ...] = ()
    alternatives: tuple[tuple[tuple[str, ...], ...], ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)  # old variable name -> its meaning
    daily: bool = True
    load: str | None = None  # "module:function" taking (defs, first, last); resolved when `glame run` loads
    freshness: bool = True
    turned_off: Callable[[Mapping[str, str] | None], dict[dg.AssetKey, str]] = lambda env=None: {}
    sandbox: SandboxHook | None = None
    key: str = ""  # the resource key its assets ask for, when not the source's name
    pool: Callable[[Mapping[str, str]], str] | None = None  # (environment) -> the pool its assets take
    order: int = 100  # where it comes in `glame check`, `glame run` and `glame status` (1C first)

    @property
    def resource_key(self) -> str:
        return self.key or self.name

    def pool_name(self, env: Mapping[str, str] | None = None) -> str | None:
        """The concurrency pool of the source's assets, named from what it talks to (a 1C base, a Metrika
        counter) so the limit holds per base or counter: two installations (code locations) on one instance
        share a pool only when they share the base. Read when the definitions load; no pool if `pool` is unset."""
        if self.pool is None:
            return None
        return self.pool(os.environ if env is None else env)

    def mapping(self) -> dict[str, str]:
        """Resource field -> variable, as read now (an alias may stand in for a variable)."""
        return dict(self.variables() if callable(self.variables) else self.variables)

    def variable_meanings(self) -> dict[str, str]:
        """Every variable of the source with what it means (the resource field's description)."""
        fields = self.resource.model_fields
        meanings = {var: fields[name].description or name for name, var in self.mapping().items()}
        return {**meanings, **self.aliases}

    def missing(self, env: Mapping[str, str] | None = None) -> list[str]:
        """Descriptions of the variables still to set; empty when the source is configured."""
        env = os.environ if env is None else env
        out = [name for name in self.required if not env.get(name)]
        for options in self.alternatives:
            if not any(all(env.get(name) for name in option) for option in options):
                out.append(" or ".join(" and ".join(option) for option in options))
        return out

    def is_configured(self, env: Mapping[str, str] | None = None) -> bool:
        return not self.missing(env)

    def load_window(self, defs: dg.Definitions, first, last):
        """Run the source's own loader for an inclusive window of Moscow days (see `load`)."""
        module, _, function = (self.load or "").partition(":")
        return getattr(importlib.import_module(module), function)(defs, first, last)

    def bound_resource(self) -> dg.ConfigurableResource:
        """The resource for the definitions: set variables bound as EnvVar (never shown in the UI)."""
        return self.resource(**env_fields(self.resource, self.mapping()))

    def resource_from_env(self) -> dg.ConfigurableResource:
        """The resource as the definitions bind it, for code that runs outside Dagster (`glame check`)."""
        return resource_from_env(self.resource, self.mapping())


def pool_for(source: str, identity: str | None) -> str:
    """`<source>:<identity>` (a pool name may hold anything but whitespace); the bare source's name while
    the source is unconfigured, so the definitions still load."""
    identity = "_".join((identity or "").split())
    return f"{source}:{identity}" if identity else source


def env_fields(resource: type[dg.ConfigurableResource], mapping: Mapping[str, str]) -> dict[str, Any]:
    """Resource fields bound to the variables that are set: EnvVar keeps values out of the UI, and an
    unset optional variable must not fail every run that touches the resource."""
    fields = resource.model_fields
    bound = {
        name: (dg.EnvVar.int(var) if fields[name].annotation is int else dg.EnvVar(var))
        for name, var in mapping.items()
        if os.environ.get(var)
    }
    return {**bound, **turned_off_fields(resource, mapping)}


def turned_off_fields(resource: type[dg.ConfigurableResource], mapping: Mapping[str, str]) -> dict[str, str]:
    """Fields whose variable is set but blank where the resource reads blank as "this feature is off"
    (1C sets a base has not got): bound to "" instead of falling back to the default."""
    off = getattr(resource, "empty_means_off", frozenset())
    return {
        name: ""
        for name, var in mapping.items()
        if name in off and var in os.environ and resource.is_off(os.environ[var])
    }


def resource_from_env(resource_class: type[dg.ConfigurableResource], mapping: Mapping[str, str]):
    """The resource with the values of the variables that are set, for code that runs outside Dagster."""
    values = {name: os.environ[var] for name, var in mapping.items() if os.environ.get(var)}
    values.update(turned_off_fields(resource_class, mapping))
    return resource_class(
        **{name: int(v) if resource_class.model_fields[name].annotation is int else v for name, v in values.items()}
    )


def source_packages() -> tuple[str, ...]:
    """This project's defs folder, then any package named in GLAME_SOURCE_PACKAGES (comma-separated)."""
    extra = [p.strip() for p in os.environ.get(SOURCE_PACKAGES_ENV, "").split(",") if p.strip()]
    return (PROJECT_SOURCES, *extra)


@cache
def _discover(packages: tuple[str, ...]) -> dict[str, Source]:
    found: dict[str, Source] = {}
    for package in packages:
        root = importlib.import_module(package)
        for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda i: i.name):
            name = f"{package}.{info.name}.source"
            if not info.ispkg or importlib.util.find_spec(name) is None:
                continue
            source = importlib.import_module(name).SOURCE
            if source.name in found:
                raise ValueError(f"two sources are named {source.name!r} ({name})")
            found[source.name] = source
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


def all_sources() -> dict[str, Source]:
    """Every source, by name, in their declared order."""
    return _discover(source_packages())


def daily_sources() -> list[Source]:
    """The sources the daily schedule loads for a window of days (the others have their own sensors)."""
    return [s for s in all_sources().values() if s.daily]


def turned_off_assets(env: Mapping[str, str] | None = None) -> dict[dg.AssetKey, str]:
    """Assets a configuration turns off (e.g. a 1C set the base has not got), with the reason."""
    return {key: reason for s in all_sources().values() for key, reason in s.turned_off(env).items()}
