# Shared by the benchmark scripts (sourced, not run): a scratch directory, the processes a
# benchmark starts (stopped on exit, newest first), and starting etcd and the server.
# Callers set server_bin, subcommand, etcd_bin and kubectl first.

work="$(mktemp -d -t ferrokube-bench.XXXXXX)"
out="${BENCH_OUT:-$work}"
mkdir -p "$out"
pids=()

# Stops what we started (server, etcd), newest first, and removes the scratch directory.
cleanup() {
    local pid
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        pid="${pids[$i]}"
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    pids=()
    if [ "$out" != "$work" ]; then
        cp -f "$work"/*.log "$out"/ 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops one process we started and forgets it.
stop() {
    local pid="$1" keep=() p
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}

# A loopback port the kernel just handed out (as testkit's free_port does).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts etcd on fresh ports and a fresh directory; sets etcd_endpoint.
start_etcd() {
    local client_port peer_port dir="$work/etcd"
    client_port="$(free_port)"
    peer_port="$(free_port)"
    etcd_endpoint="http://127.0.0.1:$client_port"
    "$etcd_bin" --name=ferrokube-bench --data-dir="$dir" \
        --listen-client-urls="$etcd_endpoint" --advertise-client-urls="$etcd_endpoint" \
        --listen-peer-urls="http://127.0.0.1:$peer_port" \
        --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
        --initial-cluster="ferrokube-bench=http://127.0.0.1:$peer_port" \
        --initial-cluster-state=new --log-level=warn >"$work/etcd.log" 2>&1 &
    pids+=("$!")
    for _ in $(seq 300); do
        if curl -fsS "$etcd_endpoint/health" 2>/dev/null | grep -q '"health":"true"'; then
            return 0
        fi
        sleep 0.1
    done
    echo "etcd did not become healthy; its log:" >&2
    cat "$work/etcd.log" >&2
    exit 1
}

# Starts the server for store $1 (extra server flags follow); sets server_pid, kubeconfig.
start_server() {
    local store="$1" port
    shift
    port="$(free_port)"
    kubeconfig="$work/$store/admin.kubeconfig"
    "$server_bin" "$subcommand" --data-dir "$work/$store" --secure-port "$port" "$@" \
        >"$work/server-$store.log" 2>&1 &
    server_pid="$!"
    pids+=("$server_pid")
    for _ in $(seq 600); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            break
        fi
        if [ -f "$kubeconfig" ] &&
            [ "$("$kubectl" --kubeconfig "$kubeconfig" get --raw /readyz 2>/dev/null)" = ok ]; then
            return 0
        fi
        sleep 0.1
    done
    echo "server ($store) did not become ready; its log:" >&2
    tail -50 "$work/server-$store.log" >&2
    exit 1
}

