//! The HelmRelease controller end to end: charts pushed with the real
//! `helm push`, an OCIRepository and a HelmRelease reconciled by the
//! in-process controllers (exactly the code `berth controller` runs) on
//! the real control plane, where kube-controller-manager and kwok roll
//! Deployments out. At every step the real `helm` reads berth's release
//! records (`helm list`, `helm history`, `helm get values`) and must agree.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{ensure, Context as _, Result};
use berth::api::helm_release::HelmRelease;
use berth::controller::Context;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use crate::env::berth::{
    admin_config, apply as apply_in, client, create_namespace, helm, helm_json, install_crds,
    kubectl_json, spawn_berth, start_controller, wait_hr, wait_until, SharedController,
    SHARD_LABEL,
};
use crate::env::charts::{helm_push, package_files, PackagedChart};
use crate::env::registry::{random_hex, run_output, ClientHome};
use crate::env::Env;

pub fn tests() -> Vec<crate::Test> {
    vec![
        crate::Test {
            name: "helmrelease_lifecycle",
            run: lifecycle,
        },
        crate::Test {
            name: "helmrelease_failed_upgrade_rolls_back",
            run: failed_upgrade_rolls_back,
        },
        crate::Test {
            name: "helmrelease_adopts_helm_install",
            run: adopts_helm_install,
        },
        crate::Test {
            name: "helmrelease_interrupted_upgrade_recovers",
            run: interrupted_upgrade_recovers,
        },
        crate::Test {
            name: "helmrelease_tenant_service_account",
            run: tenant_service_account,
        },
        crate::Test {
            name: "helmrelease_hooks_in_order",
            run: hooks_in_order,
        },
        crate::Test {
            name: "helmrelease_depends_on_and_namespaces",
            run: depends_on_and_namespaces,
        },
        crate::Test {
            name: "helmrelease_render_and_schema_errors",
            run: render_and_schema_errors,
        },
        crate::Test {
            name: "helmrelease_killed_mid_upgrade",
            run: killed_mid_upgrade,
        },
        crate::Test {
            name: "helmrelease_drift_warn_on_request",
            run: drift_warn_on_request,
        },
        crate::Test {
            name: "helmrelease_cleanup_on_fail",
            run: cleanup_on_fail,
        },
        crate::Test {
            name: "helmrelease_no_cross_namespace_refs",
            run: no_cross_namespace_refs,
        },
    ]
}

const SHARD: &str = "helmrelease";

static CONTROLLER: SharedController = SharedController::new();

/// The controllers for this file's objects (label `SHARD`), started once.
fn controller(env: &Env) -> Result<Arc<Context>> {
    CONTROLLER.get("controller", || {
        let config = admin_config(env)?;
        start_controller(env, SHARD, 4, |ctx| ctx.kube_config = Some(config))
    })
}

/// Apply an object of this file's shard (server-side apply, as a user
/// would `kubectl apply --server-side`).
fn apply(env: &Env, ns: &str, obj: Value) -> Result<()> {
    apply_in(env, ns, SHARD, obj)
}

fn get_hr(env: &Env, ns: &str, name: &str) -> Result<HelmRelease> {
    let api: Api<HelmRelease> = Api::namespaced(client(env)?, ns);
    Ok(env.rt.block_on(api.get(name))?)
}

fn condition<'a>(hr: &'a HelmRelease, type_: &str) -> Option<&'a Condition> {
    hr.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

fn ready_at(hr: &HelmRelease, chart_version: &str) -> bool {
    let st = hr.status.as_ref();
    condition(hr, "Ready").is_some_and(|c| c.status == "True")
        && st.and_then(|s| s.observed_generation) == hr.metadata.generation
        && st.and_then(|s| s.last_attempted_revision.as_deref()) == Some(chart_version)
}

fn wait_ready(env: &Env, ns: &str, name: &str, chart_version: &str) -> Result<HelmRelease> {
    wait_hr(env, ns, name, &format!("Ready at {chart_version}"), |hr| {
        ready_at(hr, chart_version)
    })
}

/// `helm history` as (revision, status, chart, description).
fn history(
    env: &Env,
    home: &ClientHome,
    ns: &str,
    release: &str,
) -> Result<Vec<(i64, String, String, String)>> {
    let v = helm_json(env, home, &["history", release, "-n", ns, "-o", "json"])?;
    let mut out = Vec::new();
    for r in v.as_array().context("history is not a list")? {
        out.push((
            r["revision"].as_i64().context("revision")?,
            r["status"].as_str().unwrap_or_default().to_string(),
            r["chart"].as_str().unwrap_or_default().to_string(),
            r["description"].as_str().unwrap_or_default().to_string(),
        ));
    }
    Ok(out)
}

fn config_map(env: &Env, ns: &str, name: &str) -> Result<Option<ConfigMap>> {
    let api: Api<ConfigMap> = Api::namespaced(client(env)?, ns);
    Ok(env.rt.block_on(api.get_opt(name))?)
}

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: 1
  selector: {matchLabels: {app: {{ .Release.Name }}-web}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}-web}}
    spec:
      {{- if .Values.stuck }}
      nodeSelector: {berth-e2e/no-such-node: "true"}
      {{- end }}
      containers: [{name: web, image: "berth-e2e/web:{{ .Chart.Version }}"}]
"#;

const SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector: {app: {{ .Release.Name }}-web}
  ports: [{port: 80, targetPort: 8080}]
"#;

const SETTINGS: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  greeting: {{ .Values.greeting | quote }}
  replicas: {{ .Values.replicas | quote }}
  version: {{ .Chart.Version | quote }}
"#;

const EXTRA: &str = r#"{{- if .Values.extra }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-extra
data:
  on: "yes"
{{- end }}
"#;

const VALUES: &str = "greeting: hello\nreplicas: 1\nextra: true\nstuck: false\n";

/// The `app` chart at `version`: a Deployment, a settings ConfigMap and
/// an optional extra ConfigMap.
fn app_chart(env: &Env, home: &ClientHome, version: &str, values: &str) -> Result<PackagedChart> {
    package_files(
        env,
        home,
        "app",
        version,
        &[
            ("values.yaml", values),
            ("templates/deployment.yaml", DEPLOYMENT),
            ("templates/service.yaml", SERVICE),
            ("templates/settings.yaml", SETTINGS),
            ("templates/extra.yaml", EXTRA),
            (
                "templates/NOTES.txt",
                "app {{ .Chart.Version }} for {{ .Values.greeting }}\n",
            ),
        ],
    )
}

