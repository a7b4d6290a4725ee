from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    mcp_oauth_grant_ids = fields.One2many(
        "mcp.oauth.grant",
        "user_id",
        string="Authorized applications",
        domain=[("revoked_at", "=", False)],
    )

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + ["mcp_oauth_grant_ids"]
