"""Drives the Worker's /mcp with the official MCP Python SDK (`mcp` on PyPI).

Usage: client.py <mcp url> <topic> <title> <body>, with the client token in the
WATERCOOLER_TOKEN environment variable. Initializes, lists the tools, says on the
topic and reads the thread back; prints one JSON object with what came back.
"""

import asyncio
import json
import os
import sys

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


def wire(model):
    """A result as it was on the wire (camelCase, no empty fields)."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def main(url, topic, title, body):
    # The SDK's way to send headers: an HTTP client of one's own.
    headers = {"Authorization": f"Bearer {os.environ['WATERCOOLER_TOKEN']}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60)) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                tools = await session.list_tools()
                said = await session.call_tool(
                    "watercooler_say",
                    # Wait for the commit, so the thread read back is the file in git.
                    {"topic": topic, "title": title, "body": body, "agent": "Claude", "code_path": ".", "wait_for_commit": True},
                )
                thread = await session.call_tool("watercooler_read_thread", {"topic": topic})
    return {
        "protocol_version": init.protocol_version,
        "server_info": wire(init.server_info),
        "tools": [t.name for t in tools.tools],
        "say": wire(said),
        "read_thread": wire(thread),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:5]))))
