#!/usr/bin/env bash
# The official A2A Python client (PyPI a2a-sdk 1.x) for the A2A tests
# (tests/it/a2a.rs drives tests/a2a/client.py with it), in a venv that outlives
# clones: $EMPLA_A2A_VENV, else ~/.cache/empla-venvs/a2a-sdk.
#
#   tests/a2a/sdk.sh install   create the venv and install a2a-sdk (once; quick after)
#   tests/a2a/sdk.sh python    print the venv's python (exit 1 if it is not installed)
set -euo pipefail
VENV="${EMPLA_A2A_VENV:-$HOME/.cache/empla-venvs/a2a-sdk}"
installed() {
    "$VENV/bin/python" -c 'import a2a.client, a2a.types, httpx' 2>/dev/null &&
        "$VENV/bin/pip" show a2a-sdk 2>/dev/null | grep '^Version: 1\.' >/dev/null
}
case "${1:-}" in
install)
    if ! installed; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet 'a2a-sdk>=1.3,<2'
    fi
    installed
    echo "$VENV/bin/python"
    ;;
python)
    installed || { echo "a2a-sdk is not installed: run bash tests/a2a/sdk.sh install" >&2; exit 1; }
    echo "$VENV/bin/python"
    ;;
*)
    echo "usage: $0 install|python" >&2
    exit 2
    ;;
esac
