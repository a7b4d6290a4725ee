"""OTLP export of the chain's spans, configured only by the standard variables.

Nothing is exported unless the operator sets one of the OpenTelemetry
variables that name an exporter (``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_TRACES_EXPORTER=otlp``).
Endpoint, headers, timeout and batching then come from the same variables,
read by the OpenTelemetry SDK itself. A tracer provider installed by someone
else (another addon, a test) is left alone.
"""

import logging
import os
import threading

from opentelemetry import trace

_logger = logging.getLogger(__name__)

ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)
DEFAULT_SERVICE_NAME = "odoo-mcp-server"
_lock = threading.Lock()
_state = {"provider": None}


def wanted(environ=None):
    """True when the environment asks for OTLP trace export."""
    environ = os.environ if environ is None else environ
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none" or environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if exporter and exporter != "otlp":
        _logger.warning("OTEL_TRACES_EXPORTER=%s is not supported; only otlp", exporter)
        return False
    return exporter == "otlp" or any(environ.get(name) for name in ENDPOINT_VARIABLES)


def setup(environ=None):
    """Install an SDK provider exporting over OTLP/HTTP, once per process.

    Returns the provider installed, or None when export is not wanted or a
    provider was already there.
    """
    if not wanted(environ):
        return None
    with _lock:
        if _state["provider"] is not None:
            return _state["provider"]
        # Imported here so that a server without export never loads them.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource  # noqa: PLC0415
        from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

        if isinstance(trace.get_tracer_provider(), TracerProvider):
            return None
        service = os.environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
        # The batch processor restarts its thread in each forked worker.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        _state["provider"] = provider
        _logger.info("MCP tracing: OTLP export of spans as service %s", service)
        return provider
