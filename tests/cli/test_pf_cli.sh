#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ccz pf against an independent implementation of the format (tests/pf/pf_ref.py, from the
# format's description, with python3-cryptography): files ccz writes, the reference reads, and
# the other way round, in both format versions and at the size edges; the path check (-V, -p);
# a tampered node, a wrong key and a truncated file refused with the node named; directories.
. "$(dirname "$0")/lib.sh"
REF=$CCZ_SOURCE_DIR/tests/pf/pf_ref.py
/usr/bin/python3 -c 'import cryptography' 2> /dev/null || {
    echo "python3-cryptography is missing (scripts/setup installs it)"
    [ "${CI:-}" != true ] || { echo "FAIL: CI=true: a missing prerequisite is a failure"; exit 1; }
    exit 77
}
cd "$T" || exit 1

run 0 "$CCZ" pf gen-key -w key
contains "$out" "wrap key saved to: key"
[ "$(stat -c %s key)" = 16 ] || fail "the wrap key is not 16 bytes"
[ "$(stat -c %a key)" = 600 ] || fail "the wrap key is not mode 0600"
run 2 "$CCZ" pf gen-key -w key
contains "$err" "key exists (ccz never overwrites a key)"
head -c 16 /dev/urandom > other.key

# 0, 1, 3072, 3073, the last byte of MHT node 0's data nodes +-1, and a second MHT node
for size in 0 1 3072 3073 396287 396288 396289 500000; do
    head -c "$size" /dev/urandom > "plain.$size"
    for fmt in 1 2; do
        # ccz -> reference
        run 0 "$CCZ" pf encrypt -w key -i "plain.$size" -o "c.$size.$fmt" --format "$fmt"
        contains "$out" "bound to 'c.$size.$fmt'"
        [ "$(od -An -tu1 -j8 -N1 "c.$size.$fmt" | tr -d ' ')" = "$fmt" ] \
            || fail "ccz wrote a version other than $fmt"
        /usr/bin/python3 "$REF" decrypt key "c.$size.$fmt" "c.$size.$fmt.out" --path "c.$size.$fmt" \
            || fail "the reference cannot read ccz's format-$fmt file of $size bytes"
        cmp -s "plain.$size" "c.$size.$fmt.out" || fail "ccz -> reference: $size bytes differ (format $fmt)"
        # reference -> ccz
        /usr/bin/python3 "$REF" encrypt key "plain.$size" "r.$size.$fmt" "r.$size.$fmt" --format "$fmt"
        run 0 "$CCZ" pf decrypt -w key -i "r.$size.$fmt" -o "r.$size.$fmt.out" -V
        cmp -s "plain.$size" "r.$size.$fmt.out" || fail "reference -> ccz: $size bytes differ (format $fmt)"
        run 0 "$CCZ" pf verify -w key -i "r.$size.$fmt" -V -v
        contains "$out" "$size bytes, format $fmt"
    done
done

# -v names the format written: version 1 without --format
run 0 "$CCZ" pf encrypt -w key -i plain.3073 -o c.v1 -v
contains "$out" "3073 bytes, format 1, 3 nodes"

# three MHT levels (MHT node 33 is the first child of MHT node 1): ccz -> reference in version
# 2, reference -> ccz in version 1
size=$((3072 + 4096 * 96 * 33 + 5))
head -c "$size" /dev/urandom > plain.deep
run 0 "$CCZ" pf encrypt -w key -i plain.deep -o c.deep --format 2
/usr/bin/python3 "$REF" decrypt key c.deep c.deep.out --path c.deep || fail "reference: three levels"
cmp -s plain.deep c.deep.out || fail "ccz -> reference: three levels differ"
/usr/bin/python3 "$REF" encrypt key plain.deep r.deep r.deep --format 1
run 0 "$CCZ" pf decrypt -w key -i r.deep -o r.deep.out -V
cmp -s plain.deep r.deep.out || fail "reference -> ccz: three levels differ"
rm -f plain.deep c.deep c.deep.out r.deep r.deep.out

