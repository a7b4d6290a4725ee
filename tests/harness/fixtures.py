"""pytest fixtures shared by tests/ and security_tests/."""

import contextlib
import json
import os
import tempfile
import uuid
from pathlib import Path

import pytest

from . import logcheck, odoo_server
from .client import McpHttpClient

_state = {}
RATE_LIMIT_PARAMETERS = (
    "mcp_server_odoo.rate_limit_calls",
    "mcp_server_odoo.rate_limit_ip_calls",
    "mcp_server_odoo.rate_limit_ip_failures",
    "mcp_server_odoo.rate_limit_oauth_calls",
)


def configure_odoo():
    """Point the in-process Odoo at our addons and database server (once)."""
    if _state.get("configured"):
        return
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(
        [*odoo_server.odoo_options(), "--log-level", "warn"], setup_logging=True
    )
    odoo.modules.module.initialize_sys_path()
    _state["configured"] = True


@pytest.fixture(scope="session")
def run_dir():
    with tempfile.TemporaryDirectory(prefix="mcp-tests-") as path:
        yield Path(path)


@pytest.fixture(scope="session", autouse=True)
def server_logs_hold_no_traceback_or_500(run_dir):
    """Fails the session (as an error at teardown) when an Odoo log is not clean.

    Autouse and set up before any server, so its teardown runs after every
    server has stopped and before run_dir is removed: it reads every log of
    the run, subset runs included (tests/harness/logcheck.py). Set
    ``MCP_KEEP_LOGS`` to a directory to keep a copy of those logs.
    """
    yield
    if os.environ.get("MCP_KEEP_LOGS"):
        logcheck.keep(run_dir, Path(os.environ["MCP_KEEP_LOGS"]))
    failure = logcheck.report(run_dir)
    if failure:
        pytest.fail(failure, pytrace=False)


@pytest.fixture
def expect_server_error(request):
    """``expect_server_error(needle, reason=..., log=None)``: this test provokes it.

    ``needle`` is the trace id the client received or the exact text of the
    logged error; the session's log guard then accepts the records holding it,
    in every log or only in the one named ``log``.
    """

    def expect(needle, *, reason, log=None):
        logcheck.expect(needle, reason=reason, test=request.node.nodeid, log=log)

    return expect


@pytest.fixture(scope="session")
def template_db(run_dir):
    odoo_server.drop_stale_databases()
    name = odoo_server.db_name("tpl")
    odoo_server.build_template(name, run_dir / "install.log")
    # Most tests authenticate with Odoo API keys (admin_token, new_api_user),
    # which /mcp refuses by default once OAuth is in place; OAuth tests get
    # their tokens from the oauth fixtures and switch this off where it matters.
    odoo_server.set_parameter(name, "mcp_server_odoo.accept_api_keys", "True")
    # The whole suite calls from 127.0.0.1 as a few users, failed
    # authentications included; rate limits are switched off here and on again
    # by the tests that prove them (tests/test_rate_limit.py, security_tests).
    for key in RATE_LIMIT_PARAMETERS:
        odoo_server.set_parameter(name, key, "0")
    yield name
    odoo_server.drop_database(name)


@pytest.fixture(scope="session")
def server_db(template_db):
    name = odoo_server.db_name("http")
    odoo_server.copy_database(template_db, name)
    yield name
    _close_registry(name)
    odoo_server.drop_database(name)


@pytest.fixture(scope="session")
def orm_db(template_db):
    name = odoo_server.db_name("orm")
    odoo_server.copy_database(template_db, name)
    yield name
    _close_registry(name)
    odoo_server.drop_database(name)


def _close_registry(name):
    import odoo  # noqa: PLC0415

    odoo.modules.registry.Registry.delete(name)
    odoo.sql_db.close_db(name)


def _registry(name):
    configure_odoo()
    import odoo  # noqa: PLC0415

    return odoo.modules.registry.Registry(name)


@pytest.fixture(scope="session")
def orm_registry(orm_db):
    return _registry(orm_db)


@contextlib.contextmanager
def rolled_back(registry):
    """A superuser Environment on a new cursor, rolled back at the end."""
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    cr = registry.cursor()
    try:
        yield api.Environment(cr, SUPERUSER_ID, {})
    finally:
        cr.rollback()
        cr.close()
        registry.clear_all_caches()


@pytest.fixture
def odoo_env(orm_registry):
    """An admin (superuser) Environment; everything is rolled back afterwards."""
    with rolled_back(orm_registry) as env:
        yield env


