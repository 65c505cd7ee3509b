#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Smoke test of the images `make images` built: starts each one on the simulated TEE and calls
# its health endpoint: GET /healthz over HTTPS for the attestation service, the KMS and the
# model server, a TCP connection for the gRPC-only PSI server and FL aggregator, a connection to
# PostgreSQL's port.
#   deploy/containers/smoke.sh [TAG]
# With docker or podman (a runtime that can start containers) each image runs as Kubernetes
# would run it: read-only root filesystem, user 10001, every capability dropped, no new
# privileges, tmpfs for its writable directories. Without one, buildah starts the image's own
# program in a chroot of the image (`buildah run --isolation chroot`, host network, user 10001):
# no namespaces and no read-only root, but the image's files, libraries and user are what run.
# Exit: 0 every image answered, 1 one did not, 77 this machine can start no image or the images
# are not built (it says exactly why).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tag=${1:-$(sed -n 's/^project(ccz VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")}
services=(attestation kms psi serving fl postgres)

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
    if command -v buildah > /dev/null && out=$(buildah info 2>&1 > /dev/null); then
        runner=buildah
        # as build.sh builds with buildah: chroot isolation, vfs storage (they work anywhere)
        export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot} STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}
        echo "note: no container runtime ($why): buildah runs each image's program in a chroot" \
             "(no namespaces, no read-only root)"
    else
        why="$why; buildah: $( (command -v buildah > /dev/null && printf '%s' "$out" | tail -1) || echo not installed)"
        echo "skipped: this machine cannot run containers ($why)"
        exit 77
    fi
fi
have_image() {
    case $runner in
        buildah) buildah inspect --type image "$1" > /dev/null 2>&1 ;;
        *) "$runner" image inspect "$1" > /dev/null 2>&1 ;;
    esac
}
missing=
for s in "${services[@]}"; do
    have_image "localhost/ccz-$s:$tag" || missing="$missing ccz-$s:$tag"
done
if [ -n "$missing" ]; then
    echo "skipped: images not built:$missing (make images)"
    exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ccz-smoke-XXXXXX")
