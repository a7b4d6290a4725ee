"""`make run`: create, install into or upgrade a database with the addon; serve it.

Runs with the bootstrap's virtualenv python. Odoo listens on 127.0.0.1 only.
"""

import argparse
import configparser
import contextlib
import os
import secrets
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


# Secrets the addon reads from Odoo's server configuration, never the database:
# the HMAC key of OAuth token digests and the key that encrypts the audit
# signing key. Generated once, kept in a 0600 file, reused on every run.
SERVER_SECRETS = ("mcp_oauth_hmac_key", "mcp_audit_key")


def config_file():
    path = Path(
        os.environ.get("MCP_ODOO_CONFIG")
        or Path.home() / ".config" / "mcp_server_odoo" / "odoo.conf"
    )
    parser = configparser.ConfigParser()
    if path.exists():
        parser.read(path)
    if not parser.has_section("options"):
        parser.add_section("options")
    missing = [
        key for key in SERVER_SECRETS if not parser.get("options", key, fallback="")
    ]
    if missing:
        for key in missing:
            parser.set("options", key, secrets.token_urlsafe(48))
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(
            os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w"
        ) as out:
            parser.write(out)
        print(f"[run] wrote {', '.join(missing)} to {path} (keep this file secret)")
    path.chmod(0o600)
    return path


def database_exists(name):
    with contextlib.closing(psycopg2.connect(dbname="postgres")) as conn:
        with conn.cursor() as cr:
            cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cr.fetchone() is not None


# Module states in which `-u` reaches the addon; in any other (uninstalled,
# to install, or no row at all) `-u` would load nothing and /mcp would be 404.
INSTALLED_STATES = ("installed", "to upgrade", "to remove")


def addon_installed(name):
    """Whether database ``name`` has mcp_server_odoo installed (False if not Odoo's)."""
    with contextlib.closing(psycopg2.connect(dbname=name)) as conn:
        with conn.cursor() as cr:
            cr.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
            if not cr.fetchone()[0]:
                return False
            cr.execute(
                "SELECT state FROM ir_module_module WHERE name = 'mcp_server_odoo'"
            )
            row = cr.fetchone()
            return row is not None and row[0] in INSTALLED_STATES


def addon_action(name):
    """``(odoo-bin option, what it does)`` for database ``name``."""
    if not database_exists(name):
        return "-i", f"creating database {name!r} with mcp_server_odoo"
    if addon_installed(name):
        return "-u", f"upgrading mcp_server_odoo in database {name!r}"
    return "-i", f"installing mcp_server_odoo into database {name!r}"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="mcp")
    parser.add_argument("--port", type=int, default=8069)
    args = parser.parse_args()

    odoo = [sys.executable, str(ODOO_SRC / "odoo-bin")]
    common = [
        "-c",
        str(config_file()),
        "--addons-path",
        f"{ODOO_SRC / 'odoo' / 'addons'},{REPO}",
        *pg_options(),
        # -d alone serves exactly this database; a --db-filter would make Odoo
        # list PostgreSQL's databases on every request without a session.
        "-d",
        args.db,
    ]
    action, doing = addon_action(args.db)
    print(f"[run] {doing}", flush=True)
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
[run] Credential: point an MCP client at {url}/mcp. It finds the OAuth server
      ({url}/.well-known/oauth-authorization-server), registers (loopback
      redirect URIs are allowed by default), and sends you through Odoo's login
      (a new database's login is admin / admin: change it) and consent page.
      Headless agents: Settings > MCP Server > "Accept Odoo API keys", then an
      API key from Preferences > Account Security, as  Authorization: Bearer <key>
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
