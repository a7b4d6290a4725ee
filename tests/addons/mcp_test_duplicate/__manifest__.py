{
    "name": "MCP Server test duplicate tool",
    "summary": "Test-only: a tool whose name mcp_server_odoo already uses",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "license": "LGPL-3",
    "author": "mcp_server_odoo developers",
    "depends": ["mcp_server_odoo"],
    "data": [],
    "installable": True,
    "application": False,
}
