from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    mcp_allowed_origins = fields.Char(
        string="MCP allowed origins",
        config_parameter="mcp_server_odoo.allowed_origins",
        help="Comma-separated origins (https://host[:port]) whose browser pages may "
        "call /mcp. Requests without an Origin header (non-browser clients) are "
        "not affected; this server's own web.base.url is always allowed.",
    )
    mcp_max_body_bytes = fields.Integer(
        string="MCP maximum request size (bytes)",
        config_parameter="mcp_server_odoo.max_body_bytes",
        default=1_048_576,
    )
    mcp_max_limit = fields.Integer(
        string="MCP maximum records per search",
        config_parameter="mcp_server_odoo.max_limit",
        default=500,
    )
    mcp_tools_page_size = fields.Integer(
        string="MCP tools per tools/list page",
        config_parameter="mcp_server_odoo.tools_page_size",
        default=100,
    )
