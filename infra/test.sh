#!/usr/bin/env bash
# The whole test run: install the local toolchain, lint the template, start a private
# local stack (DynamoDB Local + moto) that is always stopped again, run every test.
# Prints the elapsed time of each phase.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

T0="$(date +%s)"
phase_name=""
phase_start="$T0"
timings=""
end_phase() {
    local now
    now="$(date +%s)"
    if [ -n "$phase_name" ]; then
        timings+="$(printf 'test.sh: %-7s %4d s' "$phase_name" "$((now - phase_start))")"$'\n'
    fi
    phase_name=""
    phase_start="$now"
}
phase() {
    end_phase
    phase_name="$1"
    printf 'test.sh: === %s ===\n' "$phase_name"
}

stack_started=0
finish() {
    local rc=$?
    end_phase
    if [ "$stack_started" -eq 1 ]; then
        infra/stack.sh stop || rc=1
        if [ "$rc" -eq 0 ]; then
            rm -rf "$STACK_DIR"
        else
            echo "test.sh: stack logs kept in ${STACK_DIR#"$REPO"/}" >&2
        fi
    fi
    printf '%s' "$timings"
    printf 'test.sh: %-7s %4d s%s\n' total "$(($(date +%s) - T0))" "$([ "$rc" -eq 0 ] || echo " (FAILED, exit $rc)")"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

phase install
infra/install.sh

phase lint
infra/lint.sh
# The Rust lint gate: formatting (rustfmt.toml) and clippy with warnings as errors.
cargo fmt --all --check
cargo clippy --workspace --all-targets --no-deps -- -D warnings

phase stack
export STACK_DIR="$REPO/.local/run-test-$$"
stack_started=1
infra/stack.sh start
# shellcheck source=/dev/null
source "$STACK_DIR/stack.env"

phase tests
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace
else
    cargo test --workspace --all-targets
fi
