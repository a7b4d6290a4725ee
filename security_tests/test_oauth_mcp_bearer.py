"""/mcp as an OAuth protected resource (RFC 6750, RFC 8707, RFC 9728 §5.1).

Tokens are read from the Authorization header only; a token must be live,
of a live user, client and grant, older than the user's last password change
and issued for this very /mcp URL.
"""

import hashlib
import re

from odoo.exceptions import AccessError

from odoo.addons.mcp_server_odoo.oauth import digests

from tests.harness.client import McpHttpClient


def _www(response):
    return response.headers.get("WWW-Authenticate", "")


def test_missing_token_is_401_with_resource_metadata_and_no_error(
    client_for, odoo_http
):
    response = client_for(None).send("tools/list")
    assert response.status_code == 401
    header = _www(response)
    assert header.startswith("Bearer ")
    assert (
        f'resource_metadata="{odoo_http.url}/.well-known/oauth-protected-resource'
        in header
    )
    assert "error=" not in header


def test_invalid_token_is_401_invalid_token(client_for):
    response = client_for("mcpat_" + "A" * 43).send("tools/list")
    assert response.status_code == 401
    assert 'error="invalid_token"' in _www(response)


def test_expired_token_is_invalid_token(oauth_token_for, client_for, server_env):
    tokens, app, _uid = oauth_token_for()
    with server_env() as env:
        env.cr.execute(
            "UPDATE mcp_oauth_token SET expires_at = now() at time zone 'UTC'"
            " - interval '1 second' WHERE kind = 'access' AND client_id ="
            " (SELECT id FROM mcp_oauth_client WHERE client_id = %s)",
            [app.client_id],
        )
    response = client_for(tokens["access_token"]).send("tools/list")
    assert response.status_code == 401
    assert 'error="invalid_token"' in _www(response)


def test_token_for_another_audience_is_invalid_token(oauth_token_for, odoo_http):
    """A token issued for http://127.0.0.1:port/mcp is refused at localhost:port."""
    tokens, _app, _uid = oauth_token_for()
    foreign = McpHttpClient(
        odoo_http.url.replace("127.0.0.1", "localhost"), tokens["access_token"]
    )
    response = foreign.send("tools/list")
    assert response.status_code == 401
    assert 'error="invalid_token"' in _www(response)


def test_token_in_query_or_body_is_not_read(oauth_token_for, odoo_http):
    tokens, _app, _uid = oauth_token_for()
    client = McpHttpClient(odoo_http.url, None)
    body = client.message("tools/list")
    in_query = client.session.post(
        f"{odoo_http.url}/mcp?access_token={tokens['access_token']}",
        json=body,
        headers=client.headers(),
        timeout=30,
    )
    assert in_query.status_code == 401
    assert "error=" not in _www(in_query)
    in_form = client.session.post(
        f"{odoo_http.url}/mcp",
        data={"access_token": tokens["access_token"]},
        headers={"MCP-Protocol-Version": client.version},
        timeout=30,
    )
    assert in_form.status_code in (400, 401, 415)
    assert in_form.status_code != 200


def test_lowercase_bearer_scheme_is_accepted(oauth_token_for, client_for):
    tokens, _app, _uid = oauth_token_for()
    client = client_for(None)
    response = client.send(
        "tools/list",
        extra_headers={"Authorization": f"bearer {tokens['access_token']}"},
    )
    assert response.status_code == 200


def test_refresh_token_does_not_open_mcp(oauth_token_for, client_for):
    tokens, _app, _uid = oauth_token_for()
    assert client_for(tokens["refresh_token"]).send("tools/list").status_code == 401


def test_api_keys_are_refused_unless_the_administrator_allows_them(
    admin_token, client_for, oauth_setting
):
    assert client_for(admin_token).send("tools/list").status_code == 200
    oauth_setting("accept_api_keys", False)
    response = client_for(admin_token).send("tools/list")
    assert response.status_code == 401
    assert 'error="invalid_token"' in _www(response)


def test_archiving_the_user_stops_their_tokens(oauth_token_for, client_for, server_env):
    tokens, _app, uid = oauth_token_for()
    with server_env() as env:
        env["res.users"].browse(uid).active = False
    assert client_for(tokens["access_token"]).send("tools/list").status_code == 401


def test_password_change_stops_every_token(oauth_token_for, client_for, server_env):
    tokens, app, uid = oauth_token_for()
    with server_env() as env:
        env["res.users"].browse(uid).password = "a-brand-new-password-42"
    assert client_for(tokens["access_token"]).send("tools/list").status_code == 401
    assert app.refresh(tokens["refresh_token"]).status_code == 400


def test_administrator_revoking_the_client_stops_its_tokens(
    oauth_token_for, client_for, server_env
):
    tokens, app, _uid = oauth_token_for()
    with server_env() as env:
        admin = env.ref("base.user_admin")
        client = env["mcp.oauth.client"].search([("client_id", "=", app.client_id)])
        client.with_user(admin).action_revoke()
    assert client_for(tokens["access_token"]).send("tools/list").status_code == 401
    assert app.refresh(tokens["refresh_token"]).status_code in (400, 401)


def test_user_revoking_their_authorization_stops_its_tokens(
    oauth_token_for, client_for, server_env
):
    tokens, app, uid = oauth_token_for()
    with server_env() as env:
        user = env["res.users"].browse(uid)
        grants = env["mcp.oauth.grant"].with_user(user).search([])
        assert len(grants) == 1
        assert grants.client_name == "Test app"
        grants.action_revoke()
    assert client_for(tokens["access_token"]).send("tools/list").status_code == 401


