"""No token, password or Basic-auth value reaches a log line, stdout/stderr or a Dagster event, even
when every source retries and then fails on its credentials."""

from __future__ import annotations

import base64
import logging

import dagster as dg
from conftest import onec_resources, replaced, web_resources

from glame_pipelines.defs.instagram.assets import account_daily, media, stories
from glame_pipelines.defs.onec.assets import register_assets
from glame_pipelines.defs.telegram.assets import channel_daily, channel_posts
from glame_pipelines.defs.vk.assets import group_daily, group_stats, wall_posts
from glame_pipelines.defs.yandex_metrika.assets import traffic
from glame_pipelines.settings import moscow_today

SECRETS = {
    "metrika": "y0_SECRETmetrikaTOKEN7f3a9c",
    "instagram": "EAASECRETinstagramTOKEN55d1e",
    "vk": "vk1.a.SECRETvkTOKEN0b8e2f",
    "telegram": "7700112233:SECRETtelegramTOKENa1b2c3d4e5",
}
ONEC_PASSWORD = "SECRET-1c-Пароль-42"
WRONG = {
    "metrika": "y0_WRONGmetrika111",
    "instagram": "EAAWRONGinstagram222",
    "vk": "vk1.a.WRONGvk333",
    "telegram": "7700112233:WRONGtelegram444",
}


def forbidden(login: str) -> list[str]:
    values = [*SECRETS.values(), *WRONG.values(), ONEC_PASSWORD]
    values.append(base64.b64encode(f"{login}:{ONEC_PASSWORD}".encode()).decode())
    values += [v.split(":", 1)[1] for v in values if v.startswith("7700112233:")]
    return values


def test_no_secret_reaches_logs_stdout_or_dagster_events(
    warehouse_url, web_sandbox, web_apis, sandbox, onec_api, onec_env, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    for name, api in web_apis.items():
        api.token = SECRETS[name]
    onec_api.password = ONEC_PASSWORD
    resources = {
        **web_resources(warehouse_url, web_sandbox, web_apis),
        **onec_resources(warehouse_url, {**onec_env, "ONEC_PASSWORD": ONEC_PASSWORD}),
    }
    latest = str(moscow_today() - __import__("datetime").timedelta(1))
    partitioned = [traffic, account_daily, group_stats, group_daily, channel_daily, register_assets[0]]
    unpartitioned = [media, stories, wall_posts, channel_posts]
    instance = dg.DagsterInstance.ephemeral()
    runs = []
    # every source retries: rate limits, 5xx, proxy pages, truncated bodies
    for server in (web_sandbox, sandbox):
        server.faults.queue("rate_limit", "server_error", "html", "truncate", "bad_gateway")
    runs.append(
        dg.materialize(partitioned, resources=resources, instance=instance, partition_key=latest, raise_on_error=False)
    )
    runs.append(dg.materialize(unpartitioned, resources=resources, instance=instance, raise_on_error=False))
    # then every source fails on its credentials
    broken = dict(resources)
    for name, field in (
        ("yandex_metrika", "oauth_token"),
        ("instagram", "access_token"),
        ("vk", "access_token"),
        ("telegram", "bot_token"),
    ):
        broken[name] = replaced(
            resources[name], **{field: WRONG[name.split("_")[0] if name != "yandex_metrika" else "metrika"]}
        )
    broken["onec"] = replaced(resources["onec"], password="wrong-" + ONEC_PASSWORD)
    runs.append(
        dg.materialize(partitioned, resources=broken, instance=instance, partition_key=latest, raise_on_error=False)
    )
    runs.append(dg.materialize(unpartitioned, resources=broken, instance=instance, raise_on_error=False))

    assert runs[0].success and runs[1].success
    assert not runs[2].success and not runs[3].success
    events = "\n".join(
        str(record.dagster_event or "") + (record.user_message or "")
        for run in runs
        for record in instance.all_logs(run.run_id)
    )
    failures = [e for run in runs for e in run.get_step_failure_events()]
    assert len(failures) >= 9
    out, err = capfd.readouterr()
    text = "\n".join([events, caplog.text, out, err, *(str(f.step_failure_data) for f in failures)])
    assert "retry" in text  # the retries were logged...
    leaked = [secret for secret in forbidden(onec_env["ONEC_USERNAME"]) if secret in text]
    assert leaked == []  # ...and nothing secret with them
