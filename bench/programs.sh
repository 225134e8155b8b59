#!/bin/sh
# programs.sh: lockrace on two real programs (issue 8). pigz -p 2 compresses a
# generated file, memcached -t 4 serves a bounded loopback load from
# bench/mcload; each natively, under lockrace (LD_PRELOAD, default options
# plus json=FILE, which must stay empty) and under valgrind --tool=helgrind,
# alternating within each of ROUNDS rounds. Prints a markdown table of
# medians and of the median per-round ratio to native.
# Usage: [BUILD=build] [ROUNDS=3] [PIGZ_MB=64] [HG_DIV=16] [MC_PAIRS=50000]
#        [MC_CONNS=4] [HG_MC_PAIRS=500] [HELGRIND=1] bench/programs.sh
# Helgrind compresses a 1/HG_DIV input (it is ~30x slower), and serves
# memcached once, in round 1, with HG_MC_PAIRS pairs a connection (a few
# hundred requests a second); what it reports is noted under the table.
# HELGRIND=0 leaves it out. Nothing is pinned: both
# programs use both CPUs. Outputs are checked: lockrace's and helgrind's
# compressed bytes must be native's, every get must return what was set.
set -eu

BUILD=${BUILD:-./build}
ROUNDS=${ROUNDS:-3}
PIGZ_MB=${PIGZ_MB:-64}
HG_DIV=${HG_DIV:-16}
MC_PAIRS=${MC_PAIRS:-50000}
MC_CONNS=${MC_CONNS:-4}
HG_MC_PAIRS=${HG_MC_PAIRS:-500}
HELGRIND=${HELGRIND:-1}
GNU_TIME=${GNU_TIME:-/usr/bin/time}

die() { echo "programs.sh: $*" >&2; exit 1; }

GENDATA=$BUILD/bench/gendata
MCLOAD=$BUILD/bench/mcload
LIB=$BUILD/liblockrace.so
for f in "$GENDATA" "$MCLOAD" "$LIB"; do
    [ -e "$f" ] || die "$f not found; build the project first (or set BUILD=dir)"
done
command -v pigz >/dev/null 2>&1 || die "pigz not installed (apt-get install pigz)"
command -v memcached >/dev/null 2>&1 || die "memcached not installed (apt-get install memcached)"
"$GNU_TIME" -f %M true >/dev/null 2>&1 || die "no GNU time at $GNU_TIME (apt-get install time)"
if [ "$HELGRIND" = 1 ] && ! command -v valgrind >/dev/null 2>&1; then
    die "valgrind not installed (apt-get install valgrind), or HELGRIND=0 to leave helgrind out"
fi
LIB=$(realpath "$LIB") # so LD_PRELOAD does not depend on the cwd
# Run under `lockrace -- ...`, the native runs would not be native.
unset LD_PRELOAD LOCKRACE_OPTIONS

