#!/bin/sh
# watch_arrow.sh: what watching a member through a global pointer
# (--watch meter->ticks) costs next to watching a global itself (--watch
# counter). Runs tests/integration/watch_arrow and demos/counter_plain, both
# 2 threads x INCREMENTS read-then-write increments, natively and watched,
# ROUNDS times each, alternating, and prints a markdown table of median wall
# times and lockrace's cost per watched access: (watched - native) / accesses.
# Usage: [BUILD=build] [ROUNDS=3] [INCREMENTS=1000000] bench/watch_arrow.sh [racy|locked]
set -eu

BUILD=${BUILD:-./build}
ROUNDS=${ROUNDS:-3}
INCREMENTS=${INCREMENTS:-1000000}
ARROW=$BUILD/tests/integration/watch_arrow
PLAIN=$BUILD/demos/counter_plain
LAUNCHER=$BUILD/lockrace

for f in "$ARROW" "$PLAIN" "$LAUNCHER"; do
    [ -x "$f" ] || { echo "watch_arrow.sh: $f not found; build the project first (or set BUILD=dir)" >&2; exit 1; }
done
modes=${*:-racy locked}
for m in $modes; do
    case $m in racy|locked) ;; *) echo "watch_arrow.sh: unknown mode '$m' (racy, locked)" >&2; exit 2 ;; esac
done

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

. "$(dirname "$0")/timing.sh"     # timed, median

echo "| mode | watch= | native s | watched s | ns per watched access |"
echo "|---|---|---|---|---|"
for m in $modes; do
    for r in $(seq "$ROUNDS"); do
        timed "$PLAIN" "$m" "$INCREMENTS" >>"$OUT/pn.$m"
        timed "$LAUNCHER" --watch counter -- "$PLAIN" "$m" "$INCREMENTS" >>"$OUT/pw.$m"
        timed "$ARROW" "$m" "$INCREMENTS" >>"$OUT/an.$m"
        timed "$LAUNCHER" --watch 'meter->ticks' -- "$ARROW" "$m" "$INCREMENTS" >>"$OUT/aw.$m"
    done
    for k in p a; do
        n=$(median <"$OUT/${k}n.$m")
        w=$(median <"$OUT/${k}w.$m")
        per=$(awk -v w="$w" -v n="$n" -v i="$INCREMENTS" 'BEGIN { printf "%.0f", (w - n) * 1e9 / (4 * i) }')
        printf '| %s | %s | %.3f | %.2f | %s |\n' "$m" "$( [ $k = p ] && echo counter || echo 'meter->ticks')" "$n" "$w" "$per"
    done
done
echo
echo "2 threads x $INCREMENTS increments, a watched read and write each; medians of $ROUNDS runs."
