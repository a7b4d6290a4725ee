"""Revocation (RFC 7009), introspection (RFC 7662) and registration (RFC 7591)."""

import logging

from authlib.jose.errors import InvalidClaimError
from authlib.oauth2.rfc6749 import AccessDeniedError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientMetadataClaims, InvalidRedirectURIError
from authlib.oauth2.rfc7591 import (
    ClientRegistrationEndpoint as _RegistrationEndpoint,
)
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from odoo import fields

from . import digests, redirects, text
from .adapters import Token
from .grants import CLIENT_AUTH_METHODS

_logger = logging.getLogger(__name__)

MAX_REDIRECT_URIS = 10
MAX_NAME_LENGTH = 200
MAX_LIST_LENGTH = 20
# RFC 7591 §2: the shape of each metadata value this server reads or returns.
STRING_CLAIMS = (
    "token_endpoint_auth_method",
    "client_name",
    "client_uri",
    "logo_uri",
    "scope",
    "tos_uri",
    "policy_uri",
    "software_id",
    "software_version",
)
LIST_CLAIMS = ("redirect_uris", "grant_types", "response_types", "contacts")


class TooManyRequestsError(OAuth2Error):
    """429 with Retry-After (RFC 6585 §4), from ``_oauth_throttle``."""

    error = "temporarily_unavailable"
    status_code = 429

    def __init__(self, retry_after, **kwargs):
        super().__init__("Too many requests; try again later.", **kwargs)
        self.retry_after = max(int(retry_after), 1)

    def get_headers(self):
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


def _query_token(server, token_string):
    if not isinstance(token_string, str):
        return None
    record = server.env["mcp.oauth.token"].sudo()._find(token_string)
    return Token(record) if record else None


class RevocationEndpoint(_RevocationEndpoint):
    """RFC 7009: any client revokes its own tokens; unknown tokens answer 200.

    Revoking a refresh token revokes its whole grant, access tokens included
    (§2.1); revoking an access token revokes that token alone.
    """

    CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def check_params(self, request, client):
        # §2.1: the hint is optional and may be ignored; we search both kinds.
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token' in request.")

    def query_token(self, token_string, token_type_hint):
        return _query_token(self.server, token_string)

    def revoke_token(self, token, request):
        record = token.record
        if record.kind == "refresh":
            record.grant_id._revoke("client")
        elif not record.revoked_at:
            record.write({"revoked_at": fields.Datetime.now()})
        _logger.info(
            "MCP OAuth token REVOKE %s grant %s client %s",
            record.kind,
            record.grant_id.id,
            request.client.client_id,
        )


class IntrospectionEndpoint(_IntrospectionEndpoint):
    """RFC 7662 for authenticated (confidential) clients, about their own tokens.

    A token of another client, or one that is expired, revoked, of an
    archived user or client, or older than the user's password, is
    ``{"active": false}`` (§2.2).
    """

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def check_params(self, request, client):
        if not request.form.get("token"):
            raise InvalidRequestError("Missing 'token' in request.")

    def query_token(self, token_string, token_type_hint):
        return _query_token(self.server, token_string)

    def check_permission(self, token, client, request):
        return token.check_client(client)

    def introspect_token(self, token):
        record = token.record
        grant = record.grant_id
        payload = {
            "active": True,
            "client_id": grant.client_id.client_id,
            "scope": token.get_scope(),
            "sub": str(grant.user_id.id),
            "aud": grant.resource,
            "iss": self.server.issuer,
            "exp": int(record.expires_at.timestamp()),
            "iat": int(record.create_date.timestamp()),
        }
        if record.kind == "access":
            payload["token_type"] = "Bearer"  # noqa: S105
        return payload


def _is_clean_string(value):
    return (
        isinstance(value, str)
        and len(value) <= text.MAX_LENGTH
        and text.is_printable(value)
    )


