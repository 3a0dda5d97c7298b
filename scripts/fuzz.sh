#!/usr/bin/env bash
# scripts/fuzz.sh — run every property-based fuzz target for a while (docs/FUZZING.md).
#
#   scripts/fuzz.sh            each target for 60 s
#   scripts/fuzz.sh 300        each target for 300 s
#   scripts/fuzz.sh 300 json   only targets whose file or test name contains "json"
#
# Each target (one #[test] in crates/core/tests/fuzz_*.rs or crates/hub/tests/fuzz_*.rs) runs alone, in
# rounds of CAIRN_FUZZ_CASES cases (default: the target's own count), each round with
# a fresh seed, until the time is up. A finding stops the script with the shrunk input
# and the CAIRN_FUZZ_SEED to reproduce it:
#   CAIRN_FUZZ_SEED=<seed> CAIRN_FUZZ_CASES=<n> cargo test --test <file> -- <test>
set -euo pipefail
shopt -s nullglob
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

SECS="${1:-60}"
FILTER="${2:-}"
[[ "$SECS" =~ ^[0-9]+$ ]] || die "usage: scripts/fuzz.sh [SECONDS] [FILTER]"

# "package file" for every target file.
TARGETS=()
for f in crates/core/tests/fuzz_*.rs; do TARGETS+=("cairn-core $(basename "$f" .rs)"); done
for f in crates/hub/tests/fuzz_*.rs; do
    # crates/hub/tests/fuzz.rs is the older seeded loop; it runs in ./test as before.
    [ "$f" = crates/hub/tests/fuzz.rs ] || TARGETS+=("cairn-hub $(basename "$f" .rs)")
done

header "build the fuzz targets"
for t in "${TARGETS[@]}"; do
    read -r pkg file <<<"$t"
    cargo test -q -p "$pkg" --test "$file" --no-run
done

SUMMARY=()
for t in "${TARGETS[@]}"; do
    read -r pkg file <<<"$t"
    tests=$(cargo test -q -p "$pkg" --test "$file" -- --list 2>/dev/null | sed -n 's/: test$//p')
    for name in $tests; do
        case "$file $name" in *"$FILTER"*) ;; *) continue ;; esac
        header "$file::$name for ${SECS}s"
        log=$(mktemp)
        if ! CAIRN_FUZZ_SECS="$SECS" cargo test -q -p "$pkg" --test "$file" -- \
            --exact "$name" --nocapture --test-threads=1 2>&1 | tee "$log"; then
            rm -f "$log"
            die "finding in $file::$name (see above)"
        fi
        while IFS= read -r line; do SUMMARY+=("$file::$name: ${line#fuzz target }"); done \
            < <(grep -a '^fuzz target ' "$log" || true)
        rm -f "$log"
    done
done

header "summary (no findings)"
printf '    %s\n' "${SUMMARY[@]}"
