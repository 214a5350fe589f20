#!/usr/bin/env bash
# Cold-start bench (infra/coldstart/src/main.rs): builds get-profile and the two
# reference binaries in release, starts a private local stack (always stopped
# again), and prints the figures. ROUNDS=20 by default.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"

cargo build --release -p get-profile -p expenzez-coldstart

export STACK_DIR="$REPO/.local/run-coldstart-$$"
trap 'infra/stack.sh stop >/dev/null 2>&1 || true; rm -rf "$STACK_DIR"' EXIT
infra/stack.sh start
# shellcheck disable=SC1091
source "$STACK_DIR/stack.env"
"$TARGET/release/coldstart" "$TARGET/release" "${ROUNDS:-20}"
