#!/usr/bin/env bash
# Runs multithreaded programs nobody on the team wrote (Debian 12 packages)
# natively and under lockrace, and fails if lockrace changes what they write
# or how they exit, or reports anything at all on them.
#
#   tests/real_programs/run.sh BUILD_DIR     (BUILD_DIR holds liblockrace.so)
#
# Every program runs twice: "native", then "lockrace" (LD_PRELOAD, with
# json=FILE). Each run writes its files into its own directory; the two
# directories must hold the same files with the same bytes (outputs, stderr,
# exit statuses), and the lockrace run's JSON file must be empty.

# SC2317: the prog_* functions are called by name ("prog_$name") and cleanup
# by the trap, which shellcheck does not see.
# shellcheck disable=SC2317

# Not -e: a program that fails is a result to compare, not the end of the script.
set -uo pipefail

usage="usage: $0 BUILD_DIR (the directory holding liblockrace.so)"
[ $# -eq 1 ] || { echo "$usage" >&2; exit 2; }
[ -f "$1/liblockrace.so" ] || { echo "run.sh: no liblockrace.so in '$1'; $usage" >&2; exit 2; }
# liblockrace.so, then the ASan runtime in a LOCKRACE_SANITIZE build
PRELOAD_LIBS=$(cat "$1/ld_preload")
HERE=$(cd "$(dirname "$0")" && pwd)

# Run under `lockrace --ci -- ctest`, this script would inherit the shim and
# its options, and the "native" runs would not be native.
unset LD_PRELOAD LOCKRACE_OPTIONS
export LC_ALL=C            # the same sort order and messages in both runs
STEP_TIMEOUT=30            # seconds; a step that takes this long is hung

# ---- the programs must be installed: CI installs them (.ci/setup) ----

declare -A package=([pigz]=pigz [xz]=xz-utils [zstd]=zstd [sort]=coreutils
                    [timeout]=coreutils [sha256sum]=coreutils [cmp]=diffutils
                    [memcached]=memcached [python3]=python3)
missing=0
for cmd in pigz xz zstd sort timeout sha256sum cmp memcached python3; do
    if ! command -v "$cmd" >/dev/null; then
        echo "run.sh: '$cmd' is not installed (Debian package ${package[$cmd]}; .ci/setup installs it)" >&2
        missing=1
    fi
done
[ $missing -eq 0 ] || exit 1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/lockrace-real-programs.XXXXXX")
MEMCACHED_PID=
cleanup() {
    if [ -n "$MEMCACHED_PID" ]; then   # interrupted while memcached ran
        { kill -KILL "$MEMCACHED_PID"; wait "$MEMCACHED_PID"; } 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- inputs, generated deterministically ----

# DATA: 20 MiB of lines of words from a fixed vocabulary (compressible) each
# ending in 16 random hex digits (not). LINES: 400,000 short lines ("word
# number", with repeats), 5 MB, for sort. With -S 10M sort then fills 3
# buffers, sorts each with 2 threads (it only starts threads for 128K lines
# or more, so the lines are kept short) and merges 3 temporary files.
DATA=$TMP/data
LINES=$TMP/lines
python3 - "$DATA" "$LINES" <<'EOF'
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
if [ ! -s "$DATA" ] || [ ! -s "$LINES" ]; then
    echo "run.sh: could not generate the input files" >&2
    exit 1
fi

# The memcached client: 4 threads, one connection each, on the text protocol.
# Each sets 1000 keys of its own, waits for the others, then gets the 1000
# keys of the next client and checks value and flags; all also increment one
# shared counter, so that memcached's workers meet on one item.
CLIENT=$TMP/memcached_client.py
cat >"$CLIENT" <<'EOF'
import hashlib, socket, sys, threading, time
PORT, CLIENTS, KEYS, INCRS = int(sys.argv[1]), 4, 1000, 250
errors = []
barrier = threading.Barrier(CLIENTS, timeout=30)

def connect():
    deadline = time.monotonic() + 10   # memcached may still be starting
    while True:
        try:
            return socket.create_connection(("127.0.0.1", PORT), timeout=30)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

def value(c, i):
    return hashlib.sha256(b"%d:%d" % (c, i)).hexdigest().encode() * (1 + i % 16)

def request(s, f, line, data=None):
    s.sendall(line + b"\r\n" + (data + b"\r\n" if data is not None else b""))
    return f.readline()

def client(c):
    try:
        s = connect()
        f = s.makefile("rb")
        for i in range(KEYS):
            v = value(c, i)
            reply = request(s, f, b"set c%d:k%d %d 0 %d" % (c, i, i, len(v)), v)
            if reply != b"STORED\r\n":
                raise Exception(f"set c{c}:k{i}: {reply!r}")
        if request(s, f, b"add counter 0 0 1", b"0") not in (b"STORED\r\n", b"NOT_STORED\r\n"):
            raise Exception("add counter failed")
        barrier.wait()
        o = (c + 1) % CLIENTS
        for i in range(KEYS):
            v = value(o, i)
            header = request(s, f, b"get c%d:k%d" % (o, i))
            if header != b"VALUE c%d:k%d %d %d\r\n" % (o, i, i, len(v)):
                raise Exception(f"get c{o}:k{i}: {header!r}")
            data, end = f.read(len(v) + 2), f.readline()
            if data != v + b"\r\n" or end != b"END\r\n":
                raise Exception(f"get c{o}:k{i}: wrong value or end {end!r}")
        for _ in range(INCRS):
            if not request(s, f, b"incr counter 1").rstrip().isdigit():
                raise Exception("incr counter failed")
        barrier.wait()
        if c == 0:
            header, data = request(s, f, b"get counter"), f.readline()
            if not header.startswith(b"VALUE counter ") or f.readline() != b"END\r\n" \
                    or data != b"%d\r\n" % (CLIENTS * INCRS):
                raise Exception(f"counter is {header!r} {data!r}, expected {CLIENTS * INCRS}")
        s.sendall(b"quit\r\n")
        s.close()
    except Exception as e:
        errors.append(f"client {c}: {e}")
        barrier.abort()   # the others stop waiting instead of timing out

threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    sys.exit("memcached client: " + "; ".join(sorted(errors)))
print(f"{CLIENTS} clients: {CLIENTS * KEYS} sets, {CLIENTS * KEYS} gets checked, "
      f"counter {CLIENTS * INCRS}")
EOF

# ---- running steps ----

# DIR is the current run's directory; PRELOAD is empty for the native run,
# else the env prefix that loads lockrace.
DIR=
PRELOAD=()

# run_cmd NAME IN OUT CMD...: CMD reads IN, writes OUT, and its stderr goes to
# DIR/NAME.err; "NAME STATUS" is added to DIR/status. timeout runs natively.
run_cmd() {
    local name=$1 in=$2 out=$3 rc=0
    shift 3
    timeout -k 5 "$STEP_TIMEOUT" "$@" <"$in" >"$out" 2>"$DIR/$name.err" || rc=$?
    echo "$name $rc" >>"$DIR/status"
}
# step: CMD is the program under test (under lockrace in the lockrace run).
step() { run_cmd "$1" "$2" "$3" "${PRELOAD[@]}" "${@:4}"; }
# helper: CMD only drives the test (a client): always native.
helper() { run_cmd "$@"; }

# ---- the programs: each writes everything it produces into DIR ----

prog_pigz() {
    step compress "$DATA" "$DIR/data.gz" pigz -p 2 -c
    step decompress "$DIR/data.gz" "$DIR/data" pigz -p 2 -d -c
}

prog_xz() {
    # Blocks of 2 MiB: xz -T2 splits the input into blocks, one per thread
    # (with its default block size the file would be one block, one thread).
    # -1 keeps it fast: the default -6 takes 8 s on this file with 2 cores.
    step compress "$DATA" "$DIR/data.xz" xz -T2 -1 --block-size=2MiB -c
    step decompress "$DIR/data.xz" "$DIR/data" xz -T2 -d -c
}

prog_zstd() {
    step compress "$DATA" "$DIR/data.zst" zstd -T2 -q -c
    step decompress "$DIR/data.zst" "$DIR/data" zstd -T2 -q -d -c
}

prog_sort() {
    # sort's temporary files go outside DIR, which must hold only results.
    mkdir -p "$DIR.sorttmp"
    step sort "$LINES" "$DIR/sorted" sort --parallel=2 -S 10M -T "$DIR.sorttmp"
}

prog_python() {
    step workload /dev/null "$DIR/out" python3 "$HERE/threads_workload.py"
}

# Debian's own interpreter with a hot field of its runtime state watched
# (--watch on a binary nobody here built): about 1,250 of its instructions
# are rewritten, and it must run as natively, with no report.
DEBIAN_PYTHON=/usr/bin/python3.11
PYTHON_WATCH=_PyRuntime+576:8
prog_python_watched() {
    step workload /dev/null "$DIR/out" "$DEBIAN_PYTHON" "$HERE/threads_workload.py"
}

prog_memcached() {
    local port user=()
    # A port free now; nothing else on the machine is expected to take it
    # in the few milliseconds before memcached binds it.
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # memcached refuses to run as root without -u.
    [ "$(id -u)" -ne 0 ] || user=(-u root)
    # env execs memcached, so $! is memcached itself.
    "${PRELOAD[@]}" memcached -t 4 -p "$port" -l 127.0.0.1 "${user[@]}" \
        </dev/null >"$DIR/memcached.out" 2>"$DIR/memcached.err" &
    MEMCACHED_PID=$!
    helper client /dev/null "$DIR/client.out" python3 "$CLIENT" "$port"
    # memcached ends on SIGTERM within about a second (it looks at the flag
    # on its clock tick): its wall time includes that. One still running
    # after 10 s is killed and recorded as such, which check() fails.
    kill -TERM "$MEMCACHED_PID" 2>/dev/null
    local waited=0 rc=0
    while kill -0 "$MEMCACHED_PID" 2>/dev/null && [ "$waited" -lt 100 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 "$MEMCACHED_PID" 2>/dev/null; then
        kill -KILL "$MEMCACHED_PID"
        wait "$MEMCACHED_PID" 2>/dev/null
        echo "memcached-after-sigterm still-running-after-10s" >>"$DIR/status"
    else
        wait "$MEMCACHED_PID" || rc=$?
        echo "memcached-after-sigterm $rc" >>"$DIR/status"
    fi
    MEMCACHED_PID=
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
    # Only memcached's status after SIGTERM may be anything (the lockrace
    # run's must be the same).
    while read -r s rc; do
        [ "$rc" = 0 ] || [ "$s" = memcached-after-sigterm ] ||
            failures+=("native run: $s exited with status $rc")
    done <"$nat/status"
    if [ -e "$nat/data" ] && ! cmp -s "$DATA" "$nat/data"; then
        failures+=("native run: the decompressed file differs from the input")
    fi
    grep -q ' 124$' "$nat/status" "$lr/status" &&
        failures+=("a step was still running after $STEP_TIMEOUT s and was killed (status 124)")
    grep -q ' still-running-after-10s$' "$nat/status" "$lr/status" &&
        failures+=("memcached was still running 10 s after SIGTERM and was killed")
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
    [ ! -s "$lr/reports.json" ] ||
        failures+=("lockrace reported: $(wc -l <"$lr/reports.json") report(s) in its JSON file; the text is below")
}

# show_failure NAME: what is wrong, then everything both runs wrote on
# stderr (lockrace's report text is there); the JSON reports only if no
# report text was found there.
show_failure() {
    local f f_name mode
    echo "FAIL $1:"
    for f in "${failures[@]}"; do
        echo "  - $f"
    done
    for mode in lockrace native; do
        for f in "$TMP/$1/$mode"/*.err; do
            [ -s "$f" ] || continue
            f_name=${f##*/}
            echo "  stderr of step ${f_name%.err} ($mode run):"
            sed 's/^/    /' "$f"
        done
    done
    if [ -s "$TMP/$1/lockrace/reports.json" ] &&
       ! cat "$TMP/$1/lockrace"/*.err 2>/dev/null | grep -q 'lockrace: '; then
        echo "  JSON reports (lockrace run):"
        sed 's/^/    /' "$TMP/$1/lockrace/reports.json"
    fi
}

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# ---- main ----

FAILED=0

programs=(pigz xz zstd sort python memcached)
if [ -x "$DEBIAN_PYTHON" ] && grep -q '_PyRuntime' <(nm -D "$DEBIAN_PYTHON" 2>/dev/null); then
    programs+=(python_watched)
else
    echo "skip python_watched: no $DEBIAN_PYTHON exporting _PyRuntime (Debian 12's python3.11)"
fi

for name in "${programs[@]}"; do
    declare -A took=()
    for mode in native lockrace; do
        DIR=$TMP/$name/$mode
        mkdir -p "$DIR"
        : >"$DIR/status"
        PRELOAD=()
        opts="json=$DIR/reports.json"
        [ "$name" != python_watched ] || opts+=":watch=$PYTHON_WATCH"
        [ $mode = native ] ||
            PRELOAD=(env "LD_PRELOAD=$PRELOAD_LIBS" "LOCKRACE_OPTIONS=$opts")
        start=$EPOCHREALTIME
        "prog_$name"
        took[$mode]=$(seconds "$start" "$EPOCHREALTIME")
    done
    check "$name"
    if [ ${#failures[@]} -eq 0 ]; then
        printf 'ok   %-10s native %6s s   lockrace %6s s\n' "$name" "${took[native]}" "${took[lockrace]}"
    else
        show_failure "$name"
        FAILED=1
    fi
    rm -rf "${TMP:?}/$name"   # a compressor's two runs leave about 60 MB
done
exit $FAILED
