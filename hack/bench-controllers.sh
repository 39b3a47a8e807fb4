#!/usr/bin/env bash
# Controller-manager benchmark: builds release binaries, starts `ferrokube apiserver` on a
# temporary embedded store and `ferrokube controller-manager` as a process of its own (so
# that its memory is its own), then runs `ferrokube-bench-controllers`: a 1,000-replica
# Deployment created and rolled out with a stand-in kubelet acting instantly, then scaled
# to 10,000 pods for the controller manager's memory. Every process is stopped on exit.
#
#   hack/bench-controllers.sh [bench flags...]   e.g. hack/bench-controllers.sh --replicas 500
#
# Environment: BENCH_OUT=DIR (keep logs there), KUBECTL=kubectl.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ferrokube-target}"
subcommand=apiserver
etcd_bin="${FERROKUBE_ETCD_BIN:-etcd}"
kubectl="${KUBECTL:-$(command -v kubectl-1.35 || command -v kubectl || echo /usr/local/bin/kubectl-1.35)}"

echo "== building release binaries"
cargo build --release -p ferrokube -p ferrokube-loadgen
server_bin="$CARGO_TARGET_DIR/release/ferrokube"
bench_bin="$CARGO_TARGET_DIR/release/ferrokube-bench-controllers"

# shellcheck source=hack/bench-lib.sh
. hack/bench-lib.sh

echo "== embedded store, controller manager in its own process ($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
start_server embedded
"$server_bin" controller-manager --kubeconfig "$kubeconfig" --no-leader-elect \
    >"$work/controller-manager.log" 2>&1 &
manager_pid="$!"
pids+=("$manager_pid")
# Let it connect, list and settle before its idle memory is read.
sleep 5
"$bench_bin" --kubeconfig "$kubeconfig" --manager-pid "$manager_pid" \
    --server-pid "$server_pid" "$@"
echo "== done"
