"""The official ``mcp`` SDK's OAuth client runs the whole flow against Odoo.

One run of tests/sdk_client/oauth_client.py (in the client virtualenv) per
module: the SDK discovers, registers, authorizes (its redirect handler logs in
on Odoo's login form and clicks Allow), calls ``search_records``, refreshes,
and after an administrator revokes the grant meets a 401. The tests below
each read one aspect of that run.
"""

import json
import os
import re
import select
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.harness.client import McpHttpClient
from tests.harness.fixtures import client_venv_python

pytestmark = pytest.mark.client

SCRIPT = Path(__file__).parent / "sdk_client" / "oauth_client.py"
RUN_TIMEOUT = 90
# A token, code or client secret as the server issues them (oauth/digests.py).
ISSUED_SECRET = re.compile(r"mcp(?:at|rt|ac|cs)_[A-Za-z0-9_-]{8,}")


def _line(process, deadline):
    """The next stdout line of the client, or fail with its stderr."""
    ready, _, _ = select.select([process.stdout], [], [], deadline - time.monotonic())
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        _out, err = process.communicate()
        raise AssertionError(f"the SDK client stopped or hung:\n{err[-4000:]}")
    return json.loads(line)


def _restricted_partners(server_env, uid):
    """Partners tagged for this run; a rule hides one of them from ``uid``."""
    tag = f"sdk-oauth-{uuid.uuid4().hex[:8]}"
    with server_env() as env:
        partners = env["res.partner"].create(
            [
                {"name": f"{tag} visible one"},
                {"name": f"{tag} visible two"},
                {"name": f"{tag} hidden"},
            ]
        )
        group = env["res.groups"].create({"name": f"SDK OAuth restricted {tag}"})
        env["ir.rule"].create(
            {
                "name": f"{tag}: hide one partner",
                "model_id": env.ref("base.model_res_partner").id,
                "groups": [(4, group.id)],
                "domain_force": repr([("name", "not ilike", f"{tag} hidden")]),
            }
        )
        env["res.users"].browse(uid).groups_id = [(4, group.id)]
        return tag, partners.ids, partners[2].id


def _grant_state(server_env, client_id):
    with server_env() as env:
        grants = env["mcp.oauth.grant"].search(
            [("client_id.client_id", "=", client_id)]
        )
        tokens = grants.token_ids
        return {
            "grants": len(grants),
            "user_ids": grants.user_id.ids,
            "resource": grants.mapped("resource"),
            "access": len(tokens.filtered(lambda t: t.kind == "access")),
            "refresh": len(tokens.filtered(lambda t: t.kind == "refresh")),
            "rotated": len(tokens.filtered("rotated_at")),
            "revoke_reason": grants.mapped("revoke_reason"),
        }


def _revoke_as_admin(server_env, client_id):
    with server_env() as env:
        admin = env.ref("base.user_admin")
        grants = (
            env["mcp.oauth.grant"]
            .with_user(admin)
            .search([("client_id.client_id", "=", client_id)])
        )
        grants.action_revoke()


