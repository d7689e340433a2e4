//! Helm hooks: the documents annotated `helm.sh/hook` run around an
//! install, upgrade, rollback or uninstall, as Helm v4.3.1's `execHook`
//! (`pkg/action/hooks.go`) runs them:
//!
//! - the hooks of the event are taken in weight order, then by name
//!   (stable, so equal keys keep the render's kind order);
//! - a hook without a delete policy gets `before-hook-creation`;
//! - each hook: delete the old object first when `before-hook-creation`
//!   (and wait until it is gone), apply it, then wait until it is ready —
//!   a Job until `Complete` (`Failed` fails the hook), a Pod until
//!   `Succeeded` (`Failed` fails it), anything else at once;
//! - on failure: delete the failed hook when `hook-failed`, and the
//!   hooks that succeeded before it when `hook-succeeded`; the remaining
//!   hooks do not run;
//! - when all succeeded: delete those with `hook-succeeded`, last first.
//!
//! Like Helm, hook objects carry no release ownership metadata (they are
//! not part of the release's manifest nor of its inventory), are applied
//! without forcing conflicts, and `before-hook-creation` deletes an
//! existing object of the same name whoever made it. CRDs are never
//! deleted by a policy. Hook logs are not collected.

use std::fmt;
use std::time::{Duration, Instant};

use berth_render::manifest::{Hook, HookDeletePolicy, HookEvent};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::Client;
use serde_json::Value;

use super::discovery::{Discovered, DiscoveryError, Resolved};
use super::health::{compute_status, Status};
use super::ssa::{kube_message, parse_documents};
use super::{ObjectName, FIELD_MANAGER};

/// How to run hooks.
#[derive(Debug, Clone)]
pub struct HookOptions {
    /// The release the hooks belong to (for logs).
    pub release_name: String,
    pub release_namespace: String,
    /// Where namespaced hook objects without a namespace go.
    pub target_namespace: String,
    /// How long to wait for each hook to be ready (and for an old hook
    /// object to be deleted).
    pub timeout: Duration,
}

/// Helm's `HookPhase` (`pkg/release/v1/hook.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookPhase {
    Unknown,
    Running,
    Succeeded,
    Failed,
}

impl HookPhase {
    /// Helm's string for the phase, as release records store it.
    pub fn as_str(self) -> &'static str {
        match self {
            HookPhase::Unknown => "Unknown",
            HookPhase::Running => "Running",
            HookPhase::Succeeded => "Succeeded",
            HookPhase::Failed => "Failed",
        }
    }
}

impl fmt::Display for HookPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One hook execution, for the release record (Helm's `HookExecution`).
#[derive(Debug, Clone)]
pub struct HookRun {
    pub hook: Hook,
    pub started_at: jiff::Timestamp,
    pub completed_at: Option<jiff::Timestamp>,
    pub phase: HookPhase,
}

/// A hook as errors name it: `Job apps/migrate (hook pre-install,
/// chart/templates/job.yaml)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookName {
    pub object: ObjectName,
    pub event: HookEvent,
    pub source: String,
}

impl fmt::Display for HookName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (hook {}, {})",
            self.object,
            self.event.as_str(),
            self.source
        )
    }
}

/// Why a hook failed. Every variant names the hook.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The hook's document cannot be parsed or its kind is not served.
    #[error("{hook}: {reason}")]
    Build { hook: Box<HookName>, reason: String },
    #[error("{hook}: failed to apply: {}", kube_message(.source))]
    Apply {
        hook: Box<HookName>,
        #[source]
        source: Box<kube::Error>,
    },
    /// The Job or Pod failed.
    #[error("{hook}: {reason}")]
    Failed { hook: Box<HookName>, reason: String },
    #[error("{hook}: timed out after {timeout:?} waiting for it to complete: {last}")]
    Timeout {
        hook: Box<HookName>,
        timeout: Duration,
        /// What it was doing when time ran out.
        last: String,
    },
    #[error("{hook}: failed to delete it ({policy}): {reason}")]
    Delete {
        hook: Box<HookName>,
        policy: &'static str,
        reason: String,
    },
    #[error("failed to refresh discovery for hooks: {0}")]
    Discovery(#[from] DiscoveryError),
}

impl HookError {
    /// The hook that failed, when the error is about one.
    pub fn hook(&self) -> Option<&HookName> {
        match self {
            HookError::Build { hook, .. }
            | HookError::Apply { hook, .. }
            | HookError::Failed { hook, .. }
            | HookError::Timeout { hook, .. }
            | HookError::Delete { hook, .. } => Some(hook),
            HookError::Discovery(_) => None,
        }
    }
}

