"""The official MCP conformance suite (@modelcontextprotocol/conformance) against /mcp.

The suite and the Node 22 it needs are installed by .ci/bootstrap-node. Its
server mode takes a URL and nothing else: it cannot send an Authorization
header, and /mcp answers 401 without one. So the suite talks to a small
forwarding proxy on the loopback interface that adds the admin's bearer token
and passes everything else through unchanged, Host and Origin included, so that
the DNS-rebinding scenario still tests the server's own Origin check.
"""

import http.client
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = ("server-initialize", "ping", "tools-list", "dns-rebinding-protection")
ORIGINS_PARAM = "mcp_server_odoo.allowed_origins"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
# RFC 9110 §7.6.1: connection-specific fields a proxy does not forward.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


# -- the suite -------------------------------------------------------------------------


def _node_dir():
    cache = os.environ.get("MCP_CACHE_DIR", str(Path.home() / ".cache/mcp_server_odoo"))
    return Path(cache) / "node"


@pytest.fixture(scope="module")
def conformance_command():
    """``[node, suite]``, installed (or found up to date) by .ci/bootstrap-node."""
    done = subprocess.run(
        ["bash", str(REPO / ".ci" / "bootstrap-node")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f".ci/bootstrap-node failed:\n{done.stderr[-4000:]}"
    modules = _node_dir() / "node_modules"
    return [
        str(modules / "node" / "bin" / "node"),
        str(modules / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"),
    ]


# -- the proxy that adds the bearer token ----------------------------------------------


def _read_body(handler):
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while size := int(handler.rfile.readline().split(b";")[0], 16):
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailer fields
        return b"".join(chunks)
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


def _proxy_handler(upstream, token):
    target = urlsplit(upstream)

    class BearerProxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self):
            body = _read_body(self) if self.command not in ("GET", "HEAD") else None
            headers = {
                key: value
                for key, value in self.headers.items()
                if key.lower() not in HOP_BY_HOP | {"authorization"}
            }
            headers["Authorization"] = f"Bearer {token}"
            upstream_conn = http.client.HTTPConnection(
                target.hostname, target.port, timeout=60
            )
            try:
                # The Host header sent by the suite goes through as it is.
                upstream_conn.request(
                    self.command, self.path, body=body, headers=headers
                )
                response = upstream_conn.getresponse()
                payload = response.read()
            finally:
                upstream_conn.close()
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = do_OPTIONS = _forward

        def log_message(self, *_args):
            pass

    return BearerProxy


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # The suite's client drops connections it is done with; that is no error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def bearer_proxy(odoo_http, admin_token):
    """The /mcp URL of a loopback proxy to ``odoo_http`` that adds the admin token."""
    proxy = _QuietServer(("127.0.0.1", 0), _proxy_handler(odoo_http.url, admin_token))
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{proxy.server_address[1]}/mcp"
    proxy.shutdown()
    proxy.server_close()


@pytest.fixture(scope="module")
def proxy_origin_allowed(server_env, bearer_proxy):
    """Allow the proxy's own origin, as a deployment allows the origin it serves."""
    parts = urlsplit(bearer_proxy)
    origin = f"{parts.scheme}://{parts.netloc}"
    with server_env() as env:
        params = env["ir.config_parameter"]
        before = params.get_param(ORIGINS_PARAM) or ""
        params.set_param(ORIGINS_PARAM, ",".join(filter(None, [before, origin])))
    yield origin
    with server_env() as env:
        env["ir.config_parameter"].set_param(ORIGINS_PARAM, before)


# -- running the scenarios -------------------------------------------------------------


@pytest.fixture(scope="module")
def conformance_results(
    conformance_command, bearer_proxy, proxy_origin_allowed, tmp_path_factory
):
    """Every scenario, run at once: {scenario: (exit status, output, checks)}."""
    out = tmp_path_factory.mktemp("conformance")
    running = {
        scenario: subprocess.Popen(
            [
                *conformance_command,
                "server",
                "--url",
                bearer_proxy,
                "--scenario",
                scenario,
                "--output-dir",
                str(out / scenario),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for scenario in SCENARIOS
    }
    results = {}
    for scenario, process in running.items():
        try:
            output, _ = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            output = process.communicate()[0] + "\n[timed out after 120 s]"
        found = sorted((out / scenario).glob("*/checks.json"))
        checks = json.loads(found[-1].read_text()) if found else []
        results[scenario] = (process.returncode, ANSI_ESCAPE.sub("", output), checks)
    return results


def _explain(scenario, status, output, checks):
    failed = [check for check in checks if check.get("status") == "FAILURE"]
    lines = [f"conformance scenario {scenario!r} failed (exit {status})"]
    for check in failed:
        lines.append(f"  [{check['id']}] {check.get('errorMessage', '')}")
        if check.get("details"):
            lines.append(f"    details: {json.dumps(check['details'])[:1500]}")
    lines.append("suite output:\n" + output[-4000:])
    return "\n".join(lines)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_conformance_scenario_passes(conformance_results, scenario):
    status, output, checks = conformance_results[scenario]
    failed = [check for check in checks if check.get("status") == "FAILURE"]
    assert status == 0 and checks and not failed, _explain(
        scenario, status, output, checks
    )
    assert any(check["status"] == "SUCCESS" for check in checks)


def test_a_foreign_origin_passes_the_proxy_and_gets_403(conformance_results):
    # The rebinding scenario's foreign origin must reach the server as sent.
    _status, _output, checks = conformance_results["dns-rebinding-protection"]
    rejected = next(c for c in checks if c["id"] == "localhost-host-rebinding-rejected")
    assert rejected["details"]["statusCode"] == 403
    assert rejected["details"]["body"]["error"]["code"] == -32003
