"""The audit step: exactly one event per message that reaches the chain.

It sits just inside tracing (sequence 20) and wraps everything else, so it sees
every outcome: a 401 from authentication, a 429, a policy or Odoo denial,
invalid arguments, a tool error, an unexpected exception, a success.

Decisions (see also ``models/mcp_audit.py`` for the table and its chain):

1. Where the event is written. Every outcome but a successful change (reads,
   denials, errors, whose transaction may roll back) is appended through a
   cursor of its own, in READ COMMITTED, committed at once. A call that
   changed data (``ctx.changed``) writes its event with the request's own
   cursor, at the very end of the call, into ``mcp_audit_pending``, so that
   it commits with the change or not at all; right after the commit a
   post-commit hook appends it to the chain and removes it from
   ``mcp_audit_pending`` in one transaction (the checkpoint cron sweeps what
   a crash left there). It cannot be chained inside the request's
   transaction: Odoo runs requests in REPEATABLE READ, whose snapshot is
   older than the chain head that other requests have moved meanwhile, so
   the head lock would end in a serialization failure. READ COMMITTED is
   also why own-cursor appends wait for the head lock and then see the
   newest head instead of failing.
2. Failing closed. If the event cannot be written, the call answers an
   internal error carrying the trace id and the request's transaction is
   rolled back by the controller; when the in-transaction write of a change
   fails, one more attempt records the failure through a separate cursor.
3. What is kept. Names, types, sizes and keyed digests of arguments and
   results (``chain/redaction.py``), never values; every client-supplied name
   is masked. Errors are kept as a class (``error_type`` or the JSON-RPC code
   or the exception class name), never as a message, since messages may quote
   what the client sent.
4. Sequence, time, previous hash and hash are set by the database trigger that
   serialises appends, so that no Python caller can forge them.
5. The audit key. Digests and the checkpoint signing key derive from one
   server-configuration secret, ``mcp_audit_key`` in ``[options]`` (at least
   32 characters), never stored in the database. It is deliberately not the
   OAuth HMAC key: rotating that one to revoke every token must not make the
   audit signing key unreadable. Without it, every MCP call fails closed with
   a message saying so.
"""

import json
import logging
import time
from contextlib import contextmanager
from functools import lru_cache, partial

from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..autocommit import AutocommitConnections
from ..protocol import errors
from . import redaction

_logger = logging.getLogger(__name__)

CONFIG_KEY = "mcp_audit_key"
MIN_KEY_LENGTH = 32
MAX_IDS = 1000
LOCK_TIMEOUT = "10s"

RATE_LIMITED = errors.RATE_LIMITED

# The columns an append writes; the trigger fills sequence, time and hashes.
COLUMNS = (
    "user_ref",
    "user_login",
    "oauth_client",
    "token_family",
    "remote_addr",
    "protocol_version",
    "method",
    "request_id",
    "tool",
    "target_model",
    "record_ids",
    "record_count",
    "field_names",
    "decision",
    "rule",
    "outcome",
    "error_type",
    "changed",
    "latency_us",
    "trace_id",
    "arguments",
    "result",
    "detail",
)
INSERT_SQL = """
INSERT INTO mcp_audit_event (
    user_ref, user_login, oauth_client, token_family, remote_addr,
    protocol_version, method, request_id, tool, target_model, record_ids,
    record_count, field_names, decision, rule, outcome, error_type, changed,
    latency_us, trace_id, arguments, result, detail
) VALUES (
    %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
    %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s
) RETURNING sequence, hash
"""


# The same INSERT, prepared once per connection of AUDIT_CONNECTIONS.
PREPARED_INSERT = """
INSERT INTO mcp_audit_event (
    user_ref, user_login, oauth_client, token_family, remote_addr,
    protocol_version, method, request_id, tool, target_model, record_ids,
    record_count, field_names, decision, rule, outcome, error_type, changed,
    latency_us, trace_id, arguments, result, detail
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
    $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23
) RETURNING sequence, hash
"""


class AuditKeyMissing(RuntimeError):
    """The server configuration has no usable ``mcp_audit_key``."""


class AuditWriteFailed(errors.McpError):
    def __init__(self, trace_id):
        super().__init__(
            errors.INTERNAL_ERROR,
            "The call was not carried out because the audit log could not record "
            f"it (trace id {trace_id})",
        )


@lru_cache(maxsize=4)
def _derive(secret, purpose):
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"mcp_server_odoo/audit/v1",
        info=purpose.encode(),
        backend=default_backend(),
    )
    return hkdf.derive(secret.encode())


