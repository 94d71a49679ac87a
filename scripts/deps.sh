#!/bin/sh
# Installs the Debian packages Rollgate needs, by purpose:
#   scripts/deps.sh          build, `make test` and `make demo` (the default)
#   scripts/deps.sh bench    also what bench/ needs (wrk, nginx); run by the
#                            benchmarks themselves
#   scripts/deps.sh cache    also nginx, the HTTP cache the cache test puts in
#                            front of rollgated; run by that test itself
#   scripts/deps.sh clang    also clang (`make builds`, `make fuzz`) and
#                            clang-format 14 (`make format-check`)
#   scripts/deps.sh deb      also the Debian packaging tools (debhelper,
#                            lintian, fakeroot): `make deb` and its test
#   scripts/deps.sh flags    also Node.js and, from npm, the Unleash client
#                            specification and Node SDK at pinned versions,
#                            into $RG_NPM_DIR (default ~/.cache/rollgate/npm),
#                            never into the repository; run by the flags
#                            tests and bench/flags themselves
#   scripts/deps.sh web      also Node.js, Debian's chromium-headless-shell
#                            and, from npm, the dashboard's packages pinned
#                            by web/package-lock.json (npm ci into
#                            $RG_NPM_DIR/web); run by `make` (the build
#                            copies the dashboard's packages from there)
#                            and by the browser tests
# PostgreSQL's server is installed for the store's tests on it (label pg,
# tests/with_postgres.sh starts a throwaway one): no cluster is created
# (postgresql-common's create_main_cluster = false) and none is started.
# Idempotent: asks dpkg what is present and runs apt-get only for what is
# missing (with one `apt-get update` first). Installing never starts a
# service: while apt-get runs, /usr/sbin/policy-rc.d denies every start
# (it is removed afterwards unless it was there before).
set -eu

PACKAGES="
build-essential pkg-config cmake ninja-build
libmicrohttpd-dev libjansson-dev libsodium-dev libsqlite3-dev libpq-dev nettle-dev libpcre2-dev
libcurl4-openssl-dev curl libzstd-dev zstd libcmocka-dev libseccomp-dev libsystemd-dev openssl procps
python3 postgresql
"
case "${1:-}" in
    "") ;;
    bench) PACKAGES="$PACKAGES wrk nginx-light" ;;
    cache) PACKAGES="$PACKAGES nginx" ;;
    deb) PACKAGES="$PACKAGES debhelper dpkg-dev fakeroot lintian" ;;
    clang) PACKAGES="$PACKAGES clang libclang-rt-14-dev clang-format-14" ;;
    flags) # Debian's, unless a Node.js (with its npm) is installed otherwise
        command -v node >/dev/null || PACKAGES="$PACKAGES nodejs"
        command -v npm >/dev/null || PACKAGES="$PACKAGES npm" ;;
    web) PACKAGES="$PACKAGES chromium-headless-shell"
        command -v node >/dev/null || PACKAGES="$PACKAGES nodejs"
        command -v npm >/dev/null || PACKAGES="$PACKAGES npm" ;;
    *) echo "usage: scripts/deps.sh [bench|cache|clang|deb|flags|web]" >&2; exit 2 ;;
esac

# Tests run in parallel may call `deps.sh flags` at once: one at a time
# (apt and npm must not run twice together), the others then find all
# present.
case "${1:-}" in flags | web)
    if command -v flock >/dev/null; then
        exec 9>"${TMPDIR:-/tmp}/rollgate-deps-$1.lock"
        flock 9
    fi ;;
esac

# The npm packages of `deps.sh flags`, pinned: the specification's assertion
# counts and the SDK's behaviour are those of these versions.
NPM_DIR=${RG_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rollgate/npm}
NPM_PACKAGES="@unleash/client-specification@6.1.0 unleash-client@6.12.1"
npm_deps() {
    [ "${1:-}" = web ] && { web_deps; return; }
    [ "${1:-}" = flags ] || return 0
    have=1
    for spec in $NPM_PACKAGES; do
        name=${spec%@*}; version=${spec##*@}
        grep -q "\"version\": *\"$version\"" \
            "$NPM_DIR/node_modules/$name/package.json" 2>/dev/null || have=""
    done
    [ -n "$have" ] && return 0
    echo "deps: npm install $NPM_PACKAGES into $NPM_DIR"
    mkdir -p "$NPM_DIR"
    # shellcheck disable=SC2086
    (cd "$NPM_DIR" && npm install --no-audit --no-fund --no-save \
        --loglevel=error $NPM_PACKAGES) >&2 || {
        echo "deps: npm install failed (no network or registry?)" >&2
        return 1
    }
}

# The dashboard's packages: exactly web/package-lock.json's, installed by
# `npm ci` into $NPM_DIR/web beside a copy of the lock (skipped while that
# copy is the same as the repository's).
WEB_SRC=$(cd "$(dirname "$0")/../web" && pwd)
web_deps() {
    dir="$NPM_DIR/web"
    if cmp -s "$WEB_SRC/package-lock.json" "$dir/package-lock.json" &&
        [ -d "$dir/node_modules" ]; then
        return 0
    fi
    echo "deps: npm ci (web/package-lock.json) into $dir"
    mkdir -p "$dir"
    rm -f "$dir/package-lock.json"
    cp "$WEB_SRC/package.json" "$dir/package.json"
    (cd "$dir" && cp "$WEB_SRC/package-lock.json" . &&
        npm ci --no-audit --no-fund --loglevel=error) >&2 || {
        rm -f "$dir/package-lock.json"
        echo "deps: npm ci failed (no network or registry?)" >&2
        return 1
    }
}

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
    npm_deps "${1:-}"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
POLICY=${RG_POLICY_RC_D:-/usr/sbin/policy-rc.d}   # the variable: for tests
own_policy=""
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs\nexit 101\n' |
        $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    own_policy=1
    trap '$SUDO rm -f "$POLICY"' EXIT
fi
# the variable: for tests
CLUSTER_CONF=${RG_CREATECLUSTER_CONF:-/etc/postgresql-common/createcluster.d/00-rollgate-no-main.conf}
case " $missing " in *" postgresql "*)
    $SUDO mkdir -p "$(dirname "$CLUSTER_CONF")"
    echo 'create_main_cluster = false' | $SUDO tee "$CLUSTER_CONF" >/dev/null ;;
esac
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
# A service a package enabled stays off at boot too (nginx, for bench/ and
# the cache test).
if { [ "${1:-}" = bench ] || [ "${1:-}" = cache ]; } && command -v systemctl >/dev/null; then
    $SUDO systemctl disable --quiet nginx 2>/dev/null || true
fi
echo "deps: done${own_policy:+ (no service was started)}"
npm_deps "${1:-}"
