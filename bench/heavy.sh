#!/bin/sh
# heavy.sh: lock-heavy and thread-heavy programs (the stress programs of
# tests/stress) natively, under lockrace (LD_PRELOAD) and as a
# -fsanitize=thread build (gcc, detect_deadlocks=1), the three interleaved
# in each of ROUNDS rounds; prints a markdown table of median wall seconds,
# the ratio to native, and median peak RSS.
# Usage: [BUILD=build] [ROUNDS=3] [CC=gcc] [GNU_TIME=/usr/bin/time] bench/heavy.sh [SCENARIO...]
# Scenarios: ordered threads thread_states held held_long held_deep churn
# recursion (default: all): every stress program of tests/stress at the
# full scale of its issue (tests/stress/stress.py, LOCKRACE_STRESS=full).
# It builds the TSan programs into $BUILD/bench/stress-tsan; nothing else.
set -eu

BUILD=${BUILD:-./build}
ROUNDS=${ROUNDS:-3}
CC=${CC:-gcc}
GNU_TIME=${GNU_TIME:-/usr/bin/time}
SRC=$(cd "$(dirname "$0")/.." && pwd)
LIB=$(cd "$BUILD" && pwd)/liblockrace.so
STRESS=$BUILD/tests/stress
TSAN=$BUILD/bench/stress-tsan

for f in "$LIB" "$STRESS/ordered" "$STRESS/threads" "$STRESS/held" "$STRESS/churn" "$STRESS/recursion"; do
    [ -e "$f" ] || { echo "heavy.sh: $f not found; build the project first (or set BUILD=dir)" >&2; exit 1; }
done
[ -x "$GNU_TIME" ] || { echo "heavy.sh: $GNU_TIME not found (Debian package time)" >&2; exit 1; }

mkdir -p "$TSAN"
for p in ordered threads held churn; do
    if [ ! -x "$TSAN/$p" ] || [ "$SRC/tests/stress/$p.c" -nt "$TSAN/$p" ]; then
        "$CC" -O1 -g -fsanitize=thread -pthread -I"$SRC/tests/stress" \
            "$SRC/tests/stress/$p.c" -o "$TSAN/$p"
    fi
done

# name: program and arguments
args() {
    case $1 in
    ordered) echo "ordered 1000000 64 clean" ;;     # 64 threads, random ascending subsets of 256 locks
    threads) echo "threads 10000 64 200" ;;         # 10^4 short threads, 200 ops each over 64 locks
    thread_states) echo "threads 10000 16 150" ;;   # the same, 16 alive: each state reused many times
    held) echo "held 1000 20 1" ;;                  # one thread holding 1,000 locks, 20 times
    held_long) echo "held 1000 1000 1" ;;           # the same, 1,000 times: the steady state
    held_deep) echo "held 4096 1 1" ;;              # one thread holding 4,096 locks
    churn) echo "churn 1000000 4" ;;                # 10^6 mutexes made, taken in pairs and ended, 4 threads
    recursion) echo "recursion 100000 4 10" ;;      # recursive mutexes relocked 10^5 frames deep, 4 threads
    *) echo "heavy.sh: no scenario '$1' (ordered threads thread_states held held_long held_deep churn recursion)" >&2
       exit 2 ;;
    esac
}

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# one NAME MODE: runs it once, appends "seconds KiB status" to OUT/NAME.MODE
one() {
    set -- "$1" "$2" $(args "$1")
    name=$1 mode=$2 prog=$3
    shift 3
    case $mode in
    native) cmd="$STRESS/$prog" ;;
    lockrace) cmd="env LD_PRELOAD=$LIB $STRESS/$prog" ;;
    tsan)
        # ThreadSanitizer cannot run recursion: its stack depot takes at
        # most 65,535 frames, and 10^5 deep it fails a CHECK after 12
        # minutes (gcc 12); reported as not run
        if [ "$prog" = recursion ]; then
            echo "0 0 skip" >>"$OUT/$name.$mode"
            return
        fi
        cmd="env TSAN_OPTIONS=detect_deadlocks=1:report_signal_unsafe=0 $TSAN/$prog" ;;
    esac
    rc=0
    # wall time in ms from the clock (GNU time's is in hundredths: held
    # takes a few ms natively); peak RSS from GNU time
    start=$(date +%s%N)
    # shellcheck disable=SC2086
    "$GNU_TIME" -f "%M" -o "$OUT/time" $cmd "$@" >/dev/null 2>"$OUT/err" || rc=$?
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000 )) $(tail -n 1 "$OUT/time") $rc" >>"$OUT/$name.$mode"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

scenarios=${*:-ordered threads thread_states held held_long held_deep churn recursion}
for r in $(seq 1 "$ROUNDS"); do
    for s in $scenarios; do
        for mode in native lockrace tsan; do
            one "$s" "$mode"
        done
    done
    echo "round $r of $ROUNDS done" >&2
done

echo "| scenario | native s | lockrace s (ratio) | tsan s (ratio) | peak RSS MB native / lockrace / tsan |"
echo "|---|---|---|---|---|"
for s in $scenarios; do
    n=$(cut -d' ' -f1 "$OUT/$s.native" | median)
    l=$(cut -d' ' -f1 "$OUT/$s.lockrace" | median)
    t=$(cut -d' ' -f1 "$OUT/$s.tsan" | median)
    rn=$(cut -d' ' -f2 "$OUT/$s.native" | median)
    rl=$(cut -d' ' -f2 "$OUT/$s.lockrace" | median)
    rt=$(cut -d' ' -f2 "$OUT/$s.tsan" | median)
    tstat=$(cut -d' ' -f3 "$OUT/$s.tsan" | sort -u | tr '\n' ' ')
    lstat=$(cut -d' ' -f3 "$OUT/$s.lockrace" | sort -u | tr '\n' ' ')
    note="" lnote=""
    [ "$tstat" = "0 " ] || note=" (exit $tstat)"
    [ "$lstat" = "0 " ] || lnote=" (exit $lstat)"
    awk -v s="$s" -v n="$n" -v l="$l" -v t="$t" -v rn="$rn" -v rl="$rl" -v rt="$rt" -v note="$note" \
        -v lnote="$lnote" -v skip="$([ "$tstat" = "skip " ] && echo 1)" 'BEGIN {
        n /= 1e6; l /= 1e6; t /= 1e6    # microseconds
        tsan = skip ? "not run" : sprintf("%.3f (%.1fx)%s", t, t / n, note)
        printf "| %s | %.3f | %.3f (%.1fx)%s | %s | %d / %d / %s |\n",
               s, n, l, l / n, lnote, tsan, rn / 1024, rl / 1024, skip ? "-" : sprintf("%d", rt / 1024) }'
done
