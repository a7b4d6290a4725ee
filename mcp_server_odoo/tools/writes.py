"""Tools that change records: create, update, delete, one at a time or in batches.

Every write runs through the ORM in the user's environment, so access rights,
record rules, companies, field groups and constraints apply as in Odoo's own
interface. On top of that, for clients that retry, repeat themselves, act on
stale data or follow instructions planted in what they read:

- values are checked against their field types before the ORM sees them, and
  fields that are read-only, computed or reserved are refused by name
  (tools/_values.py); so are models that grant privileges or run code, and
  relations, inverse and related fields that would reach them;
- ``dry_run`` runs the whole write inside a savepoint that is rolled back and
  answers with what would change, field by field;
- ``idempotency_key`` makes a retried call answer with the first result
  (models/mcp_idempotency.py);
- ``write_date`` on updates refuses to overwrite a record changed since the
  client read it;
- batches are all-or-nothing unless ``continue_on_error`` asks for a report
  per item.
"""

import logging

import psycopg2

from odoo.exceptions import AccessError, MissingError, UserError, ValidationError

from . import ToolError, tool
from ._domain import max_binary_bytes
from ._serialize import record_values, write_date_text
from ._values import (
    X2MANY_NOTE,
    ValueChecker,
    check_attachment_targets,
    max_batch_size,
    parse_datetime,
    visible_records,
    writable_model,
)

_logger = logging.getLogger(__name__)

ODOO_USER_ERRORS = (AccessError, MissingError, UserError, ValidationError)

# -- schemas ---------------------------------------------------------------------

MODEL = {"type": "string", "minLength": 1, "maxLength": 128}
RECORD_ID = {"type": "integer", "minimum": 1}
VALUES = {
    "type": "object",
    "minProperties": 1,
    "description": "Field name to value; see the tool description for the shapes.",
}
WRITE_DATE = {
    "type": "string",
    "maxLength": 40,
    "description": (
        "The write_date you read (ISO 8601, as search_records/get_record return "
        "it). If the record changed since, nothing is written and the error says "
        "so."
    ),
}
COMMON_INPUT = {
    "dry_run": {
        "type": "boolean",
        "default": False,
        "description": "Validate and run the write, report what would change, "
        "then undo it: nothing is saved.",
    },
    "idempotency_key": {
        "type": "string",
        "minLength": 8,
        "maxLength": 200,
        "description": "A unique string per intended write (e.g. a UUID). "
        "Repeating the call with the same key and the same arguments within 24 "
        "hours returns the first result without writing again; the same key with "
        "other arguments is an error. Not used by dry runs.",
    },
}
CONTINUE = {
    "continue_on_error": {
        "type": "boolean",
        "default": False,
        "description": "false (default): all or nothing. true: each item "
        "succeeds or fails on its own and the result reports each one.",
    },
}
CHANGE = {
    "type": "object",
    "properties": {
        "action": {"enum": ["create", "update", "delete"]},
        "id": {"type": ["integer", "null"]},
        "display_name": {"type": ["string", "null"]},
        "fields": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"before": {}, "after": {}},
                "required": ["before", "after"],
            },
        },
    },
    "required": ["action", "id", "fields"],
}
COMMON_OUTPUT = {
    "model": {"type": "string"},
    "dry_run": {"type": "boolean"},
    "replayed": {
        "type": "boolean",
        "description": "true when this is the stored result of an earlier call "
        "with the same idempotency_key.",
    },
    "changes": {
        "type": "array",
        "items": CHANGE,
        "description": "Dry runs only: per record, each field before and after.",
    },
}
ITEM_RESULT = {
    "type": "object",
    "properties": {
        "index": {"type": "integer"},
        "ok": {"type": "boolean"},
        "id": {"type": ["integer", "null"]},
        "write_date": {"type": ["string", "null"]},
        "error": {"type": "string"},
    },
    "required": ["index", "ok"],
}
VALUES_NOTE = (
    "Values: text as strings; numbers as numbers; booleans as true/false; dates "
    "as YYYY-MM-DD; datetimes as ISO 8601 (UTC unless an offset is given); "
    "selections as their key; many2one as a record id (or {id: ...}) that you "
    f"can see; null to empty a field. {X2MANY_NOTE} Read-only, computed and "
    "reserved fields are refused, and models that grant privileges or run code "
    "(groups, access rules, server actions, crons, system parameters, views, "
    "templates, modules...) are closed unless an administrator opened them, "
    "also through relations: links, inverse fields and related fields that would "
    "write them are refused. Users: name, email, signature, lang, tz and "
    "image_1920 of your own user only, also through the contact of a user."
)