fn push(env: &Env, home: &ClientHome, chart: &PackagedChart, repo: &str) -> Result<()> {
    let reg = &env.registries()?.referrers;
    helm_push(env, home, chart, &reg.host, repo, &["--plain-http"])?;
    Ok(())
}

fn source(env: &Env, ns: &str, repo: &str, semver: &str) -> Result<()> {
    source_in(env, ns, SHARD, repo, semver)
}

fn source_in(env: &Env, ns: &str, shard: &str, repo: &str, semver: &str) -> Result<()> {
    let reg = &env.registries()?.referrers;
    apply_in(
        env,
        ns,
        shard,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "OCIRepository",
            "metadata": {"name": "app"},
            "spec": {"url": reg.oci_url(&format!("{repo}/app")), "insecure": true,
                     "interval": "1s", "ref": {"semver": semver}},
        }),
    )
}

/// Install, upgrade on a new chart version, upgrade on a values change in
/// a ConfigMap, prune, drift correction, uninstall on delete — with the
/// real helm reading the records at every step.
fn lifecycle(env: &Env) -> Result<()> {
    controller(env)?;
    let home = ClientHome::new(env, "hr-lifecycle")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let ns = create_namespace(env, "hr-life")?;
    push(env, &home, &app_chart(env, &home, "1.0.0", VALUES)?, &repo)?;
    source(env, &ns, &repo, "^1")?;
    apply(
        env,
        &ns,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-values"},
               "data": {"values.yaml": "greeting: from-configmap\n"}}),
    )?;
    // A long interval: what brings each change is a watch (the source's
    // new artifact, the values ConfigMap, the spec), not polling.
    let hr_spec = |extra: bool, interval: &str| {
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "app"},
            "spec": {
                "chartRef": {"kind": "OCIRepository", "name": "app"},
                "interval": interval, "timeout": "60s",
                "valuesFrom": [{"kind": "ConfigMap", "name": "app-values"}],
                "values": {"replicas": 2, "extra": extra},
                "driftDetection": {"mode": "enabled"},
            }
        })
    };
    apply(env, &ns, hr_spec(true, "1h"))?;

    // Install.
    let hr = wait_ready(env, &ns, "app", "1.0.0")?;
    let released = condition(&hr, "Released").context("no Released condition")?;
    ensure!(
        released.reason == "InstallSucceeded",
        "Released: {released:?}"
    );
    let list = helm_json(env, &home, &["list", "-n", &ns, "-o", "json"])?;
    let first = &list[0];
    ensure!(
        first["name"] == "app"
            && first["status"] == "deployed"
            && first["chart"] == "app-1.0.0"
            && first["revision"] == "1",
        "helm list: {list}"
    );
    let values = helm_json(
        env,
        &home,
        &["get", "values", "app", "-n", &ns, "-o", "json"],
    )?;
    ensure!(
        values == json!({"greeting": "from-configmap", "replicas": 2, "extra": true}),
        "helm get values: {values}"
    );
    let notes = helm(env, &home, &["get", "notes", "app", "-n", &ns])?;
    ensure!(
        notes.contains("app 1.0.0 for from-configmap"),
        "notes: {notes}"
    );
    let cm = config_map(env, &ns, "app-settings")?.context("settings ConfigMap missing")?;
    let data = cm.data.clone().unwrap_or_default();
    ensure!(
        data.get("greeting").map(String::as_str) == Some("from-configmap")
            && data.get("replicas").map(String::as_str) == Some("2"),
        "settings: {data:?}"
    );
    let managers: Vec<String> = cm
        .metadata
        .managed_fields
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.manager.clone())
        .collect();
    ensure!(
        managers.iter().any(|m| m == "berth"),
        "field managers {managers:?}"
    );
    let dep = kubectl_json(
        env,
        &["get", "deployment", "app-web", "-n", &ns, "-o", "json"],
    )?;
    ensure!(
        dep["status"]["availableReplicas"] == 1,
        "Deployment not available after Ready: {}",
        dep["status"]
    );
    // Ready waited for the Service's backend to be behind it.
    let slices = kubectl_json(
        env,
        &[
            "get",
            "endpointslices",
            "-n",
            &ns,
            "-l",
            "kubernetes.io/service-name=app-web",
            "-o",
            "json",
        ],
    )?;
    let ready_endpoints = slices["items"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["endpoints"].as_array().into_iter().flatten())
        .filter(|e| e["conditions"]["ready"] != false)
        .count();
    ensure!(
        ready_endpoints >= 1,
        "Service app-web without a ready endpoint after Ready: {slices}"
    );

    // A new chart version → upgrade.
    push(env, &home, &app_chart(env, &home, "1.1.0", VALUES)?, &repo)?;
    let hr = wait_ready(env, &ns, "app", "1.1.0")?;
    ensure!(
        condition(&hr, "Released").is_some_and(|c| c.reason == "UpgradeSucceeded"),
        "Released after upgrade: {:?}",
        condition(&hr, "Released")
    );
    let h = history(env, &home, &ns, "app")?;
    ensure!(
        h.len() == 2 && h[0].1 == "superseded" && h[1].1 == "deployed" && h[1].2 == "app-1.1.0",
        "helm history after upgrade: {h:?}"
    );

    // Values changed in the ConfigMap → upgrade.
    apply(
        env,
        &ns,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-values"},
               "data": {"values.yaml": "greeting: changed\n"}}),
    )?;
    wait_until("settings updated from the values ConfigMap", || {
        Ok(config_map(env, &ns, "app-settings")?
            .and_then(|c| c.data)
            .and_then(|d| d.get("greeting").cloned())
            .as_deref()
            == Some("changed"))
    })?;
    wait_hr(env, &ns, "app", "Ready after the values change", |hr| {
        condition(hr, "Ready").is_some_and(|c| c.status == "True")
    })?;
    let values = helm_json(
        env,
        &home,
        &["get", "values", "app", "-n", &ns, "-o", "json"],
    )?;
    ensure!(values["greeting"] == "changed", "helm get values: {values}");
    ensure!(
        history(env, &home, &ns, "app")?.len() == 3,
        "no third revision"
    );

    // An object removed from the chart (values toggle) → pruned.
    apply(env, &ns, hr_spec(false, "1h"))?;
    wait_until("the extra ConfigMap pruned", || {
        Ok(config_map(env, &ns, "app-extra")?.is_none())
    })?;
    wait_hr(env, &ns, "app", "Ready after the toggle", |hr| {
        condition(hr, "Ready").is_some_and(|c| c.status == "True")
            && hr.status.as_ref().and_then(|s| s.observed_generation) == hr.metadata.generation
    })?;
    let h = history(env, &home, &ns, "app")?;
    ensure!(
        h.len() == 4 && h[3].1 == "deployed",
        "history after prune: {h:?}"
    );

    // Drift: the settings ConfigMap deleted and a field changed by hand
    // are restored by the periodic check.
    apply(env, &ns, hr_spec(false, "2s"))?;
    let cp = env.cluster()?;
    cp.kubectl_output(&["delete", "configmap", "app-settings", "-n", &ns])?;
    cp.kubectl_output(&[
        "patch",
        "deployment",
        "app-web",
        "-n",
        &ns,
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"hand/edited:1"}]}}}}"#,
    ])?;
    wait_until("drift corrected", || {
        let cm = config_map(env, &ns, "app-settings")?;
        let dep = kubectl_json(
            env,
            &["get", "deployment", "app-web", "-n", &ns, "-o", "json"],
        )?;
        Ok(cm.is_some()
            && dep["spec"]["template"]["spec"]["containers"][0]["image"] == "berth-e2e/web:1.1.0")
    })?;
    // Drift correction is not a new revision.
    ensure!(
        history(env, &home, &ns, "app")?.len() == 4,
        "drift made a revision"
    );

    // Delete → uninstalled: objects and records gone.
    let api: Api<HelmRelease> = Api::namespaced(client(env)?, &ns);
    env.rt
        .block_on(api.delete("app", &DeleteParams::default()))?;
    wait_until("the HelmRelease gone", || {
        Ok(env.rt.block_on(api.get_opt("app"))?.is_none())
    })?;
    ensure!(
        config_map(env, &ns, "app-settings")?.is_none(),
        "settings left after uninstall"
    );
    let list = helm_json(
        env,
        &home,
        &["list", "-n", &ns, "--uninstalled", "-o", "json"],
    )?;
    ensure!(list == json!([]), "helm list after uninstall: {list}");
    cp.kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

