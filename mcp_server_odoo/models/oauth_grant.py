"""``mcp.oauth.grant``: one authorization of one client by one user.

A grant is made when an authorization code is redeemed and is the family of
every access and refresh token that descends from that code. Revoking it
(the user, an administrator, code replay or refresh token reuse) makes every
token of the family fail at once (RFC 9700 §4.14.2).
"""

import logging
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

_logger = logging.getLogger(__name__)

# Last use of a grant is written at most this often (seconds).
TOUCH_INTERVAL = 60

REVOKE_REASONS = [
    ("user", "Revoked by the user"),
    ("admin", "Revoked by an administrator"),
    ("client", "Revoked by the client (RFC 7009)"),
    ("code_replay", "Authorization code replayed"),
    ("refresh_reuse", "Rotated refresh token reused"),
]


class McpOAuthGrant(models.Model):
    _name = "mcp.oauth.grant"
    _description = "MCP OAuth authorization"
    _order = "create_date desc, id desc"
    _rec_name = "client_name"

    client_id = fields.Many2one(
        "mcp.oauth.client",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
        context={"active_test": False},
    )
    client_name = fields.Char(related="client_id.name", string="Application")
    redirect_host = fields.Char(readonly=True)
    user_id = fields.Many2one(
        "res.users", required=True, ondelete="cascade", index=True, readonly=True
    )
    scope = fields.Char(readonly=True)
    resource = fields.Char(readonly=True, help="Audience of the tokens (RFC 8707).")
    password_stamp = fields.Char(readonly=True, groups="base.group_system")
    expires_at = fields.Datetime(
        readonly=True, help="No refresh token of this authorization outlives it."
    )
    revoked_at = fields.Datetime(readonly=True)
    revoke_reason = fields.Selection(REVOKE_REASONS, readonly=True)
    last_used = fields.Datetime(readonly=True)
    last_ip = fields.Char(string="Last IP address", readonly=True)
    token_ids = fields.One2many("mcp.oauth.token", "grant_id", readonly=True)
    state = fields.Selection(
        [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")],
        compute="_compute_state",
    )

    @api.depends("revoked_at", "expires_at")
    def _compute_state(self):
        now = fields.Datetime.now()
        for grant in self:
            if grant.revoked_at:
                grant.state = "revoked"
            elif grant.expires_at and grant.expires_at < now:
                grant.state = "expired"
            else:
                grant.state = "active"

    def action_revoke(self):
        """Revoke authorizations: a user their own, an MCP administrator any."""
        is_admin = self.env.user.has_group("mcp_server_odoo.group_mcp_admin")
        if not is_admin and any(grant.user_id != self.env.user for grant in self):
            raise AccessError(_("You may only revoke your own authorizations."))
        self._revoke("admin" if is_admin and self.user_id != self.env.user else "user")
        return True

    def _revoke(self, reason):
        """Revoke the grants and every token of them; idempotent."""
        # sudo: the addon's own bookkeeping; the public gate is action_revoke.
        live = self.sudo().filtered(lambda grant: not grant.revoked_at)
        if not live:
            return
        now = fields.Datetime.now()
        self.env.cr.execute(
            "UPDATE mcp_oauth_token SET revoked_at = %s"
            " WHERE grant_id IN %s AND revoked_at IS NULL",
            [now, tuple(live.ids)],
        )
        live.write({"revoked_at": now, "revoke_reason": reason})
        self.env["mcp.oauth.token"].invalidate_model(["revoked_at"])
        for grant in live:
            _logger.info(
                "MCP OAuth grant REVOKE %s client %s user %s reason %s",
                grant.id,
                grant.client_id.client_id,
                grant.user_id.id,
                reason,
            )

    def _touch(self, remote_addr):
        """Record last use: at most once every ``TOUCH_INTERVAL`` seconds per
        grant, and never waiting for a row another transaction holds.

        Best effort: a grant touched recently, locked by a concurrent request
        (SKIP LOCKED) or changed since this transaction began is left as it
        is, so that this bookkeeping never fails, blocks or retries a call.
        """
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    """
                    UPDATE mcp_oauth_grant
                       SET last_used = now() at time zone 'UTC', last_ip = %s
                     WHERE id IN (
                           SELECT id FROM mcp_oauth_grant
                            WHERE id = %s
                              AND (last_used IS NULL OR last_used
                                   < now() at time zone 'UTC'
                                     - interval '1 second' * %s)
                              FOR UPDATE SKIP LOCKED)
                    """,
                    [remote_addr, self.id, TOUCH_INTERVAL],
                )
        except (pg_errors.SerializationFailure, pg_errors.LockNotAvailable):
            _logger.debug("MCP OAuth grant %s last use not recorded (busy)", self.id)
        self.invalidate_recordset(["last_used", "last_ip"])

    @api.autovacuum
    def _gc_finished(self):
        """Grants past their absolute lifetime, or revoked a month ago."""
        now = fields.Datetime.now()
        self.search(
            [
                "|",
                ("expires_at", "<", now - timedelta(days=1)),
                ("revoked_at", "<", now - timedelta(days=30)),
            ]
        ).unlink()
