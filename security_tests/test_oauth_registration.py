"""Dynamic client registration attacks (RFC 7591) and the administrator's modes."""

import pytest
import requests

from tests.harness.oauth import REDIRECT_URI, OAuthApp


@pytest.fixture
def register(odoo_http, oauth_setting):
    oauth_setting("oauth_registrations_per_hour", "0")

    def post(metadata=None, *, body=None, content_type="application/json"):
        data = body if body is not None else requests.models.complexjson.dumps(metadata)
        return requests.post(
            f"{odoo_http.url}/oauth/register",
            data=data,
            headers={"Content-Type": content_type},
            timeout=30,
        )

    return post


def test_public_client_registers_without_a_secret(register):
    response = register(
        {
            "client_name": "Claude",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        }
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["client_id"].startswith("mcpc_")
    assert "client_secret" not in body
    assert body["token_endpoint_auth_method"] == "none"
    assert response.headers["Cache-Control"] == "no-store"


def test_confidential_client_secret_works_once_stored_as_digest(
    register, odoo_http, browser_for, server_env
):
    body = register(
        {
            "client_name": "Server app",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "client_secret_basic",
        }
    ).json()
    secret = body["client_secret"]
    assert secret.startswith("mcpcs_")
    with server_env() as env:
        env.cr.execute(
            "SELECT secret_digest FROM mcp_oauth_client WHERE client_id = %s",
            [body["client_id"]],
        )
        stored = env.cr.fetchone()[0]
    assert stored and secret not in stored and len(stored) == 64
    app = OAuthApp(odoo_http.url, body["client_id"], secret)
    browser, _uid = browser_for()
    assert app.tokens_for(browser)["access_token"]


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param({"client_name": "x"}, id="no-redirect-uris"),
        pytest.param({"redirect_uris": []}, id="empty-redirect-uris"),
        pytest.param({"redirect_uris": REDIRECT_URI}, id="redirect-uris-not-a-list"),
        pytest.param({"redirect_uris": ["javascript:alert(1)"]}, id="javascript"),
        pytest.param({"redirect_uris": ["data:text/html,x"]}, id="data"),
        pytest.param({"redirect_uris": ["http://app.example.com/cb"]}, id="plain-http"),
        pytest.param(
            {"redirect_uris": ["https://app.example.com/cb#x"]}, id="fragment"
        ),
        pytest.param(
            {"redirect_uris": ["https://u:p@app.example.com/cb"]}, id="userinfo"
        ),
        pytest.param({"redirect_uris": [REDIRECT_URI] * 11}, id="too-many"),
        pytest.param(
            {
                "redirect_uris": [REDIRECT_URI],
                "token_endpoint_auth_method": "private_key_jwt",
            },
            id="unsupported-auth-method",
        ),
        pytest.param(
            {"redirect_uris": [REDIRECT_URI], "grant_types": ["implicit"]},
            id="implicit-grant",
        ),
        pytest.param(
            {"redirect_uris": [REDIRECT_URI], "grant_types": ["client_credentials"]},
            id="client-credentials",
        ),
        pytest.param(
            {"redirect_uris": [REDIRECT_URI], "response_types": ["token"]},
            id="token-response-type",
        ),
        pytest.param({"redirect_uris": [REDIRECT_URI], "scope": "admin"}, id="scope"),
        pytest.param(
            {"redirect_uris": [REDIRECT_URI], "client_name": "x" * 500}, id="long-name"
        ),
    ],
)
def test_bad_metadata_is_refused(register, metadata):
    response = register(metadata)
    assert response.status_code == 400, response.text
    assert response.json()["error"] in {
        "invalid_client_metadata",
        "invalid_redirect_uri",
        "invalid_request",
    }


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "null", ""])
def test_malformed_body_is_refused(register, body):
    response = register(body=body)
    assert response.status_code == 400


def test_form_encoded_body_is_refused(register):
    response = register(
        body="redirect_uris=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


def test_restricted_mode_accepts_only_loopback_and_listed_hosts(
    register, oauth_setting
):
    oauth_setting("oauth_registration_mode", "restricted")
    oauth_setting("oauth_registration_hosts", "claude.ai")
    ok = register(
        {
            "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
            "token_endpoint_auth_method": "none",
        }
    )
    assert ok.status_code == 201
    for uri in ("https://evil.example/cb", "https://claude.ai.evil.example/cb"):
        refused = register(
            {"redirect_uris": [uri], "token_endpoint_auth_method": "none"}
        )
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid_redirect_uri"


def test_open_mode_accepts_any_https_host(register, oauth_setting):
    oauth_setting("oauth_registration_mode", "open")
    response = register(
        {
            "redirect_uris": ["https://anything.example/cb"],
            "token_endpoint_auth_method": "none",
        }
    )
    assert response.status_code == 201


def test_closed_mode_refuses_and_hides_the_endpoint(register, oauth_setting, odoo_http):
    oauth_setting("oauth_registration_mode", "closed")
    response = register({"redirect_uris": [REDIRECT_URI]})
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"
    metadata = requests.get(
        f"{odoo_http.url}/.well-known/oauth-authorization-server", timeout=30
    ).json()
    assert "registration_endpoint" not in metadata


def test_registration_flood_is_answered_429(register, oauth_setting, server_env):
    with server_env() as env:
        env.cr.execute(
            "UPDATE mcp_oauth_client SET registration_ip = 'earlier'"
            " WHERE registration_ip = '127.0.0.1'"
        )
    oauth_setting("oauth_registrations_per_hour", "3")
    metadata = {"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}
    statuses = [register(metadata).status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    refused = register(metadata)
    assert refused.headers["Retry-After"]
    assert refused.json()["error"] == "temporarily_unavailable"
