#!/usr/bin/env bash
# The quick conformance suite on the CPU backend under valgrind: the harness, the
# runtime and the CPU kernels must make no invalid access and leak nothing.
#   run_valgrind.sh TOOL CPU_PLUGIN
# Only the CPU plugin is put on the search path: GPU drivers (lavapipe, PoCL) keep
# allocations for the life of the process that valgrind would report.
set -euo pipefail
tool=$1 plugin=$2
if ! command -v valgrind >/dev/null 2>&1; then
    echo "SKIPPED: valgrind is not installed (apt-get install valgrind)"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ln -s "$plugin" "$dir/libssmrt-cpu.so"
SSMRT_PLUGIN_PATH=$dir SSMRT_BACKEND=cpu valgrind --quiet --leak-check=full \
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 "$tool" conformance --quick
