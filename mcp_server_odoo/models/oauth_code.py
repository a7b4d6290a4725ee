"""``mcp.oauth.code``: authorization codes (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3).

Codes live :data:`~..oauth.settings.CODE_LIFETIME` seconds, are stored as keyed
digests with the PKCE challenge and the redirect URI they are bound to, and
are claimed by one UPDATE: whichever request sets ``consumed_at`` first wins
and every later presentation is a replay that revokes what the code issued.
"""

import logging
from datetime import timedelta

from odoo import api, fields, models

_logger = logging.getLogger(__name__)


class McpOAuthCode(models.Model):
    _name = "mcp.oauth.code"
    _description = "MCP OAuth authorization code"
    _order = "id desc"

    digest = fields.Char(required=True, readonly=True, groups="base.group_system")
    client_id = fields.Many2one(
        "mcp.oauth.client", required=True, ondelete="cascade", index=True, readonly=True
    )
    user_id = fields.Many2one(
        "res.users", required=True, ondelete="cascade", readonly=True
    )
    redirect_uri = fields.Char(required=True, readonly=True)
    scope = fields.Char(readonly=True)
    resource = fields.Char(required=True, readonly=True)
    code_challenge = fields.Char(readonly=True)
    code_challenge_method = fields.Char(readonly=True)
    password_stamp = fields.Char(readonly=True, groups="base.group_system")
    expires_at = fields.Datetime(required=True, readonly=True)
    consumed_at = fields.Datetime(readonly=True)
    grant_id = fields.Many2one(
        "mcp.oauth.grant",
        ondelete="set null",
        readonly=True,
        help="The authorization this code was redeemed for.",
    )

    _sql_constraints = [
        ("digest_unique", "unique(digest)", "Code digests are unique."),
    ]

    def _claim(self):
        """Mark the code redeemed; False when another request already did."""
        self.ensure_one()
        self.env.cr.execute(
            "UPDATE mcp_oauth_code SET consumed_at = now() at time zone 'UTC'"
            " WHERE id = %s AND consumed_at IS NULL",
            [self.id],
        )
        claimed = self.env.cr.rowcount == 1
        self.invalidate_recordset(["consumed_at"])
        return claimed

    def _revoke_issued(self):
        """RFC 6749 §4.1.2: a code used twice revokes the tokens it issued."""
        self.ensure_one()
        _logger.warning(
            "MCP OAuth code REPLAY client %s user %s",
            self.client_id.client_id,
            self.user_id.id,
        )
        self.grant_id._revoke("code_replay")

    @api.autovacuum
    def _gc_expired(self):
        limit = fields.Datetime.now() - timedelta(days=1)
        self.search([("expires_at", "<", limit)]).unlink()
