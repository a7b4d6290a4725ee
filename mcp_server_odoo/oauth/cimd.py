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
* no redirects, a connect and read timeout, an overall deadline and a size
  limit; the result is cached on the client record.

Pure Python, no ORM.
"""

import ipaddress
import json
import socket
import time
from urllib.parse import urlsplit

import certifi
import urllib3

from . import redirects

MAX_BYTES = 16 * 1024
TIMEOUT = 5.0
CACHE_SECONDS = 3600
MAX_NAME_LENGTH = 200


class MetadataDocumentError(Exception):
    """The document cannot be used; the message is safe to show."""


def is_metadata_client_id(client_id):
    return isinstance(client_id, str) and client_id.startswith("https://")


def check_url(url):
    """``(host, port, path)`` of an acceptable document URL, else raise."""
    if len(url) > 2000 or any(ord(char) <= 0x20 for char in url):
        raise MetadataDocumentError("the client_id URL is malformed")
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError as exc:
        raise MetadataDocumentError("the client_id URL is malformed") from exc
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
    pool = urllib3.HTTPSConnectionPool(
        address,
        port,
        cert_reqs="CERT_REQUIRED",
        ca_certs=ca_file or certifi.where(),
        server_hostname=host,
        assert_hostname=host,
        timeout=urllib3.Timeout(connect=TIMEOUT, read=TIMEOUT),
        retries=False,
        maxsize=1,
    )
    try:
        body = _read(pool, host, path)
    except urllib3.exceptions.HTTPError as exc:
        raise MetadataDocumentError(
            "the client metadata document could not be fetched"
        ) from exc
    finally:
        pool.close()
    return validate(url, body)


def _read(pool, host, path):
    deadline = time.monotonic() + 2 * TIMEOUT
    response = pool.urlopen(
        "GET",
        path,
        headers={"Host": host, "Accept": "application/json"},
        redirect=False,
        preload_content=False,
    )
    try:
        if response.status != 200:
            raise MetadataDocumentError(
                f"the client metadata document answered HTTP {response.status}"
            )
        chunks, size = [], 0
        for chunk in response.stream(4096):
            size += len(chunk)
            if size > MAX_BYTES or time.monotonic() > deadline:
                raise MetadataDocumentError(
                    "the client metadata document is too large or slow"
                )
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        response.release_conn()


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
    if not isinstance(name, str) or not name.strip():
        name = redirects.host_of(url)
    return {"name": name.strip()[:MAX_NAME_LENGTH], "redirect_uris": uris}
