"""What the audit log may keep of a message: shapes and masked names, no values.

Pure Python, no ORM, so that the rules are tested without a database
(tests/test_redaction.py). Decisions:

- Tool arguments and results are kept as a *shape*: for each node its JSON type,
  its size (characters of a string, items of an array, keys of an object) and,
  when a digest key is given, a keyed digest (HMAC-SHA256 of the node's canonical
  JSON, 16 hex characters). The digest lets an investigator who holds a value
  and the server's audit key confirm that this value was sent; a plain SHA-256
  would let anyone who reads the table test guesses (a password of 8 letters, a
  phone number), so none is stored. Numbers, booleans and null get no digest
  either: they have too few values to hide any.
- Object keys are names, and names are kept, but they come from the client too:
  every string that is kept (keys, method, tool, model and field names) goes
  through :func:`mask_text` first, which replaces anything that looks like a
  secret or personal data with ``[REDACTED:<kind>]`` and neutralises control
  characters (CR and LF become the two visible characters ``\\r`` ``\\n``),
  so that a name can neither forge a line of a log or export nor carry a token.
- Shapes are bounded: nesting below :data:`MAX_DEPTH` and keys beyond
  :data:`MAX_KEYS` per object are counted, not described; masked strings are
  cut at :data:`MAX_TEXT`.
- What counts as a secret: JSON Web Tokens, this server's own credentials
  (``mcpat_`` and friends), ``Bearer``/``Basic`` credentials, PEM private keys,
  well-known key formats (``sk-``, ``ghp_``, ``xox?-``, ``AKIA``), the value
  after ``password=``/``token:``-like labels, and any run of 20 or more
  token characters that mixes letters and digits with high entropy. Personal
  data: e-mail addresses, phone numbers (a ``+`` and 8 digits, or 9 digits or
  more with separators) and IBANs. The rules prefer masking an innocent
  string to keeping a secret one.
"""

import hashlib
import hmac
import json
import math
import re
from collections import Counter
from functools import lru_cache

MAX_DEPTH = 4
MAX_KEYS = 50
MAX_TEXT = 200
SHORT_TEXT = 64
DIGEST_CHARS = 16
MIN_SECRET_RUN = 20
MIN_ENTROPY_BITS = 3.0

# Order matters: the most specific patterns run first, so that a JWT is named a
# JWT before the generic high-entropy rule sees its parts.
_PATTERNS = (
    (
        "private_key",
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?"
            r"(-----END [A-Z ]*PRIVATE KEY-----|$)",
            re.DOTALL,
        ),
    ),
    ("jwt", re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")),
    ("token", re.compile(r"\bmcp(?:at|rt|ac|cs)_[A-Za-z0-9_-]+")),
    ("credential", re.compile(r"(?i)\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]+")),
    (
        "key",
        re.compile(
            r"\b(?:sk|pk|rk)[-_](?:live|test|proj|ant)?[-_]?[A-Za-z0-9_-]{8,}"
            r"|\bgh[pousr]_[A-Za-z0-9]{16,}"
            r"|\bxox[abprs]-[A-Za-z0-9-]{8,}"
            r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
        ),
    ),
    (
        "secret",
        re.compile(
            r"(?i)(?:password|passwd|pwd|secret|token|api[_-]?key|apikey"
            r"|authorization|auth|private[_-]?key|client[_-]?secret)[\"']?\s*[:=]\s*"
            r"[\"']?[^\s\"',;&]+"
        ),
    ),
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")),
    (
        "phone",
        re.compile(
            r"\+\d[\d ().-]{6,}\d"
            r"|(?<![\w.])\d(?:[ ().-]?\d){8,14}(?![\w.])"
        ),
    ),
)
_TOKEN_RUN = re.compile(r"[A-Za-z0-9+/=_-]{" + str(MIN_SECRET_RUN) + ",}")
_SEPARATORS = re.compile(r"[_.-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
_CONTROL_NAMES = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _entropy(text):
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _is_identifier(text):
    """snake_case, kebab-case or dotted words and numbers: a name, not a key."""
    parts = [part for part in _SEPARATORS.split(text) if part]
    return all(
        part.isdigit()
        or (part.isalpha() and (part.islower() or part.isupper() or part.istitle()))
        for part in parts
    )


def looks_random(text):
    """True for a run that reads as key material rather than a word or a name."""
    if len(text) < MIN_SECRET_RUN or _is_identifier(text):
        return False
    classes = sum(
        (
            any(c.islower() for c in text),
            any(c.isupper() for c in text),
            any(c.isdigit() for c in text),
        )
    )
    return classes >= 2 and _entropy(text) >= MIN_ENTROPY_BITS


def _mask_random(match):
    return "[REDACTED:secret]" if looks_random(match.group(0)) else match.group(0)


def _neutralise(match):
    char = match.group(0)
    return _CONTROL_NAMES.get(char, f"\\x{ord(char):02x}")


def neutralise_text(value):
    """``value`` as one printable line of at most :data:`MAX_TEXT` characters."""
    text = value if isinstance(value, str) else str(value)
    text = _CONTROL.sub(_neutralise, text)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return text


def mask_text(value):
    """``value`` as a string fit to store: secrets and personal data masked."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= SHORT_TEXT:
        return _mask_short(text)
    return _mask(text)


# Names (methods, tools, models, fields, argument keys) repeat from one message
# to the next: their masked form is kept per process, for short ones only.
@lru_cache(maxsize=4096)
def _mask_short(text):
    return _mask(text)


def _mask(text):
    for kind, pattern in _PATTERNS:
        text = pattern.sub(f"[REDACTED:{kind}]", text)
    text = _TOKEN_RUN.sub(_mask_random, text)
    return neutralise_text(text)


def mask_optional(value):
    return None if value is None else mask_text(value)


def canonical_json(value):
    """Deterministic JSON of a JSON-able value (sorted keys, no spaces)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def digest(value, key):
    """Keyed digest of a value, or None without a key."""
    return _digest_text(canonical_json(value), key)


def _digest_text(canonical, key):
    if not key:
        return None
    data = canonical.encode("utf-8", "surrogatepass")
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:DIGEST_CHARS]


