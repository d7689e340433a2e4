//! The OCIRepository controller against the real control plane and the
//! real registries: the controller runs in-process (a task on the suite's
//! runtime, exactly the code `berth controller` runs), charts are pushed
//! with the real `helm push`, other artifacts with the real `oras push`.
//! The request counters of the controller's registry clients show what a
//! poll costs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
use berth::api::oci_repository::OCIRepository;
use berth::controller::{Context, UnavailableVerifier};
use berth_oci::Digest;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};

use crate::env::berth::{
    client, create_namespace, install_crds, spawn_berth, start_controller, SharedController,
    SHARD_LABEL,
};
use crate::env::charts::{helm_push, package_chart};
use crate::env::process::{free_port, Process};
use crate::env::registry::{random_hex, run_ok, ClientHome, Registry};
use crate::env::Env;

pub fn tests() -> Vec<crate::Test> {
    vec![
        crate::Test {
            name: "ocirepository_semver_tag_digest_and_polling_cost",
            run: semver_tag_digest_and_polling_cost,
        },
        crate::Test {
            name: "ocirepository_failures_and_verify",
            run: failures_and_verify,
        },
        crate::Test {
            name: "ocirepository_oras_layer_selector",
            run: oras_layer_selector,
        },
        crate::Test {
            name: "ocirepository_auth_and_tls",
            run: auth_and_tls,
        },
        crate::Test {
            name: "ocirepository_registry_restart",
            run: registry_restart,
        },
        crate::Test {
            name: "ocirepository_controller_binary",
            run: controller_binary,
        },
        crate::Test {
            name: "ocirepository_cosign_verified",
            run: cosign_verified,
        },
    ]
}

const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const WAIT: Duration = Duration::from_secs(60);

static CONTROLLER: SharedController = SharedController::new();

/// The controller, started once for every test of this file: CRDs
/// applied, then `berth::controller::run` on the suite's runtime.
fn controller(env: &Env) -> Result<Arc<Context>> {
    CONTROLLER.get("controller", || {
        start_shard(env, "in-process", Arc::new(UnavailableVerifier))
    })
}

/// A controller on the suite's runtime for the objects labelled `shard`.
fn start_shard(
    env: &Env,
    shard: &str,
    verifier: Arc<dyn berth::controller::Verifier>,
) -> Result<Arc<Context>> {
    start_controller(env, shard, 4, |ctx| {
        ctx.verifier = verifier;
        // Deleted sources are forgotten within seconds (the default is 30s).
        ctx.gc_interval = Duration::from_secs(2);
    })
}

fn create_repo(env: &Env, ns: &str, name: &str, spec: serde_json::Value) -> Result<()> {
    create_repo_for(env, "in-process", ns, name, spec)
}

fn create_repo_for(
    env: &Env,
    shard: &str,
    ns: &str,
    name: &str,
    spec: serde_json::Value,
) -> Result<()> {
    let api: Api<OCIRepository> = Api::namespaced(client(env)?, ns);
    let obj: OCIRepository = serde_json::from_value(serde_json::json!({
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "OCIRepository",
        "metadata": {"name": name, "namespace": ns, "labels": {SHARD_LABEL: shard}},
        "spec": spec,
    }))
    .context("not an OCIRepository")?;
    env.rt.block_on(api.create(&PostParams::default(), &obj))?;
    Ok(())
}

fn patch_repo(env: &Env, ns: &str, name: &str, patch: serde_json::Value) -> Result<()> {
    let api: Api<OCIRepository> = Api::namespaced(client(env)?, ns);
    env.rt
        .block_on(api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)))?;
    Ok(())
}

fn get_repo(env: &Env, ns: &str, name: &str) -> Result<OCIRepository> {
    let api: Api<OCIRepository> = Api::namespaced(client(env)?, ns);
    Ok(env.rt.block_on(api.get(name))?)
}

fn condition<'a>(o: &'a OCIRepository, type_: &str) -> Option<&'a Condition> {
    o.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

fn describe(o: &OCIRepository) -> String {
    serde_json::to_string_pretty(&o.status).unwrap_or_default()
}