# the bound path: -o as given (normalized), or -p; -V checks the input path, -p a given one
mkdir -p sub
run 0 "$CCZ" pf encrypt -w key -i plain.3073 -o ./sub//m.pf -p /models/./m.onnx
contains "$out" "bound to '/models/m.onnx'"
run 1 "$CCZ" pf decrypt -w key -i sub/m.pf -o m.out -V
contains "$err" "protected file: bound to path '/models/m.onnx', not 'sub/m.pf'"
[ ! -e m.out ] || fail "a refused decrypt left its output"
ls m.out.tmp-* > /dev/null 2>&1 && fail "a refused decrypt left a temporary file"
run 0 "$CCZ" pf decrypt -w key -i sub/m.pf -o m.out -p /models/m.onnx
[ "$(stat -c %a m.out)" = 600 ] || fail "decrypt wrote mode $(stat -c %a m.out), not 0600"
run 0 "$CCZ" pf decrypt -w key -i sub/m.pf -o m.out # no check without -V
# -v describes the file read: its size, format, node count and the path bound into it
run 0 "$CCZ" pf verify -w key -i sub/m.pf -p /models/m.onnx -v
contains "$out" "sub/m.pf: 3073 bytes, format 1, 3 nodes, bound to '/models/m.onnx'"
run 0 "$CCZ" pf decrypt -w key -i sub/m.pf -o m.out -v
contains "$out" "sub/m.pf: 3073 bytes, format 1, 3 nodes, bound to '/models/m.onnx'"
/usr/bin/python3 "$REF" decrypt key sub/m.pf m.py --path /models/m.onnx || fail "reference: -p path"
run 0 "$CCZ" pf encrypt -w key -i plain.1 -o sub/../n.pf
contains "$out" "bound to 'n.pf'"

# a wrong key, a tampered data node, a truncated file: refused, naming the node (exit 1)
run 1 "$CCZ" pf verify -w other.key -i c.500000.2
contains "$err" "metadata node (node 0): GCM tag mismatch (a wrong key, or the node was altered)"
cp c.500000.1 t.pf
flip t.pf $((9 * 4096 + 100))
run 1 "$CCZ" pf verify -w key -i t.pf
contains "$err" "data node 7 (node 9 at file offset 36864, plaintext offset 31744): GCM tag mismatch"
run 1 "$CCZ" pf decrypt -w key -i t.pf -o t.out
[ ! -e t.out ] || fail "a tampered file's decrypt left plaintext behind"
ls t.out.tmp-* > /dev/null 2>&1 && fail "a tampered file's decrypt left its temporary file"
cp r.500000.2 t.pf
truncate -s $((99 * 4096)) t.pf
run 1 "$CCZ" pf verify -w key -i t.pf
contains "$err" "truncated: 99 nodes where size 500000 needs 125 (data node 96 (node 99"
/usr/bin/python3 "$REF" decrypt key t.pf t.py 2> /dev/null && fail "the reference read a truncated file"
# metadata no Gramine writes, sealed with the right key: a bound path without its NUL, a size
# past the 2^60-byte limit
/usr/bin/python3 "$REF" encrypt key plain.1 h.pf h.pf --format 2 --hostile full-path
run 1 "$CCZ" pf verify -w key -i h.pf
contains "$err" "metadata node (node 0): the bound path has no terminating NUL"
/usr/bin/python3 "$REF" encrypt key plain.1 h.pf h.pf --format 1 --hostile size=1152921504606846977
run 1 "$CCZ" pf verify -w key -i h.pf
contains "$err" "metadata node (node 0): size 1152921504606846977 is beyond the 1152921504606846976-byte limit"
/usr/bin/python3 "$REF" encrypt key plain.1 h.pf h.pf --format 1 --hostile size=4096
run 1 "$CCZ" pf verify -w key -i h.pf
contains "$err" "truncated: 1 nodes where size 4096 needs 3"

# directories, recursively, as gramine-sgx-pf-crypt does them
mkdir -p tree/a/b
cp plain.3073 tree/a/x
cp plain.500000 tree/a/b/y
ln -s "$T/plain.1" tree/a/link # a link is not followed out of the tree
run 0 "$CCZ" pf encrypt -w key -i tree -o enc --format 2
contains "$out" "bound to 'enc/a/b/y'"
contains "$err" "skipping tree/a/link (not a regular file)"
[ -e enc/a/link ] && fail "encrypt followed a symbolic link"
/usr/bin/python3 "$REF" decrypt key enc/a/b/y y.py --path enc/a/b/y || fail "reference: directory file"
cmp -s y.py plain.500000 || fail "directory: y differs"
run 0 "$CCZ" pf decrypt -w key -i enc -o dec -V
cmp -s dec/a/x plain.3073 && cmp -s dec/a/b/y plain.500000 || fail "directory round trip differs"
# the directories made for the output are ordinary ones: 0755 under the umask, as mkdir makes
[ "$(stat -c %a enc/a)" = "$(printf '%o' $((0755 & ~0$(umask))))" ] ||
    fail "an output directory's mode is $(stat -c %a enc/a), not 0755 under the umask"

