"""A 1C OData sandbox serving N sales-register rows of one day at full speed (for the benchmarks).

Rows are made from their index, so the server holds nothing but the page it is answering. `--changed P`
alters the amounts of P percent of the rows, for the re-sync benchmark.
"""

from __future__ import annotations

import argparse
import base64
import sys

import orjson

from glame_pipelines.sandbox.server import Api, Request, Response, SandboxServer

DAY = "2025-06-02"
STORES = (
    "b5b075c2-a355-5256-83ea-c38497c7bca8",
    "32b3ea24-1e4b-50b5-8a81-ef8348413b7f",
    "6a9fb5d8-fb3e-5a11-9f4a-1dde21fa4d70",
)


def guid(n: int, kind: int) -> str:
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


def row(n: int, changed_every: int) -> dict:
    recorder, line = n // 20, n % 20 + 1
    amount = 1000 + (n * 37) % 20000
    if changed_every and n % changed_every == 0:
        amount += 1
    return {
        "Period": f"{DAY}T{10 + (n % 11):02d}:{n % 60:02d}:00",
        "Recorder": guid(recorder, 1),
        "Recorder_Type": "StandardODATA.Document_ОтчетОРозничныхПродажах",
        "LineNumber": line,
        "Active": True,
        "Номенклатура_Key": guid(n % 5000, 2),
        "Характеристика_Key": "00000000-0000-0000-0000-000000000000",
        "Склад_Key": STORES[n % 3],
        "Контрагент_Key": "00000000-0000-0000-0000-000000000000",
        "Организация_Key": guid(1, 3),
        "Количество": 1 if n % 50 else -1,
        "Сумма": float(amount if n % 50 else -amount),
    }


class BenchRegister(Api):
    prefix = "/onec/odata/standard.odata/"

    def __init__(self, rows: int, changed_percent: float):
        self.rows = rows
        self.changed_every = int(100 / changed_percent) if changed_percent else 0
        self.auth = "Basic " + base64.b64encode(b"bench:bench").decode()

    def handle(self, request: Request) -> Response:
        if request.headers.get("authorization") != self.auth:
            return Response(401, b"Unauthorized")
        top, skip = int(request.query.get("$top", 500)), int(request.query.get("$skip", 0))
        page = [row(n, self.changed_every) for n in range(skip, min(skip + top, self.rows))]
        return Response(
            200, orjson.dumps({"odata.metadata": "bench", "value": page}), {"Content-Type": "application/json"}
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--changed", type=float, default=0.0)
    args = parser.parse_args()
    server = SandboxServer([BenchRegister(args.rows, args.changed)]).start()
    print(server.base_url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()


if __name__ == "__main__":
    main()
