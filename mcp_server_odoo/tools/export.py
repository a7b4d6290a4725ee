"""export_dataset: records of one model as CSV or JSON Lines, streamed by PostgreSQL.

The query is the ORM's own (``_search`` in the user's environment: access
rights, record rules, companies, active records), its columns come from
``_field_to_sql``, which checks each field's read access again, and PostgreSQL
writes the result with ``COPY ... TO STDOUT``. Small results come back inline;
larger ones are copied in chunks to a file under the filestore and handed back
as a link that only the same user with the same credential can fetch, until it
expires. Memory stays flat whatever the size: no row is held in Python.
"""

import io
import logging

import psycopg2

from odoo.tools import SQL

from . import ToolError, ToolResult, tool
from ._domain import (
    HEAVY_TYPES,
    _int_param,
    is_sortable,
    readable_field,
    readable_model,
    validate_domain,
)
from .records import DOMAIN_NOTE, SEARCH_PROPERTIES

_logger = logging.getLogger(__name__)

EXPORT_MAX_ROWS_DEFAULT = 1_000_000
EXPORT_INLINE_ROWS_DEFAULT = 100
CHUNK_BYTES = 1 << 16
MIME_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
DATETIME_TEXT = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
# JSON Lines through COPY's CSV mode: a quote and a delimiter that JSON text
# never holds raw (json escapes control characters), so lines pass unchanged.
JSONL_COPY = "FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02'"
EXPORT_PATH = "/mcp/exports/"


def export_max_rows(env):
    return _int_param(env, "mcp_server_odoo.export_max_rows", EXPORT_MAX_ROWS_DEFAULT)


def export_inline_rows(env):
    return _int_param(
        env, "mcp_server_odoo.export_inline_rows", EXPORT_INLINE_ROWS_DEFAULT
    )


# -- columns --


def _exportable(field):
    return is_sortable(field) and field.type not in HEAVY_TYPES


def export_fields(model, names):
    """The fields to export: those named, or every readable stored column."""
    if not names:
        chosen = [
            field
            for field in model._fields.values()
            if _exportable(field) and field.is_accessible(model.env)
        ]
    else:
        chosen = []
        for name in dict.fromkeys(names):
            field = readable_field(model, name)
            if not _exportable(field):
                raise ToolError(
                    f"Field {name!r} of model {model._name!r} cannot be exported: "
                    "only stored, non-binary columns can."
                )
            chosen.append(field)
    ids = [field for field in chosen if field.name == "id"]
    return (
        ids + [field for field in chosen if field.name != "id"]
        if ids
        else [
            model._fields["id"],
            *chosen,
        ]
    )


def _column(model, field, query, file_format):
    expression = model._field_to_sql(model._table, field.name, query)
    if field.type == "datetime":
        expression = SQL("to_char(%s, %s)", expression, DATETIME_TEXT)
    elif field.type == "boolean":
        expression = SQL("COALESCE(%s, FALSE)", expression)
        if file_format == "csv":  # true/false rather than PostgreSQL's t/f
            expression = SQL("%s::text", expression)
    return SQL("%s AS %s", expression, SQL.identifier(field.name))


def copy_statement(model, domain, fields, file_format, limit=None):
    """``COPY (the user's query) TO STDOUT`` as one SQL object."""
    query = model._search(domain, limit=limit, order="id")
    select = query.select(
        *[_column(model, field, query, file_format) for field in fields]
    )
    if file_format == "csv":
        return SQL("COPY (%s) TO STDOUT WITH (FORMAT csv, HEADER true)", select)
    rows = SQL("SELECT row_to_json(export_row) FROM (%s) AS export_row", select)
    return SQL("COPY (%s) TO STDOUT WITH (%s)", rows, SQL(JSONL_COPY))


def copy_to(env, statement, target):
    """Run ``statement`` and let PostgreSQL write it to ``target`` in chunks."""
    env.flush_query(statement)
    text = env.cr.mogrify(statement.code, statement.params)
    env.cr.copy_expert(text, target, size=CHUNK_BYTES)


# -- where a link points --


def _request():
    from odoo.http import request  # noqa: PLC0415

    return request or None


def _credential(env):
    from ..models.ir_http import bearer_token  # noqa: PLC0415

    request = _request()
    bearer = bearer_token(request.httprequest.headers) if request else None
    # sudo: reads only the addon's link bookkeeping and the caller's own key id.
    return (
        env["mcp.export"]
        .sudo()
        ._mcp_credential(
            kind=env.context.get("mcp_auth_kind"),
            token_family=env.context.get("mcp_token_family"),
            uid=env.uid,
            bearer=bearer,
        )
    )


def _base_url(env):
    # sudo: the addon's own settings and web.base.url.
    params = env["ir.config_parameter"].sudo()
    issuer = (params.get_param("mcp_server_odoo.oauth_issuer_url") or "").strip()
    if issuer:
        return issuer.rstrip("/")
    request = _request()
    if request:
        return request.httprequest.host_url.rstrip("/")
    return (params.get_param("web.base.url") or "").rstrip("/")


