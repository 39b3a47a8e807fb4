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
cargo test --workspace --locked
