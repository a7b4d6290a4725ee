"""JSON-RPC 2.0 framing for one Streamable HTTP POST body."""

import json
from dataclasses import dataclass, field

from . import errors

_NO_ID = object()


@dataclass
class Message:
    """One client message: a request (with ``id``) or a notification."""

    method: str
    params: dict = field(default_factory=dict)
    id: object = _NO_ID

    @property
    def is_notification(self):
        return self.id is _NO_ID

    @property
    def request_id(self):
        return None if self.is_notification else self.id


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _decode(body):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.parse_error("body is not valid UTF-8") from exc
    if not text.strip():
        raise errors.parse_error("body is empty")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise errors.parse_error("JSON nesting is too deep") from exc
    except ValueError as exc:
        # json's own message names line and column, and holds no request data.
        raise errors.parse_error(str(exc).split(":", 1)[0]) from exc


def _valid_id(value):
    # MCP: a request id is a string or an integer, never null (bool is an int
    # subclass in Python, so it is excluded by name).
    return isinstance(value, str) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def parse_body(body):
    """Parse a POST body into a :class:`Message`, or raise :class:`McpError`.

    Batches (JSON arrays) are refused: every revision this server speaks
    (2025-06-18 onwards) removed JSON-RPC batching.
    """
    data = _decode(body)
    if isinstance(data, list):
        raise errors.invalid_request(
            "JSON-RPC batches are not supported by MCP 2025-06-18 and later; "
            "send one message per POST"
        )
    if not isinstance(data, dict):
        raise errors.invalid_request("the body must be a JSON-RPC object")
    if data.get("jsonrpc") != "2.0":
        raise errors.invalid_request('"jsonrpc" must be exactly "2.0"')
    if "method" not in data:
        if "result" in data or "error" in data:
            raise errors.invalid_request(
                "this server sends no requests, so it accepts no JSON-RPC responses"
            )
        raise errors.invalid_request('"method" is missing')
    method = data["method"]
    if not isinstance(method, str) or not method:
        raise errors.invalid_request('"method" must be a non-empty string')
    params = data.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise errors.invalid_request('"params" must be an object')
    if "id" not in data:
        return Message(method=method, params=params)
    if not _valid_id(data["id"]):
        raise errors.invalid_request('"id" must be a string or an integer')
    return Message(method=method, params=params, id=data["id"])


def result_response(request_id, result):
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def error_response(request_id, error):
    response = {"jsonrpc": "2.0", "error": error.to_error()}
    if request_id is not None:
        response["id"] = request_id
    return response
