//! The Helm render pipeline: a prepared chart tree and its final values
//! (from `berth_chart::process`) → the manifests, hooks, CRDs and NOTES
//! that `helm template` / `helm install` would produce.
//!
//! - [`engine`]: every template of the chart and its subcharts parsed into
//!   one set in Helm's order, each non-partial file executed with its
//!   chart's top-level object (`.Values` scoped per subchart, `.Release`,
//!   `.Chart`, `.Capabilities`, `.Template`, `.Files`, `.Subcharts`), `<no
//!   value>` removed, errors worded as Helm words them.
//! - [`objects`]: the Go objects of that top-level value (`.Files` with
//!   `Get`/`GetBytes`/`Glob`/`Lines`/`AsConfig`/`AsSecrets`,
//!   `.Capabilities` with `APIVersions.Has`, `.Chart`), and Helm v4.3.1's
//!   client-only defaults (`Capabilities::default()`).
//! - [`manifest`]: rendered files split into documents, hooks separated,
//!   sorted in Helm's install order; CRDs from `crds/`.
//! - [`output`]: the text `helm template` prints.
//!
//! Checked against the real `helm template` (Helm v4.3.1) by the tests in
//! `src/render/tests/` (the chart corpus and small feature charts, helm
//! run in the same test) and by `make conformance`.

pub mod engine;
pub mod manifest;
pub mod objects;
pub mod output;

use berth_template::engine::{Limits, LookupHook};

static ONE_SHOT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Declare that this process exits right after its render (`berth
/// template`): renders then leave their parse trees allocated instead of
/// freeing them node by node (millions of instructions on large charts).
/// Never call it in a long-running process.
pub fn one_shot_process() {
    ONE_SHOT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether [`one_shot_process`] was called.
pub(crate) fn is_one_shot() -> bool {
    ONE_SHOT.load(std::sync::atomic::Ordering::Relaxed)
}

/// `.Release` (Helm's `common.ReleaseOptions` as `ToRenderValues` exposes
/// them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub name: String,
    pub namespace: String,
    pub revision: i64,
    pub is_install: bool,
    pub is_upgrade: bool,
}

impl Default for Release {
    /// What `helm template` uses without arguments.
    fn default() -> Release {
        Release {
            name: "release-name".into(),
            namespace: "default".into(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
        }
    }
}

/// `.Capabilities.HelmVersion` (Helm's `version.BuildInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelmVersion {
    pub version: String,
    pub git_commit: String,
    pub git_tree_state: String,
    pub go_version: String,
    pub kube_client_version: String,
}

/// `.Capabilities`: the cluster the chart is rendered for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// `v1.33.0` form (a leading `v` is added when missing).
    pub kube_version: String,
    /// Group/versions (and, from a live cluster, `group/version/Kind`).
    pub api_versions: Vec<String>,
    pub helm_version: HelmVersion,
}

/// How to render.
#[derive(Clone)]
pub struct RenderOptions {
    pub release: Release,
    pub capabilities: Capabilities,
    /// Helm's `Strict` (`missingkey=error`); `helm template` never sets it.
    pub strict: bool,
    /// Render NOTES.txt of subcharts too (`--render-subchart-notes`).
    pub subchart_notes: bool,
    pub limits: Limits,
    /// Answers `lookup`; `None` returns Helm's client-only empty map.
    pub lookup: Option<LookupHook>,
}

impl Default for RenderOptions {
    /// `helm template` without flags: release `release-name` in `default`,
    /// Helm v4.3.1's client-only capabilities, not strict, root notes only,
    /// default limits, `lookup` answering an empty map.
    fn default() -> RenderOptions {
        RenderOptions {
            release: Release::default(),
            capabilities: Capabilities::default(),
            strict: false,
            subchart_notes: false,
            limits: Limits::default(),
            lookup: None,
        }
    }
}

/// A rendered chart, split and sorted as Helm does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    /// Non-hook documents in install order.
    pub manifests: Vec<manifest::Manifest>,
    /// Hook documents, sorted by kind order like Helm prints them.
    pub hooks: Vec<manifest::Hook>,
    /// The CRD files of the chart and its subcharts (Helm's `CRDObjects`
    /// order), raw.
    pub crds: Vec<manifest::Crd>,
    /// The rendered `NOTES.txt` of the top chart (and of subcharts when
    /// asked), if any.
    pub notes: Option<String>,
}
