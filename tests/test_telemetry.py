"""OTLP export: on only when an OTEL_* variable asks for it, and then it works."""

import http.server
import threading
import time

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

from odoo.addons.mcp_server_odoo import telemetry

from tests.harness import odoo_server
from tests.harness.client import McpHttpClient
from tests.harness.fixtures import _close_registry, _registry, api_key_for


@pytest.mark.parametrize(
    "environ, wanted",
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "x", "OTEL_RESOURCE_ATTRIBUTES": "a=b"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"}, False),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, False),
    ],
)
def test_export_is_wanted_only_when_a_variable_names_it(environ, wanted):
    assert telemetry.wanted(environ) is wanted


def test_without_variables_nothing_is_installed():
    assert telemetry.setup({}) is None


class _Collector(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.received.append((self.path, span.name))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def collector():
    _Collector.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Collector.received
    server.shutdown()


def test_spans_reach_the_collector_named_by_otel_exporter_otlp_endpoint(
    template_db, run_dir, collector, monkeypatch
):
    endpoint, received = collector
    name = odoo_server.db_name("otel")
    odoo_server.copy_database(template_db, name)
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    registry = _registry(name)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        token = api_key_for(env, env.ref("base.user_admin"))
    _close_registry(name)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "200")
    server = odoo_server.OdooServer(name, run_dir / "otel.log")
    try:
        client = McpHttpClient(server.url, token)
        client.call_tool("list_models", {"limit": 1})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            span == "tools/call list_models" for _path, span in received
        ):
            time.sleep(0.2)
    finally:
        server.stop()
        odoo_server.drop_database(name)
    names = {span for _path, span in received}
    assert "tools/call list_models" in names, received
    assert {"mcp.authentication", "mcp.dispatch"} <= names
    assert {path for path, _span in received} == {"/v1/traces"}
