//! The HelmRelease reconciler: keep a Helm release equal to the chart of
//! an `OCIRepository` artifact and the composed values, safely.
//!
//! One pass, stopping at the first step that cannot go on:
//! deletion (finalizer: uninstall) → `suspend` → `dependsOn` Ready →
//! the source's artifact from the store → values (`valuesFrom`, inline) →
//! the release records (`sh.helm.release.v1.*`; a `pending-*` revision
//! left by a berth that stopped mid-action is marked failed first) →
//! decide:
//!
//! - no release yet (or none deployed) → **install**;
//! - the last revision is deployed with this chart version, these values
//!   and this artifact digest → in sync: only drift detection runs;
//! - otherwise → **upgrade** (a release written by `helm install` is
//!   adopted by the first upgrade, taking over field ownership).
//!
//! A failed install or upgrade counts against `remediation.retries`
//! (negative: unlimited). Between attempts, and after the last one when
//! `remediateLastFailure` says so, it is remediated: a failed install is
//! uninstalled, a failed upgrade rolled back to the last deployed revision
//! (or uninstalled, per `strategy`). When retries are exhausted the object
//! is `Stalled` with `RetriesExhausted` and nothing runs again until the
//! desired state (chart artifact, values, spec generation) changes: no
//! loop without end. A render or schema error changes nothing in the
//! cluster: it is reported (`RenderFailed`, `ValuesSchemaViolation`) and
//! not remediated.
//!
//! Watches, not polling: HelmReleases (changes of spec, annotations,
//! finalizers or deletion — not the status berth writes);
//! OCIRepositories (mapped to the HelmReleases whose `chartRef` names
//! them); ConfigMaps and Secrets, metadata only (mapped to the
//! HelmReleases whose `valuesFrom` names them). `spec.interval` re-runs
//! the pass (drift detection) even without changes.

pub mod action;
pub mod lookup;
pub mod values;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{finalizer, Event as FinalizerEvent};
use kube::runtime::reflector::{self, reflector, ObjectRef, Store as Reflector};
use kube::runtime::{predicates, Predicate as _};
use kube::runtime::{watcher, WatchStreamExt as _};
use kube::ResourceExt;

use self::action::{deployed, ActionError, ActionKind, ActionSettings, Desired, Runner};
use super::{parse_go_duration, publish, Context, CONTROLLER_NAME, REQUESTED_AT_ANNOTATION};
use crate::api::conditions::{remove_condition, set_condition_at, summarize, types, Status};
use crate::api::helm_release::{
    CrdsPolicy, DriftDetectionMode, HelmRelease, HelmReleaseSpec, HelmReleaseStatus,
    RemediationStrategy, Snapshot, ValuesKind,
};
use crate::api::oci_repository::OCIRepository;
use crate::apply::discovery::Discovered;
use crate::release::{config_digest, Release, Store};

/// berth's finalizer on HelmReleases: deleting one uninstalls its release.
pub const FINALIZER: &str = "finalizers.berth.dev";
/// Snapshots kept in `status.history`.
const HISTORY_SHOWN: usize = 5;
/// How soon a HelmRelease waiting on a dependency or a source looks again.
const DEPENDENCY_REQUEUE: Duration = Duration::from_secs(5);

/// Run the HelmRelease controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    options: &super::RunOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let api: Api<HelmRelease> = Api::all(ctx.client.clone());
    let mut watch = watcher::Config::default();
    if let Some(selector) = &options.label_selector {
        watch = watch.labels(selector);
    }
    // A HelmRelease is reconciled when its spec (generation), annotations
    // (a reconcile request), finalizers or deletion change — not on
    // status updates: each pass writes the status, and reacting to that
    // would run the next pass at once (a failing release would retry
    // without backoff, a stalled one would loop).
    let (reader, writer) = reflector::store();
    let trigger = reflector(writer, watcher(api, watch))
        .applied_objects()
        .predicate_filter(
            predicates::generation
                .combine(predicates::annotations)
                .combine(predicates::finalizers)
                .combine(|hr: &HelmRelease| hr.metadata.deletion_timestamp.as_ref().map(|_| 1)),
            Default::default(),
        );
    let controller = Controller::for_stream(trigger, reader)
        .with_config(ControllerConfig::default().concurrency(options.concurrency));
    let releases = controller.store();

    let by_source = releases.clone();
    let sources = Api::<OCIRepository>::all(ctx.client.clone());
    let by_config_map = releases.clone();
    let config_maps = watcher(
        Api::<PartialObjectMeta<ConfigMap>>::all(ctx.client.clone()),
        watcher::Config::default(),
    )
    .touched_objects();
    let by_secret = releases;
    let secrets = watcher(
        Api::<PartialObjectMeta<Secret>>::all(ctx.client.clone()),
        watcher::Config::default(),
    )
    .touched_objects();
    controller
        .watches(sources, watcher::Config::default(), move |src| {
            let ns = src.namespace().unwrap_or_default();
            let name = src.name_any();
            matching(&by_source, |hr| {
                let hr_ns = hr.namespace().unwrap_or_default();
                let r = &hr.spec.chart_ref;
                r.name == name && r.namespace.as_deref().unwrap_or(&hr_ns) == ns
            })
        })
        .watches_stream(config_maps, move |cm| {
            let ns = cm.namespace().unwrap_or_default();
            let name = cm.name_any();
            matching(&by_config_map, |hr| {
                references(hr, ValuesKind::ConfigMap, &ns, &name)
            })
        })
        .watches_stream(secrets, move |s| {
            let ns = s.namespace().unwrap_or_default();
            let name = s.name_any();
            matching(&by_secret, |hr| {
                references(hr, ValuesKind::Secret, &ns, &name)
            })
        })
        .graceful_shutdown_on(shutdown)
        .run(
            super::metrics::instrumented("HelmRelease", reconcile),
            error_policy,
            ctx,
        )
        .for_each(|res| async move {
            match res {
                Ok((obj, _)) => {
                    tracing::trace!(name = %obj.name, ns = ?obj.namespace, "reconciled")
                }
                Err(e) => tracing::warn!(error = %e, "HelmRelease reconcile failed"),
            }
        })
        .await;
}

