#!/usr/bin/env python3
"""Stress tests: each program runs natively, then under lockrace, at a scale
that takes a few seconds in CI; stdout (scale and checksum) and exit status
must be the native ones, nothing may be reported (but the planted inversion,
exactly), and lockrace's peak RSS over native's must stay under a bound that
does not grow with the scale.

    stress.py BUILD_DIR SCENARIO     run one scenario (CTest: stress.SCENARIO)
    stress.py BUILD_DIR --list       list them

LOCKRACE_STRESS=full runs the issue's scale (10^6 operations, 10^6 locks,
10^4 threads, ...); LOCKRACE_STRESS=N (a number) runs N times that.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from check import BUILD, SANITIZED, Failure, check_frames, expect, run  # noqa: E402  (check.py reads argv[1] too)

SOURCE_DIR = os.path.dirname(os.path.abspath(__file__))
MIB = 1024


def scale():
    """None for the CI scale, else the multiple of the full scale."""
    v = os.environ.get("LOCKRACE_STRESS", "")
    if v in ("", "ci"):
        return None
    if v == "full":
        return 1.0
    try:
        return float(v)
    except ValueError:
        raise SystemExit(f"LOCKRACE_STRESS={v}: expected full, ci or a number (times the full scale)")


def n(full, ci):
    """An argument: `ci` in CI, `full` times the multiple otherwise."""
    s = scale()
    return str(ci if s is None else max(1, int(full * s)))


# name: (program, arguments, extra peak RSS allowed under lockrace in KiB).
# The bounds hold at any scale: what lockrace keeps must not grow with it,
# but for about 1.5 KiB per thread that ended (its info, which reports
# name, and its clock): 15 MiB for 10^4 threads.
SCENARIOS = {
    "ordered": lambda: ("ordered", [n(10**6, 200000), "64", "clean"], 256 * MIB),
    "planted": lambda: ("ordered", [n(10**6, 200000), "64", "plant"], 256 * MIB),
    "churn": lambda: ("churn", [n(10**6, 10**6), "4"], 32 * MIB),
    "held": lambda: ("held", ["1000", n(10, 10), "2"], 128 * MIB),
    # one thread holding 4,096 locks: edges must be linear in the number
    # held (an edge from every held lock took 1.5 GB and 26 s here; now
    # about 50 MB and 0.7 s)
    "held_deep": lambda: ("held", ["4096", "1", "1"], 64 * MIB),
    # 10^4 short threads: each new thread learns its contexts anew (unwinds),
    # so CI gives them 2 operations each
    "threads": lambda: ("threads", [n(10**4, 10**4), "64", n(200, 2)], 64 * MIB),
    # threads that each meet a few hundred contexts (their tables grow)
    "thread_states": lambda: ("threads", [n(10**4, 1000), "16", "150"], 32 * MIB),
    "recursion": lambda: ("recursion", [n(10**5, 10**5), "4", n(10, 10)], 32 * MIB),
}


def program(name):
    return os.path.join(BUILD, "tests", "stress", name)


def timeout():
    return 120 * max(1.0, scale() or 1.0)


def peak_rss(stderr, name):
    m = re.search(rf"^{name}: peak RSS (\d+) KiB$", stderr, re.M)
    expect(m, f"{name}: no peak RSS line on stderr: {stderr[-1000:]!r}")
    return int(m.group(1))


def native(name, args):
    start = time.monotonic()
    p = subprocess.run([program(name), *args], capture_output=True, text=True, timeout=timeout())
    return p.returncode, p.stdout, p.stderr, time.monotonic() - start


def under_lockrace(name, args, launcher=False):
    start = time.monotonic()
    status, out, err, reports = run(program(name), args, launcher=launcher, timeout=timeout())
    elapsed = time.monotonic() - start
    expect(status is not None, f"{name} {' '.join(args)}: still running after {timeout():.0f} s "
                               f"under lockrace: {err[-2000:]}")
    expect(status >= 0, f"{name} {' '.join(args)}: killed by signal {-status}: {err[-2000:]}")
    return status, out, err, reports, elapsed


def compare(scenario, launcher=False):
    """Runs the scenario both ways; returns the lockrace run's (status,
    stderr, reports) once stdout and memory are checked."""
    name, args, rss_bound = SCENARIOS[scenario]()
    nstatus, nout, nerr, ntime = native(name, args)
    expect(nstatus == 0, f"{name}: native exit status {nstatus}: {nerr[-1000:]}")
    status, out, err, reports, ltime = under_lockrace(name, args, launcher)
    expect(out == nout, f"{name}: output differs from the native run:\n{out}---\n{nout}")
    nrss, lrss = peak_rss(nerr, name), peak_rss(err, name)
    print(f"{scenario}: {' '.join([name, *args])}\n  {out.strip()}\n"
          f"  native {ntime:.2f} s, {nrss} KiB; lockrace {ltime:.2f} s, {lrss} KiB")
    # Not in a sanitized build: ASan's malloc serves the program there, and
    # its quarantine of freed blocks (256 MiB) is not lockrace's memory.
    expect(SANITIZED or lrss - nrss <= rss_bound, f"{name}: peak RSS {lrss} KiB under lockrace, native {nrss} KiB: "
                                     f"more than {rss_bound // MIB} MiB over")
    return status, err, reports


def expect_clean(scenario, launcher=False):
    status, err, reports = compare(scenario, launcher)
    expect(reports == [], f"{scenario}: {len(reports)} reports: {[r['summary'] for r in reports][:10]}")
    expect(status == 0, f"{scenario}: exit status {status}: {err[-1000:]}")
    expect("lockrace" not in err, f"{scenario}: lockrace wrote to stderr: {err[:1000]}")


def source_line(source, marker):
    with open(os.path.join(SOURCE_DIR, source)) as f:
        for i, line in enumerate(f, 1):
            if marker in line:
                return i
    raise Failure(f"no line with {marker!r} in {source}")


# ---- scenarios ----

def case_ordered():
    expect_clean("ordered")


def case_planted():
    """Through the launcher: exactly one report, the planted cycle."""
    status, err, reports = compare("planted", launcher=True)
    expect(len(reports) == 1, f"{len(reports)} reports, expected 1: {[r['summary'] for r in reports][:10]}")
    r = reports[0]
    expect(r["kind"] == "lock-order-inversion" and r["certainty"] == "can-deadlock", f"kind {r['kind']}")
    names = [lock.get("name") for lock in r["locks"]]
    expect(sorted(names) == ["locks[100]", "locks[101]"], f"cycle of {names}")
    expect(not r["single_thread"], "single_thread")
    want = {"planter-fwd": ("plant: forward, first", "plant: forward, second"),
            "planter-rev": ("plant: reverse, first", "plant: reverse, second")}
    got = {}
    for e in r["edges"]:
        thread = e["thread"]["name"]
        expect(thread in want, f"edge made by {thread}, expected a planter")
        check_frames(e["first_stack"], "tests/stress/ordered.c", f"{thread} first_stack")
        check_frames(e["second_stack"], "tests/stress/ordered.c", f"{thread} second_stack")
        got[thread] = (e["first_stack"][0]["line"], e["second_stack"][0]["line"])
        lines = tuple(source_line("ordered.c", m) for m in want[thread])
        expect(got[thread] == lines, f"{thread}: lines {got[thread]}, expected {lines}")
        expect(names[e["from"]] == ("locks[100]" if thread == "planter-fwd" else "locks[101]"),
               f"{thread}'s edge starts at {names[e['from']]}")
    expect(sorted(got) == sorted(want), f"edges by {sorted(got)}")
    expect(status == 66, f"exit status {status}, expected 66")
    expect(re.search(r"tests/stress/ordered\.c:\d+", err), f"no text report on stderr: {err[-1000:]}")


def case_churn():
    expect_clean("churn")


def case_held():
    expect_clean("held")


def case_held_deep():
    expect_clean("held_deep")


def case_threads():
    expect_clean("threads")


def case_thread_states():
    expect_clean("thread_states")


def case_recursion():
    expect_clean("recursion")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    if sys.argv[2] == "--list":
        print("\n".join(CASES))
        sys.exit(0)
    try:
        CASES[sys.argv[2]]()
    except Failure as e:
        print(f"FAIL {sys.argv[2]}: {e}")
        sys.exit(1)
    print(f"ok {sys.argv[2]}")
