"""Hostile input at every OAuth endpoint: a clear 4xx, never a 500 or a traceback.

NUL and other control characters, invalid UTF-8, lone surrogates, huge
strings, deep nesting and lists or objects where strings belong go to the
authorization, token, revocation, introspection and registration endpoints
and to the two discovery documents. Every answer is a 4xx carrying an OAuth
error (JSON, or the error page of the authorization endpoint; the discovery
documents ignore what they do not read), and the server log gains no
traceback.
"""

import base64
import json
from urllib.parse import urlencode

import pytest
import requests

from tests.harness.oauth import query_of

# Parameter values no client may send (RFC 6749 Appendix A: VSCHAR, NQCHAR).
HOSTILE = {
    "nul": "mcpc_a\x00b",
    "control": "mcpc_a\x01\x1b[31mb",
    "crlf": "mcpc_a\r\nSet-Cookie: x=y",
    "c1": "mcpc_a\x85\x9bb",
    "delete": "mcpc_a\x7fb",
    "invalid-utf8": b"mcpc_a\xff\xfeb",
}
HUGE = "A" * 30_000
LOOPBACK = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def apps(oauth_app):
    return {"public": oauth_app(), "confidential": oauth_app("client_secret_basic")}


@pytest.fixture
def no_traceback(odoo_http):
    """The server log gains no traceback and no 500 while the test runs."""
    start = len(odoo_http.log_text())
    yield
    added = odoo_http.log_text()[start:]
    for marker in ("Traceback", " ERROR ", '" 500 -'):
        where = added.find(marker)
        assert where == -1, added[where : where + 6000][-2500:]


def _assert_oauth_json_error(response):
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert "Traceback" not in response.text


def _assert_error_page(response):
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert "o_mcp_oauth_error" in response.text
    assert "Location" not in response.headers
    assert "Traceback" not in response.text


def _form(values):
    """A form body; bytes values go through as they are (invalid UTF-8)."""
    return urlencode({k: v for k, v in values.items() if v is not None})


# -- the authorization endpoint ------------------------------------------------


@pytest.mark.parametrize(
    "param",
    [
        "client_id",
        "redirect_uri",
        "state",
        "code_challenge",
        "resource",
        "scope",
        "response_type",
    ],
)
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_authorize_refuses_hostile_parameters_with_the_error_page(
    odoo_http, apps, no_traceback, param, kind
):
    params = apps["public"].authorize_params(**{param: HOSTILE[kind]})
    response = requests.get(
        f"{odoo_http.url}/oauth/authorize?{_form(params)}",
        allow_redirects=False,
        timeout=30,
    )
    _assert_error_page(response)


def test_authorize_repeats_no_quoted_redirect_uri(odoo_http, apps, no_traceback):
    """authlib once put the refused URI in its error description, and failed
    on the quote (RFC 6749 §4.1.2.1 forbids it there)."""
    params = apps["public"].authorize_params(redirect_uri=LOOPBACK + '"\\')
    response = requests.get(
        f"{odoo_http.url}/oauth/authorize",
        params=params,
        allow_redirects=False,
        timeout=30,
    )
    _assert_error_page(response)


@pytest.mark.parametrize("response_type", ['co"de', "code\\", "cöde", None])
def test_a_malformed_response_type_goes_back_to_the_client_as_invalid_request(
    odoo_http, apps, no_traceback, response_type
):
    params = apps["public"].authorize_params(response_type=response_type)
    response = requests.get(
        f"{odoo_http.url}/oauth/authorize",
        params=params,
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 303, response.text[:300]
    query = query_of(response)
    assert query["error"] == "invalid_request"
    assert query["state"] == params["state"]
    assert "code" not in query


@pytest.mark.parametrize("param", ["client_id", "redirect_uri"])
def test_authorize_refuses_huge_parameters_with_the_error_page(
    odoo_http, apps, no_traceback, param
):
    params = apps["public"].authorize_params(**{param: HUGE})
    response = requests.get(
        f"{odoo_http.url}/oauth/authorize?{_form(params)}",
        allow_redirects=False,
        timeout=30,
    )
    _assert_error_page(response)


@pytest.mark.parametrize(
    "client_id",
    [
        "https://client.example.com/meta\x00.json",
        "https://client.example.com/" + "a" * 30_000,
        "https://[/meta.json",
        "https://client.example.com:0/meta.json",
    ],
    ids=["nul", "huge", "broken-ipv6", "port-zero"],
)
def test_authorize_refuses_hostile_metadata_document_urls(
    odoo_http, apps, no_traceback, client_id
):
    params = apps["public"].authorize_params(client_id=client_id)
    response = requests.get(
        f"{odoo_http.url}/oauth/authorize?{_form(params)}",
        allow_redirects=False,
        timeout=30,
    )
    _assert_error_page(response)


# -- token, revocation, introspection ------------------------------------------


def _post(odoo_http, path, values, headers=None):
    return requests.post(
        f"{odoo_http.url}{path}",
        data=_form(values),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            **(headers or {}),
        },
        timeout=60,
    )


