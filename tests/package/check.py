#!/usr/bin/env python3
"""The installed package, used the ways a project outside this tree uses it:
installs the build into a temporary prefix with ./install (the README's
command), builds tests/package/project
with find_package(lockrace) and runs its CTest tests (lockrace_add_test and
a program linked with lockrace::lockrace), compiles and runs a program with
pkg-config's flags, and renders the man page.

    check.py BUILD_DIR CMAKE CTEST CC
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

BUILD, CMAKE, CTEST, CC = (os.path.abspath(sys.argv[1]), *sys.argv[2:5])
HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.join(HERE, "project")
TIMEOUT = 60
# the two locks of project/inverted.c, in either rotation of the cycle
INVERSION = re.compile(r"lock-order-inversion: (ledger_lock -> audit_lock -> ledger_lock"
                       r"|audit_lock -> ledger_lock -> audit_lock)")


class Failure(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failure(what)


def run(cmd, env=None, status=0, timeout=TIMEOUT, **kw):
    """Runs cmd; returns the completed process. status=None: any status."""
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, **kw)
    expect(status is None or p.returncode == status,
           f"{' '.join(cmd)}: status {p.returncode}, expected {status}:\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return p


def installed_files(prefix):
    """The installed files by name; each name must be installed once."""
    found = {}
    for root, _, files in os.walk(prefix):
        for name in files:
            expect(name not in found, f"{name} installed twice: {found.get(name)}, {root}")
            found[name] = os.path.join(root, name)
    return found


def check_install(prefix, files):
    for name in ("lockrace", "liblockrace.so", "lockrace.h", "lockraceConfig.cmake",
                 "lockraceConfigVersion.cmake", "lockraceTargets.cmake", "lockrace.pc", "lockrace.1"):
        expect(name in files, f"cmake --install did not install {name}: {sorted(files)}")
    libdir = os.path.dirname(files["liblockrace.so"])
    expect(files["lockraceConfig.cmake"] == os.path.join(libdir, "cmake", "lockrace", "lockraceConfig.cmake"),
           f"config file at {files['lockraceConfig.cmake']}, not under {libdir}/cmake/lockrace")
    expect(files["lockrace.pc"] == os.path.join(libdir, "pkgconfig", "lockrace.pc"),
           f"lockrace.pc at {files['lockrace.pc']}, not under {libdir}/pkgconfig")
    expect(files["lockrace.1"].endswith(os.path.join("man", "man1", "lockrace.1")),
           f"man page at {files['lockrace.1']}")
    expect(os.access(files["lockrace"], os.X_OK), "the launcher is not executable")
    # the documents the man page names are installed, where it says
    page = open(files["lockrace.1"]).read()
    named = re.findall(r"(share/doc/lockrace/[\w.-]+)", page)
    expect({"share/doc/lockrace/json.md", "share/doc/lockrace/suppressions.md"} <= set(named),
           f"the man page names {named}")
    for doc in named:
        expect(os.path.exists(os.path.join(prefix, doc)), f"the man page names {doc}, which is not installed")


def check_project(tmp, prefix, files, env):
    """The out-of-tree project: configured against the installation, its
    lockrace tests pass when clean and fail on a report or a failure."""
    build = os.path.join(tmp, "project")
    run([CMAKE, "-S", PROJECT, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
         f"-DCMAKE_C_COMPILER={CC}", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], env=env)
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        found = re.search(r"^lockrace_DIR:PATH=(.*)$", f.read(), re.M)
    expect(found and os.path.samefile(found.group(1), os.path.dirname(files["lockraceConfig.cmake"])),
           f"find_package found lockrace in {found and found.group(1)}, not in {prefix}")
    run([CMAKE, "--build", build], env=env)

    shown = json.loads(run([CTEST, "--test-dir", build, "--show-only=json-v1"], env=env).stdout)
    commands = {t["name"]: t["command"] for t in shown["tests"]}
    for name in ("ordered", "inverted", "ordered_fails"):
        expect(os.path.samefile(commands[name][0], files["lockrace"]) and "--" in commands[name],
               f"{name} does not run under the installed launcher: {commands[name]}")

    junit = os.path.join(tmp, "junit.xml")
    p = run([CTEST, "--test-dir", build, "--output-on-failure", "--output-junit", junit],
            env=env, status=None)
    expect(p.returncode != 0, "ctest passed although three of its tests must fail")
    expect(INVERSION.search(p.stdout), f"ctest output does not name the inversion:\n{p.stdout[-3000:]}")
    results = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        results[case.get("name")] = (case.get("status"), case.findtext("system-out") or "")
    expected = {"ordered": "run", "inverted": "fail", "ordered_fails": "fail", "linked": "fail"}
    got = {name: status for name, (status, _) in results.items()}
    expect(got == expected, f"test results {got}, expected {expected}")
    expect(INVERSION.search(results["inverted"][1]), "the inverted test's output does not name the inversion")
    expect(re.search(r"lock-order-inversion: (queue_lock|stats_lock) ->", results["linked"][1]),
           f"the linked program did not report its cycle:\n{results['linked'][1][-2000:]}")
    for name in ("ordered", "ordered_fails"):
        expect("lockrace:" not in results[name][1], f"{name} has a report:\n{results[name][1][-2000:]}")
    expect("failing as asked" in results["ordered_fails"][1], "ordered_fails failed for another reason")

    # OPTIONS reach the library: the json= file holds the report
    with open(os.path.join(build, "inverted.json")) as f:
        reports = [json.loads(line) for line in f if line.strip()]
    expect([r["kind"] for r in reports] == ["lock-order-inversion"],
           f"inverted.json: {[r.get('summary') for r in reports]}")


def check_pkg_config(tmp, files, env):
    """pkg-config's flags compile a program with lockrace.h and link it with
    liblockrace.so, which then checks it without the launcher."""
    env = dict(env, PKG_CONFIG_PATH=os.path.dirname(files["lockrace.pc"]))
    flags = shlex.split(run(["pkg-config", "--cflags", "--libs", "lockrace"], env=env).stdout)
    libdir = run(["pkg-config", "--variable=libdir", "lockrace"], env=env).stdout.strip()
    launcher = run(["pkg-config", "--variable=launcher", "lockrace"], env=env).stdout.strip()
    expect(os.path.samefile(libdir, os.path.dirname(files["liblockrace.so"])), f"libdir {libdir}")
    expect(os.path.samefile(launcher, files["lockrace"]), f"launcher {launcher}")
    version = run(["pkg-config", "--modversion", "lockrace"], env=env).stdout.strip()
    says = run([launcher, "--version"], env=env).stdout.strip()
    expect(says == f"lockrace {version}", f"pkg-config says version {version}, the launcher '{says}'")

    # lockrace's flags before the library that takes the locks: the order
    # in which --as-needed would drop liblockrace.so
    run([CC, "-shared", "-fPIC", "-o", os.path.join(tmp, "liblock_both.so"),
         os.path.join(PROJECT, "lock_both.c")], env=env)
    # nothing but pkg-config's flags to find liblockrace.so at run time: no
    # ldconfig, no LD_LIBRARY_PATH (the rpath is lock_both's)
    program = os.path.join(tmp, "linked_pc")
    run([CC, "-o", program, os.path.join(PROJECT, "linked.c"), *flags, f"-L{tmp}", "-llock_both",
         f"-Wl,-rpath,{tmp}"], env=env)
    p = run([program], env=env, status=66)
    expect(re.search(r"lock-order-inversion: (queue_lock|stats_lock) ->", p.stderr),
           f"no report from the program built with pkg-config's flags:\n{p.stderr[-2000:]}")


def check_launcher_on_path(tmp, prefix, files, env):
    """The installed launcher, found on PATH as the README's examples call
    it, runs a program from outside this tree; a missing run-time
    dependency (libunwind, named through LOCKRACE_LIBUNWIND as a test hook)
    is said once, at start, and the reports still come."""
    env = dict(env, PATH=os.path.dirname(files["lockrace"]) + os.pathsep + env.get("PATH", ""))
    program = os.path.join(tmp, "inverted")
    run([CC, "-g", "-pthread", "-o", program, os.path.join(PROJECT, "inverted.c")], env=env)
    p = run(["lockrace", "--", program], env=env, status=66)
    expect(INVERSION.search(p.stderr) and "inverted.c:" in p.stderr, f"lockrace on PATH:\n{p.stderr[-2000:]}")
    expect("libunwind" not in p.stderr, f"a dependency said missing:\n{p.stderr[-2000:]}")
    p = run(["lockrace", "--", "sh", "-c", f"{program}; {program}; true"], env=dict(env, LOCKRACE_LIBUNWIND="libnone.so.8"),
            status=66)
    said = [l for l in p.stderr.splitlines() if "libnone.so.8" in l]
    expect(len(said) == 1 and said[0].startswith("lockrace: ") and "libunwind" in said[0],
           f"a missing libunwind is not said once: {said}\n{p.stderr[-1500:]}")
    expect(len(INVERSION.findall(p.stderr)) == 2, f"no reports without libunwind:\n{p.stderr[-2000:]}")
    # preloaded without the launcher: each process says it, once
    p = run([program], env=dict(env, LD_PRELOAD=files["liblockrace.so"], LOCKRACE_LIBUNWIND="libnone.so.8"),
            status=66)
    said = [l for l in p.stderr.splitlines() if "libnone.so.8" in l]
    expect(len(said) == 1 and INVERSION.search(p.stderr), f"preloaded: {said}\n{p.stderr[-1500:]}")


def check_man_page(files, env):
    """The installed page renders without a warning and lists every option."""
    page = files["lockrace.1"]
    expect(shutil.which("groff"), "groff is not installed (Debian package groff-base; .ci/setup installs it)")
    p = run(["groff", "-man", "-Tutf8", "-ww", "-z", page], env=env)
    expect(p.stderr == "", f"groff warns about {page}:\n{p.stderr}")
    text = run(["groff", "-man", "-Tutf8", "-P-cbou", page], env=env).stdout
    table = run([files["lockrace"], "--help-markdown"], env=env).stdout
    options = re.findall(r"^\| `(\w+)` \|", table, re.M)
    expect(options, f"no options in --help-markdown:\n{table}")
    for section in ("NAME", "SYNOPSIS", "OPTIONS", "EXIT STATUS"):
        expect(re.search(rf"^{section}$", text, re.M), f"the man page has no {section} section")
    for name in options:
        expect(f"--{name}=" in text, f"the man page does not list --{name}")


def main():
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "LOCKRACE_OPTIONS", "CMAKE_PREFIX_PATH", "PKG_CONFIG_PATH")}
    with tempfile.TemporaryDirectory(prefix="lockrace-package-") as tmp:
        prefix = os.path.join(tmp, "prefix")
        # the README's one command, but for its build (BUILT=1: the other
        # tests run from BUILD)
        p = run([os.path.join(HERE, "..", "..", "install"), prefix], env=dict(env, BUILD=BUILD, BUILT="1"),
                timeout=300)
        expect("lockrace 0" in p.stdout and f"{prefix}/bin" in p.stdout, f"./install said {p.stdout!r}")
        files = installed_files(prefix)
        check_install(prefix, files)
        check_project(tmp, prefix, files, env)
        check_pkg_config(tmp, files, env)
        check_launcher_on_path(tmp, prefix, files, env)
        check_man_page(files, env)


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL package: {e}")
        sys.exit(1)
    print("ok package")
