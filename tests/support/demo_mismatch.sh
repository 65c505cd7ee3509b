#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo checks its results: run against a ccz that lies, the demo must stop with exit 1 and
# say which check failed, not print "Demo complete". Two liars: a 'verify' that reports the
# policy verdict "rejected" where the real one accepted (caught at scene 4), and a 'secret get'
# that hands the app a key with one flipped bit (caught when the app's decryption differs from
# the plaintext, scene 12). A third, a key server that never logs its port, fails scene 15 at
# its start: the demo must stop it on the way out. Usage: demo_mismatch.sh SOURCE_DIR CCZ
set -uo pipefail
src=$1 ccz=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT

# liar NAME WANT: runs the demo with $dir/NAME/ccz; it must exit 1 with "demo: FAILED: WANT"
liar() {
    local name=$1 want=$2 rc
    CCZ_DEMO_DIR="$dir/$name/demo" "$src/scripts/demo" "$dir/$name/ccz" > "$dir/$name/out.txt" 2>&1
    rc=$?
    if [ $rc != 1 ] || ! grep -qF "demo: FAILED: $want" "$dir/$name/out.txt" ||
        grep -q "Demo complete" "$dir/$name/out.txt"; then
        echo "FAIL: the demo did not catch the lying $name (exit $rc):"
        tail -20 "$dir/$name/out.txt"
        exit 1
    fi
    echo "ok: the demo stopped at the lying $name's mismatch (exit 1)"
}
# wrapper NAME: a ccz that runs the real one, except for the case read from standard input
wrapper() {
    mkdir -p "$dir/$1"
    {
        printf '#!/usr/bin/env bash\nccz=%q\n' "$ccz"
        cat <<'SH'
if [ "$1 $2" = "sim measure" ]; then # the program that attests is the real ccz
    [ "$3" = "$0" ] && exec "$ccz" sim measure "$ccz"
fi
SH
        cat
        echo 'exec "$ccz" "$@"'
    } > "$dir/$1/ccz"
    chmod +x "$dir/$1/ccz"
}

wrapper verifier <<'SH'
if [ "$1" = verify ]; then
    "$ccz" "$@" | sed 's/accepted (ccz policy)/rejected (ccz policy)/'
    exit "${PIPESTATUS[0]}"
fi
SH
liar verifier "'policy      accepted (ccz policy)' is not in out.txt"

wrapper key-client <<'SH'
if [ "$1 $2" = "secret get" ]; then
    "$ccz" "$@" || exit
    out= prev=
    for a in "$@"; do [ "$prev" = -o ] && out=$a; prev=$a; done
    [ -z "$out" ] || /usr/bin/python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[0] ^= 1; open(sys.argv[1], "wb").write(b)' "$out"
    exit
fi
SH
liar key-client "the app's decryption is not model.txt: "

# a model key server that never says it is up (its log stays empty): scene 15 fails at its
# start, and the demo's cleanup must still stop it (the trap names ccz serve's pid too, not yet
# set then), not leave it running
wrapper silent-key-server <<SH
if [ "\$1 \$2" = "secret serve" ] && [[ " \$* " = *" model-key=model.key "* ]]; then
    echo \$\$ > "$dir/silent-key-server/pid"
    exec "\$ccz" "\$@" 2> /dev/null
fi
SH
liar silent-key-server "the server did not start: "
pid=$(cat "$dir/silent-key-server/pid")
if kill -0 "$pid" 2> /dev/null; then
    kill "$pid"
    echo "FAIL: the demo left the model key server ($pid) running after it failed"
    exit 1
fi
echo "ok: the demo stopped the model key server it started"
