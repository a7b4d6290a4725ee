"""``POST /mcp``: the Streamable HTTP entry point, kept thin.

Transport checks (protocol.transport), then the chain (mcp.server), then one
place that turns every outcome into a status code and a JSON body.
"""

import logging
import secrets

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.http import request

from ..chain.authentication import Unauthenticated
from ..models.ir_http import public_base_url
from ..oauth.metadata import bearer_challenge
from ..protocol import errors, jsonrpc, transport
from ..tools import response_json

_logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"


def _json(payload, status=200, headers=None):
    response = request.make_response(
        response_json(payload),
        headers=[
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-store"),
            *(headers or {}).items(),
        ],
        status=status,
    )
    return response


def _www_authenticate(exc):
    # The configured public URL when there is one, as in the metadata.
    return bearer_challenge(public_base_url(), exc.oauth_error, exc.message)


def _error(exc, request_id=None):
    headers = dict(exc.headers)
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = _www_authenticate(exc)
    request_id = exc.request_id if exc.request_id is not None else request_id
    return _json(jsonrpc.error_response(request_id, exc), exc.status, headers)


def _read_body(limit):
    httprequest = request.httprequest
    # werkzeug enforces max_content_length on the stream, chunked bodies too.
    httprequest.max_content_length = limit
    try:
        return httprequest.get_data(cache=False)
    except RequestEntityTooLarge:
        return None


class McpController(http.Controller):
    @http.route(
        MCP_PATH,
        type="http",
        auth="mcp",
        methods=None,
        csrf=False,
        save_session=False,
    )
    def mcp(self, **_params):
        httprequest = request.httprequest
        server = request.env["mcp.server"]
        accepted = None
        try:
            settings = server._mcp_settings()
            transport.check_origin(
                httprequest.headers.get("Origin"), settings.transport
            )
            transport.check_http(
                httprequest.method,
                {k.lower(): v for k, v in httprequest.headers.items()},
                httprequest.content_length,
                settings.transport,
            )
            body = transport.read_limited(_read_body, settings.transport)
            headers = {k.lower(): v for k, v in httprequest.headers.items()}
            accepted = transport.accept(body, headers)
            _ctx, result = server._mcp_handle(
                accepted,
                request.mcp_auth,
                remote_addr=httprequest.remote_addr,
                settings=settings,
            )
        except errors.McpError as exc:
            request.env.cr.rollback()
            return _error(exc, accepted and accepted.message.request_id)
        except Exception:
            request.env.cr.rollback()
            trace_id = secrets.token_hex(16)
            _logger.exception("MCP request FAIL internal error (trace %s)", trace_id)
            failure = errors.McpError(
                errors.INTERNAL_ERROR,
                "Internal error; the server log has the details under trace id "
                + trace_id,
            )
            return _error(failure, accepted and accepted.message.request_id)
        if accepted.message.is_notification:
            return request.make_response("", status=202)
        return _json(jsonrpc.result_response(accepted.message.id, result))
