#!/bin/sh
# run.sh: compare lockbench natively, under lockrace (LD_PRELOAD), under a
# -fsanitize=thread build and under helgrind, and print a markdown table.
# Usage: [BUILD=build] [ROUNDS=5] [ITERS=10000000] [CC=gcc] [CPU=0]
#        [GNU_TIME=/usr/bin/time] [HG_SKIP=many_locks] bench/run.sh [TEST...]
# Every run is pinned to CPU (taskset; CPU= empty to not pin): on this kind of
# virtual machine the two vCPUs differ by up to 40% in speed, which swamps the
# difference being measured.
# It builds nothing except $BUILD/bench/lockbench-tsan; a missing tool's column
# says "skipped". Helgrind runs ITERS/100 iterations (it is ~100x slower) and
# skips HG_SKIP tests. Peak RSS (whole process, from GNU time) is the last row.
set -eu

BUILD=${BUILD:-./build}
ROUNDS=${ROUNDS:-5}
ITERS=${ITERS:-10000000}
CC=${CC:-gcc}
CPU=${CPU-0}
GNU_TIME=${GNU_TIME:-/usr/bin/time}
PIN=""
if [ -n "$CPU" ] && command -v taskset >/dev/null 2>&1; then
    PIN="taskset -c $CPU"
fi
HG_ITERS=$((ITERS / 100))
[ "$HG_ITERS" -gt 0 ] || HG_ITERS=1
# many_locks: helgrind spends ~50 s and 600 MiB on its 100000 locks whatever
# the iteration count (setup, not the timed part).
HG_SKIP=${HG_SKIP-many_locks}
SRC_DIR=$(cd "$(dirname "$0")" && pwd)

BENCH=$BUILD/bench/lockbench
LIB=$BUILD/liblockrace.so
TSAN=$BUILD/bench/lockbench-tsan

if [ ! -x "$BENCH" ]; then
    echo "run.sh: $BENCH not found; build the project first (or set BUILD=dir)" >&2
    exit 1
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
NOTES=$OUT/notes
: >"$NOTES"

have_lockrace=0
if [ -f "$LIB" ]; then
    have_lockrace=1
    LIB=$(realpath "$LIB") # so LD_PRELOAD does not depend on the cwd
else
    echo "lockrace: skipped, $LIB not found" >>"$NOTES"
fi

have_tsan=0
if "$CC" -fsanitize=thread -O2 -g -pthread -o "$TSAN" "$SRC_DIR/lockbench.c" 2>"$OUT/tsan.log" \
    && "$TSAN" --iters 10 uncontended >/dev/null 2>>"$OUT/tsan.log"; then
    have_tsan=1
else
    echo "tsan: skipped, could not build or run $TSAN (no libtsan? apt-get install libtsan2):" >>"$NOTES"
    sed 's/^/    /' "$OUT/tsan.log" | head -5 >>"$NOTES"
fi

have_helgrind=0
if command -v valgrind >/dev/null 2>&1; then
    have_helgrind=1
    # The tests asked for (all by default) minus HG_SKIP, as arguments.
    hg_tests=""
    if [ $# -gt 0 ]; then asked=$*; else asked=$("$BENCH" --list); fi
    for t in $asked; do
        case " $HG_SKIP " in
        *" $t "*) ;;
        *) hg_tests="$hg_tests $t" ;;
        esac
    done
    [ -z "$HG_SKIP" ] || echo "helgrind: skipped $HG_SKIP (too slow under helgrind; HG_SKIP= to run it), so its RSS does not include them" >>"$NOTES"
    if [ -z "$hg_tests" ]; then
        have_helgrind=0
    fi
else
    echo "helgrind: skipped, valgrind not installed (apt-get install valgrind)" >>"$NOTES"
fi

# GNU time, for the peak RSS of the process (valgrind's own, under helgrind).
TIME=""
if [ -x "$GNU_TIME" ] && "$GNU_TIME" -f %M -o "$OUT/time.probe" true 2>/dev/null \
    && grep -q '^[0-9][0-9]*$' "$OUT/time.probe"; then
    TIME="$GNU_TIME -f %M -o"
else
    echo "peak RSS: n/a, no GNU time at $GNU_TIME (apt-get install time)" >>"$NOTES"
fi

