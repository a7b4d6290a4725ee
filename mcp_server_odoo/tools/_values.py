"""Checks on what a client may write: which models, which fields, which values.

Every value is checked against its field's type before the ORM sees it, so that
a mistake gets a message that names the field, and so that what reaches
``create``/``write`` is plain data of the expected shape. The ORM then applies
access rights, record rules, company checks and constraints as it always does.

Some models hand out privileges or run code. They are closed to MCP writes
whatever the user's groups (an administrator's token must not turn a prompt
injection into code execution) until an administrator lists one in the
``mcp_server_odoo.write_open_models`` setting.
"""

import base64
import binascii
import math
from datetime import datetime, timezone

from odoo import fields as odoo_fields

from . import ToolError
from ._domain import _int_param

MAX_BATCH_DEFAULT = 500
INT4 = (-(2**31), 2**31 - 1)

# Exact model names closed to writes, and name prefixes closing whole families.
CLOSED_MODELS = frozenset(
    {
        "res.groups",
        "res.users.apikeys",
        "res.users.apikeys.description",
        "res.users.log",
        "ir.rule",
        "ir.config_parameter",
        "ir.cron",
        "ir.cron.trigger",
        "ir.default",
        "ir.mail_server",
        "ir.asset",
        "ir.logging",
        "ir.sequence",
        "mail.template",
        "auth_totp.device",
        "fetchmail.server",
    }
)
CLOSED_PREFIXES = (
    "ir.model",  # models, fields, access rules, external ids, constraints
    "ir.actions.",  # server actions (code), reports, window actions
    "ir.server.",
    "ir.ui.",  # views and menus
    "ir.module.",
    "ir.qweb",
    "ir.embedded.",
    "base.automation",
    "res.groups.",
    "mcp.",  # the addon's own tokens, clients, audit, policies
)
# res.users is open only for these fields (a subset of what Odoo lets users
# change on their own preferences); groups, password, login, companies and the
# in_group_*/sel_groups_* shortcuts stay closed.
MAGIC_FIELDS = frozenset({"id", "create_uid", "create_date", "write_uid", "write_date"})
USER_FIELDS = frozenset({"name", "email", "signature", "lang", "tz", "image_1920"})

WRITABLE_TYPES = frozenset(
    {
        "char",
        "text",
        "html",
        "boolean",
        "integer",
        "float",
        "monetary",
        "date",
        "datetime",
        "selection",
        "many2one",
        "many2one_reference",
        "reference",
        "binary",
        "image",
        "one2many",
        "many2many",
    }
)
# x2many commands the client may send: create, update, unlink (many2many:
# remove the link only), link, set (many2many). Delete (2) and clear (5) are
# refused: removing records is what delete_record is for.
CREATE, UPDATE, UNLINK, LINK, SET = 0, 1, 3, 4, 6
X2MANY_NOTE = (
    "one2many/many2many take a list of commands: [0, 0, {values}] creates a "
    "linked record, [1, id, {values}] updates one, [4, id] links an existing "
    "record; for many2many also [3, id] removes a link (the record stays) and "
    "[6, 0, [ids]] replaces all links, and a plain list of ids means the same as "
    "[6, 0, ids]. Deleting through a relation ([2, id], [5]) is refused."
)


# ---------------------------------------------------------------------------
# settings


def max_batch_size(env):
    return _int_param(env, "mcp_server_odoo.max_batch_size", MAX_BATCH_DEFAULT)


def open_models(env):
    # sudo: the addon's own setting, unreadable for plain users.
    raw = (
        env["ir.config_parameter"]
        .sudo()
        .get_param("mcp_server_odoo.write_open_models", "")
    )
    return frozenset(name.strip() for name in (raw or "").split(",") if name.strip())


def is_closed(model_name, opened=frozenset()):
    if model_name in opened:
        return False
    if model_name == "res.users":
        return False  # closed field by field, see USER_FIELDS
    return model_name in CLOSED_MODELS or model_name.startswith(CLOSED_PREFIXES)