/// An upgrade whose Deployment never becomes Available: the health check
/// times out, berth rolls back to the last deployed revision, reports
/// `Remediated`, and — retries exhausted — stalls instead of looping.
fn failed_upgrade_rolls_back(env: &Env) -> Result<()> {
    controller(env)?;
    let home = ClientHome::new(env, "hr-rollback")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let ns = create_namespace(env, "hr-rollback")?;
    push(env, &home, &app_chart(env, &home, "1.0.0", VALUES)?, &repo)?;
    source(env, &ns, &repo, "^1")?;
    apply(
        env,
        &ns,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "app"},
            "spec": {
                "chartRef": {"kind": "OCIRepository", "name": "app"},
                "interval": "2s", "timeout": "60s",
                "upgrade": {"timeout": "6s", "remediation": {"retries": 1}},
            }
        }),
    )?;
    wait_ready(env, &ns, "app", "1.0.0")?;
    // 1.1.0's pods can never be scheduled.
    let stuck = VALUES.replace("stuck: false", "stuck: true");
    push(env, &home, &app_chart(env, &home, "1.1.0", &stuck)?, &repo)?;
    let hr = wait_hr(env, &ns, "app", "stalled after the retries", |hr| {
        condition(hr, "Stalled").is_some_and(|c| c.status == "True")
    })?;
    let st = hr.status.clone().context("no status")?;
    let ready = condition(&hr, "Ready").context("no Ready")?;
    ensure!(ready.status == "False", "Ready: {ready:?}");
    let stalled = condition(&hr, "Stalled").context("no Stalled")?;
    ensure!(stalled.reason == "RetriesExhausted", "Stalled: {stalled:?}");
    ensure!(
        stalled.message.contains("Deployment") && stalled.message.contains("app-web"),
        "the message names the object not ready: {}",
        stalled.message
    );
    let remediated = condition(&hr, "Remediated").context("no Remediated")?;
    ensure!(
        remediated.status == "True" && remediated.reason == "RollbackSucceeded",
        "Remediated: {remediated:?}"
    );
    ensure!(
        st.upgrade_failures == 2,
        "upgrade failures {}",
        st.upgrade_failures
    );
    // Helm sees: 1 superseded, 2 failed, 3 rollback (superseded), 4 failed, 5 rollback deployed.
    let h = history(env, &home, &ns, "app")?;
    let statuses: Vec<&str> = h.iter().map(|r| r.1.as_str()).collect();
    ensure!(
        statuses == ["superseded", "failed", "superseded", "failed", "deployed"],
        "helm history: {h:?}"
    );
    // Each rollback goes to the last deployed revision (1, then the
    // rollback revision 3, both chart 1.0.0).
    ensure!(
        h[2].2 == "app-1.0.0"
            && h[2].3 == "Rollback to 1"
            && h[4].2 == "app-1.0.0"
            && h[4].3 == "Rollback to 3",
        "the rollbacks: {h:?}"
    );
    let dep = kubectl_json(
        env,
        &["get", "deployment", "app-web", "-n", &ns, "-o", "json"],
    )?;
    ensure!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"] == "berth-e2e/web:1.0.0",
        "the Deployment is back at 1.0.0: {}",
        dep["spec"]["template"]["spec"]
    );
    // Stalled means stalled: no new revision while nothing changes.
    std::thread::sleep(Duration::from_secs(5));
    ensure!(
        history(env, &home, &ns, "app")?.len() == 5,
        "berth kept retrying"
    );
    // A fixed chart moves it on.
    push(env, &home, &app_chart(env, &home, "1.2.0", VALUES)?, &repo)?;
    wait_ready(env, &ns, "app", "1.2.0")?;
    env.cluster()?
        .kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

/// A release first installed by the real `helm install` is adopted by a
/// HelmRelease of the same name: the next revision is berth's.
fn adopts_helm_install(env: &Env) -> Result<()> {
    controller(env)?;
    let home = ClientHome::new(env, "hr-adopt")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let ns = create_namespace(env, "hr-adopt")?;
    let chart = app_chart(env, &home, "1.0.0", VALUES)?;
    let path = chart.path.to_string_lossy().into_owned();
    helm(
        env,
        &home,
        &[
            "install",
            "app",
            &path,
            "-n",
            &ns,
            "--wait",
            "--timeout",
            "60s",
        ],
    )?;
    push(env, &home, &chart, &repo)?;
    source(env, &ns, &repo, "^1")?;
    apply(
        env,
        &ns,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "app"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "app"},
                     "interval": "5s", "values": {"greeting": "adopted"}},
        }),
    )?;
    wait_ready(env, &ns, "app", "1.0.0")?;
    let h = history(env, &home, &ns, "app")?;
    ensure!(
        h.len() == 2 && h[0].1 == "superseded" && h[1].1 == "deployed",
        "helm history after adoption: {h:?}"
    );
    let cm = config_map(env, &ns, "app-settings")?.context("settings missing")?;
    ensure!(
        cm.data
            .unwrap_or_default()
            .get("greeting")
            .map(String::as_str)
            == Some("adopted"),
        "values not applied on adoption"
    );
    env.cluster()?
        .kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

