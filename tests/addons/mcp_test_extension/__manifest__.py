{
    "name": "MCP Server test extension",
    "summary": "Test-only: adds a chain step and a tool family to mcp_server_odoo",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "license": "LGPL-3",
    "author": "mcp_server_odoo developers",
    "depends": ["mcp_server_odoo"],
    "data": [],
    "installable": True,
    "application": False,
}
