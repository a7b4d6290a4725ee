"""Checks on what a client may write: which models, which fields, which values.

Every value is checked against its field's type before the ORM sees it, so that
a mistake gets a message that names the field, and so that what reaches
``create``/``write`` is plain data of the expected shape. The ORM then applies
access rights, record rules, company checks and constraints as it always does.

Some models hand out privileges or run code. They are closed to MCP writes
whatever the user's groups (an administrator's token must not turn a prompt
injection into code execution) until an administrator lists one in the
``mcp_server_odoo.write_open_models`` setting.

A write reaches further than the record it names: linking records through a
one2many writes their inverse many2one, a many2many link writes the comodel's
many2many on the same table, a many2one writes the one2many that is its
inverse, and a related or inherited field writes the field it relates to. Each
of these is checked as the write it is, so that no relation opens a back door
into a closed model or a closed field (:meth:`ValueChecker._check_landing`).
"""

import base64
import binascii
import math
from datetime import datetime, timezone

from odoo import fields as odoo_fields

from . import AccessRefused, ToolError
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
        "res.users.deletion",  # a queue that a cron empties by deleting users
        "ir.rule",
        "ir.config_parameter",
        "ir.cron",
        "ir.cron.trigger",
        "ir.default",
        "ir.mail_server",
        "ir.asset",
        "ir.logging",
        "ir.sequence",
        "ir.sequence.date_range",  # the counters of date-ranged sequences
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
    "theme.",  # website themes' views and assets, copied into ir.ui.view/ir.asset
)
MAGIC_FIELDS = frozenset({"id", "create_uid", "create_date", "write_uid", "write_date"})
# res.users is open only for these fields, and only on the caller's own user (a
# subset of what Odoo lets users change on their own preferences): another
# user's e-mail receives their password resets. Groups, password, login,
# companies and the in_group_*/sel_groups_* shortcuts stay closed. The same
# fields of a contact that is another user's partner are that user's too.
USER_FIELDS = frozenset({"name", "email", "signature", "lang", "tz", "image_1920"})
# Fields of ir.attachment that say which record an attachment belongs to: they
# are written only on the attachment itself, where the target is checked.
ATTACHMENT_TARGET_FIELDS = frozenset({"res_model", "res_id", "res_field"})

# Audit rules of the refusals of this file (Odoo's own refusals are odoo:*).
CLOSED_MODEL = "mcp:closed_model"
CLOSED_FIELD = "mcp:closed_field"
OPEN_HINT = "An administrator can open it in the MCP settings (models open to writes)."

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
    if not model.has_access(operation) and not _own_preferences(
        env, model_name, operation
    ):
        raise AccessRefused(
            f"You are not allowed to {OPERATION_WORDS[operation]} records of "
            f"model {model_name!r}.",
            rule="odoo:acl",
        )
    return model


def _own_preferences(env, model_name, operation):
    """Whether the write is one of a user's own preferences, which Odoo allows
    every user without an access right on res.users (SELF_WRITEABLE_FIELDS).

    The checks of :class:`ValueChecker` keep such a write to USER_FIELDS of
    the caller's own user, and the ORM checks the same again.
    """
    return (
        model_name == "res.users"
        and operation == "write"
        and model_name not in open_models(env)
    )


def check_open(env, model_name, operation="write", opened=None):
    """Refuse ``operation`` on ``model_name`` where MCP keeps the model closed.

    ``opened`` is :func:`open_models`, for callers that have it already.
    """
    opened = open_models(env) if opened is None else opened
    if is_closed(model_name, opened):
        raise AccessRefused(
            f"Model {model_name!r} is closed to writes through MCP: it grants "
            f"privileges or runs code. {OPEN_HINT}",
            rule=CLOSED_MODEL,
        )
    if operation == "write":
        return
    if model_name == "res.users" and model_name not in opened:
        raise AccessRefused(
            "Users cannot be created or deleted through MCP unless an "
            "administrator opens model 'res.users' in the MCP settings.",
            rule=CLOSED_MODEL,
        )
    parent = closed_parent(env, model_name, opened)
    if parent:
        # Writes of the inherited fields are refused field by field; a new or
        # deleted record is a new or deleted record of the parent as well.
        raise AccessRefused(
            f"Each {model_name} record is also a {parent} record (it inherits "
            f"that model), so it cannot be created or deleted through MCP while "
            f"model {parent!r} is closed to writes. {OPEN_HINT}",
            rule=CLOSED_MODEL,
        )


