#!/usr/bin/env bash
# Regenerates tests/fixtures/rdb/ with Debian's redis-server 7.0.15:
#
#   redis-7.0.15.rdb     every type in every encoding Redis 7.0 writes
#                        (int/embstr/raw strings, LZF, listpack and quicklist
#                        lists with a plain node, listpack/hashtable hashes,
#                        intset/hashtable sets, listpack/skiplist sorted sets
#                        with inf scores, TTLs, several databases, and a
#                        function library)
#   redis-7.0.15.digest  DEBUG DIGEST of that dataset
#   redis-7.0.15.keys    "db keys expires" per non-empty database
#   redis-7.0.15.dumps   "key hex(DUMP key)" for the keys of db 0 whose
#                        encoding has a deterministic byte form (not hashtables)
#   legacy/*.rdb         older files from Redis's own test assets (zipmap,
#                        ziplist, quicklist v1 encodings), each with the
#                        .digest real Redis 7.0.15 computes after loading it;
#                        and three assets as they are: empty keys of every
#                        type, a corrupt ziplist, a script-cache aux field
#
# Usage: scripts/make-rdb-fixtures.sh   (needs redis-server/redis-cli 7.0.15,
# installed by scripts/setup.sh; the legacy inputs come from .cache/redis-src)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/tests/fixtures/rdb"
assets="$root/.cache/redis-src/tests/assets"
server=${REDIS_SERVER:-/usr/bin/redis-server}
cli=${REDIS_CLI:-/usr/bin/redis-cli}
mkdir -p "$out/legacy"

