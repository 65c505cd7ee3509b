#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The model server (issue 17): REST :predict requests per second with wrk (CONNS connections,
# DURATION s, one thread, keep-alive, plain HTTP on loopback) for the LeNet-style CNN at batch 1
# (one 28x28 image a request, the model a protected file) against nginx answering a static body
# of the same size (one worker), each server pinned to CPU SERVER_CPU and wrk to CLIENT_CPU,
# interleaved REPEAT times: rate, p50, p99 and the server's CPU microseconds per request, min and
# median. Then the first request's latency after start (bench/serving/first_request.py).
# usage: bench/serving/serving_bench.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
ccz=$build/ccz
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for t in wrk "$NGINX" jq; do
    command -v "$t" > /dev/null || { echo "serving: $t is not installed (scripts/setup)"; exit 2; }
done
if ! /usr/bin/python3 -c 'import torch, onnx' 2> /dev/null; then
    echo "serving: skipped: python3-torch and python3-onnx make the model"
    exit 0
fi
work=$(mktemp -d /tmp/ccz-serving-bench-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; sleep 0.3; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
/usr/bin/python3 "$root/bench/ml/torch_lenet.py" "$work/lenet.onnx" 1 0.01 > /dev/null 2>&1
"$ccz" pf gen-key -w key.bin > /dev/null
"$ccz" pf encrypt -w key.bin -i lenet.onnx -o "$work/lenet.pf" > /dev/null
/usr/bin/python3 -c 'import json, random; random.seed(1); print(json.dumps({"instances": [[[[round(random.random(), 4) for _ in range(28)] for _ in range(28)]]]}))' > body.json
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<> /dev/tcp/127.0.0.1/$1) 2> /dev/null && return 0; sleep 0.1; done; echo "serving: port $1 never opened"; exit 1; }

sport=$(free_port)
CCZ_LOG=warn taskset -c "$SERVER_CPU" "$ccz" serve --model "cnn=$work/lenet.pf" --key key.bin \
    --rest 127.0.0.1:$sport --threads 1 2> serve.log &
spid=$!; pids+=($spid)
wait_port "$sport"
size=$(curl -s --data-binary @body.json http://127.0.0.1:$sport/v1/models/cnn:predict | wc -c)

nport=$(free_port)
mkdir -p nginx
{
    echo "worker_processes 1; daemon off; pid $work/nginx/pid;"
    echo "error_log $work/nginx/error.log; events { worker_connections 1024; }"
    echo "http { access_log off; keepalive_requests 1000000; keepalive_timeout 60s;"
    echo "  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;"
    echo "  fastcgi_temp_path $work/nginx/fcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;"
    echo "  server { listen 127.0.0.1:$nport; client_body_buffer_size 64k;"
    echo "    location = /v1/models/cnn:predict { default_type application/json; return 200 '$(head -c $((size - 1)) /dev/zero | tr '\0' 'x')'; }"
    echo "  } }"
} > nginx/nginx.conf
taskset -c "$SERVER_CPU" "$NGINX" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" 2> /dev/null &
npid=$!; pids+=($npid)
wait_port "$nport"
nworker=$(pgrep -P "$npid" | head -1)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # NAME PID PORT -> "rate p50_ms p99_ms cpu_us"
    local pid=$2 t0 t1 out n rate p50 p99 bad
    t0=$(cpu_ticks "$pid")
    out=$(BODY=body.json PREDICT_PATH=/v1/models/cnn:predict taskset -c "$CLIENT_CPU" wrk -t1 \
        -c"$CONNS" -d"${DURATION}s" --latency -s "$root/bench/serving/predict.lua" "http://127.0.0.1:$3")
    t1=$(cpu_ticks "$pid")
    n=$(awk '/requests in/ {print $1}' <<< "$out")
    rate=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
    bad=$(awk '/Non-2xx/ {print $NF}' <<< "$out")
    [ -z "$bad" ] || { echo "serving: $1: $bad answers were not 200" >&2; exit 1; }
    ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v / 1000; else if (v ~ /ms$/) printf "%.3f", v + 0; else printf "%.3f", v * 1000 }'; }
    p50=$(ms "$(awk '$1 == "50%" {print $2}' <<< "$out")")
    p99=$(ms "$(awk '$1 == "99%" {print $2}' <<< "$out")")
    echo "$rate $p50 $p99 $(awk -v d=$((t1 - t0)) -v n="$n" 'BEGIN { printf "%.1f", d * 10000 / n }')"
}
nres= sres=
for r in $(seq "$REPEAT"); do
    line=$(run nginx "$nworker" "$nport"); nres+="$line;"; echo "run $r nginx static: $line"
    line=$(run ccz "$spid" "$sport"); sres+="$line;"; echo "run $r ccz serve:    $line"
done
batches=$(curl -s http://127.0.0.1:$sport/metrics | sed -n 's/^ccz_serving_batches_total{model="cnn",version="1"} //p')
rows=$(curl -s http://127.0.0.1:$sport/metrics | sed -n 's/^ccz_serving_batch_rows_total{model="cnn",version="1"} //p')
echo
printf '%-34s %10s %10s %9s %9s %10s\n' figure "min/s" "median/s" "p50 ms" "p99 ms" "CPU us/req"
summary() {
    local col m
    col() { tr ';' '\n' <<< "$2" | awk -v k="$1" 'NF {print $k}' | sort -g; }
    m=$(( ($(tr ';' '\n' <<< "$2" | grep -c .) + 1) / 2 ))
    printf '%-34s %10.0f %10.0f %9.3f %9.3f %10.1f\n' "$1" "$(col 1 "$2" | head -1)" \
        "$(col 1 "$2" | sed -n "${m}p")" "$(col 2 "$2" | sed -n "${m}p")" \
        "$(col 3 "$2" | sed -n "${m}p")" "$(col 4 "$2" | sed -n "${m}p")"
}
summary "nginx static ($size-byte answer)" "$nres"
summary "ccz serve CNN :predict (1 image)" "$sres"
echo "ccz serve ran $rows rows in $batches batches (dynamic batching, no timeout): $(awk -v r="$rows" -v b="$batches" 'BEGIN { printf "%.1f", r / b }') rows a batch"
kill "$spid"; wait "$spid" 2> /dev/null || true
/usr/bin/python3 "$root/bench/serving/first_request.py" "$ccz" "$work/lenet.pf" key.bin body.json 20
