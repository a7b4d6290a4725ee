"""Authentication on /mcp with Odoo API keys, through ir.http's auth method."""

import datetime

import requests


def _www_authenticate(response):
    return response.headers.get("WWW-Authenticate", "")


def test_no_credential_is_401_with_resource_metadata_and_no_error_code(client_for):
    response = client_for(None).send("tools/list")
    assert response.status_code == 401
    header = _www_authenticate(response)
    assert header.startswith("Bearer ")
    assert 'resource_metadata="http://127.0.0.1:' in header
    assert '/.well-known/oauth-protected-resource"' in header
    assert "error=" not in header


def test_a_wrong_key_is_401_invalid_token(client_for):
    response = client_for("0" * 40).send("tools/list")
    assert response.status_code == 401
    assert 'error="invalid_token"' in _www_authenticate(response)
    assert response.json()["error"]["code"] == -32001


def test_a_non_bearer_authorization_header_is_401(mcp_client):
    response = mcp_client.send(
        "tools/list", extra_headers={"Authorization": "Basic YWRtaW46YWRtaW4="}
    )
    assert response.status_code == 401
    assert "not a Bearer token" in response.json()["error"]["message"]


def test_the_token_is_never_read_from_the_query_string(mcp_client, admin_token):
    body = mcp_client.message("tools/list")
    response = requests.post(
        f"{mcp_client.url}?access_token={admin_token}",
        json=body,
        headers=mcp_client.headers(token=None),
        timeout=10,
    )
    assert response.status_code == 401


def test_a_browser_session_cookie_does_not_authenticate(mcp_client, odoo_http):
    session = requests.Session()
    login = session.post(
        f"{odoo_http.url}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "params": {"db": odoo_http.database, "login": "admin", "password": "admin"},
        },
        timeout=20,
    )
    assert login.json()["result"]["uid"]
    response = session.post(
        mcp_client.url,
        json=mcp_client.message("tools/list"),
        headers=mcp_client.headers(token=None),
        timeout=10,
    )
    assert response.status_code == 401


def test_the_key_of_an_archived_user_stops_working(
    new_api_user, client_for, server_env
):
    uid, key = new_api_user()
    client = client_for(key)
    assert client.send("tools/list").status_code == 200
    with server_env() as env:
        env["res.users"].browse(uid).active = False
    assert client.send("tools/list").status_code == 401


def test_an_expired_key_stops_working(new_api_user, client_for, server_env):
    uid, key = new_api_user()
    with server_env() as env:
        env.cr.execute(
            "UPDATE res_users_apikeys SET expiration_date = %s WHERE user_id = %s",
            [datetime.datetime(2020, 1, 1), uid],
        )
    assert client_for(key).send("tools/list").status_code == 401


def test_a_key_with_another_scope_is_refused(new_api_user, client_for, server_env):
    uid, _key = new_api_user()
    with server_env() as env:
        user = env["res.users"].browse(uid)
        other = (
            env["res.users.apikeys"]
            .with_user(user)
            .sudo()
            ._generate("odoo.plugin.outlook", "outlook", None)
        )
    assert client_for(other).send("tools/list").status_code == 401


def test_tools_run_as_the_key_owner(new_api_user, client_for):
    uid, key = new_api_user(groups=("base.group_user",))
    client = client_for(key)
    found = client.call_ok(
        "search_records",
        {"model": "res.users", "domain": [["id", "=", uid]], "fields": ["login"]},
    )
    assert [record["id"] for record in found["records"]] == [uid]


def test_secrets_never_reach_the_server_log(new_api_user, client_for, odoo_http):
    _uid, key = new_api_user()
    client_for(key).send("tools/list")
    client_for(key[:-1] + "x").send("tools/list")
    assert key not in odoo_http.log_text()
    assert key[:-1] + "x" not in odoo_http.log_text()
