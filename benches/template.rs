//! `make bench` (template part): parse + execute time of berth's engine
//! against Helm's own engine (the Go oracle), measured in the same run on the
//! same work. Each side times its own in-process loop, so process start-up
//! is excluded on both sides; values decoding and chart loading are done
//! before the clock starts on both sides.
//!
//! 1. The whole differential corpus (`conformance/cases/`), every case
//!    rendered as a one-chart `engine.Render`.
//! 2. Real charts from the chart corpus (`BERTH_CHART_CORPUS`, default
//!    `../shared/charts` next to the clone, or `/work/shared/charts`): every
//!    chart without subcharts, templates only, with its default values.
//!    Before timing, berth's output is compared with Helm's file by file.
//!
//! Usage: `cargo bench -p berth-conformance --bench template [-- --iterations N]`

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use berth_conformance::cases::load_corpus;
use berth_conformance::chart::ChartDir;
use berth_conformance::oracle::Oracle;
use berth_conformance::render::{capabilities_from_oracle, Renderer};
use berth_conformance::report::{compare, Verdict};

/// A fast general-purpose allocator: the `berth` binary's one-shot bump
/// region never frees, which a timing loop of many renders must, so the
/// in-process figures here are with mimalloc (the binary used it until
/// the region replaced it; see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Row {
    name: String,
    go_nanos: f64,
    berth_nanos: f64,
    note: String,
    /// Only work both engines finish with the same result is comparable.
    comparable: bool,
}

