//! The Helm actions berth runs for a HelmRelease — install, upgrade,
//! rollback, uninstall — on Helm's own release records.
//!
//! Each action follows Helm's sequence: write the new revision as
//! `pending-*`, run the `pre-*` hooks, apply (server-side), prune what the
//! previous revisions had and this one has not, wait for health, run the
//! `post-*` hooks, then mark the revision `deployed` (the older deployed
//! one `superseded`) or `failed` with the error as its description. The
//! record is written before anything is applied, so a crash mid-action
//! leaves a `pending-*` revision the next reconcile finds and settles.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use berth_chart::process::{prepare_then, ProcessError, ProcessOptions};
use berth_chart::{Chart, Values};
use berth_render::manifest::{Hook, HookEvent};
use berth_render::{RenderOptions, Rendered};
use k8s_openapi::jiff::Timestamp;

use crate::api::helm_release::{CrdsPolicy, DeletionPropagation};
use crate::apply::discovery::Discovered;
use crate::apply::hooks::{run_hooks, HookOptions, HookPhase as ApplyHookPhase, HookRun};
use crate::apply::inventory::{self, ObjectRef};
use crate::apply::ssa::{self, Applied, ApplyOptions, Document};
use crate::apply::uninstall::{delete_objects, refs_of_manifest};
use crate::apply::{health, ObjectName};
use crate::release::{
    ChartRecord, HookExecution, HookPhase, HookRecord, Info, Release, Status, Store,
};

/// What berth wants released: the chart of the source's artifact and the
/// composed values.
#[derive(Clone)]
pub struct Desired {
    pub chart: Arc<Chart>,
    /// The user-supplied values (Helm's release `config`).
    pub values: Values,
    pub config_digest: String,
    /// The digest of the chart artifact (the layer).
    pub artifact_digest: String,
    /// The source's revision (`<tag>@sha256:…`).
    pub artifact_revision: String,
}

impl Desired {
    pub fn chart_version(&self) -> &str {
        &self.chart.metadata.version
    }

    /// `name@version` as messages show the chart.
    pub fn chart_label(&self) -> String {
        format!(
            "{}@{}",
            self.chart.metadata.name, self.chart.metadata.version
        )
    }
}

/// Which action ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Install,
    Upgrade,
    Rollback,
    Uninstall,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Install => "install",
            ActionKind::Upgrade => "upgrade",
            ActionKind::Rollback => "rollback",
            ActionKind::Uninstall => "uninstall",
        }
    }
}

/// Why an action failed: a condition reason and a message a human can act
/// on (it names the template, the object or the hook).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ActionError {
    pub kind: ActionKind,
    /// `RenderFailed`, `ValuesSchemaViolation`, `InstallFailed`, …
    pub reason: &'static str,
    pub message: String,
    /// Whether anything was written to the cluster (a release record at
    /// least). A render failure is not: it changes nothing, so it is not
    /// remediated and does not count as a failed release.
    pub changed_cluster: bool,
}

/// Settings of one action, from the spec.
#[derive(Debug, Clone)]
pub struct ActionSettings {
    pub timeout: Duration,
    pub disable_wait: bool,
    pub disable_hooks: bool,
    pub force: bool,
    pub crds: CrdsPolicy,
    pub create_namespace: bool,
    pub cleanup_on_fail: bool,
}

/// Everything an action needs: the (possibly impersonating) client, what
/// the server serves, the release's name and namespace and its records.
pub struct Runner {
    pub client: kube::Client,
    pub discovered: Discovered,
    pub store: Store,
    pub release_name: String,
    /// Where the objects go (`.Release.Namespace`).
    pub namespace: String,
    /// Answers `lookup` while rendering.
    pub lookup: Option<berth_template::engine::LookupHook>,
    pub max_history: usize,
}

impl Runner {
    fn apply_options(&self, s: &ActionSettings, take_ownership: bool) -> ApplyOptions {
        ApplyOptions {
            release_name: self.release_name.clone(),
            release_namespace: self.namespace.clone(),
            target_namespace: self.namespace.clone(),
            create_namespace: s.create_namespace,
            force: s.force,
            crd_timeout: s.timeout,
            crds: s.crds,
            take_ownership,
        }
    }