"$server" --version | grep -q 'v=7.0.15' || { echo "need redis-server 7.0.15" >&2; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

work=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# start_redis DIR DBFILENAME: starts a server on a free loopback port, sets $port/$pid.
start_redis() {
    port=$(free_port)
    "$server" --bind 127.0.0.1 --port "$port" --dir "$1" --dbfilename "$2" \
        --save '' --appendonly no --enable-debug-command yes --daemonize no \
        --logfile "$1/redis.log" &
    pid=$!
    for _ in $(seq 1 100); do
        if "$cli" -p "$port" ping 2>/dev/null | grep -q PONG; then return 0; fi
        sleep 0.1
    done
    echo "redis-server did not start" >&2
    cat "$1/redis.log" >&2
    exit 1
}

stop_redis() {
    "$cli" -p "$port" shutdown nosave >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
    pid=""
}

r() { "$cli" -p "$port" "$@" >/dev/null; }

# keys_of: "db keys expires" lines from INFO keyspace.
keys_of() {
    "$cli" -p "$port" info keyspace | tr -d '\r' | sed -n 's/^db\([0-9]*\):keys=\([0-9]*\),expires=\([0-9]*\).*/\1 \2 \3/p'
}

# ---- the 7.0.15 dataset ----------------------------------------------------
mkdir -p "$work/main"
start_redis "$work/main" dump.rdb
r flushall
far=4102444800 # 2100-01-01: deadlines that stay in the future

# Strings: int (8/16/32/64-bit), embstr, raw, LZF-compressible, binary.
r set int8 12
r set int16 -1234
r set int32 123456789
r set int64 1234567890123456
r set notint 0123
r set embstr hello
r set raw "$(printf 'raw-%.0s0123456789' $(seq 1 5))"
r set compressible "$(printf 'abcabcabc%.0s' $(seq 1 40))"
r set incompressible "q8#Lk2@zP0m!Vx7&Rt4^Yw1*Nb6(Hs3)Jd9"
printf 'bin\x00ary\xff\x01' | "$cli" -p "$port" -x set binary >/dev/null
r set appended x
r append appended "$(printf 'y%.0s' $(seq 1 60))"
r set empty ""

# Lists: one listpack node, many nodes, a plain node.
r rpush list_small a b c 1 2 -3 4294967296
for i in $(seq 0 19); do
    args=()
    for j in $(seq 0 99); do args+=("element-$i-$j"); done
    r rpush list_big "${args[@]}"
done
r debug quicklist-packed-threshold 100
r rpush list_plain small1 "$(printf 'P%.0s' $(seq 1 300))" small2
r debug quicklist-packed-threshold 0

# Hashes: listpack, hashtable by count, hashtable by value length.
r hset hash_small f1 v1 f2 2 f3 -3 f4 "$(printf 'h%.0s' $(seq 1 30))"
args=()
for i in $(seq 0 599); do args+=("field$i" "value$i"); done
r hset hash_big "${args[@]}"
r hset hash_longval f "$(printf 'L%.0s' $(seq 1 100))" g 1

# Sets: intset (16/32/64-bit), hashtable by type and by count.
r sadd set_int16 1 2 3 -5 300
r sadd set_int32 1 100000 -70000
r sadd set_int64 1 12345678901234
r sadd set_str a b c 1
args=()
for i in $(seq 0 599); do args+=("$i"); done
r sadd set_bigint "${args[@]}"

# Sorted sets: listpack, skiplist by count and by member length, inf scores.
r zadd zset_small 1 a 2.5 b -inf c +inf d 0 e -0.125 f 1e100 g
args=()
for i in $(seq 0 199); do args+=("$i.5" "member$i"); done
r zadd zset_big "${args[@]}" -inf neg +inf pos
r zadd zset_longmember 1 "$(printf 'M%.0s' $(seq 1 100))" 2 short

# Deadlines.
r set ttl_str v
r expireat ttl_str $far
r rpush ttl_list a b
r expireat ttl_list $far
r hset ttl_hash f v
r pexpireat ttl_hash $((far * 1000 + 123))

# Other databases.
r -n 1 set db1key one
r -n 1 sadd db1set x y
r -n 2 zadd db2zset 1 x
r -n 5 hset db5hash a b
r -n 5 set db5ttl v
r -n 5 expireat db5ttl $far
r -n 15 set last 15

# A function library (FUNCTION2 opcode).
r function load "#!lua name=fixturelib
redis.register_function('fixture_fn', function() return 1 end)"

r save
cp "$work/main/dump.rdb" "$out/redis-7.0.15.rdb"
"$cli" -p "$port" debug digest | tr -d '\r' > "$out/redis-7.0.15.digest"
keys_of > "$out/redis-7.0.15.keys"
: > "$out/redis-7.0.15.dumps"
for k in int8 int16 int32 int64 notint embstr raw compressible incompressible \
    binary appended empty list_small list_big list_plain hash_small hash_longval \
    set_int16 set_int32 set_int64 zset_small zset_big zset_longmember ttl_list; do
    enc=$("$cli" -p "$port" object encoding "$k" | tr -d '\r')
    [ "$enc" = hashtable ] && continue
    hex=$("$cli" -p "$port" --raw dump "$k" | head -c -1 | od -An -v -tx1 | tr -d ' \n')
    echo "$k $hex" >> "$out/redis-7.0.15.dumps"
done
stop_redis

# ---- legacy encodings, digested by Redis 7.0.15 after loading -------------
for f in encodings hash-zipmap hash-ziplist list-quicklist zset-ziplist; do
    src="$assets/$f.rdb"
    [ -f "$src" ] || { echo "missing $src (run scripts/setup.sh)" >&2; exit 1; }
    mkdir -p "$work/$f"
    cp "$src" "$work/$f/dump.rdb"
    cp "$src" "$out/legacy/$f.rdb"
    start_redis "$work/$f" dump.rdb
    "$cli" -p "$port" debug digest | tr -d '\r' > "$out/legacy/$f.digest"
    keys_of > "$out/legacy/$f.keys"
    stop_redis
done

# Files Redis refuses or loads partly, copied as they are.
for f in corrupt_empty_keys corrupt_ziplist scriptbackup; do
    cp "$assets/$f.rdb" "$out/legacy/$f.rdb"
done

echo "fixtures written to $out"
ls -la "$out" "$out/legacy"
