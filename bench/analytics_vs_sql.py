"""timeseries and pivot over a million orders, against the same GROUP BY in SQL.

    ~/.cache/mcp_server_odoo/venv/bin/python bench/gen_dataset.py
    ~/.cache/mcp_server_odoo/venv/bin/python bench/analytics_vs_sql.py \
        [--db mcp_bench_analytics] [--samples 15]

Each sample of a tool runs its handler in a fresh cursor (a fresh cache, as a
request has) as the benchmark analyst (internal user, Europe/Brussels, under
the benchmark addon's company rule), result shaping and JSON encoding
included; each SQL sample sends the equivalent GROUP BY, written by hand
without the record rule, straight to PostgreSQL over its own connection and
fetches the rows. Tool and SQL samples alternate. Before timing, the script
checks that both give the same counts and sums.

A second SQL reference adds the tool's group cap (``LIMIT`` max groups + 1, as
the tool's own query ends): with a LIMIT, PostgreSQL may plan the aggregate
in parallel workers, which it does not for the plain ``GROUP BY``. The ratio
against that reference is the tool's cost over the same plan; the ratio
against the plain one is what a user of the tool gains or loses against the
query they would write by hand.
"""

import argparse
import contextlib
import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import gen_dataset  # noqa: E402

CASES = {
    "timeseries": (
        "timeseries",
        {
            "model": "mcp.bench.order",
            "date_field": "date_order",
            "granularity": "month",
            "measures": ["count", "amount_total:sum"],
        },
        """SELECT date_trunc('month', date_order AT TIME ZONE 'UTC'
                                      AT TIME ZONE 'Europe/Brussels') AS month,
                  count(*), sum(amount_total)
             FROM mcp_bench_order WHERE date_order IS NOT NULL
            GROUP BY 1 ORDER BY 1""",
    ),
    "pivot": (
        "pivot",
        {
            "model": "mcp.bench.order",
            "rows": ["state"],
            "columns": ["date_order:quarter"],
            "measures": ["count", "amount_total:sum"],
        },
        """SELECT state, date_trunc('quarter', date_order AT TIME ZONE 'UTC'
                                               AT TIME ZONE 'Europe/Brussels'),
                  count(*), sum(amount_total)
             FROM mcp_bench_order GROUP BY 1, 2 ORDER BY 1, 2""",
    ),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="mcp_bench_analytics")
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    return parser.parse_args(argv)


def tool_runner(registry, uid, name, arguments):
    from odoo import api  # noqa: PLC0415

    from odoo.addons.mcp_server_odoo.tools import analytics, as_result  # noqa: PLC0415

    handler = getattr(analytics, name).handler

    def run():
        with registry.cursor() as cr:
            env = api.Environment(cr, uid, {})
            env = env(context=dict(env.user.context_get()))
            structured = handler(env, arguments)
            json.dumps(as_result(structured))
            cr.rollback()
        return structured

    return run


def sql_runner(conn, query):
    def run():
        with conn.cursor() as cr:
            cr.execute(query)
            return cr.fetchall()

    return run


def _timed(func):
    started = time.perf_counter()
    result = func()
    return (time.perf_counter() - started) * 1000, result


def check(name, structured, rows):
    """Same record count and amount sum both ways (the whole table)."""
    if name == "timeseries":
        totals = structured["totals"]
    else:
        totals = structured["grand_total"]
    count = sum(row[-2] for row in rows)
    amount = float(sum(row[-1] for row in rows))
    assert totals["count"] == count, (totals, count)
    assert abs(totals["amount_total:sum"] - amount) < 0.01 * max(1, len(rows)), (
        totals,
        amount,
    )


def main(argv=None):
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    args = parse_args(argv)
    registry = gen_dataset.open_registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        uid = env["res.users"].search([("login", "=", gen_dataset.LOGIN)]).id
        env.cr.execute("SELECT count(*) FROM mcp_bench_order")
        rows_in_table = env.cr.fetchone()[0]
    with registry.cursor() as cr:
        from odoo.addons.mcp_server_odoo.tools._groups import (  # noqa: PLC0415
            max_groups,
        )

        cap = max_groups(api.Environment(cr, uid, {}))
    conn = psycopg2.connect(dbname=args.db)
    conn.set_session(readonly=True, autocommit=True)
    report = {
        "db": args.db,
        "rows": rows_in_table,
        "samples": args.samples,
        "cases": {},
    }
    with contextlib.closing(conn):
        for case, (tool, arguments, query) in CASES.items():
            run_tool = tool_runner(registry, uid, tool, arguments)
            runners = {
                "tool": run_tool,
                "sql": sql_runner(conn, query),
                "sql_capped": sql_runner(conn, f"{query} LIMIT {cap + 1}"),
            }
            structured = run_tool()
            check(tool, structured, runners["sql"]())
            check(tool, structured, runners["sql_capped"]())
            for _ in range(args.warmup):
                for func in runners.values():
                    func()
            samples = {label: [] for label in runners}
            order = list(runners.items())
            for index in range(args.samples):
                shift = index % len(order)
                for label, func in order[shift:] + order[:shift]:
                    elapsed, _result = _timed(func)
                    samples[label].append(elapsed)
            summary = {}
            for label, values in samples.items():
                summary[f"{label}_p50_ms"] = round(statistics.median(values), 1)
                summary[f"{label}_min_ms"] = round(min(values), 1)
            summary["ratio_p50"] = round(
                summary["tool_p50_ms"] / summary["sql_p50_ms"], 3
            )
            summary["ratio_p50_same_plan"] = round(
                summary["tool_p50_ms"] / summary["sql_capped_p50_ms"], 3
            )
            report["cases"][case] = {
                **summary,
                **{f"{label}_ms": values for label, values in samples.items()},
            }
            print(f"{case:<11} {json.dumps(summary)}", flush=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = gen_dataset.RESULTS / f"analytics_vs_sql-{stamp}.json"
    out.write_text(json.dumps(report, indent=1))
    print(f"report: {out}")


if __name__ == "__main__":
    main()
