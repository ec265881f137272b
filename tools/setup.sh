#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for erc and builds it: Debian packages (as root), then CMake + ninja into build/.
# Safe to run again: installed packages are skipped and the build is incremental.
# Usage: bash tools/setup.sh [TARGET...]   (default: everything; tools/demo.sh builds only the programs it runs)
#   ERC_BUILD_DIR (default build) and ERC_CMAKE_ARGS choose another build, e.g. the CUDA simulator's:
#   ERC_BUILD_DIR=build-sim ERC_CMAKE_ARGS=-DERC_CUDA=SIM bash tools/setup.sh erc_cuda_tests
#   ERC_EXTRA_PACKAGES names Debian packages that build needs besides (tools/fuzz.sh: clang).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ pkg-config libopenblas-openmp-dev nlohmann-json3-dev libgtest-dev libhdf5-dev
          libcli11-dev zlib1g-dev libsndfile1-dev libsoxr-dev espeak-ng libespeak-ng-dev libboost-context-dev
          libxml2-dev libsleef-dev binutils python3 libavformat-dev libavcodec-dev libavutil-dev
          ${ERC_EXTRA_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

dir=${ERC_BUILD_DIR:-build}
echo "==> configuring $dir/ (CUDA backend: built when nvcc is on the PATH, or for the simulator with -DERC_CUDA=SIM)"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release ${ERC_CMAKE_ARGS:-} > "$dir.configure.log" 2>&1 \
  || { cat "$dir.configure.log"; exit 1; }
grep -E "erc: CUDA backend" "$dir.configure.log" || true
rm -f "$dir.configure.log"
targets=()
for t in "$@"; do targets+=(--target "$t"); done
echo "==> building ${*:-everything} in $dir/ ($(nproc) jobs)"
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
