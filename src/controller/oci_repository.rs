//! The OCIRepository reconciler: poll the registry, pick the artifact the
//! ref selects, verify it when asked, pull it by digest into the artifact
//! store, and report it in the status.
//!
//! One pass is a short list of steps, stopping at the first error:
//! read the spec → build the registry client (credentials and TLS from the
//! Secrets the spec names) → resolve the ref to a manifest digest → skip
//! when that digest is what the status already holds and the store still
//! has it → verify (when `spec.verify` is set) → fetch the manifest by
//! digest → select the layer → pull the layer (unless the store already
//! holds its digest) → store. The status is computed once from the outcome
//! and patched only when it says something new.
//!
//! Polling cost: a tag pin costs one manifest HEAD per interval; a semver
//! ref costs the tag list, plus one HEAD only when the selected tag differs
//! from the stored one (a version tag is treated as immutable: a re-pushed
//! version is picked up on a spec change or a `requestedAt` request, which
//! both resolve the tag again). A digest pin costs nothing once stored.
//!
//! Failures keep the last good artifact, in the status and in the store.
//! Transient ones (network, 5xx, 429, timeouts) retry with exponential
//! backoff, honouring a 429's `Retry-After`; the others set `Stalled=True`:
//! an invalid spec waits for a spec change, while a registry answer that
//! may change without one (auth refused before a Secret is fixed, a tag
//! not pushed yet) is checked again at the spec's interval, never sooner.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_oci::manifest::HELM_CHART_LAYER;
use berth_oci::{Client, ClientOptions, Credentials, Digest, Document, Reference};
use berth_semver::select::Regex;
use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::events::EventType;
use kube::runtime::watcher;
use kube::ResourceExt;

use super::verify_hook::{VerificationMaterial, VerifyError, VerifyRequest};
use super::{
    parse_go_duration, publish, Context, Schedule, CONTROLLER_NAME, REQUESTED_AT_ANNOTATION,
};
use crate::api::conditions::{
    conditions_changed, remove_condition, set_condition_at, summarize, types, Status,
};
use crate::api::oci_repository::{
    Artifact, LayerOperation, OCIRepository, OCIRepositoryStatus, TrustedRootKind, VerifiedSigner,
};
use crate::artifact::StoreError;

/// Flux's generic content layer (`flux push artifact`).
pub const FLUX_CONTENT_LAYER: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";
/// The largest layer pulled into the store.
pub const MAX_LAYER_SIZE: u64 = 256 * 1024 * 1024;
/// Tags named in a "no tag matches" message.
const TAGS_SHOWN: usize = 10;

/// The key of a source in the context's maps: `namespace/name`.
pub fn owner_key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// The owner name a source holds its artifact under in the store.
pub fn store_owner(namespace: &str, name: &str) -> String {
    format!("OCIRepository/{namespace}/{name}")
}

/// Run the OCIRepository controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    options: &super::RunOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<OCIRepository> = Api::all(ctx.client.clone());
    let mut watch = watcher::Config::default();
    if let Some(selector) = &options.label_selector {
        watch = watch.labels(selector);
    }
    let controller = Controller::new(api, watch)
        .with_config(ControllerConfig::default().concurrency(options.concurrency));
    let gc = tokio::spawn(forget_deleted(ctx.clone()));
    controller
        .graceful_shutdown_on(shutdown)
        .run(
            super::metrics::instrumented("OCIRepository", reconcile),
            error_policy,
            ctx,
        )
        .for_each(|res| async move {
            match res {
                Ok((obj, _)) => {
                    tracing::trace!(name = %obj.name, ns = ?obj.namespace, "reconciled")
                }
                Err(e) => tracing::warn!(error = %e, "OCIRepository reconcile failed"),
            }
        })
        .await;
    gc.abort();
}

/// Without a finalizer, a deleted source is never reconciled again: every
/// `gc_interval`, look up each source the context keeps state for (one
/// GET each: the cost grows with berth's own work, not with the cluster)
/// and, for those that are gone, drop the registry client and schedule and
/// release their artifacts in the store (kept there until room is needed).
async fn forget_deleted(ctx: Arc<Context>) {
    loop {
        tokio::time::sleep(ctx.gc_interval).await;
        let mut known: Vec<String> = ctx
            .schedules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        known.extend(
            ctx.registry_clients
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .keys()
                .cloned(),
        );
        known.sort();
        known.dedup();
        for key in known {
            let Some((ns, name)) = key.split_once('/') else {
                continue;
            };
            let api: Api<OCIRepository> = Api::namespaced(ctx.client.clone(), ns);
            match api.get_metadata_opt(name).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    tracing::debug!(source = %key, "forgetting a deleted OCIRepository");
                    ctx.metrics.forget("OCIRepository", ns, name);
                    ctx.schedules
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&key);
                    ctx.registry_clients
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&key);
                    ctx.store.release(&store_owner(ns, name));
                }
                // Unknown: keep everything, ask again next time.
                Err(e) => tracing::debug!(source = %key, error = %e, "failed to look up a source"),
            }
        }
    }
}

/// Only status patches fail out of `reconcile`; retry them soon.
fn error_policy(_obj: Arc<OCIRepository>, err: &kube::Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "failed to update an OCIRepository status");
    Action::requeue(Duration::from_secs(5))
}

