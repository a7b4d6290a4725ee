"""``mcp.oauth.token``: access and refresh tokens, stored as keyed digests.

Refresh tokens rotate on every use (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2): the
used one is marked ``rotated_at`` in the same statement that claims it, so two
parallel refreshes cannot both win, and presenting a rotated token again
revokes its whole family (the grant).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from odoo import api, fields, models

from ..oauth import digests
from .oauth_grant import TOUCH_INTERVAL

_logger = logging.getLogger(__name__)


# The check of an access token on every /mcp message, as a PL/pgSQL function:
# PL/pgSQL keeps the plan of its query per connection, so that the four-table
# join is planned once, not on every request (about 0.25 ms each here).
ACCESS_CHECK_SQL = """
CREATE OR REPLACE FUNCTION mcp_oauth_access_check(
    p_digest varchar, p_touch_interval integer
) RETURNS TABLE (
    o_grant_id integer, o_user_id integer, o_login varchar, o_client_id varchar,
    o_resource varchar, o_password_stamp varchar, o_password varchar,
    o_live boolean, o_stale boolean
) LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT t.grant_id, g.user_id, u.login, c.client_id, g.resource,
           g.password_stamp, u.password,
           (t.revoked_at IS NULL AND g.revoked_at IS NULL
            AND c.active AND u.active
            AND t.expires_at > now() AT TIME ZONE 'UTC'),
           g.last_used IS NULL OR g.last_used
             < now() AT TIME ZONE 'UTC' - interval '1 second' * p_touch_interval
      FROM mcp_oauth_token t
      JOIN mcp_oauth_grant g ON g.id = t.grant_id
      JOIN mcp_oauth_client c ON c.id = g.client_id
      JOIN res_users u ON u.id = g.user_id
     WHERE t.digest = p_digest AND t.kind = 'access';
END
$$;
"""


@dataclass(frozen=True)
class AccessCheck:
    """The verdict on one presented access token (never the token itself)."""

    uid: int | None = None
    login: str | None = None
    client_id: str | None = None
    grant_id: int | None = None
    error: str | None = None


class McpOAuthToken(models.Model):
    _name = "mcp.oauth.token"
    _description = "MCP OAuth token"
    _order = "id desc"

    grant_id = fields.Many2one(
        "mcp.oauth.grant", required=True, ondelete="cascade", index=True, readonly=True
    )
    client_id = fields.Many2one(
        related="grant_id.client_id",
        store=True,
        string="Client",
        context={"active_test": False},
    )
    user_id = fields.Many2one(related="grant_id.user_id", store=True)
    kind = fields.Selection(
        [("access", "Access token"), ("refresh", "Refresh token")],
        required=True,
        readonly=True,
    )
    digest = fields.Char(required=True, readonly=True, groups="base.group_system")
    expires_at = fields.Datetime(required=True, readonly=True)
    revoked_at = fields.Datetime(readonly=True)
    rotated_at = fields.Datetime(
        readonly=True, help="When this refresh token was exchanged for a new one."
    )
    parent_id = fields.Many2one(
        "mcp.oauth.token", string="Rotated from", ondelete="set null", readonly=True
    )
    last_used = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("digest_unique", "unique(digest)", "Token digests are unique."),
    ]

    def init(self):
        self.env.cr.execute(ACCESS_CHECK_SQL)

    # -- /mcp: one indexed lookup ----------------------------------------------

    @api.model
    def _check_access_token(self, token, *, resource, remote_addr=None):
        """Verdict on an access token presented at ``resource`` (RFC 6750 §3.1).

        One query on the unique digest index joins the grant, the client and
        the user; expiry, revocation, audience (RFC 8707), archived user or
        client and a changed password all answer ``invalid_token``.
        """
        digester = digests.digester()
        self.env.cr.execute(
            "SELECT * FROM mcp_oauth_access_check(%s, %s)",
            [digester.digest(digests.ACCESS_TOKEN, token), TOUCH_INTERVAL],
        )
        row = self.env.cr.fetchone()
        if not row:
            return AccessCheck(error="the access token is invalid or expired")
        grant_id, uid, login, client_id, audience, stamp, password, live, stale = row
        if not live or stamp != digester.password_stamp(uid, password):
            return AccessCheck(error="the access token is invalid, expired or revoked")
        if audience != resource:
            return AccessCheck(
                error="the access token was not issued for this resource"
            )
        if stale:
            self.env["mcp.oauth.grant"].browse(grant_id)._touch(remote_addr)
        return AccessCheck(uid=uid, login=login, client_id=client_id, grant_id=grant_id)

    # -- the authorization server ----------------------------------------------

    @api.model
    def _find(self, token, kind=None):
        """The token record of a presented string (any state), or empty."""
        purpose = digests.purpose_of(token or "")
        kinds = {digests.ACCESS_TOKEN: "access", digests.REFRESH_TOKEN: "refresh"}
        if purpose not in kinds or (kind and kinds[purpose] != kind):
            return self.browse()
        digest = digests.digester().digest(purpose, token)
        return self.search([("digest", "=", digest)], limit=1)

    def _claim_rotation(self):
        """Mark a refresh token used; False when another request already did."""
        self.ensure_one()
        self.env.cr.execute(
            "UPDATE mcp_oauth_token SET rotated_at = now() at time zone 'UTC'"
            " WHERE id = %s AND rotated_at IS NULL AND revoked_at IS NULL",
            [self.id],
        )
        claimed = self.env.cr.rowcount == 1
        self.invalidate_recordset(["rotated_at"])
        return claimed

    def _is_live(self):
        """Whether this token may still be used (same rules as /mcp)."""
        self.ensure_one()
        grant = self.grant_id
        user = grant.user_id
        stamp = digests.digester().password_stamp(user.id, self._password_hash(user.id))
        return bool(
            not self.revoked_at
            and not (self.kind == "refresh" and self.rotated_at)
            and self.expires_at > fields.Datetime.now()
            and not grant.revoked_at
            and grant.client_id.active
            and user.active
            and grant.sudo().password_stamp == stamp
        )

    @api.model
    def _password_hash(self, uid):
        """The stored password hash of a user (the ORM field never returns it)."""
        self.env.cr.execute("SELECT password FROM res_users WHERE id = %s", [uid])
        row = self.env.cr.fetchone()
        return row[0] if row else None

    @api.autovacuum
    def _gc_expired(self):
        """Access tokens a day past expiry; refresh tokens go with their grant.

        Rotated refresh tokens are kept until the grant ends so that their
        reuse is still recognised and revokes the family.
        """
        limit = fields.Datetime.now() - timedelta(days=1)
        self.search([("kind", "=", "access"), ("expires_at", "<", limit)]).unlink()