/// Poll the object until `done` holds; the error shows the last status.
fn wait_repo(
    env: &Env,
    ns: &str,
    name: &str,
    timeout: Duration,
    what: &str,
    done: impl Fn(&OCIRepository) -> bool,
) -> Result<OCIRepository> {
    let start = Instant::now();
    loop {
        let o = get_repo(env, ns, name)?;
        if done(&o) {
            return Ok(o);
        }
        if start.elapsed() > timeout {
            bail!(
                "{ns}/{name}: not {what} after {timeout:?}; status:\n{}",
                describe(&o)
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn is_ready(o: &OCIRepository) -> bool {
    condition(o, "Ready").is_some_and(|c| c.status == "True")
        && o.status.as_ref().and_then(|s| s.observed_generation) == o.metadata.generation
}

fn revision(o: &OCIRepository) -> Option<&str> {
    o.status
        .as_ref()?
        .artifact
        .as_ref()
        .map(|a| a.revision.as_str())
}

/// Wait until Ready with a revision starting with `prefix`.
fn wait_revision(env: &Env, ns: &str, name: &str, prefix: &str) -> Result<OCIRepository> {
    wait_repo(env, ns, name, WAIT, &format!("Ready at {prefix}"), |o| {
        is_ready(o) && revision(o).is_some_and(|r| r.starts_with(prefix))
    })
}

/// Wait until Ready is False with `reason`.
fn wait_failure(env: &Env, ns: &str, name: &str, reason: &str) -> Result<OCIRepository> {
    wait_repo(env, ns, name, WAIT, &format!("failed with {reason}"), |o| {
        condition(o, "Ready").is_some_and(|c| c.status == "False" && c.reason == reason)
    })
}

fn oras_tag(
    env: &Env,
    home: &ClientHome,
    reg: &Registry,
    name: &str,
    from: &str,
    to: &str,
) -> Result<()> {
    let mut cmd = home.command(&env.tools, "oras");
    cmd.args(["tag", "--plain-http"])
        .arg(format!("{}:{from}", reg.repo(name)))
        .arg(to);
    run_ok(cmd)?;
    Ok(())
}

fn counters(ctx: &Context, ns: &str, name: &str) -> Result<BTreeMap<String, u64>> {
    Ok(ctx
        .registry_counters(ns, name)
        .with_context(|| format!("{ns}/{name} has no registry client"))?
        .snapshot())
}

fn delta(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter_map(|(k, v)| {
            let d = v - before.get(k).copied().unwrap_or(0);
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}

/// Charts 1.0.0, 1.1.0, 2.0.0-rc.1 and 2.0.0 pushed by helm:
/// - `semver: ^1` stores 1.1.0 (the chart layer, byte for byte, loadable);
///   pushing 1.2.0 moves it within an interval;
/// - a semverFilter selects the release candidate;
/// - tag and digest pins; a tag moved to another digest shows the new one;
/// - polling cost: an unchanged semver source costs one tag list per
///   interval, a tag pin one manifest HEAD, a digest pin nothing; no blob
///   is fetched twice, and a second source of a stored layer fetches none;
/// - a spec change and a `requestedAt` annotation reconcile at once.
fn semver_tag_digest_and_polling_cost(env: &Env) -> Result<()> {
    let ctx = controller(env)?;
    let regs = env.registries()?;
    let reg = &regs.referrers;
    let home = ClientHome::new(env, "ocirepo-semver")?;
    let repo = format!("ocirepo-{}", random_hex(4)?);
    let name = format!("{repo}/app");
    let mut digests = BTreeMap::new();
    let mut charts = BTreeMap::new();
    for v in ["1.0.0", "1.1.0", "2.0.0-rc.1", "2.0.0"] {
        let chart = package_chart(env, &home, "app", v)?;
        digests.insert(
            v,
            helm_push(env, &home, &chart, &reg.host, &repo, &["--plain-http"])?,
        );
        charts.insert(v, chart);
    }
    let ns = create_namespace(env, "ocirepo-semver")?;
    let url = reg.oci_url(&name);
    create_repo(
        env,
        &ns,
        "caret-one",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"semver": "^1"}}),
    )?;
    let o = wait_revision(env, &ns, "caret-one", "1.1.0@")?;
    let a = o
        .status
        .as_ref()
        .and_then(|s| s.artifact.clone())
        .context("no artifact")?;
    ensure!(
        a.revision == format!("1.1.0@{}", digests["1.1.0"]),
        "revision {}",
        a.revision
    );
    let layer = Digest::sha256_of(&charts["1.1.0"].bytes);
    ensure!(
        a.digest == layer.to_string(),
        "artifact digest {} is not the chart layer {layer}",
        a.digest
    );
    ensure!(a.size == Some(charts["1.1.0"].bytes.len() as i64));
    ensure!(a.media_type.as_deref() == Some(HELM_CHART_LAYER));
    ensure!(
        a.metadata
            .get("org.opencontainers.image.version")
            .map(String::as_str)
            == Some("1.1.0"),
        "metadata {:?}",
        a.metadata
    );
    ensure!(
        condition(&o, "ArtifactInStorage").is_some_and(|c| c.status == "True"),
        "ArtifactInStorage: {}",
        describe(&o)
    );
    // No verify spec, no SourceVerified condition.
    ensure!(
        condition(&o, "SourceVerified").is_none(),
        "{}",
        describe(&o)
    );
    let stored = ctx
        .store
        .get(&layer)
        .context("the layer is not in the store")?;
    ensure!(stored.bytes() == charts["1.1.0"].bytes.as_slice());
    let chart = stored.chart().map_err(anyhow::Error::msg)?;
    ensure!(
        chart.metadata.version == "1.1.0",
        "stored chart {}",
        chart.metadata.version
    );

    // 1.2.0 arrives: the artifact moves within an interval (2s) plus a poll.
    let chart = package_chart(env, &home, "app", "1.2.0")?;
    digests.insert(
        "1.2.0",
        helm_push(env, &home, &chart, &reg.host, &repo, &["--plain-http"])?,
    );
    charts.insert("1.2.0", chart);
    let pushed = Instant::now();
    wait_revision(
        env,
        &ns,
        "caret-one",
        &format!("1.2.0@{}", digests["1.2.0"]),
    )?;
    ensure!(
        pushed.elapsed() < Duration::from_secs(8),
        "1.2.0 took {:?}",
        pushed.elapsed()
    );

    // Other refs.
    create_repo(
        env,
        &ns,
        "rc",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s",
            "ref": {"semver": ">=2.0.0-0", "semverFilter": ".*-rc.*"}}),
    )?;
    create_repo(
        env,
        &ns,
        "pinned-tag",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"tag": "1.2.0"}}),
    )?;
    create_repo(
        env,
        &ns,
        "pinned-digest",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s",
            "ref": {"digest": digests["2.0.0"].to_string()}}),
    )?;
    wait_revision(
        env,
        &ns,
        "rc",
        &format!("2.0.0-rc.1@{}", digests["2.0.0-rc.1"]),
    )?;
    wait_revision(
        env,
        &ns,
        "pinned-tag",
        &format!("1.2.0@{}", digests["1.2.0"]),
    )?;
    let o = wait_revision(env, &ns, "pinned-digest", &digests["2.0.0"].to_string())?;
    ensure!(revision(&o) == Some(digests["2.0.0"].to_string().as_str()));

    // Polling cost over ~3 intervals.
    std::thread::sleep(Duration::from_secs(3));
    let before: BTreeMap<&str, _> = [
        ("caret-one", counters(&ctx, &ns, "caret-one")?),
        ("pinned-tag", counters(&ctx, &ns, "pinned-tag")?),
        ("pinned-digest", counters(&ctx, &ns, "pinned-digest")?),
    ]
    .into();
    std::thread::sleep(Duration::from_secs(7));
    for (obj, polls_key) in [
        ("caret-one", Some("tags GET")),
        ("pinned-tag", Some("manifest HEAD")),
        ("pinned-digest", None),
    ] {
        let after = counters(&ctx, &ns, obj)?;
        let d = delta(&before[obj], &after);
        match polls_key {
            Some(key) => {
                let polls = d.get(key).copied().unwrap_or(0);
                ensure!(
                    d.len() == 1 && (2..=4).contains(&polls),
                    "{obj}: 7s of polling an unchanged repository every 2s cost {d:?} (expected one {key} per poll, 2-4 polls, and nothing else)"
                );
            }
            None => ensure!(d.is_empty(), "{obj}: a stored digest pin cost {d:?}"),
        }
    }
    let all = counters(&ctx, &ns, "caret-one")?;
    ensure!(
        all.get("blob GET") == Some(&2),
        "caret-one pulled two layers (1.1.0, 1.2.0) and should have fetched two blobs: {all:?}"
    );
    let pinned = counters(&ctx, &ns, "pinned-tag")?;
    ensure!(
        !pinned.contains_key("blob GET"),
        "pinned-tag's layer was already stored, yet it fetched a blob: {pinned:?}"
    );

    // Suspended: no request at all; resumed: polling again.
    patch_repo(
        env,
        &ns,
        "pinned-tag",
        serde_json::json!({"spec": {"suspend": true}}),
    )?;
    std::thread::sleep(Duration::from_secs(1));
    let suspended = counters(&ctx, &ns, "pinned-tag")?;
    std::thread::sleep(Duration::from_secs(5));
    let d = delta(&suspended, &counters(&ctx, &ns, "pinned-tag")?);
    ensure!(d.is_empty(), "a suspended source polled: {d:?}");
    patch_repo(
        env,
        &ns,
        "pinned-tag",
        serde_json::json!({"spec": {"suspend": false}}),
    )?;
    let resumed = Instant::now();
    while delta(&suspended, &counters(&ctx, &ns, "pinned-tag")?).is_empty() {
        ensure!(
            resumed.elapsed() < Duration::from_secs(10),
            "the resumed source does not poll"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    wait_revision(
        env,
        &ns,
        "pinned-tag",
        &format!("1.2.0@{}", digests["1.2.0"]),
    )?;

    // A tag moved to another digest: the status follows.
    oras_tag(env, &home, reg, &name, "1.0.0", "stable")?;
    create_repo(
        env,
        &ns,
        "moving",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"tag": "stable"}}),
    )?;
    wait_revision(env, &ns, "moving", &format!("stable@{}", digests["1.0.0"]))?;
    oras_tag(env, &home, reg, &name, "2.0.0", "stable")?;
    let o = wait_revision(env, &ns, "moving", &format!("stable@{}", digests["2.0.0"]))?;
    let a = o
        .status
        .as_ref()
        .and_then(|s| s.artifact.as_ref())
        .context("no artifact")?;
    ensure!(a.digest == Digest::sha256_of(&charts["2.0.0"].bytes).to_string());

    // Spec change and reconcile request on a slow source: handled at once.
    create_repo(
        env,
        &ns,
        "slow",
        serde_json::json!({"url": url, "insecure": true, "interval": "1h", "ref": {"tag": "1.0.0"}}),
    )?;
    wait_revision(env, &ns, "slow", "1.0.0@")?;
    let changed = Instant::now();
    patch_repo(
        env,
        &ns,
        "slow",
        serde_json::json!({"spec": {"ref": {"tag": "1.1.0"}}}),
    )?;
    wait_revision(env, &ns, "slow", "1.1.0@")?;
    ensure!(changed.elapsed() < Duration::from_secs(10));
    let requested = format!("now-{}", random_hex(3)?);
    let heads_before = counters(&ctx, &ns, "slow")?;
    patch_repo(
        env,
        &ns,
        "slow",
        serde_json::json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": requested}}}),
    )?;
    wait_repo(
        env,
        &ns,
        "slow",
        Duration::from_secs(10),
        "handling the request",
        |o| {
            o.status
                .as_ref()
                .and_then(|s| s.last_handled_reconcile_at.as_deref())
                == Some(requested.as_str())
        },
    )?;
    let d = delta(&heads_before, &counters(&ctx, &ns, "slow")?);
    ensure!(
        d.get("manifest HEAD") == Some(&1),
        "a requested reconcile resolves the tag once: {d:?}"
    );

    // Events: a NewArtifact per revision.
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client(env)?, &ns);
    let list = env.rt.block_on(events.list(&Default::default()))?;
    let new_artifacts: Vec<String> = list
        .items
        .iter()
        .filter(|e| {
            e.reason.as_deref() == Some("NewArtifact")
                && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("caret-one")
        })
        .filter_map(|e| e.note.clone())
        .collect();
    ensure!(
        new_artifacts.iter().any(|n| n.contains("1.1.0@"))
            && new_artifacts.iter().any(|n| n.contains("1.2.0@")),
        "NewArtifact events for caret-one: {new_artifacts:?}"
    );
    Ok(())
}