/// berth stopped in the middle of an upgrade leaves its revision
/// `pending-upgrade` (the record is written before anything is applied).
/// The state is made exactly so — a pending record of the next revision
/// written with berth's own store — and the controller, on its next pass,
/// settles it as failed and finishes the upgrade: no "another operation
/// is in progress".
fn interrupted_upgrade_recovers(env: &Env) -> Result<()> {
    controller(env)?;
    let home = ClientHome::new(env, "hr-interrupted")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let ns = create_namespace(env, "hr-int")?;
    push(env, &home, &app_chart(env, &home, "1.0.0", VALUES)?, &repo)?;
    source(env, &ns, &repo, "^1")?;
    let hr = |suspend: bool, greeting: &str| {
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "app"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "app"},
                     "interval": "1h", "suspend": suspend, "values": {"greeting": greeting}},
        })
    };
    apply(env, &ns, hr(false, "one"))?;
    wait_ready(env, &ns, "app", "1.0.0")?;
    // Suspend, then leave a pending-upgrade revision 2 as an interrupted
    // berth would.
    apply(env, &ns, hr(true, "one"))?;
    // A pass already under way when the suspension landed (one that found
    // the release in sync) finishes well within this.
    std::thread::sleep(Duration::from_secs(3));
    let store = berth::release::Store::new(client(env)?, &ns);
    let records = env.rt.block_on(store.history("app"))?;
    let mut pending = records.last().context("no release")?.clone();
    pending.version += 1;
    pending.info.status = berth::release::Status::PendingUpgrade;
    pending.info.description = "Preparing upgrade".into();
    env.rt.block_on(store.create(&pending))?;
    let status = helm_json(env, &home, &["status", "app", "-n", &ns, "-o", "json"])?;
    ensure!(
        status["info"]["status"] == "pending-upgrade",
        "helm status: {}",
        status["info"]
    );
    // The real helm refuses to upgrade now — the pain berth removes.
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("--kubeconfig")
        .arg(&env.cluster()?.kubeconfig)
        .args([
            "upgrade",
            "app",
            &home
                .tmp
                .join("pkg-app-1.0.0/app-1.0.0.tgz")
                .to_string_lossy(),
            "-n",
            &ns,
        ]);
    let out = run_output(cmd)?;
    ensure!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("another operation"),
        "helm upgrade on a pending release: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Resume with new values: berth settles revision 2 and upgrades.
    apply(env, &ns, hr(false, "two"))?;
    wait_hr(env, &ns, "app", "Ready after recovery", |hr| {
        condition(hr, "Ready").is_some_and(|c| c.status == "True")
            && hr.status.as_ref().and_then(|s| s.observed_generation) == hr.metadata.generation
    })?;
    let h = history(env, &home, &ns, "app")?;
    let statuses: Vec<&str> = h.iter().map(|r| r.1.as_str()).collect();
    ensure!(
        statuses == ["superseded", "failed", "deployed"],
        "helm history: {h:?}"
    );
    ensure!(
        h[1].3.contains("interrupted"),
        "the settled revision says why: {h:?}"
    );
    let cm = config_map(env, &ns, "app-settings")?.context("settings missing")?;
    ensure!(
        cm.data
            .unwrap_or_default()
            .get("greeting")
            .map(String::as_str)
            == Some("two"),
        "upgrade not finished"
    );
    env.cluster()?
        .kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

/// A tenant HelmRelease applied as its ServiceAccount: a chart with a
/// ClusterRoleBinding is refused (the account may not create one), with a
/// condition naming the object and the API server's reason.
fn tenant_service_account(env: &Env) -> Result<()> {
    controller(env)?;
    let home = ClientHome::new(env, "hr-tenant")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let ns = create_namespace(env, "hr-tenant")?;
    let crb = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ .Release.Namespace }}-escalate
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: default, namespace: {{ .Release.Namespace }}}]
"#;
    let chart = package_files(
        env,
        &home,
        "escalate",
        "1.0.0",
        &[
            ("values.yaml", ""),
            ("templates/settings.yaml", SETTINGS),
            ("templates/crb.yaml", crb),
        ],
    )?;
    let reg = &env.registries()?.referrers;
    helm_push(env, &home, &chart, &reg.host, &repo, &["--plain-http"])?;
    // The tenant's account: everything in its namespace, nothing else.
    let cp = env.cluster()?;
    cp.kubectl_output(&["create", "serviceaccount", "tenant", "-n", &ns])?;
    cp.kubectl_output(&[
        "create",
        "rolebinding",
        "tenant-admin",
        "-n",
        &ns,
        "--clusterrole",
        "admin",
        &format!("--serviceaccount={ns}:tenant"),
    ])?;
    apply(
        env,
        &ns,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "OCIRepository",
            "metadata": {"name": "escalate"},
            "spec": {"url": reg.oci_url(&format!("{repo}/escalate")), "insecure": true,
                     "interval": "5s", "ref": {"tag": "1.0.0"}},
        }),
    )?;
    apply(
        env,
        &ns,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "escalate"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "escalate"},
                     "serviceAccountName": "tenant", "interval": "5s",
                     "values": {"greeting": "hi", "replicas": 1}},
        }),
    )?;
    let hr = wait_hr(env, &ns, "escalate", "refused", |hr| {
        condition(hr, "Released").is_some_and(|c| c.status == "False")
    })?;
    let released = condition(&hr, "Released").context("no Released")?;
    ensure!(released.reason == "InstallFailed", "Released: {released:?}");
    ensure!(
        released.message.contains("ClusterRoleBinding") && released.message.contains("forbidden"),
        "the message names the object and the refusal: {}",
        released.message
    );
    let exists = cp.kubectl_output(&[
        "get",
        "clusterrolebinding",
        &format!("{ns}-escalate"),
        "--ignore-not-found",
    ])?;
    ensure!(
        exists.trim().is_empty(),
        "the ClusterRoleBinding was created: {exists}"
    );
    cp.kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

