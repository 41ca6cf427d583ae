#!/usr/bin/env bash
# libssmrt must not link any backend: backends are plugins loaded with dlopen.
#   check_no_backend_link.sh LIBSSMRT
set -euo pipefail
lib=$1
needed=$(readelf -d "$lib" | grep NEEDED || true)
echo "$needed"
if [[ -z "$needed" ]]; then
    echo "FAIL: readelf found no NEEDED entries in $lib (not a shared library?)"
    exit 1
fi
if grep -q "libssmrt-" <<<"$needed"; then
    echo "FAIL: $lib has a backend plugin among its NEEDED libraries"
    exit 1
fi
deps=$(ldd "$lib")
echo "$deps"
if grep -qE "libssmrt-|libcuda|libcudart|libcublas|libvulkan|libOpenCL" <<<"$deps"; then
    echo "FAIL: ldd shows a backend or GPU runtime library in $lib's dependencies"
    exit 1
fi
echo "ok: $lib depends on no backend"
