//! The inputs of a HelmRelease on the real control plane: `valuesFrom`
//! composition (`berth::controller::helm_release::values`) checked against
//! real `helm template`, `lookup` answered from the API server checked
//! against `helm template --dry-run=server`, and `serviceAccountName`
//! impersonation (a tenant can only do what its account may).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{anyhow, bail, ensure, Context, Result};
use berth::api::helm_release::{ValuesKind, ValuesReference};
use berth::apply::discovery::Discovered;
use berth::controller::helm_release::lookup::{impersonating_client, lookup_hook};
use berth::controller::helm_release::values::{compose, referenced_objects};
use berth_chart::Values;
use berth_render::Capabilities;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{json, Value as Json};

use crate::env::control_plane::ControlPlane;
use crate::env::Env;
use crate::Test;

pub fn tests() -> Vec<Test> {
    vec![
        Test {
            name: "helmrelease_inputs::values_from_documents_like_helm_f",
            run: values_from_documents_like_helm_f,
        },
        Test {
            name: "helmrelease_inputs::values_from_target_paths_like_helm_set",
            run: values_from_target_paths_like_helm_set,
        },
        Test {
            name: "helmrelease_inputs::values_from_required_missing",
            run: values_from_required_missing,
        },
        Test {
            name: "helmrelease_inputs::lookup_like_helm_dry_run_server",
            run: lookup_like_helm_dry_run_server,
        },
        Test {
            name: "helmrelease_inputs::impersonation_limits_the_tenant",
            run: impersonation_limits_the_tenant,
        },
    ]
}

const NS: &str = "hr-inputs";
const TENANT_NS: &str = "hr-tenant";

fn write(dir: &Path, rel: &str, text: &str) -> Result<PathBuf> {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().context("no parent")?)?;
    std::fs::write(&p, text).with_context(|| format!("failed to write {}", p.display()))?;
    Ok(p)
}

/// `kubectl apply` of `manifest` (YAML).
fn kubectl_apply(env: &Env, cp: &ControlPlane, name: &str, manifest: &str) -> Result<()> {
    let file = write(env.dir.path(), &format!("hr-inputs/{name}.yaml"), manifest)?;
    cp.kubectl_output(&["apply", "--server-side", "-f", &file.to_string_lossy()])?;
    Ok(())
}

/// The objects the values tests read: documents in a ConfigMap's `data`,
/// in `binaryData` under a custom key, and in a Secret; single values for
/// target paths.
fn apply_sources(env: &Env, cp: &ControlPlane) -> Result<()> {
    let base = "\
replicas: 3
ratio: 0.25
big: 12345678901
enabled: yes
port: \"8080\"
image:
  repository: app
  tag: v1
  pullPolicy: IfNotPresent
list: [1, two, 3.5, true]
nested:
  keep: kept
  replace: [a, b]
  map: {x: 1}
nothing: ~
";
    let binary = "\
image:
  tag: v2
nested:
  replace: [c]
  map: scalar-now
octal: 0755
";
    let secret = "\
image:
  repository: private/app
password: s3cr3t
extra:
  on: true
";
    let b64 = |s: &str| -> Result<String> {
        let out = Command::new("base64")
            .arg("-w0")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .ok_or_else(|| std::io::Error::other("no stdin"))?
                    .write_all(s.as_bytes())?;
                child.wait_with_output()
            })
            .context("failed to run base64")?;
        Ok(String::from_utf8(out.stdout)?)
    };
    let indent = |s: &str| -> String { s.lines().map(|l| format!("    {l}\n")).collect() };
    let manifest = format!(
        "apiVersion: v1
kind: Namespace
metadata:
  name: {NS}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: base
  namespace: {NS}
data:
  values.yaml: |
{base}---
apiVersion: v1
kind: ConfigMap
metadata:
  name: bin
  namespace: {NS}
binaryData:
  custom.yaml: {bin}
---
apiVersion: v1
kind: Secret
metadata:
  name: sec
  namespace: {NS}
data:
  values.yaml: {sec}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: paths
  namespace: {NS}
data:
  int: \"42\"
  bool: \"false\"
  float: \"1.5\"
  leading-zero: \"0755\"
  list: \"{{p,q}}\"
  text: hello world
  single: \"'8080'\"
  double: '\"true\"'
---
apiVersion: v1
kind: Secret
metadata:
  name: path-secret
  namespace: {NS}
stringData:
  token: abc-123
",
        base = indent(base),
        bin = b64(binary)?,
        sec = b64(secret)?,
    );
    kubectl_apply(env, cp, "sources", &manifest)?;
    // The same documents as files, for helm -f.
    write(env.dir.path(), "hr-inputs/base.yaml", base)?;
    write(env.dir.path(), "hr-inputs/binary.yaml", binary)?;
    write(env.dir.path(), "hr-inputs/secret.yaml", secret)?;
    Ok(())
}

