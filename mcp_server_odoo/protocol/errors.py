"""JSON-RPC and MCP error codes, and the one exception type that carries them.

Every failure of the transport is an :class:`McpError` with the HTTP status the
Streamable HTTP transport prescribes; the controller turns it into a response
in one place.
"""

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Implementation-defined range (-32000..-32019): our own codes.
UNAUTHENTICATED = -32001
RATE_LIMITED = -32002
FORBIDDEN_ORIGIN = -32003
# Codes the MCP specification allocates (-32020..-32099).
HEADER_MISMATCH = -32020
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022


class McpError(Exception):
    """A JSON-RPC error answer, with the HTTP status and headers to send it with."""

    def __init__(self, code, message, *, status=200, data=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data
        self.headers = dict(headers or {})
        # Set once the message is parsed, so that the answer can carry its id.
        self.request_id = None

    def to_error(self):
        error = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def parse_error(detail):
    return McpError(PARSE_ERROR, f"Parse error: {detail}", status=400)


def invalid_request(detail, *, status=400):
    return McpError(INVALID_REQUEST, f"Invalid request: {detail}", status=status)


def invalid_params(detail, *, status=200):
    return McpError(INVALID_PARAMS, f"Invalid params: {detail}", status=status)


def method_not_found(method, *, status=200):
    return McpError(METHOD_NOT_FOUND, f"Method not found: {method}", status=status)


def header_mismatch(detail):
    return McpError(HEADER_MISMATCH, f"Header mismatch: {detail}", status=400)


def unsupported_version(requested, supported):
    return McpError(
        UNSUPPORTED_PROTOCOL_VERSION,
        "Unsupported protocol version",
        status=400,
        data={"supported": list(supported), "requested": requested},
    )
