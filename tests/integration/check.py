#!/usr/bin/env python3
"""Integration tests: run real programs under lockrace (LD_PRELOAD and the
launcher) and check the JSON reports, the text on stderr and the exit status.

    check.py BUILD_DIR CASE      run one case (CTest runs each as a test)
    check.py BUILD_DIR --list    list the cases
"""
import difflib
import glob
import json
import shutil
import os
import random
import re
import subprocess
import sys
import tempfile

BUILD = os.path.abspath(sys.argv[1])
LIB = os.path.join(BUILD, "liblockrace.so")
# LD_PRELOAD for this build: LIB, then the ASan runtime in a LOCKRACE_SANITIZE build
with open(os.path.join(BUILD, "ld_preload")) as f:
    PRELOAD = f.read().strip()
SANITIZED = ":" in PRELOAD
# lockrace's own code built with ASan runs about twice as slowly (lockrace
# ended deadlock_real after 0.5-1.0 s, against 0.3-0.45 s unsanitized, on a
# busy 2-core machine): the bounds on how soon it ends a hung program scale
# with it; nothing else about the run does.
TIME_SCALE = 3 if SANITIZED else 1
LAUNCHER = os.path.join(BUILD, "lockrace")
SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TIMEOUT = 60


class Failure(Exception):
    pass


class Skip(Exception):
    """The case cannot run here (a tool is missing): CTest's SKIP_RETURN_CODE."""


def expect(cond, what):
    if not cond:
        raise Failure(what)


def program(name):
    if os.path.isabs(name):
        return name
    for sub in ("demos", "tests/integration"):
        path = os.path.join(BUILD, sub, name)
        if os.path.exists(path):
            return path
    raise Failure(f"no program {name} in {BUILD}")


