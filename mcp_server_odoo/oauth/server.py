"""authlib's AuthorizationServer on Odoo's request and response.

One :class:`McpAuthorizationServer` is built per HTTP request (it is cheap:
grant and endpoint classes are registered, nothing is loaded) and holds the
environment, the settings and this server's issuer and resource URLs.
"""

import base64
import json
import logging
import re
from collections import defaultdict
from datetime import timedelta
from urllib.parse import unquote

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    InvalidRequestError,
    JsonPayload,
    JsonRequest,
    OAuth2Payload,
    OAuth2Request,
)
from werkzeug.exceptions import RequestEntityTooLarge

from odoo import fields
from odoo.http import Response

from . import cimd, digests, metadata, redirects, text
from .adapters import Client
from .endpoints import IntrospectionEndpoint, RegistrationEndpoint, RevocationEndpoint
from .grants import (
    AuthorizationCodeGrant,
    RefreshTokenGrant,
    ResourceIndicator,
    S256CodeChallenge,
)
from .settings import SCOPE

_logger = logging.getLogger(__name__)

MAX_JSON_BYTES = 64 * 1024
# RFC 6749 §3.1.1: response-type = response-name *( SP response-name ).
RESPONSE_TYPE = re.compile(r"[A-Za-z0-9_]+( [A-Za-z0-9_]+)*")


class OdooPayload(OAuth2Payload):
    """Parameters of one request: the query on GET, the form body on POST."""

    def __init__(self, values):
        self._values = values

    @property
    def data(self):
        return self._values

    @property
    def datalist(self):
        lists = defaultdict(list)
        for key in self._values:
            lists[key].extend(self._values.getlist(key))
        return lists


class OdooOAuth2Request(OAuth2Request):
    """A form or query request, refused at once if any value is not printable."""

    def __init__(self, httprequest):
        super().__init__(
            httprequest.method, httprequest.url, headers=httprequest.headers
        )
        self._httprequest = httprequest
        values = httprequest.form if httprequest.method == "POST" else httprequest.args
        _check_parameters(values)
        _check_basic_credentials(httprequest.headers)
        self.payload = OdooPayload(values)

    @property
    def args(self):
        return self._httprequest.args

    @property
    def form(self):
        return self._httprequest.form


class OdooJsonPayload(JsonPayload):
    def __init__(self, data):
        self._data = data

    @property
    def data(self):
        return self._data


class OdooJsonRequest(JsonRequest):
    def __init__(self, httprequest):
        super().__init__(httprequest.method, httprequest.url, httprequest.headers)
        self.payload = OdooJsonPayload(_json_body(httprequest))


def _check_parameters(values):
    """Refuse names and values that are not printable text.

    RFC 6749 Appendix A allows visible ASCII and space only; what is not even
    printable is refused here, before any of it reaches authlib, a log line
    or the database.
    """
    for name, value in values.items(multi=True):
        if not (text.is_printable(name) and text.is_printable(value)):
            raise InvalidRequestError(
                f"{text.name_for_error(name)} must be printable text, valid "
                "UTF-8 without control characters."
            )


def _check_basic_credentials(headers):
    """RFC 6749 §2.3.1: Basic credentials are form-encoded UTF-8 text.

    authlib decodes them itself; this refuses, with a clear error, what it
    would fail on or pass on to the database (invalid UTF-8, NUL).
    """
    parts = (headers.get("Authorization") or "").split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "basic":
        return
    try:
        decoded = base64.b64decode(parts[1]).decode()
    except ValueError as exc:  # binascii.Error, UnicodeDecodeError, non-ASCII
        raise InvalidRequestError("The Basic credentials are malformed.") from exc
    if not all(text.is_printable(unquote(part)) for part in decoded.split(":", 1)):
        raise InvalidRequestError(
            "The Basic credentials must be printable text without control characters."
        )


def _json_body(httprequest):
    """The parsed JSON body, or None when it is not JSON (or nested too deep)."""
    if (httprequest.mimetype or "") != "application/json":
        return None
    httprequest.max_content_length = MAX_JSON_BYTES
    try:
        return json.loads(httprequest.get_data(cache=True))
    except RequestEntityTooLarge as exc:
        raise InvalidRequestError(
            f"The body is larger than {MAX_JSON_BYTES // 1024} KiB.", status_code=413
        ) from exc
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


