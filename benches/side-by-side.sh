#!/usr/bin/env bash
# Side-by-side benchmark: Debian's redis-server vs snapcache-server.
#
# Starts both servers on free loopback ports, runs redis-benchmark against
# each one alternately (test by test, pipeline by pipeline), then measures
# memory after DEBUG POPULATE on freshly started servers. Prints a markdown
# table on stdout and writes it to $OUT. Progress goes to stderr.
#
# Environment (all optional):
#   SNAPCACHE_SERVER  server binary to compare    (default: target/release/snapcache-server)
#   REDIS_SERVER      reference server binary     (default: redis-server from PATH)
#   TESTS             redis-benchmark -t list     (default: ping_inline,ping_mbulk,set,get,incr,mset)
#   N                 requests per run (-n)       (default: 200000)
#   CLIENTS           connections (-c)            (default: 50)
#   PIPELINES         pipeline depths (-P)        (default: "1 16")
#   REPEAT            runs per cell, median kept  (default: 1)
#   KEYSPACE          if set, passed as -r        (default: unset = fixed keys, like redis-benchmark)
#   DATASIZE          if set, passed as -d        (default: unset = 3 bytes)
#   MEM_KEYS          keys for DEBUG POPULATE     (default: 1000000; 0 skips the memory part)
#   BENCH_TIMEOUT     seconds per redis-benchmark (default: 300)
#   STARTUP_TIMEOUT   seconds to wait for PING    (default: 20)
#   MAX_RESTARTS      restarts of a crashed server per run (default: 3)
#   OUT               markdown output file        (default: benches/results/side-by-side-<date>.md)
#   SERVER_CPUS       if set (e.g. "1"), pin both servers to these CPUs (comma list)
#   BENCH_CPUS        if set (e.g. "0"), pin redis-benchmark to these CPUs
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bash "$repo/scripts/setup.sh" >&2 || { echo "side-by-side: scripts/setup.sh failed" >&2; exit 1; }

SNAPCACHE_SERVER=${SNAPCACHE_SERVER:-$repo/target/release/snapcache-server}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server)}
TESTS=${TESTS:-ping_inline,ping_mbulk,set,get,incr,mset}
N=${N:-200000}
CLIENTS=${CLIENTS:-50}
PIPELINES=${PIPELINES:-1 16}
REPEAT=${REPEAT:-1}
KEYSPACE=${KEYSPACE:-}
DATASIZE=${DATASIZE:-}
MEM_KEYS=${MEM_KEYS:-1000000}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-20}
MAX_RESTARTS=${MAX_RESTARTS:-3}
stamp=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-$repo/benches/results/side-by-side-$stamp.md}

for tool in redis-cli redis-benchmark python3 timeout; do
    command -v "$tool" >/dev/null 2>&1 || { echo "side-by-side: $tool not found" >&2; exit 1; }
done
for bin in "$REDIS_SERVER" "$SNAPCACHE_SERVER"; do
    if [ ! -x "$bin" ]; then
        echo "side-by-side: server binary not found or not executable: $bin" >&2
        echo "  (build it with 'cargo build --release' or set SNAPCACHE_SERVER)" >&2
        exit 1
    fi
done
for v in N CLIENTS REPEAT MEM_KEYS BENCH_TIMEOUT STARTUP_TIMEOUT MAX_RESTARTS; do
    case ${!v} in ''|*[!0-9]*) echo "side-by-side: $v must be a non-negative integer" >&2; exit 1;; esac
done
[ "$REPEAT" -ge 1 ] || REPEAT=1

SERVER_CPUS=${SERVER_CPUS:-}
BENCH_CPUS=${BENCH_CPUS:-}
# CPU pinning without taskset: python3 sets the affinity and execs the
# command, so the pid stays the same.
pin_code='import os, sys; os.sched_setaffinity(0, {int(c) for c in sys.argv[1].split(",")}); os.execvp(sys.argv[2], sys.argv[2:])'
pin_server=() pin_bench=()
[ -n "$SERVER_CPUS" ] && pin_server=(python3 -c "$pin_code" "$SERVER_CPUS")
[ -n "$BENCH_CPUS" ] && pin_bench=(python3 -c "$pin_code" "$BENCH_CPUS")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/side-by-side.XXXXXX")
declare -A BIN=([redis]=$REDIS_SERVER [snapcache]=$SNAPCACHE_SERVER)
declare -A PID=() PORT=() RESTARTS=([redis]=0 [snapcache]=0)
NAMES=(redis snapcache)
notes=()

