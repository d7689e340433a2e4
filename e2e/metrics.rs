//! `/metrics` of the built `berth controller` binary: the series move when
//! an OCIRepository and a HelmRelease are reconciled, and the JSON log
//! lines written inside a reconcile carry the object's kind, namespace and
//! name (the `reconcile` span).

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
use berth::api::helm_release::HelmRelease;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use crate::env::charts::{helm_push, package_files};
use crate::env::registry::{random_hex, ClientHome};
use crate::env::Env;

pub fn tests() -> Vec<crate::Test> {
    vec![crate::Test {
        name: "metrics::series_move_and_logs_carry_the_object",
        run: series_move_and_logs_carry_the_object,
    }]
}

const WAIT: Duration = Duration::from_secs(90);
const SHARD_LABEL: &str = "e2e.berth.dev/controller";
const SHARD: &str = "metrics";

const SETTINGS: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  greeting: {{ .Values.greeting | quote }}
"#;

pub(crate) fn install_crds(env: &Env) -> Result<()> {
    let client = env.cluster()?.client(&env.rt)?;
    let crds: Api<CustomResourceDefinition> = Api::all(client);
    for crd in berth::api::crds() {
        let name = crd.metadata.name.clone().context("a CRD without a name")?;
        env.rt.block_on(crds.patch(
            &name,
            &PatchParams::apply("berth-e2e").force(),
            &Patch::Apply(&crd),
        ))?;
        let start = Instant::now();
        loop {
            let got = env.rt.block_on(crds.get(&name))?;
            let established = got
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                break;
            }
            ensure!(start.elapsed() < WAIT, "CRD {name} not Established");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    Ok(())
}

pub(crate) fn create_namespace(env: &Env, prefix: &str) -> Result<String> {
    let ns = format!("{prefix}-{}", random_hex(3)?);
    let api: Api<Namespace> = Api::all(env.cluster()?.client(&env.rt)?);
    let obj: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}}))?;
    env.rt.block_on(api.create(&PostParams::default(), &obj))?;
    Ok(ns)
}

/// Server-side apply an OCIRepository or a HelmRelease of `shard`.
pub(crate) fn apply(env: &Env, ns: &str, shard: &str, obj: Value) -> Result<()> {
    let mut obj = obj;
    obj["metadata"]["namespace"] = json!(ns);
    obj["metadata"]["labels"][SHARD_LABEL] = json!(shard);
    let name = obj["metadata"]["name"]
        .as_str()
        .context("name")?
        .to_string();
    let client = env.cluster()?.client(&env.rt)?;
    let params = PatchParams::apply("e2e-user").force();
    match obj["kind"].as_str() {
        Some("HelmRelease") => {
            let api: Api<HelmRelease> = Api::namespaced(client, ns);
            env.rt
                .block_on(api.patch(&name, &params, &Patch::Apply(&obj)))?;
        }
        Some("OCIRepository") => {
            let api: Api<berth::api::oci_repository::OCIRepository> = Api::namespaced(client, ns);
            env.rt
                .block_on(api.patch(&name, &params, &Patch::Apply(&obj)))?;
        }
        other => bail!("apply: unexpected kind {other:?}"),
    }
    Ok(())
}

/// Push the `app` chart (one ConfigMap) at `version` into `repo`; the
/// source `app` (semver `^1`) and the HelmRelease `app` in `ns`.
pub(crate) fn app_objects(
    env: &Env,
    home: &ClientHome,
    ns: &str,
    shard: &str,
    repo: &str,
    version: &str,
) -> Result<berth_oci::Digest> {
    let reg = &env.registries()?.referrers;
    let chart = package_files(
        env,
        home,
        "app",
        version,
        &[
            ("values.yaml", "greeting: hello\n"),
            ("templates/settings.yaml", SETTINGS),
        ],
    )?;
    let pushed = helm_push(env, home, &chart, &reg.host, repo, &["--plain-http"])?;
    apply(
        env,
        ns,
        shard,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "OCIRepository",
            "metadata": {"name": "app"},
            "spec": {"url": reg.oci_url(&format!("{repo}/app")), "insecure": true,
                     "interval": "1m", "ref": {"semver": "^1"}},
        }),
    )?;
    apply(
        env,
        ns,
        shard,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "app"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "app"},
                     "interval": "1h", "timeout": "60s"},
        }),
    )?;
    Ok(pushed)
}

