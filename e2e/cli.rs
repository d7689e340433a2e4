//! The SRE commands of the built binary (`berth get`, `reconcile`,
//! `suspend`, `resume`, `explain hr`) against the real control plane, on
//! objects reconciled by an in-process controller of this file's shard.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{ensure, Context as _, Result};
use berth::api::helm_release::HelmRelease;
use berth::api::oci_repository::OCIRepository;
use berth::controller::Context;
use kube::api::Api;
use serde_json::json;

use crate::env::berth::{
    admin_config, apply, create_namespace, start_controller, SharedController,
};
use crate::env::registry::{random_hex, ClientHome};
use crate::env::Env;
use crate::metrics::{app_objects, wait_ready};

pub fn tests() -> Vec<crate::Test> {
    vec![crate::Test {
        name: "cli::get_reconcile_suspend_explain",
        run: get_reconcile_suspend_explain,
    }]
}

const SHARD: &str = "cli";

static CONTROLLER: SharedController = SharedController::new();

/// The controllers for this file's objects (label `SHARD`), started once.
fn controller(env: &Env) -> Result<Arc<Context>> {
    CONTROLLER.get("controller", || {
        let config = admin_config(env)?;
        start_controller(env, SHARD, 4, |ctx| ctx.kube_config = Some(config))
    })
}

/// `berth ARGS… --kubeconfig K` → (exit status, stdout, stderr).
fn berth(env: &Env, args: &[&str]) -> Result<(i32, String, String)> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .arg("--kubeconfig")
        .arg(&env.cluster()?.kubeconfig)
        .env_remove("KUBECONFIG")
        .output()
        .with_context(|| format!("failed to run berth {args:?}"))?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

fn ok(env: &Env, args: &[&str]) -> Result<String> {
    let (code, out, err) = berth(env, args)?;
    ensure!(
        code == 0,
        "berth {args:?} exited {code}\nstdout:\n{out}\nstderr:\n{err}"
    );
    Ok(out)
}

/// The row of `get` output whose KIND and NAME columns match.
fn row<'a>(out: &'a str, ns: &str, kind: &str, name: &str) -> Option<Vec<&'a str>> {
    out.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|c| c.len() > 3 && c[0] == ns && c[1] == kind && c[2] == name)
}

