#!/usr/bin/env bash
# deps.sh -- installs the Debian packages AURA needs, only those missing.
# Runs `apt-get update` at most once per machine (stamp in build/), then
# `apt-get install -y`.  Usage: scripts/deps.sh [build|test|bench|fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."

# Packages per purpose.  Keep each list short and say why in the commit.
BUILD_PKGS="build-essential cmake pkg-config"
BUILD_PKGS="$BUILD_PKGS libsimdjson-dev libcjson-dev"  # events: JSON lines; lnn: safetensors
BUILD_PKGS="$BUILD_PKGS libsqlite3-dev"                # memory: context store
BUILD_PKGS="$BUILD_PKGS libhiredis-dev"                # events/memory: Redis client
BUILD_PKGS="$BUILD_PKGS libzstd-dev"                   # events: compressed raw event log
BENCH_MEM_PKGS="liblmdb-dev sqlite3"                   # memory: LMDB comparison, sqlite3 shell
BENCH_LNN_PKGS="python3-torch python3-numpy"           # lnn: PyTorch 1.13 reference for ncps
TEST_PKGS="$BUILD_PKGS python3 python3-venv redis-server"
BENCH_PKGS="$TEST_PKGS valgrind hyperfine time git"
BENCH_PKGS="$BENCH_PKGS $BENCH_MEM_PKGS $BENCH_LNN_PKGS"
FUZZ_PKGS="$BUILD_PKGS clang libclang-rt-14-dev"
BENCH_PKGS="$BENCH_PKGS ripser"  # tda: Debian's Ripser, the fallback reference of bench/bench_tda.sh
BENCH_PKGS="$BENCH_PKGS libck-dev"  # events: Concurrency Kit ck_ring, compared in bench/bench_events_bus.c

case "${1:-build}" in
  build) want=$BUILD_PKGS ;;
  test)  want=$TEST_PKGS ;;
  bench) want=$BENCH_PKGS ;;
  fuzz)  want=$FUZZ_PKGS ;;
  *) echo "usage: $0 [build|test|bench|fuzz]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "deps: missing Debian packages:$missing (run as root or install them)" >&2; exit 1
  fi
fi
echo "deps: installing$missing" >&2
mkdir -p build
if [ ! -f build/.apt-updated ]; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  touch build/.apt-updated
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
