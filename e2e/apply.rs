//! The apply layer (`berth::apply`) on the real control plane: discovery
//! into `.Capabilities`, server-side apply of a rendered corpus chart with
//! Helm's ownership metadata, re-apply with changed values, prune (only
//! what the release owns, `helm.sh/resource-policy: keep` honoured), a
//! chart with a CRD and a resource of it, an unknown kind, and health
//! (kstatus) timing out with the reason.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use berth::api::helm_release::{CrdsPolicy, ResourceInventory, ResourceRef};
use berth::apply::discovery::Discovered;
use berth::apply::health::{wait_healthy, HealthError};
use berth::apply::inventory::{inventory_of, prune};
use berth::apply::ssa::{
    apply_all, documents_of, parse_documents, Applied, ApplyError, ApplyOptions, Document,
};
use berth_render::Capabilities;
use serde_json::Value;

use crate::env::control_plane::{exists, ControlPlane, KUBERNETES_VERSION};
use crate::env::Env;
use crate::Test;

pub fn tests() -> Vec<Test> {
    vec![
        Test {
            name: "apply::discovery_capabilities",
            run: discovery_capabilities,
        },
        Test {
            name: "apply::capabilities_match_helm",
            run: capabilities_match_helm,
        },
        Test {
            name: "apply::podinfo_install_upgrade_prune",
            run: podinfo_install_upgrade_prune,
        },
        Test {
            name: "apply::crd_and_resource_in_one_go_and_keep",
            run: crd_and_resource_in_one_go_and_keep,
        },
        Test {
            name: "apply::unknown_kind_is_refused",
            run: unknown_kind_is_refused,
        },
        Test {
            name: "apply::existing_object_is_not_adopted",
            run: existing_object_is_not_adopted,
        },
        Test {
            name: "apply::health_reports_what_is_not_ready",
            run: health_reports_what_is_not_ready,
        },
    ]
}

const PODINFO: &str = "/work/shared/charts/podinfo";

fn options(ns: &str) -> ApplyOptions {
    ApplyOptions {
        release_name: "web".to_string(),
        release_namespace: ns.to_string(),
        target_namespace: ns.to_string(),
        create_namespace: true,
        force: false,
        crd_timeout: Duration::from_secs(30),
        crds: CrdsPolicy::Create,
        take_ownership: false,
    }
}

/// Render `chart` as release `web` in `ns` with `values` (YAML) for
/// `caps`: (crds, documents).
fn render_chart(
    chart: &Path,
    ns: &str,
    values: &str,
    caps: &Capabilities,
) -> Result<(Vec<Document>, Vec<Document>)> {
    let values = berth_chart::values::parse(values)?;
    let rendered = crate::env::charts::render_with_berth(chart, "web", ns, values, caps, None)?;
    Ok(documents_of(&rendered)?)
}

fn kubectl_json(cp: &ControlPlane, args: &[&str]) -> Result<Value> {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let out = cp.kubectl_output(&all)?;
    serde_json::from_str(&out)
        .with_context(|| format!("kubectl {} printed invalid JSON", args.join(" ")))
}

