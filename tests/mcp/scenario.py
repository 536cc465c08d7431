"""Drives empla's MCP server with the official MCP Python SDK and prints what it saw, as
one JSON object, for the Rust test to check.

    scenario.py http URL TOKEN MODE     streamable HTTP; MODE is `auto` (the current
                                        revision) or `legacy` (the 2025-11-25 handshake)
    scenario.py stdio EMPLA NODE TOKEN  `EMPLA mcp --node NODE` over stdio
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client


def text(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def scenario(client):
    out = {"protocol": client.protocol_version, "server": client.server_info.name if client.server_info else None}
    out["tools"] = sorted(t.name for t in (await client.list_tools()).tools)
    r = await client.call_tool("employee_status", {"employee": "jordan.lee"})
    out["status"] = {"error": r.is_error, "structured": r.structured_content}
    r = await client.call_tool(
        "ask_employee",
        {"employee": "jordan.lee", "question": "Hey, how's the pipeline looking?", "from": "Dana Boss <dana@example.com>"},
    )
    out["ask"] = {"error": r.is_error, "text": text(r)}
    r = await client.call_tool(
        "assign_task",
        {"employee": "jordan.lee", "description": "Research Globex before Thursday's call", "priority": "high"},
    )
    out["task"] = {"error": r.is_error, "structured": r.structured_content}
    task_id = (r.structured_content or {}).get("id") or ((r.structured_content or {}).get("task") or {}).get("id")
    if task_id:
        r = await client.call_tool("task_status", {"employee": "jordan.lee", "task_id": task_id})
        out["task_status"] = {"error": r.is_error, "structured": r.structured_content}
    r = await client.call_tool("recall_memories", {"employee": "jordan.lee", "query": "pipeline", "limit": 5})
    out["recall"] = {"error": r.is_error, "text": text(r)}
    r = await client.call_tool("list_approvals", {"employee": "jordan.lee"})
    out["approvals"] = {"error": r.is_error, "structured": r.structured_content}
    r = await client.call_tool("employee_status", {"employee": "nobody.here"})
    out["unknown"] = {"error": r.is_error, "text": text(r)}
    r = await client.call_tool("assign_task", {"employee": "jordan.lee"})
    out["missing"] = {"error": r.is_error, "text": text(r)}
    r = await client.call_tool("reject_action", {"approval": "no-such-approval", "reason": "testing"})
    out["reject_unknown"] = {"error": r.is_error, "text": text(r)}
    out["resources"] = [str(x.uri) for x in (await client.list_resources()).resources]
    memory = await client.read_resource("empla://employees/jordan.lee/memory")
    out["memory"] = json.loads(memory.contents[0].text)
    try:
        await client.read_resource("empla://nothing/here")
        out["bad_resource"] = "read"
    except Exception as e:  # the SDK raises the server's protocol error
        out["bad_resource"] = str(e)
    out["prompts"] = [p.name for p in (await client.list_prompts()).prompts]
    prompt = await client.get_prompt("work_with_sales_ae", {"employee": "jordan.lee"})
    out["prompt"] = prompt.messages[0].content.text
    return out


async def main():
    kind = sys.argv[1]
    if kind == "http":
        url, token, mode = sys.argv[2], sys.argv[3], sys.argv[4]
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode, cache=None) as client:
            out = await scenario(client)
    else:
        empla, node, token = sys.argv[2], sys.argv[3], sys.argv[4]
        params = StdioServerParameters(command=empla, args=["mcp", "--node", node], env={"EMPLA_API_TOKEN": token, "RUST_LOG": "warn"})
        async with Client(params, mode="auto", cache=None) as client:
            out = await scenario(client)
    print(json.dumps(out))


asyncio.run(main())
