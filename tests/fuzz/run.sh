#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into BUILD_DIR (tests/fuzz is a
# CMake project of its own) and runs each for LOCKRACE_FUZZ_SECONDS (20 by
# default) from its seed corpus and its regression inputs. Fails on any
# crash, leak, undefined behaviour or broken property; the input is then
# in BUILD_DIR/artifacts. Exit status 77 (skipped) without clang and
# libFuzzer. Usage: tests/fuzz/run.sh BUILD_DIR [TARGET...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: run.sh BUILD_DIR [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(options suppress report rundir)
seconds=${LOCKRACE_FUZZ_SECONDS:-20}

if ! command -v clang >/dev/null ||
   [ ! -e "$(clang --print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-x86_64.a" ]; then
    echo "fuzz: skipped: no clang with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)"
    exit 77
fi

mkdir -p "$build"
if ! { cmake -S "$here" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE= &&
       cmake --build "$build" -j"$(nproc)"; } >"$build/build.log" 2>&1; then
    tail -30 "$build/build.log"
    exit 1
fi

mkdir -p "$build/artifacts"
status=0
for t in "${targets[@]}"; do
    # new inputs go to a scratch copy: the committed corpus stays as it is
    work="$build/corpus/$t"
    rm -rf "$work"
    mkdir -p "$work"
    dirs=("$here/corpus/$t")
    [ -d "$here/regressions/$t" ] && dirs+=("$here/regressions/$t")
    log="$build/fuzz_$t.log"
    if "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
           -artifact_prefix="$build/artifacts/$t-" -print_final_stats=1 \
           "$work" "${dirs[@]}" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz_$t: ${runs:-?} inputs in ${seconds}s, nothing found"
    else
        echo "fuzz_$t: FAILED (log: $log; input: $build/artifacts/$t-*)"
        grep -E 'check failed|ERROR|SUMMARY|runtime error' "$log" | head -20
        status=1
    fi
done
exit $status
