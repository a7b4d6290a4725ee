"""The innermost step: route the method, validate arguments, run the tool.

Tool failures become ``CallToolResult`` values with ``isError`` (the model can
read them and try again); protocol failures (unknown method, unknown tool, bad
params) become JSON-RPC errors. Nothing an exception says internally reaches
the client: unexpected errors are logged here with the trace id, and the
client gets that trace id.
"""

import base64
import binascii
import json
import logging

import psycopg2
from psycopg2.extensions import TRANSACTION_STATUS_INERROR

from odoo.exceptions import AccessDenied, AccessError, MissingError, UserError

from ..protocol import errors, versions
from ..tools import AccessRefused, ToolError, ToolResult, as_result, error_result
from . import redaction

_logger = logging.getLogger(__name__)

SERVER_NAME = "mcp_server_odoo"
INSTRUCTIONS = (
    "Tools of an Odoo database. Every call runs as the Odoo user who granted "
    "access: Odoo's access rights, record rules and companies decide what is "
    "visible. Start with list_models and describe_model to learn model and "
    "field names, then search_records or get_record."
)


def server_info(ctx):
    return {
        "name": SERVER_NAME,
        "title": "Odoo MCP server",
        "version": ctx.settings.version,
    }


def _capabilities():
    return {"tools": {"listChanged": False}}


def _initialize(ctx):
    requested = ctx.message.params.get("protocolVersion")
    if not isinstance(requested, str):
        raise errors.invalid_params('"protocolVersion" must be a string')
    return {
        "protocolVersion": versions.negotiate_initialize(requested),
        "capabilities": _capabilities(),
        "serverInfo": server_info(ctx),
        "instructions": INSTRUCTIONS,
    }


def _discover(ctx):
    return {
        "supportedVersions": list(versions.SUPPORTED_VERSIONS),
        "capabilities": _capabilities(),
        "instructions": INSTRUCTIONS,
        "ttlMs": 0,
        "cacheScope": "public",
    }


def _ping(ctx):
    return {}


def _decode_cursor(cursor):
    if cursor is None:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error, AttributeError):
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise errors.invalid_params("the cursor is not one this server issued")
    return offset


def _encode_cursor(offset):
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _list_tools(ctx):
    offset = _decode_cursor(ctx.message.params.get("cursor"))
    page, more = ctx.tools.page(offset, ctx.settings.tools_page_size)
    result = {"tools": [item.definition() for item in page]}
    if more:
        result["nextCursor"] = _encode_cursor(offset + len(page))
    if ctx.modern:
        # The list is the same for every caller and changes only on upgrade.
        result.update(ttlMs=60_000, cacheScope="public")
    return result


def _call_tool(ctx):
    params = ctx.message.params
    name = params.get("name")
    if not isinstance(name, str):
        raise errors.invalid_params('"name" must be the name of a tool')
    item = ctx.tools.get(name)
    if item is None:
        raise errors.invalid_params(f"Unknown tool: {name}")
    arguments = params.get("arguments", {})
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise errors.invalid_params('"arguments" must be an object')
    problem = ctx.tools.validation_error(name, arguments)
    if problem:
        ctx.error_type = "invalid_arguments"
        return error_result(problem)
    return _run_tool(ctx, item, arguments)


def _missing_groups(env, item):
    return [xmlid for xmlid in item.groups if not env.user.has_group(xmlid)]


# Failures whose message is written for the end user, and may be shown as-is:
# (exception classes, error type for spans and audit, prefix of the message).
USER_FACING_FAILURES = (
    (AccessRefused, "access_denied", None),
    (ToolError, "tool_error", None),
    ((AccessError, AccessDenied), "access_denied", "Access denied"),
    (MissingError, "missing_record", None),
    (UserError, "user_error", None),
)


