"""`make run`: create or upgrade a database with the addon, then serve it.

Runs with the bootstrap's virtualenv python. Odoo listens on 127.0.0.1 only.
"""

import argparse
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[1]
ODOO_SRC = Path(os.environ.get("ODOO_SRC", "/opt/odoo-src"))


def pg_options():
    options = [
        "--db_host",
        os.environ.get("PGHOST", "127.0.0.1"),
        "--db_port",
        os.environ.get("PGPORT", "5432"),
        "--db_user",
        os.environ.get("PGUSER", "root"),
    ]
    if os.environ.get("PGPASSWORD"):
        options += ["--db_password", os.environ["PGPASSWORD"]]
    return options


def database_exists(name):
    with contextlib.closing(psycopg2.connect(dbname="postgres")) as conn:
        with conn.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cr.fetchone() is not None


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="mcp")
    parser.add_argument("--port", type=int, default=8069)
    args = parser.parse_args()

    odoo = [sys.executable, str(ODOO_SRC / "odoo-bin")]
    common = [
        "--addons-path",
        f"{ODOO_SRC / 'odoo' / 'addons'},{REPO}",
        *pg_options(),
        "-d",
        args.db,
        "--db-filter",
        f"^{args.db}$",
    ]
    action = "-u" if database_exists(args.db) else "-i"
    print(
        f"[run] {'upgrading' if action == '-u' else 'creating'} database "
        f"{args.db!r} with mcp_server_odoo",
        flush=True,
    )
    subprocess.run(  # noqa: S603
        [
            *odoo,
            *common,
            action,
            "mcp_server_odoo",
            "--without-demo=all",
            "--stop-after-init",
            "--log-level",
            "warn",
        ],
        check=True,
    )
    url = f"http://127.0.0.1:{args.port}"
    print(
        f"""
[run] MCP endpoint: {url}/mcp
[run] Credential: log in at {url}/web (a new database's login is admin / admin:
      change it), open your avatar > Preferences > Account Security > New API Key,
      and send it as  Authorization: Bearer <key>
[run] Stop with Ctrl-C.
""",
        flush=True,
    )
    # Replace this process by the server, with a fixed argument list (no shell).
    os.execv(  # noqa: S606
        sys.executable,
        [
            *odoo,
            *common,
            "--http-interface",
            "127.0.0.1",
            "--http-port",
            str(args.port),
        ],
    )


if __name__ == "__main__":
    main()
