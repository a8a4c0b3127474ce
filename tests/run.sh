#!/bin/sh
# run.sh — run every test binary in a build folder and add up the results.
#   tests/run.sh BUILD_DIR [FILTER]
# Prints each binary's lines, then one closing line "N passed, N failed, N skipped".
bindir=${1:-build}/tests
filter=${2:-}
total_p=0; total_f=0; total_s=0; crashed=""
for t in "$bindir"/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    echo "== $name"
    out=$("$t" $filter 2>&1); rc=$?
    printf '%s\n' "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed'
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
    if [ -z "$line" ]; then
        echo "   $name exited with status $rc before finishing"
        crashed="$crashed $name"; total_f=$((total_f + 1)); continue
    fi
    p=$(echo "$line" | sed 's/^\([0-9]*\) passed.*/\1/')
    f=$(echo "$line" | sed 's/.*passed, \([0-9]*\) failed.*/\1/')
    s=$(echo "$line" | sed -n 's/.*failed, \([0-9]*\) skipped.*/\1/p')
    total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + ${s:-0}))
    if [ "$f" = 0 ] && [ $rc -ne 0 ]; then
        echo "   $name exited with status $rc"; total_f=$((total_f + 1))
    fi
done
[ -n "$crashed" ] && echo "crashed:$crashed"
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
