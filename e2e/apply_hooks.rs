//! Hooks and uninstall of the apply layer (`berth::apply::hooks`,
//! `berth::apply::uninstall`) on the real control plane.
//!
//! Hook Jobs complete here because kwok's default `pod-complete` stage
//! (printed by `e2e/tools/kwok/stages`) moves a Running pod owned by a Job
//! to `Succeeded`, and kube-controller-manager's job controller then marks
//! the Job `Complete`. A Job that must fail is pinned to a node that does
//! not exist with `activeDeadlineSeconds`, so the job controller fails it
//! with `DeadlineExceeded`; one that must hang is pinned without deadline.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use berth::api::helm_release::{CrdsPolicy, DeletionPropagation};
use berth::apply::discovery::Discovered;
use berth::apply::health::wait_healthy;
use berth::apply::hooks::{run_hooks, HookError, HookOptions, HookPhase, HookRun};
use berth::apply::inventory::{inventory_of, ObjectRef};
use berth::apply::ssa::{apply_all, documents_of, ApplyOptions};
use berth::apply::uninstall::{delete_objects, refs_of_manifest, UninstallError};
use berth_render::manifest::HookEvent;
use berth_render::{Capabilities, Rendered};

use crate::env::control_plane::{exists, ControlPlane};
use crate::env::Env;
use crate::Test;

pub fn tests() -> Vec<Test> {
    vec![
        Test {
            name: "apply_hooks::ordered_jobs_and_delete_policies",
            run: ordered_jobs_and_delete_policies,
        },
        Test {
            name: "apply_hooks::failed_job_stops_the_hooks",
            run: failed_job_stops_the_hooks,
        },
        Test {
            name: "apply_hooks::timeout_names_the_hook",
            run: timeout_names_the_hook,
        },
        Test {
            name: "apply_hooks::uninstall_keeps_and_skips_and_waits",
            run: uninstall_keeps_and_skips_and_waits,
        },
    ]
}

pub const PODINFO: &str = "/work/shared/charts/podinfo";

/// Render `chart` as release `release` in `ns` with `values` (YAML).
pub fn render_chart(
    chart: &Path,
    release: &str,
    ns: &str,
    values: &str,
    caps: &Capabilities,
) -> Result<Rendered> {
    let values = berth_chart::values::parse(values)?;
    crate::env::charts::render_with_berth(chart, release, ns, values, caps, None)
}

pub fn apply_options(release: &str, ns: &str) -> ApplyOptions {
    ApplyOptions {
        release_name: release.to_string(),
        release_namespace: ns.to_string(),
        target_namespace: ns.to_string(),
        create_namespace: true,
        force: false,
        crd_timeout: Duration::from_secs(30),
        crds: CrdsPolicy::Create,
        take_ownership: false,
    }
}

fn write(dir: &Path, rel: &str, text: &str) -> Result<()> {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().context("no parent")?)?;
    std::fs::write(&p, text).with_context(|| format!("failed to write {}", p.display()))
}

/// A hook Job of `event` with `weight` and delete `policy`; `pod_extra`
/// are more pod spec lines (YAML indented by 6).
fn job(
    name: &str,
    event: &str,
    weight: i32,
    policy: Option<&str>,
    deadline: Option<u32>,
    pod_extra: &str,
) -> String {
    let deadline = deadline
        .map(|d| format!("\n  activeDeadlineSeconds: {d}"))
        .unwrap_or_default();
    let policy = policy
        .map(|p| format!("\n    helm.sh/hook-delete-policy: {p}"))
        .unwrap_or_default();
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  annotations:
    helm.sh/hook: {event}
    helm.sh/hook-weight: "{weight}"{policy}
spec:
  backoffLimit: 0{deadline}
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: c, image: "berth-e2e/hook:1.0"}}]{pod_extra}
"#
    )
}

fn hook_chart(dir: &Path, templates: &[(&str, String)]) -> Result<()> {
    write(
        dir,
        "Chart.yaml",
        "apiVersion: v2\nname: hooks\nversion: 0.1.0\n",
    )?;
    for (name, text) in templates {
        write(dir, &format!("templates/{name}"), text)?;
    }
    Ok(())
}

fn hook_options(ns: &str, timeout: Duration) -> HookOptions {
    HookOptions {
        release_name: "hooks".to_string(),
        release_namespace: ns.to_string(),
        target_namespace: ns.to_string(),
        timeout,
    }
}

fn uid(cp: &ControlPlane, kind: &str, ns: &str, name: &str) -> Result<String> {
    Ok(cp
        .kubectl_output(&[
            "get",
            kind,
            "-n",
            ns,
            name,
            "-o",
            "jsonpath={.metadata.uid}",
        ])?
        .trim()
        .to_string())
}

