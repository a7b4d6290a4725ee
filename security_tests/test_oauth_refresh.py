"""Refresh token attacks (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).

Refresh tokens rotate on every use; a rotated token presented again revokes
the whole family; parallel refreshes cannot both win; lifetimes hold.
"""

from concurrent.futures import ThreadPoolExecutor


def _status(client_for, token):
    return client_for(token).send("tools/list").status_code


def test_refresh_rotates_the_refresh_token(oauth_token_for, client_for):
    tokens, app, _uid = oauth_token_for()
    response = app.refresh(tokens["refresh_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    fresh = response.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert fresh["access_token"] != tokens["access_token"]
    client_for(fresh["access_token"]).initialize()


def test_reused_refresh_token_revokes_the_whole_family(oauth_token_for, client_for):
    tokens, app, _uid = oauth_token_for()
    fresh = app.refresh(tokens["refresh_token"]).json()
    reuse = app.refresh(tokens["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    # Every member of the family is dead: old and new access tokens, new refresh.
    assert _status(client_for, fresh["access_token"]) == 401
    assert _status(client_for, tokens["access_token"]) == 401
    assert app.refresh(fresh["refresh_token"]).status_code == 400


def test_parallel_refreshes_of_one_token_yield_exactly_one_new_pair(oauth_token_for):
    tokens, app, _uid = oauth_token_for()
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(
            pool.map(lambda _n: app.refresh(tokens["refresh_token"]), range(5))
        )
    statuses = sorted(response.status_code for response in responses)
    # One claims the token in a single UPDATE; the others see it rotated.
    assert statuses == [200, 400, 400, 400, 400], statuses
    assert all(
        response.json()["error"] == "invalid_grant"
        for response in responses
        if response.status_code != 200
    )


def test_refresh_token_of_another_client_is_invalid_grant(oauth_token_for, oauth_app):
    tokens, _victim, _uid = oauth_token_for()
    attacker = oauth_app()
    response = attacker.refresh(tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_access_token_is_not_a_refresh_token(oauth_token_for):
    tokens, app, _uid = oauth_token_for()
    response = app.refresh(tokens["access_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_never_outlives_the_absolute_lifetime(
    oauth_token_for, oauth_setting, server_env
):
    oauth_setting("oauth_refresh_absolute_lifetime", "120")
    tokens, app, _uid = oauth_token_for()
    fresh = app.refresh(tokens["refresh_token"]).json()
    assert fresh["expires_in"] <= 120
    with server_env() as env:
        grant = env["mcp.oauth.grant"].search(
            [("client_id.client_id", "=", app.client_id)], limit=1
        )
        ends = grant.expires_at
        # create_date keeps microseconds, expires_at whole seconds.
        assert (ends - grant.create_date).total_seconds() < 121
        assert all(token.expires_at <= ends for token in grant.token_ids)
        # Past the absolute end, refreshing fails although the idle time has not.
        env.cr.execute(
            "UPDATE mcp_oauth_token SET expires_at = now() at time zone 'UTC'"
            " - interval '1 second' WHERE grant_id = %s AND kind = 'refresh'",
            [grant.id],
        )
    assert app.refresh(fresh["refresh_token"]).status_code == 400


def test_idle_refresh_token_expires(oauth_token_for, oauth_setting, server_env):
    oauth_setting("oauth_refresh_idle_lifetime", "60")
    tokens, app, _uid = oauth_token_for()
    with server_env() as env:
        token = env["mcp.oauth.token"].search(
            [("client_id.client_id", "=", app.client_id), ("kind", "=", "refresh")]
        )
        # create_date keeps microseconds, expires_at whole seconds.
        assert (token.expires_at - token.create_date).total_seconds() < 61
        token.expires_at = "2000-01-01 00:00:00"
    response = app.refresh(tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
