#!/usr/bin/env bash
# On the GPU machine (see the developers' guide): conformance, model fixtures and
# the op benchmarks for every GPU backend, results under $OUT.
#
#   . .gl/gpu-env.sh; scripts/device-run.sh BUILD_DIR [conformance|models|bench|scaling ...]
#
# BUILD_DIR holds bin/ and lib/ of a build made on the development machine (CUDA
# arch 90, CPU BLAS off: the GPU machine has no OpenBLAS; libjson-c and libgomp
# copied into lib/).
set -u
build=${1:?usage: device-run.sh BUILD_DIR [steps...]}
shift
steps=${*:-conformance models bench}
out=${OUT:-out}
mkdir -p "$out"
export LD_LIBRARY_PATH=$PWD/$build/lib:${LD_LIBRARY_PATH:-}
export SSMRT_PLUGIN_PATH=$PWD/$build/lib
tool=$build/bin/ssmrt
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv > "$out/gpu.txt" 2>&1
"$tool" devices > "$out/devices.txt" 2>&1
# The OpenCL device to use: the first one that is not PoCL's CPU device (the GPU
# machine lists PoCL first, as device 0, and the NVIDIA GPU after it); 0 if none.
ocl=$(awk '/^plugin /{p=$2} p=="opencl:" && $1=="device" && !/Portable Computing Language/ {
          sub(":", "", $2); print $2; exit }' "$out/devices.txt")
ocl=${ocl:-0}
dev_of() { [ "$1" = opencl ] && echo "$ocl" || echo 0; }
for step in $steps; do
    case $step in
    conformance)
        for b in cuda vulkan opencl; do
            SSMRT_BACKEND=$b SSMRT_DEVICE=$(dev_of $b) timeout 240 "$tool" conformance --json "$out/conformance-$b.json" \
                > "$out/conformance-$b.md" 2>&1
            echo "conformance $b: exit $?" >> "$out/summary.txt"
        done ;;
    models)
        for b in cuda vulkan opencl; do
            for m in mamba1-tiny mamba1-small mamba2-tiny jamba-tiny jamba-moe-tiny; do
                SSMRT_BACKEND=$b SSMRT_DEVICE=$(dev_of $b) timeout 120 "$build/bin/test_model_fixture" "tests/data/$m" \
                    > "$out/model-$b-$m.txt" 2>&1
                echo "model $b $m: exit $?" >> "$out/summary.txt"
            done
            for m in s4d-small s4d-long; do
                SSMRT_BACKEND=$b SSMRT_DEVICE=$(dev_of $b) timeout 120 "$build/bin/test_s4d" "tests/data/$m" \
                    > "$out/model-$b-$m.txt" 2>&1
                echo "model $b $m: exit $?" >> "$out/summary.txt"
            done
        done ;;
    bench)
        timeout 400 "$tool" bench ops --devices cuda:0,vulkan:0,opencl:$ocl \
            --op selective_scan,conv1d_causal,attention,matmul --json "$out/bench-ops.json" \
            > "$out/bench-ops.txt" 2>&1
        echo "bench ops: exit $?" >> "$out/summary.txt" ;;
    scaling)
        timeout 300 "$tool" bench scaling --devices cuda:0,vulkan:0,opencl:$ocl \
            --json "$out/scaling.json" --plot "$out/scaling.svg" > "$out/scaling.txt" 2>&1
        echo "bench scaling: exit $?" >> "$out/summary.txt" ;;
    model-bench)
        for b in cuda vulkan opencl; do
            SSMRT_BACKEND=$b SSMRT_DEVICE=$(dev_of $b) timeout 200 "$tool" bench model --preset mamba-130m \
                > "$out/bench-model-$b.txt" 2>&1
            echo "bench model $b: exit $?" >> "$out/summary.txt"
        done ;;
    esac
done
cat "$out/summary.txt"
