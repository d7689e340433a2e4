//! Installing berth itself: `charts/berth` with the real `helm install`,
//! `config/` rendered by the real `kubectl kustomize` and server-side
//! applied, both accepted by the real API server with the Deployment
//! Available under kwok; and the chart's RBAC proven enough by running the
//! in-process controllers (the code `berth controller` runs) with a token
//! of the chart's ServiceAccount, so every call berth makes is authorized
//! as that account: an OCIRepository and a HelmRelease reconciled to Ready,
//! events published, the release uninstalled on delete. The lockdown
//! install (`rbac.applyAll=false`) refuses a release without a tenant
//! ServiceAccount and applies one with it.

use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context as _, Result};
use berth::api::helm_release::HelmRelease;
use berth::api::oci_repository::OCIRepository;
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use crate::env::berth::{
    admin_config, client, create_namespace, helm, kubectl_json, start_controller_as, wait_hr,
    wait_until, SHARD_LABEL,
};
use crate::env::charts::{helm_push, package_files};
use crate::env::registry::{random_hex, ClientHome};
use crate::env::Env;

pub fn tests() -> Vec<crate::Test> {
    vec![
        crate::Test {
            name: "install::crds_match_berth_crds",
            run: crds_match_berth_crds,
        },
        crate::Test {
            name: "install::helm_chart",
            run: helm_chart,
        },
        crate::Test {
            name: "install::kustomize",
            run: kustomize,
        },
        crate::Test {
            name: "install::rbac_is_enough",
            run: rbac_is_enough,
        },
        crate::Test {
            name: "install::lockdown",
            run: lockdown,
        },
    ]
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `charts/berth/crds` and `config/crd` hold exactly `berth crds`
/// (`make crds` writes them; `make crds-check` is the same check).
fn crds_match_berth_crds(_env: &Env) -> Result<()> {
    let files = berth::api::crd_files()?;
    for dir in ["charts/berth/crds", "config/crd"] {
        let dir = repo_path(dir);
        for (name, yaml) in &files {
            let on_disk = std::fs::read_to_string(dir.join(name))
                .with_context(|| format!("{}/{name} is missing; run make crds", dir.display()))?;
            ensure!(
                on_disk == *yaml,
                "{}/{name} differs from berth crds; run make crds",
                dir.display()
            );
        }
        let mut extra = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name != "kustomization.yaml" && !files.iter().any(|(f, _)| *f == name) {
                extra.push(name);
            }
        }
        ensure!(
            extra.is_empty(),
            "{} holds files berth crds does not generate: {extra:?}",
            dir.display()
        );
    }
    Ok(())
}

/// `helm install <release> charts/berth -n <ns> --create-namespace
/// --set …`.
fn helm_install(
    env: &Env,
    home: &ClientHome,
    release: &str,
    ns: &str,
    sets: &[&str],
) -> Result<()> {
    let chart = repo_path("charts/berth");
    let chart = chart.to_str().context("non-UTF-8 repository path")?;
    let mut args = vec!["install", release, chart, "-n", ns, "--create-namespace"];
    for s in sets {
        args.extend(["--set", s]);
    }
    helm(env, home, &args)?;
    Ok(())
}

/// Wait for Deployment `ns/name` to be Available (kwok runs its pod).
fn wait_available(env: &Env, ns: &str, name: &str) -> Result<Value> {
    wait_until(&format!("Deployment {ns}/{name} Available"), || {
        let d = kubectl_json(env, &["get", "deployment", name, "-n", ns, "-o", "json"])?;
        Ok(d["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Available" && c["status"] == "True")
        }))
    })?;
    kubectl_json(env, &["get", "deployment", name, "-n", ns, "-o", "json"])
}

