#!/bin/sh
# lossc's searches on Slurm, one job-array task per candidate, built on `ask`/`tell`:
#   ask -> sbatch --array=0-(N-1) --wait evaluate-candidate.sh -> tell, until lossc says the run
#   is complete. The lossc checkpoint is the whole state: stop this script at any time and run it
#   again to continue (the candidates without a result are asked again).
# Usage (on a login node, or as a small job of its own; the checkpoint on a shared file system):
#   scripts/slurm/lossc-slurm.sh -e 'EVALUATOR {loss} {dir}' [-s 'SBATCH OPTIONS'] -- search --checkpoint DIR [lossc search options]
#   scripts/slurm/lossc-slurm.sh -e 'EVALUATOR {loss} {dir}' -- search-params FILE --checkpoint PATH [options]
# Environment: LOSSC (the lossc binary, default lossc on PATH), SBATCH, SRUN (default sbatch, srun).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
LOSSC=${LOSSC:-lossc}
SBATCH=${SBATCH:-sbatch}
evaluator= sbatch_opts=
while [ $# -gt 0 ]; do
    case $1 in
        -e) evaluator=$2; shift 2 ;;
        -s) sbatch_opts=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "lossc-slurm: unknown option $1 (usage: lossc-slurm.sh -e EVALUATOR [-s SBATCH_OPTIONS] -- search|search-params ...)" >&2; exit 2 ;;
    esac
done
[ -n "$evaluator" ] || { echo "lossc-slurm: -e EVALUATOR is required" >&2; exit 2; }
mode=${1:-}; [ $# -gt 0 ] && shift
case $mode in
    search) lossc_ask() { "$LOSSC" search ask "$@"; }; lossc_tell() { f=$1; shift; "$LOSSC" search tell "$f" "$@"; } ;;
    search-params)
        file=$1; shift
        lossc_ask() { "$LOSSC" search-params "$file" ask "$@"; }
        lossc_tell() { f=$1; shift; "$LOSSC" search-params "$file" tell "$f" "$@"; } ;;
    *) echo "lossc-slurm: the mode is 'search' or 'search-params FILE'" >&2; exit 2 ;;
esac
stalls=0
while :; do
    out=$(lossc_ask "$@")
    manifest=$(printf '%s\n' "$out" | sed -n 's/^manifest: //p')
    if [ -z "$manifest" ]; then
        case $out in
            *"is complete"*) printf '%s\n' "$out"; exit 0 ;;
            *) continue ;;   # a generation where no candidate passed the filters: recorded
        esac
    fi
    n=$(grep -c . "$manifest")
    results=$(dirname "$manifest")/results
    rm -rf "$results"; mkdir -p "$results"
    echo "lossc-slurm: $(printf '%s\n' "$out" | head -1); submitting an array of $n" >&2
    # --wait: sbatch returns when every task of the array has ended (failed ones included).
    # shellcheck disable=SC2086
    "$SBATCH" --wait --parsable --array=0-$((n - 1)) --job-name=lossc-eval $sbatch_opts \
        "$here/evaluate-candidate.sh" "$manifest" "$results" "$evaluator" >/dev/null || true
    cat "$results"/*.jsonl > "$results.jsonl" 2>/dev/null || true
    if [ -s "$results.jsonl" ]; then
        stalls=0
        lossc_tell "$results.jsonl" "$@" >&2
    else
        # No task wrote a result (the array never ran?): ask again, but not forever.
        stalls=$((stalls + 1))
        [ $stalls -lt 3 ] || { echo "lossc-slurm: three arrays in a row gave no result; stopping (rerun to continue)" >&2; exit 1; }
    fi
done
