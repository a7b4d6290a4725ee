"""PKCE attacks (RFC 7636, OAuth 2.1 §4.1.1, RFC 9700 §4.8.2).

A request without a valid S256 challenge is refused at the authorization
endpoint itself, so no code ever exists for it; at the token endpoint the
verifier must be present exactly when a challenge was, and must match.
"""

import pytest

from odoo import fields

from odoo.addons.mcp_server_odoo.oauth import digests

from tests.harness.oauth import pkce_pair, query_of


def _codes_of(server_env, app):
    with server_env() as env:
        return env["mcp.oauth.code"].search_count(
            [("client_id.client_id", "=", app.client_id)]
        )


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(
            {"code_challenge": None, "code_challenge_method": None}, id="missing"
        ),
        pytest.param({"code_challenge_method": None}, id="method-missing-means-plain"),
        pytest.param({"code_challenge_method": "plain"}, id="plain"),
        pytest.param({"code_challenge": "short"}, id="too-short"),
        pytest.param({"code_challenge": "a" * 44}, id="not-s256-length"),
        pytest.param({"code_challenge": "+" * 43}, id="not-base64url"),
        pytest.param({"code_challenge_method": "s256"}, id="wrong-case-method"),
    ],
)
def test_authorize_without_valid_s256_challenge_is_invalid_request_and_no_code(
    oauth_app, browser_for, server_env, overrides
):
    app = oauth_app()
    browser, _uid = browser_for()
    params = app.authorize_params(**overrides)
    # Even the consent page is refused: the check is at the authorization endpoint.
    page = browser.open_authorize(params)
    assert page.status_code == 303
    query = query_of(page)
    assert query["error"] == "invalid_request"
    assert query["state"] == params["state"]
    assert query["iss"] == app.base_url
    assert "code" not in query
    # A forged consent POST with the same parameters fares no better.
    consent = browser.open_authorize(app.authorize_params())
    forged = browser.decide(consent, **{k: v or "" for k, v in overrides.items()})
    assert "code" not in query_of(forged)
    assert _codes_of(server_env, app) == 0


def test_repeated_code_challenge_is_refused(oauth_app, browser_for):
    app = oauth_app()
    browser, _uid = browser_for()
    params = app.authorize_params()
    params["code_challenge"] = [params["code_challenge"], pkce_pair()[1]]
    response = browser.open_authorize(params)
    assert query_of(response)["error"] == "invalid_request"


def test_code_redeemed_without_verifier_is_refused(oauth_app, browser_for):
    app = oauth_app()
    browser, _uid = browser_for()
    response = app.exchange(app.code_for(browser), verifier=None)
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_request", "invalid_grant"}
    assert "access_token" not in response.json()


def test_wrong_verifier_is_invalid_grant(oauth_app, browser_for):
    app = oauth_app()
    browser, _uid = browser_for()
    code = app.code_for(browser)
    response = app.exchange(code, verifier=pkce_pair()[0])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_malformed_verifier_is_refused(oauth_app, browser_for):
    app = oauth_app()
    browser, _uid = browser_for()
    response = app.exchange(app.code_for(browser), verifier="short")
    assert response.status_code == 400
    assert "access_token" not in response.json()


def test_verifier_for_a_code_issued_without_challenge_is_refused(
    oauth_app, browser_for, server_env
):
    """RFC 9700 §4.8.2: the downgrade in the other direction."""

    app = oauth_app()
    _browser, uid = browser_for()
    code, digest = digests.digester().issue(digests.CODE)
    with server_env() as env:
        client = env["mcp.oauth.client"].search([("client_id", "=", app.client_id)])
        env["mcp.oauth.code"].create(
            {
                "digest": digest,
                "client_id": client.id,
                "user_id": uid,
                "redirect_uri": app.redirect_uri,
                "scope": "mcp",
                "resource": app.resource,
                "expires_at": fields.Datetime.add(fields.Datetime.now(), seconds=60),
            }
        )
    response = app.exchange(code, verifier=pkce_pair()[0])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