/// The security settings and probes every berth Deployment must carry.
fn check_manager_deployment(dep: &Value, want_args: &[&str]) -> Result<()> {
    let spec = &dep["spec"]["template"]["spec"];
    let c = &spec["containers"][0];
    let args: Vec<&str> = c["args"]
        .as_array()
        .context("no args")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for want in [
        "controller",
        "--log-format=json",
        "--metrics-addr=0.0.0.0:8080",
    ]
    .iter()
    .chain(want_args)
    {
        ensure!(args.contains(want), "args {args:?} lack {want}");
    }
    let sc = &c["securityContext"];
    ensure!(
        sc["runAsNonRoot"] == true
            && sc["readOnlyRootFilesystem"] == true
            && sc["allowPrivilegeEscalation"] == false
            && sc["capabilities"]["drop"] == json!(["ALL"])
            && sc["seccompProfile"]["type"] == "RuntimeDefault",
        "container securityContext: {sc}"
    );
    ensure!(
        spec["securityContext"]["runAsNonRoot"] == true,
        "pod securityContext: {}",
        spec["securityContext"]
    );
    ensure!(
        c["livenessProbe"]["httpGet"]["path"] == "/healthz"
            && c["readinessProbe"]["httpGet"]["path"] == "/readyz",
        "probes: {} {}",
        c["livenessProbe"],
        c["readinessProbe"]
    );
    ensure!(
        c["resources"]["requests"]["cpu"].is_string()
            && c["resources"]["requests"]["memory"].is_string(),
        "resource requests: {}",
        c["resources"]
    );
    Ok(())
}