def _create_user(
    env,
    login=None,
    *,
    groups=("base.group_user",),
    company=None,
    companies=None,
    **values,
):
    login = login or f"user-{uuid.uuid4().hex[:10]}"
    company = company or env.ref("base.main_company")
    companies = companies or company
    group_ids = [env.ref(xmlid).id for xmlid in groups]
    return (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            {
                "name": login.replace("-", " ").title(),
                "login": login,
                "email": f"{login}@example.com",
                "company_id": company.id,
                "company_ids": [(6, 0, companies.ids)],
                "groups_id": [(6, 0, group_ids)],
                **values,
            }
        )
    )


@pytest.fixture
def make_user(odoo_env):
    """``make_user(login=None, groups=(xmlids...), company=, companies=)``."""
    return lambda *args, **kwargs: _create_user(odoo_env, *args, **kwargs)


# -- the HTTP server ---------------------------------------------------------------


@pytest.fixture(scope="session")
def odoo_http(server_db, run_dir):
    server = odoo_server.OdooServer(server_db, run_dir / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server_registry(server_db, odoo_http):
    return _registry(server_db)


@pytest.fixture(scope="session")
def server_env(server_registry):
    """``with server_env() as env:`` commits to the served database on exit."""
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    @contextlib.contextmanager
    def open_env():
        with server_registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            yield env
            env.flush_all()
        # Tell the server process that caches (groups, rules) may be stale.
        server_registry.signal_changes()

    open_env.registry = server_registry
    return open_env


def tools_call(name, arguments, request_id=1):
    """A JSON-RPC ``tools/call`` message."""
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


def accepted(body, version="2025-11-25"):
    """``body`` (a dict) through the transport's checks, as a POST would carry it."""
    from odoo.addons.mcp_server_odoo.protocol import transport  # noqa: PLC0415

    return transport.accept(
        json.dumps(body).encode(), {"mcp-protocol-version": version}
    )


def run_message(env, body, auth, *, remote_addr=None):
    """``(ctx, result)`` of one message run in-process through the whole chain."""
    return env["mcp.server"]._mcp_handle(accepted(body), auth, remote_addr=remote_addr)


def committed_audit_event(registry, trace_id):
    """The one audit event of a trace as committed, read through a cursor of its own."""
    with registry.cursor() as cr:
        cr.execute(
            "SELECT to_jsonb(e) FROM mcp_audit_event e WHERE trace_id = %s", [trace_id]
        )
        rows = [row[0] for row in cr.fetchall()]
    assert len(rows) == 1, f"{len(rows)} audit events for trace {trace_id}"
    return rows[0]


def api_key_for(env, user, *, scope=None, name="tests"):
    # sudo keeps the user as env.user while allowing a key without expiry.
    keys = env["res.users.apikeys"].with_user(user).sudo()
    return keys._generate(scope, name, None)


@pytest.fixture(scope="session")
def admin_token(server_env):
    with server_env() as env:
        return api_key_for(env, env.ref("base.user_admin"))


@pytest.fixture(scope="session")
def new_api_user(server_env):
    """``new_api_user(groups=..., company_xmlids=...)`` -> (user id, API key)."""

    def create(*args, **kwargs):
        with server_env() as env:
            companies = kwargs.pop("company_xmlids", None)
            if companies:
                kwargs["companies"] = env["res.company"].browse(
                    [env.ref(x).id for x in companies]
                )
            user = _create_user(env, *args, **kwargs)
            return user.id, api_key_for(env, user)

    return create


@pytest.fixture
def mcp_client(odoo_http, admin_token):
    """A protocol-speaking client holding the admin's API key."""
    return McpHttpClient(odoo_http.url, admin_token)


@pytest.fixture
def client_for(odoo_http):
    return lambda token, **kwargs: McpHttpClient(odoo_http.url, token, **kwargs)


def client_venv_python():
    venv = os.environ.get(
        "MCP_CLIENT_VENV", str(Path.home() / ".cache/mcp_server_odoo/client-venv")
    )
    return str(Path(venv) / "bin" / "python")


def pytest_configure(config):
    # Test modules import the addon (odoo.addons.mcp_server_odoo...) at
    # collection time, which needs Odoo's addons path set up first.
    configure_odoo()


def pytest_unconfigure(config):
    # The configuration file holds this run's HMAC and audit keys: it goes
    # whether or not a database was ever built (template_db may be unused, or
    # its build may have failed).
    odoo_server.remove_config_file()
    odoo_server.remove_data_dir()


# OAuth flows and their fixtures (oauth_user, oauth_app, browser_for, ...).
from .oauth import (  # noqa: E402, F401
    browser_for,
    oauth_app,
    oauth_setting,
    oauth_token_for,
    oauth_user,
)
