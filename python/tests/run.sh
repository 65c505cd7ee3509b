#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Python package's CTest: a fresh virtual environment (with Debian's site packages: pytest,
# cryptography), `pip install --no-build-isolation --no-deps` of a copy of python/ (pip builds in
# the tree it is given: the checkout stays clean), then pytest on python/tests against the
# installed package and the freshly built libccz.so (CCZ_LIBRARY_DIR).
# Environment from CTest: CCZ_SOURCE_DIR, CCZ_LIBRARY_DIR, CCZ, CCZ_PY_LAYOUT, CCZ_SANITIZE.
# Exit 77 (skipped, saying why) without python3-pytest or python3-venv, or in a sanitizer build;
# under CI=true a missing package is a failure.
set -euo pipefail
PY=/usr/bin/python3
missing() {
    echo "skipped: $1 (scripts/setup installs it)"
    [ "${CI:-}" = true ] && { echo "CI=true: a missing prerequisite is a failure"; exit 1; }
    exit 77
}
if [ "${CCZ_SANITIZE:-OFF}" = ON ]; then
    echo "skipped: a sanitizer build's libccz cannot be loaded into an uninstrumented python3"
    exit 77
fi
"$PY" -c 'import pytest' 2> /dev/null || missing "python3-pytest is not installed"
"$PY" -c 'import venv, ensurepip' 2> /dev/null || missing "python3-venv is not installed"
"$PY" -m pip --version > /dev/null 2>&1 || missing "python3-pip is not installed"
"$PY" -c 'import setuptools, wheel' 2> /dev/null || missing "python3-setuptools or python3-wheel is not installed"

export CCZ_VECTORS=${CCZ_VECTORS:-$CCZ_SOURCE_DIR/../shared/vectors}
T=$(mktemp -d "${TMPDIR:-/tmp}/ccz-python-XXXXXX")
trap 'rm -rf "$T"' EXIT
cp -r "$CCZ_SOURCE_DIR/python" "$T/python"
rm -rf "$T/python/build" "$T/python"/src/*.egg-info
# the venv without a pip of its own (seconds saved): Debian's pip installs into it
"$PY" -m venv --without-pip --system-site-packages "$T/venv"
"$PY" -m pip --python "$T/venv/bin/python" install --quiet --no-build-isolation --no-deps \
    --no-index "$T/python"
cd "$T"
# no unused names or undefined ones (Debian's python3-pyflakes, when present)
if "$PY" -m pyflakes --version > /dev/null 2>&1; then
    "$PY" -m pyflakes "$T/python/src" "$T/python/tests" "$CCZ_SOURCE_DIR/bench/python"
fi
# the tests must see the installed package, not a source tree
"$T/venv/bin/python" - <<'PY'
import ccz, sys
assert "/venv/lib/" in ccz.__file__, ccz.__file__
print("ccz %s from %s, libccz from %s" % (ccz.__version__, ccz.__file__, ccz.library_path()))
PY
# not exec: the trap removes $T (the venv, the copy) when the tests are done
rc=0
"$T/venv/bin/python" -m pytest -q -p no:cacheprovider --durations=5 "$T/python/tests" || rc=$?
exit $rc
