#!/bin/sh
# Accuracy and special-value checks for Sources/CLossMath, with gcc and clang.
#
#   Tests/CLossMathCheck/run.sh            # ~30 s on 2 cores
#   STRIDE=1 Tests/CLossMathCheck/run.sh   # exhaustive float sweep in the first build (~25 min)
#
# Builds accuracy.c + lossc_math.c four ways and runs each (see accuracy.c for the method):
#   1. gcc   -O2 (strict C99 warnings as errors)          float stride $STRIDE (default 61)
#   2. clang -O2                                          float stride 257
#   3. clang -O2 -mavx2 -mfma (FMA contraction on; only if the CPU has AVX2+FMA)
#   4. gcc   -O1 -fsanitize=address,undefined             small sample
# and checks that bench.c compiles cleanly. Exits 1 on the first failure.
set -u
cd "$(dirname "$0")/../.." || exit 2
STRIDE=${STRIDE:-61}
NDOUBLE=${NDOUBLE:-4000000}
WARN="-std=c99 -Wall -Wextra -Werror -pedantic"
SRC="-ISources/CLossMath/include Tests/CLossMathCheck/accuracy.c Sources/CLossMath/lossc_math.c -lm"
OUT=$(mktemp -d) || exit 2
trap 'rm -rf "$OUT"' EXIT INT TERM

step() { # name, then the command
    name=$1; shift
    echo "== $name"
    "$@" || { echo "run.sh: FAILED: $name"; exit 1; }
}

step "gcc -O2 build" gcc -O2 $WARN $SRC -o "$OUT/acc_gcc"
step "gcc -O2 run" "$OUT/acc_gcc" -s "$STRIDE" -n "$NDOUBLE"

step "clang -O2 build" clang -O2 $WARN $SRC -o "$OUT/acc_clang"
step "clang -O2 run" "$OUT/acc_clang" -s 257 -n 1000000

if grep -q ' avx2 ' /proc/cpuinfo 2>/dev/null && grep -q ' fma ' /proc/cpuinfo 2>/dev/null; then
    step "clang -O2 -mavx2 -mfma build" clang -O2 -mavx2 -mfma $WARN $SRC -o "$OUT/acc_fma"
    step "clang -O2 -mavx2 -mfma run" "$OUT/acc_fma" -s 257 -n 1000000
else
    echo "== (no AVX2+FMA on this CPU: skipping the FMA build)"
fi

step "gcc -fsanitize=address,undefined build" \
    gcc -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer $WARN $SRC -o "$OUT/acc_san"
step "gcc -fsanitize=address,undefined run" "$OUT/acc_san" -s 65537 -n 20000

step "bench.c compiles (gcc, clang)" sh -c "gcc -O3 $WARN -ISources/CLossMath/include Tests/CLossMathCheck/bench.c \
    Sources/CLossMath/lossc_math.c -lm -o $OUT/b1 && clang -O3 $WARN -ISources/CLossMath/include \
    Tests/CLossMathCheck/bench.c Sources/CLossMath/lossc_math.c -lm -o $OUT/b2"
echo "run.sh: all passed"
