//! `/metrics` of the built `berth controller` binary: the series move when
//! an OCIRepository and a HelmRelease are reconciled, and the JSON log
//! lines written inside a reconcile carry the object's kind, namespace and
//! name (the `reconcile` span).

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use berth::api::helm_release::HelmRelease;
use serde_json::{json, Value};

use crate::env::berth::{apply, create_namespace, install_crds, spawn_berth, wait_hr, SHARD_LABEL};
use crate::env::charts::{helm_push, package_files};
use crate::env::registry::{random_hex, ClientHome};
use crate::env::Env;

pub fn tests() -> Vec<crate::Test> {
    vec![crate::Test {
        name: "metrics::series_move_and_logs_carry_the_object",
        run: series_move_and_logs_carry_the_object,
    }]
}

const SHARD: &str = "metrics";

const SETTINGS: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  greeting: {{ .Values.greeting | quote }}
"#;

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
    wait_hr(env, ns, name, &format!("Ready at {version}"), |hr| {
        let st = hr.status.as_ref();
        let ready = st
            .map(|s| s.conditions.iter())
            .into_iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        ready && st.and_then(|s| s.last_attempted_revision.as_deref()) == Some(version)
    })
}

/// The value of one series (`name{labels}` exactly as rendered), if
/// present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

fn series_move_and_logs_carry_the_object(env: &Env) -> Result<()> {
    install_crds(env)?;
    let home = ClientHome::new(env, "metrics")?;
    let ns = create_namespace(env, "metrics")?;
    let repo = format!("metrics-{}", random_hex(4)?);

    let log_path = env.dir.path().join(format!("berth-metrics-{ns}.log"));
    let selector = format!("{SHARD_LABEL}={SHARD}");
    let mut child = spawn_berth(
        env,
        &["--log-format", "json", "--watch-label-selector", &selector],
        &log_path,
    )?;
    let result = (|| -> Result<()> {
        // Before: the endpoint answers, with nothing of this shard yet.
        let start = Instant::now();
        let before = loop {
            match child.metrics(env) {
                Ok(t) => break t,
                Err(e) => {
                    ensure!(
                        start.elapsed() < Duration::from_secs(20),
                        "/metrics never answered: {e:#}"
                    );
                    ensure!(child.exited()?.is_none(), "berth controller exited");
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
            let t = child.metrics(env)?;
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
    child.terminate(Duration::from_secs(15))?;
    result
}
