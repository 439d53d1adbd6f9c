"""The FTP arrival sensor and the counter-file asset against a real FTP server (pyftpdlib) on 127.0.0.1."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from conftest import ftp_resource

from glame_pipelines.clients.ftp import FtpClient
from glame_pipelines.defs.ftp_counters.assets import counter_files, every_store_day_has_a_file, visits
from glame_pipelines.defs.ftp_counters.sensors import batches, ftp_counter_files_sensor, plan, run_request
from glame_pipelines.defs.warehouse import WarehouseResource
from glame_pipelines.settings import RANGE_END, RANGE_START, moscow_today

MEGACOUNT = "device_name: MEGACOUNT_3D\n10:00-11:00 in: {a} out: {b}\n11:00-12:00 in: 7 out: 6\ntotal_in: {t}\n"


def put(server, path: str, content: bytes, mtime: float | None = None) -> None:
    target = server.root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    if mtime:
        os.utime(target, (mtime, mtime))


def tick(server, cursor: str | None, instance: dg.DagsterInstance):
    context = dg.build_sensor_context(
        cursor=cursor, instance=instance, resources={"ftp_counters": ftp_resource(server)}
    )
    result = ftp_counter_files_sensor(context)
    return result, result.cursor


def keys(result, instance: dg.DagsterInstance | None = None) -> list[str]:
    """Every file the sensor's run requests cover: a partition, or a range of the partitions as they
    stand once the sensor's own add request is applied."""
    ordering = (instance.get_dynamic_partitions("ftp_counter_files") if instance else []) + [
        key for request in result.dynamic_partitions_requests or [] for key in request.partition_keys
    ]
    out = []
    for request in result.run_requests or []:
        if request.partition_key:
            out.append(request.partition_key)
        else:
            first, last = ordering.index(request.tags[RANGE_START]), ordering.index(request.tags[RANGE_END])
            out += ordering[first : last + 1]
    return sorted(out)


def test_plan_waits_for_a_stable_size():
    from glame_pipelines.clients.ftp import RemoteFile

    growing = RemoteFile("CENTRUM/251201.txt", 100, "20251201220000")
    ready, cursor = plan([growing], {})
    assert ready == [] and cursor["waiting"] == {growing.path: [100, "20251201220000"]}
    grown = RemoteFile(growing.path, 250, "20251201220005")
    ready, cursor = plan([grown], cursor)
    assert ready == []
    ready, cursor = plan([grown], cursor)
    assert ready == [grown] and cursor["loaded"] == {grown.path: [250, "20251201220005"]}
    assert plan([grown], cursor)[0] == []


def test_sensor_slow_upload_replacement_new_store_and_restart(ftp_sandbox):
    instance = dg.DagsterInstance.ephemeral()
    put(ftp_sandbox, "CENTRUM/251201.txt", b"device_name: MEGACOUNT_3D\n", mtime=time.time() - 60)
    result, cursor = tick(ftp_sandbox, None, instance)
    assert keys(result) == []  # first sight: wait
    put(ftp_sandbox, "CENTRUM/251201.txt", MEGACOUNT.format(a=5, b=4, t=12).encode(), mtime=time.time() - 30)
    result, cursor = tick(ftp_sandbox, cursor, instance)
    assert keys(result) == []  # still growing between the two polls
    result, cursor = tick(ftp_sandbox, cursor, instance)
    assert keys(result) == ["CENTRUM/251201.txt"]
    request = result.run_requests[0]
    assert request.run_key.startswith("CENTRUM/251201.txt:") and request.run_key.count(":") == 2
    assert result.dynamic_partitions_requests[0].partition_keys == ["CENTRUM/251201.txt"]
    saved = cursor
    # a restart: a new evaluation from the stored cursor requests nothing twice
    result, cursor = tick(ftp_sandbox, saved, instance)
    assert keys(result) == []
    # a new store folder and a corrected re-upload
    put(ftp_sandbox, "NEWSTORE/251201.txt", MEGACOUNT.format(a=1, b=1, t=8).encode(), mtime=time.time() - 20)
    put(ftp_sandbox, "CENTRUM/251201.txt", MEGACOUNT.format(a=9, b=8, t=16).encode(), mtime=time.time() - 10)
    result, cursor = tick(ftp_sandbox, cursor, instance)
    assert keys(result) == []
    result, cursor = tick(ftp_sandbox, cursor, instance)
    assert keys(result) == ["CENTRUM/251201.txt", "NEWSTORE/251201.txt"]
    assert result.run_requests[0].run_key != request.run_key  # a replaced file is a new run
    assert set(json.loads(cursor)["loaded"]) == {"CENTRUM/251201.txt", "NEWSTORE/251201.txt"}


