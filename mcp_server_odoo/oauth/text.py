"""What text from a client must look like before anything else reads it.

Every OAuth parameter is visible ASCII and space (RFC 6749 Appendix A:
VSCHAR, NQCHAR, URI-reference); registration metadata (RFC 7591 §2) is free
text that the consent page shows and the database stores. Neither may carry
what is not printable: control characters (NUL among them, which PostgreSQL
cannot store), format characters such as a right-to-left override, lone
surrogates, or the replacement character that stands for bytes werkzeug could
not decode as UTF-8.

Pure Python, no ORM.
"""

import re

MAX_LENGTH = 2000
REPLACEMENT = "\ufffd"
# A parameter name we may repeat in an error description (RFC 6749 §5.2).
_NAME = re.compile(r"[a-z_]{1,40}")


def is_printable(text):
    """Whether ``text`` is printable and was valid UTF-8."""
    return text.isprintable() and REPLACEMENT not in text


def name_for_error(name):
    """``name`` quoted if it is safe to repeat to the client, else a stand-in."""
    return f"'{name}'" if _NAME.fullmatch(name) else "a parameter"
