#!/bin/sh
# Installs the Debian packages Rollgate needs to build, test and benchmark.
# Idempotent: asks dpkg what is present and runs apt-get only for what is
# missing (with one `apt-get update` first). Safe to run on every build.
set -eu

PACKAGES="
build-essential pkg-config cmake ninja-build clang libclang-rt-14-dev
libmicrohttpd-dev libjansson-dev libsodium-dev libsqlite3-dev sqlite3
libpq-dev postgresql libcurl4-openssl-dev curl libcmocka-dev libgnutls28-dev
libseccomp-dev openssl nettle-dev
wrk nginx-light procps python3
"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "deps: all packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
echo "deps: done"