/// A hook ready to run: its object and how to reach it.
struct Prepared {
    name: HookName,
    object: DynamicObject,
    api: Api<DynamicObject>,
    resolved: Resolved,
    policies: Vec<HookDeletePolicy>,
}

impl Prepared {
    fn has_policy(&self, policy: HookDeletePolicy) -> bool {
        self.policies.contains(&policy)
    }
}

/// Run the hooks of `event` among `hooks` (other events' hooks and test
/// hooks are ignored) in Helm's order, each waited on for up to
/// `opts.timeout`.
///
/// Returns the runs so far (for the release record) whether or not all
/// succeeded, with the first error. A hook whose old object could not be
/// deleted or whose document is invalid has no run (Helm records none
/// either); a hook that failed to apply or to complete has a `Failed` run.
pub async fn run_hooks(
    client: &Client,
    discovered: &mut Discovered,
    hooks: &[Hook],
    event: HookEvent,
    opts: &HookOptions,
) -> (Vec<HookRun>, Result<(), HookError>) {
    let mut runs = Vec::new();
    let result = run_hooks_into(client, discovered, hooks, event, opts, &mut runs).await;
    (runs, result)
}

async fn run_hooks_into(
    client: &Client,
    discovered: &mut Discovered,
    hooks: &[Hook],
    event: HookEvent,
    opts: &HookOptions,
    runs: &mut Vec<HookRun>,
) -> Result<(), HookError> {
    if event == HookEvent::Test {
        return Ok(());
    }
    let selected = select(hooks, event);
    if selected.is_empty() {
        return Ok(());
    }
    tracing::info!(
        release = %opts.release_name,
        namespace = %opts.release_namespace,
        event = event.as_str(),
        count = selected.len(),
        "running hooks"
    );
    let mut done: Vec<Prepared> = Vec::new();
    for hook in selected {
        let p = prepare(client, discovered, hook, event, opts).await?;
        if p.has_policy(HookDeletePolicy::BeforeHookCreation) {
            delete_and_wait(&p, HookDeletePolicy::BeforeHookCreation, opts.timeout).await?;
        }
        runs.push(HookRun {
            hook: hook.clone(),
            started_at: jiff::Timestamp::now(),
            completed_at: None,
            phase: HookPhase::Running,
        });
        let run = runs.len() - 1;
        tracing::info!(hook = %p.name, "running hook");
        let outcome = match apply(&p).await {
            Ok(()) => wait_ready(&p, opts.timeout).await,
            Err(e) => {
                runs[run].completed_at = Some(jiff::Timestamp::now());
                runs[run].phase = HookPhase::Failed;
                return Err(e);
            }
        };
        runs[run].completed_at = Some(jiff::Timestamp::now());
        match outcome {
            Ok(()) => {
                runs[run].phase = HookPhase::Succeeded;
                done.push(p);
            }
            Err(e) => {
                runs[run].phase = HookPhase::Failed;
                tracing::warn!(hook = %p.name, "hook failed: {e}");
                // Clean up as Helm does; a failure to delete is logged, the
                // hook's own failure is what the caller needs.
                if p.has_policy(HookDeletePolicy::HookFailed) {
                    if let Err(d) =
                        delete_and_wait(&p, HookDeletePolicy::HookFailed, opts.timeout).await
                    {
                        tracing::warn!("{d}");
                    }
                }
                for prev in &done {
                    if prev.has_policy(HookDeletePolicy::HookSucceeded) {
                        if let Err(d) =
                            delete_and_wait(prev, HookDeletePolicy::HookSucceeded, opts.timeout)
                                .await
                        {
                            tracing::warn!("{d}");
                        }
                    }
                }
                return Err(e);
            }
        }
    }
    for p in done.iter().rev() {
        if p.has_policy(HookDeletePolicy::HookSucceeded) {
            delete_and_wait(p, HookDeletePolicy::HookSucceeded, opts.timeout).await?;
        }
    }
    Ok(())
}

/// The hooks of `event` in Helm's execution order: by weight, then by
/// object name; a stable sort, so the render's kind order breaks ties.
pub fn select(hooks: &[Hook], event: HookEvent) -> Vec<&Hook> {
    let mut selected: Vec<&Hook> = hooks.iter().filter(|h| h.events.contains(&event)).collect();
    selected.sort_by(|a, b| {
        a.weight
            .cmp(&b.weight)
            .then_with(|| a.manifest.head.name.cmp(&b.manifest.head.name))
    });
    selected
}

