#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# solutions/psi/run checks its result, not only that the providers agree: run from another
# directory, with its ccz (first on PATH) and temporary files under a path with a space, it
# passes with the real ccz and stops with exit 1, naming the mismatch, when a lying ccz hands
# every provider the same wrong intersection (psi join) or when ECDH PSI's client gets a wrong one.
. "$(dirname "$0")/lib.sh"
RUN=$CCZ_SOURCE_DIR/solutions/psi/run
ccz_real=$(cd "$(dirname "$CCZ")" && pwd)/$(basename "$CCZ")

# wrapper NAME: $T/with space/NAME/ccz runs the real ccz, except for the case read from stdin
wrapper() {
    local dir="$T/with space/$1"
    mkdir -p "$dir/tmp"
    {
        printf '#!/usr/bin/env bash\nccz=%q\n' "$ccz_real"
        # the program that attests is the real ccz: its measurement, not the wrapper's
        echo '[ "$1 $2 ${3:-}" = "sim measure $0" ] && exec "$ccz" sim measure "$ccz"'
        cat
        echo 'exec "$ccz" "$@"'
    } > "$dir/ccz"
    chmod +x "$dir/ccz"
}
# solution NAME: runs solutions/psi/run from / with NAME's ccz; sets code, out, err
solution() {
    local dir="$T/with space/$1"
    out=$(cd / && PATH="$dir:$PATH" TMPDIR="$dir/tmp" CCZ_SIM_DIR="$dir/sim" "$RUN" 2> "$T/stderr")
    code=$?
    err=$(cat "$T/stderr")
}
# drops "cat" from the file after --out (every provider alike: they still agree)
DROP_CAT='"$ccz" "$@" || exit
out= prev=
for a in "$@"; do [ "$prev" = --out ] && out=$a; prev=$a; done
[ -z "$out" ] || sed -i "/^cat$/d" "$out"
exit 0'

wrapper honest < /dev/null
solution honest
[ "$code" = 0 ] || fail "the PSI solution exited $code with the real ccz: $err"
contains "$out" "intersection: car cat train"
contains "$out" "SIMULATED TEE"
[ -z "$(ls -A "$T/with space/honest/tmp")" ] || fail "the run left files behind in its TMPDIR"

wrapper join-liar <<SH
if [ "\$1 \$2" = "psi join" ]; then
$DROP_CAT
fi
SH
solution join-liar
[ "$code" = 1 ] || fail "a wrong TEE PSI intersection: exit $code, expected 1; stdout: $out"
contains "$err" "run: 2 providers got 'car train ', not 'car cat train '"

wrapper ecdh-liar <<SH
if [ "\$1 \$2 \$3" = "psi ecdh --connect" ]; then
$DROP_CAT
fi
SH
solution ecdh-liar
[ "$code" = 1 ] || fail "a wrong ECDH PSI intersection: exit $code, expected 1; stdout: $out"
contains "$err" "run: ECDH PSI gave 'car train ', not 'car cat train '"
finish
