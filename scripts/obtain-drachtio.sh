#!/usr/bin/env bash
# Makes sure the drachtio edge's tests have a real drachtio-server v0.9.4 (they never skip).
# Run by `npm test` (pretest). Nothing happens when one is already found the way the tests look
# for it (bench/support/drachtio-server.ts): DRACHTIO_BIN, `drachtio` on PATH, ../shared, or the
# copy this script left in .cache/drachtio/ before. Otherwise it obtains one into .cache/drachtio/:
#   1. copied out of the official image (drachtio/drachtio-server:0.9.4, /usr/local/bin/drachtio)
#      when a container engine answers `docker info`;
#   2. else built from source at tag v0.9.4 with drachtio-server's own steps (its Dockerfile),
#      which needs git access to github.com, Debian's build packages (installed with apt-get) and
#      some minutes of two cores.
# When neither can be done it fails with what to do, so the test command stops instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=v0.9.4
IMAGE=drachtio/drachtio-server:0.9.4
CACHE=.cache/drachtio
have() {
  if [ -n "${DRACHTIO_BIN:-}" ]; then
    [ -x "$DRACHTIO_BIN" ] && return 0
    echo "DRACHTIO_BIN=$DRACHTIO_BIN is not an executable file" >&2
    exit 1
  fi
  command -v drachtio >/dev/null 2>&1 && return 0
  for candidate in ../shared/drachtio/drachtio ../../shared/drachtio/drachtio "$CACHE/drachtio"; do
    [ -x "$candidate" ] && return 0
  done
  return 1
}
have && exit 0
mkdir -p "$CACHE"

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  echo "obtaining drachtio-server from the image $IMAGE" >&2
  docker pull -q "$IMAGE" >/dev/null
  id=$(docker create "$IMAGE")
  trap 'docker rm -f "$id" >/dev/null 2>&1 || true' EXIT
  docker cp "$id:/usr/local/bin/drachtio" "$CACHE/drachtio"
  chmod +x "$CACHE/drachtio"
  "$CACHE/drachtio" --version
  exit 0
fi

if command -v git >/dev/null 2>&1 && git ls-remote --tags https://github.com/drachtio/drachtio-server.git "$TAG" >/dev/null 2>&1; then
  echo "building drachtio-server $TAG from source into $CACHE (takes minutes)" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends ca-certificates g++ make cmake git autoconf \
    automake libtool libtool-bin libssl-dev libcurl4-openssl-dev zlib1g-dev libgoogle-perftools-dev \
    libboost-filesystem-dev libboost-log-dev libboost-thread-dev libboost-system-dev >/dev/null
  src=$(mktemp -d)
  trap 'rm -rf "$src"' EXIT
  git clone -q --branch "$TAG" --depth 1 https://github.com/drachtio/drachtio-server.git "$src/drachtio-server"
  (
    cd "$src/drachtio-server"
    git submodule update -q --init --recursive
    # The tag's tree has bootstrap.sh or, in older trees, autogen.sh.
    if [ -x ./bootstrap.sh ]; then ./bootstrap.sh; else ./autogen.sh; fi
    mkdir build && cd build
    ../configure --enable-tcmalloc=yes CPPFLAGS='-DNDEBUG' CXXFLAGS='-O2' >/dev/null
    make -j"$(nproc)" >/dev/null
  )
  install -m 0755 "$src/drachtio-server/build/drachtio" "$CACHE/drachtio"
  "$CACHE/drachtio" --version
  exit 0
fi

cat >&2 <<EOF
No drachtio-server binary, and none could be obtained here: no container engine answers
'docker info', and github.com cannot be reached to build $TAG from source.
Give the tests one with DRACHTIO_BIN=<path to drachtio> (or put 'drachtio' on PATH); see the
README, 'The drachtio edge', for the build steps.
EOF
exit 1
