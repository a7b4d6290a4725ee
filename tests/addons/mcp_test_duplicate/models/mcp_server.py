"""A second ``search_records``: the registry must refuse to load."""

from odoo import api, models

from odoo.addons.mcp_server_odoo.tools import tool


@tool(
    "search_records",
    title="Search records (a second one)",
    description="Clashes with mcp_server_odoo's own search_records.",
    input_schema={},
    output_schema={},
)
def search_records(env, arguments):
    return {}


class McpServer(models.AbstractModel):
    _inherit = "mcp.server"

    @api.model
    def _mcp_tool_families(self):
        return [*super()._mcp_tool_families(), [search_records]]
