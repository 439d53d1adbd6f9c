"""Local simulators of the source APIs, for the demo and the tests (never used in place of a configured source)."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from glame_pipelines.sandbox.ftp import FtpSandbox, write_counter_files
from glame_pipelines.sandbox.onec import DEFAULT_LOGIN, DEFAULT_PASSWORD, OnecApi
from glame_pipelines.sandbox.retail import RetailWorld
from glame_pipelines.sandbox.server import FaultPlan, SandboxServer
from glame_pipelines.sandbox.web import InstagramApi, MetrikaApi, TelegramApi, VkApi


class Sandbox:
    """The HTTP simulators and the FTP server, started and stopped together."""

    def __init__(self, http: SandboxServer, ftp: FtpSandbox):
        self.http, self.ftp = http, ftp

    @property
    def base_url(self) -> str:
        return self.http.base_url

    def api(self, name: str):
        return self.http.api(name)

    def start(self) -> "Sandbox":
        self.http.start()
        self.ftp.start()
        return self

    def stop(self) -> None:
        self.http.stop()
        self.ftp.stop()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def build_sandbox(port: int = 0, world: RetailWorld | None = None, faults: FaultPlan | None = None,
                  ftp_root: Path | None = None, counter_days: int = 45) -> tuple[Sandbox, dict[str, str]]:
    """Every simulator, and the variables that point the sources at them."""
    world = world or RetailWorld()
    onec, metrika = OnecApi(world), MetrikaApi(world.seed)
    instagram, vk = InstagramApi(world.seed, today=world.today), VkApi(world.seed, today=world.today)
    telegram = TelegramApi(world.seed)
    http = SandboxServer([onec, metrika, instagram, vk, telegram], port=port, faults=faults)
    ftp_root = Path(ftp_root or tempfile.mkdtemp(prefix="glame-ftp-"))
    write_counter_files(world, ftp_root, world.today - timedelta(counter_days), world.today)
    ftp = FtpSandbox(ftp_root, port=port + 1 if port else 0)
    env = {
        "ONEC_API_URL": http.url(onec),
        "ONEC_USERNAME": DEFAULT_LOGIN,
        "ONEC_PASSWORD": DEFAULT_PASSWORD,
        "YANDEX_METRIKA_API_URL": http.url(metrika),
        "YANDEX_METRIKA_COUNTER_ID": metrika.counter_id,
        "YANDEX_METRIKA_OAUTH_TOKEN": metrika.token,
        "INSTAGRAM_API_URL": http.url(instagram),
        "INSTAGRAM_ACCESS_TOKEN": instagram.token,
        "INSTAGRAM_BUSINESS_ACCOUNT_ID": instagram.account_id,
        "VK_API_URL": http.url(vk),
        "VK_ACCESS_TOKEN": vk.token,
        "VK_GROUP_ID": vk.group_id,
        "VK_REQUESTS_PER_SECOND": "20",
        "TELEGRAM_API_URL": http.url(telegram),
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_CHANNEL_USERNAME": telegram.channel,
        **ftp.env(),
    }
    return Sandbox(http, ftp), env
