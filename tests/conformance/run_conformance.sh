#!/usr/bin/env bash
# CTest driver for conformance-<backend>.
#
#   run_conformance.sh TOOL BACKEND REQUIRED JSON_OUT [extra conformance args...]
#
# REQUIRED=1: the backend must have a device here (cpu; lavapipe and PoCL in CI);
# a missing device is a failure.
# REQUIRED=0: if the backend's plugin is unavailable (cuda on a machine without a
# GPU), check that `ssmrt devices` lists it as unavailable with a reason and that
# asking for it fails with that reason, then exit 77 so CTest reports the test as
# skipped: an unavailable device is never reported as having passed conformance.
#
# For vulkan, the Khronos validation layer is enabled and any validation message
# fails the test (the plugin also turns them into errors of the op that caused them).
set -euo pipefail

tool=$1 backend=$2 required=$3 json=$4
shift 4

devices=$("$tool" devices 2>&1) || true
if ! grep -q "^plugin $backend: loaded" <<<"$devices"; then
    echo "$devices"
    if ! grep -q "^plugin $backend: unavailable" <<<"$devices"; then
        echo "FAIL: the $backend plugin was built but 'ssmrt devices' does not list it"
        exit 1
    fi
    reason=$(grep -A2 "^plugin $backend: unavailable" <<<"$devices" | sed -n 's/^  reason: //p' | head -n1)
    if [[ -z "$reason" ]]; then
        echo "FAIL: 'ssmrt devices' lists $backend as unavailable without a reason"
        exit 1
    fi
    if [[ "$required" == 1 ]]; then
        echo "FAIL: $backend is required to have a device here, but: $reason"
        exit 1
    fi
    set +e
    out=$(SSMRT_BACKEND=$backend "$tool" conformance --quick 2>&1)
    rc=$?
    set -e
    echo "$out"
    if [[ $rc -ne 2 ]] || ! grep -q "backend '$backend' cannot start" <<<"$out" ||
       ! grep -qF -- "$reason" <<<"$out"; then
        echo "FAIL: asking for $backend should fail (exit 2) naming the reason '$reason'; exit $rc"
        exit 1
    fi
    echo "SKIPPED: $backend has no usable device here ($reason); it was not tested"
    exit 77
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [[ "$backend" == vulkan ]]; then
    layer_found=0
    for d in /usr/share/vulkan/explicit_layer.d /usr/local/share/vulkan/explicit_layer.d /etc/vulkan/explicit_layer.d; do
        compgen -G "$d/*validation*.json" >/dev/null && layer_found=1
    done
    if [[ $layer_found == 0 ]]; then
        echo "FAIL: the Khronos validation layer is not installed (apt-get install vulkan-validationlayers)"
        exit 1
    fi
    export VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation
fi

set +e
SSMRT_BACKEND=$backend SSMRT_DEVICE=${SSMRT_DEVICE:-0} "$tool" conformance --json "$json" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if [[ "$backend" == vulkan ]] && grep -qE "Validation Error|vulkan validation:|VUID-" "$log"; then
    echo "FAIL: the Vulkan validation layer reported errors (see above)"
    exit 1
fi
exit "$rc"
