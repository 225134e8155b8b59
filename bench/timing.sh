# timing.sh: shared by the watch benchmarks (sourced, POSIX sh).

# seconds for one run of "$@", its output discarded; "fail" when it
# crashed (66, a report, is not a crash)
timed() {
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || [ $? -eq 66 ] || { echo fail; return; }
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f\n", b - a }'
}

# the median of the numbers on stdin, "-" for none
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'; }
