#!/usr/bin/env bash
# Installs the system packages the tests drive for real (SIPp, redis-server, the baresip
# softphone for interop), idempotently:
# nothing happens when they are already on PATH. Run as root or with sudo available.
set -euo pipefail
need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v baresip >/dev/null 2>&1 || need+=(baresip-core)
# stunnel4: the TLS wrapper around SIPp (Debian builds SIPp without TLS) in the TLS tests.
command -v stunnel4 >/dev/null 2>&1 || need+=(stunnel4)
# The runtime libraries of drachtio-server v0.9.4 (../shared/drachtio/README.md), for the
# drachtio edge's tests against the real server.
for pkg in libboost-filesystem1.74.0 libboost-log1.74.0 libboost-thread1.74.0 libcurl4 \
  libgoogle-perftools4 libssl3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
# A C toolchain for node-gyp: the batched UDP sender (native/udp_batch.c), which the tests require.
command -v make >/dev/null 2>&1 || need+=(make)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# openssl: the drachtio edge's TLS test makes a throw-away certificate.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing system packages for the tests: ${need[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