def test_a_backlog_is_one_run_and_an_old_re_upload_its_own():
    """Regression: a year of files (1,095) was one run per file, about two hours through the queue."""
    from glame_pipelines.clients.ftp import RemoteFile

    known = ["A/240101.txt", "A/240102.txt", "A/240103.txt"]
    backlog = [RemoteFile(f"B/24{m:02}{d:02}.txt", 10, "1") for m in range(1, 13) for d in range(1, 29)]
    reupload = RemoteFile("A/240102.txt", 11, "2")
    groups = batches([*reversed(backlog), reupload], known)
    assert [[f.path for f in g] for g in groups] == [["A/240102.txt"], sorted(f.path for f in backlog)]
    single, batch = run_request(groups[0]), run_request(groups[1])
    assert single.partition_key == "A/240102.txt" and single.run_key == "A/240102.txt:11:2"
    assert (batch.tags[RANGE_START], batch.tags[RANGE_END]) == ("B/240101.txt", "B/241228.txt")
    assert batch.partition_key is None and batch.tags["glame/files"] == str(len(backlog))
    # the load names its asset: the models run after it rebuilds the counters' models (store_traffic_daily)
    assert single.asset_selection == batch.asset_selection == [visits.key]
    changed = run_request([*groups[1][:-1], RemoteFile(groups[1][-1].path, 99, "3")])
    assert changed.run_key != batch.run_key  # a replaced file in the batch is a new run


def test_sensor_skips_when_not_configured():
    from glame_pipelines.defs.ftp_counters.resources import FtpResource

    context = dg.build_sensor_context(resources={"ftp_counters": FtpResource()})
    assert "FTP_HOST" in ftp_counter_files_sensor(context).skip_message


def materialize(server, warehouse_url, paths, **resource_overrides):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(counter_files.name, paths)
    resources = {
        "ftp_counters": ftp_resource(server, **resource_overrides),
        "warehouse": WarehouseResource(url=warehouse_url),
    }
    tags = {"dagster/asset_partition_range_start": paths[0], "dagster/asset_partition_range_end": paths[-1]}
    return dg.materialize([visits], resources=resources, instance=instance, tags=tags, raise_on_error=False)


def test_files_load_and_a_reupload_replaces_the_day(ftp_sandbox, warehouse_url, conn):
    put(ftp_sandbox, "CENTRUM/251201.txt", MEGACOUNT.format(a=5, b=4, t=12).encode())
    put(ftp_sandbox, "YALTA/251201.txt", "дата;посетители\n01.12.2025;77\n".encode("cp1251"))
    assert materialize(ftp_sandbox, warehouse_url, ["CENTRUM/251201.txt", "YALTA/251201.txt"]).success
    totals = dict(conn.execute("select store_folder, sum(entries) from raw.ftp_counter_visits group by 1").fetchall())
    assert totals == {"CENTRUM": 12, "YALTA": 77}
    put(ftp_sandbox, "CENTRUM/251201.txt", MEGACOUNT.format(a=50, b=40, t=57).encode())
    assert materialize(ftp_sandbox, warehouse_url, ["CENTRUM/251201.txt"]).success
    assert conn.execute(
        "select sum(entries), count(*) from raw.ftp_counter_visits where store_folder = 'CENTRUM'"
    ).fetchone() == (57, 2)


