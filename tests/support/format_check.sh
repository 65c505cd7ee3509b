#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The tree stays formatted as .clang-format says: every C source and header under src, include,
# tools, tests, fuzz and bench, checked without changing anything (clang-format --dry-run).
set -euo pipefail
cd "${1:?usage: format_check.sh SOURCE_DIR}"
command -v clang-format > /dev/null || { echo "no clang-format (scripts/setup installs it)"; exit 77; }
files=$(git ls-files 'src/*.[ch]' 'include/*.[ch]' 'tools/*.[ch]' 'tests/*.[ch]' 'fuzz/*.[ch]' \
    'bench/*.[ch]' 2>/dev/null || find src include tools tests fuzz bench -name '*.[ch]')
# shellcheck disable=SC2086
if ! clang-format --dry-run --Werror $files 2> /tmp/ccz-format.$$; then
    grep -m 20 'error:' /tmp/ccz-format.$$ || true
    rm -f /tmp/ccz-format.$$
    echo "not formatted: run clang-format -i on the files above"
    exit 1
fi
rm -f /tmp/ccz-format.$$
echo "$(echo "$files" | wc -w) files formatted"
