#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ccz serve as TensorFlow Serving's and KServe's clients see it (tests/serving/serve_check.py):
# REST by curl and gRPC by python3-grpcio with hand-encoded messages, answers shaped as TF
# Serving's and equal to scikit-learn's (tests/ml/models.py lr) within 1e-5 relative; TF
# Serving's errors and HTTP/gRPC codes for malformed JSON, wrong shapes, unknown models and
# versions, oversized bodies, with the server up after each; concurrent requests answered from
# one batch (the metrics count it); a flood of idle and half-open connections while clients are
# served; --max-per-peer, --handshake-timeout, --max-conns and --idle-timeout reaching both
# listeners; a protected-file model with its key, refused without it or bound to another path;
# then the RA-TLS path on the SIMULATED TEE: the key by secret provisioning after attestation,
# and refused when the secret server's policy does not accept this ccz (exit 1) or cannot be
# reached (exit 2). Skipped (77) without python3-grpcio, -onnx or -sklearn (a failure under
# CI=true).
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import grpc, onnx, numpy, sklearn' 2> "$T/imp.err" ||
    missing "python3-grpcio, -onnx, -numpy or -sklearn is not available: $(tail -1 "$T/imp.err")"
/usr/bin/python3 "$CCZ_SOURCE_DIR/tests/ml/models.py" lr "$T" > /dev/null 2> "$T/gen.err" ||
    missing "tests/ml/models.py lr failed: $(cat "$T/gen.err")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/k.pem" \
    -out "$T/c.pem" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2> /dev/null ||
    fail "openssl req"
run 0 "$CCZ" pf gen-key -w "$T/key.bin"
run 0 "$CCZ" pf gen-key -w "$T/other.bin"
run 0 "$CCZ" pf encrypt -w "$T/key.bin" -i "$T/breast_cancer_lr.onnx" -o "$T/lr.pf"
/usr/bin/python3 "$CCZ_SOURCE_DIR/tests/serving/serve_check.py" "$CCZ" "$T" || fail "serve_check.py"

# RA-TLS on the SIMULATED TEE, the model key from the secret server after attestation
P=$T/plat
"$CCZ" sim init --dir "$P" > /dev/null
M=$("$CCZ" sim measure "$CCZ")
echo "{\"allow_sim\": true, \"secrets\": [{\"secret\": \"model-key\", \"measurement\": \"$M\"}]}" > "$T/release.json"
echo '{"allow_sim": true, "secrets": [{"secret": "model-key", "measurement": "'"$(printf '22%.0s' $(seq 32))"'"}]}' > "$T/other.json"
echo '{"allow_sim": true}' > "$T/appraise.json"
wait_port() { # LOG PATTERN: the port a server printed
    local p=
    for _ in $(seq 1200); do
        p=$(sed -n "s/.*$2 \\([0-9]*\\).*/\\1/p" "$1" | head -1)
        [ -n "$p" ] && { echo "$p"; return; }
        sleep 0.05
    done
    cat "$1" >&2
}
"$CCZ" secret serve --listen 127.0.0.1:0 --tee sim --sim-dir "$P" --policy "$T/release.json" \
    --secret "model-key=$T/key.bin" 2> "$T/secret.log" &
SECRET=$!
SP=$(wait_port "$T/secret.log" "on port")
"$CCZ" serve --model "lr=$T/lr.pf" --secret-server "127.0.0.1:$SP" --tee sim --sim-dir "$P" \
    --policy "$T/appraise.json" --rest 127.0.0.1:0 --grpc 127.0.0.1:0 --cn localhost \
    2> "$T/serve.log" &
SERVE=$!
RP=$(wait_port "$T/serve.log" "REST on port")
GP=$(wait_port "$T/serve.log" "gRPC on port")
contains "$(cat "$T/serve.log")" "got the model key from the secret server"
contains "$(cat "$T/serve.log")" "(RA-TLS, SIMULATED TEE)"
out=$(curl -sk "https://127.0.0.1:$RP/v1/models/lr:predict" -d @- <<< \
    "{\"instances\": [$(od -An -v -tf4 -w120 -N120 "$T/breast_cancer_lr.in0" | tr -s ' ' ',' | sed 's/^,//; s/,$//; s/.*/[&]/')]}")