def run(name, args=(), options="", launcher=False, env_extra=None, launcher_args=(), timeout=TIMEOUT):
    """Runs a program under lockrace; returns (status, stdout, stderr, reports).
    A program still running after `timeout` seconds is killed: status None."""
    with tempfile.TemporaryDirectory() as tmp:
        json_path = os.path.join(tmp, "reports.json")
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        env.pop("LOCKRACE_OPTIONS", None)
        env.update(env_extra or {})
        if launcher:
            cmd = [LAUNCHER, "--json", json_path, *launcher_args, "--", program(name), *args]
            if options:
                env["LOCKRACE_OPTIONS"] = options
        else:
            cmd = [program(name), *args]
            env["LD_PRELOAD"] = (env_extra or {}).get("LD_PRELOAD", PRELOAD)
            env["LOCKRACE_OPTIONS"] = ":".join(o for o in (f"json={json_path}", options) if o)
        try:
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
            status, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            status = None
            out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            err = (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        reports = []
        if os.path.exists(json_path):
            with open(json_path) as f:
                reports = [json.loads(line) for line in f if line.strip()]
        return status, out, err, reports


def write_file(directory, name, data):
    """A file of text or bytes in directory; returns its path."""
    path = os.path.join(directory, name)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return path


def diff(expected, got):
    """The lines that differ between two outputs, as a unified diff."""
    lines = list(difflib.unified_diff(expected.splitlines(), got.splitlines(),
                                      "native", "lockrace", lineterm=""))
    return "\n".join(lines[:40] + ([f"... {len(lines) - 40} more lines"] if len(lines) > 40 else []))


def native(name, args=()):
    p = subprocess.run([program(name), *args], capture_output=True, text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout


def check_frames(stack, source, what):
    """Every stack is non-empty; its top frame is in the program's source with a line."""
    expect(stack, f"{what}: empty stack")
    for frame in stack:
        expect("pc" in frame and "module" in frame, f"{what}: frame without pc/module: {frame}")
    top = stack[0]
    expect(top.get("file", "").endswith(source) and top.get("line", 0) > 0,
           f"{what}: top frame {top} is not in {source} with a line")
    expect(not any(f.get("function") in ("start_thread", "_start", "__libc_start_call_main")
                   for f in stack), f"{what}: entry frames not trimmed: {stack}")


def check_inversion(report, names, source, single_thread=False):
    expect(report["kind"] == "lock-order-inversion", f"kind is {report['kind']}")
    expect(report["certainty"] == "can-deadlock", "certainty")
    locks = report["locks"]
    expect(len(locks) == len(names), f"cycle of {len(locks)} locks, expected {len(names)}")
    got = [l.get("name") for l in locks]
    expect(sorted(got) == sorted(names), f"locks {got}, expected {names}")
    # cycle order: names must follow one of the rotations given
    i = got.index(names[0])
    expect(got[i:] + got[:i] == list(names), f"cycle order {got}, expected a rotation of {names}")
    expect(report["single_thread"] == single_thread, f"single_thread is {report['single_thread']}")
    edges = report["edges"]
    short = len({e["thread"]["id"] for e in edges}) < len(edges)
    expect(report.get("threads_short") == short, f"threads_short is {report.get('threads_short')}")
    expect(len(edges) == len(locks), "one edge per lock")
    for k, e in enumerate(edges):
        expect(e["from"] == k and e["to"] == (k + 1) % len(locks), f"edge {k} indexes")
        expect("id" in e["thread"] and "name" in e["thread"], f"edge {k} thread {e['thread']}")
        check_frames(e["first_stack"], source, f"edge {k} first_stack")
        check_frames(e["second_stack"], source, f"edge {k} second_stack")
    threads = {e["thread"]["id"] for e in edges}
    expect((len(threads) == 1) == single_thread, f"threads {threads}")


def expect_clean(name, args=(), launcher=False):
    status, out, err, reports = run(name, args, launcher=launcher)
    nstatus, nout = native(name, args)
    expect(reports == [], f"{name}: unexpected reports: {[r['summary'] for r in reports]}")
    expect(status == 0 and nstatus == 0, f"{name}: exit status {status} (native {nstatus})")
    expect("lockrace" not in err, f"{name}: lockrace wrote to stderr: {err[:500]}")
    return out, nout


def expect_one_inversion(name, names, source, args=(), single_thread=False, launcher=False):
    status, out, err, reports = run(name, args, launcher=launcher)
    expect(len(reports) == 1, f"{name}: {len(reports)} reports, expected 1: {err[-2000:]}")
    check_inversion(reports[0], names, source, single_thread)
    expect(status == 66, f"{name}: exit status {status}, expected 66")
    expect("lock-order-inversion" in err and re.search(re.escape(source) + r":\d+", err),
           f"{name}: text report missing on stderr: {err[:1000]}")
    return reports[0], err


# ---- cases ----

def case_abba():
    r, err = expect_one_inversion("abba", ["lock_a", "lock_b"], "demos/abba.c")
    names = sorted(e["thread"]["name"] for e in r["edges"])
    expect(names == ["worker-1", "worker-2"], f"thread names {names}")
    for e in r["edges"]:
        expect(e["thread"].get("parent") == 0 and e["thread"].get("created_at"),
               f"creation of {e['thread']}")
    expect("T1 (worker-1) took lock_b while holding lock_a" in err, "text names the thread and locks")


def case_abba_launcher():
    r, err = expect_one_inversion("abba", ["lock_a", "lock_b"], "demos/abba.c", launcher=True)
    status, _, _, _ = run("abba", launcher=True, launcher_args=["--exitcode", "0"])
    expect(status == 0, f"--exitcode 0 gave {status}")


def case_philosophers():
    expect_one_inversion("philosophers", [f"forks[{i}].lock" for i in range(5)], "demos/philosophers.c")


def case_bank():
    expect_one_inversion("bank", ["accounts[0].lock", "accounts[1].lock"], "demos/bank.c")


def case_bank_ordered():
    expect_clean("bank", ["--ordered"])
    expect_clean("bank", ["--ordered"], launcher=True)


def case_clean_demos():
    for name in ("ten_threads", "hand_over_hand", "trylock_backoff"):
        out, nout = expect_clean(name)
        if name != "trylock_backoff":   # it prints how often it backed off
            expect(out == nout, f"{name}: output differs from the native run:\n{out}\n---\n{nout}")


def case_clean_programs():
    for name in ("sem_token", "exit_release", "recursive", "reinit_same_address", "reuse_other_type", "reuse_no_destroy", "signal_lock", "condvar_waits", "consistent_order",
                 "many_threads", "many_locks", "rw_contended"):
        expect_clean(name)


def case_sem_token_early():
    """A semaphore taken for a lock closes a cycle before it shows it is a
    start token (its holder still runs, and ends without posting it): no
    report; the same cycle through a semaphore its holder posts (a lock)
    is reported (sem_lock_cycle)."""
    expect_clean("sem_token", ["early"])
    expect_one_inversion("sem_lock_cycle", ["s", "m"], "sem_lock_cycle.c")


def case_new_lock_under():
    """A lock made under the cache lock and taken there for the first time
    (ghostscript's ICC link cache) cannot be waited for: no cycle through
    that first acquisition. The same order on a lock made before: one."""
    expect_clean("new_lock_under")
    expect_one_inversion("new_lock_under", ["cache_lock", "entry_lock"], "new_lock_under.c",
                         args=["existing"], single_thread=True)


def case_shared_site():
    """A call site's stack is unwound once per process and shared with the
    other threads that come the same way (a new thread that meets a known
    call site or context does no unwind). A thread that reaches the call
    site by another path, deeper in its stack, unwinds its own. Where a
    report shows a stack another thread unwound, it says whose it is; a
    thread's own stacks carry no such note."""
    r, err = expect_one_inversion("shared_site", ["lock_x", "lock_b"], "shared_site.c")
    by = {e["thread"]["name"]: e for e in r["edges"]}
    expect(set(by) == {"from-beta", "closer"}, f"edges by {set(by)}")
    functions = [f.get("function") for f in by["from-beta"]["second_stack"]]
    expect(functions[:3] == ["take_b", "beta_path", "from_beta"], f"from-beta's lock_b at {functions}")
    for e in r["edges"]:
        expect(not any(k.endswith("_unwound_in") for k in e), f"edge {e}")
    expect("as unwound in" not in err, f"a note on a thread's own stack: {err[:1500]}")

    status, out, err, reports = run("shared_site", ["deadlock"], timeout=20)
    expect(status == 66, f"deadlock: status {status}: {err[-1500:]}")
    d = deadlocks(reports)
    expect(len(d) == 1, f"{len(d)} deadlock reports")
    check_deadlock(d[0], "shared_site.c", 2)
    names = [l.get("name") for l in d[0]["locks"]]
    gamma = [t for t in d[0]["threads"] if t["thread"]["name"] == "from-gamma"]
    expect(len(gamma) == 1, f"threads {[t['thread'] for t in d[0]['threads']]}")
    holds = {names[h["lock"]]: h for h in gamma[0]["holds"]}
    expect(set(holds) == {"lock_a", "lock_b"}, f"from-gamma holds {set(holds)}")
    alpha_id = 1           # the first thread the program makes
    for name, h in holds.items():
        expect([f.get("function") for f in h["stack"]][:2] == [name == "lock_b" and "take_b" or "alpha_path",
                                                               name == "lock_b" and "alpha_path" or "from_alpha"],
               f"{name}'s stack {h['stack']}")
        expect(h.get("stack_unwound_in") == alpha_id, f"{name}'s hold says {h.get('stack_unwound_in')}")
    holder = [t for t in d[0]["threads"] if t["thread"]["name"] == "holder"][0]
    expect(not any("stack_unwound_in" in h for h in holder["holds"]), "holder's own stacks")
    expect("(as unwound in T1 (from-alpha) at the same call site" in err, f"text: {err[-2500:]}")


def case_inversion_three():
    """A cycle of three made by three threads can deadlock with them; made
    by two (one made two of its edges), it cannot with these threads alone,
    and the report says which paths must run in different threads."""
    r, err = expect_one_inversion("inversion_three", ["lock_a", "lock_b", "lock_c"], "inversion_three.c")
    expect("it deadlocks when these threads run these paths at the same time" in err, f"text {err[:800]}")
    r, err = expect_one_inversion("inversion_three", ["lock_a", "lock_b", "lock_c"], "inversion_three.c",
                                  args=["two-threads"])
    expect(r["threads_short"] and not r["single_thread"], "two threads: threads_short")
    expect("these threads run these paths at the same time" not in err, f"claims these threads: {err[:800]}")
    expect("cannot close it" in err and "in different threads" in err and "take-ab-bc" in err,
           f"two threads: text {err[:1200]}")


def case_single_thread_cycle():
    expect_one_inversion("single_thread_cycle", ["lock_a", "lock_b"], "single_thread_cycle.c",
                         single_thread=True)
    _, _, err, _ = run("single_thread_cycle")
    expect("it will once two threads run these paths at once." in err, f"two threads: {err[:2000]}")
    # a ring of 4 takes four threads, each holding one of its locks
    expect_one_inversion("single_thread_cycle", [f"ring[{i}].lock" for i in range(4)],
                         "single_thread_cycle.c", args=["ring"], single_thread=True)
    _, _, err, _ = run("single_thread_cycle", ["ring"])
    expect("it will once four threads run these paths at once, each holding one of these locks."
           in err, f"four threads: {err[:2000]}")
    status, _, _, reports = run("single_thread_cycle", options="single_thread_cycles=0")
    expect(reports == [] and status == 0, "single_thread_cycles=0 still reported")


def case_utf8_thread_name():
    """A thread name the kernel cut in the middle of a UTF-8 character is
    reported by its whole characters, in the text and the JSON."""
    r, err = expect_one_inversion("utf8_thread", ["first", "second"], "utf8_thread.c")
    names = [t.get("name", "") for t in r.get("threads", [])] + [e["thread"].get("name", "") for e in r["edges"]
                                                                  if isinstance(e.get("thread"), dict)]
    expect("w\u5de5\u4f5c\u7ebf\u7a0b" in names, f"thread names {names}")
    expect("(w\u5de5\u4f5c\u7ebf\u7a0b)" in err and "\ufffd" not in err, f"text: {err[:600]!r}")


def unsafe_for_terminal(text):
    """Bytes of text that a terminal acts on or that are not UTF-8: C0
    controls but the newline, DEL, C1 controls; [] when there are none."""
    try:
        chars = text.decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"not UTF-8 at {e.start}: {text[max(0, e.start - 20):e.start + 20]!r}"]
    return [repr(chars[max(0, i - 20):i + 20]) for i, c in enumerate(chars)
            if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]


def case_escape_names():
    """Thread and lock names, and command lines, that hold terminal control
    sequences (retitle the window, clear the screen, C1 controls) or bytes
    that are not UTF-8 are printed escaped (\\xNN) in the text reports, on
    stderr and in log_path's file, and in the launcher's summary; the JSON
    keeps them, escaped as JSON."""
    env = dict(os.environ, LD_PRELOAD=PRELOAD)
    env.pop("LOCKRACE_OPTIONS", None)
    with tempfile.TemporaryDirectory() as tmp:
        for options in ("", f"log_path={tmp}/text:json={tmp}/r.json"):
            p = subprocess.run([program("escape_names")], env=dict(env, LOCKRACE_OPTIONS=options),
                               capture_output=True, timeout=TIMEOUT)
            text = p.stderr
            if options:
                logs = [f for f in os.listdir(tmp) if f.startswith("text.")]
                expect(len(logs) == 1, f"log files {logs}")
                text = open(os.path.join(tmp, logs[0]), "rb").read()
            expect(p.returncode == 66 and b"lock-order-inversion" in text, f"{options}: status {p.returncode}, {text[-600:]!r}")
            bad = unsafe_for_terminal(text)
            expect(not bad, f"{options}: sent to the terminal as is: {bad}")
            for shown in (rb"\x1b]0;pwned\x07", rb"\x1b[2J\x1b[H", rb"csi\xc2\x9b2J\xff"):
                expect(shown in text, f"{options}: {shown!r} not shown escaped: {text[:1500]!r}")
        reports = [json.loads(l) for l in open(f"{tmp}/r.json")]
        names = {e["thread"]["name"] for e in reports[0]["edges"]}
        expect(names == {"\x1b]0;pwned\x07", "\x1b[2J\x1b[H"}, f"JSON thread names {names}")
    # the launcher's summary of a tree: the command lines
    lenv = dict(env)
    lenv.pop("LD_PRELOAD")
    p = subprocess.run([LAUNCHER, "--", "sh", "-c", '"$@"; true', "sh", program("escape_names"),
                        "two\nlines", "\033]0;argv\007", "\x9b2J", b"\xff"], env=lenv, capture_output=True,
                       timeout=TIMEOUT)
    summary = p.stderr[p.stderr.rfind(b"lockrace: 1 report from"):]
    expect(p.returncode == 66 and b"escape_names" in summary, f"launcher: {p.returncode} {p.stderr[-800:]!r}")
    bad = unsafe_for_terminal(p.stderr)
    expect(not bad, f"launcher: sent to the terminal as is: {bad}")
    expect(rb"\x1b]0;argv\x07" in summary and rb"two\nlines" in summary,
           f"launcher: the command line not shown escaped: {summary!r}")


def case_timed_and_try():
    r, err = expect_one_inversion("timed_and_try", ["x", "y"], "timed_and_try.c")
    expect(all(e["bounded"] for e in r["edges"]), f"edges not bounded: {r['edges']}")
    # a timed lock gives up at its deadline: a stall, which the text must
    # not call a deadlock (QA)
    expect("Not a hang for good" in err and "it stalls when" in err, f"text: {err[:800]}")
    expect("can deadlock" not in err and "it deadlocks when" not in err, f"text: {err[:800]}")


def case_early_constructor():
    r, _ = expect_one_inversion("early", ["early_outer", "early_inner"], "", single_thread=True)
    # the constructor's edge is in the library's source
    files = [e["second_stack"][0].get("file", "") for e in r["edges"]]
    expect(any(f.endswith("early_lib.c") for f in files), f"constructor edge not seen: {files}")


def exported_wrappers():
    """The names interpose/exports.map exports, but for the public API, the
    dynamic annotations and the sanitized build's option hooks."""
    with open(os.path.join(SOURCE, "interpose", "exports.map")) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    globals_part = text.split("global:")[1].split("local:")[0]
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", globals_part)
    return {n for n in names if not n.startswith(("lockrace_", "Annotate", "__asan", "__ubsan"))}


def case_early_all_wrappers():
    """Every exported wrapper, called from a library constructor that runs
    before lockrace's and from threads started there (early_all_lib.c),
    behaves as natively: same results, no crash, no report. Then each one
    again as the process's very first call into lockrace (EARLY_ALL_FIRST),
    the call that finds lockrace not started."""
    wrappers = exported_wrappers()
    out, nout = expect_clean("early_all")
    expect(out == nout, f"results differ from the native run:\n{diff(nout, out)}")
    ends_process = {"_exit", "_Exit"}      # called only as the first call: they end it there
    called = {line.split()[1] for line in nout.splitlines()}
    missing = wrappers - called - ends_process
    expect(not missing, f"exported but never called by early_all_lib.c: {sorted(missing)}")
    for who in ("ctor", "thread", "c11", "exiting"):
        expect(any(line.startswith(who + " ") for line in out.splitlines()), f"no calls from {who}")
    failed = []
    for name in sorted(wrappers):
        env = {"EARLY_ALL_FIRST": name}
        status, out, err, reports = run("early_all", env_extra=env)
        p = subprocess.run([program("early_all")], capture_output=True, text=True, timeout=TIMEOUT,
                           env={**os.environ, **env})
        first = next(iter(p.stdout.splitlines()), "")
        if name in ends_process:
            expect(p.returncode == 7 and not p.stdout, f"{name} first: native status {p.returncode}")
        else:
            expect(first.startswith(f"ctor {name} ") and not first.endswith(" -1000"),
                   f"early_all_lib.c has no first call for {name}: {first!r}")
        if (status, out) != (p.returncode, p.stdout) or reports:
            failed.append(f"{name} first: status {status} (native {p.returncode}), "
                          f"{len(reports)} reports\n{diff(p.stdout, out)}\n{err[-800:]}")
    expect(not failed, "\n".join(failed))


def case_locking_malloc():
    """A malloc that locks a pthread mutex, preloaded after lockrace (as
    jemalloc is for redis): resolving lockrace's real functions may call
    it, and its lock call comes back into lockrace before they are
    resolved. The program must run as natively (it overflowed the stack)."""
    lib = os.path.join(BUILD, "tests", "integration", "liblocking_malloc_lib.so")
    for name, args in (("early_all", []), ("abba", [])):
        status, out, err, reports = run(name, args, env_extra={"LD_PRELOAD": f"{PRELOAD} {lib}"})
        nstatus, nout = native(name, args)
        expect(out == nout, f"{name}: output differs from the native run:\n{diff(nout, out)}\n{err[-800:]}")
        want = 66 if name == "abba" else 0
        expect(status == want and len(reports) == want // 66, f"{name}: status {status}, {len(reports)} reports")


def case_cancel():
    """Threads cancelled while inside lockrace end where they end natively
    (cancel.c): never at a cancellation point of lockrace's own, with no
    report lost and none false."""
    for scenario, locks in (("waiter", []), ("condwait", []),
                            ("report", [["first_c", "second_d"], ["held_a", "contended_b"]])):
        status, out, err, reports = run("cancel", [scenario], timeout=20)
        nstatus, nout = native("cancel", [scenario])
        expect(status is not None, f"{scenario}: hung under lockrace")
        expect(out == nout, f"{scenario}: output differs from the native run:\n{diff(nout, out)}")
        expect(status == (66 if locks else 0), f"{scenario}: exit status {status}")
        got = sorted(sorted(l["name"] for l in r["locks"]) for r in reports)
        expect(got == sorted(sorted(l) for l in locks),
               f"{scenario}: reports on {got} ({[r['kind'] for r in reports]}), expected {locks}")
        expect(err.count("lockrace: lock-order-inversion") == len(locks),
               f"{scenario}: text reports on stderr: {err[-1500:]}")


def case_small_stack():
    """Reports written from a 16-128 KiB thread stack or alternate signal
    stack (small_stack.c): whole, and the program untouched."""
    for scenario in ("thread", "altstack"):
        for kib in ("16", "64", "128"):
            what = f"{scenario} {kib} KiB"
            status, out, err, reports = run("small_stack", [scenario, kib])
            nstatus, nout = native("small_stack", [scenario, kib])
            expect(out == nout and nstatus == 0, f"{what}: output {out!r} (native {nout!r}, {nstatus})")
            expect(status == 66, f"{what}: exit status {status}: {err[-1500:]}")
            expect(len(reports) == 1, f"{what}: {len(reports)} reports")
            check_inversion(reports[0], ["outer", "inner"],
                            "tests/integration/programs/small_stack.c", single_thread=scenario == "altstack")
            expect(re.search(r"take_inner_then_outer tests/integration/programs/small_stack\.c:\d+", err),
                   f"{what}: text report without the program's frames: {err[-1500:]}")


def case_sigalt_lock():
    """A signal handler on a 6 KiB alternate signal stack, natively enough,
    takes a mutex (sigalt_lock.c): lockrace's work there (a new context's
    stack, the rounds of a contended wait, a deadlock's, a misuse's and an
    inversion's report) must not need more of that stack than the program
    does."""
    if SANITIZED:
        raise Skip("AddressSanitizer's frames are several times larger: lockrace's own code, "
                   "built with it, does not fit a 6 KiB stack where the plain build does")
    for attempt in range(3):
        for mode in ("contended", "contended-raw"):
            status, out, err, reports = run("sigalt_lock", [mode], timeout=30)
            nstatus, nout = native("sigalt_lock", [mode])
            expect(nstatus == 0 and nout == "handled 2, neighbours intact 1\n", f"native: {nstatus} {nout!r}")
            expect(status == 0 and out == nout, f"{mode}: status {status}, output {out!r}: {err[-1500:]}")
            expect(reports == [], f"{mode}: {len(reports)} reports: {err[-1500:]}")
        status, out, err, reports = run("sigalt_lock", ["self"], timeout=30)
        expect(status == 66, f"self: status {status}, output {out!r}: {err[-1500:]}")
        d = deadlocks(reports)
        expect(len(d) == 1, f"self: {len(d)} deadlock reports: {err[-1500:]}")
        check_deadlock(d[0], "sigalt_lock.c", 1)
        expect(d[0]["threads"][0]["waits_for"]["held_by"] == d[0]["threads"][0]["thread"]["id"], "held by itself")
        expect("which it already holds" in err, f"self: text report: {err[-1500:]}")
        status, out, err, reports = run("sigalt_lock", ["reports"], timeout=30)
        nstatus, nout = native("sigalt_lock", ["reports"])
        expect(nstatus == 0 and nout == "handled 1, relock EDEADLK 1\n", f"native: {nstatus} {nout!r}")
        expect(status == 66 and out == nout, f"reports: status {status}, output {out!r}: {err[-1500:]}")
        got = sorted(r.get("misuse", r["kind"]) for r in reports)
        expect(got == ["lock-order-inversion", "relock"], f"reports: {got}: {err[-1500:]}")
        # the kernel's return into the handler's interrupted code is named,
        # not "?? (libc.so.6+0x3c04f)" (glibc's __restore_rt has no symbol
        # without its debug information)
        stacks = [[f.get("function") for f in e["second_stack"]]
                  for e in findings(reports, "lock-order-inversion")[0]["edges"]]
        expect(any(fn in ("<signal handler called>", "__restore_rt") for st in stacks for fn in st),
               f"reports: no signal frame in the handler's edge: {stacks}")
        check_inversion(findings(reports, "lock-order-inversion")[0], ["outer", "inner"],
                        "tests/integration/programs/sigalt_lock.c", single_thread=True)


def case_rwlock_inversion():
    r, err = expect_one_inversion("rwlock_inversion", ["table_lock", "index_lock"], "demos/rwlock_inversion.c")
    expect(all(l["kind"] == "rwlock" for l in r["locks"]), "lock kinds")
    for e in r["edges"]:
        expect(e["first_mode"] == "read" and e["second_mode"] == "write", f"modes {e}")
    names = sorted(e["thread"]["name"] for e in r["edges"])
    expect(names == ["compactor", "indexer"], f"threads {names} (the reader-only thread must not appear)")
    expect("for writing while holding" in err, "text shows the modes")


def case_spin_inversion():
    r, _ = expect_one_inversion("spin_inversion", ["spin_a", "spin_b"], "spin_inversion.c")
    expect(all(l["kind"] == "spinlock" for l in r["locks"]), "lock kinds")


def case_c11():
    r, _ = expect_one_inversion("c11_inversion", ["mtx_a", "mtx_b"], "c11_inversion.c")
    for e in r["edges"]:
        expect(e["thread"].get("created_at"), f"thrd_create not seen: {e['thread']}")
    status, out, _, _ = run("c11_inversion", options="exitcode=0")
    expect(status == 0 and "results 7 8" in out, f"thrd_join results: {out!r}")


def case_inlined():
    r, err = expect_one_inversion("inlined", ["lock_x", "lock_y"], "inlined.c")
    for e in r["edges"]:
        top, caller = e["second_stack"][0], e["second_stack"][1]
        expect(top.get("function") == "lock_pair" and top.get("inlined"), f"top frame {top}")
        expect(caller.get("function") in ("forward", "backward") and caller["pc"] == top["pc"]
               and caller["line"] != top["line"], f"caller frame {caller}")
    expect("[inlined]" in err, "text does not mark inlined frames")


def case_fork():
    status, out, err, reports = run("fork_child")
    expect(status == 0, f"fork_child: status {status}: {out} {err[-1500:]}")
    pids = {r["pid"] for r in reports}
    expect(len(reports) == 40 and len(pids) == 40, f"{len(reports)} reports from {len(pids)} processes")
    for r in reports:
        check_inversion(r, ["a", "b"], "fork_child.c")


def deadlocks(reports):
    return [r for r in reports if r["kind"] == "deadlock"]


def check_deadlock(report, source, nthreads, kind="lock"):
    expect(report["certainty"] == "deadlocked", "certainty")
    threads = report["threads"]
    expect(len(threads) == nthreads, f"{len(threads)} threads in the deadlock, expected {nthreads}")
    ids = [t["thread"]["id"] for t in threads]
    for i, t in enumerate(threads):
        w = t["waits_for"]
        expect(w["kind"] == kind, f"waits_for {w}")
        nxt = ids[(i + 1) % len(ids)]
        if kind == "lock":
            expect(w["held_by"] == nxt, f"thread {ids[i]} waits for a lock held by {w['held_by']}, not {nxt}")
            expect(0 <= w["lock"] < len(report["locks"]), "lock index")
            expect(t["holds"], f"thread {ids[i]} holds nothing")
            for h in t["holds"]:
                check_frames(h["stack"], source, "hold stack")
        else:
            expect(w["thread"] == nxt, f"join target {w}")
        check_frames(t["stack"], source, "wait stack")


def case_deadlock_real():
    import time
    start = time.monotonic()
    status, out, err, reports = run("deadlock_real", launcher=True, timeout=20)
    took = time.monotonic() - start
    expect(status == 66, f"status {status}: {err[-1500:]}")
    # about 0.4 s on an idle machine; 2 s leaves room for a loaded CI host
    # and still tells a prompt end from a hang that a timeout ended
    expect(took < 2.0 * TIME_SCALE, f"took {took:.2f} s to end a deadlocked process")
    d = deadlocks(reports)
    expect(len(d) == 1, f"{len(d)} deadlock reports")
    check_deadlock(d[0], "demos/deadlock_real.c", 2)
    names = {l.get("name") for l in d[0]["locks"]}
    expect(names == {"ledger_lock", "audit_lock"}, f"locks {names}")
    expect(d[0]["policy"] == "abort", "policy")
    expect("deadlock: 2 threads are blocked" in err and "deadlock=abort" in err, "text report")
    # the inversion is written before the threads block: it says how it was
    # found, and claims nothing about whether they block after it
    expect("lock-order-inversion" in err and "Nothing was blocked" not in err,
           f"the inversion's text claims what it cannot know: {err[:1500]}")
    print(f"deadlock_real ended after {took:.3f} s")


def case_deadlock_policies():
    status, _, err, reports = run("deadlock_real", options="deadlock=report", timeout=3)
    expect(status is None, f"deadlock=report: the process ended ({status})")
    d = deadlocks(reports)
    expect(len(d) == 1 and d[0]["policy"] == "report", f"deadlock=report: {len(d)} reports")
    status, _, _, reports = run("deadlock_real", options="deadlock=off", timeout=2)
    expect(status is None and not deadlocks(reports), "deadlock=off still watched")
    status, _, _, reports = run("deadlock_real", options="exitcode=0", timeout=20)
    expect(status == 1 and deadlocks(reports), f"exitcode=0: a deadlock ends with 1, got {status}")


def case_join_cycle():
    status, _, err, reports = run("join_cycle", timeout=20)
    expect(status == 66, f"status {status}: {err[-1500:]}")
    d = deadlocks(reports)
    expect(len(d) == 1, f"{len(d)} deadlock reports")
    check_deadlock(d[0], "demos/join_cycle.c", 2, kind="join")


def case_self_deadlock():
    status, _, err, reports = run("self_deadlock", timeout=20)
    expect(status == 66, f"status {status}: {err[-1500:]}")
    d = deadlocks(reports)
    expect(len(d) == 1, f"{len(d)} deadlock reports")
    check_deadlock(d[0], "self_deadlock.c", 1)
    expect(d[0]["threads"][0]["waits_for"]["held_by"] == d[0]["threads"][0]["thread"]["id"], "held by itself")
    expect("which it already holds" in err, "text report")


def case_hidden_wait():
    status, _, err, reports = run("hidden_wait", timeout=20)
    expect(status == 66, f"status {status}: {err[-1500:]}")
    d = deadlocks(reports)
    expect(len(d) == 1 and len(d[0]["threads"]) == 2, f"{len(d)} deadlock reports")
    waits = sorted(t["waits_for"]["kind"] for t in d[0]["threads"])
    expect(waits == ["lock", "lock"], f"waits {waits}")


def case_lost_wakeup():
    import time
    start = time.monotonic()
    status, _, err, reports = run("lost_wakeup", launcher=True, launcher_args=["--watchdog", "1"], timeout=20)
    took = time.monotonic() - start
    expect(status == 66, f"status {status}: {err[-1500:]}")
    expect(took < 3.0 * TIME_SCALE, f"took {took:.2f} s (hang_ms is 1 s)")
    d = deadlocks(reports)
    expect(len(d) == 1 and d[0]["scope"] == "process", f"{len(d)} deadlock reports")
    waits = sorted(t["waits_for"]["kind"] for t in d[0]["threads"])
    expect(waits == ["condition", "join"], f"waits {waits}")
    cond = [t for t in d[0]["threads"] if t["waits_for"]["kind"] == "condition"][0]
    expect(cond["waits_for"]["name"] == "item_ready", f"condition {cond['waits_for']}")
    expect(d[0]["locks"][cond["waits_for"]["mutex"]]["name"] == "queue_lock", "the condition's mutex")
    check_frames(cond["stack"], "demos/lost_wakeup.c", "condition wait stack")
    status, _, _, reports = run("lost_wakeup", timeout=2.5)
    expect(status is None and not reports, "without the watchdog it must hang, unreported")
    status, _, _, reports = run("lost_wakeup", launcher=True, launcher_args=["--ci"], timeout=20)
    expect(status == 66 and deadlocks(reports), "--ci turns the watchdog on")
    print(f"lost_wakeup ended after {took:.3f} s")


def case_stall():
    status, out, err, reports = run("stall", options="watchdog=1:stall_ms=500:exitcode=0", timeout=30)
    expect(status == 0 and "stall: done" in out, f"status {status}")
    stalls = [r for r in reports if r["kind"] == "stall"]
    expect(len(stalls) == 1 and len(reports) == 1, f"{len(stalls)} stalls, {len(reports)} reports")
    r = stalls[0]
    expect(r["holder"]["thread"]["name"] == "flusher", f"holder {r['holder']['thread']}")
    check_frames(r["holder"]["stack"], "stall.c", "holder stack")
    # the readers may start waiting a little apart under load: the report lists
    # every thread waiting then, and the one that set it off waited stall_ms
    expect(1 <= len(r["waiters"]) <= 2 and max(w["waited_ms"] for w in r["waiters"]) >= 500,
           f"waiters {r['waiters']}")
    expect(all(w["thread"]["name"] == "reader" for w in r["waiters"]), "waiter names")
    for w in r["waiters"]:
        check_frames(w["stack"], "stall.c", "waiter stack")
    expect(r["locks"][0]["name"] == "cache_lock", "lock name")
    status, _, _, reports = run("stall", options="watchdog=1", timeout=30)
    expect(status == 0 and reports == [], "stall_ms=0 (the default) must not report stalls")


def case_barrier_hang():
    status, _, err, reports = run("barrier_hang", options="watchdog=1", timeout=20)
    expect(status == 66, f"status {status}: {err[-1500:]}")
    d = deadlocks(reports)
    expect(len(d) == 1 and d[0]["scope"] == "process", f"{len(d)} deadlock reports")
    waits = sorted(t["waits_for"]["kind"] for t in d[0]["threads"])
    expect(waits == ["barrier", "barrier", "join"], f"waits {waits}")
    names = {t["waits_for"].get("name") for t in d[0]["threads"]}
    expect("start_line" in names, f"names {names}")


def case_watchdog_clean():
    """Programs that wait a lot, but are never all stuck, stay clean with the watchdog on."""
    for name in ("ten_threads", "condvar_waits", "contended", "hand_over_hand", "sem_signal"):
        status, out, err, reports = run(name, options="watchdog=1:hang_ms=100")
        expect(status == 0 and reports == [], f"{name}: status {status}, {len(reports)} reports")


def case_watchdog_signalfd():
    """The watchdog thread blocks every signal: a signal the program blocked
    in all its threads, to read it from a signalfd, waits for the read
    instead of killing the process through lockrace's thread."""
    nstatus, nout = native("watchdog_host", ["signalfd"])
    expect(nstatus == 0 and nout == "signalfd: read SIGUSR1\n", f"native: {nstatus} {nout!r}")
    for launcher in (False, True):
        if launcher:
            status, out, err, reports = run("watchdog_host", ["signalfd"], launcher=True,
                                            launcher_args=["--ci"], timeout=20)
        else:
            status, out, err, reports = run("watchdog_host", ["signalfd"], options="watchdog=1",
                                            timeout=20)
        expect(status == 0 and out == nout and reports == [],
               f"launcher={launcher}: status {status}, stdout {out!r}, stderr {err[-500:]!r}")


def case_watchdog_unshare():
    """The watchdog is there only while a thread waits: a program that is
    one thread again can enter a new user namespace (unshare(CLONE_NEWUSER)
    wants a single-threaded process), right away through libc and, through
    the raw system call, once the watchdog has seen nobody wait for a while;
    so can a forked child, after it had its own watchdog, and so can
    setns() into another user namespace."""
    nstatus, nout = native("watchdog_host", ["unshare"])
    if nstatus != 0 or nout != "unshare: ok\nchild unshare: ok\n":
        raise Skip(f"unshare(CLONE_NEWUSER) fails natively here: {nout!r}")
    for launcher in (False, True):
        if launcher:
            status, out, err, reports = run("watchdog_host", ["unshare"], launcher=True,
                                            launcher_args=["--ci"], timeout=20)
        else:
            status, out, err, reports = run("watchdog_host", ["unshare"], options="watchdog=1",
                                            timeout=20)
        expect(status == 0 and out == nout and reports == [],
               f"launcher={launcher}: status {status}, stdout {out!r}, stderr {err[-500:]!r}")
    status, out, err, reports = run("watchdog_host", ["unshare-raw"], options="watchdog=1", timeout=20)
    expect(status == 0 and out == "unshare: ok\n" and reports == [],
           f"raw: status {status}, stdout {out!r}, stderr {err[-500:]!r}")
    print(f"raw unshare: {err.strip()}")
    nstatus, nout = native("watchdog_host", ["setns"])
    if nout == "setns: ok\n":
        status, out, err, reports = run("watchdog_host", ["setns"], options="watchdog=1", timeout=20)
        expect(status == 0 and out == nout and reports == [],
               f"setns: status {status}, stdout {out!r}, stderr {err[-500:]!r}")


def case_thread_limit():
    """Under an address-space limit (ulimit -v), a program creates about as
    many threads under lockrace as natively: lockrace's own work at a
    thread's start must not give each thread a malloc arena (64 MiB of
    address space each). thread_limit sets the limit to its own size at
    start plus 256 MiB, so lockrace's libraries do not count."""
    if SANITIZED:
        raise Skip("ASan's allocator and shadow memory, not lockrace's, decide the count here")
    def count(out):
        m = re.match(r"threads (\d+) ", out)
        expect(m, f"thread_limit printed {out!r}")
        return int(m.group(1))
    nstatus, nout = native("thread_limit")
    status, out, err, reports = run("thread_limit", timeout=120)
    expect(nstatus == 0 and status == 0 and reports == [], f"status {status} (native {nstatus}): {err[-500:]!r}")
    n, lr = count(nout), count(out)
    print(f"threads within 256 MiB: native {n}, lockrace {lr} ({100 * lr / n:.0f}%)")
    expect(lr >= 0.9 * n, f"lockrace made {lr} threads, natively {n}: less than 90%")


def case_stack_locks():
    """Locks on a thread's stack are said to be on that thread's stack: the
    main thread's, glibc's default and small stacks, a stack the program
    allocated itself."""
    status, out, err, reports = run("stack_locks", options="exitcode=0")
    inv = findings(reports, "lock-order-inversion")
    expect(status == 0 and out == "stack_locks: done\n" and len(inv) == 4,
           f"status {status}, {len(inv)} inversions: {err[-1500:]!r}")
    for r in inv:
        expect([l["where"] for l in r["locks"]] == ["stack", "stack"], f"where: {r['locks']}")
    for name in ("T0", "T1 (default-stack)", "T2 (small-stack)", "T3 (own-stack)"):
        expect(err.count(f"is on a thread's stack, first seen in {name} at:") == 2,
               f"{name}: {err.count(name)} times in {err[-3000:]!r}")


def case_rwlock_deadlock():
    status, _, err, reports = run("rwlock_deadlock", timeout=20)
    expect(status == 66, f"status {status}: {err[-1500:]}")
    d = deadlocks(reports)
    expect(len(d) == 1, f"{len(d)} deadlock reports")
    check_deadlock(d[0], "rwlock_deadlock.c", 2)
    expect({l["name"] for l in d[0]["locks"]} == {"left_lock", "right_lock"}, "locks")


def case_spin_deadlock():
    status, _, err, reports = run("spin_deadlock", timeout=20)
    expect(status == 66, f"status {status}: {err[-1500:]}")
    d = deadlocks(reports)
    expect(len(d) == 1, f"{len(d)} deadlock reports")
    check_deadlock(d[0], "spin_deadlock.c", 2)


def case_contended():
    import time
    start = time.monotonic()
    expect_clean("contended")
    print(f"contended: 8 threads, 10^6 acquisitions: {time.monotonic() - start:.2f} s (with a native run)")


def case_options():
    for options, word in (("bogus=1", "bogus"), ("exitcode=300", "exitcode=300"),
                          ("exitcode", "exitcode"), ("single_thread_cycles=maybe", "maybe")):
        status, out, err, _ = run("abba", options=options)
        expect(status == 2 and out == "", f"{options}: status {status}, stdout {out!r}")
        lines = err.strip().splitlines()
        expect(len(lines) == 1 and word in lines[0] and lines[0].startswith("lockrace:"),
               f"{options}: error is not one line naming {word}: {err!r}")
    p = subprocess.run([LAUNCHER, "--stack-depth", "0", "--", program("abba")],
                       capture_output=True, text=True, timeout=TIMEOUT)
    expect(p.returncode == 2 and "stack_depth=0" in p.stderr, f"launcher bad value: {p.stderr!r}")
    p = subprocess.run([LAUNCHER, "--", "/nonexistent/prog"], capture_output=True, text=True)
    expect(p.returncode == 127 and "/nonexistent/prog" in p.stderr, f"missing command: {p.stderr!r}")
    p = subprocess.run([LAUNCHER, "--help"], capture_output=True, text=True)
    expect(p.returncode == 0 and "exitcode" in p.stdout and "log_path" in p.stdout, "--help")


def case_tsan_option_habits():
    """LOCKRACE_OPTIONS as a ThreadSanitizer user writes TSAN_OPTIONS: ','
    ' ' and ':' all separate settings, and a ',' or ':' inside a value
    (watch=counter,stats+8:8) stays in it; a bad setting after a ',' is
    named alone."""
    for options in ("exitcode=7,verbosity=0", "exitcode=7 verbosity=0", "exitcode=7:verbosity=0",
                    "exitcode=7, verbosity=0", "verbosity=0,exitcode=7,"):
        status, out, err, reports = run("abba", options=options)
        expect(status == 7 and len(reports) == 1, f"{options!r}: status {status}, {len(reports)} reports: {err[-300:]!r}")
        expect("lockrace: 1 report" not in err, f"{options!r}: verbosity=0 not read: {err[-300:]!r}")
    status, out, err, reports = run("abba", options="exitcode=7,bogus=1")
    lines = err.strip().splitlines()
    expect(status == 2 and len(lines) == 1 and "unknown option 'bogus'" in lines[0], f"bogus after ',': {status} {err!r}")
    # a ',' inside a value: the watch list, with the next setting after a ','
    status, out, err, reports = watched("watch_struct", ["struct"], "stats+8:8,stats+0:8,exitcode=5")
    vars_ = {r["variable"]["name"] for r in findings(reports, "lost-update")}
    expect(status == 5 and vars_ == {"stats.misses"}, f"watch list then ',exitcode=5': {status} {vars_} {err[-300:]!r}")


def case_halt_and_log_streams():
    """ThreadSanitizer's halt_on_error and abort_on_error: the process stops
    at its first report, with exitcode (1 if that is 0) or abort(); and
    log_path=stdout / stderr mean the streams, not files named stdout.PID."""
    nstatus, nout = native("stack_locks")
    expect(nstatus == 0 and nout == "stack_locks: done\n", f"native: {nstatus} {nout!r}")
    status, out, err, reports = run("stack_locks")
    expect(len(findings(reports, "lock-order-inversion")) == 4, f"{len(reports)} reports without halt_on_error")
    for options, want in (("halt_on_error=1", 66), ("halt_on_error=1,exitcode=9", 9),
                          ("halt_on_error=1:exitcode=0", 1), ("abort_on_error=1", -6),
                          ("halt_on_error=1,abort_on_error=1", -6)):
        status, out, err, reports = run("stack_locks", options=options)
        expect(status == want and len(reports) == 1 and out == "",
               f"{options}: status {status} (expected {want}), {len(reports)} reports, stdout {out!r}")
        expect(err.count("lock-order-inversion: ") == 1, f"{options}: text {err[-600:]!r}")
    # a report made as the process exits: a program that failed keeps its
    # own status, halted or not, as it does without halt_on_error
    for options in ("", "halt_on_error=1"):
        status, out, err, reports = run("misuse", ["main-exit-holding-failed"], options=options)
        expect(status == 3 and len(reports) == 1 and out == "main-exit-holding-failed\n",
               f"exit(3) holding a lock, {options or 'no options'}: status {status}, {len(reports)} reports, {out!r}")
    status, out, err, reports = run("stack_locks", launcher=True, launcher_args=["--halt-on-error", "1"])
    expect(status == 66 and len(reports) == 1 and out == "", f"launcher --halt-on-error: {status}, {len(reports)}")
    # a suppressed report does not stop it
    with tempfile.TemporaryDirectory() as tmp:
        supp = write_file(tmp, "s.supp", "deadlock:^main$\n")     # the first of the four
        status, out, err, reports = run("stack_locks", options=f"halt_on_error=1:suppressions={supp}")
        expect(status == 66 and len(reports) == 1 and out == "" and "1 suppressed" not in err,
               f"halt after a suppressed report: {status} {out!r}")
        top = reports[0]["edges"][0]["second_stack"][0]["function"] if reports else None
        expect(top == "default_stack", f"halted at the report from {top}, not the second")
        env = dict(os.environ, LD_PRELOAD=PRELOAD)
        for stream in ("stdout", "stderr"):
            p = subprocess.run([program("abba")], env=dict(env, LOCKRACE_OPTIONS=f"log_path={stream}"), cwd=tmp,
                               capture_output=True, text=True, timeout=TIMEOUT)
            shown = p.stdout if stream == "stdout" else p.stderr
            other = p.stderr if stream == "stdout" else p.stdout
            expect(p.returncode == 66 and "lock-order-inversion: lock_a -> lock_b" in shown and
                   "lockrace: 1 report" in shown and "lock-order-inversion" not in other,
                   f"log_path={stream}: status {p.returncode}, stdout {p.stdout[-300:]!r}, stderr {p.stderr[-300:]!r}")
            made = [f for f in os.listdir(tmp) if f.startswith(stream)]
            expect(made == [], f"log_path={stream} made files {made}")
            p = subprocess.run([LAUNCHER, "--log-path", stream, "--", program("abba")], cwd=tmp,
                               capture_output=True, text=True, timeout=TIMEOUT,
                               env={k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "LOCKRACE_OPTIONS")})
            shown = p.stdout if stream == "stdout" else p.stderr
            expect(p.returncode == 66 and "lock-order-inversion: lock_a -> lock_b" in shown and
                   not [f for f in os.listdir(tmp) if f.startswith(stream)],
                   f"launcher --log-path {stream}: {p.returncode} {os.listdir(tmp)}")


def case_gen_suppressions():
    """gen_suppressions=1, as Valgrind's --gen-suppressions=all: under each
    text report, a line that hides it; that line in a suppressions file
    hides exactly that report."""
    with tempfile.TemporaryDirectory() as tmp:
        for name, args, kind in (("abba", [], "lock-order-inversion"), ("handoff", ["none"], "data-race"),
                                 ("misuse", ["unlock-not-held"], "misuse"), ("self_deadlock", [], "deadlock")):
            status, out, err, reports = run(name, args, options="gen_suppressions=1", timeout=20)
            lines = re.findall(r"^  To suppress this report, a line for suppressions=FILE:\n    (.*)$", err, re.M)
            expect(len(lines) == 1 and lines[0].startswith(kind + ":"), f"{name}: suggested {lines}: {err[-800:]!r}")
            path = write_file(tmp, "gen.supp", lines[0] + "\n")
            status, out, err, reports = run(name, args, options=f"suppressions={path}", timeout=20)
            left = [r for r in reports if r["kind"] not in ("summary",)]
            # a suppressed deadlock still ends the process, with no summary
            expect(left == [] and ("suppressed)" in err or kind == "deadlock"),
                   f"{name}: {lines[0]} left {[r['summary'] for r in left]} {err[-300:]!r}")
        status, out, err, reports = run("abba")
        expect("To suppress" not in err, "suggested without gen_suppressions")
        # every lock taken through the program's own helper: the rule names
        # what tells this cycle's stacks from each other's, not the helper
        # every stack has, and hides this cycle, not the other one
        status, out, err, reports = run("abba_wrapped", options="gen_suppressions=1", timeout=20)
        lines = re.findall(r"^  To suppress this report, a line for suppressions=FILE:\n    (.*)$", err, re.M)
        expect(len(lines) == 2 and not any(l.split(":", 1)[1] in ("lock_it", "pair") for l in lines),
               f"abba_wrapped: suggested {lines}")
        path = write_file(tmp, "gen.supp", lines[0] + "\n")
        status, out, err, reports = run("abba_wrapped", options=f"suppressions={path}", timeout=20)
        left = [r for r in reports if r["kind"] == "lock-order-inversion"]
        expect(len(left) == 1 and "1 suppressed)" in err,
               f"abba_wrapped: {lines[0]} left {[r['summary'] for r in left]} {err[-300:]!r}")


def option_table():
    """(name, type) of every option, from the table lockrace prints."""
    table = subprocess.run([LAUNCHER, "--help-markdown"], capture_output=True, text=True).stdout
    return re.findall(r"^\| `(\w+)` \| (\w+)", table, re.M)


def malformed_values(kind):
    long_value = "p" * 300
    return {"bool": ["maybe", "2", "", "TRUE!"],
            "int": ["abc", "12x", "-", "+5", "0x10", "99999999999999999999", "-99999999999999999999", "1.5", ""],
            "octal": ["8", "0x1", "01000", "-1", "rw", ""],
            "choice": ["sometimes", "ABORT", ""],
            "path": [long_value]}[kind]


def case_bad_options():
    """Every option with malformed values, through LOCKRACE_OPTIONS and the
    launcher's flags: exit status 2 before the program runs, and one line
    that names the option, shows the value (control bytes escaped, long
    ones cut) and says what is accepted. Very long option strings work."""
    accepted = ("accepted", "from", "not one of", "longer than")
    table = option_table()
    expect(len(table) >= 15, f"option table: {table}")
    for name, kind in table:
        for value in malformed_values(kind) + ["\x1b[31mred\x01" if kind != "path" else "q" * 5000]:
            for launcher in (False, True):
                env = dict(os.environ, LOCKRACE_OPTIONS="")
                if launcher:
                    cmd = [LAUNCHER, f"--{name.replace('_', '-')}={value}", "--", program("abba")]
                else:
                    cmd = [program("abba")]
                    env.update(LD_PRELOAD=PRELOAD, LOCKRACE_OPTIONS=f"{name}={value}")
                p = subprocess.run(cmd, env=env, capture_output=True, timeout=TIMEOUT)
                err = p.stderr.decode(errors="replace")
                what = f"{'--' if launcher else ''}{name}={value[:60]!r}"
                expect(p.returncode == 2 and p.stdout == b"", f"{what}: status {p.returncode}, stdout {p.stdout!r}")
                lines = err.splitlines()
                expect(len(lines) == 1 and lines[0].startswith("lockrace:") and name in lines[0].replace("-", "_")
                       and any(a in lines[0] for a in accepted), f"{what}: not one line saying what is accepted: {err!r}")
                expect(len(lines[0]) < 700 and "\x1b" not in lines[0] and "\x01" not in lines[0],
                       f"{what}: the value is not shown escaped and cut: {lines[0]!r}")

    # the longest string one environment variable can carry (128 KiB)
    many = "verbosity=1:" * (131000 // 12)
    status, out, err = run_raw([program("abba")], many)
    expect(status == 66 and "lock-order-inversion" in err, f"{len(many)} bytes of options: status {status}")
    for launcher_args in ([], ["--ci", "--verbosity", "1", "--exitcode", "7"]):
        env = dict(os.environ, LOCKRACE_OPTIONS=many)
        p = subprocess.run([LAUNCHER, *launcher_args, "--", program("abba")], env=env, capture_output=True,
                           text=True, timeout=TIMEOUT)
        want = 7 if launcher_args else 66
        expect(p.returncode == want and "lock-order-inversion" in p.stderr,
               f"launcher {launcher_args} with {len(many)} bytes of options: {p.returncode} {p.stderr[-300:]!r}")
    # and about 1 MB of flags
    flags = ["--verbosity=1"] * 75000 + ["--exitcode", "9"]
    p = subprocess.run([LAUNCHER, *flags, "--", program("abba")], capture_output=True, text=True, timeout=TIMEOUT)
    expect(p.returncode == 9, f"launcher with {len(flags)} flags: {p.returncode} {p.stderr[-300:]!r}")
    garbage = "x" * 131000
    status, out, err = run_raw([program("abba")], garbage)
    expect(status == 2 and len(err.splitlines()) == 1 and "is not key=value" in err and len(err) < 300,
           f"{len(garbage)} bytes of garbage: {status} {err[:300]!r}")


def case_exitcode_and_log_path():
    status, _, _, reports = run("abba", options="exitcode=0")
    expect(status == 0 and len(reports) == 1, f"exitcode=0: status {status}")
    status, _, _, _ = run("abba", options="exitcode=3")
    expect(status == 3, f"exitcode=3: status {status}")
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "lr")
        status, _, err, _ = run("abba", options=f"log_path={prefix}")
        logs = [f for f in os.listdir(tmp) if f.startswith("lr.")]
        expect(len(logs) == 1 and re.fullmatch(r"lr\.\d+", logs[0]), f"log files {logs}")
        text = open(os.path.join(tmp, logs[0])).read()
        expect("lock-order-inversion" in text and "demos/abba.c:" in text, "log file content")
        expect("lock-order-inversion" not in err, "report went to stderr too")


def case_readme_options_table():
    """The README's options section is the table lockrace prints."""
    table = subprocess.run([LAUNCHER, "--help-markdown"], capture_output=True, text=True).stdout
    readme = open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")).read()
    expect(table.strip() in readme, "README options table differs from `lockrace --help-markdown`")


def case_exports():
    """liblockrace.so exports the wrappers (_exit and _Exit among them: the
    exit status; wait and its kin: a child's end by a signal; C++'s static
    guards), the API and
    the dynamic annotations of TSan and Helgrind, nothing else (no
    libunwind, no RunningOnValgrind: the program's own)."""
    p = subprocess.run(["nm", "-D", "--defined-only", LIB], capture_output=True, text=True)
    names = {line.split()[-1] for line in p.stdout.splitlines() if line.strip()}
    bad = {n for n in names if not re.match(r"(pthread_|lockrace_|Annotate[A-Z]|sem_(wait|timedwait|clockwait|trywait|post|init|destroy)$|mtx_|cnd_(wait|timedwait|signal|broadcast)$|thrd_(create|join)$|call_once$|_exit$|_Exit$|unshare$|setns$|chroot$|sigaction$|signal$|sigaltstack$|wait(pid|id|3|4)?$|(p?read|p?write)(64)?$|(recv|send)(from|to)?$|__cxa_guard_(acquire|release|abort)$)", n)}
    if SANITIZED:
        bad -= {"__asan_default_options", "__ubsan_default_options"}    # src/support/sanitize.c
    expect(not bad, f"unexpected exports: {sorted(bad)}")
    expect({"pthread_mutex_lock", "pthread_cond_wait", "pthread_create"} <= names, "missing wrappers")
    expect({"AnnotateRWLockAcquired", "AnnotateHappensBefore", "AnnotateBenignRaceSized"} <= names,
           "missing dynamic annotations")


# ---- the race engine ----

def race_summary(reports):
    s = [r for r in reports if r["kind"] == "summary"]
    expect(len(s) <= 1, f"{len(s)} summary records")
    return s[0] if s else None


def findings(reports, kind):
    return [r for r in reports if r["kind"] == kind]


def check_race_access(a, op, source, what):
    expect(a["op"] == op, f"{what}: op {a['op']}, expected {op}")
    expect("id" in a["thread"] and "name" in a["thread"], f"{what}: thread {a['thread']}")
    check_frames(a["stack"], source, f"{what} stack")


HANDOFFS = ("mutex", "rwlock", "spin", "c11mtx", "cond", "c11cnd", "sem", "semtry", "barrier",
            "create", "join", "annotate", "once", "c11once")


def case_handoff():
    """Every happens-before source orders a write before another thread's
    write; a flag lockrace cannot see does not."""
    for mode in HANDOFFS:
        status, out, err, reports = run("handoff", [mode])
        expect(status == 0 and reports == [], f"{mode}: status {status}, reports {reports}\n{err}")
        expect(out == native("handoff", [mode])[1], f"{mode}: output differs from native")
    status, out, err, reports = run("handoff", ["none"])
    expect(status == 66, f"none: status {status}")
    races = findings(reports, "data-race")
    expect(len(races) == 1, f"none: {len(races)} data races")
    r = races[0]
    expect(r["variable"]["name"] == "shared" and r["variable"]["size"] == 8, f"variable {r['variable']}")
    expect(r["variable"]["where"] == "global", f"where {r['variable']['where']}")
    expect(len(r["accesses"]) == 2, "two accesses")
    for i, a in enumerate(r["accesses"]):
        check_race_access(a, "write", "handoff.c", f"access {i}")
        expect(a["locks_held"] == [], f"access {i} held {a['locks_held']}")
    expect(r["accesses"][0]["thread"]["id"] != r["accesses"][1]["thread"]["id"], "two threads")
    callers = sorted(a["stack"][1]["function"] for a in r["accesses"])
    expect(callers == ["first", "second"], f"callers {callers}")
    expect("data-race on shared" in err, "text report")


def case_rwlock_readers():
    """Readers of an rwlock exclude nobody: a write made under a read lock
    races with another reader's read (the read unlock orders no later
    reader), while a writer still follows every reader and a reader every
    writer."""
    for mode in ("writer", "reader-writer", "readers"):
        status, out, err, reports = run("rwlock_readers", [mode])
        expect(status == 0 and reports == [], f"{mode}: status {status}, reports {reports}\n{err}")
    status, out, err, reports = run("rwlock_readers", ["write-under-read"])
    expect(status == 66, f"write-under-read: status {status}\n{err}")
    races = findings(reports, "data-race")
    expect(len(races) == 1, f"write-under-read: {len(races)} data races\n{err}")
    r = races[0]
    expect(r["variable"]["name"] == "hits", f"variable {r['variable']}")
    ops = [a["op"] for a in r["accesses"]]
    expect(ops == ["write", "read"], f"ops {ops}")
    names = [l.get("name") for l in r["locks"]]
    expect(names == ["table_lock"], f"locks {names}")
    for i, a in enumerate(r["accesses"]):
        check_race_access(a, ops[i], "rwlock_readers.c", f"access {i}")
        expect(a["locks_held"] == [0] and a.get("locks_held_for_reading") == [0],
               f"access {i}: held {a['locks_held']}, for reading {a.get('locks_held_for_reading')}")
    callers = [a["stack"][1]["function"] for a in r["accesses"]]
    expect(callers == ["first", "second"], f"callers {callers}")
    expect(r["common_lock"] is False, "two read holds are no common lock")
    expect("holding table_lock for reading" in err, f"text report\n{err}")


def case_counter_race_suppressed():
    """A suppressed lost update is not counted at exit either: the summary
    says nothing of the variable, and the run is clean."""
    with tempfile.TemporaryDirectory() as tmp:
        supp = write_file(tmp, "lost.supp", "lost-update:counter\n")
        status, out, err, reports = run("counter_race", options=f"suppressions={supp}")
        kinds = [r["kind"] for r in reports]
        expect(status == 0 and "lost-update" not in kinds, f"status {status}, kinds {kinds}")
        expect("lost updates observed" not in err, f"the summary counts a suppressed variable:\n{err[-1500:]}")
        for r in reports:
            if r["kind"] == "summary":
                expect(not r.get("lost_updates"), f"summary's lost updates {r.get('lost_updates')}")


def case_counter_race():
    """The classic lost update, observed with its values; the count of lost
    updates never exceeds what the program lost, and is above zero when it
    lost any."""
    for attempt in range(3):
        status, out, err, reports = run("counter_race")
        expect(status == 66, f"status {status}")
        m = re.search(r"expected (\d+), got (\d+)", out)
        expect(m, f"output {out!r}")
        lost = int(m.group(1)) - int(m.group(2))
        lu = findings(reports, "lost-update")
        expect(findings(reports, "data-race") == [], "data races reported besides the lost update")
        if lost == 0:
            continue
        expect(len(lu) >= 1, f"run {attempt}: lost {lost}, no lost-update report")
        observed = [r for r in lu if r["certainty"] == "observed"]
        # every access is made through lockrace: the count is exact
        expect_counted(reports, lost, f"run {attempt}")
        if not observed:
            continue
        r = observed[0]
        expect(r["variable"]["name"] == "counter", f"variable {r['variable']}")
        ops = [a["op"] for a in r["accesses"]]
        expect(ops == ["read", "write", "read", "write"], f"ops {ops}")
        for i, a in enumerate(r["accesses"]):
            check_race_access(a, ops[i], "counter_race.c", f"access {i}")
            expect("value" in a, f"access {i} has no value")
        lines = [a["stack"][0]["line"] for a in r["accesses"]]
        expect(lines[0] == lines[2] and lines[1] == lines[3] and lines[1] == lines[0] + 1,
               f"lines {lines}")
        # the interleaving: the victim's write falls between the overwriter's
        # read and its write, which comes last
        order = r["interleaving"]
        expect(sorted(order) == [0, 1, 2, 3] and order[-1] == 1 and order.index(3) > order.index(0)
               and order.index(2) < order.index(3), f"interleaving {order}")
        a = r["accesses"]
        expect(a[1]["value"] == a[0]["value"] + 1 and a[3]["value"] == a[2]["value"] + 1, "values")
        expect(1 <= r["lost_so_far"] <= lost, f"lost_so_far {r['lost_so_far']}")
        expect("lost-update on counter" in err and "was overwritten" in err, "text report")
        return
    raise Failure("no run showed an observed lost update")


def case_race_demos_clean():
    for name, args in (("counter_locked", ()), ("counter_atomic", ()), ("publish_flag", ()),
                       ("bank_race", ("--fixed",))):
        out, nout = expect_clean(name, args)
        expect(out == nout, f"{name}: output differs from the native run:\n{out}\n---\n{nout}")


def case_bank_race():
    """A lost update in locked code: every access holds the lock, no data
    race; the report says the lock was let go between read and write."""
    status, out, err, reports = run("bank_race")
    expect(status == 66, f"status {status}")
    expect(findings(reports, "data-race") == [], "a data race reported: every access was locked")
    lu = findings(reports, "lost-update")
    expect(len(lu) >= 1, "no lost-update report")
    r = lu[0]
    expect(r["variable"]["name"] == "account.balance", f"variable {r['variable']}")
    names = [l["name"] for l in r["locks"]]
    expect(names == ["account.lock"], f"locks {names}")
    for i, a in enumerate(r["accesses"]):
        expect(a["locks_held"] == [0], f"access {i} held {a['locks_held']}")
        check_race_access(a, "read" if i % 2 == 0 else "write", "bank_race.c", f"access {i}")
    expect(r["certainty"] in ("observed", "possible"), f"certainty {r['certainty']}")
    expect("released it in between" in err, "the text does not say the lock was released")
    m = re.search(r"deposited (\d+), balance (\d+)", out)
    lost = int(m.group(1)) - int(m.group(2))
    expect_counted(reports, lost, "lost updates")


def case_annotated_counter():
    """A lost update annotated without values is possible, and says only
    that: no "overwrote" in its title, and no "not seen" when lockrace could
    not have seen it (the program may well have lost thousands)."""
    status, out, err, reports = run("annotated_counter")
    expect(status == 66, f"status {status}\n{err}")
    lu = findings(reports, "lost-update")
    expect(len(lu) == 1, f"{len(lu)} lost-update reports")
    r = lu[0]
    expect(r["certainty"] == "possible", f"certainty {r['certainty']}")
    expect("overwrote" not in r["summary"] and "can overwrite" in r["summary"],
           f"summary {r['summary']!r}")
    expect("Not seen overwriting" not in err and "cannot tell" in err, f"text\n{err}")


def case_linked():
    """A program linked with liblockrace.so is checked without LD_PRELOAD."""
    with tempfile.TemporaryDirectory() as tmp:
        json_path = os.path.join(tmp, "reports.json")
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        env["LOCKRACE_OPTIONS"] = f"json={json_path}"
        p = subprocess.run([program("counter_race_linked")], env=env, capture_output=True, text=True,
                           timeout=TIMEOUT)
        expect(p.returncode == 66, f"status {p.returncode}: {p.stderr[-1000:]}")
        with open(json_path) as f:
            reports = [json.loads(line) for line in f if line.strip()]
    expect(findings(reports, "lost-update"), "no lost-update report")
    expect(findings(reports, "lost-update")[0]["variable"]["name"] == "counter", "variable")


def case_api_without_library():
    """Every function of lockrace.h called directly (api_direct.c), in C and
    C++: without lockrace it does nothing (load and store make the access)
    and the program runs normally; with lockrace, preloaded or linked, the
    same results, lockrace_running() says so, and nothing is reported."""
    want = "watch 0 0 seen 1 load 41 41 7 byte 7 reports 0 lost 0\n"
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "LOCKRACE_OPTIONS")}
    for name in ("api_direct", "api_direct_cxx"):
        p = subprocess.run([program(name)], env=env, capture_output=True, text=True, timeout=TIMEOUT)
        expect(p.returncode == 0 and p.stdout == want + "running 0\n" and p.stderr == "",
               f"{name} without lockrace: status {p.returncode}, {p.stdout!r} {p.stderr[-300:]!r}")
        status, out, err, reports = run(name)
        expect(status == 0 and out == want + "running 1\n" and reports == [] and "lockrace" not in err,
               f"{name} under lockrace: status {status}, {out!r}, {[r['summary'] for r in reports]} {err[-300:]!r}")
    p = subprocess.run([program("api_direct_linked")], env=env, capture_output=True, text=True, timeout=TIMEOUT)
    expect(p.returncode == 0 and p.stdout == want + "running 1\n",
           f"api_direct_linked: status {p.returncode}, {p.stdout!r} {p.stderr[-300:]!r}")