/// The chart installed with the real helm: every object accepted, the
/// Deployment Available, helm reporting the release deployed; the
/// lockdown values render without the cluster-admin binding.
fn helm_chart(env: &Env) -> Result<()> {
    let home = ClientHome::new(env, "install-helm")?;
    let ns = format!("berth-helm-{}", random_hex(3)?);
    let release = "berth-helm";
    helm(
        env,
        &home,
        &[
            "lint",
            "--strict",
            repo_path("charts/berth").to_str().context("path")?,
        ],
    )?;
    helm_install(
        env,
        &home,
        release,
        &ns,
        &["defaultServiceAccount=berth-tenant"],
    )?;
    let dep = wait_available(env, &ns, release)?;
    check_manager_deployment(&dep, &["--default-service-account=berth-tenant"])?;
    let status: Value = serde_json::from_str(&helm(
        env,
        &home,
        &["status", release, "-n", &ns, "-o", "json"],
    )?)?;
    ensure!(
        status["info"]["status"] == "deployed",
        "helm status: {}",
        status["info"]
    );
    let cp = env.cluster()?;
    cp.kubectl_output(&["get", "serviceaccount", release, "-n", &ns])?;
    cp.kubectl_output(&["get", "service", &format!("{release}-metrics"), "-n", &ns])?;
    cp.kubectl_output(&[
        "get",
        "role,rolebinding",
        &format!("{release}-leader-election"),
        "-n",
        &ns,
    ])?;
    let apply = kubectl_json(
        env,
        &[
            "get",
            "clusterrolebinding",
            &format!("{release}-apply"),
            "-o",
            "json",
        ],
    )?;
    ensure!(
        apply["roleRef"]["name"] == "cluster-admin"
            && apply["subjects"][0]["name"] == release
            && apply["subjects"][0]["namespace"] == ns.as_str(),
        "apply binding: {apply}"
    );
    for crd in ["ocirepositories.berth.dev", "helmreleases.berth.dev"] {
        cp.kubectl_output(&["get", "crd", crd])?;
    }
    // With monitoring and lockdown, the rendered objects (the
    // prometheus-operator kinds are not served here, so only render).
    let chart = repo_path("charts/berth");
    let rendered = helm(
        env,
        &home,
        &[
            "template",
            "lock",
            chart.to_str().context("path")?,
            "-n",
            "berth-lock",
            "--set",
            "rbac.applyAll=false,metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true",
        ],
    )?;
    ensure!(
        !rendered.contains("name: lock-berth-apply"),
        "the lockdown render binds cluster-admin"
    );
    for alert in [
        "berth_registry_pull_failures_total",
        "berth_verify_total",
        "berth_reconcile_total",
        "berth_stalled_objects",
        "kind: ServiceMonitor",
    ] {
        ensure!(rendered.contains(alert), "the render lacks {alert}");
    }
    helm(env, &home, &["uninstall", release, "-n", &ns, "--wait"])?;
    cp.kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

/// `kubectl kustomize config/default | kubectl apply --server-side`:
/// accepted, the Deployment Available; `config/lockdown` accepted by a
/// server-side dry run, without the cluster-admin binding.
fn kustomize(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let home = ClientHome::new(env, "install-kustomize")?;
    let render = |dir: &str| -> Result<PathBuf> {
        let out = cp.kubectl_output(&["kustomize", repo_path(dir).to_str().context("path")?])?;
        let path = home.tmp.join(dir.replace('/', "-") + ".yaml");
        std::fs::write(&path, out)?;
        Ok(path)
    };
    let default = render("config/default")?;
    let applied = cp.kubectl_output(&[
        "apply",
        "--server-side",
        "--field-manager=berth-install-e2e",
        "-f",
        default.to_str().context("path")?,
    ])?;
    for obj in [
        "namespace/berth-system",
        "customresourcedefinition.apiextensions.k8s.io/helmreleases.berth.dev",
        "customresourcedefinition.apiextensions.k8s.io/ocirepositories.berth.dev",
        "serviceaccount/berth",
        "clusterrole.rbac.authorization.k8s.io/berth-manager",
        "clusterrolebinding.rbac.authorization.k8s.io/berth-manager",
        "clusterrolebinding.rbac.authorization.k8s.io/berth-apply",
        "role.rbac.authorization.k8s.io/berth-leader-election",
        "rolebinding.rbac.authorization.k8s.io/berth-leader-election",
        "service/berth-metrics",
        "deployment.apps/berth",
    ] {
        ensure!(
            applied.contains(obj),
            "kubectl apply did not apply {obj}:\n{applied}"
        );
    }
    let dep = wait_available(env, "berth-system", "berth")?;
    check_manager_deployment(&dep, &[])?;

    // config/ and the chart (release `berth` in `berth-system`, default
    // values) must not drift apart: same objects, same rules, same pod.
    let chart = repo_path("charts/berth");
    let helm_render = home.tmp.join("chart-default.yaml");
    std::fs::write(
        &helm_render,
        helm(
            env,
            &home,
            &[
                "template",
                "berth",
                chart.to_str().context("path")?,
                "-n",
                "berth-system",
            ],
        )?,
    )?;
    let objects = |path: &Path| -> Result<Vec<Value>> {
        // One JSON document per object.
        let text = env.cluster()?.kubectl_output(&[
            "create",
            "--dry-run=client",
            "-o",
            "json",
            "-f",
            path.to_str().context("path")?,
        ])?;
        let mut items = Vec::new();
        for doc in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
            let doc = doc?;
            if doc["kind"] != "Namespace" && doc["kind"] != "CustomResourceDefinition" {
                items.push(doc);
            }
        }
        ensure!(items.len() >= 8, "kubectl printed {} objects", items.len());
        Ok(items)
    };
    let key = |o: &Value| format!("{}/{}", o["kind"], o["metadata"]["name"]);
    let from_config = objects(&default)?;
    let from_chart = objects(&helm_render)?;
    let mut config_keys: Vec<String> = from_config.iter().map(key).collect();
    let mut chart_keys: Vec<String> = from_chart.iter().map(key).collect();
    config_keys.sort();
    chart_keys.sort();
    ensure!(
        config_keys == chart_keys,
        "config/default has {config_keys:?}, the chart {chart_keys:?}"
    );
    for c in &from_config {
        let h = from_chart
            .iter()
            .find(|h| key(h) == key(c))
            .context("matched above")?;
        for field in ["rules", "roleRef", "subjects", "spec"] {
            let (mut a, mut b) = (c[field].clone(), h[field].clone());
            // The pod template's labels are the selector labels in both.
            if c["kind"] == "Deployment" {
                a["template"]["metadata"]["labels"] = Value::Null;
                b["template"]["metadata"]["labels"] = Value::Null;
            }
            ensure!(
                a == b,
                "{} differs in {field}: config {a} chart {b}",
                key(c)
            );
        }
    }

    let lockdown = render("config/lockdown")?;
    let text = std::fs::read_to_string(&lockdown)?;
    ensure!(
        !text.contains("name: berth-apply"),
        "config/lockdown binds cluster-admin"
    );
    let dry = cp.kubectl_output(&[
        "apply",
        "--server-side",
        "--dry-run=server",
        "--field-manager=berth-install-e2e",
        "-o",
        "json",
        "-f",
        lockdown.to_str().context("path")?,
    ])?;
    let list: Value = serde_json::from_str(&dry)?;
    let dep = list["items"]
        .as_array()
        .context("dry run printed no list")?
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .context("no Deployment in the dry run")?;
    check_manager_deployment(
        dep,
        &[
            "--no-cross-namespace-refs",
            "--default-service-account=berth-tenant",
        ],
    )?;
    Ok(())
}

