#!/usr/bin/env bash
# Builds the pinned test tools (real helm, cosign, oras, registries, etcd,
# kube-apiserver, …) from the Go modules under e2e/tools/<tool>/.
#
# Each <tool>/ directory is a small Go module (its own go.mod/go.sum, so
# dependency graphs never meet) with a `targets` file of lines
#     <binary-name> <go-package-path> [extra -X ldflags ...]
# Binaries go to a cache outside the clone, keyed by everything that pins
# them:  ${BERTH_CACHE:-~/.cache/berth}/tools/<tool>-<key>/bin/
# A later run, or a fresh clone with the same pins, reuses them. Symlinks to
# the current pins are written to target/e2e-bin/ inside the clone.
#
# Usage: e2e/tools/build.sh [tool ...]   (default: every tool)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${BERTH_CACHE:-$HOME/.cache/berth}
links=${BERTH_TOOLS_BIN:-$repo/target/e2e-bin}
mkdir -p "$cache/tools" "$links"

if [ -n "${BERTH_GOTOOLCHAIN:-}" ]; then export GOTOOLCHAIN=$BERTH_GOTOOLCHAIN; fi
export GOFLAGS="${GOFLAGS:-} -mod=readonly -buildvcs=false"
export CGO_ENABLED=0

tools=("$@")
if [ ${#tools[@]} -eq 0 ]; then
  for d in "$here"/*/; do
    [ -f "$d/go.mod" ] && tools+=("$(basename "$d")")
  done
fi

go_version=$(go env GOVERSION)
for tool in "${tools[@]}"; do
  dir="$here/$tool"
  [ -f "$dir/go.mod" ] && [ -f "$dir/targets" ] || { echo "build.sh: $tool: no go.mod or targets" >&2; exit 1; }
  key=$( { echo "$go_version"; cd "$dir" && find . -maxdepth 2 -type f \( -name 'go.mod' -o -name 'go.sum' -o -name 'targets' -o -name '*.go' \) | LC_ALL=C sort | xargs cat; } | sha256sum | cut -c1-16)
  out="$cache/tools/$tool-$key"
  # One builder per tool and pin at a time: a second run waits for the
  # first instead of clobbering its half-built output.
  exec 9>"$out.lock"
  flock 9
  if [ ! -f "$out/.done" ]; then
    echo "build.sh: building $tool (first time for these pins; cached in $out)" >&2
    start=$(date +%s)
    rm -rf "$out.tmp" && mkdir -p "$out.tmp/bin"
    while read -r bin pkg ldx; do
      { [ -z "$bin" ] || [ "${bin:0:1}" = "#" ]; } && continue
      (cd "$dir" && nice -n 5 go build -trimpath -ldflags "-s -w ${ldx:-}" -o "$out.tmp/bin/$bin" "$pkg")
    done < "$dir/targets"
    touch "$out.tmp/.done"
    rm -rf "$out" && mv "$out.tmp" "$out"
    echo "build.sh: $tool built in $(( $(date +%s) - start ))s" >&2
  fi
  flock -u 9
  for b in "$out"/bin/*; do ln -sfn "$b" "$links/$(basename "$b")"; done
done
