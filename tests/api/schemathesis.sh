#!/usr/bin/env bash
# Schemathesis (PyPI, pinned) for the API conformance test (tests/it/schemathesis.rs),
# in a venv that outlives clones: $EMPLA_SCHEMATHESIS_VENV, else
# ~/.cache/empla-venvs/schemathesis.
#
#   tests/api/schemathesis.sh install   create the venv and install schemathesis (once)
#   tests/api/schemathesis.sh st        print the venv's `st` command (exit 1 if missing)
set -euo pipefail
VERSION=4.32.5
VENV="${EMPLA_SCHEMATHESIS_VENV:-$HOME/.cache/empla-venvs/schemathesis}"
installed() {
    [ -x "$VENV/bin/st" ] &&
        "$VENV/bin/pip" show schemathesis 2>/dev/null | grep -x "Version: $VERSION" >/dev/null
}
case "${1:-}" in
install)
    if ! installed; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet "schemathesis==$VERSION"
    fi
    installed
    echo "$VENV/bin/st"
    ;;
st)
    installed || { echo "schemathesis $VERSION is not installed: run bash tests/api/schemathesis.sh install" >&2; exit 1; }
    echo "$VENV/bin/st"
    ;;
*)
    echo "usage: $0 install|st" >&2
    exit 2
    ;;
esac