/// Why a pass failed; each variant knows its condition reason and retry
/// class.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid spec: {0}")]
    InvalidSpec(String),

    #[error("{what} {name:?} not found in namespace {namespace:?}")]
    ObjectNotFound {
        what: &'static str,
        name: String,
        namespace: String,
    },

    #[error("failed to read {what} {name:?}: {source}")]
    ReadObject {
        what: &'static str,
        name: String,
        #[source]
        source: kube::Error,
    },

    #[error("invalid credentials in Secret {name:?}: {reason}")]
    InvalidCredentials { name: String, reason: String },

    #[error("invalid TLS material in Secret {name:?}: {reason}")]
    InvalidTls { name: String, reason: String },

    #[error("failed to {step}: {source}")]
    Registry {
        step: Step,
        #[source]
        source: berth_oci::Error,
    },

    #[error("no tag matches range {range}{filter} (tags: {shown})")]
    NoMatchingTag {
        range: String,
        filter: String,
        shown: String,
    },

    #[error("{reference} is an image index; berth needs a single artifact manifest")]
    IndexNotSupported { reference: String },

    #[error("no layer of media type {wanted} in {reference} (the manifest has: {present})")]
    LayerNotFound {
        wanted: String,
        reference: String,
        present: String,
    },

    #[error(
        "layer {digest} of {reference} is not a gzip archive, so it cannot be extracted \
         (set spec.layerSelector.operation: copy to keep it as it is)"
    )]
    NotAnArchive { reference: String, digest: String },

    #[error("{0}")]
    Verification(VerifyError),

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("the registry did not answer within spec.timeout ({timeout})")]
    PassTimeout { timeout: String },
}

/// The registry step an error came from (it decides what a 404 means).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    ListTags,
    ResolveTag,
    FetchManifest,
    FetchLayer,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::ListTags => "list the tags",
            Step::ResolveTag => "resolve the tag",
            Step::FetchManifest => "fetch the manifest",
            Step::FetchLayer => "pull the layer",
        })
    }
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// The spec itself is wrong: stall until it changes.
    Spec,
    /// The registry's answer will not change by asking again soon: stall,
    /// check again at the interval.
    Permanent,
    /// Try again with backoff (at least this long, if the registry said).
    Transient(Option<Duration>),
}

fn is_tls_failure(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    ["certificate", "tls", "handshake", "unknownissuer", "x509"]
        .iter()
        .any(|w| d.contains(w))
}

impl Error {
    /// The condition reason (CamelCase, bounded).
    pub fn reason(&self) -> String {
        use berth_oci::Error as O;
        match self {
            Error::InvalidSpec(_) => "InvalidSpec".into(),
            Error::ObjectNotFound { .. } => "SecretNotFound".into(),
            Error::ReadObject { .. } => "ReadSecretFailed".into(),
            Error::InvalidCredentials { .. } => "InvalidCredentials".into(),
            Error::InvalidTls { .. } => "InvalidTLSConfig".into(),
            Error::NoMatchingTag { .. } => "NoMatchingTag".into(),
            Error::IndexNotSupported { .. } => "UnsupportedArtifact".into(),
            Error::LayerNotFound { .. } => "LayerNotFound".into(),
            Error::NotAnArchive { .. } => "NotAnArchive".into(),
            Error::Verification(v) => v.reason.clone(),
            Error::Store(_) => "StorageFull".into(),
            Error::PassTimeout { .. } => "Timeout".into(),
            Error::Registry { step, source } => match source {
                O::AuthFailed { .. } | O::TokenRealmRefused { .. } => "AuthFailed".into(),
                O::Registry {
                    status: 401 | 403, ..
                } => "AuthFailed".into(),
                O::Registry { status: 415, .. } | O::UnsupportedMediaType { .. } => {
                    "UnsupportedArtifact".into()
                }
                O::NotFound { .. } | O::Registry { status: 404, .. } => match step {
                    Step::ListTags => "RepositoryNotFound".into(),
                    Step::ResolveTag => "TagNotFound".into(),
                    Step::FetchManifest => "ManifestNotFound".into(),
                    Step::FetchLayer => "LayerNotFound".into(),
                },
                O::Transport { detail, .. } if is_tls_failure(detail) => "TLSFailed".into(),
                O::Transport { .. } => "RegistryUnreachable".into(),
                other => other.reason().into(),
            },
        }
    }

    pub fn class(&self) -> RetryClass {
        use berth_oci::Error as O;
        match self {
            Error::InvalidSpec(_) => RetryClass::Spec,
            Error::ReadObject { .. } => RetryClass::Transient(None),
            Error::Store(_) | Error::PassTimeout { .. } => RetryClass::Transient(None),
            Error::Verification(v) if v.retryable => RetryClass::Transient(None),
            Error::Registry { source, .. } => match source {
                O::Transport { detail, .. } if is_tls_failure(detail) => RetryClass::Permanent,
                e if e.is_retryable() => RetryClass::Transient(e.retry_after()),
                _ => RetryClass::Permanent,
            },
            _ => RetryClass::Permanent,
        }
    }

    /// The message for conditions and events: the error, plus a hint
    /// where the fix is usually in the spec.
    pub fn message(&self) -> String {
        let hint = match self.reason().as_str() {
            "AuthFailed" => " (check spec.secretRef or spec.serviceAccountName)",
            "TLSFailed" => {
                " (check spec.certSecretRef: ca.crt must hold the CA that signed the registry's certificate; \
                 a registry that speaks plain HTTP needs spec.insecure: true)"
            }
            "TagNotFound" => " (check spec.ref.tag)",
            "UnsupportedArtifact" => " (the registry does not serve this OCI artifact type)",
            _ => "",
        };
        format!("{self}{hint}")
    }
}

/// How the ref is resolved.
enum Want {
    Digest(Digest),
    Semver {
        range: String,
        constraint: berth_semver::Constraint,
        filter: Option<Regex>,
    },
    Tag(String),
}

/// A pass that succeeded.
struct Polled {
    artifact: Artifact,
    /// The artifact differs from the one in the status.
    changed: bool,
    signer: Option<VerifiedSigner>,
    operation: LayerOperation,
}