fn run_names(runs: &[HookRun]) -> Vec<String> {
    runs.iter()
        .map(|r| format!("{}:{}", r.hook.manifest.head.name, r.phase))
        .collect()
}

/// Runs follow one another: each starts after the previous completed.
fn check_sequential(runs: &[HookRun]) -> Result<()> {
    for pair in runs.windows(2) {
        let done = pair[0].completed_at.with_context(|| {
            format!("{} has no completion time", pair[0].hook.manifest.head.name)
        })?;
        ensure!(
            pair[1].started_at >= done,
            "{} started at {} before {} completed at {done}",
            pair[1].hook.manifest.head.name,
            pair[1].started_at,
            pair[0].hook.manifest.head.name
        );
    }
    Ok(())
}

/// Pre-install Jobs of weights 5, -1 and 0 and a ConfigMap hook of weight
/// 1 run in weight order, each Job waited on until Complete; the
/// post-install hook and the plain ConfigMap are not run; `hook-succeeded`
/// deletes its Job afterwards; a second run replaces the Jobs with the
/// default `before-hook-creation`.
fn ordered_jobs_and_delete_policies(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "apply-hooks-order";
    cp.kubectl_output(&["create", "namespace", ns])?;
    let dir = tempfile::tempdir()?;
    hook_chart(
        dir.path(),
        &[
            ("five.yaml", job("five", "pre-install", 5, None, None, "")),
            (
                "minus.yaml",
                job("minus", "pre-install", -1, Some("hook-succeeded"), None, ""),
            ),
            ("zero.yaml", job("zero", "pre-install", 0, None, None, "")),
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hook-cm\n  annotations:\n    helm.sh/hook: pre-install,post-upgrade\n    helm.sh/hook-weight: \"1\"\ndata:\n  k: v\n"
                    .to_string(),
            ),
            ("post.yaml", job("post", "post-install", -10, None, None, "")),
            (
                "plain.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n".to_string(),
            ),
        ],
    )?;
    let mut discovered = env.rt.block_on(Discovered::run(&client))?;
    let rendered = render_chart(dir.path(), "hooks", ns, "", &discovered.capabilities())?;
    ensure!(
        rendered.hooks.len() == 5,
        "rendered hooks {:?}",
        rendered
            .hooks
            .iter()
            .map(|h| &h.manifest.head.name)
            .collect::<Vec<_>>()
    );
    let opts = hook_options(ns, Duration::from_secs(90));
    let (runs, result) = env.rt.block_on(run_hooks(
        &client,
        &mut discovered,
        &rendered.hooks,
        HookEvent::PreInstall,
        &opts,
    ));
    result.map_err(|e| anyhow::anyhow!("{e}\n{}", cp.log_tails(10)))?;
    ensure!(
        run_names(&runs)
            == [
                "minus:Succeeded",
                "zero:Succeeded",
                "hook-cm:Succeeded",
                "five:Succeeded"
            ],
        "runs {:?}",
        run_names(&runs)
    );
    check_sequential(&runs)?;
    // Each Job was complete before the next hook started: the job
    // controller's completion time is not after the next creation.
    for name in ["zero", "five"] {
        let complete = cp.kubectl_output(&[
            "get",
            "job",
            "-n",
            ns,
            name,
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Complete\")].status}",
        ])?;
        ensure!(complete.trim() == "True", "Job {name} Complete={complete}");
    }
    let times = |name: &str| -> Result<(String, String)> {
        let out = cp.kubectl_output(&[
            "get",
            "job",
            "-n",
            ns,
            name,
            "-o",
            "jsonpath={.metadata.creationTimestamp} {.status.completionTime}",
        ])?;
        let (a, b) = out.trim().split_once(' ').context("two times")?;
        Ok((a.to_string(), b.to_string()))
    };
    let (_, zero_done) = times("zero")?;
    let (five_created, _) = times("five")?;
    ensure!(
        zero_done <= five_created,
        "five created at {five_created}, before zero completed at {zero_done}"
    );
    ensure!(
        !exists(cp, "job", ns, "minus")?,
        "hook-succeeded Job minus still exists"
    );
    ensure!(exists(cp, "configmap", ns, "hook-cm")?, "hook-cm missing");
    ensure!(
        !exists(cp, "job", ns, "post")?,
        "post-install hook ran for pre-install"
    );
    ensure!(
        !exists(cp, "configmap", ns, "plain")?,
        "a non-hook document was applied by run_hooks"
    );

    // Again: before-hook-creation (the default) replaces the old Jobs.
    let (zero_uid, five_uid) = (uid(cp, "job", ns, "zero")?, uid(cp, "job", ns, "five")?);
    let (runs, result) = env.rt.block_on(run_hooks(
        &client,
        &mut discovered,
        &rendered.hooks,
        HookEvent::PreInstall,
        &opts,
    ));
    result.map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(runs.len() == 4, "second runs {:?}", run_names(&runs));
    ensure!(
        uid(cp, "job", ns, "zero")? != zero_uid && uid(cp, "job", ns, "five")? != five_uid,
        "before-hook-creation did not replace the Jobs"
    );
    // Test hooks and other events do nothing.
    let (runs, result) = env.rt.block_on(run_hooks(
        &client,
        &mut discovered,
        &rendered.hooks,
        HookEvent::PreDelete,
        &opts,
    ));
    ensure!(
        runs.is_empty() && result.is_ok(),
        "pre-delete ran {:?}",
        run_names(&runs)
    );
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}

