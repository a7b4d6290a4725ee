"""Authorization code attacks (RFC 6749 §4.1.2, §10.5; OAuth 2.1 §4.1.3).

Codes are single use, claimed atomically, short-lived and bound to their
client; a replay revokes what the code issued.
"""

from concurrent.futures import ThreadPoolExecutor

from odoo.addons.mcp_server_odoo.oauth import settings as oauth_settings


def _mcp_status(client_for, token):
    return client_for(token).send("tools/list").status_code


def test_code_lifetime_is_at_most_60_seconds(oauth_app, browser_for, server_env):
    app = oauth_app()
    browser, _uid = browser_for()
    app.code_for(browser)
    with server_env() as env:
        code = env["mcp.oauth.code"].search(
            [("client_id.client_id", "=", app.client_id)], limit=1
        )
        lifetime = (code.expires_at - code.create_date).total_seconds()
    # create_date keeps microseconds, expires_at whole seconds.
    assert 0 < lifetime < 61
    assert oauth_settings.CODE_LIFETIME <= 60


def test_replayed_code_is_refused_and_revokes_issued_tokens(
    oauth_app, browser_for, client_for
):
    app = oauth_app()
    browser, _uid = browser_for()
    code = app.code_for(browser)
    first = app.exchange(code)
    assert first.status_code == 200
    tokens = first.json()
    client_for(tokens["access_token"]).initialize()

    replay = app.exchange(code)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert _mcp_status(client_for, tokens["access_token"]) == 401
    assert app.refresh(tokens["refresh_token"]).status_code == 400


def test_ten_parallel_redemptions_yield_exactly_one_token(oauth_app, browser_for):
    app = oauth_app()
    browser, _uid = browser_for()
    code = app.code_for(browser)
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _n: app.exchange(code), range(10)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [400] * 9, statuses
    assert all(
        response.json()["error"] == "invalid_grant"
        for response in responses
        if response.status_code != 200
    )


def test_expired_code_is_invalid_grant(oauth_app, browser_for, server_env):
    app = oauth_app()
    browser, _uid = browser_for()
    code = app.code_for(browser)
    with server_env() as env:
        env.cr.execute(
            "UPDATE mcp_oauth_code SET expires_at = now() at time zone 'UTC'"
            " - interval '1 second' WHERE client_id = (SELECT id FROM"
            " mcp_oauth_client WHERE client_id = %s)",
            [app.client_id],
        )
    response = app.exchange(code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_of_another_client_is_invalid_grant_and_stays_usable(
    oauth_app, browser_for
):
    victim, attacker = oauth_app(), oauth_app()
    browser, _uid = browser_for()
    code = victim.code_for(browser)
    attacker.verifier = victim.verifier
    stolen = attacker.exchange(code)
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"
    assert victim.exchange(code).status_code == 200


def test_confidential_client_must_authenticate_to_redeem(oauth_app, browser_for):
    app = oauth_app("client_secret_basic")
    browser, _uid = browser_for()
    code = app.code_for(browser)
    secret, app.secret = app.secret, None
    anonymous = app.exchange(code)
    assert anonymous.status_code in (400, 401)
    assert anonymous.json()["error"] == "invalid_client"
    app.secret = "mcpcs_wrong"
    assert app.exchange(code).json()["error"] == "invalid_client"
    app.secret = secret
    assert app.exchange(code).status_code == 200


def test_made_up_code_is_invalid_grant(oauth_app, browser_for):
    app = oauth_app()
    app.authorize_params()
    response = app.exchange("mcpac_" + "A" * 43)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
