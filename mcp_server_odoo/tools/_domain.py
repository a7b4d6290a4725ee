"""Checks on what a client may put in a search: domain, order, fields, limit.

Everything here runs with the user's environment and refuses, by name, any
field the user cannot read, at every hop of a dotted path. Odoo checks field
access again when it builds the query; these checks exist to give the client a
clear message before any SQL runs, and to keep values to plain JSON data.
"""

import re
from datetime import datetime, timezone

from odoo import fields as odoo_fields
from odoo.osv import expression

from . import AccessRefused, ToolError

DEFAULT_LIMIT = 80
MAX_LIMIT_DEFAULT = 500
MAX_BINARY_DEFAULT = 1024 * 1024
# A model can have hundreds of stored fields; the default selection stops here.
DEFAULT_FIELDS_CAP = 100
# Kinds of field left out of the default selection: big or rarely useful in bulk.
HEAVY_TYPES = frozenset({"binary", "html", "properties", "properties_definition"})

PREFIX_ARITY = {
    expression.AND_OPERATOR: 2,
    expression.OR_OPERATOR: 2,
    expression.NOT_OPERATOR: 1,
}
OPERATORS = frozenset(expression.TERM_OPERATORS) | {"<>"}
LIST_OPERATORS = frozenset({"in", "not in"})
SUBDOMAIN_OPERATORS = frozenset({"any", "not any"})
HIERARCHY_OPERATORS = frozenset({"child_of", "parent_of"})
PATTERN_OPERATORS = frozenset(
    {"like", "not like", "ilike", "not ilike", "=like", "=ilike"}
)
RELATIONAL_TYPES = frozenset({"many2one", "one2many", "many2many"})

FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ORDER_TERM = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?\s*$", re.IGNORECASE
)


# ---------------------------------------------------------------------------
# settings


