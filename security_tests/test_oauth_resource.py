"""RFC 8707 resource indicators: tokens are for this server's /mcp and nothing else.

A resource other than this server's /mcp URL is ``invalid_target`` at the
authorization endpoint (redirected, with state and iss, no code), at the code
exchange and at refresh. Without a resource, the request is for the only one
served here: the tokens' audience is still this server's /mcp URL.
"""

from tests.harness.oauth import query_of

ELSEWHERE = "https://other.example.com/mcp"


def test_wrong_resource_at_authorize_redirects_invalid_target_without_a_code(
    oauth_app, browser_for, server_env
):
    app = oauth_app()
    browser, _uid = browser_for()
    params = app.authorize_params(resource=ELSEWHERE)
    response = browser.open_authorize(params)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(app.redirect_uri + "?")
    query = query_of(response)
    assert query["error"] == "invalid_target"
    assert query["state"] == params["state"]
    assert query["iss"] == app.base_url
    assert "code" not in query
    with server_env() as env:
        codes = env["mcp.oauth.code"].search_count(
            [("client_id.client_id", "=", app.client_id)]
        )
    assert codes == 0


def test_wrong_resource_at_the_code_exchange_is_invalid_target(oauth_app, browser_for):
    app = oauth_app()
    browser, _uid = browser_for()
    code = app.code_for(browser)
    response = app.exchange(code, resource=ELSEWHERE)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
    # Refused before the code was claimed: the right resource still redeems it.
    assert app.exchange(code).status_code == 200


def test_wrong_resource_at_refresh_is_invalid_target(oauth_token_for):
    tokens, app, _uid = oauth_token_for()
    response = app.refresh(tokens["refresh_token"], resource=ELSEWHERE)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
    assert app.refresh(tokens["refresh_token"], resource=app.resource).ok


def test_absent_resource_means_this_servers_mcp_endpoint(
    oauth_app, browser_for, client_for
):
    app = oauth_app("client_secret_basic")
    browser, _uid = browser_for()
    code = app.code_for(browser, resource=None)
    response = app.exchange(code, resource=None)
    assert response.status_code == 200, response.text
    tokens = response.json()
    introspection = app.introspect(tokens["access_token"]).json()
    assert introspection["active"] is True
    assert introspection["aud"] == f"{app.base_url}/mcp"
    assert client_for(tokens["access_token"]).send("tools/list").status_code == 200
    refreshed = app.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200
    assert app.introspect(refreshed.json()["access_token"]).json()["aud"] == (
        f"{app.base_url}/mcp"
    )
