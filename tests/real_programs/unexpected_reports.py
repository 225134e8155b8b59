#!/usr/bin/env python3
"""unexpected_reports.py REPORTS.json NAME EXPECTED: prints how many reports
of REPORTS.json (JSON lines, docs/json.md) no line of EXPECTED accepts for
program NAME. A line of EXPECTED is NAME KIND SUMMARY-GLOB: a report of that
kind whose "summary" matches the glob (fnmatch) is expected. The one-line
"summary" records written at exit are not reports; a line that is not JSON
(cut short by a crash) counts as unexpected."""
import fnmatch
import json
import sys

reports, name, expected = sys.argv[1:]
rules = []
with open(expected) as f:
    for line in f:
        if line.strip() and not line.startswith("#"):
            prog, kind, pattern = line.split(None, 2)
            if prog == name:
                rules.append((kind, pattern.strip()))
n = 0
with open(reports, errors="replace") as f:
    for line in f:
        try:
            r = json.loads(line)
        except ValueError:
            n += 1
            continue
        if r.get("kind") == "summary":
            continue
        if not any(r.get("kind") == k and fnmatch.fnmatchcase(r.get("summary", ""), p) for k, p in rules):
            n += 1
print(n)