fn matching(
    store: &Reflector<HelmRelease>,
    pred: impl Fn(&HelmRelease) -> bool,
) -> Vec<ObjectRef<HelmRelease>> {
    store
        .state()
        .into_iter()
        .filter(|hr| pred(hr))
        .map(|hr| ObjectRef::from_obj(&*hr))
        .collect()
}

fn references(hr: &HelmRelease, kind: ValuesKind, ns: &str, name: &str) -> bool {
    let hr_ns = hr.namespace().unwrap_or_default();
    values::referenced_objects(&hr_ns, &hr.spec.values_from)
        .iter()
        .any(|(k, n, m)| *k == kind && n == ns && m == name)
}

/// Why a pass could not even start or finish its bookkeeping.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to update the HelmRelease status: {0}")]
    Status(#[source] kube::Error),
    #[error("{0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    #[error("uninstall failed: {0}")]
    Uninstall(String),
}

fn error_policy(_obj: Arc<HelmRelease>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "HelmRelease reconcile failed");
    Action::requeue(Duration::from_secs(10))
}

async fn reconcile(hr: Arc<HelmRelease>, ctx: Arc<Context>) -> Result<Action, Error> {
    let namespace = hr.namespace().unwrap_or_default();
    let api: Api<HelmRelease> = Api::namespaced(ctx.client.clone(), &namespace);
    finalizer(&api, FINALIZER, hr, |event| async {
        match event {
            FinalizerEvent::Apply(hr) => reconcile_release(&hr, &ctx).await,
            FinalizerEvent::Cleanup(hr) => finalize(&hr, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)))
}

/// The Helm release name: `spec.releaseName`, else
/// `[<targetNamespace>-]<name>`, shortened as Flux does when longer than
/// Helm's 53 characters (the first 40, `-`, 12 hex of its SHA-256).
pub fn release_name(hr: &HelmRelease) -> String {
    if let Some(n) = &hr.spec.release_name {
        return n.clone();
    }
    let name = hr.name_any();
    let full = match &hr.spec.target_namespace {
        Some(t) if !t.is_empty() => format!("{t}-{name}"),
        _ => name,
    };
    if full.len() <= 53 {
        return full;
    }
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(full.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let mut cut = 40;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{}", &full[..cut], &hex[..12])
}

fn target_namespace(hr: &HelmRelease) -> String {
    hr.spec
        .target_namespace
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| hr.namespace().unwrap_or_default())
}

fn storage_namespace(hr: &HelmRelease) -> String {
    hr.spec
        .storage_namespace
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| hr.namespace().unwrap_or_default())
}

/// The outcome of a pass, turned into conditions by [`write_status`].
enum Outcome {
    /// Waiting (dependency, source): Ready=False with the reason; not a
    /// failure of the release.
    Waiting {
        reason: &'static str,
        message: String,
        requeue: Duration,
    },
    /// The input is wrong in a way only a change will fix (bad values
    /// reference, render error): Stalled, looked at again at the interval.
    Stalled {
        reason: &'static str,
        message: String,
    },
    /// The release is deployed and matches the spec.
    InSync { message: String },
    /// An action ran and succeeded.
    Released { kind: ActionKind, message: String },
    /// An action failed; `remediation` says what was done about it.
    Failed {
        error: ActionError,
        remediation: Option<Result<String, ActionError>>,
        exhausted: bool,
    },
}

impl Outcome {
    /// A short name for logs.
    fn label(&self) -> &'static str {
        match self {
            Outcome::Waiting { .. } => "waiting",
            Outcome::Stalled { .. } => "stalled",
            Outcome::InSync { .. } => "in-sync",
            Outcome::Released { .. } => "released",
            Outcome::Failed { .. } => "failed",
        }
    }
}

/// The per-pass facts the status is written from.
struct Pass<'a> {
    hr: &'a HelmRelease,
    ctx: &'a Context,
    status: HelmReleaseStatus,
    /// A progress status was patched during the pass: the stored status
    /// is no longer the one the pass started from, so the outcome is
    /// patched even when it equals that.
    progress_shown: bool,
}

