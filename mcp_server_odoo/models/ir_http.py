"""``auth="mcp"``: the credential check of /mcp, inside Odoo's request pipeline.

Unlike Odoo's ``bearer`` method this one never raises and never falls back to
the browser session: the verdict is stored on the request as an
:class:`~..chain.AuthResult` and the chain's authentication step answers 401,
after the audit step has seen the attempt.
"""

import logging
import re

from odoo import api, models
from odoo.http import request

from ..chain import AuthResult
from ..oauth import digests, metadata

_logger = logging.getLogger(__name__)

_BEARER = re.compile(r"^Bearer[ ]+([A-Za-z0-9._~+/=-]+)[ ]*$", re.IGNORECASE)
API_KEY_SCOPE = "mcp"
# The routes of this addon: /mcp, /mcp/exports/..., /oauth/*, discovery.
OWN_ROUTES = ("/mcp", "/oauth/", "/.well-known/oauth-")


def bearer_token(headers):
    """The token of an ``Authorization: Bearer`` header (RFC 6750 §2.1), or None."""
    match = _BEARER.match(headers.get("Authorization") or "")
    return match.group(1) if match else None


def public_base_url():
    """This request's view of the server's public base URL (configured first).

    The one base of the 401 challenges of /mcp and of the export links, so
    that they name the same metadata URL as the discovery documents and the
    token audience.
    """
    settings = request.env["mcp.oauth.client"]._oauth_settings()
    return metadata.base_url(settings.issuer_url, request.httprequest.host_url)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _dispatch(cls, endpoint):
        # Odoo passes each query and form parameter as a keyword argument, and
        # one named "self" collides with the controller's own: a TypeError and
        # a 500. This addon's endpoints read the request itself; drop it there.
        if "self" in request.params and any(
            route.startswith(OWN_ROUTES) for route in endpoint.routing["routes"]
        ):
            del request.params["self"]
        return super()._dispatch(endpoint)

    @classmethod
    def _auth_method_mcp(cls):
        # The browser session plays no part on /mcp: only the header counts.
        # The language is the one Odoo gives any request without a session
        # (Accept-Language, else en_US), so that ir.http's get_lang() needs no
        # query; tools run with their user's own language (authentication).
        request.env = api.Environment(
            request.env.cr, None, {"lang": request.default_lang()}
        )
        request.mcp_auth = cls._mcp_check_bearer(request.httprequest.headers)

    @classmethod
    def _mcp_check_bearer(cls, headers):
        if not headers.get("Authorization"):
            return AuthResult()
        token = bearer_token(headers)
        if token is None:
            return AuthResult(error="the Authorization header is not a Bearer token")
        settings = request.env["mcp.oauth.client"]._oauth_settings()
        if digests.purpose_of(token) == digests.ACCESS_TOKEN:
            return cls._mcp_check_oauth(token, settings)
        if not settings.accept_api_keys:
            _logger.info(
                "MCP auth FAIL not an OAuth access token from %s",
                request.httprequest.remote_addr,
            )
            return AuthResult(error="the access token is invalid or expired")
        return cls._mcp_check_api_key(token)

    @classmethod
    def _mcp_check_oauth(cls, token, settings):
        # One indexed digest lookup (mcp.oauth.token); the audience is this
        # server's /mcp URL (RFC 8707), as the authorization server issued it.
        base_url = metadata.base_url(settings.issuer_url, request.httprequest.host_url)
        remote_addr = request.httprequest.remote_addr
        try:
            # sudo: token bookkeeping of the addon, looked up by digest only.
            check = (
                request.env["mcp.oauth.token"]
                .sudo()
                ._check_access_token(
                    token,
                    resource=metadata.resource_url(base_url),
                    remote_addr=remote_addr,
                )
            )
        except digests.KeyMissing as exc:
            _logger.error("MCP auth FAIL OAuth is not configured: %s", exc)
            return AuthResult(error="the access token is invalid or expired")
        if check.error:
            _logger.info(
                "MCP auth FAIL oauth token from %s: %s", remote_addr, check.error
            )
            return AuthResult(error=check.error)
        return AuthResult(
            uid=check.uid,
            login=check.login,
            kind="oauth",
            client=check.client_id,
            token_family=str(check.grant_id),
        )

    @classmethod
    def _mcp_check_api_key(cls, token):
        # Odoo's own API keys: indexed prefix, then a hash compare in
        # res.users.apikeys; keys of scope NULL (global) or "mcp" are accepted.
        uid = request.env["res.users.apikeys"]._check_credentials(
            scope=API_KEY_SCOPE, key=token
        )
        if not uid:
            _logger.info(
                "MCP auth FAIL api key from %s", request.httprequest.remote_addr
            )
            return AuthResult(error="the access token is invalid or expired")
        return AuthResult(uid=uid, kind="api_key")
