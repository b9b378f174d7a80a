#!/usr/bin/env bash
# Installs the project's Node (the major in package.json `engines`, the Lambda runtime's) from the
# npm registry into .cache/node/<major>/ when the machine's Node is older, and prints its bin folder.
# Usage: PATH="$(bash .ci/node.sh):$PATH"   (prints the machine's own bin folder when it is enough)
#        bash .ci/node.sh --exact            (always the registry's Node of that major: the Lambda
#                                             environment test runs the functions on it)
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(sed -n 's/.*"node": *">=\([0-9]*\).*/\1/p' package.json | head -1)
have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "${1:-}" != "--exact" ] && [ "$have" -ge "$want" ]; then dirname "$(command -v node)"; exit 0; fi
dest=".cache/node/$want"
if [ ! -x "$dest/bin/node" ]; then
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) echo "no Node package for $(uname -m)" >&2; exit 1 ;; esac
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  tgz=$(cd "$dest.tmp" && npm pack --silent "node-linux-$arch@$want")
  tar -xzf "$dest.tmp/$tgz" -C "$dest.tmp" && rm "$dest.tmp/$tgz"
  rm -rf "$dest" && mv "$dest.tmp/package" "$dest" && rm -rf "$dest.tmp"
fi
"$dest/bin/node" --version >&2
echo "$PWD/$dest/bin"
