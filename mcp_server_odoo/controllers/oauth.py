"""The OAuth 2.1 endpoints: authorize (with Odoo's login and a consent page),
token, revocation, introspection and registration.

Each handler builds the authlib server for this request and lets it answer;
the only logic here is the browser side of the authorization endpoint and one
place per kind of endpoint that turns every outcome into an answer: OAuth
errors as authlib shapes them, a missing HMAC key as 503, too many requests
as 429, and anything unexpected as ``server_error`` with a trace id that the
server log has too (never a traceback page).
"""

import logging
import secrets

from authlib.oauth2.rfc6749 import OAuth2Error

from odoo import http
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..oauth import digests, metadata, redirects
from ..oauth.endpoints import TooManyRequestsError
from ..oauth.server import McpAuthorizationServer

_logger = logging.getLogger(__name__)

# The parameters the consent form carries back to the authorization endpoint.
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
)
USER_GROUP = "mcp_server_odoo.group_mcp_user"


def _server():
    settings = request.env["mcp.oauth.client"]._oauth_settings()
    return McpAuthorizationServer(request.env, request.httprequest, settings)


def _frame_guard(response):
    """The authorization endpoint is never framed (RFC 9700 §4.16, clickjacking)."""
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers["Cache-Control"] = "no-store"
    return response


def _error_page(message, status=400, headers=()):
    response = request.render(
        "mcp_server_odoo.oauth_error_page",
        {"message": message},
        status=status,
        headers=list(headers),
    )
    return _frame_guard(response)


def _json_error(error, description, status, headers=()):
    return request.make_json_response(
        {"error": error, "error_description": description},
        status=status,
        headers=[("Cache-Control", "no-store"), *headers],
    )


def _log_not_configured(exc):
    _logger.error("MCP OAuth FAIL not configured: %s", exc)


def _log_internal_error(name):
    """Log the exception being handled under a new trace id; return the id."""
    # The transaction may be aborted; the answer must not commit half of it.
    request.env.cr.rollback()
    trace_id = secrets.token_hex(16)
    _logger.exception("MCP OAuth %s FAIL internal error (trace %s)", name, trace_id)
    return trace_id


def _internal_error_text(trace_id):
    return f"Internal error; the server log has the details under trace id {trace_id}."


def _throttle(name):
    """Seconds the caller's address must wait before using ``name``, or 0.

    The rate-limit hook (mcp.oauth.client._oauth_throttle): per endpoint and
    address; registration also has its flood cap.
    """
    remote_addr = request.httprequest.remote_addr
    # sudo: counters are the addon's bookkeeping; callers are anonymous.
    wait = request.env["mcp.oauth.client"].sudo()._oauth_throttle(name, remote_addr)
    if wait:
        _logger.info("MCP OAuth %s DENY rate limit from %s", name, remote_addr)
    return wait