async fn reconcile_release(cached: &HelmRelease, ctx: &Context) -> Result<Action, Error> {
    // The watch cache may not hold the status the last pass wrote yet
    // (failure counters, the last attempt): read the object itself.
    let api: Api<HelmRelease> =
        Api::namespaced(ctx.client.clone(), &cached.namespace().unwrap_or_default());
    let fresh = match api.get_opt(&cached.name_any()).await {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(Action::await_change()),
        Err(e) => return Err(Error::Status(e)),
    };
    let hr = &fresh;
    let generation = hr.metadata.generation;
    let old = hr.status.clone().unwrap_or_default();
    if hr.spec.suspend {
        tracing::debug!("suspended");
        return Ok(Action::await_change());
    }
    let interval = parse_go_duration(&hr.spec.interval).unwrap_or(Duration::from_secs(600));
    let mut pass = Pass {
        hr,
        ctx,
        status: old.clone(),
        progress_shown: false,
    };
    pass.status.observed_generation = generation;
    pass.status.storage_namespace = Some(storage_namespace(hr));
    let requested_at = hr.annotations().get(REQUESTED_AT_ANNOTATION).cloned();
    if requested_at.is_some() {
        pass.status.last_handled_reconcile_at = requested_at;
    }
    let outcome = run_pass(&mut pass).await;
    tracing::debug!(
        outcome = outcome.label(),
        progress_shown = pass.progress_shown,
        "pass done"
    );
    let requeue = match &outcome {
        Outcome::Waiting { requeue, .. } => *requeue,
        Outcome::Failed {
            exhausted: false, ..
        } => ctx.backoff.delay(pass.status.failures.max(1) as u32),
        _ => interval + super::jitter(interval, 5),
    };
    write_status(&mut pass, outcome, &old).await?;
    Ok(Action::requeue(requeue))
}

async fn run_pass(pass: &mut Pass<'_>) -> Outcome {
    let hr = pass.hr;
    let ctx = pass.ctx;
    let namespace = hr.namespace().unwrap_or_default();

    // dependsOn: every dependency Ready for its current generation.
    for dep in &hr.spec.depends_on {
        let dep_ns = dep.namespace.clone().unwrap_or_else(|| namespace.clone());
        let api: Api<HelmRelease> = Api::namespaced(ctx.client.clone(), &dep_ns);
        let ready = match api.get_opt(&dep.name).await {
            Ok(Some(d)) => d.status.as_ref().is_some_and(|s| {
                s.observed_generation == d.metadata.generation
                    && crate::api::conditions::is_true(&s.conditions, types::READY)
            }),
            _ => false,
        };
        if !ready {
            return Outcome::Waiting {
                reason: crate::api::conditions::reasons::DEPENDENCY_NOT_READY,
                message: format!("dependency '{dep_ns}/{}' is not ready", dep.name),
                requeue: DEPENDENCY_REQUEUE,
            };
        }
    }

    // The chart: the source's current artifact.
    let desired_source = match source_artifact(hr, ctx).await {
        Ok(s) => s,
        Err(o) => return o,
    };
    let (artifact, revision) = desired_source;
    let chart = match artifact.chart() {
        Ok(c) => c,
        Err(e) => {
            return Outcome::Stalled {
                reason: crate::api::conditions::reasons::CHART_LOAD_FAILED,
                message: e,
            }
        }
    };

    // The client everything of the release goes through: the
    // ServiceAccount's when one is named (or defaulted).
    let client = match release_client(hr, ctx) {
        Ok(c) => c,
        Err(message) => {
            return Outcome::Stalled {
                reason: "ImpersonationFailed",
                message,
            }
        }
    };

    let values = match values::compose(
        &ctx.client,
        &namespace,
        &hr.spec.values_from,
        hr.spec.values.as_ref(),
    )
    .await
    {
        Ok(v) => v,
        Err(e) => {
            return Outcome::Waiting {
                reason: e.reason(),
                message: e.to_string(),
                requeue: ctx.backoff.delay(2),
            }
        }
    };
    let desired = Desired {
        config_digest: config_digest(&values),
        chart,
        values,
        artifact_digest: artifact.digest.to_string(),
        artifact_revision: revision,
    };

    // A new desired state resets the failure counters.
    let st = &mut pass.status;
    let same_attempt = st.last_attempted_revision_digest.as_deref()
        == Some(desired.artifact_digest.as_str())
        && st.last_attempted_config_digest.as_deref() == Some(desired.config_digest.as_str())
        && st.last_attempted_generation == hr.metadata.generation;
    if !same_attempt {
        st.failures = 0;
        st.install_failures = 0;
        st.upgrade_failures = 0;
    }

    let discovered = match Discovered::run(&client).await {
        Ok(d) => d,
        Err(e) => {
            return Outcome::Waiting {
                reason: "DiscoveryFailed",
                message: e.to_string(),
                requeue: ctx.backoff.delay(2),
            }
        }
    };
    let release = release_name(hr);
    let target = target_namespace(hr);
    let store = Store::new(client.clone(), &storage_namespace(hr));
    let mut history = match store.history(&release).await {
        Ok(h) => h,
        Err(e) => {
            return Outcome::Waiting {
                reason: "ReleaseRecordFailed",
                message: e.to_string(),
                requeue: ctx.backoff.delay(3),
            }
        }
    };
    let lookup = Some(lookup::lookup_hook(
        client.clone(),
        Arc::new(discovered.clone()),
        tokio::runtime::Handle::current(),
    ));
    let runner = Runner {
        client,
        discovered,
        store,
        release_name: release.clone(),
        namespace: target,
        lookup,
        max_history: usize::try_from(hr.spec.max_history).unwrap_or(0),
    };

    // A revision left pending by a berth that stopped mid-action: settle
    // it as failed and carry on — the action runs again below. It is not
    // counted against the retries: the chart did not fail, berth stopped.
    if let Some(last) = history
        .last()
        .filter(|r| r.info.status.is_pending())
        .cloned()
    {
        tracing::warn!(
            revision = last.version,
            status = last.info.status.as_str(),
            "found an interrupted release"
        );
        match runner.settle_interrupted(&last).await {
            Ok(settled) => {
                publish(
                    ctx,
                    hr,
                    EventType::Warning,
                    "InterruptedReleaseSettled",
                    &settled.info.description,
                    "Reconcile",
                )
                .await;
                if let Some(slot) = history.last_mut() {
                    *slot = settled;
                }
            }
            Err(e) => {
                return Outcome::Waiting {
                    reason: "ReleaseRecordFailed",
                    message: e.message,
                    requeue: ctx.backoff.delay(3),
                }
            }
        }
    }

    let latest = history.last();
    let in_sync = latest.is_some_and(|r| {
        r.info.status == crate::release::Status::Deployed && matches_desired(r, &desired)
    });
    if in_sync {
        let mut message = format!(
            "Helm {} succeeded for release {}/{}.v{} with chart {}",
            pass.status
                .last_attempted_release_action
                .as_deref()
                .unwrap_or("install"),
            runner.namespace,
            release,
            latest.map_or(0, |r| r.version),
            desired.chart_label()
        );
        if let Some(drift) = drift_pass(pass, &runner, latest).await {
            message = drift;
        }
        pass.status.history = snapshots(&history);
        return Outcome::InSync { message };
    }

    let is_install = deployed(&history).is_none();
    let kind = if is_install {
        ActionKind::Install
    } else {
        ActionKind::Upgrade
    };
    let (retries, remediate_last) = remediation(&hr.spec, kind);
    let failures_so_far = if is_install {
        pass.status.install_failures
    } else {
        pass.status.upgrade_failures
    };
    // Retries exhausted for this very desired state: wait for a change.
    if same_attempt && retries >= 0 && failures_so_far > retries {
        pass.status.history = snapshots(&history);
        let last_error = crate::api::conditions::find(&pass.status.conditions, types::RELEASED)
            .filter(|c| c.status == "False")
            .map(|c| format!(": {}", c.message))
            .unwrap_or_default();
        return Outcome::Stalled {
            reason: crate::api::conditions::reasons::RETRIES_EXHAUSTED,
            message: format!(
                "{} retries exhausted ({} failures) for chart {}; change the chart, the values or the spec to try again{last_error}",
                kind.as_str(),
                failures_so_far,
                desired.chart_label()
            ),
        };
    }

    let settings = settings(&hr.spec, kind);
    pass.status.last_attempted_revision = Some(desired.chart_version().to_string());
    pass.status.last_attempted_revision_digest = Some(desired.artifact_digest.clone());
    pass.status.last_attempted_config_digest = Some(desired.config_digest.clone());
    pass.status.last_attempted_generation = hr.metadata.generation;
    pass.status.last_attempted_release_action = Some(kind.as_str().to_string());
    mark_progressing(pass, kind, &desired, &settings).await;
    // A last revision berth did not record (`helm install`, or a
    // HelmRelease deleted with `keepHistory`) is adopted: berth takes
    // over the field ownership of its objects.
    let adopting = !is_install && latest.is_some_and(|r| action::artifact_digest(r).is_none());
    let result = match kind {
        ActionKind::Install => runner.install(&desired, &history, &settings).await,
        _ => {
            runner
                .upgrade(&desired, &history, &settings, adopting)
                .await
        }
    };
    let outcome = match result {
        Ok(rel) => {
            pass.status.failures = 0;
            pass.status.install_failures = 0;
            pass.status.upgrade_failures = 0;
            remove_condition(&mut pass.status.conditions, types::REMEDIATED);
            let verb = if kind == ActionKind::Install {
                "install"
            } else {
                "upgrade"
            };
            Outcome::Released {
                kind,
                message: format!(
                    "Helm {verb} succeeded for release {}/{}.v{} with chart {}",
                    rel.namespace,
                    rel.name,
                    rel.version,
                    desired.chart_label()
                ),
            }
        }
        Err(error) if !error.changed_cluster => Outcome::Stalled {
            reason: error.reason,
            message: error.message,
        },
        Err(error) => {
            pass.status.failures += 1;
            let count = if kind == ActionKind::Install {
                pass.status.install_failures += 1;
                pass.status.install_failures
            } else {
                pass.status.upgrade_failures += 1;
                pass.status.upgrade_failures
            };
            let exhausted = retries >= 0 && count > retries;
            let remediate = if exhausted { remediate_last } else { true };
            let history = runner.store.history(&release).await.unwrap_or(history);
            let remediation = if remediate {
                Some(remediate_failure(&runner, &hr.spec, kind, &history).await)
            } else {
                None
            };
            Outcome::Failed {
                error,
                remediation,
                exhausted,
            }
        }
    };
    let history = runner.store.history(&release).await.unwrap_or_default();
    pass.status.history = snapshots(&history);
    outcome
}