/// Failures a human can act on, the last good artifact kept, and
/// `spec.verify` refused honestly (no artifact at all).
fn failures_and_verify(env: &Env) -> Result<()> {
    let ctx = controller(env)?;
    let regs = env.registries()?;
    let reg = &regs.referrers;
    let home = ClientHome::new(env, "ocirepo-failures")?;
    let repo = format!("ocirepo-{}", random_hex(4)?);
    for v in ["1.0.0", "1.1.0"] {
        let chart = package_chart(env, &home, "fail", v)?;
        helm_push(env, &home, &chart, &reg.host, &repo, &["--plain-http"])?;
    }
    let url = reg.oci_url(&format!("{repo}/fail"));
    let ns = create_namespace(env, "ocirepo-failures")?;

    create_repo(
        env,
        &ns,
        "no-match",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"semver": "^9"}}),
    )?;
    let o = wait_failure(env, &ns, "no-match", "NoMatchingTag")?;
    let ready = condition(&o, "Ready").context("no Ready")?;
    ensure!(
        ready
            .message
            .contains("no tag matches range ^9 (tags: 1.0.0, 1.1.0)"),
        "message: {}",
        ready.message
    );
    ensure!(condition(&o, "Stalled").is_some_and(|c| c.status == "True"));

    create_repo(
        env,
        &ns,
        "no-tag",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"tag": "9.9.9"}}),
    )?;
    wait_failure(env, &ns, "no-tag", "TagNotFound")?;
    // Deleted: the controller forgets its registry client (gc every 2s here).
    ensure!(ctx.registry_counters(&ns, "no-tag").is_some());
    let api: Api<OCIRepository> = Api::namespaced(client(env)?, &ns);
    env.rt
        .block_on(api.delete("no-tag", &DeleteParams::default()))?;
    let deleted = Instant::now();
    while ctx.registry_counters(&ns, "no-tag").is_some() {
        ensure!(
            deleted.elapsed() < Duration::from_secs(15),
            "the deleted source's registry client is still kept"
        );
        std::thread::sleep(Duration::from_millis(250));
    }

    create_repo(
        env,
        &ns,
        "bad-range",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"semver": "not a range"}}),
    )?;
    let o = wait_failure(env, &ns, "bad-range", "InvalidSpec")?;
    ensure!(condition(&o, "Stalled").is_some_and(|c| c.status == "True"));

    // A good artifact, then a spec that fails: the artifact stays.
    create_repo(
        env,
        &ns,
        "keeps",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"tag": "1.0.0"}}),
    )?;
    let good = wait_revision(env, &ns, "keeps", "1.0.0@")?;
    patch_repo(
        env,
        &ns,
        "keeps",
        serde_json::json!({"spec": {"ref": {"tag": "nope"}}}),
    )?;
    let o = wait_failure(env, &ns, "keeps", "TagNotFound")?;
    ensure!(
        o.status.as_ref().and_then(|s| s.artifact.clone())
            == good.status.as_ref().and_then(|s| s.artifact.clone()),
        "the last good artifact should stay: {}",
        describe(&o)
    );
    ensure!(condition(&o, "ArtifactInStorage").is_some_and(|c| c.status == "True"));

    // verify set: nothing is stored, and the status says why.
    create_repo(
        env,
        &ns,
        "verified",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"tag": "1.0.0"},
            "verify": {"provider": "cosign"}}),
    )?;
    let o = wait_failure(env, &ns, "verified", "VerificationUnavailable")?;
    let sv = condition(&o, "SourceVerified").context("no SourceVerified")?;
    ensure!(
        sv.status == "False" && sv.reason == "VerificationUnavailable",
        "{}",
        describe(&o)
    );
    ensure!(
        o.status
            .as_ref()
            .and_then(|s| s.artifact.as_ref())
            .is_none(),
        "an unverified artifact was stored: {}",
        describe(&o)
    );
    ensure!(condition(&o, "ArtifactInStorage").is_some_and(|c| c.status == "False"));

    // helm pushes 1.1.1+build.7 as the tag 1.1.1_build.7; a range reads it
    // as the version it stands for.
    let chart = package_chart(env, &home, "fail", "1.1.1+build.7")?;
    let build = helm_push(env, &home, &chart, &reg.host, &repo, &["--plain-http"])?;
    create_repo(
        env,
        &ns,
        "build-metadata",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"semver": "~1.1"}}),
    )?;
    wait_revision(
        env,
        &ns,
        "build-metadata",
        &format!("1.1.1_build.7@{build}"),
    )?;
    Ok(())
}

