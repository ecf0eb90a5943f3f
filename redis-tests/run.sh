#!/usr/bin/env bash
# Runs Redis 7.0.15's own Tcl test suite against snapcache-server, one unit at a
# time. See redis-tests/README.md.
set -Eeuo pipefail
# Name the command that stops the script: a bare exit status 1 in CI's output
# says nothing of where it came from.
trap 'echo "run.sh: line $LINENO: \"$BASH_COMMAND\" failed with status $?; stopping" >&2' ERR

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cache="${SNAPCACHE_CACHE:-$repo/.cache}"
src="$cache/redis-src"
work="${REDIS_TESTS_WORK:-$here/work}"
report="$here/report.py"

usage() {
    cat <<'EOF'
usage: redis-tests/run.sh [options] [--gate] [--all] [unit ...] [-- test_helper args]

  unit ...          run these units (e.g. unit/type/string, integration/rdb)
  --gate            run the units in redis-tests/gated.txt; exit non-zero unless
                    all of them finish with no failed/errored test
  --gate-forkless   the gate of redis-tests/gated-forkless.txt (the RDB units),
                    every server started with `snapshot-method forkless`
  --all             run every unit of the suite (test_helper.tcl --list-tests) and
                    write redis-tests/summary.md and redis-tests/summary.tsv
  --timeout SECS    wall-clock limit per unit (default $REDIS_TESTS_TIMEOUT or 600)
  --no-durable      upstream behaviour: a Tcl error (not an assertion) inside a
                    test aborts the whole unit. Default is test_helper's --durable,
                    where it fails only that test and the unit goes on.
  --build           run `cargo build --release` first (default: don't build)
  --list            print the suite's unit list and exit
  -- ARGS           pass ARGS to test_helper.tcl (e.g. -- --only 'SET and GET*')

environment:
  SNAPCACHE_SERVER      server binary (default: target/release/snapcache-server)
  SNAPCACHE_CACHE       cache dir holding redis-src (default: .cache)
  REDIS_TESTS_TIMEOUT   default per-unit timeout in seconds (600)
  REDIS_TESTS_SUMMARY_DIR  where --all writes summary.md/.tsv (default redis-tests/)
  SNAPCACHE_SNAPSHOT_METHOD  when set (fork|forkless|auto), every server the
                        suite starts gets `--snapshot-method` with it
                        (test_helper's `--config snapshot-method VALUE`)
  REDIS_TESTS_BASEPORT  first port for spawned servers (default 21111; the suite
                        uses [base-32, base+portcount) and port+10000 for buses)

Exit status: 0 if every unit that ran passed, 1 otherwise, 2 on usage errors.
EOF
}

gate=0
gate_file=gated.txt
all=0
build=0
list=0
durable=1
unit_timeout="${REDIS_TESTS_TIMEOUT:-600}"
baseport="${REDIS_TESTS_BASEPORT:-21111}"
units=()
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --gate) gate=1 ;;
        --gate-forkless) gate=1; gate_file=gated-forkless.txt; SNAPCACHE_SNAPSHOT_METHOD=forkless ;;
        --all) all=1 ;;
        --build) build=1 ;;
        --list) list=1 ;;
        --durable) durable=1 ;;
        --no-durable) durable=0 ;;
        --timeout) shift; unit_timeout="${1:?--timeout needs a value}" ;;
        --timeout=*) unit_timeout="${1#--timeout=}" ;;
        -h|--help) usage; exit 0 ;;
        --) shift; extra=("$@"); break ;;
        -*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) u="${1#./}"; u="${u#tests/}"; u="${u%.tcl}"; units+=("$u") ;;
    esac
    shift
done
case "$unit_timeout" in ''|*[!0-9]*) echo "run.sh: --timeout must be a number of seconds" >&2; exit 2 ;; esac
if [ -n "${SNAPCACHE_SNAPSHOT_METHOD:-}" ]; then
    extra+=(--config snapshot-method "$SNAPCACHE_SNAPSHOT_METHOD")
fi

# --- prerequisites -----------------------------------------------------------
bash "$repo/scripts/setup.sh" >&2
if [ ! -f "$src/tests/test_helper.tcl" ]; then
    echo "run.sh: $src/tests/test_helper.tcl missing after setup" >&2
    exit 1
fi

if [ "$build" = 1 ]; then
    (cd "$repo" && cargo build --release)
