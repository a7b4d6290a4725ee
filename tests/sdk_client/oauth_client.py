"""The official ``mcp`` SDK's own OAuth client against the real Odoo server.

Run by the python of the client virtualenv, like run_client.py, never imported
by the tests. ``OAuthClientProvider`` does everything a real MCP client does:
it meets the 401 of /mcp, reads both discovery documents, registers itself
(RFC 7591), sends the person to the authorization endpoint with PKCE S256 and
the resource indicator (RFC 8707), redeems the code and retries. The "person"
is :class:`ConsentBrowser`: it follows Odoo's login form and the consent page
over plain HTTP and captures the 303 to the loopback redirect URI, which
nothing listens on.

    MCP_OAUTH_LOGIN=... MCP_OAUTH_PASSWORD=... python oauth_client.py \
        http://127.0.0.1:8069/mcp --call search_records '{"model": ...}' \
        [--refresh] [--wait-for-revocation]

Phases, each ending with one call of the tool:

1. ``first``: the whole flow above, then the call;
2. ``refreshed`` (``--refresh``): the access token is aged inside the SDK
   (the server's shortest lifetime is a minute), so the SDK refreshes it
   with the rotating refresh token before the call;
3. ``revoked`` (``--wait-for-revocation``): prints ``{"ready": ...}`` on
   stdout and waits for a line on stdin (the test revokes the grant in
   between); the SDK's call then meets a 401 and starts authorizing again,
   which the browser refuses, so the call fails.

Prints one JSON report as the last stdout line. Tokens never leave this
process: the report names them by a short SHA-256 fingerprint.
"""

import argparse
import hashlib
import json
import os
import sys
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import anyio
import httpx2
from mcp import types
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from mcp.shared.exceptions import MCPError

CLIENT_INFO = types.Implementation(name="mcp_server_odoo-oauth-tests", version="1")
CLIENT_NAME = "SDK OAuth test client"
# A loopback redirect (RFC 8252 §7.3); the browser stops at the 303 to it.
REDIRECT_URI = "http://127.0.0.1:47219/callback"


class ReauthorizationRefused(Exception):
    """The person declined to authorize again (phase ``revoked``)."""


def fingerprint(value):
    return hashlib.sha256(value.encode()).hexdigest()[:12] if value else None


# -- the person at the browser ---------------------------------------------------


class _FormReader(HTMLParser):
    """The named, non-button inputs of the first form of a page."""

    def __init__(self):
        super().__init__()
        self.forms = 0
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms += 1
        elif tag == "input" and self.forms == 1 and attrs.get("name"):
            if attrs.get("type") not in ("submit", "button"):
                self.fields[attrs["name"]] = attrs.get("value") or ""


def form_fields(text):
    reader = _FormReader()
    reader.feed(text)
    return reader.fields


class ConsentBrowser:
    """Odoo's login page and the consent page, followed as a person would."""

    def __init__(self, login, password, report):
        self.login = login
        self.password = password
        self.report = report
        self.refuse = False
        self.result = None

    async def redirect_handler(self, authorization_url):
        """Called by the SDK with the authorization URL it built."""
        query = {
            k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()
        }
        self.report["authorize_requests"].append(
            {key: query.get(key) for key in ("scope", "resource", "redirect_uri")}
            | {
                "code_challenge_method": query.get("code_challenge_method"),
                "has_code_challenge": bool(query.get("code_challenge")),
                "has_state": bool(query.get("state")),
            }
        )
        if self.refuse:
            raise ReauthorizationRefused("the person declined to authorize again")
        async with httpx2.AsyncClient(follow_redirects=False, timeout=60) as http:
            self.result = await self._consent(http, authorization_url)

    async def callback_handler(self):
        """What the loopback listener would have received."""
        result, self.result = self.result, None
        return result

    async def _consent(self, http, authorization_url):
        # 1. Not logged in yet: the authorization endpoint sends us to Odoo's login.
        response = await http.get(authorization_url)
        login_url = self._location(response, "/web/login")
        # 2. Odoo's own login form: its CSRF token, then login and password.
        page = await http.get(login_url)
        fields = form_fields(page.text)
        fields.update(login=self.login, password=self.password)
        response = await http.post(urljoin(login_url, "/web/login"), data=fields)
        back = self._location(response, "/oauth/authorize")
        # 3. The consent page, then Allow with its own CSRF token.
        page = await http.get(back)
        if page.status_code != 200 or "o_mcp_oauth_consent" not in page.text:
            raise RuntimeError(f"no consent page: HTTP {page.status_code}")
        self.report["consent_page"] = {
            "names_client": CLIENT_NAME in page.text,
            "x_frame_options": page.headers.get("X-Frame-Options"),
        }
        fields = form_fields(page.text)
        fields["decision"] = "allow"
        response = await http.post(urljoin(back, "/oauth/authorize"), data=fields)
        # 4. The 303 to the loopback redirect URI carries code, state and iss.
        target = self._location(response, urlsplit(REDIRECT_URI).path)
        if not target.startswith(REDIRECT_URI + "?"):
            raise RuntimeError("the authorization response went elsewhere")
        query = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
        issuer = urljoin(authorization_url, "/").rstrip("/")
        self.report["authorization_response"] = {
            "keys": sorted(query),
            "iss_is_issuer": query.get("iss") == issuer,
        }
        if query.get("iss") != issuer:
            raise RuntimeError(f"unexpected iss {query.get('iss')!r}")
        return AuthorizationCodeResult(
            code=query["code"], state=query.get("state"), iss=query.get("iss")
        )

    @staticmethod
    def _location(response, expected_path):
        if response.status_code not in (302, 303):
            raise RuntimeError(
                f"expected a redirect to {expected_path}, got HTTP "
                f"{response.status_code} from {response.request.url.path}"
            )
        location = urljoin(str(response.request.url), response.headers["Location"])
        if urlsplit(location).path != expected_path:
            raise RuntimeError(f"redirected to {urlsplit(location).path}")
        return location


