"""A real MCP client (the official Python SDK, `mcp`) driving `taskboard mcp` over stdio, as
an agent's MCP host would: it starts the server with its own environment (TASKBOARD_URL,
TASKBOARD_TOKEN, TASKBOARD_TASK_ID), initializes, lists the tools with their schemas, calls
the tools it is given in order, and prints one JSON document on stdout for the Rust test.

    python mcp_client.py CALLS_JSON SERVER_COMMAND [ARGS...]

CALLS_JSON is a list of {"tool": NAME, "args": {...}}, or @FILE to read it from a file.
Output:
    {"server": {"name", "version"}, "instructions", "tools": [{"name", "description",
     "input_schema"}], "calls": [{"tool", "is_error", "text"}]}
A call that fails at the protocol level (not a tool error) is reported with "protocol_error".
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def run(calls, command, args):
    params = StdioServerParameters(command=command, args=args, env=dict(os.environ))
    out = {"calls": []}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["server"] = {"name": init.server_info.name, "version": init.server_info.version}
            out["protocol_version"] = init.protocol_version
            out["instructions"] = init.instructions
            listed = await session.list_tools()
            out["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.input_schema}
                for t in listed.tools
            ]
            for call in calls:
                entry = {"tool": call["tool"]}
                try:
                    result = await session.call_tool(call["tool"], call.get("args") or {})
                    entry["is_error"] = bool(result.is_error)
                    entry["text"] = "\n".join(
                        getattr(c, "text", "") for c in result.content if getattr(c, "type", "") == "text"
                    )
                except Exception as e:  # a JSON-RPC error, not a tool error
                    entry["protocol_error"] = f"{type(e).__name__}: {e}"
                out["calls"].append(entry)
    return out


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    arg = sys.argv[1]
    if arg.startswith("@"):
        with open(arg[1:], encoding="utf-8") as f:
            arg = f.read()
    calls = json.loads(arg)
    out = asyncio.run(run(calls, sys.argv[2], sys.argv[3:]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
