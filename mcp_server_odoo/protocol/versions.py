"""MCP protocol revisions this server speaks, and how one is chosen.

Legacy revisions (2025-06-18, 2025-11-25) open with ``initialize``; the modern
revision 2026-07-28 has no handshake: every request names its version in
``params._meta`` and in the ``MCP-Protocol-Version`` header.
"""

LEGACY_VERSIONS = ("2025-06-18", "2025-11-25")
MODERN_VERSIONS = ("2026-07-28",)
SUPPORTED_VERSIONS = MODERN_VERSIONS + tuple(reversed(LEGACY_VERSIONS))
LATEST_LEGACY = LEGACY_VERSIONS[-1]

# Streamable HTTP: a request without MCP-Protocol-Version is taken to be from a
# 2025-03-26 client, the last revision that did not define the header.
VERSION_WHEN_HEADER_MISSING = "2025-03-26"

META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"


def is_modern(version):
    return version in MODERN_VERSIONS


def negotiate_initialize(requested):
    """Version to answer an ``initialize`` with (lifecycle, version negotiation).

    The requested revision when it is a legacy one we speak, otherwise the latest
    legacy revision: ``initialize`` always selects handshake semantics, so a
    client asking for a modern revision through it gets the newest legacy one.
    """
    if requested in LEGACY_VERSIONS:
        return requested
    return LATEST_LEGACY
