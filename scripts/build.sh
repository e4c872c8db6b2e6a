#!/usr/bin/env bash
# Installs what is missing and builds dhtalk into ./build (or $DHTALK_BUILD_DIR).
# Extra meson options may be given in $DHTALK_MESON_ARGS (e.g. -Dwerror=true).
# With DHTALK_CONFIGURE_ONLY=1 it sets the build folder up and builds nothing:
# `meson test --suite S` then builds only what suite S runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build_dir=${DHTALK_BUILD_DIR:-build}
# shellcheck disable=SC2086
if [ -d "$build_dir/meson-private" ]; then
  meson configure "$build_dir" ${DHTALK_MESON_ARGS:-} >/dev/null
else
  meson setup "$build_dir" ${DHTALK_MESON_ARGS:-} >/dev/null
fi
[ -n "${DHTALK_CONFIGURE_ONLY:-}" ] || ninja -C "$build_dir"
