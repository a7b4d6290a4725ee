"""Build the analytics benchmark database: one million sale-order-like rows.

    ~/.cache/mcp_server_odoo/venv/bin/python bench/gen_dataset.py \
        [--db mcp_bench_analytics] [--rows 1000000] [--customers 20000]

1. creates the database with mcp_server_odoo and the bench-only addon
   bench/addons/mcp_bench_data (model ``mcp.bench.order``, a company rule and
   read access for internal users), unless it exists;
2. inserts customers (res.partner) with countries through the ORM;
3. streams the orders with ``COPY FROM STDIN``, generated in chunks by a seeded
   generator: a customer (some far more active than others), a date over the
   three years before 2026-01-01 with more orders on weekdays and in the
   autumn, a state (mostly confirmed), an amount in EUR (a few in USD), and
   the main company; then ANALYZE;
4. creates the benchmark user ``mcp_bench_analyst`` (internal, time zone
   Europe/Brussels) and prints an API key for it.

A database that already holds the requested number of orders is left as is.
"""

import argparse
import contextlib
import io
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("PGHOST", "127.0.0.1")
sys.path.insert(0, str(REPO))

from tests.harness import odoo_server  # noqa: E402

RESULTS = REPO / "bench" / "results"
odoo_server.DATA_DIR = RESULTS / "odoo-data"
BENCH_ADDONS = REPO / "bench" / "addons"
_base_addons_path = odoo_server.addons_path


def _with_bench_addons(extra=()):
    # Every server and registry of the analytics benchmarks sees the bench addon.
    return _base_addons_path((*extra, BENCH_ADDONS))


odoo_server.addons_path = _with_bench_addons

LOGIN = "mcp_bench_analyst"
TZ = "Europe/Brussels"
START = datetime(2023, 1, 1)
DAYS = 3 * 365
CHUNK = 50_000
STATES = ["draft", "sent", "sale", "done", "cancel"]
STATE_WEIGHTS = [8, 5, 60, 20, 7]
COUNTRIES = ["BE", "FR", "DE", "NL", "LU", "ES", "IT", "UK", "US", "CA"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="mcp_bench_analytics")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args(argv)


def database_exists(name):
    with (
        contextlib.closing(odoo_server.admin_connection()) as conn,
        conn.cursor() as cr,
    ):
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cr.fetchone() is not None


def install(name):
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / "logs" / f"gen_dataset-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        str(odoo_server.ODOO_SRC / "odoo-bin"),
        *odoo_server.odoo_options(),
        "-d",
        name,
        "-i",
        "mcp_server_odoo,mcp_bench_data",
        "--stop-after-init",
        "--log-level",
        "warn",
        "--logfile",
        str(log),
    ]
    done = subprocess.run(command, cwd=REPO, check=False, capture_output=True)
    if done.returncode:
        raise RuntimeError(f"installing into {name} failed; see {log}")
    odoo_server.set_parameter(name, "mcp_server_odoo.accept_api_keys", "True")


def open_registry(name):
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    if not getattr(open_registry, "configured", False):
        config.parse_config([*odoo_server.odoo_options(), "--log-level", "warn"])
        odoo.modules.module.initialize_sys_path()
        open_registry.configured = True
    return odoo.modules.registry.Registry(name)


def customers(env, count, rng):
    partners = env["res.partner"]
    existing = partners.search_count([("ref", "=like", "benchcust-%")])
    countries = {c: env.ref(f"base.{c.lower()}").id for c in COUNTRIES}
    for start in range(existing, count, 2000):
        partners.create(
            [
                {
                    "name": f"Customer {i}",
                    "ref": f"benchcust-{i}",
                    "is_company": True,
                    "country_id": countries[rng.choice(COUNTRIES)],
                }
                for i in range(start, min(count, start + 2000))
            ]
        )
        env.cr.commit()
    return partners.search([("ref", "=like", "benchcust-%")]).ids


def _lines(rng, partner_ids, count, currencies, company_id, offset):
    # A few customers order far more often (Pareto-like weights).
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(partner_ids))]
    picks = rng.choices(partner_ids, weights=weights, k=count)
    eur, usd = currencies
    out = io.StringIO()
    for index, partner_id in enumerate(picks):
        day = rng.randrange(DAYS)
        moment = START + timedelta(days=day, seconds=rng.randrange(86400))
        if moment.weekday() >= 5 and rng.random() < 0.6:
            moment -= timedelta(days=2)
        if moment.month in (9, 10, 11) and rng.random() < 0.2:
            moment += timedelta(days=rng.randrange(1, 20))
        state = rng.choices(STATES, STATE_WEIGHTS)[0]
        amount = round(rng.lognormvariate(6, 1.1), 2)
        currency = usd if rng.random() < 0.03 else eur
        number = offset + index + 1
        out.write(
            f"SO{number:07d}\t{partner_id}\t{moment:%Y-%m-%d %H:%M:%S}\t{state}\t"
            f"{amount}\t{currency}\t{company_id}\t1\t1\t{moment:%Y-%m-%d %H:%M:%S}\t"
            f"{moment:%Y-%m-%d %H:%M:%S}\n"
        )
    out.seek(0)
    return out


def orders(env, partner_ids, rows, rng):
    cr = env.cr
    cr.execute("SELECT count(*) FROM mcp_bench_order")
    existing = cr.fetchone()[0]
    currencies = (env.ref("base.EUR").id, env.ref("base.USD").id)
    company_id = env.ref("base.main_company").id
    columns = (
        "name",
        "partner_id",
        "date_order",
        "state",
        "amount_total",
        "currency_id",
        "company_id",
        "create_uid",
        "write_uid",
        "create_date",
        "write_date",
    )
    for start in range(existing, rows, CHUNK):
        size = min(CHUNK, rows - start)
        data = _lines(rng, partner_ids, size, currencies, company_id, start)
        cr.copy_from(data, "mcp_bench_order", columns=columns)
        cr.commit()
        print(f"  {start + size:>9,} orders", flush=True)
    cr.execute("ANALYZE mcp_bench_order")
    cr.commit()


def analyst(env):
    from odoo.addons.base.models.res_users import KEY_CRYPT_CONTEXT  # noqa: F401, PLC0415

    users = env["res.users"].with_context(no_reset_password=True)
    user = users.search([("login", "=", LOGIN)])
    if not user:
        user = users.create(
            {
                "name": "Bench Analyst",
                "login": LOGIN,
                "tz": TZ,
                "groups_id": [(6, 0, [env.ref("base.group_user").id])],
            }
        )
    key = env["res.users.apikeys"].with_user(user).sudo()._generate(None, "bench", None)
    env.cr.commit()
    return user.id, key


def build(name, rows, customer_count, seed):
    """Create or top up ``name``; returns (analyst uid, a new API key)."""
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    if not database_exists(name):
        started = time.monotonic()
        install(name)
        print(f"installed in {time.monotonic() - started:.0f} s", flush=True)
    registry = open_registry(name)
    rng = random.Random(seed)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        started = time.monotonic()
        partner_ids = customers(env, customer_count, rng)
        print(
            f"{len(partner_ids)} customers in {time.monotonic() - started:.0f} s",
            flush=True,
        )
        started = time.monotonic()
        orders(env, partner_ids, rows, rng)
        print(f"orders in {time.monotonic() - started:.0f} s", flush=True)
        return analyst(env)


def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()
    uid, _key = build(args.db, args.rows, args.customers, args.seed)
    print(
        f"database {args.db} ready in {time.monotonic() - started:.0f} s; "
        f"analyst uid {uid}"
    )


if __name__ == "__main__":
    main()
