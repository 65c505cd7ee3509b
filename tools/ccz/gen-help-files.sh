#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Generates the man page (ccz.1) and the bash completion (ccz.bash) from the built command's own
# --help texts, so the three never disagree: the commands come from `ccz --help`, each group's
# subcommands and options from `ccz GROUP --help`.
#   gen-help-files.sh CCZ OUTDIR
set -euo pipefail
ccz=$1
out=$2
mkdir -p "$out"
main_help=$("$ccz" --help)
version=$("$ccz" version | awk '{print $2}')
# the groups: the first word of each line of the "commands:" list
groups=$(awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}' \
             <<< "$main_help" | awk '!seen[$0]++')

roff_escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

{
    echo ".TH CCZ 1 \"\" \"ccz $version\" \"User Commands\""
    echo ".SH NAME"
    echo "ccz \\- confidential computing: attestation, RA-TLS, RA-gRPC, homomorphic encryption"
    echo ".SH SYNOPSIS"
    echo ".B ccz"
    echo "\\fICOMMAND\\fR [\\fIOPTIONS\\fR]"
    echo ".SH DESCRIPTION"
    echo ".nf"
    roff_escape <<< "$main_help"
    echo ".fi"
    echo ".SH COMMANDS"
    for g in $groups; do
        [ "$g" = version ] && continue
        echo ".SS ccz $g"
        echo ".nf"
        "$ccz" "$g" --help | roff_escape
        echo ".fi"
    done
    echo ".SH EXIT STATUS"
    echo "0: success (for verify: verified and accepted); 1: verification failed or the policy"
    echo "rejected; 2: usage error or unreadable input."
    echo ".SH ENVIRONMENT"
    echo "CCZ_SIM_DIR (the default sim platform), CCZ_LOG (debug, info, warn, error, off),"
    echo "https_proxy and no_proxy (collateral fetches)."
} > "$out/ccz.1"

# completion: per group, the words that may follow it and its options
{
    echo "# bash completion for ccz, generated from its --help (tools/ccz/gen-help-files.sh)"
    echo "_ccz() {"
    echo '    local cur=${COMP_WORDS[COMP_CWORD]} g=${COMP_WORDS[1]:-} words= opts='
    echo '    if [ "$COMP_CWORD" -eq 1 ]; then'
    echo "        COMPREPLY=(\$(compgen -W \"$(echo $groups) --help --version\" -- \"\$cur\"))"
    echo '        return'
    echo '    fi'
    echo '    case $g in'
    for g in $groups; do
        help=$("$ccz" "$g" --help 2>/dev/null || true)
        # usage lines only ("usage: ccz ..." and the "       ccz ..." lines under it), not prose
        usage=$({ grep -E '^(usage:)? *ccz ' <<< "$help" || true; })
        # "ccz G SUB [SUB2|SUB3]": the subcommands, and for rpc the methods after the service
        subs=$({ grep -oE "ccz $g [a-z][a-z|-]*( [a-z][a-z|]*)?" <<< "$usage" || true; } | \
               awk '{print $3}' | tr '|' '\n' | awk 'NF && !seen[$0]++' | tr '\n' ' ')
        third=$({ grep -oE "ccz $g [a-z][a-z-]* [a-z][a-z|]*" <<< "$usage" || true; } | \
                awk '{print $4}' | tr '|' '\n' | awk 'NF && !seen[$0]++' | tr '\n' ' ')
        opts=$({ grep -oE -- "--[a-z0-9][a-z0-9-]*" <<< "$help" || true; } | \
               awk '!seen[$0]++' | tr '\n' ' ')
        echo "    $g)"
        echo "        opts=\"${opts% }\""
        echo "        if [ \"\$COMP_CWORD\" -eq 2 ]; then words=\"${subs% }\";"
        echo "        elif [ \"\$COMP_CWORD\" -eq 3 ]; then words=\"${third% }\"; fi ;;"
    done
    echo '    esac'
    echo '    if [[ $cur == -* ]]; then'
    echo '        COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))'
    echo '    elif [ -n "$words" ]; then'
    echo '        COMPREPLY=($(compgen -W "$words" -- "$cur"))'
    echo '    else'
    echo '        COMPREPLY=($(compgen -f -- "$cur"))'
    echo '    fi'
    echo "}"
    echo "complete -o filenames -F _ccz ccz"
} > "$out/ccz.bash"