/// A kube config authenticated as ServiceAccount `ns/name` with a token
/// from the TokenRequest API (what the kubelet mounts into berth's pod).
fn service_account_config(env: &Env, ns: &str, name: &str) -> Result<kube::Config> {
    let api: Api<ServiceAccount> = Api::namespaced(client(env)?, ns);
    let request: TokenRequest = serde_json::from_value(json!({
        "spec": {"audiences": [], "expirationSeconds": 3600}
    }))?;
    let issued =
        env.rt
            .block_on(api.create_token_request(name, &PostParams::default(), &request))?;
    let token = issued
        .status
        .context("TokenRequest without a status")?
        .token;
    let mut config = admin_config(env)?;
    config.auth_info = serde_json::from_value(json!({ "token": token }))?;
    Ok(config)
}

/// Start the in-process controllers for objects labelled `shard`,
/// authenticated with `config`.
fn start_berth(
    env: &Env,
    config: kube::Config,
    shard: &str,
    default_service_account: Option<&str>,
) -> Result<kube::Client> {
    let client = {
        let _guard = env.rt.enter();
        kube::Client::try_from(config.clone())?
    };
    start_controller_as(env, client.clone(), shard, 2, |ctx| {
        ctx.kube_config = Some(config);
        ctx.default_service_account = default_service_account.map(str::to_string);
    })?;
    Ok(client)
}

const APP_CONFIG_MAP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  greeting: {{ .Values.greeting | quote }}
"#;

const APP_DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: 1
  selector: {matchLabels: {app: {{ .Release.Name }}-web}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}-web}}
    spec:
      containers: [{name: web, image: "berth-e2e/web:{{ .Chart.Version }}"}]
"#;

/// Push the `app` chart (a ConfigMap and a Deployment) to a fresh
/// repository; its `oci://` URL.
fn push_app(env: &Env, home: &ClientHome) -> Result<String> {
    let repo = format!("install-{}", random_hex(4)?);
    let chart = package_files(
        env,
        home,
        "app",
        "1.0.0",
        &[
            ("values.yaml", "greeting: hello\n"),
            ("templates/settings.yaml", APP_CONFIG_MAP),
            ("templates/deployment.yaml", APP_DEPLOYMENT),
        ],
    )?;
    let reg = &env.registries()?.referrers;
    helm_push(env, home, &chart, &reg.host, &repo, &["--plain-http"])?;
    Ok(reg.oci_url(&format!("{repo}/app")))
}

/// The OCIRepository `app` and HelmRelease `name` of `shard`, applied
/// with the admin credential (as a user would).
fn apply_release(
    env: &Env,
    ns: &str,
    shard: &str,
    url: &str,
    name: &str,
    service_account: Option<&str>,
) -> Result<()> {
    let admin = client(env)?;
    let params = PatchParams::apply("e2e-user").force();
    let labels = json!({ SHARD_LABEL: shard });
    let source = json!({
        "apiVersion": "berth.dev/v1alpha1", "kind": "OCIRepository",
        "metadata": {"name": "app", "namespace": ns, "labels": labels},
        "spec": {"url": url, "insecure": true, "interval": "1m", "ref": {"tag": "1.0.0"}},
    });
    let sources: Api<OCIRepository> = Api::namespaced(admin.clone(), ns);
    env.rt
        .block_on(sources.patch("app", &params, &Patch::Apply(&source)))?;
    let mut spec = json!({
        "chartRef": {"kind": "OCIRepository", "name": "app"},
        "interval": "1m", "timeout": "60s",
        "values": {"greeting": name},
    });
    if let Some(sa) = service_account {
        spec["serviceAccountName"] = json!(sa);
    }
    let hr = json!({
        "apiVersion": "berth.dev/v1alpha1", "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": spec,
    });
    let releases: Api<HelmRelease> = Api::namespaced(admin, ns);
    env.rt
        .block_on(releases.patch(name, &params, &Patch::Apply(&hr)))?;
    Ok(())
}

fn condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

fn hr_ready(hr: &HelmRelease) -> bool {
    hr.status.as_ref().is_some_and(|s| {
        s.observed_generation == hr.metadata.generation
            && condition(&s.conditions, "Ready").is_some_and(|c| c.status == "True")
    })
}