DYNANN_MODES = ("order", "read", "wrapped", "hb", "none", "benign", "ignore", "name")


def case_dynamic_annotations():
    """A program annotated for TSan and Helgrind with the dynamic annotations
    (dynann.c) runs under lockrace unchanged, its definitions empty and weak
    in a shared library (dynann) or absent (dynann_weakref): a lock of its
    own taken in both orders is a lock-order inversion, HappensBefore/After
    order a hand-over, a benign race and ignored writes are silent, and
    AnnotateThreadName names the threads of a report. Every run prints what
    it prints natively. With the definitions in the executable itself
    (dynann_inexe), the link has bound the calls to them and no preloaded
    library can take them over: lockrace sees none of the annotations, as
    the README says, and after its reports says why; the program still runs
    as natively. Built with no lockrace.h call (dynann_tsan_only), its
    accesses are seen through watch=, with the same results."""
    builds = {"dynann": "", "dynann_weakref": "", "dynann_inexe": "",
              "dynann_tsan_only": "watch=shared@dynann.c"}
    for name, options in builds.items():
        for mode in DYNANN_MODES:
            nstatus, nout = native(name, [mode])
            want = f"{mode}: shared {0 if mode in ('order', 'read', 'wrapped') else 2}, on valgrind 0\n"
            expect(nstatus == 0 and nout == want, f"{name} {mode} natively: {nstatus} {nout!r}")
            status, out, err, reports = run(name, [mode], options=options)
            # watching `shared` by name says once that its address escapes
            # (into the annotations' calls): true, and not a report
            err = "\n".join(l for l in err.splitlines() if "its address is also" not in l)
            what = f"{name} {mode}: status {status}, {[r.get('summary', r['kind']) for r in reports]}\n{err[-1500:]}"
            expect(out == nout, f"{name} {mode}: output differs from native\n{diff(nout, out)}")
            races = findings(reports, "data-race")
            if name == "dynann_inexe":
                # measured: only lockrace's own annotations are seen, the
                # hand-over is not ordered and nothing is silenced
                if mode in ("order", "read"):
                    expect(status == 0 and reports == [] and "lockrace" not in err, what)
                elif mode == "wrapped":
                    expect(status == 66 and len(reports) == 1, what)
                    check_inversion(reports[0], ["mu_a", "mu_b"], "dynann.c")
                else:
                    expect(status == 66 and len(races) == 1, what)
                    # and says why, once
                    expect(err.count("executable defines Annotate") == 1, f"no note on stderr\n{err}")
                continue
            expect("executable defines" not in err, what)
            if mode in ("order", "read"):
                expect(status == 66 and len(reports) == 1, what)
                r = reports[0]
                check_inversion(r, ["ulock_a.word", "ulock_b.word"], "dynann.c")
                expect(all(l["kind"] == "annotated lock" for l in r["locks"]), f"lock kinds {r['locks']}")
                modes = sorted(e["second_mode"] for e in r["edges"])
                expect(modes == (["write", "write"] if mode == "order" else ["read", "write"]),
                       f"{mode}: modes {modes}")
                expect("for reading" in err if mode == "read" else "for reading" not in err, what)
            elif mode == "wrapped":
                # the mutexes' own calls say it all: no second hold, no misuse
                expect(status == 66 and len(reports) == 1, what)
                check_inversion(reports[0], ["mu_a", "mu_b"], "dynann.c")
                expect(all(l["kind"] == "mutex" for l in reports[0]["locks"]), f"kinds {reports[0]['locks']}")
            elif mode in ("hb", "benign", "ignore"):
                expect(status == 0 and reports == [] and "lockrace" not in err, what)
            else:
                expect(status == 66 and len(races) == 1 and len(reports) == len(races) + 1, what)
                r = races[0]
                expect(r["variable"]["name"] == "shared", f"variable {r['variable']}")
                for i, a in enumerate(r["accesses"]):
                    check_race_access(a, "write", "dynann.c", f"{mode} access {i}")
                names = sorted(a["thread"]["name"] for a in r["accesses"])
                expect(names == (["consumer", "producer"] if mode == "name" else ["", ""]),
                       f"{mode}: thread names {names}")
                if mode == "name":
                    expect("(producer)" in err and "(consumer)" in err, f"text names the threads\n{err}")


def case_debuglink():
    """A stripped program whose debug information is in a separate file
    named by its .gnu_debuglink (objcopy --only-keep-debug, then
    --add-gnu-debuglink), the file next to it or in .debug/ beside it:
    reports show file:line, with DEBUGINFOD_URLS set (lockrace never
    downloads; it looks in the usual places) and without it."""
    if not shutil.which("objcopy"):
        raise Skip("no objcopy")
    for place in (".", ".debug"):
        with tempfile.TemporaryDirectory() as tmp:
            prog = os.path.join(tmp, "abba")
            shutil.copy(program("abba"), prog)
            where = os.path.join(tmp, place)
            os.makedirs(where, exist_ok=True)
            debug = os.path.join(where, "abba.debug")
            for args in (["--only-keep-debug", prog, debug], ["--strip-debug", prog],
                         [f"--add-gnu-debuglink={debug}", prog]):
                subprocess.run(["objcopy", *args], check=True, cwd=tmp)
            for urls in ("http://127.0.0.1:9/", None):
                env = {"DEBUGINFOD_URLS": urls} if urls else {"DEBUGINFOD_URLS": ""}
                status, out, err, reports = run(prog, env_extra=env)
                what = f"debug file in {place}, DEBUGINFOD_URLS={urls}"
                expect(status == 66 and len(reports) == 1, f"{what}: status {status}, {err[-500:]!r}")
                top = reports[0]["edges"][0]["second_stack"][0]
                expect(top.get("file", "").endswith("demos/abba.c") and top.get("line", 0) > 0,
                       f"{what}: top frame {top}")
                expect(re.search(r"demos/abba\.c:\d+", err) and "??" not in err, f"{what}: text {err[:800]!r}")


def case_exit_loads_nothing():
    """A report written from inside exit() loads no library into the
    program (LD_DEBUG=files shows none loaded after the program's last
    line), with DEBUGINFOD_URLS set and unset, for a program with its
    symbols and for one stripped of all (as Debian's redis-server is):
    symbolizing must not let libdw dlopen libdebuginfod, whose
    dependencies' constructors (gnutls's calls bindtextdomain) would run
    in the exiting program, and hang it where glibc's locks are held by
    threads that are gone (docs/real-programs.md, redis)."""
    if not shutil.which("objcopy"):
        raise Skip("no objcopy")
    marker = "exit_loads_nothing: exit\n"
    with tempfile.TemporaryDirectory() as tmp:
        stripped = os.path.join(tmp, "exit_loads_nothing")
        shutil.copy(program("exit_loads_nothing"), stripped)
        subprocess.run(["objcopy", "--strip-all", stripped], check=True)
        for prog in (program("exit_loads_nothing"), stripped):
            for urls in ("", "http://127.0.0.1:9/"):
                what = f"{'stripped' if prog == stripped else 'with symbols'}, DEBUGINFOD_URLS={urls!r}"
                status, out, err, reports = run(prog, env_extra={"LD_DEBUG": "files", "DEBUGINFOD_URLS": urls})
                got = [r.get("misuse") for r in reports]
                expect(status == 66 and got == ["exit-holding-locks"], f"{what}: status {status}, reports {got}, {err[-500:]!r}")
                expect(marker in err, f"{what}: no {marker!r} on stderr: {err[-500:]!r}")
                loaded = [l.split("file=")[1].split()[0] for l in err.split(marker, 1)[1].splitlines()
                          if "dynamically loaded by" in l]
                expect(not loaded, f"{what}: loaded into the exiting program: {loaded}")


def case_fork_in_gettext():
    """The child of a fork made while another thread was inside dcgettext
    (glibc's locale and catalog locks held for reading by a thread the
    child does not have) takes two mutexes in both orders: lockrace's
    report must not hang it, as it did while libdw could dlopen
    libdebuginfod there (libp11-kit's and gnutls's constructors take those
    locks for writing). Stripped, as Debian's programs are, so that
    the symbolizer looks for a debug file. Not in the sanitized build: the
    program's own malloc, which stops the thread inside dcgettext, would
    be mixed with ASan's allocator."""
    if SANITIZED:
        raise Skip("the program replaces malloc, which ASan's allocator does not allow")
    if not shutil.which("objcopy"):
        raise Skip("no objcopy")
    status, out = native("fork_in_gettext")
    if status == 77:
        raise Skip("no C.UTF-8 locale")
    expect(status == 0 and out == "child: status 0\n", f"natively: status {status}, stdout {out!r}")
    with tempfile.TemporaryDirectory() as tmp:
        prog = os.path.join(tmp, "fork_in_gettext")
        shutil.copy(program("fork_in_gettext"), prog)
        subprocess.run(["objcopy", "--strip-all", prog], check=True)
        status, out, err, reports = run(prog, env_extra={"DEBUGINFOD_URLS": ""})
        expect(status == 0 and out == "child: status 66\n",
               f"status {status}, stdout {out!r} (signal 14: the child hung writing its report), {err[-800:]!r}")
        expect([r["kind"] for r in reports] == ["lock-order-inversion"], f"reports {reports}")


def case_drop_user():
    """A worker forked by root that switches to nobody (a server's workers)
    reports with functions, file:line and lock names, like any process:
    libdw reads /proc/self/auxv to list the modules, and the kernel makes it
    unreadable to a process that switched users."""
    if os.geteuid() != 0:
        raise Skip("needs root (to switch a worker to nobody)")
    expect_one_inversion("drop_user", ["lock_a", "lock_b"], "drop_user.c")


def case_output_not_ours():
    """A process that may not write the report files it is given (a
    daemon's helper started after the daemon switched to its own user:
    varnish's VCL compiler, run as vcache with the json file of the root
    who started varnishd) starts as it does natively, its stderr clean: the
    program may read that stderr (varnishd shows its compiler's). The file
    is named when the process has a report to write there. As root, the
    processes run as nobody on root's files; otherwise on files made
    read-only."""
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        json_path = os.path.join(tmp, "reports.json")
        with open(json_path, "w"):
            pass
        os.chmod(json_path, 0o600 if os.geteuid() == 0 else 0o400)
        out_dir = os.path.join(tmp, "dir")
        os.mkdir(out_dir, 0o755 if os.geteuid() == 0 else 0o555)
        if os.geteuid() == 0 and not shutil.which("setpriv"):
            raise Skip("no setpriv (to run as nobody)")

        def run_other(name, options):
            """as nobody when root; setpriv itself without lockrace"""
            env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
            env["LOCKRACE_OPTIONS"] = options
            cmd = ["env", f"LD_PRELOAD={PRELOAD}", program(name)]
            if os.geteuid() == 0:
                cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + cmd
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
            return p.returncode, p.stdout, p.stderr

        for options in (f"json={json_path}", f"log_dir={out_dir}", f"log_path={out_dir}/text"):
            status, out, err = run_other("consistent_order", options)
            native_status, native_out = native("consistent_order")
            expect(status == native_status and out == native_out and err == "",
                   f"{options}, clean: status {status} (natively {native_status}), stderr {err[-500:]!r}")
            status, out, err = run_other("abba", options)
            lines = lockrace_lines(err)
            expect(status == 66 and "lock-order-inversion: lock_a -> lock_b" in err and len(lines) == 1 and
                   lines[0].startswith(f"lockrace: {options}: cannot open") and "Permission denied" in lines[0],
                   f"{options}, a report: status {status}, lockrace's lines {lines}")
        expect(os.path.getsize(json_path) == 0 and os.listdir(out_dir) == [], "a file was written")


def case_chroot_worker():
    """A worker forked by root that shuts itself in an empty directory
    (chroot: unbound's, named -t's) writes its report to the log directory
    it no longer sees, through the directory lockrace opened at start, with
    its stacks and locks named: lockrace opens the program's files for its
    symbols before the chroot. Before, the worker said that it could not
    open its file, the launcher never saw the report, and its stacks were
    addresses."""
    if os.geteuid() != 0:
        raise Skip("needs root (to chroot)")
    with tempfile.TemporaryDirectory() as tmp:
        jail = os.path.join(tmp, "jail")
        out = os.path.join(tmp, "out")
        os.mkdir(jail)
        os.mkdir(out)
        status, stdout, err = run_raw([program("chroot_worker"), jail], f"log_dir={out}")
        expect(status == 66 and "cannot open" not in err, f"status {status}, {lockrace_lines(err)} {err[-800:]!r}")
        kinds = []
        for name in os.listdir(out):
            with open(os.path.join(out, name)) as f:
                kinds += [json.loads(line)["kind"] for line in f if line.strip()]
        expect(kinds.count("lock-order-inversion") == 1 and kinds.count("process") == 2,
               f"the worker's report is not in the log directory: {sorted(os.listdir(out))} {kinds}")
        # named as any report: the files were opened before the chroot
        expect("T0 took lock_b while holding lock_a" in err and re.search(r"main .*chroot_worker\.c:\d+", err),
               f"the worker's report names no lock or line: {err[-1500:]!r}")


def case_drop_user_launcher():
    """The launcher, run as root, gathers the reports of a worker that
    switched to nobody, as servers' workers do (nginx's, apache2's): its
    run directory lets the worker write its file there, which a directory
    only root may write in did not (the report was on the worker's stderr,
    and the launcher said nothing and exited 0). Without --json, whose file
    the worker would inherit from root: the run directory is all the
    launcher reads."""
    if os.geteuid() != 0:
        raise Skip("needs root (to switch a worker to nobody)")
    with tempfile.TemporaryDirectory() as tmp:
        sarif = os.path.join(tmp, "r.sarif")
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "LOCKRACE_OPTIONS")}
        p = subprocess.run([LAUNCHER, "--sarif", sarif, "--", program("drop_user"), "parent-ok"], env=env,
                           capture_output=True, text=True, timeout=TIMEOUT)
        expect("cannot open" not in p.stderr, f"the worker could not write its file: {lockrace_lines(p.stderr)}")
        expect(p.returncode == 66, f"launcher status {p.returncode}, expected 66: {p.stderr[-1500:]!r}")
        with open(sarif) as f:
            results = json.load(f)["runs"][0]["results"]
        expect(len(results) == 1 and "lock_a" in json.dumps(results[0]) and "drop_user.c" in json.dumps(results[0]),
               f"SARIF results: {json.dumps(results)[:1500]}")


def case_run_dir_links():
    """What the launcher reads back from its run directory, where other
    users' processes may write (drop_user_launcher), is never read through
    a link: a report that a link in the run directory (or a link to a
    directory) points to is not the run's, and counts for nothing."""
    with tempfile.TemporaryDirectory() as tmp:
        fake = os.path.join(tmp, "fake")
        os.mkdir(fake)
        real = os.path.join(fake, "r.json")
        status, _, _ = run_raw([program("abba")], f"json={real}")
        expect(status == 66 and os.path.getsize(real) > 0, f"abba made no report to plant: {status}")
        plant = ('d=$(printf %s "$LOCKRACE_OPTIONS" | tr : "\\n" | sed -n "s/^log_dir=//p"); '
                 f'ln -s {real} "$d/planted.json" && ln -s {fake} "$d/planted_dir" && echo planted')
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "LOCKRACE_OPTIONS")}
        p = subprocess.run([LAUNCHER, "--", "sh", "-c", plant], env=env, capture_output=True, text=True,
                           timeout=TIMEOUT)
        expect(p.stdout == "planted\n", f"nothing planted: {p.stdout!r} {p.stderr[-500:]!r}")
        expect(p.returncode == 0 and "lock-order-inversion" not in p.stderr,
               f"the launcher read a report through a link: status {p.returncode}, {p.stderr[-1500:]!r}")


