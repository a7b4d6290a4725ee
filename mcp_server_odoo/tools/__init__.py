"""Tool framework: the :class:`Tool` record, the registry, and tool errors.

A tool family is a module of plain functions ``handler(env, arguments)`` that
return a JSON-able dict (the ``structuredContent``), each declared with
:func:`tool`. Families are listed by ``mcp.server._mcp_tool_families()``; the
registry built from them refuses duplicate names at start-up.
"""

import json
from dataclasses import dataclass, field

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

DIALECT = "https://json-schema.org/draft/2020-12/schema"


class ToolError(Exception):
    """A failure the tool reports to the client as a result with ``isError``.

    The message is shown to the client as-is, so it must name the problem in
    the client's terms and hold nothing the user may not see.
    """


class AccessRefused(ToolError):
    """Odoo's access rights, record rules or field groups refuse the call.

    Shown to the client like any :class:`ToolError`; audited as a denial by
    Odoo, with ``rule`` naming what refused (``odoo:acl``, ``odoo:record_rule``,
    ``odoo:field_groups``).
    """

    def __init__(self, message, *, rule="odoo:acl"):
        super().__init__(message)
        self.rule = rule


@dataclass(frozen=True)
class Tool:
    name: str
    title: str
    description: str
    input_schema: dict
    output_schema: dict
    handler: object = field(compare=False)
    read_only: bool = True
    destructive: bool = False
    idempotent: bool = True
    # XML ids of groups a user needs, checked on the server before the call.
    groups: tuple = ()
    # What the audit records of a call: ``targets(arguments, structured)``
    # returns {"model": str|None, "ids": [int], "fields": [str]} (names only,
    # never values), and "models": [str] when a call is about several models
    # (policies decide on each). None means :func:`default_targets`.
    targets: object = field(default=None, compare=False)

    def audit_targets(self, arguments, structured=None):
        return (self.targets or default_targets)(arguments, structured)

    def definition(self):
        """The tool as ``tools/list`` describes it."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_schema,
            "outputSchema": self.output_schema,
            "annotations": {
                "title": self.title,
                "readOnlyHint": self.read_only,
                "destructiveHint": self.destructive,
                "idempotentHint": self.idempotent,
                "openWorldHint": False,
            },
        }


def _int_ids(values):
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def default_targets(arguments, structured=None):
    """Model and record ids a call is about, read from its arguments and result."""
    model = arguments.get("model") if isinstance(arguments.get("model"), str) else None
    ids = _int_ids([arguments.get("id")] + list(arguments.get("ids") or []))
    records = (structured or {}).get("records")
    if isinstance(records, list):
        ids += _int_ids(r.get("id") for r in records if isinstance(r, dict))
    values = arguments.get("values")
    fields = sorted(values) if isinstance(values, dict) else []
    return {"model": model, "ids": sorted(set(ids)), "fields": fields}


def _object_schema(schema):
    schema = dict(schema)
    schema.setdefault("$schema", DIALECT)
    schema.setdefault("type", "object")
    return schema


def tool(name, *, title, description, input_schema, output_schema, **flags):
    """Declare a handler as an MCP tool; the decorated name is a :class:`Tool`."""

    def decorate(handler):
        return Tool(
            name=name,
            title=title,
            description=description,
            input_schema=_object_schema(input_schema),
            output_schema=_object_schema(output_schema),
            handler=handler,
            **flags,
        )

    return decorate


class ToolRegistry:
    """All tools of all families, in declaration order, with their validators."""

    def __init__(self, families):
        self._tools = {}
        self._validators = {}
        for family in families:
            for item in family:
                if item.name in self._tools:
                    raise ValueError(f"duplicate MCP tool name: {item.name!r}")
                Draft202012Validator.check_schema(item.input_schema)
                Draft202012Validator.check_schema(item.output_schema)
                self._tools[item.name] = item
                self._validators[item.name] = Draft202012Validator(item.input_schema)

    def __contains__(self, name):
        return name in self._tools

    def __len__(self):
        return len(self._tools)

    def get(self, name):
        return self._tools.get(name)

    def names(self):
        return list(self._tools)

    def page(self, offset, size):
        tools = list(self._tools.values())
        return tools[offset : offset + size], offset + size < len(tools)

    def validation_error(self, name, arguments):
        """A message naming the first bad argument, or None when they are valid."""
        error = best_match(self._validators[name].iter_errors(arguments))
        if error is None:
            return None
        where = "/".join(str(part) for part in error.absolute_path)
        if error.validator == "additionalProperties":
            return f"Invalid arguments for {name}: {error.message}"
        if where:
            return f"Invalid argument {where!r} for {name}: {error.message}"
        return f"Invalid arguments for {name}: {error.message}"


def to_json(value):
    """Compact JSON, as sent on the wire."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class ToolResult(dict):
    """A structured result that also carries content blocks beyond its JSON text.

    A handler may return one instead of a plain dict, e.g. to hand back a
    ``resource_link``; everywhere else it behaves as the dict it is.
    """

    def __init__(self, structured, extra_content=()):
        super().__init__(structured)
        self.extra_content = list(extra_content)


class CallToolResult(dict):
    """A successful result whose ``structuredContent`` is serialised once.

    ``structured_json`` is that JSON text: the text content block carries it,
    and :func:`response_json` splices it into the response body instead of
    serialising the structured value a second time.
    """

    structured_json = None


def as_result(structured, *, text=None):
    """A successful CallToolResult: the structured value and the same JSON as text,
    then the extra content blocks of a :class:`ToolResult`, if any.

    ``text`` is the JSON of ``structured`` when the caller has it already.
    """
    extra = getattr(structured, "extra_content", None)
    if extra is not None:
        structured = dict(structured)
    if text is None:
        text = to_json(structured)
    result = CallToolResult(
        content=[{"type": "text", "text": text}, *(extra or [])],
        structuredContent=structured,
        isError=False,
    )
    result.structured_json = text
    return result


def response_json(response):
    """A JSON-RPC response as sent, a tool's structured JSON spliced in as is."""
    result = response.get("result")
    text = getattr(result, "structured_json", None)
    if text is None:
        return to_json(response)
    rest = {
        name: value for name, value in result.items() if name != "structuredContent"
    }
    # "result" is the response's last member and ``rest`` is never empty: the
    # text closes with the braces of both objects, and the field goes before.
    head = to_json({**response, "result": rest})
    return f'{head[:-2]},"structuredContent":{text}}}}}'


def error_result(message):
    return {"content": [{"type": "text", "text": message}], "isError": True}
