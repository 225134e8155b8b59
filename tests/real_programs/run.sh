#!/usr/bin/env bash
# The real-program matrix: programs from Debian 12's archive, which nobody on
# the team wrote, run natively and under lockrace; it fails if lockrace
# changes what they write or how they exit, or reports anything that is not
# recorded as a true report (expected-reports, written up in
# docs/real-programs.md).
#
#   [ROUNDS=N] tests/real_programs/run.sh [--full] [--shard K/N] [--table FILE] BUILD_DIR [PROGRAM...]
#   tests/real_programs/run.sh --packages fast|full     Debian packages the tier needs
#   tests/real_programs/run.sh --list                   the programs, their tier and what they run
#
# Without --full it runs the fast tier (programs that start within a second
# or two; CTest runs it), with --full every program (tests/real_programs/full
# installs what the slow ones need, builds, and runs this). --shard K/N runs
# every Nth program from the Kth (CTest splits the fast tier in two).
# ROUNDS=N (1) runs each program N times each way, alternating, and
# reports the median times.
#
# Every program runs twice: "native", then "lockrace" (LD_PRELOAD, with
# json=FILE; a few through the launcher, BUILD_DIR/lockrace). Both runs start
# in the same empty working directory (same path, same HOME and TMPDIR), and
# each writes what it produced into its own results directory; the two
# directories must hold the same files with the same bytes (outputs, stderr
# where it is deterministic, exit statuses), and the lockrace run's JSON file
# must hold no report but those of expected-reports. The programs are defined in programs/*.sh, their inputs in
# workloads/ and project/.

# SC2317: the prog_* functions are called by name ("prog_$name") and cleanup
# by the trap, which shellcheck does not see.
# shellcheck disable=SC2317

# Not -e: a program that fails is a result to compare, not the end of the script.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
usage="usage: $0 [--full] [--shard K/N] [--table FILE] BUILD_DIR [PROGRAM...]
       $0 --packages fast|full
       $0 --list"

# ---- the registry: programs/*.sh call `program` once per program ----

# program NAME TIER PACKAGES COMMANDS WHAT [via=launcher] [options=OPTS]
#   TIER      fast (CTest and CI) or full (tests/real_programs/full only)
#   PACKAGES  Debian packages that provide it, comma-separated
#   COMMANDS  commands it needs, comma-separated (checked before it runs)
#   WHAT      what it runs, for the table
#   via=launcher   the lockrace run goes through BUILD_DIR/lockrace --
#   options=OPTS   more LOCKRACE_OPTIONS for the lockrace run (a:b=c form)
#   asan=no        skipped in a LOCKRACE_SANITIZE build: the program hangs or
#                  crashes with the ASan runtime preloaded, lockrace or not
# and define prog_NAME, which runs the program with step / helper / server.
PROGRAMS=()
declare -A TIER PACKAGES COMMANDS WHAT VIA EXTRA_OPTIONS NO_ASAN
program() {
    local name=$1 kv
    PROGRAMS+=("$name")
    TIER[$name]=$2 PACKAGES[$name]=$3 COMMANDS[$name]=$4 WHAT[$name]=$5
    VIA[$name]=preload EXTRA_OPTIONS[$name]="" NO_ASAN[$name]=""
    for kv in "${@:6}"; do
        case $kv in
            via=launcher) VIA[$name]=launcher ;;
            options=*) EXTRA_OPTIONS[$name]=${kv#options=} ;;
            asan=no) NO_ASAN[$name]=1 ;;
            *) echo "run.sh: program $name: unknown attribute '$kv'" >&2; exit 2 ;;
        esac
    done
}
for f in "$HERE"/programs/*.sh; do
    # shellcheck source=/dev/null
    . "$f"
done

# selected TIER NAME: whether NAME belongs to a run of TIER (full takes all)
selected() { [ "$1" = full ] || [ "${TIER[$2]}" = fast ]; }

case ${1:-} in
    --packages)
        if [ $# -ne 2 ] || { [ "$2" != fast ] && [ "$2" != full ]; }; then
            echo "$usage" >&2
            exit 2
        fi
        for name in "${PROGRAMS[@]}"; do
            selected "$2" "$name" && tr ',' '\n' <<<"${PACKAGES[$name]}"
        done | grep -v '^-$' | sort -u | tr '\n' ' '
        echo
        exit 0 ;;
    --list)
        for name in "${PROGRAMS[@]}"; do
            printf '%-18s %-4s %s\n' "$name" "${TIER[$name]}" "${WHAT[$name]}"
        done
        exit 0 ;;
esac

tier=fast shard="" table=""
while [ $# -gt 0 ]; do
    case $1 in
        --full) tier=full; shift ;;
        --shard) shard=$2; shift 2 ;;
        --table) table=$2; shift 2 ;;
        -*) echo "$usage" >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
[ -f "$1/liblockrace.so" ] || { echo "run.sh: no liblockrace.so in '$1'; $usage" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
shift
if [ -n "$shard" ] && ! [[ $shard =~ ^([1-9][0-9]*)/([1-9][0-9]*)$ && ${BASH_REMATCH[1]} -le ${BASH_REMATCH[2]} ]]; then
    echo "run.sh: --shard $shard: expected K/N with 1 <= K <= N" >&2
    exit 2
fi
# liblockrace.so, then the ASan runtime in a LOCKRACE_SANITIZE build
PRELOAD_LIBS=$(cat "$BUILD/ld_preload")
sanitized=""
[[ $PRELOAD_LIBS != *libasan* ]] || sanitized=1

run=()
if [ $# -gt 0 ]; then
    for name in "$@"; do
        [ -n "${TIER[$name]:-}" ] || { echo "run.sh: no program '$name' (--list shows them)" >&2; exit 2; }
        run+=("$name")
    done
else
    i=0
    for name in "${PROGRAMS[@]}"; do
        i=$((i + 1))
        selected "$tier" "$name" || continue
        if [ -n "$shard" ]; then
            k=${shard%/*} n=${shard#*/}
            [ $(((i - 1) % n + 1)) -eq "$k" ] || continue
        fi
        run+=("$name")
    done
