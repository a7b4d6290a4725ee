"""The chain in-process: its order, its spans, its extension points."""

import json

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from odoo.addons.mcp_server_odoo.chain import AuthResult, Chain, Context, Step
from odoo.addons.mcp_server_odoo.chain import policy as policy_step
from odoo.addons.mcp_server_odoo.protocol import transport
from odoo.addons.mcp_server_odoo.protocol.errors import McpError
from odoo.addons.mcp_server_odoo.tools import ToolRegistry, tool

SECRET = "sk-live-0123456789abcdefSECRET"


@pytest.fixture(scope="session")
def span_exporter():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


@pytest.fixture
def mcp(odoo_env, span_exporter):
    """``mcp(body, uid=None, headers=None)`` -> (ctx, result) through the chain."""

    span_exporter.clear()

    def handle(body, uid=None, headers=None, error=None):
        accepted = transport.accept(
            json.dumps(body).encode(),
            {"mcp-protocol-version": "2025-11-25", **(headers or {})},
        )
        auth = AuthResult(uid=uid, kind="api_key" if uid else None, error=error)
        return odoo_env["mcp.server"]._mcp_handle(
            accepted, auth, remote_addr="127.0.0.9"
        )

    return handle


def _spans(exporter):
    return {span.name: span for span in exporter.get_finished_spans()}


def test_chain_runs_tracing_then_authentication_then_dispatch(odoo_env):
    chain, _tools = odoo_env["mcp.server"]._mcp_assembled()
    assert chain.names == [
        "tracing",
        "audit",
        "rate_limit_ip",
        "authentication",
        "rate_limit",
        "policy",
        "dispatch",
    ]


def test_a_tool_call_makes_one_server_span_named_after_the_tool(
    mcp, odoo_env, span_exporter
):
    admin = odoo_env.ref("base.user_admin")
    _ctx, result = mcp(
        {
            "jsonrpc": "2.0",
            "id": "r-1",
            "method": "tools/call",
            "params": {"name": "list_models", "arguments": {"query": SECRET}},
        },
        uid=admin.id,
    )
    assert result["isError"] is False
    spans = _spans(span_exporter)
    server = spans["tools/call list_models"]
    assert server.kind is SpanKind.SERVER
    assert server.attributes["mcp.method.name"] == "tools/call"
    assert server.attributes["gen_ai.tool.name"] == "list_models"
    assert server.attributes["gen_ai.operation.name"] == "execute_tool"
    assert server.attributes["jsonrpc.request.id"] == "r-1"
    assert server.attributes["mcp.protocol.version"] == "2025-11-25"
    # Each inner step has its span, all in the message's trace.
    for name in ("mcp.authentication", "mcp.dispatch"):
        assert spans[name].context.trace_id == server.context.trace_id
    # Steps nest in chain order, the outermost inner step under the SERVER span.
    by_id = {span.context.span_id: span for span in spans.values()}
    ancestor = spans["mcp.authentication"]
    while ancestor.parent is not None and ancestor.kind is not SpanKind.SERVER:
        ancestor = by_id[ancestor.parent.span_id]
    assert ancestor is server


def test_spans_never_carry_arguments_or_results(mcp, odoo_env, span_exporter):
    admin = odoo_env.ref("base.user_admin")
    mcp(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "list_models", "arguments": {"query": SECRET}},
        },
        uid=admin.id,
    )
    for span in span_exporter.get_finished_spans():
        flat = json.dumps(
            {
                **span.attributes,
                "name": span.name,
                "events": [e.name for e in span.events],
            },
            default=str,
        )
        assert SECRET not in flat
        assert "res.partner" not in flat


def test_the_deny_path_is_marked_as_an_error(mcp, span_exporter):

    with pytest.raises(McpError) as refused:
        mcp({"jsonrpc": "2.0", "id": 3, "method": "tools/list"})
    assert refused.value.status == 401
    server = _spans(span_exporter)["tools/list"]
    assert server.status.status_code is StatusCode.ERROR
    assert server.attributes["error.type"] == "-32001"


def test_a_tool_error_marks_the_span_with_its_class(mcp, odoo_env, span_exporter):
    admin = odoo_env.ref("base.user_admin")
    _ctx, result = mcp(
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {
                "name": "describe_model",
                "arguments": {"model": "no.such.model"},
            },
        },
        uid=admin.id,
    )
    assert result["isError"] is True
    spans = _spans(span_exporter)
    server = spans["tools/call describe_model"]
    assert server.status.status_code is StatusCode.ERROR
    assert server.attributes["error.type"] == "tool_error"
    # The step that answered with the error is marked, the ones around it not.
    assert spans["mcp.dispatch"].attributes["error.type"] == "tool_error"
    assert spans["mcp.policy"].status.status_code is not StatusCode.ERROR
    assert spans["mcp.audit"].status.status_code is not StatusCode.ERROR