/// `oras push` of a non-chart artifact with a custom media type: taken by
/// `layerSelector` with `copy`; a selector naming a missing type lists the
/// types present; extracting a layer that is not an archive is refused.
fn oras_layer_selector(env: &Env) -> Result<()> {
    let ctx = controller(env)?;
    let regs = env.registries()?;
    let reg = &regs.referrers;
    let home = ClientHome::new(env, "ocirepo-oras")?;
    let media_type = "application/vnd.berth.e2e.settings.v1+yaml";
    let payload = format!("settings: {}\n", random_hex(8)?);
    std::fs::write(home.home.join("settings.yaml"), &payload)?;
    std::fs::write(home.home.join("readme.txt"), "first layer\n")?;
    let name = format!("ocirepo-{}/settings", random_hex(4)?);
    let mut cmd = home.command(&env.tools, "oras");
    cmd.args([
        "push",
        "--plain-http",
        "--artifact-type",
        "application/vnd.berth.e2e.bundle",
    ])
    .arg(format!("{}:v1", reg.repo(&name)))
    .arg("readme.txt:text/plain")
    .arg(format!("settings.yaml:{media_type}"));
    run_ok(cmd)?;
    let url = reg.oci_url(&name);
    let ns = create_namespace(env, "ocirepo-oras")?;

    create_repo(
        env,
        &ns,
        "selected",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"tag": "v1"},
            "layerSelector": {"mediaType": media_type, "operation": "copy"}}),
    )?;
    let o = wait_revision(env, &ns, "selected", "v1@")?;
    let a = o
        .status
        .as_ref()
        .and_then(|s| s.artifact.clone())
        .context("no artifact")?;
    ensure!(a.media_type.as_deref() == Some(media_type), "{a:?}");
    let stored = ctx
        .store
        .get(&Digest::parse(&a.digest)?)
        .context("not in the store")?;
    ensure!(stored.bytes() == payload.as_bytes());
    let in_storage = condition(&o, "ArtifactInStorage").context("no ArtifactInStorage")?;
    ensure!(
        in_storage.message.contains("operation copy"),
        "{}",
        in_storage.message
    );

    create_repo(
        env,
        &ns,
        "missing-type",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"tag": "v1"},
            "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip"}}),
    )?;
    let o = wait_failure(env, &ns, "missing-type", "LayerNotFound")?;
    let msg = &condition(&o, "Ready").context("no Ready")?.message;
    ensure!(
        msg.contains(&format!("text/plain, {media_type}")),
        "the message should list the types present: {msg}"
    );

    // No selector: the first layer (text/plain), extracted → refused.
    create_repo(
        env,
        &ns,
        "not-archive",
        serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"tag": "v1"}}),
    )?;
    let o = wait_failure(env, &ns, "not-archive", "NotAnArchive")?;
    let msg = &condition(&o, "Ready").context("no Ready")?.message;
    ensure!(msg.contains("operation: copy"), "{msg}");
    Ok(())
}