def test_a_batch_of_files_leaves_what_loading_them_one_by_one_leaves(ftp_sandbox, warehouse_url, conn):
    """Regression guard for the batched writes (100 files a transaction): where two files of one run cover
    the same store-day, the later one wins that day, as when each file was its own transaction."""
    put(ftp_sandbox, "CENTRUM/251201.txt", b"date,visitors\n2025-12-01,10\n2025-12-02,20\n")
    put(ftp_sandbox, "CENTRUM/251202.txt", b"date,visitors\n2025-12-02,200\n")
    put(ftp_sandbox, "YALTA/251202.txt", MEGACOUNT.format(a=3, b=3, t=10).encode())
    query = "select store_folder, visit_date, file_path, entries from raw.ftp_counter_visits order by 1, 2, 3, 4"
    paths = ["CENTRUM/251201.txt", "CENTRUM/251202.txt", "YALTA/251202.txt"]
    for path in paths:
        assert materialize(ftp_sandbox, warehouse_url, [path]).success
    one_by_one = conn.execute(query).fetchall()
    assert [(r[1].day, r[3]) for r in one_by_one if r[0] == "CENTRUM"] == [(1, 10), (2, 200)]
    conn.execute("truncate raw.ftp_counter_visits, raw.ftp_counter_files, raw.ftp_counter_rejects")
    assert materialize(ftp_sandbox, warehouse_url, paths).success
    assert conn.execute(query).fetchall() == one_by_one
    assert conn.execute("select count(*) from raw.ftp_counter_files where status = 'loaded'").fetchone()[0] == 3


def test_a_malformed_line_is_quarantined_and_the_rest_loads(ftp_sandbox, warehouse_url, conn):
    put(ftp_sandbox, "CENTRUM/251202.txt", b"device_name: MEGACOUNT_3D\n10:00-11:00 in: 5 out: 4\n%%garbage%%\n")
    assert materialize(ftp_sandbox, warehouse_url, ["CENTRUM/251202.txt"]).success
    assert conn.execute("select sum(entries) from raw.ftp_counter_visits").fetchone()[0] == 5
    assert conn.execute("select file_path, line_no, raw_text, reason from raw.ftp_counter_rejects").fetchall() == [
        ("CENTRUM/251202.txt", 3, "%%garbage%%", "neither a `key: value` line nor an interval `HH:MM-HH:MM in out`")
    ]


def test_an_empty_file_fails_its_run_naming_it_and_others_still_load(ftp_sandbox, warehouse_url, conn):
    put(ftp_sandbox, "CENTRUM/251203.txt", b"")
    put(ftp_sandbox, "YALTA/251203.txt", MEGACOUNT.format(a=3, b=3, t=10).encode())
    result = materialize(ftp_sandbox, warehouse_url, ["CENTRUM/251203.txt", "YALTA/251203.txt"])
    assert not result.success
    message = result.get_step_failure_events()[0].step_failure_data.user_failure_data.description
    assert "CENTRUM/251203.txt has no valid row" in message
    assert conn.execute("select store_folder, sum(entries) from raw.ftp_counter_visits group by 1").fetchall() == [
        ("YALTA", 10)
    ]
    assert conn.execute(
        "select status from raw.ftp_counter_files where file_path = 'CENTRUM/251203.txt'"
    ).fetchone() == ("no valid row",)


def test_an_unknown_folder_is_loaded_and_flagged(ftp_sandbox, warehouse_url, conn):
    put(ftp_sandbox, "KERCH/251201.txt", MEGACOUNT.format(a=1, b=1, t=8).encode())
    result = materialize(ftp_sandbox, warehouse_url, ["KERCH/251201.txt"])
    assert result.success
    metadata = result.asset_materializations_for_node("ftp_counters__visits")[0].metadata
    assert metadata["unknown_folders"].value == ["KERCH"]
    assert conn.execute("select count(*) from raw.ftp_counter_visits where store_folder = 'KERCH'").fetchone()[0] == 2


