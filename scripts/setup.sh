#!/usr/bin/env bash
# Installs what the tests and benchmarks need on a fresh Debian bookworm machine:
# Redis 7.0.15 from Debian (reference server and tools), tclsh, and the Redis
# source package (for its Tcl test suite). Safe to run again: each step is skipped
# when its result is already there.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache="${SNAPCACHE_CACHE:-$here/.cache}"
mkdir -p "$cache"

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
command -v tclsh >/dev/null 2>&1 || need_apt+=(tcl)
command -v dpkg-source >/dev/null 2>&1 || need_apt+=(dpkg-dev)

# deb-src entries are derived from the machine's own deb entries, so the
# project never names a mirror.
add_deb_src() {
    local out=/etc/apt/sources.list.d/snapcache-src.sources
    [ -f "$out" ] && return 0
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed -e 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$out"
    elif [ -f /etc/apt/sources.list ]; then
        grep -E '^deb ' /etc/apt/sources.list | sed -e 's/^deb /deb-src /' > /etc/apt/sources.list.d/snapcache-src.list
    fi
    return 0
}

updated=0
apt_update() {
    if [ "$updated" = 0 ]; then
        apt-get update -qq >/dev/null
        updated=1
    fi
}

if [ ${#need_apt[@]} -gt 0 ]; then
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    # Debian's package starts a service on 6379; the tests start their own.
    (systemctl stop redis-server 2>/dev/null || service redis-server stop 2>/dev/null || true) >/dev/null 2>&1
    pkill -x redis-server 2>/dev/null || true
fi

src="$cache/redis-src"
if [ ! -f "$src/tests/test_helper.tcl" ]; then
    add_deb_src
    updated=0
    apt_update
    tmp=$(mktemp -d "$cache/src.XXXX")
    (cd "$tmp" && apt-get source -qq redis >/dev/null 2>&1)
    dir=$(find "$tmp" -maxdepth 1 -type d -name 'redis-7*' | head -n 1)
    if [ -z "$dir" ]; then
        echo "setup: apt-get source redis gave no redis-7 directory" >&2
        exit 1
    fi
    rm -rf "$src"
    mv "$dir" "$src"
    rm -rf "$tmp"
fi
echo "setup: redis $(redis-server --version | sed -e 's/.*v=\([^ ]*\).*/\1/'), test suite in $src"