def audit_key(purpose):
    """A 32-byte sub-key of ``mcp_audit_key`` for ``purpose``; raises if unset."""
    from odoo.tools import config  # noqa: PLC0415

    secret = config.get(CONFIG_KEY) or ""
    if len(secret) < MIN_KEY_LENGTH:
        raise AuditKeyMissing(
            f"set {CONFIG_KEY} (at least {MIN_KEY_LENGTH} random characters) in "
            "the [options] section of the Odoo configuration file: the MCP audit "
            "log keys its digests and its checkpoint signing key with it"
        )
    return _derive(secret, purpose)


# -- what an event says ------------------------------------------------------------


# JSON-RPC error codes and dispatch error types that have an outcome of their own.
OUTCOME_BY_CODE = {
    errors.UNAUTHENTICATED: "unauthenticated",
    RATE_LIMITED: "rate_limited",
    errors.INTERNAL_ERROR: "internal_error",
}
OUTCOME_BY_ERROR_TYPE = {
    "invalid_arguments": "invalid_arguments",
    "access_denied": "denied_odoo",
    "rate_limited": "rate_limited",
}


def _outcome(ctx, exc):
    """(outcome, error class) of a finished call; ``exc`` is what it raised."""
    if ctx.error_type == "policy_denied":
        return "denied_policy", "policy_denied"
    if isinstance(exc, errors.McpError):
        return OUTCOME_BY_CODE.get(exc.code, "protocol_error"), str(exc.code)
    if exc is not None:
        return "internal_error", type(exc).__qualname__
    if ctx.error_type is None:
        return "success", None
    return OUTCOME_BY_ERROR_TYPE.get(ctx.error_type, "tool_error"), ctx.error_type


def _login(ctx):
    """The caller's login now: the actor an Audit Reader looks for.

    Kept as it is (control characters neutralised), not masked like the
    values of a message: it is who acted, which the log exists to name.
    """
    auth = ctx.auth
    if auth.uid is None:
        return None
    login = auth.login
    if login is None:
        ctx.cr.execute("SELECT login FROM res_users WHERE id = %s", [auth.uid])
        row = ctx.cr.fetchone()
        login = row[0] if row else None
    return None if login is None else redaction.neutralise_text(login)


def _arguments(ctx):
    params = ctx.message.params
    if ctx.method == "tools/call":
        return params.get("arguments")
    return {key: value for key, value in params.items() if key != "_meta"} or None


def _result_of(result):
    if isinstance(result, dict) and "structuredContent" in result:
        return result["structuredContent"]
    return result


def _requested_targets(ctx):
    """What a tools/call names, when dispatch did not get to say (a refusal)."""
    item = ctx.tools.get(ctx.target) if ctx.tools and ctx.target else None
    arguments = ctx.message.params.get("arguments")
    if item is None or not isinstance(arguments, dict):
        return {}
    try:
        return item.audit_targets(arguments)
    except Exception:  # noqa: BLE001 - a tool's helper must not stop the record
        return {}


def _targets(ctx):
    targets = ctx.targets if ctx.targets is not None else _requested_targets(ctx)
    ids = [i for i in targets.get("ids") or [] if isinstance(i, int)]
    fields = [redaction.mask_text(name) for name in targets.get("fields") or []]
    return {
        "target_model": redaction.mask_optional(targets.get("model")),
        "record_ids": ",".join(str(i) for i in ids[:MAX_IDS]) or None,
        "record_count": len(ids),
        "field_names": ",".join(fields) or None,
    }


def event_values(ctx, *, result=None, exc=None, login=None):
    """The column values of the event of ``ctx``: masked, shaped, no values."""
    key = audit_key("argument-digests")
    outcome, error_class = _outcome(ctx, exc)
    auth = ctx.auth
    message = ctx.message
    shaped_result = None
    if exc is None and ctx.result_shape is not None:
        shaped_result = redaction.canonical_json(ctx.result_shape)
    elif exc is None and result is not None:
        shaped_result = redaction.shape_json(_result_of(result), key=key)
    arguments = _arguments(ctx)
    request_id = None if message.is_notification else message.request_id
    return {
        "user_ref": auth.uid,
        "user_login": login,
        "oauth_client": redaction.mask_optional(auth.client),
        "token_family": redaction.mask_optional(auth.token_family),
        "remote_addr": redaction.mask_optional(ctx.remote_addr),
        "protocol_version": redaction.mask_optional(ctx.protocol_version),
        "method": redaction.mask_text(ctx.method),
        "request_id": redaction.mask_optional(request_id),
        "tool": redaction.mask_optional(ctx.target),
        **_targets(ctx),
        "decision": redaction.mask_optional(ctx.decision),
        "rule": redaction.mask_optional(ctx.rule),
        "outcome": outcome,
        "error_type": redaction.mask_optional(error_class),
        "changed": bool(ctx.changed and outcome == "success"),
        "latency_us": int((time.perf_counter() - ctx.started) * 1_000_000)
        if ctx.started
        else None,
        "trace_id": ctx.trace_id,
        "arguments": None
        if arguments is None
        else redaction.shape_json(arguments, key=key),
        "result": shaped_result,
        "detail": None,
    }


