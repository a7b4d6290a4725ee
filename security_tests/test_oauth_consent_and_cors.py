"""The browser-facing boundaries: the consent form and cross-origin calls.

* The consent form only counts when it comes with the user's session and its
  CSRF token: a POST without either is refused by Odoo and makes no code.
* The token, revocation and registration endpoints answer CORS preflights
  (browser-based MCP clients call them cross-origin); the authorization
  endpoint (a page for the user, never a cross-origin call) and introspection
  (for confidential server-side clients) do not.
"""

import pytest
import requests

from tests.harness.oauth import form_fields

ORIGIN = "https://app.example.com"


def _codes(server_env, app):
    with server_env() as env:
        return env["mcp.oauth.code"].search_count(
            [("client_id.client_id", "=", app.client_id)]
        )


def test_consent_post_without_the_session_is_refused_and_makes_no_code(
    oauth_app, browser_for, odoo_http, server_env
):
    app = oauth_app()
    browser, _uid = browser_for()
    page = browser.open_authorize(app.authorize_params())
    assert "o_mcp_oauth_consent" in page.text
    fields = {**form_fields(page), "decision": "allow"}
    # The same form, CSRF token included, sent without the user's cookie.
    forged = requests.post(
        f"{odoo_http.url}/oauth/authorize",
        data=fields,
        allow_redirects=False,
        timeout=30,
    )
    assert forged.status_code == 400
    assert "Location" not in forged.headers
    assert "Traceback" not in forged.text
    assert _codes(server_env, app) == 0


def test_consent_post_without_the_csrf_token_is_refused_and_makes_no_code(
    oauth_app, browser_for, server_env
):
    """A cross-site form riding on the user's session has no CSRF token."""
    app = oauth_app()
    browser, _uid = browser_for()
    page = browser.open_authorize(app.authorize_params())
    fields = {**form_fields(page), "decision": "allow"}
    del fields["csrf_token"]
    forged = browser.session.post(
        f"{browser.base_url}/oauth/authorize",
        data=fields,
        allow_redirects=False,
        timeout=30,
    )
    assert forged.status_code == 400
    assert "Location" not in forged.headers
    assert _codes(server_env, app) == 0
    # The genuine form still works afterwards.
    assert browser.decide(page).status_code == 303


def _preflight(odoo_http, path):
    return requests.options(
        f"{odoo_http.url}{path}",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        timeout=30,
    )


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/register", "/oauth/revoke"])
def test_client_endpoints_answer_the_cors_preflight(odoo_http, path):
    response = _preflight(odoo_http, path)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    methods = response.headers["Access-Control-Allow-Methods"]
    assert "POST" in [method.strip() for method in methods.split(",")]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    # No credentials mode: a browser never sends the Odoo session along.
    assert "Access-Control-Allow-Credentials" not in response.headers
    answer = requests.post(
        f"{odoo_http.url}{path}", headers={"Origin": ORIGIN}, timeout=30
    )
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["/oauth/authorize", "/oauth/introspect"])
def test_authorize_and_introspect_allow_no_cross_origin_calls(
    odoo_http, oauth_app, path
):
    preflight = _preflight(odoo_http, path)
    assert preflight.status_code != 204
    assert "Access-Control-Allow-Origin" not in preflight.headers
    params = oauth_app().authorize_params() if path == "/oauth/authorize" else None
    answer = requests.get(
        f"{odoo_http.url}{path}",
        params=params,
        headers={"Origin": ORIGIN},
        allow_redirects=False,
        timeout=30,
    )
    assert "Access-Control-Allow-Origin" not in answer.headers
