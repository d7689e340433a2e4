//! `HelmRelease`: a chart from an `OCIRepository`, values, and how to
//! install, upgrade, roll back and uninstall it.
//!
//! Field names follow Flux's `helm.toolkit.fluxcd.io/v2` `HelmRelease`
//! wherever the meaning is the same.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{preserve_unknown_fields, DURATION_PATTERN};

/// A Helm release berth keeps equal to a chart and its values.
// kube's `printcolumn(...)` entries repeat `type_ = ...`, which clippy
// mistakes for a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "berth.dev",
    version = "v1alpha1",
    kind = "HelmRelease",
    plural = "helmreleases",
    singular = "helmrelease",
    shortname = "hr",
    category = "berth",
    namespaced,
    status = "HelmReleaseStatus",
    doc = "HelmRelease renders a chart from an OCIRepository with the given values, applies it with server-side apply, waits for it to be healthy and remediates failures.",
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Status",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].message"
    ),
    printcolumn(
        name = "Revision",
        type_ = "string",
        json_path = ".status.lastAttemptedRevision"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct HelmReleaseSpec {
    /// The source of the chart: an `OCIRepository`.
    pub chart_ref: CrossNamespaceSourceReference,

    /// The Helm release name. Defaults to `[<targetNamespace>-]<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 53))]
    pub release_name: Option<String>,

    /// The namespace the chart's objects go into. Defaults to the
    /// HelmRelease's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub target_namespace: Option<String>,

    /// The namespace of the Helm release records
    /// (`sh.helm.release.v1.*` Secrets). Defaults to the HelmRelease's
    /// namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub storage_namespace: Option<String>,

    /// The ServiceAccount to impersonate when applying the chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,

    /// Inline values, merged over the chart's defaults after `valuesFrom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_fields")]
    pub values: Option<serde_json::Value>,

    /// Values from ConfigMaps and Secrets, merged in order (later wins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values_from: Vec<ValuesReference>,

    /// Install settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<Install>,

    /// Upgrade settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Upgrade>,

    /// Rollback settings (used by upgrade remediation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,

    /// Uninstall settings (used on deletion and by remediation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uninstall: Option<Uninstall>,

    /// How long any one Helm action (apply, wait, hooks) may take.
    #[serde(default = "default_release_timeout")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: String,

    /// Do not wait for the applied objects to become healthy.
    #[serde(default)]
    pub disable_wait: bool,

    /// Detect and correct changes made to the release's objects in the
    /// cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_detection: Option<DriftDetection>,

    /// HelmReleases that must be Ready before this one is reconciled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<DependencyReference>,

    /// How often to reconcile the release even without changes.
    #[serde(default = "default_release_interval")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,

    /// Stop reconciling this release.
    #[serde(default)]
    pub suspend: bool,

    /// How many Helm release records to keep (0 = unlimited).
    #[serde(default = "default_max_history")]
    #[schemars(range(min = 0))]
    pub max_history: i32,
}

fn default_release_timeout() -> String {
    "5m".to_string()
}

fn default_release_interval() -> String {
    "10m".to_string()
}

fn default_max_history() -> i32 {
    5
}

/// A reference to the chart's source.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceSourceReference {
    /// The source's API version (`berth.dev/v1alpha1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The source kind.
    pub kind: SourceKind,
    /// The source's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// The source's namespace; the HelmRelease's namespace when unset.
    /// Another namespace is refused when cross-namespace references are
    /// disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// The kinds a chart can come from.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum SourceKind {
    #[default]
    OCIRepository,
}

/// Values from a ConfigMap or Secret.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ValuesReference {
    /// `ConfigMap` or `Secret`.
    pub kind: ValuesKind,
    /// The object's name, in the HelmRelease's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// The data key to read; `values.yaml` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[\-._a-zA-Z0-9]+$"), length(max = 253))]
    pub values_key: Option<String>,
    /// Put the value at this path (Helm `--set` path syntax, e.g.
    /// `ingress.tls[0].secretName`) instead of merging it as a values
    /// document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 250))]
    pub target_path: Option<String>,
    /// Do not fail when the object or key is missing.
    #[serde(default)]
    pub optional: bool,
}

/// Where values come from.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum ValuesKind {
    #[default]
    ConfigMap,
    Secret,
}

/// What to do with the chart's `crds/` directory.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum CrdsPolicy {
    /// Leave CRDs alone.
    Skip,
    /// Create CRDs that do not exist; never update them.
    #[default]
    Create,
    /// Create new CRDs and update existing ones.
    CreateReplace,
}

/// Install settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Install {
    /// Overrides `spec.timeout` for installs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// What to do when an install fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<InstallRemediation>,
    /// Do not wait for health after installing.
    #[serde(default)]
    pub disable_wait: bool,
    /// Do not run the chart's hooks.
    #[serde(default)]
    pub disable_hooks: bool,
    /// Create the target namespace if it does not exist.
    #[serde(default)]
    pub create_namespace: bool,
    /// CRD policy on install (`Create` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crds: Option<CrdsPolicy>,
}