def _int_param(env, key, default):
    # sudo: ir.config_parameter is unreadable for plain users, and these keys are
    # the addon's own settings, not customer data.
    raw = env["ir.config_parameter"].sudo().get_param(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def max_limit(env):
    return _int_param(env, "mcp_server_odoo.max_limit", MAX_LIMIT_DEFAULT)


def max_binary_bytes(env):
    return _int_param(env, "mcp_server_odoo.max_binary_bytes", MAX_BINARY_DEFAULT)


def effective_limit(env, requested):
    """The requested limit, or the default, never above the configured maximum."""
    return min(requested or DEFAULT_LIMIT, max_limit(env))


# ---------------------------------------------------------------------------
# models and fields


def readable_model(env, model_name):
    """The user's recordset of ``model_name``, or a ToolError saying why not."""
    if not isinstance(model_name, str) or model_name not in env.registry:
        raise ToolError(f"Unknown model {model_name!r}.")
    model = env[model_name]
    if model._abstract:
        raise ToolError(f"Model {model_name!r} is abstract and holds no records.")
    if not model.has_access("read"):
        raise AccessRefused(
            f"You are not allowed to read records of model {model_name!r}."
        )
    return model


def readable_field(model, name):
    """The field ``name`` of ``model`` if the user may read it, else a ToolError.

    An unknown field and a field reserved to other groups get the same message,
    so that the answer does not reveal which fields exist beyond the user's reach.
    """
    field = model._fields.get(name) if isinstance(name, str) else None
    if field is None or not field.is_accessible(model.env):
        message = f"Model {model._name!r} has no field {name!r} that you can read."
        if field is None:
            raise ToolError(message)
        # The same words to the client; the audit records Odoo's refusal.
        raise AccessRefused(message, rule="odoo:field_groups")
    return field


def is_sortable(field):
    return bool(field.store and field.column_type)


def is_searchable(field):
    return bool(field.store or field.search)


def default_fields(model):
    """Readable stored columns, without binary or heavy ones, plus display_name."""
    names = ["id", "display_name"]
    for name, field in model._fields.items():
        if name in names or not is_sortable(field) or field.type in HEAVY_TYPES:
            continue
        if field.is_accessible(model.env):
            names.append(name)
    return names[:DEFAULT_FIELDS_CAP]


def resolve_fields(model, names):
    """The field names to read: the default set, or ``names`` once all are readable."""
    if not names:
        return default_fields(model)
    bad = [name for name in names if not _is_readable(model, name)]
    if bad:
        listed = ", ".join(repr(name) for name in bad)
        message = f"Model {model._name!r} has no readable field(s) {listed}."
        if all(name in model._fields for name in bad):
            # Fields that exist, outside the user's groups: Odoo's refusal.
            raise AccessRefused(message, rule="odoo:field_groups")
        raise ToolError(message)
    unique = list(dict.fromkeys(names))
    return unique if "id" in unique else ["id", *unique]


def _is_readable(model, name):
    field = model._fields.get(name)
    return field is not None and field.is_accessible(model.env)


# ---------------------------------------------------------------------------
# order


def parse_order(model, order):
    """A normalized ``"field dir, ..."`` string, or None for the model's default.

    Only plain names of readable stored fields with an optional asc/desc are
    accepted; everything else (functions, NULLS clauses, SQL) is refused.
    """
    if order is None or not order.strip():
        return None
    terms = []
    for part in order.split(","):
        match = ORDER_TERM.match(part)
        if not match:
            raise ToolError(
                f"Invalid order term {part.strip()!r}: use 'field', 'field asc' or "
                "'field desc', separated by commas."
            )
        field = readable_field(model, match.group(1))
        if not is_sortable(field):
            raise ToolError(
                f"Field {field.name!r} of model {model._name!r} is not stored and "
                "cannot be used to sort."
            )
        direction = (match.group(2) or "asc").lower()
        terms.append(f"{field.name} {direction}")
    return ", ".join(terms)


# ---------------------------------------------------------------------------
# domain


def validate_domain(model, domain, where="domain"):
    """Check ``domain`` as an Odoo domain on ``model``; return it as Odoo wants it.

    ``where`` prefixes every message so that the client can find the culprit,
    e.g. ``domain[2]`` or ``domain[0][2][1]`` inside an ``any`` sub-domain.
    """
    if domain is None:
        return []
    if not isinstance(domain, list):
        raise ToolError(
            f"{where} must be a JSON array of terms; domains are never evaluated "
            "as code."
        )
    result = []
    pending = []  # [index, operator, operands still missing]
    for index, token in enumerate(domain):
        at = f"{where}[{index}]"
        if isinstance(token, str) and token in PREFIX_ARITY:
            pending.append([index, token, PREFIX_ARITY[token]])
            result.append(token)
            continue
        result.append(_validate_term(model, token, at))
        _complete_operand(pending)
    if pending:
        index, operator, missing = pending[-1]
        raise ToolError(
            f"{where}[{index}]: operator {operator!r} lacks {missing} term(s) after "
            "it; the prefix operators and terms do not balance."
        )
    return result


def _complete_operand(pending):
    # A finished term is one operand of the innermost open operator; an operator
    # that gets all its operands is itself one operand of the next one out.
    while pending:
        pending[-1][2] -= 1
        if pending[-1][2] > 0:
            return
        pending.pop()


def _validate_term(model, term, at):
    if not isinstance(term, list) or len(term) != 3:
        raise ToolError(
            f"{at}: expected '&', '|', '!' or a term [field, operator, value], "
            f"got {_short(term)}."
        )
    path, operator, value = term
    if not isinstance(operator, str) or operator.lower() not in OPERATORS:
        raise ToolError(f"{at}: unknown operator {_short(operator)}.")
    operator = "!=" if operator == "<>" else operator.lower()
    field = _resolve_path(model, path, at)
    if operator in SUBDOMAIN_OPERATORS:
        return [path, operator, _validate_subdomain(model, field, value, at)]
    return [path, operator, _check_value(field, operator, value, at)]


def _resolve_path(model, path, at):
    """The last field of a dotted path, each hop readable and searchable."""
    if not isinstance(path, str) or not path:
        raise ToolError(f"{at}: the field must be a field name, got {_short(path)}.")
    current = model
    names = path.split(".")
    field = None
    for position, name in enumerate(names):
        if not FIELD_NAME.match(name):
            raise ToolError(f"{at}: {path!r} is not a field name or dotted path.")
        if field is not None:
            current = _comodel(current, field, at)
        try:
            field = readable_field(current, name)
        except ToolError as exc:
            raise ToolError(f"{at}: {exc}") from None
        if not is_searchable(field):
            raise ToolError(
                f"{at}: field {name!r} of model {current._name!r} cannot be searched."
            )
        if position < len(names) - 1 and field.type not in RELATIONAL_TYPES:
            raise ToolError(
                f"{at}: {path!r} goes through {name!r}, which is not a relational "
                "field."
            )
    return field


def _comodel(model, field, at):
    """The comodel of a relational hop, if the user may read its records."""
    comodel = model.env[field.comodel_name]
    if not comodel.has_access("read"):
        raise ToolError(
            f"{at}: you are not allowed to read records of model {comodel._name!r}."
        )
    return comodel


def _validate_subdomain(model, field, value, at):
    if field.type not in RELATIONAL_TYPES:
        raise ToolError(f"{at}: 'any' and 'not any' apply only to relational fields.")
    return validate_domain(_comodel(model, field, at), value, where=f"{at}[2]")


def _check_value(field, operator, value, at):
    """``value`` checked against the operator and field type, dates normalized."""
    if operator in LIST_OPERATORS:
        if not isinstance(value, list):
            raise ToolError(f"{at}: operator {operator!r} needs a list of values.")
        return [_check_scalar(field, operator, item, at) for item in value]
    if isinstance(value, list):
        if operator not in HIERARCHY_OPERATORS and field.type not in RELATIONAL_TYPES:
            raise ToolError(f"{at}: operator {operator!r} needs a single value.")
        return [_check_scalar(field, operator, item, at) for item in value]
    return _check_scalar(field, operator, value, at)


def _check_scalar(field, operator, value, at):
    if isinstance(value, (dict, list)):
        raise ToolError(f"{at}: values must be strings, numbers, booleans or null.")
    if isinstance(value, str) and "\x00" in value:
        raise ToolError(f"{at}: text values cannot contain NUL characters.")
    if value is None or value is False or operator in PATTERN_OPERATORS:
        return value
    if field.type == "datetime" and isinstance(value, str):
        return _utc_datetime(field, value, at)
    checker = _TYPE_CHECKS.get(field.type)
    if checker and not checker(value):
        raise ToolError(
            f"{at}: {_short(value)} is not a valid value for {field.type} field "
            f"{field.name!r}."
        )
    return value


def _utc_datetime(field, value, at):
    """An ISO 8601 date-time as Odoo stores it: naive UTC, 'YYYY-MM-DD HH:MM:SS'."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ToolError(
            f"{at}: {_short(value)} is not an ISO 8601 date-time for field "
            f"{field.name!r}."
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return odoo_fields.Datetime.to_string(parsed)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value):
    return _is_number(value) and float(value).is_integer()


def _is_record_ref(value):
    # Relational fields take ids, or a name that Odoo matches like name_search.
    return _is_integer(value) or isinstance(value, str)


def _is_date(value):
    if not isinstance(value, str):
        return False
    try:
        odoo_fields.Date.to_date(value)
    except ValueError:
        return False
    return True


def _is_text(value):
    return isinstance(value, str)


_TYPE_CHECKS = {
    "integer": _is_integer,
    "many2one_reference": _is_integer,
    "float": _is_number,
    "monetary": _is_number,
    "boolean": lambda v: isinstance(v, bool) or v in (0, 1),
    "many2one": _is_record_ref,
    "one2many": _is_record_ref,
    "many2many": _is_record_ref,
    "date": _is_date,
    "datetime": lambda v: False,  # strings are handled by _utc_datetime
    "char": _is_text,
    "text": _is_text,
    "html": _is_text,
    "selection": lambda v: isinstance(v, (str, int)) and not isinstance(v, bool),
}


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
