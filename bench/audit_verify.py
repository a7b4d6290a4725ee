"""How fast Verify chain recomputes the MCP audit log's hash chain.

1. builds a database with the addon (``mcp_bench_audit_<pid>``, or reuses the
   one named by ``--db``);
2. appends ``--events`` events (default 1,000,000) in SQL, in batches, through
   the real BEFORE INSERT trigger, so each is numbered, stamped and linked
   exactly as the audit step's appends are; the rows look like tool calls
   (user, client, tool, model, ids, shapes of arguments and results);
3. signs a checkpoint, then times ``verify_chain`` (one ``COPY ... TO
   STDOUT`` of the events in sequence order, one ``hashlib.sha256`` per line)
   ``--rounds`` times, and then once the same stream without hashing, to show
   how the time splits between PostgreSQL (writing the lines) and Python; the
   first of the verify runs is also the first scan of the new rows;
4. prints events per second and writes a JSON report to ``bench/results/``.

Target: at least 200,000 events per second.

    ~/.cache/mcp_server_odoo/venv/bin/python bench/audit_verify.py
"""

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.harness import odoo_server  # noqa: E402

RESULTS = REPO / "bench" / "results"
# Small transactions: each append rewrites the head row, and versions of it
# pile up until the transaction ends.
BATCH = 2_000
SHAPE = json.dumps(
    {
        "type": "object",
        "size": 3,
        "digest": "0123456789abcdef",
        "keys": {
            "model": {"type": "string", "size": 11, "digest": "89abcdef01234567"},
            "domain": {"type": "array", "size": 2, "digest": "fedcba9876543210"},
            "limit": {"type": "number"},
        },
    },
    sort_keys=True,
    separators=(",", ":"),
)
FILL = """
INSERT INTO mcp_audit_event (
    user_ref, user_login, oauth_client, token_family, remote_addr,
    protocol_version, method, request_id, tool, target_model, record_ids,
    record_count, field_names, outcome, error_type, changed, latency_us,
    trace_id, arguments, result)
SELECT 2 + n %% 7, 'user' || (n %% 7), 'client-' || (n %% 3), (n %% 50)::text,
       '10.0.0.' || (n %% 200), '2025-11-25', 'tools/call', n::text,
       'search_records', 'res.partner', (n %% 1000)::text || ',' || (n %% 997)::text,
       2, 'name,email', CASE WHEN n %% 10 = 0 THEN 'tool_error' ELSE 'success' END,
       CASE WHEN n %% 10 = 0 THEN 'tool_error' END, false, 1000 + n %% 5000,
       md5(n::text) || md5((n + 1)::text), %s, %s
  FROM generate_series(%s, %s) AS n
"""


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="reuse or create this database")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    return parser.parse_args(argv)


def open_registry(name):
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config([*odoo_server.odoo_options(), "--log-level", "warn"])
    odoo.modules.module.initialize_sys_path()
    return odoo.modules.registry.Registry(name)


def fill(registry, wanted):
    """Top the log up to ``wanted`` events; seconds spent."""
    started = time.perf_counter()
    with registry.cursor() as cr:
        cr.execute("SELECT count(*) FROM mcp_audit_event")
        have = cr.fetchone()[0]
    while have < wanted:
        upto = min(have + BATCH, wanted)
        with registry.cursor() as cr:
            cr.execute(FILL, [SHAPE, SHAPE, have + 1, upto])
        have = upto
        if have % 100_000 == 0 or have == wanted:
            print(f"  appended {have:,} events", file=sys.stderr)
    return time.perf_counter() - started


class _Count:
    def __init__(self):
        self.lines = 0

    def write(self, _line):
        self.lines += 1


def stream_only(registry):
    """The verifier's COPY streamed without hashing: PostgreSQL's share."""
    from odoo.addons.mcp_server_odoo.models import mcp_audit  # noqa: PLC0415

    with registry.cursor() as cr:
        started = time.perf_counter()
        raw = cr._cnx.cursor()
        counter = _Count()
        raw.copy_expert(raw.mogrify(mcp_audit.VERIFY_COPY, [1]).decode(), counter)
        raw.close()
        return counter.lines, time.perf_counter() - started


def verify(registry):
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    from odoo.addons.mcp_server_odoo.models import mcp_audit  # noqa: PLC0415

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        started = time.perf_counter()
        report = mcp_audit.verify_chain(env)
        return report, time.perf_counter() - started


def sign(registry):
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    with registry.cursor() as cr:
        api.Environment(cr, SUPERUSER_ID, {})["mcp.audit.checkpoint"]._sign_head()


def main(argv=None):
    args = parse_args(argv)
    name = args.db or f"mcp_bench_audit_{__import__('os').getpid()}"
    created = False
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "logs").mkdir(exist_ok=True)
    with odoo_server.admin_connection() as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cr.fetchone() is not None
    if not exists:
        print(f"installing the addon into {name}", file=sys.stderr)
        odoo_server.build_template(name, RESULTS / "logs" / "audit_install.log")
        created = True
    registry = open_registry(name)
    try:
        fill_seconds = fill(registry, args.events)
        sign(registry)
        runs = []
        for _ in range(args.rounds):
            report, seconds = verify(registry)
            if not report["ok"]:
                raise RuntimeError(f"the chain does not verify: {report['message']}")
            runs.append({"events": report["checked"], "seconds": seconds})
        # After the verify runs, so that both read warm pages: the first scan
        # after the fill also sets the rows' hint bits, which writes pages.
        streamed, stream_seconds = stream_only(registry)
    finally:
        import odoo  # noqa: PLC0415

        odoo.modules.registry.Registry.delete(name)
        odoo.sql_db.close_db(name)
        if created and not args.keep:
            odoo_server.drop_database(name)
    best = min(runs, key=lambda run: run["seconds"])
    result = {
        "benchmark": "audit_verify",
        "events": best["events"],
        "fill_seconds": round(fill_seconds, 2),
        "stream_only_seconds": round(stream_seconds, 3),
        "stream_only_events_per_second": round(streamed / stream_seconds),
        "verify_seconds": [round(run["seconds"], 3) for run in runs],
        "events_per_second_best": round(best["events"] / best["seconds"]),
        "events_per_second_median": round(
            best["events"] / sorted(run["seconds"] for run in runs)[len(runs) // 2]
        ),
        "target_events_per_second": 200_000,
    }
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"audit_verify-{stamp}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