# ---------------------------------------------------------------------------
# models


OPERATION_WORDS = {"create": "create", "write": "modify", "unlink": "delete"}


def writable_model(env, model_name, operation):
    """The user's empty recordset of ``model_name`` if MCP may ``operation`` it."""
    if not isinstance(model_name, str) or model_name not in env.registry:
        raise ToolError(f"Unknown model {model_name!r}.")
    model = env[model_name]
    if model._abstract or model._transient:
        raise ToolError(
            f"Model {model_name!r} holds no records that can be written through MCP."
        )
    check_open(env, model_name, operation)
    if not model.has_access(operation):
        raise ToolError(
            f"You are not allowed to {OPERATION_WORDS[operation]} records of "
            f"model {model_name!r}."
        )
    return model


def check_open(env, model_name, operation="write"):
    opened = open_models(env)
    if is_closed(model_name, opened):
        raise ToolError(
            f"Model {model_name!r} is closed to writes through MCP: it grants "
            "privileges or runs code. An administrator can open it in the MCP "
            "settings (models open to writes)."
        )
    if model_name == "res.users" and operation != "write" and model_name not in opened:
        raise ToolError(
            "Users cannot be created or deleted through MCP unless an "
            "administrator opens model 'res.users' in the MCP settings."
        )


def visible_records(model, ids, what):
    """``model.browse(ids)`` if the user can see every one, else a ToolError."""
    unique = list(dict.fromkeys(ids))
    found = set(
        model.with_context(active_test=False).search([("id", "in", unique)]).ids
    )
    missing = [record_id for record_id in unique if record_id not in found]
    if missing:
        listed = ", ".join(str(record_id) for record_id in missing[:20])
        raise ToolError(
            f"{what}: no {model._name} record with id {listed} (or you may not see it)."
        )
    return model.browse(unique)


# ---------------------------------------------------------------------------
# values


