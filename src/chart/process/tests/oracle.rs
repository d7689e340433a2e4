//! Differential tests against Helm v4.3.1 itself, through the oracle
//! (`e2e/tools/oracle`, built with `e2e/tools/build.sh oracle`, or
//! `BERTH_ORACLE`): the user values from values flags (`--strvals`), and
//! for every corpus chart (`BERTH_CHART_CORPUS`, default `../shared/charts`
//! next to the repository) and a set of hand-made charts, the final values,
//! the enabled chart tree and the `.Values` of each chart, or the error
//! (`--prepare`), compared with [`prepare`]. Numbers are compared with
//! their Go type (`int64` vs `float64`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value as Json};

use crate::process::{prepare, ProcessError, ProcessOptions};
use crate::{strvals, values, Chart, Values};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The oracle binary: `BERTH_ORACLE`, or the pinned build (built or
/// reused by `e2e/tools/build.sh oracle`, once per test process).
fn oracle() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(p) = std::env::var_os("BERTH_ORACLE") {
            return p.into();
        }
        let status = Command::new(repo().join("e2e/tools/build.sh"))
            .arg("oracle")
            .current_dir(repo())
            .status()
            .expect("run e2e/tools/build.sh oracle");
        assert!(status.success(), "e2e/tools/build.sh oracle failed");
        std::env::var_os("BERTH_TOOLS_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target/e2e-bin"))
            .join("oracle")
    })
    .clone()
}

fn corpus() -> PathBuf {
    std::env::var_os("BERTH_CHART_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/charts"))
}

/// Values flags, applied in Helm's order (files, json, set, string, file,
/// literal).
#[derive(Default, Clone, Debug)]
struct Flags {
    files: Vec<String>,
    json: Vec<String>,
    set: Vec<String>,
    string: Vec<String>,
    file: Vec<String>,
    literal: Vec<String>,
}

impl Flags {
    fn set(s: &[&str]) -> Flags {
        Flags {
            set: s.iter().map(|x| x.to_string()).collect(),
            ..Flags::default()
        }
    }

    fn to_json(&self, name: &str) -> Json {
        json!({"name": name, "files": self.files, "json": self.json, "set": self.set,
               "string": self.string, "file": self.file, "literal": self.literal})
    }

    fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let groups = [
            ("-f", &self.files),
            ("--set-json", &self.json),
            ("--set", &self.set),
            ("--set-string", &self.string),
            ("--set-file", &self.file),
            ("--set-literal", &self.literal),
        ];
        for (flag, values) in groups {
            for v in values {
                args.push(flag.to_string());
                args.push(v.clone());
            }
        }
        args
    }

    /// berth's user values for these flags, errors as Helm prints them.
    fn user_values(&self) -> Result<Values, String> {
        let mut base = Values::new();
        for path in &self.files {
            let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
            let v = values::parse(&text).map_err(|e| format!("failed to parse {path}: {e}"))?;
            values::merge_maps(&mut base, v);
        }
        for v in &self.json {
            strvals::parse_set_json(v, &mut base).map_err(|e| e.to_string())?;
        }
        for v in &self.set {
            strvals::parse_set(v, &mut base).map_err(|e| e.to_string())?;
        }
        for v in &self.string {
            strvals::parse_set_string(v, &mut base).map_err(|e| e.to_string())?;
        }
        let read = |p: &str| -> Result<String, std::io::Error> {
            std::fs::read_to_string(p).map_err(|e| {
                let reason = match e.kind() {
                    std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                    _ => e.to_string(),
                };
                std::io::Error::new(e.kind(), format!("open {p}: {reason}"))
            })
        };
        for v in &self.file {
            strvals::parse_set_file(v, &mut base, &read).map_err(|e| e.to_string())?;
        }
        for v in &self.literal {
            strvals::parse_set_literal(v, &mut base).map_err(|e| e.to_string())?;
        }
        Ok(base)
    }
}

/// A values tree in the oracle's typed JSON.
fn typed(v: &Json) -> Json {
    match v {
        Json::Number(n) if n.is_f64() => {
            json!({"$float64": format!("{}", n.as_f64().unwrap_or(0.0))})
        }
        Json::Number(n) => json!({"$int64": n.to_string()}),
        Json::Array(items) => Json::Array(items.iter().map(typed).collect()),
        Json::Object(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), typed(v))).collect()),
        other => other.clone(),
    }
}

