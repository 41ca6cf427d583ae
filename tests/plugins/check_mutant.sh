#!/usr/bin/env bash
# Self-test of the conformance harness: run it on the "mutant" plugin (the CPU
# plugin with one deliberate bug per op kind, see plugin_mutant.c) and check that
# each bug is reported as what it is, and that untouched ops still pass.
#   check_mutant.sh TOOL      (SSMRT_PLUGIN_PATH holds the mutant and the cpu plugin)
set -uo pipefail
tool=$1
out=$(SSMRT_BACKEND=mutant "$tool" conformance --quick \
      --ops scale,sigmoid,selective_scan,copy,add,mul,gelu,silu 2>&1)
rc=$?
echo "$out"
status=0
expect() { # expect DESCRIPTION REGEX
    if grep -qE -- "$2" <<<"$out"; then
        echo "ok:   $1"
    else
        echo "FAIL: $1 (no line matches /$2/)"
        status=1
    fi
}
[[ $rc -eq 1 ]] && echo "ok:   exit status 1 (failures found)" || { echo "FAIL: exit status $rc, want 1"; status=1; }
expect "write past the end of a planned output hits the canary after it" \
       'FAIL `scale`.*upper arena canary'
expect "write before the start of a planned output hits the canary before it" \
       'FAIL `sigmoid`.*lower arena canary'
expect "write past state_out hits the guard of the destination" \
       'FAIL `selective_scan`.*state-out.*guard: .*outside the destination view'
expect "write into the gap of a strided copy destination hits its guard" \
       'FAIL `copy`.*dst: strided.*guard: .*outside the destination view'
expect "a 1e-3 error in add exceeds its tolerance" \
       'FAIL `add`.*error [0-9.e+-]+ > tolerance'
expect "a write into an input is caught" \
       'FAIL `mul`.*input 1 was modified'
expect "an unsupported op is NOT_SUPPORTED, not FAIL" \
       '\| gelu \| NOT_SUPPORTED [0-9]+ \|'
expect "an untouched op passes" \
       '\| silu \| PASS [0-9]+ \('
if grep -qE 'FAIL `(silu|gelu)`' <<<"$out"; then
    echo "FAIL: an op without a mutation was reported as failing"
    status=1
fi
exit $status
