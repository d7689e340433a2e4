//! `OCIRepository`: where a chart lives in an OCI registry, which version to
//! take, and who must have signed it.
//!
//! Field names follow Flux's `source.toolkit.fluxcd.io/v1` `OCIRepository`
//! wherever the meaning is the same, so a Flux manifest works after changing
//! its `apiVersion`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{LocalObjectReference, DURATION_PATTERN, OCI_URL_PATTERN};

/// Where the chart lives and which version of it berth keeps as an artifact.
// kube's `printcolumn(...)` entries repeat `type_ = ...`, which clippy
// mistakes for a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(
    group = "berth.dev",
    version = "v1alpha1",
    kind = "OCIRepository",
    plural = "ocirepositories",
    singular = "ocirepository",
    shortname = "ocirepo",
    category = "berth",
    namespaced,
    status = "OCIRepositoryStatus",
    doc = "OCIRepository polls an OCI registry, picks the artifact the ref selects, verifies its signature and keeps it by digest for HelmReleases.",
    printcolumn(
        name = "URL",
        type_ = "string",
        json_path = ".spec.url",
        priority = "1"
    ),
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
        json_path = ".status.artifact.revision"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositorySpec {
    /// The repository address, `oci://host[:port]/path` (no tag or digest:
    /// those go in `ref`).
    #[schemars(regex(pattern = OCI_URL_PATTERN))]
    pub url: String,

    /// Which artifact to take: a tag, the highest tag in a semver range, or
    /// a digest. Defaults to the `latest` tag.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "ref")]
    pub reference: Option<OCIRepositoryRef>,

    /// Which layer of the artifact to keep and what to do with it.
    /// Defaults to the first layer, extracted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_selector: Option<OCILayerSelector>,

    /// How often to check the registry for a new artifact (Go duration,
    /// e.g. `5m`).
    #[serde(default = "default_source_interval")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,

    /// How long a registry operation may take (Go duration).
    #[serde(default = "default_source_timeout")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: String,

    /// Stop reconciling this source (the current artifact stays).
    #[serde(default)]
    pub suspend: bool,

    /// A Secret with registry credentials: a `kubernetes.io/dockerconfigjson`
    /// Secret, or `username`/`password` keys for basic auth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,

    /// A ServiceAccount whose `imagePullSecrets` hold the registry
    /// credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,

    /// A Secret with TLS material for the registry: `ca.crt` (a CA bundle)
    /// and optionally `tls.crt`/`tls.key` for a client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,

    /// Allow plain HTTP to the registry. Off by default.
    #[serde(default)]
    pub insecure: bool,

    /// Signature verification: when set, only an artifact whose digest was
    /// signed by a trusted key or identity ever advances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<OCIRepositoryVerification>,
}

fn default_source_interval() -> String {
    "5m".to_string()
}

fn default_source_timeout() -> String {
    "60s".to_string()
}

/// Which artifact to take. At most one of `digest`, `semver`, `tag` decides,
/// in that order of precedence (as in Flux).
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositoryRef {
    /// An exact digest, `sha256:<hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^sha256:[a-f0-9]{64}$"))]
    pub digest: Option<String>,

    /// A semver range (Masterminds syntax, e.g. `>=1.2.0 <2.0.0`, `^1.4`,
    /// `~2.1`); the highest matching tag is taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,

    /// A regular expression tags must match before the semver range is
    /// applied (e.g. `.*-rc.*` to consider release candidates only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver_filter: Option<String>,

    /// A tag, e.g. `1.4.2` or `latest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// Selects the layer to keep from the artifact's manifest.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OCILayerSelector {
    /// The layer's media type, e.g.
    /// `application/vnd.cncf.helm.chart.content.v1.tar+gzip`. The first
    /// layer when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,

    /// `extract` (the layer is a gzipped tarball to unpack) or `copy` (keep
    /// the layer as it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<LayerOperation>,
}

/// What to do with the selected layer.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LayerOperation {
    Extract,
    Copy,
}

/// How signatures are verified.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositoryVerification {
    /// The signature format; only `cosign` is supported.
    #[serde(default)]
    pub provider: VerificationProvider,

    /// A Secret whose keys ending in `.pub` hold PEM public keys; a
    /// signature by any of them verifies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,

    /// Accepted signer identities for certificate (keyless) signatures: the
    /// certificate's OIDC issuer and subject (SAN) must fully match one
    /// entry's regular expressions.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        rename = "matchOIDCIdentity"
    )]
    pub match_oidc_identity: Vec<OIDCIdentityMatch>,

    /// A trusted root for certificate signatures and transparency-log
    /// entries (a Sigstore `trusted_root.json` or a PEM CA bundle). The
    /// public-good Sigstore root is used when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_root_ref: Option<TrustedRootReference>,

    /// Whether an accepted signature must carry a transparency-log entry
    /// (a Rekor entry that verifies against the trusted root). Unset:
    /// required for certificate identities, optional for keys. A log entry
    /// that is present is always verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transparency_log: Option<TransparencyLogPolicy>,

    /// In-toto predicate types (e.g. `https://slsa.dev/provenance/v1`)
    /// that must each be attested for the artifact's digest by one of the
    /// trusted signers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<String>,
}

/// Whether signatures need a transparency-log entry.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum TransparencyLogPolicy {
    /// Every accepted signature carries a log entry that verifies.
    Required,
    /// A log entry that is present must verify; a missing one is accepted.
    Optional,
}

/// The signature provider.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VerificationProvider {
    #[default]
    Cosign,
}

/// One accepted signer identity; both expressions are anchored.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OIDCIdentityMatch {
    /// Regular expression for the OIDC issuer, e.g.
    /// `^https://token\.actions\.githubusercontent\.com$`.
    pub issuer: String,
    /// Regular expression for the subject (the certificate's email or URI
    /// SAN).
    pub subject: String,
}

/// Where a trusted root is kept.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TrustedRootReference {
    /// `Secret` or `ConfigMap`.
    pub kind: TrustedRootKind,
    /// The object's name, in the OCIRepository's namespace.
    pub name: String,
    /// The key holding the root: `trusted_root.json` (a Sigstore trusted
    /// root) or a `.pem` CA bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The kind of object a trusted root is read from.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub enum TrustedRootKind {
    #[default]
    Secret,
    ConfigMap,
}

/// What berth observed and keeps.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositoryStatus {
    /// The generation of the spec last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,

    /// `Ready`, `Reconciling`, `Stalled`, `SourceVerified`,
    /// `ArtifactInStorage`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,

    /// The artifact berth keeps for this source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,

    /// Who signed the current artifact, when `verify` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_signer: Option<VerifiedSigner>,

    /// The value of the `reconcile.fluxcd.io/requestedAt` annotation last
    /// handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

/// An artifact kept by digest.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// `<tag>@sha256:<hex>` (or `sha256:<hex>` for a digest ref).
    pub revision: String,
    /// The digest of the kept layer, `sha256:<hex>`.
    pub digest: String,
    /// The layer's size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// The layer's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// When the artifact last changed.
    pub last_update_time: Time,
    /// The manifest's OCI annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// The signer that satisfied the verification policy.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedSigner {
    /// The Secret key of the public key that verified, for key signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The certificate's OIDC issuer, for certificate signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The certificate's subject (SAN), for certificate signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// `legacy-tag` (a `sha256-<hex>.sig` tag) or `bundle` (a Sigstore
    /// bundle attached as a referrer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}
