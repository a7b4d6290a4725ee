"""``mcp.idempotency.key``: the first result of a write, kept under the client's key.

A client that retries after a timeout sends the same ``idempotency_key``; the
write tools then answer with the stored result instead of writing again. A key
belongs to one scope (the user and the client or token family that sent it),
and only digests of the key and of the arguments are stored.

The claim is one ``INSERT ... ON CONFLICT`` on the unique (scope, key) index,
in the transaction of the write itself: a second call with the same key waits
for the first one's transaction. If that one committed, the second call cannot
see its row (Odoo's repeatable read snapshot) and answers with an error asking
the client to send the call again, which then replays the stored result; the
write itself runs once. A write that fails rolls its claim back with it, so
the key can be used again.
"""

import hashlib
import json
import logging
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import api, fields, models

from ..tools import ToolError

_logger = logging.getLogger(__name__)

KEEP_HOURS = 24


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_digest(value):
    """sha256 of ``value`` as canonical JSON (sorted keys, no spaces)."""
    return digest(json.dumps(value, sort_keys=True, separators=(",", ":"), default=str))


class McpIdempotencyKey(models.Model):
    _name = "mcp.idempotency.key"
    _description = "MCP idempotency key (first result of a write)"
    _log_access = False

    scope = fields.Char(required=True, readonly=True)
    key_digest = fields.Char(required=True, readonly=True)
    tool = fields.Char(required=True, readonly=True)
    arguments_digest = fields.Char(required=True, readonly=True)
    result = fields.Text(readonly=True, help="The first result, as JSON.")
    created = fields.Datetime(required=True, readonly=True, index=True)

    _sql_constraints = [
        (
            "scope_key_unique",
            "unique(scope, key_digest)",
            "An idempotency key is used once per scope.",
        ),
    ]

    @api.model
    def _mcp_claim(self, *, scope, key, tool, arguments):
        """(claim id, None) when this call owns the key; (None, row) when not.

        ``row`` is ``{"tool", "arguments_digest", "result"}`` of the call that
        used the key first. A row older than :data:`KEEP_HOURS` is taken over.
        """
        key_digest = digest(key)
        arguments_digest = canonical_digest({"tool": tool, "arguments": arguments})
        # Raw SQL: the claim must be atomic against a concurrent call; the
        # table is the addon's own bookkeeping, never customer data.
        try:
            with self.env.cr.savepoint(flush=False):
                claimed = self._mcp_insert(scope, key_digest, tool, arguments_digest)
        except pg_errors.SerializationFailure:
            # A concurrent call with this key committed after this transaction
            # began; its row is invisible to this snapshot.
            raise ToolError(
                "Another call with this idempotency_key ran at the same time and "
                "has finished; send this call again to get its result."
            ) from None
        if claimed:
            return claimed[0], None
        self.env.cr.execute(
            "SELECT tool, arguments_digest, result FROM mcp_idempotency_key"
            " WHERE scope = %s AND key_digest = %s",
            [scope, key_digest],
        )
        tool_used, digest_used, result = self.env.cr.fetchone()
        return None, {
            "tool": tool_used,
            "same_arguments": digest_used == arguments_digest,
            "result": json.loads(result) if result else None,
        }

    def _mcp_insert(self, scope, key_digest, tool, arguments_digest):
        self.env.cr.execute(
            """
            INSERT INTO mcp_idempotency_key
                   (scope, key_digest, tool, arguments_digest, created)
            VALUES (%s, %s, %s, %s, now() AT TIME ZONE 'UTC')
            ON CONFLICT (scope, key_digest) DO UPDATE
               SET tool = EXCLUDED.tool,
                   arguments_digest = EXCLUDED.arguments_digest,
                   result = NULL,
                   created = EXCLUDED.created
             WHERE mcp_idempotency_key.created
                   < EXCLUDED.created - make_interval(hours => %s)
            RETURNING id
            """,
            [scope, key_digest, tool, arguments_digest, KEEP_HOURS],
            # A concurrent claim's serialization failure is expected and
            # answered above; Odoo would log the statement at ERROR.
            log_exceptions=False,
        )
        return self.env.cr.fetchone()

    @api.model
    def _mcp_remember(self, claim_id, result):
        self.env.cr.execute(
            "UPDATE mcp_idempotency_key SET result = %s WHERE id = %s",
            [json.dumps(result, default=str), claim_id],
        )
        self.invalidate_model(["result"])

    @api.autovacuum
    def _gc_expired_keys(self):
        limit = fields.Datetime.now() - timedelta(hours=KEEP_HOURS)
        self.env.cr.execute(
            "DELETE FROM mcp_idempotency_key WHERE created < %s", [limit]
        )
        _logger.info("MCP idempotency keys: %s expired removed", self.env.cr.rowcount)
