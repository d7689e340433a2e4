//! Drift detection of the apply layer (`berth::apply::drift`) on the real
//! control plane: a fresh release has no drift; fields changed by hand
//! (`kubectl scale`, `kubectl patch`, `kubectl edit`) and a deleted object
//! are reported; ignore rules hide what they select; re-applying with
//! force corrects everything.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use berth::api::helm_release::{IgnoreRule, ObjectSelector};
use berth::apply::discovery::Discovered;
use berth::apply::drift::{detect, Drift};
use berth::apply::health::wait_healthy;
use berth::apply::ssa::{apply_all, documents_of, ApplyOptions};

use crate::apply_hooks::{apply_options, render_chart, PODINFO};
use crate::env::control_plane::ControlPlane;
use crate::env::Env;
use crate::Test;

pub fn tests() -> Vec<Test> {
    vec![Test {
        name: "apply_drift::detect_ignore_and_correct",
        run: detect_ignore_and_correct,
    }]
}

const IMAGE_POINTER: &str = "/spec/template/spec/containers/0/image";

fn show(drifts: &[Drift]) -> Vec<String> {
    drifts
        .iter()
        .map(|d| {
            if d.missing {
                format!("{} missing", d.object)
            } else {
                format!("{} {}", d.object, d.changed.join(","))
            }
        })
        .collect()
}

fn jsonpath(cp: &ControlPlane, kind: &str, ns: &str, name: &str, path: &str) -> Result<String> {
    Ok(cp
        .kubectl_output(&[
            "get",
            kind,
            "-n",
            ns,
            name,
            "-o",
            &format!("jsonpath={path}"),
        ])?
        .trim()
        .to_string())
}

