"""Without ``mcp_oauth_hmac_key`` the authorization server fails closed.

A second Odoo server runs on a copy of the template database with a
configuration file that lacks the key: every /oauth endpoint answers 503
(JSON ``temporarily_unavailable``, or the error page at authorize) before
doing anything, nothing is registered, /mcp refuses OAuth access tokens as
``invalid_token``, and the log says why without a traceback.
"""

import contextlib

import psycopg2
import pytest
import requests

from tests.harness import logcheck, odoo_server
from tests.harness.oauth import REDIRECT_URI, pkce_pair


@pytest.fixture(scope="module")
def keyless_odoo(template_db, run_dir):
    name = odoo_server.db_name("nokey")
    odoo_server.copy_database(template_db, name)
    config = run_dir / "nokey.conf"
    config.write_text(
        "".join(
            line
            for line in odoo_server.config_file().read_text().splitlines(True)
            if not line.startswith("mcp_oauth_hmac_key")
        )
    )
    config.chmod(0o600)
    server = odoo_server.OdooServer(
        name, run_dir / "server-nokey.log", extra=("-c", str(config))
    )
    # Every 503 of this keyless server is the fail-closed answer under test.
    logcheck.expect(
        '" 503 ', reason="the OAuth endpoints fail closed", log="server-nokey.log"
    )
    yield server
    server.stop()
    odoo_server.drop_database(name)


def _client_count(server):
    with contextlib.closing(psycopg2.connect(dbname=server.database)) as conn:
        with conn.cursor() as cr:
            cr.execute("SELECT count(*) FROM mcp_oauth_client")
            return cr.fetchone()[0]


@pytest.mark.parametrize(
    ("path", "data", "json_body"),
    [
        ("/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x"}, None),
        ("/oauth/revoke", {"token": "mcpat_x", "client_id": "x"}, None),
        ("/oauth/introspect", {"token": "mcpat_x"}, None),
        (
            "/oauth/register",
            None,
            {"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"},
        ),
    ],
)
def test_every_json_endpoint_answers_503(keyless_odoo, path, data, json_body):
    before = _client_count(keyless_odoo)
    response = requests.post(
        f"{keyless_odoo.url}{path}", data=data, json=json_body, timeout=30
    )
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {
        "error": "temporarily_unavailable",
        "error_description": "The authorization server is not configured.",
    }
    assert _client_count(keyless_odoo) == before


def test_authorize_answers_the_error_page_with_503(keyless_odoo):
    _verifier, challenge = pkce_pair()
    response = requests.get(
        f"{keyless_odoo.url}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": "mcpc_anything",
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 503
    assert "o_mcp_oauth_error" in response.text
    assert "not configured" in response.text
    assert "Location" not in response.headers


def test_mcp_refuses_oauth_tokens_as_invalid_token(keyless_odoo):
    response = requests.post(
        f"{keyless_odoo.url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "MCP-Protocol-Version": "2025-11-25",
            "Authorization": "Bearer mcpat_" + "A" * 43,
        },
        timeout=30,
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_the_log_says_why_and_holds_no_traceback(keyless_odoo):
    log = keyless_odoo.log_text()
    assert "MCP OAuth FAIL not configured: set mcp_oauth_hmac_key" in log
    assert "MCP auth FAIL OAuth is not configured" in log
    assert "Traceback" not in log