/// Wait until the HelmRelease is Ready at `version`.
pub(crate) fn wait_ready(env: &Env, ns: &str, name: &str, version: &str) -> Result<HelmRelease> {
    let api: Api<HelmRelease> = Api::namespaced(env.cluster()?.client(&env.rt)?, ns);
    let start = Instant::now();
    loop {
        let hr = env.rt.block_on(api.get(name))?;
        let st = hr.status.as_ref();
        let ready = st
            .map(|s| s.conditions.iter())
            .into_iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        if ready && st.and_then(|s| s.last_attempted_revision.as_deref()) == Some(version) {
            return Ok(hr);
        }
        if start.elapsed() > WAIT {
            bail!(
                "HelmRelease {ns}/{name} not Ready at {version} after {WAIT:?}; status:\n{}",
                serde_json::to_string_pretty(&hr.status).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The value of one series (`name{labels}` exactly as rendered), if
/// present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

fn scrape(env: &Env, port: u16) -> Result<String> {
    env.rt.block_on(async {
        let r = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await?;
        ensure!(r.status().is_success(), "/metrics answered {}", r.status());
        Ok(r.text().await?)
    })
}

fn series_move_and_logs_carry_the_object(env: &Env) -> Result<()> {
    use std::os::unix::process::CommandExt;
    install_crds(env)?;
    let cluster = env.cluster()?;
    let home = ClientHome::new(env, "metrics")?;
    let ns = create_namespace(env, "metrics")?;
    let repo = format!("metrics-{}", random_hex(4)?);

    let log_path = env.dir.path().join(format!("berth-metrics-{ns}.log"));
    let log = std::fs::File::create(&log_path)?;
    let port = crate::env::process::free_port()?;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.arg("controller")
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .arg("--metrics-addr")
        .arg(format!("127.0.0.1:{port}"))
        .args(["--log-format", "json"])
        .arg("--watch-label-selector")
        .arg(format!("{SHARD_LABEL}={SHARD}"))
        .env("RUST_LOG", "info,berth=debug")
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd.spawn().context("failed to start berth controller")?;
    let result = (|| -> Result<()> {
        // Before: the endpoint answers, with nothing of this shard yet.
        let start = Instant::now();
        let before = loop {
            match scrape(env, port) {
                Ok(t) => break t,
                Err(e) => {
                    ensure!(
                        start.elapsed() < Duration::from_secs(20),
                        "/metrics never answered: {e:#}"
                    );
                    ensure!(child.try_wait()?.is_none(), "berth controller exited");
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        };
        for family in [
            "# TYPE berth_reconcile_duration_seconds histogram",
            "# TYPE berth_reconcile_total counter",
            "# TYPE berth_registry_pull_duration_seconds histogram",
            "# TYPE berth_registry_pull_failures_total counter",
            "# TYPE berth_verify_total counter",
            "# TYPE berth_artifact_size_bytes gauge",
            "# TYPE berth_releases gauge",
            "# TYPE berth_stalled_objects gauge",
        ] {
            ensure!(before.contains(family), "no {family:?} in\n{before}");
        }
        let reg = &env.registries()?.referrers;
        let url = reg.oci_url(&format!("{repo}/app"));
        let oci_ok = "berth_reconcile_total{kind=\"OCIRepository\",result=\"success\"}";
        let hr_ok = "berth_reconcile_total{kind=\"HelmRelease\",result=\"success\"}";
        let pulls = format!("berth_registry_pull_duration_seconds_count{{repository=\"{url}\"}}");
        let deployed = "berth_releases{status=\"deployed\"}";
        ensure!(sample(&before, &pulls).is_none(), "{pulls} before any pull");

        app_objects(env, &home, &ns, SHARD, &repo, "1.0.0")?;
        wait_ready(env, &ns, "app", "1.0.0")?;
        // The pass that wrote Ready ends just after its patch.
        let start = Instant::now();
        let after = loop {
            let t = scrape(env, port)?;
            if sample(&t, hr_ok).unwrap_or(0.0) > sample(&before, hr_ok).unwrap_or(0.0) {
                break t;
            }
            ensure!(
                start.elapsed() < Duration::from_secs(10),
                "{hr_ok} did not move:\n{t}"
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        let moved = |series: &str| -> Result<()> {
            let (b, a) = (
                sample(&before, series).unwrap_or(0.0),
                sample(&after, series).unwrap_or(0.0),
            );
            ensure!(a > b, "{series}: {b} before, {a} after:\n{after}");
            Ok(())
        };
        moved(oci_ok)?;
        moved(hr_ok)?;
        moved(deployed)?;
        moved("berth_reconcile_duration_seconds_count{kind=\"HelmRelease\",result=\"success\"}")?;
        ensure!(
            sample(&after, &pulls).is_some_and(|n| n >= 1.0),
            "{pulls} missing or zero:\n{after}"
        );
        ensure!(
            sample(
                &after,
                &format!("berth_registry_pull_failures_total{{repository=\"{url}\"}}")
            ) == Some(0.0),
            "pull failures for {url}:\n{after}"
        );
        ensure!(
            sample(&after, "berth_artifact_size_bytes").is_some_and(|n| n > 0.0),
            "artifact store empty:\n{after}"
        );

        // The logs: lines inside the passes carry the object.
        let text = std::fs::read_to_string(&log_path)?;
        let lines: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .collect();
        let of = |kind: &str| -> Vec<&Value> {
            lines
                .iter()
                .filter(|v| {
                    v["span"]["name"] == "reconcile"
                        && v["span"]["kind"] == kind
                        && v["span"]["namespace"] == ns.as_str()
                        && v["span"]["object"] == "app"
                })
                .collect()
        };
        let polled = of("OCIRepository")
            .into_iter()
            .any(|v| v["fields"]["message"] == "polled");
        ensure!(
            polled,
            "no 'polled' line in the OCIRepository {ns}/app span; log:\n{text}"
        );
        ensure!(
            !of("HelmRelease").is_empty(),
            "no line in the HelmRelease {ns}/app span; log:\n{text}"
        );
        // Every line the source's "polled" message was logged with names
        // the source it polled, nothing else.
        for v in &lines {
            if v["fields"]["message"] == "polled" && v["fields"]["namespace"] == ns.as_str() {
                ensure!(
                    v["span"]["object"] == v["fields"]["name"]
                        && v["span"]["kind"] == "OCIRepository",
                    "a poll logged outside its object's span: {v}"
                );
            }
        }
        Ok(())
    })();
    // SAFETY: plain syscall on our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let stopping = Instant::now();
    while child.try_wait()?.is_none() {
        if stopping.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    result
}