/// A Job that fails stops the hooks: the error names the Job and the
/// job controller's reason, its `hook-failed` policy deletes it, the hook
/// that succeeded before it is deleted by its `hook-succeeded` policy,
/// and the hook after it never runs.
fn failed_job_stops_the_hooks(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "apply-hooks-fail";
    cp.kubectl_output(&["create", "namespace", ns])?;
    let dir = tempfile::tempdir()?;
    let unschedulable = "\n      nodeSelector: {berth-e2e/no-such-node: \"true\"}";
    hook_chart(
        dir.path(),
        &[
            (
                "first.yaml",
                job("first", "pre-upgrade", 0, Some("hook-succeeded"), None, ""),
            ),
            (
                "doomed.yaml",
                job(
                    "doomed",
                    "pre-upgrade",
                    1,
                    Some("hook-failed,before-hook-creation"),
                    Some(2),
                    unschedulable,
                ),
            ),
            ("after.yaml", job("after", "pre-upgrade", 2, None, None, "")),
        ],
    )?;
    let mut discovered = env.rt.block_on(Discovered::run(&client))?;
    let rendered = render_chart(dir.path(), "hooks", ns, "", &discovered.capabilities())?;
    let (runs, result) = env.rt.block_on(run_hooks(
        &client,
        &mut discovered,
        &rendered.hooks,
        HookEvent::PreUpgrade,
        &hook_options(ns, Duration::from_secs(90)),
    ));
    match result {
        Err(e @ HookError::Failed { .. }) => {
            let text = e.to_string();
            ensure!(
                text.starts_with(
                    "Job apply-hooks-fail/doomed (hook pre-upgrade, hooks/templates/doomed.yaml): Job failed: DeadlineExceeded"
                ),
                "error: {text}"
            );
        }
        other => bail!("want the hook to fail, got {other:?}"),
    }
    ensure!(
        run_names(&runs) == ["first:Succeeded", "doomed:Failed"],
        "runs {:?}",
        run_names(&runs)
    );
    check_sequential(&runs)?;
    ensure!(
        !exists(cp, "job", ns, "doomed")?,
        "hook-failed did not delete doomed"
    );
    ensure!(
        !exists(cp, "job", ns, "first")?,
        "hook-succeeded did not delete first after the failure"
    );
    ensure!(
        !exists(cp, "job", ns, "after")?,
        "a hook ran after a failure"
    );
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}

/// A Job that never completes times out naming the hook and what it was
/// waiting for; without `hook-failed` it stays for inspection.
fn timeout_names_the_hook(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "apply-hooks-timeout";
    cp.kubectl_output(&["create", "namespace", ns])?;
    let dir = tempfile::tempdir()?;
    hook_chart(
        dir.path(),
        &[(
            "stuck.yaml",
            job(
                "stuck",
                "post-rollback",
                0,
                None,
                None,
                "\n      nodeSelector: {berth-e2e/no-such-node: \"true\"}",
            ),
        )],
    )?;
    let mut discovered = env.rt.block_on(Discovered::run(&client))?;
    let rendered = render_chart(dir.path(), "hooks", ns, "", &discovered.capabilities())?;
    let (runs, result) = env.rt.block_on(run_hooks(
        &client,
        &mut discovered,
        &rendered.hooks,
        HookEvent::PostRollback,
        &hook_options(ns, Duration::from_secs(4)),
    ));
    match result {
        Err(e @ HookError::Timeout { .. }) => {
            let text = e.to_string();
            ensure!(
                text == "Job apply-hooks-timeout/stuck (hook post-rollback, hooks/templates/stuck.yaml): timed out after 4s waiting for it to complete: 0/1 completions",
                "error: {text}"
            );
        }
        other => bail!("want a timeout, got {other:?}"),
    }
    ensure!(
        runs.len() == 1 && runs[0].phase == HookPhase::Failed && runs[0].completed_at.is_some(),
        "runs {:?}",
        run_names(&runs)
    );
    ensure!(exists(cp, "job", ns, "stuck")?, "the stuck Job was deleted");
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}

