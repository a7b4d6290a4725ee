from odoo import fields, models

# Integer settings for which 0 is a choice (no limit, keep everything), not
# "unset": Odoo stores an integer 0 as no parameter at all, which the readers
# take for the default.
ZERO_MEANS_OFF = (
    "mcp_oauth_registrations_per_hour",
    "mcp_rate_limit_calls",
    "mcp_rate_limit_ip_calls",
    "mcp_rate_limit_ip_failures",
    "mcp_rate_limit_oauth_calls",
    "mcp_audit_retention_days",
)


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
    # -- analytics and export ----------------------------------------------------------
    mcp_max_groups = fields.Integer(
        string="MCP maximum groups",
        config_parameter="mcp_server_odoo.max_groups",
        default=1000,
        help="Most groups (or pivot cells, or time buckets) one analytics call "
        "may return.",
    )
    mcp_export_max_rows = fields.Integer(
        string="MCP maximum rows per export",
        config_parameter="mcp_server_odoo.export_max_rows",
        default=1_000_000,
    )
    mcp_export_inline_rows = fields.Integer(
        string="MCP export rows returned inline",
        config_parameter="mcp_server_odoo.export_inline_rows",
        default=100,
        help="Larger exports are written to a file and returned as a link.",
    )
    mcp_export_link_lifetime = fields.Integer(
        string="MCP export link lifetime (seconds)",
        config_parameter="mcp_server_odoo.export_link_lifetime",
        default=900,
    )
    mcp_max_batch_size = fields.Integer(
        string="MCP maximum batch size",
        config_parameter="mcp_server_odoo.max_batch_size",
        default=500,
        help="Most items one batch_create, batch_update or batch_delete may carry.",
    )
    mcp_write_open_models = fields.Char(
        string="MCP models open to writes",
        config_parameter="mcp_server_odoo.write_open_models",
        help="Comma-separated technical names of models that are closed to MCP "
        "writes by default because they grant privileges or run code (e.g. "
        "ir.cron, res.users). Each one listed here can then be written by any "
        "MCP client whose user has the access rights: open only what you need.",
    )

    # -- authorization (OAuth 2.1) -----------------------------------------------------

    mcp_accept_api_keys = fields.Boolean(
        string="Accept Odoo API keys on /mcp",
        config_parameter="mcp_server_odoo.accept_api_keys",
        help="Off by default: MCP clients sign in with OAuth. Turn on only for "
        "headless agents that cannot run the OAuth flow.",
    )
    mcp_oauth_access_token_lifetime = fields.Integer(
        string="Access token lifetime (seconds)",
        config_parameter="mcp_server_odoo.oauth_access_token_lifetime",
        default=3600,
    )
    mcp_oauth_refresh_idle_lifetime = fields.Integer(
        string="Refresh token idle lifetime (seconds)",
        config_parameter="mcp_server_odoo.oauth_refresh_idle_lifetime",
        default=14 * 86400,
        help="A refresh token unused for this long expires.",
    )
    mcp_oauth_refresh_absolute_lifetime = fields.Integer(
        string="Authorization absolute lifetime (seconds)",
        config_parameter="mcp_server_odoo.oauth_refresh_absolute_lifetime",
        default=90 * 86400,
        help="After this long the user must authorize the application again; "
        "refreshing never extends it.",
    )
    mcp_oauth_registration_mode = fields.Selection(
        [
            ("open", "Open: any redirect host"),
            ("restricted", "Restricted: loopback and the hosts below"),
            ("closed", "Closed: administrators create applications"),
        ],
        string="Dynamic client registration",
        config_parameter="mcp_server_odoo.oauth_registration_mode",
        default="restricted",
    )
    mcp_oauth_registration_hosts = fields.Char(
        string="Allowed redirect hosts",
        config_parameter="mcp_server_odoo.oauth_registration_hosts",
        help="Comma-separated host names (e.g. claude.ai) whose https redirect "
        "URIs may register in restricted mode.",
    )
    mcp_oauth_registrations_per_hour = fields.Integer(
        string="Registrations per address and hour",
        config_parameter="mcp_server_odoo.oauth_registrations_per_hour",
        default=20,
        help="0 for no limit.",
    )
    mcp_oauth_cimd_allow_private = fields.Boolean(
        string="Fetch client metadata documents from private addresses",
        config_parameter="mcp_server_odoo.oauth_cimd_allow_private",
    )
    mcp_oauth_issuer_url = fields.Char(
        string="Public base URL",
        config_parameter="mcp_server_odoo.oauth_issuer_url",
        help="The issuer and the base of the /mcp resource URL, e.g. "
        "https://odoo.example.com. Empty: the URL the request came in on.",
    )

    # -- rate limits and policies ------------------------------------------------------

    mcp_rate_limit_window = fields.Integer(
        string="Rate limit window (seconds)",
        config_parameter="mcp_server_odoo.rate_limit_window",
        default=60,
        help="Every limit below counts calls per window of this many seconds.",
    )
    mcp_rate_limit_calls = fields.Integer(
        string="Calls per user and client",
        config_parameter="mcp_server_odoo.rate_limit_calls",
        default=600,
    )
    mcp_rate_limit_ip_calls = fields.Integer(
        string="Calls per address",
        config_parameter="mcp_server_odoo.rate_limit_ip_calls",
        default=1200,
        help="Every message from one remote address, before authentication.",
    )
    mcp_rate_limit_ip_failures = fields.Integer(
        string="Failed authentications per address",
        config_parameter="mcp_server_odoo.rate_limit_ip_failures",
        default=30,
        help="Messages without a valid credential from one address; past this "
        "they get 429 instead of 401.",
    )
    mcp_rate_limit_oauth_calls = fields.Integer(
        string="OAuth endpoint calls per address",
        config_parameter="mcp_server_odoo.rate_limit_oauth_calls",
        default=60,
        help="Per endpoint (token, registration) and remote address.",
    )
    mcp_policy_enabled = fields.Boolean(
        string="Enforce MCP policies",
        config_parameter="mcp_server_odoo.policy_enabled",
        help="Casbin rules under MCP Server > Policies narrow what Odoo allows. "
        "On without a policy in force, every tool call is refused.",
    )

    # -- audit log ---------------------------------------------------------------------

    mcp_audit_retention_days = fields.Integer(
        string="Audit retention (days)",
        config_parameter="mcp_server_odoo.audit_retention_days",
        default=365,
        help="Events older than this are pruned, but only up to a signed "
        "checkpoint, and the pruning is itself recorded. 0 keeps every event.",
    )

    def set_values(self):
        super().set_values()
        # sudo: the settings' own parameters, as super() writes them.
        params = self.env["ir.config_parameter"].sudo()
        for name in ZERO_MEANS_OFF:
            if self[name] == 0:
                params.set_param(self._fields[name].config_parameter, "0")