chmod 0755 "$work"
started=()     # docker/podman: container names; buildah: "container pid"
cleanup() {
    for c in "${started[@]}"; do
        if [ "$runner" = buildah ]; then
            set -- $c
            kill -TERM -- "-$2" 2> /dev/null
            sleep 0.5
            kill -KILL -- "-$2" 2> /dev/null
            buildah rm "$1" > /dev/null 2>&1
        else
            "$runner" rm -f "$c" > /dev/null 2>&1
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT
failed=0

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# the sim platform and the inputs, made by the image's own ccz where it can
ccz_host=$(command -v ccz || echo "$src/build/ccz")
"$ccz_host" sim init --dir "$work/plat" > /dev/null || { echo "FAIL cannot make a sim platform"; exit 1; }
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

# start NAME IMAGE PORT [ENV=VALUE...] -- ARGS...: runs the image (its entrypoint with ARGS;
# LISTEN in ARGS becomes the address to listen on) and sets hp to the host port reaching PORT
start() {
    local name=$1 image=$2 port=$3
    shift 3
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    hp=$(free_port)
    local data="$work/data-$name"
    mkdir -p "$data" && chown 10001:10001 "$data" 2> /dev/null; chmod 0777 "$data"
    local args=() a
    if [ "$runner" = buildah ]; then
        for a in "$@"; do args+=("${a//LISTEN/127.0.0.1:$hp}"); done
        local c
        c=$(buildah from --name "ccz-smoke-$name-$$" "localhost/$image:$tag") || {
            echo "FAIL $image: buildah from"; failed=1; return 1; }
        for e in "${envs[@]}"; do buildah config --env "$e" "$c"; done
        local entry
        entry=$(buildah inspect --type image "localhost/$image:$tag" | /usr/bin/python3 -c \
            'import json, sys; print(" ".join(json.load(sys.stdin)["OCIv1"]["config"]["Entrypoint"]))')
        setsid buildah run --user 10001:10001 -v "$work/plat:/run/ccz/sim:ro" \
            -v "$work:/etc/ccz:ro" -v "$data:/var/lib/ccz" -v "$data:/var/lib/postgresql/data" \
            "$c" -- $entry "${args[@]}" > "$work/$name.log" 2>&1 &
        started+=("$c $!")
        disown $!
    else
        for a in "$@"; do args+=("${a//LISTEN/0.0.0.0:$port}"); done
        local envflags=()
        for e in "${envs[@]}"; do envflags+=(-e "$e"); done
        "$runner" run -d --name "ccz-smoke-$name-$$" --read-only --user 10001:10001 \
            --cap-drop ALL --security-opt no-new-privileges --tmpfs /tmp:size=64m \
            --tmpfs /run/postgresql:uid=10001,gid=10001 \
            --tmpfs /var/lib/ccz:size=64m,uid=10001,gid=10001,mode=0700 \
            --tmpfs /var/lib/postgresql/data:uid=10001,gid=10001,mode=0700 \
            -v "$work/plat:/run/ccz/sim:ro" -v "$work:/etc/ccz:ro" "${envflags[@]}" \
            -p "127.0.0.1:$hp:$port" "localhost/$image:$tag" "${args[@]}" > /dev/null || {
            echo "FAIL $image: does not start"; failed=1; return 1; }
        started+=("ccz-smoke-$name-$$")
    fi
}
logs() {
    if [ "$runner" = buildah ]; then tail -5 "$work/$1.log"; else "$runner" logs "ccz-smoke-$1-$$" 2>&1 | tail -5; fi | sed 's/^/     /'
}
wait_for() {   # wait_for NAME WHAT COMMAND...: up to 30 s
    local name=$1 what=$2
    shift 2
    for _ in $(seq 60); do "$@" > /dev/null 2>&1 && { echo "ok   $what"; return 0; }; sleep 0.5; done
    echo "FAIL $what"; logs "$name"; failed=1
}
tcp() { bash -c "exec 3<>/dev/tcp/127.0.0.1/$1"; }

sim=(--tee sim --sim-dir /run/ccz/sim)
start attestation ccz-attestation 8443 -- attestation serve --listen LISTEN \
    --data-dir /var/lib/ccz/att "${sim[@]}" &&
    wait_for attestation "ccz-attestation: GET /healthz" curl -fsk "https://127.0.0.1:$hp/healthz"
start kms ccz-kms 8443 -- kms serve --listen LISTEN --data-dir /var/lib/ccz/kms "${sim[@]}" &&
    wait_for kms "ccz-kms: GET /healthz" curl -fsk "https://127.0.0.1:$hp/healthz"
start psi ccz-psi 50051 -- psi serve --listen LISTEN --parties 2 "${sim[@]}" \
    --policy /etc/ccz/policy.json &&
    wait_for psi "ccz-psi: its gRPC port accepts" tcp "$hp"
start fl ccz-fl 50052 -- fl homo-lr server --listen LISTEN --workers 1 --iterations 1 \
    --test /etc/ccz/test.csv "${sim[@]}" --policy /etc/ccz/policy.json &&
    wait_for fl "ccz-fl: its gRPC port accepts" tcp "$hp"
if [ "$have_model" = 1 ]; then
    start serving ccz-serving 8501 -- serve --model one=/etc/ccz/one.onnx --rest LISTEN \
        "${sim[@]}" &&
        wait_for serving "ccz-serving: GET /healthz" curl -fsk "https://127.0.0.1:$hp/healthz"
else
    echo "FAIL ccz-serving: no test model (python3-onnx is missing: scripts/setup installs it)"
    failed=1
fi
if [ "$runner" = buildah ]; then   # the host's network: PostgreSQL on a free port
    pgport=$(free_port)
    start postgres ccz-postgres 5432 POSTGRES_PASSWORD=smoke "PGPORT=$pgport" -- &&
        wait_for postgres "ccz-postgres: its port accepts" tcp "$pgport"
else
    start postgres ccz-postgres 5432 POSTGRES_PASSWORD=smoke -- &&
        wait_for postgres "ccz-postgres: its port accepts" tcp "$hp"
fi
exit $failed
