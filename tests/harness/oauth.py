"""OAuth 2.1 over real HTTP: Odoo's login form, the consent page, /oauth/*.

``Browser`` is a person at Odoo's login and consent pages (plain HTML forms,
no JavaScript); ``OAuthApp`` is an MCP client application talking to the
token, revocation and introspection endpoints. The fixtures at the bottom are
part of the harness plugin.
"""

import base64
import hashlib
import secrets
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from lxml import html

REDIRECT_URI = "http://127.0.0.1:9/callback"
MCP_USER_GROUPS = ("base.group_user", "mcp_server_odoo.group_mcp_user")


def pkce_pair():
    """``(verifier, S256 challenge)`` (RFC 7636 §4.1, §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def client_record(env, name="Assistant"):
    """An OAuth client made in the ORM, as an administrator would make one."""
    return env["mcp.oauth.client"].create({"name": name, "redirect_uris": REDIRECT_URI})


def grant_record(env, client, user, *, days=30, resource=None):
    """A live grant of ``client`` to ``user``, made in the ORM (no tokens)."""
    from odoo import fields  # noqa: PLC0415

    values = {
        "client_id": client.id,
        "user_id": user.id,
        "redirect_host": "127.0.0.1",
        "scope": "mcp",
        "expires_at": fields.Datetime.now() + timedelta(days=days),
    }
    if resource:
        values["resource"] = resource
    return env["mcp.oauth.grant"].create(values)


def query_of(response):
    """The query parameters of a redirect's Location, one value each."""
    location = response.headers["Location"]
    return {
        key: values[0] for key, values in parse_qs(urlsplit(location).query).items()
    }


def form_fields(response):
    """The named inputs of the first form of an HTML page."""
    document = html.fromstring(response.text)
    form = document.forms[0]
    return {i.name: i.value or "" for i in form.inputs if i.name and i.type != "submit"}


