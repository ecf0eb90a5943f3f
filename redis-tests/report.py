#!/usr/bin/env python3
"""Parse Redis test-suite logs and write summaries (used by run.sh).

  report.py parse UNIT LOG RC SECONDS   -> one JSON line on stdout
  report.py summary RESULTS.jsonl MD TSV [--title TEXT]
  report.py line RESULTS.jsonl UNIT      -> one human line for that unit
  report.py totals RESULTS.jsonl [UNIT ...] -> "P F" (F = failed + errored)
"""
import json
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")
DONE = re.compile(r"^\[\d+/\d+ done\]: (\S+)")
IN_FILE = re.compile(r" in tests/\S+\.tcl$")
TEST_IN_TRACE = re.compile(r'invoked from within\n"test (?:\{([^}\n]*)\}|"([^"\n]*)")')
CLIENT_STATE = re.compile(r"^sock\w+ => (.*)$")


def parse(unit, log_path, rc, seconds):
    try:
        with open(log_path, "r", encoding="utf-8", errors="replace") as f:
            lines = [ANSI.sub("", l.rstrip("\n")) for l in f]
    except OSError:
        lines = []
    passed = failed = skipped = 0
    failing = []
    done = False
    exceptions = []  # (first line, test name or None)
    timeout_hit = False
    in_progress = None
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if line.startswith("[ok]: "):
            passed += 1
        elif line.startswith("[err]: "):
            failed += 1
            failing.append(IN_FILE.sub("", line[len("[err]: "):]).strip())
        elif line.startswith("[skip]: ") or line.startswith("[ignore]: "):
            skipped += 1
        elif line.startswith("[exception]: "):
            # Collect the block (error message + Tcl backtrace) to name the test.
            block = [line[len("[exception]: "):]]
            j = i + 1
            while j < n and not lines[j].startswith("["):
                block.append(lines[j])
                j += 1
            text = "\n".join(block)
            m = TEST_IN_TRACE.search(text)
            name = (m.group(1) or m.group(2)) if m else None
            msg = block[0]
            for cand in block:
                # "Executing test client: <msg>." is the usual first line
                if cand.strip():
                    msg = cand.strip()
                    break
            exceptions.append((msg, name))
            i = j
            continue
        elif line.startswith("[TIMEOUT]"):
            timeout_hit = True
        elif DONE.match(line):
            done = True
        m = CLIENT_STATE.search(line)
        if m:
            in_progress = m.group(1)
        i += 1

    rc = int(rc)
    errored = 0
    status = "ok"
    if exceptions:
        status = "aborted"
        for msg, name in exceptions:
            errored += 1
            where = f"in test '{name}'" if name else "outside a test"
            failing.append(f"ABORTED (exception {where}): {msg[:300]}")
    elif timeout_hit:
        status = "timeout"
        errored += 1
        where = f"; test client state: {in_progress}" if in_progress else ""
        failing.append(f"ABORTED (no progress for the suite's --timeout){where}")
    elif rc in (124, 137) or (rc > 128 and not done):
        status = "timeout" if rc in (124, 137) else "aborted"
        errored += 1
        why = "wall-clock timeout" if rc in (124, 137) else f"killed by signal {rc - 128}"
        last = next((l for l in reversed(lines) if l.strip()), "")
        failing.append(f"ABORTED ({why}); last output: {last[:200]}")
    elif not done:
        status = "aborted"
        errored += 1
        last = next((l for l in reversed(lines) if l.strip()), "")
        failing.append(f"ABORTED (unit did not finish, exit code {rc}); last output: {last[:200]}")
    elif failed:
        status = "failed"
    elif rc != 0:
        # Finished, no [err] lines, but the harness says failure.
        status = "failed"
        errored += 1
        failing.append(f"harness exited with code {rc} without a failing test line")
    return {
        "unit": unit,
        "passed": passed,
        "failed": failed,
        "errored": errored,
        "skipped": skipped,
        "seconds": round(float(seconds), 1),
        "status": status,
        "rc": rc,
        "failing": failing,
    }


