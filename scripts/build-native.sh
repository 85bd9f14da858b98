#!/usr/bin/env bash
# Builds native/udp_batch.node (the batched UDP send, native/udp_batch.c) with node-gyp against
# the running Node's own headers, so no header download is needed. Rebuilds only when the
# source is newer than the module. Without a C toolchain the build fails, and this says so and
# exits 0: dialgate then sends one datagram per system call through dgram (README, "Batched UDP
# sends"). The tests require the module, so CI fails instead of skipping.
set -uo pipefail
cd "$(dirname "$0")/.."
out=native/build/Release/udp_batch.node
if [ -f "$out" ] && [ "$out" -nt native/udp_batch.c ] && [ "$out" -nt native/binding.gyp ]; then
  exit 0
fi
if [ "$(uname -s)" != "Linux" ]; then
  echo "build-native: sendmmsg is Linux-only; UDP sends go one datagram per system call" >&2
  exit 0
fi
# <prefix>/bin/node -> <prefix>, where include/node/node_api.h lives in Node's builds.
nodedir=$(dirname "$(dirname "$(node -p 'process.execPath')")")
if ! node node_modules/node-gyp/bin/node-gyp.js rebuild --directory native --nodedir="$nodedir" --loglevel=warn; then
  echo "build-native: the native UDP batch sender did not build (a C toolchain and python3 are needed);" \
    "UDP sends go one datagram per system call" >&2
fi
exit 0