class Browser:
    """One user's browser: a session cookie, Odoo's login form, the consent page."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.session = requests.Session()

    def login(self, login, password):
        page = self.session.get(f"{self.base_url}/web/login", timeout=30)
        fields = form_fields(page)
        fields.update(login=login, password=password, redirect="/web/health")
        done = self.session.post(
            f"{self.base_url}/web/login", data=fields, allow_redirects=False, timeout=30
        )
        assert done.status_code == 303, f"login failed for {login}: {done.status_code}"
        return self

    def open_authorize(self, params):
        return self.session.get(
            f"{self.base_url}/oauth/authorize",
            params=params,
            allow_redirects=False,
            timeout=30,
        )

    def decide(self, consent_page, decision="allow", **overrides):
        fields = {**form_fields(consent_page), **overrides, "decision": decision}
        return self.session.post(
            f"{self.base_url}/oauth/authorize",
            data=fields,
            allow_redirects=False,
            timeout=30,
        )

    def authorize(self, params, decision="allow"):
        """GET the authorization endpoint, then Allow/Deny; the final response."""
        page = self.open_authorize(params)
        if page.status_code != 200 or "o_mcp_oauth_consent" not in page.text:
            return page
        return self.decide(page, decision)


class OAuthApp:
    """An MCP client application registered with the server."""

    def __init__(
        self,
        base_url,
        client_id,
        secret=None,
        redirect_uri=REDIRECT_URI,
        auth_method=None,
    ):
        self.base_url = base_url
        self.client_id = client_id
        self.secret = secret
        self.auth_method = auth_method or ("client_secret_basic" if secret else "none")
        self.redirect_uri = redirect_uri
        self.resource = f"{base_url}/mcp"
        self.session = requests.Session()

    def authorize_params(self, **overrides):
        verifier, challenge = pkce_pair()
        self.verifier = verifier
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "mcp",
            "state": secrets.token_urlsafe(12),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": self.resource,
        }
        params.update(overrides)
        return {key: value for key, value in params.items() if value is not None}

    def post(self, path, data, *, authenticate=True):
        data = {key: value for key, value in data.items() if value is not None}
        auth = None
        if authenticate and self.secret and self.auth_method == "client_secret_basic":
            auth = (self.client_id, self.secret)
        elif authenticate:
            data.setdefault("client_id", self.client_id)
            if self.secret:
                data.setdefault("client_secret", self.secret)
        return self.session.post(
            f"{self.base_url}{path}", data=data, auth=auth, timeout=60
        )

    def exchange(self, code, verifier=..., **extra):
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self.verifier if verifier is ... else verifier,
            "resource": self.resource,
            **extra,
        }
        return self.post("/oauth/token", data)

    def refresh(self, refresh_token, **extra):
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
        return self.post("/oauth/token", data)

    def revoke(self, token, hint=None):
        return self.post("/oauth/revoke", {"token": token, "token_type_hint": hint})

    def introspect(self, token):
        return self.post("/oauth/introspect", {"token": token})

    def code_for(self, browser, **overrides):
        """Run the browser part of the flow; the authorization code."""
        response = browser.authorize(self.authorize_params(**overrides))
        assert response.status_code == 303, response.text[:500]
        query = query_of(response)
        assert "code" in query, query
        return query["code"]

    def tokens_for(self, browser):
        """The whole flow: consent, code, token; the token response JSON."""
        response = self.exchange(self.code_for(browser))
        assert response.status_code == 200, response.text
        return response.json()


# -- fixtures ------------------------------------------------------------------


@pytest.fixture(scope="session")
def oauth_user(server_env):
    """``oauth_user(groups=...)`` -> (uid, login, password) of a new user."""
    from tests.harness.fixtures import _create_user  # noqa: PLC0415

    def create(groups=MCP_USER_GROUPS):
        login = f"oauth-{uuid.uuid4().hex[:10]}"
        password = secrets.token_urlsafe(16)
        with server_env() as env:
            user = _create_user(env, login, groups=groups, password=password)
            return user.id, login, password

    return create


@pytest.fixture(scope="session")
def oauth_app(server_env, odoo_http):
    """``oauth_app(auth_method="none", redirect_uris=...)`` -> :class:`OAuthApp`."""

    def create(auth_method="none", redirect_uris=(REDIRECT_URI,), name="Test app"):
        from odoo.addons.mcp_server_odoo.oauth import digests  # noqa: PLC0415

        with server_env() as env:
            client = env["mcp.oauth.client"].create(
                {
                    "name": name,
                    "auth_method": auth_method,
                    "redirect_uris": "\n".join(redirect_uris),
                }
            )
            secret = None
            if auth_method != "none":
                secret, digest = digests.digester().issue(digests.CLIENT_SECRET)
                client.secret_digest = digest
            return OAuthApp(
                odoo_http.url, client.client_id, secret, redirect_uris[0], auth_method
            )

    return create


@pytest.fixture
def browser_for(odoo_http, oauth_user):
    """``browser_for()`` -> (Browser logged in as a new MCP user, uid)."""

    def create(**kwargs):
        uid, login, password = oauth_user(**kwargs)
        return Browser(odoo_http.url).login(login, password), uid

    return create


@pytest.fixture
def oauth_token_for(oauth_app, browser_for):
    """``oauth_token_for()`` -> (token response JSON, app, uid) via the full flow."""

    def create(auth_method="none"):
        app = oauth_app(auth_method)
        browser, uid = browser_for()
        return app.tokens_for(browser), app, uid

    return create


@pytest.fixture
def oauth_setting(server_env):
    """``oauth_setting(key, value)``: set ``mcp_server_odoo.<key>`` for one test."""
    saved = {}

    def set_value(key, value):
        with server_env() as env:
            params = env["ir.config_parameter"]
            full = f"mcp_server_odoo.{key}"
            saved.setdefault(full, params.get_param(full))
            params.set_param(full, value)

    yield set_value
    with server_env() as env:
        for full, value in saved.items():
            env["ir.config_parameter"].set_param(full, value or False)
