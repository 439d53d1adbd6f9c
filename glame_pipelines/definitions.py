"""The code location: every source's assets, the dbt models, jobs, schedules and sensors."""

import dagster as dg
from dagster_dbt import DbtCliResource

from glame_pipelines.defs.automation import (
    alert_on_run_failure,
    daily_analytics_job,
    daily_analytics_schedule,
    with_freshness,
    instagram_stories_job,
    instagram_stories_schedule,
    sources_job,
)
from glame_pipelines.defs.bi import dashboard_specs
from glame_pipelines.defs.dbt.assets import glame_dbt_daily_models, glame_dbt_models
from glame_pipelines.defs.dbt.automation import models_automation, models_job
from glame_pipelines.defs.dbt.manifest import dbt_executable
from glame_pipelines.defs.dbt.project import dbt_project
from glame_pipelines.defs.digest import resources as digest
from glame_pipelines.defs.digest.assets import anomaly_checks, digest_after_daily_models, digest_job, morning_digest
from glame_pipelines.defs.executors import executor_from_env
from glame_pipelines.defs.ftp_counters import resources as ftp
from glame_pipelines.defs.ftp_counters.assets import ftp_counter_assets, ftp_counter_checks
from glame_pipelines.defs.housekeeping import instance_housekeeping_job, instance_housekeeping_schedule
from glame_pipelines.defs.ftp_counters.sensors import (
    counter_coverage_job,
    counter_coverage_schedule,
    ftp_counter_files_job,
    ftp_counter_files_sensor,
)
from glame_pipelines.defs.instagram import resources as instagram
from glame_pipelines.defs.instagram.assets import instagram_assets
from glame_pipelines.defs.onec import resources as onec
from glame_pipelines.defs.onec.assets import onec_assets
from glame_pipelines.defs.onec_files.assets import InboxResource, inbox_job, sales_inbox_sensor
from glame_pipelines.defs.onec_files.assets import sales as sales_files
from glame_pipelines.defs.shared import WarehouseResource, env_fields
from glame_pipelines.defs.telegram import resources as telegram
from glame_pipelines.defs.telegram.assets import telegram_assets
from glame_pipelines.defs.vk import resources as vk
from glame_pipelines.defs.vk.assets import vk_assets
from glame_pipelines.defs.yandex_metrika import resources as metrika
from glame_pipelines.defs.yandex_metrika.assets import yandex_metrika_assets
from glame_pipelines.warehouse.connection import WAREHOUSE_URL_ENV


def source_resources() -> dict[str, dg.ConfigurableResource]:
    """Each source's resource, bound to the variables set in this process's environment."""
    return {
        "warehouse": WarehouseResource(**env_fields(WarehouseResource, {"url": WAREHOUSE_URL_ENV})),
        "onec": onec.OnecResource(**env_fields(onec.OnecResource, onec.ENV)),
        "yandex_metrika": metrika.MetrikaResource(**env_fields(metrika.MetrikaResource, metrika.ENV)),
        "instagram": instagram.InstagramResource(**env_fields(instagram.InstagramResource, instagram.ENV)),
        "vk": vk.VkResource(**env_fields(vk.VkResource, vk.ENV)),
        "telegram": telegram.TelegramResource(**env_fields(telegram.TelegramResource, telegram.ENV)),
        "ftp_counters": ftp.FtpResource(**env_fields(ftp.FtpResource, ftp.env_mapping())),
        "inbox": InboxResource(**env_fields(InboxResource, {"directory": "GLAME_INBOX_DIR"})),
        "digest_chat": digest.DigestChatResource(**env_fields(digest.DigestChatResource, digest.ENV)),
    }


def build_definitions() -> dg.Definitions:
    source_assets = [*onec_assets, *yandex_metrika_assets, *instagram_assets, *vk_assets, *telegram_assets,
                     *ftp_counter_assets, sales_files]
    return with_freshness(dg.Definitions(
        assets=[*source_assets, glame_dbt_models, glame_dbt_daily_models, morning_digest, *dashboard_specs()],
        asset_checks=[*ftp_counter_checks, *anomaly_checks],
        jobs=[sources_job, daily_analytics_job, models_job, instagram_stories_job, ftp_counter_files_job, inbox_job,
              counter_coverage_job, digest_job, instance_housekeeping_job],
        schedules=[daily_analytics_schedule, instagram_stories_schedule, counter_coverage_schedule,
                   instance_housekeeping_schedule],
        sensors=[ftp_counter_files_sensor, sales_inbox_sensor, models_automation,
                 alert_on_run_failure, digest_after_daily_models],
        executor=executor_from_env(),
        resources={
            **source_resources(),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        },
    ))


defs = build_definitions()