/// The Helm release Secrets of `release` in `ns`.
fn release_secrets(env: &Env, ns: &str, release: &str) -> Result<Vec<String>> {
    let api: Api<Secret> = Api::namespaced(client(env)?, ns);
    let list = env
        .rt
        .block_on(api.list(&ListParams::default().labels(&format!("owner=helm,name={release}"))))?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|s| s.metadata.name)
        .collect())
}

fn config_map_exists(env: &Env, ns: &str, name: &str) -> Result<bool> {
    let api: Api<ConfigMap> = Api::namespaced(client(env)?, ns);
    Ok(env.rt.block_on(api.get_opt(name))?.is_some())
}

/// Ready, events published, uninstalled on delete: the whole cycle with
/// berth authenticated as the chart's ServiceAccount.
fn release_cycle(
    env: &Env,
    ns: &str,
    shard: &str,
    url: &str,
    name: &str,
    sa: Option<&str>,
) -> Result<()> {
    apply_release(env, ns, shard, url, name, sa)?;
    wait_hr(env, ns, name, "Ready", hr_ready)?;
    ensure!(
        config_map_exists(env, ns, &format!("{name}-settings"))?,
        "the release's ConfigMap is missing"
    );
    let web = format!("{name}-web");
    wait_available(env, ns, &web)?;
    let dep = kubectl_json(
        env,
        &[
            "get",
            "deployment",
            &web,
            "-n",
            ns,
            "-o",
            "json",
            "--show-managed-fields",
        ],
    )?;
    ensure!(
        dep["metadata"]["managedFields"]
            .as_array()
            .is_some_and(|m| m.iter().any(|f| f["manager"] == "berth")),
        "the Deployment was not applied by berth: {}",
        dep["metadata"]["managedFields"]
    );
    ensure!(
        !release_secrets(env, ns, name)?.is_empty(),
        "no Helm release Secret"
    );
    // events.k8s.io events about the HelmRelease, published as berth
    // (a refused event is only logged, so look for it).
    wait_until("an Event about the HelmRelease", || {
        let events = kubectl_json(
            env,
            &["get", "events.events.k8s.io", "-n", ns, "-o", "json"],
        )?;
        Ok(events["items"].as_array().is_some_and(|items| {
            items.iter().any(|e| {
                e["regarding"]["kind"] == "HelmRelease"
                    && e["regarding"]["name"] == name
                    && e["reportingController"] == "berth"
            })
        }))
    })?;
    // Delete: the finalizer uninstalls.
    let api: Api<HelmRelease> = Api::namespaced(client(env)?, ns);
    env.rt
        .block_on(api.delete(name, &DeleteParams::default()))?;
    wait_until("the HelmRelease gone", || {
        Ok(env.rt.block_on(api.get_opt(name))?.is_none())
    })?;
    ensure!(
        !config_map_exists(env, ns, &format!("{name}-settings"))?,
        "the uninstall left the release's ConfigMap"
    );
    let left = release_secrets(env, ns, name)?;
    ensure!(
        left.is_empty(),
        "the uninstall left release Secrets {left:?}"
    );
    Ok(())
}