async fn prepare(
    client: &Client,
    discovered: &mut Discovered,
    hook: &Hook,
    event: HookEvent,
    opts: &HookOptions,
) -> Result<Prepared, HookError> {
    let head = &hook.manifest.head;
    let mut name = HookName {
        object: ObjectName {
            kind: head.kind.clone(),
            namespace: Some(if head.namespace.is_empty() {
                opts.target_namespace.clone()
            } else {
                head.namespace.clone()
            }),
            name: head.name.clone(),
        },
        event,
        source: hook.manifest.source.clone(),
    };
    let build = |name: &HookName, reason: String| HookError::Build {
        hook: Box::new(name.clone()),
        reason,
    };
    let docs = parse_documents(&hook.manifest.source, &hook.manifest.content)
        .map_err(|e| build(&name, e.to_string()))?;
    let [doc] = docs.as_slice() else {
        return Err(build(
            &name,
            format!("a hook is one document, found {}", docs.len()),
        ));
    };
    // A hook may use a kind whose CRD an earlier step just created.
    if discovered.resolve(&doc.api_version, &doc.kind).is_none() {
        *discovered = Discovered::run(client).await?;
    }
    let resolved = match discovered.resolve(&doc.api_version, &doc.kind) {
        Some(r) => r.clone(),
        None => {
            let reason = discovered
                .explain_unknown(client, &doc.api_version, &doc.kind)
                .await;
            return Err(build(&name, reason));
        }
    };
    let mut object = doc.object.clone();
    if resolved.namespaced {
        if object
            .metadata
            .namespace
            .as_deref()
            .unwrap_or("")
            .is_empty()
        {
            object.metadata.namespace = Some(opts.target_namespace.clone());
        }
    } else {
        object.metadata.namespace = None;
    }
    object.metadata.resource_version = None;
    object.metadata.managed_fields = None;
    name.object.namespace = object.metadata.namespace.clone();
    let api: Api<DynamicObject> = match &object.metadata.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resolved.resource),
        None => Api::all_with(client.clone(), &resolved.resource),
    };
    let policies = if hook.delete_policies.is_empty() {
        vec![HookDeletePolicy::BeforeHookCreation]
    } else {
        hook.delete_policies.clone()
    };
    Ok(Prepared {
        name,
        object,
        api,
        resolved,
        policies,
    })
}

async fn apply(p: &Prepared) -> Result<(), HookError> {
    p.api
        .patch(
            &p.name.object.name,
            &PatchParams::apply(FIELD_MANAGER),
            &Patch::Apply(&p.object),
        )
        .await
        .map(|_| ())
        .map_err(|source| HookError::Apply {
            hook: Box::new(p.name.clone()),
            source: Box::new(source),
        })
}

/// A hook's readiness (Helm's hook status readers): Jobs until complete,
/// Pods until they succeed, everything else at once.
pub fn hook_status(group: &str, kind: &str, obj: &Value) -> Status {
    match (group, kind) {
        ("batch", "Job") => compute_status(kind, group, obj),
        ("", "Pod") => match obj.pointer("/status/phase").and_then(Value::as_str) {
            Some("Succeeded") => Status::Current,
            Some("Failed") => {
                let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or("");
                Status::Failed(
                    format!(
                        "Pod failed: {} {}",
                        s("/status/reason"),
                        s("/status/message")
                    )
                    .trim()
                    .to_string(),
                )
            }
            phase => Status::InProgress(format!("Pod phase {}", phase.unwrap_or("Pending"))),
        },
        _ => Status::Current,
    }
}

fn waits(resolved: &Resolved) -> bool {
    matches!(
        (
            resolved.resource.group.as_str(),
            resolved.resource.kind.as_str()
        ),
        ("batch", "Job") | ("", "Pod")
    )
}

