//! The apply layer of the HelmRelease controller: rendered manifests (YAML
//! documents) onto the live cluster, and back.
//!
//! - [`discovery`]: the server's API groups, versions and kinds →
//!   `.Capabilities` for the renderer, and a document's `apiVersion`/`kind`
//!   → the API resource that serves it.
//! - [`ssa`]: server-side apply with field manager `berth`, Helm's
//!   ownership labels and annotations, CRDs first (waited until
//!   `Established`), then the documents in the order given.
//! - [`inventory`]: the applied set as object references
//!   (`HelmRelease.status.inventory`) and pruning what left it.
//! - [`health`]: kstatus rules, waited on with a timeout.
//! - [`hooks`]: Helm hooks of an event, in Helm's order, with their
//!   delete policies.
//! - [`drift`]: what changed on the cluster since berth applied
//!   (server-side dry-run apply compared with the live objects).
//! - [`uninstall`]: deleting a release's objects (keep policy and
//!   ownership honoured) and the object refs of a release manifest.
//!
//! No chart loading and no registry here: the input is text.

pub mod discovery;
pub mod drift;
pub mod health;
pub mod hooks;
pub mod inventory;
pub mod ssa;
pub mod uninstall;

use std::fmt;

/// An object as errors and reports name it: `Deployment apps/web`
/// (`Kind namespace/name`), or `ClusterRole viewer` when cluster-scoped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectName {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) if !ns.is_empty() => write!(f, "{} {}/{}", self.kind, ns, self.name),
            _ => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Helm's ownership label (`app.kubernetes.io/managed-by: Helm`).
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "Helm";
/// Helm's ownership annotations: the release an object belongs to.
pub const RELEASE_NAME_ANNOTATION: &str = "meta.helm.sh/release-name";
pub const RELEASE_NAMESPACE_ANNOTATION: &str = "meta.helm.sh/release-namespace";
/// `helm.sh/resource-policy: keep` keeps an object on prune and uninstall.
pub const RESOURCE_POLICY_ANNOTATION: &str = "helm.sh/resource-policy";
pub const RESOURCE_POLICY_KEEP: &str = "keep";
/// berth's server-side apply field manager.
pub const FIELD_MANAGER: &str = "berth";
