//! The render differential suite: `berth template` against real `helm
//! template` (Helm v4.3.1, built from the pinned module by
//! `e2e/tools/build.sh helm`) on every chart of a corpus of real charts, in
//! the same run. Nothing expected is checked in: helm is the expectation,
//! every run.
//!
//! - [`corpus`]: the charts and the cases of each (default values, each
//!   `ci/` values file, `ci/extra_args`, the extra cases of `extra-cases.txt`).
//! - [`process`]: running a tool and measuring it (wall time, peak RSS).
//! - [`docs`]: `helm template` output split into documents and parsed.
//! - [`compare`]: berth's output judged against several helm runs of the
//!   same case; whatever differs between helm runs is random by design and
//!   compared by shape.
//! - [`report`]: the compact diff printed for a failing case.

pub mod compare;
pub mod corpus;
pub mod docs;
pub mod process;
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