fn put_secret(
    env: &Env,
    ns: &str,
    name: &str,
    type_: Option<&str>,
    data: &[(&str, &[u8])],
) -> Result<()> {
    let api: Api<Secret> = Api::namespaced(client(env)?, ns);
    let mut s = Secret {
        type_: type_.map(str::to_string),
        ..Secret::default()
    };
    s.metadata.name = Some(name.to_string());
    s.data = Some(
        data.iter()
            .map(|(k, v)| (k.to_string(), k8s_openapi::ByteString(v.to_vec())))
            .collect(),
    );
    let _ = env.rt.block_on(api.delete(name, &DeleteParams::default()));
    env.rt.block_on(api.create(&PostParams::default(), &s))?;
    Ok(())
}

/// The basic-auth registry without credentials (AuthFailed), with a
/// basic-auth Secret and with a dockerconfigjson Secret (Ready); the TLS
/// registry without the run's CA (TLSFailed) and with a certSecretRef.
fn auth_and_tls(env: &Env) -> Result<()> {
    controller(env)?;
    let regs = env.registries()?;
    let ns = create_namespace(env, "ocirepo-auth")?;

    let reg = &regs.auth;
    let creds = reg
        .credentials
        .clone()
        .context("the auth registry has no credentials")?;
    let home = ClientHome::new(env, "ocirepo-auth")?;
    let mut cmd = home.command(&env.tools, "oras");
    cmd.args([
        "login",
        "--plain-http",
        &reg.host,
        "-u",
        &creds.username,
        "-p",
        &creds.password,
    ]);
    run_ok(cmd)?;
    let repo = format!("ocirepo-{}", random_hex(4)?);
    let chart = package_chart(env, &home, "private", "1.0.0")?;
    let pushed = helm_push(env, &home, &chart, &reg.host, &repo, &["--plain-http"])?;
    let url = reg.oci_url(&format!("{repo}/private"));
    let spec = |extra: serde_json::Value| {
        let mut s = serde_json::json!({"url": url, "insecure": true, "interval": "2s", "ref": {"tag": "1.0.0"}});
        if let (Some(obj), Some(more)) = (s.as_object_mut(), extra.as_object()) {
            obj.extend(more.clone());
        }
        s
    };
    create_repo(env, &ns, "anonymous", spec(serde_json::json!({})))?;
    let o = wait_failure(env, &ns, "anonymous", "AuthFailed")?;
    let msg = &condition(&o, "Ready").context("no Ready")?.message;
    ensure!(msg.contains("spec.secretRef"), "{msg}");

    put_secret(
        env,
        &ns,
        "wrong",
        None,
        &[
            ("username", creds.username.as_bytes()),
            ("password", b"wrong"),
        ],
    )?;
    create_repo(
        env,
        &ns,
        "wrong-password",
        spec(serde_json::json!({"secretRef": {"name": "wrong"}})),
    )?;
    wait_failure(env, &ns, "wrong-password", "AuthFailed")?;

    put_secret(
        env,
        &ns,
        "basic",
        None,
        &[
            ("username", creds.username.as_bytes()),
            ("password", creds.password.as_bytes()),
        ],
    )?;
    create_repo(
        env,
        &ns,
        "basic",
        spec(serde_json::json!({"secretRef": {"name": "basic"}})),
    )?;
    wait_revision(env, &ns, "basic", &format!("1.0.0@{pushed}"))?;

    let config = std::fs::read(home.docker_config.join("config.json"))
        .context("oras login wrote no config.json")?;
    put_secret(
        env,
        &ns,
        "dockerconfig",
        Some("kubernetes.io/dockerconfigjson"),
        &[(".dockerconfigjson", &config)],
    )?;
    create_repo(
        env,
        &ns,
        "docker-config",
        spec(serde_json::json!({"secretRef": {"name": "dockerconfig"}})),
    )?;
    wait_revision(env, &ns, "docker-config", &format!("1.0.0@{pushed}"))?;

    // The same docker config as a ServiceAccount's imagePullSecret.
    let sa_api: Api<k8s_openapi::api::core::v1::ServiceAccount> =
        Api::namespaced(client(env)?, &ns);
    let sa: k8s_openapi::api::core::v1::ServiceAccount =
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "puller"},
            "imagePullSecrets": [{"name": "basic"}, {"name": "dockerconfig"}],
        }))?;
    env.rt
        .block_on(sa_api.create(&PostParams::default(), &sa))?;
    create_repo(
        env,
        &ns,
        "service-account",
        spec(serde_json::json!({"serviceAccountName": "puller"})),
    )?;
    wait_revision(env, &ns, "service-account", &format!("1.0.0@{pushed}"))?;

    // The Secret fixed later: the stalled source recovers at its interval.
    put_secret(
        env,
        &ns,
        "wrong",
        None,
        &[
            ("username", creds.username.as_bytes()),
            ("password", creds.password.as_bytes()),
        ],
    )?;
    wait_revision(env, &ns, "wrong-password", &format!("1.0.0@{pushed}"))?;

    // TLS.
    let reg = &regs.tls;
    let ca = std::fs::read(&regs.ca_cert)?;
    let ca_flag = regs.ca_cert.display().to_string();
    let repo = format!("ocirepo-{}", random_hex(4)?);
    let chart = package_chart(env, &home, "secure", "1.0.0")?;
    let pushed = helm_push(
        env,
        &home,
        &chart,
        &reg.host,
        &repo,
        &["--ca-file", &ca_flag],
    )?;
    let url = reg.oci_url(&format!("{repo}/secure"));
    create_repo(
        env,
        &ns,
        "tls-untrusted",
        serde_json::json!({"url": url, "interval": "2s", "ref": {"tag": "1.0.0"}}),
    )?;
    let o = wait_failure(env, &ns, "tls-untrusted", "TLSFailed")?;
    let msg = &condition(&o, "Ready").context("no Ready")?.message;
    ensure!(msg.contains("certSecretRef"), "{msg}");
    put_secret(env, &ns, "registry-ca", None, &[("ca.crt", &ca)])?;
    create_repo(
        env,
        &ns,
        "tls-trusted",
        serde_json::json!({"url": url, "interval": "2s", "ref": {"tag": "1.0.0"},
            "certSecretRef": {"name": "registry-ca"}}),
    )?;
    wait_revision(env, &ns, "tls-trusted", &format!("1.0.0@{pushed}"))?;
    Ok(())
}

