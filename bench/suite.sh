#!/bin/sh
# suite.sh: the whole benchmark suite in one command, each part printing
# its markdown table: the lock microbenchmarks (run.sh: native, lockrace,
# ThreadSanitizer, Helgrind), the lock-heavy and thread-heavy stress
# programs (heavy.sh: native, lockrace, ThreadSanitizer), the real
# programs (programs.sh: pigz and memcached) and a Python threading
# workload (python.sh). About 40 minutes on this project's machine.
# Usage: [BUILD=build] [ROUNDS=...] bench/suite.sh
# Options of the scripts (ITERS, CPU, HG_SKIP, HELGRIND=0, PYTHON, ITEMS,
# ...) pass through the environment.
set -eu
DIR=$(cd "$(dirname "$0")" && pwd)
echo "## Lock operations (bench/run.sh)"
"$DIR/run.sh"
echo
echo "## Lock-heavy and thread-heavy programs (bench/heavy.sh)"
"$DIR/heavy.sh"
echo
echo "## Real programs (bench/programs.sh)"
"$DIR/programs.sh"
echo
echo "## Python threading (bench/python.sh)"
"$DIR/python.sh"
