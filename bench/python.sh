#!/bin/sh
# python.sh: a Python threading workload (bench/pythreads.py:
# ThreadPoolExecutor, queue.Queue, Condition) natively and under lockrace,
# interleaved, ROUNDS runs of each. Two costs:
#  - the workload: the seconds pythreads.py measures itself (after its
#    imports; medians), wall time and the process's CPU time, whose
#    ratios are lockrace's cost per operation (wall time also moves with
#    how the threads happen to meet on 2 CPUs; CPU time much less);
#    each also as the median of the per-run ratios (a native run and a
#    lockrace run in turn), and beside lockrace a library that wraps the
#    same calls and only passes them on (bench/passthrough.c): the floor
#    of any interposer's cost;
#  - start-up: the CPU time (user and system, the median) a Python
#    process has used once it has imported threading, queue and
#    concurrent.futures, as it reads it itself (getrusage), whose
#    difference is what lockrace adds to every Python process before the
#    program's first line (loading, tables, the stacks of the import
#    system's locks); CPU time, as a loaded machine stretches wall time by
#    whatever else runs.
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
PASS=$BUILD/bench/libpassthrough.so
[ -e "$PASS" ] || { echo "python.sh: $PASS not found; build the project first (or set BUILD=dir)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
START='import resource, threading, queue, concurrent.futures
r = resource.getrusage(resource.RUSAGE_SELF)
print(r.ru_utime + r.ru_stime)'

for i in $(seq "$ROUNDS"); do
    "$PYTHON" "$DIR/pythreads.py" "$ITEMS" >>"$tmp/native"
    LD_PRELOAD=$LIB LOCKRACE_OPTIONS="json=$tmp/reports.json" \
        "$PYTHON" "$DIR/pythreads.py" "$ITEMS" >>"$tmp/lockrace"
    LD_PRELOAD=$PASS "$PYTHON" "$DIR/pythreads.py" "$ITEMS" >>"$tmp/pass"
    "$PYTHON" -c "$START" >>"$tmp/start_native"
    LD_PRELOAD=$LIB LOCKRACE_OPTIONS="json=$tmp/reports.json" "$PYTHON" -c "$START" >>"$tmp/start_lockrace"
done
if [ -s "$tmp/reports.json" ]; then
    echo "python.sh: lockrace reported something:" >&2
    cat "$tmp/reports.json" >&2 2>/dev/null || true
    exit 1
fi
n=$(cut -d' ' -f1 "$tmp/native" | median)
l=$(cut -d' ' -f1 "$tmp/lockrace" | median)
cn=$(cut -d' ' -f2 "$tmp/native" | median)
cl=$(cut -d' ' -f2 "$tmp/lockrace" | median)
sn=$(median <"$tmp/start_native")
sl=$(median <"$tmp/start_lockrace")
p=$(cut -d' ' -f1 "$tmp/pass" | median)
cp=$(cut -d' ' -f2 "$tmp/pass" | median)
# per-run ratios: column (1 wall, 2 CPU) of FILE over the native run of the same round
ratios() { paste -d' ' "$tmp/native" "$2" | awk -v c="$1" '{ print $(c + 4) / $c }' | median; }
echo "$PYTHON, $ITEMS items, medians of $ROUNDS runs each:"
echo "  workload: native $n s, lockrace $l s, ratio $(echo "$l $n" | awk '{ printf "%.2f", $1 / $2 }')" \
     "(per run $(ratios 1 "$tmp/lockrace" | awk '{ printf "%.2f", $1 }'));" \
     "pass-through $p s, ratio $(echo "$p $n" | awk '{ printf "%.2f", $1 / $2 }')"
echo "  workload CPU: native $cn s, lockrace $cl s, ratio $(echo "$cl $cn" | awk '{ printf "%.2f", $1 / $2 }')" \
     "(per run $(ratios 2 "$tmp/lockrace" | awk '{ printf "%.2f", $1 }'));" \
     "pass-through $cp s, ratio $(echo "$cp $cn" | awk '{ printf "%.2f", $1 / $2 }')"
echo "  start-up CPU: native $(echo "$sn" | awk '{ printf "%.1f", $1 * 1000 }') ms, lockrace" \
     "$(echo "$sl" | awk '{ printf "%.1f", $1 * 1000 }') ms, $(echo "$sl $sn" | awk '{ printf "%+.1f", ($1 - $2) * 1000 }') ms"
