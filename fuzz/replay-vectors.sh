#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Replays files of the shared vectors through a fuzz target: DEFAULT_VECTORS REPLAY SUBDIR...
# The vectors are $CCZ_VECTORS, else DEFAULT_VECTORS. Absent, the run is skipped (77), or fails
# under CI=true; a named folder (or file) missing from present vectors is a failure.
vectors=${CCZ_VECTORS:-$1}
replay=$2
shift 2
if [ ! -d "$vectors" ]; then
    echo "no vectors at $vectors (set CCZ_VECTORS)"
    [ "${CI:-}" != true ] || { echo "FAIL: CI=true: missing vectors are a failure"; exit 1; }
    exit 77
fi
dirs=()
for sub in "$@"; do
    [ -e "$vectors/$sub" ] || { echo "FAIL: $vectors/$sub is missing"; exit 1; }
    dirs+=("$vectors/$sub")
done
exec "$replay" "${dirs[@]}"
