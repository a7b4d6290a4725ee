"""What one MCP message carries through the chain."""

from dataclasses import dataclass, field

from ..protocol import versions


@dataclass(frozen=True)
class AuthResult:
    """The credential check done by ``ir.http``, handed to the chain.

    ``uid`` is None when the request carried no usable credential; ``error`` is
    then ``None`` (nothing sent) or a short public reason (sent but refused).
    ``kind`` names the credential ("api_key" or "oauth"); ``client`` and
    ``token_family`` identify an OAuth client and grant, never the token.
    ``login`` is the user's login when the check read it anyway (OAuth).
    """

    uid: int | None = None
    login: str | None = None
    kind: str | None = None
    error: str | None = None
    client: str | None = None
    token_family: str | None = None
    audience_ok: bool = True


@dataclass
class Context:
    message: object
    protocol_version: str
    auth: AuthResult
    cr: object
    base_context: dict = field(default_factory=dict)
    remote_addr: str | None = None
    # The server's tool registry and settings (McpSettings), set by mcp.server.
    tools: object = None
    settings: object = None
    # Filled in by the steps.
    env: object = None
    tool: str | None = None
    trace_id: str | None = None
    started: float = 0.0
    outcome: str | None = None
    error_type: str | None = None
    # The policy step's verdict ("allow"/"deny") and the rule that decided it.
    decision: str | None = None
    rule: str | None = None
    # What a tools/call was about (Tool.audit_targets) and whether it changed
    # data; set by dispatch, read by the audit step.
    targets: dict | None = None
    changed: bool = False
    # The key the audit step digests values with (set by it before the call),
    # and the shape of a tool's structured result, which dispatch builds while
    # serialising that result once for the wire.
    digest_key: bytes | None = None
    result_shape: dict | None = None
    extra: dict = field(default_factory=dict)

    @property
    def method(self):
        return self.message.method

    @property
    def modern(self):
        return versions.is_modern(self.protocol_version)

    @property
    def target(self):
        """The name a span or audit row is about: the tool for tools/call."""
        if self.method == "tools/call":
            name = self.message.params.get("name")
            return name if isinstance(name, str) else None
        return None