OUT=$(mktemp -d)
MC_PID=""
LOAD_PID=""
cleanup() {
    for pid in $LOAD_PID $MC_PID; do # interrupted while memcached ran
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
NOTES=$OUT/notes      # shown under the table
PROBLEMS=$OUT/problems # the figures are not to be trusted: exit 1
: >"$NOTES"
: >"$PROBLEMS"
problem() { echo "$*" >>"$PROBLEMS"; }

# ---- pigz ----

# The input, made once and kept in the build tree (its bytes only depend on
# gendata.c): a fresh gendata makes it again.
input() {
    f=$BUILD/bench/pigz-input.$1
    if [ ! -f "$f" ] || [ -n "$(find "$GENDATA" -newer "$f")" ]; then
        echo "making $f" >&2
        "$GENDATA" "$1" >"$f.tmp" || die "$GENDATA $1 failed"
        mv "$f.tmp" "$f"
    fi
    echo "$f"
}
BIG=$(input $((PIGZ_MB * 1048576)))
SMALL=$(input $((PIGZ_MB * 1048576 / HG_DIV)))

# pigz_run NAME ROUND INPUT [PREFIX...]: compresses INPUT to $OUT/NAME.gz;
# appends "wall_s cpu_s rss_kib" to $OUT/pigz.NAME.ROUND.
pigz_run() {
    name=$1 round=$2 in=$3
    shift 3
    start=$(date +%s.%N)
    if ! "$GNU_TIME" -f '%M %U %S' -o "$OUT/time" "$@" pigz -p 2 -c <"$in" >"$OUT/$name.gz" 2>"$OUT/$name.err"; then
        problem "pigz $name, round $round: failed: $(tail -1 "$OUT/$name.err")"
        return 0
    fi
    end=$(date +%s.%N)
    tail -1 "$OUT/time" | awk -v a="$start" -v b="$end" '{ printf "%.3f %.3f %d\n", b - a, $2 + $3, $1 }' \
        >"$OUT/pigz.$name.$round"
}

# ---- memcached ----

MC_USER=""
[ "$(id -u)" -ne 0 ] || MC_USER="-u root" # memcached refuses root without -u
# memcached sets its open-file limit, soft and hard, to its connection limit
# (-c); valgrind only lets a program set the hard limit to the one it left it
# (the shell's, less the descriptors valgrind keeps), so under helgrind -c
# must be exactly that.
HG_MAXCONNS=""
if [ "$HELGRIND" = 1 ]; then
    HG_MAXCONNS=$(valgrind --tool=none -q sh -c 'ulimit -Hn' 2>/dev/null) ||
        die "valgrind does not run here (valgrind --tool=none sh fails)"
fi

# whether child PID still runs (an ended one stays a zombie until waited for)
running() {
    state=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) && [ "$state" != Z ]
}

# mc_run NAME ROUND PAIRS MAXCONNS [PREFIX...]: starts memcached on a free
# loopback port, loads it with mcload, stops it; appends "requests_per_s
# server_cpu_us_per_request rss_kib" to $OUT/mc.NAME.ROUND.
mc_run() {
    name=$1 round=$2 pairs=$3 maxconns=$4
    shift 4
    port=$("$MCLOAD" --free-port)
    # A prefix is `env ...` or `valgrind ...`: both exec, so $! is the process
    # that serves, whose /proc entry gives its CPU time and peak RSS.
    # shellcheck disable=SC2086 # MC_USER is a flag and its value, or nothing
    "$@" memcached -t 4 -c "$maxconns" -p "$port" -l 127.0.0.1 -U 0 -m 64 $MC_USER \
        </dev/null >"$OUT/mc.$name.out" 2>&1 &
    MC_PID=$!
    # In the background: the shell runs a trap (INT, TERM) during a wait,
    # not during a foreground command.
    "$MCLOAD" --conns "$MC_CONNS" --pairs "$pairs" --warmup $((pairs / 10)) --wait 60 \
        --server-pid "$MC_PID" "$port" >"$OUT/mcload.out" 2>&1 &
    LOAD_PID=$!
    if wait "$LOAD_PID"; then
        hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$MC_PID/status")
        sed -n 's/.*rps=\([0-9.]*\) server_cpu_us=\([0-9.]*\).*/\1 \2/p' "$OUT/mcload.out" |
            awk -v rss="$hwm" '{ print $1, $2, rss }' >"$OUT/mc.$name.$round"
    else
        problem "memcached $name, round $round: $(tail -1 "$OUT/mcload.out")"
    fi
    LOAD_PID=
    # memcached ends on SIGTERM within about a second (it looks at its
    # clock tick); one still running after 10 s is killed.
    kill -TERM "$MC_PID" 2>/dev/null || true
    waited=0
    while running "$MC_PID" && [ $waited -lt 100 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    [ $waited -lt 100 ] || { problem "memcached $name: still running 10 s after SIGTERM"; kill -KILL "$MC_PID"; }
    rc=0
    wait "$MC_PID" || rc=$?
    MC_PID=
    [ $rc -eq 0 ] || [ "$name" = helgrind ] || problem "memcached $name, round $round: exit status $rc after SIGTERM"
}

# must_be_empty FILE WHAT: lockrace must not have reported anything.
must_be_empty() {
    [ ! -s "$1" ] || problem "lockrace reported on $2: $(head -c 300 "$1")"
}

# helgrind_said PROGRAM LOG: a note of what helgrind reported (lockrace
# reporting nothing means more next to it).
helgrind_said() {
    said=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]* errors from [0-9]* contexts\).*/\1/p' "$2")
    kinds=$(sed -n 's/^==[0-9]*== \(Possible data race\|Thread #[0-9]*: lock order\|Thread #[0-9]*: [a-z]\).*/\1/p' "$2" |
        sed 's/Thread #[0-9]*: //' | sort | uniq -c | awk '{ c = $1; $1 = ""; printf "%s%s: %s", (NR > 1 ? ", " : ""), substr($0, 2), c }')
    echo "helgrind on $1: ${said:-no ERROR SUMMARY}${kinds:+ ($kinds)}" >>"$NOTES"
}

