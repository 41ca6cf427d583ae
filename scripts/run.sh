#!/usr/bin/env bash
# The main job: build ssmrt, list the devices, check the CPU backend against the
# float64 reference (quick conformance), then generate tokens with the default
# model (the Mamba fixture in tests/data) on the CPU.
#
#   ./scripts/run.sh
#
# Environment: SSMRT_BUILD_DIR (default ./build), SSMRT_JOBS, SSMRT_BACKEND
# (default cpu), SSMRT_MODEL (default tests/data/mamba1-tiny).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deps.sh
source "$root/scripts/deps.sh"
ssmrt_packages_ensure "${SSMRT_PACKAGES_BUILD[@]}"
ssmrt_cuda_path

build=${SSMRT_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "${SSMRT_JOBS:-$(nproc)}" --target ssmrt_tool ssmrt-cpu
tool=$build/bin/ssmrt
export SSMRT_BACKEND=${SSMRT_BACKEND:-cpu}

"$tool" devices
"$tool" conformance --quick
model=${SSMRT_MODEL:-$root/tests/data/mamba1-tiny}
"$tool" run --model "$model" --prompt-ids 1,2,3,4,5,6,7,8 --max-new-tokens 32