def case_stop_the_world():
    """A collector that stops the other threads with a signal, its handler
    parking each until the collector is done, while those threads keep
    lockrace learning new lock orders (mono's and Boehm's collectors, a
    JVM's safepoints): lockrace holds its own locks with signals blocked,
    so no thread is parked holding one the collector needs. It hung in
    every run before."""
    _, native_out = native("stop_the_world")
    status, out, err, reports = run("stop_the_world", timeout=60 * TIME_SCALE)
    expect(status == 0 and out == native_out and reports == [],
           f"status {status} (None: hung), {out!r}, {[r['summary'] for r in reports]} {err[-800:]!r}")


def case_setuid():
    """In a set-uid program (secure execution, AT_SECURE), lockrace reads
    nothing from the environment of the user who started it: not
    LOCKRACE_OPTIONS (no file is written for that user, as root), not
    LOCKRACE_CAPSTONE. Reports go to stderr. A copy of abba linked with
    liblockrace.so (a set-uid program ignores LD_PRELOAD outside the
    system's directories, but loads what it is linked with) is made
    set-uid root and run as nobody; the same copy without the set-uid bit
    is the control: there the options are honoured."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        raise Skip("needs root (to make a set-uid-root copy) and setpriv (to run it as nobody)")
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        os.chmod(out, 0o777)                 # nobody may write there: only lockrace chooses not to
        prog = os.path.join(tmp, "abba_linked")
        shutil.copy(program("abba_linked"), prog)
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "LOCKRACE_OPTIONS")}
        env["LOCKRACE_OPTIONS"] = (f"log_path={out}/log:json={out}/reports.json:log_dir={out}:"
                                   "exitcode=3:verbosity=2")
        env["LOCKRACE_CAPSTONE"] = os.path.join(out, "evil.so")
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", prog]

        os.chmod(prog, 0o755)
        p = subprocess.run(as_nobody, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        made = sorted(os.listdir(out))
        expect(p.returncode == 3 and made, f"control (not set-uid): status {p.returncode}, files {made}, "
               f"stderr {p.stderr[-500:]!r}")
        for name in made:
            os.unlink(os.path.join(out, name))

        os.chown(prog, 0, 0)
        os.chmod(prog, 0o4755)
        p = subprocess.run(as_nobody, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        made = sorted(os.listdir(out))
        expect(made == [], f"set-uid: lockrace wrote {made} as root for the user who ran it")
        expect(p.returncode == 66, f"set-uid: status {p.returncode} (exitcode=3 must be ignored): "
               f"{p.stderr[-500:]!r}")
        expect("lockrace: lock-order-inversion" in p.stderr and "demos/abba.c:" in p.stderr and
               "watching process" not in p.stderr,
               f"set-uid: the report is not on stderr, or verbosity=2 was read: {p.stderr[-1500:]!r}")
        said = [l for l in lockrace_lines(p.stderr) if "LOCKRACE_OPTIONS" in l]
        expect(len(said) == 1 and "ignored" in said[0], f"set-uid: one line must say why: {said}")
        print(f"set-uid: {said[0]}")


def case_semaphore_locks():
    """A semaphore initialised to 1 and used as a lock is in the lock-order
    graph; semaphores used as signals never are."""
    r, _ = expect_one_inversion("sem_locks", ["sem_a", "sem_b"], "sem_locks.c", args=["inversion"])
    expect(all(l["kind"] == "semaphore" for l in r["locks"]), f"kinds {[l['kind'] for l in r['locks']]}")
    expect_clean("sem_locks", ["signals"])


def pythons():
    """The CPython builds on this machine to run Python cases with, at least
    one: Debian's python3 (the interpreter linked into the executable) and
    one with a libpython (pyenv's, or any python3 on PATH that has one)."""
    found = []
    for candidate in ["/usr/bin/python3", shutil.which("python3")] + sorted(
            glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[0-2]*/bin/python3"))):
        if not candidate or not os.path.exists(candidate):
            continue
        real = os.path.realpath(candidate)
        if any(os.path.realpath(p) == real for p in found):
            continue
        if subprocess.run([candidate, "-c", "import threading"], capture_output=True).returncode == 0:
            found.append(candidate)
    if not found:
        raise Skip("no python3 here")
    shared = [p for p in found if subprocess.run(
        [p, "-c", "import sysconfig, sys; sys.exit(not sysconfig.get_config_var('Py_ENABLE_SHARED'))"],
        capture_output=True).returncode == 0 and "libpython" in subprocess.run(
            ["ldd", os.path.realpath(p)], capture_output=True, text=True).stdout]
    chosen = found[:1] + [p for p in shared if p != found[0]][:1]
    return chosen


PYDEMOS = os.path.join(SOURCE, "demos", "python")


def run_python(python, demo, args=(), options="", launcher=False, launcher_args=(), timeout=TIMEOUT):
    """Runs demos/python/DEMO.py (or DEMO, a path in the source tree) from the
    source tree with its relative path, as a user types it."""
    cwd = os.getcwd()
    os.chdir(SOURCE)
    try:
        script = demo if "/" in demo else os.path.join("demos", "python", demo)
        return run(python, [script, *args], options=options,
                   launcher=launcher, launcher_args=launcher_args, timeout=timeout)
    finally:
        os.chdir(cwd)


def python_frames(stack):
    return [f for f in stack if f.get("language") == "python"]


def check_python_stack(stack, expected, what):
    """The stack's Python frames begin with `expected`, a list of (file,
    function, line); the interpreter's C frames are folded away."""
    frames = python_frames(stack)
    got = [(f["file"], f["function"], f["line"]) for f in frames[:len(expected)]]
    expect(got == expected, f"{what}: Python frames {got}, expected {expected}; stack {stack}")
    expect(all("pc" not in f for f in frames), f"{what}: a Python frame with a pc")
    expect(stack and stack[0].get("language") == "python",
           f"{what}: the interpreter's C frames are not folded: {stack[:3]}")


def case_python_abba():
    """Two threading.Lock objects in both orders, in an unmodified python3:
    every stack is the script's lines, the locks are named by the lines
    that made them, the threads by their Thread names."""
    script = "demos/python/abba.py"
    for python in pythons():
        status, out, err, reports = run_python(python, "abba.py")
        expect(status == 66, f"{python}: status {status}: {err[-1500:]}")
        expect(len(reports) == 1 and reports[0]["kind"] == "lock-order-inversion",
               f"{python}: reports: {[r['summary'] for r in reports]}")
        r = reports[0]
        expect([l["kind"] for l in r["locks"]] == ["semaphore", "semaphore"], "two semaphore-locks")
        expect(not r["single_thread"], "made by two threads")
        names = sorted(l.get("name") for l in r["locks"])
        expect(names == [f"accounts_lock ({script}:11)", f"audit_lock ({script}:12)"], f"{python}: lock names {names}")
        for l in r["locks"]:
            check_python_stack(l["first_seen"], [(script, "<module>", int(l["name"].split(":")[-1][:-1]))],
                               f"{python}: {l['name']} made")
        lines = {"transfer": (18, 17), "audit": (25, 24)}
        for e in r["edges"]:
            name = e["thread"]["name"]
            expect(name in lines, f"{python}: thread name {name!r}")
            second, first = lines[name]
            check_python_stack(e["second_stack"], [(script, name, second)], f"{python}: {name} second")
            check_python_stack(e["first_stack"], [(script, name, first)], f"{python}: {name} first")
            created = python_frames(e["thread"]["created_at"])
            expect([(f["file"], f["line"]) for f in created][-1:] == [(script, 31)],
                   f"{python}: {name} started at {created}")
        expect(f"#0 transfer {script}:18" in err and "T1 (transfer)" in err, f"{python}: text {err[:1500]}")
        expect("_PyEval_EvalFrameDefault" not in err, f"{python}: C frames shown by default")
        native = subprocess.run([python, script], capture_output=True, text=True, cwd=SOURCE).stdout
        expect(out == native, "output differs")
        status, _, err, _ = run_python(python, "abba.py", options="python_c_frames=1")
        expect("_PyEval_EvalFrameDefault" in err and f"transfer {script}:18" in err,
               f"{python}: python_c_frames=1: {err[:1500]}")


def case_python_self_deadlock():
    """A Lock taken again by its holder is a self-deadlock: reported with
    the Python lines, and the process ended, not hung; the same code with an
    RLock is clean."""
    script = "demos/python/self_deadlock.py"
    for python in pythons():
        status, _, err, reports = run_python(python, "self_deadlock.py", timeout=20)
        expect(status == 66, f"{python}: status {status}: {err[-1500:]}")
        d = deadlocks(reports)
        expect(len(d) == 1 and len(reports) == 1, f"{python}: reports {[r['summary'] for r in reports]}")
        t = d[0]["threads"][0]
        expect(t["waits_for"]["held_by"] == t["thread"]["id"], "held by itself")
        lock = d[0]["locks"][t["waits_for"]["lock"]]
        expect(lock.get("name") == f"ledger_lock ({script}:11)", f"{python}: lock {lock}")
        check_python_stack(t["stack"], [(script, "record", 16), (script, "record_pair", 22), (script, "<module>", 26)],
                           f"{python}: wait")
        check_python_stack(t["holds"][0]["stack"], [(script, "record_pair", 21)], f"{python}: hold")
        status, out, err, reports = run_python(python, "rlock.py")
        expect(status == 0 and not reports and "lockrace" not in err, f"{python}: rlock: {status} {err[-1500:]}")
        expect(out == "ledger: ['debit', 'credit']\n", f"rlock output {out!r}")


def case_python_join_cycle():
    """join() while holding the lock the joined thread waits for: a
    deadlock of a join (the thread's _tstate_lock) and a Lock, reported and
    ended."""
    script = "demos/python/join_cycle.py"
    for python in pythons():
        # the worker may block on the lock before the main thread is in
        # join(): its wait is still its own line (python_wait_lines)
        status, _, err, reports = run_python(python, "join_cycle.py", timeout=20)
        expect(status == 66, f"{python}: status {status}: {err[-1500:]}")
        d = deadlocks(reports)
        expect(len(d) == 1 and len(reports) == 1, f"{python}: reports {[r['summary'] for r in reports]}")
        waits = {t["waits_for"]["kind"]: t for t in d[0]["threads"]}
        expect(sorted(waits) == ["join", "lock"], f"{python}: waits {sorted(waits)}")
        check_python_stack(waits["lock"]["stack"], [(script, "worker", 15)], f"{python}: worker waits")
        expect(waits["lock"]["thread"]["name"] == "worker", f"{python}: thread {waits['lock']['thread']}")
        join = python_frames(waits["join"]["stack"])
        expect((join[-1]["file"], join[-1]["line"]) == (script, 22), f"{python}: join at {join}")
        check_python_stack(waits["join"]["holds"][0]["stack"], [(script, "<module>", 19)], f"{python}: main holds")


def case_python_lost_notify():
    """A Condition nobody is left to notify: the watchdog reports the whole
    process stuck, at the script's wait() line."""
    script = "demos/python/lost_notify.py"
    for python in pythons():
        status, _, err, reports = run_python(python, "lost_notify.py", launcher=True,
                                             launcher_args=["--watchdog", "1"], timeout=20)
        expect(status == 66, f"{python}: status {status}: {err[-1500:]}")
        d = deadlocks(reports)
        expect(len(d) == 1 and d[0]["scope"] == "process", f"{python}: reports {[r['summary'] for r in reports]}")
        t = d[0]["threads"][0]
        expect(t["waits_for"]["kind"] == "condition", f"{python}: wait {t['waits_for']}")
        frames = python_frames(t["stack"])
        expect(frames and frames[0]["function"] in ("Condition.wait", "wait") and
               (frames[-1]["file"], frames[-1]["line"]) == (script, 23), f"{python}: stack {frames}")


def case_python_wait_lines():
    """Two threads blocked on one Lock at two lines, their holder waiting
    for an Event nobody sets: the watchdog reports the whole process stuck,
    and each thread's wait is at its own line. The interpreter takes every
    Lock from one C call site, so a stack learnt there by another thread
    (the lock's first acquisition, by the main thread) is not this one's."""
    script = "tests/integration/programs/python_wait_lines.py"
    for python in pythons():
        status, _, err, reports = run_python(python, script, launcher=True,
                                             launcher_args=["--watchdog", "1"], timeout=30)
        expect(status == 66, f"{python}: status {status}: {err[-1500:]}")
        d = deadlocks(reports)
        expect(len(d) == 1 and d[0]["scope"] == "process", f"{python}: reports {[r['summary'] for r in reports]}")
        waits = {t["thread"].get("name"): t for t in d[0]["threads"]}
        expect(sorted(w for w in waits if w in ("first", "second")) == ["first", "second"],
               f"{python}: threads {sorted(map(str, waits))}")
        for name, line in (("first", 15), ("second", 20)):
            expect(waits[name]["waits_for"]["kind"] == "lock", f"{python}: {name} waits {waits[name]['waits_for']}")
            check_python_stack(waits[name]["stack"], [(script, name, line)], f"{python}: {name} waits")
        main = [t for n, t in waits.items() if n not in ("first", "second")]
        expect(len(main) == 1 and python_frames(main[0]["stack"])[-1:] and
               (python_frames(main[0]["stack"])[-1]["file"], python_frames(main[0]["stack"])[-1]["line"]) == (script, 30),
               f"{python}: main waits {[python_frames(t['stack']) for t in main]}")


def all_pythons():
    """Every CPython 3.9 to 3.13 build on this machine, Debian's first:
    for what reads the interpreter's own structures, which differ by
    version."""
    found = []
    for candidate in ["/usr/bin/python3"] + sorted(
            glob.glob(os.path.expanduser("~/.pyenv/versions/3.9.*/bin/python3")) +
            glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[0-3]*/bin/python3"))):
        if os.path.exists(candidate) and not any(os.path.realpath(p) == os.path.realpath(candidate) for p in found):
            found.append(candidate)
    return found or pythons()


def case_python_held_lines():
    """A held lock is shown at the line that took it this time: the same
    lock under the same locks at another line, by another thread, after a
    wait for it, is not shown at the first line that took it. On every
    CPython here (what is read differs by version), threads named too."""
    script = "tests/integration/programs/python_held_lines.py"
    expected = {  # function: where it took the held lock, where the second
        "ab": ((script, "ab", 20), (script, "ab", 21)),
        "ba": ((script, "ba", 32), (script, "ba", 33)),
        "ac": ((script, "ac", 27), (script, "ac", 28)),
        "ca": ((script, "ca", 37), (script, "ca", 38)),
    }
    for python in all_pythons():
        status, out, err, reports = run_python(python, script)
        expect(status == 66 and out == "done\n", f"{python}: status {status}: {err[-1500:]}")
        edges = [e for r in reports if r["kind"] == "lock-order-inversion" for e in r["edges"]]
        # by the function that took the second lock, which names its thread
        by = {(python_frames(e["second_stack"])[:1] or [{}])[0].get("function"): e for e in edges}
        expect(len(reports) == 2 and sorted(by) == sorted(expected) and len(edges) == 4,
               f"{python}: edges by {sorted(map(str, by))}: {[r['summary'] for r in reports]}")
        names = sorted({l.get("name") for r in reports for l in r["locks"]})
        expect(names == [f"{v} ({script}:{n})" for v, n in (("a", 10), ("b", 11), ("c", 12))],
               f"{python}: lock names {names}")
        for name, e in by.items():
            first, second = expected.get(name, (None, None))
            check_python_stack(e["first_stack"], [first], f"{python}: {name} held")
            check_python_stack(e["second_stack"], [second], f"{python}: {name} taken")
            expect(e["thread"].get("name") == name, f"{python}: {name}'s thread is named {e['thread'].get('name')!r}")


def case_descriptors_stay_the_programs():
    """The files lockrace writes (json=, log_path=, the launcher's log
    directory) are opened above the numbers a program uses: the first file
    the program opens gets the number it gets natively (3), not the next
    one (a program that counts on its numbers, or a test that lists them,
    as CPython's test_subprocess does)."""
    python = sys.executable
    code = "import os; print(os.open(os.devnull, os.O_RDONLY))"
    native = subprocess.run([python, "-c", code], capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        for options, launcher in (("", False), (f"log_path={tmp}/text", False), ("", True)):
            status, out, err, _ = run(python, ["-c", code], options=options, launcher=launcher)
            expect(status == 0, f"{options or 'json='} launcher={launcher}: status {status}: {err[-500:]}")
            expect(out == native, f"{options or 'json='} launcher={launcher}: the program's first file is "
                                  f"{out.strip()}, natively {native.strip()}")


def case_python_clean():
    """Clean Python programs report nothing and print what they print
    natively: a counter under `with lock:`, the RLock demo, and Locks
    used as only Python allows (released by another thread, handed on as
    a baton, a Condition on a Lock), which lockrace's short paths for a
    Lock's try and release must leave as clean; and a program with an
    audit hook, which must hear nothing from lockrace, whose threads fork
    children that must all exit."""
    for python in pythons():
        for demo in ("counter.py", "rlock.py", "tests/integration/programs/python_handoff.py",
                     "tests/integration/programs/python_audit.py"):
            status, out, err, reports = run_python(python, demo)
            script = demo if "/" in demo else os.path.join("demos", "python", demo)
            native = subprocess.run([python, script], capture_output=True, text=True, cwd=SOURCE)
            expect(status == 0 and not reports and "lockrace" not in err, f"{python} {demo}: {status} {err[-1500:]}")
            expect(out == native.stdout, f"{python} {demo}: output {out!r} natively {native.stdout!r}")


def case_python_cpython_tests():
    """CPython's own test_threading, test_thread and test_queue pass and
    fail under lockrace as they do natively, and nothing is reported. One
    build (about 40 s); the one with a libpython when its test package is
    there, else Debian's (libpython3.11-testsuite)."""
    chosen = None
    for python in reversed(pythons()):
        if subprocess.run([python, "-c", "import test.test_threading"], capture_output=True).returncode == 0:
            chosen = python
            break
    if not chosen:
        raise Skip("no CPython test package here (Debian: libpython3.11-testsuite)")
    # -w: a test that failed runs again, alone: some of these are timing
    # tests that fail now and then on a loaded machine, natively too
    cmd = ["-m", "test", "-w", "test_threading", "test_thread", "test_queue"]
    native = subprocess.run([chosen, *cmd], capture_output=True, text=True, timeout=600)
    status, out, err, reports = run(chosen, cmd, options="exitcode=0", timeout=600)

    def outcome(text):
        result = re.findall(r"^Result: (.*)$", text, re.M)
        failed = sorted(set(re.findall(r"^(?:FAIL|ERROR): (\S+ \(\S+\))", text, re.M)))
        return result[-1:], failed
    expect(status == native.returncode, f"status {status}, natively {native.returncode}")
    # a test whose child never exits fails, and passes when -w runs it
    # again: a child that hung once under lockrace (test_reinit_tls_after_fork,
    # 300 s, then the test's timeout) left the outcome the native one
    hung = re.findall(r"^.*is still running after.*$", out + err, re.M)
    expect(not hung, f"children hung: {hung[:3]}")
    expect(outcome(out + err) == outcome(native.stdout + native.stderr),
           f"outcome {outcome(out + err)}, natively {outcome(native.stdout + native.stderr)}")
    expect(not reports, f"reports: {[r['summary'] for r in reports]}")
    print(f"{chosen}: {outcome(out)[0]}")


# mode of tests/integration/programs/misuse.c -> (sub-kind, lock, has an earlier event)
MISUSES = {
    "unlock-not-locked": ("unlock-not-held", "lock_a", False),
    "unlock-not-held": ("unlock-not-held", "lock_a", True),
    "relock": ("relock", "errorcheck_lock", True),
    "destroy-locked": ("destroy-locked", "lock_a", True),
    "lock-destroyed": ("lock-destroyed", "lock_a", True),
    "reinit-locked": ("reinit-locked", "lock_a", True),
    "reinit-mutex": ("reinit", "config_lock", True),
    "reinit-rwlock": ("reinit", "cache_lock", True),
    "reinit-cond": ("reinit", None, True),
    "lock-uninitialised": ("lock-invalid", "garbage", False),
    "rwlock-unlock": ("unlock-not-locked", "table_lock", False),
    "rwlock-relock-write": ("rwlock-relock", "table_lock", True),
    "rwlock-relock-read": ("rwlock-relock", "table_lock", True),
    "cond-unheld": ("cond-wait-unheld", "lock_a", False),
    "cond-two-mutexes": ("cond-two-mutexes", "lock_a", True),
    "exit-holding": ("exit-holding-locks", "lock_a", True),
    "exit-holding-pthread-exit": ("exit-holding-locks", "lock_b", True),
    "exit-holding-cancel": ("exit-holding-locks", "lock_a", True),
    "main-return-holding": ("exit-holding-locks", "lock_a", True),
    "main-exit-holding": ("exit-holding-locks", "lock_b", True),
    "reused-while-locked": ("reused-while-locked", None, True),
    "barrier-zero": ("barrier-count-zero", None, False),
    "cond-destroy-waited": ("cond-destroy-waited", None, True),
    "sem-destroy-waited": ("sem-destroy-waited", None, False),
    "sem-destroyed": ("sem-destroyed", None, True),
    "sem-init-invalid": ("sem-init-invalid", None, False),
    "sem-post-overflow": ("sem-post-overflow", None, False),
    "sem-invalid": ("sem-invalid", None, False),
}


def case_misuse():
    """Each API misuse is reported once, with the call's stack and the
    earlier event's; legal look-alikes are not."""
    expect_clean("misuse", ["clean"])
    for mode, (sub, lock, has_earlier) in MISUSES.items():
        status, out, err, reports = run("misuse", [mode])
        expect(status == 66 and out.strip() == mode, f"{mode}: status {status}, output {out!r}\n{err[-1500:]}")
        expect(len(reports) == 1 and reports[0]["kind"] == "misuse", f"{mode}: {[r['summary'] for r in reports]}")
        r = reports[0]
        expect(r["misuse"] == sub, f"{mode}: sub-kind {r['misuse']}, expected {sub}")
        if lock:
            expect(r["locks"][0]["name"] == lock, f"{mode}: lock {r['locks'][0].get('name')}")
        if mode in ("exit-holding", "exit-holding-cancel", "main-return-holding", "main-exit-holding"):
            expect(r["stack"] == [], f"{mode}: stack {r['stack']}")   # returned, cancelled, exit(): no call shown
        else:
            check_frames(r["stack"], "misuse.c", f"{mode} stack")
        expect(("earlier" in r) == has_earlier, f"{mode}: earlier event {r.get('earlier')}")
        if has_earlier:
            check_frames(r["earlier"]["stack"], "misuse.c", f"{mode} earlier stack")
        if mode in ("main-return-holding", "main-exit-holding"):
            expect(r["thread"]["id"] == 0 and "(main) ends the process" in r["summary"], f"{mode}: {r['summary']}")
        if mode == "reused-while-locked":
            expect("freed or went out of scope while" in r["summary"], f"{mode}: summary {r['summary']}")
        if mode in ("sem-init-invalid", "sem-post-overflow", "sem-destroyed"):
            expect(r["object"]["name"] == "items" and not r["locks"], f"{mode}: object {r.get('object')}")
        if mode == "sem-invalid":
            expect(r["object"]["name"] == "garbage_sem", f"{mode}: object {r.get('object')}")
        if mode == "reinit-cond":
            expect(r["object"]["name"] == "changed" and not r["locks"], f"object {r.get('object')}")
        if sub == "cond-two-mutexes":
            expect([l["name"] for l in r["locks"]] == ["lock_a", "lock_b"], f"locks {r['locks']}")
            expect(r["object"]["name"] == "ready", f"object {r['object']}")


def case_fork_reinit():
    """Locks initialised again in a forked child, the way to recover them
    (fork_reinit.c), are no re-initialisation: no report, no hang."""
    out, nout = expect_clean("fork_reinit")
    expect(out == nout == "children: ok\n", f"output {out!r} (native {nout!r})")


def case_misuse_cond_destroy_hangs():
    """A condition destroyed under its waiter hangs the destroyer: with
    deadlock=abort (the default) lockrace ends the process as for a
    deadlock and says so; deadlock=report says the destroyer stays blocked."""
    status, out, err, reports = run("misuse", ["cond-destroy-waited"], timeout=20)
    expect(status == 66 and len(reports) == 1, f"abort: status {status}, {[r['summary'] for r in reports]}")
    expect("deadlock=abort" in err and "ended now" in err, f"abort: text {err[-800:]}")
    status, out, err, reports = run("misuse", ["cond-destroy-waited"], options="deadlock=report", timeout=20)
    expect(status == 3 and len(reports) == 1, f"report: status {status}, {[r['summary'] for r in reports]}")
    expect("deadlock=report" in err and "stays blocked" in err, f"report: text {err[-800:]}")


def case_misuse_cond_two_together():
    """Two threads that start waiting on one condition at the same moment,
    each with its own mutex: found on every run, and said once."""
    for i in range(20):
        status, out, err, reports = run("misuse", ["cond-two-mutexes-together"])
        expect(status == 66 and out.strip() == "cond-two-mutexes-together", f"run {i}: status {status}\n{err[-1500:]}")
        got = [r.get("misuse") for r in reports]
        expect(got == ["cond-two-mutexes"], f"run {i}: reports {got}")
        if got == ["cond-two-mutexes"]:
            r = reports[0]
            expect(sorted(l["name"] for l in r["locks"]) == ["lock_a", "lock_b"], f"run {i}: locks {r['locks']}")
            expect(r["object"]["name"] == "ready" and "earlier" in r, f"run {i}: {r.get('object')}")


def case_misuse_double_unlock():
    """A double unlock is reported, and the destroy that then fails (glibc's
    count of users is -1) is not called a destroy of a locked mutex."""
    status, out, err, reports = run("misuse", ["destroy-after-double-unlock"])
    expect(status == 66 and out.strip() == "destroy-after-double-unlock", f"status {status}, output {out!r}\n{err[-1500:]}")
    got = [r.get("misuse") for r in reports]
    expect(got == ["unlock-not-held", "destroy-miscounted"], f"reports {[r['summary'] for r in reports]}")
    if len(reports) == 2:
        d = reports[1]
        expect(d["locks"][0]["name"] == "lock_a", f"lock {d['locks']}")
        expect("not locked" in d["summary"] and "EBUSY" in d["summary"], f"summary {d['summary']}")
        check_frames(d["stack"], "misuse.c", "destroy stack")
        expect("earlier" in d and d["earlier"]["what"] == "unlocked it at", f"earlier {d.get('earlier')}")
        check_frames(d["earlier"]["stack"], "misuse.c", "double unlock stack")


def case_misuse_self_deadlocks():
    """A thread that asks again for a lock it holds and waits for itself:
    a one-thread deadlock (it hangs), whose first line says it was relocked
    by its own holder, as Helgrind's and lockdep's "recursive locking"."""
    status, _, err, reports = run("self_deadlock", timeout=20)
    d = deadlocks(reports)
    expect(len(d) == 1 and "relocked by its own holder" in d[0]["summary"], f"summary {[r['summary'] for r in reports]}")
    expect("relocked by its own holder" in err.splitlines()[0], f"first line {err.splitlines()[:1]}")
    status, out, err, reports = run("misuse", ["rwlock-upgrade"], timeout=20)
    expect(status == 66, f"rwlock-upgrade: status {status}: {err[-1500:]}")
    d = deadlocks(reports)
    expect(len(reports) == 1 and len(d) == 1, f"rwlock-upgrade: {[r['summary'] for r in reports]}")
    first = err.splitlines()[0] if err else ""
    expect("relocked by its own holder" in first and "holds for reading" in first
           and "mutex" not in err, f"rwlock-upgrade: text {err[:600]}")
    check_deadlock(d[0], "misuse.c", 1)


def case_results():
    """Every wrapped call returns the real result and keeps errno; the
    misuse the program makes on purpose (to check EPERM, EDEADLK and a
    mutex left held) is reported, and nothing else."""
    status, out, err, reports = run("results")
    expect("results:" not in err, f"a wrapped call changed a result: {err[-2000:]}")
    expect(status == 66, f"status {status}")
    got = sorted(r.get("misuse", r["kind"]) for r in reports)
    expect(got == ["exit-holding-locks", "relock", "unlock-not-held"], f"reports {got}")


def case_gate_lock():
    """A cycle whose edges were all made under one outer lock is not
    reported; show_gated=1 reports it and names the gate."""
    expect_clean("gate_lock")
    status, out, err, reports = run("gate_lock", options="show_gated=1")
    expect(len(reports) == 1 and reports[0].get("gated_by") == "big_lock",
           f"reports {[(r['summary'], r.get('gated_by')) for r in reports]}")
    expect("1 lock-order cycle not reported" not in err, "counted as filtered while shown")
    status, out, err, reports = run("gate_lock", options="verbosity=2")
    expect(reports == [] and "1 lock-order cycle not reported" in err, f"no filtered count: {err}")


def case_demos_rlock_condvar_cxx():
    """rlock: a normal mutex relocked is a self-deadlock, reported and ended;
    recursive, clean. condvar: clean. cxx_mutex: std::mutex inversion."""
    status, out, err, reports = run("rlock")
    expect(status == 66 and len(reports) == 1 and reports[0]["kind"] == "deadlock",
           f"rlock: status {status}, {[r['summary'] for r in reports]}")
    t = reports[0]["threads"][0]
    expect(t["waits_for"]["held_by"] == t["thread"]["id"], f"rlock: waits for {t['waits_for']}")
    expect(reports[0]["locks"][0]["name"] == "account_lock", "rlock: lock name")
    out, nout = expect_clean("rlock", ["--recursive"])
    expect(out == nout, "rlock --recursive: output differs")
    out, nout = expect_clean("condvar")
    expect(out == nout, "condvar: output differs")
    expect_one_inversion("cxx_mutex", ["alice.lock", "bob.lock"], "cxx_mutex.cpp")


def case_suppressions():
    """KIND:PATTERN rules suppress matching reports, which are counted, not
    printed; a bad file stops the program with its line number."""
    with tempfile.TemporaryDirectory() as tmp:
        def supp(name, text):
            return write_file(tmp, name, text)
        for rule in ("lock-order-inversion:audit_*", "*:lock_b", "lock-order-inversion:demos/abba.c",
                     "lock-order-inversion:abba.c"):
            path = supp("good.supp", f"# a comment\n\n  {rule}  # why\n")
            status, out, err, reports = run("abba", options=f"suppressions={path}")
            expect(status == 0 and reports == [], f"{rule}: status {status}, {[r['summary'] for r in reports]}")
            expect("0 reports (1 suppressed)" in err, f"{rule}: not counted: {err[-500:]}")
        path = supp("other.supp", "data-race:audit_*\nmisuse:*\n")      # other kinds: no effect
        status, out, err, reports = run("abba", options=f"suppressions={path}")
        expect(status == 66 and len(reports) == 1, f"other kinds suppressed it: {status}")
        for text, what in (("lock-order-inversion:x\nno colon here\n", ":2: no ':'"),
                           ("deadlok:x\n", ":1: unknown kind 'deadlok'"),
                           ("misuse:\n", ":1: empty pattern")):
            path = supp("bad.supp", text)
            status, out, err, reports = run("abba", options=f"suppressions={path}")
            expect(status == 2 and what in err and out == "", f"{text!r}: status {status}, {err!r}")
        status, out, err, reports = run("abba", launcher=True, launcher_args=["--suppressions", supp("l.supp", "*:update_both\n")])
        expect(status == 0 and reports == [], f"launcher flag: status {status}")
        status, out, err, reports = run("abba", options="suppressions=" + os.path.join(tmp, "none.supp"))
        expect(status == 2 and "cannot open" in err, f"missing file: {status} {err!r}")


def case_tsan_suppressions():
    """A ThreadSanitizer suppressions file works as it does with TSan: its
    types (race, race_top, deadlock, mutex, thread, signal,
    called_from_lib) are read; deadlock: hides a lock-order inversion; a
    TSan pattern matches a substring, with '*' and the anchors '^' and '$'.
    lockrace's own kinds match whole names, and take the anchors too. A
    pattern that can never match is one line of warning, not an error."""
    with tempfile.TemporaryDirectory() as tmp:
        def with_rules(name, text, args=(), launcher=False):
            path = write_file(tmp, "tsan.supp", text)
            if launcher:
                return run(name, args, launcher=True, launcher_args=["--suppressions", path])
            return run(name, args, options=f"suppressions={path}")

        tsan_file = ("# ThreadSanitizer suppressions\nrace:^ignored_race$\nrace_top:ignored_top\n"
                     "mutex:ignored_mutex\nthread:ignored_thread\nsignal:ignored_signal\n"
                     "called_from_lib:libignored.so\ndeadlock:update_both\n")
        status, out, err, reports = with_rules("abba", tsan_file)
        expect(status == 0 and reports == [] and "0 reports (1 suppressed)" in err,
               f"deadlock:update_both: status {status}, {[r['summary'] for r in reports]} {err[-600:]!r}")
        warned = [l for l in lockrace_lines(err) if "can never match" in l]
        expect(len(warned) == 2 and any("thread:ignored_thread" in l for l in warned) and
               any("signal:ignored_signal" in l for l in warned), f"warnings: {lockrace_lines(err)}")
        # the same under the launcher: only the command itself warns
        status, out, err, reports = with_rules("abba", tsan_file, launcher=True)
        expect(status == 0 and reports == [], f"launcher: status {status}, {err[-600:]!r}")
        for rule, hidden in (("deadlock:date_bo", True), ("deadlock:^update_both$", True),
                             ("deadlock:^update", True), ("deadlock:both$", True), ("deadlock:upd*th", True),
                             ("deadlock:^both", False), ("deadlock:update$", False), ("race:update_both", False),
                             ("mutex:update_both", False), ("lock-order-inversion:^lock_a$", True),
                             ("lock-order-inversion:lock_", False), ("*:^lock_b$", True)):
            status, out, err, reports = with_rules("abba", rule + "\n")
            expect((status, len(reports)) == ((0, 0) if hidden else (66, 1)) and "can never match" not in err,
                   f"{rule}: status {status}, {len(reports)} reports, {err[-400:]!r}")
        # race covers data races and lost updates
        status, out, err, reports = run("counter_race")
        expect(status == 66 and reports, "counter_race reports")
        status, out, err, reports = with_rules("counter_race", "race:counter_race.c\n")
        expect(status == 0 and not [r for r in reports if r["kind"] != "summary"] and "suppressed)" in err,
               f"race: status {status}, {err[-400:]!r}")
        status, out, err, reports = with_rules("handoff", "race:^shared$\n", args=["none"])
        expect(status == 0 and not [r for r in reports if r["kind"] != "summary"],
               f"race: on the variable: status {status}, {[r['kind'] for r in reports]}")
        # race_top: the top frame only; race: any frame
        for rule, hidden in (("race_top:write_shared", True), ("race_top:first", False), ("race:first", True)):
            status, out, err, reports = with_rules("handoff", rule + "\n", args=["none"])
            expect(status == (0 if hidden else 66), f"{rule}: status {status}, {[r['kind'] for r in reports]}")
        # called_from_lib: a frame in that library (the constructor's edge in libearly_lib.so)
        for rule, hidden in (("called_from_lib:libearly_lib", True), ("called_from_lib:^libearly_lib.so$", True),
                             ("called_from_lib:libnothing.so", False), ("called_from_lib:early_lib.c", False)):
            status, out, err, reports = with_rules("early", rule + "\n")
            expect(status == (0 if hidden else 66), f"{rule}: status {status}, {[r['kind'] for r in reports]}")
        # mutex covers misuse
        status, out, err, reports = with_rules("misuse", "mutex:misuse.c\n", args=["unlock-not-held"])
        expect(status == 0 and reports == [], f"mutex: status {status}, {err[-400:]!r}")
        # a pattern that can never match: one line, the program runs on
        status, out, err, reports = with_rules("abba", "deadlock:update$both\n")
        warned = lockrace_lines(err)
        expect(status == 66 and len(reports) == 1 and len(warned) == 1 and "can never match" in warned[0]
               and "tsan.supp:1" in warned[0], f"update$both: {status} {warned}")


def run_raw(cmd, options, env_extra=None):
    """Runs a command under LD_PRELOAD with exactly these options."""
    env = dict(os.environ)
    env.update(env_extra or {}, LD_PRELOAD=PRELOAD, LOCKRACE_OPTIONS=options)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def lockrace_lines(err):
    """stderr lines that are lockrace's messages, not its reports."""
    return [l for l in err.splitlines() if l.startswith("lockrace:")]


def case_output_files():
    """Report files: never opened through a symbolic link, created 0600
    unless file_mode says otherwise; one that cannot be opened or written
    is said in one line and the program runs on, its text reports on
    stderr; a program that closes lockrace's descriptor and opens its own
    under the same number never gets reports written into its file."""
    with tempfile.TemporaryDirectory() as tmp:
        def abba(options, cmd=None):
            status, out, err = run_raw(cmd or [program("abba")], options)
            expect(status == 66 and "a=1 b=1" in out, f"{options}: status {status}, stdout {out!r}")
            if "log_path" not in options or "symbolic" in err:
                expect("lock-order-inversion: lock_a -> lock_b" in err, f"{options}: no report on stderr")
            return lockrace_lines(err)

        target = os.path.join(tmp, "target")
        link = os.path.join(tmp, "link.json")
        os.symlink(target, link)
        for options in (f"json={link}", f"log_dir={tmp}/missing", f"json={tmp}/missing/r.json",
                        "json=/dev/full"):
            lines = abba(options)
            expect(len(lines) == 1 and lines[0].startswith(f"lockrace: {options}: cannot "),
                   f"{options}: not one line naming it: {lines}")
        expect(not os.path.exists(target), "wrote through the symbolic link")
        expect("symbolic link" in abba(f"json={link}")[0], "the symbolic link is not named as the reason")
        # a device is not a regular file: refused at open (output_not_plain)
        expect("not a regular file" in abba("json=/dev/full")[0], "/dev/full: no reason given")
        # log_path=PREFIX writes PREFIX.PID: the shell plants a link there and execs
        prefix = os.path.join(tmp, "text")
        lines = abba(f"log_path={prefix}", ["sh", "-c", f'ln -s {target} {prefix}.$$ && exec "$0"', program("abba")])
        expect(len(lines) == 1 and "symbolic link" in lines[0] and "reports go to stderr" in lines[0],
               f"log_path through a link: {lines}")
        expect(not os.path.exists(target), "log_path wrote through the symbolic link")
        # a directory nobody may write in (root may write anywhere else)
        readonly = "/sys/kernel" if os.geteuid() == 0 else os.path.join(tmp, "ro")
        if readonly != "/sys/kernel":
            os.mkdir(readonly, 0o555)
        lines = abba(f"log_dir={readonly}")
        expect(len(lines) == 1 and "Permission denied" in lines[0], f"read-only log_dir: {lines}")

        # a full file system, where root can make one
        full = os.path.join(tmp, "full")
        os.mkdir(full)
        if os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", full],
                                                capture_output=True).returncode == 0:
            try:
                fd = os.open(os.path.join(full, "filler"), os.O_WRONLY | os.O_CREAT)
                try:
                    while os.write(fd, b"x" * 512) > 0:
                        pass
                except OSError:
                    pass
                os.close(fd)
                for options in (f"log_dir={full}", f"log_path={full}/text", f"json={full}/r.json"):
                    lines = abba(options)
                    expect(len(lines) == 1 and "No space left on device" in lines[0] and
                           lines[0].startswith(f"lockrace: {options}: cannot write"), f"{options}, full: {lines}")
            finally:
                subprocess.run(["umount", full])
        else:
            # a write that fails all the same: past RLIMIT_FSIZE, with SIGXFSZ ignored (kept across exec)
            import resource
            import signal

            def small_files():
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))
            print("output_files: no tmpfs mount here: a failed write is tried past RLIMIT_FSIZE")
            options = f"json={tmp}/big.json"
            p = subprocess.run([program("abba")], env=dict(os.environ, LD_PRELOAD=PRELOAD, LOCKRACE_OPTIONS=options),
                               capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=small_files)
            lines = lockrace_lines(p.stderr)
            expect(p.returncode == 66 and len(lines) >= 1 and "File too large" in lines[0] and
                   lines[0].startswith(f"lockrace: {options}: cannot write"), f"{options}, too large: {lines}")

        # modes: 0600 by default (the umask can only take away), or file_mode
        old = os.umask(0o022)
        try:
            for options, mode in ((f"json={tmp}/a.json", 0o600), (f"json={tmp}/b.json:file_mode=0640", 0o640),
                                  (f"log_path={tmp}/c", 0o600), (f"log_dir={tmp}", 0o600)):
                before = set(os.listdir(tmp))
                expect(abba(options) == [], f"{options}: messages")
                made = [f for f in set(os.listdir(tmp)) - before]
                expect(len(made) == 1, f"{options}: files made {made}")
                got = os.stat(os.path.join(tmp, made[0])).st_mode & 0o777
                expect(got == mode, f"{options}: mode {oct(got)}, not {oct(mode)}")
        finally:
            os.umask(old)
        p = subprocess.run([LAUNCHER, "--sarif", link, "--", program("abba")], capture_output=True, text=True,
                           timeout=TIMEOUT)
        expect(p.returncode == 2 and f"--sarif {link}: cannot write it (it is a symbolic link" in p.stderr,
               f"launcher --sarif through a link: {p.returncode} {p.stderr!r}")

        own = os.path.join(tmp, "own")
        for options in (f"json={tmp}/reuse.json", f"log_dir={tmp}"):
            status, out, err = run_raw([program("fd_reuse"), own], options)
            expect(status == 66 and "file intact" in out, f"fd_reuse {options}: {status} {out!r} {err[-800:]}")
        reports = [json.loads(l) for l in open(f"{tmp}/reuse.json")]
        expect(len(reports) == 1 and reports[0]["kind"] == "lock-order-inversion",
               f"fd_reuse: json file has {len(reports)} reports")


def run_bounded(cmd, env, timeout=20):
    """Runs cmd; (status, stdout, stderr), status None when it was still
    running after `timeout` seconds (it is killed then)."""
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        def text(b):
            return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")
        return None, text(e.stdout), text(e.stderr)


def case_output_not_plain():
    """Report files that are not plain files of the user's own: a FIFO (no
    reader: open() would wait for one forever) or a file another user made
    beforehand (where fs.protected_regular is off, lockrace would write the
    report into it, for that user to read). At json=, at log_path's
    PREFIX.PID, at the launcher's --json, --sarif and --junit: one line
    naming the path and what is accepted, the reports on stderr, the
    program and the launcher unharmed, the other user's file untouched."""
    other = os.geteuid() == 0
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "fifo")
        os.mkfifo(fifo)
        owned = os.path.join(tmp, "owned")

        def plant_owned(path):
            with open(path, "w") as f:
                f.write("another user's data\n")
            os.chown(path, 65534, 65534)    # nobody

        def check(what, status, out, err, want_status=66, mention=None):
            expect(status is not None, f"{what}: still running after 20 s (blocked in open?): {err[-400:]!r}")
            expect(status == want_status, f"{what}: status {status}, not {want_status}: {err[-800:]!r}")
            lines = [l for l in lockrace_lines(err) if not l.startswith("lockrace: 1 report")]
            expect(len(lines) == 1 and (mention or "") in lines[0] and
                   ("not a regular file" in lines[0] or "belongs to" in lines[0]),
                   f"{what}: not one line saying why: {lines}")
            expect("lock-order-inversion: lock_a -> lock_b" in err, f"{what}: the report is not on stderr")

        env = dict(os.environ, LD_PRELOAD=PRELOAD)
        env.pop("LOCKRACE_OPTIONS", None)
        targets = [("FIFO", fifo, None)]
        if other:
            targets.append(("another user's file", owned, plant_owned))
        else:
            print("output_not_plain: not root: another user's file is not tried")
        for what, path, plant in targets:
            if plant:
                plant(path)
            status, out, err = run_bounded([program("abba")], dict(env, LOCKRACE_OPTIONS=f"json={path}"))
            check(f"{what} at json=", status, out, err, mention=f"json={path}")
            expect("a=1 b=1" in out, f"{what} at json=: stdout {out!r}")
            # log_path=PREFIX writes PREFIX.PID: the shell plants it and execs
            prefix = os.path.join(tmp, "text")
            make = f"mkfifo {prefix}.$$" if plant is None else \
                f"echo \"another user's data\" > {prefix}.$$ && chown 65534:65534 {prefix}.$$"
            status, out, err = run_bounded(["sh", "-c", f'{make} && exec "$0"', program("abba")],
                                           dict(env, LOCKRACE_OPTIONS=f"log_path={prefix}"))
            check(f"{what} at log_path", status, out, err, mention=f"log_path={prefix}")
            # the launcher: --json is the library's, --sarif and --junit its own
            lenv = dict(env)
            lenv.pop("LD_PRELOAD")
            status, out, err = run_bounded([LAUNCHER, "--json", path, "--", program("abba")], lenv)
            check(f"{what} at the launcher's --json", status, out, err, mention=f"json={path}")
            for flag in ("--sarif", "--junit"):
                status, out, err = run_bounded([LAUNCHER, flag, path, "--", program("abba")], lenv)
                expect(status is not None, f"{what} at {flag}: the launcher is still running after 20 s")
                lines = lockrace_lines(err)
                expect(status == 2 and len(lines) == 1 and f"{flag} {path}" in lines[0] and
                       ("not a regular file" in lines[0] or "belongs to" in lines[0]),
                       f"{what} at {flag}: status {status}, {lines}")
            if plant:
                for p in (path, *(os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith("text."))):
                    expect(open(p).read() == "another user's data\n", f"{p}: another user's file was written to")
                for f in os.listdir(tmp):
                    if f.startswith("text."):
                        os.unlink(os.path.join(tmp, f))
            else:
                for f in os.listdir(tmp):
                    if f.startswith("text."):
                        os.unlink(os.path.join(tmp, f))


