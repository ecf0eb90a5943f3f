#!/usr/bin/env bash
# Snapshot under load, one run, three contenders: Debian's redis-server
# (BGSAVE by fork), snapcache with `snapshot-method fork`, snapcache with
# `snapshot-method forkless`.
#
# Per contender (fresh process, own directory, port $PORT on 127.0.0.1):
#   1. fill $KEYS keys `key:%012d` (redis-benchmark's -r names) of $SIZE
#      random bytes (~1 GB with the defaults);
#   2. baseline: redis-benchmark SET over random keys of the keyspace
#      (-r $KEYS -d $SIZE -c $CLIENTS) without a snapshot: ops/s (server
#      side, INFO total_commands_processed over the run) and p99;
#   3. BGSAVE while redis-benchmark overwrites random keys at full speed
#      (the load starts before and is stopped after it): peak RSS (VmRSS of
#      the server plus its children, sampled every 20 ms) over the RSS
#      before the snapshot, ops/s during the snapshot (server side) over the
#      baseline's, and the snapshot's wall-clock duration (BGSAVE until
#      rdb_bgsave_in_progress drops);
#   4. a second BGSAVE with a load sized to end inside it: its p99 is the
#      p99 during a snapshot.
# Prints a markdown table and writes it to $OUT.
#
# Environment: SNAPCACHE_SERVER, REDIS_SERVER, KEYS (1000000), SIZE (1024),
# CLIENTS (50), BASE_N (300000), PORT (30100), OUT, CONTENDERS (the three
# names above, space-separated), FORKLESS_ARGS (extra arguments for the
# forkless contender, e.g. "--snapshot-busy-share 10"; default none).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SNAPCACHE_SERVER=${SNAPCACHE_SERVER:-$repo/target/release/snapcache-server}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server)}
KEYS=${KEYS:-1000000}
SIZE=${SIZE:-1024}
CLIENTS=${CLIENTS:-50}
BASE_N=${BASE_N:-300000}
PORT=${PORT:-30100}
CONTENDERS=${CONTENDERS:-redis-server snapcache-fork snapcache-forkless}
OUT=${OUT:-$repo/benches/results/snapshot-under-load-$(date +%Y-%m-%d).md}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/snapshot-load.XXXXXX")
pid=""
log() { echo "snapshot-under-load: $*" >&2; }
cli() { timeout -k 2 600 redis-cli -h 127.0.0.1 -p "$PORT" "$@" 2>/dev/null; }
info() { cli info everything | tr -d '\r' | awk -F: -v k="$1" '$1 == k { print $2 }'; }
stop() {
    [ -n "$pid" ] || return 0
    cli shutdown nosave >/dev/null 2>&1
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=""
}
cleanup() { rm -f "$tmp/sampling"; stop; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT

now() { date +%s.%N; }

# The measuring loops below spawn no process: on 2 cores shared with the
# server and redis-benchmark, a pgrep/awk/redis-cli every 20 ms would take a
# visible share of the CPU the contenders are compared on.

# RSS=VmRSS (kB) of a process and its children (a forked child), summed.
rss_kb() {
    local s=0 p k v kids=() more f
    for f in /proc/"$1"/task/*/children; do
        [ -r "$f" ] || continue
        more=()
        # The list has no newline: read reports EOF but fills the array.
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

sampler() { # sampler PID OUTFILE: the peak until $tmp/sampling goes
    local max=0
    while [ -e "$tmp/sampling" ]; do
        rss_kb "$1"
        ((RSS > max)) && max=$RSS && echo "$max" >"$2"
        nap
    done
}

# Sleeps 20 ms without spawning sleep(1): a read that times out on a pipe
# nothing is ever written to.
exec {nap_fd}<> <(:)
nap() { read -r -t 0.02 -u "$nap_fd" _; }

# Waits for a BGSAVE to end: polls LASTSAVE (a few bytes; the INFO reply
# would cost far more to read without a process) every 20 ms over one
# connection until it differs from $1, the value before the BGSAVE, or
# (with "until-file F" as $2 $3) for as long as F exists: the baseline
# runs the same polling as a snapshot, so both pay for it alike. Every
# second INFO says whether a save that failed (LASTSAVE unchanged) is over.
poll_bgsave() {
    local line n=0
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    while :; do
        printf 'LASTSAVE\r\n' >&3
        IFS= read -r line <&3 || break
        line=${line#:}
        line=${line%$'\r'}
        if [ "${2:-}" = until-file ]; then
            [ -e "$3" ] || break
        else
            [ "$line" != "$1" ] && break
            n=$((n + 1))
            if ((n % 50 == 0)) && [ "$(info rdb_bgsave_in_progress)" = 0 ]; then break; fi
        fi
        nap
    done
    exec 3>&-
}

fill() {
    python3 - "$KEYS" "$SIZE" <<'EOF' | redis-cli -h 127.0.0.1 -p "$PORT" --pipe >/dev/null
import os, sys
keys, size = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.buffer
alpha = bytes(range(33, 127))
batch = []
for i in range(keys):
    raw = os.urandom(size)
    v = raw.translate(bytes(alpha[b % len(alpha)] for b in range(256)))
    k = b"key:%012d" % i
    batch.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
    if len(batch) == 1000:
        out.write(b"".join(batch)); batch = []
out.write(b"".join(batch))
EOF
}

bench() { # bench N CSVFILE
    redis-benchmark -h 127.0.0.1 -p "$PORT" -t set -r "$KEYS" -d "$SIZE" -c "$CLIENTS" \
        -n "$1" --csv >"$2" 2>/dev/null
}
p99_of() { awk -F'","' 'NR == 2 { print $7 }' "$1" | tr -d '"'; }

wait_bgsave() { poll_bgsave "$1"; }

rows=()
run_one() { # run_one NAME BIN ARGS...
    local name=$1 bin=$2; shift 2
    local dir="$tmp/$name"
    mkdir -p "$dir"
    "$bin" --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
        --logfile "$dir/log" "$@" >/dev/null 2>&1 &
    pid=$!
    until [ "$(cli ping)" = PONG ]; do sleep 0.05; done
    log "$name: filling $KEYS x $SIZE B"
    fill
    rss_kb "$pid"
    log "$name: $(info used_memory_human) used, rss $((RSS / 1024)) MB"

    local c0 c1 t0 t1 last
    # The baseline runs under the same sampling and polling as a snapshot.
    touch "$tmp/sampling"
    sampler "$pid" "$dir/base-peak" &
    local spid=$!
    poll_bgsave "$(cli lastsave)" until-file "$tmp/sampling" &
    local ppid=$!
    c0=$(info total_commands_processed); t0=$(now)
    bench "$BASE_N" "$dir/base.csv"
    c1=$(info total_commands_processed); t1=$(now)
    rm -f "$tmp/sampling"
    wait "$spid" "$ppid" 2>/dev/null
    local base_ops base_p99
    base_ops=$(echo "($c1 - $c0) / ($t1 - $t0)" | bc -l)
    base_p99=$(p99_of "$dir/base.csv")
    log "$name: baseline $(printf %.0f "$base_ops") ops/s p99 $base_p99 ms"

    # Run A: the load outlasts the snapshot (it is stopped right after):
    # peak RSS, ops/s over the snapshot, duration.
    local before peak
    rss_kb "$pid"
    before=$RSS
    echo "$before" >"$dir/peak"
    touch "$tmp/sampling"
    sampler "$pid" "$dir/peak" &
    spid=$!
    # exec: $! is redis-benchmark itself, so it can be stopped by its pid.
    (exec redis-benchmark -h 127.0.0.1 -p "$PORT" -t set -r "$KEYS" -d "$SIZE" \
        -c "$CLIENTS" -n 1000000000 -q >/dev/null 2>&1) &
    local bpid=$!
    sleep 1
    c0=$(info total_commands_processed); t0=$(now)
    last=$(cli lastsave)
    cli bgsave >/dev/null
    wait_bgsave "$last"
    c1=$(info total_commands_processed); t1=$(now)
    kill -TERM "$bpid" 2>/dev/null
    wait "$bpid" 2>/dev/null
    rm -f "$tmp/sampling"
    wait "$spid" 2>/dev/null
    peak=$(cat "$dir/peak")
    local dur ops p99 method status
    dur=$(echo "$t1 - $t0" | bc -l)
    ops=$(echo "($c1 - $c0) / $dur" | bc -l)
    status=$(info rdb_last_bgsave_status)
    method=$(info rdb_last_snapshot_method)
    [ -n "$method" ] || method=fork

    # Run B: a load sized to end just before the snapshot does: its p99.
    local n
    n=$(printf %.0f "$(echo "$ops * $dur * 0.8" | bc -l)")
    ((n < 10000)) && n=10000
    sleep 1
    last=$(cli lastsave)
    cli bgsave >/dev/null
    bench "$n" "$dir/b.csv"
    local inside=yes
    [ "$(info rdb_bgsave_in_progress)" = 1 ] || inside=no
    wait_bgsave "$last"
    p99=$(p99_of "$dir/b.csv")
    local delayed
    delayed=$(info forkless_delayed_writes)
    log "$name: snapshot $(printf %.2f "$dur") s ($status, $method), $(printf %.0f "$ops") ops/s, p99 $p99 ms, peak rss $((peak / 1024)) MB / $((before / 1024)) MB"
    rows+=("| $name | $method | $((before / 1024)) | $((peak / 1024)) | $(printf %.3f "$(echo "$peak / $before" | bc -l)") | $(printf %.0f "$base_ops") | $(printf %.0f "$ops") | $(printf %.2f "$(echo "$ops / $base_ops" | bc -l)") | $base_p99 | $p99 | $(printf %.2f "$dur") | ${delayed:--} | $inside |")
    stop
    rm -rf "$dir"
}

for c in $CONTENDERS; do
    case "$c" in
        redis-server) run_one redis-server "$REDIS_SERVER" ;;
        snapcache-fork) run_one snapcache-fork "$SNAPCACHE_SERVER" --snapshot-method fork ;;
        # shellcheck disable=SC2086 # FORKLESS_ARGS is a list of words
        snapcache-forkless) run_one snapcache-forkless "$SNAPCACHE_SERVER" --snapshot-method forkless ${FORKLESS_ARGS:-} ;;
        *) log "unknown contender $c" ;;
    esac
done

{
    echo "# Snapshot under load ($(date -u +%Y-%m-%d))"
    echo
    echo "$KEYS keys x $SIZE B random values; redis-benchmark -t set -r $KEYS -d $SIZE -c $CLIENTS over loopback;"
    echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), shared with other jobs while measured."
    echo
    echo "| contender | method | RSS before (MB) | peak RSS (MB) | peak/before | ops/s no snapshot | ops/s during | during/without | p99 no snapshot (ms) | p99 during (ms) | snapshot (s) | delayed writes | p99 run inside snapshot |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
} | tee "$OUT"
