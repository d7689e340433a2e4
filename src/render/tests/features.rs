//! Small charts written by the test, each aimed at one part of Helm's
//! render pipeline, rendered by the real `helm template` (Helm v4.3.1) and
//! by berth in the same run and compared byte for byte (errors by text).
//! The charts are inputs only; the expectation is always helm's output.

mod common;

use std::path::{Path, PathBuf};

use berth_render::output::OutputOptions;
use common::{compare, Variant};

/// A scratch directory for this test run.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("berth-render-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Write `files` (path, content) under `dir`.
fn write_chart(dir: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create chart dir");
        }
        std::fs::write(&p, content).expect("write chart file");
    }
}

fn plain() -> Variant {
    Variant {
        sets: Vec::new(),
        output: OutputOptions::default(),
    }
}

fn with(output: OutputOptions) -> Variant {
    Variant {
        sets: Vec::new(),
        output,
    }
}

fn sets(sets: Vec<&'static str>) -> Variant {
    Variant {
        sets,
        output: OutputOptions::default(),
    }
}

/// `.Files`: Get, GetBytes, Glob (gobwas patterns, ranging, truthiness),
/// Lines, AsConfig, AsSecrets, index, types.
const FILES_CHART: &[(&str, &str)] = &[
    (
        "Chart.yaml",
        "apiVersion: v2\nname: files\nversion: 0.1.0\n",
    ),
    ("files/a.txt", "alpha\nbeta\n"),
    ("files/b.conf", "key = value"),
    ("files/sub/c.txt", "gamma"),
    ("files/empty.txt", ""),
    ("config/x.yaml", "x: 1\n"),
    (
        "templates/cm.yaml",
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: files
data:
  get: {{ .Files.Get "files/a.txt" | quote }}
  bytes: {{ printf "%s" (.Files.GetBytes "files/b.conf") | quote }}
  missing: {{ .Files.Get "nope" | quote }}
  lines: {{ .Files.Lines "files/a.txt" | toJson | quote }}
  lines-empty: {{ .Files.Lines "files/empty.txt" | toJson | quote }}
  glob-star: {{ range $k, $v := .Files.Glob "files/*" }}{{ $k }}={{ typeOf $v }},{{ end }}
  glob-super: {{ range $k, $_ := .Files.Glob "files/**" }}{{ $k }},{{ end }}
  glob-alt: {{ range $k, $_ := .Files.Glob "files/*.{txt,conf}" }}{{ $k }},{{ end }}
  glob-class: {{ range $k, $_ := .Files.Glob "files/[ab].*" }}{{ $k }},{{ end }}
  glob-neg: {{ range $k, $_ := .Files.Glob "files/[!a]*" }}{{ $k }},{{ end }}
  glob-bad: {{ len (.Files.Glob "files/[") }}
  glob-empty: {{ if .Files.Glob "nothing/*" }}some{{ else }}none{{ end }}
  glob-len: {{ len (.Files.Glob "files/**") }}
  index: {{ index .Files "files/b.conf" | printf "%s" }}
  index-missing: {{ index .Files "nothere" }}
  field-missing: {{ .Files.nothere }}
  glob-field: {{ (.Files.Glob "config/*").AsSecrets | b64enc }}
  range-files: {{ range $k, $v := .Files }}{{ $k }}:{{ len $v }},{{ end }}
  types: {{ typeOf .Files }} {{ kindOf .Files }} {{ typeOf (.Files.Glob "x") }}
  printed: {{ printf "%v" (.Files.Glob "files/b.conf") | quote }}
  yaml: {{ .Files.Glob "files/b.conf" | toYaml | quote }}
config: |
{{ (.Files.Glob "files/*.txt").AsConfig | indent 2 }}
secret: |
{{ (.Files.Glob "files/**").AsSecrets | indent 2 }}
conf: |
{{ (.Files.Glob "config/*").AsConfig | indent 2 }}
"#,
    ),
];