# -- token storage: in memory, observed ------------------------------------------


class MemoryStorage:
    def __init__(self, report):
        self.report = report
        self.tokens = None
        self.client_info = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.report["tokens_issued"].append(
            {
                "access": fingerprint(tokens.access_token),
                "refresh": fingerprint(tokens.refresh_token),
                "scope": tokens.scope,
                "expires_in": tokens.expires_in,
            }
        )

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info
        self.report["client"] = {
            "client_id": client_info.client_id,
            "token_endpoint_auth_method": client_info.token_endpoint_auth_method,
            "has_secret": client_info.client_secret is not None,
        }


# -- the run ----------------------------------------------------------------------


def _describe(exc):
    if isinstance(exc, MCPError):
        return f"MCPError {exc.code}: {exc.message}"
    if isinstance(getattr(exc, "exceptions", None), tuple):  # an ExceptionGroup
        return "; ".join(_describe(inner) for inner in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


async def _call(session, phase, name, arguments, report):
    outcome = {"phase": phase, "isError": None, "structuredContent": None}
    report["calls"].append(outcome)
    result = await session.call_tool(name, arguments)
    dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
    outcome.update(
        isError=bool(result.is_error),
        structuredContent=dumped.get("structuredContent"),
    )


def _http_log(report, phase_of):
    async def on_response(response):
        request = response.request
        report["http"].append(
            {
                "phase": phase_of(),
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
            }
        )

    return {"response": [on_response]}


async def _wait_for_go():
    line = await anyio.to_thread.run_sync(sys.stdin.readline)
    if line.strip() != "go":
        raise RuntimeError("the test did not say go")


async def _run(args, report):
    browser = ConsentBrowser(
        os.environ["MCP_OAUTH_LOGIN"], os.environ["MCP_OAUTH_PASSWORD"], report
    )
    storage = MemoryStorage(report)
    provider = OAuthClientProvider(
        server_url=args.url,
        client_metadata=OAuthClientMetadata(
            client_name=CLIENT_NAME,
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )
    phase = ["first"]
    name, arguments = args.call[0], json.loads(args.call[1])
    async with (
        httpx2.AsyncClient(
            auth=provider,
            timeout=httpx2.Timeout(args.timeout),
            event_hooks=_http_log(report, lambda: phase[0]),
        ) as http,
        streamable_http_client(args.url, http_client=http) as (read, write),
        ClientSession(
            read, write, client_info=CLIENT_INFO, read_timeout_seconds=args.timeout
        ) as session,
    ):
        await session.initialize()
        await _call(session, "first", name, arguments, report)

        if args.refresh:
            phase[0] = "refreshed"
            # Age the access token in the SDK; its next request refreshes first.
            provider.context.token_expiry_time = time.time() - 1
            await _call(session, "refreshed", name, arguments, report)

        if args.wait_for_revocation:
            print(json.dumps({"ready": report["client"]}), flush=True)
            await _wait_for_go()
            phase[0] = "revoked"
            browser.refuse = True
            await _call(session, "revoked", name, arguments, report)


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--call", nargs=2, required=True, metavar=("NAME", "JSON"))
    parser.add_argument("--refresh", action="store_true")
    parser.add_argument("--wait-for-revocation", action="store_true")
    parser.add_argument("--timeout", type=float, default=60.0)
    return parser.parse_args(argv)


def main(argv=None):
    args = _parse_args(argv)
    report = {
        "client": None,
        "authorize_requests": [],
        "consent_page": None,
        "authorization_response": None,
        "tokens_issued": [],
        "calls": [],
        "http": [],
        "failure": None,
    }
    try:
        anyio.run(_run, args, report)
    except BaseException as exc:  # noqa: BLE001 -- reported for the test to judge
        if isinstance(exc, KeyboardInterrupt):
            raise
        report["failure"] = _describe(exc)
    print(json.dumps(report), flush=True)
    return 1 if report["failure"] else 0


if __name__ == "__main__":
    sys.exit(main())
