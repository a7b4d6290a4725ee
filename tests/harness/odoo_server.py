"""Databases and the Odoo server process of one test run."""

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import requests

from . import logcheck

REPO = Path(__file__).resolve().parents[2]
ODOO_SRC = Path(os.environ.get("ODOO_SRC", "/opt/odoo-src"))
PREFIX = "mcp_test_"
# Odoo's data directory (filestores, sessions) of this run, removed at its end.
DATA_DIR = Path(tempfile.gettempdir()) / f"mcp-tests-data-{os.getpid()}"


def pg_params():
    """libpq settings as Odoo command-line options (PG* variables, then defaults)."""
    options = [
        "--db_host",
        os.environ.get("PGHOST", "127.0.0.1"),
        "--db_port",
        os.environ.get("PGPORT", "5432"),
        "--db_user",
        os.environ.get("PGUSER") or os.environ.get("USER") or "root",
    ]
    if os.environ.get("PGPASSWORD"):
        options += ["--db_password", os.environ["PGPASSWORD"]]
    return options


def addons_path(extra=()):
    """Odoo's addons and ours, then ``extra`` folders (tests/addons, for one)."""
    return ",".join(map(str, [ODOO_SRC / "odoo" / "addons", REPO, *extra]))


def _config_path(pid=None):
    return Path(tempfile.gettempdir()) / f"{PREFIX}{pid or os.getpid()}.conf"


def config_file():
    """An Odoo configuration file for this run, holding the OAuth HMAC key.

    ``mcp_oauth_hmac_key`` is a server-configuration secret, never stored in
    the database; the in-process ORM and the HTTP server read the same file.
    """
    path = _config_path()
    if not path.exists():
        path.write_text(
            f"[options]\nmcp_oauth_hmac_key = {secrets.token_urlsafe(48)}\n"
            f"mcp_audit_key = {secrets.token_urlsafe(48)}\n"
        )
        path.chmod(0o600)
    return path


def remove_config_file():
    _config_path().unlink(missing_ok=True)


def set_parameter(database, key, value):
    """Set an ir.config_parameter in SQL (the template has no registry loaded)."""
    with contextlib.closing(psycopg2.connect(dbname=database)) as conn:
        with conn.cursor() as cr:
            cr.execute(
                "INSERT INTO ir_config_parameter (key, value, create_uid, write_uid,"
                " create_date, write_date) VALUES (%s, %s, 1, 1, now(), now())"
                " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                [key, value],
            )
        conn.commit()


def odoo_options(extra_addons=()):
    return [
        "-c",
        str(config_file()),
        "--addons-path",
        addons_path(extra_addons),
        *pg_params(),
        "--without-demo=all",
        "--data-dir",
        str(DATA_DIR),
    ]


def filestore(name):
    return DATA_DIR / "filestore" / name


def admin_connection():
    conn = psycopg2.connect(dbname="postgres")
    conn.autocommit = True
    return conn


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_stale_databases():
    """Drop databases, data and key files left by runs whose process is gone."""
    with contextlib.closing(admin_connection()) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [PREFIX + "%"]
        )
        for (name,) in cr.fetchall():
            match = re.match(rf"{PREFIX}(\d+)_", name)
            if match and not _pid_alive(int(match.group(1))):
                cr.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for path in DATA_DIR.parent.glob("mcp-tests-data-*"):
        if not _pid_alive(int(path.name.rsplit("-", 1)[1])):
            shutil.rmtree(path, ignore_errors=True)
    # A run killed before pytest_unconfigure leaves its keys behind.
    for path in _config_path().parent.glob(f"{PREFIX}*.conf"):
        pid = path.name[len(PREFIX) : -len(".conf")]
        if pid.isdigit() and not _pid_alive(int(pid)):
            path.unlink(missing_ok=True)


def db_name(role):
    return f"{PREFIX}{os.getpid()}_{role}"


def run_once(database, *args, log_path, extra_addons=(), timeout=900):
    """``odoo-bin -d database *args --stop-after-init``, logging to ``log_path``.

    Returns the finished process; the log is watched by the session's guard.
    """
    command = [
        sys.executable,
        str(ODOO_SRC / "odoo-bin"),
        *odoo_options(extra_addons),
        "-d",
        database,
        *args,
        "--stop-after-init",
        "--log-level",
        "warn",
        "--logfile",
        str(log_path),
    ]
    logcheck.watch(log_path)
    return subprocess.run(  # noqa: S603
        command, cwd=REPO, check=False, capture_output=True, text=True, timeout=timeout
    )


def build_template(name, log_path):
    """Create ``name`` with base, web and the addon installed; raise with the log."""
    done = run_once(name, "-i", "mcp_server_odoo", log_path=log_path)
    log = Path(log_path).read_text() if Path(log_path).exists() else ""
    if done.returncode or re.search(r" (ERROR|CRITICAL) ", log):
        raise RuntimeError(
            f"installing mcp_server_odoo into {name} failed "
            f"(exit {done.returncode}):\n{done.stderr[-4000:]}\n{log[-6000:]}"
        )


def copy_database(template, name):
    """A copy of the database and of its filestore (attachments live on disk)."""
    with contextlib.closing(admin_connection()) as conn, conn.cursor() as cr:
        cr.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    if filestore(template).exists():
        shutil.copytree(filestore(template), filestore(name))


def drop_database(name):
    with contextlib.closing(admin_connection()) as conn, conn.cursor() as cr:
        cr.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(filestore(name), ignore_errors=True)


def remove_data_dir():
    shutil.rmtree(DATA_DIR, ignore_errors=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """``odoo-bin`` serving one database on a free loopback port."""

    def __init__(self, database, log_path, *, workers=0, extra=(), extra_addons=()):
        self.database = database
        self.log_path = Path(log_path)
        logcheck.watch(self.log_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            str(ODOO_SRC / "odoo-bin"),
            *odoo_options(extra_addons),
            # -d alone exposes exactly this database: without --db-filter,
            # Odoo 18 does not list PostgreSQL's databases on every request
            # that carries no session (every MCP request).
            "-d",
            database,
            "--http-interface",
            "127.0.0.1",
            "--http-port",
            str(self.port),
            "--workers",
            str(workers),
            "--max-cron-threads",
            "0",
            "--logfile",
            str(self.log_path),
            *extra,
        ]
        self.gevent_port = None
        if workers:
            # In prefork mode Odoo also runs its gevent (websocket) process.
            self.gevent_port = free_port()
            command += ["--gevent-port", str(self.gevent_port)]
        # What a process writes before its logging is set up (a child that
        # fails at import, say) goes to stderr: kept and checked like the log.
        self.stderr_path = self.log_path.with_name(f"{self.log_path.stem}.stderr.log")
        logcheck.watch(self.stderr_path)
        with open(self.stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(command, cwd=REPO, stderr=stderr)  # noqa: S603
        self._wait_ready()

    def _wait_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"odoo exited early:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/web/health", timeout=2).ok:
                    return
            except (requests.ConnectionError, requests.Timeout):
                # Refused while starting, or busy loading the registry.
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"odoo did not answer within {timeout}s:\n{self.log_tail()}")

    def log_text(self):
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def log_tail(self, size=6000):
        """The end of the log, and of stderr when the process wrote to it."""
        stderr = self.stderr_path.read_text(errors="replace").strip()
        tail = self.log_text()[-size:]
        return f"{tail}\n--- stderr ---\n{stderr[-size:]}" if stderr else tail

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
