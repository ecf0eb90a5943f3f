#!/usr/bin/env python3
"""Removes from expected-failures.txt the tests that now pass.

usage: prune-expected.py RESULTS.jsonl [EXPECTED.txt]

Only units that ran to the end are considered (an aborted unit says nothing
about the tests it never reached). Comments and other units' lines are kept.
"""
import json
import os
import sys


def main(argv):
    results_path = argv[1]
    expected = argv[2] if len(argv) > 2 else os.path.join(os.path.dirname(__file__), "expected-failures.txt")
    finished = {}
    with open(results_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                if r.get("status") in ("ok", "failed"):
                    finished[r["unit"]] = set(r.get("failing", []))
    kept, removed = [], []
    with open(expected, encoding="utf-8") as f:
        for line in f:
            parts = [p.strip() for p in line.split("|")]
            if (not line.lstrip().startswith("#") and len(parts) >= 3
                    and parts[0] in finished and parts[1] not in finished[parts[0]]):
                removed.append(f"{parts[0]} | {parts[1]}")
                continue
            kept.append(line)
    with open(expected, "w", encoding="utf-8") as f:
        f.writelines(kept)
    for r in removed:
        print(f"removed: {r}")
    print(f"{len(removed)} line(s) removed")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