/// A hook Job: `event`, `weight`; kwok completes its pod and the job
/// controller marks it Complete.
fn hook_job(name: &str, event: &str, weight: i32, policy: &str) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  annotations:
    helm.sh/hook: {event}
    helm.sh/hook-weight: "{weight}"
    helm.sh/hook-delete-policy: {policy}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: hook, image: "berth-e2e/hook:1"}}]
"#
    )
}

/// Hooks through the controller: pre-install Jobs run in weight order
/// before the release's objects exist, post-install after; upgrade hooks
/// on upgrade; pre-delete on uninstall with `keepHistory` — all as the
/// real helm reads them back from the release record.
fn hooks_in_order(env: &Env) -> Result<()> {
    controller(env)?;
    let home = ClientHome::new(env, "hr-hooks")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let ns = create_namespace(env, "hr-hooks")?;
    let late = hook_job("late", "pre-install", 5, "before-hook-creation");
    let early = hook_job(
        "early",
        "pre-install,pre-upgrade",
        -1,
        "before-hook-creation",
    );
    let post = hook_job("post", "post-install,post-upgrade", 0, "hook-succeeded");
    let cleanup = hook_job("cleanup", "pre-delete", 0, "before-hook-creation");
    let files: Vec<(&str, &str)> = vec![
        ("values.yaml", VALUES),
        ("templates/settings.yaml", SETTINGS),
        ("templates/late.yaml", &late),
        ("templates/early.yaml", &early),
        ("templates/post.yaml", &post),
        ("templates/cleanup.yaml", &cleanup),
    ];
    let chart = package_files(env, &home, "hooked", "1.0.0", &files)?;
    let reg = &env.registries()?.referrers;
    helm_push(env, &home, &chart, &reg.host, &repo, &["--plain-http"])?;
    apply(
        env,
        &ns,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "OCIRepository",
            "metadata": {"name": "hooked"},
            "spec": {"url": reg.oci_url(&format!("{repo}/hooked")), "insecure": true,
                     "interval": "1s", "ref": {"semver": "^1"}},
        }),
    )?;
    apply(
        env,
        &ns,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "hooked"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "hooked"},
                     "interval": "1h", "timeout": "60s",
                     "uninstall": {"keepHistory": true}},
        }),
    )?;
    wait_ready(env, &ns, "hooked", "1.0.0")?;
    let status = helm_json(env, &home, &["status", "hooked", "-n", &ns, "-o", "json"])?;
    let hooks = status["hooks"]
        .as_array()
        .context("no hooks in helm status")?;
    let run = |name: &str| -> Result<(String, String, String)> {
        let h = hooks
            .iter()
            .find(|h| h["name"] == name)
            .with_context(|| format!("hook {name} not recorded: {hooks:?}"))?;
        Ok((
            h["last_run"]["phase"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            h["last_run"]["started_at"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            h["last_run"]["completed_at"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ))
    };
    let (early_phase, early_start, early_done) = run("early")?;
    let (late_phase, late_start, late_done) = run("late")?;
    let (post_phase, post_start, _) = run("post")?;
    ensure!(
        [&early_phase, &late_phase, &post_phase] == ["Succeeded"; 3],
        "hook phases: {hooks:?}"
    );
    let t = |s: &str| -> Result<k8s_openapi::jiff::Timestamp> {
        s.parse().with_context(|| format!("bad time {s:?}"))
    };
    ensure!(
        t(&early_done)? <= t(&late_start)? && t(&late_done)? <= t(&post_start)?,
        "hooks out of order: early {early_start}..{early_done}, late {late_start}..{late_done}, post from {post_start}"
    );
    // The pre-install Jobs completed before the release's objects were
    // applied; the post hook (hook-succeeded) is gone.
    let settings = config_map(env, &ns, "hooked-settings")?.context("settings missing")?;
    let created = settings
        .metadata
        .creation_timestamp
        .context("no creation time")?
        .0;
    ensure!(
        t(&late_done)? <= created + k8s_openapi::jiff::SignedDuration::from_secs(1),
        "settings created at {created} before the last pre-install hook completed at {late_done}"
    );
    let jobs = kubectl_json(env, &["get", "jobs", "-n", &ns, "-o", "json"])?;
    let names: Vec<&str> = jobs["items"]
        .as_array()
        .context("jobs")?
        .iter()
        .filter_map(|j| j["metadata"]["name"].as_str())
        .collect();
    ensure!(
        names == ["early", "late"],
        "jobs left after install: {names:?}"
    );

    // Delete: the pre-delete hook runs, the objects go, the history stays
    // (`keepHistory`), marked uninstalled.
    let api: Api<HelmRelease> = Api::namespaced(client(env)?, &ns);
    env.rt
        .block_on(api.delete("hooked", &DeleteParams::default()))?;
    wait_until("the HelmRelease gone", || {
        Ok(env.rt.block_on(api.get_opt("hooked"))?.is_none())
    })?;
    let jobs = kubectl_json(env, &["get", "jobs", "-n", &ns, "-o", "json"])?;
    ensure!(
        jobs["items"]
            .as_array()
            .is_some_and(|j| j.iter().any(|j| j["metadata"]["name"] == "cleanup")),
        "the pre-delete hook did not run: {jobs}"
    );
    ensure!(
        config_map(env, &ns, "hooked-settings")?.is_none(),
        "settings left after uninstall"
    );
    let h = history(env, &home, &ns, "hooked")?;
    let store = berth::release::Store::new(client(env)?, &ns);
    let ours = env.rt.block_on(store.history("hooked"))?;
    ensure!(
        ours.len() == 1 && ours[0].info.status == berth::release::Status::Uninstalled,
        "berth reads the history as {:?}",
        ours.iter()
            .map(|r| (r.version, r.info.status.as_str()))
            .collect::<Vec<_>>()
    );
    ensure!(
        h.len() == 1 && h[0].1 == "uninstalled" && h[0].3 == "Uninstallation complete",
        "helm history after uninstall with keepHistory: {h:?}"
    );
    env.cluster()?
        .kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

const PVC: &str = r#"apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .Release.Name }}-data
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  volumeName: {{ .Values.volume }}
  resources: {requests: {storage: 1Mi}}
"#;

/// `dependsOn` holds a release until its dependency is Ready; the
/// dependency installs into a `targetNamespace` it creates, keeps its
/// records in a `storageNamespace`, and is Ready only once its
/// PersistentVolumeClaim is Bound.
fn depends_on_and_namespaces(env: &Env) -> Result<()> {
    controller(env)?;
    let home = ClientHome::new(env, "hr-deps")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let ns = create_namespace(env, "hr-deps")?;
    let target = format!("{ns}-target");
    let pv = format!("{ns}-pv");
    let chart = package_files(
        env,
        &home,
        "store",
        "1.0.0",
        &[
            ("values.yaml", "volume: none\n"),
            ("templates/pvc.yaml", PVC),
        ],
    )?;
    let reg = &env.registries()?.referrers;
    helm_push(env, &home, &chart, &reg.host, &repo, &["--plain-http"])?;
    push(env, &home, &app_chart(env, &home, "1.0.0", VALUES)?, &repo)?;
    source(env, &ns, &repo, "^1")?;
    apply(
        env,
        &ns,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "OCIRepository",
            "metadata": {"name": "store"},
            "spec": {"url": reg.oci_url(&format!("{repo}/store")), "insecure": true,
                     "interval": "1s", "ref": {"tag": "1.0.0"}},
        }),
    )?;
    // The app waits for the store.
    apply(
        env,
        &ns,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "app"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "app"},
                     "interval": "1h", "dependsOn": [{"name": "store"}]},
        }),
    )?;
    let hr = wait_hr(env, &ns, "app", "waiting for its dependency", |hr| {
        condition(hr, "Ready").is_some_and(|c| c.reason == "DependencyNotReady")
    })?;
    let ready = condition(&hr, "Ready").context("no Ready")?;
    ensure!(
        ready.status == "False" && ready.message.contains(&format!("{ns}/store")),
        "Ready: {ready:?}"
    );
    // The store's claim names a volume that does not exist yet: not
    // Ready until it does and the claim is Bound.
    apply(
        env,
        &ns,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "store"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "store"},
                     "interval": "1h", "timeout": "90s",
                     "targetNamespace": target, "storageNamespace": ns,
                     "install": {"createNamespace": true},
                     "values": {"volume": pv}},
        }),
    )?;
    wait_until("the claim created in the target namespace", || {
        let out = env.cluster()?.kubectl_output(&[
            "get",
            "pvc",
            "-n",
            &target,
            "--ignore-not-found",
            "-o",
            "name",
        ])?;
        Ok(!out.trim().is_empty())
    })?;
    std::thread::sleep(Duration::from_secs(2));
    let hr = get_hr(env, &ns, "store")?;
    ensure!(
        condition(&hr, "Ready").is_none_or(|c| c.status != "True"),
        "Ready before its claim is Bound: {:?}",
        hr.status
    );
    let pv_obj = json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": pv},
        "spec": {"capacity": {"storage": "1Mi"}, "accessModes": ["ReadWriteOnce"],
                 "storageClassName": "", "hostPath": {"path": "/tmp/berth-e2e"},
                 "persistentVolumeReclaimPolicy": "Retain"},
    });
    let pvs: Api<k8s_openapi::api::core::v1::PersistentVolume> = Api::all(client(env)?);
    env.rt
        .block_on(pvs.create(&PostParams::default(), &serde_json::from_value(pv_obj)?))?;
    wait_ready(env, &ns, "store", "1.0.0")?;
    let claim = kubectl_json(
        env,
        &[
            "get",
            "pvc",
            &format!("{target}-store-data"),
            "-n",
            &target,
            "-o",
            "json",
        ],
    )?;
    ensure!(
        claim["status"]["phase"] == "Bound",
        "claim: {}",
        claim["status"]
    );
    // The release records are in the storage namespace, the release in
    // the target namespace, named `<target>-store` as Flux names it.
    let list = helm_json(env, &home, &["list", "-n", &ns, "-o", "json"])?;
    ensure!(
        list.as_array()
            .is_some_and(|l| l.iter().any(|r| r["name"] == format!("{target}-store"))),
        "helm list -n {ns}: {list}"
    );
    // The dependency Ready, the app goes ahead.
    wait_ready(env, &ns, "app", "1.0.0")?;
    let cp = env.cluster()?;
    for n in [&ns, &target] {
        cp.kubectl_output(&["delete", "namespace", n, "--wait=false"])?;
    }
    cp.kubectl_output(&["delete", "pv", &pv, "--wait=false"])?;
    Ok(())
}