/// Whether the deployed revision `r` is what `desired` asks for: the same
/// chart name and version, the same values, and the same artifact digest
/// (recorded by berth in the chart metadata; a revision written by another
/// tool has none, so the first pass adopts it with an upgrade).
fn matches_desired(r: &Release, desired: &Desired) -> bool {
    r.chart.name() == desired.chart.metadata.name
        && r.chart.version() == desired.chart.metadata.version
        && action::artifact_digest(r) == Some(desired.artifact_digest.as_str())
        && config_digest(&r.config) == desired.config_digest
}

/// Drift detection on an in-sync release: `enabled` corrects, `warn`
/// reports. Returns a message for the Ready condition when drift was
/// found.
async fn drift_pass(
    pass: &mut Pass<'_>,
    runner: &Runner,
    latest: Option<&Release>,
) -> Option<String> {
    let dd = pass.hr.spec.drift_detection.as_ref()?;
    if dd.mode == DriftDetectionMode::Disabled {
        return None;
    }
    let rel = latest?;
    let docs = match crate::apply::ssa::parse_documents(
        &format!("{} revision {}", rel.name, rel.version),
        &rel.manifest,
    ) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "drift detection: the release manifest does not parse");
            return None;
        }
    };
    let opts = crate::apply::ssa::ApplyOptions {
        release_name: runner.release_name.clone(),
        release_namespace: runner.namespace.clone(),
        target_namespace: runner.namespace.clone(),
        create_namespace: false,
        force: true,
        crd_timeout: Duration::from_secs(60),
        crds: CrdsPolicy::Skip,
        take_ownership: false,
    };
    let drifts = match crate::apply::drift::detect(
        &runner.client,
        &runner.discovered,
        &docs,
        &opts,
        &dd.ignore,
    )
    .await
    {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "drift detection failed");
            return None;
        }
    };
    if drifts.is_empty() {
        return None;
    }
    let described: Vec<String> = drifts
        .iter()
        .take(10)
        .map(|d| {
            if d.missing {
                format!("{} (deleted)", d.object)
            } else {
                format!("{} ({})", d.object, d.changed.join(", "))
            }
        })
        .collect();
    let summary = described.join("; ");
    if dd.mode == DriftDetectionMode::Warn {
        publish(
            pass.ctx,
            pass.hr,
            EventType::Warning,
            "DriftDetected",
            &format!("cluster state differs from the release: {summary}"),
            "DetectDrift",
        )
        .await;
        return Some(format!(
            "drift detected (not corrected, mode warn): {summary}"
        ));
    }
    let mut discovered = runner.discovered.clone();
    match crate::apply::ssa::apply_all(&runner.client, &mut discovered, &[], &docs, &opts).await {
        Ok(_) => {
            publish(
                pass.ctx,
                pass.hr,
                EventType::Normal,
                "DriftCorrected",
                &format!("corrected drift: {summary}"),
                "CorrectDrift",
            )
            .await;
            None
        }
        Err(e) => {
            publish(
                pass.ctx,
                pass.hr,
                EventType::Warning,
                "DriftCorrectionFailed",
                &format!("failed to correct drift ({summary}): {e}"),
                "CorrectDrift",
            )
            .await;
            Some(format!("drift correction failed: {e}"))
        }
    }
}

