//! `render-bench` (part of `make bench`): whole-process wall time and peak
//! memory of `berth template` against `helm template`, every chart of the
//! corpus, in the same run.
//!
//! For each chart, the case timed is the first one helm renders
//! successfully among: its default values, the extra cases of
//! `extra-cases.txt`, then its `ci/` values files (with `ci/extra_args` as
//! in the conformance suite), always with `--include-crds`. After one
//! warm-up run of each tool, the tools run alternately `--runs N` times
//! (default 5), output to `/dev/null`; the figure is the median wall time,
//! spawn to exit, and the largest `ru_maxrss` seen (from `wait4`).
//!
//! Usage: `render-bench [--runs N] [--corpus DIR] [--berth BIN] [--helm BIN]
//! [FILTER...]`

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use berth_render_conformance::corpus::{self, Case};
use berth_render_conformance::process::{measure, run};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let repo = berth_render_conformance::repo_root();
    let mut corpus_dir = corpus::corpus_dir(&repo);
    let mut berth = repo.join("target/release/berth");
    let mut helm: Option<PathBuf> = None;
    let mut runs: usize = 5;
    let mut filters = Vec::new();
    let mut argv = std::env::args().skip(1);
    while let Some(a) = argv.next() {
        match a.as_str() {
            "--runs" => {
                runs = argv
                    .next()
                    .context("--runs needs N")?
                    .parse()
                    .context("--runs needs a number")?
            }
            "--corpus" => corpus_dir = PathBuf::from(argv.next().context("--corpus needs a DIR")?),
            "--berth" => berth = PathBuf::from(argv.next().context("--berth needs a path")?),
            "--helm" => helm = Some(PathBuf::from(argv.next().context("--helm needs a path")?)),
            // cargo bench passes --bench to harness = false targets.
            "--bench" => {}
            _ => filters.push(a),
        }
    }
    let runs = runs.max(1);
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
    anyhow::ensure!(
        berth.is_file(),
        "{} not found: build it first (cargo build --release --bin berth)",
        berth.display()
    );
    let extra_text = std::fs::read_to_string(repo.join("conformance/charts/extra-cases.txt"))
        .context("failed to read conformance/charts/extra-cases.txt")?;
    let extra = corpus::parse_extra_cases(&extra_text)?;
    let all = corpus::cases(&corpus_dir, &extra)?;

    println!(
        "whole-process `template` time, median of {runs} runs each (same run, alternating), peak RSS = largest ru_maxrss"
    );
    println!(
        "{:<30} {:<34} {:>10} {:>10} {:>8} {:>10} {:>10}  note",
        "chart", "case", "helm ms", "berth ms", "ratio", "helm MiB", "berth MiB"
    );
    let mut total_helm = 0.0;
    let mut total_berth = 0.0;
    let mut log_ratio_sum = 0.0;
    let mut comparable = 0usize;
    let mut charts: Vec<String> = all.iter().map(|c| c.chart.clone()).collect();
    charts.dedup();
    for chart in charts {
        if !filters.is_empty() && !filters.iter().any(|f| chart.contains(f.as_str())) {
            continue;
        }
        let mut candidates: Vec<&Case> = all
            .iter()
            .filter(|c| {
                c.chart == chart && (c.label == "default" || !c.label.starts_with("default"))
            })
            .collect();
        // default first, then the extra cases, then ci/ files.
        candidates.sort_by_key(|c| {
            if c.label == "default" {
                0
            } else if c.label.starts_with("ci/") {
                2
            } else {
                1
            }
        });
        let mut picked = None;
        for c in candidates {
            if run(&helm, &c.template_args())?.success {
                picked = Some(c);
                break;
            }
        }
        let Some(case) = picked else {
            println!("{chart:<30} {:<34} helm fails on every case", "-");
            continue;
        };
        let args = case.template_args();
        let berth_ok = run(&berth, &args)?.success;
        // Warm-up: page cache and binaries.
        measure(&helm, &args)?;
        measure(&berth, &args)?;
        let (mut hw, mut bw) = (Vec::new(), Vec::new());
        let (mut hr, mut br) = (0i64, 0i64);
        for _ in 0..runs {
            let h = measure(&helm, &args)?;
            let b = measure(&berth, &args)?;
            hw.push(h.wall);
            bw.push(b.wall);
            hr = hr.max(h.max_rss_kib);
            br = br.max(b.max_rss_kib);
        }
        let (h, b) = (ms(median(hw)), ms(median(bw)));
        let note = if berth_ok {
            ""
        } else {
            "berth fails: not comparable"
        };
        println!(
            "{chart:<30} {:<34} {h:>10.1} {b:>10.1} {:>8.3} {:>10.1} {:>10.1}  {note}",
            case.label,
            b / h,
            hr as f64 / 1024.0,
            br as f64 / 1024.0
        );
        if berth_ok {
            total_helm += h;
            total_berth += b;
            log_ratio_sum += (b / h).ln();
            comparable += 1;
        }
    }
    if comparable > 0 {
        println!(
            "render bench: {comparable} charts; total berth {total_berth:.1} ms vs helm {total_helm:.1} ms = {:.3}x; geometric mean of ratios {:.3}x (goal <= 0.1)",
            total_berth / total_helm,
            (log_ratio_sum / comparable as f64).exp()
        );
    } else {
        println!("render bench: no chart berth renders yet");
    }
    Ok(())
}
