"""export_dataset of every order over HTTP: memory of the Odoo process and speed.

    ~/.cache/mcp_server_odoo/venv/bin/python bench/gen_dataset.py
    ~/.cache/mcp_server_odoo/venv/bin/python bench/export_memory.py \
        [--db mcp_bench_analytics] [--format csv]

Starts ``odoo-bin`` (``--workers 0``) on the benchmark database, and as the
benchmark analyst calls export_dataset on /mcp for all rows of mcp.bench.order
(eight columns), then downloads the link, reading the stream in 64 KiB pieces.
A thread samples the server's resident memory (VmRSS) every 20 ms from before
the call to the end of the download. The reference is PostgreSQL's own
``COPY (SELECT the same columns) TO STDOUT WITH CSV HEADER`` read by this
process over psycopg2 into a sink that only counts bytes.

Reported: peak RSS growth over the level just before the call, and rows per
second of the whole export (call plus download) against the COPY.
"""

import argparse
import contextlib
import json
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import gen_dataset  # noqa: E402
from tests.harness import odoo_server  # noqa: E402
from tests.harness.client import McpHttpClient  # noqa: E402

FIELDS = [
    "name",
    "partner_id",
    "date_order",
    "state",
    "amount_total",
    "currency_id",
    "company_id",
]
COPY = (
    "COPY (SELECT id, name, partner_id, date_order, state, amount_total, "
    "currency_id, company_id FROM mcp_bench_order) TO STDOUT WITH CSV HEADER"
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="mcp_bench_analytics")
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    return parser.parse_args(argv)


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)


class CountingSink:
    def __init__(self):
        self.size = 0

    def write(self, data):
        self.size += len(data)


def copy_reference(database):
    with contextlib.closing(psycopg2.connect(dbname=database)) as conn:
        sink = CountingSink()
        started = time.perf_counter()
        with conn.cursor() as cr:
            cr.copy_expert(COPY, sink, size=1 << 16)
        return time.perf_counter() - started, sink.size


def api_key(database):
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    registry = gen_dataset.open_registry(database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env.cr.execute("SELECT count(*) FROM mcp_bench_order")
        rows = env.cr.fetchone()[0]
        _uid, key = gen_dataset.analyst(env)
    return key, rows


def main(argv=None):
    args = parse_args(argv)
    key, rows = api_key(args.db)
    log = gen_dataset.RESULTS / "logs" / "export_memory-server.log"
    server = odoo_server.OdooServer(args.db, log)
    try:
        client = McpHttpClient(server.url, key)
        client.initialize()
        # Warm the registry and the tool path with a small export.
        client.call_ok(
            "export_dataset", {"model": "mcp.bench.order", "fields": FIELDS, "limit": 5}
        )
        pid = server.process.pid
        before = rss_kib(pid)
        sampler = Sampler(pid)
        sampler.start()
        started = time.perf_counter()
        result = client.call_tool(
            "export_dataset",
            {"model": "mcp.bench.order", "fields": FIELDS, "format": args.format},
        )
        called = time.perf_counter()
        assert not result["isError"], result["content"]
        uri = result["content"][1]["uri"]
        size = 0
        with requests.get(
            f"{server.url}{urlsplit(uri).path}",
            headers={"Authorization": f"Bearer {key}"},
            stream=True,
            timeout=600,
        ) as response:
            response.raise_for_status()
            for piece in response.iter_content(1 << 16):
                size += len(piece)
        finished = time.perf_counter()
        sampler.stopped.set()
        sampler.join()
    finally:
        server.stop()
    copy_seconds, copy_bytes = copy_reference(args.db)
    export_seconds = finished - started
    report = {
        "db": args.db,
        "rows": rows,
        "format": args.format,
        "rss_before_mib": round(before / 1024, 1),
        "rss_peak_mib": round(sampler.peak / 1024, 1),
        "rss_growth_mib": round((sampler.peak - before) / 1024, 1),
        "tool_call_s": round(called - started, 2),
        "download_s": round(finished - called, 2),
        "export_s": round(export_seconds, 2),
        "export_bytes": size,
        "export_rows_per_s": round(rows / export_seconds),
        "copy_s": round(copy_seconds, 2),
        "copy_bytes": copy_bytes,
        "copy_rows_per_s": round(rows / copy_seconds),
    }
    report["speed_ratio"] = round(
        report["export_rows_per_s"] / report["copy_rows_per_s"], 3
    )
    print(json.dumps(report, indent=1))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = gen_dataset.RESULTS / f"export_memory-{stamp}.json"
    out.write_text(json.dumps(report, indent=1))
    print(f"report: {out}")


if __name__ == "__main__":
    main()
