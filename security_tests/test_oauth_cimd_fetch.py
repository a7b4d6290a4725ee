"""Client ID Metadata Document fetches against a real TLS server on this host.

The server's certificate is made here (a self-signed one from the
``cryptography`` package); the fetch trusts it through the ca_file argument,
as ``mcp_oauth_cimd_ca_file`` makes the Odoo server do, and private addresses
are allowed as ``oauth_cimd_allow_private`` allows them. Each path of the
server misbehaves in one way: too large, too slow, a redirect, a handshake
never answered. The second half runs the authorization endpoint of a second
Odoo server so configured: a document is fetched once and then read from its
client record, and a failed fetch is not repeated within the minute.
"""

import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections import Counter

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from odoo.addons.mcp_server_odoo.oauth import cimd

from tests.harness import odoo_server
from tests.harness.oauth import REDIRECT_URI, pkce_pair

BIG = 40 * 1024


def _certificate(directory):
    """A self-signed certificate for localhost and 127.0.0.1: (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1(), default_backend())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256(), default_backend())
    )
    cert_path, key_path = directory / "cimd-cert.pem", directory / "cimd-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _response(status, body=b"", headers=()):
    head = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith("transfer-encoding") for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class DocumentServer:
    """An https server on 127.0.0.1; each path behaves in one way; counts hits."""

    def __init__(self, cert_path, key_path):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert_path, key_path)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.hits = Counter()
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path):
        return f"https://localhost:{self.port}{path}"

    def document(self, path, **changes):
        document = {
            "client_id": self.url(path),
            "client_name": "Local test client",
            "redirect_uris": [REDIRECT_URI],
        }
        document.update(changes)
        return json.dumps(document).encode()

    def stop(self):
        self.stopped.set()
        self.listener.close()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _address = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = tls.recv(4096)
                    if not chunk:
                        return
                    request += chunk
                path = request.split(b" ", 2)[1].decode()
                self.hits[path] += 1
                getattr(self, "_" + path.strip("/").split(".")[0].replace("-", "_"))(
                    tls, path
                )
        except (OSError, ssl.SSLError):
            pass  # the client went away, as several tests make it do

    # -- behaviours, by path ----------------------------------------------------

    def _good(self, tls, path):
        tls.sendall(_response("200 OK", self.document(path)))

    def _missing(self, tls, path):
        tls.sendall(_response("404 Not Found", b"no"))

    def _redirect(self, tls, path):
        location = self.url("/good.json")
        tls.sendall(_response("302 Found", headers=[f"Location: {location}"]))

    def _big(self, tls, path):
        tls.sendall(_response("200 OK", self.document(path, padding="x" * BIG)))

    def _big_chunked(self, tls, path):
        tls.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(BIG // 1024):
            tls.sendall(b"400\r\n" + b" " * 1024 + b"\r\n")
        tls.sendall(b"0\r\n\r\n")

    def _slow(self, tls, path):
        body = self.document(path)
        tls.sendall(_response("200 OK", body)[: -len(body)])
        for byte in body:
            if self.stopped.wait(0.5):
                return
            tls.sendall(bytes([byte]))

    def _lingering(self, tls, path):
        # The whole document, then the connection stays open.
        tls.sendall(_response("200 OK", self.document(path)))
        self.stopped.wait(30)


@pytest.fixture(scope="module")
def tls_files(run_dir):
    return _certificate(run_dir)


@pytest.fixture(scope="module")
def documents(tls_files):
    server = DocumentServer(*tls_files)
    yield server
    server.stop()


def _fetch(documents, tls_files, path, **options):
    options.setdefault("ca_file", str(tls_files[0]))
    return cimd.fetch(documents.url(path), allow_private=True, **options)


# -- the fetch and its guards ------------------------------------------------------


def test_a_good_document_is_fetched_and_validated(documents, tls_files):
    assert _fetch(documents, tls_files, "/good.json") == {
        "name": "Local test client",
        "redirect_uris": [REDIRECT_URI],
    }


@pytest.mark.parametrize("path", ["/big.json", "/big-chunked.json"])
def test_an_oversized_document_is_refused(documents, tls_files, path):
    with pytest.raises(cimd.MetadataDocumentError, match="too large"):
        _fetch(documents, tls_files, path)


def _outcome_within(seconds, fetch):
    """What ``fetch()`` raised, failing the test if it is still running."""
    outcome = []

    def run():
        try:
            outcome.append(fetch())
        except Exception as exc:  # noqa: BLE001 - handed to the assertions
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"the fetch was still running after {seconds}s"
    return outcome[0]


def test_a_slow_document_is_refused_at_the_deadline(documents, tls_files):
    # One byte every half second: each read is quick, the whole is not.
    error = _outcome_within(
        cimd.DEADLINE + 2, lambda: _fetch(documents, tls_files, "/slow.json")
    )
    assert isinstance(error, cimd.MetadataDocumentError)
    assert "too large or slow" in str(error)


def test_a_handshake_never_answered_is_given_up_at_the_deadline():
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        url = f"https://localhost:{silent.getsockname()[1]}/meta.json"
        error = _outcome_within(
            cimd.DEADLINE + 2, lambda: cimd.fetch(url, allow_private=True)
        )
        assert isinstance(error, cimd.MetadataDocumentError)
    finally:
        silent.close()


def test_a_redirect_is_refused_and_not_followed(documents, tls_files):
    before = documents.hits["/good.json"]
    with pytest.raises(cimd.MetadataDocumentError, match="HTTP 302"):
        _fetch(documents, tls_files, "/redirect.json")
    assert documents.hits["/good.json"] == before


def test_a_complete_document_is_read_without_waiting_for_the_connection_to_close(
    documents, tls_files
):
    started = time.monotonic()
    assert _fetch(documents, tls_files, "/lingering.json")["redirect_uris"]
    assert time.monotonic() - started < 3


def test_a_certificate_nobody_trusts_is_refused(documents, tls_files):
    with pytest.raises(cimd.MetadataDocumentError, match="could not be fetched"):
        _fetch(documents, tls_files, "/good.json", ca_file=None)


def test_a_private_address_is_refused_unless_allowed(documents):
    with pytest.raises(cimd.MetadataDocumentError, match="not a public address"):
        cimd.fetch(documents.url("/good.json"))


# -- through the authorization endpoint of an Odoo server that trusts it -----------


@pytest.fixture(scope="module")
def cimd_odoo(template_db, run_dir, tls_files):
    """An Odoo server trusting the test certificate and private addresses."""
    name = odoo_server.db_name("cimd")
    odoo_server.copy_database(template_db, name)
    odoo_server.set_parameter(name, "mcp_server_odoo.oauth_cimd_allow_private", "1")
    config = run_dir / "cimd.conf"
    config.write_text(
        odoo_server.config_file().read_text()
        + f"mcp_oauth_cimd_ca_file = {tls_files[0]}\n"
    )
    config.chmod(0o600)
    server = odoo_server.OdooServer(
        name, run_dir / "server-cimd.log", extra=("-c", str(config))
    )
    yield server
    server.stop()
    odoo_server.drop_database(name)


def _authorize(server, client_id):
    _verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "mcp",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": f"{server.url}/mcp",
    }
    return requests.get(
        f"{server.url}/oauth/authorize",
        params=params,
        allow_redirects=False,
        timeout=60,
    )


def _away_from_a_window_edge():
    """Fetches are counted per minute window: do not start a test at its end."""
    left = cimd.FETCH_INTERVAL - time.time() % cimd.FETCH_INTERVAL
    if left < 10:
        time.sleep(left + 0.5)


def test_a_second_authorize_does_not_fetch_the_document_again(cimd_odoo, documents):
    client_id = documents.url("/good.json")
    before = documents.hits["/good.json"]
    for _ in range(2):
        response = _authorize(cimd_odoo, client_id)
        # A known client: on to Odoo's login page.
        assert response.status_code == 303, response.text[:500]
        assert response.headers["Location"].split("?")[0].endswith("/web/login")
    assert documents.hits["/good.json"] == before + 1


def test_a_failed_fetch_is_not_repeated_within_the_minute(cimd_odoo, documents):
    _away_from_a_window_edge()
    client_id = documents.url("/missing.json")
    for _ in range(3):
        response = _authorize(cimd_odoo, client_id)
        assert response.status_code == 400
        assert "o_mcp_oauth_error" in response.text
    assert documents.hits["/missing.json"] == 1
    log = cimd_odoo.log_text()
    assert "MCP OAuth metadata document FAIL" in log
    assert "fetched less than 60s ago" in log


def test_a_redirecting_document_is_refused_at_authorize(cimd_odoo, documents):
    before = documents.hits["/good.json"]
    response = _authorize(cimd_odoo, documents.url("/redirect.json"))
    assert response.status_code == 400
    assert documents.hits["/good.json"] == before
    assert "Traceback" not in cimd_odoo.log_text()
