"""Tools that read records: search, fetch by id, and several searches at once.

Every read goes through the ORM in the user's environment, so access rights,
record rules, the user's companies and field groups all apply; nothing here
uses ``sudo()`` on records.
"""

import logging

import psycopg2

from odoo.exceptions import AccessError, MissingError, UserError, ValidationError

from . import ToolError, tool
from ._domain import (
    DEFAULT_LIMIT,
    effective_limit,
    max_binary_bytes,
    max_limit,
    parse_order,
    readable_model,
    resolve_fields,
    validate_domain,
)
from ._serialize import record_values

_logger = logging.getLogger(__name__)

BATCH_CAP = 20
# Failures whose message Odoo writes for the user and that a client may see.
ODOO_USER_ERRORS = (AccessError, MissingError, UserError, ValidationError)

VALUES_NOTE = (
    "Values: many2one as {id, display_name} or null; one2many/many2many as lists "
    "of ids; dates as YYYY-MM-DD; datetimes as ISO 8601 in UTC with a 'Z' suffix "
    "(e.g. 2024-05-01T08:30:00Z); selections as their key; empty values as null. "
    "Binary fields only when named in `fields`, as base64, or {omitted: true, "
    "size} when larger than the server's cap."
)
DOMAIN_NOTE = (
    "`domain` is an Odoo domain as JSON: terms [field, operator, value] and the "
    "prefix operators '&', '|', '!'; fields may be dotted paths such as "
    "partner_id.country_id.code; datetime values in ISO 8601 are read as UTC."
)

RECORD = {
    "type": "object",
    "properties": {"id": {"type": "integer"}},
    "required": ["id"],
    "description": "Field name to value; see the tool description for the shapes.",
}

SEARCH_PROPERTIES = {
    "model": {"type": "string", "minLength": 1, "maxLength": 128},
    "domain": {
        "type": "array",
        "default": [],
        "maxItems": 200,
        "items": {"type": ["string", "array"]},
    },
    "fields": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "maxItems": 500,
        "description": "Fields to return; a default set of stored fields if absent.",
    },
    "order": {
        "type": "string",
        "maxLength": 500,
        "description": "e.g. 'date desc, id'; stored fields only.",
    },
    "limit": {
        "type": "integer",
        "minimum": 1,
        "default": DEFAULT_LIMIT,
        "description": "At most the server's maximum (500 unless configured).",
    },
    "offset": {"type": "integer", "minimum": 0, "default": 0},
    "include_archived": {"type": "boolean", "default": False},
    "count": {
        "type": "boolean",
        "default": True,
        "description": "Count every match (one more query); when false, count is "
        "null unless the page shows it all, and next_offset still tells whether "
        "more records follow.",
    },
}

SEARCH_INPUT = {
    "type": "object",
    "properties": SEARCH_PROPERTIES,
    "required": ["model"],
    "additionalProperties": False,
}

SEARCH_RESULT_PROPERTIES = {
    "model": {"type": "string"},
    "count": {
        "type": ["integer", "null"],
        "description": "Records matching the domain in all (null if not counted).",
    },
    "limit": {"type": "integer", "description": "The limit applied."},
    "offset": {"type": "integer"},
    "next_offset": {"type": ["integer", "null"]},
    "records": {"type": "array", "items": RECORD},
}
SEARCH_RESULT_REQUIRED = ["model", "count", "limit", "offset", "next_offset", "records"]


@tool(
    "search_records",
    title="Search records",
    description=(
        "Search records of one Odoo model as the signed-in user and return their "
        "values, with the total count and the offset of the next page. "
        f"{DOMAIN_NOTE} {VALUES_NOTE}"
    ),
    input_schema={
        "properties": SEARCH_PROPERTIES,
        "required": ["model"],
        "additionalProperties": False,
    },
    output_schema={
        "properties": SEARCH_RESULT_PROPERTIES,
        "required": SEARCH_RESULT_REQUIRED,
        "additionalProperties": False,
    },
)
def search_records(env, arguments):
    return _search(env, arguments)


@tool(
    "get_record",
    title="Get records by id",
    description=(
        "Read one record (`id`) or several (`ids`) of one Odoo model, archived "
        "ones included. A record that does not exist and one you may not see get "
        f"the same error. {VALUES_NOTE}"
    ),
    input_schema={
        "properties": {
            "model": SEARCH_PROPERTIES["model"],
            "id": {"type": "integer", "minimum": 1},
            "ids": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "minItems": 1,
            },
            "fields": SEARCH_PROPERTIES["fields"],
        },
        "required": ["model"],
        "oneOf": [{"required": ["id"]}, {"required": ["ids"]}],
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "model": {"type": "string"},
            "records": {"type": "array", "items": RECORD},
        },
        "required": ["model", "records"],
        "additionalProperties": False,
    },
)
def get_record(env, arguments):
    model = readable_model(env, arguments["model"])
    ids = list(
        dict.fromkeys(arguments["ids"] if "ids" in arguments else [arguments["id"]])
    )
    if len(ids) > max_limit(env):
        raise ToolError(f"At most {max_limit(env)} ids can be read at once.")
    names = resolve_fields(model, arguments.get("fields"))

    # search() rather than browse(): it applies the record rules, so a record
    # hidden from the user looks exactly like one that does not exist.
    found = model.with_context(active_test=False).search([("id", "in", ids)])
    missing = [record_id for record_id in ids if record_id not in set(found.ids)]
    if missing:
        listed = ", ".join(str(record_id) for record_id in missing[:20])
        raise ToolError(
            f"No {model._name} record with id {listed} (or you may not see it)."
        )

    rows = {row["id"]: row for row in found.read(names)}
    values = record_values(
        model, [rows[record_id] for record_id in ids], max_binary_bytes(env)
    )
    return {"model": model._name, "records": values}