async fn reconcile(obj: Arc<OCIRepository>, ctx: Arc<Context>) -> Result<Action, kube::Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let key = owner_key(&namespace, &name);
    if obj.spec.suspend {
        tracing::debug!(%namespace, %name, "suspended");
        return Ok(Action::await_change());
    }
    let generation = obj.metadata.generation;
    let requested_at = obj.annotations().get(REQUESTED_AT_ANNOTATION).cloned();

    // A watch event (our own status patch included) before the next poll
    // is due changes nothing unless the spec or the request changed.
    {
        let schedules = ctx.schedules.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = schedules.get(&key) {
            let now = Instant::now();
            if s.generation == generation && s.requested_at == requested_at && now < s.due {
                return Ok(Action::requeue(s.due - now));
            }
        }
    }
    let previous_failures = ctx
        .schedules
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .filter(|s| s.generation == generation)
        .map_or(0, |s| s.failures);

    let old = obj.status.clone().unwrap_or_default();
    let same_spec = old.observed_generation == generation && generation.is_some();
    let new_request = requested_at.is_some() && requested_at != old.last_handled_reconcile_at;
    let started = Instant::now();
    let progress_shown = AtomicBool::new(false);
    // spec.timeout bounds each request and the whole pass.
    let pass_timeout = parse_go_duration(&obj.spec.timeout).unwrap_or(Duration::from_secs(60));
    let outcome = match tokio::time::timeout(
        pass_timeout,
        poll(&obj, &ctx, &old, same_spec && !new_request, &progress_shown),
    )
    .await
    {
        Ok(outcome) => outcome,
        Err(_) => Err(Error::PassTimeout {
            timeout: obj.spec.timeout.clone(),
        }),
    };
    tracing::debug!(%namespace, %name, elapsed = ?started.elapsed(), ok = outcome.is_ok(), "polled");
    ctx.metrics.observe_pull(
        &obj.spec.url,
        started.elapsed(),
        matches!(
            outcome,
            Err(Error::Registry { .. } | Error::PassTimeout { .. })
        ),
    );

    let now = Timestamp::now();
    let mut status = old.clone();
    status.observed_generation = generation;
    if requested_at.is_some() {
        status.last_handled_reconcile_at = requested_at.clone();
    }
    let conds = &mut status.conditions;
    let verify = obj.spec.verify.is_some();
    let (delay, failures) = match &outcome {
        Ok(p) => {
            remove_condition(conds, types::STALLED);
            remove_condition(conds, types::RECONCILING);
            let op = match p.operation {
                LayerOperation::Extract => "extract",
                LayerOperation::Copy => "copy",
            };
            set_condition_at(
                conds,
                types::ARTIFACT_IN_STORAGE,
                Status::True,
                "Succeeded",
                format!(
                    "stored artifact for revision '{}' (layer {}, operation {op})",
                    p.artifact.revision, p.artifact.digest
                ),
                generation,
                now,
            );
            if verify {
                let who = p.signer.as_ref().map(describe_signer).unwrap_or_default();
                set_condition_at(
                    conds,
                    types::SOURCE_VERIFIED,
                    Status::True,
                    "Succeeded",
                    format!(
                        "verified signature of revision '{}'{who}",
                        p.artifact.revision
                    ),
                    generation,
                    now,
                );
            } else {
                remove_condition(conds, types::SOURCE_VERIFIED);
            }
            let message = format!("stored artifact for revision '{}'", p.artifact.revision);
            summarize(
                conds,
                &[types::SOURCE_VERIFIED, types::ARTIFACT_IN_STORAGE],
                "Succeeded",
                &message,
                generation,
                now,
            );
            if p.changed {
                status.artifact = Some(p.artifact.clone());
                status.verified_signer = p.signer.clone();
            }
            let interval =
                parse_go_duration(&obj.spec.interval).unwrap_or(Duration::from_secs(300));
            (interval + super::jitter(interval, 5), 0)
        }
        Err(e) => {
            let reason = e.reason();
            let message = e.message();
            let class = e.class();
            tracing::info!(%namespace, %name, %reason, %message, "OCIRepository reconcile failed");
            // The last good artifact stays: it is still stored.
            let kept = old
                .artifact
                .as_ref()
                .and_then(|a| Digest::parse(&a.digest).ok())
                .is_some_and(|d| ctx.store.contains(&d));
            if kept {
                let rev = old
                    .artifact
                    .as_ref()
                    .map(|a| a.revision.clone())
                    .unwrap_or_default();
                set_condition_at(
                    conds,
                    types::ARTIFACT_IN_STORAGE,
                    Status::True,
                    "Succeeded",
                    format!("stored artifact for revision '{rev}' (kept after a failed update)"),
                    generation,
                    now,
                );
            } else {
                set_condition_at(
                    conds,
                    types::ARTIFACT_IN_STORAGE,
                    Status::False,
                    &reason,
                    &message,
                    generation,
                    now,
                );
            }
            if verify {
                if let Error::Verification(_) = e {
                    set_condition_at(
                        conds,
                        types::SOURCE_VERIFIED,
                        Status::False,
                        &reason,
                        &message,
                        generation,
                        now,
                    );
                }
            } else {
                remove_condition(conds, types::SOURCE_VERIFIED);
            }
            match class {
                RetryClass::Transient(_) => {
                    remove_condition(conds, types::STALLED);
                    set_condition_at(
                        conds,
                        types::RECONCILING,
                        Status::True,
                        "ProgressingWithRetry",
                        format!("retrying after: {message}"),
                        generation,
                        now,
                    );
                }
                RetryClass::Spec | RetryClass::Permanent => {
                    remove_condition(conds, types::RECONCILING);
                    set_condition_at(
                        conds,
                        types::STALLED,
                        Status::True,
                        &reason,
                        &message,
                        generation,
                        now,
                    );
                }
            }
            set_condition_at(
                conds,
                types::READY,
                Status::False,
                &reason,
                &message,
                generation,
                now,
            );
            conds.sort_by_key(|c| (c.type_ != types::READY, c.type_.clone()));

            let failures = previous_failures.saturating_add(1);
            let delay = match class {
                RetryClass::Transient(after) => {
                    let d = ctx.backoff.delay(failures);
                    after.map_or(d, |a| a.max(d))
                }
                // Checked again at the interval (or on a spec change).
                RetryClass::Spec | RetryClass::Permanent => {
                    parse_go_duration(&obj.spec.interval).unwrap_or(Duration::from_secs(300))
                }
            };
            publish(
                &ctx,
                &*obj,
                EventType::Warning,
                &reason,
                &message,
                "Reconcile",
            )
            .await;
            (delay, failures)
        }
    };

    if let Ok(p) = &outcome {
        if p.changed {
            publish(
                &ctx,
                &*obj,
                EventType::Normal,
                "NewArtifact",
                &format!(
                    "stored artifact for revision '{}' (layer {}, {} bytes)",
                    p.artifact.revision,
                    p.artifact.digest,
                    p.artifact.size.unwrap_or(0)
                ),
                "Pull",
            )
            .await;
        }
    }

    ctx.metrics.observe_source(&obj, &status);
    // After a progress patch the stored status is no longer `old`.
    if progress_shown.load(Ordering::Relaxed) || status_changed(&old, &status) {
        let api: Api<OCIRepository> = Api::namespaced(ctx.client.clone(), &namespace);
        let patch = serde_json::json!({
            "apiVersion": crate::api::API_VERSION,
            "kind": "OCIRepository",
            "status": status,
        });
        api.patch_status(
            &name,
            &PatchParams::apply(CONTROLLER_NAME).force(),
            &Patch::Apply(&patch),
        )
        .await?;
    }

    let spec_error = matches!(&outcome, Err(e) if e.class() == RetryClass::Spec);
    ctx.schedules
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(
            key,
            Schedule {
                due: Instant::now() + delay,
                failures,
                generation,
                requested_at,
            },
        );
    if spec_error {
        return Ok(Action::await_change());
    }
    Ok(Action::requeue(delay))
}