@pytest.fixture(scope="module")
def sdk_run(odoo_http, server_env, oauth_user, admin_token):
    uid, login, password = oauth_user()
    tag, partner_ids, hidden_id = _restricted_partners(server_env, uid)
    arguments = {
        "model": "res.partner",
        "domain": [["name", "ilike", tag]],
        "fields": ["name"],
        "order": "id",
    }
    admin_view = McpHttpClient(odoo_http.url, admin_token).call_ok(
        "search_records", arguments
    )

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(MCP_OAUTH_LOGIN=login, MCP_OAUTH_PASSWORD=password)
    command = [
        client_venv_python(),
        str(SCRIPT),
        f"{odoo_http.url}/mcp",
        "--call",
        "search_records",
        json.dumps(arguments),
        "--refresh",
        "--wait-for-revocation",
    ]
    process = subprocess.Popen(  # noqa: S603
        command,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + RUN_TIMEOUT
    ready = _line(process, deadline)
    if "ready" not in ready:
        process.kill()
        raise AssertionError(f"the SDK flow failed: {ready.get('failure')}\n{ready}")
    client_id = ready["ready"]["client_id"]
    before = _grant_state(server_env, client_id)

    _revoke_as_admin(server_env, client_id)
    process.stdin.write("go\n")
    process.stdin.flush()
    report = _line(process, deadline)
    process.wait(timeout=30)
    return {
        "report": report,
        "uid": uid,
        "url": odoo_http.url,
        "partner_ids": partner_ids,
        "hidden_id": hidden_id,
        "admin_ids": [row["id"] for row in admin_view["records"]],
        "before_revocation": before,
        "after_revocation": _grant_state(server_env, client_id),
    }


def _calls(run, phase):
    return [call for call in run["report"]["calls"] if call["phase"] == phase]


def _http(run, phase=None):
    """``(method, path, status)`` of each HTTP exchange of the SDK (in a phase)."""
    return [
        (row["method"], row["path"], row["status"])
        for row in run["report"]["http"]
        if phase in (None, row["phase"])
    ]


def test_the_sdk_registers_itself_and_authorizes_with_pkce_and_resource(sdk_run):
    report = sdk_run["report"]
    assert report["client"]["token_endpoint_auth_method"] == "none"
    assert report["client"]["has_secret"] is False
    first = report["authorize_requests"][0]
    assert first == {
        "scope": "mcp",
        "resource": f"{sdk_run['url']}/mcp",
        "redirect_uri": "http://127.0.0.1:47219/callback",
        "code_challenge_method": "S256",
        "has_code_challenge": True,
        "has_state": True,
    }
    assert report["consent_page"] == {"names_client": True, "x_frame_options": "DENY"}
    assert report["authorization_response"] == {
        "keys": ["code", "iss", "state"],
        "iss_is_issuer": True,
    }
    # 401, both discovery documents, registration, then the token request.
    paths = _http(sdk_run)
    assert paths[0] == ("POST", "/mcp", 401)
    assert any(
        method == "GET"
        and path.startswith("/.well-known/oauth-protected-resource")
        and status == 200
        for method, path, status in paths
    )
    assert ("GET", "/.well-known/oauth-authorization-server", 200) in paths
    assert ("POST", "/oauth/register", 201) in paths
    assert ("POST", "/oauth/token", 200) in paths
    state = sdk_run["before_revocation"]
    assert state["grants"] == 1
    assert state["user_ids"] == [sdk_run["uid"]]
    assert state["resource"] == [f"{sdk_run['url']}/mcp"]


def test_the_sdk_sees_what_its_user_may_see_and_less_than_admin(sdk_run):
    [call] = _calls(sdk_run, "first")
    assert call["isError"] is False
    seen = [row["id"] for row in call["structuredContent"]["records"]]
    assert seen == [i for i in sdk_run["partner_ids"] if i != sdk_run["hidden_id"]]
    assert sdk_run["admin_ids"] == sdk_run["partner_ids"]
    assert sdk_run["hidden_id"] not in seen


def test_the_sdk_refreshes_with_a_rotating_refresh_token(sdk_run):
    report = sdk_run["report"]
    [call] = _calls(sdk_run, "refreshed")
    assert call["isError"] is False
    first, refreshed = report["tokens_issued"]
    assert refreshed["access"] != first["access"]
    assert refreshed["refresh"] != first["refresh"]
    assert refreshed["scope"] == "mcp"
    # The refresh went to the token endpoint before the call, with no new consent.
    rows = _http(sdk_run, "refreshed")
    assert rows[:2] == [("POST", "/oauth/token", 200), ("POST", "/mcp", 200)]
    assert len(report["authorize_requests"]) == 2  # the first, and the refused one
    state = sdk_run["before_revocation"]
    assert (state["access"], state["refresh"], state["rotated"]) == (2, 2, 1)


def test_a_grant_revoked_by_an_administrator_fails_the_sdks_next_call_with_401(
    sdk_run,
):
    report = sdk_run["report"]
    rows = _http(sdk_run, "revoked")
    assert rows[0] == ("POST", "/mcp", 401)
    assert all(status != 200 for method, path, status in rows if path == "/mcp")
    # The SDK went back to the authorization endpoint, which the person refused.
    assert len(report["authorize_requests"]) == 2
    assert "ReauthorizationRefused" in report["failure"]
    [call] = _calls(sdk_run, "revoked")
    assert call["structuredContent"] is None
    assert sdk_run["after_revocation"]["revoke_reason"] == ["admin"]


def test_no_token_code_or_secret_reaches_the_server_log(sdk_run, odoo_http):
    # Everything this session's server logged, the SDK's whole flow included.
    log = odoo_http.log_text()
    assert "/oauth/token" in log
    assert not ISSUED_SECRET.search(log)
