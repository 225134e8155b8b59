#!/usr/bin/env python3
"""The arrows between lockrace's layers (docs/architecture.md), checked on
the #include lines: each folder of src/ and interpose/ may include only the
folders its arrows point to, and an engine in src/detect/ only itself (its
own file group) and the layers below. Exits 1 and names every include that
goes against an arrow.

    tests/layers.py            # from anywhere in the repository
"""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# Where each folder may reach: the arrows of docs/architecture.md.
BELOW_REPORT = {"model", "support"}
ALLOWED = {
    "interpose": {"interpose", "watch", "runtime", "model", "support"},
    "watch": {"watch", "runtime", "detect", "report", "model", "support"},
    "runtime": {"runtime", "detect", "report", "model", "support"},
    "detect": {"detect", "report"} | BELOW_REPORT,
    "report": {"report"} | BELOW_REPORT,
    "model": {"model", "support"},
    "support": {"support"},
    "launcher": {"launcher", "support"},
}

# The engines of src/detect/, by file group: one does not include another.
ENGINES = {
    "lockorder": "lockorder", "lockgraph": "lockorder", "lockgraph_kept": "lockorder",
    "lockgraph_settled": "lockorder",
    "lockgraph_back": "lockorder",
    "waitfor": "waitfor",
    "misuse": "misuse",
    "race": "race", "race_clock": "race", "race_report": "race", "race_internal": "race",
    "vclock": "race",
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(path):
    """'src/model/thread.c' -> 'model', 'interpose/mutex.c' -> 'interpose'."""
    parts = path.split("/")
    return parts[1] if parts[0] == "src" else parts[0]


def engine_of(name):
    stem = os.path.splitext(os.path.basename(name))[0]
    if stem not in ENGINES:
        return None
    return ENGINES[stem]


def check_file(rel):
    problems = []
    here = folder_of(rel)
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            if "/" not in target:
                # a header beside the file (interpose/real.h) or the public one
                if target != "lockrace.h" and not os.path.exists(
                        os.path.join(ROOT, os.path.dirname(rel), target)):
                    problems.append(f"{rel}:{number}: #include \"{target}\": name its layer "
                                    f"(\"layer/file.h\")")
                continue
            there = target.split("/")[0]
            if there not in ALLOWED:
                problems.append(f"{rel}:{number}: #include \"{target}\": no such layer")
            elif there not in ALLOWED[here]:
                problems.append(f"{rel}:{number}: {here} -> {there} (\"{target}\") goes against "
                                f"the arrows: {here} may include {', '.join(sorted(ALLOWED[here]))}")
            elif here == "detect" and there == "detect":
                mine, theirs = engine_of(rel), engine_of(target)
                if mine is None or theirs is None:
                    problems.append(f"{rel}:{number}: \"{target}\": every file of src/detect/ "
                                    f"belongs to an engine (tests/layers.py, ENGINES)")
                elif mine != theirs:
                    problems.append(f"{rel}:{number}: engine {mine} includes engine {theirs} "
                                    f"(\"{target}\"): engines do not call each other")
    return problems


def main():
    files = []
    for top in ("src", "interpose"):
        for dirpath, _, names in os.walk(os.path.join(ROOT, top)):
            for name in names:
                if name.endswith((".c", ".h", ".S", ".def")):
                    files.append(os.path.relpath(os.path.join(dirpath, name), ROOT))
    unknown = sorted({folder_of(f) for f in files} - set(ALLOWED))
    problems = [f"src/{u}/: a folder tests/layers.py does not know: give it its arrows"
                for u in unknown]
    for rel in sorted(files):
        if folder_of(rel) in ALLOWED:
            problems += check_file(rel)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"layers: {len(files)} files, every #include along the arrows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
