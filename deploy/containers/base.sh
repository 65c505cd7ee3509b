#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Makes the images' base, localhost/ccz-debian:12, from Debian's own packages: a minimal
# Debian 12 tree by mmdebstrap (or debootstrap) from the machine's apt mirror, imported into
# the image builder. Nothing is pulled from an image registry. Needs root (or mmdebstrap's
# unshare mode) and the builder (docker, podman or buildah).
#   deploy/containers/base.sh [MIRROR]       (default: the first deb line of apt's sources)
set -eu
tag=localhost/ccz-debian:12
mirror=${1:-$(grep -hv '^[[:space:]]*#' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | grep -o 'https\?://[^ ]*/debian\b' | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
. "$(dirname "$0")/builder.sh"
# buildah: chroot isolation and vfs storage unless told otherwise (see build.sh)
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot} STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}
builder=$(find_builder) || { echo "base.sh: no image builder works on this machine ($builder)" >&2; exit 1; }
tree=$(mktemp -d "${TMPDIR:-/tmp}/ccz-debian-XXXXXX")
trap 'rm -rf "$tree"' EXIT
if command -v mmdebstrap > /dev/null; then
    mmdebstrap --variant=minbase --format=tar bookworm "$tree/rootfs.tar" "$mirror"
elif command -v debootstrap > /dev/null; then
    debootstrap --variant=minbase bookworm "$tree/rootfs" "$mirror"
    tar -C "$tree/rootfs" -cf "$tree/rootfs.tar" .
else
    echo "base.sh: neither mmdebstrap nor debootstrap is installed (apt-get install mmdebstrap)" >&2
    exit 1
fi
case $builder in
    docker|podman) "$builder" import "$tree/rootfs.tar" "$tag" ;;
    buildah) c=$(buildah from scratch) && buildah add "$c" "$tree/rootfs.tar" / \
                 && buildah commit "$c" "$tag" && buildah rm "$c" ;;
esac
echo "base.sh: $tag from $mirror"