/// A template error and a values schema violation change nothing in the
/// cluster: Stalled with a reason that names the template and line, or
/// the schema's complaint; no release record; fixed values move on.
fn render_and_schema_errors(env: &Env) -> Result<()> {
    controller(env)?;
    let home = ClientHome::new(env, "hr-errors")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let ns = create_namespace(env, "hr-errors")?;
    let broken = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ required \"port is required\" .Values.port | quote }}\n";
    let schema = r#"{"$schema": "https://json-schema.org/draft-07/schema#", "type": "object",
  "properties": {"port": {"type": "integer", "maximum": 65535}}}"#;
    let chart = package_files(
        env,
        &home,
        "strict",
        "1.0.0",
        &[
            ("values.yaml", ""),
            ("values.schema.json", schema),
            ("templates/config.yaml", broken),
        ],
    )?;
    let reg = &env.registries()?.referrers;
    helm_push(env, &home, &chart, &reg.host, &repo, &["--plain-http"])?;
    apply(
        env,
        &ns,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "OCIRepository",
            "metadata": {"name": "strict"},
            "spec": {"url": reg.oci_url(&format!("{repo}/strict")), "insecure": true,
                     "interval": "1s", "ref": {"tag": "1.0.0"}},
        }),
    )?;
    let hr = |values: Value| {
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "strict"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "strict"},
                     "interval": "1h", "values": values},
        })
    };
    let stalled_with = |reason: &'static str| {
        move |hr: &HelmRelease| {
            condition(hr, "Stalled").is_some_and(|c| c.status == "True" && c.reason == reason)
                && hr.status.as_ref().and_then(|s| s.observed_generation) == hr.metadata.generation
        }
    };
    apply(env, &ns, hr(json!({})))?;
    let got = wait_hr(
        env,
        &ns,
        "strict",
        "stalled on the render error",
        stalled_with("RenderFailed"),
    )?;
    let msg = &condition(&got, "Stalled").context("no Stalled")?.message;
    ensure!(
        msg.contains("strict/templates/config.yaml:6") && msg.contains("port is required"),
        "render error message: {msg}"
    );
    apply(env, &ns, hr(json!({"port": 700000})))?;
    let got = wait_hr(
        env,
        &ns,
        "strict",
        "stalled on the schema",
        stalled_with("ValuesSchemaViolation"),
    )?;
    let msg = &condition(&got, "Stalled").context("no Stalled")?.message;
    // A pass that reaches the same outcome again (brought by an
    // annotation change: no new generation, no reconcile request) shows
    // its progress first; the progress must not stay behind, and the
    // status writes must not bring pass after pass.
    let status_write = |hr: &HelmRelease| -> Option<String> {
        hr.metadata.managed_fields.as_ref()?.iter().find_map(|m| {
            (m.manager.as_deref() == Some("berth") && m.subresource.as_deref() == Some("status"))
                .then(|| m.time.as_ref().map(|t| t.0.to_string()))
                .flatten()
        })
    };
    let before = status_write(&get_hr(env, &ns, "strict")?).context("no status write by berth")?;
    std::thread::sleep(Duration::from_millis(1100));
    let api: Api<HelmRelease> = Api::namespaced(client(env)?, &ns);
    env.rt.block_on(api.patch(
        "strict",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {"e2e.berth.dev/touched": "yes"}}})),
    ))?;
    wait_hr(env, &ns, "strict", "passed again", |hr| {
        status_write(hr).is_some_and(|t| t > before)
    })?;
    std::thread::sleep(Duration::from_secs(3));
    let got = get_hr(env, &ns, "strict")?;
    ensure!(
        condition(&got, "Reconciling").is_none()
            && condition(&got, "Stalled").is_some_and(|c| c.reason == "ValuesSchemaViolation"),
        "after a pass with the same outcome: {:?}",
        got.status
    );
    let settled = status_write(&got);
    std::thread::sleep(Duration::from_secs(2));
    ensure!(
        status_write(&get_hr(env, &ns, "strict")?) == settled,
        "the status is still being written: passes keep coming"
    );
    // Helm's words (its JSON-schema library prints numbers grouped).
    ensure!(
        msg.contains("strict:") && msg.contains("at '/port': maximum: got 700,000, want 65,535"),
        "schema message: {msg}"
    );
    let list = helm_json(env, &home, &["list", "-n", &ns, "-o", "json"])?;
    ensure!(list == json!([]), "a release record was written: {list}");
    apply(env, &ns, hr(json!({"port": 8080})))?;
    wait_ready(env, &ns, "strict", "1.0.0")?;
    env.cluster()?
        .kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

