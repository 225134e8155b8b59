# shellcheck shell=bash disable=SC2016,SC2034,SC2154
# Build tools on a small threaded C project (project/): make and ninja
# running compilers in parallel, cmake and ctest (also through the
# launcher), gcc's link-time optimisation with parallel partitions, g++,
# three linkers with threads (gold, lld, mold), and gdb debugging the result.
# Parallel tools print lines in the order jobs end: those are compared sorted.
# Sourced by run.sh.

P=$HERE/project

# project: a copy of the project in WORK/proj
project() { cp -r "$P" proj; }

# sorted_step NAME IN OUT CMD...: a step whose output lines may come in any
# order: OUT holds them sorted, without the "[3/4] " or "3/4 " that number
# them in the order they came.
sorted_step() {
    step "$1" "$2" "$WORK/$1.unsorted" "${@:4}"
    sed -E 's|^\[?[0-9]+/[0-9]+\]? +||' "$WORK/$1.unsorted" | sort >"$3"
}

program make fast make,gcc make,gcc "make -j2: compile and link the project, then run it"
prog_make() {
    project
    sorted_step make /dev/null "$DIR/make.out" make -j2 -C proj CC=gcc CFLAGS=-O2 --no-print-directory
    step run /dev/null "$DIR/run.out" proj/pool 4 20000
}

program ninja fast ninja-build,gcc ninja,gcc "ninja -j2: the same build"
prog_ninja() {
    project
    sorted_step ninja /dev/null "$DIR/ninja.out" ninja -j2 -C proj
    step run /dev/null "$DIR/run.out" proj/pool 4 20000
}

program cmake fast cmake,ninja-build,gcc cmake,ninja,gcc "cmake: configure (compiler checks) and build with Ninja"
prog_cmake() {
    project
    step configure /dev/null "$DIR/configure.out" cmake -S proj -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
    sorted_step build /dev/null "$DIR/build.out" cmake --build build -j2
}

# ctest's timings are taken out of its output.
program ctest fast cmake,ninja-build,gcc ctest,cmake "lockrace -- ctest -j2: the README's CI recipe, on the project's 4 tests" \
    via=launcher
prog_ctest() {
    project
    helper configure /dev/null "$WORK/configure.out" cmake -S proj -B build -G Ninja
    helper build /dev/null "$WORK/build.out" cmake --build build
    sorted_step ctest /dev/null "$WORK/ctest.out" ctest --test-dir build -j2
    sed -E 's/[0-9]+\.[0-9]+ sec/N sec/' "$WORK/ctest.out" >"$DIR/ctest.out"
}

program gcc_lto fast gcc,make gcc,make "gcc -O2 -flto=auto -flto-partition=max: link-time jobs run by make"
prog_gcc_lto() {
    project
    step lto /dev/null "$DIR/lto.out" gcc -O2 -flto=auto -flto-partition=max -o pool proj/main.c proj/mix.c proj/pool.c -pthread
    step run /dev/null "$DIR/run.out" ./pool 4 20000
}

program gxx full g++ g++ "g++ -O2 on std::thread, mutex, shared_mutex, condition_variable, async; then run"
prog_gxx() {
    step compile /dev/null "$DIR/compile.out" g++ -O2 -o threads "$HERE/workloads/threads.cpp" -pthread
    step run /dev/null "$DIR/run.out" ./threads
}

# The linkers: the project's objects, compiled natively once per run.
objects() {
    project
    (cd proj && gcc -O2 -c main.c mix.c pool.c)
}

program gold fast binutils,gcc ld.gold,gcc "ld.gold --threads --thread-count 2 links the project"
prog_gold() {
    objects
    step link /dev/null "$DIR/link.out" gcc -fuse-ld=gold -Wl,--threads,--thread-count,2 -o pool proj/main.o proj/mix.o proj/pool.o -pthread
    step run /dev/null "$DIR/run.out" ./pool 4 20000
}

program lld fast lld,gcc ld.lld,gcc "ld.lld --threads=2 links the project"
prog_lld() {
    objects
    step link /dev/null "$DIR/link.out" gcc -fuse-ld=lld -Wl,--threads=2 -o pool proj/main.o proj/mix.o proj/pool.o -pthread
    step run /dev/null "$DIR/run.out" ./pool 4 20000
}

program mold fast mold,gcc mold,gcc "mold --thread-count=2 links the project (TBB's threads)" \
    asan=no
prog_mold() {
    objects
    step link /dev/null "$DIR/link.out" gcc -fuse-ld=mold -Wl,--thread-count=2 -o pool proj/main.o proj/mix.o proj/pool.o -pthread
    step run /dev/null "$DIR/run.out" ./pool 4 20000
}

# gdb runs the project's program to a breakpoint in the worker thread that
# takes item 0, shows its stack, runs it to the end; gdb's own threads
# index the symbols.
program gdb fast gdb,gcc gdb,gcc "gdb -batch: conditional breakpoint in a worker thread, backtrace, run to the end" \
    asan=no
prog_gdb() {
    project
    helper compile /dev/null "$WORK/compile.out" gcc -g -O0 -o pool proj/main.c proj/mix.c proj/pool.c -pthread
    # Thread numbers and LWPs change from run to run: only what does not
    # is kept (the breakpoint, the frames, the exit code).
    step gdb /dev/null "$WORK/gdb.out" gdb -nx -batch \
        -ex 'set pagination off' -ex 'set print thread-events off' -ex 'set debuginfod enabled off' \
        -ex 'break mix if x == 0' -ex run -ex 'bt 2' -ex 'delete' -ex continue -ex 'print $_exitcode' \
        --args ./pool 2 1000
    grep -E '^(Breakpoint|#[0-9]|\$1|[0-9]+ items)' "$WORK/gdb.out" |
        sed -E 's/0x[0-9a-f]+/ADDR/g; s/Thread [0-9a-fx]+ \(LWP [0-9]+\)/THREAD/; s/^(#[0-9]+ +)ADDR in /\1/' >"$DIR/gdb.out"
}
