#!/usr/bin/env bash
# Candidates per hour of `lossc-ray search-params` with one Ray node and then two (1 CPU each),
# on an evaluator that sleeps SLEEP seconds (default 1) so that the evaluator dominates, as a
# detector's training does. The cluster runs in a private network namespace (loopback only; needs
# root for `ip netns`), is stopped by pid at the end whatever happens, and the namespace removed.
# Usage: scripts/ray-throughput.sh [SLEEP] [ROUNDS] [SAMPLES]   (LOSSC: the lossc binary; .venv as scripts/python-env.sh makes it)
set -euo pipefail
cd "$(dirname "$0")/.."
SLEEP=${1:-1} ROUNDS=${2:-3} SAMPLES=${3:-8}
LOSSC=${LOSSC:-$PWD/.build/debug/lossc}
PY=$PWD/.venv/bin/python RAY=$PWD/.venv/bin/ray
NS=lossc-bench-$$ TMP=$(mktemp -d /tmp/lb.XXXX)
cleanup() {
    for sig in TERM KILL; do
        for p in $(ip netns pids "$NS" 2>/dev/null); do kill -s $sig "$p" 2>/dev/null || true; done
        sleep 2
    done
    ip netns delete "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$NS"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
export RAY_USAGE_STATS_ENABLED=0
in_ns timeout 180 "$RAY" start --head --port 6379 --num-cpus 1 --node-ip-address 127.0.0.1 --temp-dir "$TMP/ray" \
    --include-dashboard=false --disable-usage-stats >/dev/null 2>&1
# delta_fitness.py does not sleep; the sleep is the shell's, before it.
EVAL="sleep $SLEEP; $PY $PWD/python/tests/delta_fitness.py {loss}"
OPTS=(--only delta --rounds "$ROUNDS" --samples "$SAMPLES" --seed 1 --json)
run() {
    local t0 t1
    t0=$(date +%s.%N)
    in_ns env LOSSC="$LOSSC" PYTHONPATH="$PWD/python" timeout 600 "$PY" -m lossc_ray search-params examples/ap_loss.loss \
        --address 127.0.0.1:6379 --checkpoint "$TMP/$1.json" --evaluator "$EVAL" "${OPTS[@]}" >"$TMP/$1.out" 2>"$TMP/$1.err"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}
n=$((ROUNDS * SAMPLES + 1))
one=$(run one)
in_ns timeout 180 "$RAY" start --address 127.0.0.1:6379 --num-cpus 1 --node-ip-address 127.0.0.1 --disable-usage-stats >/dev/null 2>&1
two=$(run two)
cmp -s "$TMP/one.out" "$TMP/two.out" || { echo "the two runs disagree" >&2; exit 1; }
awk -v n="$n" -v a="$one" -v b="$two" -v s="$SLEEP" 'BEGIN {
    printf "evaluator: sleep %s s; %d candidates per run (the driver, lossc ask/tell and Ray included)\n", s, n
    printf "1 node : %6.1f s  %6.0f candidates/hour\n", a, n * 3600 / a
    printf "2 nodes: %6.1f s  %6.0f candidates/hour  (%.2fx)\n", b, n * 3600 / b, a / b
}'
