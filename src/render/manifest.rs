//! Rendered files → documents: split, hooks separated, sorted in Helm's
//! install order (`pkg/release/v1/util`). (Being written; the types are the
//! contract the other modules use.)

/// The identifying head of a document (`apiVersion`, `kind`,
/// `metadata.name`, `metadata.namespace`), empty when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

/// One non-hook document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The template it came from, as Helm prints it in `# Source:`
    /// (`chart/templates/x.yaml`, `chart/charts/sub/templates/y.yaml`).
    pub source: String,
    /// The document, trimmed of surrounding whitespace.
    pub content: String,
    pub head: Head,
}

/// Helm's hook events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HookEvent {
    PreInstall,
    PostInstall,
    PreDelete,
    PostDelete,
    PreUpgrade,
    PostUpgrade,
    PreRollback,
    PostRollback,
    Test,
}

/// `helm.sh/hook-delete-policy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookDeletePolicy {
    BeforeHookCreation,
    HookSucceeded,
    HookFailed,
}

/// One hook document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hook {
    pub manifest: Manifest,
    pub events: Vec<HookEvent>,
    /// `helm.sh/hook-weight` (Atoi, 0 when absent or invalid).
    pub weight: i32,
    pub delete_policies: Vec<HookDeletePolicy>,
}

/// A file from a chart's `crds/` directory, raw (never templated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Crd {
    /// `chart/crds/file.yaml` (subcharts: `chart/charts/sub/crds/...`).
    pub source: String,
    pub content: String,
}