def closed_parent(env, model_name, opened):
    """A closed model that ``model_name`` inherits by delegation, or None."""
    for parent in env[model_name]._inherits:
        if is_closed(parent, opened) or (
            parent == "res.users" and parent not in opened
        ):
            return parent
        found = closed_parent(env, parent, opened)
        if found:
            return found
    return None


def visible_records(model, ids, what):
    """``model.browse(ids)`` if the user can see every one.

    An id that does not exist is a ToolError; one outside the user's record
    rules is Odoo's refusal (AccessRefused). Both get the same words, so that
    the answer does not tell which ids exist.
    """
    unique = list(dict.fromkeys(ids))
    found = set(
        model.with_context(active_test=False).search([("id", "in", unique)]).ids
    )
    missing = [record_id for record_id in unique if record_id not in found]
    if missing:
        _refuse_unseen(model, missing, what)
    return model.browse(unique)


def _refuse_unseen(model, missing, where):
    listed = ", ".join(str(record_id) for record_id in missing[:20])
    message = (
        f"{where}: no {model._name} record with id {listed} (or you may not see it)."
    )
    # exists() asks the table, not the record rules: what it finds is there,
    # and hidden from the user by a record rule.
    if model.browse(missing).exists():
        raise AccessRefused(message, rule="odoo:record_rule")
    raise ToolError(message)


def field_landings(env, field):
    """What a write of ``field`` writes besides it, as (model, field name) pairs.

    Returns ``(always, links)``. ``always`` holds what any write of the field
    reaches: the field a related or inherited field stands for, and the
    one2many whose inverse a many2one is. ``links`` holds what x2many commands
    that change links ([0, ...], [3, id], [4, id], [6, 0, ids]) reach: the
    inverse many2one of a one2many's records, and the comodel's many2many on
    the same relation table. [1, id, values] only writes the linked record,
    whose values are checked on their own.
    """
    always = []
    base = field
    while base.related_field is not None:
        base = base.related_field
        always.append((base.model_name, base.name))
    links = []
    if base.relational:
        comodel = env[base.comodel_name]
        for other in comodel._fields.values():
            if other.comodel_name != base.model_name or other is base:
                continue
            if base.type == "many2one" and other.type == "one2many":
                if other.inverse_name == base.name:
                    always.append((comodel._name, other.name))
            elif base.type == "many2many" and other.type == "many2many":
                if base.relation and other.relation == base.relation:
                    links.append((comodel._name, other.name))
        if base.type == "one2many":
            links.append((comodel._name, base.inverse_name))
    return always, links


# ---------------------------------------------------------------------------
# attachments


def check_attachment_targets(env, attachments, values_list, opened=None):
    """Attachments may only point at records the user may write, of open models.

    ``attachments`` are the attachments written (empty when creating) and
    ``values_list`` the values written: one dict per new attachment, or the
    one dict written to all of ``attachments``.
    """
    opened = open_models(env) if opened is None else opened
    if "ir.attachment" in opened:
        return
    # sudo: where the attachments point now is needed to check the rule; only
    # res_model and res_id are read, and nothing read reaches the client.
    current = [(item.res_model, item.res_id) for item in attachments.sudo()]
    targets = list(current)
    for values in values_list:
        if not attachments:
            targets.append((values.get("res_model"), values.get("res_id")))
        elif "res_model" in values or "res_id" in values:
            targets += [
                (values.get("res_model", res_model), values.get("res_id", res_id))
                for res_model, res_id in current
            ]
    for res_model, res_id in dict.fromkeys(targets):
        _check_attachment_target(env, res_model, res_id, opened)