/// The real crash: the `berth controller` process is SIGKILLed while an
/// upgrade waits for a Deployment that never becomes Available, leaving
/// revision 2 `pending-upgrade` (the state in which the real helm refuses
/// to go on). A new process settles it, retries, rolls back per the spec,
/// and the release ends consistent: nothing pending, the Deployment back
/// at the last good chart, helm agreeing.
fn killed_mid_upgrade(env: &Env) -> Result<()> {
    install_crds(env)?;
    let shard = "helmrelease-binary";
    let home = ClientHome::new(env, "hr-killed")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let ns = create_namespace(env, "hr-killed")?;
    let log = env.dir.path().join("berth-killed.log");
    push(env, &home, &app_chart(env, &home, "1.0.0", VALUES)?, &repo)?;
    source_in(env, &ns, shard, &repo, "^1")?;
    let hr = |timeout: &str| {
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "app"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "app"},
                     "interval": "1h", "timeout": "60s",
                     "upgrade": {"timeout": timeout,
                                 "remediation": {"retries": 0, "remediateLastFailure": true}}},
        })
    };
    apply_in(env, &ns, shard, hr("120s"))?;
    // The built `berth controller` for the objects labelled `shard`.
    let selector = format!("{SHARD_LABEL}={shard}");
    let args = [
        "--watch-label-selector",
        &selector,
        "--log-format",
        "json",
        "--leader-elect=false",
    ];
    let mut child = spawn_berth(env, &args, &log)?;
    let result = (|| -> Result<()> {
        wait_ready(env, &ns, "app", "1.0.0")?;
        let stuck = VALUES.replace("stuck: false", "stuck: true");
        push(env, &home, &app_chart(env, &home, "1.1.0", &stuck)?, &repo)?;
        wait_until("the upgrade under way", || {
            let st = helm_json(env, &home, &["status", "app", "-n", &ns, "-o", "json"])?;
            Ok(st["info"]["status"] == "pending-upgrade")
        })?;
        // SIGKILL: no chance to clean up.
        child.kill()?;
        std::thread::sleep(Duration::from_secs(1));
        let st = helm_json(env, &home, &["status", "app", "-n", &ns, "-o", "json"])?;
        ensure!(
            st["info"]["status"] == "pending-upgrade",
            "after the kill: {}",
            st["info"]
        );
        // A shorter upgrade timeout for the rest of the test, then a new
        // process.
        apply_in(env, &ns, shard, hr("5s"))?;
        child = spawn_berth(env, &args, &log)?;
        let got = wait_hr(env, &ns, "app", "remediated after the restart", |hr| {
            condition(hr, "Remediated").is_some_and(|c| c.status == "True")
                && condition(hr, "Stalled").is_some_and(|c| c.status == "True")
        })?;
        let remediated = condition(&got, "Remediated").context("no Remediated")?;
        ensure!(
            remediated.reason == "RollbackSucceeded",
            "Remediated: {remediated:?}"
        );
        let h = history(env, &home, &ns, "app")?;
        let statuses: Vec<&str> = h.iter().map(|r| r.1.as_str()).collect();
        ensure!(
            statuses == ["superseded", "failed", "failed", "deployed"],
            "helm history: {h:?}"
        );
        ensure!(h[1].3.contains("interrupted"), "revision 2 says why: {h:?}");
        ensure!(
            h[3].2 == "app-1.0.0" && h[3].3 == "Rollback to 1",
            "the rollback: {h:?}"
        );
        let dep = kubectl_json(
            env,
            &["get", "deployment", "app-web", "-n", &ns, "-o", "json"],
        )?;
        ensure!(
            dep["spec"]["template"]["spec"]["containers"][0]["image"] == "berth-e2e/web:1.0.0",
            "the Deployment is back at 1.0.0"
        );
        Ok(())
    })();
    let _ = child.kill();
    if result.is_err() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        eprintln!(
            "berth log tail:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    } else {
        env.cluster()?
            .kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    }
    result
}

