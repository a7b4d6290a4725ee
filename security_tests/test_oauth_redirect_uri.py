"""Redirect URI attacks (OAuth 2.1 §2.3.1, RFC 9700 §4.1, RFC 8252 §7.3).

Exact matching except for the port of loopback redirects; an unknown client
or redirect URI gets an error page and never a redirect (no open redirector).
"""

import pytest

from odoo.exceptions import ValidationError

from tests.harness.oauth import Browser, query_of

REGISTERED = "https://app.example.com/callback"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://app.example.com/callback/",
        "https://app.example.com/callback/../evil",
        "https://app.example.com/Callback",
        "https://APP.example.com/callback",
        "https://app.example.com/callback?x=1",
        "https://app.example.com:8443/callback",
        "https://evil.app.example.com/callback",
        "https://app.example.com.evil.com/callback",
        "https://app.example.com@evil.com/callback",
        "https://user@app.example.com/callback",
        "http://app.example.com/callback",
        "https://app.example.com/callback#frag",
        "https://evil.com/callback",
        "javascript:alert(1)//app.example.com/callback",
        "data:text/html,<script>alert(1)</script>",
        "",
    ],
)
def test_near_miss_redirect_gets_an_error_page_and_no_redirect(
    oauth_app, browser_for, redirect_uri
):
    app = oauth_app(redirect_uris=(REGISTERED,))
    browser, _uid = browser_for()
    response = browser.open_authorize(app.authorize_params(redirect_uri=redirect_uri))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "o_mcp_oauth_error" in response.text
    assert response.headers["X-Frame-Options"] == "DENY"


def test_exact_redirect_reaches_consent(oauth_app, browser_for):
    app = oauth_app(redirect_uris=(REGISTERED,))
    browser, _uid = browser_for()
    response = browser.open_authorize(app.authorize_params(redirect_uri=REGISTERED))
    assert response.status_code == 200
    assert "o_mcp_oauth_consent" in response.text


def test_missing_redirect_uri_is_an_error_page(oauth_app, browser_for):
    app = oauth_app(redirect_uris=(REGISTERED,))
    browser, _uid = browser_for()
    response = browser.open_authorize(app.authorize_params(redirect_uri=None))
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("http://127.0.0.1/callback", "http://127.0.0.1:54321/callback"),
        ("http://127.0.0.1:9/callback", "http://127.0.0.1:61000/callback"),
        ("http://[::1]:9/callback", "http://[::1]:4444/callback"),
    ],
)
def test_loopback_redirect_accepts_any_port(
    oauth_app, browser_for, registered, requested
):
    app = oauth_app(redirect_uris=(registered,))
    browser, _uid = browser_for()
    app.redirect_uri = requested
    code = app.code_for(browser)
    assert app.exchange(code).status_code == 200


@pytest.mark.parametrize(
    "requested",
    [
        "http://127.0.0.1:5000/other",
        "http://localhost:5000/callback",
        "https://127.0.0.1:5000/callback",
        "http://127.0.0.2:5000/callback",
    ],
)
def test_loopback_port_freedom_does_not_extend_to_host_path_or_scheme(
    oauth_app, browser_for, requested
):
    app = oauth_app(redirect_uris=("http://127.0.0.1:9/callback",))
    browser, _uid = browser_for()
    response = browser.open_authorize(app.authorize_params(redirect_uri=requested))
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_unknown_client_gets_an_error_page_not_a_redirect(oauth_app, browser_for):
    app = oauth_app()
    browser, _uid = browser_for()
    params = app.authorize_params(
        client_id="no-such-client", redirect_uri="https://evil.example/steal"
    )
    response = browser.open_authorize(params)
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_unknown_client_is_refused_before_login(oauth_app, odoo_http):

    app = oauth_app()
    params = app.authorize_params(
        client_id="nope", redirect_uri="https://evil.example/"
    )
    response = Browser(odoo_http.url).open_authorize(params)
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_errors_after_redirect_validation_redirect_with_303_state_and_iss(
    oauth_app, browser_for
):
    app = oauth_app()
    browser, _uid = browser_for()
    params = app.authorize_params(scope="admin")
    response = browser.open_authorize(params)
    assert response.status_code == 303
    query = query_of(response)
    assert response.headers["Location"].startswith(app.redirect_uri + "?")
    assert query["error"] == "invalid_scope"
    assert query["state"] == params["state"]
    assert query["iss"] == app.base_url


def test_unsupported_response_type_redirects_only_to_a_registered_uri(
    oauth_app, browser_for
):
    app = oauth_app()
    browser, _uid = browser_for()
    response = browser.open_authorize(app.authorize_params(response_type="token"))
    assert response.status_code == 303
    assert response.headers["Location"].startswith(app.redirect_uri + "?")
    assert query_of(response)["error"] == "unsupported_response_type"
    evil = browser.open_authorize(
        app.authorize_params(
            response_type="token", redirect_uri="https://evil.example/"
        )
    )
    assert "Location" not in evil.headers


def test_code_redeemed_with_another_redirect_uri_is_invalid_grant(
    oauth_app, browser_for
):
    app = oauth_app(
        redirect_uris=("http://127.0.0.1:9/callback", "http://127.0.0.1:9/other")
    )
    browser, _uid = browser_for()
    code = app.code_for(browser)
    response = app.exchange(code, redirect_uri="http://127.0.0.1:9/other")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_administrator_cannot_register_a_redirect_with_userinfo(server_env):

    with pytest.raises(ValidationError), server_env() as env:
        env["mcp.oauth.client"].create(
            {
                "name": "bad",
                "redirect_uris": "https://user:pw@app.example.com/cb",
            }
        )
