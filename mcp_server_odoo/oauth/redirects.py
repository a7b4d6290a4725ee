"""Redirect URI rules (OAuth 2.1 §2.3.1 and §4.1.1, RFC 9700 §4.1, RFC 8252 §7.3).

* A redirect URI is absolute visible ASCII, without fragment or userinfo.
* It uses ``https``, except on a loopback host (``127.0.0.1``, ``[::1]``,
  ``localhost``) where ``http`` is allowed for native clients.
* It matches a registered URI by exact string comparison; for loopback hosts
  the port alone may differ (RFC 8252 §7.3).

Pure Python, no ORM.
"""

from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
MAX_LENGTH = 2000


def problem(uri):
    """Why ``uri`` may not be registered or used as a redirect URI, or None."""
    reason = _text_problem(uri)
    if reason:
        return reason
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return "a redirect URI must be an absolute URL"
    return _url_problem(parts)


def _text_problem(uri):
    if not isinstance(uri, str) or not uri or len(uri) > MAX_LENGTH:
        return "a redirect URI must be a non-empty string of at most 2000 characters"
    # RFC 3986 §2: a URI is visible ASCII; anything else is refused here.
    if any(not 0x20 < ord(char) < 0x7F for char in uri):
        return "a redirect URI must be visible ASCII, without spaces or controls"
    if "#" in uri:
        return "a redirect URI must not contain a fragment"
    return None


def _url_problem(parts):
    if "@" in parts.netloc:
        return "a redirect URI must not contain userinfo"
    if not parts.hostname:
        return "a redirect URI must be an absolute URL with a host"
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    )
    if not secure:
        return "a redirect URI must use https (http only on a loopback address)"
    return None


def is_loopback(uri):
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def host_of(uri):
    """The host name of ``uri`` (lower case), for display and allow-lists."""
    return (urlsplit(uri).hostname or "").lower()


def matches(registered, requested):
    """Whether ``requested`` may be used for the ``registered`` redirect URI."""
    if problem(requested) or problem(registered):
        return False
    if requested == registered:
        return True
    if not (is_loopback(registered) and is_loopback(requested)):
        return False
    # RFC 8252 §7.3: the port of a loopback redirect is chosen at run time.
    ours, theirs = urlsplit(registered), urlsplit(requested)
    return (ours.hostname, ours.path, ours.query) == (
        theirs.hostname,
        theirs.path,
        theirs.query,
    )