def load(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for l in f:
            l = l.strip()
            if l:
                r = json.loads(l)
                out[r["unit"]] = r  # last result for a unit wins
    return out


def human(r):
    tag = {"ok": "PASS", "failed": "FAIL", "aborted": "ABORT", "timeout": "TIMEOUT"}.get(r["status"], r["status"].upper())
    return (f"{tag:7} {r['unit']}: {r['passed']} passed, {r['failed']} failed, "
            f"{r['errored']} errored, {r['skipped']} skipped ({r['seconds']}s)")


def printable(s):
    # Failure texts can quote binary payloads (RESTORE, DUMP): keep the
    # summaries plain text.
    return "".join(ch if ch.isprintable() or ch == " " else "?" for ch in s)


def md_escape(s):
    return printable(s).replace("|", "\\|")


def tsv_clean(s):
    return printable(re.sub(r"[\t\r\n]+", " ", s))


def summary(results_path, md_path, tsv_path, title):
    res = list(load(results_path).values())
    tot = {k: sum(r[k] for r in res) for k in ("passed", "failed", "errored", "skipped", "seconds")}
    tot["seconds"] = round(tot["seconds"], 1)
    md = [f"# {title}", ""]
    md.append("Generated by `redis-tests/run.sh`; see `redis-tests/README.md`. "
              "`errored` counts aborted units (exception, timeout, crash); "
              "`skipped` counts `[skip]` and `[ignore]` lines (tag-filtered tests or blocks).")
    md.append("")
    md.append("| unit | passed | failed | errored | skipped | seconds |")
    md.append("|---|---:|---:|---:|---:|---:|")
    for r in res:
        md.append(f"| {r['unit']} | {r['passed']} | {r['failed']} | {r['errored']} | {r['skipped']} | {r['seconds']} |")
    md.append(f"| **total ({len(res)} units)** | **{tot['passed']}** | **{tot['failed']}** | "
              f"**{tot['errored']}** | **{tot['skipped']}** | **{tot['seconds']}** |")
    md.append("")
    bad = [r for r in res if r["failing"]]
    md.append("## Failing tests")
    md.append("")
    if not bad:
        md.append("None.")
        md.append("")
    for r in bad:
        md.append(f"### {r['unit']} ({r['status']})")
        md.append("")
        for name in r["failing"]:
            md.append(f"- {md_escape(name)}")
        md.append("")
    with open(md_path, "w", encoding="utf-8") as f:
        f.write("\n".join(md))
    with open(tsv_path, "w", encoding="utf-8") as f:
        f.write("unit\tpassed\tfailed\terrored\tskipped\tseconds\tstatus\tfailing\n")
        for r in res:
            fail = " ;; ".join(tsv_clean(x) for x in r["failing"])
            f.write(f"{r['unit']}\t{r['passed']}\t{r['failed']}\t{r['errored']}\t{r['skipped']}\t"
                    f"{r['seconds']}\t{r['status']}\t{fail}\n")


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "parse" and len(argv) == 6:
        print(json.dumps(parse(argv[2], argv[3], argv[4], argv[5])))
    elif cmd == "summary" and len(argv) >= 5:
        title = "Redis 7.0.15 test suite results"
        if len(argv) >= 7 and argv[5] == "--title":
            title = argv[6]
        summary(argv[2], argv[3], argv[4], title)
    elif cmd == "line" and len(argv) == 4:
        print(human(load(argv[2])[argv[3]]))
    elif cmd == "totals" and len(argv) >= 3:
        res = load(argv[2])
        units = argv[3:] or list(res)
        p = sum(res[u]["passed"] for u in units if u in res)
        f = sum(res[u]["failed"] + res[u]["errored"] for u in units if u in res)
        # A requested unit with no result at all counts as one error.
        f += sum(1 for u in units if u not in res)
        bad = sum(1 for u in units if u not in res or res[u]["status"] != "ok")
        print(p, f, bad)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
