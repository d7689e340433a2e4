//! End to end against the real `helm template` (Helm v4.3.1, the pinned
//! binary `target/e2e-bin/helm`, built by `e2e/tools/build.sh helm`): every
//! chart of the corpus (`BERTH_CHART_CORPUS`, default `../shared/charts`
//! next to the clone or `/work/shared/charts`) is loaded, prepared and
//! rendered by berth (`berth_chart::load`, `berth_chart::process`,
//! `berth_render::engine`, `berth_render::output`) and by helm with the
//! same release name, namespace and `--kube-version 1.33.0`.
//!
//! Helm runs twice per chart: a chart whose output changes between two runs
//! (random passwords, generated certificates) is compared by document
//! sources only; every other chart must match byte for byte. When helm
//! fails, berth must fail with the same message. The first differing lines
//! are reported for each failure.
//!
//! This is the quick check of the render part; the full differential
//! harness is `conformance/charts`.

use std::path::{Path, PathBuf};
use std::process::Command;

use berth_chart::process::{prepare, ProcessOptions};
use berth_chart::Values;
use berth_render::engine::render;
use berth_render::output::{template_output, OutputOptions};
use berth_render::{Capabilities, RenderOptions};

const KUBE_VERSION: &str = "1.33.0";

fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or(here)
}

fn corpus() -> PathBuf {
    if let Some(p) = std::env::var_os("BERTH_CHART_CORPUS") {
        return PathBuf::from(p);
    }
    let repo = repo_root();
    [
        repo.join("../shared/charts"),
        PathBuf::from("/work/shared/charts"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
    .unwrap_or_else(|| repo.join("../shared/charts"))
}

fn helm() -> PathBuf {
    std::env::var_os("BERTH_HELM")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/e2e-bin/helm"))
}

/// One `helm template` run: stdout, or the error text after `Error: `.
fn helm_template(dir: &Path, v: &Variant) -> Result<String, String> {
    let mut cmd = Command::new(helm());
    cmd.arg("template")
        .arg(dir)
        .args(["--kube-version", KUBE_VERSION]);
    for s in &v.sets {
        cmd.args(["--set", s]);
    }
    if v.output.include_crds {
        cmd.arg("--include-crds");
    }
    if v.output.skip_tests {
        cmd.arg("--skip-tests");
    }
    if v.output.no_hooks {
        cmd.arg("--no-hooks");
    }
    for s in &v.output.show_only {
        cmd.args(["--show-only", s]);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run {} (build it with e2e/tools/build.sh helm): {e}",
            helm().display()
        )
    });
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let msg = err
            .lines()
            .skip_while(|l| !l.starts_with("Error: "))
            .collect::<Vec<_>>()
            .join("\n");
        let msg = msg.strip_prefix("Error: ").unwrap_or(&msg);
        let msg = msg
            .strip_suffix("\n\nUse --debug flag to render out invalid YAML")
            .unwrap_or(msg);
        Err(msg.to_string())
    }
}

/// berth's `helm template` for the same chart: output, or the error text.
fn berth_template(dir: &Path, v: &Variant) -> Result<String, String> {
    let chart = berth_chart::load::load_path(dir).map_err(|e| e.to_string())?;
    let mut user = Values::new();
    for s in &v.sets {
        berth_chart::strvals::parse_set(s, &mut user).map_err(|e| e.to_string())?;
    }
    let prepared = prepare(
        chart,
        user,
        &ProcessOptions {
            kube_version: KUBE_VERSION.into(),
            skip_schema_validation: false,
        },
    )
    .map_err(|e| e.to_string())?;
    let opts = RenderOptions {
        release: Default::default(),
        capabilities: Capabilities {
            kube_version: KUBE_VERSION.into(),
            ..Capabilities::default()
        },
        strict: false,
        subchart_notes: false,
        limits: Default::default(),
        lookup: None,
    };
    let rendered = render(&prepared.chart, &prepared.values, &opts).map_err(|e| e.to_string())?;
    template_output(&rendered, &v.output).map_err(|e| e.to_string())
}

/// The first differing line with two lines of context on each side.
fn first_difference(helm: &str, berth: &str) -> String {
    let a: Vec<&str> = helm.split('\n').collect();
    let b: Vec<&str> = berth.split('\n').collect();
    let first = a
        .iter()
        .zip(b.iter())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = first.saturating_sub(2);
    let mut out = format!("first difference at line {}:\n", first + 1);
    for (i, line) in a.iter().enumerate().skip(from).take(5) {
        out.push_str(&format!("  helm  {:>5}: {line:?}\n", i + 1));
    }
    for (i, line) in b.iter().enumerate().skip(from).take(5) {
        out.push_str(&format!("  berth {:>5}: {line:?}\n", i + 1));
    }
    out
}

