"""The server-side work of each route without HTTP, timed in this process.

The HTTP figures include Odoo's request handling, which is the same for every
route; these split what is left. Each sample runs in a fresh cursor (a fresh
record cache, as a new request has) as the benchmark's web user, and the
variants are interleaved as in the HTTP loop:

- ``search_read``: what call_kw runs, plus encoding its result as JSON;
- ``web_search_read``: the list view's call, count and display names included;
- ``search_records``: argument validation, the tool handler and the result
  shaping of dispatch (structured value plus the same JSON as text), encoded.

``search_records_parts`` splits the last one into those three steps.
"""

import json
import statistics
import time

from odoo import api

from odoo.addons.mcp_server_odoo.tools import as_result
from odoo.addons.mcp_server_odoo.tools import records as record_tools

TOOL = "search_records"


def _timed(func):
    started = time.perf_counter_ns()
    result = func()
    return (time.perf_counter_ns() - started) / 1e6, result


def _search_read(env, query):
    rows = env[query["model"]].search_read(
        query["domain"], query["fields"], limit=query["limit"], order=query["order"]
    )
    return json.dumps(rows, default=str)


def _web_search_read(env, query, specification):
    result = env[query["model"]].web_search_read(
        query["domain"], specification, limit=query["limit"], order=query["order"]
    )
    return json.dumps(result, default=str)


def _search_records_parts(env, query):
    tools = env["mcp.server"]._mcp_assembled()[1]
    validate_ms, problem = _timed(lambda: tools.validation_error(TOOL, query))
    if problem:
        raise RuntimeError(problem)
    handler_ms, structured = _timed(
        lambda: record_tools.search_records.handler(env, query)
    )
    shape_ms, _text = _timed(lambda: json.dumps(as_result(structured), default=str))
    return {"validate": validate_ms, "handler": handler_ms, "shape": shape_ms}


def _sample(registry, uid, func):
    with registry.cursor() as cr:
        env = api.Environment(cr, uid, {})
        env = env(context=env.user.context_get())
        started = time.perf_counter_ns()
        parts = func(env)
        elapsed = (time.perf_counter_ns() - started) / 1e6
        cr.rollback()
    return elapsed, parts


def _p50(values):
    return round(statistics.median(values), 2)


def measure(registry, uid, query, specification, iterations):
    """Median ms of each variant and of the parts of search_records."""
    variants = {
        "search_read": lambda env: _search_read(env, query),
        "web_search_read": lambda env: _web_search_read(env, query, specification),
        "search_records": lambda env: _search_records_parts(env, query),
    }
    names = list(variants)
    samples = {name: [] for name in names}
    parts = {"validate": [], "handler": [], "shape": []}
    for i in range(iterations):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed, result = _sample(registry, uid, variants[name])
            samples[name].append(elapsed)
            if name == "search_records":
                for part, value in result.items():
                    parts[part].append(value)
    report = {f"{name}_p50_ms": _p50(values) for name, values in samples.items()}
    report["search_records_parts_p50_ms"] = {
        part: _p50(values) for part, values in parts.items()
    }
    return report
