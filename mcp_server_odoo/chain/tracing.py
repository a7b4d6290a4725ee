"""The outermost step: one OpenTelemetry SERVER span per MCP message.

Spans follow the OpenTelemetry semantic conventions for MCP: named
``"{mcp.method.name} {target}"``, attributed with the method, the protocol
version, the JSON-RPC request id and, for ``tools/call``, the tool name. No
argument, result or credential is ever put on a span. When no tracer provider
is configured the API hands out non-recording spans and this step costs next
to nothing; the trace id the client sees in errors is then a random one.
"""

import secrets

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ..protocol.errors import McpError
from .redaction import mask_optional

TRACER_NAME = "odoo.addons.mcp_server_odoo"


_tracer = [(None, None)]  # (provider, its tracer), replaced as one tuple


def tracer():
    # Kept per provider, so that a provider installed later (tests, an OTLP
    # exporter configured at start-up) is honoured, without asking the
    # provider for a new tracer on each of a message's spans.
    provider = trace.get_tracer_provider()
    known, cached = _tracer[0]
    if known is not provider:
        cached = provider.get_tracer(TRACER_NAME)
        _tracer[0] = (provider, cached)
    return cached


def _parent_context(ctx):
    """W3C trace context from ``params._meta`` (traceparent/tracestate), if sent."""
    meta = ctx.message.params.get("_meta")
    if not isinstance(meta, dict):
        return otel_context.Context()
    carrier = {
        key: meta[key]
        for key in ("traceparent", "tracestate")
        if isinstance(meta.get(key), str)
    }
    return propagate.extract(carrier) if carrier else otel_context.Context()


def _names(ctx):
    # Method and tool names come from the client, unknown ones too: masked like
    # the audit log masks them, so that a name cannot carry a secret to a span.
    return mask_optional(ctx.method), mask_optional(ctx.target)


def _attributes(ctx):
    method, target = _names(ctx)
    attributes = {
        "mcp.method.name": method,
        "mcp.protocol.version": ctx.protocol_version,
        "jsonrpc.protocol.version": "2.0",
        "network.transport": "tcp",
        "network.protocol.name": "http",
    }
    if not ctx.message.is_notification:
        # The id is the client's too: masked like the audit log masks it.
        attributes["jsonrpc.request.id"] = mask_optional(ctx.message.id)
    if ctx.remote_addr:
        attributes["client.address"] = ctx.remote_addr
    if target:
        attributes["gen_ai.tool.name"] = target
        attributes["gen_ai.operation.name"] = "execute_tool"
    return attributes


def _mark_error(span, error_type, description=None):
    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR, description))


def tracing(ctx, call_next):
    method, target = _names(ctx)
    name = f"{method} {target}" if target else method
    with tracer().start_as_current_span(
        name,
        context=_parent_context(ctx),
        kind=SpanKind.SERVER,
        attributes=_attributes(ctx),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        span_context = span.get_span_context()
        ctx.trace_id = (
            trace.format_trace_id(span_context.trace_id)
            if span_context.is_valid
            else secrets.token_hex(16)
        )
        try:
            result = call_next(ctx)
        except McpError as exc:
            _mark_error(span, str(exc.code), exc.message.split(":")[0])
            raise
        except Exception as exc:
            _mark_error(span, type(exc).__qualname__)
            raise
        if ctx.error_type:
            _mark_error(span, ctx.error_type)
        return result


def traced_step(step_name, func):
    """Wrap an inner chain step in a child span named ``mcp.<step>``."""

    def wrapper(ctx, call_next):
        if not trace.get_current_span().is_recording():
            # No SDK provider (no exporter configured): nothing to record.
            return func(ctx, call_next)
        with tracer().start_as_current_span(
            f"mcp.{step_name}",
            kind=SpanKind.INTERNAL,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            inner = []

            def record_inner(next_ctx):
                try:
                    return call_next(next_ctx)
                finally:
                    inner.append(next_ctx.error_type)

            try:
                result = func(ctx, record_inner)
            except McpError as exc:
                _mark_error(span, str(exc.code))
                raise
            except Exception as exc:
                _mark_error(span, type(exc).__qualname__)
                raise
            # A refusal answered as a result (a policy deny, a tool error) marks
            # the span of the step that gave it, not the steps around it.
            if ctx.error_type and (not inner or inner[0] != ctx.error_type):
                _mark_error(span, ctx.error_type)
            return result

    return wrapper