/// The `# Source:` lines of an output, in order.
fn sources(s: &str) -> Vec<&str> {
    s.lines().filter(|l| l.starts_with("# Source: ")).collect()
}

/// One way of rendering a chart: `--set`s and output flags.
struct Variant {
    sets: Vec<&'static str>,
    output: OutputOptions,
}

impl Variant {
    fn label(&self, chart: &str) -> String {
        let mut l = chart.to_string();
        for s in &self.sets {
            l.push_str(&format!(" --set {s}"));
        }
        let o = &self.output;
        if o.include_crds {
            l.push_str(" --include-crds");
        }
        if o.skip_tests {
            l.push_str(" --skip-tests");
        }
        if o.no_hooks {
            l.push_str(" --no-hooks");
        }
        for s in &o.show_only {
            l.push_str(&format!(" --show-only {s}"));
        }
        l
    }
}

/// Every chart with its defaults, plus the `--set`s some charts need to
/// render at all (INDEX.md) and the output flags exercised on charts that
/// have CRDs, test hooks or hooks.
fn variants(name: &str) -> Vec<Variant> {
    let plain = |sets: Vec<&'static str>, output: OutputOptions| Variant { sets, output };
    let mut v = vec![plain(Vec::new(), OutputOptions::default())];
    match name {
        "opentelemetry-collector" => v.push(plain(
            vec![
                "mode=deployment",
                "image.repository=otel/opentelemetry-collector-k8s",
            ],
            OutputOptions::default(),
        )),
        "aws-load-balancer-controller" => v.push(plain(
            vec!["clusterName=berth"],
            OutputOptions {
                include_crds: true,
                ..Default::default()
            },
        )),
        "podinfo" => v.push(plain(
            Vec::new(),
            OutputOptions {
                skip_tests: true,
                ..Default::default()
            },
        )),
        "ingress-nginx" => {
            v.push(plain(
                Vec::new(),
                OutputOptions {
                    no_hooks: true,
                    ..Default::default()
                },
            ));
            v.push(plain(
                Vec::new(),
                OutputOptions {
                    show_only: vec![
                        "templates/controller-service.yaml".into(),
                        "templates/admission-webhooks/job-patch/*".into(),
                    ],
                    ..Default::default()
                },
            ));
            v.push(plain(
                Vec::new(),
                OutputOptions {
                    show_only: vec!["templates/nothing-here.yaml".into()],
                    ..Default::default()
                },
            ));
        }
        _ => {}
    }
    v
}

/// For a chart whose output changes between two helm runs: every line the
/// two helm runs agree on must be berth's line too (same line count), or,
/// when the line counts move, the same documents in the same order.
fn same_modulo_random(h1: &str, h2: &str, ours: &str) -> bool {
    let (a, b, c): (Vec<&str>, Vec<&str>, Vec<&str>) = (
        h1.lines().collect(),
        h2.lines().collect(),
        ours.lines().collect(),
    );
    if a.len() == b.len() && a.len() == c.len() {
        return (0..a.len()).all(|i| a[i] != b[i] || a[i] == c[i]);
    }
    sources(h1) == sources(ours)
}

#[test]
fn corpus_charts_render_as_helm_template() {
    let corpus = corpus();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap_or_else(|e| {
            panic!(
                "no chart corpus at {} ({e}); set BERTH_CHART_CORPUS",
                corpus.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Chart.yaml").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no charts under {}", corpus.display());
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for dir in &dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for variant in variants(&name) {
            let label = variant.label(&name);
            let h1 = helm_template(dir, &variant);
            let h2 = helm_template(dir, &variant);
            let ours = berth_template(dir, &variant);
            match (&h1, &h2, &ours) {
                (Ok(h), _, Ok(b)) if h == b => report.push(format!("{label}: byte-identical")),
                (Ok(h), Ok(h2), Ok(b)) if h != h2 && same_modulo_random(h, h2, b) => {
                    report.push(format!("{label}: random output; identical elsewhere"))
                }
                (Ok(h), _, Ok(b)) => failures.push(format!(
                    "{label}: output differs\n{}",
                    first_difference(h, b)
                )),
                (Err(h), _, Err(b)) if h == b => {
                    report.push(format!("{label}: both fail alike: {h}"))
                }
                (Err(h), _, Err(b)) => failures.push(format!(
                    "{label}: both fail, messages differ\n  helm:  {h}\n  berth: {b}"
                )),
                (Err(h), _, Ok(_)) => failures.push(format!("{label}: only helm fails: {h}")),
                (Ok(_), _, Err(b)) => failures.push(format!("{label}: only berth fails: {b}")),
            }
        }
    }
    for line in &report {
        println!("{line}");
    }
    assert!(
        failures.is_empty(),
        "{} of the corpus renders differ from helm template:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
