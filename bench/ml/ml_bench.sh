#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CNN inference benchmark (issue 17): the LeNet-style CNN of tests/ml/models.py, exported by
# torch.onnx.export, run by ccz (bench/ml/ml_bench) and by python3-torch eager
# (bench/ml/torch_lenet.py) at batch 1 and 64 with the same threads, in the same run. Speed is
# torch's median time over ccz's: goal >= 1 at batch 1 and >= 0.7 at 64. Also the model's load
# time (the first request's cost once the bytes are decrypted: goal < 50 ms).
# Usage: ml_bench.sh BUILD_DIR   (THREADS, default every CPU; SECONDS_PER, default 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
threads=${THREADS:-$(nproc)}
secs=${SECONDS_PER:-3}
if ! /usr/bin/python3 -c 'import torch, onnx' 2>/dev/null; then
    echo "ml: skipped: python3-torch and python3-onnx are needed for the anchor"
    exit 0
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/ccz-ml-bench-XXXXXX")
trap 'rm -rf "$dir"' EXIT
torch_out=$(/usr/bin/python3 "$root/bench/ml/torch_lenet.py" "$dir/lenet.onnx" "$threads" "$secs" 1 64 2>/dev/null)
printf '%-8s %8s %12s %12s %12s %12s %8s\n' batch threads "ccz ms med" "ccz ms min" "torch ms med" \
    "torch ms min" speed
for batch in 1 64; do
    c=$("$build/bench/ml/ml_bench" "$dir/lenet.onnx" "$batch" "$threads" "$secs")
    t=$(jq -c "select(.batch == $batch)" <<< "$torch_out")
    cm=$(jq .ms_median <<< "$c"); cn=$(jq .ms_min <<< "$c")
    tm=$(jq .ms_median <<< "$t"); tn=$(jq .ms_min <<< "$t")
    printf '%-8s %8s %12s %12s %12s %12s %8s\n' "$batch" "$threads" "$cm" "$cn" "$tm" "$tn" \
        "$(awk -v a="$tm" -v b="$cm" 'BEGIN { printf "%.2fx", a / b }')"
    load=$(jq .load_ms <<< "$c")
done
echo "model load (parse, check, shapes): $load ms (goal < 50 ms)"