def test_archive_moves_files_and_never_deletes(ftp_sandbox, warehouse_url):
    put(ftp_sandbox, "CENTRUM/251204.txt", MEGACOUNT.format(a=1, b=1, t=8).encode())
    assert materialize(ftp_sandbox, warehouse_url, ["CENTRUM/251204.txt"], archive_directory="archive").success
    assert not (ftp_sandbox.root / "CENTRUM/251204.txt").exists()
    assert (ftp_sandbox.root / "archive/CENTRUM/251204.txt").exists()


def test_client_falls_back_from_mlsd_and_reports_a_bad_password(ftp_sandbox):
    put(ftp_sandbox, "CENTRUM/251201.txt", b"total_in: 1\n")
    client = FtpClient("127.0.0.1", ftp_sandbox.user, ftp_sandbox.password, port=ftp_sandbox.port, use_mlsd=False)
    files = client.list_files()
    assert [(f.path, f.size) for f in files] == [("CENTRUM/251201.txt", 12)] and len(files[0].modified) == 14
    from glame_pipelines.clients.ftp import FtpAuthError

    with pytest.raises(FtpAuthError, match="FTP_PASSWORD") as caught:
        FtpClient("127.0.0.1", ftp_sandbox.user, "revoked-pass", port=ftp_sandbox.port).list_files()
    assert "revoked-pass" not in str(caught.value)


def test_reconciliation_flags_store_days_without_a_file(ftp_sandbox, warehouse_url):
    yesterday = moscow_today() - timedelta(1)
    put(ftp_sandbox, f"CENTRUM/{yesterday:%y%m%d}.txt", MEGACOUNT.format(a=1, b=1, t=8).encode())
    assert materialize(ftp_sandbox, warehouse_url, [f"CENTRUM/{yesterday:%y%m%d}.txt"]).success
    result = every_store_day_has_a_file(WarehouseResource(url=warehouse_url))
    missing = result.metadata["missing_store_days"].value
    assert not result.passed and f"CENTRUM {yesterday}" not in missing and f"YALTA {yesterday}" in missing
    assert result.metadata["missing"].value == 3 * 7 - 1


def test_the_coverage_check_runs_on_its_own_daily_job(ftp_sandbox, warehouse_url):
    """The reconciliation must run even on a day when no file arrives at all."""
    from glame_pipelines.defs.ftp_counters.sensors import counter_coverage_job

    defs = dg.Definitions(
        assets=[visits],
        asset_checks=[every_store_day_has_a_file],
        jobs=[counter_coverage_job],
        resources={"warehouse": WarehouseResource(url=warehouse_url), "ftp_counters": ftp_resource(ftp_sandbox)},
    )
    result = defs.resolve_job_def("counter_coverage_job").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    evaluation = result.get_asset_check_evaluations()[0]
    assert not evaluation.passed and evaluation.metadata["missing"].value == 21


def self_signed_cert(path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return path


def test_explicit_ftps_server_is_read_with_ftp_tls(tmp_path):
    """A server that requires AUTH TLS refuses plain FTP; FTP_TLS=true lists and reads over TLS."""
    from glame_pipelines.clients.ftp import FtpError
    from glame_pipelines.clients.http import RetryPolicy, TransientError
    from glame_pipelines.sandbox.ftp import FtpSandbox

    with FtpSandbox(tmp_path / "ftps", certfile=self_signed_cert(tmp_path / "cert.pem")) as server:
        put(server, "CENTRUM/251201.txt", MEGACOUNT.format(a=5, b=4, t=12).encode())
        plain = ftp_resource(server).client(retry=RetryPolicy(max_attempts=1))
        with pytest.raises((FtpError, TransientError)):
            plain.list_files()
        secure = ftp_resource(server, tls="true").client()
        files = secure.list_files()
        assert [f.path for f in files] == ["CENTRUM/251201.txt"]
        assert b"total_in: 12" in secure.read("CENTRUM/251201.txt")