    fn hook_options(&self, s: &ActionSettings) -> HookOptions {
        HookOptions {
            release_name: self.release_name.clone(),
            release_namespace: self.namespace.clone(),
            target_namespace: self.namespace.clone(),
            timeout: s.timeout,
        }
    }

    /// Load the chart's dependencies, coalesce and validate the values and
    /// render, on a blocking thread (`lookup` blocks on the API server).
    pub async fn render(
        &self,
        desired: &Desired,
        kind: ActionKind,
        revision: i64,
    ) -> Result<Rendered, ActionError> {
        let chart: Chart = (*desired.chart).clone();
        let values = desired.values.clone();
        let capabilities = self.discovered.capabilities();
        let process = ProcessOptions {
            kube_version: capabilities.kube_version.clone(),
            skip_schema_validation: false,
        };
        let opts = RenderOptions {
            release: berth_render::Release {
                name: self.release_name.clone(),
                namespace: self.namespace.clone(),
                revision,
                is_install: kind == ActionKind::Install,
                is_upgrade: kind == ActionKind::Upgrade,
            },
            capabilities,
            lookup: self.lookup.clone(),
            ..RenderOptions::default()
        };
        let job = tokio::task::spawn_blocking(move || {
            prepare_then(chart, values, &process, |p| {
                berth_render::engine::render(&p.chart, &p.values, &opts)
            })
        });
        let fail = |reason: &'static str, message: String| ActionError {
            kind,
            reason,
            message,
            changed_cluster: false,
        };
        match job.await {
            Ok(Ok((_, Ok(rendered)))) => Ok(rendered),
            Ok(Ok((_, Err(e)))) => Err(fail("RenderFailed", e.to_string())),
            Ok(Err(e @ ProcessError::Schema(_))) => {
                Err(fail("ValuesSchemaViolation", e.to_string()))
            }
            Ok(Err(e)) => Err(fail("RenderFailed", e.to_string())),
            Err(e) => Err(fail("RenderFailed", format!("the renderer stopped: {e}"))),
        }
    }

    /// Install `desired` as the next revision after `history`.
    pub async fn install(
        &self,
        desired: &Desired,
        history: &[Release],
        s: &ActionSettings,
    ) -> Result<Release, ActionError> {
        let version = next_version(history);
        let rendered = self.render(desired, ActionKind::Install, version).await?;
        let mut rel = self.new_record(
            desired,
            &rendered,
            version,
            Status::PendingInstall,
            "Initial install underway",
        );
        // A reinstall after a failed or uninstalled release takes the
        // objects those left behind.
        let previous = self.refs_of(history.iter().rev().take(2))?;
        self.run_release(
            ActionKind::Install,
            &mut rel,
            &rendered,
            previous,
            history,
            s,
            false,
            "Install complete",
        )
        .await?;
        Ok(rel)
    }

    /// Upgrade to `desired` from the last revision of `history`.
    /// `adopting`: the last revision was not written by berth (e.g. by
    /// `helm install`), so berth takes over field ownership of its objects.
    pub async fn upgrade(
        &self,
        desired: &Desired,
        history: &[Release],
        s: &ActionSettings,
        adopting: bool,
    ) -> Result<Release, ActionError> {
        let version = next_version(history);
        let rendered = self.render(desired, ActionKind::Upgrade, version).await?;
        let mut rel = self.new_record(
            desired,
            &rendered,
            version,
            Status::PendingUpgrade,
            "Preparing upgrade",
        );
        if let Some(first) = deployed(history).and_then(|r| r.info.first_deployed) {
            rel.info.first_deployed = Some(first);
        }
        // What the deployed revision and the last one (perhaps a failed
        // attempt) applied.
        let mut sources: Vec<&Release> = deployed(history).into_iter().collect();
        sources.extend(history.last());
        let previous = self.refs_of(sources.into_iter())?;
        let mut s = s.clone();
        s.force |= adopting;
        self.run_release(
            ActionKind::Upgrade,
            &mut rel,
            &rendered,
            previous,
            history,
            &s,
            adopting,
            "Upgrade complete",
        )
        .await?;
        Ok(rel)
    }

    /// Roll back to `target` (a deployed revision of `history`) as a new
    /// revision: its manifest and hooks applied again.
    pub async fn rollback(
        &self,
        target: &Release,
        history: &[Release],
        s: &ActionSettings,
    ) -> Result<Release, ActionError> {
        let kind = ActionKind::Rollback;
        let version = next_version(history);
        let now = Timestamp::now();
        let mut rel = target.clone();
        rel.version = version;
        rel.info = Info {
            first_deployed: target.info.first_deployed,
            last_deployed: Some(now),
            deleted: None,
            description: format!("Rollback to {}", target.version),
            status: Status::PendingRollback,
            rollback_revision: target.version,
            notes: target.info.notes.clone(),
            ..Info::default()
        };
        let rendered = Rendered {
            manifests: Vec::new(),
            hooks: target.hooks.iter().map(HookRecord::to_rendered).collect(),
            crds: Vec::new(),
            notes: None,
        };
        let docs = ssa::parse_documents(
            &format!("{} revision {}", target.name, target.version),
            &target.manifest,
        )
        .map_err(|e| failed(kind, "RollbackFailed", e.to_string(), false))?;
        let previous = self.refs_of(history.last().into_iter())?;
        self.create_record(kind, &rel).await?;
        let outcome = self
            .perform(kind, &mut rel, &rendered, &[], &docs, previous, s, false)
            .await;
        // Helm keeps "Rollback to N" as the deployed revision's description.
        let done = rel.info.description.clone();
        self.settle(kind, &mut rel, history, outcome, &done).await?;
        Ok(rel)
    }

    /// Uninstall the release of `history`: pre-delete hooks, its objects
    /// deleted (`keep` ones and others' objects left), post-delete hooks;
    /// then its records deleted, or kept marked `uninstalled`.
    pub async fn uninstall(
        &self,
        history: &[Release],
        s: &ActionSettings,
        keep_history: bool,
        propagation: DeletionPropagation,
    ) -> Result<(), ActionError> {
        let kind = ActionKind::Uninstall;
        let Some(last) = history.last() else {
            return Ok(());
        };
        let fail = |m: String| failed(kind, "UninstallFailed", m, true);
        let mut rel = last.clone();
        rel.info.status = Status::Uninstalling;
        rel.info.description = "Deletion in progress (or silently failed)".into();
        self.store
            .update(&rel)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let hooks: Vec<Hook> = rel.hooks.iter().map(HookRecord::to_rendered).collect();
        if !s.disable_hooks {
            let runs = self.hooks(&hooks, HookEvent::PreDelete, s).await;
            record_runs(&mut rel, &runs.0);
            runs.1
                .map_err(|e| fail(format!("pre-delete hook failed: {e}")))?;
        }
        let mut sources: Vec<&Release> = deployed(history).into_iter().collect();
        sources.push(last);
        let refs = self.refs_of(sources.into_iter())?;
        let wait = (!s.disable_wait).then_some(s.timeout);
        let report = delete_objects(
            &self.client,
            &self.discovered,
            &refs,
            &self.release_name,
            &self.namespace,
            propagation,
            wait,
        )
        .await
        .map_err(|e| fail(e.to_string()))?;
        if !report.kept.is_empty() {
            tracing::info!(kept = ?report.kept, "uninstall kept objects with resource-policy keep");
        }
        if !s.disable_hooks {
            let runs = self.hooks(&hooks, HookEvent::PostDelete, s).await;
            record_runs(&mut rel, &runs.0);
            runs.1
                .map_err(|e| fail(format!("post-delete hook failed: {e}")))?;
        }
        if keep_history {
            rel.info.status = Status::Uninstalled;
            rel.info.deleted = Some(Timestamp::now());
            rel.info.description = "Uninstallation complete".into();
            self.store
                .update(&rel)
                .await
                .map_err(|e| fail(e.to_string()))?;
            // No other revision stays `deployed`.
            for r in history.iter().filter(|r| r.info.status == Status::Deployed) {
                if r.version != rel.version {
                    let mut r = r.clone();
                    r.info.status = Status::Superseded;
                    self.store
                        .update(&r)
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                }
            }
        } else {
            for r in history {
                self.store
                    .delete(&r.name, r.version)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
            }
        }
        Ok(())
    }

    /// Mark a revision left `pending-*` (berth stopped mid-action) as
    /// failed, so that it is retried or remediated like any failure.
    pub async fn settle_interrupted(&self, rel: &Release) -> Result<Release, ActionError> {
        let kind = match rel.info.status {
            Status::PendingInstall => ActionKind::Install,
            Status::PendingRollback => ActionKind::Rollback,
            _ => ActionKind::Upgrade,
        };
        let mut rel = rel.clone();
        rel.info.status = Status::Failed;
        rel.info.description = format!(
            "Release \"{}\" failed: the {} was interrupted (berth stopped before it finished)",
            rel.name,
            kind.as_str()
        );
        self.store
            .update(&rel)
            .await
            .map_err(|e| failed(kind, "ReleaseRecordFailed", e.to_string(), true))?;
        Ok(rel)
    }

    fn new_record(
        &self,
        desired: &Desired,
        rendered: &Rendered,
        version: i64,
        status: Status,
        description: &str,
    ) -> Release {
        let now = Timestamp::now();
        Release {
            name: self.release_name.clone(),
            namespace: self.namespace.clone(),
            version,
            info: Info {
                first_deployed: Some(now),
                last_deployed: Some(now),
                deleted: None,
                description: description.to_string(),
                status,
                notes: rendered.notes.clone().unwrap_or_default(),
                ..Info::default()
            },
            chart: chart_record(desired),
            config: desired.values.clone(),
            manifest: crate::release::manifest_text(&rendered.manifests),
            hooks: rendered
                .hooks
                .iter()
                .map(HookRecord::from_rendered)
                .collect(),
            apply_method: crate::release::APPLY_METHOD_SSA.to_string(),
            ..Release::default()
        }
    }

    async fn create_record(&self, kind: ActionKind, rel: &Release) -> Result<(), ActionError> {
        self.store
            .create(rel)
            .await
            .map_err(|e| failed(kind, "ReleaseRecordFailed", e.to_string(), false))
    }

    /// Write `rel` (pending), perform the action, settle the record.
    #[allow(clippy::too_many_arguments)]
    async fn run_release(
        &self,
        kind: ActionKind,
        rel: &mut Release,
        rendered: &Rendered,
        previous: Vec<ObjectRef>,
        history: &[Release],
        s: &ActionSettings,
        take_ownership: bool,
        done: &str,
    ) -> Result<(), ActionError> {
        let (crds, docs) = ssa::documents_of(rendered)
            .map_err(|e| failed(kind, "RenderFailed", e.to_string(), false))?;
        self.create_record(kind, rel).await?;
        let before = previous.clone();
        let outcome = self
            .perform(
                kind,
                rel,
                rendered,
                &crds,
                &docs,
                previous,
                s,
                take_ownership,
            )
            .await;
        if outcome.is_err() && s.cleanup_on_fail && kind != ActionKind::Install {
            self.clean_up_created(rel, &before, s).await;
        }
        self.settle(kind, rel, history, outcome, done).await
    }

    /// Hooks, apply, prune, wait, hooks.
    #[allow(clippy::too_many_arguments)]
    async fn perform(
        &self,
        kind: ActionKind,
        rel: &mut Release,
        rendered: &Rendered,
        crds: &[Document],
        docs: &[Document],
        previous: Vec<ObjectRef>,
        s: &ActionSettings,
        take_ownership: bool,
    ) -> Result<Vec<Applied>, String> {
        let (pre, post) = match kind {
            ActionKind::Install => (HookEvent::PreInstall, HookEvent::PostInstall),
            ActionKind::Upgrade => (HookEvent::PreUpgrade, HookEvent::PostUpgrade),
            _ => (HookEvent::PreRollback, HookEvent::PostRollback),
        };
        if !s.disable_hooks {
            let (runs, result) = self.hooks(&rendered.hooks, pre, s).await;
            record_runs(rel, &runs);
            result.map_err(|e| format!("{} hook failed: {e}", pre.as_str()))?;
        }
        let mut discovered = self.discovered.clone();
        let opts = self.apply_options(s, take_ownership);
        let applied = ssa::apply_all(&self.client, &mut discovered, crds, docs, &opts)
            .await
            .map_err(|e| e.to_string())?;
        let current = inventory::inventory_of(&applied);
        let previous = crate::api::helm_release::ResourceInventory {
            entries: previous.iter().map(ObjectRef::to_entry).collect(),
        };
        let report = inventory::prune(
            &self.client,
            &discovered,
            &previous,
            &current,
            &self.release_name,
            &self.namespace,
        )
        .await
        .map_err(|e| format!("failed to prune: {e}"))?;
        if !report.deleted.is_empty() {
            tracing::info!(deleted = ?report.deleted, "pruned objects that left the chart");
        }
        if !s.disable_wait {
            let waited: Vec<Applied> = applied
                .iter()
                .filter(|a| !a.from_crds_dir)
                .cloned()
                .collect();
            health::wait_healthy(&self.client, &waited, s.timeout)
                .await
                .map_err(|e| e.to_string())?;
        }
        if !s.disable_hooks {
            let (runs, result) = self.hooks(&rendered.hooks, post, s).await;
            record_runs(rel, &runs);
            result.map_err(|e| format!("{} hook failed: {e}", post.as_str()))?;
        }
        Ok(applied)
    }

    async fn hooks(
        &self,
        hooks: &[Hook],
        event: HookEvent,
        s: &ActionSettings,
    ) -> (Vec<HookRun>, Result<(), crate::apply::hooks::HookError>) {
        if !hooks.iter().any(|h| h.events.contains(&event)) {
            return (Vec::new(), Ok(()));
        }
        let mut discovered = self.discovered.clone();
        run_hooks(
            &self.client,
            &mut discovered,
            hooks,
            event,
            &self.hook_options(s),
        )
        .await
    }

    /// Mark `rel` deployed (and the revisions deployed before it
    /// superseded) or failed, and trim the history.
    async fn settle(
        &self,
        kind: ActionKind,
        rel: &mut Release,
        history: &[Release],
        outcome: Result<Vec<Applied>, String>,
        done: &str,
    ) -> Result<(), ActionError> {
        let record_err = |e: crate::release::StoreError| {
            failed(kind, "ReleaseRecordFailed", e.to_string(), true)
        };
        rel.info.last_deployed = Some(Timestamp::now());
        match outcome {
            Ok(_) => {
                rel.info.status = Status::Deployed;
                rel.info.description = done.to_string();
                self.store.update(rel).await.map_err(record_err)?;
                for r in history.iter().filter(|r| r.info.status == Status::Deployed) {
                    let mut r = r.clone();
                    r.info.status = Status::Superseded;
                    self.store.update(&r).await.map_err(record_err)?;
                }
                if let Err(e) = self.store.trim(&self.release_name, self.max_history).await {
                    tracing::warn!(error = %e, "failed to trim the release history");
                }
                Ok(())
            }
            Err(message) => {
                rel.info.status = Status::Failed;
                rel.info.description = format!(
                    "Release \"{}\" failed: {}",
                    self.release_name,
                    truncate(&message, 2000)
                );
                self.store.update(rel).await.map_err(record_err)?;
                let reason = match kind {
                    ActionKind::Install => "InstallFailed",
                    ActionKind::Upgrade => "UpgradeFailed",
                    ActionKind::Rollback => "RollbackFailed",
                    ActionKind::Uninstall => "UninstallFailed",
                };
                Err(failed(kind, reason, message, true))
            }
        }
    }

    /// `cleanupOnFail`: delete the objects the failed revision created —
    /// those of its manifest that no earlier revision had. Failures are
    /// logged: the action's own error is what the status reports.
    async fn clean_up_created(&self, rel: &Release, before: &[ObjectRef], s: &ActionSettings) {
        let known: BTreeSet<String> = before.iter().map(ObjectRef::id).collect();
        let created: Vec<ObjectRef> = match refs_of_manifest(
            &self.discovered,
            &rel.manifest,
            &rel.namespace,
        ) {
            Ok(refs) => refs
                .into_iter()
                .filter(|r| !known.contains(&r.id()))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "cleanupOnFail: the failed revision's objects are not all known");
                return;
            }
        };
        if created.is_empty() {
            return;
        }
        match delete_objects(
            &self.client,
            &self.discovered,
            &created,
            &self.release_name,
            &self.namespace,
            DeletionPropagation::Background,
            Some(s.timeout),
        )
        .await
        {
            Ok(report) => {
                tracing::info!(deleted = ?report.deleted, "cleanupOnFail: deleted the objects the failed revision created")
            }
            Err(e) => tracing::warn!(error = %e, "cleanupOnFail failed"),
        }
    }

    /// The objects the manifests of `releases` name (deduplicated).
    fn refs_of<'a>(
        &self,
        releases: impl Iterator<Item = &'a Release>,
    ) -> Result<Vec<ObjectRef>, ActionError> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for r in releases {
            let refs = match refs_of_manifest(&self.discovered, &r.manifest, &r.namespace) {
                Ok(refs) => refs,
                Err(e) => {
                    // A kind the server no longer serves (its CRD removed)
                    // has no objects left to prune.
                    tracing::warn!(revision = r.version, error = %e, "objects of an earlier revision not all known");
                    continue;
                }
            };
            for o in refs {
                if seen.insert(o.id()) {
                    out.push(o);
                }
            }
        }
        Ok(out)
    }
}