/// Remediate a failed install (uninstall) or upgrade (rollback to the last
/// deployed revision, or uninstall). `Ok(message)` when it worked.
async fn remediate_failure(
    runner: &Runner,
    spec: &HelmReleaseSpec,
    kind: ActionKind,
    history: &[Release],
) -> Result<String, ActionError> {
    let strategy = spec
        .upgrade
        .as_ref()
        .and_then(|u| u.remediation.as_ref())
        .and_then(|r| r.strategy)
        .unwrap_or_default();
    let rollback_target = deployed(history).cloned();
    match (kind, strategy, rollback_target) {
        (ActionKind::Upgrade, RemediationStrategy::Rollback, Some(target)) => {
            let s = settings(spec, ActionKind::Rollback);
            let rel = runner.rollback(&target, history, &s).await?;
            Ok(format!(
                "rolled back release {}/{} to revision {} (chart {}@{}) as revision {}",
                rel.namespace,
                rel.name,
                target.version,
                target.chart.name(),
                target.chart.version(),
                rel.version
            ))
        }
        _ => {
            let s = settings(spec, ActionKind::Uninstall);
            let u = spec.uninstall.clone().unwrap_or_default();
            // Remediation keeps no history of the failed install: the next
            // attempt starts from revision 1 as Helm's would.
            runner
                .uninstall(
                    history,
                    &s,
                    u.keep_history,
                    u.deletion_propagation.unwrap_or_default(),
                )
                .await?;
            Ok(format!(
                "uninstalled release {}/{}",
                runner.namespace, runner.release_name
            ))
        }
    }
}

/// `(retries, remediateLastFailure)` of the action.
fn remediation(spec: &HelmReleaseSpec, kind: ActionKind) -> (i64, bool) {
    let (retries, last) = match kind {
        ActionKind::Install => spec
            .install
            .as_ref()
            .and_then(|i| i.remediation.as_ref())
            .map_or((0, None), |r| (r.retries, r.remediate_last_failure)),
        _ => spec
            .upgrade
            .as_ref()
            .and_then(|u| u.remediation.as_ref())
            .map_or((0, None), |r| (r.retries, r.remediate_last_failure)),
    };
    (retries, last.unwrap_or(retries != 0))
}

/// The settings of an action from the spec, timeouts defaulting to
/// `spec.timeout`.
fn settings(spec: &HelmReleaseSpec, kind: ActionKind) -> ActionSettings {
    let timeout = |t: Option<&String>| {
        t.and_then(|t| parse_go_duration(t).ok())
            .or_else(|| parse_go_duration(&spec.timeout).ok())
            .unwrap_or(Duration::from_secs(300))
    };
    match kind {
        ActionKind::Install => {
            let i = spec.install.clone().unwrap_or_default();
            ActionSettings {
                timeout: timeout(i.timeout.as_ref()),
                disable_wait: spec.disable_wait || i.disable_wait,
                disable_hooks: i.disable_hooks,
                force: false,
                crds: i.crds.unwrap_or(CrdsPolicy::Create),
                create_namespace: i.create_namespace,
                cleanup_on_fail: false,
            }
        }
        ActionKind::Upgrade => {
            let u = spec.upgrade.clone().unwrap_or_default();
            ActionSettings {
                timeout: timeout(u.timeout.as_ref()),
                disable_wait: spec.disable_wait || u.disable_wait,
                disable_hooks: u.disable_hooks,
                force: u.force,
                crds: u.crds.unwrap_or(CrdsPolicy::Skip),
                create_namespace: false,
                cleanup_on_fail: u.cleanup_on_fail,
            }
        }
        ActionKind::Rollback => {
            let r = spec.rollback.clone().unwrap_or_default();
            ActionSettings {
                timeout: timeout(r.timeout.as_ref()),
                disable_wait: spec.disable_wait || r.disable_wait,
                disable_hooks: r.disable_hooks,
                force: r.force,
                crds: CrdsPolicy::Skip,
                create_namespace: false,
                cleanup_on_fail: r.cleanup_on_fail,
            }
        }
        ActionKind::Uninstall => {
            let u = spec.uninstall.clone().unwrap_or_default();
            ActionSettings {
                timeout: timeout(u.timeout.as_ref()),
                disable_wait: u.disable_wait,
                disable_hooks: u.disable_hooks,
                force: false,
                crds: CrdsPolicy::Skip,
                create_namespace: false,
                cleanup_on_fail: false,
            }
        }
    }
}