/// Where two typed trees first differ (a path and both sides), or `None`.
fn first_difference(path: &str, a: &Json, b: &Json) -> Option<String> {
    match (a, b) {
        (Json::Object(x), Json::Object(y))
            if !x.contains_key("$float64") && !x.contains_key("$int64") =>
        {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_difference(&p, u, v) {
                            return Some(d);
                        }
                    }
                    (u, v) => return Some(format!("{p}: berth {u:?}, helm {v:?}")),
                }
            }
            None
        }
        (Json::Array(x), Json::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_difference(&format!("{path}[{i}]"), u, v)),
        _ if a == b => None,
        _ => Some(format!("{path}: berth {a}, helm {b}")),
    }
}

fn run_oracle(args: &[String], stdin: &[u8]) -> String {
    let mut child = Command::new(oracle())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the oracle");
    child
        .stdin
        .take()
        .expect("oracle stdin")
        .write_all(stdin)
        .expect("write to the oracle");
    let out = child.wait_with_output().expect("oracle output");
    assert!(
        out.status.success(),
        "oracle {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("oracle output is UTF-8")
}

/// Each chart of the prepared tree with the `.Values` it sees, as the
/// oracle lists them.
fn enabled_charts(chart: &Chart, path: &str, values: Option<&Values>, out: &mut Vec<Json>) {
    let shown = values.map_or(Json::Null, |v| typed(&Json::Object(v.clone())));
    out.push(json!({"path": path, "values": shown}));
    for sub in &chart.dependencies {
        let sub_values = match values.and_then(|v| v.get(sub.name())) {
            Some(Json::Object(m)) => Some(m),
            _ => None,
        };
        enabled_charts(sub, &format!("{path}/{}", sub.name()), sub_values, out);
    }
}

/// Compare berth and Helm on one chart directory and flags; `Err` says how
/// they differ.
fn compare_chart(dir: &Path, flags: &Flags, kube_version: &str) -> Result<(), String> {
    let mut args = vec![
        "--prepare".to_string(),
        dir.display().to_string(),
        "--kube-version".into(),
        kube_version.into(),
    ];
    args.extend(flags.to_args());
    let helm: Json = serde_json::from_str(&run_oracle(&args, b"")).map_err(|e| e.to_string())?;
    let opts = ProcessOptions {
        kube_version: kube_version.into(),
        skip_schema_validation: false,
    };
    let berth = flags.user_values().and_then(|user| {
        let chart = crate::load::load_path(dir).map_err(|e| e.to_string())?;
        prepare(chart, user, &opts).map_err(|e| match e {
            ProcessError::Schema(_) => format!("SCHEMA\n{e}"),
            e => e.to_string(),
        })
    });
    match (berth, helm.get("error").and_then(Json::as_str)) {
        (Ok(p), None) => {
            let got = typed(&Json::Object(p.values.clone()));
            if let Some(d) = first_difference("", &got, &helm["values"]) {
                return Err(format!("final values differ at {d}"));
            }
            let mut charts = Vec::new();
            enabled_charts(&p.chart, p.chart.name(), Some(&p.values), &mut charts);
            let paths = |v: &[Json]| -> Vec<String> {
                v.iter()
                    .map(|c| c["path"].as_str().unwrap_or("").to_string())
                    .collect()
            };
            let want = helm["charts"].as_array().cloned().unwrap_or_default();
            if paths(&charts) != paths(&want) {
                return Err(format!(
                    "enabled charts: berth {:?}, helm {:?}",
                    paths(&charts),
                    paths(&want)
                ));
            }
            for (b, h) in charts.iter().zip(&want) {
                if let Some(d) = first_difference("", &b["values"], &h["values"]) {
                    return Err(format!("{}: .Values differ at {d}", b["path"]));
                }
            }
            Ok(())
        }
        (Err(b), Some(h)) => {
            if let Some(b) = b.strip_prefix("SCHEMA\n") {
                // The frame must agree: header and chart names.
                let frame = |s: &str| -> Vec<String> {
                    s.lines()
                        .filter(|l| !l.starts_with("- ") && !l.starts_with("  "))
                        .map(str::to_string)
                        .collect()
                };
                // Helm lists a schema's failures, and the names in an
                // "additional properties 'a', 'b' not allowed" line, in Go
                // map order (it varies from run to run), so the lines are
                // compared as a set, with those names sorted.
                let names_sorted = |line: &str| -> String {
                    let Some((head, rest)) = line.split_once("additional properties ") else {
                        return line.to_string();
                    };
                    let Some((names, tail)) = rest.split_once(" not allowed") else {
                        return line.to_string();
                    };
                    let mut names: Vec<&str> = names.split(", ").collect();
                    names.sort_unstable();
                    format!(
                        "{head}additional properties {} not allowed{tail}",
                        names.join(", ")
                    )
                };
                let sorted = |s: &str| -> Vec<String> {
                    let mut l: Vec<String> = s.lines().map(names_sorted).collect();
                    l.sort();
                    l
                };
                if frame(b) == frame(h) && sorted(b) == sorted(h) {
                    return Ok(());
                }
                return Err(format!("schema errors differ:\nberth: {b}\nhelm:  {h}"));
            }
            if b == h {
                Ok(())
            } else {
                Err(format!("errors differ:\nberth: {b}\nhelm:  {h}"))
            }
        }
        (Ok(_), Some(h)) => Err(format!("helm fails, berth does not: {h}")),
        (Err(b), None) => Err(format!("berth fails, helm does not: {b}")),
    }
}

fn check_all(cases: Vec<(String, PathBuf, Flags, &str)>) {
    let mut failures = Vec::new();
    let total = cases.len();
    for (name, dir, flags, kube) in cases {
        if let Err(e) = compare_chart(&dir, &flags, kube) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}/{total} cases differ from helm:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_charts_prepare_as_helm_does() {
    let corpus = corpus();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|e| panic!("chart corpus {}: {e}", corpus.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Chart.yaml").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no charts in {}", corpus.display());
    let mut cases = Vec::new();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        cases.push((name.clone(), dir.clone(), Flags::default(), "1.33.0"));
        if let Ok(entries) = std::fs::read_dir(dir.join("ci")) {
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            for f in files {
                let flags = Flags {
                    files: vec![f.display().to_string()],
                    ..Flags::default()
                };
                let label = format!(
                    "{name} -f {}",
                    f.file_name().unwrap_or_default().to_string_lossy()
                );
                cases.push((label, dir.clone(), flags, "1.33.0"));
            }
        }
    }
    // Subchart switches and values that exercise the dependency steps.
    let extra: &[(&str, &[&str])] = &[
        ("external-secrets", &["bitwarden-sdk-server.enabled=true"]),
        (
            "prometheus",
            &["alertmanager.enabled=false,kube-state-metrics.enabled=false"],
        ),
        (
            "prometheus",
            &["global.imageRegistry=mirror.invalid,prometheus-node-exporter.hostNetwork=null"],
        ),
        ("argo-cd", &["redis-ha.enabled=true"]),
        ("redis", &["global.redis.password=x,replica.replicaCount=1"]),
        (
            "opentelemetry-collector",
            &[
                "mode=deployment",
                "image.repository=otel/opentelemetry-collector-k8s",
            ],
        ),
        ("opentelemetry-collector", &["mode=nonsense"]),
        ("cert-manager", &["replicaCount=two"]),
        ("nginx", &["tags.foo=false"]),
        ("argo-cd", &["kubeVersionOverride=1.20.0"]),
    ];
    for (chart, sets) in extra {
        let dir = corpus.join(chart);
        if dir.is_dir() {
            cases.push((
                format!("{chart} --set {sets:?}"),
                dir,
                Flags::set(sets),
                "1.33.0",
            ));
        }
    }
    if corpus.join("argo-cd").is_dir() {
        cases.push((
            "argo-cd on 1.20".into(),
            corpus.join("argo-cd"),
            Flags::default(),
            "1.20.0",
        ));
    }
    check_all(cases);
}

/// A chart written to disk: `(path, content)` pairs under `root`.
fn write_chart(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().expect("file has a parent")).expect("mkdir");
        std::fs::write(&p, content).expect("write chart file");
    }
}