fn get_reconcile_suspend_explain(env: &Env) -> Result<()> {
    controller(env)?;
    let home = ClientHome::new(env, "cli")?;
    let ns = create_namespace(env, "cli")?;
    let repo = format!("cli-{}", random_hex(4)?);
    let pushed = app_objects(env, &home, &ns, SHARD, &repo, "1.0.0")?;
    wait_ready(env, &ns, "app", "1.0.0")?;
    let client = env.cluster()?.client(&env.rt)?;
    let hrs: Api<HelmRelease> = Api::namespaced(client.clone(), &ns);
    let sources: Api<OCIRepository> = Api::namespaced(client, &ns);

    // get: both objects, Ready, revisions, not suspended.
    let out = ok(env, &["get", "-n", &ns])?;
    let header: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    ensure!(
        header
            == [
                "NAMESPACE",
                "KIND",
                "NAME",
                "READY",
                "SUSPENDED",
                "REVISION",
                "SIGNER",
                "AGE",
                "MESSAGE"
            ],
        "header: {out}"
    );
    let src =
        row(&out, &ns, "OCIRepository", "app").with_context(|| format!("no source row:\n{out}"))?;
    ensure!(
        src[3] == "True"
            && src[4] == "false"
            && src[5] == format!("1.0.0@{pushed}")
            && src[6] == "-",
        "source row {src:?}:\n{out}"
    );
    let hr =
        row(&out, &ns, "HelmRelease", "app").with_context(|| format!("no release row:\n{out}"))?;
    ensure!(
        hr[3] == "True" && hr[4] == "false" && hr[5] == "app@1.0.0" && hr[6] == "-",
        "release row {hr:?}:\n{out}"
    );
    let all = ok(env, &["get", "-A"])?;
    ensure!(
        row(&all, &ns, "HelmRelease", "app").is_some(),
        "get -A lacks {ns}/app:\n{all}"
    );
    let empty = create_namespace(env, "cli-empty")?;
    let none = ok(env, &["get", "-n", &empty])?;
    ensure!(
        none == format!("No OCIRepositories or HelmReleases found in {empty} namespace.\n"),
        "{none}"
    );

    // reconcile: the request annotation, handled, Ready reported.
    let out = ok(
        env,
        &["reconcile", "hr", "app", "-n", &ns, "--timeout", "60s"],
    )?;
    ensure!(
        out.starts_with(&format!("HelmRelease {ns}/app: Ready=True")),
        "{out}"
    );
    let got = env.rt.block_on(hrs.get("app"))?;
    let requested = got
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(berth::controller::REQUESTED_AT_ANNOTATION))
        .context("no request annotation")?;
    ensure!(
        got.status
            .as_ref()
            .and_then(|s| s.last_handled_reconcile_at.as_ref())
            == Some(requested),
        "request {requested} not handled: {:?}",
        got.status
    );
    let out = ok(env, &["reconcile", "source", "app", "-n", &ns])?;
    ensure!(
        out.starts_with(&format!("OCIRepository {ns}/app: Ready=True")),
        "{out}"
    );

    // A source that cannot become Ready: non-zero exit with Ready=False.
    apply(
        env,
        &ns,
        SHARD,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "OCIRepository",
            "metadata": {"name": "missing"},
            "spec": {"url": env.registries()?.referrers.oci_url(&format!("{repo}/nothing")),
                     "insecure": true, "interval": "1m", "ref": {"tag": "9.9.9"}},
        }),
    )?;
    let (code, out, err) = berth(
        env,
        &[
            "reconcile",
            "source",
            "missing",
            "-n",
            &ns,
            "--timeout",
            "60s",
        ],
    )?;
    ensure!(
        code == 1
            && out.is_empty()
            && err.contains(&format!("OCIRepository {ns}/missing: Ready=False")),
        "exit {code}\nstdout:\n{out}\nstderr:\n{err}"
    );
    let (code, _, err) = berth(env, &["reconcile", "hr", "nope", "-n", &ns])?;
    ensure!(
        code == 1 && err.contains(&format!("HelmRelease {ns}/nope not found")),
        "exit {code}: {err}"
    );

    // suspend / resume patch spec.suspend; a suspended object is not
    // reconciled on request.
    let out = ok(env, &["suspend", "hr", "app", "-n", &ns])?;
    ensure!(out == format!("HelmRelease {ns}/app suspended\n"), "{out}");
    ensure!(
        env.rt.block_on(hrs.get("app"))?.spec.suspend,
        "not suspended"
    );
    let (code, _, err) = berth(env, &["reconcile", "hr", "app", "-n", &ns])?;
    ensure!(
        code == 1 && err.contains("is suspended"),
        "exit {code}: {err}"
    );
    let out = ok(env, &["get", "-n", &ns])?;
    let hr = row(&out, &ns, "HelmRelease", "app").context("no release row")?;
    ensure!(hr[4] == "true", "{out}");
    ok(env, &["resume", "hr", "app", "-n", &ns])?;
    ensure!(
        !env.rt.block_on(hrs.get("app"))?.spec.suspend,
        "still suspended"
    );
    ok(env, &["suspend", "source", "app", "-n", &ns])?;
    ensure!(
        env.rt.block_on(sources.get("app"))?.spec.suspend,
        "source not suspended"
    );
    ok(env, &["resume", "source", "app", "-n", &ns])?;
    ensure!(
        !env.rt.block_on(sources.get("app"))?.spec.suspend,
        "source still suspended"
    );

    // explain: the chain down to the objects' health.
    let src = env.rt.block_on(sources.get("app"))?;
    let layer = src
        .status
        .as_ref()
        .and_then(|s| s.artifact.as_ref())
        .map(|a| a.digest.clone())
        .context("no artifact")?;
    let out = ok(env, &["explain", "hr", "app", "-n", &ns])?;
    let url = env.registries()?.referrers.oci_url(&format!("{repo}/app"));
    for want in [
        format!("HelmRelease  {ns}/app\n"),
        format!("OCIRepository  {ns}/app\n"),
        format!("  url:       {url}\n"),
        "  ref:       semver ^1\n".to_string(),
        "  tag:       1.0.0\n".to_string(),
        format!("  digest:    {pushed}\n"),
        format!("  layer:     {layer}\n"),
        "  signer:    not verified (no spec.verify)\n".to_string(),
        format!("Release  {ns}/app\n"),
        "  revision:  1 deployed (chart app@1.0.0)\n".to_string(),
        "Objects  1\n".to_string(),
    ] {
        ensure!(out.contains(&want), "explain lacks {want:?}:\n{out}");
    }
    let object = out
        .lines()
        .find(|l| l.trim_start().starts_with("ConfigMap "))
        .with_context(|| format!("no ConfigMap line:\n{out}"))?;
    let cols: Vec<&str> = object.split_whitespace().collect();
    ensure!(
        cols == ["ConfigMap", &format!("{ns}/app-settings"), "Current"],
        "{object}"
    );
    // The object's health is read live: deleted, it shows NotFound.
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(env.cluster()?.client(&env.rt)?, &ns);
    ok(env, &["suspend", "hr", "app", "-n", &ns])?;
    env.rt
        .block_on(cms.delete("app-settings", &Default::default()))?;
    std::thread::sleep(Duration::from_millis(200));
    let out = ok(env, &["explain", "hr", "app", "-n", &ns])?;
    ensure!(
        out.lines().any(|l| l.split_whitespace().collect::<Vec<_>>()
            == ["ConfigMap", &format!("{ns}/app-settings"), "NotFound"]),
        "{out}"
    );
    let (code, _, err) = berth(env, &["explain", "hr", "nope", "-n", &ns])?;
    ensure!(code == 1 && err.contains("not found"), "exit {code}: {err}");
    Ok(())
}