/// Patch `Reconciling=True` ("pulling revision …") and Ready Unknown
/// before a new revision is verified and pulled. True when patched.
async fn mark_progressing(
    ctx: &Context,
    obj: &OCIRepository,
    old: &OCIRepositoryStatus,
    revision: &str,
) -> bool {
    let generation = obj.metadata.generation;
    // A source already failing (or retrying) for this spec keeps its
    // conditions: re-marking it on every poll would only churn them.
    let failing = crate::api::conditions::is_true(&old.conditions, types::STALLED)
        || crate::api::conditions::is_true(&old.conditions, types::RECONCILING);
    if failing && old.observed_generation == generation {
        return false;
    }
    let now = Timestamp::now();
    let mut status = old.clone();
    let conds = &mut status.conditions;
    remove_condition(conds, types::STALLED);
    set_condition_at(
        conds,
        types::RECONCILING,
        Status::True,
        "Progressing",
        format!("pulling revision '{revision}'"),
        generation,
        now,
    );
    summarize(
        conds,
        &[types::SOURCE_VERIFIED, types::ARTIFACT_IN_STORAGE],
        "Succeeded",
        "",
        generation,
        now,
    );
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<OCIRepository> = Api::namespaced(ctx.client.clone(), &namespace);
    let patch = serde_json::json!({
        "apiVersion": crate::api::API_VERSION,
        "kind": "OCIRepository",
        "status": status,
    });
    match api
        .patch_status(
            &obj.name_any(),
            &PatchParams::apply(CONTROLLER_NAME).force(),
            &Patch::Apply(&patch),
        )
        .await
    {
        Ok(_) => true,
        Err(e) => {
            tracing::debug!(error = %e, "failed to show progress");
            false
        }
    }
}

fn describe_signer(s: &VerifiedSigner) -> String {
    match (&s.key, &s.issuer, &s.subject) {
        (Some(k), _, _) => format!(" by key {k}"),
        (None, Some(i), Some(sub)) => format!(" by {sub} (issuer {i})"),
        _ => String::new(),
    }
}

/// Whether a patch would tell a reader anything new (times alone are not).
fn status_changed(old: &OCIRepositoryStatus, new: &OCIRepositoryStatus) -> bool {
    conditions_changed(&old.conditions, &new.conditions)
        || old.artifact != new.artifact
        || old.observed_generation != new.observed_generation
        || old.last_handled_reconcile_at != new.last_handled_reconcile_at
        || old.verified_signer != new.verified_signer
}

/// Parse the spec into what to resolve, before any request.
fn read_spec(obj: &OCIRepository) -> Result<(Reference, Duration, Want), Error> {
    let spec = &obj.spec;
    let repo =
        Reference::parse(&spec.url).map_err(|e| Error::InvalidSpec(format!("spec.url: {e}")))?;
    if !spec.url.starts_with("oci://") {
        return Err(Error::InvalidSpec(format!(
            "spec.url {:?} must start with oci://",
            spec.url
        )));
    }
    if repo.tag().is_some() || repo.digest().is_some() {
        return Err(Error::InvalidSpec(format!(
            "spec.url {:?} must not hold a tag or digest; put it in spec.ref",
            spec.url
        )));
    }
    let timeout = parse_go_duration(&spec.timeout)
        .map_err(|e| Error::InvalidSpec(format!("spec.timeout: {e}")))?;
    parse_go_duration(&spec.interval)
        .map_err(|e| Error::InvalidSpec(format!("spec.interval: {e}")))?;
    let r = spec.reference.clone().unwrap_or_default();
    let want = if let Some(d) = r.digest.as_deref().filter(|d| !d.is_empty()) {
        Want::Digest(
            Digest::parse(d).map_err(|e| Error::InvalidSpec(format!("spec.ref.digest: {e}")))?,
        )
    } else if let Some(range) = r.semver.as_deref().filter(|s| !s.is_empty()) {
        let constraint = berth_semver::Constraint::parse(range)
            .map_err(|e| Error::InvalidSpec(format!("spec.ref.semver {range:?}: {e}")))?;
        let filter = match r.semver_filter.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(f) => Some(
                regex_filter(f)
                    .map_err(|e| Error::InvalidSpec(format!("spec.ref.semverFilter {f:?}: {e}")))?,
            ),
        };
        Want::Semver {
            range: range.to_string(),
            constraint,
            filter,
        }
    } else {
        let tag = r
            .tag
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "latest".into());
        repo.with_tag(&tag)
            .map_err(|e| Error::InvalidSpec(format!("spec.ref.tag: {e}")))?;
        Want::Tag(tag)
    };
    Ok((repo, timeout, want))
}

