"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document;
MCP 2025-11-25 "Authorization" §2.4.1).

A client whose ``client_id`` is an https URL is described by the JSON document
at that URL. Fetching it is a server-side request to an address the client
chose, so every fetch goes through these guards (RFC 9700 §4.16, OWASP SSRF):

* https only, default port unless stated, no userinfo, no fragment, a path;
* every address the host resolves to must be public (no loopback, private,
  link-local, multicast or reserved ranges) unless the administrator allows
  private addresses; the connection goes to the checked address, so DNS
  cannot change the answer between the check and the connection;
* no redirects, a connect timeout, one deadline for the whole exchange
  (handshake and every read included, however the server trickles) and a
  size limit; the result is cached on the client record, and a URL is
  fetched at most once in each minute of the shared rate-limit counters, so
  that a failure is remembered until that minute ends.

Pure Python, no ORM.
"""

import contextlib
import http.client
import io
import ipaddress
import json
import selectors
import socket
import ssl
import time
from urllib.parse import urlsplit

import certifi

from . import redirects

DEFAULT_PORT = 443
MAX_BYTES = 16 * 1024
# The document and the status line and headers in front of it.
MAX_RESPONSE_BYTES = MAX_BYTES + 8 * 1024
CONNECT_TIMEOUT = 5.0
# Connection, TLS handshake, request and answer together.
DEADLINE = 10.0
CACHE_SECONDS = 3600
# A document URL is fetched at most once per window of this many seconds.
FETCH_INTERVAL = 60
MAX_NAME_LENGTH = 200
TOO_LARGE_OR_SLOW = "the client metadata document is too large or slow"


class MetadataDocumentError(Exception):
    """The document cannot be used; the message is safe to show."""


def is_metadata_client_id(client_id):
    return isinstance(client_id, str) and client_id.startswith("https://")


def check_url(url):
    """``(host, port, path)`` of an acceptable document URL, else raise."""
    if len(url) > 2000 or any(not 0x20 < ord(char) < 0x7F for char in url):
        raise MetadataDocumentError("the client_id URL is malformed")
    try:
        parts = urlsplit(url)
        port = DEFAULT_PORT if parts.port is None else parts.port
    except ValueError as exc:
        raise MetadataDocumentError("the client_id URL is malformed") from exc
    if not port:
        raise MetadataDocumentError("the client_id URL is malformed")
    if parts.scheme != "https" or not parts.hostname:
        raise MetadataDocumentError("the client_id URL must use https")
    if "@" in parts.netloc or "#" in url:
        raise MetadataDocumentError("the client_id URL has userinfo or a fragment")
    if parts.path in ("", "/") or "/./" in parts.path or "/../" in parts.path:
        raise MetadataDocumentError("the client_id URL must have a plain path")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, path


def is_public_address(address):
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host, port, *, allow_private=False):
    """The addresses of ``host``; raise if any of them is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise MetadataDocumentError("the client_id host does not resolve") from exc
    addresses = sorted({info[4][0] for info in infos})
    if not addresses:
        raise MetadataDocumentError("the client_id host does not resolve")
    if not allow_private and not all(map(is_public_address, addresses)):
        raise MetadataDocumentError("the client_id host is not a public address")
    return addresses


def fetch(url, *, allow_private=False, ca_file=None):
    """The parsed and validated document at ``url``."""
    host, port, path = check_url(url)
    address = resolve(host, port, allow_private=allow_private)[0]
    deadline = time.monotonic() + DEADLINE
    try:
        body = _get(address, host, port, path, ca_file=ca_file, deadline=deadline)
    except (OSError, http.client.HTTPException) as exc:  # ssl.SSLError is OSError
        raise MetadataDocumentError(
            "the client metadata document could not be fetched"
        ) from exc
    return validate(url, body)