# One run: tool name, round, command... ; keeps "test ns" lines in
# $OUT/tool.round and the peak RSS in KiB in $OUT/tool.rss.round.
run() {
    tool=$1 round=$2
    shift 2
    rss=$OUT/$tool.time
    : >"$rss"
    # shellcheck disable=SC2086 # PIN and TIME are command prefixes or nothing
    $PIN ${TIME:+$TIME "$rss"} "$@" >"$OUT/$tool.raw" 2>"$OUT/$tool.err" || {
        echo "$tool: round $round failed (exit $?):" >>"$NOTES"
        tail -3 "$OUT/$tool.err" | sed 's/^/    /' >>"$NOTES"
        return 0
    }
    sed -n 's/^\([a-z0-9_]*\) ns_per_iter=\([0-9.]*\) .*/\1 \2/p' "$OUT/$tool.raw" >"$OUT/$tool.$round"
    grep '^[0-9][0-9]*$' "$rss" | tail -1 >"$OUT/$tool.rss.$round" || rm -f "$OUT/$tool.rss.$round"
}

# Alternate the variants within each round so drift (frequency, other load)
# hits them all alike.
r=1
while [ "$r" -le "$ROUNDS" ]; do
    echo "round $r/$ROUNDS" >&2
    run native "$r" "$BENCH" --iters "$ITERS" "$@"
    [ $have_lockrace = 0 ] || run lockrace "$r" env LD_PRELOAD="$LIB" "$BENCH" --iters "$ITERS" "$@"
    [ $have_tsan = 0 ] || run tsan "$r" "$TSAN" --iters "$ITERS" "$@"
    # shellcheck disable=SC2086 # hg_tests is a list of test names
    [ $have_helgrind = 0 ] || run helgrind "$r" valgrind --tool=helgrind -q "$BENCH" --iters "$HG_ITERS" $hg_tests
    r=$((r + 1))
done

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Median ns of a tool for a test, and median of its per-round ratio to native.
cell() {
    tool=$1 test=$2
    ls "$OUT/$tool".[0-9]* >/dev/null 2>&1 || { printf 'skipped'; return; }
    if [ "$tool" = helgrind ]; then
        case " $HG_SKIP " in *" $test "*) printf 'skipped'; return ;; esac
    fi
    ns=$(cat "$OUT/$tool".[0-9]* | awk -v t="$test" '$1 == t { print $2 }' | median)
    [ -n "$ns" ] || { printf 'failed'; return; }
    ratio=$(for f in "$OUT/$tool".[0-9]*; do
        n=$OUT/native.${f##*.}
        [ -f "$n" ] || continue
        awk -v t="$test" '$1 == t { print $2 }' "$f" "$n" | tr '\n' ' ' |
            awk 'NF == 2 && $2 > 0 { print $1 / $2 }'
    done | median)
    printf '%.1f (%.1fx)' "$ns" "${ratio:-0}"
}

tests=$(cat "$OUT"/native.[0-9]* 2>/dev/null | awk '!seen[$1]++ { print $1 }')
[ -n "$tests" ] || { echo "run.sh: no native results" >&2; cat "$NOTES" >&2; exit 1; }

echo
echo "lockbench: iters=$ITERS (helgrind $HG_ITERS), rounds=$ROUNDS, median of rounds;" \
    "ratio = median of per-round ratios to native"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cpus, $(uname -sr)${PIN:+, runs pinned with $PIN}"
echo
echo "| test | native ns | lockrace ns (ratio) | tsan ns (ratio) | helgrind ns (ratio) |"
echo "|---|---|---|---|---|"
for t in $tests; do
    nat=$(cat "$OUT"/native.[0-9]* | awk -v t="$t" '$1 == t { print $2 }' | median)
    printf '| %s | %.1f | %s | %s | %s |\n' "$t" "$nat" \
        "$(cell lockrace "$t")" "$(cell tsan "$t")" "$(cell helgrind "$t")"
done

# Median peak RSS of a tool over rounds, and median of its per-round ratio.
rss_cell() {
    tool=$1
    [ -n "$TIME" ] || { printf 'n/a'; return; }
    ls "$OUT/$tool".rss.[0-9]* >/dev/null 2>&1 || { printf 'skipped'; return; }
    kib=$(cat "$OUT/$tool".rss.[0-9]* | median)
    [ "$tool" != native ] || { printf '%.0f' "$kib"; return; }
    ratio=$(for f in "$OUT/$tool".rss.[0-9]*; do
        n=$OUT/native.rss.${f##*.}
        [ -f "$n" ] || continue
        cat "$f" "$n" | tr '\n' ' ' | awk 'NF == 2 && $2 > 0 { print $1 / $2 }'
    done | median)
    printf '%.0f (%.1fx)' "$kib" "${ratio:-0}"
}
printf '| peak RSS KiB, whole process | %s | %s | %s | %s |\n' "$(rss_cell native)" \
    "$(rss_cell lockrace)" "$(rss_cell tsan)" "$(rss_cell helgrind)"
if [ -s "$NOTES" ]; then
    echo
    sed 's/^\([^ ]\)/- \1/' "$NOTES"
fi
