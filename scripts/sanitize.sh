#!/usr/bin/env bash
# The test suite built with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DSSMRT_SANITIZE=ON): any invalid access, leak or undefined behaviour fails the
# test it happens in. Exits non-zero if a test fails.
#
#   ./scripts/sanitize.sh [extra ctest arguments]
#
# Environment: SSMRT_SANITIZE_BUILD_DIR (default ./build-asan), SSMRT_JOBS (build
# parallelism, default: all cores), SSMRT_SANITIZE_EXCLUDE (ctest -E regex of the
# tests left out; default below).
#
# Built with gcc: its libasan is a shared library, so the plugins (linked with
# --no-undefined) resolve the ASan runtime from it; clang's static runtime cannot.
#
# Which tests (the full suite under ASan takes well over an hour on two cores, mostly
# in the software GPU drivers: vulkan.plugin_direct alone takes 144 s there):
#  - all of core, loader, plugins, the models on the CPU (fast and float64
#    reference devices, errors, layouts, the CLI) and the reliability tests,
#    including OOM on lavapipe and PoCL and two threads on cpu + PoCL: the runtime
#    and the CPU kernels under ASan, and each GPU plugin's host code at least once;
#  - not: valgrind tests (valgrind cannot run ASan binaries; they run in the normal
#    suite), bench and decode_scaling (timings), the conformance sweeps and the
#    Vulkan/OpenCL/CUDA model and plugin suites (their device code runs inside the
#    driver, which ASan does not instrument; they run in the normal suite), cpu +
#    vulkan concurrency (2 minutes under ASan) and the million-step decode (numerics,
#    run in the normal suite), and the mamba1-small model runs (the mamba1-tiny code
#    paths over 1024 tokens: 2+ minutes under ASan for no new code). The quick
#    conformance suite on the CPU runs below.
# Two tests at a time by default (SSMRT_TEST_JOBS): most are single-threaded.
# SSMRT_SANITIZE_EXCLUDE overrides the regex.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=deps.sh
source "$root/scripts/deps.sh"
ssmrt_packages_ensure "${SSMRT_PACKAGES_TEST[@]}"

build=${SSMRT_SANITIZE_BUILD_DIR:-$root/build-asan}
jobs=${SSMRT_JOBS:-$(nproc)}
CC=${CC:-gcc} CXX=${CXX:-g++} cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSSMRT_SANITIZE=ON -DSSMRT_CUDA=OFF
cmake --build "$build" -j "$jobs"

# allocator_may_return_null: the out-of-memory tests ask for 2^50 bytes and expect
# an error, not an ASan abort. use_sigaltstack=0: the LLVM inside PoCL and lavapipe
# installs its own alternate signal stack on threads that load it, and ASan's
# thread exit then fails unmapping "its" stack (a CHECK in the ASan runtime, not a
# finding; seen in reliability.concurrency, where plugins load on a second thread). Leaks inside the GPU drivers (not in ssmrt) are named
# one by one in scripts/sanitize.supp.
export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:use_sigaltstack=0:strict_string_checks=1:${ASAN_OPTIONS:-}
export LSAN_OPTIONS=suppressions=$root/scripts/sanitize.supp:print_suppressions=0:${LSAN_OPTIONS:-}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}

exclude=${SSMRT_SANITIZE_EXCLUDE:-'valgrind|^bench|decode_scaling|long_decode|^conformance\.|^models\.(vulkan|opencl|cuda)\.|^vulkan\.|^opencl_vtable|concurrency\.cpu\+vulkan|mamba1-small'}
ctest --test-dir "$build" --output-on-failure -j "${SSMRT_TEST_JOBS:-2}" -E "$exclude" "$@"
# The conformance suite's quick mode on the CPU (every op against the float64
# reference, small shapes): the kernels under ASan.
SSMRT_BACKEND=cpu "$build/bin/ssmrt" conformance --quick
