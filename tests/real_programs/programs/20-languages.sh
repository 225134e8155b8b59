# shellcheck shell=bash disable=SC2034,SC2154
# Interpreters and runtimes, each with its own threads and locks over
# pthreads: CPython (threading, multiprocessing), perl's ithreads, Ruby's
# threads under its VM lock, node's worker threads and libuv pool, Tcl's
# Thread package, the JVM, Erlang's schedulers. Sourced by run.sh.

W=$HERE/workloads

program python fast python3 python3 "python3: threading, queue, concurrent.futures workload"
prog_python() {
    step workload /dev/null "$DIR/out" "$PYTHON" "$W/threads_workload.py"
}

# Debian's own interpreter with a hot field of its runtime state watched
# (--watch on a binary nobody here built): about 1,250 of its instructions
# are rewritten, and it must run as natively, with no report.
program python_watched fast python3.11 python3.11 "python3.11 with --watch _PyRuntime+576:8, the same workload" \
    options=watch=_PyRuntime+576:8
prog_python_watched() {
    step workload /dev/null "$DIR/out" /usr/bin/python3.11 "$W/threads_workload.py"
}

program python_mp fast python3 python3 "python3 multiprocessing: fork, forkserver and spawn pools, a Manager, a Thread pool" \
    via=launcher
prog_python_mp() {
    step workload /dev/null "$DIR/out" "$PYTHON" "$W/multiprocessing_workload.py" pools
}

program python_mp_queue fast python3 python3 "python3 multiprocessing: a Queue filled by 4 forked processes (a thread each)"
prog_python_mp_queue() {
    step workload /dev/null "$DIR/out" "$PYTHON" "$W/multiprocessing_workload.py" queue
}

program perl fast perl perl "perl ithreads: threads::shared, Thread::Queue, cond_wait, Thread::Semaphore"
prog_perl() {
    step workload /dev/null "$DIR/out" perl "$W/threads.pl"
}

program ruby fast ruby ruby "ruby: Thread, Mutex, ConditionVariable, SizedQueue"
prog_ruby() {
    step workload /dev/null "$DIR/out" ruby "$W/threads.rb"
}

program node fast nodejs node "node: worker_threads and Atomics, libuv's pool (pbkdf2, zlib, fs)"
prog_node() {
    step workload /dev/null "$DIR/out" node "$W/threads.js"
}

program tcl fast tcl-thread,tcl tclsh "tclsh: Thread package, tpool, tsv, thread::mutex and thread::cond"
prog_tcl() {
    step workload "$W/threads.tcl" "$DIR/out" tclsh
}

program java_version full openjdk-17-jdk-headless java "java -version (the JVM starts its compiler and GC threads)"
prog_java_version() {
    step version /dev/null "$DIR/out" java -Xshare:auto -version
}

program java_threads full openjdk-17-jdk-headless java "java Threads.java: compiled in the JVM, synchronized, ReentrantLock, executors"
prog_java_threads() {
    step workload /dev/null "$DIR/out" java "$W/Threads.java"
}

program erlang full erlang-base erl "erl +S 2: 1,000 processes, messages, an ETS table with write_concurrency"
prog_erlang() {
    # -noinput, -eval ... then halt: the schedulers, the async threads and
    # the dirty schedulers all start and stop.
    step workload /dev/null "$DIR/out" erl -noinput +S 2:2 +A 4 -eval '
        T = ets:new(t, [public, set, {write_concurrency, true}, {read_concurrency, true}]),
        Self = self(),
        Pids = [spawn(fun() ->
                          [ets:update_counter(T, K rem 16, 1, {K rem 16, 0}) || K <- lists:seq(1, 200)],
                          Self ! {done, N}
                      end) || N <- lists:seq(1, 1000)],
        Done = lists:sum([receive {done, N} -> N after 30000 -> exit(timeout) end || N <- lists:seq(1, length(Pids))]),
        Counts = lists:sum([C || {_, C} <- ets:tab2list(T)]),
        io:format("processes: ~p, sum ~p, counter updates ~p~n", [length(Pids), Done, Counts]),
        halt(0).'
}
