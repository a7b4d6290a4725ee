"""The OAuth 2.1 authorization code flow end to end, and /mcp with its tokens."""

from tests.harness.oauth import Browser, query_of


def test_full_flow_issues_tokens_that_open_mcp(oauth_app, browser_for, client_for):
    app = oauth_app()
    browser, uid = browser_for()
    tokens = app.tokens_for(browser)
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "mcp"
    assert tokens["access_token"].startswith("mcpat_")
    assert tokens["refresh_token"].startswith("mcprt_")
    assert 0 < tokens["expires_in"] <= 3600
    client = client_for(tokens["access_token"])
    assert client.initialize()["serverInfo"]["name"] == "mcp_server_odoo"


def test_token_response_is_not_cacheable(oauth_app, browser_for):
    app = oauth_app()
    browser, _uid = browser_for()
    response = app.exchange(app.code_for(browser))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_unauthenticated_browser_is_sent_to_odoo_login(oauth_app, odoo_http):

    app = oauth_app()
    response = Browser(odoo_http.url).open_authorize(app.authorize_params())
    assert response.status_code == 303
    assert response.headers["Location"].split("?")[0].endswith("/web/login")


def test_consent_page_names_client_host_user_and_scope(oauth_app, browser_for):
    app = oauth_app(name="Claude Desktop")
    browser, _uid = browser_for()
    page = browser.open_authorize(app.authorize_params())
    assert page.status_code == 200
    assert "Claude Desktop" in page.text
    assert "127.0.0.1" in page.text
    assert "all tools your Odoo user may use" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "Access-Control-Allow-Origin" not in page.headers


def test_deny_redirects_with_access_denied_state_and_iss(oauth_app, browser_for):
    app = oauth_app()
    browser, _uid = browser_for()
    params = app.authorize_params()
    response = browser.authorize(params, decision="deny")
    assert response.status_code == 303
    query = query_of(response)
    assert query["error"] == "access_denied"
    assert query["state"] == params["state"]
    assert query["iss"] == app.base_url
    assert "code" not in query
