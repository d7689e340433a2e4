//! Smoke tests of the control plane itself: the version it reports, a
//! Deployment rolling out on the kwok node through the real scheduler and
//! controller-manager, and berth's CRDs (`crds/*.yaml`) served and
//! validated by the real API server.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use serde_json::{json, Value};

use crate::env::control_plane::{ControlPlane, FAKE_NODE, KUBERNETES_VERSION};
use crate::env::Env;
use crate::Test;

pub fn tests() -> Vec<Test> {
    vec![
        Test {
            name: "cluster::version_and_node",
            run: version_and_node,
        },
        Test {
            name: "cluster::deployment_rolls_out_on_kwok_node",
            run: deployment_rolls_out_on_kwok_node,
        },
        Test {
            name: "cluster::berth_crds",
            run: berth_crds,
        },
    ]
}

/// Discovery and kubectl report the pinned version; the fake node is Ready.
fn version_and_node(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let info = env.rt.block_on(client.apiserver_version())?;
    ensure!(
        info.git_version == KUBERNETES_VERSION && info.major == "1" && info.minor == "37",
        "the API server reports {} (major {:?}, minor {:?}), want {KUBERNETES_VERSION}",
        info.git_version,
        info.major,
        info.minor
    );

    let out: Value = serde_json::from_str(&cp.kubectl_output(&["version", "-o", "json"])?)
        .context("kubectl version printed invalid JSON")?;
    for side in ["clientVersion", "serverVersion"] {
        ensure!(
            out[side]["gitVersion"] == KUBERNETES_VERSION,
            "kubectl version: {side} is {}, want {KUBERNETES_VERSION}",
            out[side]["gitVersion"]
        );
    }

    let ready = cp.kubectl_output(&[
        "get",
        "node",
        FAKE_NODE,
        "-o",
        "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
    ])?;
    ensure!(ready == "True", "node {FAKE_NODE} Ready is {ready:?}");
    Ok(())
}

/// A Deployment is scheduled onto the kwok node, becomes Available, rolls
/// out a new image, and the old Pod is deleted (kwok's delete stage).
fn deployment_rolls_out_on_kwok_node(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "smoke-deployment";
    create_namespace(env, &client, ns)?;

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "berth-e2e/web:1.0"}]},
            },
        },
    }))?;
    env.rt
        .block_on(deployments.create(&PostParams::default(), &deployment))
        .context("failed to create deployment web")?;
    wait_rolled_out(env, &deployments, &pods, "web", "berth-e2e/web:1.0")
        .map_err(|e| with_logs(e, cp))?;

    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "berth-e2e/web:2.0"}
    ]}}}});
    env.rt
        .block_on(deployments.patch("web", &PatchParams::default(), &Patch::Strategic(&patch)))
        .context("failed to patch deployment web")?;
    wait_rolled_out(env, &deployments, &pods, "web", "berth-e2e/web:2.0")
        .map_err(|e| with_logs(e, cp))?;

    env.rt
        .block_on(client_delete_namespace(&client, ns))
        .context("failed to delete the namespace")?;
    Ok(())
}

/// `e` followed by the control plane's recent logs, which usually say why
/// a controller did not act.
fn with_logs(e: anyhow::Error, cp: &ControlPlane) -> anyhow::Error {
    anyhow::anyhow!("{e:#}\ncontrol-plane logs:\n{}", cp.log_tails(10))
}

/// Wait until `name` is fully rolled out at `image`, kstatus-style: the
/// controller saw the latest generation, every replica is updated and
/// available, `Available` is True, and exactly one Pod (Running, Ready, on
/// the kwok node) is left.
fn wait_rolled_out(
    env: &Env,
    deployments: &Api<Deployment>,
    pods: &Api<Pod>,
    name: &str,
    image: &str,
) -> Result<()> {
    let mut last = String::new();
    poll(Duration::from_secs(90), || {
        let d = env.rt.block_on(deployments.get(name))?;
        let listed = env
            .rt
            .block_on(pods.list(&ListParams::default().labels("app=web")))?;
        let generation = d.metadata.generation.unwrap_or(0);
        let status = d.status.clone().unwrap_or_default();
        let available = status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True"));
        let pod_states: Vec<String> = listed.items.iter().map(describe_pod).collect();
        last = format!(
            "generation {generation}, observed {:?}, updated {:?}, available {:?}, Available={available}, pods: [{}]",
            status.observed_generation,
            status.updated_replicas,
            status.available_replicas,
            pod_states.join("; ")
        );
        let pod_ok = listed.items.len() == 1
            && listed.items.iter().all(|p| {
                let spec = p.spec.as_ref();
                let st = p.status.as_ref();
                spec.and_then(|s| s.node_name.as_deref()) == Some(FAKE_NODE)
                    && spec.is_some_and(|s| s.containers.iter().all(|c| c.image.as_deref() == Some(image)))
                    && st.and_then(|s| s.phase.as_deref()) == Some("Running")
                    && st
                        .and_then(|s| s.conditions.as_ref())
                        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
                    && p.metadata.deletion_timestamp.is_none()
            });
        Ok(status.observed_generation == Some(generation)
            && status.updated_replicas == Some(1)
            && status.available_replicas == Some(1)
            && status.replicas == Some(1)
            && available
            && pod_ok)
    })
    .with_context(|| format!("deployment {name} did not roll out {image}; last seen: {last}"))
}