def _schema(properties, required):
    return {
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


# -- the common frame: dry run and idempotency ------------------------------------


def _idempotency_scope(env):
    context = env.context
    if context.get("mcp_client"):
        source = f"client:{context['mcp_client']}"
    elif context.get("mcp_token_family"):
        source = f"family:{context['mcp_token_family']}"
    else:
        source = f"auth:{context.get('mcp_auth_kind') or 'direct'}"
    return f"user:{env.uid}/{source}"


def _run_write(env, name, arguments, work):
    """Run ``work(env, arguments, preview)`` as a dry run, a replay or for real."""
    if arguments.get("dry_run"):
        return _dry_run(env, arguments, work)
    key = arguments.get("idempotency_key")
    if not key:
        return work(env, arguments, False)

    # sudo-free on purpose: the key store is reached by raw SQL on the addon's
    # own table (an atomic claim), never through the user's access rights.
    store = env["mcp.idempotency.key"]
    payload = {k: v for k, v in arguments.items() if k != "idempotency_key"}
    claim_id, earlier = store._mcp_claim(
        scope=_idempotency_scope(env), key=key, tool=name, arguments=payload
    )
    if claim_id is None:
        return _replay(name, earlier)
    result = work(env, arguments, False)
    store._mcp_remember(claim_id, result)
    return result


def _replay(name, earlier):
    if earlier["tool"] != name or not earlier["same_arguments"]:
        raise ToolError(
            "This idempotency_key was already used in the last 24 hours with other "
            "arguments or another tool; nothing was done. Use a new key for a "
            "different write."
        )
    if earlier["result"] is None:
        raise ToolError("A call with this idempotency_key is still running.")
    return {**earlier["result"], "replayed": True}


def _dry_run(env, arguments, work):
    # Everything runs for real inside the savepoint (constraints, computed
    # fields, record rules), then the savepoint is rolled back.
    with env.cr.savepoint(flush=True) as savepoint:
        result = work(env, arguments, True)
        env.flush_all()
        savepoint.rollback()
    env.invalidate_all()
    return result


# -- snapshots for dry runs -----------------------------------------------------------


def _snapshot(records, names):
    """{id: {field: JSON value}} of ``names`` as the user reads them."""
    if not records:
        return {}
    rows = records.with_context(active_test=False).read(["display_name", *names])
    values = record_values(records, rows, max_binary_bytes(records.env))
    return {row["id"]: row for row in values}


def _change(action, record_id, names, before, after, *, show_id=True):
    current = after or before or {}
    return {
        "action": action,
        "id": record_id if show_id else None,
        "display_name": current.get("display_name"),
        "fields": {
            name: {
                "before": (before or {}).get(name),
                "after": (after or {}).get(name),
            }
            for name in names
        },
    }


# -- checks shared by the tools -------------------------------------------------------


def _check_batch_size(env, count):
    limit = max_batch_size(env)
    if count > limit:
        raise ToolError(
            f"{count} items is more than the {limit} allowed per batch (setting "
            "'MCP maximum batch size'); split the batch."
        )


def _check_write_date(record, expected, where):
    wanted = parse_datetime(expected, f"{where}write_date")
    current = record.write_date
    if current != wanted:
        raise ToolError(
            f"{where}{record._name} record {record.id} was changed at "
            f"{write_date_text(current)}, after the write_date you read "
            f"({expected}); nothing was written. Read it again and retry."
        )


def _odoo_message(exc):
    return str(exc.args[0]) if exc.args else type(exc).__name__


def _prefixed(exc, where):
    """The same Odoo exception with ``where`` in front, for all-or-nothing batches."""
    return type(exc)(f"{where}{_odoo_message(exc)}")


def _each(env, items, work, continue_on_error):
    """Run ``work(index, item)`` per item: raise on the first failure, or report.

    With ``continue_on_error`` each item has its own savepoint and the result
    is one ``{index, ok, ...}`` per item.
    """
    if not continue_on_error:
        results = []
        # One savepoint for all: a failing item undoes the ones before it,
        # whoever calls the tool.
        with env.cr.savepoint():
            for index, item in enumerate(items):
                try:
                    results.append({"index": index, "ok": True, **work(index, item)})
                except ODOO_USER_ERRORS as exc:
                    raise _prefixed(exc, f"item {index}: ") from None
        return results
    return [_attempt(env, index, item, work) for index, item in enumerate(items)]


def _attempt(env, index, item, work):
    try:
        with env.cr.savepoint():
            return {"index": index, "ok": True, **work(index, item)}
    except ToolError as exc:
        error = str(exc)
    except ODOO_USER_ERRORS as exc:
        error = _odoo_message(exc)
    except psycopg2.Error as exc:
        _logger.warning("MCP batch item %s FAIL database error %s", index, exc.pgcode)
        error = "The database refused this item (a constraint or a value)."
    return {"index": index, "ok": False, "error": error}


def _value_names(items):
    names = {}
    for values in items:
        if isinstance(values, dict):
            names.update(dict.fromkeys(values))
    return sorted(names)


# -- create ----------------------------------------------------------------------------


def _create_targets(arguments, structured=None):
    structured = structured or {}
    ids = structured.get("ids") or [structured.get("id")]
    if "values" in arguments:
        fields = _value_names([arguments.get("values")])
    else:
        fields = _value_names(arguments.get("records") or [])
    return {
        "model": arguments.get("model"),
        "ids": sorted({i for i in ids if isinstance(i, int)}),
        "fields": fields,
    }


@tool(
    "create_record",
    title="Create a record",
    description=(
        "Create one record of an Odoo model as the signed-in user and return its "
        f"id. {VALUES_NOTE}"
    ),
    input_schema=_schema(
        {"model": MODEL, "values": VALUES, **COMMON_INPUT}, ["model", "values"]
    ),
    output_schema=_schema(
        {**COMMON_OUTPUT, "id": {"type": ["integer", "null"]}},
        ["model", "id", "dry_run"],
    ),
    read_only=False,
    destructive=False,
    idempotent=False,
    targets=_create_targets,
)
def create_record(env, arguments):
    return _run_write(env, "create_record", arguments, _create_one)


def _create_one(env, arguments, preview):
    result = _create_many(env, arguments["model"], [arguments["values"]], preview)
    return {
        "model": result["model"],
        "id": result["ids"][0] if result["ids"] else None,
        "dry_run": preview,
        **({"changes": result["changes"]} if preview else {}),
    }


def _checked_values(model, items, wheres):
    checker = ValueChecker(model)
    checked = [
        checker.check(values, where)
        for values, where in zip(items, wheres, strict=True)
    ]
    checker.verify_references()
    return checked


def _create_many(env, model_name, items, preview, wheres=None):
    """All items in one ``create`` call; their ids, or (dry run) the changes."""
    model = writable_model(env, model_name, "create")
    checked = _checked_values(model, items, wheres or ["values"])
    records = model.create(checked)
    result = {"model": model._name, "ids": [] if preview else records.ids}
    if preview:
        result["changes"] = _created_changes(records, items)
    return result


def _created_changes(records, items):
    after = _snapshot(records, _value_names(items))
    return [
        _change(
            "create", record.id, list(values), None, after[record.id], show_id=False
        )
        for record, values in zip(records, items, strict=True)
    ]


# -- update ----------------------------------------------------------------------------


def _update_targets(arguments, structured=None):
    items = arguments.get("records")
    if items is None:
        items = [{"id": arguments.get("id"), "values": arguments.get("values")}]
    items = [item for item in items if isinstance(item, dict)]
    ids = [item.get("id") for item in items]
    if structured and isinstance(structured.get("results"), list):
        ids = [r.get("id") for r in structured["results"] if r.get("ok")]
    return {
        "model": arguments.get("model"),
        "ids": sorted({i for i in ids if isinstance(i, int)}),
        "fields": _value_names([item.get("values") for item in items]),
    }


@tool(
    "update_record",
    title="Update a record",
    description=(
        "Change fields of one record as the signed-in user. Pass the write_date "
        "you read to be sure nobody changed the record since; the result gives "
        f"the new write_date. {VALUES_NOTE}"
    ),
    input_schema=_schema(
        {
            "model": MODEL,
            "id": RECORD_ID,
            "values": VALUES,
            "write_date": WRITE_DATE,
            **COMMON_INPUT,
        },
        ["model", "id", "values"],
    ),
    output_schema=_schema(
        {
            **COMMON_OUTPUT,
            "id": {"type": "integer"},
            "write_date": {"type": ["string", "null"]},
        },
        ["model", "id", "dry_run", "write_date"],
    ),
    read_only=False,
    destructive=True,
    idempotent=True,
    targets=_update_targets,
)
def update_record(env, arguments):
    return _run_write(env, "update_record", arguments, _update_one)


def _update_one(env, arguments, preview):
    item = {
        key: arguments[key]
        for key in ("id", "values", "write_date")
        if key in arguments
    }
    model = writable_model(env, arguments["model"], "write")
    done = _update_item(model, item, preview, "")
    return {
        "model": model._name,
        "id": item["id"],
        "dry_run": preview,
        "write_date": None if preview else done["write_date"],
        **({"changes": [done["change"]]} if preview else {}),
    }


def _update_item(model, item, preview, where):
    record = visible_records(model, [item["id"]], f"{where}id")
    if item.get("write_date") is not None:
        _check_write_date(record, item["write_date"], where)
    checker = ValueChecker(model)
    values = checker.check(item["values"], f"{where}values", ids=record.ids)
    checker.verify_references()
    names = list(item["values"])
    before = _snapshot(record, names) if preview else None
    record.write(values)
    record.flush_recordset()
    if preview:
        after = _snapshot(record, names)
        change = _change(
            "update", record.id, names, before[record.id], after[record.id]
        )
        return {"id": record.id, "change": change}
    return {"id": record.id, "write_date": write_date_text(record.write_date)}


# -- delete ----------------------------------------------------------------------------


def _delete_targets(arguments, structured=None):
    ids = arguments.get("ids") or [arguments.get("id")]
    if structured and isinstance(structured.get("ids"), list):
        ids = structured["ids"]
    return {
        "model": arguments.get("model"),
        "ids": sorted({i for i in ids if isinstance(i, int)}),
        "fields": [],
    }


@tool(
    "delete_record",
    title="Delete a record",
    description=(
        "Delete one record as the signed-in user. Odoo may refuse (access rights, "
        "records that others depend on) or delete dependent records with it. Try "
        "dry_run first to see what would go."
    ),
    input_schema=_schema(
        {"model": MODEL, "id": RECORD_ID, **COMMON_INPUT}, ["model", "id"]
    ),
    output_schema=_schema(
        {**COMMON_OUTPUT, "id": {"type": "integer"}}, ["model", "id", "dry_run"]
    ),
    read_only=False,
    destructive=True,
    idempotent=True,
    targets=_delete_targets,
)
def delete_record(env, arguments):
    return _run_write(env, "delete_record", arguments, _delete_one)


def _delete_one(env, arguments, preview):
    model = writable_model(env, arguments["model"], "unlink")
    done = _delete_ids(model, [arguments["id"]], preview, "")
    return {
        "model": model._name,
        "id": arguments["id"],
        "dry_run": preview,
        **({"changes": done} if preview else {}),
    }


def _delete_ids(model, ids, preview, where):
    records = visible_records(model, ids, f"{where}id")
    if model._name == "ir.attachment":
        check_attachment_targets(model.env, records, [])
    before = _snapshot(records, []) if preview else {}
    records.unlink()
    return (
        [_change("delete", i, [], before[i], None) for i in records.ids]
        if preview
        else []
    )


# -- batches ---------------------------------------------------------------------------


BATCH_OUTPUT = {
    **COMMON_OUTPUT,
    "ok": {"type": "boolean", "description": "true when every item succeeded."},
    "ids": {"type": "array", "items": {"type": "integer"}},
    "results": {
        "type": "array",
        "items": ITEM_RESULT,
        "description": "One per item, in order (continue_on_error, or updates).",
    },
}


@tool(
    "batch_create",
    title="Create several records",
    description=(
        "Create records of one model in one call, all or nothing unless "
        "continue_on_error is true; returns their ids in order. The server caps "
        f"the batch size (500 unless configured). {VALUES_NOTE}"
    ),
    input_schema=_schema(
        {
            "model": MODEL,
            "records": {"type": "array", "items": VALUES, "minItems": 1},
            **CONTINUE,
            **COMMON_INPUT,
        },
        ["model", "records"],
    ),
    output_schema=_schema(BATCH_OUTPUT, ["model", "dry_run", "ok", "ids"]),
    read_only=False,
    destructive=False,
    idempotent=False,
    targets=_create_targets,
)
def batch_create(env, arguments):
    return _run_write(env, "batch_create", arguments, _batch_create)


def _batch_create(env, arguments, preview):
    items = arguments["records"]
    _check_batch_size(env, len(items))
    if not arguments.get("continue_on_error"):
        wheres = [f"records[{index}]" for index in range(len(items))]
        result = _create_many(env, arguments["model"], items, preview, wheres)
        return {"dry_run": preview, "ok": True, **result}
    model = writable_model(env, arguments["model"], "create")

    def create(index, values):
        done = _create_many(env, model._name, [values], preview, [f"records[{index}]"])
        if preview:
            return {"id": None, "change": done["changes"][0]}
        return {"id": done["ids"][0]}

    return _batch_result(model, _each(env, items, create, True), preview)


def _batch_result(model, results, preview):
    changes = [r.pop("change") for r in results if "change" in r]
    answer = {
        "model": model._name,
        "dry_run": preview,
        "ok": all(r["ok"] for r in results),
        "ids": [r["id"] for r in results if r["ok"] and r.get("id")],
        "results": results,
    }
    if preview:
        answer["changes"] = changes
    return answer


@tool(
    "batch_update",
    title="Update several records",
    description=(
        "Apply one update per item ({id, values, write_date?}) to records of one "
        "model, all or nothing unless continue_on_error is true. Each item may "
        "carry the write_date the client read; a record changed since is not "
        f"written. {VALUES_NOTE}"
    ),
    input_schema=_schema(
        {
            "model": MODEL,
            "records": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "id": RECORD_ID,
                        "values": VALUES,
                        "write_date": WRITE_DATE,
                    },
                    "required": ["id", "values"],
                    "additionalProperties": False,
                },
            },
            **CONTINUE,
            **COMMON_INPUT,
        },
        ["model", "records"],
    ),
    output_schema=_schema(BATCH_OUTPUT, ["model", "dry_run", "ok", "ids", "results"]),
    read_only=False,
    destructive=True,
    idempotent=True,
    targets=_update_targets,
)
def batch_update(env, arguments):
    return _run_write(env, "batch_update", arguments, _batch_update)