/// kubectl sees Helm's ownership label and annotations, and `berth` as an
/// `Apply` field manager.
fn check_owned(cp: &ControlPlane, kind: &str, ns: &str, name: &str) -> Result<Value> {
    let obj = kubectl_json(cp, &["get", kind, "-n", ns, name, "--show-managed-fields"])?;
    let meta = &obj["metadata"];
    ensure!(
        meta["labels"]["app.kubernetes.io/managed-by"] == "Helm",
        "{kind} {ns}/{name}: managed-by label is {}",
        meta["labels"]["app.kubernetes.io/managed-by"]
    );
    ensure!(
        meta["annotations"]["meta.helm.sh/release-name"] == "web"
            && meta["annotations"]["meta.helm.sh/release-namespace"] == ns,
        "{kind} {ns}/{name}: release annotations are {}",
        meta["annotations"]
    );
    let managers: Vec<(String, String)> = meta["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["manager"].as_str().unwrap_or("").to_string(),
                m["operation"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    ensure!(
        managers.iter().any(|(m, op)| m == "berth" && op == "Apply"),
        "{kind} {ns}/{name}: field managers {managers:?} lack berth/Apply"
    );
    Ok(obj)
}

fn names(applied: &[Applied]) -> Vec<String> {
    applied.iter().map(|a| a.name.to_string()).collect()
}

/// The version set has Helm's shape: group/versions and group/version/Kind
/// (subresource kinds included), and the server's version.
fn discovery_capabilities(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let discovered = env.rt.block_on(Discovered::run(&client))?;
    let caps = discovered.capabilities();
    ensure!(
        caps.kube_version == KUBERNETES_VERSION,
        "kube version {}",
        caps.kube_version
    );
    for want in [
        "v1",
        "v1/Pod",
        "v1/Binding",
        "apps/v1",
        "apps/v1/Deployment",
        "apps/v1/Scale",
        "batch/v1/Job",
        "apiextensions.k8s.io/v1/CustomResourceDefinition",
    ] {
        ensure!(
            caps.api_versions.iter().any(|v| v == want),
            "capabilities lack {want}"
        );
    }
    // The group/versions are exactly what kubectl lists.
    let kubectl: std::collections::BTreeSet<String> = cp
        .kubectl_output(&["api-versions"])?
        .lines()
        .map(str::to_string)
        .collect();
    let ours: std::collections::BTreeSet<String> = caps
        .api_versions
        .iter()
        .filter(|v| {
            // group/version has one '/', core `v1` none; Kind entries one more.
            let slashes = v.matches('/').count();
            slashes == 0 || (slashes == 1 && !v.starts_with("v1/"))
        })
        .cloned()
        .collect();
    ensure!(
        ours == kubectl,
        "group/versions differ from kubectl api-versions: only ours {:?}, only kubectl's {:?}",
        ours.difference(&kubectl).collect::<Vec<_>>(),
        kubectl.difference(&ours).collect::<Vec<_>>()
    );
    let d = discovered
        .resolve("apps/v1", "Deployment")
        .context("apps/v1 Deployment does not resolve")?;
    ensure!(d.namespaced && d.resource.plural == "deployments");
    let c = discovered
        .resolve("rbac.authorization.k8s.io/v1", "ClusterRole")
        .context("ClusterRole does not resolve")?;
    ensure!(!c.namespaced && c.resource.plural == "clusterroles");
    ensure!(
        discovered.resolve("apps/v1", "Scale").is_none(),
        "a subresource resolves as a kind"
    );
    Ok(())
}

/// `.Capabilities` as berth renders them from discovery equal what the
/// real helm (v4.3.1, `helm template --dry-run=server`) renders from the
/// same cluster: the kube version and the version set (as sets: Helm
/// builds it from a map, so its order is random).
fn capabilities_match_helm(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let chart = env.dir.path().join("apply-caps");
    write(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
    )?;
    write(
        &chart,
        "templates/caps.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caps\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n  versions: {{ .Capabilities.APIVersions | toJson | quote }}\n",
    )?;
    let home = env.dir.path().join("apply-helm-home");
    std::fs::create_dir_all(&home)?;
    let out = env
        .tools
        .command("helm")
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .args(["template", "web", "--dry-run=server", "-n", "default"])
        .arg(&chart)
        .arg(format!("--kubeconfig={}", cp.kubeconfig.display()))
        .output()
        .context("failed to run helm")?;
    ensure!(
        out.status.success(),
        "helm template failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let helm_text = String::from_utf8(out.stdout)?;

    let discovered = env.rt.block_on(Discovered::run(&client))?;
    let caps = discovered.capabilities();
    let (_, docs) = render_chart(&chart, "default", "", &caps)?;
    let berth_doc = docs.first().context("berth rendered nothing")?;
    let helm_docs = parse_documents("helm", &helm_text)?;
    let helm_doc = helm_docs.first().context("helm rendered nothing")?;
    let field = |d: &Document, k: &str| d.object.data["data"][k].as_str().unwrap_or("").to_string();
    ensure!(
        field(berth_doc, "kube") == field(helm_doc, "kube"),
        "kube version: berth {} helm {}",
        field(berth_doc, "kube"),
        field(helm_doc, "kube")
    );
    let set = |d: &Document| -> Result<std::collections::BTreeSet<String>> {
        Ok(serde_json::from_str(&field(d, "versions"))?)
    };
    let (ours, helms) = (set(berth_doc)?, set(helm_doc)?);
    ensure!(helms.len() > 50, "helm's version set is small: {helms:?}");
    ensure!(
        ours == helms,
        "version sets differ: only berth {:?}, only helm {:?}",
        ours.difference(&helms).collect::<Vec<_>>(),
        helms.difference(&ours).collect::<Vec<_>>()
    );
    Ok(())
}

/// podinfo rendered with discovered capabilities: applied, healthy, owned;
/// re-applied with new values (updated by field manager berth); redis
/// toggled off → pruned, except an object someone else re-created under
/// the same name.
fn podinfo_install_upgrade_prune(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "apply-podinfo";
    let mut discovered = env.rt.block_on(Discovered::run(&client))?;
    let caps = discovered.capabilities();
    let opts = options(ns);

    let (crds, docs) = render_chart(Path::new(PODINFO), ns, "redis:\n  enabled: true\n", &caps)?;
    let applied = env
        .rt
        .block_on(apply_all(&client, &mut discovered, &crds, &docs, &opts))?;
    let applied_names = names(&applied);
    for want in [
        "Deployment apply-podinfo/web-podinfo",
        "Service apply-podinfo/web-podinfo",
        "Deployment apply-podinfo/web-podinfo-redis",
        "ConfigMap apply-podinfo/web-podinfo-redis",
    ] {
        ensure!(
            applied_names.iter().any(|n| n == want),
            "applied {applied_names:?}, want {want}"
        );
    }
    env.rt
        .block_on(wait_healthy(&client, &applied, Duration::from_secs(90)))
        .map_err(|e| anyhow::anyhow!("{e}\n{}", cp.log_tails(10)))?;
    let first = inventory_of(&applied);
    ensure!(
        first
            .entries
            .iter()
            .any(|e| e.id == "apply-podinfo_web-podinfo_apps_Deployment" && e.v == "v1"),
        "inventory {:?}",
        first.entries
    );
    let d = check_owned(cp, "deployment", ns, "web-podinfo")?;
    ensure!(
        d["spec"]["replicas"] == 1,
        "replicas {}",
        d["spec"]["replicas"]
    );
    check_owned(cp, "configmap", ns, "web-podinfo-redis")?;

    // Someone replaces the redis Service with their own object of the same
    // name: prune must leave it alone.
    cp.kubectl_output(&["delete", "service", "-n", ns, "web-podinfo-redis"])?;
    cp.kubectl_output(&[
        "create",
        "service",
        "clusterip",
        "-n",
        ns,
        "web-podinfo-redis",
        "--tcp=6379:6379",
    ])?;

    let (crds, docs) = render_chart(
        Path::new(PODINFO),
        ns,
        "replicaCount: 2\nredis:\n  enabled: false\n",
        &caps,
    )?;
    let applied = env
        .rt
        .block_on(apply_all(&client, &mut discovered, &crds, &docs, &opts))?;
    let second = inventory_of(&applied);
    let report = env
        .rt
        .block_on(prune(&client, &discovered, &first, &second, "web", ns))?;
    let deleted: Vec<String> = report.deleted.iter().map(|o| o.to_string()).collect();
    let not_owned: Vec<String> = report.not_owned.iter().map(|o| o.to_string()).collect();
    ensure!(
        deleted.contains(&"Deployment apply-podinfo/web-podinfo-redis".to_string())
            && deleted.contains(&"ConfigMap apply-podinfo/web-podinfo-redis".to_string()),
        "pruned {deleted:?}"
    );
    ensure!(
        not_owned == vec!["Service apply-podinfo/web-podinfo-redis".to_string()],
        "not owned {not_owned:?} (deleted {deleted:?})"
    );
    ensure!(
        !exists(cp, "configmap", ns, "web-podinfo-redis")?,
        "the redis ConfigMap survived prune"
    );
    ensure!(
        exists(cp, "service", ns, "web-podinfo-redis")?,
        "prune deleted a Service berth did not create"
    );
    ensure!(
        exists(cp, "deployment", ns, "web-podinfo")?,
        "prune deleted a kept Deployment"
    );
    let d = check_owned(cp, "deployment", ns, "web-podinfo")?;
    ensure!(
        d["spec"]["replicas"] == 2,
        "replicas after re-apply {}",
        d["spec"]["replicas"]
    );
    env.rt
        .block_on(wait_healthy(&client, &applied, Duration::from_secs(90)))
        .map_err(|e| anyhow::anyhow!("{e}\n{}", cp.log_tails(10)))?;
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}

fn write(dir: &Path, rel: &str, text: &str) -> Result<()> {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().context("no parent")?)?;
    std::fs::write(&p, text).with_context(|| format!("failed to write {}", p.display()))
}

/// A chart with a CRD in `crds/` and a resource of it in `templates/`
/// applies in one go; an object annotated `helm.sh/resource-policy: keep`
/// survives prune while its sibling is deleted.
fn crd_and_resource_in_one_go_and_keep(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "apply-crd";
    let chart = env.dir.path().join("apply-widgets");
    write(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: widgets\nversion: 0.1.0\n",
    )?;
    write(&chart, "values.yaml", "extra: true\n")?;
    write(
        &chart,
        "crds/widgets.yaml",
        r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.berth.dev
spec:
  group: e2e.berth.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
"#,
    )?;
    write(
        &chart,
        "templates/widget.yaml",
        "apiVersion: e2e.berth.dev/v1\nkind: Widget\nmetadata:\n  name: {{ .Release.Name }}-widget\nspec:\n  size: 3\n",
    )?;
    write(
        &chart,
        "templates/extra.yaml",
        r#"{{- if .Values.extra }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: kept
  annotations:
    helm.sh/resource-policy: " Keep"
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
data: {a: "1"}
{{- end }}
"#,
    )?;
    let mut discovered = env.rt.block_on(Discovered::run(&client))?;
    ensure!(
        discovered.resolve("e2e.berth.dev/v1", "Widget").is_none(),
        "Widget is served before its CRD was applied"
    );
    let caps = discovered.capabilities();
    let opts = options(ns);
    let (crds, docs) = render_chart(&chart, ns, "", &caps)?;
    let applied = env
        .rt
        .block_on(apply_all(&client, &mut discovered, &crds, &docs, &opts))?;
    let applied_names = names(&applied);
    ensure!(
        applied_names.first().map(String::as_str)
            == Some("CustomResourceDefinition widgets.e2e.berth.dev")
            && applied_names
                .iter()
                .any(|n| n == "Widget apply-crd/web-widget"),
        "applied {applied_names:?}"
    );
    env.rt
        .block_on(wait_healthy(&client, &applied, Duration::from_secs(30)))?;
    let w = check_owned(cp, "widgets.e2e.berth.dev", ns, "web-widget")?;
    ensure!(w["spec"]["size"] == 3, "widget {w}");
    let crd = kubectl_json(cp, &["get", "crd", "widgets.e2e.berth.dev"])?;
    ensure!(
        crd["metadata"]["annotations"]["meta.helm.sh/release-name"] == "web",
        "CRD annotations {}",
        crd["metadata"]["annotations"]
    );
    // Like Helm, the CRDs of crds/ are never part of what gets pruned.
    let first = inventory_of(&applied);
    let ids: Vec<&str> = first.entries.iter().map(|e| e.id.as_str()).collect();
    ensure!(
        ids == vec![
            "apply-crd_kept__ConfigMap",
            "apply-crd_plain__ConfigMap",
            "apply-crd_web-widget_e2e.berth.dev_Widget"
        ],
        "inventory {ids:?}"
    );

    // crds policy: Create leaves an existing CRD as it is, CreateReplace
    // updates it, Skip does not create a new one.
    let crd_file = chart.join("crds/widgets.yaml");
    let text = std::fs::read_to_string(&crd_file)?;
    std::fs::write(
        &crd_file,
        text.replace(
            "size: {type: integer}",
            "size: {type: integer}\n                color: {type: string}",
        ),
    )?;
    let has_color = || -> Result<bool> {
        let crd = kubectl_json(cp, &["get", "crd", "widgets.e2e.berth.dev"])?;
        Ok(
            !crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
                ["properties"]["color"]
                .is_null(),
        )
    };
    let (crds, docs) = render_chart(&chart, ns, "", &caps)?;
    env.rt
        .block_on(apply_all(&client, &mut discovered, &crds, &docs, &opts))?;
    ensure!(!has_color()?, "crds policy Create updated an existing CRD");
    let mut replace = options(ns);
    replace.crds = CrdsPolicy::CreateReplace;
    env.rt
        .block_on(apply_all(&client, &mut discovered, &crds, &docs, &replace))?;
    ensure!(
        has_color()?,
        "crds policy CreateReplace did not update the CRD"
    );
    let gizmos = parse_documents(
        "widgets/crds/gizmos.yaml",
        &text
            .replace("widgets", "gizmos")
            .replace("widget", "gizmo")
            .replace("Widget", "Gizmo"),
    )?;
    let mut skip = options(ns);
    skip.crds = CrdsPolicy::Skip;
    env.rt
        .block_on(apply_all(&client, &mut discovered, &gizmos, &docs, &skip))?;
    ensure!(
        cp.kubectl_output(&[
            "get",
            "crd",
            "gizmos.e2e.berth.dev",
            "--ignore-not-found",
            "-o",
            "name"
        ])?
        .trim()
        .is_empty(),
        "crds policy Skip created a CRD"
    );

    let (crds, docs) = render_chart(&chart, ns, "extra: false\n", &caps)?;
    let applied = env
        .rt
        .block_on(apply_all(&client, &mut discovered, &crds, &docs, &opts))?;
    let report = env.rt.block_on(prune(
        &client,
        &discovered,
        &first,
        &inventory_of(&applied),
        "web",
        ns,
    ))?;
    let deleted: Vec<String> = report.deleted.iter().map(|o| o.to_string()).collect();
    let kept: Vec<String> = report.kept.iter().map(|o| o.to_string()).collect();
    ensure!(
        deleted == vec!["ConfigMap apply-crd/plain".to_string()],
        "pruned {deleted:?}"
    );
    ensure!(
        kept == vec!["ConfigMap apply-crd/kept".to_string()],
        "kept {kept:?}"
    );
    ensure!(
        exists(cp, "configmap", ns, "kept")?,
        "the keep ConfigMap was deleted"
    );
    ensure!(
        !exists(cp, "configmap", ns, "plain")?,
        "the plain ConfigMap survived prune"
    );

    // An entry recorded at a version the server no longer serves is
    // pruned through the version it serves now.
    let recorded = ResourceInventory {
        entries: vec![ResourceRef {
            id: "apply-crd_web-widget_e2e.berth.dev_Widget".to_string(),
            v: "v1alpha1".to_string(),
        }],
    };
    let report = env.rt.block_on(prune(
        &client,
        &discovered,
        &recorded,
        &ResourceInventory::default(),
        "web",
        ns,
    ))?;
    ensure!(
        report
            .deleted
            .iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
            == vec!["Widget apply-crd/web-widget"],
        "prune of an old version: {report:?}"
    );
    ensure!(
        !exists(cp, "widgets.e2e.berth.dev", ns, "web-widget")?,
        "the Widget survived prune"
    );
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}

/// A document of a kind no CRD defines fails the apply before anything is
/// applied, naming the object, its file and the missing CRD.
fn unknown_kind_is_refused(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "apply-unknown";
    let mut discovered = env.rt.block_on(Discovered::run(&client))?;
    let mut docs = parse_documents(
        "c/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: before\n",
    )?;
    docs.extend(parse_documents(
        "c/templates/gadget.yaml",
        "apiVersion: gadgets.example.org/v1\nkind: Gadget\nmetadata:\n  name: g\n",
    )?);
    let err = match env.rt.block_on(apply_all(
        &client,
        &mut discovered,
        &[],
        &docs,
        &options(ns),
    )) {
        Ok(a) => bail!("applied {:?}", names(&a)),
        Err(e) => e,
    };
    let text = err.to_string();
    match &err {
        ApplyError::UnknownKind {
            crd_missing: true, ..
        } => {}
        other => bail!("want UnknownKind with crd_missing, got {other:?}"),
    }
    ensure!(
        text.starts_with("Gadget g (document c/templates/gadget.yaml): ")
            && text.contains("no CustomResourceDefinition defines it"),
        "error: {text}"
    );
    ensure!(
        !exists(cp, "configmap", ns, "before")?,
        "a document before the unknown kind was applied"
    );

    // A core-group kind that does not exist is named as such.
    let docs = parse_documents(
        "c/templates/x.yaml",
        "apiVersion: v1\nkind: Gizmo\nmetadata:\n  name: x\n",
    )?;
    let err = env
        .rt
        .block_on(apply_all(
            &client,
            &mut discovered,
            &[],
            &docs,
            &options(ns),
        ))
        .err()
        .context("a v1 Gizmo applied")?;
    ensure!(
        err.to_string()
            .contains("not a built-in kind of Kubernetes"),
        "error: {err}"
    );
    cp.kubectl_output(&[
        "delete",
        "namespace",
        ns,
        "--wait=false",
        "--ignore-not-found",
    ])?;
    Ok(())
}

/// An object that exists without the release's ownership metadata (made
/// with kubectl) fails the apply in Helm's words, and nothing is applied;
/// with `take_ownership` it is adopted.
fn existing_object_is_not_adopted(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "apply-adopt";
    cp.kubectl_output(&["create", "namespace", ns])?;
    cp.kubectl_output(&[
        "create",
        "configmap",
        "-n",
        ns,
        "taken",
        "--from-literal=owner=someone",
    ])?;
    let mut discovered = env.rt.block_on(Discovered::run(&client))?;
    let mut docs = parse_documents(
        "c/templates/first.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\ndata: {a: b}\n",
    )?;
    docs.extend(parse_documents(
        "c/templates/taken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: taken\ndata: {owner: web}\n",
    )?);
    let err = env
        .rt
        .block_on(apply_all(
            &client,
            &mut discovered,
            &[],
            &docs,
            &options(ns),
        ))
        .err()
        .context("an object of someone else was applied over")?;
    ensure!(
        err.to_string()
            == format!(
                "ConfigMap {ns}/taken exists and cannot be imported into the current release: invalid ownership metadata; \
                 label validation error: missing key \"app.kubernetes.io/managed-by\": must be set to \"Helm\"; \
                 annotation validation error: missing key \"meta.helm.sh/release-name\": must be set to \"web\"; \
                 annotation validation error: missing key \"meta.helm.sh/release-namespace\": must be set to \"{ns}\""
            ),
        "error: {err}"
    );
    ensure!(
        !exists(cp, "configmap", ns, "first")?,
        "an object before the conflict was applied"
    );
    let cm = kubectl_json(cp, &["get", "configmap", "-n", ns, "taken"])?;
    ensure!(
        cm["data"]["owner"] == "someone",
        "the foreign ConfigMap changed: {cm}"
    );

    // Taking ownership of the object does not take its fields: the
    // server refuses to move .data.owner from kubectl to berth unless
    // forced.
    let mut opts = options(ns);
    opts.take_ownership = true;
    let err = env
        .rt
        .block_on(apply_all(&client, &mut discovered, &[], &docs, &opts))
        .err()
        .context("a field of another manager was taken without force")?;
    ensure!(
        err.to_string()
            == format!(
                "ConfigMap {ns}/taken: failed to apply: Apply failed with 1 conflict: conflict with \"kubectl-create\" using v1: .data.owner"
            ),
        "error: {err}"
    );
    opts.force = true;
    env.rt
        .block_on(apply_all(&client, &mut discovered, &[], &docs, &opts))?;
    let cm = check_owned(cp, "configmap", ns, "taken")?;
    ensure!(cm["data"]["owner"] == "web", "the adopted ConfigMap: {cm}");
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}

/// A Deployment whose pod can never be scheduled times out naming it and
/// why; a Job that fails (deadline exceeded) fails the wait at once.
fn health_reports_what_is_not_ready(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "apply-health";
    let mut discovered = env.rt.block_on(Discovered::run(&client))?;
    let deployment = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: stuck
spec:
  replicas: 1
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec:
      nodeSelector: {berth-e2e/no-such-node: "true"}
      containers: [{name: c, image: berth-e2e/stuck:1.0}]
---
apiVersion: v1
kind: Service
metadata:
  name: stuck
spec:
  selector: {app: stuck}
  ports: [{port: 80}]
"#;
    let docs = parse_documents("c/templates/deployment.yaml", deployment)?;
    let applied = env.rt.block_on(apply_all(
        &client,
        &mut discovered,
        &[],
        &docs,
        &options(ns),
    ))?;
    match env
        .rt
        .block_on(wait_healthy(&client, &applied, Duration::from_secs(8)))
    {
        Err(e @ HealthError::Timeout { .. }) => {
            let text = e.to_string();
            ensure!(
                text.contains("Deployment apply-health/stuck: 0/1 replicas available")
                    && text.contains("Service apply-health/stuck: no ready endpoints yet"),
                "timeout: {text}"
            );
        }
        other => bail!("want a timeout, got {other:?}"),
    }

    let job = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: doomed
spec:
  activeDeadlineSeconds: 2
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {berth-e2e/no-such-node: "true"}
      containers: [{name: c, image: berth-e2e/job:1.0}]
"#;
    let docs = parse_documents("c/templates/job.yaml", job)?;
    let applied = env.rt.block_on(apply_all(
        &client,
        &mut discovered,
        &[],
        &docs,
        &options(ns),
    ))?;
    match env
        .rt
        .block_on(wait_healthy(&client, &applied, Duration::from_secs(60)))
    {
        Err(e @ HealthError::Failed { .. }) => {
            let text = e.to_string();
            ensure!(
                text.starts_with("Job apply-health/doomed: Job failed: DeadlineExceeded"),
                "failure: {text}"
            );
        }
        other => bail!("want the Job to fail, got {other:?}"),
    }
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}
