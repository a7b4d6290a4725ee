"""The redaction rules of the audit log, without a database."""

import hashlib
import json

import pytest

from odoo.addons.mcp_server_odoo.chain import redaction

KEY = b"k" * 32
JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
SECRETS = {
    "jwt": JWT,
    "token": "mcpat_Zk3v9QmTt2LrX8pN4sWc7bYa1eDf6gHj",
    "credential": "Bearer abc.def-ghi_jkl",
    "key": "sk-live-0123456789abcdefSECRET",
    "github": "ghp_0123456789abcdefghijABCDEFGHIJ",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "labelled": "password=hunter2",
    "random": "Q2hhbmdlTWUhOnRoaXNJc0FTZWNyZXQ9PQ",
    "email": "jane.doe@example.com",
    "phone": "+32 475 12 34 56",
    "iban": "BE71 0961 2345 6769",
    "pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
}
SECRET_FRAGMENTS = {
    "jwt": "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "token": "Zk3v9QmTt2LrX8pN4sWc7bYa1eDf6gHj",
    "credential": "abc.def-ghi_jkl",
    "key": "0123456789abcdefSECRET",
    "github": "0123456789abcdefghijABCDEFGHIJ",
    "aws": "IOSFODNN7EXAMPLE",
    "labelled": "hunter2",
    "random": "Q2hhbmdlTWUhOnRoaXNJc0FTZWNyZXQ9PQ",
    "email": "jane.doe@example.com",
    "phone": "475 12 34 56",
    "iban": "0961 2345 6769",
    "pem": "MIIEvQIBADANBg",
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_mask_text_hides_every_kind_of_secret_and_personal_data(kind):
    masked = redaction.mask_text(f"before {SECRETS[kind]} after")
    assert SECRET_FRAGMENTS[kind] not in masked
    assert "[REDACTED:" in masked
    assert masked.startswith("before ")


@pytest.mark.parametrize(
    "name",
    [
        "res.partner",
        "email_from",
        "partner_id",
        "x_studio_customer_reference",
        "tools/call",
        "search_records",
        "account.move.line",
        "2025-11-25",
        "127.0.0.1",
    ],
)
def test_ordinary_names_are_kept_as_they_are(name):
    assert redaction.mask_text(name) == name


def test_cr_and_lf_are_neutralised_so_no_line_can_be_forged():
    masked = redaction.mask_text("tool\r\nMCP audit OK forged\x00\u2028")
    assert "\r" not in masked and "\n" not in masked and "\x00" not in masked
    assert "\u2028" not in masked
    assert masked.startswith("tool\\r\\nMCP audit OK forged")


def test_long_text_is_cut():
    assert len(redaction.mask_text("a" * 1000)) == redaction.MAX_TEXT


def test_a_shape_keeps_names_types_and_sizes_never_values():
    arguments = {
        "model": "res.partner",
        "domain": [["email", "=", SECRETS["email"]]],
        "values": {"name": "Jane", "api_key": SECRETS["key"], "count": 3},
        "flag": True,
        "none": None,
    }
    shape = redaction.shape(arguments, key=KEY)
    text = json.dumps(shape)
    for value in ("res.partner", "Jane", SECRETS["email"], SECRETS["key"], "email"):
        assert value not in text
    assert shape["type"] == "object" and shape["size"] == 5
    assert shape["keys"]["model"]["type"] == "string"
    assert shape["keys"]["model"]["size"] == len("res.partner")
    assert shape["keys"]["domain"] == {
        "type": "array",
        "size": 1,
        "digest": shape["keys"]["domain"]["digest"],
        "items": ["array"],
    }
    assert set(shape["keys"]["values"]["keys"]) == {"name", "api_key", "count"}
    assert shape["keys"]["values"]["keys"]["count"] == {"type": "number"}
    assert shape["keys"]["flag"] == {"type": "boolean"}
    assert shape["keys"]["none"] == {"type": "null"}


def test_secrets_used_as_object_keys_are_masked_at_any_depth():
    nested = {"a": {"b": {"c": {SECRETS["jwt"]: 1, SECRETS["email"]: 2}}}}
    text = redaction.shape_json(nested, key=KEY)
    assert SECRET_FRAGMENTS["jwt"] not in text
    assert SECRETS["email"] not in text
    assert "[REDACTED:jwt]" in text and "[REDACTED:email]" in text


def test_digests_are_keyed_and_stable():
    one = redaction.shape({"v": "hunter2"}, key=KEY)["keys"]["v"]["digest"]
    again = redaction.shape({"v": "hunter2"}, key=KEY)["keys"]["v"]["digest"]
    other_key = redaction.shape({"v": "hunter2"}, key=b"x" * 32)["keys"]["v"]["digest"]
    assert one == again != other_key
    assert len(one) == redaction.DIGEST_CHARS
    # Without a key no digest is given, as an unkeyed one could be guessed.
    assert redaction.shape("hunter2")["digest"] is None
    # A plain SHA-256 of the value is never what is stored.
    assert one not in hashlib.sha256(b'"hunter2"').hexdigest()


def test_shapes_are_bounded_in_depth_and_width():
    deep = {"a": {"b": {"c": {"d": {"e": {"f": "x"}}}}}}
    shape = redaction.shape(deep)
    level = shape
    for name in "abcd":
        level = level["keys"][name]
    assert "keys" not in level
    wide = {f"k{i}": i for i in range(redaction.MAX_KEYS + 7)}
    shape = redaction.shape(wide)
    assert len(shape["keys"]) == redaction.MAX_KEYS
    assert shape["more_keys"] == 7


def _digests(node, value, found):
    """(digest in the shape, digest computed directly) for every described node."""
    if "digest" in node:
        found.append((node["digest"], redaction.digest(value, KEY)))
    for name, child in (node.get("keys") or {}).items():
        original = next(k for k in value if redaction.mask_text(k) == name)
        _digests(child, value[original], found)
    return found


@pytest.mark.parametrize(
    "value",
    [
        {"records": [{"id": 1, "name": "Zoë"}], "count": 1, "next": None},
        {"a": {"b": {"c": {"d": {"e": {"f": "deep"}}}}}, "z": [1, 2.5, "x"]},
        {f"k{i}": {"v": i, "w": [i]} for i in range(redaction.MAX_KEYS + 3)},
        {"é": "ünïcode \u2028 line", "tab\tkey": {"": ""}, "n": -0.0},
        {2: "two", 10: {"x": 1}, 1: None},
        [{"nested": {"in": "an array"}}],
        "plain string",
    ],
)
def test_every_digest_of_a_shape_is_the_digest_of_its_value(value):
    # The shape builds its canonical JSON bottom-up (one serialisation for the
    # whole result); each node's digest must still equal digest(value).
    pairs = _digests(redaction.shape(value, key=KEY), value, [])
    assert pairs
    for in_shape, direct in pairs:
        assert in_shape == direct


def test_looks_random_spares_identifiers_and_catches_keys():
    assert not redaction.looks_random("account_analytic_distribution_model")
    assert not redaction.looks_random("x_studio_customer_reference_2024")
    assert redaction.looks_random("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b")
    assert redaction.looks_random("Zk3v9QmTt2LrX8pN4sWc7bYa")
