{
    "name": "MCP Server",
    "summary": "Model Context Protocol server for AI clients, acting as the Odoo user",
    "version": "18.0.1.0.0",
    "category": "Technical",
    "license": "LGPL-3",
    "author": "mcp_server_odoo developers",
    "depends": ["base", "web"],
    "external_dependencies": {
        "python": [
            "authlib",
            "cryptography",
            "pyjwt",
            "pycasbin",
            "opentelemetry-api",
            "opentelemetry-sdk",
            "jsonschema",
            "limits",
        ],
    },
    "data": [
        "security/mcp_security.xml",
        "data/ir_config_parameter.xml",
        "views/res_config_settings_views.xml",
    ],
    "installable": True,
    "application": False,
}
