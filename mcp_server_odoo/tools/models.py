"""Tools that describe the data model: which models exist and what fields they have.

Both read the registry rather than ``ir.model`` records, which a plain user may
not be allowed to read, and show only what the user can read: models without
read access are left out, and so are fields reserved to groups the user lacks.
"""

from . import ToolError, tool
from ._domain import is_searchable, is_sortable, readable_model

LIST_CAP = 500
LIST_DEFAULT = 100

MODEL_ITEM = {
    "type": "object",
    "properties": {
        "model": {"type": "string", "description": "Technical name, e.g. res.partner."},
        "description": {"type": "string"},
        "transient": {"type": "boolean"},
    },
    "required": ["model", "description", "transient"],
    "additionalProperties": False,
}

FIELD_ITEM = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "type": {"type": "string"},
        "string": {"type": "string"},
        "help": {"type": ["string", "null"]},
        "required": {"type": "boolean"},
        "readonly": {"type": "boolean"},
        "store": {"type": "boolean"},
        "searchable": {"type": "boolean"},
        "sortable": {"type": "boolean"},
        "relation": {
            "type": ["string", "null"],
            "description": "Model the field points to, for relational fields.",
        },
        "selection": {
            "type": ["array", "null"],
            "description": "Allowed [key, label] pairs, for selection fields.",
            "items": {
                "type": "array",
                "prefixItems": [
                    {"type": ["string", "integer"]},
                    {"type": "string"},
                ],
                "minItems": 2,
                "maxItems": 2,
            },
        },
    },
    "required": [
        "name",
        "type",
        "string",
        "help",
        "required",
        "readonly",
        "store",
        "searchable",
        "sortable",
        "relation",
        "selection",
    ],
    "additionalProperties": False,
}


@tool(
    "list_models",
    title="List models",
    description=(
        "List the Odoo models you can read, by technical name and description. "
        "Abstract models and models without read access are never listed; "
        "transient (wizard) models only with include_transient. Filter with "
        "`query`, a case-insensitive substring of the name or description."
    ),
    input_schema={
        "properties": {
            "query": {"type": "string", "maxLength": 200},
            "include_transient": {"type": "boolean", "default": False},
            "limit": {
                "type": "integer",
                "minimum": 1,
                "maximum": LIST_CAP,
                "default": LIST_DEFAULT,
            },
            "offset": {"type": "integer", "minimum": 0, "default": 0},
        },
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "models": {"type": "array", "items": MODEL_ITEM},
            "count": {"type": "integer", "description": "Models matching in all."},
            "next_offset": {"type": ["integer", "null"]},
        },
        "required": ["models", "count", "next_offset"],
        "additionalProperties": False,
    },
)
def list_models(env, arguments):
    query = (arguments.get("query") or "").strip().lower()
    include_transient = arguments.get("include_transient", False)
    limit = arguments.get("limit", LIST_DEFAULT)
    offset = arguments.get("offset", 0)

    matches = []
    for name in sorted(env.registry):
        model = env[name]
        if model._abstract or (model._transient and not include_transient):
            continue
        description = model._description or name
        if query and query not in name.lower() and query not in description.lower():
            continue
        if model.has_access("read"):
            matches.append(
                {
                    "model": name,
                    "description": description,
                    "transient": model._transient,
                }
            )

    page = matches[offset : offset + limit]
    following = offset + limit
    return {
        "models": page,
        "count": len(matches),
        "next_offset": following if following < len(matches) else None,
    }


@tool(
    "describe_model",
    title="Describe a model",
    description=(
        "Describe the fields of one Odoo model that you can read: type, label, "
        "help, required, readonly, stored, the related model, selection values, "
        "and whether the field can be used in a domain (searchable) or in an "
        "order (sortable). Fields reserved to groups you are not in are left out."
    ),
    input_schema={
        "properties": {
            "model": {"type": "string", "minLength": 1, "maxLength": 128},
            "fields": {
                "type": "array",
                "items": {"type": "string"},
                "maxItems": 500,
                "description": "Only these fields; all readable fields when absent.",
            },
        },
        "required": ["model"],
        "additionalProperties": False,
    },
    output_schema={
        "properties": {
            "model": {"type": "string"},
            "description": {"type": "string"},
            "transient": {"type": "boolean"},
            "default_order": {"type": "string"},
            "fields": {"type": "array", "items": FIELD_ITEM},
        },
        "required": ["model", "description", "transient", "default_order", "fields"],
        "additionalProperties": False,
    },
)
def describe_model(env, arguments):
    model = readable_model(env, arguments["model"])
    wanted = arguments.get("fields")
    if wanted:
        unknown = [name for name in wanted if not _visible(model, name)]
        if unknown:
            listed = ", ".join(repr(name) for name in unknown)
            raise ToolError(f"Model {model._name!r} has no readable field(s) {listed}.")

    described = [
        _describe_field(model, field)
        for name, field in model._fields.items()
        if (not wanted or name in wanted) and field.is_accessible(env)
    ]
    return {
        "model": model._name,
        "description": model._description or model._name,
        "transient": model._transient,
        "default_order": model._order or "id",
        "fields": described,
    }


def _visible(model, name):
    field = model._fields.get(name)
    return field is not None and field.is_accessible(model.env)


def _describe_field(model, field):
    # get_description() translates string, help and selection labels into the
    # user's language, as the web client shows them.
    info = field.get_description(
        model.env, attributes=("string", "help", "relation", "selection")
    )
    selection = info.get("selection") if field.type == "selection" else None
    return {
        "name": field.name,
        "type": field.type,
        "string": info.get("string") or field.name,
        "help": info.get("help") or None,
        "required": bool(field.required),
        "readonly": bool(field.readonly),
        "store": bool(field.store),
        "searchable": is_searchable(field),
        "sortable": is_sortable(field),
        "relation": info.get("relation") or None,
        "selection": [[key, str(label)] for key, label in selection]
        if selection
        else None,
    }


TOOLS = [list_models, describe_model]