def case_stderr_hazards():
    """Text reports on stderr, whatever the program did to it: a
    non-blocking pipe whose reader is slow gets the whole report (lockrace
    waits for room, as a blocking write would), and a program that closed
    descriptor 2 and opened its own file there never finds the report in
    that file: it goes to the stderr the program started with."""
    import fcntl
    import threading
    import time
    env = dict(os.environ, LD_PRELOAD=PRELOAD)
    env.pop("LOCKRACE_OPTIONS", None)
    # a one-page pipe, filled but for 64 bytes before the program starts,
    # read from 1 s later, 256 bytes every 20 ms
    r, w = os.pipe()
    fcntl.fcntl(w, 1031, 4096)      # F_SETPIPE_SZ
    os.write(w, b"x" * (4096 - 64))
    os.set_blocking(w, False)
    p = subprocess.Popen([program("abba")], stdout=subprocess.PIPE, stderr=w, env=env)
    os.close(w)
    got = bytearray()
    time.sleep(1)
    while True:
        chunk = os.read(r, 256)
        if not chunk:
            break
        got += chunk
        time.sleep(0.02)
    os.close(r)
    out = p.stdout.read().decode()
    status = p.wait(timeout=TIMEOUT)
    err = got[4096 - 64:].decode(errors="replace")
    expect(status == 66 and "a=1 b=1" in out, f"non-blocking stderr: status {status}, stdout {out!r}")
    expect("lock-order-inversion: lock_a -> lock_b" in err and "T2 (worker-2) was created by T0" in err and
           re.search(r"lockrace: 1 report .*\n$", err), f"non-blocking stderr: the report is not whole: {err!r}")
    # descriptor 2 closed and reused for the program's own file
    with tempfile.TemporaryDirectory() as tmp:
        own = os.path.join(tmp, "own")
        status, out, err = run_raw([program("fd_reuse"), own, "stderr"], "")
        expect(status == 66 and "file intact" in out, f"stderr reused: status {status}, stdout {out!r}, "
               f"file {open(own).read()[:300]!r}")
        expect(re.search(r"lock-order-inversion: (a -> b|b -> a)", err), f"stderr reused: no report on the first stderr: {err!r}")


