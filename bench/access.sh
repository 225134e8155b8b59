#!/bin/sh
# access.sh: compare accessbench (the cost of an annotated access) natively,
# under lockrace (LD_PRELOAD) and under a -fsanitize=thread build, and print
# a markdown table of ns per access.
# Usage: [BUILD=build] [ROUNDS=3] [CPU=0,1] [CC=gcc] bench/access.sh [TEST...]
# Each test runs in a process of its own, pinned with taskset like run.sh
# (CPU= empty to not pin): _1t tests to the first CPU of CPU, _2t tests to
# all of CPU, since two threads on one CPU would not show whether lockrace
# scales. Every lockrace run must be clean (exit status 0, nothing in its
# json report file); the line under the table says whether all were.
# It builds nothing except $BUILD/bench/accessbench-tsan; a missing tool's
# column says "skipped".
set -eu

BUILD=${BUILD:-./build}
ROUNDS=${ROUNDS:-3}
CC=${CC:-gcc}
CPU=${CPU-0,1}
SRC_DIR=$(cd "$(dirname "$0")" && pwd)

BENCH=$BUILD/bench/accessbench
LIB=$BUILD/liblockrace.so
TSAN=$BUILD/bench/accessbench-tsan

if [ ! -x "$BENCH" ]; then
    echo "access.sh: $BENCH not found; build the project first (or set BUILD=dir)" >&2
    exit 1
fi

known=$("$BENCH" --list | tr '\n' ' ')
if [ $# -gt 0 ]; then tests=$*; else tests=$known; fi
for t in $tests; do
    case " $known" in
    *" $t "*) ;;
    *) echo "access.sh: unknown test '$t' (tests: $known)" >&2; exit 2 ;;
    esac
done

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
NOTES=$OUT/notes
: >"$NOTES"

PIN1="" PIN2=""
if [ -n "$CPU" ] && command -v taskset >/dev/null 2>&1; then
    PIN1="taskset -c ${CPU%%[,-]*}"
    PIN2="taskset -c $CPU"
    case $CPU in
    *[,-]*) ;;
    *) echo "CPU=$CPU is one CPU: the two threads of the _2t tests share it" >>"$NOTES" ;;
    esac
fi

have_lockrace=0
if [ -f "$LIB" ]; then
    have_lockrace=1
    LIB=$(realpath "$LIB") # so LD_PRELOAD does not depend on the cwd
else
    echo "lockrace: skipped, $LIB not found" >>"$NOTES"
fi

# Built here, not by CMake, the way run.sh builds lockbench-tsan. Without
# liblockrace the annotations are no-ops: TSan times the plain accesses.
have_tsan=0
if "$CC" -fsanitize=thread -O2 -g -pthread -I"$SRC_DIR/../include" -o "$TSAN" \
    "$SRC_DIR/accessbench.c" 2>"$OUT/tsan.log" \
    && "$TSAN" --iters 10 annotate_2t >/dev/null 2>>"$OUT/tsan.log"; then
    have_tsan=1
else
    echo "tsan: skipped, could not build or run $TSAN (no libtsan? apt-get install libtsan2):" >>"$NOTES"
    sed 's/^/    /' "$OUT/tsan.log" | head -5 >>"$NOTES"
fi

lr_runs=0 lr_clean=0

