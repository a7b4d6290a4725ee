"""``mcp.export``: a file written by export_dataset and the link that fetches it.

The link carries a random handle; only its SHA-256 is stored, so a database
dump gives nothing that can be replayed. An export is bound to the user and
the credential that created it (an OAuth grant, or one Odoo API key): the
download route refuses any other, as if the export did not exist.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from pathlib import Path

from odoo import api, fields, models
from odoo.tools import config

from odoo.addons.base.models.res_users import INDEX_SIZE, KEY_CRYPT_CONTEXT

_logger = logging.getLogger(__name__)

LIFETIME_DEFAULT = 900
FOLDER = "mcp_exports"


def handle_digest(handle):
    return hashlib.sha256(handle.encode()).hexdigest()


class McpExport(models.Model):
    _name = "mcp.export"
    _description = "MCP export file"
    _order = "id desc"
    _allow_sudo_commands = False

    handle_digest = fields.Char(required=True, index=True, readonly=True)
    user_id = fields.Many2one(
        "res.users", required=True, index=True, ondelete="cascade", readonly=True
    )
    credential = fields.Char(
        required=True,
        readonly=True,
        help="The grant ('oauth:<grant id>') or API key ('api_key:<key id>') "
        "that created the export; the only one that may fetch it.",
    )
    res_model = fields.Char(string="Model", required=True, readonly=True)
    file_format = fields.Selection(
        [("csv", "CSV"), ("jsonl", "JSON Lines")], required=True, readonly=True
    )
    file_name = fields.Char(required=True, readonly=True)
    row_count = fields.Integer(readonly=True)
    byte_size = fields.Integer(readonly=True)
    expires_at = fields.Datetime(required=True, index=True, readonly=True)

    # -- files

    @api.model
    def _mcp_folder(self):
        folder = Path(config.filestore(self.env.cr.dbname)) / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _mcp_path(self):
        self.ensure_one()
        return self._mcp_folder() / self.file_name

    @api.model
    def _mcp_new_file(self, file_format):
        """A fresh file name and its path; the name is random, never the handle."""
        name = f"{secrets.token_hex(16)}.{file_format}"
        return name, self._mcp_folder() / name

    # -- lifecycle

    @api.model
    def _mcp_lifetime(self):
        # sudo: the addon's own setting.
        raw = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("mcp_server_odoo.export_link_lifetime", LIFETIME_DEFAULT)
        )
        try:
            return max(int(raw), 1)
        except (TypeError, ValueError):
            return LIFETIME_DEFAULT

    @api.model
    def _mcp_register(self, *, user, credential, values):
        """Record a written file; returns (record, handle). Call with sudo."""
        handle = secrets.token_urlsafe(32)
        record = self.create(
            {
                **values,
                "handle_digest": handle_digest(handle),
                "user_id": user.id,
                "credential": credential,
                "expires_at": fields.Datetime.now()
                + timedelta(seconds=self._mcp_lifetime()),
            }
        )
        return record, handle

    @api.model
    def _mcp_lookup(self, handle, *, uid, credential):
        """(export, expired) for the holder of ``handle``, or (None, False) when
        it is unknown or belongs to another user or credential."""
        export = self.search([("handle_digest", "=", handle_digest(handle))], limit=1)
        if not export or export.user_id.id != uid:
            return None, False
        if not credential or not hmac.compare_digest(export.credential, credential):
            return None, False
        return export, export.expires_at <= fields.Datetime.now()

    def unlink(self):
        paths = [export._mcp_path() for export in self]
        result = super().unlink()
        for path in paths:
            path.unlink(missing_ok=True)
        return result

    @api.autovacuum
    def _gc_expired_exports(self):
        expired = self.search([("expires_at", "<=", fields.Datetime.now())])
        if expired:
            _logger.info("MCP export gc: removing %d expired export(s)", len(expired))
            expired.unlink()

    # -- credentials

    @api.model
    def _mcp_credential(self, *, kind, token_family, uid, bearer=None):
        """The credential an export is bound to, as stored in ``credential``.

        OAuth tokens are bound by grant (a refreshed token keeps its exports);
        API keys by the id of the key, found by its index as Odoo finds it and
        verified by hash when two keys of the user share an index.
        """
        if kind == "oauth" and token_family:
            return f"oauth:{token_family}"
        if kind == "api_key" and bearer:
            key_id = self._mcp_api_key_id(uid, bearer)
            return f"api_key:{key_id}" if key_id else None
        return None

    @api.model
    def _mcp_api_key_id(self, uid, key):
        self.env.cr.execute(
            "SELECT id, key FROM res_users_apikeys WHERE index = %s AND user_id = %s",
            [key[:INDEX_SIZE], uid],
        )
        rows = self.env.cr.fetchall()
        if len(rows) == 1:
            return rows[0][0]
        for key_id, hashed in rows:
            if KEY_CRYPT_CONTEXT.verify(key, hashed):
                return key_id
        return None