want=$(od -An -tf4 -j4 -N4 "$T/breast_cancer_lr.out1" | tr -d ' ')
got=$(printf '%s' "$out" | jq -r '.predictions[0].probabilities[1]')
/usr/bin/python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(a - b) > 1e-6 + 1e-5 * abs(b))" \
    "$got" "$want" || fail "RA-TLS predict: '$out', probability $got, expected $want"
# the listener's certificate carries sim evidence of this ccz
echo | openssl s_client -connect "127.0.0.1:$RP" 2> /dev/null | openssl x509 > "$T/listener.pem" ||
    fail "no certificate from the REST listener"
run 0 "$CCZ" ratls inspect "$T/listener.pem"
contains "$out" "sim"
# a stock gRPC client trusting the gRPC listener's RA-TLS certificate (named by --cn)
echo | openssl s_client -connect "127.0.0.1:$GP" -alpn h2 2> /dev/null | openssl x509 > "$T/glistener.pem" ||
    fail "no certificate from the gRPC listener"
/usr/bin/python3 - "$GP" "$T" "$CCZ_SOURCE_DIR/tests/serving" <<'PY' || fail "gRPC Predict over RA-TLS"
import sys
import grpc
import numpy as np
sys.path.insert(0, sys.argv[3])
import tf_wire as w
port, t = sys.argv[1], sys.argv[2]
ch = grpc.secure_channel("localhost:" + port, grpc.ssl_channel_credentials(open(t + "/glistener.pem", "rb").read()))
pred = ch.unary_unary("/tensorflow.serving.PredictionService/Predict", request_serializer=lambda b: b,
                      response_deserializer=lambda b: b)
x = np.fromfile(t + "/breast_cancer_lr.in0", dtype="<f4")[:30]
want = np.fromfile(t + "/breast_cancer_lr.out1", dtype="<f4")[:2]
got = w.decode_predict_response(pred(w.predict_request("lr", {"X": w.tensor([1, 30], x)}), timeout=20))
p = np.array(got["outputs"]["probabilities"]["values"])
sys.exit(0 if np.all(np.abs(p - want) <= 1e-6 + 1e-5 * np.abs(want)) else 1)
PY
kill $SERVE; wait $SERVE || fail "ccz serve (RA-TLS) did not stop cleanly"
# the key as a secret of 32 hex digits and a newline, as Gramine's users often store it
kill $SECRET; wait $SECRET 2> /dev/null
od -An -v -tx1 "$T/key.bin" | tr -d ' \n' > "$T/key.hex"; echo >> "$T/key.hex"
"$CCZ" secret serve --listen 127.0.0.1:0 --tee sim --sim-dir "$P" --policy "$T/release.json" \
    --secret "model-key=$T/key.hex" 2> "$T/secret.log" &
SECRET=$!
SP=$(wait_port "$T/secret.log" "on port")
"$CCZ" serve --model "lr=$T/lr.pf" --secret-server "127.0.0.1:$SP" --tee sim --sim-dir "$P" \
    --policy "$T/appraise.json" --rest 127.0.0.1:0 2> "$T/serve.log" &
SERVE=$!
RP=$(wait_port "$T/serve.log" "REST on port")
contains "$(cat "$T/serve.log")" "got the model key from the secret server"
contains "$(cat "$T/serve.log")" "1 model loaded"
kill $SERVE; wait $SERVE || fail "ccz serve (hex key) did not stop cleanly: $(cat "$T/serve.log")"
# a secret server whose policy does not accept this ccz releases nothing: serve exits 1
kill $SECRET; wait $SECRET 2> /dev/null
"$CCZ" secret serve --listen 127.0.0.1:0 --tee sim --sim-dir "$P" --policy "$T/other.json" \
    --secret "model-key=$T/key.bin" 2> "$T/secret2.log" &
SECRET=$!
SP=$(wait_port "$T/secret2.log" "on port")
run 1 "$CCZ" serve --model "lr=$T/lr.pf" --secret-server "127.0.0.1:$SP" --tee sim --sim-dir "$P" \
    --policy "$T/appraise.json" --rest 127.0.0.1:0
contains "$err" "the model key from 127.0.0.1:$SP"
kill $SECRET; wait $SECRET 2> /dev/null
# a secret server that cannot be reached (its port now closed) is no refusal: serve exits 2
run 2 "$CCZ" serve --model "lr=$T/lr.pf" --secret-server "127.0.0.1:$SP" --tee sim --sim-dir "$P" \
    --policy "$T/appraise.json" --rest 127.0.0.1:0 --timeout 5000
contains "$err" "the model key from 127.0.0.1:$SP"
finish
