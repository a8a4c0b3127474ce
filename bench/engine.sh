#!/bin/sh
# engine.sh — where our engine's time goes, per model: perf samples of
# build/bench/bench_engine --profile (our 1-thread run in a loop), split into
# convolution / fully-connected kernels, pooling, and everything else
# (element-wise ops, data movement, the session's own work).
#
#   bench/engine.sh [MODEL...] [-s SECONDS]      (default: every model, 4 s each)
#
# Needs perf (linux-perf) and a build with symbols (the default -O2 -g).
set -eu
cd "$(dirname "$0")/.."
secs=4
models=""
while [ $# -gt 0 ]; do
    case "$1" in
    -s) secs="$2"; shift 2 ;;
    *) models="$models $1"; shift ;;
    esac
done
[ -n "$models" ] || models="MobileFaceNet fr_feature face_recognition faceres pnet rnet onet fr_detect fr_liveness fr_landmark fr_gender fr_age"
make -s build/bench/bench_engine
tmp=$(mktemp -d /tmp/bench_engine_perf.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# symbol -> source file, from the debug info, to group samples by module
nm -l --defined-only build/bench/bench_engine 2>/dev/null |
    awk 'NF >= 4 { f = $4; sub(":.*", "", f); n = split(f, a, "/"); if (!($3 in seen)) { seen[$3] = 1; print $3, a[n] } }' \
    > "$tmp/files"
for m in $models; do
    perf record -q -e cpu-clock -F 4000 -o "$tmp/$m.data" -- \
        build/bench/bench_engine --profile "$m" "$secs" 2>"$tmp/$m.log" >/dev/null || {
        echo "$m: perf record failed: $(tail -1 "$tmp/$m.log")"; continue; }
    echo "== $m: $(tail -1 "$tmp/$m.log")"
    # Self time by symbol (percent of samples), grouped by the file that
    # defines it: kernels_simd.h/kernels_*.c are the SIMD conv/fc kernels
    # (pooling split out by name), ops_ref.c the plain-C path of every other
    # op (element-wise, transpose, concat, ...), session.c/threadpool.c the
    # runner, the readers/rewrites are load time (a one-off, here because the
    # profile includes loading the model once).
    perf report -i "$tmp/$m.data" --no-children --sort sym --stdio 2>/dev/null |
        awk -v files="$tmp/files" '
             BEGIN { while ((getline l < files) > 0) { split(l, a, " "); file[a[1]] = a[2] } }
             /^ *[0-9.]+%/ {
                 p = $1; sub("%", "", p); s = $NF; f = (s in file) ? file[s] : ""
                 if ($2 == "[k]") g = "OS kernel"
                 else if (f ~ /^kernels_(simd\.h|avx2\.c|avx512\.c|fast\.c)$/) g = (s ~ /pool/) ? "pooling (SIMD)" : "conv+fc kernels (SIMD)"
                 else if (f == "kernels_ref.c") g = "reference kernels"
                 else if (f == "ops_ref.c") g = "other ops (ops_ref.c)"
                 else if (f == "session.c" || f == "threadpool.c") g = "session/threadpool"
                 else if (f ~ /\.(c|h)$/ && f != "bench_engine.c") g = "load, one-off (" f ")"
                 else if (f == "bench_engine.c") g = "bench"
                 else g = "libc/libm (copies, expf, ...)"
                 if (g ~ /^load/) g = "load, one-off"
                 tot[g] += p
                 if (n < 8) top[++n] = sprintf("      %6.2f%%  %-32s %s", p, s, f)
             }
             END {
                 split("conv+fc kernels (SIMD)|pooling (SIMD)|reference kernels|other ops (ops_ref.c)|libc/libm (copies, expf, ...)|session/threadpool|OS kernel|load, one-off|bench", order, "|")
                 for (i = 1; i in order; i++) if (tot[order[i]] >= 0.05) printf "   %-32s %6.1f%%\n", order[i], tot[order[i]]
                 print "   top symbols:"
                 for (i = 1; i <= n; i++) print top[i]
             }'
done
