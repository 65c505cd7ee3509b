#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Smoke test of the images `make images` built: starts each one as Kubernetes would (read-only
# root filesystem, user 10001, every capability dropped, no new privileges, a tmpfs for its
# writable directories) on the simulated TEE, and calls its health endpoint: GET /healthz over
# HTTPS for the attestation service, the KMS and the model server, a TCP connection for the
# gRPC-only PSI server and FL aggregator, pg_isready for PostgreSQL.
#   deploy/containers/smoke.sh [TAG]
# Exit: 0 every image answered, 1 one did not, 77 this machine cannot run containers or the
# images are not built (it says exactly why).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tag=${1:-$(sed -n 's/^project(ccz VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")}

runner=
why=
for r in docker podman; do
    command -v "$r" > /dev/null || { why="$why${why:+; }$r: not installed"; continue; }
    if ! out=$("$r" info 2>&1 > /dev/null); then
        why="$why${why:+; }$r: $(printf '%s' "$out" | grep -v '^$' | tail -1)"
        continue
    fi
    runner=$r
    break
done
if [ -z "$runner" ]; then
    echo "skipped: this machine cannot run containers ($why${why:+; }buildah builds images but runs none)"
    exit 77
fi
missing=
for s in attestation kms psi serving fl postgres; do
    "$runner" image inspect "localhost/ccz-$s:$tag" > /dev/null 2>&1 || missing="$missing ccz-$s:$tag"
done
if [ -n "$missing" ]; then
    echo "skipped: images not built:$missing (make images)"
    exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ccz-smoke-XXXXXX")
chmod 0755 "$work"
started=()
cleanup() {
    for c in "${started[@]}"; do "$runner" rm -f "$c" > /dev/null 2>&1; done
    rm -rf "$work"
}
trap cleanup EXIT
failed=0
hardened=(--read-only --user 10001:10001 --cap-drop ALL --security-opt no-new-privileges
          --tmpfs /tmp:size=64m --tmpfs /var/lib/ccz:size=64m,uid=10001,gid=10001,mode=0700)

# the sim platform, made by the image's own ccz
"$runner" run --rm --user "$(id -u):$(id -g)" -v "$work:/w" --entrypoint /usr/bin/ccz \
    "localhost/ccz-attestation:$tag" sim init --dir /w/plat > /dev/null || {
    echo "FAIL the image cannot make a sim platform"; exit 1; }
chmod -R a+rX "$work/plat"
echo '{"allow_sim": true}' > "$work/policy.json"
printf 'id,y,x0,x1\n0,1,0.5,0.25\n1,0,-0.5,0.75\n' > "$work/test.csv"
if /usr/bin/python3 - "$work/one.onnx" <<'EOF'
import sys
from onnx import TensorProto, helper, save
a = helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 2])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])
g = helper.make_graph([helper.make_node("Relu", ["a"], ["y"])], "one", [a], [y])
save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), sys.argv[1])
EOF
then have_model=1; chmod a+r "$work/one.onnx"; else have_model=0; fi
common=(-v "$work/plat:/run/ccz/sim:ro" -v "$work:/etc/ccz:ro")

port_of() { "$runner" port "$1" "$2" | head -1 | sed 's/.*://'; }
start() {   # start NAME PORT IMAGE ARGS...
    local name=ccz-smoke-$1-$$ port=$2 image=$3
    shift 3
    if ! "$runner" run -d --name "$name" "${hardened[@]}" "${common[@]}" \
            -p "127.0.0.1::$port" "localhost/$image:$tag" "$@" > /dev/null; then
        echo "FAIL $image: does not start"; failed=1; return 1
    fi
    started+=("$name")
    echo "$name"
}
wait_for() {   # wait_for WHAT COMMAND...: up to 30 s
    local what=$1; shift
    for _ in $(seq 60); do "$@" > /dev/null 2>&1 && { echo "ok   $what"; return 0; }; sleep 0.5; done
    echo "FAIL $what"; failed=1
}
logs() { "$runner" logs "$1" 2>&1 | tail -5 | sed 's/^/     /'; }

c=$(start attestation 8443 ccz-attestation attestation serve --listen 0.0.0.0:8443 \
    --data-dir /var/lib/ccz/att --tee sim --sim-dir /run/ccz/sim) && {
    p=$(port_of "$c" 8443)
    wait_for "ccz-attestation: GET /healthz" curl -fsk "https://127.0.0.1:$p/healthz" || logs "$c"; }
c=$(start kms 8443 ccz-kms kms serve --listen 0.0.0.0:8443 --data-dir /var/lib/ccz/kms \
    --tee sim --sim-dir /run/ccz/sim) && {
    p=$(port_of "$c" 8443)
    wait_for "ccz-kms: GET /healthz" curl -fsk "https://127.0.0.1:$p/healthz" || logs "$c"; }
c=$(start psi 50051 ccz-psi psi serve --listen 0.0.0.0:50051 --parties 2 --tee sim \
    --sim-dir /run/ccz/sim --policy /etc/ccz/policy.json) && {
    p=$(port_of "$c" 50051)
    wait_for "ccz-psi: port 50051 accepts" bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" || logs "$c"; }
c=$(start fl 50052 ccz-fl fl homo-lr server --listen 0.0.0.0:50052 --workers 1 --iterations 1 \
    --test /etc/ccz/test.csv --tee sim --sim-dir /run/ccz/sim --policy /etc/ccz/policy.json) && {
    p=$(port_of "$c" 50052)
    wait_for "ccz-fl: port 50052 accepts" bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" || logs "$c"; }
if [ "$have_model" = 1 ]; then
    c=$(start serving 8501 ccz-serving serve --model one=/etc/ccz/one.onnx --rest 0.0.0.0:8501 \
        --tee sim --sim-dir /run/ccz/sim) && {
        p=$(port_of "$c" 8501)
        wait_for "ccz-serving: GET /healthz" curl -fsk "https://127.0.0.1:$p/healthz" || logs "$c"; }
else
    echo "FAIL ccz-serving: no test model (python3-onnx is missing: scripts/setup installs it)"
    failed=1
fi
name=ccz-smoke-postgres-$$
if "$runner" run -d --name "$name" --read-only --user 10001:10001 --cap-drop ALL \
        --security-opt no-new-privileges --tmpfs /tmp --tmpfs /run/postgresql:uid=10001,gid=10001 \
        --tmpfs /var/lib/postgresql/data:uid=10001,gid=10001,mode=0700 \
        -e POSTGRES_PASSWORD=smoke "localhost/ccz-postgres:$tag" > /dev/null; then
    started+=("$name")
    wait_for "ccz-postgres: pg_isready" "$runner" exec "$name" pg_isready -h 127.0.0.1 -U ccz -d kms \
        || logs "$name"
else
    echo "FAIL ccz-postgres: does not start"; failed=1
fi
exit $failed
