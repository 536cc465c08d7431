"""A ticketing system's MCP server, written with the official MCP Python SDK, for the
tests of empla's MCP client: `lookup_account` only reads, `open_ticket` changes
something; each call is appended to a JSON-lines file; every request must carry the
bearer token.

    tickets.py PORT TOKEN CALLS_FILE
"""

import json
import sys

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from starlette.responses import JSONResponse

port, token, calls = int(sys.argv[1]), sys.argv[2], sys.argv[3]
server = MCPServer("tickets")


def record(tool, args):
    with open(calls, "a") as f:
        f.write(json.dumps({"tool": tool, "args": args}) + "\n")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def lookup_account(name: str) -> dict:
    """Looks an account up: its plan and open tickets."""
    record("lookup_account", {"name": name})
    return {"account": name, "plan": "enterprise", "open_tickets": 2}


@server.tool()
def open_ticket(title: str, priority: str = "normal") -> dict:
    """Opens a support ticket."""
    record("open_ticket", {"title": title, "priority": priority})
    return {"id": "T-1001", "title": title, "priority": priority}


app = server.streamable_http_app()


class RequireToken:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization", b"").decode() != f"Bearer {token}":
                await JSONResponse({"error": "unauthorized"}, status_code=401)(scope, receive, send)
                return
        await self.inner(scope, receive, send)


uvicorn.run(RequireToken(app), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
