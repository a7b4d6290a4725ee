"""The OAuth endpoints' throttle, backed by the shared rate-limit counters.

``mcp.oauth.client._oauth_throttle`` is the hook the OAuth endpoints call;
this adds a per-address limit for each endpoint on top of what it checks.
"""

from odoo import api, models


class McpOAuthClient(models.Model):
    _inherit = "mcp.oauth.client"

    @api.model
    def _oauth_throttle(self, endpoint, remote_addr):
        wait = super()._oauth_throttle(endpoint, remote_addr)
        limiter = self.env["mcp.rate.limit"]
        settings = limiter._rate_settings()
        if wait or not settings.oauth_calls or not remote_addr:
            return wait
        allowed, retry_after = limiter._hit(
            f"oauth:{endpoint}:{remote_addr}", settings.oauth_calls, settings.window
        )
        return 0 if allowed else retry_after
