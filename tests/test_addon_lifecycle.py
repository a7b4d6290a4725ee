"""The addon installs (the template database proves it) and uninstalls cleanly."""

import subprocess
import sys

from tests.harness import odoo_server

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


def test_addon_uninstalls_cleanly_and_leaves_nothing_behind(template_db, run_dir):
    name = odoo_server.db_name("uninstall")
    odoo_server.copy_database(template_db, name)
    try:
        done = _shell(name, UNINSTALL, run_dir)
        assert done.returncode == 0, done.stderr[-3000:]
        log = (run_dir / f"shell-{name}.log").read_text()
        assert " ERROR " not in log and "Traceback" not in log, log[-3000:]
        checked = _shell(name, CHECK, run_dir)
        line = next(
            ln for ln in checked.stdout.splitlines() if ln.startswith("RESULT ")
        )
        assert line == (
            'RESULT {"state": "uninstalled", "groups": 0, "has_model": false, '
            '"routes": false}'
        )
        # Nothing of ours stays in PostgreSQL: functions, tables, sequences.
        assert "FUNCTIONS 0" in checked.stdout.splitlines()
        assert "RELATIONS None" in checked.stdout.splitlines()
    finally:
        odoo_server.drop_database(name)