fn regex_filter(f: &str) -> Result<Regex, String> {
    berth_semver::select::regex::RegexBuilder::new(f)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// One pass: resolve, compare, verify, pull, store.
async fn poll(
    obj: &OCIRepository,
    ctx: &Context,
    old: &OCIRepositoryStatus,
    may_reuse: bool,
    progress_shown: &AtomicBool,
) -> Result<Polled, Error> {
    let (repo, timeout, want) = read_spec(obj)?;
    let namespace = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let owner = store_owner(&namespace, &name);
    let client = registry_client(ctx, obj, &repo, timeout).await?;
    let repository = repo.repository();

    let old_revision = old.artifact.as_ref().map(|a| a.revision.as_str());
    let (old_tag, old_digest) = match old_revision {
        Some(r) => split_revision(r),
        None => (None, None),
    };

    // Resolve the ref to a manifest digest.
    let (tag, digest) = match &want {
        Want::Digest(d) => (None, d.clone()),
        Want::Tag(t) => {
            let d = client
                .resolve(repository, t)
                .await
                .map_err(|source| Error::Registry {
                    step: Step::ResolveTag,
                    source,
                })?;
            (Some(t.clone()), d)
        }
        Want::Semver {
            range,
            constraint,
            filter,
        } => {
            let tags = client
                .list_tags(repository)
                .await
                .map_err(|source| Error::Registry {
                    step: Step::ListTags,
                    source,
                })?;
            let Some(tag) = berth_semver::select_tag(&tags, constraint, filter.as_ref()) else {
                let mut shown: Vec<&str> =
                    tags.iter().map(String::as_str).take(TAGS_SHOWN).collect();
                if tags.len() > TAGS_SHOWN {
                    shown.push("…");
                }
                return Err(Error::NoMatchingTag {
                    range: range.clone(),
                    filter: filter
                        .as_ref()
                        .map(|f| format!(" with filter {:?}", f.as_str()))
                        .unwrap_or_default(),
                    shown: if shown.is_empty() {
                        "none".into()
                    } else {
                        shown.join(", ")
                    },
                });
            };
            let tag = tag.to_string();
            // The same version as stored: a version tag is not re-resolved
            // on every poll (see the module notes).
            let reuse = match (&old_tag, &old_digest) {
                (Some(ot), Some(od)) if may_reuse && *ot == tag => Some(od.clone()),
                _ => None,
            };
            let d =
                match reuse {
                    Some(d) => d,
                    None => client.resolve(repository, &tag).await.map_err(|source| {
                        Error::Registry {
                            step: Step::ResolveTag,
                            source,
                        }
                    })?,
                };
            (Some(tag), d)
        }
    };
    let revision = match &tag {
        Some(t) => format!("{t}@{digest}"),
        None => digest.to_string(),
    };
    let reference = match &tag {
        Some(t) => repo
            .with_tag(t)
            .unwrap_or_else(|_| repo.clone())
            .with_digest(digest.clone()),
        None => repo.with_digest(digest.clone()),
    };

    // Unchanged and still stored: nothing to pull.
    if may_reuse {
        if let Some(a) = &old.artifact {
            if a.revision == revision {
                if let Ok(layer) = Digest::parse(&a.digest) {
                    if ctx.store.retain(&owner, &layer) {
                        return Ok(Polled {
                            artifact: a.clone(),
                            changed: false,
                            signer: old.verified_signer.clone(),
                            operation: layer_operation(obj),
                        });
                    }
                }
            }
        }
    }

    // Show the work before doing it (verification and the pull may take
    // a while).
    if mark_progressing(ctx, obj, old, &revision).await {
        progress_shown.store(true, Ordering::Relaxed);
    }

    // Verify before anything is pulled or stored.
    let signer = match &obj.spec.verify {
        None => None,
        Some(spec) => {
            let material = read_verification_material(ctx, obj).await?;
            let request = VerifyRequest {
                client: &client,
                reference: &reference,
                digest: &digest,
                spec,
                material: &material,
            };
            Some(
                ctx.verifier
                    .verify(request)
                    .await
                    .map_err(Error::Verification)?,
            )
        }
    };

    let manifest = client
        .fetch_manifest(repository, &digest.to_string())
        .await
        .map_err(|source| Error::Registry {
            step: Step::FetchManifest,
            source,
        })?;
    let manifest = match manifest.document {
        Document::Manifest(m) => m,
        Document::Index(_) => {
            return Err(Error::IndexNotSupported {
                reference: reference.to_string(),
            })
        }
    };
    let layer = select_layer(obj, &manifest, &reference)?.clone();
    let operation = layer_operation(obj);

    // Pull the layer unless the store already has its digest.
    let artifact_in_store = ctx.store.retain(&owner, &layer.digest);
    if !artifact_in_store {
        let bytes = client
            .fetch_blob_to_vec(repository, &layer, MAX_LAYER_SIZE)
            .await
            .map_err(|source| Error::Registry {
                step: Step::FetchLayer,
                source,
            })?;
        if operation == LayerOperation::Extract && !bytes.starts_with(&[0x1f, 0x8b]) {
            return Err(Error::NotAnArchive {
                reference: reference.to_string(),
                digest: layer.digest.to_string(),
            });
        }
        ctx.store
            .put(&owner, &layer.digest, &layer.media_type, bytes)?;
    }

    let same = old
        .artifact
        .as_ref()
        .is_some_and(|a| a.revision == revision && a.digest == layer.digest.to_string());
    let artifact = Artifact {
        revision,
        digest: layer.digest.to_string(),
        size: i64::try_from(layer.size).ok(),
        media_type: Some(layer.media_type.clone()),
        last_update_time: match (&old.artifact, same) {
            (Some(a), true) => a.last_update_time.clone(),
            _ => Time(Timestamp::now()),
        },
        metadata: manifest.annotations.clone().unwrap_or_default(),
    };
    let changed = old.artifact.as_ref() != Some(&artifact) || old.verified_signer != signer;
    Ok(Polled {
        artifact,
        changed,
        signer,
        operation,
    })
}

fn layer_operation(obj: &OCIRepository) -> LayerOperation {
    obj.spec
        .layer_selector
        .as_ref()
        .and_then(|l| l.operation)
        .unwrap_or(LayerOperation::Extract)
}

/// The layer `layerSelector.mediaType` names; by default the Helm chart
/// layer, then Flux's content layer, then the first layer.
fn select_layer<'m>(
    obj: &OCIRepository,
    manifest: &'m berth_oci::ImageManifest,
    reference: &Reference,
) -> Result<&'m berth_oci::Descriptor, Error> {
    let wanted = obj
        .spec
        .layer_selector
        .as_ref()
        .and_then(|l| l.media_type.as_deref())
        .filter(|m| !m.is_empty());
    let found = match wanted {
        Some(mt) => manifest.layer_with_media_type(mt),
        None => manifest
            .layer_with_media_type(HELM_CHART_LAYER)
            .or_else(|| manifest.layer_with_media_type(FLUX_CONTENT_LAYER))
            .or_else(|| manifest.layers.first()),
    };
    found.ok_or_else(|| {
        let mut present: Vec<&str> = manifest
            .layers
            .iter()
            .map(|l| l.media_type.as_str())
            .collect();
        present.dedup();
        Error::LayerNotFound {
            wanted: wanted.unwrap_or("(any)").to_string(),
            reference: reference.to_string(),
            present: if present.is_empty() {
                "no layers".into()
            } else {
                present.join(", ")
            },
        }
    })
}

