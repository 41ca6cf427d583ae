#!/usr/bin/env bash
# Configure, build and run the whole test suite; exits non-zero if a test fails.
#
#   ./scripts/test.sh [extra cmake -D options]
#
# Environment: SSMRT_BUILD_DIR (default ./build), SSMRT_JOBS (build parallelism,
# default: all cores), SSMRT_TEST_JOBS (tests run at once, default 1: the
# conformance and timing tests are best run alone).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deps.sh
source "$root/scripts/deps.sh"
ssmrt_packages_ensure "${SSMRT_PACKAGES_TEST[@]}"
ssmrt_cuda_path

build=${SSMRT_BUILD_DIR:-$root/build}
jobs=${SSMRT_JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "${SSMRT_TEST_JOBS:-1}"
