#!/bin/sh
# fuzz/run.sh SECONDS: build the libFuzzer targets (clang, ASan + UBSan) and run each
# for SECONDS seconds from its seed corpus. Exits non-zero if any target finds a
# crash, a sanitizer report, a leak or a violated property; the input that did it is
# left in $BUILD/artifacts. Prints the executions per target.
#
# fuzz_model (model-graph construction from a config) runs the CPU plugin, so the
# plugin is built too (uninstrumented: clang's ASan runtime lives in the executable,
# and plugins link with --no-undefined; the sanitizer suite checks the kernels).
#
#   BUILD  build folder (default: build-fuzz next to this script's repository)
#   JOBS   parallel compile jobs (default 2)
set -eu

SECONDS_PER_TARGET=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-fuzz}
JOBS=${JOBS:-2}

mkdir -p "$BUILD"
CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S "$ROOT" -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=Debug -DSSMRT_FUZZ=ON -DSSMRT_BUILD_TESTS=OFF -DSSMRT_BUILD_TOOLS=OFF \
    -DSSMRT_CPU=ON -DSSMRT_CUDA=OFF -DSSMRT_VULKAN=OFF -DSSMRT_OPENCL=OFF >"$BUILD/cmake.log" 2>&1 ||
    { cat "$BUILD/cmake.log"; exit 1; }
targets="fuzz_safetensors fuzz_st_index"
[ -f "$ROOT/core/src/model/config.c" ] && targets="$targets fuzz_config fuzz_model"
ninja -C "$BUILD" -j "$JOBS" $targets

mkdir -p "$BUILD/artifacts"
status=0
summary=""
for t in $targets; do
    name=${t#fuzz_}
    # Fuzz into a scratch copy so new inputs never land in the repository's seeds.
    work="$BUILD/corpus-$name"
    mkdir -p "$work"
    log="$BUILD/$t.log"
    dict="$ROOT/fuzz/$name.dict"
    [ -f "$dict" ] || dict="$ROOT/fuzz/config.dict" # fuzz_model's input is config.json too
    set +e
    "$BUILD/bin/$t" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
        -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -dict="$dict" -artifact_prefix="$BUILD/artifacts/$name-" \
        "$work" "$ROOT/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ "$rc" -ne 0 ]; then
        status=1
        echo "== $t FAILED (exit $rc); last lines of $log:"
        tail -n 40 "$log"
    fi
    summary="$summary$t: ${execs:-?} executions in ${SECONDS_PER_TARGET}s, exit $rc
"
done
printf '%s' "$summary"
exit $status