@tool(
    "batch_search",
    title="Run several searches",
    description=(
        f"Run up to {BATCH_CAP} searches, each with the arguments of search_records, "
        "and return their results in the same order. Each result is either "
        "{ok: true, ...search result} or {ok: false, error}; one failing search "
        "does not affect the others."
    ),
    input_schema={
        "properties": {
            "searches": {
                "type": "array",
                "items": SEARCH_INPUT,
                "minItems": 1,
                "maxItems": BATCH_CAP,
            },
        },
        "required": ["searches"],
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "results": {
                "type": "array",
                "items": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {
                                "ok": {"const": True},
                                **SEARCH_RESULT_PROPERTIES,
                            },
                            "required": ["ok", *SEARCH_RESULT_REQUIRED],
                            "additionalProperties": False,
                        },
                        {
                            "type": "object",
                            "properties": {
                                "ok": {"const": False},
                                "error": {"type": "string"},
                            },
                            "required": ["ok", "error"],
                            "additionalProperties": False,
                        },
                    ],
                },
            },
        },
        "required": ["results"],
        "additionalProperties": False,
    },
    targets=lambda arguments, structured=None: _batch_targets(arguments),
)
def batch_search(env, arguments):
    return {"results": [_batch_item(env, item) for item in arguments["searches"]]}


def _batch_targets(arguments):
    """Every model the searches are about, for policies and the audit."""
    searches = arguments.get("searches")
    models = []
    for search in searches if isinstance(searches, list) else []:
        model = search.get("model") if isinstance(search, dict) else None
        if isinstance(model, str) and model not in models:
            models.append(model)
    return {
        "model": ",".join(models) or None,
        "models": models,
        "ids": [],
        "fields": [],
    }


def _batch_item(env, arguments):
    # A savepoint per search: a failed one is rolled back on its own and cannot
    # leave the transaction aborted for the searches after it.
    try:
        with env.cr.savepoint():
            return {"ok": True, **_search(env, arguments)}
    except ToolError as exc:
        return {"ok": False, "error": str(exc)}
    except ODOO_USER_ERRORS as exc:
        return {"ok": False, "error": _odoo_message(exc)}
    except Exception:
        _logger.exception("batch_search: search on %r FAIL", arguments.get("model"))
        return {
            "ok": False,
            "error": "Internal error in this search; see the server log.",
        }


def _odoo_message(exc):
    return str(exc.args[0]) if exc.args else type(exc).__name__


def _search(env, arguments):
    # 1. what to search, checked against what the user may read
    model = readable_model(env, arguments["model"])
    domain = validate_domain(model, arguments.get("domain"))
    order = parse_order(model, arguments.get("order"))
    names = resolve_fields(model, arguments.get("fields"))
    limit = effective_limit(env, arguments.get("limit"))
    offset = arguments.get("offset", 0)
    if arguments.get("include_archived"):
        model = model.with_context(active_test=False)

    # 2. the search and the values in one go (search_fetch), one row more than
    # the page to learn whether another page follows. A value PostgreSQL
    # rejects becomes a clear error; the caller makes the transaction usable
    # again (dispatch rolls back a failed read, batch_search has a savepoint
    # per search).
    try:
        records = model.search_fetch(
            domain, names, offset=offset, limit=limit + 1, order=order
        )
        more = len(records) > limit
        records = records[:limit]
        count = None
        if not more and (records or not offset):
            count = offset + len(records)  # the last page: count is known
        if count is None and arguments.get("count", True):
            count = model.search_count(domain)
        # As search_read does: the search applied the record rules in SQL, so
        # the fetched page is formatted without checking them again in Python;
        # include_archived is about the page, not its x2many values.
        if arguments.get("include_archived"):
            records = records.with_context(active_test=True)
        rows = records._read_format(names)
    except psycopg2.DataError:
        raise ToolError(
            "The database refused a value in the domain: check that each value "
            "fits its field's type."
        ) from None

    # 3. the page and where the next one starts
    return {
        "model": model._name,
        "count": count,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + len(records) if more else None,
        "records": record_values(model, rows, max_binary_bytes(env)),
    }


TOOLS = [search_records, get_record, batch_search]
