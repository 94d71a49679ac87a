#!/bin/sh
# check_banned: banned libc calls do not compile. Every compile command of
# the build (BUILD/compile_commands.json) must force-include
# src/common/banned.h, and under it a call to each of the names below
# must fail with banned.h's error while a program using the replacements
# compiles.
# usage: tests/banned.sh CC ROOT BUILD
set -eu
cc=$1
root=$2
build=$3
hdr="$root/src/common/banned.h"
names="strcpy strcat strncpy strncat sprintf vsprintf gets strtok atoi atol
atoll atof gmtime localtime ctime asctime tmpnam mktemp"
work=$(mktemp -d /tmp/rollgate-banned.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "check_banned: $*"; exit 1; }

cmds=$(grep -c '"command":' "$build/compile_commands.json")
with=$(grep '"command":' "$build/compile_commands.json" |
       grep -c -- "-include $hdr")
[ "$cmds" -gt 0 ] && [ "$cmds" = "$with" ] ||
    fail "$((cmds - with)) of $cmds compile commands lack -include $hdr"

compile() { "$cc" -std=c17 -D_GNU_SOURCE -include "$hdr" -fsyntax-only "$1" 2>"$work/err"; }
cat >"$work/ok.c" <<'C'
int main(void)
{
    char b[8];
    snprintf(b, sizeof b, "%s", "x");
    return (int)strtol(b, NULL, 10);
}
C
compile "$work/ok.c" || { cat "$work/err"; fail "a clean program does not compile"; }
n=0
for f in $names; do
    printf 'void f(void *p);\nvoid f(void *p) { (void)%s(p, p, p); }\n' "$f" >"$work/$f.c"
    ! compile "$work/$f.c" || fail "a call to $f compiles"
    grep -q "sorry_${f}_is_banned" "$work/err" || { cat "$work/err"; fail "$f fails for another reason"; }
    n=$((n + 1))
done
echo "check_banned: $cmds compile commands include banned.h; $n calls refused"
