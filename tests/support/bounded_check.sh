#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ccz_bounded (tests/support/bounded.c), which every CTest test runs under: a test's exit code,
# skip and fatal signal come through as its own; its stdout and stderr come through; what it
# left running (in its process group, or escaped from it by setsid) is named and killed when it
# ends, so that a leftover holding the output open cannot hold the run; past CCZ_TEST_TIMEOUT it
# is stopped with exit 124; an orphan it adopts is reaped when it ends. Usage: bounded_check.sh
# CCZ_BOUNDED
set -u
B=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
gone() { # PIDFILE: the process whose pid the file holds has ended
    local pid
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && ! kill -0 "$pid" 2> /dev/null
}
run() { # NAME CMD...: runs CMD under ccz_bounded as test NAME; code, out, secs
    local name=$1 start
    shift
    start=$(date +%s%N)
    out=$(env -u CCZ_TEST_TIMEOUT CCZ_TEST_STRAYS="$T/strays" ${LIMIT:+CCZ_TEST_TIMEOUT=$LIMIT} \
        timeout 30 "$B" "$name" "$@" 2>&1)
    code=$?
    ms=$((($(date +%s%N) - start) / 1000000))
}

# exit codes, the skip code and both streams
run codes sh -c 'echo to-stdout; echo to-stderr >&2; exit 3'
[ "$code" = 3 ] && ok "exit 3 comes through" || fail "exit 3 came out as $code"
case "$out" in *to-stdout*to-stderr*) ok "both streams come through" ;;
*) fail "the test's output came out as: $out" ;; esac
run skip sh -c 'exit 77'
[ "$code" = 77 ] && ok "a skip (77) comes through" || fail "exit 77 came out as $code"
# a death by signal, not exit 139 (which a shell would report alike): Python tells them apart
code=$(/usr/bin/python3 -c 'import subprocess, sys; print(subprocess.run(sys.argv[1:]).returncode)' \
    "$B" signal sh -c 'kill -SEGV $$' 2> /dev/null)
[ "$code" = -11 ] && ok "a test's SIGSEGV is ours" || fail "SIGSEGV came out as $code"
run missing /nonexistent/test
[ "$code" = 127 ] && ok "a missing command exits 127" || fail "a missing command: exit $code"

# a background server the test forgot: named, killed, and the run goes on at once
: > "$T/strays"
# (it exits once the child has exec'd sleep: a child still between fork and exec is named as
# the shell it still is)
run forgot sh -c "sleep 300 & echo \$! > $T/forgot.pid
    until tr '\\0' ' ' < /proc/\$!/cmdline | grep -q '^sleep 300'; do sleep 0.01; done; exit 0"
[ "$code" = 0 ] && [ "$ms" -lt 10000 ] && ok "a forgotten child does not hold the run (${ms} ms)" ||
    fail "a forgotten child: exit $code after $ms ms"
gone "$T/forgot.pid" && ok "the forgotten child was killed" || fail "the forgotten child still runs"
grep -q "^forgot: left running when the test ended: pid [0-9]*: sleep 300" "$T/strays" &&
    ok "the forgotten child is named in CCZ_TEST_STRAYS" ||
    fail "CCZ_TEST_STRAYS holds: $(cat "$T/strays")"

# one that left the test's process group (a session of its own) and holds its output open
run escaped sh -c "setsid sh -c 'echo \$\$ > $T/escaped.pid; exec sleep 300' & sleep 0.3; exit 0"
[ "$code" = 0 ] && [ "$ms" -lt 10000 ] && ok "an escaped child does not hold the run (${ms} ms)" ||
    fail "an escaped child: exit $code after $ms ms"
gone "$T/escaped.pid" && ok "the escaped child was killed" || fail "the escaped child still runs"

# an orphan it adopted is reaped when it ends, as init would: a test that polls for its end
# (kill -0) sees it gone, not a zombie
run orphan sh -c "( sleep 0.2 & echo \$! > $T/orphan.pid ); sleep 0.1
    for i in \$(seq 50); do kill -0 \$(cat $T/orphan.pid) 2>/dev/null || exit 0; sleep 0.1; done
    exit 1"
[ "$code" = 0 ] && ok "an adopted orphan is reaped when it ends (${ms} ms)" ||
    fail "an adopted orphan stayed a zombie: exit $code after $ms ms"

# the time limit
LIMIT=1 run slow sh -c "echo \$\$ > $T/slow.pid; sleep 300"
[ "$code" = 124 ] && [ "$ms" -lt 10000 ] && ok "past CCZ_TEST_TIMEOUT=1: exit 124 (${ms} ms)" ||
    fail "past CCZ_TEST_TIMEOUT=1: exit $code after $ms ms"
case "$out" in *"slow ran past its 1 s"*) ok "the limit is said" ;;
*) fail "past the limit it said: $out" ;; esac
gone "$T/slow.pid" && ok "the slow test was killed" || fail "the slow test still runs"
LIMIT=soon run bad true
[ "$code" = 2 ] && ok "CCZ_TEST_TIMEOUT=soon refused" || fail "CCZ_TEST_TIMEOUT=soon: exit $code"

[ "$failures" = 0 ] || { echo "$failures checks failed"; exit 1; }
echo "all checks passed"
