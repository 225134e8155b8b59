#!/bin/sh
# watch_callee.sh: the cost of following a watched variable's address into
# a callee. Runs bench/calleebench (one thread, CALLS calls of bump(), two
# accesses each through the pointer it is passed) natively and watched,
# ROUNDS times each, alternating, and prints a markdown table of median
# CPU times and the cost per call over native:
#   other    bump() called with another pointer, from a call site that is
#            not re-aimed: the original runs
#   watched  bump(&stats) from a re-aimed call site: its copy runs, both
#            accesses checked (watch=stats) or one checked and one turned
#            away as not watched (watch=stats.hits; with spare->hits, a
#            member through a pointer, the turning away is lockrace's)
# Usage: [BUILD=build] [ROUNDS=5] [CALLS=10000000] bench/watch_callee.sh
set -eu

BUILD=${BUILD:-./build}
ROUNDS=${ROUNDS:-5}
CALLS=${CALLS:-10000000}
PROG=$BUILD/bench/calleebench
LIB=$BUILD/liblockrace.so
if [ ! -x "$PROG" ] || [ ! -f "$LIB" ]; then
    echo "watch_callee.sh: $PROG or $LIB not found; build the project first (or set BUILD=dir)" >&2
    exit 1
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

. "$(dirname "$0")/timing.sh"     # median; timed is replaced below

# CPU seconds (user + system) of one run of "$@", its output discarded:
# one thread, so on an idle machine its wall time; on a busy one (the
# machines this is run on are shared) less noisy than the wall time
timed() {
    t=$(mktemp)
    /usr/bin/time -f "%U %S" -o "$t" "$@" >/dev/null 2>&1 || [ $? -eq 66 ] || { echo fail; rm -f "$t"; return; }
    awk '{ printf "%.4f\n", $1 + $2 }' "$t"
    rm -f "$t"
}


runs="other:stats watched:stats watched:stats.hits watched:stats.hits,spare->hits"
for r in $(seq "$ROUNDS"); do
    for m in other watched; do
        timed "$PROG" "$m" "$CALLS" >>"$OUT/native.$m"
    done
    for run in $runs; do
        m=${run%%:*} spec=${run#*:}
        timed env LD_PRELOAD="$LIB" LOCKRACE_OPTIONS="watch=$spec" "$PROG" "$m" "$CALLS" >>"$OUT/watch.$m.$spec"
    done
done

echo "| calls of bump() | watch= | native CPU s | watched CPU s | ns per call over native |"
echo "|---|---|---|---|---|"
for run in $runs; do
    m=${run%%:*} spec=${run#*:}
    n=$(median <"$OUT/native.$m")
    w=$(median <"$OUT/watch.$m.$spec")
    ns=$(awk -v n="$n" -v w="$w" -v c="$CALLS" 'BEGIN { printf "%.1f", (w - n) * 1e9 / c }')
    echo "| $m | $spec | $n | $w | $ns |"
done
