"""FTP people counters: one file per store per day, dropped by the in-store counters."""

from glame_pipelines.defs.ftp_counters.resources import USER_ALIAS, FtpResource, env_mapping
from glame_pipelines.defs.ftp_counters.tables import TABLES
from glame_pipelines.sources import SandboxHook, Source, check_retry


def check(resource: FtpResource) -> str:
    files = resource.client(retry=check_retry()).list_files()
    stores = sorted({f.store_folder for f in files if f.store_folder})
    return f"{len(files)} files in {len(stores)} store folders ({', '.join(stores[:6])})"


SOURCE = Source(
    name="ftp_counters",
    order=60,
    label="FTP counters",
    resource=FtpResource,
    variables=env_mapping,
    required=("FTP_HOST", "FTP_PASSWORD"),
    alternatives=((("FTP_USER",), (USER_ALIAS,)),),
    aliases={USER_ALIAS: "the old name of FTP_USER, read when FTP_USER is unset (rename it)"},
    check=check,
    tables=TABLES,
    daily=False,  # one dynamic partition per file, loaded by the arrival sensor
    load="glame_pipelines.defs.ftp_counters.window:load_window",
    sandbox=SandboxHook(env=lambda sandbox: sandbox.ftp.env()),
)
