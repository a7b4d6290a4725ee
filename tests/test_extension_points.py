"""Another addon extends the server through mcp.server's hooks, editing none of ours.

The addons of tests/addons are installed with ``odoo-bin -i`` into copies of
the template database, the way a customer installs an addon, and the served
result is checked over HTTP:

- mcp_test_extension adds a chain step (it stamps each answer's ``_meta`` and
  the tools' context) and a one-tool family (``test_extension_echo``);
- mcp_test_duplicate adds a second ``search_records``: the registry refuses to
  load, naming the tool, and Odoo rolls the install back.
"""

import contextlib
from pathlib import Path

import psycopg2
import pytest

from tests.harness import odoo_server
from tests.harness.client import McpHttpClient
from tests.harness.fixtures import _close_registry, _registry, api_key_for

ADDONS = Path(__file__).parent / "addons"
STAMP = "mcp_test_extension/step"
DUPLICATE = "duplicate MCP tool name: 'search_records'"


def _admin_key(database):
    """An API key of the admin, made before the test addon is installed.

    The in-process Odoo has no tests/addons on its path, so it opens the
    database while it still holds mcp_server_odoo alone.
    """
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    registry = _registry(database)
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return api_key_for(env, env.ref("base.user_admin"))
    finally:
        _close_registry(database)


@pytest.fixture(scope="module")
def extended(template_db, run_dir):
    """(OdooServer, admin API key) of a database with mcp_test_extension."""
    name = odoo_server.db_name("extension")
    odoo_server.copy_database(template_db, name)
    server = None
    try:
        key = _admin_key(name)
        log = run_dir / "extension-install.log"
        done = odoo_server.run_once(
            name, "-i", "mcp_test_extension", log_path=log, extra_addons=[ADDONS]
        )
        assert done.returncode == 0, log.read_text()[-4000:]
        server = odoo_server.OdooServer(
            name, run_dir / "extension-server.log", extra_addons=[ADDONS]
        )
        yield server, key
    finally:
        if server:
            server.stop()
        odoo_server.drop_database(name)


@pytest.fixture
def client(extended):
    server, key = extended
    client = McpHttpClient(server.url, key)
    client.initialize()
    return client


def test_another_addons_tool_is_listed_after_ours(client):
    names = [item["name"] for item in client.list_tools()]
    assert names[-1] == "test_extension_echo"
    assert "search_records" in names and names.count("test_extension_echo") == 1


def test_another_addons_tool_is_called_as_the_user_after_its_step(client):
    result = client.call_ok("test_extension_echo", {"text": "hello"})
    # The step ran before dispatch and changed what the tool sees.
    assert result == {"text": "hello", "login": "admin", "step": "tools/call"}


def test_another_addons_step_sees_every_message_after_authentication(client):
    admin_uid = 2
    listed = client.rpc("tools/list")
    assert listed["_meta"][STAMP] == {"method": "tools/list", "uid": admin_uid}
    # Our own tools pass through it too.
    called = client.call_tool("search_records", {"model": "res.users", "limit": 1})
    assert called["isError"] is False
    assert called["_meta"][STAMP] == {"method": "tools/call", "uid": admin_uid}
    # A caller without a credential is turned away before the step.
    refused = client.send("tools/list", token=None)
    assert refused.status_code == 401
    assert STAMP not in refused.text


def _module_state(database, module):
    with contextlib.closing(psycopg2.connect(dbname=database)) as conn:
        with conn.cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [module])
            return cr.fetchone()[0]


def test_a_duplicate_tool_name_makes_the_registry_refuse_to_load(
    template_db, run_dir, expect_server_error
):
    expect_server_error(
        DUPLICATE, reason="mcp_test_duplicate must make the registry refuse to load"
    )
    name = odoo_server.db_name("duplicate")
    odoo_server.copy_database(template_db, name)
    try:
        log = run_dir / "duplicate-install.log"
        installed = odoo_server.run_once(
            name, "-i", "mcp_test_duplicate", log_path=log, extra_addons=[ADDONS]
        )
        assert installed.returncode != 0
        text = log.read_text()
        assert f"CRITICAL {name} odoo.service.server: Failed to initialize" in text
        assert f"ValueError: {DUPLICATE}" in text
        # Odoo rolled the install back: the database serves as it did before.
        assert _module_state(name, "mcp_test_duplicate") == "uninstalled"
        assert _module_state(name, "mcp_server_odoo") == "installed"
    finally:
        odoo_server.drop_database(name)