/// Subcharts: values scoping (globals, missing sections, aliases), the
/// `.Chart` map (IsRoot, Dependencies), `.Subcharts`, library charts,
/// subchart NOTES (not printed), partials shared across charts, parse and
/// execution order, CRDs of every chart.
const SUBCHARTS_CHART: &[(&str, &str)] = &[
    (
        "Chart.yaml",
        r#"apiVersion: v2
name: parent
version: 1.0.0
appVersion: "2.0"
description: a parent
keywords: [a, b]
maintainers:
  - name: me
    email: me@example.com
annotations:
  x: "y"
dependencies:
  - name: child
    version: 0.1.0
    repository: file://charts/child
  - name: child
    alias: other
    version: 0.1.0
    repository: file://charts/child
    import-values:
      - child: exported
        parent: imported
  - name: lib
    version: 0.1.0
    repository: file://charts/lib
"#,
    ),
    (
        "values.yaml",
        "global:\n  g: G\nchild:\n  msg: from-parent\nother:\n  msg: other-msg\nlist: [1, 2.5, x]\n",
    ),
    ("crds/p.yaml", "kind: CustomResourceDefinition\nmetadata:\n  name: p\n"),
    (
        "templates/NOTES.txt",
        "parent notes {{ .Release.Name }}\n",
    ),
    (
        "templates/_helpers.tpl",
        "{{- define \"parent.name\" -}}{{ .Chart.Name }}-{{ .Template.Name }}-{{ .Template.BasePath }}{{- end -}}",
    ),
    (
        "templates/a.yaml",
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: parent
data:
  name: {{ include "parent.name" . | quote }}
  lib: {{ include "lib.hello" . | quote }}
  chart: {{ toJson .Chart | quote }}
  subcharts: {{ keys .Subcharts | sortAlpha | toJson | quote }}
  sub-values: {{ .Subcharts.other.Values.msg | quote }}
  sub-chart: {{ .Subcharts.child.Chart.Name | quote }}
  imported: {{ toJson .Values.imported | quote }}
  types: {{ typeOf . }} {{ typeOf .Values }} {{ typeOf .Chart }} {{ typeOf .Release }} {{ typeOf .Template }} {{ typeOf .Subcharts }} {{ typeOf .Subcharts.child }} {{ typeOf .Capabilities }}
  release: {{ toJson .Release | quote }}
  list: {{ .Values.list | toJson | quote }}
"#,
    ),
    (
        "templates/z.yaml",
        "{{ $_ := set .Values \"touched\" \"by-z\" }}# z runs before a\n",
    ),
    (
        "charts/child/Chart.yaml",
        "apiVersion: v2\nname: child\nversion: 0.1.0\n",
    ),
    (
        "charts/child/values.yaml",
        "msg: child-default\nexports:\n  exported:\n    e: 1\n",
    ),
    ("charts/child/crds/c.yaml", "kind: CustomResourceDefinition\nmetadata:\n  name: c\n"),
    ("charts/child/templates/NOTES.txt", "child notes\n"),
    (
        "charts/child/templates/cm.yaml",
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Chart.Name }}-{{ .Values.msg }}
data:
  global: {{ .Values.global.g | quote }}
  isroot: {{ .Chart.IsRoot | quote }}
  name: {{ include "parent.name" . | quote }}
  values: {{ toJson .Values | quote }}
"#,
    ),
    (
        "charts/lib/Chart.yaml",
        "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
    ),
    (
        "charts/lib/templates/_lib.tpl",
        "{{- define \"lib.hello\" -}}hello from {{ .Chart.Name }}{{- end -}}",
    ),
    (
        "charts/lib/templates/ignored.yaml",
        "kind: ConfigMap\nmetadata:\n  name: never-rendered\n",
    ),
];