/// The source's artifact in the store, or why the pass must wait.
async fn source_artifact(
    hr: &HelmRelease,
    ctx: &Context,
) -> Result<(Arc<crate::artifact::StoredArtifact>, String), Outcome> {
    let namespace = hr.namespace().unwrap_or_default();
    let r = &hr.spec.chart_ref;
    let src_ns = r.namespace.clone().unwrap_or_else(|| namespace.clone());
    if src_ns != namespace && ctx.no_cross_namespace_refs {
        return Err(Outcome::Stalled {
            reason: "AccessDenied",
            message: format!(
                "chartRef to OCIRepository '{src_ns}/{}' in another namespace is not allowed (--no-cross-namespace-refs)",
                r.name
            ),
        });
    }
    let api: Api<OCIRepository> = Api::namespaced(ctx.client.clone(), &src_ns);
    let waiting = |message: String| Outcome::Waiting {
        reason: crate::api::conditions::reasons::ARTIFACT_FAILED,
        message,
        requeue: DEPENDENCY_REQUEUE,
    };
    let src = match api.get_opt(&r.name).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(Outcome::Waiting {
                reason: crate::api::conditions::reasons::ARTIFACT_FAILED,
                message: format!("OCIRepository '{src_ns}/{}' not found", r.name),
                // The source watch brings the HelmRelease back when it
                // appears.
                requeue: Duration::from_secs(60),
            });
        }
        Err(e) => {
            return Err(waiting(format!(
                "failed to read OCIRepository '{src_ns}/{}': {e}",
                r.name
            )))
        }
    };
    let Some(artifact) = src.status.as_ref().and_then(|s| s.artifact.clone()) else {
        return Err(waiting(format!(
            "OCIRepository '{src_ns}/{}' has no artifact yet",
            r.name
        )));
    };
    let digest = match berth_oci::Digest::parse(&artifact.digest) {
        Ok(d) => d,
        Err(e) => {
            return Err(waiting(format!(
                "OCIRepository '{src_ns}/{}': artifact digest {:?}: {e}",
                r.name, artifact.digest
            )))
        }
    };
    match ctx.store.get(&digest) {
        Some(a) => Ok((a, artifact.revision)),
        None => Err(Outcome::Waiting {
            reason: crate::api::conditions::reasons::ARTIFACT_NOT_READY,
            message: format!(
                "the artifact {} of OCIRepository '{src_ns}/{}' is not in berth's store yet",
                artifact.revision, r.name
            ),
            requeue: DEPENDENCY_REQUEUE,
        }),
    }
}

/// The client the release's objects are read and written with: the
/// controller's own, or one impersonating `serviceAccountName` (or the
/// `--default-service-account`).
fn release_client(hr: &HelmRelease, ctx: &Context) -> Result<kube::Client, String> {
    let sa = hr
        .spec
        .service_account_name
        .clone()
        .or_else(|| ctx.default_service_account.clone());
    let Some(sa) = sa else {
        return Ok(ctx.client.clone());
    };
    let Some(config) = &ctx.kube_config else {
        return Err(format!(
            "cannot impersonate ServiceAccount {sa}: berth was started without a kube config it can impersonate with"
        ));
    };
    let namespace = hr.namespace().unwrap_or_default();
    lookup::impersonating_client(config, &namespace, &sa).map_err(|e| e.to_string())
}

/// Snapshots of the newest revisions for `status.history`, newest first.
fn snapshots(history: &[Release]) -> Vec<Snapshot> {
    history
        .iter()
        .rev()
        .take(HISTORY_SHOWN)
        .map(|r| {
            let time = |t: Option<Timestamp>| Time(t.unwrap_or_else(Timestamp::now));
            Snapshot {
                name: r.name.clone(),
                namespace: r.namespace.clone(),
                version: r.version,
                status: r.info.status.as_str().to_string(),
                chart_name: r.chart.name().to_string(),
                chart_version: r.chart.version().to_string(),
                app_version: r.chart.app_version().map(str::to_string),
                config_digest: config_digest(&r.config),
                oci_digest: action::artifact_digest(r).map(str::to_string),
                digest: r.digest(),
                first_deployed: time(r.info.first_deployed),
                last_deployed: time(r.info.last_deployed),
                deleted: r.info.deleted.map(Time),
            }
        })
        .collect()
}

