#!/bin/sh
# Reports, per function and compiler, whether `for (i) out[i] = f(in[i]);` vectorizes.
#
#   Tests/CLossMathCheck/vectorize.sh                # default target, then -march=x86-64-v2
#   Tests/CLossMathCheck/vectorize.sh -mavx2 -mfma   # any extra flags: one table with them
#
# Uses `gcc -O3 -fopt-info-vec-optimized` and `clang -O3 -Rpass=loop-vectorize`, first on a
# one-loop file per element function, then on the block entry points in lossc_math.c.
# No -ffast-math anywhere. Exits 1 if a loop that should vectorize did not.
#
# Known limit: on the x86-64 baseline (SSE2 only) gcc 12 cannot turn a double comparison into
# a 64-bit lane mask ("relevant stmt not supported: patt = _4 ? 1 : 0"), so the double
# functions stay scalar under gcc unless SSE4.2 is enabled (-msse4.2, -march=x86-64-v2 or
# newer). That case is reported as "no (needs SSE4.2)" and not counted as a failure.
set -u
cd "$(dirname "$0")/../.." || exit 2
INC=Sources/CLossMath/include
SRC=Sources/CLossMath/lossc_math.c
TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM
FUNCS="expf logf log1pf expm1f tanhf sigmoidf softplusf exp log log1p expm1 tanh sigmoid softplus"
failed=0

# known_gcc_miss NAME EXTRA: true if NAME is a double function and EXTRA leaves SSE4.2 off
known_gcc_miss() {
    case $1 in *f) return 1 ;; esac
    echo | gcc $2 -dM -E - 2>/dev/null | grep -q '__SSE4_2__' && return 1
    echo | gcc $2 -dM -E - 2>/dev/null | grep -q '__x86_64__'
}

verdict() { # compiler-output name extra
    if [ -n "$1" ]; then echo "$1"
    elif [ "$4" = gcc ] && known_gcc_miss "$2" "$3"; then echo "no (needs SSE4.2)"
    else echo NO; echo x >>"$TMP/failed"; fi
}

table() { # extra flags
    EXTRA=$1
    printf '\n%-17s %-28s %s\n' "[${EXTRA:-default}]" "gcc -O3" "clang -O3"
    for f in $FUNCS; do
        case $f in *f) T=float ;; *) T=double ;; esac
        printf '#include "lossc_math.h"\nvoid loop(const %s *restrict in, %s *restrict out, long n)\n{\n    for (long i = 0; i < n; i++)\n        out[i] = lossc_%s(in[i]);\n}\n' \
            $T $T $f >"$TMP/$f.c"
        g=$(gcc -O3 -std=c99 $EXTRA -I$INC -fopt-info-vec-optimized -c "$TMP/$f.c" -o /dev/null 2>&1 \
            | grep -m1 'loop vectorized' | sed 's/.*loop vectorized using /yes, /')
        c=$(clang -O3 -std=c99 $EXTRA -I$INC -Rpass=loop-vectorize -c "$TMP/$f.c" -o /dev/null 2>&1 \
            | grep -m1 'vectorized loop' | sed 's/.*(vectorization width: \([0-9]*\).*/yes, width \1/')
        printf '%-17s %-28s %s\n' "lossc_$f" "$(verdict "$g" $f "$EXTRA" gcc)" "$(verdict "$c" $f "$EXTRA" clang)"
    done
    # Block entry points: one LOSSC_BLOCK(...) line per function, and both compilers attribute
    # the element loop to that line. (The in-place chunk loop around it is not meant to vectorize.)
    gcc -O3 -std=c99 $EXTRA -I$INC -fopt-info-vec-optimized -c $SRC -o /dev/null >"$TMP/g.txt" 2>&1
    clang -O3 -std=c99 $EXTRA -I$INC -Rpass=loop-vectorize -c $SRC -o /dev/null >"$TMP/c.txt" 2>&1
    grep -n '^LOSSC_BLOCK(' $SRC | while IFS=: read -r line text; do
        name=$(echo "$text" | sed 's/LOSSC_BLOCK(\([a-z0-9_]*\),.*/\1/')
        g=; grep -q "lossc_math.c:$line:.*loop vectorized" "$TMP/g.txt" && g=yes
        c=; grep -q "lossc_math.c:$line:.*vectorized loop" "$TMP/c.txt" && c=yes
        printf '%-17s %-28s %s\n' "$name" "$(verdict "$g" $name "$EXTRA" gcc)" "$(verdict "$c" $name "$EXTRA" clang)"
    done
}

if [ $# -gt 0 ]; then
    table "$*"
else
    table ""
    echo | gcc -dM -E - | grep -q '__x86_64__' && table "-march=x86-64-v2"
fi
if [ -e "$TMP/failed" ]; then echo; echo "vectorize.sh: some loops did not vectorize"; exit 1; fi
echo; echo "vectorize.sh: every loop vectorized (apart from the known gcc/SSE2 double case, if listed)"
