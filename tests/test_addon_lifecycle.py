"""The addon installs (the template database proves it), uninstalls cleanly, and
`make run` (.ci/serve.py) installs or upgrades it as the database needs.
"""

import contextlib
import importlib.util
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.harness import odoo_server
from tests.harness.client import McpHttpClient

SERVE = odoo_server.REPO / ".ci" / "serve.py"

UNINSTALL = """
module = env["ir.module.module"].search([("name", "=", "mcp_server_odoo")])
assert module.state == "installed", module.state
module.button_immediate_uninstall()
env.cr.commit()
"""

CHECK = r"""
import json
module = env["ir.module.module"].search([("name", "=", "mcp_server_odoo")])
print("RESULT " + json.dumps({
    "state": module.state,
    "groups": env["ir.model.data"].search_count([("module", "=", "mcp_server_odoo")]),
    "has_model": "mcp.server" in env.registry,
    "routes": any(r.rule == "/mcp" for r in env["ir.http"].routing_map().iter_rules()),
}))
env.cr.execute(r"SELECT count(*) FROM pg_proc WHERE proname LIKE 'mcp\_%'")
print("FUNCTIONS " + str(env.cr.fetchone()[0]))
env.cr.execute(
    r"SELECT string_agg(relname, ',') FROM pg_class"
    r" WHERE relname LIKE 'mcp\_%' AND relkind IN ('r', 'v', 'm', 'S')"
)
print("RELATIONS " + str(env.cr.fetchone()[0]))
"""


def _shell(database, script, run_dir):
    command = [
        sys.executable,
        str(odoo_server.ODOO_SRC / "odoo-bin"),
        "shell",
        *odoo_server.odoo_options(),
        "-d",
        database,
        "--log-level",
        "warn",
        "--logfile",
        str(run_dir / f"shell-{database}.log"),
    ]
    return subprocess.run(
        command, input=script, capture_output=True, text=True, check=False, timeout=300
    )


@pytest.fixture(scope="module")
def uninstalled_db(template_db, run_dir):
    """A copy of the template from which the addon was uninstalled."""
    name = odoo_server.db_name("uninstall")
    odoo_server.copy_database(template_db, name)
    try:
        done = _shell(name, UNINSTALL, run_dir)
        assert done.returncode == 0, done.stderr[-3000:]
        yield name
    finally:
        odoo_server.drop_database(name)


def test_addon_uninstalls_cleanly_and_leaves_nothing_behind(uninstalled_db, run_dir):
    log = (run_dir / f"shell-{uninstalled_db}.log").read_text()
    assert " ERROR " not in log and "Traceback" not in log, log[-3000:]
    checked = _shell(uninstalled_db, CHECK, run_dir)
    line = next(ln for ln in checked.stdout.splitlines() if ln.startswith("RESULT "))
    assert line == (
        'RESULT {"state": "uninstalled", "groups": 0, "has_model": false, '
        '"routes": false}'
    )
    # Nothing of ours stays in PostgreSQL: functions, tables, sequences.
    assert "FUNCTIONS 0" in checked.stdout.splitlines()
    assert "RELATIONS None" in checked.stdout.splitlines()


# -- make run ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def serve():
    """.ci/serve.py as a module, for its decision alone (it is not a package)."""
    spec = importlib.util.spec_from_file_location("mcp_ci_serve", SERVE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _plain_database():
    """A PostgreSQL database that exists and holds no Odoo at all."""
    name = odoo_server.db_name("plain")
    with contextlib.closing(odoo_server.admin_connection()) as conn:
        with conn.cursor() as cr:
            cr.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        odoo_server.drop_database(name)


def test_make_run_upgrades_installs_or_creates_as_the_database_needs(
    serve, template_db, uninstalled_db
):
    assert serve.addon_action(template_db)[0] == "-u"
    # Where the addon is not installed, -u would load nothing: /mcp is a 404.
    assert serve.addon_action(uninstalled_db) == (
        "-i",
        f"installing mcp_server_odoo into database {uninstalled_db!r}",
    )
    with _plain_database() as plain:
        assert serve.addon_action(plain)[0] == "-i"
    missing = odoo_server.db_name("never_created")
    assert serve.addon_action(missing) == (
        "-i",
        f"creating database {missing!r} with mcp_server_odoo",
    )


class MakeRun:
    """``.ci/serve.py`` (what `make run` runs) on a free port, until stopped."""

    def __init__(self, database, run_dir):
        log = run_dir / f"serve-{database}.log"
        # The run's keys, its data directory (the template's filestore) and a
        # log file the session's guard reads; serve.py adds nothing to it.
        config = run_dir / f"serve-{database}.conf"
        config.write_text(
            odoo_server.config_file().read_text()
            + f"data_dir = {odoo_server.DATA_DIR}\nlogfile = {log}\n"
        )
        config.chmod(0o600)
        self.port = odoo_server.free_port()
        # A session of its own: serve.py's odoo-bin child (the install or
        # upgrade) is stopped with it, never left running on a dropped database.
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, str(SERVE), "--db", database, "--port", str(self.port)],
            start_new_session=True,
            cwd=odoo_server.REPO,
            env={**os.environ, "MCP_ODOO_CONFIG": str(config)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = []
        self._lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def line_starting(self, prefix, timeout=600):
        """The first printed line that starts with ``prefix``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.output.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"serve.py printed no {prefix!r}:\n{''.join(self.output)}")

    def wait_ready(self, base_url, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "".join(self.output)
            with contextlib.suppress(requests.ConnectionError, requests.Timeout):
                if requests.get(f"{base_url}/web/health", timeout=2).ok:
                    return
            time.sleep(0.3)
        raise AssertionError(f"make run's server did not answer within {timeout}s")

    def stop(self):
        """SIGTERM to the session (Odoo stops gracefully), then SIGKILL to what is left.

        Odoo ignores a first SIGTERM while it installs or upgrades, so an
        odoo-bin child that outlives serve.py is killed.
        """
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _assert_make_run_serves_mcp(database, run_dir, doing):
    run = MakeRun(database, run_dir)
    try:
        said = run.line_starting("[run] ").strip()
        endpoint = run.line_starting("[run] MCP endpoint: ").split(": ", 1)[1].strip()
        assert endpoint == f"http://127.0.0.1:{run.port}/mcp"
        base_url = endpoint.removesuffix("/mcp")
        run.wait_ready(base_url)

        answer = McpHttpClient(base_url).send("tools/list")
        # The addon answers (a 404 would mean Odoo serves no /mcp route).
        assert answer.status_code == 401, answer.text[:500]
        assert answer.headers["WWW-Authenticate"].startswith(
            f'Bearer resource_metadata="{base_url}/.well-known/'
        )
        assert said == f"[run] {doing}"
    finally:
        run.stop()


def test_make_run_installs_the_addon_into_a_database_without_it(
    uninstalled_db, run_dir
):
    doing = f"installing mcp_server_odoo into database {uninstalled_db!r}"
    _assert_make_run_serves_mcp(uninstalled_db, run_dir, doing)


def test_make_run_upgrades_the_addon_in_a_database_that_has_it(template_db, run_dir):
    name = odoo_server.db_name("make_run")
    odoo_server.copy_database(template_db, name)
    try:
        doing = f"upgrading mcp_server_odoo in database {name!r}"
        _assert_make_run_serves_mcp(name, run_dir, doing)
    finally:
        odoo_server.drop_database(name)
