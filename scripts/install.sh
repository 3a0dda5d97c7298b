#!/usr/bin/env bash
# Installs what Cairn's build and tests need, skipping whatever is already there.
#
#   scripts/install.sh            wasm target, wasm-bindgen CLI, npm packages (for ./run)
#   scripts/install.sh --browser  the same plus Debian chromium + chromium-driver (for ./test)
#
# Idempotent and quiet when everything is installed. Works non-interactively (CI=true,
# no stdin).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

browser=0
for arg in "$@"; do
    case "$arg" in
        --browser) browser=1 ;;
        *) die "unknown option: $arg" ;;
    esac
done

command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust with rustup (https://rustup.rs)"
command -v node >/dev/null 2>&1 || die "node not found: install Node.js 20 or newer"
command -v npm >/dev/null 2>&1 || die "npm not found: install npm"

# 1. The wasm32 target.
if command -v rustup >/dev/null 2>&1; then
    if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
        header "install: rustup target wasm32-unknown-unknown"
        rustup target add wasm32-unknown-unknown
    fi
    # The lint suite (./test lint) needs rustfmt and clippy.
    for c in rustfmt clippy; do
        if ! rustup component list --installed 2>/dev/null | grep -q "^$c"; then
            header "install: rustup component $c"
            rustup component add "$c"
        fi
    done
else
    sysroot="$(rustc --print sysroot)"
    [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown" ] \
        || die "no rustup and no wasm32-unknown-unknown target in $sysroot"
fi

# 2. wasm-bindgen CLI, exactly the version in Cargo.lock (the bindings format is
#    version-specific). Not --locked: the registry mirror lacks some locked versions.
want="$(wasm_bindgen_version)"
[ -n "$want" ] || die "wasm-bindgen not found in Cargo.lock"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
have_runner="$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have" != "$want" ] || [ "$have_runner" != "$want" ]; then
    header "install: wasm-bindgen-cli $want (was: ${have:-none}; takes about 2 minutes)"
    cargo install wasm-bindgen-cli --version "$want" --force
fi

# 3. Chromium and chromedriver for the headless browser tests (Debian packages).
if [ "$browser" -eq 1 ]; then
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        header "install: Debian chromium + chromium-driver"
        command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install chromium and chromedriver by hand"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            chromium chromium-driver </dev/null
    fi
fi

# 4. npm packages (lock files committed; never downloads browsers): the Node-side tests
#    (tests/node), Azurite for the hub tests (crates/hub/tests/azurite) and the page's build tools (scripts/build-tools: esbuild, which
#    scripts/build-wasm.sh uses to minify the page's JS glue).
npm_install() {
    local dir="$1"
    local stamp="$dir/node_modules/.package-lock.json"
    [ -f "$dir/package.json" ] || return 0
    if [ ! -d "$dir/node_modules" ] || [ ! -f "$stamp" ] \
        || { [ -f "$dir/package-lock.json" ] && [ "$dir/package-lock.json" -nt "$stamp" ]; } \
        || [ "$dir/package.json" -nt "$stamp" ]; then
        header "install: npm packages in ${dir#"$ROOT"/}"
        export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
        if [ -f "$dir/package-lock.json" ]; then
            (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
        else
            (cd "$dir" && npm install --no-audit --no-fund --loglevel=error </dev/null)
        fi
    fi
}
npm_install "$ROOT/tests/node"
npm_install "$ROOT/scripts/build-tools"
# Azurite (Azure Blob emulator) for cairn-hub's multi-process test on a real store
# with conditional writes (crates/hub/tests/multiproc.rs); about 30 s the first time.
npm_install "$ROOT/crates/hub/tests/azurite"

# 5. moto (PyPI moto[server], an S3-compatible server with conditional writes) for
#    cairn-hub's S3 test (crates/hub/tests/multiproc.rs), in its own virtualenv.
moto_venv="$ROOT/crates/hub/tests/s3/.venv"
if [ ! -x "$moto_venv/bin/moto_server" ]; then
    header "install: moto[server] 5.2.5 for the hub's S3 test (about 30 s)"
    command -v python3 >/dev/null 2>&1 || die "python3 not found: needed for the hub's S3 test server (moto)"
    python3 -m venv "$moto_venv"
    "$moto_venv/bin/pip" install -q --disable-pip-version-check 'moto[server]==5.2.5'
fi
