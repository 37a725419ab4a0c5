"""Drives the Worker's /mcp with the official MCP Python SDK (`mcp` on PyPI).

Usage: client.py <mcp url> <mode> <calls.json>, with the client token in the
WATERCOOLER_TOKEN environment variable. <mode> is the SDK's connect mode: `auto`
(probe `server/discover`, fall back to `initialize` on servers that do not speak
2026-07-28) or `legacy` (always `initialize`). <calls.json> is a list of
[tool name, arguments] to call in order. Lists the tools, resources and prompts,
calls each tool, reads the first thread resource and gets a prompt; prints one JSON
object with what came back, as it was on the wire.
"""

import asyncio
import json
import os
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


def wire(model):
    """A result as it was on the wire (camelCase, no empty fields)."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


async def main(url, mode, calls_file):
    with open(calls_file, encoding="utf-8") as f:
        calls = json.load(f)
    # The SDK's way to send headers: an HTTP client of one's own.
    headers = {"Authorization": f"Bearer {os.environ['WATERCOOLER_TOKEN']}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60)) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode) as client:
            tools = await client.list_tools()
            results = []
            for name, args in calls:
                results.append({"name": name, "result": wire(await client.call_tool(name, args))})
            resources = await client.list_resources()
            threads = [r.uri for r in resources.resources if str(r.uri).startswith("watercooler://threads/")]
            read = await client.read_resource(threads[0]) if threads else None
            prompts = await client.list_prompts()
            prompt = await client.get_prompt("reply", {"topic": "python-sdk"})
            return {
                "protocol_version": client.protocol_version,
                "server_info": wire(client.server_info),
                "instructions": client.instructions,
                "tools": [t.name for t in tools.tools],
                "calls": results,
                "resources": [str(r.uri) for r in resources.resources],
                "read": wire(read) if read else None,
                "prompts": [p.name for p in prompts.prompts],
                "prompt": wire(prompt),
            }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:4]))))
