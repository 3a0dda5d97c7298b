#!/usr/bin/env bash
# Builds the wasm module (release) and its JS bindings into pkg/:
#   pkg/cairn.js, pkg/cairn.d.ts, pkg/cairn_bg.wasm, pkg/cairn_bg.wasm.d.ts
# Loaded in the browser with `import init from '/pkg/cairn.js'` (wasm-bindgen --target web).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

cargo build --release --target wasm32-unknown-unknown -p cairn
# The name section (function names in stack traces) is 20 % of the module: dropped unless
# CAIRN_WASM_NAMES=1.
strip_flags=(--remove-name-section --remove-producers-section)
[ "${CAIRN_WASM_NAMES:-0}" = 1 ] && strip_flags=()
wasm-bindgen --target web --out-dir pkg --out-name cairn "${strip_flags[@]}" \
    target/wasm32-unknown-unknown/release/cairn.wasm

# Optional size optimisation when a modern wasm-opt is at hand (npm binaryen; Debian's
# wasm-opt 108 cannot read this output, so it is never used).
wasm_opt="$ROOT/tests/node/node_modules/.bin/wasm-opt"
if [ -x "$wasm_opt" ]; then
    "$wasm_opt" -Oz pkg/cairn_bg.wasm -o pkg/cairn_bg.wasm
fi
printf '    pkg/cairn_bg.wasm: %s bytes (%s gzipped)\n' "$(wc -c <pkg/cairn_bg.wasm)" "$(gzip -9c pkg/cairn_bg.wasm | wc -c)"
