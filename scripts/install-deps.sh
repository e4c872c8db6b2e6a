#!/usr/bin/env bash
# Installs the Debian 12 packages dhtalk builds, tests and runs with, and
# with --fuzz also clang and libFuzzer (scripts/fuzz.sh).
# Does nothing when they are all present already.
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config cmake
  libopendht-dev dhtnode libmsgpack-cxx-dev libgnutls28-dev nettle-dev libgmp-dev librocksdb-dev
  libboost-program-options-dev libjsoncpp-dev libcpp-httplib-dev doctest-dev
  curl libcurl4-gnutls-dev libomemo-c-dev
  gnuplot-nox
  # bench/crossval_bench: delays packets between node processes (no netem here)
  libnetfilter-queue-dev iptables
)
if [ "${1:-}" = "--fuzz" ]; then packages+=(clang libclang-rt-14-dev); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