fi
server="${SNAPCACHE_SERVER:-$repo/target/release/snapcache-server}"
case "$server" in /*) ;; *) server="$(cd "$(dirname "$server")" && pwd)/$(basename "$server")" ;; esac

mkdir -p "$work"
exec 9>"$work/.lock"
if ! flock -n 9; then
    echo "run.sh: another run.sh is using $work" >&2
    exit 1
fi

# --- work copy ---------------------------------------------------------------
# Fresh copy of the suite each run (2.8 MB), binaries symlinked into src/.
rm -rf "$work/tests" "$work/src"
cp -a "$src/tests" "$work/tests"
rm -rf "$work/tests/tmp"
mkdir -p "$work/tests/tmp" "$work/src" "$work/logs"
ln -s "$server" "$work/src/redis-server"
for tool in redis-cli redis-benchmark redis-check-rdb redis-check-aof; do
    path=$(command -v "$tool" || true)
    if [ -n "$path" ]; then
        ln -s "$path" "$work/src/$tool"
    else
        echo "run.sh: warning: $tool not found in PATH; tests using it will fail" >&2
    fi
done

if [ "$list" = 1 ]; then
    (cd "$work" && tclsh tests/test_helper.tcl --list-tests)
    exit 0
fi

if [ ! -x "$server" ]; then
    echo "run.sh: server binary $server not found or not executable." >&2
    echo "run.sh: build it (cargo build --release, or run.sh --build) or set SNAPCACHE_SERVER." >&2
    exit 1
fi

# --- unit selection ----------------------------------------------------------
gated=()
if [ "$gate" = 1 ]; then
    if [ ! -f "$here/$gate_file" ]; then
        echo "run.sh: $here/$gate_file missing" >&2
        exit 1
    fi
    while IFS= read -r line || [ -n "$line" ]; do
        line="${line%%#*}"
        line="$(echo "$line" | tr -d '[:space:]')"
        [ -n "$line" ] && gated+=("$line")
    done <"$here/$gate_file"
fi
if [ "$all" = 1 ]; then
    mapfile -t all_units < <(cd "$work" && tclsh tests/test_helper.tcl --list-tests)
    units+=("${all_units[@]}")
fi
units+=("${gated[@]}")
if [ ${#units[@]} -eq 0 ]; then
    echo "run.sh: no units given (use unit names, --gate or --all)" >&2
    usage >&2
    exit 2
fi
# de-duplicate, keeping order
declare -A seen=()
run_units=()
for u in "${units[@]}"; do
    if [ -z "${seen[$u]:-}" ]; then
        seen[$u]=1
        run_units+=("$u")
    fi
done

# --- process hygiene ---------------------------------------------------------
# Everything the suite starts runs with its cwd inside $work (servers chdir to
# tests/tmp/server.*). Kill such processes, except this script's ancestors.
ancestors=" "
p=$$
while [ -n "$p" ] && [ "$p" -gt 1 ] 2>/dev/null; do
    ancestors+="$p "
    p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null || true)
done
server_base=$(basename "$server")

# Processes to clean up: members of the unit's process group ($1, the pid of
# `timeout`, which makes itself a group leader), and anything else running
# from $work whose command line looks like the suite's (tclsh, redis-*, the
# server binary).
stray_pids() {
    local pgid="${1:-}" d pid cwd cmd stat rest
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        case "$ancestors" in *" $pid "*) continue ;; esac
        { read -r stat <"$d/stat"; } 2>/dev/null || continue
        rest=${stat##*) }
        # shellcheck disable=SC2086
        set -- $rest
        # zombies (state Z) are already dead; init reaps them
        [ "${1:-}" = Z ] && continue
        if [ -n "$pgid" ]; then
            if [ "${3:-}" = "$pgid" ]; then
                echo "$pid"
                continue
            fi
        fi
        cwd=$(readlink "$d/cwd" 2>/dev/null) || continue
        case "$cwd" in "$work"|"$work"/*) ;; *) continue ;; esac
        cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || continue
        case "$cmd" in *tclsh*|*redis-*|*"$server_base"*) echo "$pid" ;; esac
    done
}

kill_strays() {
    local pgid="${1:-}" pids
    pids=$(stray_pids "$pgid")
    [ -z "$pids" ] && return 0
    local pid
    for pid in $pids; do
        echo "run.sh: killing leftover process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)" >&2
    done
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        sleep 0.5
        pids=$(stray_pids "$pgid")
        [ -z "$pids" ] && return 0
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    return 0
}

current_timeout_pid=""
on_signal() {
    trap - INT TERM
    echo "run.sh: interrupted, stopping the current unit" >&2
    if [ -n "$current_timeout_pid" ]; then
        kill -TERM "$current_timeout_pid" 2>/dev/null || true
        sleep 1
    fi
    kill_strays "$current_timeout_pid"
    exit 130
}
trap on_signal INT TERM

kill_strays

# --- run ---------------------------------------------------------------------
results="$work/results.jsonl"
: >"$results"
test_args=(--clients 1 --timeout "$unit_timeout" --baseport "$baseport" --dont-clean)
[ "$durable" = 1 ] && test_args+=(--durable)
test_args+=("${extra[@]}")

echo "run.sh: server $server"
echo "run.sh: ${#run_units[@]} unit(s), ${unit_timeout}s limit each, logs in $work/logs"
# Empty tests/tmp between units. A server that is still exiting may create a
# file while rm walks the directory ("Directory not empty"): that must not stop
# the whole run, so try again, then go on with a warning.
clean_tmp() {
    local attempt
    for attempt in 1 2 3; do
        find "$work/tests/tmp" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null && return 0
        kill_strays ""
        sleep 1
    done
    echo "run.sh: warning: could not empty $work/tests/tmp" >&2
    return 0
}

run_unit() {
    local u="$1" log start end rc secs status d dest f
    # Tests listed in skipped.txt would hang waiting for a feature we lack
    # (e.g. an eviction event): the harness skips them by exact name. Lines
    # whose unit reads `forkless:UNIT` apply only under snapshot-method
    # forkless (tests that kill the snapshot's child process).
    local skips=()
    if [ -f "$here/skipped.txt" ]; then
        while IFS= read -r name; do
            [ -n "$name" ] && skips+=(--skiptest "$name")
        done < <(awk -F' [|] ' -v u="$u" -v m="${SNAPCACHE_SNAPSHOT_METHOD:-}" \
            '!/^#/ && ($1 == u || (m == "forkless" && $1 == "forkless:" u)) { print $2 }' "$here/skipped.txt")
    fi
    log="$work/logs/$u.log"
    mkdir -p "$(dirname "$log")"
    rm -rf "$work/logs/$u.servers"
    clean_tmp
    start=$(date +%s.%N)
    rc=0
    if [ ! -f "$work/tests/$u.tcl" ]; then
        echo "run.sh: no such unit: tests/$u.tcl" >"$log"
        rc=1
    else
        # The harness' own --timeout (no progress for N s) fires first on a hang
        # and reports the test in progress; `timeout` bounds the whole unit.
        (cd "$work" && exec env TERM=dumb timeout --kill-after=15 "$((unit_timeout + 30))" \
            tclsh tests/test_helper.tcl --single "$u" "${test_args[@]}" "${skips[@]}") >"$log" 2>&1 </dev/null &
        current_timeout_pid=$!
        wait "$current_timeout_pid" || rc=$?
    fi
    end=$(date +%s.%N)
    kill_strays "$current_timeout_pid"
    current_timeout_pid=""
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    python3 "$report" parse "$u" "$log" "$rc" "$secs" >>"$results"
    status=$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readlines()[-1])["status"])' <"$results")
    # Keep the server logs (stdout/stderr) of units that did not pass.
    if [ "$status" != ok ]; then
        for d in "$work"/tests/tmp/server*.*; do
            [ -d "$d" ] || continue
            dest="$work/logs/$u.servers/$(basename "$d")"
            mkdir -p "$dest"
            for f in "$d"/stdout* "$d"/stderr*; do
                [ -f "$f" ] && cp "$f" "$dest/"
            done
        done
    fi
    clean_tmp
    python3 "$report" line "$results" "$u"
}

for u in "${run_units[@]}"; do
    run_unit "$u"
done

# --- summaries ---------------------------------------------------------------
python3 "$report" summary "$results" "$work/summary.md" "$work/summary.tsv" \
    --title "Redis 7.0.15 test suite: last run.sh run"
if [ "$all" = 1 ]; then
    outdir="${REDIS_TESTS_SUMMARY_DIR:-$here}"
    mkdir -p "$outdir"
    python3 "$report" summary "$results" "$outdir/summary.md" "$outdir/summary.tsv" \
        --title "Redis 7.0.15 test suite against $(basename "$server")"
    echo "run.sh: wrote $outdir/summary.md and $outdir/summary.tsv"
else
    echo "run.sh: wrote $work/summary.md"
fi

rc=0
read -r p f bad < <(python3 "$report" totals "$results" "${run_units[@]}")
[ "$bad" -gt 0 ] && rc=1
if [ "$gate" = 1 ]; then
    # The gate verdict depends on the gated units only: each must finish, and
    # every failing test must be listed in expected-failures.txt with the
    # feature it waits for.
    python3 "$here/gate.py" "$results" "$here/expected-failures.txt" "${gated[@]}" > "$work/gate.txt"
    # A timing-sensitive test can fail on a loaded machine: a unit that
    # fails the gate runs once more, and its second run decides.
    mapfile -t again < <(awk '/^GATE-FAIL/ { sub(":", "", $2); print $2 }' "$work/gate.txt")
    if [ "${#again[@]}" -gt 0 ]; then
        echo "run.sh: gate: running again: ${again[*]}"
        for u in "${again[@]}"; do
            run_unit "$u"
        done
        python3 "$here/gate.py" "$results" "$here/expected-failures.txt" "${gated[@]}" > "$work/gate.txt"
    fi
    head -n -1 "$work/gate.txt"
    read -r gp gbad < <(tail -n 1 "$work/gate.txt")
    echo "run.sh: gate: ${#gated[@]} unit(s), $gbad unexpected failure(s)"
    echo "redis-tests: $gp passed, $gbad failed"
    [ "$gbad" -gt 0 ] && exit 1
    exit 0
fi
echo "redis-tests: $p passed, $f failed"
exit "$rc"
