#!/usr/bin/env bash
# Writes every manifest document `berth template` renders for the chart
# corpus into one file each, as input for the YAML fast-path differential
# test (src/template/funcs/yaml_fast.rs, `BERTH_YAML_CORPUS`):
#
#   cargo build --release --bin berth
#   scripts/yaml-fast-corpus.sh /tmp/yaml-corpus
#   BERTH_YAML_CORPUS=/tmp/yaml-corpus cargo test -p berth-template --lib yaml_fast
#
# Documents are split at `---` lines as Helm's SplitManifests does; the
# `# Source:` comment berth adds stays in (a comment line, read like any).
set -euo pipefail
out=${1:?usage: $0 OUTPUT_DIR [CORPUS_DIR]}
repo=$(cd "$(dirname "$0")/.." && pwd)
corpus=${2:-${BERTH_CHART_CORPUS:-$repo/../shared/charts}}
berth=$repo/target/release/berth
mkdir -p "$out"
for chart in "$corpus"/*/; do
    name=$(basename "$chart")
    args=(berth-demo "$chart" --namespace berth-ns --kube-version 1.33.0 --include-crds)
    if [ "$name" = aws-load-balancer-controller ]; then
        args+=(--set clusterName=berth-demo)
    fi
    if [ "$name" = opentelemetry-collector ]; then
        args+=(--set mode=deployment --set image.repository=otel/opentelemetry-collector-k8s)
    fi
    if ! "$berth" template "${args[@]}" > "$out/$name.all" 2> "$out/$name.err"; then
        echo "$name: berth template failed, skipped" >&2
        rm -f "$out/$name.all"
        continue
    fi
    rm -f "$out/$name.err"
    awk -v dir="$out" -v name="$name" '
        BEGIN { n = 0; file = sprintf("%s/%s.%04d.yaml", dir, name, n) }
        /^---[ \t]*$/ { close(file); n++; file = sprintf("%s/%s.%04d.yaml", dir, name, n); next }
        { print > file }
    ' "$out/$name.all"
    rm -f "$out/$name.all"
done
ls "$out" | wc -l