/// A chart that prints its final values and has defaults of its own.
fn values_chart(env: &Env) -> Result<PathBuf> {
    let chart = env.dir.path().join("hr-inputs/values-chart");
    write(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: show\nversion: 0.1.0\n",
    )?;
    write(
        &chart,
        "values.yaml",
        "replicas: 1\nimage:\n  repository: default\n  tag: latest\nnested:\n  map: {y: 2}\ndefaultOnly: d\n",
    )?;
    write(
        &chart,
        "templates/values.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: values\ndata:\n  values.yaml: |\n{{ toYaml .Values | indent 4 }}\n",
    )?;
    Ok(chart)
}

/// berth's render of `chart` as release `web` in `ns`.
fn berth_render(
    chart: &Path,
    ns: &str,
    values: Values,
    caps: &Capabilities,
    lookup: Option<berth_template::engine::LookupHook>,
    env: &Env,
) -> Result<String> {
    let chart = chart.to_path_buf();
    let caps = caps.clone();
    let ns = ns.to_string();
    // As the controller does: the renderer is sync, `lookup` blocks on the
    // runtime, so it runs on a blocking thread.
    let rendered = env
        .rt
        .block_on(env.rt.spawn_blocking(move || {
            crate::env::charts::render_with_berth(&chart, "web", &ns, values, &caps, lookup)
        }))
        .context("the render thread failed")??;
    Ok(rendered
        .manifests
        .iter()
        .map(|m| m.content.clone())
        .collect::<Vec<_>>()
        .join("\n---\n"))
}

