#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The man page and the bash completion are generated from the command's own --help: every
# group's usage is in the man page, and completion offers the groups, their subcommands and their
# options.
. "$(dirname "$0")/lib.sh"
man=$CCZ_BUILD_DIR/ccz.1
comp=$CCZ_BUILD_DIR/ccz.bash
[ -s "$man" ] || fail "no man page at $man"
[ -s "$comp" ] || fail "no completion at $comp"

# the man page renders, and carries each group's --help as the command prints it
if command -v groff > /dev/null; then
    text=$(groff -man -Tutf8 -P-c -P-b -P-u "$man" 2>&1)
    for g in sim attest verify policy collateral ratls rpc paillier he; do
        first=$("$CCZ" "$g" --help | head -1 | sed 's/^ *//')
        contains "$text" "$first"
    done
    contains "$text" "EXIT STATUS"
else
    fail "groff is missing (scripts/setup installs groff-base)"
fi

# docs/cli.md follows the command's tables: a section for every command and subcommand the
# dispatch tables list (as 'ccz --help' and each group's usage show them), and every option a
# group's --help names
doc=$CCZ_SOURCE_DIR/docs/cli.md
for g in $("$CCZ" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}' | sort -u); do
    grep -q "^## \`ccz $g" "$doc" || fail "docs/cli.md has no section for 'ccz $g'"
    for sub in $("$CCZ" "$g" --help | grep -oE "^(usage:)? +ccz $g [a-z]+" | awk '{print $NF}' | sort -u); do
        grep -qE "^## .*ccz $g ([a-z|]*\|)?$sub\b" "$doc" || grep -qE "^## .*ccz $g [a-z]+ $sub\b" "$doc" \
            || fail "docs/cli.md has no section for 'ccz $g $sub'"
    done
    for o in $("$CCZ" "$g" --help | grep -oE -- "--[a-z0-9][a-z0-9-]*" | sort -u); do
        grep -qF -- "$o" "$doc" || fail "docs/cli.md does not mention $o of 'ccz $g'"
    done
done

# completion: COMP_WORDS as bash sets them, COMPREPLY as it would offer
complete_words() { # WORD... (the last one being completed)
    # shellcheck disable=SC1090
    out=$(bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ccz; echo "${COMPREPLY[*]}"' \
              _ "$comp" "$@")
}
complete_words ccz r
[ "$out" = "ratls rpc" ] || fail "ccz r<TAB> offered '$out'"
complete_words ccz rpc ""
[ "$out" = "greeter" ] || fail "ccz rpc <TAB> offered '$out'"
complete_words ccz rpc greeter ""
[ "$out" = "serve call" ] || fail "ccz rpc greeter <TAB> offered '$out'"
complete_words ccz verify x --po
[ "$out" = "--policy" ] || fail "ccz verify x --po<TAB> offered '$out'"
complete_words ccz paillier ""
[ "$out" = "keygen encrypt decrypt add mul bench" ] || fail "ccz paillier <TAB> offered '$out'"
complete_words ccz ratls server --handshake
[ "$out" = "--handshake-timeout" ] || fail "ccz ratls server --handshake<TAB> offered '$out'"
complete_words ccz serve --max-per
[ "$out" = "--max-per-peer" ] || fail "ccz serve --max-per<TAB> offered '$out'"
complete_words ccz serve --handshake
[ "$out" = "--handshake-timeout" ] || fail "ccz serve --handshake<TAB> offered '$out'"
complete_words ccz secret serve --max-per
[ "$out" = "--max-per-peer" ] || fail "ccz secret serve --max-per<TAB> offered '$out'"
# and the man page carries them in 'ccz serve' and 'ccz secret' (their usage lines)
man_section() { awk -v g="$1" '$0 == ".SS ccz " g {on = 1; next} /^\.SS / {on = 0} on' "$man"; }
contains "$(man_section serve)" "[--max-conns N] [--max-per-peer N] [--handshake-timeout MS]"
contains "$(man_section secret)" "[--timeout MS] [--max-conns N] [--max-per-peer N]"
finish
