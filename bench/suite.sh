#!/bin/sh
# suite.sh: the whole benchmark suite of issue 8 in one command: the lock
# microbenchmarks (run.sh: native, lockrace, ThreadSanitizer, Helgrind) and
# the real programs (programs.sh: pigz and memcached), each printing its
# markdown table. About 15 minutes on this project's machine.
# Usage: [BUILD=build] [ROUNDS=...] bench/suite.sh
# Options of the two scripts (ITERS, CPU, HG_SKIP, HELGRIND=0, ...) pass
# through the environment.
set -eu
DIR=$(cd "$(dirname "$0")" && pwd)
echo "## Lock operations (bench/run.sh)"
"$DIR/run.sh"
echo
echo "## Real programs (bench/programs.sh)"
"$DIR/programs.sh"
