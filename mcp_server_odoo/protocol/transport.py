"""Streamable HTTP checks that come before any MCP method runs.

:func:`accept` takes the raw HTTP facts (method, headers, body) and either
returns the parsed :class:`~.jsonrpc.Message` with its protocol version, or
raises :class:`~.errors.McpError` carrying the status code the specification
names for that failure. It knows nothing of tools, users or Odoo.
"""

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import errors, versions
from .jsonrpc import Message, parse_body

# Methods whose Mcp-Name header mirrors params.name (or params.uri).
_NAMED_METHODS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_B64_PREFIX, _B64_SUFFIX = "=?base64?", "?="


@dataclass(frozen=True)
class TransportSettings:
    max_body_bytes: int = 1_048_576
    # Origins (scheme://host[:port]) a browser page may call /mcp from.
    allowed_origins: frozenset = frozenset()


@dataclass
class Accepted:
    message: Message
    protocol_version: str

    @property
    def modern(self):
        return versions.is_modern(self.protocol_version)


def check_origin(origin, settings):
    """Refuse cross-site browser calls (DNS rebinding): 403 when not allowed."""
    if origin is None:
        return
    normalized = _normalize_origin(origin)
    if normalized is None or normalized not in settings.allowed_origins:
        raise errors.McpError(
            errors.FORBIDDEN_ORIGIN,
            "Forbidden: Origin is not allowed to call this MCP endpoint",
            status=403,
        )


def _normalize_origin(origin):
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port and port != default else ""
    return f"{parts.scheme}://{host}{suffix}"


def normalize_origins(values):
    """Normalise an allow-list from settings; entries that are not origins drop out."""
    return frozenset(o for o in map(_normalize_origin, values) if o)


def check_http(http_method, headers, content_length, settings):
    """Status-level checks: method, media types and size, before the body is read."""
    if http_method != "POST":
        raise errors.McpError(
            errors.INVALID_REQUEST,
            f"Method Not Allowed: this MCP endpoint takes POST, not {http_method}",
            status=405,
            headers={"Allow": "POST"},
        )
    mimetype = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if mimetype != "application/json":
        raise errors.McpError(
            errors.INVALID_REQUEST,
            "Unsupported Media Type: Content-Type must be application/json",
            status=415,
        )
    accept = (headers.get("accept") or "").lower()
    if accept and not any(
        kind in accept for kind in ("application/json", "application/*", "*/*")
    ):
        raise errors.McpError(
            errors.INVALID_REQUEST,
            "Not Acceptable: the client must accept application/json",
            status=406,
        )
    if content_length is not None and content_length > settings.max_body_bytes:
        raise _too_large(settings)


def _too_large(settings):
    return errors.McpError(
        errors.INVALID_REQUEST,
        f"Payload Too Large: the body exceeds {settings.max_body_bytes} bytes",
        status=413,
    )


def read_limited(read, settings):
    """Read the body with ``read(limit)``, which returns None past the limit.

    A body over max_body_bytes without a Content-Length (chunked) is a 413 too.
    """
    body = read(settings.max_body_bytes)
    if body is None or len(body) > settings.max_body_bytes:
        raise _too_large(settings)
    return body


def decode_header_value(value):
    """Undo the ``=?base64?...?=`` sentinel encoding of Mcp-Name values."""
    if value.startswith(_B64_PREFIX) and value.endswith(_B64_SUFFIX):
        encoded = value[len(_B64_PREFIX) : -len(_B64_SUFFIX)]
        try:
            return base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise errors.header_mismatch("Mcp-Name is not valid base64") from exc
    return value


def _meta_version(message):
    meta = message.params.get("_meta")
    if isinstance(meta, dict):
        return meta.get(versions.META_PROTOCOL_VERSION)
    return None


def _check_modern_headers(message, header_version, headers):
    meta_version = _meta_version(message)
    if meta_version is None:
        raise errors.invalid_params(
            f"params._meta[{versions.META_PROTOCOL_VERSION!r}] is required by "
            f"protocol {header_version}",
            status=400,
        )
    if meta_version != header_version:
        raise errors.header_mismatch(
            f"MCP-Protocol-Version header {header_version!r} does not match "
            f"params._meta[{versions.META_PROTOCOL_VERSION!r}] {meta_version!r}"
        )
    caps = message.params["_meta"].get(versions.META_CLIENT_CAPABILITIES)
    if not isinstance(caps, dict):
        raise errors.invalid_params(
            f"params._meta[{versions.META_CLIENT_CAPABILITIES!r}] must be an object",
            status=400,
        )
    method_header = headers.get("mcp-method")
    if method_header is None:
        raise errors.header_mismatch("the Mcp-Method header is required")
    if method_header != message.method:
        raise errors.header_mismatch(
            f"Mcp-Method header {method_header!r} does not match body method "
            f"{message.method!r}"
        )
    field = _NAMED_METHODS.get(message.method)
    if field is None:
        return
    name_header = headers.get("mcp-name")
    if name_header is None:
        raise errors.header_mismatch(
            f"the Mcp-Name header is required for {message.method}"
        )
    name = decode_header_value(name_header)
    if name != message.params.get(field):
        raise errors.header_mismatch(
            f"Mcp-Name header value {name!r} does not match body value "
            f"{message.params.get(field)!r}"
        )


def _version_of(message, headers):
    header_version = headers.get("mcp-protocol-version")
    modern_request = (
        header_version in versions.MODERN_VERSIONS
        or _meta_version(message) in versions.MODERN_VERSIONS
    )
    if message.method == "initialize" and not modern_request:
        # A legacy handshake: negotiated in the handler. (Under a modern
        # revision initialize does not exist and dispatch answers 404.)
        return versions.negotiate_initialize(message.params.get("protocolVersion"))
    if header_version is None:
        if _meta_version(message) in versions.MODERN_VERSIONS:
            raise errors.header_mismatch("the MCP-Protocol-Version header is required")
        header_version = versions.VERSION_WHEN_HEADER_MISSING
    if header_version not in versions.SUPPORTED_VERSIONS:
        raise errors.unsupported_version(header_version, versions.SUPPORTED_VERSIONS)
    if versions.is_modern(header_version):
        if not message.is_notification:
            _check_modern_headers(message, header_version, headers)
    elif _meta_version(message) in versions.MODERN_VERSIONS:
        raise errors.header_mismatch(
            f"MCP-Protocol-Version header {header_version!r} does not match "
            f"params._meta[{versions.META_PROTOCOL_VERSION!r}]"
        )
    return header_version


def accept(body, headers):
    """Parse the body and settle its protocol version.

    ``headers`` maps lower-cased names to values; surrounding whitespace of a
    value is not part of it (RFC 9110 §5.5).
    """
    headers = {name: value.strip() for name, value in headers.items()}
    message = parse_body(body)
    try:
        version = _version_of(message, headers)
    except errors.McpError as exc:
        exc.request_id = message.request_id
        raise
    return Accepted(message=message, protocol_version=version)
