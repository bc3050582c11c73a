#!/bin/sh
# Reports, per function and compiler, whether `for (i) out[i] = f(in[i]);` vectorizes.
#
#   Tests/CLossMathCheck/vectorize.sh                 # default target (x86-64 baseline: SSE2)
#   EXTRA="-march=x86-64-v2" Tests/CLossMathCheck/vectorize.sh
#
# Uses `gcc -O3 -fopt-info-vec-optimized` and `clang -O3 -Rpass=loop-vectorize` on a one-loop
# file per function, then on Sources/CLossMath/lossc_math.c itself. No -ffast-math anywhere.
# Exits 1 if any loop did not vectorize.
set -u
cd "$(dirname "$0")/../.." || exit 2
INC=Sources/CLossMath/include
EXTRA=${EXTRA:-}
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM

FUNCS="expf logf log1pf expm1f tanhf sigmoidf softplusf exp log log1p expm1 tanh sigmoid softplus"
failed=0
printf '%-16s %-34s %s\n' function "gcc -O3 $EXTRA" "clang -O3 $EXTRA"
for f in $FUNCS; do
    case $f in *f) T=float ;; *) T=double ;; esac
    cat >"$TMP/$f.c" <<EOF
#include "lossc_math.h"
void loop(const $T *restrict in, $T *restrict out, long n)
{
    for (long i = 0; i < n; i++)
        out[i] = lossc_$f(in[i]);
}
EOF
    g=$(gcc -O3 -std=c99 $EXTRA -I$INC -fopt-info-vec-optimized -c "$TMP/$f.c" -o /dev/null 2>&1 \
        | grep -m1 'loop vectorized' | sed 's/.*loop vectorized using /yes, /')
    c=$(clang -O3 -std=c99 $EXTRA -I$INC -Rpass=loop-vectorize -c "$TMP/$f.c" -o /dev/null 2>&1 \
        | grep -m1 'vectorized loop' | sed 's/.*(vectorization width: \([0-9]*\).*/yes, width \1/')
    [ -n "$g" ] || { g=NO; failed=1; }
    [ -n "$c" ] || { c=NO; failed=1; }
    printf '%-16s %-34s %s\n' "lossc_$f" "$g" "$c"
done

# The block entry points: each defines one loop (and reuses it for in-place calls).
ng=$(gcc -O3 -std=c99 $EXTRA -I$INC -fopt-info-vec-optimized -c Sources/CLossMath/lossc_math.c -o /dev/null 2>&1 \
     | grep -c 'loop vectorized using')
nc=$(clang -O3 -std=c99 $EXTRA -I$INC -Rpass=loop-vectorize -c Sources/CLossMath/lossc_math.c -o /dev/null 2>&1 \
     | grep -c 'vectorized loop')
echo "lossc_math.c: gcc reports $ng vectorized loops, clang $nc (14 block functions; gcc counts each vector width it emits)"
if [ "$failed" -ne 0 ]; then echo "vectorize.sh: some loops did not vectorize"; exit 1; fi
echo "vectorize.sh: all loops vectorized"