# -- writing -----------------------------------------------------------------------


def append(cr, values):
    """Insert one event with ``cr``; returns ``(sequence, hash)``.

    The BEFORE INSERT trigger locks the chain head, numbers the event, stamps
    its time and links its hash; the lock lasts until ``cr`` commits. ``cr``
    must be in READ COMMITTED (see :func:`own_cursor`).
    """
    cr.execute("SET LOCAL lock_timeout = %s", [LOCK_TIMEOUT])
    cr.execute(INSERT_SQL, [values.get(column) for column in COLUMNS])
    return cr.fetchone()


# One statement, committed by itself: the trigger's head lock lasts only as
# long as the INSERT (see autocommit.py).
AUDIT_CONNECTIONS = AutocommitConnections(
    "audit",
    session_sql=(
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
        f"SET lock_timeout = '{LOCK_TIMEOUT}'",
    ),
    prepared={"mcp_audit_append": PREPARED_INSERT},
)


@contextmanager
def own_cursor(dbname):
    """A new cursor in READ COMMITTED, committed on success."""
    from odoo.modules.registry import Registry  # noqa: PLC0415

    with Registry(dbname).cursor() as cr:
        cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        yield cr


def append_committed(dbname, values):
    """Append in a transaction of its own, committed before returning."""
    rows = AUDIT_CONNECTIONS.execute_prepared(
        dbname, "mcp_audit_append", [values.get(column) for column in COLUMNS]
    )
    return rows[0]


def stage(cr, values):
    """Write an event in ``cr``'s transaction; it is chained after the commit."""
    cr.execute(
        "INSERT INTO mcp_audit_pending (payload) VALUES (%s)", [json.dumps(values)]
    )
    cr.postcommit.add(partial(chain_pending, cr.dbname))


def move_pending(cr):
    """Chain every committed pending event, oldest first; returns how many."""
    cr.execute(
        "SELECT id, payload FROM mcp_audit_pending ORDER BY id FOR UPDATE SKIP LOCKED"
    )
    rows = cr.fetchall()
    for _id, payload in rows:
        append(cr, json.loads(payload))
    if rows:
        cr.execute("SET LOCAL mcp.audit_prune = 'on'")
        cr.execute(
            "DELETE FROM mcp_audit_pending WHERE id IN %s", [tuple(r[0] for r in rows)]
        )
        cr.execute("SET LOCAL mcp.audit_prune = 'off'")
    return len(rows)


def chain_pending(dbname):
    """Post-commit hook: chain what the request staged; never raises."""
    try:
        with own_cursor(dbname) as cr:
            move_pending(cr)
    except Exception as failure:  # noqa: BLE001 - the cron sweeps what is left
        _logger.error(
            "MCP audit FAIL pending events not chained yet: %s",
            type(failure).__qualname__,
        )


def _record(ctx, *, result=None, exc=None):
    in_transaction = exc is None and ctx.changed and ctx.error_type is None
    try:
        values = event_values(ctx, result=result, exc=exc, login=_login(ctx))
        if in_transaction:
            stage(ctx.cr, values)
        else:
            append_committed(ctx.cr.dbname, values)
    except Exception as failure:  # noqa: BLE001 - fail closed, below
        _logger.error(
            "MCP audit FAIL event not written: %s %s (trace %s)",
            type(failure).__qualname__,
            getattr(failure, "pgcode", "") or "",
            ctx.trace_id,
        )
        if in_transaction:
            _record_failure(ctx)
        raise AuditWriteFailed(ctx.trace_id) from None


def _record_failure(ctx):
    """After a failed in-transaction write: say so through a cursor of its own."""
    try:
        ctx.cr.rollback()
        values = event_values(ctx, login=_login(ctx))
        values.update(outcome="internal_error", error_type="audit_write_failed")
        values["changed"] = False
        append_committed(ctx.cr.dbname, values)
    except Exception as failure:  # noqa: BLE001 - already failing closed
        _logger.error(
            "MCP audit FAIL failure event not written either: %s (trace %s)",
            type(failure).__qualname__,
            ctx.trace_id,
        )


def audit(ctx, call_next):
    try:
        # Dispatch shapes a tool's result with it while serialising it.
        ctx.digest_key = audit_key("argument-digests")
    except AuditKeyMissing:
        pass  # no event can be written: _record fails the call closed
    try:
        result = call_next(ctx)
    except Exception as exc:
        _record(ctx, exc=exc)
        raise
    _record(ctx, result=result)
    return result
