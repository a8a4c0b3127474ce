#!/bin/sh
# report_screenshot.sh HTML PNG DOM LOG — open a report the way a user would,
# in headless Chromium (Debian's chromium package), with no network and a
# fresh profile: write a screenshot to PNG, the rendered DOM to DOM and
# Chromium's log (where failed loads show as net::ERR_*) to LOG.
# Exit 77 when chromium is not installed (the caller skips).
set -u
html=$1 png=$2 dom=$3 log=$4
chrome=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chrome" ] || exit 77
profile=$(mktemp -d /tmp/pl_chromium.XXXXXX)
trap 'rm -rf "$profile"' EXIT
abs=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --hide-scrollbars --user-data-dir=$profile --enable-logging=stderr --v=0"
# shellcheck disable=SC2086
timeout 120 "$chrome" $flags --window-size=1280,2400 --screenshot="$png" "file://$abs" >"$log" 2>&1 || exit 1
# shellcheck disable=SC2086
timeout 120 "$chrome" $flags --dump-dom "file://$abs" >"$dom" 2>>"$log" || exit 1
exit 0
