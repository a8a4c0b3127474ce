#!/bin/sh
# install-deps.sh — everything pasalista needs on a fresh Debian 12 machine:
# the Debian packages it builds and tests with, then the pretrained models
# from npm (tools/fetch-models.sh). Run as root (or with sudo).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES="build-essential pkg-config clang libclang-rt-14-dev
  libjpeg62-turbo-dev libpng-dev libwebp-dev libheif-dev libfreetype-dev fonts-dejavu-core
  libsqlite3-dev sqlite3 libcurl4-openssl-dev libzip-dev libexpat1-dev libxlsxwriter-dev
  libdnnl-dev python3 python3-numpy python3-onnx python3-pil valgrind
  chromium"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if ! command -v npm >/dev/null 2>&1; then missing="$missing nodejs npm"; fi
if [ -n "$missing" ]; then
    echo "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
"$here/tools/fetch-models.sh" "$here/models"
