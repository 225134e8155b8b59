#!/bin/sh
# python.sh: a Python threading workload (bench/pythreads.py:
# ThreadPoolExecutor, queue.Queue, Condition) natively and under lockrace,
# interleaved. Two costs, each the median over ROUNDS runs:
#  - the workload: the seconds pythreads.py measures itself (after its
#    imports), whose ratio is lockrace's cost per operation;
#  - start-up: the wall time of python3 -c 'import threading, queue,
#    concurrent.futures', whose difference is what lockrace adds to every
#    Python process before the program's first line (loading, tables, the
#    stacks of the import system's locks).
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

for i in $(seq "$ROUNDS"); do
    "$PYTHON" "$DIR/pythreads.py" "$ITEMS" | cut -d' ' -f1 >>"$tmp/native"
    LD_PRELOAD=$LIB LOCKRACE_OPTIONS="json=$tmp/reports.json" \
        "$PYTHON" "$DIR/pythreads.py" "$ITEMS" | cut -d' ' -f1 >>"$tmp/lockrace"
    timed "$PYTHON" -c "$IMPORTS" >>"$tmp/start_native"
    timed env LD_PRELOAD="$LIB" LOCKRACE_OPTIONS="json=$tmp/reports.json" "$PYTHON" -c "$IMPORTS" \
        >>"$tmp/start_lockrace"
done
if [ -s "$tmp/reports.json" ] || grep -q fail "$tmp/start_lockrace"; then
    echo "python.sh: lockrace reported something, or a run failed:" >&2
    cat "$tmp/reports.json" >&2 2>/dev/null || true
    exit 1
fi
n=$(median <"$tmp/native")
l=$(median <"$tmp/lockrace")
sn=$(median <"$tmp/start_native")
sl=$(median <"$tmp/start_lockrace")
echo "$PYTHON, $ITEMS items, medians of $ROUNDS:"
echo "  workload: native $n s, lockrace $l s, ratio $(echo "$l $n" | awk '{ printf "%.2f", $1 / $2 }')"
echo "  start-up: native $(echo "$sn" | awk '{ printf "%.1f", $1 * 1000 }') ms, lockrace" \
     "$(echo "$sl" | awk '{ printf "%.1f", $1 * 1000 }') ms, +$(echo "$sl $sn" | awk '{ printf "%.1f", ($1 - $2) * 1000 }') ms"