/// Show that an action is running (so a crash mid-action leaves a status
/// that says what was under way).
async fn mark_progressing(
    pass: &mut Pass<'_>,
    kind: ActionKind,
    desired: &Desired,
    s: &ActionSettings,
) {
    let now = Timestamp::now();
    let generation = pass.hr.metadata.generation;
    let mut status = pass.status.clone();
    set_condition_at(
        &mut status.conditions,
        types::RECONCILING,
        Status::True,
        crate::api::conditions::reasons::PROGRESSING,
        format!(
            "Running '{}' action with timeout of {:?} for chart {}",
            kind.as_str(),
            s.timeout,
            desired.chart_label()
        ),
        generation,
        now,
    );
    remove_condition(&mut status.conditions, types::STALLED);
    summarize(
        &mut status.conditions,
        &[types::RELEASED],
        "Succeeded",
        "",
        generation,
        now,
    );
    match patch_status(pass.ctx, pass.hr, &status).await {
        Ok(()) => pass.progress_shown = true,
        Err(e) => tracing::debug!(error = %e, "failed to show progress"),
    }
}

async fn patch_status(
    ctx: &Context,
    hr: &HelmRelease,
    status: &HelmReleaseStatus,
) -> Result<(), kube::Error> {
    let api: Api<HelmRelease> =
        Api::namespaced(ctx.client.clone(), &hr.namespace().unwrap_or_default());
    let patch = serde_json::json!({
        "apiVersion": crate::api::API_VERSION,
        "kind": "HelmRelease",
        "status": status,
    });
    api.patch_status(
        &hr.name_any(),
        &PatchParams::apply(CONTROLLER_NAME).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map(|_| ())
}

/// Conditions and events from the outcome, then one status patch.
async fn write_status(
    pass: &mut Pass<'_>,
    outcome: Outcome,
    old: &HelmReleaseStatus,
) -> Result<(), Error> {
    let now = Timestamp::now();
    let hr = pass.hr;
    let ctx = pass.ctx;
    let generation = hr.metadata.generation;
    let st = &mut pass.status;
    let conds = &mut st.conditions;
    remove_condition(conds, types::RECONCILING);
    remove_condition(conds, types::STALLED);
    let mut events: Vec<(EventType, String, String, &'static str)> = Vec::new();
    match outcome {
        Outcome::Waiting {
            reason, message, ..
        } => {
            set_condition_at(
                conds,
                types::READY,
                Status::False,
                reason,
                &message,
                generation,
                now,
            );
            // Keep Released as it was: the release itself did not change.
            conds.sort_by_key(|c| (c.type_ != types::READY, c.type_.clone()));
            if old_ready_reason(old) != Some(reason) {
                events.push((EventType::Warning, reason.to_string(), message, "Reconcile"));
            }
        }
        Outcome::Stalled { reason, message } => {
            set_condition_at(
                conds,
                types::STALLED,
                Status::True,
                reason,
                &message,
                generation,
                now,
            );
            summarize(conds, &[types::RELEASED], "Succeeded", "", generation, now);
            if old_ready_reason(old) != Some(reason) {
                events.push((EventType::Warning, reason.to_string(), message, "Reconcile"));
            }
        }
        Outcome::InSync { message } => {
            set_condition_at(
                conds,
                types::READY,
                Status::True,
                "Succeeded",
                &message,
                generation,
                now,
            );
            if let Some(rc) = crate::api::conditions::find(conds, types::RELEASED).cloned() {
                if rc.status != "True" {
                    remove_condition(conds, types::RELEASED);
                }
            }
            conds.sort_by_key(|c| (c.type_ != types::READY, c.type_.clone()));
        }
        Outcome::Released { kind, message } => {
            let reason = match kind {
                ActionKind::Install => crate::api::conditions::reasons::INSTALL_SUCCEEDED,
                _ => crate::api::conditions::reasons::UPGRADE_SUCCEEDED,
            };
            set_condition_at(
                conds,
                types::RELEASED,
                Status::True,
                reason,
                &message,
                generation,
                now,
            );
            summarize(conds, &[types::RELEASED], reason, &message, generation, now);
            events.push((
                EventType::Normal,
                reason.to_string(),
                message,
                kind.as_str(),
            ));
        }
        Outcome::Failed {
            error,
            remediation,
            exhausted,
        } => {
            set_condition_at(
                conds,
                types::RELEASED,
                Status::False,
                error.reason,
                &error.message,
                generation,
                now,
            );
            events.push((
                EventType::Warning,
                error.reason.to_string(),
                error.message.clone(),
                error.kind.as_str(),
            ));
            let mut ready_reason = error.reason;
            let mut ready_message = error.message.clone();
            match remediation {
                Some(Ok(m)) => {
                    let reason = if m.starts_with("rolled back") {
                        crate::api::conditions::reasons::ROLLBACK_SUCCEEDED
                    } else {
                        crate::api::conditions::reasons::UNINSTALL_SUCCEEDED
                    };
                    set_condition_at(
                        conds,
                        types::REMEDIATED,
                        Status::True,
                        reason,
                        &m,
                        generation,
                        now,
                    );
                    events.push((
                        EventType::Normal,
                        reason.to_string(),
                        m.clone(),
                        "Remediate",
                    ));
                    ready_message = format!("{}; remediated: {m}", error.message);
                }
                Some(Err(e)) => {
                    set_condition_at(
                        conds,
                        types::REMEDIATED,
                        Status::False,
                        e.reason,
                        &e.message,
                        generation,
                        now,
                    );
                    events.push((
                        EventType::Warning,
                        e.reason.to_string(),
                        e.message.clone(),
                        "Remediate",
                    ));
                    ready_reason = e.reason;
                    ready_message = format!("{}; remediation failed: {}", error.message, e.message);
                }
                None => {}
            }
            if exhausted {
                set_condition_at(
                    conds,
                    types::STALLED,
                    Status::True,
                    crate::api::conditions::reasons::RETRIES_EXHAUSTED,
                    format!("{} retries exhausted: {ready_message}", error.kind.as_str()),
                    generation,
                    now,
                );
                summarize(conds, &[types::RELEASED], "", "", generation, now);
            } else {
                set_condition_at(
                    conds,
                    types::READY,
                    Status::False,
                    ready_reason,
                    &ready_message,
                    generation,
                    now,
                );
                conds.sort_by_key(|c| (c.type_ != types::READY, c.type_.clone()));
            }
        }
    }
    for (type_, reason, note, action) in events {
        publish(ctx, hr, type_, &reason, &note, action).await;
    }
    ctx.metrics.observe_release(hr, st);
    if pass.progress_shown || status_changed(old, st) {
        patch_status(ctx, hr, st).await.map_err(Error::Status)?;
        tracing::debug!("status written");
    }
    Ok(())
}

fn old_ready_reason(old: &HelmReleaseStatus) -> Option<&str> {
    crate::api::conditions::find(&old.conditions, types::READY).map(|c| c.reason.as_str())
}

fn status_changed(old: &HelmReleaseStatus, new: &HelmReleaseStatus) -> bool {
    let mut a = old.clone();
    let mut b = new.clone();
    let strip = |s: &mut HelmReleaseStatus| {
        for c in &mut s.conditions {
            c.last_transition_time = Time(Timestamp::UNIX_EPOCH);
        }
    };
    strip(&mut a);
    strip(&mut b);
    a != b
}

/// Deleting a HelmRelease uninstalls its release (unless suspended, as in
/// Flux: a suspended release is left as it is).
async fn finalize(cached: &HelmRelease, ctx: &Context) -> Result<Action, Error> {
    // The watch cache may still hold a HelmRelease already finalized and
    // gone: read it.
    let api: Api<HelmRelease> =
        Api::namespaced(ctx.client.clone(), &cached.namespace().unwrap_or_default());
    let fresh = match api.get_opt(&cached.name_any()).await {
        Ok(Some(h)) if h.finalizers().iter().any(|f| f == FINALIZER) => h,
        Ok(_) => return Ok(Action::await_change()),
        Err(e) => return Err(Error::Status(e)),
    };
    let hr = &fresh;
    if hr.spec.suspend {
        tracing::info!("suspended HelmRelease deleted: its release is left in place");
        return Ok(Action::await_change());
    }
    let client = release_client(hr, ctx).map_err(Error::Uninstall)?;
    let discovered = Discovered::run(&client)
        .await
        .map_err(|e| Error::Uninstall(e.to_string()))?;
    let release = release_name(hr);
    let store = Store::new(client.clone(), &storage_namespace(hr));
    let history = store
        .history(&release)
        .await
        .map_err(|e| Error::Uninstall(e.to_string()))?;
    // Nothing to do when there is no release, or it is already
    // uninstalled (kept with `keepHistory`): a pass on a stale copy of a
    // HelmRelease whose finalizer was just removed must not run it again.
    let uninstalled = history
        .last()
        .is_none_or(|r| r.info.status == crate::release::Status::Uninstalled);
    if uninstalled {
        return Ok(Action::await_change());
    }
    let runner = Runner {
        client,
        discovered,
        store,
        release_name: release.clone(),
        namespace: target_namespace(hr),
        lookup: None,
        max_history: 0,
    };
    let s = settings(&hr.spec, ActionKind::Uninstall);
    let u = hr.spec.uninstall.clone().unwrap_or_default();
    match runner
        .uninstall(
            &history,
            &s,
            u.keep_history,
            u.deletion_propagation.unwrap_or_default(),
        )
        .await
    {
        Ok(()) => {
            publish(
                ctx,
                hr,
                EventType::Normal,
                crate::api::conditions::reasons::UNINSTALL_SUCCEEDED,
                &format!(
                    "Helm uninstall succeeded for release {}/{release}",
                    runner.namespace
                ),
                "uninstall",
            )
            .await;
            Ok(Action::await_change())
        }
        Err(e) => {
            publish(
                ctx,
                hr,
                EventType::Warning,
                e.reason,
                &e.message,
                "uninstall",
            )
            .await;
            Err(Error::Uninstall(e.message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hr(name: &str, target: Option<&str>) -> HelmRelease {
        let mut h = HelmRelease::new(name, HelmReleaseSpec::default());
        h.metadata.namespace = Some("apps".into());
        h.spec.target_namespace = target.map(str::to_string);
        h
    }

    #[test]
    fn release_names_follow_flux() {
        assert_eq!(release_name(&hr("web", None)), "web");
        assert_eq!(release_name(&hr("web", Some("prod"))), "prod-web");
        let long = release_name(&hr(&"a".repeat(50), Some("team")));
        assert_eq!(long.len(), 53);
        assert!(long.starts_with(&format!("team-{}", "a".repeat(35))));
        let mut named = hr("web", Some("prod"));
        named.spec.release_name = Some("custom".into());
        assert_eq!(release_name(&named), "custom");
    }

    #[test]
    fn remediation_defaults() {
        let mut spec = HelmReleaseSpec::default();
        assert_eq!(remediation(&spec, ActionKind::Install), (0, false));
        spec.upgrade = Some(crate::api::helm_release::Upgrade {
            remediation: Some(crate::api::helm_release::UpgradeRemediation {
                retries: 2,
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(remediation(&spec, ActionKind::Upgrade), (2, true));
    }
}
