"""Discovery documents, exactly (RFC 9728, RFC 8414, RFC 9207, MCP 2025-11-25)."""

import pytest
import requests
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ],
)
def test_protected_resource_metadata_is_exact(odoo_http, path):
    response = requests.get(odoo_http.url + path, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {
        "resource": f"{odoo_http.url}/mcp",
        "authorization_servers": [odoo_http.url],
        "scopes_supported": ["mcp"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Odoo MCP server",
    }


def test_authorization_server_metadata_is_exact(odoo_http):
    base = odoo_http.url
    response = requests.get(
        f"{base}/.well-known/oauth-authorization-server", timeout=30
    )
    assert response.status_code == 200
    metadata = response.json()
    assert metadata == {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "registration_endpoint": f"{base}/oauth/register",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "scopes_supported": ["mcp"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": True,
    }
    AuthorizationServerMetadata(metadata).validate()


def test_issuer_is_exactly_the_base_url_and_matches_iss_and_prm(odoo_http):
    base = odoo_http.url
    server = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=30)
    resource = requests.get(f"{base}/.well-known/oauth-protected-resource", timeout=30)
    assert server.json()["issuer"] == base
    assert not base.endswith("/")
    assert resource.json()["authorization_servers"] == [server.json()["issuer"]]


def test_configured_public_url_is_the_issuer(odoo_http, oauth_setting):
    oauth_setting("oauth_issuer_url", "https://odoo.example.com/")
    metadata = requests.get(
        f"{odoo_http.url}/.well-known/oauth-authorization-server", timeout=30
    ).json()
    assert metadata["issuer"] == "https://odoo.example.com"
    resource = requests.get(
        f"{odoo_http.url}/.well-known/oauth-protected-resource/mcp", timeout=30
    ).json()
    assert resource["resource"] == "https://odoo.example.com/mcp"
    # The 401 challenges of /mcp and of an export link name the same metadata.
    expected = (
        'Bearer resource_metadata="https://odoo.example.com'
        '/.well-known/oauth-protected-resource"'
    )
    for response in (
        requests.post(
            f"{odoo_http.url}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"MCP-Protocol-Version": "2025-11-25"},
            timeout=30,
        ),
        requests.get(f"{odoo_http.url}/mcp/exports/{'A' * 43}", timeout=30),
    ):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == expected
    invalid = requests.post(
        f"{odoo_http.url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={
            "MCP-Protocol-Version": "2025-11-25",
            "Authorization": "Bearer mcpat_" + "A" * 43,
        },
        timeout=30,
    )
    assert invalid.headers["WWW-Authenticate"].startswith(expected + ", ")
    assert 'error="invalid_token"' in invalid.headers["WWW-Authenticate"]
