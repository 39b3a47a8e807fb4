#!/usr/bin/env bash
# Installs what the tests need (idempotent), then runs every check and test of the
# workspace: formatting, clippy with warnings as errors, and all unit, integration and
# end-to-end tests (real etcd, real processes).
set -euo pipefail
cd "$(dirname "$0")/.."

hack/install-deps.sh
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
# One build cache shared by every clone, so a fresh checkout does not rebuild from cold.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ferrokube-target}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
cargo test --workspace --locked 2>&1 | tee "$results"
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { passed += $4; failed += $6 }
     END { printf "totals: %d passed, %d failed\n", passed, failed }' "$results"