/// podinfo (with redis) applied, then uninstalled from the refs of its
/// release manifest: the refs equal the inventory; an object marked
/// `keep` stays, an object that lost its ownership annotation is not
/// deleted, the rest is deleted with foreground propagation and waited on
/// until gone. A manifest with a kind the server does not serve is
/// refused naming the document.
fn uninstall_keeps_and_skips_and_waits(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "apply-uninstall";
    let mut discovered = env.rt.block_on(Discovered::run(&client))?;
    let rendered = render_chart(
        Path::new(PODINFO),
        "web",
        ns,
        "redis:\n  enabled: true\n",
        &discovered.capabilities(),
    )?;
    let (crds, docs) = documents_of(&rendered)?;
    let applied = env.rt.block_on(apply_all(
        &client,
        &mut discovered,
        &crds,
        &docs,
        &apply_options("web", ns),
    ))?;
    env.rt
        .block_on(wait_healthy(&client, &applied, Duration::from_secs(90)))
        .map_err(|e| anyhow::anyhow!("{e}\n{}", cp.log_tails(10)))?;

    // The release manifest as Helm stores it.
    let manifest: String = rendered
        .manifests
        .iter()
        .map(|m| format!("---\n# Source: {}\n{}\n", m.source, m.content.trim_end()))
        .collect();
    let refs = refs_of_manifest(&discovered, &manifest, ns)?;
    let inventory: Vec<String> = inventory_of(&applied)
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    let ids: Vec<String> = refs.iter().map(ObjectRef::id).collect();
    ensure!(
        ids == inventory,
        "refs of the manifest {ids:?} differ from the inventory {inventory:?}"
    );
    ensure!(refs.iter().all(|r| r.version == "v1"), "versions {refs:?}");

    cp.kubectl_output(&[
        "annotate",
        "service",
        "-n",
        ns,
        "web-podinfo",
        "helm.sh/resource-policy=keep",
    ])?;
    cp.kubectl_output(&[
        "annotate",
        "configmap",
        "-n",
        ns,
        "web-podinfo-redis",
        "meta.helm.sh/release-name-",
    ])?;
    let report = env.rt.block_on(delete_objects(
        &client,
        &discovered,
        &refs,
        "web",
        ns,
        DeletionPropagation::Foreground,
        Some(Duration::from_secs(90)),
    ))?;
    let show = |l: &[berth::apply::ObjectName]| -> Vec<String> {
        l.iter().map(ToString::to_string).collect()
    };
    ensure!(
        show(&report.kept) == ["Service apply-uninstall/web-podinfo"],
        "kept {:?}",
        report.kept
    );
    ensure!(
        show(&report.not_owned) == ["ConfigMap apply-uninstall/web-podinfo-redis"],
        "not owned {:?}",
        report.not_owned
    );
    let deleted = show(&report.deleted);
    ensure!(
        deleted
            == [
                "Deployment apply-uninstall/web-podinfo-redis",
                "Deployment apply-uninstall/web-podinfo",
                "Service apply-uninstall/web-podinfo-redis",
            ],
        "deleted {deleted:?} (in reverse install order)"
    );
    // Waited: gone as soon as the call returns, foreground deletion
    // included (the ReplicaSets went first).
    for (kind, name) in [
        ("deployment", "web-podinfo"),
        ("deployment", "web-podinfo-redis"),
        ("service", "web-podinfo-redis"),
    ] {
        ensure!(
            !exists(cp, kind, ns, name)?,
            "{kind} {name} still exists after the wait"
        );
    }
    ensure!(
        cp.kubectl_output(&["get", "replicasets", "-n", ns, "-o", "name"])?
            .trim()
            .is_empty(),
        "ReplicaSets left after a foreground delete"
    );
    ensure!(
        exists(cp, "service", ns, "web-podinfo")?,
        "kept Service deleted"
    );
    ensure!(
        exists(cp, "configmap", ns, "web-podinfo-redis")?,
        "not-owned ConfigMap deleted"
    );
    // Again: everything left is kept or not owned, the rest is missing.
    let report = env.rt.block_on(delete_objects(
        &client,
        &discovered,
        &refs,
        "web",
        ns,
        DeletionPropagation::Background,
        Some(Duration::from_secs(10)),
    ))?;
    ensure!(
        report.deleted.is_empty() && report.missing.len() == 3,
        "second delete {report:?}"
    );

    let bad = format!(
        "{manifest}---\n# Source: podinfo/templates/widget.yaml\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
    );
    match refs_of_manifest(&discovered, &bad, ns) {
        Err(e @ UninstallError::UnknownKind { .. }) => ensure!(
            e.to_string()
                == "manifest document podinfo/templates/widget.yaml: Widget w: the API server does not serve kind Widget in example.com/v1",
            "error: {e}"
        ),
        other => bail!("want an unknown kind error, got {other:?}"),
    }
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}