class ValueChecker:
    """Checks the ``values`` of one or more records of one model.

    Many2one and link ids are collected while checking and verified at the
    end, with one search per related model, so that a batch of ten thousand
    records costs a handful of queries.
    """

    def __init__(self, model, *, opened=None):
        self.model = model
        self.env = model.env
        self.opened = open_models(self.env) if opened is None else opened
        self._refs = {}  # comodel name -> {id: first place it was named}

    # -- public --------------------------------------------------------------

    def check(self, values, where="values"):
        """``values`` converted for the ORM; raises ToolError naming the culprit."""
        if not isinstance(values, dict) or not values:
            raise ToolError(f"{where} must be a non-empty object of field values.")
        return {
            name: self._check_field(self.model, name, value, f"{where}.{name}")
            for name, value in values.items()
        }

    def verify_references(self):
        """Every many2one or linked id named so far exists and is visible."""
        for comodel_name, places in self._refs.items():
            comodel = self.env[comodel_name]
            found = set(
                comodel.with_context(active_test=False)
                .search([("id", "in", list(places))])
                .ids
            )
            for record_id, where in places.items():
                if record_id not in found:
                    raise ToolError(
                        f"{where}: no {comodel_name} record with id {record_id} "
                        "(or you may not see it)."
                    )
        self._refs = {}

    # -- fields --------------------------------------------------------------

    def _check_field(self, model, name, value, where):
        field = self._writable_field(model, name, where)
        if value is None or (value is False and field.type != "boolean"):
            return self._empty(field, where)
        checker = getattr(self, f"_check_{field.type}", None)
        if checker is None:
            checker = (
                self._check_text if field.type in ("char", "text", "html") else None
            )
        return checker(model, field, value, where)

    def _writable_field(self, model, name, where):
        field = model._fields.get(name) if isinstance(name, str) else None
        if field is None or not field.is_accessible(model.env):
            raise ToolError(
                f"{where}: model {model._name!r} has no field {name!r} that you can "
                "write."
            )
        if model._name == "res.users" and "res.users" not in self.opened:
            if name not in USER_FIELDS:
                raise ToolError(
                    f"{where}: field {name!r} of res.users is closed to writes "
                    "through MCP (groups, password, login and companies grant "
                    "privileges)."
                )
        if field.compute and not field.store and not (field.inverse or field.inherited):
            raise ToolError(
                f"{where}: field {name!r} of {model._name} is computed and not "
                "stored; write the fields it is computed from."
            )
        if name in MAGIC_FIELDS or field.readonly:
            raise ToolError(f"{where}: field {name!r} of {model._name} is read-only.")
        if field.type not in WRITABLE_TYPES:
            raise ToolError(
                f"{where}: fields of type {field.type!r} cannot be written through MCP."
            )
        return field

    def _empty(self, field, where):
        if field.required:
            raise ToolError(f"{where}: field {field.name!r} is required.")
        if field.type in ("one2many", "many2many"):
            raise ToolError(
                f"{where}: give a list of commands; [5] (clear) is refused, use "
                "[6, 0, []] on a many2many."
            )
        return False

    # -- scalars -------------------------------------------------------------

    def _check_text(self, model, field, value, where):
        if not isinstance(value, str):
            raise ToolError(f"{where}: {field.type} field {field.name!r} needs text.")
        if "\x00" in value:
            raise ToolError(f"{where}: text cannot contain NUL characters.")
        if field.type == "char" and field.size and len(value) > field.size:
            raise ToolError(
                f"{where}: at most {field.size} characters for {field.name!r}."
            )
        return value

    def _check_boolean(self, model, field, value, where):
        if not isinstance(value, bool):
            raise ToolError(f"{where}: boolean field {field.name!r} needs true/false.")
        return value

    def _check_integer(self, model, field, value, where):
        number = _number(value, where, field)
        if not float(number).is_integer() or not INT4[0] <= number <= INT4[1]:
            raise ToolError(
                f"{where}: integer field {field.name!r} needs a whole number "
                f"between {INT4[0]} and {INT4[1]}."
            )
        return int(number)

    def _check_float(self, model, field, value, where):
        return float(_number(value, where, field))

    _check_monetary = _check_float

    def _check_date(self, model, field, value, where):
        try:
            parsed = odoo_fields.Date.to_date(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or len(value) != 10:
            raise ToolError(
                f"{where}: date field {field.name!r} needs YYYY-MM-DD, got "
                f"{_short(value)}."
            )
        return odoo_fields.Date.to_string(parsed)

    def _check_datetime(self, model, field, value, where):
        return odoo_fields.Datetime.to_string(parse_datetime(value, where))

    def _check_selection(self, model, field, value, where):
        keys = [key for key, _label in field._description_selection(model.env)]
        if value not in keys:
            shown = ", ".join(repr(key) for key in keys[:30])
            raise ToolError(
                f"{where}: {_short(value)} is not a value of selection "
                f"{field.name!r}; one of {shown}."
            )
        return value

    def _check_binary(self, model, field, value, where):
        if not isinstance(value, str):
            raise ToolError(f"{where}: binary field {field.name!r} needs base64 text.")
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ToolError(f"{where}: {field.name!r} is not valid base64.") from None
        return value

    _check_image = _check_binary

    # -- relations -----------------------------------------------------------

    def _check_many2one(self, model, field, value, where):
        if isinstance(value, dict):  # the {id, display_name} shape the reads return
            value = value.get("id")
        record_id = _record_id(value, where)
        self._reference(field.comodel_name, record_id, where)
        return record_id

    def _check_many2one_reference(self, model, field, value, where):
        return _record_id(value, where)

    def _check_reference(self, model, field, value, where):
        parts = value.split(",") if isinstance(value, str) else []
        if len(parts) != 2 or not parts[1].strip().isdigit():
            raise ToolError(
                f"{where}: reference field {field.name!r} needs 'model,id'."
            )
        comodel_name, record_id = parts[0].strip(), int(parts[1])
        allowed = [key for key, _label in field._description_selection(model.env)]
        if comodel_name not in allowed or comodel_name not in model.env.registry:
            raise ToolError(f"{where}: {comodel_name!r} is not allowed here.")
        self._reference(comodel_name, record_id, where)
        return f"{comodel_name},{record_id}"

    def _check_many2many(self, model, field, value, where):
        return self._commands(model, field, value, where)

    _check_one2many = _check_many2many

    def _commands(self, model, field, value, where):
        if not isinstance(value, list):
            raise ToolError(f"{where}: {field.type} field {field.name!r} needs a list.")
        if value and all(_is_id(item) for item in value):
            if field.type != "many2many":
                raise ToolError(
                    f"{where}: a list of ids replaces the links of a many2many; "
                    f"for one2many {field.name!r} use [0, 0, {{...}}] or [4, id]."
                )
            value = [[SET, 0, value]]
        comodel = model.env[field.comodel_name]
        return [
            self._command(comodel, field, item, f"{where}[{index}]")
            for index, item in enumerate(value)
        ]

    def _command(self, comodel, field, command, where):
        if (
            not isinstance(command, list)
            or not command
            or command[0]
            not in (
                CREATE,
                UPDATE,
                UNLINK,
                LINK,
                SET,
            )
        ):
            raise ToolError(
                f"{where}: not an allowed command; allowed: [0, 0, {{values}}], "
                "[1, id, {values}], [4, id], and on many2many [3, id] and "
                "[6, 0, [ids]]."
            )
        code = command[0]
        if code in (UNLINK, SET) and field.type != "many2many":
            raise ToolError(f"{where}: command {code} is allowed on many2many only.")
        if code in (CREATE, UPDATE):
            return self._nested_values(comodel, command, where)
        if code == SET:
            ids = command[2] if len(command) == 3 else None
            if not isinstance(ids, list) or not all(_is_id(item) for item in ids):
                raise ToolError(f"{where}: [6, 0, [ids]] needs a list of ids.")
            for record_id in ids:
                self._reference(comodel._name, record_id, where)
            return (SET, 0, list(ids))
        if len(command) != 2:
            raise ToolError(f"{where}: command {code} is [{code}, id].")
        record_id = _record_id(command[1], where)
        self._reference(comodel._name, record_id, where)
        return (code, record_id)

    def _nested_values(self, comodel, command, where):
        code = command[0]
        if len(command) != 3 or not isinstance(command[2], dict):
            raise ToolError(f"{where}: command {code} is [{code}, id, {{values}}].")
        # Records made or changed through a relation obey the same rules.
        check_open(self.env, comodel._name, "create" if code == CREATE else "write")
        record_id = 0
        if code == UPDATE:
            record_id = _record_id(command[1], where)
            self._reference(comodel._name, record_id, where)
        values = {
            name: self._check_field(comodel, name, value, f"{where}.{name}")
            for name, value in command[2].items()
        }
        return (code, record_id, values)

    def _reference(self, comodel_name, record_id, where):
        if not self.env[comodel_name].has_access("read"):
            raise ToolError(
                f"{where}: you are not allowed to read records of model "
                f"{comodel_name!r}."
            )
        self._refs.setdefault(comodel_name, {}).setdefault(record_id, where)


def parse_datetime(value, where):
    """An ISO 8601 date-time as a naive UTC datetime (no zone means UTC)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError, TypeError):
        raise ToolError(
            f"{where}: {_short(value)} is not an ISO 8601 date-time."
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def _number(value, where, field):
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ToolError(f"{where}: {field.type} field {field.name!r} needs a number.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError(f"{where}: {field.name!r} needs a finite number.")
    return value


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _record_id(value, where):
    if not _is_id(value):
        raise ToolError(f"{where}: expected a record id (a positive integer).")
    return value


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
