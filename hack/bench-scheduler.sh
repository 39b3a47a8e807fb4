#!/usr/bin/env bash
# Scheduler benchmark in the shape of upstream's scheduler_perf SchedulingBasic: builds
# release binaries, starts `ferrokube apiserver` on a temporary embedded store and
# `ferrokube scheduler` beside it (both on this machine's cores), then runs
# `ferrokube-bench-scheduler`: 5,000 fake Nodes, then 10,000 pods, timed until all are
# bound. Every process is stopped on exit.
#
#   hack/bench-scheduler.sh [bench flags...]   e.g. --nodes 1000 --pods 2000 --shape anti-affinity
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
bench_bin="$CARGO_TARGET_DIR/release/ferrokube-bench-scheduler"

# shellcheck source=hack/bench-lib.sh
. hack/bench-lib.sh

echo "== embedded store, scheduler in its own process ($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
start_server embedded
"$server_bin" scheduler --kubeconfig "$kubeconfig" --no-leader-elect \
    >"$work/scheduler.log" 2>&1 &
scheduler_pid="$!"
pids+=("$scheduler_pid")
"$bench_bin" --kubeconfig "$kubeconfig" --process "apiserver=$server_pid" \
    --process "scheduler=$scheduler_pid" "$@"
echo "== done"
