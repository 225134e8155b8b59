#!/bin/sh
# watch.sh: the cost of watching an unannotated variable. Runs
# demos/counter_plain (2 threads x INCREMENTS, a read and a write each)
# natively, under `lockrace --watch counter`, as a -fsanitize=thread build
# and under valgrind --tool=helgrind, ROUNDS times each, alternating, and
# prints a markdown table of median wall times, ratios to native, and
# lockrace's cost per watched access: (watched - native) / accesses.
# Usage: [BUILD=build] [ROUNDS=3] [INCREMENTS=1000000] [CC=gcc] bench/watch.sh [racy|locked]
# It builds nothing except $BUILD/bench/counter_plain-tsan; a missing tool's
# column says "skipped".
set -eu

BUILD=${BUILD:-./build}
ROUNDS=${ROUNDS:-3}
INCREMENTS=${INCREMENTS:-1000000}
CC=${CC:-gcc}
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
PROG=$BUILD/demos/counter_plain
LAUNCHER=$BUILD/lockrace
TSAN=$BUILD/bench/counter_plain-tsan

if [ ! -x "$PROG" ] || [ ! -x "$LAUNCHER" ]; then
    echo "watch.sh: $PROG or $LAUNCHER not found; build the project first (or set BUILD=dir)" >&2
    exit 1
fi
modes=${*:-racy locked}
for m in $modes; do
    case $m in racy|locked) ;; *) echo "watch.sh: unknown mode '$m' (racy, locked)" >&2; exit 2 ;; esac
done

if [ ! -x "$TSAN" ] || [ "$TSAN" -ot "$SRC_DIR/demos/counter_plain.c" ]; then
    $CC -O1 -g -fsanitize=thread "$SRC_DIR/demos/counter_plain.c" -o "$TSAN" -pthread 2>/dev/null || rm -f "$TSAN"
fi
HELGRIND=$(command -v valgrind || true)

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

. "$SRC_DIR/bench/timing.sh"      # timed, median

echo "| mode | native s | lockrace --watch s | ratio | ns per watched access | TSan s | ratio | Helgrind s | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for m in $modes; do
    for r in $(seq "$ROUNDS"); do
        timed "$PROG" "$m" "$INCREMENTS" >>"$OUT/native.$m"
        timed "$LAUNCHER" --watch counter -- "$PROG" "$m" "$INCREMENTS" >>"$OUT/watch.$m"
        if [ -x "$TSAN" ]; then
            TSAN_OPTIONS=report_bugs=0 timed "$TSAN" "$m" "$INCREMENTS" >>"$OUT/tsan.$m"
        fi
        if [ -n "$HELGRIND" ] && [ "$r" -eq 1 ]; then      # minutes a run: once
            timed valgrind --tool=helgrind -q "$PROG" "$m" "$INCREMENTS" >>"$OUT/helgrind.$m"
        fi
    done
    n=$(median <"$OUT/native.$m")
    w=$(median <"$OUT/watch.$m")
    t=$( [ -s "$OUT/tsan.$m" ] && median <"$OUT/tsan.$m" || echo skipped)
    h=$( [ -s "$OUT/helgrind.$m" ] && median <"$OUT/helgrind.$m" || echo skipped)
    ratio() { case $1 in skipped|fail|-) echo "-" ;; *) awk -v a="$1" -v b="$n" 'BEGIN { printf "%.0fx", a / b }' ;; esac; }
    per=$(awk -v w="$w" -v n="$n" -v i="$INCREMENTS" 'BEGIN { printf "%.0f", (w - n) * 1e9 / (4 * i) }')
    printf '| %s | %.3f | %.2f | %s | %s | %s | %s | %s | %s |\n' "$m" "$n" "$w" "$(ratio "$w")" "$per" \
        "$t" "$(ratio "$t")" "$h" "$(ratio "$h")"
done
echo
echo "2 threads x $INCREMENTS increments, a watched read and write each; medians of $ROUNDS runs (Helgrind: 1)."
