#!/bin/sh
# CI check (no timings) of the emitted C's ISA paths and threads, for every per-sample example:
#  1. the emitted library builds warning-free under gcc and clang with
#     -O3 -Wall -Wextra -Werror -std=c99 -pedantic (all ISA copies included);
#  2. every ISA path the CPU has gives the same bits as the baseline path (sums, per-sample
#     losses, gradients; float and double) on a corpus with extreme inputs (driver.c);
#  3. the sum and outputs have the same bits for 1, 2 and 3 threads.
# usage: Tests/CMultiversionCheck/run.sh [LOSSC]   (default: the debug build's lossc)
set -eu
cd "$(dirname "$0")/../.."
LOSSC=${1:-$(swift build --show-bin-path)/lossc}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/lossc-mv.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
STRICT="-O3 -fno-math-errno -ffp-contract=off -Wall -Wextra -Werror -std=c99 -pedantic"
status=0
for cc in gcc clang; do
    if ! command -v $cc >/dev/null; then echo "SKIPPED: $cc not on PATH"; continue; fi
    $cc -O2 -std=c99 -Wall -Wextra -Werror Tests/CMultiversionCheck/driver.c -o "$DIR/driver" -ldl
    for f in examples/*.loss; do
        name=$(basename "$f" .loss)
        "$LOSSC" emit "$f" --target c --name "mv_$name" -o "$DIR/$name" >/dev/null 2>&1
        grep -q "mv_${name}_set_isa" "$DIR/$name.h" || continue   # ranking losses: not multiversioned (threaded, checked by CRankingStrictTests)
        if grep -q "size_t classes" "$DIR/$name.h"; then kind=multiclass
        elif grep -q "d_pred" "$DIR/$name.h"; then kind=box
        else kind=binary; fi
        if ! out=$($cc $STRICT -fPIC -shared "$DIR/$name.c" -o "$DIR/$name.so" -lm -pthread 2>&1) || [ -n "$out" ]; then
            echo "FAIL: $cc $name: not warning-free:"; echo "$out" | head -20; status=1; continue
        fi
        printf '%s: ' "$cc"
        "$DIR/driver" "$DIR/$name.so" "mv_$name" "$kind" || status=1
    done
done
[ $status -eq 0 ] && echo "CMultiversionCheck: OK" || echo "CMultiversionCheck: FAILED"
exit $status