_TYPE_NAMES = (
    (bool, "boolean"),
    ((int, float), "number"),
    (str, "string"),
    ((list, tuple), "array"),
    (dict, "object"),
)


def _type_name(value):
    if value is None:
        return "null"
    for classes, name in _TYPE_NAMES:
        if isinstance(value, classes):
            return name
    return "other"


def shape(value, *, key=None, depth=0):
    """The redacted description of ``value``: type, size, digest, nested names."""
    return _shape(value, key, depth)[0]


def shape_and_text(value, *, key=None):
    """``(shape, canonical JSON of value)``, the value serialised once for both."""
    return _shape(value, key, 0)


def _shape(value, key, depth):
    """``(shape, canonical JSON of value)``.

    An object described key by key builds its canonical JSON from its
    children's, so that a result is serialised once for all the digests of
    its nodes, not once per level; the text is the one :func:`canonical_json`
    gives, so every digest equals :func:`digest` of its value.
    """
    kind = _type_name(value)
    node = {"type": kind}
    if kind in ("string", "array", "object"):
        node["size"] = len(value)
    if kind == "object" and value and depth < MAX_DEPTH:
        canonical = _describe_object(node, value, key, depth)
    else:
        canonical = canonical_json(value)
        if kind == "array" and value and depth < MAX_DEPTH:
            node["items"] = sorted({_type_name(item) for item in value})
    if kind in ("string", "array", "object", "other"):
        node["digest"] = _digest_text(canonical, key)
    return node, canonical


def _describe_object(node, value, key, depth):
    """Fill ``node["keys"]``; the canonical JSON of ``value``."""
    names = sorted(value, key=str)
    # With keys other than strings (a tool's int-keyed dict), JSON's own key
    # conversion and order decide: serialise the whole object instead.
    composed = all(isinstance(name, str) for name in names)
    described, parts = {}, []
    for position, name in enumerate(names):
        if position < MAX_KEYS:
            child, text = _shape(value[name], key, depth + 1)
            described[mask_text(name)] = child
        elif composed:
            text = canonical_json(value[name])
        else:
            break
        parts.append(f"{canonical_json(name)}:{text}")
    node["keys"] = described
    if len(names) > MAX_KEYS:
        node["more_keys"] = len(names) - MAX_KEYS
    return "{" + ",".join(parts) + "}" if composed else canonical_json(value)


def shape_json(value, *, key=None):
    """:func:`shape` as canonical JSON text, as the audit event stores it."""
    return canonical_json(shape(value, key=key))