#[test]
fn hand_made_charts_prepare_as_helm_does() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    // Aliases, conditions (lists, nested, relative to the parent), tags,
    // import-values in both forms, nulls, globals, a library subchart and
    // a sub-subchart.
    write_chart(
        &root.join("deps"),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: deps\nversion: 1.0.0\ndependencies:\n\
                 - {name: sub, version: ^1.0.0, alias: one, condition: one.enabled}\n\
                 - {name: sub, version: ~1.2, alias: two, condition: 'missing.flag,two.enabled', tags: [extra]}\n\
                 - {name: sub, version: 1.2.3, alias: three, tags: [extra, more]}\n\
                 - name: exporter\n  version: 0.1.0\n  import-values:\n  - data\n  - {child: nested.deep, parent: imported.here}\n  - {child: missing, parent: nowhere}\n\
                 - {name: lib, version: 0.1.0}\n",
            ),
            (
                "values.yaml",
                "global: {region: eu, nested: {a: 1, b: {c: 2}}, drop: me}\n\
                 one: {enabled: true, port: 1}\n\
                 two: {enabled: false}\n\
                 tags: {extra: false, more: true}\n\
                 fromData: parent-wins\n\
                 nulled: {x: 1}\n\
                 kept: null\n",
            ),
            ("templates/a.yaml", "a: {{ .Values.one.port }}\n"),
            ("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 1.2.3\ndependencies:\n- {name: leaf, version: '*', condition: leaf.on}\n"),
            (
                "charts/sub/values.yaml",
                "enabled: true\nport: 80\nlist: [1, 2]\nglobal: {region: us, own: sub, nested: {b: {d: 4}}}\nleaf: {on: true}\nremove: {me: 1}\n",
            ),
            ("charts/sub/templates/s.yaml", "s: 1\n"),
            ("charts/sub/charts/leaf/Chart.yaml", "apiVersion: v2\nname: leaf\nversion: 9.9.9\n"),
            ("charts/sub/charts/leaf/values.yaml", "leafValue: 3\nglobal: {leafy: true}\n"),
            ("charts/exporter/Chart.yaml", "apiVersion: v2\nname: exporter\nversion: 0.1.0\n"),
            (
                "charts/exporter/values.yaml",
                "exports: {data: {fromData: child, onlyChild: 7, deep: {x: 1}}}\nnested: {deep: {y: 2, z: null}}\n",
            ),
            ("charts/lib/Chart.yaml", "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n"),
            ("charts/lib/values.yaml", "libDefault: 1\n"),
            ("charts/lib/templates/_h.tpl", "{{- define \"lib.x\" }}x{{ end }}\n"),
        ],
    );
    // A vendored subchart whose version does not satisfy its dependency.
    write_chart(
        &root.join("mismatch"),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: mismatch\nversion: 1.0.0\ndependencies:\n- {name: sdk, version: v0.6.0, condition: sdk.enabled}\n",
            ),
            ("values.yaml", "sdk: {enabled: false}\n"),
            ("charts/sdk/Chart.yaml", "apiVersion: v2\nname: sdk\nversion: 0.1.0\n"),
            ("charts/sdk/values.yaml", "image: x\n"),
        ],
    );
    // Schemas on the parent and a subchart.
    write_chart(
        &root.join("schema"),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: schema\nversion: 1.0.0\nkubeVersion: '>=1.25.0-0'\n",
            ),
            ("values.yaml", "replicas: 1\nname: a\nsub: {port: 80}\n"),
            (
                "values.schema.json",
                r#"{"type":"object","required":["name"],"properties":{"replicas":{"type":"integer","minimum":1},"name":{"type":"string"}}}"#,
            ),
            (
                "charts/sub/Chart.yaml",
                "apiVersion: v1\nname: sub\nversion: 0.1.0\n",
            ),
            ("charts/sub/values.yaml", "port: 80\n"),
            (
                "charts/sub/values.schema.json",
                r#"{"type":"object","properties":{"port":{"type":"integer"}}}"#,
            ),
        ],
    );
    // Many keywords, nested causes, references inside the schema.
    write_chart(
        &root.join("keywords"),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: keywords\nversion: 1.0.0\n",
            ),
            (
                "values.yaml",
                "name: a\nmode: fast\ntag: v1\nlist: [1]\nsub: {port: 80}\n",
            ),
            (
                "values.schema.json",
                r##"{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","required":["name","mode"],
                   "definitions":{"port":{"type":["integer","null"],"minimum":1,"maximum":65535}},
                   "properties":{"name":{"type":"string","minLength":1,"maxLength":5},
                     "mode":{"enum":["fast","slow",1,null]},"tag":{"type":"string","pattern":"^v[0-9]+$"},
                     "list":{"oneOf":[{"type":"string"},{"type":"array","items":{"type":"integer"},"uniqueItems":true,"maxItems":3}]},
                     "any":{"anyOf":[{"type":"boolean"},{"const":"x"}]},
                     "port":{"$ref":"#/definitions/port"},"ratio":{"exclusiveMaximum":1,"multipleOf":0.25},
                     "obj":{"type":"object","minProperties":1,"additionalProperties":false,"properties":{"a":{}}}}}"##,
            ),
            (
                "charts/sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            ),
            ("charts/sub/values.yaml", "port: 80\n"),
            (
                "charts/sub/values.schema.json",
                r#"{"type":"object","properties":{"port":{"type":"integer"}},"additionalProperties":false}"#,
            ),
        ],
    );
    // Missing dependency; library chart at the top.
    write_chart(
        &root.join("missing"),
        &[(
            "Chart.yaml",
            "apiVersion: v2\nname: missing\nversion: 1.0.0\ndependencies:\n- {name: a, version: 1.0.0}\n- {name: b, version: 1.0.0}\n",
        )],
    );
    write_chart(
        &root.join("library"),
        &[(
            "Chart.yaml",
            "apiVersion: v2\nname: library\nversion: 1.0.0\ntype: library\n",
        )],
    );
    // Imports through aliases and across two levels, a sub-subchart with
    // tags and a condition, `dependencies: []`, subchart globals from user
    // values, type clashes.
    write_chart(
        &root.join("nested"),
        &[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: nested\nversion: 1.0.0\ndependencies:\n\
                 - name: mid\n  version: '>=0.1.0'\n  alias: middle\n  import-values: [fromLeaf, {child: own, parent: mine}]\n\
                 - name: plain\n  version: 1.0.0\n",
            ),
            (
                "values.yaml",
                "mine: {b: parent}\nleafKey: parent-wins\nscalar: 1\ntable: {a: 1}\n",
            ),
            ("charts/mid/Chart.yaml", "apiVersion: v2\nname: mid\nversion: 0.2.0\ndependencies:\n- {name: leaf, version: 1.0.0, import-values: [deep], tags: [leafy], condition: leaf.enabled}\n- {name: other, version: 1.0.0, condition: 'other.enabled,middle.other'}\n"),
            ("charts/mid/values.yaml", "own: {a: mid, b: mid}\nexports: {fromLeaf: {leafKey: mid}}\nglobal: {level: {one: {two: mid}}}\n"),
            ("charts/mid/charts/leaf/Chart.yaml", "apiVersion: v2\nname: leaf\nversion: 1.0.0\n"),
            ("charts/mid/charts/leaf/values.yaml", "exports: {deep: {fromDeep: 1, leafKey: leaf}}\nenabled: true\n"),
            ("charts/mid/charts/other/Chart.yaml", "apiVersion: v2\nname: other\nversion: 1.0.0\n"),
            ("charts/mid/charts/other/values.yaml", "x: 1\n"),
            ("charts/plain/Chart.yaml", "apiVersion: v2\nname: plain\nversion: 1.0.0\ndependencies: []\n"),
            ("charts/plain/values.yaml", "p: 1\nglobal: {level: {one: {three: plain}}}\n"),
            ("charts/plain/charts/gated/Chart.yaml", "apiVersion: v2\nname: gated\nversion: 1.0.0\n"),
            ("charts/plain/charts/gated/values.yaml", "g: 1\n"),
        ],
    );
    let values_file = root.join("user.yaml");
    std::fs::write(
        &values_file,
        "one: {port: null, list: [9]}\nglobal: {nested: {b: {c: 5}}, drop: null}\nnulled: null\nthree: {enabled: false}\n",
    )
    .expect("write values file");
    let f = |files: &[&Path], sets: &[&str]| Flags {
        files: files.iter().map(|p| p.display().to_string()).collect(),
        set: sets.iter().map(|s| s.to_string()).collect(),
        ..Flags::default()
    };
    let d = |n: &str| root.join(n);
    let cases = vec![
        (
            "deps defaults".to_string(),
            d("deps"),
            Flags::default(),
            "1.33.0",
        ),
        (
            "deps user file".into(),
            d("deps"),
            f(&[&values_file], &[]),
            "1.33.0",
        ),
        (
            "deps switches".into(),
            d("deps"),
            f(&[], &["two.enabled=true,tags.extra=true,one.enabled=false"]),
            "1.33.0",
        ),
        (
            "deps leaf off".into(),
            d("deps"),
            f(&[], &["one.leaf.on=false,global.region=null"]),
            "1.33.0",
        ),
        (
            "deps condition not bool".into(),
            d("deps"),
            f(&[], &["one.enabled=yes,tags.more=1"]),
            "1.33.0",
        ),
        (
            "deps type mismatch".into(),
            d("deps"),
            f(&[], &["one=text"]),
            "1.33.0",
        ),
        (
            "deps global scalar".into(),
            d("deps"),
            f(&[], &["global=flat"]),
            "1.33.0",
        ),
        (
            "deps int set".into(),
            d("deps"),
            f(&[], &["one.port=8080,one.list={3,x,true}"]),
            "1.33.0",
        ),
        (
            "mismatch off".into(),
            d("mismatch"),
            Flags::default(),
            "1.33.0",
        ),
        (
            "mismatch on".into(),
            d("mismatch"),
            f(&[], &["sdk.enabled=true"]),
            "1.33.0",
        ),
        ("schema ok".into(), d("schema"), Flags::default(), "1.33.0"),
        (
            "schema bad".into(),
            d("schema"),
            f(&[], &["replicas=0,sub.port=x"]),
            "1.33.0",
        ),
        (
            "schema bad sub only".into(),
            d("schema"),
            f(&[], &["sub.port=x"]),
            "1.33.0",
        ),
        (
            "schema sub not a map".into(),
            d("schema"),
            f(&[], &["sub=null"]),
            "1.33.0",
        ),
        (
            "schema missing required".into(),
            d("schema"),
            f(&[], &["name=null"]),
            "1.33.0",
        ),
        (
            "schema kube too old".into(),
            d("schema"),
            Flags::default(),
            "1.20.0",
        ),
        (
            "schema kube suffix".into(),
            d("schema"),
            Flags::default(),
            "v1.30.2-eks.1",
        ),
        (
            "nested defaults".into(),
            d("nested"),
            Flags::default(),
            "1.33.0",
        ),
        (
            "nested tags off".into(),
            d("nested"),
            f(&[], &["tags.leafy=false"]),
            "1.33.0",
        ),
        (
            "nested leaf off".into(),
            d("nested"),
            f(&[], &["middle.leaf.enabled=false,middle.other=false"]),
            "1.33.0",
        ),
        (
            "nested other on".into(),
            d("nested"),
            f(&[], &["middle.other.enabled=true,middle.other=false"]),
            "1.33.0",
        ),
        (
            "nested user globals".into(),
            d("nested"),
            f(
                &[],
                &["middle.global.level.one.four=user,global.level.one.two=top,plain.global.x=1"],
            ),
            "1.33.0",
        ),
        (
            "nested clashes".into(),
            d("nested"),
            f(&[], &["scalar.a=1,table=2,mine=null,middle.own.a=null"]),
            "1.33.0",
        ),
        (
            "nested subchart scalar".into(),
            d("nested"),
            f(&[], &["plain=1"]),
            "1.33.0",
        ),
        ("keywords ok".into(), d("keywords"), Flags::default(), "1.33.0"),
        ("keywords 1".into(), d("keywords"), f(&[], &["name=,mode=other,tag=x1,list={1,1,2,3},port=0,ratio=1,obj.b=1,any=y,sub.port=x,sub.extra=1"]), "1.33.0"),
        ("keywords 2".into(), d("keywords"), f(&[], &["name=toolong,mode=null,list=text,port=70000,ratio=0.3,any=true"]), "1.33.0"),
        ("keywords 3".into(), d("keywords"), f(&[], &["name=null,mode=null,list[0]=x,port=null,obj.a=1"]), "1.33.0"),
        ("keywords 4".into(), d("keywords"), f(&[], &["name=1,list={1,x},port=x"]), "1.33.0"),
        ("missing".into(), d("missing"), Flags::default(), "1.33.0"),
        ("library".into(), d("library"), Flags::default(), "1.33.0"),
    ];
    check_all(cases);
}