fn describe_pod(p: &Pod) -> String {
    let st = p.status.as_ref();
    format!(
        "{} image={:?} node={:?} phase={:?} ready={:?} deleting={}",
        p.metadata.name.as_deref().unwrap_or("?"),
        p.spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .and_then(|c| c.image.as_deref()),
        p.spec.as_ref().and_then(|s| s.node_name.as_deref()),
        st.and_then(|s| s.phase.as_deref()),
        st.and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.status.as_str()),
        p.metadata.deletion_timestamp.is_some()
    )
}

/// berth's CRDs: applied with server-side apply, Established, sample objects
/// stored as sent (and readable as berth's Rust types), invalid ones
/// refused by the API server's schema validation.
fn berth_crds(env: &Env) -> Result<()> {
    let files = crd_files()?;
    if files.is_empty() {
        println!("    note: crds/ has no *.yaml files yet; the CRD checks did not run");
        return Ok(());
    }
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let crd_api: Api<CustomResourceDefinition> = Api::all(client.clone());

    let mut crds = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("failed to read {}", file.display()))?;
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .with_context(|| format!("failed to parse {}", file.display()))?;
        for doc in docs.into_iter().filter(|d| !d.is_null()) {
            let crd: CustomResourceDefinition = serde_json::from_value(doc)
                .with_context(|| format!("{} holds something that is not a CRD", file.display()))?;
            let name = crd.metadata.name.clone().context("a CRD without a name")?;
            env.rt
                .block_on(crd_api.patch(
                    &name,
                    &PatchParams::apply("berth-e2e").force(),
                    &Patch::Apply(&crd),
                ))
                .with_context(|| format!("failed to apply CRD {name} from {}", file.display()))?;
            crds.push(crd);
        }
    }
    for crd in &crds {
        let name = crd.metadata.name.as_deref().unwrap_or_default();
        poll(Duration::from_secs(30), || {
            let got = env.rt.block_on(crd_api.get(name))?;
            let conditions = got.status.and_then(|s| s.conditions).unwrap_or_default();
            let is_true = |t: &str| {
                conditions
                    .iter()
                    .any(|c| c.type_ == t && c.status == "True")
            };
            Ok(is_true("Established") && is_true("NamesAccepted"))
        })
        .with_context(|| format!("CRD {name} did not become Established"))?;
    }

    let resource = |kind: &str| -> Result<ApiResource> {
        let crd = crds
            .iter()
            .find(|c| c.spec.group == "berth.dev" && c.spec.names.kind == kind)
            .with_context(|| format!("crds/ has no berth.dev CRD of kind {kind}"))?;
        let version = crd
            .spec
            .versions
            .iter()
            .find(|v| v.name == "v1alpha1" && v.served)
            .with_context(|| format!("CRD {kind} does not serve v1alpha1"))?;
        let gvk = GroupVersionKind::gvk("berth.dev", &version.name, kind);
        Ok(ApiResource::from_gvk_with_plural(
            &gvk,
            &crd.spec.names.plural,
        ))
    };
    let oci_resource = resource("OCIRepository")?;
    let release_resource = resource("HelmRelease")?;

    let ns = "smoke-crds";
    create_namespace(env, &client, ns)?;
    let repos: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &oci_resource);
    let releases: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &release_resource);

    let repo = create_from_yaml(
        env,
        &repos,
        r#"
apiVersion: berth.dev/v1alpha1
kind: OCIRepository
metadata:
  name: podinfo
spec:
  url: oci://127.0.0.1:5000/charts/podinfo
  ref:
    semver: ">=6.0.0 <7.0.0"
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  interval: 5m
  timeout: 60s
"#,
    )?;
    let repo_typed: berth::api::OCIRepository = serde_json::from_value(repo.clone())
        .context("the stored OCIRepository does not deserialize into berth::api::OCIRepository")?;
    ensure!(
        repo_typed.spec.url == "oci://127.0.0.1:5000/charts/podinfo",
        "typed url is {}",
        repo_typed.spec.url
    );

    create_from_yaml(
        env,
        &releases,
        r#"
apiVersion: berth.dev/v1alpha1
kind: HelmRelease
metadata:
  name: podinfo
spec:
  chartRef:
    kind: OCIRepository
    name: podinfo
  releaseName: podinfo
  targetNamespace: apps
  interval: 10m
  values:
    replicaCount: 2
    image:
      tag: "6.5.0"
    list: [1, "two", true, null, 2.5]
    empty: {}
"#,
    )
    .and_then(|stored| {
        serde_json::from_value::<berth::api::HelmRelease>(stored)
            .context("the stored HelmRelease does not deserialize into berth::api::HelmRelease")
    })?;

    // Each must be refused by the schema (422 Invalid) naming the field.
    let invalid: [(&Api<DynamicObject>, &str, &str); 4] = [
        (
            &repos,
            "spec.url",
            r#"{"apiVersion":"berth.dev/v1alpha1","kind":"OCIRepository","metadata":{"name":"bad-url"},
               "spec":{"url":"https://127.0.0.1:5000/charts/podinfo","interval":"5m"}}"#,
        ),
        (
            &repos,
            "spec.layerSelector.operation",
            r#"{"apiVersion":"berth.dev/v1alpha1","kind":"OCIRepository","metadata":{"name":"bad-operation"},
               "spec":{"url":"oci://127.0.0.1:5000/charts/podinfo","interval":"5m",
                       "layerSelector":{"operation":"explode"}}}"#,
        ),
        (
            &repos,
            "spec.interval",
            r#"{"apiVersion":"berth.dev/v1alpha1","kind":"OCIRepository","metadata":{"name":"bad-interval"},
               "spec":{"url":"oci://127.0.0.1:5000/charts/podinfo","interval":"5 minutes"}}"#,
        ),
        (
            &releases,
            "spec.chartRef.kind",
            r#"{"apiVersion":"berth.dev/v1alpha1","kind":"HelmRelease","metadata":{"name":"bad-kind"},
               "spec":{"chartRef":{"kind":"GitRepository","name":"podinfo"},"interval":"10m"}}"#,
        ),
    ];
    for (api, field, text) in invalid {
        let obj: DynamicObject = serde_json::from_str(text)?;
        let name = obj.metadata.name.clone().unwrap_or_default();
        match env.rt.block_on(api.create(&PostParams::default(), &obj)) {
            Ok(_) => bail!("the API server accepted {name}, which has an invalid {field}"),
            Err(kube::Error::Api(status)) => ensure!(
                status.code == 422 && status.message.contains(field),
                "{name}: want 422 Invalid naming {field}, got {} {}: {}",
                status.code,
                status.reason,
                status.message
            ),
            Err(e) => return Err(e).with_context(|| format!("failed to send {name}")),
        }
    }

    env.rt
        .block_on(client_delete_namespace(&client, ns))
        .context("failed to delete the namespace")?;
    Ok(())
}