# -- the tool --


@tool(
    "export_dataset",
    title="Export a dataset",
    description=(
        "Export the records of one model that match a domain as CSV (with a "
        "header row) or JSON Lines: every readable stored field, or those named "
        "in `fields`. Many2one columns hold ids; datetimes are ISO 8601 UTC; "
        "booleans true/false; empty values empty (CSV) or null (JSON). Small "
        "results come back inline in `data`; larger ones as a download link "
        "(also a resource_link content block) that works only with the "
        "credential of this call and expires. The server caps the rows of one "
        f"export; narrow the domain or pass `limit` to stay below it. {DOMAIN_NOTE}"
    ),
    input_schema={
        "properties": {
            "model": SEARCH_PROPERTIES["model"],
            "domain": SEARCH_PROPERTIES["domain"],
            "fields": SEARCH_PROPERTIES["fields"],
            "format": {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"},
            "limit": {"type": "integer", "minimum": 1},
            "include_archived": {"type": "boolean", "default": False},
        },
        "required": ["model"],
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "model": {"type": "string"},
            "format": {"type": "string"},
            "fields": {"type": "array", "items": {"type": "string"}},
            "row_count": {"type": "integer"},
            "inline": {"type": "boolean"},
            "data": {"type": "string"},
            "download": {
                "type": "object",
                "properties": {
                    "uri": {"type": "string"},
                    "mime_type": {"type": "string"},
                    "size_bytes": {"type": "integer"},
                    "expires_at": {"type": "string"},
                },
                "required": ["uri", "mime_type", "size_bytes", "expires_at"],
                "additionalProperties": False,
            },
        },
        "required": ["model", "format", "fields", "row_count", "inline"],
        "additionalProperties": False,
    },
)
def export_dataset(env, arguments):
    # 1. what to export, every field checked as readable
    model = readable_model(env, arguments["model"])
    domain = validate_domain(model, arguments.get("domain"))
    if arguments.get("include_archived"):
        model = model.with_context(active_test=False)
    fields = export_fields(model, arguments.get("fields"))
    file_format = arguments.get("format", "csv")

    # 2. how many rows, against the cap
    cap = export_max_rows(env)
    limit = arguments.get("limit")
    if limit and limit > cap:
        raise ToolError(f"limit {limit} is above the export cap of {cap} rows.")
    try:
        # dispatch rolls the transaction back when this fails
        rows = model.search_count(domain, limit=limit or cap + 1)
    except psycopg2.DataError:
        raise ToolError(
            "The database refused a value in the domain: check that each value "
            "fits its field's type."
        ) from None
    if rows > cap:
        raise ToolError(
            f"More than {cap} records match, the export cap: narrow the domain or "
            "pass a limit. The cap is the setting 'MCP maximum rows per export'."
        )

    # 3. the rows, written by PostgreSQL
    statement = copy_statement(model, domain, fields, file_format, limit)
    result = {
        "model": model._name,
        "format": file_format,
        "fields": [field.name for field in fields],
        "row_count": rows,
    }
    if rows <= export_inline_rows(env):
        buffer = io.BytesIO()
        copy_to(env, statement, buffer)
        return {**result, "inline": True, "data": buffer.getvalue().decode()}
    return _to_file(env, model, statement, result)


def _to_file(env, model, statement, result):
    credential = _credential(env)
    if not credential:
        raise ToolError(
            "This export is too large to return inline, and the credential of "
            "this call cannot be bound to a download link."
        )
    # sudo: the addon's own export bookkeeping; the rows were read as the user.
    exports = env["mcp.export"].sudo()
    file_format = result["format"]
    file_name, path = exports._mcp_new_file(file_format)
    try:
        with open(path, "wb") as target:
            copy_to(env, statement, target)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    size = path.stat().st_size
    export, handle = exports._mcp_register(
        user=env.user,
        credential=credential,
        values={
            "res_model": model._name,
            "file_format": file_format,
            "file_name": file_name,
            "row_count": result["row_count"],
            "byte_size": min(size, 2**31 - 1),
        },
    )
    # The file is on disk before the record commits: drop it if the call fails.
    env.cr.postrollback.add(lambda: path.unlink(missing_ok=True))
    uri = f"{_base_url(env)}{EXPORT_PATH}{handle}"
    mime_type = MIME_TYPES[file_format]
    _logger.info(
        "MCP export %s: %d rows of %s, %d bytes, uid %s",
        export.id,
        result["row_count"],
        model._name,
        size,
        env.uid,
    )
    download = {
        "uri": uri,
        "mime_type": mime_type,
        "size_bytes": size,
        "expires_at": export.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    link = {
        "type": "resource_link",
        "uri": uri,
        "name": f"{model._name}.{file_format}",
        "mimeType": mime_type,
        "size": size,
        "description": f"{result['row_count']} rows; expires {download['expires_at']}",
    }
    return ToolResult({**result, "inline": False, "download": download}, [link])


TOOLS = [export_dataset]
