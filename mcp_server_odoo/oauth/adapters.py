"""authlib's model interfaces (RFC 6749 clients, codes, tokens) over Odoo records.

Kept as plain wrappers rather than methods of the Odoo models, so that none
of authlib's public method names becomes callable over Odoo's RPC.
"""

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin

from . import redirects
from .settings import SCOPE

GRANT_TYPES = ("authorization_code", "refresh_token")


class Client(ClientMixin):
    def __init__(self, record):
        self.record = record

    @property
    def client_id(self):
        return self.record.client_id

    @property
    def name(self):
        return self.record.name

    def get_client_id(self):
        return self.record.client_id

    def get_default_redirect_uri(self):
        # OAuth 2.1 §4.1.1: we always require redirect_uri in the request.
        return None

    def get_allowed_scope(self, scope):
        return SCOPE

    def check_redirect_uri(self, redirect_uri):
        return any(
            redirects.matches(registered, redirect_uri)
            for registered in self.record._redirect_uri_list()
        )

    def check_client_secret(self, client_secret):
        return self.record._oauth_check_secret(client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        """RFC 7591 §2: a client authenticates only with its registered method.

        Introspection (RFC 7662 §2.1) is for authenticated clients only.
        """
        if endpoint == "introspection" and method == "none":
            return False
        return method == self.record.auth_method

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in GRANT_TYPES


class AuthorizationCode(AuthorizationCodeMixin):
    def __init__(self, record):
        self.record = record

    @property
    def code_challenge(self):
        return self.record.code_challenge

    @property
    def code_challenge_method(self):
        return self.record.code_challenge_method

    def get_redirect_uri(self):
        return self.record.redirect_uri

    def get_scope(self):
        return self.record.scope or SCOPE


class Token(TokenMixin):
    def __init__(self, record):
        self.record = record

    @property
    def kind(self):
        return self.record.kind

    def check_client(self, client):
        return self.record.grant_id.client_id == client.record

    def get_scope(self):
        return self.record.grant_id.scope or SCOPE

    def get_expires_in(self):
        delta = self.record.expires_at - self.record.create_date
        return int(delta.total_seconds())

    def is_expired(self):
        return not self.record._is_live()

    def is_revoked(self):
        return not self.record._is_live()
