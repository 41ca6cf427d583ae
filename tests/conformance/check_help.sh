#!/usr/bin/env bash
# Every subcommand listed by `ssmrt --help` answers --help with exit status 0 and a
# usage line.
set -euo pipefail
tool=$1
commands=$("$tool" --help | sed -n 's/^  \([a-z][a-z_-]*\)  .*/\1/p')
[[ -n "$commands" ]] || { echo "FAIL: ssmrt --help lists no commands"; exit 1; }
status=0
for c in $commands; do
    if out=$("$tool" "$c" --help 2>&1) && grep -qi "usage" <<<"$out"; then
        echo "ok:   ssmrt $c --help"
    else
        echo "FAIL: ssmrt $c --help (exit or usage line missing)"
        echo "$out" | head -5
        status=1
    fi
done
exit $status
