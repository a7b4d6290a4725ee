"""The two grants of this server and their extensions.

* :class:`AuthorizationCodeGrant` (RFC 6749 §4.1, OAuth 2.1 §4.1) with
  :class:`S256CodeChallenge`, which refuses a request without a valid S256
  challenge at the authorization endpoint itself, before any code exists.
* :class:`RefreshTokenGrant` (RFC 6749 §6) that rotates the refresh token on
  every use and revokes the whole family when a rotated one comes back
  (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2).
* :class:`ResourceIndicator`: RFC 8707 ``resource`` on both endpoints.
"""

import hmac
import logging
import re
from datetime import timedelta

from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
    grants,
)
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge

from odoo import fields

from . import digests
from .adapters import AuthorizationCode, Token
from .settings import CODE_LIFETIME

_logger = logging.getLogger(__name__)

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
# BASE64URL(SHA-256(verifier)) is always 43 characters without padding.
S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: the requested resource is not one this server serves."""

    error = "invalid_target"


def _single(request, name):
    values = request.payload.datalist.get(name, [])
    if len(values) > 1:
        raise InvalidRequestError(f"Multiple '{name}' in request.")
    return values[0] if values else None


class S256CodeChallenge(CodeChallenge):
    """PKCE (RFC 7636) with S256 only, required of every client.

    Checked where the code would be issued (OAuth 2.1 §4.1.1): a request
    without ``code_challenge``, with ``plain`` or with a malformed challenge
    is answered ``invalid_request`` and no code is made. At the token
    endpoint the verifier must be present exactly when a challenge was
    (RFC 9700 §4.8.2, the PKCE downgrade attack).
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def __init__(self):
        super().__init__(required=True)

    def validate_code_challenge(self, grant, redirect_uri):
        request = grant.request
        challenge = _single(request, "code_challenge")
        method = _single(request, "code_challenge_method")
        if not challenge:
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if method != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        if not S256_CHALLENGE.match(challenge):
            raise InvalidRequestError("Invalid 'code_challenge' for S256.")

    def validate_code_verifier(self, grant, result):
        request = grant.request
        verifier = request.form.get("code_verifier")
        challenge = request.authorization_code.code_challenge
        if not challenge:
            if verifier:
                raise InvalidGrantError("This code was issued without code_challenge.")
            raise InvalidGrantError("This code cannot be redeemed.")
        if not verifier:
            raise InvalidRequestError("Missing 'code_verifier'.")
        if not VERIFIER.match(verifier):
            raise InvalidRequestError("Invalid 'code_verifier'.")
        expected = create_s256_code_challenge(verifier)
        if not hmac.compare_digest(expected.encode(), challenge.encode()):
            raise InvalidGrantError("Code challenge failed.")


class ResourceIndicator:
    """RFC 8707: ``resource`` must name this server's /mcp endpoint.

    Absent, it defaults to that endpoint (the only resource served here);
    tokens always carry it as their audience.
    """

    def __call__(self, grant):
        grant.register_hook(
            "after_validate_authorization_request_payload", self.validate_authorize
        )
        grant.register_hook("after_validate_token_request", self.validate_token)

    @staticmethod
    def _requested(grant):
        resource = _single(grant.request, "resource")
        if resource is not None and resource != grant.server.resource:
            raise InvalidTargetError(
                "The resource parameter must be this server's MCP endpoint."
            )
        return resource

    def validate_authorize(self, grant, redirect_uri):
        self._requested(grant)

    def validate_token(self, grant, result):
        resource = self._requested(grant)
        issued_for = _issued_resource(grant.request)
        if resource is not None and resource != issued_for:
            raise InvalidTargetError("The resource differs from the one authorized.")
        if issued_for != grant.server.resource:
            raise InvalidGrantError("This grant was issued for another resource.")