/// `<tag>@<digest>` or `<digest>` → (tag, digest).
fn split_revision(revision: &str) -> (Option<String>, Option<Digest>) {
    match revision.rsplit_once('@') {
        Some((t, d)) => (Some(t.to_string()), Digest::parse(d).ok()),
        None => (None, Digest::parse(revision).ok()),
    }
}

/// GET one Secret of the object's namespace (never a cache of them all).
async fn get_secret(ctx: &Context, namespace: &str, name: &str) -> Result<Secret, Error> {
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    match api.get_opt(name).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(Error::ObjectNotFound {
            what: "Secret",
            name: name.to_string(),
            namespace: namespace.to_string(),
        }),
        Err(source) => Err(Error::ReadObject {
            what: "Secret",
            name: name.to_string(),
            source,
        }),
    }
}

fn secret_data(s: &Secret) -> BTreeMap<String, Vec<u8>> {
    let mut out: BTreeMap<String, Vec<u8>> = s
        .string_data
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
    for (k, v) in s.data.clone().unwrap_or_default() {
        out.insert(k, v.0);
    }
    out
}

/// Credentials from a Secret: a docker config (`.dockerconfigjson` or the
/// legacy `.dockercfg`) looked up by registry host, or `username` and
/// `password` keys. `Ok(None)` when a docker config has no entry for the
/// registry.
fn secret_credentials(s: &Secret, registry: &str) -> Result<Option<Credentials>, Error> {
    let name = s.name_any();
    let data = secret_data(s);
    let invalid = |reason: String| Error::InvalidCredentials {
        name: name.clone(),
        reason,
    };
    if let Some(json) = data
        .get(".dockerconfigjson")
        .or_else(|| data.get(".dockercfg"))
    {
        return berth_oci::docker_config::credentials_for(json, registry)
            .map_err(|e| invalid(e.to_string()));
    }
    match (data.get("username"), data.get("password")) {
        (Some(u), Some(p)) => {
            let username = String::from_utf8(u.clone())
                .map_err(|_| invalid("username is not UTF-8".into()))?;
            let password = String::from_utf8(p.clone())
                .map_err(|_| invalid("password is not UTF-8".into()))?;
            Ok(Some(Credentials::Basic { username, password }))
        }
        _ => Err(invalid(
            "expected a kubernetes.io/dockerconfigjson Secret or username and password keys".into(),
        )),
    }
}