def _describe_failure(ctx, item, exc):
    """(error type, client message) for an exception raised by a tool."""
    for classes, error_type, prefix in USER_FACING_FAILURES:
        if isinstance(exc, classes):
            text = str(exc.args[0]) if exc.args else error_type.replace("_", " ")
            return error_type, f"{prefix}: {text}" if prefix else text
    if isinstance(exc, psycopg2.Error):
        _logger.warning(
            "MCP tool %s FAIL database error %s (trace %s)",
            item.name,
            exc.pgcode,
            ctx.trace_id,
        )
        return "database_error", (
            f"The database refused the operation (trace id {ctx.trace_id})"
        )
    _logger.exception(
        "MCP tool %s FAIL internal error (trace %s)", item.name, ctx.trace_id
    )
    return "internal_error", (
        f"Internal error in {item.name}; the server log has the details under "
        f"trace id {ctx.trace_id}"
    )


def _guarded(env, item, arguments):
    """Run the handler so that a failure leaves the transaction usable.

    A tool that writes runs in a savepoint, rolled back when it fails. A
    read-only tool changes nothing it would have to undo (its contract: it may
    add bookkeeping only as its last step, as export_dataset does), so it runs
    without one, which spares two round trips on every read; only when the
    database refused one of its statements is the transaction, which
    PostgreSQL has then aborted, rolled back.
    """
    if not item.read_only:
        with env.cr.savepoint():
            return item.handler(env, arguments)
    try:
        return item.handler(env, arguments)
    except Exception:
        if env.cr._cnx.info.transaction_status == TRANSACTION_STATUS_INERROR:
            env.cr.rollback()
        raise


def _changed_data(arguments, structured):
    """Whether a write tool's successful call changed anything.

    A dry run reports what would change and changes nothing; a replayed
    idempotent call returns the first result and changes nothing either; a
    batch that reports its items one by one (continue_on_error) changed data
    only if one of them succeeded.
    """
    if arguments.get("dry_run") or structured.get("replayed"):
        return False
    results = structured.get("results")
    if isinstance(results, list) and results:
        return any(isinstance(r, dict) and r.get("ok") for r in results)
    return True


def _run_tool(ctx, item, arguments):
    env = ctx.env
    missing = _missing_groups(env, item)
    if missing:
        ctx.error_type = "access_denied"
        ctx.decision, ctx.rule = "deny", "mcp:tool_groups"
        return error_result(
            f"Access denied: {item.name} requires the group(s) {', '.join(missing)}"
        )
    ctx.targets = item.audit_targets(arguments)
    try:
        structured = _guarded(env, item, arguments)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a tool result
        ctx.error_type, message = _describe_failure(ctx, item, exc)
        if ctx.error_type == "access_denied":
            # Odoo decided: the audit records the denial and what refused it.
            ctx.decision, ctx.rule = "deny", getattr(exc, "rule", "odoo:access")
        return error_result(message)
    ctx.targets = item.audit_targets(arguments, structured)
    ctx.changed = not item.read_only and _changed_data(arguments, structured)
    # One serialisation of the result: its canonical JSON is the text block and
    # the response body, and its shape (names, sizes, digests) the audit's.
    plain = dict(structured) if isinstance(structured, ToolResult) else structured
    ctx.result_shape, text = redaction.shape_and_text(plain, key=ctx.digest_key)
    return as_result(structured, text=text)


LEGACY_METHODS = {
    "initialize": _initialize,
    "ping": _ping,
    "tools/list": _list_tools,
    "tools/call": _call_tool,
}
MODERN_METHODS = {
    "server/discover": _discover,
    "tools/list": _list_tools,
    "tools/call": _call_tool,
}


def dispatch(ctx):
    """Answer the message: a result dict, or None for a notification."""
    message = ctx.message
    if message.is_notification:
        # notifications/initialized, notifications/cancelled and the like:
        # accepted (202) and nothing to do, as this server keeps no session.
        return None
    if ctx.modern:
        handler = MODERN_METHODS.get(message.method)
        if handler is None:
            raise errors.method_not_found(message.method, status=404)
    else:
        handler = LEGACY_METHODS.get(message.method)
        if handler is None:
            raise errors.method_not_found(message.method)
    result = handler(ctx)
    if ctx.modern:
        # In place: a CallToolResult keeps its serialised structured value.
        result["resultType"] = "complete"
        result.setdefault("_meta", {})[versions.META_SERVER_INFO] = server_info(ctx)
    return result


def dispatch_step(ctx, call_next):
    return dispatch(ctx)