fi

# Run under `lockrace --ci -- ctest`, this script would inherit the shim and
# its options, and the "native" runs would not be native.
unset LD_PRELOAD LOCKRACE_OPTIONS
export LC_ALL=C            # the same sort order and messages in both runs
# Debian's programs, not other copies earlier in PATH (a python3 of pyenv,
# a stand-in convert in /usr/local/bin).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
STEP_TIMEOUT=${STEP_TIMEOUT:-60}   # seconds; a step that takes this long is hung
ROUNDS=${ROUNDS:-1}                # pairs of runs per program (times: medians)
PYTHON=/usr/bin/python3

for cmd in timeout cmp sha256sum "$PYTHON"; do
    command -v "$cmd" >/dev/null || { echo "run.sh: '$cmd' is not installed" >&2; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lockrace-real-programs.XXXXXX")
cleanup() {
    local pid
    # servers still running: the script was interrupted while they served
    if [ -s "$TMP/servers" ]; then
        while read -r pid; do
            kill -KILL "$pid" 2>/dev/null
        done <"$TMP/servers"
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- inputs, generated deterministically, once, when a program needs them ----

# DATA: 20 MiB of lines of words from a fixed vocabulary (compressible) each
# ending in 16 random hex digits (not). SMALL: its first 2 MiB, for the
# slower programs. LINES: 400,000 short lines ("word number", with
# repeats), 5 MB, for sort. With -S 10M sort then fills 3 buffers, sorts
# each with 2 threads (it only starts threads for 128K lines or more, so the
# lines are kept short) and merges 3 temporary files.
DATA=$TMP/inputs/data
SMALL=$TMP/inputs/small
LINES=$TMP/inputs/lines
need_data() {
    [ -s "$DATA" ] && return
    mkdir -p "$TMP/inputs"
    "$PYTHON" - "$DATA" "$LINES" <<'EOF'
import random, sys
rng = random.Random(20240607)
vocab = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 10))) for _ in range(4000)]
out, size = [], 0
while size < 20 * 1024 * 1024:
    line = f"{' '.join(rng.choices(vocab, k=12))} {rng.getrandbits(64):016x}\n"
    out.append(line)
    size += len(line)
with open(sys.argv[1], "w") as f:
    f.write("".join(out))
with open(sys.argv[2], "w") as f:
    f.write("".join(f"{rng.choice(vocab)} {rng.randrange(100000)}\n" for _ in range(400000)))
EOF
    head -c $((2 * 1024 * 1024)) "$DATA" >"$SMALL"
    if [ ! -s "$DATA" ] || [ ! -s "$LINES" ] || [ ! -s "$SMALL" ]; then
        echo "run.sh: could not generate the input files" >&2
        exit 1
    fi
}

# ---- what a prog_NAME function uses ----

