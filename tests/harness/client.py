"""A small MCP client over real HTTP, for tests that need exact control of the wire.

The official SDK is used elsewhere (tests/test_sdk_client.py); this one lets a
test choose every header, the protocol version and malformed bodies.
"""

import itertools
import json

import requests

LEGACY = "2025-11-25"
MODERN = "2026-07-28"
_ids = itertools.count(1)


class McpHttpClient:
    def __init__(self, base_url, token=None, *, version=LEGACY):
        self.base_url = base_url
        self.url = f"{base_url}/mcp"
        self.token = token
        self.version = version
        self.session = requests.Session()

    # -- raw -----------------------------------------------------------------

    def headers(self, *, token=..., version=..., extra=None):
        token = self.token if token is ... else token
        version = self.version if version is ... else version
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if version:
            headers["MCP-Protocol-Version"] = version
        headers.update(extra or {})
        return headers

    def post(self, body, *, headers=None, **header_options):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.session.post(
            self.url,
            data=data,
            headers=headers if headers is not None else self.headers(**header_options),
            timeout=60,
        )

    # -- messages ------------------------------------------------------------

    def message(self, method, params=None, *, version=..., notification=False):
        version = self.version if version is ... else version
        params = dict(params or {})
        if version == MODERN:
            params.setdefault(
                "_meta",
                {
                    "io.modelcontextprotocol/protocolVersion": MODERN,
                    "io.modelcontextprotocol/clientCapabilities": {},
                    "io.modelcontextprotocol/clientInfo": {
                        "name": "tests",
                        "version": "1",
                    },
                },
            )
        body = {"jsonrpc": "2.0", "method": method, "params": params}
        if not notification:
            body["id"] = next(_ids)
        return body

    def routing_headers(self, body, version=...):
        version = self.version if version is ... else version
        if version != MODERN:
            return {}
        extra = {"Mcp-Method": body["method"]}
        if body["method"] == "tools/call":
            extra["Mcp-Name"] = body["params"]["name"]
        return extra

    def send(self, method, params=None, *, version=..., token=..., extra_headers=None):
        """POST one request with correct headers; the requests.Response."""
        body = self.message(method, params, version=version)
        extra = {**self.routing_headers(body, version), **(extra_headers or {})}
        return self.post(body, token=token, version=version, extra=extra)

    def rpc(self, method, params=None, **options):
        """Send a request and return its ``result``; fail loudly on an error."""
        response = self.send(method, params, **options)
        payload = response.json()
        if response.status_code != 200 or "error" in payload:
            raise AssertionError(
                f"{method} failed: HTTP {response.status_code} {payload}"
            )
        return payload["result"]

    def initialize(self, protocol_version=LEGACY):
        result = self.rpc(
            "initialize",
            {
                "protocolVersion": protocol_version,
                "capabilities": {},
                "clientInfo": {"name": "tests", "version": "1"},
            },
            version=None,
        )
        self.version = result["protocolVersion"]
        note = self.post(self.message("notifications/initialized", notification=True))
        assert note.status_code == 202, note.text
        return result

    def list_tools(self, **options):
        tools, cursor = [], None
        while True:
            result = self.rpc(
                "tools/list", {"cursor": cursor} if cursor else {}, **options
            )
            tools += result["tools"]
            cursor = result.get("nextCursor")
            if not cursor:
                return tools

    def call_tool(self, name, arguments=None, **options):
        """The CallToolResult (possibly with isError)."""
        return self.rpc(
            "tools/call", {"name": name, "arguments": arguments or {}}, **options
        )

    def call_ok(self, name, arguments=None, **options):
        """The structuredContent of a successful call; fail on isError."""
        result = self.call_tool(name, arguments, **options)
        if result.get("isError"):
            raise AssertionError(f"{name} returned an error: {result['content']}")
        return result["structuredContent"]