class McpAuthorizationServer(AuthorizationServer):
    """The authorization server of this Odoo database (RFC 6749, OAuth 2.1)."""

    def __init__(self, env, httprequest, settings):
        super().__init__(scopes_supported=[SCOPE])
        self.env = env
        self.httprequest = httprequest
        self.settings = settings
        self.base_url = metadata.base_url(settings.issuer_url, httprequest.host_url)
        self.issuer = self.base_url
        self.resource = metadata.resource_url(self.base_url)
        self.scope = SCOPE
        self.remote_addr = httprequest.remote_addr
        self._clients = {}
        self.register_token_generator("default", self._generate_bearer_token)
        self.register_grant(
            AuthorizationCodeGrant, [S256CodeChallenge(), ResourceIndicator()]
        )
        self.register_grant(RefreshTokenGrant, [ResourceIndicator()])
        self.register_endpoint(RevocationEndpoint)
        self.register_endpoint(IntrospectionEndpoint)
        self.register_endpoint(RegistrationEndpoint)

    def metadata(self):
        return metadata.authorization_server(
            self.base_url,
            registration_open=self.settings.registration_mode != "closed",
        )

    # -- storage --------------------------------------------------------------

    def query_client(self, client_id):
        if not isinstance(client_id, str) or len(client_id) > text.MAX_LENGTH:
            return None
        if client_id not in self._clients:
            self._clients[client_id] = self._load_client(client_id)
        return self._clients[client_id]

    def _load_client(self, client_id):
        # sudo: clients are the addon's bookkeeping; anonymous callers look
        # them up by the identifier they present.
        clients = self.env["mcp.oauth.client"].sudo()
        if cimd.is_metadata_client_id(client_id):
            record = clients._oauth_find_metadata_document(client_id, self.settings)
        else:
            record = clients._oauth_find(client_id)
        return Client(record) if record else None

    def password_stamp(self, uid):
        password = self.env["mcp.oauth.token"]._password_hash(uid)
        return digests.digester().password_stamp(uid, password)

    def _generate_bearer_token(
        self,
        *,
        grant_type,
        client,
        user=None,
        scope=None,
        expires_in=None,
        include_refresh_token=True,
    ):
        digester = digests.digester()
        token = {
            "token_type": "Bearer",
            "access_token": digester.issue(digests.ACCESS_TOKEN)[0],
            "expires_in": self.settings.access_token_lifetime,
            "scope": SCOPE,
        }
        if include_refresh_token:
            token["refresh_token"] = digester.issue(digests.REFRESH_TOKEN)[0]
        return token

    def save_token(self, token, request):
        """Store the digests of a new token pair under its grant (family)."""
        now = fields.Datetime.now()
        # sudo: the addon's own bookkeeping (grants and tokens).
        if request.authorization_code is not None:
            grant, parent = (
                self._new_grant(request.authorization_code.record, now),
                None,
            )
        else:
            parent = request.refresh_token.record
            grant = parent.grant_id
        access_end = min(
            now + timedelta(seconds=self.settings.access_token_lifetime),
            grant.expires_at,
        )
        token["expires_in"] = max(int((access_end - now).total_seconds()), 0)
        digester = digests.digester()
        rows = [
            {
                "grant_id": grant.id,
                "kind": "access",
                "expires_at": access_end,
                "digest": digester.digest(digests.ACCESS_TOKEN, token["access_token"]),
            }
        ]
        if token.get("refresh_token"):
            idle_end = now + timedelta(seconds=self.settings.refresh_idle_lifetime)
            rows.append(
                {
                    "grant_id": grant.id,
                    "kind": "refresh",
                    "expires_at": min(idle_end, grant.expires_at),
                    "parent_id": parent.id if parent else False,
                    "digest": digester.digest(
                        digests.REFRESH_TOKEN, token["refresh_token"]
                    ),
                }
            )
        self.env["mcp.oauth.token"].sudo().create(rows)
        grant._touch(self.remote_addr)
        grant.client_id.sudo().last_used = now
        _logger.info(
            "MCP OAuth token ISSUE %s client %s user %s grant %s from %s",
            request.payload.grant_type,
            grant.client_id.client_id,
            grant.user_id.id,
            grant.id,
            self.remote_addr,
        )

    def _new_grant(self, code, now):
        grant = (
            self.env["mcp.oauth.grant"]
            .sudo()
            .create(
                {
                    "client_id": code.client_id.id,
                    "user_id": code.user_id.id,
                    "scope": code.scope,
                    "resource": code.resource,
                    "redirect_host": redirects.host_of(code.redirect_uri),
                    "password_stamp": code.sudo().password_stamp,
                    "expires_at": now
                    + timedelta(seconds=self.settings.refresh_absolute_lifetime),
                }
            )
        )
        code.sudo().grant_id = grant
        return grant

    def get_authorization_grant(self, request):
        if RESPONSE_TYPE.fullmatch(request.payload.response_type or ""):
            return super().get_authorization_grant(request)
        # Missing or malformed. authlib would repeat the value in its error
        # description, where RFC 6749 §4.1.2.1 forbids quotes and non-ASCII;
        # as there, the error goes back to a verified redirect URI only.
        raise InvalidRequestError(
            "response_type must be 'code'.",
            redirect_uri=self._verified_redirect_uri(request),
        )

    def _verified_redirect_uri(self, request):
        """The request's redirect URI if its client is known and registered it."""
        client = self.query_client(request.payload.client_id)
        uri = request.payload.redirect_uri
        return uri if client and uri and client.check_redirect_uri(uri) else None

    # -- Odoo's request and response -------------------------------------------

    def create_oauth2_request(self, request):
        if isinstance(request, OAuth2Request):
            return request
        return OdooOAuth2Request(self.httprequest)

    def create_json_request(self, request):
        return OdooJsonRequest(self.httprequest)

    def handle_response(self, status, body, headers):
        """An Odoo response; every redirect is an authorization response.

        Those use 303 (OAuth 2.1 §7.5.2, so the browser does not re-POST the
        consent form) and carry ``iss`` (RFC 9207 §2).
        """
        headers = list(headers)
        location = dict(headers).get("Location")
        if location:
            status = 303
            headers = [(name, value) for name, value in headers if name != "Location"]
            headers.append(
                ("Location", add_params_to_uri(location, [("iss", self.issuer)]))
            )
        if isinstance(body, dict):
            body = json.dumps(body)
        response = Response(body, status=status, headers=headers)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response

    def send_signal(self, name, *args, **kwargs):
        # authlib's framework signals; this server logs in its own steps.
        return None
