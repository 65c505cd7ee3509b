#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs one documentation page's examples (tests/docs/doctest.py) against this build. A page that
# builds C programs gets an installed ccz (cmake --install into a scratch prefix), as a reader
# has one. Environment from CTest: CCZ_BUILD_DIR, CCZ_SOURCE_DIR, CCZ_SANITIZE.
set -euo pipefail
page=$1
export CCZ_BIN_DIR=$CCZ_BUILD_DIR
export CCZ_VECTORS=${CCZ_VECTORS:-$CCZ_SOURCE_DIR/../shared/vectors}
# the shared data sets (CCZoo's CSV files), beside the vectors
export CCZ_DATA=${CCZ_DATA:-$(dirname "$CCZ_VECTORS")/data}
# the Python package of this checkout and this build's libccz.so, for pages with Python
# examples (docs/python.md), as a reader who installed them has them
export CCZ_LIBRARY_DIR=$CCZ_BUILD_DIR
export PYTHONPATH=$CCZ_SOURCE_DIR/python/src${PYTHONPATH:+:$PYTHONPATH}
if [ "${CCZ_SANITIZE:-OFF}" = ON ] && grep -qE '^(import ccz|from ccz( |\.))' "$page"; then
    echo "skipped: a sanitizer build's libccz cannot be loaded into the page's uninstrumented python3"
    exit 77
fi
if grep -q '<!-- doctest: file .*\.java -->' "$page"; then
    if [ "${CCZ_SANITIZE:-OFF}" = ON ]; then
        echo "skipped: a sanitizer build's JNI library cannot be loaded into the page's java"
        exit 77
    fi
    command -v javac > /dev/null || {
        echo "no javac: the page's Java program cannot be built (scripts/setup installs default-jdk)"
        [ "${CI:-}" != true ] || exit 1
        exit 77
    }
fi
if grep -q '<!-- doctest: file .*\.c -->' "$page"; then
    if [ "${CCZ_SANITIZE:-OFF}" = ON ]; then
        echo "skipped: a sanitizer build's library cannot link into the page's uninstrumented programs"
        exit 77
    fi
    prefix=$(mktemp -d "${TMPDIR:-/tmp}/ccz-doc-prefix-XXXXXX")
    trap 'rm -rf "$prefix"' EXIT
    cmake --install "$CCZ_BUILD_DIR" --prefix "$prefix" > /dev/null
    libdir=$(dirname "$(find "$prefix" -name ccz.pc -path '*/pkgconfig/*' | head -1)")
    export PKG_CONFIG_PATH=$libdir
    export CCZ_BIN_DIR=$prefix/bin
fi
# not exec: the trap removes the scratch prefix when the page is done
rc=0
/usr/bin/python3 "$CCZ_SOURCE_DIR/tests/docs/doctest.py" "$page" || rc=$?
exit $rc