# usage errors (exit 2)
run 2 "$CCZ" pf encrypt -w key -i plain.1
contains "$err" "encrypt needs -i IN and -o OUT"
run 2 "$CCZ" pf encrypt -w key -i plain.1 -o x.pf --format 3
contains "$err" "--format: 1 or 2, not '3'"
run 2 "$CCZ" pf decrypt -i c.0.1 -o x
contains "$err" "the wrap key file (-w KEYFILE) is required"
head -c 15 /dev/urandom > short.key
run 2 "$CCZ" pf verify -w short.key -i c.0.1
contains "$err" "wrap key short.key holds 15 bytes, not 16"
head -c 17 /dev/urandom > long.key
run 2 "$CCZ" pf verify -w long.key -i c.0.1
contains "$err" "wrap key long.key holds 17 bytes, not 16"
run 2 "$CCZ" pf verify -w key -i absent.pf
run 2 "$CCZ" pf verify -w key -i c.0.1 -o x
contains "$err" "verify writes nothing (no -o)"
run 2 "$CCZ" pf encrypt -w key -i plain.1 -o x.pf -V
contains "$err" "-V checks the path when decrypting, not encrypting"
run 2 "$CCZ" pf decrypt -w key -i c.0.1 -o x --format 2
contains "$err" "--format chooses the version of new files (encrypt)"
run 2 "$CCZ" pf gen-key -w new.key -i plain.1
contains "$err" "gen-key takes -w KEYFILE only"
[ -e new.key ] && fail "gen-key with -i wrote a key"
run 2 "$CCZ" pf gen-key -w new.key -v
contains "$err" "gen-key takes -w KEYFILE only"
[ -e new.key ] && fail "gen-key with -v wrote a key"
run 2 "$CCZ" pf encrypt -w key -i absent -o absent.pf
contains "$err" "cannot open absent"
[ -e absent.pf ] && fail "encrypt of a missing input left an output"
# a failure after the output was started leaves an existing OUT as it was, and no temporary
echo "the earlier file" > kept.pf
run 2 "$CCZ" pf encrypt -w key -i /proc/self/mem -o kept.pf
contains "$err" "cannot read /proc/self/mem"
[ -z "$out" ] || fail "a failed encrypt printed '$out'"
[ "$(cat kept.pf)" = "the earlier file" ] || fail "a failed encrypt destroyed the existing output"
ls kept.pf.tmp-* 2> /dev/null && fail "a failed encrypt left its temporary file"
run 0 "$CCZ" pf encrypt -w key -i plain.1 -o kept.pf
[ "$(stat -c %a kept.pf)" = "$(printf '%o' $((0644 & ~0$(umask))))" ] ||
    fail "an encrypted file's mode is not 0644 under the umask"
run 0 "$CCZ" pf verify -w key -i kept.pf
[ -e x.pf ] || [ -e x ] && fail "a usage error left an output"
# a FIFO given as the protected file: refused at once (no writer ever comes), not waited on
mkfifo fifo.pf
run 2 timeout 10 "$CCZ" pf verify -w key -i fifo.pf
contains "$err" "fifo.pf: protected file: not a regular file"
# nor as an output: the decrypted file is never renamed over a FIFO
run 2 timeout 10 "$CCZ" pf decrypt -w key -i kept.pf -o fifo.pf
contains "$err" "cannot write fifo.pf: not a regular file"
[ -p fifo.pf ] || fail "decrypt -o replaced a FIFO"
# decrypt needs -o too; an operand is not taken for one
run 2 "$CCZ" pf decrypt -w key -i c.0.1
contains "$err" "decrypt needs -i IN and -o OUT"
run 2 "$CCZ" pf encrypt -w key -i plain.1 -o extra.pf stray
contains "$err" "unexpected argument 'stray'"
[ -e extra.pf ] && fail "encrypt with a stray operand wrote its output"
# a directory decrypted into one that exists already
mkdir -p dec-again
run 0 "$CCZ" pf decrypt -w key -i enc -o dec-again -V
cmp -s dec-again/a/x plain.3073 && cmp -s dec-again/a/b/y plain.500000 ||
    fail "decrypt into an existing directory differs"
run 2 "$CCZ" pf frobnicate
contains "$err" "unknown pf command 'frobnicate'"
# each mode answers --help (or -h) with the usage, exit 0, and does nothing else
for m in gen-key encrypt decrypt verify; do
    run 0 "$CCZ" pf $m --help
    contains "$out" "usage: ccz pf gen-key -w KEYFILE"
    run 0 "$CCZ" pf $m -w help.key -h
    contains "$out" "usage: ccz pf gen-key -w KEYFILE"
done
[ -e help.key ] && fail "pf gen-key -h wrote a key"
finish