def case_exit_status():
    """The exit status of a process that reported: the program's own when
    it failed (non-zero, as its parent sees it: exit(256) is 0), exitcode
    (66) when it succeeded, however it ended: returning from main, exit,
    _exit or _Exit; the summary line says which. Without a report, or in a
    vfork child (whose memory, reports included, is its parent's), the
    program's own."""
    def summary(err):
        lines = [l for l in err.splitlines() if re.match(r"==\d+== lockrace: \d+ report", l)]
        return lines[0] if len(lines) == 1 else f"{len(lines)} summary lines"

    for how in ("return", "exit", "_exit", "_Exit"):
        for own, options, want in ((0, "", 66), (3, "", 3), (256, "", 66), (0, "exitcode=9", 9),
                                   (0, "exitcode=0", 0), (3, "exitcode=0", 3)):
            status, out, err = run_raw([program("exit_after_report"), how, str(own)], options)
            what = f"{how}({own}) {options}"
            expect(status == want, f"{what}: exit status {status}, not {want}")
            expect(f"exit_after_report: {how}({own})" in out and err.count("lock-order-inversion: ") == 2,
                   f"{what}: stdout {out!r}, stderr {err[-600:]!r}")
            line = summary(err)
            if options == "exitcode=0":
                ok = line.endswith("lockrace: 1 report (lock-order-inversion: 1)")
            elif want != own % 256:
                ok = line.endswith(f"; exit status {want} (the program's was {own % 256}; exitcode=0 keeps it)")
            else:
                ok = line.endswith(f"; exit status {own} (the program's own; exitcode=66 replaces only a 0)")
            expect(ok, f"{what}: summary {line!r}")
        for own in (0, 3):
            status, out, err = run_raw([program("exit_after_report"), how, str(own), "clean"], "")
            expect(status == own and "lockrace" not in err, f"{how}({own}) clean: status {status}, {err!r}")
    status, out, err = run_raw([program("exit_after_report"), "vfork", "0"], "")
    expect(status == 66 and "the vfork child ended with 0" in out, f"vfork: status {status}, stdout {out!r}")
    status, out, err = run_raw([program("exit_after_report"), "vfork", "5"], "")
    expect(status == 66 and "the vfork child ended with 5" in out, f"vfork: status {status}, stdout {out!r}")
    # the launcher's status agrees
    p = subprocess.run([LAUNCHER, "--", program("exit_after_report"), "_exit", "0"], capture_output=True,
                       text=True, timeout=TIMEOUT, env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
    expect(p.returncode == 66, f"launcher, _exit(0): {p.returncode}")


def case_crash_after_report():
    """A program killed, crashing or aborting right after a report: the
    report is whole in every output (text log, JSON file, run directory),
    lockrace adds nothing after it, and the program ends as it does alone."""
    for mode, sig in (("kill", 9), ("segv", 11), ("abort", 6), ("exit", 0)):
        native_status, native_out = native("crash_after_report", [mode])
        with tempfile.TemporaryDirectory() as tmp:
            os.mkdir(f"{tmp}/dir")
            status, out, err = run_raw([program("crash_after_report"), mode],
                                       f"json={tmp}/r.json:log_path={tmp}/text:log_dir={tmp}/dir:exitcode=0")
            expect(status == native_status == -sig and out == native_out,
                   f"{mode}: status {status} (natively {native_status}), stdout {out!r}")
            expect(lockrace_lines(err) == [] and "crash_after_report" not in err.replace("crash_after_report.c", ""),
                   f"{mode}: stderr {err[-500:]!r}")
            reports = [json.loads(l) for l in open(f"{tmp}/r.json")]
            expect(len(reports) == 1, f"{mode}: {len(reports)} JSON reports")
            check_inversion(reports[0], ["crash_a", "crash_b"], "crash_after_report.c")
            dirs = os.listdir(f"{tmp}/dir")
            lines = [json.loads(l) for l in open(f"{tmp}/dir/{dirs[0]}")] if len(dirs) == 1 else []
            # an exit record only for the process that exited
            expect([l["kind"] for l in lines] == ["process", "lock-order-inversion"] + ([] if sig else ["exit"]),
                   f"{mode}: run directory {dirs} {lines}")
            texts = [f for f in os.listdir(tmp) if f.startswith("text.")]
            text = open(f"{tmp}/{texts[0]}").read() if len(texts) == 1 else ""
            expect(text.count("lock-order-inversion: crash_a -> crash_b") == 1 and
                   "T1 was created by T0 at:" in text and text.endswith("\n\n" if sig else "lockrace: 1 report (lock-order-inversion: 1)\n"),
                   f"{mode}: text log {texts}: {text[-300:]!r}")
    status, out, err, reports = run("crash_after_report", ["segv"], launcher=True)
    expect(status == 128 + 11 and len(reports) == 1, f"launcher, segv: status {status}, {len(reports)} reports")


def case_fork_exec():
    """fork() while other threads hold the program's locks and lockrace's
    own; each child takes locks and execs: none hangs, each exec'd image
    reports its own inversion, the parent none."""
    status, out, err, reports = run("fork_exec")
    expect(status == 0 and "10 children, 0 failed" in out, f"status {status}: {out} {err[-1500:]}")
    expect(len(reports) == 10 and len({r["pid"] for r in reports}) == 10, f"{len(reports)} reports")
    for r in reports:
        check_inversion(r, ["exec_a", "exec_b"], "fork_exec.c", single_thread=True)


def case_dlopen():
    """A library loaded and unloaded 40 times, whose locks come back at the
    same address each time: no report from that; the load that takes them
    in both orders: one inversion, with the library's file:line."""
    lib = os.path.join(BUILD, "tests/integration/libdl_lib.so")
    expect_clean("dl_locks", [lib])
    r, _ = expect_one_inversion("dl_locks", ["dl_first", "dl_second"], "dl_lib.c", args=[lib, "backward"])


def case_dlopen_moved():
    """The same inversion in a library loaded again at another address:
    other locks, the same lines of the same library, the same bug: one
    report, not one per load."""
    lib = os.path.join(BUILD, "tests/integration/libdl_lib.so")
    expect_one_inversion("dl_locks", ["dl_first", "dl_second"], "dl_lib.c", args=[lib, "moved"])


def case_signal_storm():
    """Signal handlers that lock a mutex, sent thousands of times to threads
    inside lockrace's wrappers: no report, no hang, the same sums."""
    _, native_out = native("signal_storm")
    status, out, err, reports = run("signal_storm")
    expect(status == 0 and out == native_out and reports == [], f"status {status}, {out!r} vs {native_out!r}, "
           f"{[r['summary'] for r in reports]} {err[-500:]}")


def case_bad_suppressions():
    """Suppressions files that are not: binary garbage, an endless device,
    a directory, a missing file, bad kinds shown with control bytes. Each
    stops the program before it runs with one line that names the file
    (and line) and says what is expected."""
    with tempfile.TemporaryDirectory() as tmp:
        def write(name, data):
            return write_file(tmp, name, data)
        rng = random.Random(7)
        cases = [(write("random.supp", bytes(rng.randrange(256) for _ in range(5000))), ":1: "),
                 (write("nul.supp", b"lock-order-inversion:abc\0def\n"), ":1: "),
                 (write("escape.supp", b"\x1b[31mdeadlock:x\n"), ":1: byte 0x1b at column 1: not a text file"),
                 (write("kind.supp", b"# latin-1\ndead\xefl\xf6ck:x\n"), ":2: unknown kind 'dead\\xefl\\xf6ck'"),
                 (write("long.supp", b"misuse:" + b"x" * 5000 + b"\n"), ":1: line too long"),
                 (program("abba"), ":1: "),
                 ("/dev/zero", ": over 16 MiB"),
                 (tmp, "cannot read"),
                 (os.path.join(tmp, "missing.supp"), "cannot open")]
        for path, what in cases:
            p = subprocess.run([program("abba")], capture_output=True, timeout=TIMEOUT,
                               env=dict(os.environ, LD_PRELOAD=PRELOAD, LOCKRACE_OPTIONS=f"suppressions={path}"))
            err = p.stderr.decode(errors="replace")
            lines = err.splitlines()
            expect(p.returncode == 2 and p.stdout == b"" and len(lines) == 1 and
                   lines[0].startswith(f"lockrace: suppressions={path}") and what in lines[0],
                   f"{path}: status {p.returncode}, {err[:400]!r}")
            expect("\x1b" not in lines[0] and "\ufffd" not in lines[0] and len(lines[0]) < 600,
                   f"{path}: the input is not shown escaped and cut: {lines[0]!r}")
        # a file with a byte-order mark and Windows line ends is still text
        path = write("windows.supp", b"\xef\xbb\xbf# comment\r\nlock-order-inversion:audit_*\r\n")
        status, out, err, reports = run("abba", options=f"suppressions={path}")
        expect(status == 0 and reports == [] and "1 suppressed" in err, f"{path}: {status} {err[-300:]!r}")


def case_signal_unattached():
    """A signal handler that locks a mutex in a thread lockrace has not met
    yet, which the signal caught inside pthread_getattr_np: no hang."""
    status, out, err, reports = run("signal_unattached", timeout=30)
    expect(status == 0 and "200 threads" in out and reports == [],
           f"status {status} (None: hung), {out!r}, {[r['summary'] for r in reports]} {err[-500:]}")


def watched(name, args, spec, launcher=False):
    """Runs a program built without annotations with watch=spec."""
    if launcher:
        return run(name, args, launcher=True, launcher_args=["--watch", spec])
    return run(name, args, options=f"watch={spec}")


def expect_counted(reports, lost, what):
    """The lost updates lockrace counted (the summary's, observed) are what
    the program lost."""
    counted = sum(x["observed"] for x in race_summary(reports)["lost_updates"])
    expect(counted == lost, f"{what}: counted {counted}, program lost {lost}")


def check_observed_loss(r, var, source, what):
    """An observed lost update: read, write, read, write with values, at
    the program's lines."""
    expect(r["variable"]["name"] == var, f"{what}: variable {r['variable']}")
    ops = [a["op"] for a in r["accesses"]]
    expect(ops == ["read", "write", "read", "write"], f"{what}: ops {ops}")
    for i, a in enumerate(r["accesses"]):
        check_race_access(a, ops[i], source, f"{what}: access {i}")
        expect("value" in a, f"{what}: access {i} has no value")
    a = r["accesses"]
    expect(a[1]["value"] == a[0]["value"] + 1 and a[3]["value"] == a[2]["value"] + 1,
           f"{what}: values {[x['value'] for x in a]}")


def case_watch_syscall_buffers():
    """A watched buffer filled by read(2) or recv(2), or emptied by
    write(2), in one thread while another thread touches it with no order
    between them: the system call is one side of a data race, at the
    program's call of it. Under one mutex: clean."""
    status, out, err, reports = watched("syscall_buffers", ["locked"], "inbox,outbox")
    expect(status == 0 and reports == [], f"locked: status {status}, reports {reports}\n{err}")
    for mode, var, ops, caller in (("read-into", "inbox", ["write", "read"], "fill_inbox"),
                                   ("recv-into", "inbox", ["write", "read"], "fill_inbox"),
                                   ("write-out", "outbox", ["write", "read"], "second")):
        status, out, err, reports = watched("syscall_buffers", [mode], "inbox,outbox")
        expect(status == 66, f"{mode}: status {status}\n{err}")
        races = findings(reports, "data-race")
        expect(len(races) == 1, f"{mode}: {len(races)} data races\n{err}")
        r = races[0]
        expect(r["variable"]["name"].startswith(var), f"{mode}: variable {r['variable']}")
        got = [a["op"] for a in r["accesses"]]
        expect(got == ops, f"{mode}: ops {got}")
        functions = [a["stack"][0]["function"] for a in r["accesses"]]
        syscall_side = 0 if mode != "write-out" else 1
        expect(functions[syscall_side] == caller,
               f"{mode}: the system call's side is at {functions[syscall_side]}, not {caller}")
        for a in r["accesses"]:
            check_frames(a["stack"], "syscall_buffers.c", f"{mode} stack")


def case_watch_counter():
    """The unannotated counter, watched by name from the launcher: the lost
    update observed with its values and lines, and the count at exit equal
    to what the program lost (every access went through lockrace)."""
    for attempt in range(3):
        status, out, err, reports = watched("counter_plain", ["racy", "200000"], "counter", launcher=True)
        expect(status == 66, f"status {status}: {err[-800:]}")
        m = re.search(r"expected (\d+), got (\d+)", out)
        expect(m, f"output {out!r}")
        lost = int(m.group(1)) - int(m.group(2))
        expect(findings(reports, "data-race") == [], "data races reported besides the lost update")
        if lost == 0:
            continue
        lu = findings(reports, "lost-update")
        expect(len(lu) == 1, f"{len(lu)} lost-update reports")
        expect_counted(reports, lost, f"run {attempt}")
        expect(lu[0]["certainty"] == "observed", f"certainty {lu[0]['certainty']}")
        check_observed_loss(lu[0], "counter", "counter_plain.c", "counter")
        lines = [a["stack"][0]["line"] for a in lu[0]["accesses"]]
        expect(lines[0] == lines[2] and lines[1] == lines[3] and lines[1] == lines[0] + 2,
               f"lines {lines}")
        expect("lost-update on counter" in err, "text report")
        return
    raise Failure("three runs lost no update")


def case_watch_wording():
    """Each sentence of a report states only what happened, in its order:
    a lock held across a whole increment is not said to be released in
    between, and a read that came before another thread's increment is
    the first access of the data race, in the text and the JSON."""
    status, out, err, reports = watched("watch_wording", ["locked-one-side"], "hits,seen")
    lu = findings(reports, "lost-update")
    expect(status == 66 and lu, f"locked-one-side: status {status}\n{err[-800:]}")
    expect("released it in between" not in err, f"a lock said released that never was:\n{err[-1500:]}")
    for r in lu:
        for a in r["accesses"]:
            expect("locks_released_since_read" not in a, f"access {a}")
    status, out, err, reports = watched("watch_wording", ["read-then-increment"], "hits,seen")
    races = findings(reports, "data-race")
    expect(status == 66 and len(races) == 1, f"read-then-increment: status {status}, "
           f"{[r.get('summary') for r in reports]}\n{err[-800:]}")
    r = races[0]
    ops = [a["op"] for a in r["accesses"]]
    functions = [a["stack"][0]["function"] for a in r["accesses"]]
    expect(ops == ["read", "write"] and functions == ["reader", "incrementer"],
           f"accesses in the wrong order: {ops} {functions}")
    m = re.search(r"data-race on seen \(8 bytes at 0x[0-9a-f]+\): (T\d+) read, then (T\d+) wrote", err)
    expect(m and m.group(1) != m.group(2), f"text: {err[-1500:]}")
    # a one-instruction counter++ is atomic while watched: nothing lost,
    # the lost update possible, and the text says why none was seen
    status, out, err, reports = watched("counter_plain", ["increment", "100000"], "counter")
    lu = findings(reports, "lost-update")
    expect(status == 66 and len(lu) == 1 and lu[0]["certainty"] == "possible",
           f"increment: status {status}, {[r.get('summary') for r in reports]}")
    expect("0 increments lost" in out, f"increment: output {out!r}")
    expect("which watching makes atomic" in err, f"increment: text {err[-1500:]}")


def case_watch_all():
    """watch=*: every global and static variable of the program, none
    named. The racy ones are found (a function's static, a global), each
    reported as for a named variable; variables set before the threads
    start and only read after, one under a mutex and each thread's own
    element of an array stay quiet. A glob watches only what it matches."""
    status, out, err, reports = watched("watch_all", ["clean"], "*")
    nstatus, nout = native("watch_all", ["clean"])
    expect(status == 0 and reports == [], f"clean: status {status}, "
           f"{[r.get('summary') for r in reports]}\n{err[-1500:]}")
    expect(out == nout, f"clean: output differs from the native run:\n{out}\n---\n{nout}")
    expect("lockrace" not in err, f"clean: lockrace wrote {err[-800:]!r}")
    status, out, err, reports = watched("watch_all", ["racy"], "*")
    expect(status == 66, f"racy: status {status}\n{err[-800:]}")
    reported = {r["variable"]["name"] for r in reports if r.get("kind") in ("data-race", "lost-update")}
    expect(reported == {"hidden_total", "stats_misses"}, f"racy: reported on {reported}\n{err[-1500:]}")
    for r in findings(reports, "lost-update"):
        for i, a in enumerate(r["accesses"]):
            check_race_access(a, a["op"], "watch_all.c", f"{r['variable']['name']}: access {i}")
    # a glob: only the variables it matches
    status, out, err, reports = watched("watch_all", ["racy"], "stats_*")
    reported = {r["variable"]["name"] for r in reports if r.get("kind") in ("data-race", "lost-update")}
    expect(status == 66 and reported == {"stats_misses"}, f"stats_*: status {status}, reported on "
           f"{reported}\n{err[-1500:]}")
    status, out, err, reports = watched("watch_all", ["racy"], "nothing_*")
    expect(status == 0 and reports == [], f"nothing_*: status {status} {err[-500:]}")
    # the launcher's --watch takes them too; a demo's one racy global found unnamed
    status, out, err, reports = watched("counter_plain", ["racy", "20000"], "*", launcher=True)
    reported = {r["variable"]["name"] for r in reports if r.get("kind") in ("data-race", "lost-update")}
    expect(status == 66 and reported == {"counter"}, f"counter_plain: status {status}, reported on "
           f"{reported}\n{err[-1500:]}")


def case_watch_escape():
    """A named variable whose address is passed to a function called
    through a pointer, stored in memory or returned is watched, and one line at
    start says that accesses through that address are not seen; one only
    ever reached directly, passed to a function called directly (followed
    into it), or kept in a register across the calls of a loop (followed
    over the loop), gets no line. A glob's variables get none."""
    status, out, err, reports = watched("watch_escape", [], "g_total,stored,returned,balance,plain,passed")
    expect(status == 0 and reports == [], f"status {status}, {[r.get('summary') for r in reports]}")
    for var in ("g_total", "stored", "returned"):
        expect(re.search(rf"lockrace: watch={var}: its address is also stored, returned, passed to a function "
                         r"lockrace does not follow, or used by an instruction it cannot move "
                         r"\(\d+ places?, the first at watch_escape\+0x[0-9a-f]+\)",
                         err), f"{var}: no line says its address escapes:\n{err}")
    expect("watch=plain" not in err and "watch=passed" not in err and "watch=balance" not in err,
           f"plain, passed, balance: {err}")
    status, out, err, reports = watched("watch_escape", [], "*")
    expect(status == 0 and "lockrace" not in err, f"*: status {status} {err}")


def hoist_shape():
    """What check_watch_hoist rests on, in the compiled program: deposit()
    loads balance's address once, into a callee-saved register, and reads
    and writes through it after a call of pthread_mutex_lock in a loop;
    fill() moves a pointer into tape along by an add in a loop, writing a
    byte through it. Asserted when objdump is here."""
    if not shutil.which("objdump"):
        return
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", program("watch_hoist")],
                          capture_output=True, text=True, timeout=TIMEOUT).stdout
    def body(fn):
        m = re.search(rf"<{fn}>:\n(.*?)\n\n", text, re.S)
        expect(m, f"objdump: no function {fn}")
        return m.group(1)
    deposit = body("deposit")
    m = re.search(r"lea\s+0x[0-9a-f]+\(%rip\),%(r1[2-5]|rbx|rbp)\s+# [0-9a-f]+ <balance>", deposit)
    expect(m, f"deposit: no lea of balance into a callee-saved register:\n{deposit}")
    reg = m.group(1)
    after = deposit[m.end():]
    expect(re.search(rf"call\s+[0-9a-f]+ <pthread_mutex_lock@plt>\n(.*\n)*?.*\(%{reg},", after) and
           len(re.findall(rf"lea\s+0x[0-9a-f]+\(%rip\),%\w+\s+# [0-9a-f]+ <balance>", deposit)) == 1,
           f"deposit: balance not reached through %{reg} after the lock call:\n{deposit}")
    fill = body("fill")
    m = re.search(r"([0-9a-f]+):\s+mov\s+%\w+l,\(%(\w+)\)\n.*add\s+\$0x1,%(\w+)\n(.*\n)*?.*jne\s+([0-9a-f]+)", fill)
    expect("<tape>" in fill and m and m.group(2) == m.group(3) and m.group(1) == m.group(5),
           f"fill: no byte store through a pointer walking a loop:\n{fill}")


def case_watch_hoist():
    """Accesses through a pointer kept past the straight line after its
    load (hoist_shape: the compiled code): a loop's `lea balance(%rip)`
    hoisted into a callee-saved register and used after each
    pthread_mutex_lock, and a pointer walking a char array. Two threads
    that update balance[15] under different locks lose updates, observed,
    at the line of the update, and the count at exit is what the program
    lost; under one lock, nothing. Two threads writing neighbouring bytes
    of one word of tape: nothing; both writing tape[16]: a data race on
    that byte. No line says an address escapes: none does."""
    hoist_shape()
    src = "watch_hoist.c"
    update = marked_line(src, "/* the update */")
    for attempt in range(3):
        status, out, err, reports = watched("watch_hoist", ["racy", "20000"], "balance,tape")
        expect("lockrace: watch=" not in err, f"racy: {err[:1000]}")
        m = re.search(r"expected (\d+), got (\d+)", out)
        expect(status == 66 and m, f"racy: status {status}, {out!r}\n{err[-1500:]}")
        lu = findings(reports, "lost-update")
        expect(len(lu) == 1 and not findings(reports, "data-race"),
               f"racy: {[r.get('summary') for r in reports]}")
        r = lu[0]
        expect(r["variable"]["name"] == "balance[15]", f"racy: variable {r['variable']}")
        lines = [a["stack"][0].get("line") for a in r["accesses"]]
        expect(lines == [update] * 4 and all(a["stack"][0].get("function") == "deposit" for a in r["accesses"]),
               f"racy: lines {lines}, expected {update}")
        lost = int(m.group(1)) - int(m.group(2))
        if lost == 0:
            continue
        expect_counted(reports, lost, f"racy, run {attempt}")
        check_observed_loss(r, "balance[15]", src, "racy")
        break
    else:
        raise Failure("racy: three runs lost no update")
    status, out, err, reports = watched("watch_hoist", ["locked", "20000"], "balance,tape")
    expect(status == 0 and reports == [] and " 0 lost" in out and "lockrace" not in err,
           f"locked: status {status}, {out!r}, {[r.get('summary') for r in reports]}\n{err[-1500:]}")
    status, out, err, reports = watched("watch_hoist", ["bytes", "2000"], "balance,tape")
    expect(status == 0 and reports == [] and "lockrace" not in err,
           f"bytes: status {status}, {[r.get('summary') for r in reports]}\n{err[-1500:]}")
    # the race engine keeps one access per thread per word: the race is
    # seen when the second thread writes tape[16] after the first one's
    # write of it, which many rounds make sure of on a loaded machine
    status, out, err, reports = watched("watch_hoist", ["shared", "20000"], "balance,tape")
    races = findings(reports, "data-race")
    expect(status == 66 and len(races) == 1 and not findings(reports, "lost-update"),
           f"shared: status {status}, {[r.get('summary') for r in reports]}\n{err[-1500:]}")
    expect(races[0]["variable"]["name"] == "tape[16]", f"shared: variable {races[0]['variable']}")
    written = marked_line(src, "/* the byte written */")
    for i, a in enumerate(races[0]["accesses"]):
        check_race_access(a, "write", src, f"shared: access {i}")
        expect(a["stack"][0].get("line") == written, f"shared: access {i} at {a['stack'][0]}")


def marked_line(source, mark):
    """The line of tests/integration/programs/SOURCE that carries MARK."""
    with open(os.path.join(SOURCE, "tests", "integration", "programs", source)) as f:
        for n, line in enumerate(f, 1):
            if mark in line:
                return n
    raise Failure(f"{source}: no line marks {mark}")


def case_watch_callee():
    """A watched variable reached only in a callee, through the pointer the
    caller passes in an argument register: the unlocked store of two
    threads is a data race, the unlocked read and write a lost update, at
    the callee's lines (the caller's under them), and the count at exit is
    what the program lost. The same callees called with each thread's own
    variable report nothing; through a function that passes the pointer
    on, the same at the inner callee's lines; under the one lock, nothing
    at all. Their
    addresses go nowhere else: no line says they escape. A callee with
    branches, a loop and calls of its own computes what it computes
    natively, its accesses before its first call are seen, and one line
    says what comes after is not."""
    src = "watch_callee.c"
    status, out, err, reports = watched("watch_callee", ["store", "20000"], "g_total,g_sum")
    expect("lockrace: watch=" not in err, f"store: {err[:1000]}")
    races = findings(reports, "data-race")
    expect(status == 66 and len(races) == 1 and races[0]["variable"]["name"] == "g_total",
           f"store: status {status}, {[r.get('summary') for r in reports]}\n{err[-1500:]}")
    for i, a in enumerate(races[0]["accesses"]):
        check_race_access(a, "write", src, f"store: access {i}")
        top = a["stack"][0]
        expect(top.get("function") == "store" and top.get("line") == marked_line(src, "/* the store */"),
               f"store: access {i} at {top}")
        expect(len(a["stack"]) > 1 and a["stack"][1].get("function") == "worker",
               f"store: access {i}: the caller is not under it: {a['stack'][:3]}")
    for attempt in range(3):
        status, out, err, reports = watched("watch_callee", ["add", "100000"], "g_total,g_sum")
        expect("lockrace: watch=" not in err, f"add: {err[:1000]}")
        m = re.search(r"sum expected (\d+), got (\d+)", out)
        expect(status == 66 and m, f"add: status {status}, {out!r}\n{err[-1500:]}")
        expect({r["variable"]["name"] for r in reports if r.get("kind") in ("data-race", "lost-update")} ==
               {"g_sum"}, f"add: {[r.get('summary') for r in reports]}")
        lost = int(m.group(1)) - int(m.group(2))
        lu = findings(reports, "lost-update")
        expect(len(lu) == 1, f"add: {len(lu)} lost-update reports")
        if lost == 0:
            continue
        expect_counted(reports, lost, f"add, run {attempt}")
        check_observed_loss(lu[0], "g_sum", src, "add")
        lines = [a["stack"][0]["line"] for a in lu[0]["accesses"]]
        read, write = marked_line(src, "/* the read */"), marked_line(src, "/* the write */")
        expect(lines == [read, write, read, write] and
               all(a["stack"][0].get("function") == "add" for a in lu[0]["accesses"]),
               f"add: lines {lines}, expected the callee's {read} and {write}")
        break
    else:
        raise Failure("add: three runs lost no update")
    # one level further: relay() passes the pointer on to add()
    for attempt in range(3):
        status, out, err, reports = watched("watch_callee", ["nested", "100000"], "g_relayed")
        m = re.search(r"relayed expected (\d+), got (\d+)", out)
        expect(status == 66 and m and "lockrace: watch=" not in err,
               f"nested: status {status}, {out!r}\n{err[-1500:]}")
        lu = findings(reports, "lost-update")
        expect(len(lu) == 1 and lu[0]["variable"]["name"] == "g_relayed",
               f"nested: {[r.get('summary') for r in reports]}")
        for a in lu[0]["accesses"]:
            expect([f.get("function") for f in a["stack"][:2]] == ["add", "relay"],
                   f"nested: an access at {a['stack'][:3]}")
        lost = int(m.group(1)) - int(m.group(2))
        if lost == 0:
            continue
        expect_counted(reports, lost, f"nested, run {attempt}")
        check_observed_loss(lu[0], "g_relayed", src, "nested")
        break
    else:
        raise Failure("nested: three runs lost no update")
    status, out, err, reports = watched("watch_callee", ["locked", "20000"], "g_total,g_sum,g_relayed")
    expect(status == 0 and reports == [] and out.count(" 0 lost") == 2 and "lockrace" not in err,
           f"locked: status {status}, {out!r}, {[r.get('summary') for r in reports]}\n{err[-1500:]}")
    status, out, err, reports = watched("watch_callee", ["calls", "20000"], "g_tally")
    nstatus, nout = native("watch_callee", ["calls", "20000"])
    expect(out.splitlines()[:1] == nout.splitlines()[:1] and out.startswith("tally "),
           f"calls: {out!r}, natively {nout!r}")
    found = [r for r in reports if r.get("kind") in ("data-race", "lost-update")]
    expect(status == 66 and found and all(r["variable"]["name"] == "g_tally" for r in found),
           f"calls: status {status}, {[r.get('summary') for r in reports]}\n{err[-1500:]}")
    for r in found:
        for i, a in enumerate(r["accesses"]):
            expect(a["stack"][0].get("function") == "tally", f"calls: access {i} at {a['stack'][0]}")
    expect(re.search(r"lockrace: watch=g_tally: its address is also stored, returned, passed to a function "
                     r"lockrace does not follow, or used by an instruction it cannot move "
                     r"\(\d+ places?, the first at watch_callee\+0x[0-9a-f]+\)", err),
           f"calls: no line says what the copy of tally does not see:\n{err[:1500]}")


def case_watch_clean():
    """Watched the same way, the locked and atomic counters, the locked
    member and the locked library counter give no report and the program's
    own results."""
    for args, spec in ((["locked", "100000"], "counter,atomic_counter"),
                       (["atomic", "100000"], "counter,atomic_counter")):
        status, out, err, reports = watched("counter_plain", args, spec, launcher=True)
        expect(status == 0 and reports == [], f"{args}: status {status}, "
               f"{[r.get('summary') for r in reports]}")
        expect("0 increments lost" in out, f"{args}: output {out!r}")
        expect("lockrace" not in err, f"{args}: lockrace wrote {err[-500:]!r}")
    for mode, spec, want in (("struct", "stats+0:8", "hits 40000"), ("lib-safe", "lib_total", "lib 40000"),
                             ("exported-safe", "lib_exported", "exported 40000")):
        status, out, err, reports = watched("watch_struct", [mode], spec)
        expect(status == 0 and reports == [] and want in out, f"{mode}: status {status}, {out!r}, "
               f"{[r.get('summary') for r in reports]}")


def first_loss(name, args, spec, var, source, count):
    """Every run reports a lost update on var (nothing orders the threads'
    read-modify-writes); when the program itself lost updates (`count`, a
    regex on its output, fell short of 40000), lockrace must have observed
    one, with its values. Under load the threads may not overlap at all."""
    for attempt in range(3):
        status, out, err, reports = watched(name, args, spec)
        lu = [r for r in findings(reports, "lost-update") if r["variable"]["name"] == var]
        expect(status == 66 and lu, f"{var}: status {status}, {[r.get('summary') for r in reports]}")
        for r in lu:
            for i, a in enumerate(r["accesses"]):
                check_race_access(a, a["op"], source, f"{var}: access {i}")
        m = re.search(count, out)
        expect(m, f"{var}: output {out!r}")
        observed = [r for r in lu if r["certainty"] == "observed"]
        if int(m.group(1)) < 40000:
            expect(observed, f"{var}: the program lost updates, lockrace observed none")
        if observed:
            check_observed_loss(observed[0], var, source, var)
            return
    # three runs where the threads never overlapped: the possible reports
    # above are what can be checked


def case_watch_struct():
    """A struct member watched by offset and size, named from the debug
    information."""
    first_loss("watch_struct", ["struct"], "stats+8:8", "stats.misses", "watch_struct.c", r"misses (\d+)")
    # the same member named, resolved from the debug information
    first_loss("watch_struct", ["struct"], "stats.misses", "stats.misses", "watch_struct.c", r"misses (\d+)")


def case_watch_callers():
    """A watched instruction reached by one thread from two callers shows,
    in a report, the caller of the access reported (lockrace keeps each
    instruction's stack per thread, and per depth of the stack)."""
    status, out, err, reports = watched("watch_callers", [], "hits")
    found = findings(reports, "lost-update") + findings(reports, "data-race")
    expect(status == 66 and found, f"status {status}, {[r.get('summary') for r in reports]}")
    for r in found:
        for i, a in enumerate(r["accesses"]):
            check_race_access(a, a["op"], "watch_callers.c", f"access {i}")
            functions = [f.get("function") for f in a["stack"]]
            expect("path_two" in functions and "path_one" not in functions,
                   f"access {i} by T{a['thread']['id']} shows {functions}")


def case_pshared_waits():
    """A wait on a process-shared condition variable or barrier that only
    another process ends is not a deadlock of this process: under --ci
    (the watchdog after 1 s) the program runs as natively, no report."""
    for mode in ("cond", "barrier"):
        status, out, err, reports = run("pshared_waits", [mode], launcher=True,
                                        launcher_args=["--ci"], timeout=20)
        nstatus, nout = native("pshared_waits", [mode])
        expect(status == 0 and out == nout and not reports,
               f"{mode}: status {status} (native {nstatus}), {[r.get('summary') for r in reports]}: {err[-800:]}")


def case_exit_release():
    """A thread that lets a lock go on its way out (a cleanup handler run by
    pthread_exit, a key destructor) does not end holding it; one that
    really ends holding it is reported, once."""
    for mode in ("cleanup", "key"):
        status, out, err, reports = run("exit_release", [mode])
        expect(status == 0 and out == "ok\n" and not reports,
               f"{mode}: status {status}, {[r.get('summary') for r in reports]}: {err[-800:]}")
    status, out, err, reports = run("exit_release", ["keep"])
    found = [r for r in reports if r["kind"] == "misuse" and r.get("misuse") == "exit-holding-locks"]
    expect(status == 66 and len(found) == 1, f"keep: status {status}, {[r.get('summary') for r in reports]}")


def case_gate_readers():
    """A lock held around both orders gates the cycle only if it keeps the
    threads apart: an rwlock both hold for reading does not (a true
    inversion), one a thread holds for writing does (clean)."""
    expect_one_inversion("gate_readers", ["lock_a", "lock_b"], "gate_readers.c", args=["read"])
    expect_clean("gate_readers", ["write"])