/// `kubectl edit` with an editor script that rewrites `from` to `to`
/// (field manager `kubectl-edit`, a client-side update).
fn kubectl_edit(cp: &ControlPlane, dir: &Path, args: &[&str], from: &str, to: &str) -> Result<()> {
    let script = dir.join("editor.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nsed -i 's/{from}/{to}/' \"$1\"\n"),
    )?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    let out = cp
        .kubectl()
        .env("KUBE_EDITOR", &script)
        .arg("edit")
        .args(args)
        .output()
        .context("failed to run kubectl edit")?;
    ensure!(
        out.status.success(),
        "kubectl edit {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn detect_ignore_and_correct(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "apply-drift";
    let dir = tempfile::tempdir()?;
    let mut discovered = env.rt.block_on(Discovered::run(&client))?;
    let rendered = render_chart(
        Path::new(PODINFO),
        "web",
        ns,
        "redis:\n  enabled: true\n",
        &discovered.capabilities(),
    )?;
    let (crds, docs) = documents_of(&rendered)?;
    let opts: ApplyOptions = apply_options("web", ns);
    let applied = env
        .rt
        .block_on(apply_all(&client, &mut discovered, &crds, &docs, &opts))?;
    env.rt
        .block_on(wait_healthy(&client, &applied, Duration::from_secs(90)))
        .map_err(|e| anyhow::anyhow!("{e}\n{}", cp.log_tails(10)))?;

    // Fresh: defaults, status, managedFields, resourceVersion and what the
    // controllers set are no drift.
    let drifts = env
        .rt
        .block_on(detect(&client, &discovered, &docs, &opts, &[]))?;
    ensure!(
        drifts.is_empty(),
        "fresh release drifted: {:?}",
        show(&drifts)
    );

    let image = jsonpath(
        cp,
        "deployment",
        ns,
        "web-podinfo",
        "{.spec.template.spec.containers[0].image}",
    )?;
    cp.kubectl_output(&[
        "scale",
        "deployment",
        "-n",
        ns,
        "web-podinfo",
        "--replicas=3",
    ])?;
    cp.kubectl_output(&[
        "patch",
        "deployment",
        "-n",
        ns,
        "web-podinfo",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"podinfo","image":"berth-e2e/hand-patched:1.0"}]}}}}"#,
    ])?;
    kubectl_edit(
        cp,
        dir.path(),
        &["configmap", "-n", ns, "web-podinfo-redis"],
        "maxmemory 64mb",
        "maxmemory 1gb",
    )?;
    ensure!(
        jsonpath(
            cp,
            "configmap",
            ns,
            "web-podinfo-redis",
            "{.data.redis\\.conf}"
        )?
        .contains("maxmemory 1gb"),
        "kubectl edit did not change the ConfigMap"
    );
    let managers = jsonpath(
        cp,
        "configmap",
        ns,
        "web-podinfo-redis",
        "{.metadata.managedFields[*].manager}",
    )?;
    ensure!(
        managers.contains("kubectl-edit"),
        "ConfigMap managers: {managers}"
    );
    cp.kubectl_output(&["delete", "service", "-n", ns, "web-podinfo"])?;

    let drifts = env
        .rt
        .block_on(detect(&client, &discovered, &docs, &opts, &[]))?;
    let want = [
        "ConfigMap apply-drift/web-podinfo-redis /data/redis.conf".to_string(),
        "Service apply-drift/web-podinfo missing".to_string(),
        format!("Deployment apply-drift/web-podinfo /spec/replicas,{IMAGE_POINTER}"),
    ];
    let got = show(&drifts);
    ensure!(
        got.len() == want.len() && want.iter().all(|w| got.contains(w)),
        "drift {got:?}, want {want:?}"
    );

    // An ignore rule for Deployments' replicas hides the scale, not the
    // image; a rule for another kind hides nothing.
    let ignore = [
        IgnoreRule {
            paths: vec!["/spec/replicas".to_string()],
            target: Some(ObjectSelector {
                kind: Some("Deployment".to_string()),
                ..ObjectSelector::default()
            }),
        },
        IgnoreRule {
            paths: vec!["/data/redis.conf".to_string()],
            target: Some(ObjectSelector {
                kind: Some("Secret".to_string()),
                ..ObjectSelector::default()
            }),
        },
    ];
    let drifts = env
        .rt
        .block_on(detect(&client, &discovered, &docs, &opts, &ignore))?;
    let got = show(&drifts);
    ensure!(
        got.contains(&format!(
            "Deployment apply-drift/web-podinfo {IMAGE_POINTER}"
        )) && got.contains(&want[0])
            && got.contains(&want[1])
            && got.len() == 3,
        "drift with ignore rules {got:?}"
    );
    // Ignoring the whole scale and image of every object of the release.
    let everything = [IgnoreRule {
        paths: vec!["/spec/replicas".to_string(), IMAGE_POINTER.to_string()],
        target: None,
    }];
    let drifts = env
        .rt
        .block_on(detect(&client, &discovered, &docs, &opts, &everything))?;
    ensure!(
        !show(&drifts).iter().any(|d| d.starts_with("Deployment")),
        "drift ignoring replicas and image {:?}",
        show(&drifts)
    );

    // Correct: re-apply with force takes the fields back from kubectl,
    // kubectl-patch and kubectl-edit and recreates the Service.
    let force = ApplyOptions {
        force: true,
        ..opts.clone()
    };
    let applied = env
        .rt
        .block_on(apply_all(&client, &mut discovered, &crds, &docs, &force))?;
    let drifts = env
        .rt
        .block_on(detect(&client, &discovered, &docs, &opts, &[]))?;
    ensure!(
        drifts.is_empty(),
        "drift after correction: {:?}",
        show(&drifts)
    );
    ensure!(
        jsonpath(cp, "deployment", ns, "web-podinfo", "{.spec.replicas}")? == "1",
        "replicas not restored"
    );
    ensure!(
        jsonpath(
            cp,
            "deployment",
            ns,
            "web-podinfo",
            "{.spec.template.spec.containers[0].image}"
        )? == image,
        "image not restored"
    );
    ensure!(
        jsonpath(
            cp,
            "configmap",
            ns,
            "web-podinfo-redis",
            "{.data.redis\\.conf}"
        )?
        .contains("maxmemory 64mb"),
        "ConfigMap not restored"
    );
    ensure!(
        !jsonpath(cp, "service", ns, "web-podinfo", "{.metadata.name}")?.is_empty(),
        "Service not recreated"
    );
    env.rt
        .block_on(wait_healthy(&client, &applied, Duration::from_secs(90)))
        .map_err(|e| anyhow::anyhow!("{e}\n{}", cp.log_tails(10)))?;
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}