def _issued_resource(request):
    if request.authorization_code is not None:
        return request.authorization_code.record.resource
    return request.refresh_token.record.grant_id.resource


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """RFC 6749 §4.1 with single-use codes claimed atomically (§4.1.2)."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

    def validate_authorization_request(self):
        self.validate_no_multiple_request_parameter(self.request)
        return super().validate_authorization_request()

    @staticmethod
    def validate_authorization_redirect_uri(request, client):
        """OAuth 2.1 §4.1.1: redirect_uri is required and must be registered.

        authlib's own check repeats the URI in its error description, which
        may then hold characters RFC 6749 §4.1.2.1 forbids there.
        """
        redirect_uri = request.payload.redirect_uri
        if not redirect_uri:
            raise InvalidRequestError("Missing 'redirect_uri' in request.")
        if not client.check_redirect_uri(redirect_uri):
            raise InvalidRequestError(
                "The redirect_uri is not registered for this client."
            )
        return redirect_uri

    def generate_authorization_code(self):
        code, _digest = digests.digester().issue(digests.CODE)
        return code

    def save_authorization_code(self, code, request):
        env = self.server.env
        user = request.user
        payload = request.payload
        # sudo: the addon's own bookkeeping (codes are not user data).
        env["mcp.oauth.code"].sudo().create(
            {
                "digest": digests.digester().digest(digests.CODE, code),
                "client_id": request.client.record.id,
                "user_id": user.id,
                "redirect_uri": payload.redirect_uri,
                "scope": self.server.scope,
                "resource": self.server.resource,
                "code_challenge": payload.data.get("code_challenge"),
                "code_challenge_method": payload.data.get("code_challenge_method"),
                "password_stamp": self.server.password_stamp(user.id),
                "expires_at": fields.Datetime.now() + timedelta(seconds=CODE_LIFETIME),
            }
        )
        _logger.info(
            "MCP OAuth code ISSUE client %s user %s",
            request.client.client_id,
            user.id,
        )

    def query_authorization_code(self, code, client):
        if digests.purpose_of(code or "") != digests.CODE:
            return None
        env = self.server.env
        record = (
            env["mcp.oauth.code"]
            .sudo()
            .search(
                [("digest", "=", digests.digester().digest(digests.CODE, code))],
                limit=1,
            )
        )
        if not record or record.client_id != client.record:
            return None
        if record.consumed_at:
            record._revoke_issued()
            return None
        if record.expires_at < fields.Datetime.now():
            return None
        return AuthorizationCode(record)

    def create_token_response(self):
        code = self.request.authorization_code.record
        if not code._claim():
            code._revoke_issued()
            raise InvalidGrantError("Invalid 'code' in request.")
        return super().create_token_response()

    def authenticate_user(self, authorization_code):
        record = authorization_code.record
        user = record.user_id
        if not user.active:
            return None
        if record.sudo().password_stamp != self.server.password_stamp(user.id):
            return None
        return user

    def delete_authorization_code(self, authorization_code):
        # Kept (consumed) until garbage collection so that a replay is seen.
        return None


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """RFC 6749 §6 with rotation and reuse detection (OAuth 2.1 §4.3.1)."""

    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def validate_token_request(self):
        super().validate_token_request()
        # authlib hooks this step only for the code grant; extensions
        # (ResourceIndicator) expect it here too.
        self.execute_hook("after_validate_token_request", None)

    def authenticate_refresh_token(self, refresh_token):
        env = self.server.env
        record = env["mcp.oauth.token"].sudo()._find(refresh_token, "refresh")
        if not record:
            return None
        if record.rotated_at:
            _logger.warning(
                "MCP OAuth refresh REUSE client %s user %s grant %s",
                record.grant_id.client_id.client_id,
                record.grant_id.user_id.id,
                record.grant_id.id,
            )
            record.grant_id._revoke("refresh_reuse")
            return None
        if not record._is_live():
            return None
        return Token(record)

    def create_token_response(self):
        record = self.request.refresh_token.record
        if not record._claim_rotation():
            record.grant_id._revoke("refresh_reuse")
            raise InvalidGrantError()
        return super().create_token_response()

    def authenticate_user(self, refresh_token):
        user = refresh_token.record.grant_id.user_id
        return user if user.active else None

    def revoke_old_credential(self, refresh_token):
        # Already marked rotated by _claim_rotation; kept to detect its reuse.
        return None