async fn wait_ready(p: &Prepared, timeout: Duration) -> Result<(), HookError> {
    if !waits(&p.resolved) {
        return Ok(());
    }
    let start = Instant::now();
    loop {
        let last = match p.api.get_opt(&p.name.object.name).await {
            Ok(Some(live)) => match serde_json::to_value(&live) {
                Ok(v) => {
                    match hook_status(&p.resolved.resource.group, &p.resolved.resource.kind, &v) {
                        Status::Current => return Ok(()),
                        Status::Failed(reason) => {
                            return Err(HookError::Failed {
                                hook: Box::new(p.name.clone()),
                                reason,
                            })
                        }
                        Status::InProgress(why) => why,
                    }
                }
                Err(e) => format!("failed to read it: {e}"),
            },
            Ok(None) => "not found".to_string(),
            Err(e) => format!("failed to read it: {}", kube_message(&e)),
        };
        if start.elapsed() >= timeout {
            return Err(HookError::Timeout {
                hook: Box::new(p.name.clone()),
                timeout,
                last,
            });
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Delete the hook's object (background propagation) and wait until it
/// is gone. CRDs are never deleted.
async fn delete_and_wait(
    p: &Prepared,
    policy: HookDeletePolicy,
    timeout: Duration,
) -> Result<(), HookError> {
    if p.resolved.resource.kind == "CustomResourceDefinition" {
        return Ok(());
    }
    let fail = |reason: String| HookError::Delete {
        hook: Box::new(p.name.clone()),
        policy: policy.as_str(),
        reason,
    };
    let name = &p.name.object.name;
    match p.api.delete(name, &DeleteParams::background()).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
        Err(e) => return Err(fail(kube_message(&e))),
    }
    tracing::debug!(hook = %p.name, policy = policy.as_str(), "deleted hook object");
    let start = Instant::now();
    loop {
        match p.api.get_opt(name).await {
            Ok(None) => return Ok(()),
            Ok(Some(_)) => {}
            Err(e) => return Err(fail(format!("failed to read it: {}", kube_message(&e)))),
        }
        if start.elapsed() >= timeout {
            return Err(fail(format!("still exists after {timeout:?}")));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_render::manifest::{Head, Manifest};
    use serde_json::json;

    fn hook(kind: &str, name: &str, weight: i32, events: &[HookEvent]) -> Hook {
        Hook {
            manifest: Manifest {
                source: format!("c/templates/{name}.yaml"),
                content: String::new(),
                head: Head {
                    api_version: "v1".into(),
                    kind: kind.into(),
                    name: name.into(),
                    namespace: String::new(),
                },
            },
            events: events.to_vec(),
            weight,
            delete_policies: vec![],
        }
    }

    /// Helm's `hookByWeight`: weight, then name; stable otherwise.
    #[test]
    fn order_is_weight_then_name() {
        use HookEvent::*;
        let hooks = vec![
            hook("ConfigMap", "b", 0, &[PreInstall]),
            hook("Job", "a", 5, &[PreInstall, PostInstall]),
            hook("Job", "c", -1, &[PreInstall]),
            hook("Job", "a0", 0, &[PreInstall]),
            hook("Pod", "z", -5, &[PostInstall]),
            hook("Pod", "t", -9, &[Test]),
        ];
        let names = |event| -> Vec<&str> {
            select(&hooks, event)
                .iter()
                .map(|h| h.manifest.head.name.as_str())
                .collect()
        };
        assert_eq!(names(PreInstall), ["c", "a0", "b", "a"]);
        assert_eq!(names(PostInstall), ["z", "a"]);
        assert!(names(PreDelete).is_empty());
    }

    #[test]
    fn hook_readiness() {
        let job = json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(hook_status("batch", "Job", &job), Status::Current);
        let job = json!({"status": {"conditions": [{"type": "Failed", "status": "True",
            "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}});
        assert_eq!(
            hook_status("batch", "Job", &job),
            Status::Failed(
                "Job failed: BackoffLimitExceeded Job has reached the specified backoff limit"
                    .into()
            )
        );
        let pod = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}});
        assert!(matches!(
            hook_status("", "Pod", &pod),
            Status::InProgress(_)
        ));
        assert_eq!(
            hook_status("", "Pod", &json!({"status": {"phase": "Succeeded"}})),
            Status::Current
        );
        assert!(matches!(
            hook_status("", "Pod", &json!({"status": {"phase": "Failed"}})),
            Status::Failed(_)
        ));
        assert_eq!(hook_status("", "ConfigMap", &json!({})), Status::Current);
    }

    #[test]
    fn hook_name_display() {
        let n = HookName {
            object: ObjectName {
                kind: "Job".into(),
                namespace: Some("apps".into()),
                name: "migrate".into(),
            },
            event: HookEvent::PreInstall,
            source: "c/templates/job.yaml".into(),
        };
        assert_eq!(
            n.to_string(),
            "Job apps/migrate (hook pre-install, c/templates/job.yaml)"
        );
    }
}
