#!/bin/sh
# The issue-15 table: the library `lossc build` makes by default (gcc and clang, 1 thread; gcc
# with 2 threads, against itself with 1, both wall clock) and with `lossc build --fma`, against
# clang -march=native builds of the same emitted C, value + gradient, float32, ns per element,
# ratios printed (> 1: slower than the reference build).
# usage: bench/compilers.sh [ELEMENTS] [REPS]     (needs gcc, clang; LOSSC names the binary)
set -eu
cd "$(dirname "$0")/.."
N=${1:-4000000}; REPS=${2:-5}
case "$N$REPS" in *[!0-9]*) echo "usage: bench/compilers.sh [ELEMENTS] [REPS]" >&2; exit 2 ;; esac
# The docs test checks the command line only (as lossc's own benchmarks do).
[ "${LOSSC_ARGS_ONLY:-}" = 1 ] && exit 0
LOSSC=${LOSSC:-$(swift build --show-bin-path)/lossc}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/lossc-cc.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
cc -O2 -std=c99 bench/compilers_driver.c -o "$DIR/drv" -ldl
printf '%-14s %9s %9s %9s %9s %9s %9s %9s | %7s %7s %7s %7s %7s %7s\n' loss native nat-nofma gcc clang \
    gcc-fma clang-fma gcc-2thr gcc/nat clang/nat gfma/nat cfma/nat gcc/clang 1thr/2thr
built=
for spec in focal:binary bce:binary cross_entropy:multiclass cross_entropy:labels giou:box; do
    name=${spec%%:*}; kind=${spec##*:}; row=$name
    [ "$kind" = labels ] && row="ce(labels)"
    [ "$built" = "$name" ] || {
        "$LOSSC" build "examples/$name.loss" -o "$DIR/gcc.so" --cc gcc >/dev/null 2>&1
        "$LOSSC" build "examples/$name.loss" -o "$DIR/clang.so" --cc clang >/dev/null 2>&1
        "$LOSSC" build "examples/$name.loss" -o "$DIR/gccfma.so" --cc gcc --fma >/dev/null 2>&1
        "$LOSSC" build "examples/$name.loss" -o "$DIR/clangfma.so" --cc clang --fma >/dev/null 2>&1
        "$LOSSC" build "examples/$name.loss" -o "$DIR/native.so" --cc clang --flags "-O3 -fno-math-errno -std=c99 -march=native" >/dev/null 2>&1
        "$LOSSC" build "examples/$name.loss" -o "$DIR/nofma.so" --cc clang --flags "-O3 -fno-math-errno -ffp-contract=off -std=c99 -march=native" >/dev/null 2>&1
        built=$name
    }
    t() { "$DIR/drv" "$DIR/$1.so" "$name" "$kind" "$N" "$2" "$REPS" | cut -d' ' -f1; }
    nat=$(t native 1); nof=$(t nofma 1); g=$(t gcc 1); c=$(t clang 1); gf=$(t gccfma 1); cf=$(t clangfma 1); g2=$(t gcc 2)
    g1w=$(LOSSC_WALL=1 t gcc 1)
    awk -v n="$row" -v nat="$nat" -v nof="$nof" -v g="$g" -v c="$c" -v gf="$gf" -v cf="$cf" -v g2="$g2" -v g1w="$g1w" 'BEGIN {
        printf "%-14s %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f | %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f\n", n, nat, nof, g, c, gf, cf, g2,
            g / nat, c / nat, gf / nat, cf / nat, g / c, g1w / g2 }'
done
echo "ns/element (GIoU: per box), best of $REPS; 1 thread = process CPU time, 2 threads = wall clock;"
echo "1thr/2thr = wall clock with 1 thread / with 2 (native: clang -march=native, nat-nofma: also -ffp-contract=off;"
echo "gcc-fma, clang-fma: lossc build --fma; gfma/nat, cfma/nat: their ratios to native;"
echo "cross_entropy reads one-hot float rows, ce(labels) int64 labels: cross_entropy_labels_f32, C = 81)"
