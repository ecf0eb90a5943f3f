#!/usr/bin/env bash
# Memory per collection type, snapcache against redis-server in one run:
# loads the same data into both (redis-cli --pipe) and compares used_memory.
#   hashes: HASHES keys, each a hash of 10 small fields        (default 1,000,000)
#   zsets:  ZSETS keys, each a sorted set of 10 members         (default 1,000,000)
#   lists:  LISTS keys, each a list of LIST_LEN items           (default 100 x 100,000)
# Servers listen on free 127.0.0.1 ports and are stopped at exit.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bash "$repo/scripts/setup.sh" >/dev/null
snap=${SNAPCACHE_SERVER:-$repo/target/release/snapcache-server}
redis=${REDIS_SERVER:-/usr/bin/redis-server}
HASHES=${HASHES:-1000000}
ZSETS=${ZSETS:-1000000}
LISTS=${LISTS:-100}
LIST_LEN=${LIST_LEN:-100000}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() { # binary port
    mkdir -p "$tmp/$2"
    "$1" --port "$2" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp/$2" \
        --enable-debug-command yes >"$tmp/$2.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        redis-cli -p "$2" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "server on port $2 did not start" >&2
    exit 1
}

gen() { # kind
    python3 - "$1" "$HASHES" "$ZSETS" "$LISTS" "$LIST_LEN" <<'PY'
import sys
kind, hashes, zsets, lists, list_len = sys.argv[1], *map(int, sys.argv[2:])
out = sys.stdout.buffer
def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    out.write(b"".join(parts))
if kind == "hashes":
    for i in range(hashes):
        args = ["HSET", f"hash:{i}"]
        for f in range(10):
            args += [f"field{f}", f"value{f}:{i}"]
        cmd(*args)
elif kind == "zsets":
    for i in range(zsets):
        args = ["ZADD", f"zset:{i}"]
        for m in range(10):
            args += [str(m * 1.5), f"member{m}:{i}"]
        cmd(*args)
else:
    for i in range(lists):
        for start in range(0, list_len, 1000):
            cmd("RPUSH", f"list:{i}", *[f"item:{j}" for j in range(start, min(start + 1000, list_len))])
PY
}

used() { redis-cli -p "$1" info memory | awk -F: '/^used_memory:/ { gsub("\r", "", $2); print $2 }'; }

printf '| data | redis used_memory | snapcache used_memory | snapcache/redis |\n|---|---:|---:|---:|\n'
for kind in hashes zsets lists; do
    gen "$kind" >"$tmp/$kind.resp"
    rp=$(free_port); start "$redis" "$rp"
    sp=$(free_port); start "$snap" "$sp"
    r0=$(used "$rp"); s0=$(used "$sp")
    redis-cli -p "$rp" --pipe <"$tmp/$kind.resp" >/dev/null
    redis-cli -p "$sp" --pipe <"$tmp/$kind.resp" >/dev/null
    r1=$(used "$rp"); s1=$(used "$sp")
    enc_r=$(redis-cli -p "$rp" object encoding "$(redis-cli -p "$rp" randomkey)")
    enc_s=$(redis-cli -p "$sp" object encoding "$(redis-cli -p "$sp" randomkey)")
    awk -v k="$kind" -v r="$((r1 - r0))" -v s="$((s1 - s0))" -v er="$enc_r" -v es="$enc_s" \
        'BEGIN { printf "| %s (%s / %s) | %.1f MiB | %.1f MiB | %.2f |\n", k, er, es, r/1048576, s/1048576, s/r }'
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    pids=()
    rm -f "$tmp/$kind.resp"
done