def _check_attachment_target(env, res_model, res_id, opened):
    if not res_model or not res_id or res_model not in env.registry:
        raise ToolError(
            "Attachments written through MCP must be attached to a record "
            "(res_model and res_id) that you may modify."
        )
    check_open(env, res_model, opened=opened)
    if res_model == "res.users" and res_model not in opened and res_id != env.uid:
        raise AccessRefused(
            "Through MCP you may change the attachments of your own user only, "
            f"not those of user {res_id}.",
            rule=CLOSED_FIELD,
        )
    target = env[res_model].browse(res_id).exists()
    if not target or not target.has_access("write"):
        message = (
            f"You may not modify {res_model} record {res_id}, so you may not "
            "change its attachments."
        )
        if not target:
            raise ToolError(message)
        acl = env[res_model].has_access("write")
        raise AccessRefused(message, rule="odoo:record_rule" if acl else "odoo:acl")


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
        self._attachments = []  # (ids or None, values) of ir.attachment writes
        self._landings = {}  # (model, field) -> field_landings()

    # -- public --------------------------------------------------------------

    def check(self, values, where="values", ids=None):
        """``values`` converted for the ORM; raises ToolError naming the culprit.

        ``ids`` are the records the values are written to (None: new records).
        """
        if not isinstance(values, dict) or not values:
            raise ToolError(f"{where} must be a non-empty object of field values.")
        checked = {
            name: self._check_field(self.model, name, value, f"{where}.{name}")
            for name, value in values.items()
        }
        self._check_records(self.model, checked, ids, where)
        return checked

    def verify_references(self):
        """Every many2one or linked id named so far exists and is visible, and
        every attachment written points where the user may write."""
        for comodel_name, places in self._refs.items():
            comodel = self.env[comodel_name]
            found = set(
                comodel.with_context(active_test=False)
                .search([("id", "in", list(places))])
                .ids
            )
            for record_id, where in places.items():
                if record_id not in found:
                    _refuse_unseen(comodel, [record_id], where)
        self._refs = {}
        attachments, self._attachments = self._attachments, []
        for ids, values in attachments:
            records = self.env["ir.attachment"].browse(ids or ())
            check_attachment_targets(self.env, records, [values], self.opened)

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
            message = (
                f"{where}: model {model._name!r} has no field {name!r} that you "
                "can write."
            )
            if field is None:
                raise ToolError(message)
            # The same words to the client; the audit records Odoo's refusal.
            raise AccessRefused(message, rule="odoo:field_groups")
        if model._name == "res.users" and "res.users" not in self.opened:
            if name not in USER_FIELDS:
                raise AccessRefused(
                    f"{where}: field {name!r} of res.users is closed to writes "
                    "through MCP (groups, password, login and companies grant "
                    "privileges).",
                    rule=CLOSED_FIELD,
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
        self._check_landings(model, field, self._field_landings(field)[0], where)
        return field

    def _field_landings(self, field):
        key = (field.model_name, field.name)
        if key not in self._landings:
            self._landings[key] = field_landings(self.env, field)
        return self._landings[key]

    def _check_landings(self, model, field, landings, where):
        """Refuse a write whose side effects reach a closed model or field."""
        for landing_model, landing_field in landings:
            reached = f"field {landing_field!r} of {landing_model}"
            said = f"{where}: writing field {field.name!r} of {model._name} writes"
            if is_closed(landing_model, self.opened):
                raise AccessRefused(
                    f"{said} {reached}, and model {landing_model!r} is closed to "
                    f"writes through MCP: it grants privileges or runs code. "
                    f"{OPEN_HINT}",
                    rule=CLOSED_MODEL,
                )
            if landing_model == "res.users" and landing_model not in self.opened:
                raise AccessRefused(
                    f"{said} {reached}, which is closed to writes through MCP: "
                    "the groups, companies, partner and login of users grant "
                    "privileges. An administrator can open model 'res.users' "
                    "in the MCP settings.",
                    rule=CLOSED_FIELD,
                )
            if (
                landing_model == "ir.attachment"
                and landing_field in ATTACHMENT_TARGET_FIELDS
                and landing_model not in self.opened
            ):
                raise AccessRefused(
                    f"{said} {reached}, which would move attachments to another "
                    "record; change res_model and res_id on the ir.attachment "
                    "record itself, where the new target is checked.",
                    rule=CLOSED_FIELD,
                )

    def _empty(self, field, where):
        if field.required:
            raise ToolError(f"{where}: field {field.name!r} is required.")
        if field.type in ("one2many", "many2many"):
            raise ToolError(
                f"{where}: give a list of commands; [5] (clear) is refused, use "
                "[6, 0, []] on a many2many."
            )
        return False

    # -- records -------------------------------------------------------------

    def _check_records(self, model, values, ids, where):
        """Checks that depend on which records are written (``ids``, None: new)."""
        if model._name == "ir.attachment":
            self._attachments.append((ids, values))
        if "res.users" in self.opened:
            return
        if model._name == "res.users":
            others = [
                record_id for record_id in ids or () if record_id != model.env.uid
            ]
            if others:
                raise AccessRefused(
                    f"{where}: through MCP you may change your own user only (id "
                    f"{model.env.uid}), not user {others[0]}: a user's e-mail "
                    "receives their password resets. An administrator can open "
                    "model 'res.users' in the MCP settings.",
                    rule=CLOSED_FIELD,
                )
            return
        for name, landing, partner_ids in self._contact_writes(model, values, ids):
            owned = self._contacts_of_other_users(partner_ids)
            if owned:
                raise AccessRefused(
                    f"{where}.{name}: res.partner record {owned} is another "
                    f"user's contact, and its field {landing!r} is that user's "
                    f"{landing!r}: closed to writes through MCP like the user's "
                    "own record (a user's e-mail receives their password "
                    "resets). An administrator can open model 'res.users' in "
                    "the MCP settings.",
                    rule=CLOSED_FIELD,
                )

    def _contact_writes(self, model, values, ids):
        """(value name, contact field, contact ids) of each value that writes one
        of USER_FIELDS on existing contacts, directly or through a related field.
        """
        records = model.browse(ids or ()).with_context(active_test=False)
        for name in values:
            field = model._fields[name]
            if model._name == "res.partner" and name in USER_FIELDS:
                if ids:
                    yield name, name, list(ids)
                continue
            base, hops = _related_target(field)
            if not hops or base.model_name != "res.partner":
                continue
            if base.name not in USER_FIELDS:
                continue
            contacts = records.mapped(".".join(hops))
            first = model._fields[hops[0]]
            if first.type == "many2one" and _is_id(values.get(hops[0])):
                # The new value of the first hop: the write lands on its contact.
                start = self.env[first.comodel_name].browse(values[hops[0]])
                contacts |= start.mapped(".".join(hops[1:])) if hops[1:] else start
            if contacts:
                yield name, base.name, contacts.ids

    def _contacts_of_other_users(self, partner_ids):
        """The first of ``partner_ids`` that is the partner of a user but the caller.

        Plain SQL on purpose: the users of other companies and archived users,
        which the caller may not see, are protected all the same, and nothing
        about them but the contact's id (one the caller named) is answered.
        """
        self.env.cr.execute(
            "SELECT partner_id FROM res_users WHERE partner_id = ANY(%s) AND id != %s"
            " ORDER BY partner_id LIMIT 1",
            [list(partner_ids), self.env.uid],
        )
        row = self.env.cr.fetchone()
        return row[0] if row else None

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
        if is_closed(comodel._name, self.opened):
            # Linking to a group, a view or a server action is a write of it:
            # many2many links are the comodel's links too, one2many links write
            # the linked records.
            raise AccessRefused(
                f"{where}: field {field.name!r} of {model._name} links records of "
                f"{comodel._name}, and model {comodel._name!r} is closed to writes "
                f"through MCP: it grants privileges or runs code. {OPEN_HINT}",
                rule=CLOSED_MODEL,
            )
        return [
            self._command(model, comodel, field, item, f"{where}[{index}]")
            for index, item in enumerate(value)
        ]

    def _command(self, model, comodel, field, command, where):
        if (
            not isinstance(command, list)
            or not command
            or command[0] not in (CREATE, UPDATE, UNLINK, LINK, SET)
        ):
            raise ToolError(
                f"{where}: not an allowed command; allowed: [0, 0, {{values}}], "
                "[1, id, {values}], [4, id], and on many2many [3, id] and "
                "[6, 0, [ids]]."
            )
        code = command[0]
        if code in (UNLINK, SET) and field.type != "many2many":
            raise ToolError(f"{where}: command {code} is allowed on many2many only.")
        if code == CREATE:
            # The record to make is the first thing to refuse, if closed.
            check_open(self.env, comodel._name, "create", self.opened)
        if code != UPDATE:
            # Every command but [1, id, values] changes links, and with them
            # the inverse field of the linked records.
            links = self._field_landings(field)[1]
            self._check_landings(model, field, links, where)
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
        operation = "create" if code == CREATE else "write"
        check_open(self.env, comodel._name, operation, self.opened)
        ids = None
        record_id = 0
        if code == UPDATE:
            record_id = _record_id(command[1], where)
            self._reference(comodel._name, record_id, where)
            ids = [record_id]
        values = {
            name: self._check_field(comodel, name, value, f"{where}.{name}")
            for name, value in command[2].items()
        }
        self._check_records(comodel, values, ids, where)
        return (code, record_id, values)

    def _reference(self, comodel_name, record_id, where):
        if not self.env[comodel_name].has_access("read"):
            raise AccessRefused(
                f"{where}: you are not allowed to read records of model "
                f"{comodel_name!r}.",
                rule="odoo:acl",
            )
        self._refs.setdefault(comodel_name, {}).setdefault(record_id, where)


def _related_target(field):
    """(the field a related field finally writes, the path of fields to it).

    A field related to a related field writes the end of that one's path too:
    ``company_id.email`` on a model, with res.company's ``email`` related to
    ``partner_id.email``, writes res.partner's ``email`` through
    ``["company_id", "partner_id"]``. Not related: (the field, []).
    """
    hops = []
    while field.related_field is not None:
        hops += field.related.split(".")[:-1]
        field = field.related_field
    return field, hops


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
