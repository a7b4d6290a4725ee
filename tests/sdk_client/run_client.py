"""Drive /mcp with the official ``mcp`` SDK (2.x), as a separate client process.

Run by the python of the client virtualenv (see tests/harness/fixtures.py), never
imported by the tests: the SDK needs idna 3, which Odoo's pins forbid.

    MCP_BEARER_TOKEN=<key> python run_client.py http://127.0.0.1:8069/mcp \
        [--mode legacy|modern] [--call NAME JSON_ARGUMENTS]...

``legacy`` opens with ``initialize`` (2025-11-25 offered); ``modern`` opens with
``server/discover`` and then speaks the stateless 2026-07-28 revision. The token
travels in the environment so that it never shows in a process list.

Prints one JSON document on stdout::

    {"protocolVersion": ..., "serverInfo": {...} | null,
     "tools": [tool definitions as the SDK parsed them],
     "calls": [{"name", "isError", "structuredContent", "content", "exception"}],
     "failure": null | "<exception raised outside a call>"}

A call the SDK rejects (a JSON-RPC error, or structuredContent that does not
match the tool's outputSchema, which the SDK checks itself) has ``exception``
set to the exception's type and message. The exit status is 0 only when the
session opened and no call raised.
"""

import argparse
import json
import os
import sys

import anyio
import httpx2
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

CLIENT_INFO = types.Implementation(name="mcp_server_odoo-tests", version="1")


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--mode", choices=("legacy", "modern"), default="legacy")
    parser.add_argument(
        "--call",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "JSON"),
        help="call tool NAME with these JSON arguments; repeatable",
    )
    parser.add_argument("--timeout", type=float, default=60.0)
    return parser.parse_args(argv)


def _describe(exc):
    if isinstance(exc, MCPError):
        return f"MCPError {exc.code}: {exc.message}"
    if isinstance(getattr(exc, "exceptions", None), tuple):  # an ExceptionGroup
        return "; ".join(_describe(inner) for inner in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


async def _list_all_tools(session):
    tools, cursor = [], None
    while True:
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools += page.tools
        cursor = page.next_cursor
        if not cursor:
            return tools


async def _call(session, name, arguments):
    outcome = {
        "name": name,
        "isError": None,
        "structuredContent": None,
        "content": None,
        "exception": None,
    }
    try:
        # call_tool validates structuredContent against the listed outputSchema
        # and raises RuntimeError when it does not conform.
        result = await session.call_tool(name, arguments)
    except (MCPError, RuntimeError) as exc:
        outcome["exception"] = _describe(exc)
        return outcome
    dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
    outcome.update(
        isError=bool(result.is_error),
        structuredContent=dumped.get("structuredContent"),
        content=dumped.get("content"),
    )
    return outcome


async def _open(session, mode):
    if mode == "modern":
        await session.discover()
    else:
        await session.initialize()
    info = session.server_info
    return {
        "protocolVersion": session.protocol_version,
        "serverInfo": info.model_dump(by_alias=True, mode="json") if info else None,
    }


async def _run(args, token, report):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = httpx2.Timeout(args.timeout)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
        streamable_http_client(args.url, http_client=http) as (read, write),
        ClientSession(
            read, write, client_info=CLIENT_INFO, read_timeout_seconds=args.timeout
        ) as session,
    ):
        report.update(await _open(session, args.mode))
        tools = await _list_all_tools(session)
        report["tools"] = [
            tool.model_dump(by_alias=True, mode="json", exclude_none=True)
            for tool in tools
        ]
        for name, raw in args.call:
            report["calls"].append(await _call(session, name, json.loads(raw)))


def main(argv=None):
    args = _parse_args(argv)
    report = {
        "protocolVersion": None,
        "serverInfo": None,
        "tools": [],
        "calls": [],
        "failure": None,
    }
    try:
        anyio.run(_run, args, os.environ.get("MCP_BEARER_TOKEN"), report)
    except Exception as exc:  # reported on stdout for the test to show
        report["failure"] = _describe(exc)
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    failed = report["failure"] or any(call["exception"] for call in report["calls"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