def case_watch_arrow():
    """A member of a heap object reached through a global pointer
    (watch=meter->ticks): its offset and size from the debug information,
    the object wherever the pointer points when the access runs. Racy:
    lost updates named meter->ticks at the program's lines; under a lock:
    clean; the pointer moved to a new object: the new object's accesses
    are watched, with a history of their own; the other elements of an
    array the pointer points into are not it; watch=meter is the pointer."""
    first_loss("watch_arrow", ["racy"], "meter->ticks", "meter->ticks", "watch_arrow.c", r" ticks (\d+)")
    # the pointer's value passed to a function: followed into its copy
    first_loss("watch_arrow", ["callee"], "meter->ticks", "meter->ticks", "watch_arrow.c", r" ticks (\d+)")
    # two members through one pointer: an indexed access is whichever it reaches
    for mode, spec in (("locked", "meter->ticks"), ("replace-locked", "meter->ticks"), ("array", "meter->ticks"),
                       ("array", "meter->misses,meter->ticks")):
        status, out, err, reports = watched("watch_arrow", [mode], spec)
        expect(status == 0 and reports == [] and "ticks 40000" in out and err == "",
               f"{mode}, {spec}: status {status}, stdout {out!r}, {[r.get('summary') for r in reports]}, {err[-800:]}")
    # the first object's accesses were under the lock, the second's not
    for attempt in range(3):
        status, out, err, reports = watched("watch_arrow", ["replace"], "meter->ticks")
        m = re.search(r"first (0x[0-9a-f]+) second (0x[0-9a-f]+) second ticks (\d+) ticks (\d+)", out)
        expect(m and m.group(4) == "40000", f"replace: output {out!r}")
        lu = findings(reports, "lost-update") + findings(reports, "data-race")
        expect(status == 66 and lu, f"replace: status {status}, {[r.get('summary') for r in reports]}: {err[-800:]}")
        for r in lu:
            expect(r["variable"]["name"] == "meter->ticks" and int(r["variable"]["addr"], 16) == int(m.group(2), 16),
                   f"replace: variable {r['variable']}, objects {m.group(1)} {m.group(2)}")
            for i, a in enumerate(r["accesses"]):
                check_race_access(a, a["op"], "watch_arrow.c", f"replace: access {i}")
        observed = [r for r in lu if r.get("certainty") == "observed"]
        if int(m.group(3)) < 40000:
            expect(observed, "replace: the program lost updates, lockrace observed none")
        if observed:
            check_observed_loss(observed[0], "meter->ticks", "watch_arrow.c", "replace")
            break
    # moved away and back while the threads run: the first object's history
    # is kept, and T1's increment of it races with T2's after the moves
    status, out, err, reports = watched("watch_arrow", ["flip"], "meter->ticks")
    m = re.search(r"first (0x[0-9a-f]+) second (0x[0-9a-f]+) second ticks 1 ticks 2", out)
    lu = findings(reports, "lost-update") + findings(reports, "data-race")
    expect(status == 66 and m and lu, f"flip: status {status}, {out!r}, {[r.get('summary') for r in reports]}: {err[-800:]}")
    for r in lu:
        expect(r["variable"]["name"] == "meter->ticks" and int(r["variable"]["addr"], 16) == int(m.group(1), 16),
               f"flip: variable {r['variable']}, objects {m.group(1)} {m.group(2)}")
    # the pointer itself: read by the threads, written by main between them
    status, out, err, reports = watched("watch_arrow", ["replace-locked"], "meter")
    expect(status == 0 and reports == [] and err == "", f"meter: status {status}, {err[-800:]}")
    status, out, err, reports = run("watch_arrow", ["locked"], options="watch=meter:verbosity=2")
    expect(status == 0 and "watching meter (8 bytes)" in err, f"meter: status {status}, {err[-800:]}")
    for spec, what in (("meter->nothing", "watch=meter->nothing: *meter (struct meter) has no member nothing"),
                       ("lock->x", "watch=lock->x: lock is a union, not a pointer"),
                       ("meter->ticks->x", "watch=meter->ticks->x: one '->' at most"),
                       ("meter->", "watch=meter->: no member after '->'")):
        status, out, err, reports = watched("watch_arrow", ["locked"], spec)
        expect(status == 2 and out == "" and what in err and err.count("\n") == 1,
               f"{spec}: status {status}, stderr {err!r}")


def case_same_cycle():
    """The same two code paths in opposite orders, on new heap locks each
    round (often at the last round's addresses): one report (QA)."""
    status, out, err, reports = run("same_cycle")
    inv = findings(reports, "lock-order-inversion")
    expect(status == 66 and len(inv) == 1, f"status {status}, {len(inv)} inversions: {[r['summary'] for r in reports]}")


def case_static_guard():
    """A C++ function-local static's guard is waited for like a lock: a
    thread that meets the static while holding M, while its initialiser
    waits for M, is a real deadlock, reported and ended under --ci rather
    than a hang (QA). Statics initialised by several threads at once with
    nothing held are clean."""
    status, out, err, reports = run("static_guard", ["deadlock"], launcher=True, launcher_args=["--ci"],
                                    timeout=20)
    d = deadlocks(reports)
    expect(status == 66 and len(d) == 1, f"status {status}, {[r.get('summary') for r in reports]}: {err[-1500:]}")
    names = " ".join(str(l.get("name")) for l in d[0]["locks"])
    expect("guard" in names and "M" in names, f"locks {names}")
    status, out, err, reports = run("static_guard", ["clean"], launcher=True, launcher_args=["--ci"])
    expect(status == 0 and out == "clean 7\n" and not reports,
           f"clean: status {status}, {[r.get('summary') for r in reports]}")


def case_watch_static_init():
    """A global written by the constructor of a function-local static is
    ordered, by C++, before every use of the static: a thread that waits
    on the static's guard, and one that meets it made (the compiler's
    inline check of the guard, which lockrace does not see), then read it
    without a lock, and nothing is reported. Two of them then writing it
    without a lock is a race, reported at the write."""
    src = "watch_static_init.cpp"
    status, out, err, reports = watched("watch_static_init", [], "g_config")
    expect(status == 0 and out.strip() == "42 42 42" and not reports,
           f"status {status}, {out!r}, {[r.get('summary') for r in reports]}\n{err[-1500:]}")
    status, out, err, reports = watched("watch_static_init", ["racy"], "g_config")
    races = findings(reports, "data-race")
    expect(status == 66 and len(races) == 1, f"racy: status {status}, {[r.get('summary') for r in reports]}")
    lines = sorted(a["stack"][0].get("line") for a in races[0]["accesses"])
    expect(marked_line(src, "/* the racy write */") in lines and
           marked_line(src, "// the constructor's write") not in lines, f"racy: lines {lines}")


def case_watch_cxx():
    """C++ variables by the names the program gives them: a namespace
    member, a class's static member, a file-scope static and a variable of
    an anonymous namespace, whose symbols are mangled (_ZN5stats4hitsE,
    _ZL6misses); through the launcher, whose option syntax has ':' as a
    separator, and in LOCKRACE_OPTIONS. Reports name them as written. A
    variable touched only under a mutex stays clean; a glob over a
    namespace watches its members."""
    names = ["stats::hits", "Meter::ticks", "misses", "drops"]
    for launcher in (True, False):
        status, out, err, reports = watched("watch_cxx", [], ",".join(names + ["guarded"]), launcher=launcher)
        lu = findings(reports, "lost-update") + findings(reports, "data-race")
        got = sorted({r["variable"]["name"] for r in lu})
        expect(status == 66 and got == sorted(names),
               f"launcher={launcher}: status {status}, variables {got}: {err[-1500:]}")
        for r in lu:
            for i, a in enumerate(r["accesses"]):
                check_race_access(a, a["op"], "watch_cxx.cpp", f"{r['variable']['name']}: access {i}")
        expect("no variable of that name" not in err, f"launcher={launcher}: {err[-800:]}")
    status, out, err, reports = watched("watch_cxx", [], "stats::*", launcher=True)
    got = sorted({r["variable"]["name"] for r in findings(reports, "lost-update") + findings(reports, "data-race")})
    expect(status == 66 and got == ["stats::hits"], f"stats::*: status {status}, variables {got}: {err[-800:]}")
    status, out, err, reports = watched("watch_cxx", [], "guarded", launcher=True)
    expect(status == 0 and not reports, f"guarded: status {status}, {[r.get('summary') for r in reports]}")
    # in a lambda: its own lines, not std::thread's
    status, out, err, reports = watched("watch_cxx", ["lambda"], "stats::hits", launcher=True)
    lu = findings(reports, "lost-update") + findings(reports, "data-race")
    expect(status == 66 and lu, f"lambda: status {status}: {err[-800:]}")
    for i, a in enumerate(lu[0]["accesses"]):
        check_race_access(a, a["op"], "watch_cxx.cpp", f"lambda: access {i}")
        expect(a["stack"][0].get("function") == "operator()", f"lambda: access {i} at {a['stack'][0]}")
        # nor libstdc++'s thread entry, which has no symbol: "?? (libstdc++.so.6+0x...)"
        expect(not any("function" not in f and ".so" in f["module"] for f in a["stack"]),
               f"lambda: access {i} ends in an unknown library frame: {a['stack'][-1]}")
    # a lone ':' is still a separator or a size, and says so
    status, out, err, _ = run("watch_cxx", launcher=True, launcher_args=["--watch", "stats:hits"])
    expect(status == 2 and "--watch=stats:hits" in err, f"stats:hits: status {status}: {err[-500:]}")


def case_watch_library():
    """A static variable of a shared library, its accesses in the library;
    an exported one, which the library reaches through its GOT (and the
    program through a copy of it); an array element reached through a
    pointer to the array and an index."""
    first_loss("watch_struct", ["lib"], "lib_total", "lib_total", "watch_lib.c", r"lib (\d+)")
    first_loss("watch_struct", ["lib"], "shared_name@watch_lib.c,lib_total", "lib_total", "watch_lib.c",
               r"lib (\d+)")
    # slots[2] is one increment in eight: the two threads need not overlap
    # on it in a run, but nothing orders their read-modify-writes, so the
    # lost update is at least possible, every run.
    # lib_exported: one `addq $1, (%rax)`, serialized while watched: the
    # overwrite is never seen, only possible.
    for mode, spec, var, source in (("array", "slots+16:8", "slots[2]", "watch_struct.c"),
                                    ("array", "slots[2]", "slots[2]", "watch_struct.c"),
                                    ("exported", "lib_exported", "lib_exported", "watch_lib.c")):
        status, out, err, reports = watched("watch_struct", [mode], spec)
        found = [r for r in reports if r["kind"] in ("lost-update", "data-race")]
        expect(status == 66 and found, f"{mode}: status {status}, {[r.get('summary') for r in reports]}")
        r = found[0]
        expect(r["variable"]["name"] == var, f"{mode}: variable {r['variable']}")
        for i, a in enumerate(r["accesses"]):
            check_race_access(a, a["op"], source, f"{mode}: access {i}")


def case_watch_errors():
    """A malformed watch is one line naming it and saying why, and the
    program does not run. A variable this program does not have (or that
    cannot be watched) is one line too, and the program runs: another
    process of the tree may have it, and the shells and tools of the tree
    say nothing. When watching cannot work here, one line says so and the
    rest of lockrace works."""
    for spec, what in (("stats+x", "watch=stats+x: the offset is not a number"),
                       ("stats:0", "watch=stats:0: the size is not a number above 0"),
                       ("0x1000", "watch=0x1000: an address needs a size"),
                       ("stats+12:8", "watch=stats+12:8: stats is 16 bytes"),
                       # offsets and sizes that wrap around 2^64 fit by arithmetic only:
                       # they would watch the bytes before the variable
                       ("stats+18446744073709551615:2",
                        "watch=stats+18446744073709551615:2: stats is 16 bytes"),
                       ("stats+8:18446744073709551615",
                        "watch=stats+8:18446744073709551615: stats is 16 bytes"),
                       ("stats+-1:1", "watch=stats+-1:1: the offset is not a number"),
                       ("stats.nothing", "watch=stats.nothing: stats (struct stats) has no member nothing"),
                       ("slots[8]", "watch=slots[8]: slots has 8 elements: [8] is past its end"),
                       ("slots[-1]", "watch=slots[-1]: [-1 is not an index from 0 up"),
                       ("stats[1]", "watch=stats[1]: stats is a struct, not an array"),
                       ("slots.x", "watch=slots.x: slots is an array, not a struct"),
                       ("stats.hits+8:8", "watch=stats.hits+8:8: stats.hits is 8 bytes"),
                       ("stats+-8:8", "watch=stats+-8:8: the offset is not a number"),
                       ("0x1000:18446744073709551615",
                        "watch=0x1000:18446744073709551615: the range wraps around")):
        for launcher in (False, True):
            status, out, err, reports = watched("watch_struct", ["struct"], spec, launcher=launcher)
            expect(status == 2 and out == "" and what in err and err.count("\n") == 1,
                   f"{spec}: status {status}, stderr {err!r}")
    for spec, what in (("nosuch", "watch=nosuch: no variable of that name in watch_struct"),
                       ("shared_name", "watch=shared_name: 2 variables have that name"),
                       ("per_thread", "watch=per_thread: a thread-local variable"),
                       ("_IO_2_1_stdout_", "defined in libc.so.6, whose code lockrace does not rewrite")):
        for launcher in (False, True):
            status, out, err, reports = watched("watch_struct", ["struct"], spec, launcher=launcher)
            expect(status == 0 and out.startswith("hits 40000") and what in err and
                   err.count("\n") == 1, f"{spec}: status {status}, stdout {out!r}, stderr {err!r}")
    # in a tree, only the command the launcher started says so
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("LOCKRACE_OPTIONS", None)
    p = subprocess.run([LAUNCHER, "--watch", "nosuch", "--", "sh", "-c",
                        f"{program('watch_struct')} struct; {program('watch_struct')} struct"],
                       capture_output=True, text=True, timeout=TIMEOUT, env=env)
    expect(p.returncode == 0 and p.stdout.count("hits 40000") == 2, f"tree: {p.returncode} {p.stdout!r}")
    expect(p.stderr.count("no variable of that name") == 1 and "in dash" in p.stderr,
           f"tree: the programs of the tree spoke: {p.stderr!r}")
    status, out, err, reports = run("abba", options="watch=shared_a",
                                    env_extra={"LOCKRACE_CAPSTONE": "libnone.so"})
    expect("lockrace: watch: cannot load libnone.so" in err, f"no disassembler: {err[:300]!r}")
    expect(status == 66 and len(findings(reports, "lock-order-inversion")) == 1,
           f"the rest stopped working: status {status}")


def case_watch_registers():
    """A rewritten instruction leaves every register, the flags it sets,
    the vector registers and the red zone as they would have been."""
    nstatus, nout = native("watch_regs")
    status, out, err, reports = watched("watch_regs", [], "gauge")
    expect(nstatus == 0 and nout == "ok\n", f"native: {nstatus} {nout!r}")
    expect(status == 0 and out == "ok\n", f"watched: status {status}, {out!r} {err[-500:]!r}")
    expect(reports == [] and "lockrace" not in err, f"reports {reports}, stderr {err!r}")
# ---- the launcher over a process tree ----

TREE_SCRIPT = """#!/bin/sh
# three programs: one in the background, two in sequence
"$1" >/dev/null &
"$2" >/dev/null
"$3" >/dev/null
wait
"""


def read_dot(path):
    """A DOT file as lockrace writes it: [(cluster label, {node: label},
    [(from, to, attributes)])], one per cluster."""
    clusters = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("subgraph cluster_"):
                clusters.append([None, {}, []])
            elif clusters and line.startswith("label=") and clusters[-1][0] is None:
                clusters[-1][0] = re.match(r'label="(.*)";$', line).group(1)
            elif m := re.match(r'(\w+) -> (\w+) \[(.*)\];$', line):
                attrs = dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)', m.group(3)))
                clusters[-1][2].append((m.group(1), m.group(2), {k: v.strip('"') for k, v in attrs.items()}))
            elif m := re.match(r'(\w+) \[label="([^"]*)"', line):
                clusters[-1][1][m.group(1)] = m.group(2)
    return clusters


def case_graph():
    """--graph FILE: the lock order of every process of the tree as DOT, a
    cluster per process, locks named, edges counted and placed, a reported
    cycle's edges red; an SVG from Graphviz when it is installed, else one
    line saying so. The graph is not a report: a clean program stays clean."""
    with tempfile.TemporaryDirectory() as tmp:
        dot = os.path.join(tmp, "order.dot")
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        env.pop("LOCKRACE_OPTIONS", None)
        # a tree of three processes: the shell, abba, then bank
        script = f"{program('abba')}; {program('bank')} --ordered; :"
        p = subprocess.run([LAUNCHER, "--graph", dot, "--", "/bin/sh", "-c", script], env=env,
                           capture_output=True, text=True, timeout=TIMEOUT)
        expect(p.returncode == 66, f"status {p.returncode}: {p.stderr[-2000:]}")
        clusters = read_dot(dot)
        expect(len(clusters) == 3, f"{len(clusters)} clusters: {[c[0] for c in clusters]}")
        by_prog = {("sh" if ": /bin/sh " in c[0] else "abba" if "abba" in c[0] else "bank"): c for c in clusters}
        expect(set(by_prog) == {"sh", "abba", "bank"}, f"clusters {[c[0] for c in clusters]}")
        expect(not by_prog["sh"][2], f"the shell's edges: {by_prog['sh'][2]}")
        _, nodes, edges = by_prog["abba"]
        expect(sorted(nodes.values()) == ["lock_a", "lock_b"], f"abba's locks {nodes}")
        named = {(nodes[a], nodes[b]): attrs for a, b, attrs in edges}
        expect(set(named) == {("lock_a", "lock_b"), ("lock_b", "lock_a")}, f"abba's edges {named}")
        for pair, attrs in named.items():
            expect(attrs.get("color") == "red" and attrs.get("cycle") == "true", f"{pair} not red: {attrs}")
            expect(int(attrs["count"]) >= 1, f"{pair}: count {attrs}")
            expect(re.search(r"abba\.c:\d+ → abba\.c:\d+", attrs["label"]), f"{pair}: label {attrs['label']}")
        _, nodes, edges = by_prog["bank"]
        expect(edges and all("color" not in attrs for _, _, attrs in edges), f"bank --ordered: {edges}")
        expect(all(re.fullmatch(r"accounts\[\d+\]\.lock", n) for n in nodes.values()), f"bank's locks {nodes}")
        expect(all(int(attrs["count"]) >= 1 for _, _, attrs in edges), "bank's counts")
        if shutil.which("dot"):
            with open(os.path.join(tmp, "order.svg")) as f:
                svg = f.read()
            expect("<svg" in svg and "lock_a" in svg, "no SVG made from the DOT")

        # a clean program: no report, status 0, its graph in the JSON lines too
        clean = os.path.join(tmp, "clean.dot")
        status, _, err, lines = run("bank", ["--ordered"], launcher=True, launcher_args=["--graph", clean])
        expect(status == 0, f"bank --ordered: status {status}: {err[-1500:]}")
        expect([r["kind"] for r in lines] == ["graph"], f"lines {[r['kind'] for r in lines]}")
        g = lines[0]
        expect(g["edges"] and not any(e["cycle"] for e in g["edges"]), "clean graph has a red edge")
        for e in g["edges"]:
            expect(e["first"]["file"].endswith("bank.c") and e["second"]["line"] > 0, f"edge places {e}")
        expect(len(read_dot(clean)) == 1, "one cluster")

        # a process lockrace ends itself (halt_on_error) still writes its graph
        halted_dot = os.path.join(tmp, "halted.dot")
        p = subprocess.run([LAUNCHER, "--graph", halted_dot, "--halt-on-error", "1", "--", program("abba")],
                           env=env, capture_output=True, text=True, timeout=TIMEOUT)
        expect(p.returncode == 66, f"halted: status {p.returncode}: {p.stderr[-2000:]}")
        halted = read_dot(halted_dot) if os.path.exists(halted_dot) else []
        expect(len(halted) == 1 and sorted(halted[0][1].values()) == ["lock_a", "lock_b"],
               f"halted process's graph: {halted}")

        # a shell that execs: the graph is the new program's, under its own command line
        execd = os.path.join(tmp, "exec.dot")
        p = subprocess.run([LAUNCHER, "--graph", execd, "--", "/bin/sh", "-c", f"exec {program('bank')} --ordered"],
                           env=env, capture_output=True, text=True, timeout=TIMEOUT)
        labels = [c[0] for c in read_dot(execd)]
        expect(p.returncode == 0 and len(labels) == 1 and labels[0].endswith("bank --ordered")
               and "/bin/sh" not in labels[0], f"status {p.returncode}, clusters {labels}")

        # an SVG asked for without Graphviz: said once, the DOT kept
        svg = os.path.join(tmp, "nodot.svg")
        p = subprocess.run([LAUNCHER, "--graph", svg, "--", program("abba")],
                           env=dict(env, PATH=os.path.join(tmp, "empty")), capture_output=True, text=True,
                           timeout=TIMEOUT)
        expect(p.stderr.count("dot is not installed") == 1, f"stderr: {p.stderr[-1500:]}")
        expect(os.path.exists(os.path.join(tmp, "nodot.dot")) and not os.path.exists(svg), "files")
        expect(p.returncode == 66, f"status {p.returncode}")


def run_tree(tmp, *launcher_args):
    """The launcher runs a shell script that runs abba (an inversion) in the
    background, then counter_locked (clean) and counter_race (lost updates).
    Returns (status, stderr, the programs' paths)."""
    script = os.path.join(tmp, "tree.sh")
    with open(script, "w") as f:
        f.write(TREE_SCRIPT)
    progs = [program("abba"), program("counter_locked"), program("counter_race")]
    env = dict(os.environ, TMPDIR=os.path.join(tmp, "tmpdir"))
    env.pop("LD_PRELOAD", None)
    env.pop("LOCKRACE_OPTIONS", None)
    os.makedirs(env["TMPDIR"], exist_ok=True)
    p = subprocess.run([LAUNCHER, *launcher_args, "--", "/bin/sh", script, *progs], env=env,
                       capture_output=True, text=True, timeout=TIMEOUT)
    return p.returncode, p.stderr, progs


def tree_summary(err):
    """The launcher's summary: its counts by kind, and the processes it lists
    with their report titles."""
    m = re.search(r"^lockrace: (\d+) reports? from (\d+) of (\d+) processes \(([^)]*)\); exit status (\d+)",
                  err, re.M)
    expect(m, f"no summary on stderr: {err[-3000:]}")
    counts = {k: int(n) for k, n in (c.split(": ") for c in m.group(4).split(", "))}
    listed, current = {}, None
    for line in err[m.end():].splitlines()[1:]:
        if re.match(r"^  \d+ ", line):
            current = line.split(None, 1)[1]
            listed[current] = []
        elif line.startswith("    ") and current:
            listed[current].append(line.strip())
        else:
            break
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), counts, listed, int(m.group(5))


def case_process_tree():
    """Every process of the tree is watched and written down, and the run
    is gathered into a summary, SARIF and JUnit; the temporary run
    directory is removed."""
    import xml.etree.ElementTree as ET
    with tempfile.TemporaryDirectory() as tmp:
        sarif, junit = os.path.join(tmp, "out.sarif"), os.path.join(tmp, "out.xml")
        status, err, (abba, locked, race) = run_tree(tmp, "--sarif", sarif, "--junit", junit)
        summary = re.search(r"^lockrace: \d+ reports? from .*", err, re.M | re.S)
        print(summary.group(0) if summary else err[-3000:])
        expect(status == 66, f"status {status}: the script ends with 0, its programs reported")
        total, reporting, procs, counts, listed, said = tree_summary(err)
        expect(said == 66 and "the command's was 0" in err, "summary: exit status")
        expect(procs == 4 and reporting == 2, f"{reporting} of {procs} processes: the shell and its three programs")
        expect(counts.get("lock-order-inversion") == 1 and counts.get("lost-update", 0) >= 1
               and set(counts) == {"lock-order-inversion", "lost-update"}, f"counts {counts}")
        expect(total == sum(counts.values()), "total")
        expect(set(listed) == {abba, race}, f"processes listed {list(listed)}")
        expect(listed[abba] == ["lock-order inversion: cycle of 2 locks (lock_a, lock_b)"], f"abba: {listed[abba]}")
        expect(all("lost update on counter" in t for t in listed[race]), f"counter_race: {listed[race]}")
        expect(os.listdir(os.path.join(tmp, "tmpdir")) == [], "the temporary run directory is left behind")

        with open(sarif) as f:
            log = json.load(f)
        expect(log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"], "SARIF version")
        run_ = log["runs"][0]
        rules = [r["id"] for r in run_["tool"]["driver"]["rules"]]
        expect({"lock-order-inversion", "deadlock", "data-race", "lost-update", "misuse", "stall"} <= set(rules),
               f"rules {rules}")
        results = run_["results"]
        expect(len(results) == total, f"{len(results)} results for {total} reports")
        for r in results:
            expect(rules[r["ruleIndex"]] == r["ruleId"], f"rule index of {r['ruleId']}")
            loc = r["locations"][0]["physicalLocation"]
            source = "demos/abba.c" if r["ruleId"] == "lock-order-inversion" else "demos/counter_race.c"
            expect(loc["artifactLocation"]["uri"].endswith(source) and loc["region"]["startLine"] > 0,
                   f"{r['ruleId']}: location {loc}")
            expect(r["properties"]["commandLine"] == (abba if source == "demos/abba.c" else race),
                   f"process of {r['ruleId']}: {r['properties']}")
            expect(any(r["message"]["text"].startswith(t + ". ") for t in listed[r["properties"]["commandLine"]]),
                   f"message starts with the title: {r['message']['text']!r}")
        inversion = [r for r in results if r["ruleId"] == "lock-order-inversion"][0]
        related = [x["physicalLocation"]["region"]["startLine"] for x in inversion["relatedLocations"]]
        expect(len(related) == 3, f"the other stacks of the cycle: {related}")

        suites = ET.parse(junit).getroot()
        cases = suites.findall("./testsuite/testcase")
        expect(len(cases) == 3 and suites.get("tests") == "3" and suites.get("failures") == "2",
               f"{len(cases)} test cases, {suites.get('failures')} failures: the script's shell is left out")
        failed = {c.get("name"): c.find("failure") for c in cases}
        expect(all(c.get("classname") == "lockrace" for c in cases), "classname")
        expect(failed[abba] is not None and failed[race] is not None, "reporting programs failed")
        expect(failed[locked] is None, "counter_locked failed")
        expect(set(failed) == {abba, locked, race}, f"test cases {list(failed)}")
        expect("lock-order inversion: cycle of 2 locks" in failed[abba].text and "demos/abba.c:" in failed[abba].text,
               f"failure text {failed[abba].text!r}")

        # a named run directory is kept: one file per process, each led by its process record
        status, err, _ = run_tree(tmp, "--log-dir", os.path.join(tmp, "run"))
        files = sorted(os.listdir(os.path.join(tmp, "run")))
        expect(status == 66 and len(files) == 4, f"status {status}, run directory {files}")
        for name in files:
            with open(os.path.join(tmp, "run", name)) as f:
                first = json.loads(f.readline())
            expect(first["kind"] == "process" and name == f"{first['pid']}.json" and first["ppid"] > 0
                   and first["cmdline"], f"{name}: first record {first}")


JUNIT_SCRIPT = """#!/bin/sh
# a report, a clean program, a crash after a report, a shell that
# crashes, one killed (as by a timeout), one that execs a static program
# (which writes no exit record), a tool that does nothing of interest
"$1" >/dev/null
"$2" >/dev/null
"$3" abort >/dev/null 2>&1
sh -c 'kill -SEGV $$'
sh -c 'kill -KILL $$'
sh -c 'exec "$0" 3' "$4"
/bin/true --version >/dev/null
exit 0
"""


def ET_text(element):
    import xml.etree.ElementTree as ET
    return ET.tostring(element, encoding="unicode")


def junit_run(tmp, command, *flags):
    """The launcher's JUnit of a command: (status, <testsuites>, {name: testcase})."""
    import resource
    import xml.etree.ElementTree as ET
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("LOCKRACE_OPTIONS", None)
    out = os.path.join(tmp, "out.xml")
    if os.path.exists(out):
        os.unlink(out)
    p = subprocess.run([LAUNCHER, "--junit", out, *flags, "--", *command], env=env, cwd=tmp,
                       capture_output=True, text=True, timeout=TIMEOUT,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))
    suites = ET.parse(out).getroot()
    cases = {c.get("name"): c for c in suites.findall("./testsuite/testcase")}
    return p.returncode, suites, cases


