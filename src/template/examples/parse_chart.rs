//! Parse every template file of the given chart directories, as Helm's
//! engine does before executing them (one set per chart), `N` times; for
//! instruction counts of the parser (`valgrind --tool=callgrind`).
//!
//! Usage: `cargo run -p berth-template --release --example parse_chart --
//! [-n N] CHART_DIR...`

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use berth_template::{funcs, Registry, Templates};

/// A fast general-purpose allocator (the `berth` binary's one-shot bump
/// region never frees, which a loop of many parses must).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One parse of a chart's files into a fresh set (a separate function so
/// that `callgrind --toggle-collect=*parse_all*` counts only this).
#[inline(never)]
fn parse_all(registry: &Arc<Registry>, files: &[(String, String)]) -> usize {
    let mut set = Templates::new(registry.clone());
    for (fname, text) in files {
        if let Err(e) = set.parse(fname, text) {
            eprintln!("{e}");
        }
    }
    set.names().len()
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let full = format!("{prefix}/{name}");
        if p.is_dir() {
            collect(&p, &full, out)?;
        } else if let Ok(text) = std::fs::read_to_string(&p) {
            out.push((full, text));
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let mut n = 1;
    let mut charts = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "-n" {
            n = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
        } else {
            charts.push(PathBuf::from(a));
        }
    }
    let registry = Arc::new(funcs::helm_functions());
    for chart in charts {
        let name = chart
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("chart")
            .to_string();
        let mut files = Vec::new();
        collect(
            &chart.join("templates"),
            &format!("{name}/templates"),
            &mut files,
        )?;
        let bytes: usize = files.iter().map(|f| f.1.len()).sum();
        let start = Instant::now();
        let mut count = 0;
        for _ in 0..n {
            count = parse_all(&registry, &files);
        }
        let per = start.elapsed().as_secs_f64() * 1e3 / f64::from(n);
        println!(
            "{name}: {} files, {bytes} bytes, {count} templates, {per:.3} ms per parse",
            files.len()
        );
    }
    Ok(())
}