/// A registry of this test's own (distribution, storage on disk) stopped
/// while a source polls it: Ready goes False with a transient reason and
/// the artifact stays; restarted on the same port, the source is Ready
/// again with the same artifact and without pulling it again.
fn registry_restart(env: &Env) -> Result<()> {
    let ctx = controller(env)?;
    let dir = env.dir.path().join("ocirepo-restart");
    std::fs::create_dir_all(dir.join("storage"))?;
    let port = free_port()?;
    let host = format!("127.0.0.1:{port}");
    let config = dir.join("registry.yaml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {:?}\n\
             http:\n  addr: {host}\n  secret: {}\n",
            dir.join("storage").display().to_string(),
            random_hex(16)?
        ),
    )?;
    let start = || -> Result<Process> {
        let mut cmd = env.tools.command("registry");
        cmd.arg("serve")
            .arg(&config)
            .env("OTEL_TRACES_EXPORTER", "none");
        let mut p = Process::spawn("ocirepo-restart-registry", cmd, &dir)?;
        p.wait_until(Duration::from_secs(30), || {
            std::net::TcpStream::connect(&host).is_ok()
        })?;
        Ok(p)
    };
    let registry = start()?;
    let home = ClientHome::new(env, "ocirepo-restart")?;
    let chart = package_chart(env, &home, "steady", "1.0.0")?;
    let pushed = helm_push(env, &home, &chart, &host, "restart", &["--plain-http"])?;
    let ns = create_namespace(env, "ocirepo-restart")?;
    create_repo(
        env,
        &ns,
        "steady",
        serde_json::json!({"url": format!("oci://{host}/restart/steady"), "insecure": true,
            "interval": "2s", "timeout": "3s", "ref": {"tag": "1.0.0"}}),
    )?;
    let good = wait_revision(env, &ns, "steady", &format!("1.0.0@{pushed}"))?;
    let artifact = good.status.as_ref().and_then(|s| s.artifact.clone());

    registry.stop();
    let o = wait_failure(env, &ns, "steady", "RegistryUnreachable")?;
    ensure!(
        o.status.as_ref().and_then(|s| s.artifact.clone()) == artifact,
        "artifact lost: {}",
        describe(&o)
    );
    ensure!(condition(&o, "ArtifactInStorage").is_some_and(|c| c.status == "True"));
    ensure!(
        condition(&o, "Reconciling")
            .is_some_and(|c| c.status == "True" && c.reason == "ProgressingWithRetry"),
        "a transient failure should be retrying, not stalled: {}",
        describe(&o)
    );
    ensure!(condition(&o, "Stalled").is_none());
    let blobs_before = counters(&ctx, &ns, "steady")?.get("blob GET").copied();

    let registry = start()?;
    let o = wait_revision(env, &ns, "steady", &format!("1.0.0@{pushed}"))?;
    ensure!(o.status.as_ref().and_then(|s| s.artifact.clone()) == artifact);
    ensure!(counters(&ctx, &ns, "steady")?.get("blob GET").copied() == blobs_before);
    registry.stop();
    Ok(())
}

