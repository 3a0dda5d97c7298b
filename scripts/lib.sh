# Shared helpers for ./run, ./test and scripts/*.sh. Source it; do not execute it.
# Sets ROOT (the repository root) and puts ~/.cargo/bin on PATH.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# header "text": one clearly visible line per step.
header() {
    if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
        printf '\n\033[1m==> %s\033[0m\n' "$*"
    else
        printf '\n==> %s\n' "$*"
    fi
}

# note "text": a progress line on stderr.
note() {
    printf '    %s\n' "$*" >&2
}

# die "text": print and exit non-zero.
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# as_root cmd...: run as root (sudo only when not root already).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@" || sudo "$@"
    else
        die "need root to run: $* (no sudo available)"
    fi
}

# The exact wasm-bindgen version the crate is locked to.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' "$ROOT/Cargo.lock"
}