/// Documents: splitting (`---` glued, blank and comment-only documents,
/// trailing whitespace), hooks (events, weights, delete policies, unknown
/// hooks, test hooks), install order with unknown kinds, several files.
const DOCS_CHART: &[(&str, &str)] = &[
    ("Chart.yaml", "apiVersion: v2\nname: docs\nversion: 0.1.0\n"),
    (
        "templates/many.yaml",
        "\n\n---\n# just a comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n\n\n---apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n---   \n---\nkind: Zebra\nmetadata:\n  name: z\n---\nkind: Aardvark\nmetadata:\n  name: a\n---\nkind: Namespace\nmetadata:\n  name: ns\n",
    ),
    (
        "templates/hooks.yaml",
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: pre
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
    "helm.sh/hook-weight": "-5"
    "helm.sh/hook-delete-policy": before-hook-creation
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: post
  annotations:
    helm.sh/hook: " Post-Install "
    helm.sh/hook-weight: "3"
---
apiVersion: v1
kind: Pod
metadata:
  name: unknown
  annotations:
    helm.sh/hook: pre-install,never
---
apiVersion: v1
kind: Pod
metadata:
  name: test
  annotations:
    helm.sh/hook: test
---
apiVersion: v1
kind: Secret
metadata:
  name: plain
  annotations:
    other: "1"
"#,
    ),
    ("templates/empty.yaml", "{{/* nothing */}}\n\n"),
    ("templates/_partial.yaml", "kind: ConfigMap\n"),
    (
        "templates/sub/deep.yaml",
        "kind: ServiceAccount\nmetadata:\n  name: deep\n",
    ),
];

/// `.Capabilities` and `.Release` as `helm template` sets them.
const CAPS_CHART: &[(&str, &str)] = &[
    (
        "Chart.yaml",
        "apiVersion: v2\nname: caps\nversion: 0.1.0\nkubeVersion: \">=1.20.0-0\"\n",
    ),
    (
        "templates/caps.yaml",
        r#"kind: ConfigMap
data:
  kube: {{ .Capabilities.KubeVersion }}
  kube-v: {{ printf "%v" .Capabilities.KubeVersion }}
  kube-fields: {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Major }} {{ .Capabilities.KubeVersion.Minor }} {{ .Capabilities.KubeVersion.GitVersion }}
  has: {{ .Capabilities.APIVersions.Has "apps/v1" }} {{ .Capabilities.APIVersions.Has "nope/v1" }}
  apis: {{ len .Capabilities.APIVersions }}
  helm: {{ .Capabilities.HelmVersion.Version }} {{ .Capabilities.HelmVersion.GoVersion }} {{ .Capabilities.HelmVersion.KubeClientVersion }}
  helm-yaml: {{ toYaml .Capabilities.HelmVersion | quote }}
  semver: {{ semverCompare ">=1.30-0" .Capabilities.KubeVersion.Version }}
  release: {{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.IsInstall }} {{ .Release.IsUpgrade }} {{ .Release.Revision }} {{ .Release.Service }}
  lookup: {{ lookup "v1" "Secret" "default" "x" | toJson }}
  printed: {{ .Capabilities | quote }}
  printed-v: {{ printf "%v" .Capabilities.HelmVersion | quote }}
  printed-direct: {{ .Capabilities }}
  apis-json: {{ .Capabilities.APIVersions | toJson | quote }}
caps-yaml:
{{ toYaml .Capabilities | indent 2 }}
"#,
    ),
];