/// The built `berth controller` binary with the admin kubeconfig and JSON
/// logs: it reconciles a source (its own log shows the poll), and SIGTERM
/// stops it cleanly (exit status 0, "stopped" logged).
fn controller_binary(env: &Env) -> Result<()> {
    install_crds(env)?;
    let regs = env.registries()?;
    let reg = &regs.referrers;
    let home = ClientHome::new(env, "ocirepo-binary")?;
    let repo = format!("ocirepo-{}", random_hex(4)?);
    let chart = package_chart(env, &home, "bin", "0.1.0")?;
    let pushed = helm_push(env, &home, &chart, &reg.host, &repo, &["--plain-http"])?;
    let ns = create_namespace(env, "ocirepo-binary")?;

    let log_path = env.dir.path().join("berth-controller.log");
    let selector = format!("{SHARD_LABEL}=binary");
    let mut child = spawn_berth(
        env,
        &[
            "--log-format",
            "json",
            "--concurrency",
            "2",
            "--watch-label-selector",
            &selector,
        ],
        &log_path,
    )?;
    let result = (|| -> Result<()> {
        create_repo_for(
            env,
            "binary",
            &ns,
            "bin-src",
            serde_json::json!({"url": reg.oci_url(&format!("{repo}/bin")), "insecure": true,
                "interval": "2s", "ref": {"tag": "0.1.0"}}),
        )?;
        wait_revision(env, &ns, "bin-src", &format!("0.1.0@{pushed}"))?;
        let start = Instant::now();
        loop {
            if child.polled(&ns, "bin-src") {
                break;
            }
            let text = child.log_text();
            ensure!(
                start.elapsed() < Duration::from_secs(20),
                "the binary never logged a poll of {ns}/bin-src; log:\n{text}"
            );
            ensure!(
                child.exited()?.is_none(),
                "berth controller exited; log:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        // The metrics endpoint and probes answer while it runs.
        let metrics = child.scrape(env)?;
        ensure!(
            metrics.contains("# TYPE berth_verify_total counter"),
            "/metrics lacks berth_verify_total:\n{metrics}"
        );
        Ok(())
    })();
    let status = child.terminate(Duration::from_secs(15))?;
    result?;
    let text = std::fs::read_to_string(&log_path)?;
    let status = status
        .with_context(|| format!("berth controller ignored SIGTERM for 15s; log:\n{text}"))?;
    ensure!(
        status.success(),
        "berth controller exited with {status} after SIGTERM; log:\n{text}"
    );
    ensure!(
        text.contains("SIGTERM: shutting down") && text.contains("\"stopped\""),
        "no clean shutdown in the log:\n{text}"
    );
    Ok(())
}

static COSIGN_CONTROLLER: SharedController = SharedController::new();

/// A chart signed with `cosign sign --key` (cosign v2, offline): with
/// `spec.verify` naming the public key, the reconciler's Cosign verifier
/// lets it through (SourceVerified=True, the signer recorded); moving the
/// tag to an unsigned chart never advances the artifact.
fn cosign_verified(env: &Env) -> Result<()> {
    let ctx = COSIGN_CONTROLLER.get("cosign controller", || {
        start_shard(
            env,
            "cosign",
            Arc::new(berth::controller::cosign::CosignVerifier::new()),
        )
    })?;
    let regs = env.registries()?;
    let reg = &regs.referrers;
    let home = ClientHome::new(env, "ocirepo-cosign")?;
    let password = random_hex(8)?;
    let keys = home.tmp.join("keys");
    std::fs::create_dir_all(&keys)?;
    let mut cmd = home.command(&env.tools, "cosign-v2");
    cmd.current_dir(&keys)
        .env("COSIGN_PASSWORD", &password)
        .arg("generate-key-pair");
    run_ok(cmd)?;

    let repo = format!("ocirepo-{}", random_hex(4)?);
    let name = format!("{repo}/signed");
    let signed_chart = package_chart(env, &home, "signed", "1.0.0")?;
    let signed = helm_push(
        env,
        &home,
        &signed_chart,
        &reg.host,
        &repo,
        &["--plain-http"],
    )?;
    let unsigned_chart = package_chart(env, &home, "signed", "2.0.0")?;
    let unsigned = helm_push(
        env,
        &home,
        &unsigned_chart,
        &reg.host,
        &repo,
        &["--plain-http"],
    )?;
    let mut cmd = home.command(&env.tools, "cosign-v2");
    cmd.env("COSIGN_PASSWORD", &password)
        .arg("sign")
        .arg("--key")
        .arg(keys.join("cosign.key"))
        .args([
            "--tlog-upload=false",
            "--use-signing-config=false",
            "--yes",
            "--allow-http-registry",
        ])
        .arg(format!("{}@{signed}", reg.repo(&name)));
    run_ok(cmd)?;
    oras_tag(env, &home, reg, &name, "1.0.0", "stable")?;

    let ns = create_namespace(env, "ocirepo-cosign")?;
    put_secret(
        env,
        &ns,
        "cosign-keys",
        None,
        &[("cosign.pub", &std::fs::read(keys.join("cosign.pub"))?)],
    )?;
    create_repo_for(
        env,
        "cosign",
        &ns,
        "signed",
        serde_json::json!({"url": reg.oci_url(&name), "insecure": true, "interval": "2s",
            "ref": {"tag": "stable"},
            "verify": {"provider": "cosign", "secretRef": {"name": "cosign-keys"}}}),
    )?;
    let o = wait_revision(env, &ns, "signed", &format!("stable@{signed}"))?;
    let sv = condition(&o, "SourceVerified").context("no SourceVerified")?;
    ensure!(sv.status == "True", "{}", describe(&o));
    let signer = o
        .status
        .as_ref()
        .and_then(|s| s.verified_signer.clone())
        .context("no verifiedSigner")?;
    ensure!(
        signer
            .key
            .as_deref()
            .is_some_and(|k| k.starts_with("cosign.pub")),
        "signer {signer:?}"
    );
    let layer = Digest::sha256_of(&signed_chart.bytes);
    ensure!(
        ctx.store.contains(&layer),
        "the verified chart is not stored"
    );

    // The tag moves to an unsigned chart: refused, the signed one stays.
    oras_tag(env, &home, reg, &name, "2.0.0", "stable")?;
    let o = wait_repo(
        env,
        &ns,
        "signed",
        WAIT,
        "refusing the unsigned digest",
        |o| condition(o, "SourceVerified").is_some_and(|c| c.status == "False"),
    )?;
    let ready = condition(&o, "Ready").context("no Ready")?;
    ensure!(ready.status == "False", "{}", describe(&o));
    ensure!(
        revision(&o) == Some(format!("stable@{signed}").as_str()),
        "the artifact moved past an unverified digest: {}",
        describe(&o)
    );
    ensure!(
        !ctx.store
            .contains(&Digest::sha256_of(&unsigned_chart.bytes)),
        "the unsigned chart was pulled"
    );
    let _ = unsigned;
    Ok(())
}
