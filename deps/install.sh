#!/bin/sh
# install.sh: installs the Debian packages volley builds and tests with, when they are missing.
# Usage: deps/install.sh [build|test|all]   (default: all)
set -eu

build_pkgs="gcc make libuv1-dev libluajit2-5.1-dev libmbedtls-dev node-llhttp lua-cjson-dev \
zlib1g-dev libjansson-dev"
test_pkgs="nginx-light openssl python3 curl chromium time util-linux"
bench_pkgs="wrk nghttp2-client"

case "${1:-all}" in
    build) want="$build_pkgs" ;;
    test) want="$build_pkgs $test_pkgs" ;;
    bench) want="$build_pkgs $test_pkgs $bench_pkgs" ;;
    all) want="$build_pkgs $test_pkgs" ;;
    *) echo "usage: deps/install.sh [build|test|bench|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "volley: missing Debian packages:$missing (run deps/install.sh as root)" >&2
    exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
