#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ccz ml: info lists a model's inputs and outputs (text and JSON) and refuses what the engine
# cannot run, naming the node; run prints outputs equal to NumPy's (tests/ml/op_ref.py's models
# and references, within 1e-5 relative and 1e-6 absolute); inputs that are not whole rows are
# refused. Skipped (77) without python3-onnx (a failure under CI=true).
. "$(dirname "$0")/lib.sh"
if ! /usr/bin/python3 "$CCZ_SOURCE_DIR/tests/ml/op_ref.py" "$T" 2> "$T/gen.err"; then
    missing "python3-onnx with python3-numpy is not available: $(cat "$T/gen.err")"
fi
run 0 "$CCZ" ml info "$T/Conv_pad_stride.onnx"
[ "$out" = "input  X [N,2,9,9]
output Y [N,5,5,5]" ] || fail "ccz ml info: '$out' is not its one input and its one output"
run 0 "$CCZ" ml info "$T/LinearClassifier_binary.onnx" --json
jqis '.inputs[0].name + " " + (.inputs[0].shape | map(tostring) | join(","))' "X N,6"
jqis '[.outputs[].name] | join(",")' "L,Z"
jqis '.outputs[1].row_elems' 2

# outputs against the references
close() { # OUTPUT_NAME CASE: $out's rows of OUTPUT_NAME against CASE.out0
    printf '%s' "$out" > "$T/run.json"
    /usr/bin/python3 - "$1" "$T/$2.out0" "$T/run.json" <<'PY' || fail "ccz ml run $2: outputs differ"
import json, sys
import numpy as np
with open(sys.argv[3]) as f:
    got = np.array(json.load(f)["outputs"][sys.argv[1]], dtype=np.float64).ravel()
want = np.fromfile(sys.argv[2], dtype="<f4").astype(np.float64)
sys.exit(0 if got.shape == want.shape and np.all(np.abs(got - want) <= 1e-6 + 1e-5 * np.abs(want)) else 1)
PY
}
run 0 "$CCZ" ml run "$T/Conv_pad_stride.onnx" --input "$T/Conv_pad_stride.in0" --threads 1
jqis '.batch' 2
close Y Conv_pad_stride
run 0 "$CCZ" ml run "$T/Concat.onnx" --input "$T/Concat.in0" --input "$T/Concat.in1"
close Y Concat

# refusals: a model the engine cannot run, inputs that are not whole rows, the wrong count
run 2 "$CCZ" ml info "$T/err_unknown_op.onnx"
contains "$err" "ml: node 0 'lstm0' (LSTM): operator LSTM is not supported"
head -c 100 "$T/Conv_pad_stride.in0" > "$T/short.bin"
run 2 "$CCZ" ml run "$T/Conv_pad_stride.onnx" --input "$T/short.bin"
contains "$err" "100 bytes is not a whole number of rows of input 'X' (162 floats each)"
run 2 "$CCZ" ml run "$T/Concat.onnx" --input "$T/Concat.in0"
contains "$err" "the model has 2 inputs: give 2 --input files"
run 2 "$CCZ" ml run "$T/Concat.onnx" --json
contains "$err" "'--json' is not an option of 'ml run'"
run 2 "$CCZ" ml run --input "$T/Concat.in0"
contains "$err" "ml run: no MODEL"
run 2 "$CCZ" ml run "$T/Concat.onnx" --input "$T/Concat.in0" --input "$T/Concat.in1" --threads 257
contains "$err" "--threads: 0 (one per CPU) to 256"
run 2 "$CCZ" ml run "$T/Concat.onnx" $(for i in $(seq 17); do printf -- '--input %s ' "$T/Concat.in0"; done)
contains "$err" "at most 16 --input files"
run 2 "$CCZ" ml run "$T/Concat.onnx" $(for i in $(seq 18); do printf -- '--input %s ' "$T/Concat.in0"; done)
contains "$err" "at most 16 --input files"
run 2 "$CCZ" ml run "$T/Concat.onnx" "$T/Concat.onnx"
contains "$err" "'$T/Concat.onnx' is not an option of 'ml run'"
# no rows at all, or fewer rows than the first input's
: > "$T/empty.bin"
run 2 "$CCZ" ml run "$T/Conv_pad_stride.onnx" --input "$T/empty.bin"
contains "$err" "ml run: $T/empty.bin: 0 bytes is not a whole number of rows of input 'X' (162 floats each)"
head -c 80 "$T/Concat.in1" > "$T/one-row.bin"
run 2 "$CCZ" ml run "$T/Concat.onnx" --input "$T/Concat.in0" --input "$T/one-row.bin"
contains "$err" "ml run: $T/one-row.bin: 80 bytes is not a whole number of rows of input 'B' (20 floats each), as many as the first input's"
# one --input file per graph input, not more (16 are read, then counted)
run 2 "$CCZ" ml run "$T/Concat.onnx" --input "$T/Concat.in0" --input "$T/Concat.in1" --input "$T/Concat.in1"
contains "$err" "the model has 2 inputs: give 2 --input files"
run 2 "$CCZ" ml run "$T/Concat.onnx" $(for i in $(seq 16); do printf -- '--input %s ' "$T/Concat.in0"; done)
contains "$err" "the model has 2 inputs: give 2 --input files"
# --threads: 256 taken, given once, with its value; run's options are not info's
run 0 "$CCZ" ml run "$T/Concat.onnx" --input "$T/Concat.in0" --input "$T/Concat.in1" --threads 256
jqis '.batch' 2
run 2 "$CCZ" ml run "$T/Concat.onnx" --input "$T/Concat.in0" --input "$T/Concat.in1" --threads 1 --threads 2
contains "$err" "ccz: '--threads' is given twice; give it once"
run 2 "$CCZ" ml run "$T/Concat.onnx" --input "$T/Concat.in0" --input "$T/Concat.in1" --threads
contains "$err" "ccz: '--threads' needs a value"
run 2 "$CCZ" ml run "$T/Concat.onnx" --input "$T/Concat.in0" --input
contains "$err" "ccz: '--input' needs a value"
run 2 "$CCZ" ml info "$T/Concat.onnx" --input "$T/Concat.in0"
contains "$err" "'--input' is not an option of 'ml info'"
run 2 "$CCZ" ml info "$T/Concat.onnx" --threads 1
contains "$err" "'--threads' is not an option of 'ml info'"
run 2 "$CCZ" ml frobnicate
contains "$err" "unknown ml command"
finish
