#!/usr/bin/env bash
# Install what building and testing vigil needs (Debian 12 packages only). Idempotent.
# scripts/deps.sh --list prints the package names instead.
set -euo pipefail
packages=(
  build-essential cmake pkg-config clang llvm bpftool
  libbpf-dev libelf-dev zlib1g-dev libyaml-dev liblua5.4-dev libmsgpack-dev libnanomsg-dev libcmocka-dev
  libjansson-dev libmicrohttpd-dev libnghttp2-dev libcurl4-openssl-dev curl
  python3 jq iproute2 util-linux libcap2-bin valgrind
)
# each part that needs more lists it in scripts/deps.d/<part>.txt, one package a line
for f in "$(dirname "$0")"/deps.d/*.txt; do
  [ -e "$f" ] || continue
  while read -r p; do
    case "$p" in ''|'#'*) ;; *) packages+=("$p") ;; esac
  done < "$f"
done
# --list: print the packages, one a line, and stop (CI installs them itself)
if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
