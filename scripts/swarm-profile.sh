#!/usr/bin/env bash
# Where a dhtalk-swarm run's wall time goes: runs one trial in the tool's
# own process under `perf record` and sums the CPU samples by library,
# grouped as public-key and certificate work (GMP, Nettle's hogweed and
# nettle, GnuTLS, libtasn1), OpenDHT, dhtalk's own code (the tool's
# binary), the C and C++ runtimes (allocation, copies) and the rest.
#
# Usage: scripts/swarm-profile.sh SCENARIO.ini [dhtalk-swarm run options, e.g. --network.nodes 20]
# Needs perf (apt-get install linux-perf) and a built tree (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
command -v perf >/dev/null || { echo "swarm-profile: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
[ -x build/tools/dhtalk-swarm ] || { echo "swarm-profile: build first (scripts/build.sh)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
perf record -q -F 499 -o "$work/perf.data" build/tools/dhtalk-swarm run "$@" --out "$work/run" --in-process >"$work/run.log"
tail -n 1 "$work/run.log"
perf report -i "$work/perf.data" --sort dso --stdio 2>/dev/null | awk '
  /^#/ || NF < 2 { next }
  {
    share = $1; sub("%", "", share); dso = $2
    if (dso ~ /^lib(gmp|hogweed|nettle|gnutls|tasn1|p11-kit|idn2|unistring)\./) group = "public-key and certificate work"
    else if (dso ~ /^libopendht\./) group = "OpenDHT"
    else if (dso == "dhtalk-swarm") group = "dhtalk (node, front end, simulator)"
    else if (dso ~ /^(libc|libstdc\+\+|libm|ld-linux)/) group = "C and C++ runtime (malloc, memcpy)"
    else if (dso ~ /kernel/) group = "kernel"
    else group = "other (plots, JSON, compression)"
    sum[group] += share
  }
  END { for (g in sum) printf "%6.1f%%  %s\n", sum[g], g }' | sort -rn
