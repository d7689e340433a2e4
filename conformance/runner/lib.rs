//! The template differential suite: every case of `conformance/cases/` is
//! rendered by Helm's own engine (the Go oracle, `e2e/tools/oracle`) and by
//! berth's engine in the same run, and the outputs are compared byte for
//! byte. Nothing expected is checked in; Go is the expectation every run.
//!
//! `cases` reads the corpus, `oracle` drives the Go process, `render` builds
//! a case chart and renders it with berth's render pipeline
//! (`berth_render`), `chart` reads real charts for the benchmark and
//! `report` compares and prints.

pub mod cases;
pub mod chart;
pub mod oracle;
pub mod render;
pub mod report;

use std::path::PathBuf;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or(here)
}
