"""The two discovery documents.

* RFC 9728 protected resource metadata for /mcp (MCP 2025-11-25
  "Authorization" §2.3 points clients at it from the 401 answer).
* RFC 8414 authorization server metadata, with RFC 9207's
  ``authorization_response_iss_parameter_supported`` and the Client ID
  Metadata Document flag of MCP 2025-11-25.
"""

from .grants import CLIENT_AUTH_METHODS
from .settings import SCOPE

MCP_PATH = "/mcp"
AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/token"  # noqa: S105 -- a path
REVOKE_PATH = "/oauth/revoke"
INTROSPECT_PATH = "/oauth/introspect"
REGISTER_PATH = "/oauth/register"
RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource"
SERVER_METADATA_PATH = "/.well-known/oauth-authorization-server"


def base_url(issuer_url, host_url):
    """The public base URL of this server: the administrator's, else the host's.

    Every URL this server announces (issuer, endpoints, resource, the 401
    challenge) and every audience it checks starts with it.
    """
    return issuer_url or host_url.rstrip("/")


def bearer_challenge(base_url, error=None, description=None):
    """RFC 6750 §3 ``WWW-Authenticate`` value pointing at RFC 9728 metadata."""
    value = f'Bearer resource_metadata="{base_url}{RESOURCE_METADATA_PATH}"'
    if error:
        value += f', error="{error}", error_description="{description}"'
    return value


def resource_url(base_url):
    """The canonical URI of the MCP endpoint (RFC 8707 §2, MCP §2.5.1)."""
    return base_url + MCP_PATH


def protected_resource(base_url):
    """RFC 9728 §2: what a client needs to find our authorization server."""
    return {
        "resource": resource_url(base_url),
        "authorization_servers": [base_url],
        "scopes_supported": [SCOPE],
        "bearer_methods_supported": ["header"],
        "resource_name": "Odoo MCP server",
    }


def authorization_server(base_url, *, registration_open=True):
    """RFC 8414 §2; ``issuer`` is exactly the base URL (§3.3)."""
    metadata = {
        "issuer": base_url,
        "authorization_endpoint": base_url + AUTHORIZE_PATH,
        "token_endpoint": base_url + TOKEN_PATH,
        "scopes_supported": [SCOPE],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "revocation_endpoint": base_url + REVOKE_PATH,
        "revocation_endpoint_auth_methods_supported": list(CLIENT_AUTH_METHODS),
        "introspection_endpoint": base_url + INTROSPECT_PATH,
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": True,
    }
    if registration_open:
        metadata["registration_endpoint"] = base_url + REGISTER_PATH
    return metadata
