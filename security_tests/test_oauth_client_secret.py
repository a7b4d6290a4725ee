"""An administrator gives a confidential client a new secret (``action_new_secret``).

The new secret is shown once and stored only as a digest; the old one stops
working at the token endpoint at once; only MCP administrators may do it.
"""

import pytest

from odoo.exceptions import AccessError, UserError


def _client(env, app):
    return env["mcp.oauth.client"].search([("client_id", "=", app.client_id)])


def test_new_secret_works_and_the_old_one_stops_at_the_token_endpoint(
    oauth_app, browser_for, server_env, odoo_http
):
    app = oauth_app("client_secret_basic")
    browser, _uid = browser_for()
    old = app.secret
    with server_env() as env:
        admin = env.ref("base.user_admin")
        action = _client(env, app).with_user(admin).action_new_secret()
    new = action["params"]["message"]
    assert new.startswith("mcpcs_") and new != old

    code = app.code_for(browser)
    app.secret = old
    refused = app.exchange(code)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    app.secret = new
    tokens = app.exchange(code)
    assert tokens.status_code == 200, tokens.text
    app.secret = old
    assert app.refresh(tokens.json()["refresh_token"]).status_code == 401

    with server_env() as env:
        env.cr.execute(
            "SELECT secret_digest FROM mcp_oauth_client WHERE client_id = %s",
            [app.client_id],
        )
        assert new not in env.cr.fetchone()[0]
    # The server saw the new secret at the token endpoint; it never logs it.
    log = odoo_http.log_text()
    assert new not in log and new[6:] not in log


def test_only_mcp_administrators_may_issue_a_secret(oauth_app, oauth_user, server_env):
    app = oauth_app("client_secret_basic")
    uid, _login, _password = oauth_user()
    with server_env() as env:
        client = _client(env, app)
        before = client.sudo().secret_digest
        with pytest.raises(AccessError):
            client.with_user(uid).action_new_secret()
        assert client.sudo().secret_digest == before


def test_a_public_client_has_no_secret_to_renew(oauth_app, server_env):
    app = oauth_app()
    with server_env() as env:
        admin = env.ref("base.user_admin")
        with pytest.raises(UserError):
            _client(env, app).with_user(admin).action_new_secret()
