#!/bin/sh
# One task of lossc-slurm.sh's job array: evaluates line SLURM_ARRAY_TASK_ID + 1 of MANIFEST
# with EVALUATOR (placeholders {loss} {c} {dir}, also LOSSC_LOSS, LOSSC_C, LOSSC_DIR; the last
# number printed is the fitness) in a private directory, and writes RESULTS/ID.jsonl:
# {"id": ..., "fitness": ...} or {"id": ..., "error": ...}. stdout/stderr are kept in RESULTS/ID.out|.err.
#SBATCH --output=/dev/null
set -u
manifest=$1 results=$2 evaluator=$3
line=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$manifest")
field() { printf '%s\n' "$line" | sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p"; }
id=$(field id)
LOSSC_LOSS=$(field loss) LOSSC_C=$(field c)
LOSSC_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lossc-candidate-XXXXXX")
export LOSSC_LOSS LOSSC_C LOSSC_DIR
trap 'rm -rf "$LOSSC_DIR"' EXIT
# The placeholders become the variables, so no path is ever re-read as shell text.
cmd=$(printf '%s' "$evaluator" | sed -e 's/{loss}/"$LOSSC_LOSS"/g' -e 's/{c}/"$LOSSC_C"/g' -e 's/{dir}/"$LOSSC_DIR"/g')
cd "$LOSSC_DIR"
if ${SRUN:-srun} /bin/sh -c "$cmd" > "$results/$id.out" 2> "$results/$id.err"; then
    value=$(tr -s ' \t:,;=()[]{}"'"'" '\n' < "$results/$id.out" | grep -E '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$' | tail -1)
    # As a JSON number, exactly (17 digits); an overflow (inf) is a failure, as in lossc.
    [ -z "$value" ] || value=$(awk -v v="$value" 'BEGIN { x = v + 0; s = sprintf("%.17g", x); if (s !~ /inf|nan/) print s }')
    if [ -n "$value" ]; then
        printf '{"id": "%s", "fitness": %s}\n' "$id" "$value" > "$results/$id.jsonl.tmp"
    else
        printf '{"id": "%s", "error": "no number in the evaluator output"}\n' "$id" > "$results/$id.jsonl.tmp"
    fi
else
    printf '{"id": "%s", "error": "exit status %s"}\n' "$id" "$?" > "$results/$id.jsonl.tmp"
fi
mv "$results/$id.jsonl.tmp" "$results/$id.jsonl"
