#!/bin/sh
# fuzz-smoke.sh — a short run of every libFuzzer target in a folder.
#
#   tools/fuzz-smoke.sh [DIR] [SECONDS]      (defaults: build-fuzz/fuzz, 20)
#
# Target DIR/fuzz_X runs for SECONDS over a fresh corpus
# build-fuzz/smoke-corpus/X/ seeded from fuzz/seeds/X/ plus the model files
# named *.X under models/ (only small ones, <= 128 KB, so each run stays
# fast). It never touches fuzz/corpus-X/, where long runs keep theirs.
# Crashes, leaks and timeouts are written to build-fuzz/artifacts/; the
# script fails if any target fails. Prints one line per target: executions
# and coverage.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build-fuzz/fuzz}
secs=${2:-20}
cd "$here" || exit 1
mkdir -p build-fuzz/artifacts
status=0
found=0
for bin in "$dir"/fuzz_*; do
    [ -x "$bin" ] || continue
    found=1
    name=$(basename "$bin")
    fmt=${name#fuzz_}
    corpus=build-fuzz/smoke-corpus/$fmt
    rm -rf "$corpus"
    mkdir -p "$corpus"
    [ -d "fuzz/seeds/$fmt" ] && cp -r "fuzz/seeds/$fmt/." "$corpus/" 2>/dev/null
    if [ -d models ]; then
        find models -name "*.$fmt" -size -129k -exec cp {} "$corpus/" \; 2>/dev/null
    fi
    log=build-fuzz/artifacts/$name.log
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="build-fuzz/artifacts/$name-" "$corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        echo "ok   $name: ${execs:-?} runs in ${secs}s, ${cov:-cov: ?}"
    else
        echo "FAIL $name (exit $rc): see $log"
        grep -E 'ERROR|SUMMARY|^    #[0-9]' "$log" | head -15
        status=1
    fi
done
[ $found = 1 ] || { echo "no fuzz targets in $dir (run 'make fuzz')"; exit 1; }
exit $status
