"""batch_create of many contacts through POST /mcp against Odoo's own call_kw create.

Run from the repository root with the virtualenv of ``make bootstrap``::

    ~/.cache/mcp_server_odoo/venv/bin/python bench/batch_create.py

1. build a database with the addon (or reuse ``--db``); allow API keys on /mcp,
   raise ``mcp_server_odoo.max_batch_size`` and the request size limit to fit
   the batch, and create one internal user who may create contacts, with a
   password (for the web session) and an API key (for /mcp);
2. start ``odoo-bin`` on a free loopback port;
3. per round, send the same list of ``--records`` contacts once as
   ``tools/call batch_create`` on /mcp and once as ``/web/dataset/call_kw``
   ``res.partner.create``, the route going first alternating between rounds,
   and check that each created as many records as asked;
4. print each sample, the medians and their ratio (mcp / call_kw), and drop
   the database it created unless ``--keep``.

Both routes run as the same user in the same server; the list is the same,
built once from a seeded generator.
"""

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("PGHOST", "127.0.0.1")
sys.path.insert(0, str(REPO))

from bench import _dataset  # noqa: E402
from bench import search_vs_call_kw as common  # noqa: E402
from tests.harness import odoo_server  # noqa: E402
from tests.harness.client import McpHttpClient  # noqa: E402

odoo_server.DATA_DIR = common.RESULTS / "odoo-data"
LOGIN = "mcp_bench_writer"
CITIES = ["Brussels", "Ghent", "Lyon", "Lille", "Utrecht", "Leipzig"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="reuse this database, or create it if absent")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0)
    return parser.parse_args(argv)


def contacts(count):
    """The list both routes create: plain contacts with a few stored fields."""
    rng = random.Random(20261203)  # noqa: S311 - test data, not secrets
    return [
        {
            "name": f"Bulk Contact {n:05d}",
            "email": f"bulk.{n:05d}@example.com",
            "phone": f"+32 4{rng.randrange(10**7, 10**8)}",
            "city": rng.choice(CITIES),
            "is_company": False,
        }
        for n in range(count)
    ]


def prepare(name, records):
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    registry = common.open_registry(name)
    password = secrets.token_urlsafe(16)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        params = env["ir.config_parameter"]
        params.set_param("mcp_server_odoo.accept_api_keys", "True")
        params.set_param("mcp_server_odoo.max_batch_size", str(records))
        params.set_param("mcp_server_odoo.max_body_bytes", str(64 * 1024 * 1024))
        user = _dataset.ensure_user(env, LOGIN, password=password)
        user.groups_id = [(4, env.ref("base.group_partner_manager").id)]
        credentials = {
            "web_login": LOGIN,
            "web_password": password,
            "mcp_key": _dataset.fresh_api_key(env, user),
        }
        env.flush_all()
    common.close_registry(name)
    return credentials


def mcp_create(url, key, values):
    client = McpHttpClient(url, key)
    client.initialize()
    body = client.message(
        "tools/call",
        {
            "name": "batch_create",
            "arguments": {"model": "res.partner", "records": values},
        },
    )
    headers = {**client.headers(), **client.routing_headers(body)}
    data = json.dumps(body)

    def run():
        reply = client.session.post(
            client.url, data=data, headers=headers, timeout=3600
        )
        result = reply.json()["result"]
        if result.get("isError"):
            raise RuntimeError(result["content"][0]["text"])
        return len(result["structuredContent"]["ids"])

    return run


def call_kw_create(url, database, credentials, values):
    session, context = common.web_session(url, database, credentials)
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "model": "res.partner",
                "method": "create",
                "args": [values],
                "kwargs": {"context": context},
            },
        }
    )
    path = f"{url}/web/dataset/call_kw/res.partner/create"

    def run():
        reply = session.post(
            path, data=body, headers={"Content-Type": "application/json"}, timeout=3600
        ).json()
        if "error" in reply:
            raise RuntimeError(reply["error"].get("message"))
        return len(reply["result"])

    return run


def timed(run, expected):
    started = time.perf_counter()
    created = run()
    elapsed = time.perf_counter() - started
    if created != expected:
        raise RuntimeError(f"created {created} records, expected {expected}")
    return elapsed


def measure(args, name, log_dir):
    credentials = prepare(name, args.records)
    values = contacts(args.records)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    server = odoo_server.OdooServer(
        name, log_dir / f"server-batch-{stamp}.log", workers=args.workers
    )
    try:
        routes = {
            "mcp": mcp_create(server.url, credentials["mcp_key"], values),
            "call_kw": call_kw_create(server.url, name, credentials, values),
        }
        samples = {route: [] for route in routes}
        for index in range(args.rounds):
            order = list(routes) if index % 2 == 0 else list(routes)[::-1]
            for route in order:
                seconds = timed(routes[route], args.records)
                samples[route].append(seconds)
                print(f"round {index + 1} {route:<8} {seconds:8.2f} s", flush=True)
    finally:
        server.stop()
    return samples


def main(argv=None):
    args = parse_args(argv)
    log_dir = common.RESULTS / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    name = args.db or f"mcp_bench_batch_{os.getpid()}"
    created = not common.database_exists(name)
    try:
        common.provision(name, created, log_dir)
        samples = measure(args, name, log_dir)
    finally:
        if created and not args.keep:
            odoo_server.drop_database(name)
    medians = {route: statistics.median(values) for route, values in samples.items()}
    ratio = medians["mcp"] / medians["call_kw"]
    print(
        f"\n{args.records} res.partner per call, {args.rounds} rounds, "
        f"workers={args.workers}: median mcp {medians['mcp']:.2f} s, "
        f"call_kw {medians['call_kw']:.2f} s, ratio {ratio:.3f} (target <= 1.2)"
    )
    summary = {
        "benchmark": "batch_create",
        "records": args.records,
        "rounds": args.rounds,
        "workers": args.workers,
        "samples_s": samples,
        "median_s": medians,
        "ratio_mcp_over_call_kw": round(ratio, 3),
        "machine": common.machine(),
        "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
    }
    print(json.dumps(summary, separators=(",", ":")))


if __name__ == "__main__":
    main()
