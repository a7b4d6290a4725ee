"""Client ID Metadata Documents: SSRF guards and document validation.

The guards in front of the fetch, directly and through the authorization
endpoint; the fetch itself, against a real TLS server on this host, is in
test_oauth_cimd_fetch.py.
"""

import json

import pytest

from odoo.addons.mcp_server_odoo.oauth import cimd

URL = "https://client.example.com/oauth/metadata.json"


@pytest.mark.parametrize(
    "url",
    [
        "http://client.example.com/meta.json",
        "https://client.example.com",
        "https://client.example.com/",
        "https://user@client.example.com/meta.json",
        "https://client.example.com/meta.json#x",
        "https://client.example.com/a/../meta.json",
        "https://client.example.com:99999/meta.json",
        "https:///meta.json",
        "https://client.example.com/ meta.json",
    ],
)
def test_unacceptable_document_urls_are_refused(url):
    with pytest.raises(cimd.MetadataDocumentError):
        cimd.check_url(url)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.1.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fc00::1",
        "0.0.0.0",
        "224.0.0.1",
        "::ffff:127.0.0.1",
        "100.64.0.1",
    ],
)
def test_private_loopback_and_metadata_addresses_are_not_public(address):
    assert not cimd.is_public_address(address)


def test_public_address_is_public():
    assert cimd.is_public_address("93.184.216.34")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_hosts_resolving_to_loopback_are_refused_unless_allowed(host):
    with pytest.raises(cimd.MetadataDocumentError):
        cimd.resolve(host.strip("[]"), 443)
    assert cimd.resolve(host.strip("[]"), 443, allow_private=True)


def _document(**changes):
    document = {
        "client_id": URL,
        "client_name": "Example",
        "redirect_uris": ["http://127.0.0.1:9/callback"],
    }
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not None}).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        _document(client_id="https://other.example.com/meta.json"),
        _document(client_secret="s3cret"),
        _document(token_endpoint_auth_method="client_secret_basic"),
        _document(redirect_uris=None),
        _document(redirect_uris=["javascript:alert(1)"]),
        _document(redirect_uris=["http://evil.example/cb"]),
    ],
)
def test_bad_documents_are_refused(body):
    with pytest.raises(cimd.MetadataDocumentError):
        cimd.validate(URL, body)


def test_good_document_is_accepted():
    assert cimd.validate(URL, _document()) == {
        "name": "Example",
        "redirect_uris": ["http://127.0.0.1:9/callback"],
    }


@pytest.mark.parametrize(
    "client_id",
    [
        "https://127.0.0.1/meta.json",
        "https://localhost/meta.json",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/meta.json",
    ],
)
def test_authorize_with_internal_metadata_url_is_an_error_page(
    browser_for, oauth_app, client_id
):
    app = oauth_app()
    browser, _uid = browser_for()
    response = browser.open_authorize(app.authorize_params(client_id=client_id))
    assert response.status_code == 400
    assert "Location" not in response.headers
