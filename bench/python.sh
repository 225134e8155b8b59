#!/bin/sh
# python.sh: a Python threading workload (bench/pythreads.py:
# ThreadPoolExecutor, queue.Queue, Condition) natively and under lockrace,
# interleaved, ROUNDS runs of each. Two costs:
#  - the workload: the seconds pythreads.py measures itself (after its
#    imports; the median), whose ratio is lockrace's cost per operation;
#  - start-up: the CPU time (user and system; the mean, as the shell
#    counts it in 10 ms ticks) of python3 -c 'import threading, queue,
#    concurrent.futures', whose difference is what lockrace adds to every
#    Python process before the program's first line (loading, tables, the
#    stacks of the import system's locks); CPU time, as a loaded machine
#    stretches wall time by whatever else runs.
# Usage: [BUILD=build] [ROUNDS=5] [PYTHON=python3] [ITEMS=20000] bench/python.sh
# Every lockrace run must be clean: exit status 0 and no report.
set -eu
BUILD=${BUILD:-./build}
ROUNDS=${ROUNDS:-5}
PYTHON=${PYTHON:-python3}
ITEMS=${ITEMS:-20000}
DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/timing.sh"
LIB=$(cat "$BUILD/ld_preload")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
IMPORTS='import threading, queue, concurrent.futures'

# the CPU seconds (user + system) of this shell's children so far (times
# runs here, not in a command substitution's subshell, whose children are
# its own)
children_cpu() {
    times >"$tmp/times"
    awk 'NR == 2 { gsub("s", ""); split($1, u, "m"); split($2, s, "m");
                   printf "%.3f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$tmp/times"
}
start_native=0
start_lockrace=0

for i in $(seq "$ROUNDS"); do
    "$PYTHON" "$DIR/pythreads.py" "$ITEMS" | cut -d' ' -f1 >>"$tmp/native"
    LD_PRELOAD=$LIB LOCKRACE_OPTIONS="json=$tmp/reports.json" \
        "$PYTHON" "$DIR/pythreads.py" "$ITEMS" | cut -d' ' -f1 >>"$tmp/lockrace"
    children_cpu >"$tmp/before"
    "$PYTHON" -c "$IMPORTS"
    children_cpu >"$tmp/after"
    LD_PRELOAD=$LIB LOCKRACE_OPTIONS="json=$tmp/reports.json" "$PYTHON" -c "$IMPORTS"
    children_cpu >"$tmp/end"
    start_native=$(cat "$tmp/before" "$tmp/after" | awk -v t="$start_native" 'NR == 1 { b = $1 } NR == 2 { print t + $1 - b }')
    start_lockrace=$(cat "$tmp/after" "$tmp/end" | awk -v t="$start_lockrace" 'NR == 1 { b = $1 } NR == 2 { print t + $1 - b }')
done
if [ -s "$tmp/reports.json" ]; then
    echo "python.sh: lockrace reported something:" >&2
    cat "$tmp/reports.json" >&2 2>/dev/null || true
    exit 1
fi
n=$(median <"$tmp/native")
l=$(median <"$tmp/lockrace")
sn=$(echo "$start_native $ROUNDS" | awk '{ print $1 / $2 }')
sl=$(echo "$start_lockrace $ROUNDS" | awk '{ print $1 / $2 }')
echo "$PYTHON, $ITEMS items, $ROUNDS runs each:"
echo "  workload, median: native $n s, lockrace $l s, ratio $(echo "$l $n" | awk '{ printf "%.2f", $1 / $2 }')"
echo "  start-up, CPU: native $(echo "$sn" | awk '{ printf "%.1f", $1 * 1000 }') ms, lockrace" \
     "$(echo "$sl" | awk '{ printf "%.1f", $1 * 1000 }') ms, +$(echo "$sl $sn" | awk '{ printf "%.1f", ($1 - $2) * 1000 }') ms"