# One run: tool, round, test, command... ; appends "test ns" to $OUT/tool.round.
run() {
    tool=$1 round=$2 test=$3
    shift 3
    case $test in *_1t) pin=$PIN1 ;; *) pin=$PIN2 ;; esac
    rm -f "$OUT/reports.json"
    status=0
    # shellcheck disable=SC2086 # pin is a command prefix or nothing
    $pin "$@" "$test" >"$OUT/raw" 2>"$OUT/err" || status=$?
    if [ "$tool" = lockrace ]; then
        lr_runs=$((lr_runs + 1))
        if [ "$status" = 0 ] && [ ! -s "$OUT/reports.json" ]; then
            lr_clean=$((lr_clean + 1))
        elif [ -s "$OUT/reports.json" ]; then
            echo "lockrace: $test, round $round: $(wc -l <"$OUT/reports.json") report(s), exit status $status:" >>"$NOTES"
            grep -m3 'lockrace:' "$OUT/err" | sed 's/^/    /' >>"$NOTES" || true
        fi
    fi
    if [ "$status" != 0 ]; then
        echo "$tool: $test, round $round failed (exit $status):" >>"$NOTES"
        tail -3 "$OUT/err" | sed 's/^/    /' >>"$NOTES"
        return 0
    fi
    sed -n 's/^\([a-z0-9_]*\) ns_per_access=\([0-9.]*\) .*/\1 \2/p' "$OUT/raw" >>"$OUT/$tool.$round"
}

# Alternate the variants within each round so drift (frequency, other load)
# hits them all alike.
r=1
while [ "$r" -le "$ROUNDS" ]; do
    echo "round $r/$ROUNDS" >&2
    for t in $tests; do
        run native "$r" "$t" "$BENCH"
        [ $have_lockrace = 0 ] || run lockrace "$r" "$t" \
            env LOCKRACE_OPTIONS="json=$OUT/reports.json" LD_PRELOAD="$LIB" "$BENCH"
        [ $have_tsan = 0 ] || run tsan "$r" "$t" "$TSAN"
    done
    r=$((r + 1))
done

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Median ns of a tool for a test, and median of its per-round ratio to native.
cell() {
    tool=$1 test=$2
    ls "$OUT/$tool".[0-9]* >/dev/null 2>&1 || { printf 'skipped'; return; }
    ns=$(cat "$OUT/$tool".[0-9]* | awk -v t="$test" '$1 == t { print $2 }' | median)
    [ -n "$ns" ] || { printf 'failed'; return; }
    ratio=$(for f in "$OUT/$tool".[0-9]*; do
        n=$OUT/native.${f##*.}
        [ -f "$n" ] || continue
        awk -v t="$test" '$1 == t { print $2 }' "$f" "$n" | tr '\n' ' ' |
            awk 'NF == 2 && $2 > 0 { print $1 / $2 }'
    done | median)
    printf '%.2f (%.3gx)' "$ns" "${ratio:-0}"
}

ls "$OUT"/native.[0-9]* >/dev/null 2>&1 || { echo "access.sh: no native results" >&2; cat "$NOTES" >&2; exit 1; }

echo
echo "accessbench: rounds=$ROUNDS, each the best of 3 timed runs (REPS); median of rounds;" \
    "ratio = median of per-round ratios to native"
echo "ns/access = wall time / accesses of all threads (1 read + 1 write per iteration;" \
    "accesses/s = 1e9 / ns): a _2t test that scales shows half the ns of its _1t twin"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cpus, $(uname -sr)${PIN1:+, _1t runs pinned with $PIN1, _2t with $PIN2}"
echo
echo "| test | native ns/access | lockrace ns/access (ratio) | tsan ns/access (ratio) |"
echo "|---|---|---|---|"
for t in $tests; do
    nat=$(cat "$OUT"/native.[0-9]* | awk -v t="$t" '$1 == t { print $2 }' | median)
    [ -z "$nat" ] || nat=$(printf '%.2f' "$nat")
    printf '| %s | %s | %s | %s |\n' "$t" "${nat:-failed}" \
        "$(cell lockrace "$t")" "$(cell tsan "$t")"
done
echo
if [ $have_lockrace = 1 ]; then
    if [ "$lr_clean" = "$lr_runs" ]; then
        echo "lockrace: clean, all $lr_runs runs exited 0 with an empty json report file"
    else
        echo "lockrace: NOT clean, $((lr_runs - lr_clean)) of $lr_runs runs reported or failed (see notes)"
    fi
fi
if [ -s "$NOTES" ]; then
    echo
    sed 's/^\([^ ]\)/- \1/' "$NOTES"
fi