/// Real `helm template web <chart> -n <ns> <args>`; stdout.
fn helm_template(env: &Env, chart: &Path, ns: &str, args: &[String]) -> Result<String> {
    let home = env.dir.path().join("hr-inputs-helm-home");
    std::fs::create_dir_all(&home)?;
    let out = env
        .tools
        .command("helm")
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .args(["template", "web", "-n", ns])
        .arg(chart)
        .args(args)
        .output()
        .context("failed to run helm")?;
    ensure!(
        out.status.success(),
        "helm template {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// `data[key]` of the first ConfigMap in a rendered stream.
fn data_field(text: &str, key: &str) -> Result<String> {
    for doc in text.split("\n---") {
        let doc: String = doc
            .lines()
            .filter(|l| !l.starts_with("# Source:"))
            .collect::<Vec<_>>()
            .join("\n");
        if doc.trim().is_empty() {
            continue;
        }
        let v: Json = serde_saphyr::from_str(&doc)
            .with_context(|| format!("rendered document is not YAML:\n{doc}"))?;
        if let Some(s) = v["data"][key].as_str() {
            return Ok(s.to_string());
        }
    }
    bail!("no ConfigMap with data.{key} in:\n{text}")
}

fn reference(
    kind: ValuesKind,
    name: &str,
    key: Option<&str>,
    path: Option<&str>,
    optional: bool,
) -> ValuesReference {
    ValuesReference {
        kind,
        name: name.to_string(),
        values_key: key.map(str::to_string),
        target_path: path.map(str::to_string),
        optional,
    }
}

fn ensure_same(what: &str, berth: &str, helm: &str) -> Result<()> {
    ensure!(
        berth == helm,
        "{what}: berth and helm differ\n--- berth\n{berth}\n--- helm\n{helm}"
    );
    Ok(())
}

/// ConfigMap data, binaryData under a custom key and Secret documents,
/// optional references to a missing object and a missing key, and inline
/// values over all: the composed values render exactly as real helm
/// renders the same documents given with `-f` in the same order, and as
/// helm renders the composed values themselves given with `-f`.
fn values_from_documents_like_helm_f(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    apply_sources(env, cp)?;
    let chart = values_chart(env)?;
    let refs = vec![
        reference(ValuesKind::ConfigMap, "base", None, None, false),
        reference(ValuesKind::Secret, "absent", None, None, true),
        reference(
            ValuesKind::ConfigMap,
            "bin",
            Some("custom.yaml"),
            None,
            false,
        ),
        reference(
            ValuesKind::ConfigMap,
            "base",
            Some("absent.yaml"),
            None,
            true,
        ),
        reference(ValuesKind::Secret, "sec", None, None, false),
    ];
    let inline = json!({"replicas": 5, "image": {"tag": "inline"}, "inlineOnly": {"n": 1.5}});
    let composed = env
        .rt
        .block_on(compose(&client, NS, &refs, Some(&inline)))?;

    // Spot checks of the Flux rules (the helm comparison below checks the rest).
    let c = Json::Object(composed.clone());
    ensure!(c["replicas"] == json!(5.0), "inline wins: {c}");
    ensure!(
        c["image"]
            == json!({"repository": "private/app", "tag": "inline", "pullPolicy": "IfNotPresent"}),
        "image merged over three sources: {}",
        c["image"]
    );
    ensure!(
        c["nested"] == json!({"keep": "kept", "replace": ["c"], "map": "scalar-now"}),
        "nested: {}",
        c["nested"]
    );

    let caps = Capabilities::default();
    let berth = data_field(
        &berth_render(&chart, NS, composed.clone(), &caps, None, env)?,
        "values.yaml",
    )?;

    let inline_file = write(
        env.dir.path(),
        "hr-inputs/inline.yaml",
        &serde_json::to_string(&inline)?,
    )?;
    let dir = env.dir.path().join("hr-inputs");
    let mut args = Vec::new();
    for f in ["base.yaml", "binary.yaml", "secret.yaml"] {
        args.push("-f".to_string());
        args.push(dir.join(f).to_string_lossy().into_owned());
    }
    args.push("-f".to_string());
    args.push(inline_file.to_string_lossy().into_owned());
    let helm_sources = data_field(&helm_template(env, &chart, NS, &args)?, "values.yaml")?;
    ensure_same("values from the sources with -f", &berth, &helm_sources)?;

    // The composed values themselves (JSON is YAML) through helm -f.
    let composed_file = write(
        env.dir.path(),
        "hr-inputs/composed.yaml",
        &serde_json::to_string(&composed)?,
    )?;
    let helm_composed = data_field(
        &helm_template(
            env,
            &chart,
            NS,
            &[
                "-f".to_string(),
                composed_file.to_string_lossy().into_owned(),
            ],
        )?,
        "values.yaml",
    )?;
    ensure_same("composed values with -f", &berth, &helm_composed)?;

    ensure!(
        referenced_objects(NS, &refs)
            == vec![
                (ValuesKind::ConfigMap, NS.to_string(), "base".to_string()),
                (ValuesKind::Secret, NS.to_string(), "absent".to_string()),
                (ValuesKind::ConfigMap, NS.to_string(), "bin".to_string()),
                (ValuesKind::Secret, NS.to_string(), "sec".to_string()),
            ],
        "referenced objects: {:?}",
        referenced_objects(NS, &refs)
    );
    Ok(())
}

/// `targetPath` references (typed as `--set` types, a quoted value as
/// `--set-string`, `a.b[0].c` paths, a list, a Secret key) render exactly
/// as real helm renders the same `--set`/`--set-string` flags.
fn values_from_target_paths_like_helm_set(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    apply_sources(env, cp)?;
    let chart = values_chart(env)?;
    // (key, path, helm flag, helm value): typed values first, then the
    // quoted ones, because helm applies every --set before --set-string.
    let cases = [
        ("int", "a.b[0].c", "--set", "42"),
        ("bool", "a.b[0].d", "--set", "false"),
        ("float", "ratio", "--set", "1.5"),
        ("leading-zero", "mode", "--set", "0755"),
        ("list", "image.pullSecrets", "--set", "{p,q}"),
        ("text", "greeting", "--set", "hello world"),
        ("int", "replicas", "--set", "42"),
        ("single", "service.port", "--set-string", "8080"),
        ("double", "flags.enabled", "--set-string", "true"),
    ];
    let mut refs: Vec<ValuesReference> = cases
        .iter()
        .map(|(key, path, _, _)| {
            reference(ValuesKind::ConfigMap, "paths", Some(key), Some(path), false)
        })
        .collect();
    refs.push(reference(
        ValuesKind::Secret,
        "path-secret",
        Some("token"),
        Some("auth.token"),
        false,
    ));
    let composed = env.rt.block_on(compose(&client, NS, &refs, None))?;
    let c = Json::Object(composed.clone());
    ensure!(
        c["a"] == json!({"b": [{"c": 42, "d": false}]}) && c["service"]["port"] == json!("8080"),
        "composed: {c}"
    );

    let berth = data_field(
        &berth_render(&chart, NS, composed, &Capabilities::default(), None, env)?,
        "values.yaml",
    )?;
    let mut args = Vec::new();
    for (_, path, flag, value) in cases {
        args.push(flag.to_string());
        args.push(format!("{path}={value}"));
    }
    args.push("--set".to_string());
    args.push("auth.token=abc-123".to_string());
    let helm = data_field(&helm_template(env, &chart, NS, &args)?, "values.yaml")?;
    ensure_same("target paths vs --set", &berth, &helm)
}

/// A required reference to a missing object or key fails naming it, with
/// the condition reason; a bad target path is InvalidValues.
fn values_from_required_missing(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    apply_sources(env, cp)?;
    let cases = [
        (
            reference(ValuesKind::ConfigMap, "absent", None, None, false),
            "ValuesFromNotFound",
            format!("ConfigMap {NS}/absent not found"),
        ),
        (
            reference(ValuesKind::Secret, "sec", Some("other.yaml"), None, false),
            "ValuesFromNotFound",
            format!("Secret {NS}/sec: key other.yaml not found"),
        ),
        (
            reference(
                ValuesKind::ConfigMap,
                "paths",
                Some("text"),
                Some("a[x]"),
                false,
            ),
            "InvalidValues",
            format!("ConfigMap {NS}/paths: key text cannot be set at target path \"a[x]\""),
        ),
    ];
    for (r, reason, text) in cases {
        let refs = [
            reference(ValuesKind::ConfigMap, "base", None, None, false),
            r,
        ];
        match env.rt.block_on(compose(&client, NS, &refs, None)) {
            Ok(v) => bail!("composed {v:?}, want the error {text}"),
            Err(e) => {
                ensure!(
                    e.reason() == reason,
                    "{e}: reason {}, want {reason}",
                    e.reason()
                );
                ensure!(e.to_string().starts_with(&text), "error {e:?}, want {text}");
            }
        }
    }
    Ok(())
}

/// The templates `lookup` tests render; `NS` is substituted.
const LOOKUP_TEMPLATE: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: lookups
data:
  one: {{ lookup "v1" "ConfigMap" "NS" "lk" | toJson | quote }}
  value: {{ (lookup "v1" "ConfigMap" "NS" "lk").data.greeting | quote }}
  missing: {{ lookup "v1" "ConfigMap" "NS" "absent" | toJson | quote }}
  missingType: {{ printf "%T" (lookup "v1" "ConfigMap" "NS" "absent") | quote }}
  listKeys: {{ keys (lookup "v1" "ConfigMap" "NS" "") | sortAlpha | toJson | quote }}
  listHead: {{ pick (lookup "v1" "ConfigMap" "NS" "") "apiVersion" "kind" | toJson | quote }}
  listItems: {{ (lookup "v1" "ConfigMap" "NS" "").items | toJson | quote }}
  allNamespaces: {{ range (lookup "v1" "ConfigMap" "" "").items }}{{ if eq .metadata.name "lk" }}{{ .metadata.namespace }} {{ end }}{{ end }}
  namespace: {{ lookup "v1" "Namespace" "ignored-for-cluster-scoped" "NS" | toJson | quote }}
  deployment: {{ lookup "apps/v1" "Deployment" "NS" "none" | toJson | quote }}
"#;

/// `lookup` of a live ConfigMap, a missing one, lists (namespaced and all
/// namespaces) and a cluster-scoped Namespace, rendered by berth through
/// the render engine on a blocking thread, equals real helm's
/// `helm template --dry-run=server` on the same cluster; an unknown kind
/// fails the render.
fn lookup_like_helm_dry_run_server(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    apply_sources(env, cp)?;
    kubectl_apply(
        env,
        cp,
        "lookup",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lk\n  namespace: {NS}\n  labels: {{app: lk}}\ndata:\n  greeting: hello\n  count: \"3\"\n"
        ),
    )?;
    let chart = env.dir.path().join("hr-inputs/lookup-chart");
    write(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: lookups\nversion: 0.1.0\n",
    )?;
    write(
        &chart,
        "templates/lookups.yaml",
        &LOOKUP_TEMPLATE.replace("NS", NS),
    )?;

    let discovered = Arc::new(env.rt.block_on(Discovered::run(&client))?);
    let caps = discovered.capabilities();
    let hook = lookup_hook(client.clone(), discovered.clone(), env.rt.handle().clone());
    let berth = berth_render(&chart, NS, Values::new(), &caps, Some(hook), env)?;
    let helm = helm_template(
        env,
        &chart,
        NS,
        &[
            "--dry-run=server".to_string(),
            format!("--kubeconfig={}", cp.kubeconfig.display()),
        ],
    )?;
    for key in [
        "one",
        "value",
        "missing",
        "missingType",
        "listKeys",
        "listHead",
        "listItems",
        "allNamespaces",
        "namespace",
        "deployment",
    ] {
        ensure_same(
            &format!("lookup {key}"),
            &data_field(&berth, key)?,
            &data_field(&helm, key)?,
        )?;
    }
    // Not equal by being empty on both sides.
    ensure!(
        data_field(&berth, "value")? == "hello",
        "lookup value: {}",
        data_field(&berth, "value")?
    );
    ensure!(
        data_field(&berth, "missing")? == "{}",
        "missing: {}",
        data_field(&berth, "missing")?
    );
    ensure!(
        data_field(&berth, "allNamespaces")?.trim() == NS,
        "all namespaces"
    );
    let listed: Json = serde_json::from_str(&data_field(&berth, "listItems")?)?;
    ensure!(
        listed.as_array().is_some_and(|items| items
            .iter()
            .any(|i| i["metadata"]["name"] == "lk" && i["kind"] == "ConfigMap")),
        "list items: {listed}"
    );
    let namespace: Json = serde_json::from_str(&data_field(&berth, "namespace")?)?;
    ensure!(
        namespace["metadata"]["name"] == NS,
        "namespace: {namespace}"
    );

    // An unknown kind fails the render with a Helm-like message.
    let bad = env.dir.path().join("hr-inputs/lookup-bad");
    write(
        &bad,
        "Chart.yaml",
        "apiVersion: v2\nname: bad\nversion: 0.1.0\n",
    )?;
    write(
        &bad,
        "templates/bad.yaml",
        "{{ lookup \"example.com/v1\" \"Nope\" \"\" \"x\" }}\n",
    )?;
    let hook = lookup_hook(client.clone(), discovered, env.rt.handle().clone());
    match berth_render(&bad, NS, Values::new(), &caps, Some(hook), env) {
        Ok(out) => bail!("a lookup of an unknown kind rendered: {out}"),
        Err(e) => {
            let msg = format!("{e:#}");
            ensure!(
                msg.contains(
                    "unable to get apiresource from unstructured: example.com/v1, Kind=Nope"
                ),
                "unknown kind: {msg}"
            );
        }
    }
    Ok(())
}

/// A ServiceAccount allowed only ConfigMaps in its namespace: through
/// `impersonating_client` it creates a ConfigMap there, is Forbidden a
/// ClusterRoleBinding, and its `lookup` of a Secret in another namespace
/// fails the render with the API server's "forbidden".
fn impersonation_limits_the_tenant(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let admin = cp.client(&env.rt)?;
    apply_sources(env, cp)?;
    kubectl_apply(
        env,
        cp,
        "tenant",
        &format!(
            "apiVersion: v1
kind: Namespace
metadata:
  name: {TENANT_NS}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: tenant
  namespace: {TENANT_NS}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: configmaps
  namespace: {TENANT_NS}
rules:
- apiGroups: [\"\"]
  resources: [configmaps]
  verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: tenant-configmaps
  namespace: {TENANT_NS}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: configmaps
subjects:
- kind: ServiceAccount
  name: tenant
  namespace: {TENANT_NS}
"
        ),
    )?;
    let kubeconfig = Kubeconfig::read_from(&cp.kubeconfig)
        .with_context(|| format!("failed to read {}", cp.kubeconfig.display()))?;
    let config = env.rt.block_on(kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &KubeConfigOptions::default(),
    ))?;
    let tenant = {
        let _guard = env.rt.enter();
        impersonating_client(&config, TENANT_NS, "tenant")?
    };

    let cm: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "made-by-tenant"},
        "data": {"a": "b"},
    }))?;
    let api: Api<ConfigMap> = Api::namespaced(tenant.clone(), TENANT_NS);
    env.rt
        .block_on(async {
            // Idempotent across reruns on a kept cluster.
            let _ = api.delete("made-by-tenant", &Default::default()).await;
            api.create(&PostParams::default(), &cm).await
        })
        .context("the tenant could not create a ConfigMap in its namespace")?;
    let made: Api<ConfigMap> = Api::namespaced(admin.clone(), TENANT_NS);
    let got = env.rt.block_on(made.get("made-by-tenant"))?;
    ensure!(got.data.and_then(|d| d.get("a").cloned()).as_deref() == Some("b"));

    let crb: ClusterRoleBinding = serde_json::from_value(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "tenant-escalates"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "tenant", "namespace": TENANT_NS}],
    }))?;
    let crbs: Api<ClusterRoleBinding> = Api::all(tenant.clone());
    match env.rt.block_on(crbs.create(&PostParams::default(), &crb)) {
        Ok(_) => bail!("the tenant created a ClusterRoleBinding"),
        Err(kube::Error::Api(s)) => ensure!(
            s.code == 403
                && s.message.contains("system:serviceaccount:hr-tenant:tenant")
                && s.message.contains("clusterrolebindings"),
            "creating a ClusterRoleBinding: {} {}",
            s.code,
            s.message
        ),
        Err(e) => bail!("creating a ClusterRoleBinding: {e}"),
    }

    // lookup with the tenant's client: its own ConfigMap is visible, a
    // Secret in another namespace is forbidden and fails the render.
    let discovered = Arc::new(env.rt.block_on(Discovered::run(&admin))?);
    let caps = discovered.capabilities();
    let chart = env.dir.path().join("hr-inputs/tenant-lookup");
    write(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: tenant\nversion: 0.1.0\n",
    )?;
    write(
        &chart,
        "templates/own.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: own\ndata:\n  a: {{{{ (lookup \"v1\" \"ConfigMap\" \"{TENANT_NS}\" \"made-by-tenant\").data.a | quote }}}}\n"
        ),
    )?;
    let hook = lookup_hook(tenant.clone(), discovered.clone(), env.rt.handle().clone());
    let own = berth_render(&chart, TENANT_NS, Values::new(), &caps, Some(hook), env)?;
    ensure!(
        data_field(&own, "a")? == "b",
        "tenant lookup of its own ConfigMap: {own}"
    );

    write(
        &chart,
        "templates/steal.yaml",
        &format!("{{{{ lookup \"v1\" \"Secret\" \"{NS}\" \"sec\" | toJson }}}}\n"),
    )?;
    let hook = lookup_hook(tenant, discovered.clone(), env.rt.handle().clone());
    match berth_render(&chart, TENANT_NS, Values::new(), &caps, Some(hook), env) {
        Ok(out) => bail!("the tenant looked up a Secret of another namespace: {out}"),
        Err(e) => {
            let msg = format!("{e:#}");
            ensure!(
                msg.contains("forbidden") && msg.contains("secrets"),
                "tenant lookup of a foreign Secret: {msg}"
            );
        }
    }
    // The admin's hook reads it (so the refusal above is the tenant's RBAC).
    let hook = lookup_hook(admin, discovered, env.rt.handle().clone());
    berth_render(&chart, TENANT_NS, Values::new(), &caps, Some(hook), env)
        .map_err(|e| anyhow!("admin lookup of the Secret failed: {e:#}"))?;
    Ok(())
}