def _token_request(app, **overrides):
    values = {
        "grant_type": "authorization_code",
        "client_id": app.client_id,
        "code": "mcpac_" + "A" * 43,
        "redirect_uri": app.redirect_uri,
        "code_verifier": "v" * 43,
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    "param",
    ["client_id", "code", "code_verifier", "redirect_uri", "grant_type", "resource"],
)
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_token_endpoint_refuses_hostile_parameters(
    odoo_http, apps, no_traceback, param, kind
):
    values = _token_request(apps["public"], **{param: HOSTILE[kind]})
    _assert_oauth_json_error(_post(odoo_http, "/oauth/token", values))


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_refresh_grant_refuses_hostile_refresh_tokens(
    odoo_http, apps, no_traceback, kind
):
    values = {
        "grant_type": "refresh_token",
        "client_id": apps["public"].client_id,
        "refresh_token": HOSTILE[kind],
    }
    _assert_oauth_json_error(_post(odoo_http, "/oauth/token", values))


@pytest.mark.parametrize("param", ["client_id", "code", "redirect_uri"])
def test_token_endpoint_refuses_huge_parameters(odoo_http, apps, no_traceback, param):
    values = _token_request(apps["public"], **{param: "A" * 100_000})
    _assert_oauth_json_error(_post(odoo_http, "/oauth/token", values))


def _basic(raw):
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.mark.parametrize(
    "credentials",
    [
        b"mcpc_a\x00b:secret",
        b"mcpc_a\x1bb:secret",
        b"\xff\xfe:secret",
        b"client:\xff\xfe",
        b"no-colon",
        b"A" * 30_000 + b":secret",
    ],
    ids=["nul", "escape", "invalid-utf8-id", "invalid-utf8-secret", "no-colon", "huge"],
)
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_hostile_basic_credentials_are_refused(
    odoo_http, no_traceback, credentials, path
):
    values = {"grant_type": "refresh_token", "refresh_token": "mcprt_x", "token": "x"}
    _assert_oauth_json_error(_post(odoo_http, path, values, _basic(credentials)))


@pytest.mark.parametrize("header", ["Basic", "Basic !!!", "Basic " + "=" * 5])
def test_malformed_basic_headers_are_refused(odoo_http, no_traceback, header):
    values = {"grant_type": "refresh_token", "refresh_token": "mcprt_x"}
    response = _post(odoo_http, "/oauth/token", values, {"Authorization": header})
    _assert_oauth_json_error(response)


@pytest.mark.parametrize("param", ["client_id", "token"])
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_revocation_refuses_hostile_parameters(
    odoo_http, apps, no_traceback, param, kind
):
    values = {"client_id": apps["public"].client_id, "token": "mcpat_x"}
    values[param] = HOSTILE[kind]
    _assert_oauth_json_error(_post(odoo_http, "/oauth/revoke", values))


@pytest.mark.parametrize("param", ["client_id", "client_secret", "token"])
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_introspection_refuses_hostile_parameters(
    odoo_http, apps, no_traceback, param, kind
):
    app = apps["confidential"]
    values = {"client_id": app.client_id, "client_secret": app.secret, "token": "x"}
    values[param] = HOSTILE[kind]
    _assert_oauth_json_error(_post(odoo_http, "/oauth/introspect", values))


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
def test_revocation_and_introspection_refuse_huge_client_ids(
    odoo_http, no_traceback, path
):
    values = {"client_id": "A" * 100_000, "client_secret": "x", "token": "x"}
    _assert_oauth_json_error(_post(odoo_http, path, values))


# -- registration --------------------------------------------------------------


def _metadata(**changes):
    metadata = {
        "client_name": "Fuzz",
        "redirect_uris": [LOOPBACK],
        "token_endpoint_auth_method": "none",
    }
    metadata.update(changes)
    return json.dumps(metadata)


def _raw_metadata(member):
    """Metadata with one member written as raw JSON text."""
    return '{"redirect_uris": ["' + LOOPBACK + '"], ' + member + "}"


@pytest.fixture
def register(odoo_http, oauth_setting):
    oauth_setting("oauth_registrations_per_hour", "0")

    def post(body):
        return requests.post(
            f"{odoo_http.url}/oauth/register",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )

    return post


