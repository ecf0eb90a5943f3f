#!/usr/bin/env bash
# Full sync under a write load, one run, side by side. Contenders:
# redis-server -> redis-server, snapcache (snapshot-method fork) ->
# snapcache, snapcache (snapshot-method forkless) -> snapcache.
#
# Per contender (fresh processes, own directories, ports $PORT and
# $PORT+1 on 127.0.0.1):
#   1. the primary is filled with $KEYS keys `key:%012d` of $SIZE random
#      bytes (~1 GB with the defaults);
#   2. baseline: redis-benchmark SET over the keyspace (-c $CLIENTS -P
#      $PIPELINE) for $BASE_SECS s, with a probe client (redis-benchmark
#      PING, -c 1) beside it: write ops/s (server side) and the probe's p99;
#   3. the same load and probe run while a new replica connects and syncs:
#      the primary's peak RSS (server and children, every 20 ms) over its
#      RSS before, its write ops/s during the sync over the baseline's, the
#      probe's p99 during the sync, and the time from REPLICAOF until the
#      replica's link is up;
#   4. the load stops; once the replica's offset reaches the primary's,
#      DEBUG DIGEST must be equal on both.
# Prints a markdown table and writes it to $OUT.
#
# Environment: SNAPCACHE_SERVER, REDIS_SERVER, KEYS (1000000), SIZE (1024),
# CLIENTS (20), PIPELINE (1), BASE_SECS (10), SYNC_LIMIT (600 s), PORT
# (30200), OUT, CONTENDERS (redis-server snapcache-fork snapcache-forkless).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SNAPCACHE_SERVER=${SNAPCACHE_SERVER:-$repo/target/release/snapcache-server}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server)}
KEYS=${KEYS:-1000000}
SIZE=${SIZE:-1024}
CLIENTS=${CLIENTS:-20}
PIPELINE=${PIPELINE:-1}
BASE_SECS=${BASE_SECS:-10}
SYNC_LIMIT=${SYNC_LIMIT:-600}
PORT=${PORT:-30200}
RPORT=$((PORT + 1))
CONTENDERS=${CONTENDERS:-redis-server snapcache-fork snapcache-forkless}
OUT=${OUT:-$repo/benches/results/full-sync-$(date +%Y-%m-%d).md}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/full-sync.XXXXXX")
pids=()
log() { echo "full-sync: $*" >&2; }
cli() { local p=$1; shift; timeout -k 2 600 redis-cli -h 127.0.0.1 -p "$p" "$@" 2>/dev/null; }
info() { cli "$1" info everything | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }
now() { date +%s.%N; }
stop_all() {
    local p
    for p in "$PORT" "$RPORT"; do cli "$p" shutdown nosave >/dev/null 2>&1; done
    for p in "${pids[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    pids=()
}
cleanup() { rm -f "$tmp/sampling"; stop_all; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT

# The sampler spawns no process (see benches/snapshot-under-load.sh).
rss_kb() {
    local s=0 p k v kids=() more f
    for f in /proc/"$1"/task/*/children; do
        [ -r "$f" ] || continue
        more=()
        read -r -a more <"$f" || true
        kids+=("${more[@]}")
    done
    for p in "$1" "${kids[@]}"; do
        [ -r "/proc/$p/status" ] || continue
        while read -r k v _; do
            [ "$k" = VmRSS: ] && s=$((s + v)) && break
        done <"/proc/$p/status"
    done
    RSS=$s
}
exec {nap_fd}<> <(:)
nap() { read -r -t 0.02 -u "$nap_fd" _; }
sampler() { # sampler PID OUTFILE: the peak until $tmp/sampling goes
    local max=0
    while [ -e "$tmp/sampling" ]; do
        rss_kb "$1"
        ((RSS > max)) && max=$RSS && echo "$max" >"$2"
        nap
    done
}

fill() {
    python3 - "$KEYS" "$SIZE" <<'EOF' | redis-cli -h 127.0.0.1 -p "$PORT" --pipe >/dev/null
import os, sys
keys, size = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.buffer
alpha = bytes(range(33, 127))
table = bytes(alpha[b % len(alpha)] for b in range(256))
batch = []
for i in range(keys):
    v = os.urandom(size).translate(table)
    k = b"key:%012d" % i
    batch.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
    if len(batch) == 1000:
        out.write(b"".join(batch)); batch = []
out.write(b"".join(batch))
EOF
}

# The write load: SET over the keyspace until stopped (by its pid).
load_start() {
    (exec redis-benchmark -h 127.0.0.1 -p "$PORT" -t set -r "$KEYS" -d "$SIZE" \
        -c "$CLIENTS" -P "$PIPELINE" -n 2000000000 -q >/dev/null 2>&1) &
    LOAD=$!
}
# The probe: one client's PINGs, for N requests; its p99 from the CSV.
probe() { # probe N CSV
    redis-benchmark -h 127.0.0.1 -p "$PORT" -t ping_mbulk -c 1 -n "$1" --csv >"$2" 2>/dev/null
}
p99_of() { awk -F'","' 'NR == 2 { print $7 }' "$1" | tr -d '"'; }

rows=()
run_one() { # run_one NAME PRIMARY_BIN REPLICA_BIN ARGS...
    local name=$1 bin=$2 rbin=$3; shift 3
    local dir="$tmp/$name"
    mkdir -p "$dir/p" "$dir/r"
    "$bin" --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir/p" \
        --enable-debug-command yes --logfile "$dir/p/log" "$@" >/dev/null 2>&1 &
    local pid=$!
    pids+=("$pid")
    until [ "$(cli "$PORT" ping)" = PONG ]; do sleep 0.05; done
    log "$name: filling $KEYS x $SIZE B"
    fill
    log "$name: $(info "$PORT" used_memory_human) used"

    # Baseline: the load and the probe for BASE_SECS.
    local c0 c1 t0 t1
    load_start
    sleep 1
    c0=$(info "$PORT" total_commands_processed); t0=$(now)
    probe $((BASE_SECS * 5000)) "$dir/probe-base.csv" &
    local probe_pid=$!
    sleep "$BASE_SECS"
    c1=$(info "$PORT" total_commands_processed); t1=$(now)
    wait "$probe_pid"
    local base_ops base_p99
    base_ops=$(echo "($c1 - $c0) / ($t1 - $t0)" | bc -l)
    base_p99=$(p99_of "$dir/probe-base.csv")
    log "$name: baseline $(printf %.0f "$base_ops") ops/s (with probe), probe p99 $base_p99 ms"

    # The sync, under the same load (still running) and probe.
    local before peak
    rss_kb "$pid"
    before=$RSS
    echo "$before" >"$dir/peak"
    touch "$tmp/sampling"
    sampler "$pid" "$dir/peak" &
    local spid=$!
    "$rbin" --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir/r" \
        --enable-debug-command yes --logfile "$dir/r/log" >/dev/null 2>&1 &
    pids+=("$!")
    until [ "$(cli "$RPORT" ping)" = PONG ]; do sleep 0.05; done
    (i=0; while :; do i=$((i + 1)); probe 2000 "$dir/probe-sync.$i.csv"; done) &
    probe_pid=$!
    c0=$(info "$PORT" total_commands_processed); t0=$(now)
    cli "$RPORT" replicaof 127.0.0.1 "$PORT" >/dev/null
    local up=no
    while (($(echo "$(now) - $t0 < $SYNC_LIMIT" | bc -l))); do
        if [ "$(info "$RPORT" master_link_status)" = up ]; then up=yes; break; fi
        sleep 0.1
    done
    c1=$(info "$PORT" total_commands_processed); t1=$(now)
    kill -TERM "$probe_pid" 2>/dev/null
    wait "$probe_pid" 2>/dev/null
    kill -TERM "$LOAD" 2>/dev/null
    wait "$LOAD" 2>/dev/null
    rm -f "$tmp/sampling"
    wait "$spid" 2>/dev/null
    peak=$(cat "$dir/peak")
    local dur ops sync_p99 fulls
    dur=$(echo "$t1 - $t0" | bc -l)
    ops=$(echo "($c1 - $c0) / $dur" | bc -l)
    # The probe runs' p99s during the sync: their 99th percentile.
    sync_p99=$(cat "$dir"/probe-sync.*.csv 2>/dev/null | awk -F'","' '$1 ~ /PING/ { print $7 }' \
        | tr -d '"' | sort -n | awk '{ a[NR] = $1 } END { k = int(NR * 0.99); if (k < 1) k = 1; if (NR) print a[k]; else print "-" }')
    fulls=$(info "$PORT" sync_full)
    local digest=no
    if [ "$up" = yes ]; then
        local off
        for _ in $(seq 1 600); do
            off=$(info "$PORT" master_repl_offset)
            [ "$(info "$RPORT" slave_repl_offset)" = "$off" ] && break
            sleep 0.1
        done
        [ "$(cli "$PORT" debug digest)" = "$(cli "$RPORT" debug digest)" ] && digest=yes
    fi
    local method
    method=$(info "$PORT" repl_last_sync_method)
    [ -n "$method" ] || method=fork
    log "$name: sync $(printf %.2f "$dur") s (online: $up, full syncs $fulls, $method), $(printf %.0f "$ops") ops/s, probe p99 $sync_p99 ms, peak rss $((peak / 1024)) MB / $((before / 1024)) MB, digest equal: $digest"
    rows+=("| $name | $method | $((before / 1024)) | $((peak / 1024)) | $(printf %.3f "$(echo "$peak / $before" | bc -l)") | $(printf %.0f "$base_ops") | $(printf %.0f "$ops") | $(printf %.2f "$(echo "$ops / $base_ops" | bc -l)") | $base_p99 | $sync_p99 | $(printf %.2f "$dur") | $up | $fulls | $digest |")
    stop_all
    rm -rf "$dir"
}

for c in $CONTENDERS; do
    case "$c" in
        redis-server) run_one redis-server "$REDIS_SERVER" "$REDIS_SERVER" ;;
        snapcache-fork) run_one snapcache-fork "$SNAPCACHE_SERVER" "$SNAPCACHE_SERVER" --snapshot-method fork ;;
        snapcache-forkless) run_one snapcache-forkless "$SNAPCACHE_SERVER" "$SNAPCACHE_SERVER" --snapshot-method forkless ;;
        *) log "unknown contender $c" ;;
    esac
done

{
    echo "# Full sync under a write load ($(date -u +%Y-%m-%d))"
    echo
    echo "$KEYS keys x $SIZE B random values; load: redis-benchmark -t set -r $KEYS -d $SIZE -c $CLIENTS -P $PIPELINE; probe: redis-benchmark PING -c 1;"
    echo "default repl-diskless-sync (yes, delay 5 s, counted in the sync time) and client-output-buffer-limit;"
    echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load, probe and both servers on the same machine."
    echo
    echo "| contender | method | primary RSS before (MB) | peak RSS (MB) | peak/before | write ops/s before | during sync | during/before | probe p99 before (ms) | probe p99 during (ms) | REPLICAOF to online (s) | online | full syncs | digests equal |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
} | tee "$OUT"
