#!/usr/bin/env bash
# Builds the three wasm modules (release) and their JS bindings (wasm-bindgen --target web):
#   pkg/      the developer package: crates/browser with the whole JS API (`--features
#             api`, plus `bench` when CAIRN_WASM_BENCH=1, as scripts/bench.sh asks)
#             pkg/cairn.js, pkg/cairn.d.ts, pkg/cairn_bg.wasm, pkg/cairn_bg.wasm.d.ts
#             plus provider.js (www/provider.js, the wallet provider for @stacks/connect 8),
#             package.json and README.md (scripts/package/README.md: how to use both)
#   pkg/testing/ the same plus the test-only seeding exports (`--features testing`)
#   pkg/app/  the authenticator page (crates/authenticator): the UI and the two vault calls
#             of its KDF worker, nothing else, so the page stays small; then
#             shrunk with wasm-opt and esbuild (scripts/build-tools/shrink-page.mjs)
#   pkg/rpc/  the wallet popup /rpc.html (crates/authenticator `--features wallet`: the page plus the wallet
#             interface), shrunk the same way; www/main.js picks the module by path
# Loaded in the browser with `import init from '/pkg/cairn.js'` (or '/pkg/app/cairn.js').
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# The name section (function names in stack traces) is 20 % of a module: dropped unless
# CAIRN_WASM_NAMES=1.
strip_flags=(--remove-name-section --remove-producers-section)
[ "${CAIRN_WASM_NAMES:-0}" = 1 ] && strip_flags=()
api_features=api
[ "${CAIRN_WASM_BENCH:-0}" = 1 ] && api_features=api,bench

# build CRATE FEATURES OUT_DIR
build() {
    cargo build --release --target wasm32-unknown-unknown -p "$1" --lib --no-default-features --features "$2"
    wasm-bindgen --target web --out-dir "$3" --out-name cairn "${strip_flags[@]}" \
        "target/wasm32-unknown-unknown/release/${1//-/_}.wasm"
    printf '    %s/cairn_bg.wasm: %s bytes (%s gzipped)\n' "$3" "$(wc -c <"$3/cairn_bg.wasm")" "$(gzip -9c "$3/cairn_bg.wasm" | wc -c)"
}

# pkg/app/ lives inside pkg/: wasm-bindgen leaves other files in its out-dir alone.
build cairn-browser "$api_features" pkg
# The npm package's other files: the wallet provider module (the same file the authenticator
# serves at /provider.js), the package's README, and package.json.
cp www/provider.js pkg/provider.js
cp scripts/package/README.md pkg/README.md
version=$(sed -nE 's/^version = "([^"]+)"/\1/p' Cargo.toml | head -1)
cat >pkg/package.json <<JSON
{
  "name": "cairn",
  "version": "$version",
  "description": "Cairn: the Stacks/Blockstack authenticator's JS API (wasm) and its wallet provider for @stacks/connect 8",
  "type": "module",
  "main": "cairn.js",
  "types": "cairn.d.ts",
  "files": ["cairn.js", "cairn.d.ts", "cairn_bg.wasm", "cairn_bg.wasm.d.ts", "provider.js", "README.md"]
}
JSON
# pkg/testing/: the developer package plus the seeding exports tests and benchmarks use
# (feature `testing`: keys that can write a bucket), never shipped.
build cairn-browser api,testing pkg/testing
build cairn-authenticator "" pkg/app
build cairn-authenticator wallet pkg/rpc

# The page's module and glue are shrunk: wasm-opt without inlining, short import and
# export names, minified glue (scripts/build-tools/shrink-page.mjs; binaryen and esbuild
# are pinned there and installed by scripts/install.sh). The developer package stays as
# wasm-bindgen writes it, readable.
tools="$ROOT/scripts/build-tools"
[ -x "$tools/node_modules/.bin/wasm-opt" ] && [ -x "$tools/node_modules/.bin/esbuild" ] \
    || die "the page's build tools are not installed: run scripts/install.sh"
node "$tools/shrink-page.mjs" pkg/app
node "$tools/shrink-page.mjs" pkg/rpc
printf '    after shrinking: pkg/app/cairn_bg.wasm %s bytes (%s gzipped), pkg/app/cairn.js %s bytes (%s gzipped)\n' \
    "$(wc -c <pkg/app/cairn_bg.wasm)" "$(gzip -9c pkg/app/cairn_bg.wasm | wc -c)" \
    "$(wc -c <pkg/app/cairn.js)" "$(gzip -9c pkg/app/cairn.js | wc -c)"
printf '    after shrinking: pkg/rpc/cairn_bg.wasm %s bytes (%s gzipped)\n' \
    "$(wc -c <pkg/rpc/cairn_bg.wasm)" "$(gzip -9c pkg/rpc/cairn_bg.wasm | wc -c)"