def _get(address, host, port, path, *, ca_file, deadline):
    """The body of ``GET path`` over TLS to ``address``, verified as ``host``."""
    context = ssl.create_default_context(cafile=ca_file or certifi.where())
    sock = socket.create_connection((address, port), timeout=CONNECT_TIMEOUT)
    with contextlib.closing(sock):
        tls = context.wrap_socket(
            sock, server_hostname=host, do_handshake_on_connect=False
        )
        with contextlib.closing(tls):
            _handshake(tls, deadline)
            tls.settimeout(max(deadline - time.monotonic(), 0.001))
            tls.sendall(_request(host, port, path))
            response = http.client.HTTPResponse(_Source(tls, deadline), method="GET")
            response.begin()
            if response.status != 200:
                # Redirects are refused too: never followed (RFC 9700 §4.16).
                raise MetadataDocumentError(
                    f"the client metadata document answered HTTP {response.status}"
                )
            body = response.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise MetadataDocumentError(TOO_LARGE_OR_SLOW)
            return body


def _request(host, port, path):
    name = f"[{host}]" if ":" in host else host
    if port != DEFAULT_PORT:
        name += f":{port}"
    return (
        f"GET {path} HTTP/1.1\r\nHost: {name}\r\nAccept: application/json\r\n"
        "Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
    ).encode()


def _handshake(tls, deadline):
    """The TLS handshake, non-blocking, so that a server trickling its
    certificate cannot hold it past the deadline."""
    tls.setblocking(False)
    with selectors.DefaultSelector() as selector:
        selector.register(tls, selectors.EVENT_READ)
        while True:
            try:
                tls.do_handshake()
                return
            except ssl.SSLWantReadError:
                selector.modify(tls, selectors.EVENT_READ)
            except ssl.SSLWantWriteError:
                selector.modify(tls, selectors.EVENT_WRITE)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                raise MetadataDocumentError(TOO_LARGE_OR_SLOW)


class _DeadlineReader(io.RawIOBase):
    """The bytes of the answer, each read bounded by what is left of the
    deadline and all of them by the size limit, however the server trickles."""

    def __init__(self, tls, deadline):
        self._tls = tls
        self._deadline = deadline
        self._left = MAX_RESPONSE_BYTES

    def readable(self):
        return True

    def readinto(self, buffer):
        remaining = self._deadline - time.monotonic()
        if remaining <= 0 or self._left <= 0:
            raise MetadataDocumentError(TOO_LARGE_OR_SLOW)
        self._tls.settimeout(remaining)
        try:
            count = self._tls.recv_into(memoryview(buffer)[: self._left])
        except TimeoutError as exc:
            raise MetadataDocumentError(TOO_LARGE_OR_SLOW) from exc
        self._left -= count
        return count


class _Source:
    """What http.client reads a response from: our bounded reader."""

    def __init__(self, tls, deadline):
        self._reader = _DeadlineReader(tls, deadline)

    def makefile(self, mode):
        return io.BufferedReader(self._reader)


def validate(url, body):
    """Check a fetched document (draft §4.1); return the fields we keep."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MetadataDocumentError("the client metadata document is not JSON") from exc
    if not isinstance(document, dict) or document.get("client_id") != url:
        raise MetadataDocumentError("the document's client_id is not its own URL")
    if any(key.startswith("client_secret") for key in document):
        raise MetadataDocumentError("a metadata document must not carry a secret")
    if document.get("token_endpoint_auth_method", "none") != "none":
        raise MetadataDocumentError(
            "only public clients (auth method none) are supported"
        )
    uris = document.get("redirect_uris")
    if not isinstance(uris, list) or not uris or len(uris) > 10:
        raise MetadataDocumentError("the document needs one to ten redirect_uris")
    for uri in uris:
        if redirects.problem(uri):
            raise MetadataDocumentError("the document has an unacceptable redirect URI")
    name = document.get("client_name")
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        name = redirects.host_of(url)
    return {"name": name.strip()[:MAX_NAME_LENGTH], "redirect_uris": uris}