/// Errors: `required`, `fail`, nested include traces, parse errors, YAML
/// errors in rendered output, `--show-only` misses.
const ERRORS_CHARTS: &[(&str, &[(&str, &str)])] = &[
    (
        "required",
        &[
            ("Chart.yaml", "apiVersion: v2\nname: required\nversion: 0.1.0\n"),
            ("templates/a.yaml", "x: {{ required \"x is required\" .Values.x }}\n"),
        ],
    ),
    (
        "nested",
        &[
            ("Chart.yaml", "apiVersion: v2\nname: nested\nversion: 0.1.0\n"),
            ("templates/_h.tpl", "{{ define \"inner\" }}{{ .a.b.c }}{{ end }}{{ define \"outer\" }}{{ include \"inner\" . }}{{ end }}"),
            ("templates/a.yaml", "x: {{ include \"outer\" .Values }}\n"),
        ],
    ),
    (
        "parse",
        &[
            ("Chart.yaml", "apiVersion: v2\nname: parse\nversion: 0.1.0\n"),
            ("templates/a.yaml", "x: {{ .Values.x \n"),
        ],
    ),
    (
        "yaml",
        &[
            ("Chart.yaml", "apiVersion: v2\nname: yaml\nversion: 0.1.0\n"),
            ("templates/a.yaml", "a: [\n"),
        ],
    ),
    (
        "kubeversion",
        &[
            ("Chart.yaml", "apiVersion: v2\nname: kubeversion\nversion: 0.1.0\nkubeVersion: \">=1.40.0\"\n"),
            ("templates/a.yaml", "a: 1\n"),
        ],
    ),
    (
        "tplerrors",
        &[
            ("Chart.yaml", "apiVersion: v2\nname: tplerrors\nversion: 0.1.0\n"),
            ("templates/_h.tpl", "{{ define \"t\" }}{{ tpl \"{{ .Values.missing.key }}\" . }}{{ end }}"),
            ("templates/a.yaml", "x: {{ include \"t\" . }}\n"),
        ],
    ),
    (
        "tplparse",
        &[
            ("Chart.yaml", "apiVersion: v2\nname: tplparse\nversion: 0.1.0\n"),
            ("templates/a.yaml", "x: {{ tpl \"{{ if }}\" . }}\n"),
        ],
    ),
    (
        "divzero",
        &[
            ("Chart.yaml", "apiVersion: v2\nname: divzero\nversion: 0.1.0\n"),
            ("templates/_h.tpl", "{{ define \"d\" }}{{ div 1 0 }}{{ end }}"),
            ("templates/a.yaml", "x: {{ include \"d\" . }}\n"),
        ],
    ),
    (
        "includeloop",
        &[
            ("Chart.yaml", "apiVersion: v2\nname: includeloop\nversion: 0.1.0\n"),
            ("templates/_h.tpl", "{{ define \"r\" }}{{ include \"r\" . }}{{ end }}"),
            ("templates/a.yaml", "x: {{ include \"r\" . }}\n"),
        ],
    ),
    (
        "failnotes",
        &[
            ("Chart.yaml", "apiVersion: v2\nname: failnotes\nversion: 0.1.0\n"),
            ("templates/NOTES.txt", "{{ fail \"notes fail\" }}"),
            ("templates/a.yaml", "a: 1\n"),
        ],
    ),
];

#[test]
fn feature_charts_render_as_helm_template() {
    let root = scratch("features");
    let mut cases: Vec<(PathBuf, String, Variant)> = Vec::new();
    let mut add = |name: &str, files: &[(&str, &str)], variants: Vec<Variant>| {
        let dir = root.join(name);
        write_chart(&dir, files);
        for v in variants {
            let label = v.label(name);
            cases.push((dir.clone(), label, v));
        }
    };
    add("files", FILES_CHART, vec![plain()]);
    add(
        "subcharts",
        SUBCHARTS_CHART,
        vec![
            plain(),
            with(OutputOptions {
                include_crds: true,
                ..Default::default()
            }),
            sets(vec!["child.msg=set", "global.g=H"]),
        ],
    );
    add(
        "docs",
        DOCS_CHART,
        vec![
            plain(),
            with(OutputOptions {
                skip_tests: true,
                ..Default::default()
            }),
            with(OutputOptions {
                no_hooks: true,
                ..Default::default()
            }),
            with(OutputOptions {
                show_only: vec![
                    "templates/hooks.yaml".into(),
                    "templates/*/deep.yaml".into(),
                ],
                ..Default::default()
            }),
            with(OutputOptions {
                show_only: vec!["templates/_partial.yaml".into()],
                ..Default::default()
            }),
        ],
    );
    add("caps", CAPS_CHART, vec![plain()]);
    for (name, files) in ERRORS_CHARTS {
        add(name, files, vec![plain()]);
    }
    let mut failures = Vec::new();
    for (dir, label, v) in &cases {
        match compare(dir, label, v) {
            Ok(line) => println!("{line}"),
            Err(f) => failures.push(f),
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    assert!(
        failures.is_empty(),
        "{} feature renders differ from helm template:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