# ---- the rounds ----

r=1
while [ "$r" -le "$ROUNDS" ]; do
    echo "round $r/$ROUNDS" >&2
    pigz_run native "$r" "$BIG"
    if [ "$r" = 1 ] && ! pigz -dc "$OUT/native.gz" | cmp -s - "$BIG"; then
        problem "pigz: native output does not decompress to its input"
    fi
    pigz_run lockrace "$r" "$BIG" env LD_PRELOAD="$LIB" LOCKRACE_OPTIONS="json=$OUT/pigz.json"
    cmp -s "$OUT/native.gz" "$OUT/lockrace.gz" || problem "pigz: output under lockrace differs from native, round $r"
    must_be_empty "$OUT/pigz.json" pigz
    if [ "$HELGRIND" = 1 ]; then
        pigz_run native_small "$r" "$SMALL"
        pigz_run helgrind "$r" "$SMALL" valgrind --tool=helgrind
        cmp -s "$OUT/native_small.gz" "$OUT/helgrind.gz" || problem "pigz: output under helgrind differs from native, round $r"
        [ "$r" != 1 ] || helgrind_said pigz "$OUT/helgrind.err"
    fi

    mc_run native "$r" "$MC_PAIRS" 1024
    mc_run lockrace "$r" "$MC_PAIRS" 1024 env LD_PRELOAD="$LIB" LOCKRACE_OPTIONS="json=$OUT/mc.json"
    must_be_empty "$OUT/mc.json" memcached
    if [ "$HELGRIND" = 1 ] && [ "$r" = 1 ]; then
        mc_run helgrind "$r" "$HG_MC_PAIRS" "$HG_MAXCONNS" valgrind --tool=helgrind
        helgrind_said memcached "$OUT/mc.helgrind.out"
    fi
    r=$((r + 1))
done

# ---- the table ----

median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# col PREFIX NAME K: the median over rounds of column K of PREFIX.NAME.*
col() {
    for f in "$OUT/$1.$2".[0-9]*; do [ -f "$f" ] && awk -v k="$3" '{ print $k }' "$f"; done | median
}