def test_user_cannot_see_or_revoke_another_users_authorization(
    oauth_token_for, oauth_user, server_env
):

    _tokens, _app, victim = oauth_token_for()
    other, _login, _pw = oauth_user()
    with server_env() as env:
        grants = env["mcp.oauth.grant"].with_user(other)
        assert not grants.search([("user_id", "=", victim)])
        victim_grant = env["mcp.oauth.grant"].search([("user_id", "=", victim)])
        try:
            victim_grant.with_user(other).action_revoke()
            raise AssertionError("another user's grant was revoked")
        except AccessError:
            pass


def test_database_holds_no_replayable_secret(oauth_token_for, server_env, odoo_http):
    tokens, app, _uid = oauth_token_for("client_secret_basic")
    secrets_ = [tokens["access_token"], tokens["refresh_token"], app.secret]
    with server_env() as env:
        for table in (
            "mcp_oauth_token",
            "mcp_oauth_code",
            "mcp_oauth_client",
            "mcp_oauth_grant",
        ):
            env.cr.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608
            dump = "\n".join(row[0] for row in env.cr.fetchall())
            for secret in secrets_:
                assert secret not in dump
                assert secret[6:] not in dump
    log = odoo_http.log_text()
    for secret in secrets_:
        assert secret not in log
        assert secret[6:] not in log


def test_stored_digests_are_keyed(oauth_token_for, server_env):
    """A bare SHA-256 of the token is not what the database holds."""

    tokens, _app, _uid = oauth_token_for()
    plain = hashlib.sha256(tokens["access_token"].encode()).hexdigest()
    with server_env() as env:
        env.cr.execute(
            "SELECT count(*) FROM mcp_oauth_token WHERE digest = %s", [plain]
        )
        assert env.cr.fetchone()[0] == 0


def _live_access_token(env):
    """An access token of a live grant touched just now: (token, grant)."""
    digester = digests.digester()
    admin = env.ref("base.user_admin")
    client = env["mcp.oauth.client"].create(
        {"name": "lookup", "redirect_uris": "http://127.0.0.1:9/callback"}
    )
    password = env["mcp.oauth.token"]._password_hash(admin.id)
    grant = env["mcp.oauth.grant"].create(
        {
            "client_id": client.id,
            "user_id": admin.id,
            "resource": "http://127.0.0.1:1/mcp",
            "password_stamp": digester.password_stamp(admin.id, password),
            "expires_at": "2999-01-01 00:00:00",
        }
    )
    token, digest = digester.issue(digests.ACCESS_TOKEN)
    env["mcp.oauth.token"].create(
        {
            "grant_id": grant.id,
            "kind": "access",
            "digest": digest,
            "expires_at": "2999-01-01 00:00:00",
        }
    )
    env.flush_all()
    env.cr.execute(
        "UPDATE mcp_oauth_grant SET last_used = now() at time zone 'UTC' WHERE id = %s",
        [grant.id],
    )
    return token, grant


def test_token_check_is_one_statement(odoo_env):
    token, grant = _live_access_token(odoo_env)
    tokens = odoo_env["mcp.oauth.token"]
    before = odoo_env.cr.sql_log_count
    check = tokens._check_access_token(token, resource=grant.resource)
    assert odoo_env.cr.sql_log_count - before == 1
    assert check.uid == grant.user_id.id and check.error is None


def test_token_check_query_uses_the_unique_digest_index(odoo_env):
    """EXPLAIN the query of mcp_oauth_access_check as PostgreSQL stores it."""
    token, grant = _live_access_token(odoo_env)
    cr = odoo_env.cr
    # Enough tokens that a sequential scan would cost more (rolled back).
    cr.execute(
        "INSERT INTO mcp_oauth_token (grant_id, kind, digest, expires_at)"
        " SELECT %s, 'access', md5(i::text) || md5((-i)::text), now()"
        " FROM generate_series(1, 5000) AS i",
        [grant.id],
    )
    cr.execute("ANALYZE mcp_oauth_token")
    cr.execute("SELECT prosrc FROM pg_proc WHERE proname = 'mcp_oauth_access_check'")
    source = cr.fetchone()[0]
    query = source.split("RETURN QUERY", 1)[1].split(";", 1)[0]
    query = query.replace("p_digest", "$1").replace("p_touch_interval", "$2")
    cr.execute(f"PREPARE mcp_access_check_plan(varchar, integer) AS {query}")
    digest = digests.digester().digest(digests.ACCESS_TOKEN, token)
    # PL/pgSQL plans its query like a prepared statement: custom plans
    # first, then possibly a generic one; both must use the index.
    for mode in ("force_custom_plan", "force_generic_plan"):
        cr.execute(f"SET LOCAL plan_cache_mode = {mode}")
        cr.execute("EXPLAIN EXECUTE mcp_access_check_plan(%s, 60)", [digest])
        plan = "\n".join(row[0] for row in cr.fetchall())
        assert re.search(r"Index Scan using mcp_oauth_token_digest_unique", plan), plan
        assert "Seq Scan on mcp_oauth_token" not in plan, plan
    cr.execute("DEALLOCATE mcp_access_check_plan")
