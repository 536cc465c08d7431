#!/usr/bin/env bash
# The official MCP Python SDK (PyPI `mcp` 2.x) in a venv of its own, for the MCP tests.
#   tests/mcp/client.sh install   create the venv (once) at $EMPLA_MCP_VENV
#   tests/mcp/client.sh python    print the venv's python (what the tests run)
set -euo pipefail
venv="${EMPLA_MCP_VENV:-$HOME/.cache/empla-mcp-venv}"
case "${1:-}" in
    install)
        if ! "$venv/bin/python" -c 'import mcp, httpx2' 2>/dev/null; then
            echo "mcp/client.sh: installing mcp 2.x (pip) into $venv" >&2
            python3 -m venv "$venv"
            "$venv/bin/pip" install -q "mcp>=2,<3"
        fi
        ;;
    python) echo "$venv/bin/python" ;;
    *) echo "usage: $0 install|python" >&2; exit 2 ;;
esac
