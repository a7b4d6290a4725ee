"""JSON Lines export of the MCP audit log, for Audit Readers.

CSV comes from Odoo's own export of the list view. JSON Lines is ours because
it can carry what a third party needs to check the chain without this server:
each line holds the stored columns, ``prev_hash``, ``hash`` and ``canonical``,
the exact text that was hashed (``sha256(prev_hash + canonical) == hash``).
The export is always a contiguous range of sequence numbers (the span of the
selection), so that the file verifies on its own from its first line. Lines
are written to a temporary file as they are read (a server-side cursor, in
batches) and the file is streamed, so that a large range never sits in the
server's memory.
"""

import json
import tempfile

from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from odoo import http
from odoo.http import request

from ..models.mcp_audit import READER_GROUP

EXPORT_PATH = "/mcp/audit/export.jsonl"
MAX_ROWS = 1_000_000
BATCH = 5_000
# Below this the temporary file stays in memory.
SPOOL_BYTES = 4 * 1024 * 1024


def _int_arg(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _write_lines(cr, first, last, out):
    """Write the events ``first``..``last`` to ``out``; bytes written."""
    stream = cr._cnx.cursor("mcp_audit_export")
    stream.itersize = BATCH
    try:
        stream.execute(
            "SELECT to_jsonb(e) - 'id', mcp_audit_canonical(e)"
            "  FROM mcp_audit_event e WHERE sequence BETWEEN %s AND %s"
            " ORDER BY sequence LIMIT %s",
            [first, last, MAX_ROWS],
        )
        while rows := stream.fetchmany(BATCH):
            for columns, canonical in rows:
                columns["canonical"] = canonical
                line = json.dumps(columns, sort_keys=True, ensure_ascii=False)
                out.write(line.encode() + b"\n")
    finally:
        stream.close()
    return out.tell()


class AuditExportController(http.Controller):
    @http.route(EXPORT_PATH, type="http", auth="user", methods=["GET"])
    def export_jsonl(self, **params):
        if not request.env.user.has_group(READER_GROUP):
            raise request.not_found()
        first, last = _int_arg(params.get("from")), _int_arg(params.get("to"))
        if first is None or last is None or first > last:
            return request.make_response(
                "from and to must be sequence numbers, from <= to", status=400
            )
        if last - first + 1 > MAX_ROWS:
            return request.make_response(
                f"at most {MAX_ROWS} events per export: split the range", status=400
            )
        # Plain SQL on the addon's own table: the group check above is the gate.
        out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        try:
            size = _write_lines(request.env.cr, first, last, out)
        except Exception:
            out.close()
            raise
        out.seek(0)
        filename = f"mcp-audit-{first}-{last}.jsonl"
        # The response closes the file once it has been sent.
        return Response(
            wrap_file(request.httprequest.environ, out),
            status=200,
            direct_passthrough=True,
            headers=[
                ("Content-Length", str(size)),
                ("Content-Disposition", f'attachment; filename="{filename}"'),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
            ],
            content_type="application/x-ndjson; charset=utf-8",
        )
