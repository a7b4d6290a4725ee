"""``mcp.oauth.client``: the applications that may ask users for access.

A client comes from one of three places: an administrator, dynamic
registration (RFC 7591) or a Client ID Metadata Document (its ``client_id``
is the https URL of the document). Only a keyed digest of a confidential
client's secret is stored; archiving a client (``action_revoke``) makes every
token issued to it fail at once.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config

from ..oauth import cimd, digests, redirects, text
from ..oauth import settings as oauth_settings

_logger = logging.getLogger(__name__)

AUTH_METHODS = [
    ("none", "None (public client, PKCE only)"),
    ("client_secret_basic", "Client secret (HTTP Basic)"),
    ("client_secret_post", "Client secret (form field)"),
]


class McpOAuthClient(models.Model):
    _name = "mcp.oauth.client"
    _description = "MCP OAuth client application"
    _order = "create_date desc, id desc"

    name = fields.Char(required=True)
    client_id = fields.Char(
        string="Client ID",
        required=True,
        readonly=True,
        copy=False,
        index=True,
        default=lambda self: self._new_client_id(),
    )
    secret_digest = fields.Char(readonly=True, copy=False, groups="base.group_system")
    has_secret = fields.Boolean(compute="_compute_has_secret")
    auth_method = fields.Selection(
        AUTH_METHODS,
        string="Token endpoint authentication",
        required=True,
        default="none",
    )
    redirect_uris = fields.Text(
        string="Redirect URIs", required=True, help="One redirect URI per line."
    )
    client_uri = fields.Char(string="Home page")
    origin = fields.Selection(
        [
            ("manual", "Created by an administrator"),
            ("registration", "Dynamic registration (RFC 7591)"),
            ("metadata_document", "Client ID Metadata Document"),
        ],
        required=True,
        default="manual",
        readonly=True,
    )
    active = fields.Boolean(default=True)
    registration_ip = fields.Char(string="Registered from", readonly=True)
    metadata_expires_at = fields.Datetime(readonly=True)
    last_used = fields.Datetime(readonly=True)
    grant_ids = fields.One2many("mcp.oauth.grant", "client_id", string="Authorizations")
    grant_count = fields.Integer(compute="_compute_grant_count")

    _sql_constraints = [
        ("client_id_unique", "unique(client_id)", "The client ID must be unique."),
    ]

    @api.model
    def _new_client_id(self):
        return "mcpc_" + secrets.token_urlsafe(18)

    @api.depends("secret_digest")
    def _compute_has_secret(self):
        for client in self:
            client.has_secret = bool(client.sudo().secret_digest)

    def _compute_grant_count(self):
        groups = self.env["mcp.oauth.grant"]._read_group(
            [("client_id", "in", self.ids), ("revoked_at", "=", False)],
            ["client_id"],
            ["__count"],
        )
        counts = {client.id: count for client, count in groups}
        for client in self:
            client.grant_count = counts.get(client.id, 0)

    @api.constrains("redirect_uris")
    def _check_redirect_uris(self):
        for client in self:
            for uri in client._redirect_uri_list():
                reason = redirects.problem(uri)
                if reason:
                    raise ValidationError(
                        _("%(uri)s: %(reason)s", uri=uri, reason=reason)
                    )

    def _redirect_uri_list(self):
        self.ensure_one()
        return [
            line.strip()
            for line in (self.redirect_uris or "").splitlines()
            if line.strip()
        ]

    # -- administrator actions -------------------------------------------------------

    def action_revoke(self):
        """Archive the clients and revoke every authorization made to them."""
        if not self.env.user.has_group("mcp_server_odoo.group_mcp_admin"):
            raise AccessError(
                _("Only MCP administrators may revoke client applications.")
            )
        self._revoke()
        return True

    def _revoke(self):
        # sudo: the addon's own bookkeeping (grants and tokens of these clients).
        grants = (
            self.env["mcp.oauth.grant"]
            .sudo()
            .search([("client_id", "in", self.ids), ("revoked_at", "=", False)])
        )
        grants._revoke("admin")
        self.sudo().write({"active": False})
        for client in self:
            _logger.info(
                "MCP OAuth client REVOKE %s by uid %s", client.client_id, self.env.uid
            )

    def action_new_secret(self):
        """Give a confidential client a new secret, shown once and never stored."""
        self.ensure_one()
        if not self.env.user.has_group("mcp_server_odoo.group_mcp_admin"):
            raise AccessError(_("Only MCP administrators may issue client secrets."))
        if self.auth_method == "none":
            raise UserError(_("A public client has no secret."))
        secret, digest = digests.digester().issue(digests.CLIENT_SECRET)
        # sudo: secret_digest is readable by system administrators only.
        self.sudo().secret_digest = digest
        _logger.info(
            "MCP OAuth client SECRET %s by uid %s", self.client_id, self.env.uid
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("New client secret (shown once)"),
                "message": secret,
                "sticky": True,
                "type": "warning",
            },
        }

    # -- lookups used by the authorization server ------------------------------------

    @api.model
    def _oauth_find(self, client_id):
        """The active client of ``client_id``, or an empty recordset.

        An identifier that is not printable text (NUL cannot even be sent to
        PostgreSQL) names no client.
        """
        if (
            not isinstance(client_id, str)
            or not client_id
            or len(client_id) > text.MAX_LENGTH
            or not text.is_printable(client_id)
        ):
            return self.browse()
        return self.search([("client_id", "=", client_id)], limit=1)

    @api.model
    def _oauth_find_metadata_document(self, url, settings):
        """The client described by the document at ``url``, fetched if stale.

        An administrator's revocation (archiving) is final: the document is
        then not fetched again. A URL is fetched at most once in each window
        of ``cimd.FETCH_INTERVAL`` seconds of the shared rate-limit counters,
        so that a failed fetch is not repeated within it (a negative cache)
        and no caller, from however many addresses, can make this server
        fetch one URL over and over.
        """
        try:
            cimd.check_url(url)
        except cimd.MetadataDocumentError as exc:
            _logger.info("MCP OAuth metadata document FAIL: %s", exc)
            return self.browse()
        known = self.with_context(active_test=False).search(
            [("client_id", "=", url)], limit=1
        )
        if known and (not known.active or known.origin != "metadata_document"):
            return known.filtered("active")
        now = fields.Datetime.now()
        if known and known.metadata_expires_at and known.metadata_expires_at > now:
            return known
        document = self._oauth_fetch_metadata_document(url, settings)
        if document is None:
            return self.browse()
        return self._oauth_store_metadata_document(url, document, known, now)

    @api.model
    def _oauth_fetch_metadata_document(self, url, settings):
        """The checked document at ``url``, or None (logged) when unusable."""
        if not self._oauth_may_fetch(url):
            _logger.info(
                "MCP OAuth metadata document DENY %s: fetched less than %ss ago",
                url,
                cimd.FETCH_INTERVAL,
            )
            return None
        try:
            return cimd.fetch(
                url,
                allow_private=settings.cimd_allow_private,
                ca_file=config.get("mcp_oauth_cimd_ca_file"),
            )
        except cimd.MetadataDocumentError as exc:
            _logger.info("MCP OAuth metadata document FAIL %s: %s", url, exc)
            return None

    @api.model
    def _oauth_store_metadata_document(self, url, document, known, now):
        values = {
            "name": document["name"],
            "redirect_uris": "\n".join(document["redirect_uris"]),
            "auth_method": "none",
            "metadata_expires_at": now + timedelta(seconds=cimd.CACHE_SECONDS),
        }
        if known:
            known.write(values)
            return known
        try:
            with self.env.cr.savepoint():
                return self.create(
                    dict(values, client_id=url, origin="metadata_document")
                )
        except psycopg2.IntegrityError:
            # Another request created it first.
            return self._oauth_find(url)

    @api.model
    def _oauth_may_fetch(self, url):
        """Whether ``url`` may be fetched now: once per window, all workers."""
        bucket = "cimd:" + hashlib.sha256(url.encode()).hexdigest()[:32]
        allowed, _wait = self.env["mcp.rate.limit"]._hit(bucket, 1, cimd.FETCH_INTERVAL)
        return allowed

    @api.model
    def _oauth_throttle(self, endpoint, remote_addr):
        """Seconds a caller must wait before using ``endpoint``, or 0.

        The extension point for rate limiting of the OAuth endpoints; this
        addon only guards registration against floods (per address and hour).
        """
        if endpoint != "registration":
            return 0
        limit = self.env["mcp.oauth.client"]._oauth_settings().registrations_per_hour
        if not limit:
            return 0
        since = fields.Datetime.now() - timedelta(hours=1)
        count = self.with_context(active_test=False).search_count(
            [
                ("origin", "=", "registration"),
                ("registration_ip", "=", remote_addr),
                ("create_date", ">=", since),
            ]
        )
        return 3600 if count >= limit else 0

    @api.model
    @tools.ormcache()
    def _oauth_settings(self):
        """The OAuth settings, read once per registry: writing a system
        parameter clears Odoo's caches in every worker."""
        return oauth_settings.read(self.env)

    def _oauth_check_secret(self, secret):
        self.ensure_one()
        stored = self.sudo().secret_digest
        if not stored or not isinstance(secret, str):
            return False
        digest = digests.digester().digest(digests.CLIENT_SECRET, secret)
        return hmac.compare_digest(stored, digest)

    @api.autovacuum
    def _gc_unused_registrations(self):
        """Dynamically registered clients nobody authorized within a week."""
        limit = fields.Datetime.now() - timedelta(days=7)
        stale = self.with_context(active_test=False).search(
            [
                ("origin", "in", ("registration", "metadata_document")),
                ("create_date", "<", limit),
                ("last_used", "=", False),
                ("grant_ids", "=", False),
            ]
        )
        stale.unlink()
