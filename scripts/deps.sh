# Debian packages ssmrt needs, and a function that installs them (as root) or
# checks for them (otherwise). Sourced by scripts/test.sh, scripts/run.sh and .ci/run.

# Build the runtime, the CPU backend and the tool.
SSMRT_PACKAGES_BUILD=(build-essential cmake ninja-build pkg-config libjson-c-dev libopenblas-dev)
# Everything the test suite exercises: the Vulkan backend on lavapipe with the
# Khronos validation layer, the OpenCL backend on PoCL, and valgrind.
SSMRT_PACKAGES_TEST=("${SSMRT_PACKAGES_BUILD[@]}" libvulkan-dev glslc mesa-vulkan-drivers
    vulkan-validationlayers ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo valgrind)
# Reliability checks in CI (scripts/sanitize.sh, fuzz/run.sh): clang with libFuzzer
# and its sanitizer runtimes. The sanitizer suite itself is built with gcc (libasan).
SSMRT_PACKAGES_RELIABILITY=(clang libclang-rt-14-dev)

# ssmrt_packages_ensure PACKAGE...: as root, apt-get installs whichever are missing;
# as another user, fails listing the missing ones and the command to install them.
ssmrt_packages_ensure() {
    local missing=() p
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "note: not a Debian system; make sure these are installed: $*" >&2
        return 0
    fi
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ $(id -u) -eq 0 ]]; then
        echo "installing: ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
    else
        echo "missing packages: ${missing[*]}" >&2
        echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
        return 1
    fi
}

# The CUDA toolkit lives outside PATH on the CI machine; the CUDA backend builds
# when nvcc is found (and is skipped, with a configure message, when not).
ssmrt_cuda_path() {
    if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
        export PATH=/usr/local/cuda/bin:$PATH
    fi
}
