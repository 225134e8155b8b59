#!/bin/sh
# python.sh: a Python threading workload (bench/pythreads.py:
# ThreadPoolExecutor, queue.Queue, Condition) natively and under lockrace;
# prints the median wall time of each over ROUNDS runs and the ratio.
# Usage: [BUILD=build] [ROUNDS=5] [PYTHON=python3] [ITEMS=20000] bench/python.sh
# Every lockrace run must be clean: exit status 0 and no report.
set -eu
BUILD=${BUILD:-./build}
ROUNDS=${ROUNDS:-5}
PYTHON=${PYTHON:-python3}
ITEMS=${ITEMS:-20000}
DIR=$(cd "$(dirname "$0")" && pwd)
LIB=$(cat "$BUILD/ld_preload")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for i in $(seq "$ROUNDS"); do
    "$PYTHON" "$DIR/pythreads.py" "$ITEMS" | cut -d' ' -f1 >>"$tmp/native"
    LD_PRELOAD=$LIB LOCKRACE_OPTIONS="json=$tmp/reports.json" \
        "$PYTHON" "$DIR/pythreads.py" "$ITEMS" | cut -d' ' -f1 >>"$tmp/lockrace"
done
if [ -s "$tmp/reports.json" ]; then
    echo "python.sh: lockrace reported something:" >&2
    cat "$tmp/reports.json" >&2
    exit 1
fi
n=$(median <"$tmp/native")
l=$(median <"$tmp/lockrace")
echo "$PYTHON, $ITEMS items, median of $ROUNDS: native $n s, lockrace $l s, ratio $(echo "$l $n" | awk '{ printf "%.2f", $1 / $2 }')"
