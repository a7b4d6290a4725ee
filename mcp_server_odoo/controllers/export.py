"""``GET /mcp/exports/<handle>``: the file an export_dataset call wrote, streamed.

The bearer credential is checked by ``auth="mcp"`` as on /mcp. The export must
belong to the same user and the same credential (OAuth grant or API key);
anything else is answered 404, the same as an unknown handle, so that a handle
reveals nothing to anyone else. An expired export is 410 for its owner.

Every download counts against its address, and one without a valid credential
counts as a failure too, in the same counters as /mcp (``ip:<address>`` and
``fail:<address>`` of ``mcp.rate.limit``): over either limit the answer is 429
with Retry-After.
"""

import json
import logging

from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..models.ir_http import bearer_token, public_base_url
from ..oauth import metadata
from ..tools.export import CHUNK_BYTES, EXPORT_PATH, MIME_TYPES

_logger = logging.getLogger(__name__)


def _refusal(status, message, headers=()):
    return Response(
        json.dumps({"error": message}),
        status=status,
        headers=[("Cache-Control", "no-store"), *headers],
        content_type="application/json",
    )


def _throttle(auth, remote_addr):
    """Seconds to wait before this download may be served, or 0 (as /mcp)."""
    # SUPERUSER_ID: counters and settings are the addon's bookkeeping.
    limiter = request.env(user=SUPERUSER_ID)["mcp.rate.limit"]
    settings = limiter._rate_settings()
    address = remote_addr or "unknown"
    hits = [(f"ip:{address}", settings.ip_calls, settings.window)]
    if auth.uid is None:
        hits.append((f"fail:{address}", settings.ip_failures, settings.window))
    allowed, retry_after = limiter._hit_many(hits)
    if allowed:
        return 0
    _logger.info(
        "MCP export download DENY rate limit from %s (retry after %ss)",
        address,
        retry_after,
    )
    return retry_after


class McpExportController(http.Controller):
    @http.route(
        f"{EXPORT_PATH}<string:handle>",
        type="http",
        auth="mcp",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def mcp_export(self, handle, **_params):
        auth = request.mcp_auth
        httprequest = request.httprequest
        wait = _throttle(auth, httprequest.remote_addr)
        if wait:
            return _refusal(
                429,
                f"too many requests: retry after {wait} seconds",
                [("Retry-After", str(wait))],
            )
        if auth.uid is None:
            challenge = metadata.bearer_challenge(
                public_base_url(),
                "invalid_token" if auth.error else None,
                auth.error,
            )
            return _refusal(
                401,
                "send the access token of the call that made the export",
                [("WWW-Authenticate", challenge)],
            )
        # sudo: the addon's own export bookkeeping, looked up by digest only
        # and matched against the caller's user and credential below.
        exports = request.env["mcp.export"].sudo()
        credential = exports._mcp_credential(
            kind=auth.kind,
            token_family=auth.token_family,
            uid=auth.uid,
            bearer=bearer_token(httprequest.headers),
        )
        export, expired = exports._mcp_lookup(
            handle, uid=auth.uid, credential=credential
        )
        if export is None:
            _logger.info(
                "MCP export download DENY uid %s from %s",
                auth.uid,
                httprequest.remote_addr,
            )
            return _refusal(404, "no such export")
        if expired:
            return _refusal(410, "this export link has expired")
        path = export._mcp_path()
        if not path.exists():
            _logger.warning("MCP export %s FAIL file is missing", export.id)
            return _refusal(404, "no such export")
        _logger.info(
            "MCP export %s download ALLOW uid %s from %s",
            export.id,
            auth.uid,
            httprequest.remote_addr,
        )
        name = f"{export.res_model}-{export.id}.{export.file_format}"
        stream = wrap_file(
            httprequest.environ,
            open(path, "rb"),
            buffer_size=CHUNK_BYTES,  # noqa: SIM115
        )
        return Response(
            stream,
            status=200,
            direct_passthrough=True,
            headers=[
                ("Content-Length", str(path.stat().st_size)),
                ("Content-Disposition", f'attachment; filename="{name}"'),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ],
            content_type=MIME_TYPES[export.file_format] + "; charset=utf-8",
        )
