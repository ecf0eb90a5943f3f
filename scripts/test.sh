#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what is needed (Redis 7.0.15
# from Debian, the Redis test-suite sources), checks formatting and lints,
# runs cargo's tests, builds the release server once and runs the gated units
# of Redis's own Tcl test suite against it, then the RDB units of the gate
# again with `snapshot-method forkless`.
set -Eeuo pipefail
trap 'echo "test.sh: line $LINENO: \"$BASH_COMMAND\" failed with status $?" >&2' ERR
cd "$(dirname "$0")/.."

echo "== setup"
bash scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings

echo "== cargo test"
cargo test --quiet 2>&1 | tee target/cargo-test.log
# A run that executed no test is a failure, not a pass.
if ! grep -Eq 'test result: ok\. [1-9][0-9]* passed' target/cargo-test.log; then
    echo "cargo test ran no test" >&2
    exit 1
fi

echo "== release build"
cargo build --release --quiet

echo "== Redis test suite (gated units)"
bash redis-tests/run.sh --gate

echo "== Redis test suite (the RDB units again, every save forkless)"
bash redis-tests/run.sh --gate-forkless
