#!/usr/bin/env bash
# What the document tests read documents back with, and what PDFs are set in:
#   - pdftotext (Debian poppler-utils) reads PDFs;
#   - python-docx (PyPI) reads DOCX, and writes the DOCX CVs the recruiting tests send;
#   - reportlab (PyPI) writes the PDF CVs the recruiting tests send;
#   - the fonts the node sets PDFs in: Liberation Sans (Debian fonts-liberation2), the
#     metrics of the PDF standard Helvetica for Latin-1 text, and DejaVu Sans (Debian
#     fonts-dejavu-core), embedded for any other text.
#
#   tests/documents/readers.sh install    install whatever is missing (idempotent)
set -euo pipefail

die() { echo "readers.sh: $*" >&2; exit 1; }

install() {
    local pkgs=()
    command -v pdftotext >/dev/null || pkgs+=(poppler-utils)
    [[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || pkgs+=(fonts-dejavu-core)
    [[ -f /usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf ]] || pkgs+=(fonts-liberation2)
    if ((${#pkgs[@]})); then
        echo "readers.sh: installing ${pkgs[*]} (apt-get)" >&2
        local apt=(apt-get -y -q -o Dpkg::Use-Pty=0 install --no-install-recommends "${pkgs[@]}")
        if [[ $(id -u) -ne 0 ]]; then apt=(sudo "${apt[@]}"); fi
        "${apt[@]}" >&2 || { apt-get -q update >&2 && "${apt[@]}" >&2; } \
            || die "apt-get install ${pkgs[*]} failed"
    fi
    if ! python3 -c 'import docx' 2>/dev/null; then
        echo "readers.sh: installing python-docx (pip)" >&2
        PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
            python3 -m pip install -q python-docx >&2 \
            || PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --break-system-packages python-docx >&2 \
            || die "pip install python-docx failed"
    fi
    if ! python3 -c 'import reportlab' 2>/dev/null; then
        echo "readers.sh: installing reportlab (pip)" >&2
        PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
            python3 -m pip install -q reportlab >&2 \
            || PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --break-system-packages reportlab >&2 \
            || die "pip install reportlab failed"
    fi
}

case "${1:-}" in
    install) install ;;
    *) echo "usage: $0 install" >&2; exit 2 ;;
esac
