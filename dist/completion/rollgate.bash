# bash completion for rollgate (installed as
# share/bash-completion/completions/rollgate by `make install`).
# One source: the words come from the installed CLI's own help at
# completion time (`rollgate help`, `rollgate GROUP VERB --help`), so they
# never drift from the program.

# The command column of `rollgate help`: "channel create", "endpoints", ...
_rollgate_commands()
{
    rollgate help 2>/dev/null |
        sed -n '/^commands:/,/^$/s/^  \([a-z-]*\( [a-z-]*\)\?\)  .*/\1/p'
}

_rollgate()
{
    local cur=${COMP_WORDS[COMP_CWORD]} words
    COMPREPLY=()
    if [[ $COMP_CWORD -eq 1 ]]; then
        words=$(_rollgate_commands | cut -d' ' -f1 | sort -u)
    elif [[ $COMP_CWORD -eq 2 && $cur != -* ]]; then
        words=$(_rollgate_commands |
            awk -v g="${COMP_WORDS[1]}" '$1 == g && NF == 2 {print $2}')
    fi
    if [[ $cur == -* ]]; then
        local cmd=("${COMP_WORDS[1]}")
        [[ $COMP_CWORD -gt 2 && ${COMP_WORDS[2]} != -* ]] &&
            cmd+=("${COMP_WORDS[2]}")
        words=$(rollgate "${cmd[@]}" --help 2>/dev/null |
            grep -o -- '--[a-z][a-z-]*' | sort -u)
    fi
    [[ -n $words ]] && mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
    return 0
}
complete -F _rollgate rollgate
