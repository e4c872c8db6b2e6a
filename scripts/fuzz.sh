#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang and AddressSanitizer into
# ./build-fuzz (or $DHTALK_FUZZ_DIR) and runs each for SECONDS (default 30)
# from the seed corpus in fuzz/corpus, which it only reads: new inputs go to
# a scratch folder. Prints one line per target; a crash leaves its input in
# the scratch folder and makes the exit status non-zero. The scratch folder
# (a few hundred MB of new inputs) is removed when every target passed.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET ...]
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
scripts/install-deps.sh --fuzz || exit 1
build_dir=${DHTALK_FUZZ_DIR:-build-fuzz}
# Not a unity build: each library source compiles on its own here, so one
# that leans on an include of its unity neighbour fails in CI.
if [ ! -d "$build_dir/meson-private" ]; then
  CXX=clang++ meson setup "$build_dir" -Dfuzzing=true -Dunity=off -Db_sanitize=address -Db_lundef=false >/dev/null || exit 1
fi
ninja -C "$build_dir" || exit 1
bin=$(cd "$build_dir/fuzz" && pwd)
corpus=$(pwd)/fuzz/corpus
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(client_frame record record_body roster sealed gossip value_archive config peer_http message)
scratch=$(mktemp -d)
export ASAN_OPTIONS=detect_leaks=0
passed=0
failed=0
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  # -timeout: one input running over 10 s counts as a hang.
  if (cd "$scratch/$t" && "$bin/${t}_fuzz" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 "$scratch/$t" "$corpus/$t" >"$scratch/$t.log" 2>&1); then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t.log")
    echo "fuzz $t: OK, $runs inputs in ${seconds}s"
    passed=$((passed + 1))
  else
    echo "fuzz $t: FAILED (log and crashing input in $scratch/$t)"
    tail -40 "$scratch/$t.log"
    failed=$((failed + 1))
  fi
done
[ "$failed" -eq 0 ] && rm -rf "$scratch"
echo "Ok:                 $passed"
echo "Fail:               $failed"
[ "$failed" -eq 0 ]
