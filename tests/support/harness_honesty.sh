#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The harness reports a missing prerequisite honestly: absent vectors make a vectors test binary
# exit 77 (skipped) before any check, and fail (exit 1) under CI=true; a skip asked for after a
# check ran is a failure, never a skip that discards it; the same-words path tests skip where
# there is no second path. Usage: harness_honesty.sh PROBE VECTOR_BINARY... -- PATHS_BINARY...
set -u
probe=$1; shift
failures=0
expect() { # expect CODE ENV... -- CMD...: runs CMD under env ENV and compares its exit code
    local want=$1; shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    env -u CI "${envs[@]}" "$@" > /tmp/harness-honesty.$$ 2>&1
    local got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: ${envs[*]} $*: exit $got, expected $want"
        sed 's/^/  /' /tmp/harness-honesty.$$ | tail -5
        failures=$((failures + 1))
    else
        echo "ok: ${envs[*]} $(basename "$1") ${*:2}: exit $got"
    fi
    rm -f /tmp/harness-honesty.$$
}
expect 77 -- "$probe" skip-first
expect 1 CI=true -- "$probe" skip-first
expect 1 -- "$probe" check-then-skip
expect 1 -- "$probe" fail-then-skip
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    expect 77 CCZ_VECTORS=/nonexistent -- "$1"
    expect 1 CCZ_VECTORS=/nonexistent CI=true -- "$1"
    shift
done
[ $# -gt 0 ] && shift
for b in "$@"; do
    expect 77 CCZ_CPU=portable -- "$b"
    expect 77 CCZ_CPU=portable CI=true -- "$b" # a CPU without the path is no failure
done
[ $failures = 0 ] || { echo "$failures checks failed"; exit 1; }
echo "all checks passed"