/// The names of the objects an error's `Applied` list holds, for messages.
pub fn names(applied: &[Applied]) -> Vec<ObjectName> {
    applied.iter().map(|a| a.name.clone()).collect()
}

fn failed(
    kind: ActionKind,
    reason: &'static str,
    message: String,
    changed_cluster: bool,
) -> ActionError {
    ActionError {
        kind,
        reason,
        message,
        changed_cluster,
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The annotation berth adds to the chart metadata of the revisions it
/// releases: the digest of the chart artifact (`helm get metadata` shows
/// it), so that a chart re-pushed under the same version is told apart.
pub const ARTIFACT_DIGEST_ANNOTATION: &str = "berth.dev/artifact-digest";

fn chart_record(desired: &Desired) -> ChartRecord {
    let mut record = ChartRecord::from_chart(&desired.chart);
    if let Some(m) = record.metadata.as_mut() {
        m.annotations.insert(
            ARTIFACT_DIGEST_ANNOTATION.to_string(),
            desired.artifact_digest.clone(),
        );
    }
    record
}

/// The artifact digest berth recorded for revision `r`, if any.
pub fn artifact_digest(r: &Release) -> Option<&str> {
    r.chart
        .metadata
        .as_ref()?
        .annotations
        .get(ARTIFACT_DIGEST_ANNOTATION)
        .map(String::as_str)
}

/// The next revision number.
pub fn next_version(history: &[Release]) -> i64 {
    history.iter().map(|r| r.version).max().unwrap_or(0) + 1
}

/// The newest `deployed` revision.
pub fn deployed(history: &[Release]) -> Option<&Release> {
    history
        .iter()
        .rev()
        .find(|r| r.info.status == Status::Deployed)
}

/// Copy the hook runs' times and phases into the record's hooks.
fn record_runs(rel: &mut Release, runs: &[HookRun]) {
    for run in runs {
        if let Some(h) = rel
            .hooks
            .iter_mut()
            .find(|h| h.path == run.hook.manifest.source && h.manifest == run.hook.manifest.content)
        {
            h.last_run = HookExecution {
                started_at: Some(run.started_at),
                completed_at: run.completed_at,
                phase: match run.phase {
                    ApplyHookPhase::Unknown => HookPhase::Unknown,
                    ApplyHookPhase::Running => HookPhase::Running,
                    ApplyHookPhase::Succeeded => HookPhase::Succeeded,
                    ApplyHookPhase::Failed => HookPhase::Failed,
                },
            };
        }
    }
}
