#!/usr/bin/env bash
# API server benchmark: builds release binaries, then for each store (embedded, then a fresh
# etcd) starts `ferrokube server` on a temporary data directory, lets it idle, and runs
# `ferrokube-loadgen` against it (which measures everything: idle and final server memory,
# creates/s, gets/s, list latency over 10,000 pods, watch fan-out, and for etcd the raw put
# rate as the reference). Every process it starts is stopped on exit.
#
#   hack/bench-api.sh [loadgen flags...]     e.g. hack/bench-api.sh --pods 2000 --writers 16
#
# Environment: BENCH_STORES="embedded etcd" (which runs), BENCH_IDLE_SECONDS=5,
# BENCH_OUT=DIR (keep logs and JSON reports there), FERROKUBE_BENCH_SUBCOMMAND=apiserver
# (the API server alone; `server` adds the controller manager and scheduler, which then
# try to schedule the 10,000 node-less pods: more writes and memory, as upstream's would),
# FERROKUBE_ETCD_BIN=etcd, KUBECTL=kubectl.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ferrokube-target}"
stores="${BENCH_STORES:-embedded etcd}"
idle_seconds="${BENCH_IDLE_SECONDS:-5}"
subcommand="${FERROKUBE_BENCH_SUBCOMMAND:-apiserver}"
etcd_bin="${FERROKUBE_ETCD_BIN:-etcd}"
kubectl="${KUBECTL:-$(command -v kubectl-1.35 || command -v kubectl || echo /usr/local/bin/kubectl-1.35)}"

echo "== building release binaries"
cargo build --release -p ferrokube -p ferrokube-loadgen
server_bin="$CARGO_TARGET_DIR/release/ferrokube"
loadgen_bin="$CARGO_TARGET_DIR/release/ferrokube-loadgen"

# shellcheck source=hack/bench-lib.sh
. hack/bench-lib.sh

for store in $stores; do
    echo
    echo "== $store store ($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
    flags=()
    loadgen_flags=()
    case "$store" in
    embedded) ;;
    etcd)
        start_etcd
        flags=(--datastore-endpoint "$etcd_endpoint")
        loadgen_flags=(--etcd-endpoint "$etcd_endpoint")
        ;;
    *)
        echo "unknown store $store (want embedded or etcd)" >&2
        exit 2
        ;;
    esac
    start_server "$store" "${flags[@]}"
    # Idle memory is read by the load generator after this quiet period.
    sleep "$idle_seconds"
    "$loadgen_bin" --kubeconfig "$kubeconfig" --server-pid "$server_pid" \
        --json "$out/report-$store.json" "${loadgen_flags[@]}" "$@"
    stop "$server_pid"
    if [ "$store" = etcd ]; then
        stop "${pids[-1]}"
    fi
done
echo
echo "== done (JSON reports: $out/report-*.json$([ "$out" = "$work" ] && echo ', removed on exit'))"
