#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cmake --install gives a usable SDK: headers, shared and static libraries, ccz.pc, the CMake
# package and the ccz command. A program builds against it with pkg-config and with CMake.
. "$(dirname "$0")/lib.sh"
if [ "${CCZ_SANITIZE:-OFF}" = ON ]; then
    echo "skipped: a sanitizer build's library cannot link into an uninstrumented program"
    exit 77
fi
prefix="$T/prefix"
cmake --install "$CCZ_BUILD_DIR" --prefix "$prefix" > "$T/install.log" || fail "cmake --install failed"
libdir=$(ls -d "$prefix"/lib*/ | head -1)
for f in include/ccz/ccz.h include/ccz/core.h include/ccz/tee.h include/ccz/sim.h include/ccz/policy.h include/ccz/dcap.h include/ccz/snp.h include/ccz/ratls.h include/ccz/svc.h include/ccz/attestation.h include/ccz/kbs.h include/ccz/secret.h bin/ccz; do
    [ -e "$prefix/$f" ] || fail "$f not installed"
done
for f in libccz.a libccz.so libccz.so.0 pkgconfig/ccz.pc cmake/ccz/cczConfig.cmake; do
    [ -e "$libdir/$f" ] || fail "lib/$f not installed"
done
[ "$(readlink "$libdir/libccz.so.0")" = "libccz.so.0.1.0" ] || fail "SOVERSION link is wrong"
[ -s "$prefix/share/man/man1/ccz.1" ] || fail "the man page is not installed"
[ -s "$prefix/share/bash-completion/completions/ccz" ] || fail "the bash completion is not installed"
[ -s "$prefix/share/ccz/proto/greeter.proto" ] || fail "greeter.proto is not installed"
run 0 "$prefix/bin/ccz" version

cat > "$T/app.c" <<'C'
#include <stdio.h>
#include <ccz/ccz.h>
int main(void)
{
    ccz_trust *t;
    if (ccz_trust_new(&t))
        return 1;
    ccz_verify_opts o = CCZ_VERIFY_OPTS_INIT;
    o.trust = t;
    static ccz_result r;
    ccz_status s = ccz_verify(&r, CCZ_SPAN("nonsense", 8), &o);
    printf("%s %s\n", ccz_status_name(s), r.step);
    ccz_trust_free(t);
    return 0;
}
C
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 -Wall -Werror -o "$T/app" "$T/app.c" $(pkg-config --cflags --libs ccz) \
    || fail "cannot build against ccz.pc"
run 0 env LD_LIBRARY_PATH="$libdir" "$T/app"
[ "$out" = "unknown_evidence_format detect" ] || fail "pkg-config app printed '$out'"
cc -std=c11 -o "$T/app-static" "$T/app.c" $(pkg-config --cflags ccz) "$libdir/libccz.a" \
    $(pkg-config --libs libcrypto libssl jansson libcurl libcbor) -lpthread -lm || fail "cannot link libccz.a"
run 0 "$T/app-static"

mkdir -p "$T/cmakeapp"
cp "$T/app.c" "$T/cmakeapp/app.c"
cat > "$T/cmakeapp/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(app C)
find_package(ccz REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE ccz::ccz)
CM
cmake -S "$T/cmakeapp" -B "$T/cmakeapp/build" -DCMAKE_PREFIX_PATH="$prefix" > "$T/cm.log" 2>&1 \
    && cmake --build "$T/cmakeapp/build" >> "$T/cm.log" 2>&1 || { cat "$T/cm.log"; fail "CMake package unusable"; }
run 0 env LD_LIBRARY_PATH="$libdir" "$T/cmakeapp/build/app"
[ "$out" = "unknown_evidence_format detect" ] || fail "CMake app printed '$out'"
finish