/// The registry client for this source, reused between polls while its
/// settings (credentials, TLS, timeout) stay the same.
async fn registry_client(
    ctx: &Context,
    obj: &OCIRepository,
    repo: &Reference,
    timeout: Duration,
) -> Result<Arc<Client>, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let registry = repo.registry();
    let spec = &obj.spec;

    let mut credentials = Credentials::Anonymous;
    if let Some(r) = &spec.secret_ref {
        let s = get_secret(ctx, &namespace, &r.name).await?;
        credentials =
            secret_credentials(&s, registry)?.ok_or_else(|| Error::InvalidCredentials {
                name: r.name.clone(),
                reason: format!("its docker config has no entry for {registry}"),
            })?;
    } else if let Some(sa_name) = spec
        .service_account_name
        .as_deref()
        .filter(|n| !n.is_empty())
    {
        let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &namespace);
        let sa = match api.get_opt(sa_name).await {
            Ok(Some(sa)) => sa,
            Ok(None) => {
                return Err(Error::ObjectNotFound {
                    what: "ServiceAccount",
                    name: sa_name.to_string(),
                    namespace,
                })
            }
            Err(source) => {
                return Err(Error::ReadObject {
                    what: "ServiceAccount",
                    name: sa_name.to_string(),
                    source,
                })
            }
        };
        for ips in sa.image_pull_secrets.unwrap_or_default() {
            let s = get_secret(ctx, &namespace, &ips.name).await?;
            if let Some(c) = secret_credentials(&s, registry)? {
                credentials = c;
                break;
            }
        }
    }

    let mut options = ClientOptions {
        insecure: spec.insecure,
        timeout,
        ..ClientOptions::default()
    };
    if let Some(r) = &spec.cert_secret_ref {
        let s = get_secret(ctx, &namespace, &r.name).await?;
        let data = secret_data(&s);
        options.ca_pem = data.get("ca.crt").cloned();
        options.client_cert_pem = data.get("tls.crt").cloned();
        options.client_key_pem = data.get("tls.key").cloned();
        if options.ca_pem.is_none() && options.client_cert_pem.is_none() {
            return Err(Error::InvalidTls {
                name: r.name.clone(),
                reason: "it has neither ca.crt nor tls.crt".into(),
            });
        }
    }

    let mut h = std::collections::hash_map::DefaultHasher::new();
    registry.hash(&mut h);
    match &credentials {
        Credentials::Anonymous => 0u8.hash(&mut h),
        Credentials::Basic { username, password } => (1u8, username, password).hash(&mut h),
        Credentials::IdentityToken { token } => (2u8, token).hash(&mut h),
        Credentials::RegistryToken { token } => (3u8, token).hash(&mut h),
    }
    (
        &options.ca_pem,
        &options.client_cert_pem,
        &options.client_key_pem,
        options.insecure,
        options.timeout,
    )
        .hash(&mut h);
    let fingerprint = h.finish();

    let key = owner_key(&namespace, &obj.name_any());
    {
        let clients = ctx
            .registry_clients
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some((f, c)) = clients.get(&key) {
            if *f == fingerprint {
                return Ok(c.clone());
            }
        }
    }
    let tls_secret = spec
        .cert_secret_ref
        .as_ref()
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let client = Client::new(registry, credentials, options).map_err(|e| match e {
        berth_oci::Error::InvalidOptions(reason) if !tls_secret.is_empty() => Error::InvalidTls {
            name: tls_secret.clone(),
            reason,
        },
        other => Error::InvalidSpec(other.to_string()),
    })?;
    let client = Arc::new(client);
    ctx.registry_clients
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, (fingerprint, client.clone()));
    Ok(client)
}