log() { echo "side-by-side: $*" >&2; }
note() { notes+=("$*"); log "NOTE: $*"; }

cli() { # cli NAME args... (bounded)
    local name=$1; shift
    timeout -k 2 "${CLI_TIMEOUT:-10}" redis-cli -h 127.0.0.1 -p "${PORT[$name]}" "$@" 2>/dev/null
}

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

stop_server() {
    local name=$1 pid=${PID[$1]:-} i
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    PID[$name]=""
}

cleanup() {
    local name
    for name in "${NAMES[@]}"; do stop_server "$name"; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_server NAME: start on a free port, wait (bounded) for PONG. Returns 1 on failure.
start_server() {
    local name=$1 attempt i port pid dir=$tmp/$name-data
    mkdir -p "$dir"
    for ((attempt = 0; attempt < 3; attempt++)); do
        port=$(free_port)
        "${pin_server[@]}" "${BIN[$name]}" --save "" --appendonly no --port "$port" --bind 127.0.0.1 \
            --enable-debug-command yes --dir "$dir" >>"$tmp/$name.log" 2>&1 &
        pid=$!
        PID[$name]=$pid
        PORT[$name]=$port
        for ((i = 0; i < STARTUP_TIMEOUT * 10; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            if [ "$(CLI_TIMEOUT=2 cli "$name" PING)" = PONG ]; then
                sleep 0.2
                # the PONG must come from our process, not from something else on the port
                if kill -0 "$pid" 2>/dev/null; then
                    log "$name started (pid $pid, port $port)"
                    return 0
                fi
                break
            fi
            sleep 0.1
        done
        stop_server "$name"
    done
    log "$name failed to start; last log lines:"
    tail -n 20 "$tmp/$name.log" >&2
    return 1
}

# ensure_up NAME: restart the server if it died or stopped answering (bounded).
ensure_up() {
    local name=$1
    if [ -n "${PID[$name]:-}" ] && kill -0 "${PID[$name]}" 2>/dev/null \
        && [ "$(CLI_TIMEOUT=5 cli "$name" PING)" = PONG ]; then
        return 0
    fi
    if [ "${RESTARTS[$name]}" -ge "$MAX_RESTARTS" ]; then
        return 1
    fi
    RESTARTS[$name]=$((RESTARTS[$name] + 1))
    note "$name was down or not answering; restart ${RESTARTS[$name]}/$MAX_RESTARTS"
    stop_server "$name"
    start_server "$name"
}

extra=()
[ -n "$KEYSPACE" ] && extra+=(-r "$KEYSPACE")
[ -n "$DATASIZE" ] && extra+=(-d "$DATASIZE")

# cpu_ticks PID: user + system CPU time of the process, in clock ticks
cpu_ticks() {
    awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null
}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# bench NAME TEST P -> sets RESULT to ops/s or "error", and CPU to the
# server's CPU time per request in microseconds (or "error"). On a shared
# machine ops/s move with whatever else runs; CPU time per request barely does.
bench() {
    local name=$1 t=$2 p=$3 rc rps msg c0 c1
    RESULT=error
    CPU=error
    if ! ensure_up "$name"; then
        note "$name $t P=$p: server down, not measured"
        return
    fi
    c0=$(cpu_ticks "${PID[$name]}")
    timeout -k 5 "$BENCH_TIMEOUT" "${pin_bench[@]}" redis-benchmark -h 127.0.0.1 -p "${PORT[$name]}" \
        -c "$CLIENTS" -n "$N" -P "$p" -t "$t" "${extra[@]}" --csv \
        >"$tmp/bench.out" 2>"$tmp/bench.err" </dev/null
    rc=$?
    c1=$(cpu_ticks "${PID[$name]}")
    # CSV lines look like "GET","123.45",...; LRANGE lines carry a suffix
    # ("LRANGE_100 (first 100 elements)") and are preceded by a helper
    # "LPUSH (needed to benchmark LRANGE)" line which is skipped.
    rps=$(awk -F, -v t="$t" '{
            gsub(/"/, ""); n = tolower($1); split(n, w, " ")
            if (w[1] == t && n !~ /needed/) print $2
        }' "$tmp/bench.out" | tail -n 1)
    msg=$(grep -m1 -iE 'error|closed' "$tmp/bench.err" | tr -d '\r' | cut -c1-160)
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        note "$name $t P=$p: redis-benchmark timed out after ${BENCH_TIMEOUT}s"
    elif [ "$rc" -ne 0 ]; then
        note "$name $t P=$p: redis-benchmark exit $rc${msg:+: $msg}"
    elif [ -n "$msg" ]; then
        note "$name $t P=$p: $msg"
    elif ! awk -v r="$rps" 'BEGIN { exit !(r ~ /^[0-9]+(\.[0-9]+)?$/ && r + 0 > 0) }'; then
        note "$name $t P=$p: no ops/s in redis-benchmark output (unknown test?)"
    else
        RESULT=$rps
        if [ -n "$c0" ] && [ -n "$c1" ]; then
            CPU=$(awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" -v n="$N" 'BEGIN { printf "%.3f", (b - a) * 1e6 / hz / n }')
        fi
    fi
}

median() { # median of the arguments; "error" if any is "error"
    local v
    for v in "$@"; do [ "$v" = error ] && { echo error; return; }; done
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR % 2) printf "%.2f\n", a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ---------------------------------------------------------------- throughput
for name in "${NAMES[@]}"; do
    start_server "$name" || { log "cannot start $name, giving up"; exit 1; }
done
redis_version=$(cli redis INFO server | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }')
snap_version=$(cli snapcache INFO server | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }')
[ -n "$redis_version" ] || redis_version=$("$REDIS_SERVER" --version | sed -e 's/.*v=\([^ ]*\).*/\1/')
cli redis FLUSHALL >/dev/null
cli snapcache FLUSHALL >/dev/null

IFS=', ' read -r -a test_list <<<"$TESTS"
read -r -a pipe_list <<<"$PIPELINES"
rows=$tmp/rows.tsv
: >"$rows"
total=$((${#test_list[@]} * ${#pipe_list[@]} * REPEAT * 2))
k=0 step=0
for t in "${test_list[@]}"; do
    t=$(echo "$t" | tr 'A-Z' 'a-z')
    [ -n "$t" ] || continue
    for p in "${pipe_list[@]}"; do
        declare -A vals=([redis]="" [snapcache]="") cpus=([redis]="" [snapcache]="")
        for ((r = 0; r < REPEAT; r++)); do
            # alternate who goes first: redis first, next measurement snapcache first, ...
            if ((k % 2 == 0)); then order=(redis snapcache); else order=(snapcache redis); fi
            k=$((k + 1))
            for name in "${order[@]}"; do
                step=$((step + 1))
                bench "$name" "$t" "$p"
                vals[$name]+=" $RESULT"
                cpus[$name]+=" $CPU"
                log "[$step/$total] $t P=$p $name: $RESULT ops/s, $CPU us CPU/request"
            done
        done
        # shellcheck disable=SC2086
        rv=$(median ${vals[redis]})
        # shellcheck disable=SC2086
        sv=$(median ${vals[snapcache]})
        # shellcheck disable=SC2086
        rc_=$(median ${cpus[redis]})
        # shellcheck disable=SC2086
        sc_=$(median ${cpus[snapcache]})
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$p" "$rv" "$sv" "$rc_" "$sc_" >>"$rows"
        unset vals cpus
    done
done

# ---------------------------------------------------------------- memory
mem=$tmp/mem.tsv
: >"$mem"
if [ "$MEM_KEYS" -gt 0 ]; then
    # fresh servers, so RSS is not inflated by what the benchmarks left behind
    for name in "${NAMES[@]}"; do stop_server "$name"; done
    for name in "${NAMES[@]}"; do
        declare -A m=()
        if start_server "$name"; then
            cli "$name" FLUSHALL >/dev/null
            info=$(cli "$name" INFO memory | tr -d '\r')
            m[empty]=$(awk -F: '$1 == "used_memory" { print $2 }' <<<"$info")
            log "$name: DEBUG POPULATE $MEM_KEYS"
            res=$(CLI_TIMEOUT=300 cli "$name" DEBUG POPULATE "$MEM_KEYS" | tr -d '\r')
            dbsize=$(cli "$name" DBSIZE | tr -d '\r')
            if [ "$res" != OK ] || [ "$dbsize" != "$MEM_KEYS" ]; then
                note "$name memory: DEBUG POPULATE $MEM_KEYS gave '${res:-no reply}', DBSIZE '${dbsize:-no reply}'"
                m[ok]=0
            else
                m[ok]=1
            fi
            sleep 0.5
            info=$(cli "$name" INFO memory | tr -d '\r')
            m[used]=$(awk -F: '$1 == "used_memory" { print $2 }' <<<"$info")
            m[rss]=$(awk -F: '$1 == "used_memory_rss" { print $2 }' <<<"$info")
            m[vmrss]=$(awk '$1 == "VmRSS:" { print $2 * 1024 }' "/proc/${PID[$name]}/status" 2>/dev/null)
        else
            note "$name memory: server did not start"
            m[ok]=0
        fi
        for key in empty used rss vmrss; do
            v=${m[$key]:-}
            case $v in ''|*[!0-9]*) v=error;; esac
            [ "${m[ok]}" = 1 ] || [ "$key" = empty ] || v=error
            printf '%s\t%s\t%s\n' "$name" "$key" "$v" >>"$mem"
        done
        stop_server "$name"
        unset m
    done
fi

# ---------------------------------------------------------------- report
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "none (no commits yet)")
[ -n "$(git -C "$repo" status --porcelain 2>/dev/null)" ] && commit="$commit (+ uncommitted changes)"
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
[ -n "$cpu" ] || cpu=$(lscpu 2>/dev/null | awk -F': *' '/^Model name/ { print $2; exit }')
[ -n "$cpu" ] || cpu=$(uname -m)
bench_opts="-c $CLIENTS -n $N -P {${PIPELINES// /,}}${KEYSPACE:+ -r $KEYSPACE}${DATASIZE:+ -d $DATASIZE}"
pinning=""
[ -n "$SERVER_CPUS$BENCH_CPUS" ] && pinning="servers on CPUs ${SERVER_CPUS:-any}, redis-benchmark on CPUs ${BENCH_CPUS:-any}"

mkdir -p "$(dirname "$OUT")"
notes_file=$tmp/notes.txt
printf '%s\n' "${notes[@]+"${notes[@]}"}" >"$notes_file"

R_STAMP=$stamp R_NPROC=$(nproc) R_CPU=$cpu R_KERNEL=$(uname -sr) R_REDIS_BIN=$REDIS_SERVER \
R_REDIS_VERSION=$redis_version R_SNAP_BIN=$SNAPCACHE_SERVER R_SNAP_VERSION=${snap_version:-?} \
R_COMMIT=$commit R_PIN=$pinning R_OPTS=$bench_opts R_REPEAT=$REPEAT R_MEM_KEYS=$MEM_KEYS R_N=$N \
python3 - "$rows" "$mem" "$notes_file" >"$tmp/report.md" <<'EOF'

import math, os, sys
E = os.environ

rows_path, mem_path, notes_path = sys.argv[1:4]

def table(head, body):
    cols = list(zip(*([head] + body)))
    w = [max(len(c) for c in col) for col in cols]
    right = [i > 0 for i in range(len(head))]
    def line(r):
        return "| " + " | ".join(c.rjust(w[i]) if right[i] else c.ljust(w[i]) for i, c in enumerate(r)) + " |"
    sep = "|" + "|".join(("-" * (w[i] + 1) + ":") if right[i] else ("-" * (w[i] + 2)) for i in range(len(head))) + "|"
    return "\n".join([line(head), sep] + [line(r) for r in body])

def num(s):
    try:
        v = float(s)
        return v if v > 0 else None
    except ValueError:
        return None

out = []
out.append("# snapcache vs redis side by side (%s)" % E["R_STAMP"])
out.append("")
out.append("- machine: %s cores, %s, %s" % (E["R_NPROC"], E["R_CPU"], E["R_KERNEL"]))
out.append("- redis: %s (redis_version %s)" % (E["R_REDIS_BIN"], E["R_REDIS_VERSION"]))
out.append("- snapcache: %s (reports redis_version %s)" % (E["R_SNAP_BIN"], E["R_SNAP_VERSION"]))
out.append("- repo commit: %s" % E["R_COMMIT"])
out.append("- redis-benchmark %s --csv, repeat %s (median), order alternated per measurement" % (E["R_OPTS"], E["R_REPEAT"]))
if E["R_PIN"]:
    out.append("- CPU pinning: " + E["R_PIN"])
out.append("")
out.append("## Throughput (requests per second)")
out.append("")
body, ratios, cpu_ratios = [], {}, {}
for ln in open(rows_path):
    t, p, rv, sv, rc, sc = ln.rstrip("\n").split("\t")
    r, s = num(rv), num(sv)
    ratio = "-"
    if r and s:
        ratio = "%.2f" % (s / r)
        ratios.setdefault(p, []).append(s / r)
    rc, sc = num(rc), num(sc)
    # CPU ratio as redis/snapcache, so that above 1 means snapcache is cheaper
    cratio = "-"
    if rc and sc:
        cratio = "%.2f" % (rc / sc)
        cpu_ratios.setdefault(p, []).append(rc / sc)
    body.append([t, p, "%.0f" % r if r else "error", "%.0f" % s if s else "error", ratio,
                 "%.2f" % rc if rc else "error", "%.2f" % sc if sc else "error", cratio])
out.append(table(["test", "P", "redis ops/s", "snapcache ops/s", "snapcache/redis",
                  "redis CPU us/req", "snapcache CPU us/req", "redis/snapcache CPU"], body))
out.append("")
out.append("CPU us/req: the server process's user+system CPU time during the run divided by"
           " the requests (median of the repeats); its ratio is given as redis/snapcache,"
           " so above 1 means snapcache spends less CPU per request.")
short = [b for b in body if any(num(v) and int(E["R_N"]) / num(v) < 0.5 for v in b[2:4])]
if ratios or short:
    out.append("")
if short:
    out.append("Note: %d cell(s) ran for less than 0.5 s (redis-benchmark times in whole ms);"
               " raise N or REPEAT for stable numbers." % len(short))
for p, rs in ratios.items():
    g = math.exp(sum(math.log(x) for x in rs) / len(rs))
    out.append("Geometric mean of snapcache/redis at P=%s: %.2f (%d tests)" % (p, g, len(rs)))
for p, rs in cpu_ratios.items():
    g = math.exp(sum(math.log(x) for x in rs) / len(rs))
    out.append("Geometric mean of redis/snapcache CPU per request at P=%s: %.2f (%d tests)" % (p, g, len(rs)))

mem = {}
for ln in open(mem_path):
    name, key, v = ln.rstrip("\n").split("\t")
    mem[(name, key)] = v
if mem:
    out.append("")
    out.append("## Memory after FLUSHALL + DEBUG POPULATE %s (fresh servers)" % E["R_MEM_KEYS"])
    out.append("")
    labels = [("empty", "used_memory (empty)"), ("used", "used_memory"),
              ("rss", "used_memory_rss"), ("vmrss", "VmRSS (/proc)")]
    body = []
    def mib(v):
        return "%.1f MiB" % (v / 1048576) if v is not None else "error"
    def intval(s):
        try:
            return int(s)
        except ValueError:
            return None
    for key, label in labels:
        r, s = intval(mem.get(("redis", key), "error")), intval(mem.get(("snapcache", key), "error"))
        ratio = "%.2f" % (s / r) if r and s is not None else "-"
        body.append([label, mib(r), mib(s), ratio])
    r0, s0 = intval(mem.get(("redis", "empty"), "")), intval(mem.get(("snapcache", "empty"), ""))
    r1, s1 = intval(mem.get(("redis", "used"), "")), intval(mem.get(("snapcache", "used"), ""))
    per = lambda a, b: "%.1f B" % ((b - a) / int(E["R_MEM_KEYS"])) if a is not None and b is not None else "error"
    rp, sp = per(r0, r1), per(s0, s1)
    ratio = "%.2f" % ((s1 - s0) / (r1 - r0)) if None not in (r0, s0, r1, s1) and r1 > r0 else "-"
    body.append(["used_memory per key", rp, sp, ratio])
    out.append(table(["metric", "redis", "snapcache", "snapcache/redis"], body))

notes = [n for n in open(notes_path).read().splitlines() if n.strip()]
if notes:
    out.append("")
    out.append("## Notes")
    out.append("")
    counts = {}
    for n in notes:
        counts[n] = counts.get(n, 0) + 1
    out.extend("- " + n + (" (x%d)" % c if c > 1 else "") for n, c in counts.items())
print("\n".join(out))
EOF
pyrc=$?
if [ "$pyrc" -ne 0 ]; then
    log "report formatting failed (python exit $pyrc); raw rows:"
    cat "$rows" "$mem" >&2
    exit 1
fi
cp "$tmp/report.md" "$OUT"
cat "$tmp/report.md"
log "written to $OUT"