class OAuthController(http.Controller):
    @http.route(
        metadata.AUTHORIZE_PATH,
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=True,
        readonly=False,
        sitemap=False,
    )
    def authorize(self, **_params):
        """RFC 6749 §4.1.1: validate, log the user in, ask, answer with a redirect.

        Until the client and its redirect URI are known good, errors are shown
        here and never redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.11). Every
        request counts against its address's limit first: validating a client
        may fetch its metadata document.
        """
        try:
            digests.digester()
            server = _server()
            wait = _throttle("authorization")
            if wait:
                return _error_page(
                    "Too many authorization requests from your address; "
                    "try again later.",
                    429,
                    [("Retry-After", str(wait))],
                )
            return self._authorize(server)
        except digests.KeyMissing as exc:
            _log_not_configured(exc)
            return _error_page("The authorization server is not configured.", 503)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # Odoo retries the whole request.
        except Exception:  # noqa: BLE001 - the last line: never a traceback page
            trace_id = _log_internal_error("authorization")
            return _error_page(_internal_error_text(trace_id), 500)

    def _authorize(self, server):
        try:
            grant = server.get_consent_grant(end_user=None)
        except OAuth2Error as error:
            if error.redirect_uri:
                return _frame_guard(server.handle_error_response(None, error))
            return _error_page(error.get_error_description() or error.error)

        user = request.env.user
        if user._is_public():
            return self._login_first()
        if not user.has_group(USER_GROUP):
            _logger.info(
                "MCP OAuth consent DENY uid %s client %s: not an MCP user",
                user.id,
                grant.client.client_id,
            )
            return _error_page(
                "Your Odoo user may not authorize MCP applications.", 403
            )
        if request.httprequest.method == "GET":
            return self._consent_page(server, grant, user)
        return self._decide(server, grant, user)

    def _login_first(self):
        # Odoo's own login page, then back here with the same query.
        if request.httprequest.method != "GET":
            return _error_page(
                "Your session has expired; start again from the application."
            )
        return _frame_guard(
            request.redirect_query(
                "/web/login", {"redirect": request.httprequest.full_path}
            )
        )

    def _consent_page(self, server, grant, user):
        payload = grant.request.payload
        values = {
            "client_name": grant.client.name,
            "client_id": grant.client.client_id,
            "redirect_host": redirects.host_of(grant.redirect_uri),
            "user": user,
            "scope": server.scope,
            "hidden": [
                (name, payload.data.get(name))
                for name in AUTHORIZE_PARAMS
                if payload.data.get(name) is not None
            ],
        }
        return _frame_guard(
            request.render("mcp_server_odoo.oauth_consent_page", values)
        )

    def _decide(self, server, grant, user):
        allowed = request.httprequest.form.get("decision") == "allow"
        _logger.info(
            "MCP OAuth consent %s uid %s client %s from %s",
            "ALLOW" if allowed else "DENY",
            user.id,
            grant.client.client_id,
            request.httprequest.remote_addr,
        )
        response = server.create_authorization_response(
            grant.request, grant_user=user if allowed else None, grant=grant
        )
        return _frame_guard(response)

    @http.route(
        metadata.TOKEN_PATH,
        type="http",
        auth="public",
        methods=["POST", "OPTIONS"],
        csrf=False,
        readonly=False,
        save_session=False,
        cors="*",
    )
    def token(self, **_params):
        """RFC 6749 §3.2; answers carry Cache-Control: no-store (§5.1)."""
        return self._endpoint("token", lambda server: server.create_token_response())

    @http.route(
        metadata.REVOKE_PATH,
        type="http",
        auth="public",
        methods=["POST", "OPTIONS"],
        csrf=False,
        readonly=False,
        save_session=False,
        cors="*",
    )
    def revoke(self, **_params):
        """RFC 7009 §2."""
        return self._endpoint(
            "revocation", lambda server: server.create_endpoint_response("revocation")
        )

    @http.route(
        metadata.INTROSPECT_PATH,
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        readonly=False,
        save_session=False,
    )
    def introspect(self, **_params):
        """RFC 7662 §2."""
        return self._endpoint(
            "introspection",
            lambda server: server.create_endpoint_response("introspection"),
        )

    @http.route(
        metadata.REGISTER_PATH,
        type="http",
        auth="public",
        methods=["POST", "OPTIONS"],
        csrf=False,
        readonly=False,
        save_session=False,
        cors="*",
    )
    def register(self, **_params):
        """RFC 7591 §3."""
        return self._endpoint(
            "registration",
            lambda server: server.create_endpoint_response("client_registration"),
        )

    def _endpoint(self, name, answer):
        """Answer one JSON endpoint; every failure is an OAuth error in JSON."""
        try:
            digests.digester()
            server = _server()
            wait = _throttle(name)
            if wait:
                raise TooManyRequestsError(wait)
            return answer(server)
        except digests.KeyMissing as exc:
            _log_not_configured(exc)
            return _json_error(
                "temporarily_unavailable",
                "The authorization server is not configured.",
                503,
            )
        except OAuth2Error as error:
            # Raised outside authlib's own handling: the throttle, or a request
            # refused while it was being read (unprintable text, too large).
            return server.handle_error_response(None, error)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # Odoo retries the whole request.
        except Exception:  # noqa: BLE001 - the last line: never a traceback page
            trace_id = _log_internal_error(name)
            return _json_error("server_error", _internal_error_text(trace_id), 500)