/// Read the objects `spec.verify` names.
async fn read_verification_material(
    ctx: &Context,
    obj: &OCIRepository,
) -> Result<VerificationMaterial, Error> {
    let namespace = obj.namespace().unwrap_or_default();
    let mut material = VerificationMaterial::default();
    let Some(v) = &obj.spec.verify else {
        return Ok(material);
    };
    if let Some(r) = &v.secret_ref {
        material.secret = Some(secret_data(&get_secret(ctx, &namespace, &r.name).await?));
    }
    if let Some(root) = &v.trusted_root_ref {
        material.trusted_root = Some(match root.kind {
            TrustedRootKind::Secret => secret_data(&get_secret(ctx, &namespace, &root.name).await?),
            TrustedRootKind::ConfigMap => {
                let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &namespace);
                let cm = match api.get_opt(&root.name).await {
                    Ok(Some(cm)) => cm,
                    Ok(None) => {
                        return Err(Error::ObjectNotFound {
                            what: "ConfigMap",
                            name: root.name.clone(),
                            namespace,
                        })
                    }
                    Err(source) => {
                        return Err(Error::ReadObject {
                            what: "ConfigMap",
                            name: root.name.clone(),
                            source,
                        })
                    }
                };
                let mut out: BTreeMap<String, Vec<u8>> = cm
                    .data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, v.into_bytes()))
                    .collect();
                for (k, v) in cm.binary_data.unwrap_or_default() {
                    out.insert(k, v.0);
                }
                out
            }
        });
    }
    Ok(material)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::oci_repository::{OCILayerSelector, OCIRepositoryRef, OCIRepositorySpec};

    fn repo(spec: OCIRepositorySpec) -> OCIRepository {
        let mut o = OCIRepository::new("r", spec);
        o.metadata.namespace = Some("ns".into());
        o
    }

    fn spec(url: &str, r: OCIRepositoryRef) -> OCIRepositorySpec {
        OCIRepositorySpec {
            url: url.into(),
            reference: Some(r),
            interval: "5m".into(),
            timeout: "60s".into(),
            ..OCIRepositorySpec::default()
        }
    }

    #[test]
    fn spec_errors_are_invalid_spec() {
        let bad = [
            spec("oci://reg.example/a:1.0.0", OCIRepositoryRef::default()),
            spec("https://reg.example/a", OCIRepositoryRef::default()),
            spec(
                "oci://reg.example/a",
                OCIRepositoryRef {
                    semver: Some("not a range".into()),
                    ..Default::default()
                },
            ),
            spec(
                "oci://reg.example/a",
                OCIRepositoryRef {
                    semver: Some("^1".into()),
                    semver_filter: Some("(".into()),
                    ..Default::default()
                },
            ),
            spec(
                "oci://reg.example/a",
                OCIRepositoryRef {
                    digest: Some("sha256:abc".into()),
                    ..Default::default()
                },
            ),
        ];
        for s in bad {
            let err = read_spec(&repo(s.clone())).err().unwrap();
            assert_eq!(err.reason(), "InvalidSpec", "{s:?}: {err}");
            assert_eq!(err.class(), RetryClass::Spec);
        }
    }

    #[test]
    fn digest_wins_over_semver_and_tag() {
        let d = format!("sha256:{}", "a".repeat(64));
        let s = spec(
            "oci://reg.example/a",
            OCIRepositoryRef {
                digest: Some(d.clone()),
                semver: Some("^1".into()),
                tag: Some("x".into()),
                ..Default::default()
            },
        );
        match read_spec(&repo(s)).unwrap().2 {
            Want::Digest(got) => assert_eq!(got.to_string(), d),
            _ => panic!("not a digest ref"),
        }
        let s = spec("oci://reg.example/a", OCIRepositoryRef::default());
        assert!(matches!(read_spec(&repo(s)).unwrap().2, Want::Tag(t) if t == "latest"));
    }

    fn manifest(types: &[&str]) -> berth_oci::ImageManifest {
        let layer = |mt: &str, i: u8| berth_oci::Descriptor {
            media_type: mt.into(),
            digest: Digest::sha256_of(&[i]),
            size: 1,
            urls: None,
            annotations: None,
            artifact_type: None,
            platform: None,
        };
        berth_oci::ImageManifest {
            schema_version: 2,
            media_type: None,
            artifact_type: None,
            config: layer("application/vnd.cncf.helm.config.v1+json", 0),
            layers: types
                .iter()
                .enumerate()
                .map(|(i, t)| layer(t, i as u8 + 1))
                .collect(),
            subject: None,
            annotations: None,
        }
    }

    #[test]
    fn layer_selection_order() {
        let r = Reference::parse("reg.example/a:1").unwrap();
        let plain = repo(spec("oci://reg.example/a", OCIRepositoryRef::default()));
        let m = manifest(&["x/other", FLUX_CONTENT_LAYER, HELM_CHART_LAYER]);
        assert_eq!(
            select_layer(&plain, &m, &r).unwrap().media_type,
            HELM_CHART_LAYER
        );
        let m = manifest(&["x/other", FLUX_CONTENT_LAYER]);
        assert_eq!(
            select_layer(&plain, &m, &r).unwrap().media_type,
            FLUX_CONTENT_LAYER
        );
        let m = manifest(&["x/other", "y/other"]);
        assert_eq!(select_layer(&plain, &m, &r).unwrap().media_type, "x/other");

        let mut selecting = spec("oci://reg.example/a", OCIRepositoryRef::default());
        selecting.layer_selector = Some(OCILayerSelector {
            media_type: Some("y/other".into()),
            operation: Some(LayerOperation::Copy),
        });
        let selecting = repo(selecting);
        assert_eq!(
            select_layer(&selecting, &m, &r).unwrap().media_type,
            "y/other"
        );
        let err =
            select_layer(&selecting, &manifest(&["x/other", HELM_CHART_LAYER]), &r).unwrap_err();
        assert_eq!(err.reason(), "LayerNotFound");
        let text = err.to_string();
        assert!(
            text.contains("y/other") && text.contains("x/other, application/vnd.cncf.helm"),
            "{text}"
        );
        assert_eq!(layer_operation(&selecting), LayerOperation::Copy);
        assert_eq!(layer_operation(&plain), LayerOperation::Extract);
    }

    #[test]
    fn revisions_split() {
        let d = format!("sha256:{}", "b".repeat(64));
        assert_eq!(
            split_revision(&format!("1.2.0@{d}")),
            (Some("1.2.0".into()), Some(Digest::parse(&d).unwrap()))
        );
        assert_eq!(split_revision(&d), (None, Some(Digest::parse(&d).unwrap())));
    }

    #[test]
    fn registry_errors_map_to_reasons_and_classes() {
        use berth_oci::Error as O;
        let reg = |step, source| Error::Registry { step, source };
        let cases: Vec<(Error, &str, RetryClass)> = vec![
            (
                reg(
                    Step::ResolveTag,
                    O::NotFound {
                        what: "manifest".into(),
                        message: "x".into(),
                    },
                ),
                "TagNotFound",
                RetryClass::Permanent,
            ),
            (
                reg(
                    Step::ListTags,
                    O::AuthFailed {
                        registry: "r".into(),
                        message: "401".into(),
                    },
                ),
                "AuthFailed",
                RetryClass::Permanent,
            ),
            (
                reg(
                    Step::FetchManifest,
                    O::Registry {
                        what: "m".into(),
                        status: 415,
                        message: "x".into(),
                    },
                ),
                "UnsupportedArtifact",
                RetryClass::Permanent,
            ),
            (
                reg(
                    Step::FetchLayer,
                    O::RateLimited {
                        what: "b".into(),
                        retry_after: Duration::from_secs(7),
                    },
                ),
                "RateLimited",
                RetryClass::Transient(Some(Duration::from_secs(7))),
            ),
            (
                reg(Step::ListTags, O::Timeout { what: "t".into() }),
                "Timeout",
                RetryClass::Transient(None),
            ),
            (
                reg(
                    Step::FetchLayer,
                    O::DigestMismatch {
                        what: "b".into(),
                        expected: Digest::sha256_of(b"a"),
                        actual: "sha256:x".into(),
                    },
                ),
                "DigestMismatch",
                RetryClass::Permanent,
            ),
        ];
        for (e, reason, class) in cases {
            assert_eq!(e.reason(), reason, "{e}");
            assert_eq!(e.class(), class, "{e}");
        }
    }
}
