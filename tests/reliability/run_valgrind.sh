#!/usr/bin/env bash
# Runs a test program under valgrind with only the CPU plugin on the search path
# (GPU drivers keep allocations for the life of the process that valgrind would
# report as theirs, not ours). Fails on any invalid access or definite leak.
#   run_valgrind.sh CPU_PLUGIN PROGRAM ARGS...
set -euo pipefail
plugin=$1
shift
if ! command -v valgrind >/dev/null 2>&1; then
    echo "SKIPPED: valgrind is not installed (apt-get install valgrind)"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ln -s "$plugin" "$dir/libssmrt-cpu.so"
SSMRT_PLUGIN_PATH=$dir valgrind --quiet --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite "$@"
