"""Discovery documents: RFC 9728 (protected resource) and RFC 8414 (server)."""

from odoo import http
from odoo.http import request

from ..oauth import metadata


def _base_url():
    settings = request.env["mcp.oauth.client"]._oauth_settings()
    return settings, metadata.base_url(
        settings.issuer_url, request.httprequest.host_url
    )


def _document(payload):
    return request.make_json_response(
        payload, headers=[("Cache-Control", "public, max-age=300")]
    )


class WellKnownController(http.Controller):
    @http.route(
        [
            metadata.RESOURCE_METADATA_PATH,
            metadata.RESOURCE_METADATA_PATH + metadata.MCP_PATH,
        ],
        type="http",
        auth="public",
        methods=["GET"],
        readonly=True,
        save_session=False,
        cors="*",
        sitemap=False,
    )
    def protected_resource(self):
        """RFC 9728 §3, at the root and at the path-inserted form (§3.1)."""
        _settings, base_url = _base_url()
        return _document(metadata.protected_resource(base_url))

    @http.route(
        metadata.SERVER_METADATA_PATH,
        type="http",
        auth="public",
        methods=["GET"],
        readonly=True,
        save_session=False,
        cors="*",
        sitemap=False,
    )
    def authorization_server(self):
        """RFC 8414 §3."""
        settings, base_url = _base_url()
        return _document(
            metadata.authorization_server(
                base_url, registration_open=settings.registration_mode != "closed"
            )
        )