fn chart_corpus(repo: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BERTH_CHART_CORPUS") {
        return Some(PathBuf::from(p));
    }
    [
        repo.join("../shared/charts"),
        PathBuf::from("/work/shared/charts"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

fn main() -> anyhow::Result<()> {
    let mut iterations: u64 = 5;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--iterations" {
            iterations = args
                .next()
                .context("--iterations needs N")?
                .parse()
                .context("--iterations needs a number")?;
        }
        // cargo bench passes `--bench`; ignore it and anything unknown.
    }
    let repo = berth_conformance::repo_root();
    let oracle = Oracle::build(&repo)?;
    let caps = oracle.capabilities()?;
    let renderer = Renderer::new(capabilities_from_oracle(&caps));
    let mut rows = Vec::new();

    // 1. The differential corpus: the cases both engines render
    //    identically (a case berth cannot run yet would time nothing).
    let all_cases = load_corpus(&repo.join("conformance/cases"))?;
    let helm = oracle.render_cases(&all_cases)?;
    let cases: Vec<_> = all_cases
        .iter()
        .zip(helm.iter())
        .filter(|(c, h)| compare(h, &renderer.render_case_caught(c)) == Verdict::Identical)
        .map(|(c, _)| c.clone())
        .collect();
    // One row per case family: key generation (crypto) or bcrypt cost
    // measures those libraries, not the engine, and must not hide the rest.
    let mut families: Vec<String> = cases
        .iter()
        .map(|c| c.id.split('/').next().unwrap_or("").to_string())
        .collect();
    families.dedup();
    for family in families {
        let subset: Vec<_> = cases
            .iter()
            .filter(|c| c.id.split('/').next() == Some(family.as_str()))
            .cloned()
            .collect();
        let prepared: Vec<_> = subset
            .iter()
            .filter_map(|c| renderer.prepare_case(c).ok())
            .collect();
        let go = oracle.bench_cases(&subset, iterations)?;
        // One warm-up pass, as the Go side's first iteration warms its caches.
        for p in &prepared {
            let _ = renderer.render(p);
        }
        let start = Instant::now();
        for _ in 0..iterations {
            for p in &prepared {
                let _ = renderer.render(p);
            }
        }
        let berth = start.elapsed().as_nanos() as f64;
        rows.push(Row {
            name: format!("cases/{family} ({})", prepared.len()),
            go_nanos: go.nanos as f64 / go.iterations.max(1) as f64,
            berth_nanos: berth / iterations.max(1) as f64,
            note: String::new(),
            comparable: go.cases == prepared.len(),
        });
    }
    println!(
        "corpus: timing the {} of {} cases that both engines render identically",
        cases.len(),
        all_cases.len()
    );

    // 2. Real charts.
    if let Some(corpus) = chart_corpus(&repo) {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&corpus)
            .with_context(|| format!("reading {}", corpus.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("Chart.yaml").is_file())
            .collect();
        dirs.sort();
        for dir in dirs {
            let chart = ChartDir::load(&dir)?;
            if chart.has_subcharts() {
                continue;
            }
            let go = oracle.chart(&dir, iterations)?;
            let name = chart.name().to_string();
            let p = match renderer.prepare(chart.chart) {
                Ok(p) => p,
                Err(e) => {
                    println!("{name}: berth cannot prepare the chart: {e}");
                    continue;
                }
            };
            let first =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| renderer.render(&p)))
                    .unwrap_or_else(|_| Err("berth panicked".to_string()));
            let comparable = go.files.is_some() && first.is_ok();
            if !comparable {
                // Not timed: a panicking or failing render is not the same work.
                rows.push(Row {
                    name: name.clone(),
                    go_nanos: go.nanos.unwrap_or(0) as f64 / iterations.max(1) as f64,
                    berth_nanos: f64::NAN,
                    note: match (&go.error, &first) {
                        (Some(e), _) => format!("helm fails: {}", first_line(e)),
                        (None, Err(e)) => format!("berth fails: {}", first_line(e)),
                        _ => String::new(),
                    },
                    comparable,
                });
                continue;
            }
            let note = match (&go.files, &go.error, &first) {
                (Some(helm), _, Ok(ours)) => {
                    let same = helm
                        .iter()
                        .filter(|(k, v)| ours.get(*k) == Some(*v))
                        .count();
                    format!("{same}/{} files identical", helm.len())
                }
                (_, Some(e), Err(_)) => format!("both fail (helm: {})", first_line(e)),
                (_, Some(e), Ok(_)) => format!("only helm fails: {}", first_line(e)),
                (Some(_), _, Err(e)) => format!("only berth fails: {}", first_line(e)),
                _ => String::new(),
            };
            let start = Instant::now();
            for _ in 0..iterations {
                let _ = renderer.render(&p);
            }
            let berth = start.elapsed().as_nanos() as f64;
            rows.push(Row {
                name: name.clone(),
                go_nanos: go.nanos.unwrap_or(0) as f64 / iterations.max(1) as f64,
                berth_nanos: berth / iterations.max(1) as f64,
                note,
                comparable,
            });
        }
    } else {
        println!("no chart corpus found (set BERTH_CHART_CORPUS); corpus benchmark only");
    }

    println!();
    println!("template render time per iteration ({iterations} iterations, in-process, same run)");
    println!(
        "{:<40} {:>12} {:>12} {:>12}  check",
        "work", "helm (ms)", "berth (ms)", "berth/helm"
    );
    let (mut go_total, mut berth_total) = (0.0, 0.0);
    for r in &rows {
        if r.comparable {
            go_total += r.go_nanos;
            berth_total += r.berth_nanos;
        }
        println!(
            "{:<40} {:>12.3} {:>12.3} {:>12.3}  {}{}",
            r.name,
            r.go_nanos / 1e6,
            r.berth_nanos / 1e6,
            ratio(r.berth_nanos, r.go_nanos),
            r.note,
            if r.comparable { "" } else { " [not in total]" }
        );
    }
    println!(
        "{:<40} {:>12.3} {:>12.3} {:>12.3}",
        "total (comparable rows)",
        go_total / 1e6,
        berth_total / 1e6,
        ratio(berth_total, go_total)
    );
    let (mut go_engine, mut berth_engine) = (0.0, 0.0);
    for r in rows
        .iter()
        .filter(|r| r.comparable && !r.name.starts_with("cases/crypto "))
    {
        go_engine += r.go_nanos;
        berth_engine += r.berth_nanos;
    }
    println!(
        "{:<40} {:>12.3} {:>12.3} {:>12.3}",
        "total without cases/crypto",
        go_engine / 1e6,
        berth_engine / 1e6,
        ratio(berth_engine, go_engine)
    );
    println!(
        "template bench: berth takes {:.2}x Helm's time, {:.2}x without key generation (goal: <= 0.33)",
        ratio(berth_total, go_total),
        ratio(berth_engine, go_engine)
    );
    Ok(())
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}