# DIR: the current run's results directory (compared between the runs).
# KEEP: the current run's files that are not compared (stderr that holds
# times or addresses), shown when the program fails.
# WORK: the working directory, the same path in both runs, emptied between them.
# PRELOAD: empty for the native run, else the prefix that runs a command under
# lockrace.
DIR="" KEEP="" WORK=""
PRELOAD=()

# run_cmd NAME IN OUT CMD...: CMD reads IN, writes OUT, and its stderr goes to
# DIR/NAME.err (KEEP/NAME.err with NOERR=1: not compared); "NAME STATUS" is
# added to DIR/status. timeout runs natively.
run_cmd() {
    local name=$1 in=$2 out=$3 rc=0 err=$DIR/$1.err
    shift 3
    [ -z "${NOERR:-}" ] || err=$KEEP/$name.err
    timeout -k 5 "$STEP_TIMEOUT" "$@" <"$in" >"$out" 2>"$err" || rc=$?
    echo "$name $rc" >>"$DIR/status"
}
# step: CMD is the program under test (under lockrace in the lockrace run).
step() { run_cmd "$1" "$2" "$3" "${PRELOAD[@]}" "${@:4}"; }
# helper: CMD only drives the test (a client, a check): always native.
helper() { run_cmd "$@"; }

# free_port: a loopback port free now; nothing else on the machine is
# expected to take it in the few milliseconds before the server binds it.
free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something accepts connections on it (10 s at most),
# or a server has died.
wait_port() {
    local i pid
    for ((i = 0; i < 200; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        for pid in "${SERVER_PID[@]}"; do
            kill -0 "$pid" 2>/dev/null && continue
            echo "a server ended before anything listened on port $1" >>"$KEEP/wait_port.err"
            return 1
        done
        sleep 0.05
    done
    echo "nothing listens on port $1 after 10 s" >>"$KEEP/wait_port.err"
    return 1
}

# server NAME CMD...: starts CMD (under lockrace in the lockrace run, unless
# NATIVE=1: a server that only serves a client under test) in the
# background, its output in DIR/NAME.out and DIR/NAME.err (with NOERR=1 in
# KEEP: servers log ports, process ids and times).
# server_stop NAME [SIGNAL]: sends SIGNAL (TERM), waits up to 10 s and records
# "NAME-after-SIGNAL STATUS"; one still running then is killed and recorded so.
# (Not INT or QUIT: a background job of a script starts with them ignored.)
declare -A SERVER_PID
server() {
    local name=$1 out=$DIR/$1.out err=$DIR/$1.err pre=("${PRELOAD[@]}")
    shift
    [ -z "${NOERR:-}" ] || out=$KEEP/$name.out err=$KEEP/$name.err
    [ -z "${NATIVE:-}" ] || pre=()
    # env and the launcher exec or forward signals, so $! is the server.
    "${pre[@]}" "$@" </dev/null >"$out" 2>"$err" &
    SERVER_PID[$name]=$!
    echo "$!" >>"$TMP/servers"
}
server_stop() {
    local name=$1 sig=${2:-TERM} pid=${SERVER_PID[$1]} waited=0 rc=0
    kill -"$sig" "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 100 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
        echo "$name-after-$sig still-running-after-10s" >>"$DIR/status"
    else
        wait "$pid" || rc=$?
        echo "$name-after-$sig $rc" >>"$DIR/status"
    fi
}

# ---- checks ----

failures=()

# describe FILE: its text when it is short, else its size and checksum.
describe() {
    if [ ! -e "$1" ]; then
        echo "      (missing)"
    elif [ ! -s "$1" ]; then
        echo "      (empty)"
    elif [ "$(stat -c %s "$1")" -le 4096 ] && grep -Iq . "$1"; then
        sed 's/^/      | /' "$1"
    else
        echo "      $(stat -c %s "$1") bytes, sha256 $(sha256sum <"$1" | cut -c1-16)"
    fi
}

# check NAME: fills failures with what is wrong with NAME's two runs.
check() {
    local nat=$TMP/$1/native lr=$TMP/$1/lockrace f base seen=" " s rc
    failures=()
    # The native run itself must have worked, or equal results mean nothing.
    # Only a server's status after its signal may be anything (the lockrace
    # run's must be the same).
    while read -r s rc; do
        [ "$rc" = 0 ] || [[ $s == *-after-* ]] ||
            failures+=("native run: $s exited with status $rc")
    done <"$nat/status"
    grep -q ' 124$' "$nat/status" "$lr/status" &&
        failures+=("a step was still running after $STEP_TIMEOUT s and was killed (status 124)")
    grep -q ' still-running-after-10s$' "$nat/status" "$lr/status" &&
        failures+=("a server was still running 10 s after its signal and was killed")
    # Every file either run wrote, stderr and statuses included, must be the same.
    for f in "$nat"/* "$lr"/*; do
        base=${f##*/}
        if [ "$base" = reports.json ] || [[ $seen == *" $base "* ]]; then
            continue
        fi
        seen+="$base "
        cmp -s "$nat/$base" "$lr/$base" 2>/dev/null && continue
        if [[ $base == *.err ]]; then
            failures+=("$base (stderr of ${base%.err}) differs between the runs (shown below)")
            continue
        fi
        failures+=("$base differs between the runs:
    native:
$(describe "$nat/$base")
    lockrace:
$(describe "$lr/$base")")
    done
    # lockrace opens the JSON file as it starts (lr_report_init), so without
    # one the shim was never loaded and the run proves nothing.
    [ -e "$lr/reports.json" ] ||
        failures+=("lockrace run: no JSON file was created: was liblockrace.so loaded at all?")
    # Reports recorded as true (expected-reports) are accepted; any other
    # fails the run. ("summary" records at exit are not reports.)
    local unexpected=0
    [ ! -s "$lr/reports.json" ] ||
        unexpected=$("$PYTHON" "$HERE/unexpected_reports.py" "$lr/reports.json" "$1" "$HERE/expected-reports")
    [ "$unexpected" = 0 ] ||
        failures+=("lockrace reported: $unexpected report(s) in its JSON file that expected-reports does not list; the text is below")
}

# show_failure NAME: what is wrong, then everything both runs wrote on
# stderr (lockrace's report text is there); the JSON reports only if no
# report text was found there. At most LINES lines of each.
show_failure() {
    local f f_name mode lines=${SHOW_LINES:-200}
    for f in "${failures[@]}"; do
        echo "  - $f"
    done
    for mode in lockrace native; do
        for f in "$TMP/$1/$mode"/*.err "$TMP/$1/$mode.keep"/*.err; do
            [ -s "$f" ] || continue
            f_name=${f##*/}
            echo "  stderr of step ${f_name%.err} ($mode run):"
            head -n "$lines" "$f" | sed 's/^/    /'
            [ "$(wc -l <"$f")" -le "$lines" ] || echo "    ... ($(wc -l <"$f") lines)"
        done
    done
    if [ -s "$TMP/$1/lockrace/reports.json" ] &&
       ! cat "$TMP/$1/lockrace"/*.err "$TMP/$1/lockrace.keep"/*.err 2>/dev/null | grep -q 'lockrace: '; then
        echo "  JSON reports (lockrace run):"
        head -n 20 "$TMP/$1/lockrace/reports.json" | cut -c1-2000 | sed 's/^/    /'
    fi
}

# Known failures: programs that fail today for a reason written beside them
# (a lockrace bug with its reproduction). They still run; their failure is
# shown and does not fail the matrix, but a known failure that passes does,
# so that its line is removed with the fix.
# NAME@sanitized: only in a LOCKRACE_SANITIZE build.
declare -A KNOWN
while read -r name reason; do
    if [ -z "$name" ] || [[ $name == \#* ]]; then
        continue
    fi
    if [[ $name == *@sanitized ]]; then
        [ -n "$sanitized" ] || continue
        name=${name%@sanitized}
    fi
    KNOWN[$name]=$reason
done <"$HERE/known-failures"

# True reports (expected-reports: NAME KIND SUMMARY-GLOB, each written up in
# docs/real-programs.md) are accepted; a program that has one runs with
# exitcode=0 and its reports' text in a file, so that its exit status and
# stderr stay its own.
declare -A EXPECTS
while read -r name _; do
    [ -n "$name" ] && [[ $name != \#* ]] && EXPECTS[$name]=1
done <"$HERE/expected-reports"

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# ---- main ----

missing=()
for name in "${run[@]}"; do
    IFS=, read -ra cmds <<<"${COMMANDS[$name]}"
    for cmd in "${cmds[@]}"; do
        command -v "$cmd" >/dev/null ||
            missing+=("$name needs '$cmd' (Debian package ${PACKAGES[$name]})")
    done
done
if [ ${#missing[@]} -gt 0 ]; then
    printf 'run.sh: not installed: %s\n' "${missing[@]}" >&2
    echo "run.sh: .ci/setup installs the fast tier's packages, tests/real_programs/full every tier's" >&2
    exit 1
fi

FAILED=0
rows=()
for name in "${run[@]}"; do
    if [ -n "$sanitized" ] && [ -n "${NO_ASAN[$name]}" ]; then
        printf '%-6s %-18s (it hangs or crashes with the ASan runtime preloaded, without lockrace too)\n' skip "$name"
        continue
    fi
    # inputs are made before the clock starts
    ! declare -f "prog_$name" | grep -q need_data || need_data
    # ROUNDS pairs of runs, alternating; each pair is checked, and the times
    # are the medians (the first failing round is the one shown).
    times_native=() times_lockrace=()
    for ((round = 1; round <= ROUNDS; round++)); do
        for mode in native lockrace; do
            DIR=$TMP/$name/$mode KEEP=$TMP/$name/$mode.keep WORK=$TMP/$name/work
            rm -rf "$WORK" "$DIR" "$KEEP"
            mkdir -p "$DIR" "$KEEP" "$WORK/home" "$WORK/tmp"
            : >"$DIR/status"
            PRELOAD=()
            opts="json=$DIR/reports.json${EXTRA_OPTIONS[$name]:+:${EXTRA_OPTIONS[$name]}}"
            # the text of an expected report goes to KEEP, not to stderr
            [ -z "${EXPECTS[$name]:-}" ] || opts+=":exitcode=0:verbosity=0:log_path=$KEEP/lockrace.log"
            if [ "$mode" = lockrace ]; then
                if [ "${VIA[$name]}" = launcher ]; then
                    PRELOAD=("$BUILD/lockrace")
                    IFS=: read -ra kvs <<<"$opts"
                    for kv in "${kvs[@]}"; do PRELOAD+=("--$kv"); done
                    PRELOAD+=(--)
                else
                    PRELOAD=(env "LD_PRELOAD=$PRELOAD_LIBS" "LOCKRACE_OPTIONS=$opts")
                fi
            fi
            start=$EPOCHREALTIME
            (cd "$WORK" && HOME=$WORK/home TMPDIR=$WORK/tmp "prog_$name")
            took=$(seconds "$start" "$EPOCHREALTIME")
            if [ "$mode" = native ]; then times_native+=("$took"); else times_lockrace+=("$took"); fi
            : >"$TMP/servers"
        done
        check "$name"
        [ ${#failures[@]} -eq 0 ] || break
    done
    native_s=$(median "${times_native[@]}") lockrace_s=$(median "${times_lockrace[@]}")
    ratio=$(awk -v n="$native_s" -v l="$lockrace_s" 'BEGIN { printf "%.2fx", (n > 0 ? l / n : 0) }')
    # a run that crashed or was killed (status 124 or more) has no cost to tell
    ! grep -Eq ' (12[4-9]|1[3-9][0-9]|2[0-9][0-9])$' "$TMP/$name/lockrace/status" || ratio=n/a
    if [ ${#failures[@]} -eq 0 ] && [ -z "${KNOWN[$name]:-}" ]; then
        result=ok
    elif [ ${#failures[@]} -eq 0 ] && [ -n "$sanitized" ]; then
        # ASan's malloc, not the program's (jemalloc), and other timing
        result="passes in this sanitized build (known failure)"
    elif [ ${#failures[@]} -eq 0 ]; then
        result="XPASS (remove it from known-failures)"
        FAILED=1
    elif [ -n "${KNOWN[$name]:-}" ]; then
        result="known failure: ${KNOWN[$name]}"
    else
        result=FAIL
        FAILED=1
    fi
    via=
    [ "${VIA[$name]}" = preload ] || via=" (${VIA[$name]})"
    printf '%-6s %-18s native %7s s   lockrace %7s s   %6s%s\n' "${result%% *}" "$name" \
        "$native_s" "$lockrace_s" "$ratio" "$via"
    if [ ${#failures[@]} -gt 0 ]; then
        [ -z "${KNOWN[$name]:-}" ] || echo "  known failure: ${KNOWN[$name]}"
        SHOW_LINES=$([ -n "${KNOWN[$name]:-}" ] && echo 12 || echo 200) show_failure "$name"
    fi
    rows+=("| $name | ${WHAT[$name]}$via | $native_s | $lockrace_s | $ratio | ${result%%:*} |")
    rm -rf "${TMP:?}/$name"   # a compressor's two runs leave about 60 MB
done

{
    echo "| program | what it runs | native s | lockrace s | ratio | result |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
} >"$TMP/table"
echo
cat "$TMP/table"
[ -z "$table" ] || cp "$TMP/table" "$table"
exit $FAILED