/// Install remediation.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InstallRemediation {
    /// How many times to retry a failed install (0 = none; negative =
    /// unlimited).
    #[serde(default)]
    pub retries: i64,
    /// Remediate (uninstall) after the last retry failed too. Defaults to
    /// true when `retries` > 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediate_last_failure: Option<bool>,
}

/// Upgrade settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Upgrade {
    /// Overrides `spec.timeout` for upgrades.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// What to do when an upgrade fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<UpgradeRemediation>,
    /// Do not wait for health after upgrading.
    #[serde(default)]
    pub disable_wait: bool,
    /// Do not run the chart's hooks.
    #[serde(default)]
    pub disable_hooks: bool,
    /// Force field ownership conflicts in server-side apply.
    #[serde(default)]
    pub force: bool,
    /// Delete objects created during a failed upgrade.
    #[serde(default)]
    pub cleanup_on_fail: bool,
    /// CRD policy on upgrade (`Skip` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crds: Option<CrdsPolicy>,
}

/// Upgrade remediation.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeRemediation {
    /// How many times to retry a failed upgrade (0 = none; negative =
    /// unlimited).
    #[serde(default)]
    pub retries: i64,
    /// Remediate after the last retry failed too. Defaults to true when
    /// `retries` > 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediate_last_failure: Option<bool>,
    /// `rollback` (to the last successful release, the default) or
    /// `uninstall`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RemediationStrategy>,
}

/// How a failed upgrade is remediated.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RemediationStrategy {
    #[default]
    Rollback,
    Uninstall,
}

/// Rollback settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Rollback {
    /// Overrides `spec.timeout` for rollbacks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// Do not wait for health after rolling back.
    #[serde(default)]
    pub disable_wait: bool,
    /// Do not run the chart's hooks.
    #[serde(default)]
    pub disable_hooks: bool,
    /// Force field ownership conflicts.
    #[serde(default)]
    pub force: bool,
    /// Delete objects created by the failed release.
    #[serde(default)]
    pub cleanup_on_fail: bool,
}

/// Uninstall settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Uninstall {
    /// Overrides `spec.timeout` for uninstalls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// Do not run the chart's hooks.
    #[serde(default)]
    pub disable_hooks: bool,
    /// Keep the release records after uninstalling.
    #[serde(default)]
    pub keep_history: bool,
    /// Do not wait for the objects to be gone.
    #[serde(default)]
    pub disable_wait: bool,
    /// `background` (default), `foreground` or `orphan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_propagation: Option<DeletionPropagation>,
}

/// Deletion propagation for uninstalls.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DeletionPropagation {
    #[default]
    Background,
    Foreground,
    Orphan,
}

/// Drift detection.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DriftDetection {
    /// `enabled` (detect and correct), `warn` (detect and report) or
    /// `disabled` (the default).
    #[serde(default)]
    pub mode: DriftDetectionMode,
    /// Fields to ignore when comparing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<IgnoreRule>,
}

/// Drift detection modes.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DriftDetectionMode {
    Enabled,
    Warn,
    #[default]
    Disabled,
}

/// Fields to ignore in drift detection.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreRule {
    /// JSON Pointers (RFC 6901) of the fields, e.g. `/spec/replicas`.
    pub paths: Vec<String>,
    /// Which objects the rule applies to; all when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<ObjectSelector>,
}

/// Selects objects of the release.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Another HelmRelease this one depends on.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DependencyReference {
    /// Its name.
    pub name: String,
    /// Its namespace; the same namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// What berth observed and did.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HelmReleaseStatus {
    /// The generation of the spec last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// `Ready`, `Reconciling`, `Stalled`, `Released`, `Remediated`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,

    /// The latest releases, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Snapshot>,

    /// The chart version of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,

    /// The digest of the chart artifact of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision_digest: Option<String>,

    /// The digest of the merged values of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_config_digest: Option<String>,

    /// The spec generation of the last attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_generation: Option<i64>,

    /// `install`, `upgrade`, `rollback` or `uninstall`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_release_action: Option<String>,

    /// Failed attempts since the last success.
    #[serde(default)]
    pub failures: i64,

    /// Failed installs since the last success.
    #[serde(default)]
    pub install_failures: i64,

    /// Failed upgrades since the last success.
    #[serde(default)]
    pub upgrade_failures: i64,

    /// Where the release records are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_namespace: Option<String>,

    /// The objects berth applied for this release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<ResourceInventory>,

    /// The value of the `reconcile.fluxcd.io/requestedAt` annotation last
    /// handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

/// One Helm release, as recorded in its release Secret.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The release name.
    pub name: String,
    /// The release namespace.
    pub namespace: String,
    /// The release revision.
    pub version: i64,
    /// The Helm status (`deployed`, `failed`, `superseded`, …).
    pub status: String,
    pub chart_name: String,
    pub chart_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// The digest of the merged values.
    pub config_digest: String,
    /// The digest of the chart artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci_digest: Option<String>,
    /// The digest of the release record.
    pub digest: String,
    pub first_deployed: Time,
    pub last_deployed: Time,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Time>,
}

/// The objects of a release.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceInventory {
    pub entries: Vec<ResourceRef>,
}

/// One object, as Flux writes inventory entries.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    /// `<namespace>_<name>_<group>_<kind>`.
    pub id: String,
    /// The object's API version.
    pub v: String,
}
