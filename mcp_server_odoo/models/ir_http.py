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

_logger = logging.getLogger(__name__)

_BEARER = re.compile(r"^Bearer[ ]+([A-Za-z0-9._~+/=-]+)[ ]*$", re.IGNORECASE)
API_KEY_SCOPE = "mcp"


def bearer_token(headers):
    """The token of an ``Authorization: Bearer`` header (RFC 6750 §2.1), or None."""
    match = _BEARER.match(headers.get("Authorization") or "")
    return match.group(1) if match else None


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _auth_method_mcp(cls):
        # The browser session plays no part on /mcp: only the header counts.
        request.env = api.Environment(request.env.cr, None, {})
        request.mcp_auth = cls._mcp_check_bearer(request.httprequest.headers)

    @classmethod
    def _mcp_check_bearer(cls, headers):
        if not headers.get("Authorization"):
            return AuthResult()
        token = bearer_token(headers)
        if token is None:
            return AuthResult(error="the Authorization header is not a Bearer token")
        return cls._mcp_check_api_key(token)

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