REGISTRATION_BODIES = {
    "nul-name": _metadata(client_name="Fuzz\x00"),
    "nul-client-uri": _metadata(client_uri="https://app.example.com/\x00"),
    "escape-name": _metadata(client_name="\x1b[2JFuzz"),
    "c1-name": _metadata(client_name="Fuzz\x9b"),
    "nul-redirect": _metadata(redirect_uris=["http://127.0.0.1:9/cb\x00"]),
    "nul-in-contacts": _metadata(contacts=["a@example.com\x00"]),
    "nul-software-id": _metadata(software_id="id\x00"),
    "nul-logo-uri": _metadata(logo_uri="https://app.example.com/\x00.png"),
    "nul-scope": _metadata(scope="mcp\x00"),
    "nul-auth-method": _metadata(token_endpoint_auth_method="none\x00"),
    "surrogate-name": _raw_metadata('"client_name": "\\ud800"'),
    "surrogate-uri": _raw_metadata('"client_uri": "https://a.example/\\udfff"'),
    "broken-ipv6-client-uri": _metadata(client_uri="https://[/x"),
    "broken-ipv6-tos-uri": _metadata(tos_uri="https://[::1/x"),
    "list-name": _metadata(client_name=["Fuzz"]),
    "object-name": _metadata(client_name={"en": "Fuzz"}),
    "list-client-uri": _metadata(client_uri=["https://app.example.com/"]),
    "object-logo-uri": _metadata(logo_uri={"x": 1}),
    "number-policy-uri": _metadata(policy_uri=5),
    "list-auth-method": _metadata(token_endpoint_auth_method=["none"]),
    "object-auth-method": _metadata(token_endpoint_auth_method={"none": 1}),
    "list-scope": _metadata(scope=["mcp"]),
    "object-scope": _metadata(scope={"mcp": 1}),
    "objects-in-grant-types": _metadata(grant_types=[{"a": 1}]),
    "string-grant-types": _metadata(grant_types="authorization_code"),
    "lists-in-response-types": _metadata(response_types=[["code"]]),
    "objects-in-redirect-uris": _metadata(redirect_uris=[{"uri": LOOPBACK}]),
    "objects-in-contacts": _metadata(contacts=[{"a": 1}]),
    "string-contacts": _metadata(contacts="a@example.com"),
    "object-software-id": _metadata(software_id={"a": 1}),
    "list-software-version": _metadata(software_version=[1]),
    "string-jwks": _metadata(jwks="keys"),
    "bad-jwks": _metadata(jwks={"keys": [{"kty": "nope"}]}),
    "list-jwks-uri": _metadata(jwks_uri=["https://app.example.com/jwks"]),
    "huge-name": _metadata(client_name="A" * 50_000),
    "huge-redirect": _metadata(redirect_uris=["http://127.0.0.1/" + "a" * 50_000]),
    "deep-array": "[" * 100_000 + "]" * 100_000,
    "deep-object": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "deep-metadata": _metadata(client_name="x")[:-1]
    + ', "jwks": '
    + "[" * 20_000
    + "]" * 20_000
    + "}",
    "over-64-kib": _metadata(client_name="x", software_id="A" * 70_000),
    "invalid-utf8": b'{"client_name": "\xff\xfe", "redirect_uris": ["'
    + LOOPBACK.encode()
    + b'"]}',
    "huge-number": _raw_metadata('"client_name": 1e999999'),
    "huge-integer": _raw_metadata('"x": ' + "9" * 5000),
}


@pytest.mark.parametrize("case", sorted(REGISTRATION_BODIES))
def test_registration_refuses_hostile_metadata(register, no_traceback, case):
    response = register(REGISTRATION_BODIES[case])
    _assert_oauth_json_error(response)
    assert response.json()["error"] in {
        "invalid_client_metadata",
        "invalid_redirect_uri",
        "invalid_request",
    }


def test_registration_refuses_a_body_that_is_not_json(register, no_traceback):
    _assert_oauth_json_error(register(b"\x00\x01\x02"))


# -- the discovery documents ---------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ],
)
@pytest.mark.parametrize(
    "query",
    [
        "x=%00",
        "x=%FF%FE",
        "x=" + "A" * 30_000,
        "resource=%00&resource=%01",
        "%00=%00",
    ],
    ids=["nul", "invalid-utf8", "huge", "repeated", "nul-name"],
)
def test_discovery_documents_ignore_hostile_queries(
    odoo_http, no_traceback, path, query
):
    response = requests.get(f"{odoo_http.url}{path}?{query}", timeout=30)
    assert response.status_code == 200
    assert response.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/oauth/authorize"),
        ("POST", "/oauth/token"),
        ("POST", "/oauth/revoke"),
        ("POST", "/oauth/introspect"),
        ("POST", "/oauth/register"),
        ("GET", "/.well-known/oauth-authorization-server"),
        ("GET", "/.well-known/oauth-protected-resource"),
        ("POST", "/mcp"),
        ("GET", "/mcp/exports/" + "A" * 43),
    ],
)
def test_a_parameter_named_self_is_no_server_error(
    odoo_http, no_traceback, method, path
):
    """Odoo passes parameters as keyword arguments; ``self`` once collided."""
    response = requests.request(
        method, f"{odoo_http.url}{path}?self=1", allow_redirects=False, timeout=30
    )
    assert response.status_code < 500, response.text