def _batch_update(env, arguments, preview):
    items = arguments["records"]
    _check_batch_size(env, len(items))
    model = writable_model(env, arguments["model"], "write")

    def update(index, item):
        done = _update_item(model, item, preview, f"records[{index}].")
        if preview:
            return {"id": done["id"], "change": done["change"]}
        return done

    results = _each(env, items, update, arguments.get("continue_on_error"))
    return _batch_result(model, results, preview)


@tool(
    "batch_delete",
    title="Delete several records",
    description=(
        "Delete records of one model by id, all or nothing unless "
        "continue_on_error is true. Try dry_run first to see what would go."
    ),
    input_schema=_schema(
        {
            "model": MODEL,
            "ids": {"type": "array", "items": RECORD_ID, "minItems": 1},
            **CONTINUE,
            **COMMON_INPUT,
        },
        ["model", "ids"],
    ),
    output_schema=_schema(BATCH_OUTPUT, ["model", "dry_run", "ok", "ids"]),
    read_only=False,
    destructive=True,
    idempotent=True,
    targets=_delete_targets,
)
def batch_delete(env, arguments):
    return _run_write(env, "batch_delete", arguments, _batch_delete)


def _batch_delete(env, arguments, preview):
    ids = list(dict.fromkeys(arguments["ids"]))
    _check_batch_size(env, len(ids))
    model = writable_model(env, arguments["model"], "unlink")
    if not arguments.get("continue_on_error"):
        changes = _delete_ids(model, ids, preview, "")
        answer = {"model": model._name, "dry_run": preview, "ok": True, "ids": ids}
        return {**answer, "changes": changes} if preview else answer

    def delete(index, record_id):
        done = _delete_ids(model, [record_id], preview, "")
        return {"id": record_id, **({"change": done[0]} if preview else {})}

    return _batch_result(model, _each(env, ids, delete, True), preview)


TOOLS = [
    create_record,
    update_record,
    delete_record,
    batch_create,
    batch_update,
    batch_delete,
]
