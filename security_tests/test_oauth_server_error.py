"""The last line of the OAuth endpoints: an unexpected failure is ``server_error``.

No hostile input reaches this path any more (test_oauth_fuzz.py), so the
database itself is made to fail: a trigger refuses the row the endpoint
writes. The answer must be ``server_error`` (JSON, or the error page at
authorize) with a trace id, never the failure's text, and the server log must
hold the details under the same trace id. This runs on a server of its own,
so that the traceback it logs on purpose stays out of the shared server log
that other tests read.
"""

import contextlib
import re

import psycopg2
import pytest
import requests

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.sql_db import close_db

from tests.harness import logcheck, odoo_server
from tests.harness.fixtures import _create_user
from tests.harness.oauth import MCP_USER_GROUPS, REDIRECT_URI, Browser, OAuthApp

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION mcp_test_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$
"""


@pytest.fixture(scope="module")
def faulty_odoo(template_db, run_dir):
    name = odoo_server.db_name("fault")
    odoo_server.copy_database(template_db, name)
    server = odoo_server.OdooServer(name, run_dir / "server-fault.log")
    # This server fails on purpose: its 500 answers are the behaviour under
    # test; each test declares the traceback it provokes by its trace id.
    logcheck.expect(
        '" 500 ', reason="server_error answers on purpose", log="server-fault.log"
    )
    yield server
    server.stop()
    Registry.delete(name)
    close_db(name)
    odoo_server.drop_database(name)


@contextlib.contextmanager
def _env(server):
    """An environment on the server's database, committed on exit."""
    with Registry(server.database).cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


def _refuse_inserts(server, table, condition):
    with contextlib.closing(psycopg2.connect(dbname=server.database)) as conn:
        with conn.cursor() as cr:
            cr.execute(REFUSE_FUNCTION)
            cr.execute(
                f"CREATE TRIGGER mcp_test_refuse_{table} BEFORE INSERT ON {table}"
                f" FOR EACH ROW WHEN ({condition})"
                " EXECUTE FUNCTION mcp_test_refuse()"
            )
        conn.commit()


def _trace_id(text):
    match = re.search(r"trace id ([0-9a-f]{32})", text)
    assert match, text
    return match.group(1)


def test_an_unexpected_failure_is_server_error_json_with_a_trace_id(
    faulty_odoo, expect_server_error
):
    _refuse_inserts(faulty_odoo, "mcp_oauth_client", "NEW.name = 'Refused'")
    response = requests.post(
        f"{faulty_odoo.url}/oauth/register",
        json={
            "client_name": "Refused",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
        },
        timeout=30,
    )
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == "server_error"
    assert "refused by the test" not in response.text
    assert "Traceback" not in response.text
    trace_id = _trace_id(body["error_description"])
    expect_server_error(trace_id, reason="a refused insert", log="server-fault.log")
    log = faulty_odoo.log_text()
    assert f"MCP OAuth registration FAIL internal error (trace {trace_id})" in log


def test_an_unexpected_failure_at_authorize_is_the_error_page_with_a_trace_id(
    faulty_odoo, expect_server_error
):
    login, password = "fault-user", "fault-password-42"
    with _env(faulty_odoo) as env:
        _create_user(env, login, groups=MCP_USER_GROUPS, password=password)
        client = env["mcp.oauth.client"].create(
            {"name": "Fault app", "redirect_uris": REDIRECT_URI}
        )
        client_id, record_id = client.client_id, client.id
    _refuse_inserts(faulty_odoo, "mcp_oauth_code", f"NEW.client_id = {record_id}")
    app = OAuthApp(faulty_odoo.url, client_id)
    browser = Browser(faulty_odoo.url).login(login, password)
    response = browser.authorize(app.authorize_params())
    assert response.status_code == 500
    assert "o_mcp_oauth_error" in response.text
    assert "Location" not in response.headers
    assert "refused by the test" not in response.text
    trace_id = _trace_id(response.text)
    expect_server_error(trace_id, reason="a refused insert", log="server-fault.log")
    log = faulty_odoo.log_text()
    assert f"MCP OAuth authorization FAIL internal error (trace {trace_id})" in log