#[test]
fn values_flags_build_what_helm_builds() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("content.txt");
    std::fs::write(&file, "line1\nline2, with = signs\n").expect("write");
    let vfile = tmp.path().join("v.yaml");
    std::fs::write(
        &vfile,
        "a: {b: 1, c: [1]}\nn: 1.5\nbig: 12345678901234567890\n",
    )
    .expect("write");
    let file = file.display().to_string();
    let missing = tmp.path().join("missing").display().to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut cases: Vec<Flags> = [
        "a=1",
        "a=1,b=2",
        "a=1,b=2,",
        "a=1,,b=2",
        "a",
        "a,",
        "a.b",
        "a.",
        "a.=1",
        "=1",
        "a==1",
        "a=b=c",
        "a=TRUE,b=False,c=nULL,d=0,e=00,f=-1,g=+1,h=1.0,i=1e3,j=0x1F,k=9223372036854775807",
        "k=9223372036854775808,l=-9223372036854775808,m= 1,n=1 ",
        "a={},b={x},c={x,},d={,}",
        "a={1,2",
        "a={1},b=2",
        "a={a\\,b,c\\}d}",
        "a\\.b=1,c\\=d=2,e\\,f=3",
        "a=\\",
        "a\\",
        "a[0]=1",
        "a[1]=1",
        "a[0]",
        "a[0].",
        "a[0]b=1",
        "a[-1]=1",
        "a[x]=1",
        "a[]=1",
        "a[0=1",
        "a[65536]=1",
        "a[65537]=1",
        "a[99999999999999999999]=1",
        "a[0][1]=x",
        "a[0][0][0]=x",
        "a[1].b=1,a[0]=2",
        "a[0]=2,a[0].b=1",
        "a[0].b=1,a[0][1]=2",
        "a[0]={x,y}",
        "a[0]=",
        "a.b=1,a=2",
        "a=2,a.b=1",
        "a=2,a[0]=1",
        "a[0]=1,a.b=2",
        "a.b[0].c[1].d=1",
        "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.aa.bb.cc.dd.ee=1",
        "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.aa.bb.cc.dd.ee.ff=1",
        "name=with space, x=leading",
        "é.ü=ñ",
        "a=null,a.b=1",
    ]
    .iter()
    .map(|x| Flags::set(&[x]))
    .collect();
    for js in [
        r#"a={"b":1,"c":[1,2.5,"x",null,true]}"#,
        r#"a=1,b="s",c=null,d=,e=[1,{"f":2}]"#,
        r#"a=1b=2"#,
        r#"a="x" ,b=1"#,
        r#"a={"x":1"#,
        r#"a=nope"#,
        r#"a[1]=2,a[0]={"z":1}"#,
        r#" {"a": {"b": 2}, "c": [1]}"#,
        r#"{"a": 1"#,
        r#"{}"#,
        r#"a.b=1e400"#,
        r#"a=-0,b=12345678901234567890"#,
        r#"a=1.5.5"#,
        r#"a=1.5.5=1"#,
        r#"a=truex=1"#,
        r#"a=01=2"#,
        r#"a=-1e-2x=3"#,
        r#"a=nullz=1"#,
        r#"a=truex,b=1"#,
        r#"a=01"#,
        r#"a=1-2"#,
        r#"a=1e5x"#,
        r#"a=-"#,
        r#"a=1.,b=2"#,
        r#"a=1e,b=2"#,
        r#"a=nullx"#,
        r#"a=nul"#,
        r#"a=[1,2]x=3"#,
        r#"a="s"t=1"#,
        r#"a= 	1 ,b=2"#,
    ] {
        cases.push(Flags {
            json: s(&[js]),
            ..Flags::default()
        });
    }
    cases.push(Flags {
        string: s(&["a=true,b=0,c={1,2},d[1]=null,e=1.5"]),
        ..Flags::default()
    });
    cases.push(Flags {
        string: s(&["a,b"]),
        ..Flags::default()
    });
    cases.push(Flags {
        file: vec![
            format!("a={file}"),
            format!("b={{{file},{file}}}"),
            format!("c[1]={file}"),
        ],
        ..Flags::default()
    });
    cases.push(Flags {
        file: vec![format!("a={missing}")],
        ..Flags::default()
    });
    cases.push(Flags {
        literal: s(&["a.b[1]=x,y={z}\\n=1", "c=", "d", "e.="]),
        ..Flags::default()
    });
    cases.push(Flags {
        files: vec![vfile.display().to_string()],
        json: s(&[r#"{"a": {"c": [2]}}"#, "a.d=3"]),
        set: s(&["a.b=2,n=3"]),
        string: s(&["a.e=4"]),
        literal: s(&["a.f=5"]),
        ..Flags::default()
    });
    cases.push(Flags {
        files: vec![vfile.display().to_string()],
        set: s(&["a.b.c=1"]),
        ..Flags::default()
    });
    cases.push(Flags {
        files: vec![vfile.display().to_string()],
        set: s(&["n[0]=1"]),
        ..Flags::default()
    });
    let input: String = cases
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}\n", c.to_json(&i.to_string())))
        .collect();
    let out = run_oracle(&["--strvals".to_string()], input.as_bytes());
    let mut failures = Vec::new();
    for (line, case) in out.lines().zip(&cases) {
        let helm: Json = serde_json::from_str(line).expect("oracle line is JSON");
        let berth = case.user_values();
        let diff = match (&berth, helm.get("error").and_then(Json::as_str)) {
            (Ok(v), None) => {
                first_difference("", &typed(&Json::Object(v.clone())), &helm["values"])
            }
            (Err(b), Some(h)) if b == h => None,
            (Err(b), Some(h)) => Some(format!("errors: berth {b:?}, helm {h:?}")),
            (Ok(v), Some(h)) => Some(format!(
                "helm fails ({h}), berth gives {}",
                typed(&Json::Object(v.clone()))
            )),
            (Err(b), None) => Some(format!("berth fails ({b}), helm gives {}", helm["values"])),
        };
        if let Some(d) = diff {
            failures.push(format!("{case:?}: {d}"));
        }
    }
    assert_eq!(out.lines().count(), cases.len(), "one oracle line per case");
    assert!(
        failures.is_empty(),
        "{}/{} value-flag cases differ from helm:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Set lines drawn from strvals' own alphabet (a fixed pseudo-random
/// sequence, so the cases are the same on every run), each through
/// `--set`, `--set-string`, `--set-json` and `--set-literal`.
#[test]
fn generated_set_lines_parse_as_helm_does() {
    const PIECES: &[&str] = &[
        "a",
        "b",
        "x1",
        ".",
        ".",
        "=",
        "=",
        ",",
        "[0]",
        "[1]",
        "[2]",
        "[",
        "]",
        "{",
        "}",
        "\\",
        "\\,",
        "\\.",
        "1",
        "0",
        "-3",
        "007",
        "true",
        "null",
        "1.5",
        " ",
        "\"s\"",
        "[1,2]",
        "{\"k\":1}",
        "é",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    const NAMES: &[&str] = &["a", "b", "x1", "é", "a\\.b", "c\\=d", "list"];
    const VALUES: &[&str] = &[
        "1",
        "0",
        "-3",
        "007",
        "true",
        "FALSE",
        "null",
        "1.5",
        "",
        "s p",
        "{1,x}",
        "{}",
        "\\,",
        "[1,2]",
        "{\"k\":[1,null]}",
        "\"q\"",
        "9223372036854775808",
    ];
    let mut cases = Vec::new();
    for n in 0..600 {
        let line: String = if n % 3 == 0 {
            // Free-form: any pieces in any order.
            let len = 1 + next(9);
            (0..len).map(|_| PIECES[next(PIECES.len())]).collect()
        } else {
            // Well-formed assignments, sometimes nested or indexed.
            let count = 1 + next(3);
            let parts: Vec<String> = (0..count)
                .map(|_| {
                    let depth = 1 + next(3);
                    let mut name = String::new();
                    for d in 0..depth {
                        if d > 0 {
                            name.push('.');
                        }
                        name.push_str(NAMES[next(NAMES.len())]);
                        if next(3) == 0 {
                            name.push_str(&format!("[{}]", next(3)));
                        }
                    }
                    format!("{name}={}", VALUES[next(VALUES.len())])
                })
                .collect();
            parts.join(",")
        };
        let one = vec![line.clone()];
        cases.push(Flags {
            set: one.clone(),
            ..Flags::default()
        });
        match next(3) {
            0 => cases.push(Flags {
                string: one,
                ..Flags::default()
            }),
            1 => cases.push(Flags {
                json: one,
                ..Flags::default()
            }),
            _ => cases.push(Flags {
                literal: one,
                ..Flags::default()
            }),
        }
    }
    let input: String = cases
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}\n", c.to_json(&i.to_string())))
        .collect();
    let out = run_oracle(&["--strvals".to_string()], input.as_bytes());
    assert_eq!(out.lines().count(), cases.len(), "one oracle line per case");
    let mut failures = Vec::new();
    for (line, case) in out.lines().zip(&cases) {
        let helm: Json = serde_json::from_str(line).expect("oracle line is JSON");
        let berth = case.user_values();
        let diff = match (&berth, helm.get("error").and_then(Json::as_str)) {
            (Ok(v), None) => {
                first_difference("", &typed(&Json::Object(v.clone())), &helm["values"])
            }
            (Err(b), Some(h)) if b == h => None,
            (Err(b), Some(h)) => Some(format!("errors: berth {b:?}, helm {h:?}")),
            (Ok(v), Some(h)) => Some(format!(
                "helm fails ({h}), berth gives {}",
                typed(&Json::Object(v.clone()))
            )),
            (Err(b), None) => Some(format!("berth fails ({b}), helm gives {}", helm["values"])),
        };
        if let Some(d) = diff {
            failures.push(format!("{case:?}: {d}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}/{} generated cases differ from helm:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
