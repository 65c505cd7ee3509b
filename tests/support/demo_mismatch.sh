#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo checks its results: run against a ccz whose 'verify' lies about the policy verdict
# (prints "rejected" where the real one accepted), the demo must stop with exit 1 and say which
# check failed, not print "Demo complete". Usage: demo_mismatch.sh SOURCE_DIR CCZ
set -uo pipefail
src=$1 ccz=$2
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
cat > "$dir/ccz" <<SH
#!/usr/bin/env bash
if [ "\$1 \$2" = "sim measure" ]; then # the program that attests is the real ccz
    exec "$ccz" sim measure "$ccz"
fi
if [ "\$1" = verify ]; then
    "$ccz" "\$@" | sed 's/accepted (ccz policy)/rejected (ccz policy)/'
    exit "\${PIPESTATUS[0]}"
fi
exec "$ccz" "\$@"
SH
chmod +x "$dir/ccz"
CCZ_DEMO_DIR="$dir/demo" "$src/scripts/demo" "$dir/ccz" > "$dir/out.txt" 2>&1
rc=$?
if [ $rc != 1 ] || ! grep -q "demo: FAILED: 'policy      accepted (ccz policy)' is not in out.txt" "$dir/out.txt" ||
    grep -q "Demo complete" "$dir/out.txt"; then
    echo "FAIL: the demo did not catch the lying verifier (exit $rc):"
    tail -20 "$dir/out.txt"
    exit 1
fi
echo "ok: the demo stopped at the mismatch (exit 1)"
