#!/bin/sh
# watch_all.sh: the cost of watch=* (every global and static variable of
# the program, none named). Runs each program natively, under lockrace
# without watching, and under lockrace with watch=*, ROUNDS times each,
# alternating, and prints a markdown table of median wall times and the
# ratios to native. The demos, tests/integration's watch_all (hot globals:
# read and written by both threads on every round), and node (a real
# program that keeps its symbol table: 27 MB of code to decode, 3,700
# variables) when it is installed.
# Usage: [BUILD=build] [ROUNDS=3] bench/watch_all.sh
set -eu

BUILD=${BUILD:-./build}
ROUNDS=${ROUNDS:-3}
LIB=$BUILD/liblockrace.so
if [ ! -f "$LIB" ]; then
    echo "watch_all.sh: $LIB not found; build the project first (or set BUILD=dir)" >&2
    exit 1
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# seconds for one run of "$@" (output discarded)
timed() {
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    echo "$e - $s" | bc
}

median() {
    sort -n | awk '{ v[NR] = $1 } END { printf "%.3f", v[int((NR + 1) / 2)] }'
}

echo "| program | native s | lockrace s | lockrace watch=* s | watch=* / native | watch=* / lockrace |"
echo "|---|---|---|---|---|---|"
bench() {
    label=$1
    shift
    : >"$OUT/n"; : >"$OUT/l"; : >"$OUT/w"
    i=0
    while [ $i -lt "$ROUNDS" ]; do
        timed "$@" >>"$OUT/n"
        timed env LD_PRELOAD="$LIB" LOCKRACE_OPTIONS=exitcode=0 "$@" >>"$OUT/l"
        timed env LD_PRELOAD="$LIB" LOCKRACE_OPTIONS='exitcode=0:watch=*' "$@" >>"$OUT/w"
        i=$((i + 1))
    done
    n=$(median <"$OUT/n"); l=$(median <"$OUT/l"); w=$(median <"$OUT/w")
    echo "| $label | $n | $l | $w | $(echo "scale=1; $w / $n" | bc) | $(echo "scale=1; $w / $l" | bc) |"
}

D=$BUILD/demos
bench "counter_plain racy 10^6" "$D/counter_plain" racy
bench "counter_plain locked 10^6" "$D/counter_plain" locked
bench "counter_plain increment 10^6" "$D/counter_plain" increment
bench "bank_race" "$D/bank_race"
bench "bank" "$D/bank"
bench "philosophers" "$D/philosophers"
bench "ten_threads" "$D/ten_threads"
bench "publish_flag" "$D/publish_flag"
bench "watch_all clean 10^6 (hot globals)" "$BUILD/tests/integration/watch_all" clean 1000000
if command -v node >/dev/null 2>&1; then
    bench "node -e (start-up)" node -e 'console.log(1)'
    bench "node, 2 worker threads" node -e '
const { Worker } = require("worker_threads");
for (let i = 0; i < 2; i++)
  new Worker("let s = 0; for (let j = 0; j < 3e7; j++) s += j % 7; require(\"worker_threads\").parentPort.postMessage(s)", { eval: true })
    .on("message", (m) => console.log(m));'
fi
