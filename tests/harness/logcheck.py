"""The session's log guard: no Odoo log of the run holds a traceback or a 5xx.

DESIGN.md promises that no input makes the server answer 500 or log a
traceback it did not mean to. Every ``odoo-bin`` the harness starts writes its
log under the run directory (or names it with :func:`watch`); when the session
ends, after every server has stopped, :func:`findings` reads each log as
Odoo's records (a record starts with Odoo's timestamp and pid; the lines of a
traceback continue it) and returns those that hold a traceback or log an HTTP
answer with a 5xx status.

A test that provokes a logged error on purpose says so with
:func:`expect`: a trace id the client received, or the exact text of the
error, with the reason. An expectation that nothing matched is reported too,
so that the allow-list never outlives the error it was written for.
"""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

# "2025-12-04 07:11:00,123 4242 " opens every record of Odoo's log format.
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ ", re.MULTILINE)
# werkzeug's request line: ... "POST /mcp HTTP/1.1" 500 - 3 0.001 0.004
SERVER_ERROR = re.compile(r'"[A-Z]+ \S+ HTTP/[\d.]+" 5\d\d ')

_watched = set()
_expected = []


@dataclass
class Expectation:
    needle: str
    reason: str
    test: str
    log: str | None = None
    used: int = 0


def watch(path):
    """Check ``path`` at the end of the session even if it is outside run_dir."""
    _watched.add(Path(path))


def expect(needle, *, reason, test="", log=None):
    """Allow the records that contain ``needle`` (a trace id, an error's text).

    ``log`` (a file name) limits the allowance to the log of one server, e.g.
    a server started with a fault on purpose.
    """
    if not needle or not needle.strip():
        raise ValueError("an expected server error needs a non-empty needle")
    _expected.append(Expectation(needle, reason, test, log))


def records(text):
    """The log's records, each with the traceback lines that follow it."""
    starts = [match.start() for match in RECORD_START.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return [
        text[start:end].rstrip("\n")
        for start, end in zip(starts, [*starts[1:], len(text)], strict=True)
        if text[start:end].strip()
    ]


def offends(record):
    return "Traceback" in record or bool(SERVER_ERROR.search(record))


def _allowed(record, path):
    for expectation in _expected:
        if expectation.log not in (None, path.name):
            continue
        if expectation.needle in record:
            expectation.used += 1
            return True
    return False


def logs(run_dir):
    found = set(Path(run_dir).rglob("*.log")) if run_dir else set()
    return sorted(path for path in found | _watched if path.is_file())


def keep(run_dir, target):
    """Copy the run's logs to ``target`` (for a CI artifact, or a look later)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in logs(run_dir):
        shutil.copy2(path, target / path.name)


def findings(run_dir):
    """``[(log path, record)]`` that offend and were not expected."""
    found = []
    for path in logs(run_dir):
        for record in records(path.read_text(errors="replace")):
            if offends(record) and not _allowed(record, path):
                found.append((path, record))
    return found


def unused_expectations():
    return [expectation for expectation in _expected if not expectation.used]


def _shorten(text, size):
    if len(text) <= size:
        return text
    return text[: size // 2] + "\n[...]\n" + text[-size // 2 :]


def _label(path, run_dir):
    try:
        return str(path.relative_to(run_dir))
    except ValueError:
        return str(path)


def report(run_dir, *, max_record=4000):
    """A failure message, or None when every log is clean."""
    found = findings(run_dir)
    unused = unused_expectations()
    if not found and not unused:
        return None
    parts = []
    if found:
        parts.append(
            f"{len(found)} log record(s) hold a traceback or an HTTP 5xx answer "
            "(DESIGN.md: no 500, no traceback). A test that provokes one on "
            "purpose declares it with the expect_server_error fixture."
        )
        for path, record in found:
            parts.append(f"--- {_label(path, run_dir)}\n{_shorten(record, max_record)}")
    for expectation in unused:
        parts.append(
            f"expected server error never logged (stale allow-list entry of "
            f"{expectation.test or 'a test'}): {expectation.needle!r} "
            f"({expectation.reason})"
        )
    return "\n".join(parts)


def reset():
    _watched.clear()
    _expected.clear()
