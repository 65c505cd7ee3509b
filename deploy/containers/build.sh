#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make images`: builds localhost/ccz-SERVICE:TAG from deploy/containers/SERVICE.Containerfile
# for every service, with the first image builder that works here (docker, podman, buildah),
# on the local base localhost/ccz-debian:12 (deploy/containers/base.sh makes it).
#   deploy/containers/build.sh [TAG] [SERVICE...]      (TAG default: the version of CMakeLists.txt)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tag=${1:-$(sed -n 's/^project(ccz VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")}
[ $# -gt 0 ] && shift
services=${*:-attestation kms psi serving fl postgres}
. "$here/builder.sh"
# buildah: chroot isolation and vfs storage unless told otherwise: they work in a container
# without namespaces or overlay mounts, and smoke.sh finds the images where these put them
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot} STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}
if ! builder=$(find_builder); then
    echo "make images: no image builder works on this machine ($builder)" >&2
    exit 1
fi
have_image() {
    case $builder in
        buildah) buildah inspect --type image "$1" > /dev/null 2>&1 ;;
        *) "$builder" image inspect "$1" > /dev/null 2>&1 ;;
    esac
}
if ! have_image localhost/ccz-debian:12; then
    echo "make images: no base image localhost/ccz-debian:12: make it from Debian's packages" \
         "with deploy/containers/base.sh (nothing is pulled from a registry)" >&2
    exit 1
fi
for s in $services; do
    echo "make images: localhost/ccz-$s:$tag ($builder)"
    case $builder in
        buildah) buildah bud --layers -f "$here/$s.Containerfile" -t "localhost/ccz-$s:$tag" "$src" ;;
        *) "$builder" build -f "$here/$s.Containerfile" -t "localhost/ccz-$s:$tag" "$src" ;;
    esac
done
