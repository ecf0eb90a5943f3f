#!/usr/bin/env bash
# Snapshot side by side: Debian's redis-server vs snapcache-server, one run.
#
# For each dataset, on each server in turn (fresh process, own directory):
# load the data, time SAVE, note the file size, time BGSAVE (wall clock until
# rdb_bgsave_in_progress drops) and its latest_fork_usec, then restart the
# server on the dump and read its load time from the "DB loaded from disk"
# log line. Prints a markdown table with snapcache/redis ratios on stdout and
# writes it to $OUT.
#
# Datasets:
#   small  DEBUG POPULATE $SMALL_KEYS (1,000,000 keys, "value:N" strings)
#   big    $BIG_KEYS keys of $BIG_SIZE random printable bytes (1,000,000 x 1 KiB)
# Environment: SNAPCACHE_SERVER, REDIS_SERVER, SMALL_KEYS, BIG_KEYS, BIG_SIZE,
# DATASETS ("small big"), OUT, STARTUP_TIMEOUT (s, default 300: a restart
# waits for the load).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/setup.sh" >&2 || { echo "snapshot-side-by-side: setup failed" >&2; exit 1; }

SNAPCACHE_SERVER=${SNAPCACHE_SERVER:-$repo/target/release/snapcache-server}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server)}
SMALL_KEYS=${SMALL_KEYS:-1000000}
BIG_KEYS=${BIG_KEYS:-1000000}
BIG_SIZE=${BIG_SIZE:-1024}
DATASETS=${DATASETS:-small big}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-300}
OUT=${OUT:-$repo/benches/results/snapshot-side-by-side-$(date +%Y%m%d-%H%M%S).md}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/snapshot-sbs.XXXXXX")
pid="" port=""
log() { echo "snapshot-side-by-side: $*" >&2; }
cli() { timeout -k 2 "${CLI_TIMEOUT:-600}" redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
stop() {
    [ -n "$pid" ] || return 0
    cli shutdown nosave >/dev/null 2>&1
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=""
}
cleanup() { stop; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start() { # start BIN DIR LOG: waits until the server answers PING (not LOADING)
    local bin=$1 dir=$2 logf=$3 i
    port=$(free_port)
    "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
        --dbfilename dump.rdb --enable-debug-command yes --logfile "$logf" >/dev/null 2>&1 &
    pid=$!
    for ((i = 0; i < STARTUP_TIMEOUT * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || { log "server $bin exited; log:"; tail -n 20 "$logf" >&2; pid=""; return 1; }
        [ "$(CLI_TIMEOUT=2 cli ping)" = PONG ] && return 0
        sleep 0.05
    done
    log "server $bin did not answer within ${STARTUP_TIMEOUT}s"
    return 1
}
info_field() { cli info all | tr -d '\r' | awk -F: -v f="$1" '$1 == f { print $2 }'; }
now() { date +%s.%N; }

gen_big() {
    python3 - "$BIG_KEYS" "$BIG_SIZE" <<'PY'
import base64, os, sys
n, size = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.buffer
raw = (size * 3) // 4 + 3
buf = []
for i in range(n):
    k = b"key:%d" % i
    v = base64.b64encode(os.urandom(raw))[:size]
    buf.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
    if len(buf) == 1000:
        out.write(b"".join(buf)); buf = []
out.write(b"".join(buf))
PY
}

fill() { # fill DATASET
    case $1 in
        small) cli debug populate "$SMALL_KEYS" >/dev/null ;;
        big) redis-cli -h 127.0.0.1 -p "$port" --pipe <"$tmp/big.resp" >/dev/null ;;
    esac
}

declare -A R=()
measure() { # measure NAME BIN DATASET
    local name=$1 bin=$2 ds=$3 dir=$tmp/$1-$3 t0 t1 keys
    rm -rf "$dir"; mkdir -p "$dir"
    start "$bin" "$dir" "$dir/server.log" || return 1
    fill "$ds"
    keys=$(cli dbsize)
    R[$name,$ds,keys]=$keys
    R[$name,$ds,used]=$(info_field used_memory)
    t0=$(now); cli save >/dev/null; t1=$(now)
    R[$name,$ds,save]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    R[$name,$ds,size]=$(stat -c %s "$dir/dump.rdb")
    t0=$(now); cli bgsave >/dev/null
    sleep 0.01
    while [ "$(info_field rdb_bgsave_in_progress)" != 0 ]; do sleep 0.01; done
    t1=$(now)
    R[$name,$ds,bgsave]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    R[$name,$ds,bgstatus]=$(info_field rdb_last_bgsave_status)
    R[$name,$ds,fork]=$(info_field latest_fork_usec)
    stop
    : >"$dir/server.log"
    start "$bin" "$dir" "$dir/server.log" || return 1
    R[$name,$ds,load]=$(sed -n 's/.*DB loaded from disk: \([0-9.]*\) seconds.*/\1/p' "$dir/server.log" | tail -n 1)
    R[$name,$ds,loadedkeys]=$(cli dbsize)
    stop
    log "$name $ds: keys ${R[$name,$ds,keys]} save ${R[$name,$ds,save]}s bgsave ${R[$name,$ds,bgsave]}s (${R[$name,$ds,bgstatus]}) size ${R[$name,$ds,size]} fork ${R[$name,$ds,fork]}us load ${R[$name,$ds,load]}s reloaded keys ${R[$name,$ds,loadedkeys]}"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
per_gb() { awk -v us="$1" -v used="$2" 'BEGIN { if (us == "" || used + 0 == 0) print ""; else printf "%.0f", us / (used / 1073741824) }'; }

for ds in $DATASETS; do
    [ "$ds" = big ] && { log "generating $BIG_KEYS x $BIG_SIZE B values"; gen_big >"$tmp/big.resp"; }
    measure redis "$REDIS_SERVER" "$ds"
    measure snapcache "$SNAPCACHE_SERVER" "$ds"
done

{
    echo "# Snapshot side by side, $(date -u +%Y-%m-%d) (one run)"
    echo
    echo "redis: \`$("$REDIS_SERVER" --version | head -n1)\`; snapcache: \`$("$SNAPCACHE_SERVER" --version | head -n1)\`"
    echo
    echo "| dataset | measure | redis | snapcache | snapcache/redis |"
    echo "|---|---|---:|---:|---:|"
    for ds in $DATASETS; do
        for m in keys used save bgsave size load fork; do
            a=${R[redis,$ds,$m]:-} b=${R[snapcache,$ds,$m]:-}
            case $m in
                keys) label="keys (reloaded: ${R[redis,$ds,loadedkeys]:-?} / ${R[snapcache,$ds,loadedkeys]:-?})" ;;
                used) label="used_memory (bytes)" ;;
                save) label="SAVE (s)" ;;
                bgsave) label="BGSAVE wall clock (s; status ${R[redis,$ds,bgstatus]:-?} / ${R[snapcache,$ds,bgstatus]:-?})" ;;
                size) label="file size (bytes)" ;;
                load) label="load at startup (s, from the log)" ;;
                fork) label="latest_fork_usec" ;;
            esac
            echo "| $ds | $label | $a | $b | $(ratio "$b" "$a") |"
        done
        a=$(per_gb "${R[redis,$ds,fork]:-}" "${R[redis,$ds,used]:-0}")
        b=$(per_gb "${R[snapcache,$ds,fork]:-}" "${R[snapcache,$ds,used]:-0}")
        echo "| $ds | fork usec per GB of used_memory | $a | $b | $(ratio "$b" "$a") |"
    done
} | tee "$OUT"
