from . import ir_http, mcp_server, res_config_settings
