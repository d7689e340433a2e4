//! The chart corpus and the cases run for each chart.
//!
//! A chart is a directory of the corpus holding a `Chart.yaml`. Its cases,
//! each rendered once by berth and several times by helm:
//! - `default`: the chart's own values, `--include-crds`;
//! - `default-no-crds`: the same without `--include-crds` (what
//!   `helm template` prints by default);
//! - `ci/<file>`: each values file (`.yaml`/`.yml`) the chart ships under
//!   `ci/`, with `--include-crds`;
//! - `ci/extra_args`: when the chart has that file (the arguments its own CI
//!   passes to every install), its arguments are added to every case above,
//!   and one more case, `default-without-extra-args`, renders without them;
//! - the extra cases `extra-cases.txt` (next to this file) lists for a chart,
//!   following the corpus notes (`INDEX.md`).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// One `template` invocation to compare.
#[derive(Debug, Clone)]
pub struct Case {
    /// The chart's directory name in the corpus.
    pub chart: String,
    pub chart_dir: PathBuf,
    /// Short name of the case within its chart (`default`, `ci/x.yaml`).
    pub label: String,
    /// Arguments after the common `template RELEASE CHART --namespace NS
    /// --kube-version V`.
    pub args: Vec<String>,
}

/// The common arguments of every case: a non-default release name and
/// namespace (so templates using them are exercised) and a Kubernetes
/// version (INDEX.md: a helm built from source reports an old one).
pub const RELEASE: &str = "berth-demo";
pub const NAMESPACE: &str = "berth-ns";
pub const KUBE_VERSION: &str = "1.33.0";

impl Case {
    /// The full argument list for `helm` or `berth`: `template RELEASE
    /// CHART --namespace NS --kube-version V` and the case's own.
    pub fn template_args(&self) -> Vec<String> {
        let mut args = vec![
            "template".to_string(),
            RELEASE.to_string(),
            self.chart_dir.to_string_lossy().into_owned(),
            "--namespace".to_string(),
            NAMESPACE.to_string(),
            "--kube-version".to_string(),
            KUBE_VERSION.to_string(),
        ];
        args.extend(self.args.iter().cloned());
        args
    }

    /// `chart/label`, how the report names the case.
    pub fn id(&self) -> String {
        format!("{}/{}", self.chart, self.label)
    }
}

/// The corpus folder: `BERTH_CHART_CORPUS`, else `../shared/charts` next to
/// the clone.
pub fn corpus_dir(repo: &Path) -> PathBuf {
    match std::env::var_os("BERTH_CHART_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => repo.join("../shared/charts"),
    }
}

/// Every chart directory of the corpus, sorted by name.
pub fn chart_dirs(corpus: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut charts = Vec::new();
    let entries = std::fs::read_dir(corpus)
        .with_context(|| format!("failed to read the chart corpus {}", corpus.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if path.join("Chart.yaml").is_file() {
            charts.push((entry.file_name().to_string_lossy().into_owned(), path));
        }
    }
    charts.sort();
    Ok(charts)
}

/// One line of `extra-cases.txt`: `<chart> <label> <args...>`.
#[derive(Debug, Clone)]
pub struct ExtraCase {
    pub chart: String,
    pub label: String,
    pub args: Vec<String>,
}

/// Reads `extra-cases.txt`: one case a line, `#` comments, arguments split
/// on whitespace (no quoting); `{chart}` in an argument stands for the
/// chart's directory.
pub fn parse_extra_cases(text: &str) -> anyhow::Result<Vec<ExtraCase>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace().map(str::to_string);
        let (Some(chart), Some(label)) = (words.next(), words.next()) else {
            anyhow::bail!(
                "extra-cases.txt:{}: want `<chart> <label> <args...>`",
                n + 1
            );
        };
        out.push(ExtraCase {
            chart,
            label,
            args: words.collect(),
        });
    }
    Ok(out)
}

/// Every case of every chart of the corpus, in chart order.
pub fn cases(corpus: &Path, extra: &[ExtraCase]) -> anyhow::Result<Vec<Case>> {
    let mut out = Vec::new();
    for (chart, dir) in chart_dirs(corpus)? {
        let ci = dir.join("ci");
        let extra_args: Vec<String> = match std::fs::read_to_string(ci.join("extra_args")) {
            Ok(text) => text.split_whitespace().map(str::to_string).collect(),
            Err(_) => Vec::new(),
        };
        let case = |label: &str, args: Vec<String>| Case {
            chart: chart.clone(),
            chart_dir: dir.clone(),
            label: label.to_string(),
            args,
        };
        let with = |args: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = extra_args.clone();
            v.extend(args.iter().map(|s| s.to_string()));
            v
        };
        out.push(case("default", with(&["--include-crds"])));
        out.push(case("default-no-crds", with(&[])));
        if !extra_args.is_empty() {
            out.push(case(
                "default-without-extra-args",
                vec!["--include-crds".to_string()],
            ));
        }
        let mut values_files = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&ci) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.path().is_file() && (name.ends_with(".yaml") || name.ends_with(".yml")) {
                    values_files.push(name);
                }
            }
        }
        values_files.sort();
        for name in values_files {
            let path = ci.join(&name);
            let path = path.to_string_lossy();
            out.push(case(
                &format!("ci/{name}"),
                with(&["-f", path.as_ref(), "--include-crds"]),
            ));
        }
        for e in extra.iter().filter(|e| e.chart == chart) {
            let dir_text = dir.to_string_lossy();
            let mut args: Vec<String> = e
                .args
                .iter()
                .map(|a| a.replace("{chart}", &dir_text))
                .collect();
            args.push("--include-crds".to_string());
            out.push(case(&e.label, args));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_cases_skip_comments_and_split_arguments() {
        let text = "# chart label args\n\nc1 with-set --set a=b --set c=d\n";
        let cases = parse_extra_cases(text).unwrap();
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].chart, "c1");
        assert_eq!(cases[0].label, "with-set");
        assert_eq!(cases[0].args, ["--set", "a=b", "--set", "c=d"]);
    }

    #[test]
    fn extra_case_without_label_is_an_error() {
        assert!(parse_extra_cases("lonely\n").is_err());
    }
}
