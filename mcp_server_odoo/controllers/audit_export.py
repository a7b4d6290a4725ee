"""JSON Lines export of the MCP audit log, for Audit Readers.

CSV comes from Odoo's own export of the list view. JSON Lines is ours because
it can carry what a third party needs to check the chain without this server:
each line holds the stored columns, ``prev_hash``, ``hash`` and ``canonical``,
the exact text that was hashed (``sha256(prev_hash + canonical) == hash``).
The export is always a contiguous range of sequence numbers (the span of the
selection), so that the file verifies on its own from its first line.
"""

import json

from odoo import http
from odoo.http import request

from ..models.mcp_audit import READER_GROUP

EXPORT_PATH = "/mcp/audit/export.jsonl"
MAX_ROWS = 1_000_000
BATCH = 5_000


def _int_arg(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _lines(cr, first, last):
    cr.execute(
        "SELECT to_jsonb(e) - 'id', mcp_audit_canonical(e)"
        "  FROM mcp_audit_event e WHERE sequence BETWEEN %s AND %s"
        " ORDER BY sequence LIMIT %s",
        [first, last, MAX_ROWS],
    )
    while rows := cr.fetchmany(BATCH):
        for columns, canonical in rows:
            columns["canonical"] = canonical
            yield json.dumps(columns, sort_keys=True, ensure_ascii=False) + "\n"


class AuditExportController(http.Controller):
    @http.route(EXPORT_PATH, type="http", auth="user", methods=["GET"])
    def export_jsonl(self, **params):
        if not request.env.user.has_group(READER_GROUP):
            return request.not_found()
        first, last = _int_arg(params.get("from")), _int_arg(params.get("to"))
        if first is None or last is None or first > last:
            return request.make_response(
                "from and to must be sequence numbers, from <= to", status=400
            )
        # sudo: Audit Readers read the addon's own bookkeeping, checked above.
        body = "".join(_lines(request.env.sudo().cr, first, last))
        filename = f"mcp-audit-{first}-{last}.jsonl"
        return request.make_response(
            body.encode(),
            headers=[
                ("Content-Type", "application/x-ndjson; charset=utf-8"),
                ("Content-Disposition", f'attachment; filename="{filename}"'),
                ("Cache-Control", "no-store"),
            ],
        )
