#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (every
# meson suite: unit, integration and slow). Arguments go to `meson test`,
# e.g. `scripts/test.sh --suite unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
meson test -C "${DHTALK_BUILD_DIR:-build}" --print-errorlogs --num-processes 2 "$@"