/// `crds/*.yaml` of the repository, sorted.
fn crd_files() -> Result<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(&dir).with_context(|| format!("failed to list {}", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Create the object `yaml` describes, read it back, and check that every
/// field sent is stored unchanged (the server may add defaults). Returns
/// the stored object as JSON.
fn create_from_yaml(env: &Env, api: &Api<DynamicObject>, yaml: &str) -> Result<Value> {
    let sent: Value = serde_saphyr::from_str(yaml).context("invalid sample YAML")?;
    let obj: DynamicObject = serde_json::from_value(sent.clone())?;
    let name = obj.metadata.name.clone().unwrap_or_default();
    let kind = sent["kind"].as_str().unwrap_or("object").to_string();
    env.rt
        .block_on(api.create(&PostParams::default(), &obj))
        .with_context(|| format!("failed to create {kind} {name}"))?;
    let stored = serde_json::to_value(env.rt.block_on(api.get(&name))?)?;
    let mut differences = Vec::new();
    json_subset(&sent["spec"], &stored["spec"], "spec", &mut differences);
    ensure!(
        differences.is_empty(),
        "{kind} {name} was not stored as sent:\n  {}\nstored: {stored}",
        differences.join("\n  ")
    );
    Ok(stored)
}

/// Record every place where `want` is not contained in `got`.
fn json_subset(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (key, value) in w {
                match g.get(key) {
                    Some(found) => json_subset(value, found, &format!("{path}.{key}"), out),
                    None => out.push(format!("{path}.{key}: missing")),
                }
            }
        }
        (Value::Number(w), Value::Number(g)) if w.as_f64() == g.as_f64() => {}
        _ if want == got => {}
        _ => out.push(format!("{path}: sent {want}, stored {got}")),
    }
}

fn create_namespace(env: &Env, client: &kube::Client, name: &str) -> Result<()> {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}}))?;
    env.rt
        .block_on(Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns))
        .with_context(|| format!("failed to create namespace {name}"))?;
    Ok(())
}

async fn client_delete_namespace(client: &kube::Client, name: &str) -> kube::Result<()> {
    Api::<Namespace>::all(client.clone())
        .delete(name, &DeleteParams::default())
        .await
        .map(|_| ())
}

/// Call `ready` every 250 ms until it returns true; errors from it are
/// retried (the API may be briefly unavailable) and the last is reported.
fn poll(timeout: Duration, mut ready: impl FnMut() -> Result<bool>) -> Result<()> {
    let start = Instant::now();
    let mut last_error = None;
    loop {
        match ready() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last_error = Some(e),
        }
        if start.elapsed() > timeout {
            return match last_error {
                Some(e) => Err(e.context(format!("timed out after {timeout:?}"))),
                None => bail!("timed out after {timeout:?}"),
            };
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
