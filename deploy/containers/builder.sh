# SPDX-License-Identifier: Apache-2.0
# Sourced by base.sh and build.sh: find_builder prints the first image builder that works here
# (docker with a reachable daemon, podman, buildah) and succeeds, or prints why each one does
# not and fails.
find_builder() {
    local why= out b
    if command -v docker > /dev/null; then
        if out=$(docker info 2>&1 > /dev/null); then echo docker; return 0; fi
        why="docker: $(printf '%s' "$out" | grep -v '^$' | tail -1)"
    else
        why="docker: not installed"
    fi
    for b in podman buildah; do
        if command -v "$b" > /dev/null; then
            if out=$("$b" info 2>&1 > /dev/null); then echo "$b"; return 0; fi
            why="$why; $b: $(printf '%s' "$out" | tail -1)"
        else
            why="$why; $b: not installed"
        fi
    done
    echo "$why"
    return 1
}
