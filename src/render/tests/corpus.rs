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

mod common;

use std::path::PathBuf;

use berth_render::output::OutputOptions;
use common::{compare, repo_root, Variant};

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
            match compare(dir, &label, &variant) {
                Ok(line) => report.push(line),
                Err(failure) => failures.push(failure),
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
