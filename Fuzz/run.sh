#!/usr/bin/env bash
# libFuzzer run of lossc's front end: builds Fuzz/ (fuzz-parser, fuzz-deap) with
# -sanitize=fuzzer,address, seeds the corpora and runs each target bounded.
#
#   Fuzz/run.sh [seconds] [runs]      seconds per target (default 60); runs: stop each target
#                                     after this many inputs too (default: no limit)
#
# Exits non-zero on any finding (crash, trap, ASan report, timeout, rss limit): the input is
# saved under Fuzz/artifacts/<target>/ and the command that reproduces it is printed.
# Prints SKIPPED and exits 0 when the toolchain has no libFuzzer.
# Environment: FUZZ_CONFIG=debug|release (default release: the same checks, since the library
# has no assert(), at about 17x the inputs per second: 3,600/s against 213/s for fuzz-parser),
# FUZZ_TARGETS="fuzz-parser fuzz-deap", FUZZ_MAX_LEN (default 4096 bytes), FUZZ_TIMEOUT
# (seconds per input, default 10), FUZZ_RSS_MB (default 2048), FUZZ_JOBS (parallel workers
# per target, libFuzzer's -fork; default 1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
seconds="${1:-60}"
runs="${2:--1}"
config="${FUZZ_CONFIG:-release}"
targets="${FUZZ_TARGETS:-fuzz-parser fuzz-deap}"
max_len="${FUZZ_MAX_LEN:-4096}"
timeout_s="${FUZZ_TIMEOUT:-10}"
rss_mb="${FUZZ_RSS_MB:-2048}"
jobs="${FUZZ_JOBS:-1}"

# 1. Does this toolchain have libFuzzer? (Xcode's does not; swift.org's Linux toolchains do.)
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
cat > "$probe/p.swift" <<'EOF'
@_cdecl("LLVMFuzzerTestOneInput") public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt { 0 }
EOF
if ! swiftc -sanitize=fuzzer,address -parse-as-library "$probe/p.swift" -o "$probe/p" >"$probe/log" 2>&1; then
    echo "SKIPPED: this Swift toolchain cannot build with -sanitize=fuzzer:"
    sed 's/^/  /' "$probe/log" | head -5
    exit 0
fi

# 2. Build (a package of its own: the root package's builds never see these flags).
cd "$here"
start=$(date +%s)
# (gold warns about ASan's local symbols on every link: noise, filtered; pipefail keeps the build's status.)
swift build -c "$config" -Xswiftc -sanitize=fuzzer,address 2>&1 \
    | { grep -v "Cannot export local symbol '__asan" || true; }
bin="$(swift build -c "$config" --show-bin-path)"
echo "fuzz build ($config): $(( $(date +%s) - start )) s"

# 3. Seeds: the example losses, the regression corpus and Fuzz/regressions (past findings) for
#    the parser, the published DEAP strings (the `# DEAP:` lines of the examples) for the
#    importer; both get both, since a .loss file is a hostile DEAP string and the other way round.
seeds="$here/seeds"
rm -rf "$seeds"; mkdir -p "$seeds"
cp "$root"/examples/*.loss "$root"/Tests/LossDSLTests/Regressions/*.loss "$seeds"/
# Inputs that once were findings (each also a test in Tests/LossDSLTests): replayed every run.
cp "$here"/regressions/* "$seeds"/
k=0
{ sed -n 's/^# DEAP: //p' "$root"/examples/*.loss
  echo 'Neg(Dot(Y,Log(Softmax(X))))'
  echo 'Neg(Add(Mul(PY,Log(Sig(X))),Mul(NY,Log(Sub(1,Sig(X))))))'
  echo 'Sub(1,Sub(Div(I,U),Div(Sub(E,U),E)))'
  echo 'Mul(Q,Salf(Serfc(Sgdf(Tanh(Relu(Abs(Sqrt(Cos(Exp(Softplus(X)))))))))))'
} | while IFS= read -r line; do k=$((k + 1)); printf '%s' "$line" > "$seeds/deap_$k.txt"; done

# 4. Run each target bounded. The working corpus (Fuzz/corpus/<target>) keeps what it learnt
#    between runs; the seeds are read-only.
status=0
for t in $targets; do
    corpus="$here/corpus/$t"; artifacts="$here/artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    log="$here/artifacts/$t.log"
    echo "== $t: ${seconds}s, runs=${runs}, max_len=$max_len, timeout=${timeout_s}s, rss_limit=${rss_mb}MB"
    flags=(-max_total_time="$seconds" -runs="$runs" -timeout="$timeout_s" -rss_limit_mb="$rss_mb"
           -malloc_limit_mb="$rss_mb" -max_len="$max_len" -dict="$here/loss.dict" -print_final_stats=1
           -artifact_prefix="$artifacts/")
    if [ "$jobs" -gt 1 ]; then flags+=(-fork="$jobs"); fi
    set +e
    # The Swift runtime's backtracer would take the crash from libFuzzer (and trip ASan itself).
    SWIFT_BACKTRACE=enable=no "$bin/$t" "${flags[@]}" "$corpus" "$seeds" >"$log" 2>&1
    rc=$?
    set -e
    grep -E "^INFO: Seed:|^#[0-9]+[[:space:]]+(INITED|DONE)" "$log" | sed 's/^/  /' || true
    grep -E "^#[0-9]+: cov:" "$log" | tail -n 1 | sed 's/^/  /' || true   # -fork's summary
    grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)" "$log" | sed 's/^/  /' || true
    if [ "$rc" -ne 0 ]; then
        status=1
        echo "FINDING in $t (exit $rc); the end of $log:"
        tail -n 60 "$log" | grep -v '^"' | sed 's/^/  | /'
        for a in $(grep -oE "Test unit written to [^ ]+" "$log" | awk '{print $5}'); do
            echo "  input saved: $a"
            echo "  reproduce:   (cd Fuzz && swift build -c $config -Xswiftc -sanitize=fuzzer,address) && SWIFT_BACKTRACE=enable=no $bin/$t $a"
        done
    else
        echo "  $t: no finding"
    fi
done
exit $status