/// `driftDetection.mode: warn` reports a hand-deleted object (Ready
/// message and a Warning Event) without restoring it; the check runs on a
/// `reconcile.fluxcd.io/requestedAt` request, which the status records as
/// handled.
fn drift_warn_on_request(env: &Env) -> Result<()> {
    controller(env)?;
    let home = ClientHome::new(env, "hr-warn")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let ns = create_namespace(env, "hr-warn")?;
    push(env, &home, &app_chart(env, &home, "1.0.0", VALUES)?, &repo)?;
    source(env, &ns, &repo, "^1")?;
    let hr = |requested: Option<&str>| {
        let mut obj = json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "app"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "app"},
                     "interval": "1h", "driftDetection": {"mode": "warn"}},
        });
        if let Some(r) = requested {
            obj["metadata"]["annotations"] = json!({"reconcile.fluxcd.io/requestedAt": r});
        }
        obj
    };
    apply(env, &ns, hr(None))?;
    wait_ready(env, &ns, "app", "1.0.0")?;
    let cp = env.cluster()?;
    cp.kubectl_output(&["delete", "configmap", "app-settings", "-n", &ns])?;
    let requested = "2026-11-24T10:00:00Z";
    apply(env, &ns, hr(Some(requested)))?;
    let got = wait_hr(env, &ns, "app", "reporting the drift", |hr| {
        hr.status
            .as_ref()
            .and_then(|s| s.last_handled_reconcile_at.as_deref())
            == Some(requested)
    })?;
    let ready = condition(&got, "Ready").context("no Ready")?;
    ensure!(
        ready.message.contains("drift detected")
            && ready
                .message
                .contains(&format!("ConfigMap {ns}/app-settings (deleted)")),
        "Ready: {ready:?}"
    );
    ensure!(
        config_map(env, &ns, "app-settings")?.is_none(),
        "warn mode restored the object"
    );
    let events = kubectl_json(
        env,
        &["get", "events.events.k8s.io", "-n", &ns, "-o", "json"],
    )?;
    let drift_event = events["items"].as_array().is_some_and(|items| {
        items
            .iter()
            .any(|e| e["reason"] == "DriftDetected" && e["type"] == "Warning")
    });
    ensure!(drift_event, "no DriftDetected event: {events}");
    cp.kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

/// `upgrade.cleanupOnFail` without remediation: a failed upgrade leaves
/// the release failed (no rollback), and the object the failed revision
/// added is deleted while the ones the deployed revision has stay.
fn cleanup_on_fail(env: &Env) -> Result<()> {
    controller(env)?;
    let home = ClientHome::new(env, "hr-cleanup")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let ns = create_namespace(env, "hr-cleanup")?;
    push(env, &home, &app_chart(env, &home, "1.0.0", VALUES)?, &repo)?;
    source(env, &ns, &repo, "^1")?;
    apply(
        env,
        &ns,
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "app"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "app"},
                     "interval": "1h", "timeout": "60s",
                     "upgrade": {"timeout": "5s", "cleanupOnFail": true}},
        }),
    )?;
    wait_ready(env, &ns, "app", "1.0.0")?;
    let added = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-added\ndata:\n  new: \"yes\"\n";
    let stuck = VALUES.replace("stuck: false", "stuck: true");
    let chart = package_files(
        env,
        &home,
        "app",
        "1.1.0",
        &[
            ("values.yaml", &stuck),
            ("templates/deployment.yaml", DEPLOYMENT),
            ("templates/service.yaml", SERVICE),
            ("templates/settings.yaml", SETTINGS),
            ("templates/extra.yaml", EXTRA),
            ("templates/added.yaml", added),
        ],
    )?;
    push(env, &home, &chart, &repo)?;
    let hr = wait_hr(env, &ns, "app", "failed and stalled", |hr| {
        condition(hr, "Stalled").is_some_and(|c| c.status == "True")
    })?;
    ensure!(
        condition(&hr, "Released").is_some_and(|c| c.reason == "UpgradeFailed"),
        "Released: {:?}",
        condition(&hr, "Released")
    );
    ensure!(
        condition(&hr, "Remediated").is_none(),
        "remediated without remediation"
    );
    ensure!(
        config_map(env, &ns, "app-added")?.is_none(),
        "the added ConfigMap was not cleaned up"
    );
    ensure!(
        config_map(env, &ns, "app-settings")?.is_some(),
        "cleanup deleted a kept object"
    );
    let h = history(env, &home, &ns, "app")?;
    let statuses: Vec<&str> = h.iter().map(|r| r.1.as_str()).collect();
    ensure!(statuses == ["deployed", "failed"], "helm history: {h:?}");
    env.cluster()?
        .kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

static LOCKDOWN: SharedController = SharedController::new();

/// `--no-cross-namespace-refs`: a controller (its own shard) that refuses
/// a `chartRef` to another namespace with `AccessDenied`, and releases
/// the same chart from the HelmRelease's own namespace.
fn no_cross_namespace_refs(env: &Env) -> Result<()> {
    let shard = "helmrelease-lockdown";
    LOCKDOWN.get("lockdown controller", || {
        start_controller(env, shard, 2, |ctx| ctx.no_cross_namespace_refs = true)
    })?;
    let home = ClientHome::new(env, "hr-lockdown")?;
    let repo = format!("hr-{}", random_hex(4)?);
    let sources = create_namespace(env, "hr-lock-src")?;
    let tenant = create_namespace(env, "hr-lock-tenant")?;
    push(env, &home, &app_chart(env, &home, "1.0.0", VALUES)?, &repo)?;
    source_in(env, &sources, shard, &repo, "^1")?;
    source_in(env, &tenant, shard, &repo, "^1")?;
    let hr = |source_ns: &str| {
        json!({
            "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
            "metadata": {"name": "app"},
            "spec": {"chartRef": {"kind": "OCIRepository", "name": "app", "namespace": source_ns},
                     "interval": "1h"},
        })
    };
    apply_in(env, &tenant, shard, hr(&sources))?;
    let got = wait_hr(env, &tenant, "app", "refused", |hr| {
        condition(hr, "Stalled").is_some_and(|c| c.reason == "AccessDenied")
    })?;
    let msg = &condition(&got, "Stalled").context("no Stalled")?.message;
    ensure!(
        msg.contains(&format!("{sources}/app")),
        "AccessDenied message: {msg}"
    );
    ensure!(
        config_map(env, &tenant, "app-settings")?.is_none(),
        "applied despite the refusal"
    );
    apply_in(env, &tenant, shard, hr(&tenant))?;
    wait_ready(env, &tenant, "app", "1.0.0")?;
    let cp = env.cluster()?;
    for ns in [&sources, &tenant] {
        cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    }
    Ok(())
}
