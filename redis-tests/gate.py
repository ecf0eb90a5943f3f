#!/usr/bin/env python3
"""Gate verdict for the Redis test-suite runner.

A gated unit passes when it ran to the end and every test that failed is
listed in expected-failures.txt with the later feature it waits for. Listed
tests that now pass are reported as stale (remove them), not as failures.

usage: gate.py RESULTS.jsonl EXPECTED.txt UNIT...
prints one line per unit, then "passed failed" counts (failed = unexpected).
"""
import json
import sys


def load_expected(path):
    exp = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                parts = [p.strip() for p in line.split("|")]
                if len(parts) < 3:
                    print(f"gate: malformed line in {path}: {line}", file=sys.stderr)
                    continue
                exp.setdefault(parts[0], {})[parts[1]] = parts[2]
    except FileNotFoundError:
        pass
    return exp


def main(argv):
    results_path, expected_path, units = argv[1], argv[2], argv[3:]
    results = {}
    with open(results_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                results[r["unit"]] = r
    expected = load_expected(expected_path)
    total_passed = 0
    total_bad = 0
    for u in units:
        r = results.get(u)
        if r is None:
            print(f"GATE-FAIL {u}: did not run")
            total_bad += 1
            continue
        exp = expected.get(u, {})
        failing = r.get("failing", [])
        unexpected = [t for t in failing if t not in exp]
        known = [t for t in failing if t in exp]
        stale = [t for t in exp if t not in failing]
        # report.py statuses: ok, failed (finished) and aborted, timeout (did not)
        finished = r.get("status") in ("ok", "failed")
        total_passed += r.get("passed", 0)
        bad = len(unexpected) + (0 if finished else 1)
        total_bad += bad
        verdict = "GATE-OK  " if bad == 0 else "GATE-FAIL"
        print(
            f"{verdict} {u}: {r.get('passed', 0)} passed, {len(known)} known failures, "
            f"{len(unexpected)} unexpected{'' if finished else ', did not finish (' + r.get('status', '?') + ')'}"
        )
        for t in unexpected:
            print(f"    unexpected failure: {t}")
        for t in stale:
            print(f"    now passing, remove from expected-failures.txt: {t}")
    print(f"{total_passed} {total_bad}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