# ratio PREFIX NAME BASE K INVERT: the median over rounds of NAME's column K
# over BASE's in the same round (BASE's over NAME's when INVERT is 1).
ratio() {
    for f in "$OUT/$1.$2".[0-9]*; do
        b=$OUT/$1.$3.${f##*.}
        [ -f "$f" ] || continue
        [ -f "$b" ] || continue
        paste -d ' ' "$f" "$b" | awk -v k="$4" -v n="$(awk '{ print NF }' "$f")" -v inv="$5" \
            '{ a = $k; b = $(n + k); if (inv) { t = a; a = b; b = t } if (b > 0) printf "%.4f\n", a / b }'
    done | median
}

# cell PREFIX NAME BASE K FORMAT INVERT [SCALE]: "median (ratio)", or why not.
cell() {
    v=$(col "$1" "$2" "$4")
    [ -n "$v" ] || { printf 'failed'; return; }
    x=$(ratio "$1" "$2" "$3" "$4" "$6")
    # shellcheck disable=SC2059 # the format is the caller's
    printf "$5 (%.2fx)" "$(awk -v v="$v" -v s="${7:-1}" 'BEGIN { print v * s }')" "${x:-0}"
}

# nat PREFIX K FORMAT: native's median of column K.
nat() {
    v=$(col "$1" native "$2")
    # shellcheck disable=SC2059 # the format is the caller's
    if [ -n "$v" ]; then printf "$3" "$v"; else printf 'failed'; fi
}

# hg NOTE ARGS...: cell ARGS... with a pointer to note NOTE, for helgrind
hg() {
    note=$1
    shift
    if [ "$HELGRIND" = 1 ]; then cell "$@" && printf ' [%s]' "$note"; else printf 'not run (HELGRIND=0)'; fi
}

NA="n/a (needs a rebuild)"
mc_load="$MC_CONNS conns x $MC_PAIRS set/get"
echo
echo "programs.sh: rounds=$ROUNDS, median of rounds; ratio = median of per-round ratios to native," \
    "as a cost (time, CPU, memory over native's; native's requests/s over the tool's)"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cpus, $(uname -sr)," \
    "pigz $(pigz --version 2>&1 | awk '{ print $2 }'), $(memcached -V)"
echo
echo "| program | measure | native | lockrace (ratio) | tsan | helgrind (ratio) |"
echo "|---|---|---|---|---|---|"
echo "| pigz -p 2, $PIGZ_MB MiB | wall s | $(nat pigz 1 %.2f) | $(cell pigz lockrace native 1 %.2f 0) | $NA | $(hg 1 pigz helgrind native_small 1 %.0f 0 "$HG_DIV") |"
echo "| | CPU s (user+sys) | $(nat pigz 2 %.2f) | $(cell pigz lockrace native 2 %.2f 0) | $NA | $(hg 1 pigz helgrind native_small 2 %.0f 0 "$HG_DIV") |"
echo "| | peak RSS KiB | $(nat pigz 3 %.0f) | $(cell pigz lockrace native 3 %.0f 0) | $NA | $(hg 1 pigz helgrind native_small 3 %.0f 0) |"
echo "| memcached -t 4, $mc_load | requests/s | $(nat mc 1 %.0f) | $(cell mc lockrace native 1 %.0f 1) | $NA | $(hg 2 mc helgrind native 1 %.0f 1) |"
echo "| | server CPU us/request | $(nat mc 2 %.2f) | $(cell mc lockrace native 2 %.2f 0) | $NA | $(hg 2 mc helgrind native 2 %.0f 0) |"
echo "| | peak RSS KiB | $(nat mc 3 %.0f) | $(cell mc lockrace native 3 %.0f 0) | $NA | $(hg 2 mc helgrind native 3 %.0f 0) |"
echo
if [ "$HELGRIND" = 1 ]; then
    echo "[1] helgrind compressed a 1/$HG_DIV input ($((PIGZ_MB * 1024 / HG_DIV)) KiB) in each round: times are" \
        "x$HG_DIV, ratios are to native on that input (native: $(col pigz native_small 1) s), RSS is not scaled."
    echo "[2] helgrind served memcached once, $MC_CONNS conns x $HG_MC_PAIRS set/get, with -c $HG_MAXCONNS" \
        "(valgrind's open-file limit), in round 1; ratios are to native in that round."
fi
echo "tsan: ThreadSanitizer needs the program compiled with -fsanitize=thread; Debian's binaries are not."
echo "server CPU us/request: memcached's user + system time over the timed requests (after a warm-up of a tenth as many)."
if [ -s "$NOTES" ]; then
    sed 's/^/- /' "$NOTES"
fi
if [ -s "$PROBLEMS" ]; then
    echo
    echo "programs.sh: these figures are not to be trusted:" >&2
    sed 's/^/  /' "$PROBLEMS" >&2
    exit 1
fi
