#!/usr/bin/env bash
# scripts/bench.sh — benchmarks Cairn against the JavaScript reference libraries in one
# headless Chromium run, and measures what the authenticator page transfers.
#
#   scripts/bench.sh [--quick] [--only REGEX] [--budget MS] [--no-write] [--no-build]
#
# Installs bench/'s pinned npm packages when needed, builds pkg/ (scripts/build-wasm.sh)
# and the reference bundle (bench/dist/reference.js), serves the repository on an
# ephemeral loopback port, runs bench/index.html in /usr/bin/chromium, prints the tables
# and writes docs/BENCHMARKS.md (not with --quick, --only or --no-write).
# Then, with no arguments, bench/move.mjs: moving data between two release cairn-hubs.
# Not part of ./test: it takes a few minutes and its numbers depend on the machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

build=1
args=()
for a in "$@"; do
    case "$a" in
        --no-build) build=0 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) args+=("$a") ;;
    esac
done

command -v node >/dev/null || die "node is needed (see scripts/install.sh)"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || die "no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)"

header "bench: npm packages (bench/package-lock.json)"
stamp=bench/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ bench/package-lock.json -nt "$stamp" ]; then
    (cd bench && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
else
    note "up to date"
fi

if [ "$build" = 1 ]; then
    scripts/install.sh
    header "build: wasm modules and bindings → pkg/ (with the bench hooks) and pkg/app/"
    CAIRN_WASM_BENCH=1 scripts/build-wasm.sh
fi
[ -f pkg/app/cairn_bg.wasm ] || die "pkg/app/ is not built (drop --no-build)"
grep -q benchRestore pkg/cairn.js || die "pkg/ has no bench hooks (drop --no-build)"

header "build: reference bundle → bench/dist/reference.js"
bench/node_modules/.bin/esbuild bench/reference.mjs --bundle --platform=browser --format=esm \
    --minify --log-level=warning --outfile=bench/dist/reference.js
note "$(wc -c <bench/dist/reference.js) bytes ($(gzip -9c bench/dist/reference.js | wc -c) gzipped)"

header "bench: headless Chromium"
node bench/run.mjs "${args[@]}"

header "bench: moving data between two cairn-hubs (bench/move.mjs)"
if [ "${#args[@]}" -eq 0 ]; then
    cargo build --release -p cairn-hub
    node bench/move.mjs --hub target/release/cairn-hub
else
    note "skipped: arguments were given (run node bench/move.mjs on its own)"
fi
