//! `render-conformance`: `berth template` against real `helm template` on
//! every chart of the corpus (see the crate docs and docs/conformance.md).
//!
//! Usage: `render-conformance [--corpus DIR] [--berth BIN] [--helm BIN]
//! [--extra-cases FILE] [--helm-vs-helm] [--jobs N] [--quiet] [FILTER...]`
//! - `--corpus`: the chart corpus (default `BERTH_CHART_CORPUS`, else
//!   `../shared/charts` next to the clone);
//! - `--berth`: the berth binary (default `target/release/berth`, which
//!   `make conformance` builds first);
//! - `--helm`: the helm binary (default: `e2e/tools/build.sh helm` is run
//!   and `target/e2e-bin/helm` used);
//! - `--extra-cases`: the extra cases file (default
//!   `conformance/charts/extra-cases.txt`);
//! - `--helm-vs-helm`: put helm on berth's side too, to check the harness
//!   itself (every case must come out identical);
//! - a FILTER keeps the cases whose `chart/label` contains it.
//!
//! Exits non-zero unless every case is semantically identical.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::Context as _;
use berth_render_conformance::compare::{compare_case, Verdict};
use berth_render_conformance::corpus::{self, Case};
use berth_render_conformance::process::{run, Output};
use berth_render_conformance::report::{describe, Tally};

/// helm, berth, helm, and a third helm run when the first two differ; berth
/// runs between helm runs so a time-derived value falls inside their range.
fn run_case(helm: &Path, berth: &Path, case: &Case) -> anyhow::Result<Verdict> {
    let args = case.template_args();
    let h1 = run(helm, &args)?;
    let b = run(berth, &args)?;
    let h2 = run(helm, &args)?;
    let mut runs: Vec<Output> = vec![h1, h2];
    if runs[0].stdout != runs[1].stdout || runs[0].success != runs[1].success {
        runs.push(run(helm, &args)?);
    }
    Ok(compare_case(&runs, &b))
}

fn main() -> anyhow::Result<()> {
    let repo = berth_render_conformance::repo_root();
    let mut corpus_dir = corpus::corpus_dir(&repo);
    let mut berth: Option<PathBuf> = None;
    let mut helm: Option<PathBuf> = None;
    let mut extra_file = repo.join("conformance/charts/extra-cases.txt");
    let mut helm_vs_helm = false;
    let mut jobs: usize = 2;
    let mut quiet = false;
    let mut filters = Vec::new();
    let mut argv = std::env::args().skip(1);
    while let Some(a) = argv.next() {
        match a.as_str() {
            "--corpus" => corpus_dir = PathBuf::from(argv.next().context("--corpus needs a DIR")?),
            "--berth" => berth = Some(PathBuf::from(argv.next().context("--berth needs a path")?)),
            "--helm" => helm = Some(PathBuf::from(argv.next().context("--helm needs a path")?)),
            "--extra-cases" => {
                extra_file = PathBuf::from(argv.next().context("--extra-cases needs a FILE")?)
            }
            "--helm-vs-helm" => helm_vs_helm = true,
            "--jobs" => {
                jobs = argv
                    .next()
                    .context("--jobs needs N")?
                    .parse()
                    .context("--jobs needs a number")?
            }
            "--quiet" => quiet = true,
            _ => filters.push(a),
        }
    }

    let helm = match helm {
        Some(h) => h,
        None => {
            let status = std::process::Command::new(repo.join("e2e/tools/build.sh"))
                .arg("helm")
                .status()
                .context("failed to run e2e/tools/build.sh helm")?;
            anyhow::ensure!(status.success(), "e2e/tools/build.sh helm failed");
            repo.join("target/e2e-bin/helm")
        }
    };
    let berth = if helm_vs_helm {
        helm.clone()
    } else {
        berth.unwrap_or_else(|| repo.join("target/release/berth"))
    };
    anyhow::ensure!(
        berth.is_file(),
        "{} not found: build it first (cargo build --release --bin berth)",
        berth.display()
    );

    let extra_text = std::fs::read_to_string(&extra_file)
        .with_context(|| format!("failed to read {}", extra_file.display()))?;
    let extra = corpus::parse_extra_cases(&extra_text)?;
    let mut cases = corpus::cases(&corpus_dir, &extra)?;
    if !filters.is_empty() {
        cases.retain(|c| filters.iter().any(|f| c.id().contains(f.as_str())));
    }
    anyhow::ensure!(!cases.is_empty(), "no cases in {}", corpus_dir.display());
    eprintln!(
        "render conformance: {} cases from {} ({} vs {})",
        cases.len(),
        corpus_dir.display(),
        berth.display(),
        helm.display()
    );

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<anyhow::Result<Verdict>>>> =
        Mutex::new((0..cases.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let verdict = run_case(&helm, &berth, case);
                if let Ok(mut r) = results.lock() {
                    r[i] = Some(verdict);
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a worker panicked"))?;

    let mut tally = Tally::default();
    let mut failing = Vec::new();
    for (case, verdict) in cases.iter().zip(results) {
        let verdict = match verdict {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(e.context(format!("case {}", case.id()))),
            None => anyhow::bail!("case {} was not run", case.id()),
        };
        tally.add(case, &verdict);
        if !(verdict.semantic && verdict.bytes) {
            if !quiet {
                println!("{}", describe(case, &case.template_args(), &verdict));
            }
            if !verdict.semantic {
                failing.push(case.id());
            }
        }
    }
    print!("{}", tally.table());
    if !failing.is_empty() {
        println!("cases not semantically identical ({}):", failing.len());
        for id in &failing {
            println!("  {id}");
        }
    }
    println!("{}", tally.summary());
    if !failing.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}
