"""Pure-Python MCP wire protocol: JSON-RPC 2.0 framing, versions, errors.

Nothing in this package imports Odoo, so it is testable without a database and
reusable by the benchmark and test clients.
"""

from .errors import McpError
from .jsonrpc import Message, parse_body
from .versions import (
    LATEST_LEGACY,
    LEGACY_VERSIONS,
    MODERN_VERSIONS,
    SUPPORTED_VERSIONS,
    negotiate_initialize,
)

__all__ = [
    "LATEST_LEGACY",
    "LEGACY_VERSIONS",
    "MODERN_VERSIONS",
    "SUPPORTED_VERSIONS",
    "McpError",
    "Message",
    "negotiate_initialize",
    "parse_body",
]
