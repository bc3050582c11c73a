#!/bin/sh
# Two threads against one for the library `lossc build` makes by default (gcc), value +
# gradient, float32, at batch sizes from a few chunks to 4M scalars: medians over ROUNDS
# interleaved processes, each the best of 100 calls (a training loop's steady state: the first
# calls of a process can find both threads on one core until the scheduler moves one), wall
# clock, ns per element (GIoU: per box).
# usage: bench/threads.sh [ROUNDS]     (needs cc and gcc; LOSSC names the binary)
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
case "$ROUNDS" in ''|*[!0-9]*) echo "usage: bench/threads.sh [ROUNDS]" >&2; exit 2 ;; esac
[ "${LOSSC_ARGS_ONLY:-}" = 1 ] && exit 0
LOSSC=${LOSSC:-$(swift build --show-bin-path)/lossc}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/lossc-threads.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
cc -O2 -std=c99 bench/compilers_driver.c -o "$DIR/drv" -ldl
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-13s %9s %10s %10s %8s\n' loss batch 1-thread 2-threads speedup
for spec in giou:box:50000 giou:box:1000000 focal:binary:200000 focal:binary:4000000 \
    cross_entropy:labels:4000000 cross_entropy:multiclass:4000000; do
    name=${spec%%:*}; rest=${spec#*:}; kind=${rest%%:*}; n=${rest#*:}
    [ -f "$DIR/$name.so" ] || "$LOSSC" build "examples/$name.loss" -o "$DIR/$name.so" --cc gcc >/dev/null 2>&1
    : > "$DIR/t1"; : > "$DIR/t2"
    r=0
    while [ "$r" -lt "$ROUNDS" ]; do
        LOSSC_WALL=1 "$DIR/drv" "$DIR/$name.so" "$name" "$kind" "$n" 1 100 | cut -d' ' -f1 >> "$DIR/t1"
        "$DIR/drv" "$DIR/$name.so" "$name" "$kind" "$n" 2 100 | cut -d' ' -f1 >> "$DIR/t2"
        r=$((r + 1))
    done
    one=$(median < "$DIR/t1"); two=$(median < "$DIR/t2")
    row=$name; [ "$kind" = labels ] && row="ce(labels)"
    awk -v l="$row" -v n="$n" -v a="$one" -v b="$two" 'BEGIN { printf "%-13s %9d %10.3f %10.3f %7.2fx\n", l, n, a, b, a / b }'
done
echo "ns/element (GIoU: per box), wall clock, median of $ROUNDS interleaved processes, each the best of 100 calls;"
echo "cross_entropy: C = 81 from one-hot float rows; ce(labels): from int64 labels (cross_entropy_labels_f32)"
