"""Record values as JSON.

Values come from ``read()``, or ``_read_format()`` after ``search_fetch()`` as
in Odoo's own ``search_read``, in the user's environment, so Odoo's field
access checks apply. The shapes:

- many2one: ``{"id": int, "display_name": str}`` or null
- one2many / many2many: list of ids
- date: ``"YYYY-MM-DD"``; datetime: ISO 8601 in UTC with a ``Z`` suffix
  (``write_date`` with its microseconds, for optimistic concurrency)
- float / monetary / integer: numbers; selection: the key
- binary: base64 text, or ``{"omitted": true, "size": n}`` when over the cap
- empty values (Odoo's ``False`` on non-boolean fields): null
"""

import base64
from datetime import date, datetime

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# write_date keeps its microseconds: it is what update_record compares to refuse
# overwriting a record changed since the client read it.
WRITE_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def record_values(model, rows, max_binary):
    """Turn ``read()`` rows of ``model`` into JSON-able dicts, in place.

    One converter per field is chosen once for all rows (the rows of one
    ``read()`` share their keys); fields whose values are JSON already are
    left alone. A row listed twice is converted once.
    """
    if not rows:
        return rows
    fields = model._fields
    converters = []
    for name in rows[0]:
        convert = _converter(fields.get(name), max_binary)
        if convert is not None:
            converters.append((name, convert))
    seen = set()
    for row in rows:
        if id(row) in seen:
            continue
        seen.add(id(row))
        for name, convert in converters:
            row[name] = convert(row[name])
    return rows


def write_date_text(value):
    """A write_date as ISO 8601 in UTC with microseconds, or None."""
    return value.strftime(WRITE_DATE_FORMAT) if value else None


def _binary(value, max_binary):
    if not value:
        return None
    text = value.decode("ascii") if isinstance(value, bytes) else str(value)
    size = base64_size(text)
    if size > max_binary:
        return {"omitted": True, "size": size}
    return text


_BY_TYPE = {
    "boolean": bool,
    "many2one": lambda value: (
        {"id": value[0], "display_name": value[1]} if value else None
    ),
    "one2many": lambda value: list(value or []),
    "many2many": lambda value: list(value or []),
}


def _converter(field, max_binary):
    """The function that turns one field's read() value into JSON, or None."""
    kind = field.type if field is not None else None
    if kind == "binary":
        return lambda value: _binary(value, max_binary)
    if kind in _BY_TYPE:
        return _BY_TYPE[kind]
    if kind == "datetime" and field.name == "write_date":
        return write_date_text
    if kind in ("integer", "float", "monetary"):
        return None  # numbers, or Odoo's 0 for empty ones: JSON as they are
    return _empty_or_plain


def _empty_or_plain(value):
    return None if value is False else jsonable(value)


def base64_size(text):
    """Size in bytes of the data that base64 ``text`` encodes."""
    padding = len(text) - len(text.rstrip("="))
    return len(text) * 3 // 4 - padding


def jsonable(value):
    """Plain JSON for the values nested in properties or json fields."""
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return _bytes_text(value)
    return value


def _bytes_text(value):
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii")
