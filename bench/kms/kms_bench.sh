#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The KMS against nginx (issue 15): Encrypt and GenerateDataKey requests per second over HTTPS
# keep-alive with wrk (64 connections, DURATION s, one thread), the KMS (--tee sim, SQLite)
# and nginx (one worker, a static answer of the same size, the same certificate and TLS 1.3)
# each pinned to CPU SERVER_CPU, wrk to CPU CLIENT_CPU, interleaved REPEAT times. Every KMS
# request is a distinct signed request (the replay window refuses repeats). Prints one line a
# run, then min and median: rate, p50, p99, and the server's CPU microseconds per request.
# usage: bench/kms/kms_bench.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
ccz=$build/ccz
REPEAT=${REPEAT:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
for t in wrk nginx jq; do
    command -v $t >/dev/null || { [ -x /usr/sbin/$t ] || { echo "kms_bench: $t is not installed (scripts/setup)"; exit 2; }; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d /tmp/ccz-kms-bench-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
"$ccz" sim init --dir plat >/dev/null
echo '{"allow_sim": true}' > policy.json
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key \
    -out tls.crt -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "kms_bench: port $1 never opened"; exit 1; }

kport=$(free_port)
CCZ_LOG=warn taskset -c "$SERVER_CPU" "$ccz" kms serve --listen 127.0.0.1:$kport --data-dir kms \
    --tee sim --sim-dir plat --policy policy.json --tls-cert tls.crt --tls-key tls.key \
    --rate 0 --replay-max 8388608 2> kms.log &
kpid=$!; pids+=($kpid)
wait_port "$kport"
app=$("$ccz" kms enroll 127.0.0.1:$kport --admin-token "$(cat kms/admin-token)" --cacert tls.crt)
appid=$(jq -r .appid <<< "$app"); apikey=$(jq -r .apikey <<< "$app")
keyid=$("$ccz" kms call 127.0.0.1:$kport CreateKey --appid "$appid" --apikey "$apikey" --cacert tls.crt \
    --payload '{"keyspec":"EH_AES_GCM_256","origin":"EH_INTERNAL_KEY","keyusage":"EH_KEYUSAGE_ENCRYPT_DECRYPT"}' | jq -r .result.keyid)
pt=$(head -c 32 /dev/urandom | base64)
declare -A payload=(
    [Encrypt]="{\"keyid\":\"$keyid\",\"plaintext\":\"$pt\"}"
    [GenerateDataKey]="{\"keyid\":\"$keyid\",\"keylen\":32}"
)
# the size of each action's answer, for nginx's static one
declare -A size
for a in Encrypt GenerateDataKey; do
    size[$a]=$("$ccz" kms call 127.0.0.1:$kport $a --appid "$appid" --apikey "$apikey" --cacert tls.crt \
        --payload "${payload[$a]}" | jq -c . | wc -c)
done

nport=$(free_port)
mkdir -p nginx
{
    echo "worker_processes 1; worker_cpu_affinity auto; daemon off; pid $work/nginx/pid;"
    echo "error_log $work/nginx/error.log; events { worker_connections 1024; }"
    echo "http { access_log off; keepalive_requests 1000000; keepalive_timeout 60s;"
    echo "  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;"
    echo "  fastcgi_temp_path $work/nginx/fcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;"
    echo "  server { listen 127.0.0.1:$nport ssl; ssl_certificate $work/tls.crt;"
    echo "    ssl_certificate_key $work/tls.key; ssl_protocols TLSv1.3;"
    for a in Encrypt GenerateDataKey; do
        body=$(head -c $((size[$a] - 1)) /dev/zero | tr '\0' 'x')
        echo "    location = /$a { default_type application/json; return 200 '$body'; }"
    done
    echo "  } }"
} > nginx/nginx.conf
taskset -c "$SERVER_CPU" "$NGINX" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" 2>/dev/null &
npid=$!; pids+=($npid)
wait_port "$nport"
nworker=$(pgrep -P "$npid" | head -1)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# run NAME PID URL PATH [BODIES] -> "rate p50_ms p99_ms cpu_us"
run() {
    local pid=$2 t0 t1 out
    t0=$(cpu_ticks "$pid")
    out=$(BODIES=${5:-/dev/null} KMS_PATH=$4 taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" \
        --latency ${5:+-s $root/bench/kms/wrk.lua} "$3$4")
    t1=$(cpu_ticks "$pid")
    local n rate p50 p99 bad
    n=$(awk '/requests in/ {print $1}' <<< "$out")
    rate=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
    bad=$(awk '/Non-2xx/ {print $NF}' <<< "$out")
    [ -z "$bad" ] || { echo "kms_bench: $1: $bad answers were not 200" >&2; exit 1; }
    ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v / 1000; else if (v ~ /ms$/) printf "%.3f", v + 0; else printf "%.3f", v * 1000 }'; }
    p50=$(ms "$(awk '$1 == "50%" {print $2}' <<< "$out")")
    p99=$(ms "$(awk '$1 == "99%" {print $2}' <<< "$out")")
    echo "$rate $p50 $p99 $(awk -v d=$((t1 - t0)) -v n="$n" 'BEGIN { printf "%.1f", d * 10000 / n }')"
}

declare -A res
N=$((DURATION * 60000)) # bodies a run may use: more than the KMS can answer in DURATION s
for r in $(seq "$REPEAT"); do
    for a in Encrypt GenerateDataKey; do
        /usr/bin/python3 "$root/bench/kms/bodies.py" "$appid" "$apikey" "$a" "${payload[$a]}" "$N" bodies.txt
        line=$(run "nginx $a" "$nworker" "https://127.0.0.1:$nport" "/$a")
        res[nginx_$a]+="$line;"; echo "run $r nginx $a: $line"
        line=$(run "ccz $a" "$kpid" "https://127.0.0.1:$kport" "/ehsm?Action=$a" bodies.txt)
        res[ccz_$a]+="$line;"; echo "run $r ccz   $a: $line"
    done
done
echo
printf '%-26s %10s %10s %9s %9s %10s\n' figure "min/s" "median/s" "p50 ms" "p99 ms" "CPU us/req"
summary() { # label "rate p50 p99 cpu;..."
    local col m
    col() { tr ';' '\n' <<< "$2" | awk -v k="$1" 'NF {print $k}' | sort -g; }
    m=$(( ($(tr ';' '\n' <<< "$2" | grep -c .) + 1) / 2 ))
    printf '%-26s %10.0f %10.0f %9.3f %9.3f %10.1f\n' "$1" "$(col 1 "$2" | head -1)" \
        "$(col 1 "$2" | sed -n "${m}p")" "$(col 2 "$2" | sed -n "${m}p")" \
        "$(col 3 "$2" | sed -n "${m}p")" "$(col 4 "$2" | sed -n "${m}p")"
}
for a in Encrypt GenerateDataKey; do
    summary "nginx static ($a size)" "${res[nginx_$a]}"
    summary "ccz kms $a" "${res[ccz_$a]}"
done