def test_w3c_trace_context_from_meta_becomes_the_parent(mcp, odoo_env, span_exporter):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    parent = "00f067aa0ba902b7"
    ctx, _result = mcp(
        {
            "jsonrpc": "2.0",
            "id": 5,
            "method": "ping",
            "params": {"_meta": {"traceparent": f"00-{trace_id}-{parent}-01"}},
        },
        uid=odoo_env.ref("base.user_admin").id,
    )
    server = _spans(span_exporter)["ping"]
    assert trace.format_trace_id(server.context.trace_id) == trace_id
    assert trace.format_span_id(server.parent.span_id) == parent
    assert ctx.trace_id == trace_id


def test_the_tool_runs_as_the_authenticated_user(mcp, make_user):
    user = make_user(groups=("base.group_user",))
    ctx, _result = mcp(
        {
            "jsonrpc": "2.0",
            "id": 6,
            "method": "tools/call",
            "params": {"name": "list_models", "arguments": {"limit": 1}},
        },
        uid=user.id,
    )
    assert ctx.env.uid == user.id
    assert not ctx.env.su


def test_duplicate_tool_names_fail_when_the_registry_is_built():

    @tool("twin", title="T", description="d", input_schema={}, output_schema={})
    def one(env, arguments):
        return {}

    with pytest.raises(ValueError, match="duplicate MCP tool name: 'twin'"):
        ToolRegistry([[one], [one]])


def test_duplicate_chain_steps_fail_when_the_chain_is_built():

    with pytest.raises(ValueError, match="duplicate MCP chain steps"):
        Chain([Step("audit", 20, None), Step("audit", 21, None)])


def test_another_addon_can_add_a_step_and_a_tool_family(odoo_env):
    """The hooks' contract, in-process: what they return is what runs.

    tests/test_extension_points.py installs a real addon that uses them.
    """

    @tool(
        "echo",
        title="Echo",
        description="Echo",
        input_schema={"properties": {"text": {"type": "string"}}},
        output_schema={},
    )
    def echo(env, arguments):
        return {"echo": arguments["text"], "uid": env.uid}

    server = odoo_env["mcp.server"]
    seen = []

    def probe(ctx, call_next):
        seen.append((ctx.method, ctx.env.uid))
        return call_next(ctx)

    chain = Chain([*server._mcp_chain_steps(), Step("probe", 45, probe)])
    assert chain.names == [
        "tracing",
        "audit",
        "rate_limit_ip",
        "authentication",
        "rate_limit",
        "probe",
        "policy",
        "dispatch",
    ]
    ours = [item.name for family in server._mcp_tool_families() for item in family]
    registry = ToolRegistry([*server._mcp_tool_families(), [echo]])
    assert registry.names() == [*ours, "echo"]
    assert registry.get("echo") is echo

    admin = odoo_env.ref("base.user_admin")
    accepted = transport.accept(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": "hi"}},
            }
        ).encode(),
        {"mcp-protocol-version": "2025-11-25"},
    )
    result = chain(
        Context(
            message=accepted.message,
            protocol_version=accepted.protocol_version,
            auth=AuthResult(uid=admin.id, kind="api_key"),
            cr=odoo_env.cr,
            remote_addr="127.0.0.9",
            tools=registry,
            settings=server._mcp_settings(),
        )
    )
    assert result["structuredContent"] == {"echo": "hi", "uid": admin.id}
    assert seen == [("tools/call", admin.id)]


def test_a_policy_denial_marks_the_policy_span(mcp, odoo_env, span_exporter):
    odoo_env["mcp.policy"].create(
        {"name": "spans", "policy_text": "p, *, *, res.partner, *, *, deny, *"}
    ).action_activate()
    odoo_env["ir.config_parameter"].set_param(policy_step.ENABLED_PARAM, "True")
    policy_step.clear_engines()
    try:
        _ctx, result = mcp(
            {
                "jsonrpc": "2.0",
                "id": 5,
                "method": "tools/call",
                "params": {
                    "name": "search_records",
                    "arguments": {"model": "res.partner"},
                },
            },
            uid=odoo_env.ref("base.user_admin").id,
        )
    finally:
        policy_step.clear_engines()
    assert result["isError"] is True
    spans = _spans(span_exporter)
    assert spans["mcp.policy"].attributes["error.type"] == "policy_denied"
    assert "mcp.dispatch" not in spans
    server = spans["tools/call search_records"]
    assert server.attributes["error.type"] == "policy_denied"