class McpClientMetadataClaims(ClientMetadataClaims):
    """RFC 7591 §2 metadata, with this server's redirect URI rules.

    Every value is first checked for its shape: the string claims are
    printable strings, the list claims lists of them (§2: "Array of ...
    strings"). Client keys (``jwks``, ``jwks_uri``) are refused: clients
    authenticate here with a secret or with PKCE alone.
    """

    def validate(self):
        for name in ("jwks", "jwks_uri"):
            if self.get(name) is not None:
                raise InvalidClaimError(name)
        for name in STRING_CLAIMS:
            value = self.get(name)
            if value is not None and not _is_clean_string(value):
                raise InvalidClaimError(name)
        for name in LIST_CLAIMS:
            values = self.get(name)
            if values is None:
                continue
            if not isinstance(values, list) or len(values) > MAX_LIST_LENGTH:
                raise InvalidClaimError(name)
            if not all(map(_is_clean_string, values)):
                raise InvalidClaimError(name)
        super().validate()

    def _validate_uri(self, key, uri=None):
        # urlparse raises ValueError on some malformed hosts ("https://[").
        try:
            super()._validate_uri(key, uri)
        except ValueError as exc:
            raise InvalidClaimError(key) from exc

    def validate_redirect_uris(self):
        uris = self.get("redirect_uris")
        if not isinstance(uris, list) or not uris or len(uris) > MAX_REDIRECT_URIS:
            raise InvalidClaimError("redirect_uris")
        for uri in uris:
            if redirects.problem(uri):
                raise InvalidClaimError("redirect_uris")

    def validate_client_name(self):
        name = self.get("client_name")
        if name is not None and (
            not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH
        ):
            raise InvalidClaimError("client_name")


class RegistrationEndpoint(_RegistrationEndpoint):
    """RFC 7591 dynamic registration, open, host-restricted or closed.

    Public clients (``token_endpoint_auth_method`` "none") get no secret; a
    confidential client's secret is returned once and stored as a digest.
    """

    def __init__(self, server=None):
        super().__init__(server, claims_classes=[McpClientMetadataClaims])

    def authenticate_token(self, request):
        # RFC 7591 §3: open registration needs no initial access token.
        settings = self.server.settings
        if settings.registration_mode == "closed":
            raise AccessDeniedError(
                "Dynamic client registration is disabled on this server.",
                status_code=403,
            )
        return True

    def extract_client_metadata(self, request):
        if not isinstance(request.payload.data, dict):
            raise InvalidRequestError("The body must be a JSON object.")
        metadata = super().extract_client_metadata(request)
        self._check_redirect_hosts(metadata["redirect_uris"])
        request.client_metadata = metadata
        return metadata

    def _check_redirect_hosts(self, uris):
        settings = self.server.settings
        if settings.registration_mode != "restricted":
            return
        for uri in uris:
            allowed = redirects.is_loopback(uri) or (
                redirects.host_of(uri) in settings.registration_hosts
            )
            if not allowed:
                raise InvalidRedirectURIError(
                    "This server accepts registrations only for loopback "
                    "redirect URIs and the hosts its administrator allows."
                )

    def get_server_metadata(self):
        return self.server.metadata()

    def generate_client_id(self, request):
        return self.server.env["mcp.oauth.client"]._new_client_id()

    def generate_client_secret(self, request):
        secret, _digest = digests.digester().issue(digests.CLIENT_SECRET)
        return secret

    def generate_client_info(self, request):
        info = super().generate_client_info(request)
        method = request.client_metadata["token_endpoint_auth_method"]
        if method == "none":
            del info["client_secret"], info["client_secret_expires_at"]
        return info

    def save_client(self, client_info, client_metadata, request):
        secret = client_info.get("client_secret")
        values = {
            "name": (client_metadata.get("client_name") or "").strip()
            or "Unnamed MCP client",
            "client_id": client_info["client_id"],
            "auth_method": client_metadata["token_endpoint_auth_method"],
            "redirect_uris": "\n".join(client_metadata["redirect_uris"]),
            "client_uri": client_metadata.get("client_uri"),
            "origin": "registration",
            "registration_ip": self.server.remote_addr,
        }
        if secret:
            values["secret_digest"] = digests.digester().digest(
                digests.CLIENT_SECRET, secret
            )
        # sudo: registration is anonymous; the record is the addon's bookkeeping.
        client = self.server.env["mcp.oauth.client"].sudo().create(values)
        _logger.info(
            "MCP OAuth client REGISTER %s from %s",
            client.client_id,
            self.server.remote_addr,
        )
        return client