/// The default install (`rbac.applyAll=true`, which binds cluster-admin as
/// Flux's helm-controller has): berth with the token of the chart's
/// ServiceAccount reconciles an OCIRepository and a HelmRelease to Ready,
/// publishes events, uninstalls on delete, and applies a tenant
/// HelmRelease as its `serviceAccountName`. The manager ClusterRole on its
/// own (no cluster-admin) is what `lockdown` proves enough.
fn rbac_is_enough(env: &Env) -> Result<()> {
    let home = ClientHome::new(env, "install-rbac")?;
    let berth_ns = format!("berth-rbac-{}", random_hex(3)?);
    let release = "berth-rbac";
    helm_install(env, &home, release, &berth_ns, &[])?;
    let config = service_account_config(env, &berth_ns, release)?;
    let shard = format!("install-{}", random_hex(3)?);
    let as_berth = start_berth(env, config, &shard, None)?;

    // The token is the ServiceAccount's, not the admin's.
    let review: Value = env.rt.block_on(async {
        let req = http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&json!({
                "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"
            }))?)?;
        Ok::<Value, anyhow::Error>(as_berth.request::<Value>(req).await?)
    })?;
    let user = format!("system:serviceaccount:{berth_ns}:{release}");
    ensure!(
        review["status"]["userInfo"]["username"] == user.as_str(),
        "berth runs as {}",
        review["status"]["userInfo"]
    );

    let url = push_app(env, &home)?;
    let ns = create_namespace(env, "install-rbac")?;
    release_cycle(env, &ns, &shard, &url, "app", None)?;

    // serviceAccountName: berth impersonates the tenant's account.
    let cp = env.cluster()?;
    cp.kubectl_output(&["create", "serviceaccount", "tenant", "-n", &ns])?;
    cp.kubectl_output(&[
        "create",
        "rolebinding",
        "tenant-admin",
        "-n",
        &ns,
        "--clusterrole=admin",
        &format!("--serviceaccount={ns}:tenant"),
    ])?;
    release_cycle(env, &ns, &shard, &url, "tenant-app", Some("tenant"))?;
    cp.kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}

/// The lockdown install (`rbac.applyAll=false`, `--default-service-account
/// berth-tenant` as config/lockdown): berth's own account may not create
/// the chart's objects, a HelmRelease in a namespace whose `berth-tenant`
/// has no rights is refused with Forbidden and nothing is created, and
/// one where `berth-tenant` is the namespace's admin is applied, Ready,
/// and uninstalled.
fn lockdown(env: &Env) -> Result<()> {
    let home = ClientHome::new(env, "install-lockdown")?;
    let berth_ns = format!("berth-lock-{}", random_hex(3)?);
    let release = "berth-lock";
    helm_install(
        env,
        &home,
        release,
        &berth_ns,
        &["rbac.applyAll=false", "defaultServiceAccount=berth-tenant"],
    )?;
    let cp = env.cluster()?;
    let bindings = cp.kubectl_output(&["get", "clusterrolebinding", "-o", "name"])?;
    ensure!(
        !bindings.contains(&format!("{release}-apply")),
        "the lockdown install binds cluster-admin"
    );
    let config = service_account_config(env, &berth_ns, release)?;
    let shard = format!("install-{}", random_hex(3)?);
    let as_berth = start_berth(env, config, &shard, Some("berth-tenant"))?;

    let url = push_app(env, &home)?;
    let refused_ns = create_namespace(env, "install-lock-refused")?;
    // berth itself cannot create a ConfigMap there.
    let cms: Api<ConfigMap> = Api::namespaced(as_berth, &refused_ns);
    let probe: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "probe"}}))?;
    match env.rt.block_on(cms.create(&PostParams::default(), &probe)) {
        Err(kube::Error::Api(s)) if s.code == 403 => {}
        other => bail!("berth's own account created a ConfigMap in lockdown: {other:?}"),
    }
    apply_release(env, &refused_ns, &shard, &url, "app", None)?;
    let hr = wait_hr(env, &refused_ns, "app", "refused", |hr| {
        hr.status.as_ref().is_some_and(|s| {
            condition(&s.conditions, "Ready").is_some_and(|c| {
                c.status == "False" && c.message.to_lowercase().contains("forbidden")
            })
        })
    })?;
    let ready = hr
        .status
        .as_ref()
        .and_then(|s| condition(&s.conditions, "Ready"))
        .context("no Ready")?;
    ensure!(
        ready
            .message
            .contains(&format!("system:serviceaccount:{refused_ns}:berth-tenant")),
        "the refusal names the tenant account: {}",
        ready.message
    );
    ensure!(
        !config_map_exists(env, &refused_ns, "app-settings")?,
        "a refused release created its ConfigMap"
    );

    let ns = create_namespace(env, "install-lock")?;
    cp.kubectl_output(&["create", "serviceaccount", "berth-tenant", "-n", &ns])?;
    cp.kubectl_output(&[
        "create",
        "rolebinding",
        "berth-tenant-admin",
        "-n",
        &ns,
        "--clusterrole=admin",
        &format!("--serviceaccount={ns}:berth-tenant"),
    ])?;
    release_cycle(env, &ns, &shard, &url, "app", None)?;
    cp.kubectl_output(&["delete", "namespace", &ns, "--wait=false"])?;
    Ok(())
}
