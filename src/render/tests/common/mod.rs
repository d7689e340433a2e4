//! Helpers shared by the end-to-end tests: run the real `helm template`
//! and berth's pipeline on a chart directory and compare.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use berth_chart::process::{prepare, ProcessOptions};
use berth_chart::Values;
use berth_render::engine::render;
use berth_render::output::{template_output, OutputOptions};
use berth_render::{Capabilities, RenderOptions};

pub const KUBE_VERSION: &str = "1.33.0";

pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or(here)
}

pub fn helm() -> PathBuf {
    std::env::var_os("BERTH_HELM")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/e2e-bin/helm"))
}

/// One `helm template` run: stdout, or the error text after `Error: `.
pub fn helm_template(dir: &Path, v: &Variant) -> Result<String, String> {
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
pub fn berth_template(dir: &Path, v: &Variant) -> Result<String, String> {
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
pub fn first_difference(helm: &str, berth: &str) -> String {
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
pub fn sources(s: &str) -> Vec<&str> {
    s.lines().filter(|l| l.starts_with("# Source: ")).collect()
}

/// One way of rendering a chart: `--set`s and output flags.
pub struct Variant {
    pub sets: Vec<&'static str>,
    pub output: OutputOptions,
}

impl Variant {
    pub fn label(&self, chart: &str) -> String {
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

/// For a chart whose output changes between two helm runs: every line the
/// two helm runs agree on must be berth's line too (same line count), or,
/// when the line counts move, the same documents in the same order.
pub fn same_modulo_random(h1: &str, h2: &str, ours: &str) -> bool {
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

/// Render `dir` with helm (twice) and berth and compare: `Ok(report line)`
/// when berth matches, `Err(failure description)` when not.
pub fn compare(dir: &Path, label: &str, variant: &Variant) -> Result<String, String> {
    let h1 = helm_template(dir, variant);
    let h2 = helm_template(dir, variant);
    let ours = berth_template(dir, variant);
    match (&h1, &h2, &ours) {
        (Ok(h), _, Ok(b)) if h == b => Ok(format!("{label}: byte-identical")),
        (Ok(h), Ok(h2), Ok(b)) if h != h2 && same_modulo_random(h, h2, b) => {
            Ok(format!("{label}: random output; identical elsewhere"))
        }
        (Ok(h), _, Ok(b)) => Err(format!(
            "{label}: output differs\n{}",
            first_difference(h, b)
        )),
        (Err(h), _, Err(b)) if h == b => Ok(format!("{label}: both fail alike: {h}")),
        (Err(h), _, Err(b)) => Err(format!(
            "{label}: both fail, messages differ\n  helm:  {h}\n  berth: {b}"
        )),
        (Err(h), _, Ok(_)) => Err(format!("{label}: only helm fails: {h}")),
        (Ok(_), _, Err(b)) => Err(format!("{label}: only berth fails: {b}")),
    }
}