def case_junit_cases():
    """JUnit as CI shows it: a test case per program, named by the program
    and its arguments, with times; a process that crashed fails, one that
    was killed is an error, each with a message naming the signal (its
    parent, lockrace's too, says which); shells and tools that did
    nothing lockrace watches (no lock, no thread, no report) are left out
    unless --junit-all, and programs named with --junit-skip unless they
    reported."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "junit.sh")
        with open(script, "w") as f:
            f.write(JUNIT_SCRIPT)
        abba, locked, crash = program("abba"), program("counter_locked"), program("crash_after_report")
        static = program("static_exit")
        execs_static = f"sh -c 'exec \"$0\" 3' {static}"
        status, suites, cases = junit_run(tmp, ["/bin/sh", script, abba, locked, crash, static])
        expect(status == 66, f"status {status}")
        shell_crash, shell_killed = "sh -c 'kill -SEGV $$'", "sh -c 'kill -KILL $$'"
        expect(set(cases) == {abba, locked, crash + " abort", shell_crash, shell_killed, execs_static},
               f"test cases {sorted(cases)}: the script and /bin/true are left out")
        # its parent saw it exit: it passes, though lockrace did not see what it did
        expect(cases[execs_static].find("failure") is None and "exit status 3" in cases[execs_static].find("system-out").text,
               f"a static program exec'd: {ET_text(cases[execs_static])}")
        for name, c in cases.items():
            expect(not name.startswith("[pid") and float(c.get("time", "-1")) >= 0, f"{name}: time {c.get('time')}")
        suite = suites.find("testsuite")
        expect(float(suite.get("time", "-1")) > 0 and float(suites.get("time", "-1")) > 0
               and suite.get("timestamp"), f"suite time {suite.attrib}")
        expect(suite.get("tests") == "6" and suite.get("failures") == "3" and suite.get("errors") == "1",
               f"counts {suite.attrib}")
        expect(cases[abba].find("failure") is not None and cases[locked].find("failure") is None, "abba failed")
        for name, sig in ((crash + " abort", "SIGABRT"), (shell_crash, "SIGSEGV")):
            f = cases[name].find("failure")
            expect(f is not None and sig in f.get("message"), f"{name}: failure {f is not None and f.attrib}")
        e = cases[shell_killed].find("error")
        expect(e is not None and "SIGKILL" in e.get("message") and cases[shell_killed].find("failure") is None,
               f"killed: {e is not None and e.attrib}")
        expect("lock-order-inversion" in cases[crash + " abort"].find("failure").get("message"),
               "the crash's report is said too")

        # --junit-all: every process, the script and the tool passing
        status, suites, cases = junit_run(tmp, ["/bin/sh", script, abba, locked, crash, static], "--junit-all")
        expect(len(cases) == 8 and "/bin/true --version" in cases
               and cases["/bin/true --version"].find("failure") is None
               and any(n.startswith("/bin/sh " + script) for n in cases), f"--junit-all: {sorted(cases)}")

        # --junit-skip: programs left out by name, but never one that reported
        status, suites, cases = junit_run(tmp, ["/bin/sh", script, abba, locked, crash, static],
                                          "--junit-skip", "counter_locked,sh", "--junit-skip=abba")
        expect(status == 66 and set(cases) == {abba, crash + " abort"}, f"--junit-skip: {status} {sorted(cases)}")

        # the command itself crashes, or is killed (as a timeout would): the
        # launcher knows the signal
        status, suites, cases = junit_run(tmp, [crash, "segv"])
        f = cases.get(crash + " segv")
        f = f.find("failure") if f is not None else None
        expect(status == 128 + 11 and f is not None and "SIGSEGV" in f.get("message"),
               f"a crash: status {status}, {sorted(cases)} {f is not None and f.attrib}")
        status, suites, cases = junit_run(tmp, ["/bin/sh", "-c", "kill -KILL $$"])
        e = [c.find("error") for c in cases.values()]
        expect(status == 128 + 9 and len(e) == 1 and e[0] is not None and "SIGKILL" in e[0].get("message")
               and suites.find("testsuite").get("errors") == "1", f"killed: status {status}, {sorted(cases)}")


def case_launcher_relative_paths():
    """Relative paths given to the launcher name files where the user typed
    them, not in each process's working directory: `make -C sub` under
    --suppressions, --json, --log-path, --sarif, --junit (and json= in
    LOCKRACE_OPTIONS). A flag without its value is an error, not a file
    named after the next argument."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("LOCKRACE_OPTIONS", None)
    with tempfile.TemporaryDirectory() as tmp:
        sub = os.path.join(tmp, "sub")
        os.mkdir(sub)
        write_file(sub, "Makefile", f"all:\n\t-{program('abba')}\n")     # "-": make goes on, ends with 0
        command = ["make", "-s", "-C", "sub"] if shutil.which("make") else ["sh", "-c", f"cd sub && {program('abba')}; true"]
        write_file(tmp, "lr.supp", "lock-order-inversion:lock_a\n")
        p = subprocess.run([LAUNCHER, "--suppressions", "lr.supp", "--", *command], cwd=tmp, env=env,
                           capture_output=True, text=True, timeout=TIMEOUT)
        expect(p.returncode == 0 and "cannot open" not in p.stderr and "1 suppressed" in p.stderr,
               f"--suppressions lr.supp under {command}: status {p.returncode}, {p.stderr[-500:]!r}")
        p = subprocess.run([LAUNCHER, "--json", "r.json", "--log-path", "text", "--sarif", "out.sarif",
                            "--junit", "out.xml", "--", *command], cwd=tmp, env=env,
                           capture_output=True, text=True, timeout=TIMEOUT)
        expect(p.returncode == 66, f"status {p.returncode}: {p.stderr[-500:]!r}")
        top = sorted(os.listdir(tmp))
        expect(sorted(os.listdir(sub)) == ["Makefile"], f"files made in the command's directory: {os.listdir(sub)}")
        expect({"r.json", "out.sarif", "out.xml"} <= set(top) and any(f.startswith("text.") for f in top),
               f"files where the launcher ran: {top}")
        expect(len(open(os.path.join(tmp, "r.json")).readlines()) == 1, "r.json")
        os.unlink(os.path.join(tmp, "r.json"))
        p = subprocess.run([LAUNCHER, "--", *command], cwd=tmp, capture_output=True, text=True, timeout=TIMEOUT,
                           env=dict(env, LOCKRACE_OPTIONS="json=r.json"))
        expect(p.returncode == 66 and os.path.exists(os.path.join(tmp, "r.json")),
               f"json=r.json in LOCKRACE_OPTIONS: {p.returncode}, {os.listdir(tmp)} {os.listdir(sub)}")
        for flag in ("--sarif", "--junit", "--json", "--suppressions", "--exitcode"):
            p = subprocess.run([LAUNCHER, flag, "--", program("abba")], cwd=tmp, env=env,
                               capture_output=True, text=True, timeout=TIMEOUT)
            lines = p.stderr.splitlines()
            expect(p.returncode == 2 and len(lines) == 1 and flag in lines[0] and "needs a value" in lines[0]
                   and not os.path.exists(os.path.join(tmp, "--")),
                   f"{flag} --: status {p.returncode}, {p.stderr[-300:]!r}, {os.listdir(tmp)}")


def case_launcher_flags():
    """The launcher's flags as a user mistypes them: an unknown one, with
    two dashes or one, is called unknown (naming what is accepted), not a
    flag without its value nor a command; a boolean option given bare means
    =1; the command's own arguments after -- are left alone."""
    for flag in ("--bogus", "-x", "-bogus", "--bogus=1"):
        p = subprocess.run([LAUNCHER, flag, "--", program("abba")], capture_output=True, text=True, timeout=TIMEOUT)
        lines = p.stderr.splitlines()
        shown = flag.lstrip("-").split("=")[0] if flag.startswith("--") else flag
        expect(p.returncode == 2 and len(lines) == 1 and f"unknown option '{shown}'" in lines[0]
               and "accepted" in lines[0] and "exitcode" in lines[0] and "needs a value" not in lines[0]
               and "cannot run" not in lines[0], f"{flag}: status {p.returncode}, {p.stderr[-400:]!r}")
    # bare booleans: =1, whatever follows (--, another flag, the command)
    for args in (["--halt-on-error", "--"], ["--abort_on_error", "--exitcode=5", "--"],
                 ["--watchdog", "--halt-on-error"], ["--gen-suppressions"]):
        p = subprocess.run([LAUNCHER, *args, program("abba")], capture_output=True, text=True, timeout=TIMEOUT)
        expect(p.returncode != 2 and "lock-order-inversion" in p.stderr and "lockrace: option" not in p.stderr,
               f"{args}: status {p.returncode}, {p.stderr[-400:]!r}")
        if "--gen-suppressions" in args:
            expect("To suppress this report" in p.stderr, f"{args}: no suppression printed: {p.stderr[-400:]!r}")
    # a boolean's value may still follow it; a bare one before the command is 1
    p = subprocess.run([LAUNCHER, "--single-thread-cycles", "0", "--gen-suppressions", program("abba")],
                       capture_output=True, text=True, timeout=TIMEOUT)
    expect(p.returncode == 66 and "lock-order-inversion" in p.stderr, f"--single-thread-cycles 0: {p.returncode} {p.stderr[-300:]!r}")
    # non-booleans still need a value
    for flag in ("--exitcode", "--hang-ms", "--deadlock", "--log-path"):
        p = subprocess.run([LAUNCHER, flag, "--", program("abba")], capture_output=True, text=True, timeout=TIMEOUT)
        lines = p.stderr.splitlines()
        expect(p.returncode == 2 and len(lines) == 1 and "needs a value" in lines[0] and flag in lines[0],
               f"{flag} --: status {p.returncode}, {p.stderr[-300:]!r}")
    # after --, and after the command's name, dashes are the command's
    p = subprocess.run([LAUNCHER, "--", "sh", "-c", 'echo "$@"', "sh", "-x", "--bogus"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    expect(p.returncode == 0 and p.stdout == "-x --bogus\n", f"-- sh -c ... -x --bogus: {p.returncode} {p.stdout!r} {p.stderr!r}")
    p = subprocess.run([LAUNCHER, "sh", "-c", 'echo "$@"', "sh", "-x"], capture_output=True, text=True, timeout=TIMEOUT)
    expect(p.returncode == 0 and p.stdout == "-x\n", f"sh -c ... -x without --: {p.returncode} {p.stdout!r} {p.stderr!r}")


def case_launcher_status_and_signals():
    """The launcher's exit status is the command's own, 128 + the signal
    that ended it, or exitcode when the tree reported and the command
    succeeded; it passes on a SIGTERM sent to it."""
    import signal
    import time

    def launch(*args, env_extra=None):
        env = dict(os.environ, **(env_extra or {}))
        env.pop("LD_PRELOAD", None)
        env.pop("LOCKRACE_OPTIONS", None)
        return subprocess.run([LAUNCHER, *args], capture_output=True, text=True, timeout=TIMEOUT, env=env)

    p = launch("--", "sh", "-c", "exit 3")
    expect(p.returncode == 3 and p.stderr == "", f"exit 3: {p.returncode} {p.stderr!r}")
    p = launch("--", "sh", "-c", "kill -TERM $$")
    expect(p.returncode == 128 + signal.SIGTERM, f"killed by SIGTERM: {p.returncode}")
    p = launch("--", "sh", "-c", f"{program('abba')} >/dev/null 2>&1; exit 5")
    expect(p.returncode == 5, f"a failing command keeps its status: {p.returncode}")
    p = launch("--exitcode", "0", "--", "sh", "-c", f"{program('abba')} >/dev/null 2>&1; true")
    expect(p.returncode == 0 and "exit status 0 (the command's)" in p.stderr, f"exitcode=0: {p.returncode}")
    p = launch("--verbosity", "0", "--", "sh", "-c", f"{program('abba')} >/dev/null 2>&1; true")
    expect(p.returncode == 66 and p.stderr == "", f"verbosity=0: {p.returncode} {p.stderr!r}")
    p = launch("--", "sh", "-c", program("counter_locked"))
    expect(p.returncode == 0 and "lockrace" not in p.stderr, f"clean tree: {p.stderr!r}")
    p = launch("--verbosity", "2", "--", "sh", "-c", f"{program('counter_locked')}; true")
    expect("lockrace: no reports from 2 processes; exit status 0" in p.stderr, f"verbosity=2: {p.stderr!r}")
    with tempfile.TemporaryDirectory() as tmp:
        p = launch("--sarif", os.path.join(tmp, "no", "such", "dir.sarif"), "--", "true")
        expect(p.returncode == 2 and "--sarif" in p.stderr and "cannot write" in p.stderr, f"bad --sarif: {p.stderr!r}")
        ready = os.path.join(tmp, "ready")
        # $! in single quotes: the sleep's pid when the trap runs
        proc = subprocess.Popen([LAUNCHER, "--", "sh", "-c", f"trap 'kill $!; exit 7' TERM; sleep 30 & touch {ready}; wait"],
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not os.path.exists(ready) and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        expect(proc.returncode == 7 and "still running" not in err,
               f"SIGTERM not passed on to the command: status {proc.returncode}, {err!r}")


def sarif_validator():
    """Microsoft's SARIF validator, where .ci/setup installs it; None when it
    is not there."""
    tools = os.environ.get("LOCKRACE_TOOLS") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lockrace")
    # the binary itself: npx's sarif-multitool passes its arguments through a shell
    validator = os.path.join(tools, "node_modules", "@microsoft", "sarif-multitool-linux", "Sarif.Multitool")
    return validator if os.access(validator, os.X_OK) else None


def sarif_validate(validator, sarif, tmp):
    """Validates with GitHub's rules (what upload-sarif accepts); fails on
    any finding but the one left, and returns the findings' rule ids."""
    out = os.path.join(tmp, "validation.sarif")
    # a .NET program: without libicu it needs to be told to do without
    env = dict(os.environ, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT="1")
    p = subprocess.run([validator, "validate", sarif, "--rule-kind", "Sarif;Gh", "--output", out,
                        "--log", "ForceOverwrite", "--quiet"], capture_output=True, text=True, timeout=120,
                       env=env)
    expect(p.returncode == 0 and os.path.exists(out), f"validator: {p.returncode} {p.stdout[-2000:]} {p.stderr[-2000:]}")
    with open(out) as f:
        found = json.load(f)["runs"][0]["results"]
    # the one thing left: lockrace has no web page to give as informationUri
    problems = [f"{r.get('level', 'warning')} {r['ruleId']} {r['message']}" for r in found
                if r["ruleId"] != "SARIF2005"]
    expect(not problems, f"validator on {os.path.basename(sarif)}:\n" + "\n".join(problems))
    return [r["ruleId"] for r in found]


def case_sarif_validator():
    """The SARIF file passes Microsoft's SARIF validator, with GitHub's
    rules (what upload-sarif accepts). Skipped when it is not installed:
    .ci/setup installs it in CI."""
    validator = sarif_validator()
    if not validator:
        raise Skip("no SARIF validator (npm install --prefix ~/.cache/lockrace @microsoft/sarif-multitool)")
    with tempfile.TemporaryDirectory() as tmp:
        sarif = os.path.join(tmp, "out.sarif")
        status, err, _ = run_tree(tmp, "--sarif", sarif)
        expect(status == 66, f"status {status}")
        found = sarif_validate(validator, sarif, tmp)
        print(f"SARIF validated: {len(found)} note(s): {found}")


def case_sarif_code_scanning():
    """SARIF as GitHub code scanning takes it: every result has a physical
    location, a binary built without -g included (its module and offset);
    file URIs are relative to a source root named in originalUriBaseIds
    (the repository that holds the files by default, --source-root DIR when
    given), not to the directory the command ran in; the other stacks are
    related locations, each linked from the message with [text](id)."""
    validator = sarif_validator()
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("LOCKRACE_OPTIONS", None)

    def sarif_of(tmp, name, cwd, *flags):
        out = os.path.join(tmp, name + ".sarif")
        p = subprocess.run([LAUNCHER, "--sarif", out, *flags, "--", program(name)], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=TIMEOUT)
        expect(p.returncode == 66, f"{name}: status {p.returncode} {p.stderr[-1000:]}")
        with open(out) as f:
            log = json.load(f)
        results = log["runs"][0]["results"]
        expect(len(results) == 1, f"{name}: {len(results)} results")
        if validator:
            sarif_validate(validator, out, tmp)
        return log["runs"][0], results[0]

    def links(result):
        """the related locations' ids, and the ids the message links to"""
        ids = [x["id"] for x in result.get("relatedLocations", [])]
        linked = [int(i) for i in re.findall(r"\]\((\d+)\)", result["message"]["text"])]
        return ids, linked

    with tempfile.TemporaryDirectory() as tmp:
        # a repository with the build in bin/: the files named relative in
        # the debug information (the project's builds) are the repository's
        repo = os.path.join(tmp, "repo")
        os.makedirs(os.path.join(repo, ".git"))
        os.makedirs(os.path.join(repo, "bin"))
        for flags in ((), ("--source-root", "..")):
            run_, r = sarif_of(tmp, "abba", os.path.join(repo, "bin"), *flags)
            loc = r["locations"][0]["physicalLocation"]
            expect(loc["artifactLocation"] == {"uri": "demos/abba.c", "uriBaseId": "SRCROOT"}
                   and loc["region"]["startLine"] > 0, f"{flags}: location {loc}")
            base = run_["originalUriBaseIds"]["SRCROOT"]["uri"]
            expect(base == "file://" + repo + "/", f"{flags}: SRCROOT {base}, not the repository {repo}")
            ids, linked = links(r)
            expect(len(ids) == 3 and len(set(ids)) == 3 and 0 not in ids, f"related location ids {ids}")
            expect(sorted(linked) == sorted(ids), f"message {r['message']['text']!r} links {linked}, not {ids}")
            expect(r["message"]["text"].startswith("lock-order inversion: cycle of 2 locks (lock_a, lock_b)"),
                   f"message {r['message']['text']!r}")
            for x in r["relatedLocations"]:
                expect(x["physicalLocation"]["artifactLocation"]["uri"] == "demos/abba.c"
                       and x["message"]["text"], f"related {x}")

        # absolute names in the debug information: relative to the
        # repository that holds them, wherever the command ran
        if os.path.exists(os.path.join(SOURCE, ".git")):
            run_, r = sarif_of(tmp, "abba_abspath", os.path.join(repo, "bin"))
            loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
            base = run_["originalUriBaseIds"]["SRCROOT"]["uri"]
            expect(loc == {"uri": "demos/abba.c", "uriBaseId": "SRCROOT"} and base == "file://" + SOURCE + "/",
                   f"absolute names: {loc}, SRCROOT {base}")

        # no debug information: the module and the offset, still a physical location
        run_, r = sarif_of(tmp, "abba_nodebug", tmp)
        ids, linked = links(r)
        expect(sorted(linked) == sorted(ids) and len(ids) == 3, f"no -g: related {ids}, linked {linked}")
        for x in r["locations"] + r["relatedLocations"]:
            art = x["physicalLocation"]["artifactLocation"]
            expect(art["uri"].endswith("abba_nodebug") and x["physicalLocation"].get("region"),
                   f"no -g: location {x}")
            expect(re.search(r"abba_nodebug\+0x[0-9a-f]+", x["message"]["text"]), f"no -g: message {x['message']}")
            expect(x["logicalLocations"][0]["fullyQualifiedName"].startswith("abba_nodebug+0x"),
                   f"no -g: logical location {x}")


def case_module_offsets():
    """A frame's offset is what `addr2line -e MODULE OFFSET` takes (pc minus
    the module's load bias): for a PIE program and a shared library the
    distance from the load address, as before; for a program linked at a
    fixed address (-no-pie), the address itself. SARIF's byte offset for
    code without -g is a byte of the file."""
    addr2line = shutil.which("addr2line")
    expect(addr2line, "addr2line is not installed (binutils)")
    for name in ("abba", "abba_nopie"):
        prog = program(name)
        status, out, err, reports = run(name)
        expect(status == 66 and len(reports) == 1, f"{name}: status {status}, {err[-300:]!r}")
        frames = [f for edge in reports[0]["edges"] for key in ("first_stack", "second_stack") for f in edge.get(key, [])]
        own = [f for f in frames if f.get("module") == name]
        expect(own and any("line" in f for f in own), f"{name}: no frame of its own: {frames}")
        for f in frames:
            if "pc" not in f:
                continue
            # pc: a return address; the offset is of the call (pc - 1)
            pc, offset = int(f["pc"], 16), int(f["offset"], 16)
            if f["module"] == "abba_nopie":
                expect(offset in (pc, pc - 1), f"{name}: fixed-address frame {f}")
            else:
                expect((pc - offset) % 4096 in (0, 1) and pc - offset > 0x10000,
                       f"{name}: frame not from its load address: {f}")
            if f["module"] != name or "line" not in f:
                continue
            p = subprocess.run([addr2line, "-i", "-e", prog, f["offset"]], capture_output=True, text=True)
            places = [(os.path.basename(l.rsplit(":", 1)[0]), l.rsplit(":", 1)[1].split()[0])
                      for l in p.stdout.splitlines() if ":" in l]
            want = (os.path.basename(f["file"]), str(f["line"]))
            expect(want in places, f"{name}: addr2line -e {name} {f['offset']} says {p.stdout!r}, the frame {want}")
    text = subprocess.run([program("abba_nopie")], env=dict(os.environ, LD_PRELOAD=PRELOAD),
                          capture_output=True, text=True, timeout=TIMEOUT).stderr
    offsets = re.findall(r"\(abba_nopie\+(0x[0-9a-f]+)\)", text)
    expect(offsets and all(int(o, 16) >= 0x400000 for o in offsets), f"text offsets of abba_nopie: {offsets}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("abba_nodebug", "abba_nopie_nodebug"):
            out = os.path.join(tmp, name + ".sarif")
            p = subprocess.run([LAUNCHER, "--sarif", out, "--", program(name)], cwd=tmp, capture_output=True,
                               text=True, timeout=TIMEOUT)
            expect(p.returncode == 66, f"{name}: status {p.returncode} {p.stderr[-500:]}")
            with open(out) as f:
                r = json.load(f)["runs"][0]["results"][0]
            size = os.path.getsize(program(name))
            for x in r["locations"] + r["relatedLocations"]:
                region = x["physicalLocation"]["region"]
                fqn = x["logicalLocations"][0]["fullyQualifiedName"]
                expect(0 < region["byteOffset"] < size, f"{name}: byte offset {region} outside the file ({size} bytes)")
                p = subprocess.run([addr2line, "-f", "-e", program(name), fqn.split("+", 1)[1]],
                                   capture_output=True, text=True)
                fn = x["logicalLocations"][0].get("name")
                expect(not fn or p.stdout.splitlines()[0] == fn, f"{name}: addr2line -f at {fqn}: {p.stdout!r}, {fn}")


def case_lock_places():
    """A lock without a symbol is named by where it is: a global of a
    stripped program by module and offset (the unstripped twin's nm finds
    it there), "in its data"; one in a MAP_SHARED mapping as shared memory;
    malloc's memory and other anonymous private memory as the heap."""
    nm = subprocess.run(["nm", program("abba_unstripped")], capture_output=True, text=True).stdout
    syms = {l.split()[2]: int(l.split()[0], 16) for l in nm.splitlines() if len(l.split()) == 3}
    status, out, err, reports = run("abba_stripped")
    expect(status == 66 and len(reports) == 1, f"stripped: status {status}, {err[-500:]!r}")
    locks = reports[0]["locks"]
    expect(all(l["where"] == "data" and l["module"] == "abba_stripped" and "name" not in l for l in locks),
           f"stripped: locks {locks}")
    expect(sorted(int(l["offset"], 16) for l in locks) == sorted([syms["lock_a"], syms["lock_b"]]),
           f"stripped: offsets {[l['offset'] for l in locks]}, nm says lock_a {syms['lock_a']:#x} lock_b {syms['lock_b']:#x}")
    for l in locks:
        label = f"mutex at abba_stripped+{l['offset']}"
        expect(label in err and f"{label} is in abba_stripped's data" in err, f"stripped: no {label!r} in {err[-1500:]!r}")
    expect("heap" not in err, f"stripped: a global called heap: {err[-1500:]!r}")

    status, out, err, reports = run("lock_places")
    expect(status == 66 and len(reports) == 1, f"lock_places: status {status}, {err[-500:]!r}")
    addrs = dict(re.findall(r"(shared|heap|private) (0x[0-9a-f]+)", out))
    where = {l["addr"]: l["where"] for l in reports[0]["locks"]}
    want = {addrs["shared"]: "shared", addrs["heap"]: "heap", addrs["private"]: "heap"}
    expect(where == want, f"lock_places: where {where}, want {want}")
    expect(f"shared mutex {addrs['shared']} is in shared memory" in err
           and f"heap mutex {addrs['heap']} is in heap memory" in err
           and f"heap mutex {addrs['private']} is in heap memory" in err, f"lock_places: text {err[-2000:]!r}")


def case_watch_signal_and_fork():
    """A signal handler's watched access that nests in the interrupted
    code's, and children forked while another thread was in a watched
    access: none hangs or crashes, and nothing is reported (the children's
    accesses do not race with the threads they do not have)."""
    for mode, want in (("signal", "signal: 200 handled"), ("fork", "fork: 50 children")):
        status, out, err, reports = watched("watch_signal", [mode], "ticks", launcher=True)
        expect(status == 0 and want in out and reports == [],
               f"{mode}: status {status}, {out!r}, {[r.get('summary') for r in reports]} {err[-300:]!r}")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def sanitizer_logs_begin():
    """In a sanitized build, every process a case starts (programs under the
    shim, the launcher) writes what ASan or UBSan finds into a directory of
    the case's: a finding fails the case even where it does not look at that
    process's status or stderr (a program expected to hang, for one)."""
    logs = tempfile.mkdtemp(prefix="lockrace-sanitizer-")
    for var, name in (("ASAN_OPTIONS", "asan"), ("UBSAN_OPTIONS", "ubsan")):
        os.environ[var] = ":".join(o for o in (os.environ.get(var), f"log_path={logs}/{name}") if o)
    return logs


def sanitizer_logs_end(logs):
    found = ""
    for name in sorted(os.listdir(logs)):
        with open(os.path.join(logs, name), errors="replace") as f:
            found += f"--- {name}\n{f.read()}"
    shutil.rmtree(logs)
    return found


if __name__ == "__main__":
    case = sys.argv[2]
    if case == "--list":
        print("\n".join(CASES))
        sys.exit(0)
    logs = sanitizer_logs_begin() if SANITIZED else None
    try:
        CASES[case]()
        status, said = 0, f"ok {case}"
    except Failure as e:
        status, said = 1, f"FAIL {case}: {e}"
    except Skip as e:
        status, said = 77, f"SKIP {case}: {e}"
    found = sanitizer_logs_end(logs) if logs else ""
    if found:
        status, said = 1, f"{said}\nFAIL {case}: the sanitizers found errors in lockrace:\n{found}"
    print(said)
    sys.exit(status)
