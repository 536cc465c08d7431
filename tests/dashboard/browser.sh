#!/usr/bin/env bash
# The dashboard's browser test: Python Playwright (PyPI) driving Debian's chromium
# (never a downloaded browser), and axe-core (npm) for the accessibility check, in a
# venv and a folder that outlive clones: $EMPLA_DASHBOARD_VENV, else
# ~/.cache/empla-venvs/dashboard (axe-core under its share/axe-core).
#
#   tests/dashboard/browser.sh install   install chromium (apt), playwright and axe-core (once)
#   tests/dashboard/browser.sh python    print the venv's python (exit 1 if not installed)
#   tests/dashboard/browser.sh axe       print axe.min.js's path (exit 1 if not installed)
set -euo pipefail
VENV="${EMPLA_DASHBOARD_VENV:-$HOME/.cache/empla-venvs/dashboard}"
AXE="$VENV/share/axe-core/node_modules/axe-core/axe.min.js"
PLAYWRIGHT='playwright==1.65.2'
AXE_CORE='axe-core@4.14.1'
installed() {
    [ -x /usr/bin/chromium ] &&
        "$VENV/bin/python" -c 'import playwright.sync_api' 2>/dev/null &&
        "$VENV/bin/pip" show playwright 2>/dev/null | grep -x 'Version: 1.65.2' >/dev/null &&
        [ -f "$AXE" ]
}
case "${1:-}" in
install)
    if ! installed; then
        if [ ! -x /usr/bin/chromium ]; then
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        fi
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet "$PLAYWRIGHT"
        mkdir -p "$VENV/share/axe-core"
        npm install --silent --no-audit --no-fund --prefix "$VENV/share/axe-core" "$AXE_CORE" >/dev/null
    fi
    installed
    echo "$VENV/bin/python"
    ;;
python)
    installed || { echo "the dashboard's browser test needs chromium, playwright and axe-core: run bash tests/dashboard/browser.sh install" >&2; exit 1; }
    echo "$VENV/bin/python"
    ;;
axe)
    installed || { echo "axe-core is not installed: run bash tests/dashboard/browser.sh install" >&2; exit 1; }
    echo "$AXE"
    ;;
*)
    echo "usage: $0 install|python|axe" >&2
    exit 2
    ;;
esac
