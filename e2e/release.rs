//! Helm-compatible release records (`berth::release`) against the real
//! helm (v4.3.1) on the real control plane: records berth writes are what
//! `helm list|history|status|get` show; records `helm install|upgrade`
//! write are what berth's `Store::history` reads (field for field); the
//! max-history trim; a corrupt record stops `history`; a pending-upgrade
//! record is visible to helm users.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use base64::Engine;
use berth::release::{
    self, manifest_text, ChartRecord, HookPhase, HookRecord, Info, Release, Status, Store,
    StoreError, APPLY_METHOD_SSA,
};
use berth_chart::load::load_path;
use berth_chart::process::{prepare, ProcessOptions};
use berth_render::engine::render;
use berth_render::RenderOptions;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{json, Value};

use crate::env::control_plane::ControlPlane;
use crate::env::Env;
use crate::Test;

pub fn tests() -> Vec<Test> {
    vec![
        Test {
            name: "release::berth_records_read_by_helm",
            run: berth_records_read_by_helm,
        },
        Test {
            name: "release::helm_records_read_by_berth",
            run: helm_records_read_by_berth,
        },
        Test {
            name: "release::trim_keeps_max_history",
            run: trim_keeps_max_history,
        },
        Test {
            name: "release::corrupt_record_fails_history",
            run: corrupt_record_fails_history,
        },
        Test {
            name: "release::pending_upgrade_visible_to_helm",
            run: pending_upgrade_visible_to_helm,
        },
    ]
}

const PODINFO: &str = "/work/shared/charts/podinfo";

/// Real helm with its own homes under the run directory, against the
/// test cluster. Fails with helm's stderr.
fn helm(env: &Env, cp: &ControlPlane, args: &[&str]) -> Result<String> {
    let home = env.dir.path().join("release-helm-home");
    std::fs::create_dir_all(&home)?;
    let out = env
        .tools
        .command("helm")
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .args(args)
        .arg(format!("--kubeconfig={}", cp.kubeconfig.display()))
        .output()
        .context("failed to run helm")?;
    if !out.status.success() {
        bail!(
            "helm {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn helm_json(env: &Env, cp: &ControlPlane, args: &[&str]) -> Result<Value> {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let text = helm(env, cp, &all)?;
    serde_json::from_str(&text).with_context(|| format!("helm {} printed {text}", args.join(" ")))
}

fn namespace(cp: &ControlPlane, ns: &str) -> Result<()> {
    cp.kubectl_output(&["create", "namespace", ns])?;
    Ok(())
}

/// JSON with every whole float written as an integer: Go decodes values
/// into float64 and writes `2`, serde_json keeps `2.0`.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => json!(f as i64),
            _ => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), normalize(x))).collect())
        }
        _ => v.clone(),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// Paths where two JSON values differ (for failure messages).
fn json_diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(l), Some(r)) => json_diff(&p, l, r, out),
                    (l, r) => out.push(format!(
                        "{p}: {} vs {}",
                        l.map_or("absent".to_string(), short),
                        r.map_or("absent".to_string(), short)
                    )),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (l, r)) in x.iter().zip(y).enumerate() {
                json_diff(&format!("{path}[{i}]"), l, r, out);
            }
        }
        _ if a != b => out.push(format!("{path}: {} vs {}", short(a), short(b))),
        _ => {}
    }
}

fn ensure_same_json(what: &str, ours: &Value, theirs: &Value) -> Result<()> {
    let mut diffs = Vec::new();
    json_diff("", &normalize(ours), &normalize(theirs), &mut diffs);
    ensure!(
        diffs.is_empty(),
        "{what} differ (berth vs helm):\n  {}",
        diffs.join("\n  ")
    );
    Ok(())
}

/// podinfo rendered by berth as release `name` revision `revision`, with
/// `values` (YAML): the record berth would write.
fn podinfo_release(name: &str, ns: &str, revision: i64, values: &str) -> Result<Release> {
    let chart = load_path(Path::new(PODINFO))?;
    let record_chart = ChartRecord::from_chart(&chart);
    let config = berth_chart::values::parse(values)?;
    let prepared = prepare(chart, config.clone(), &ProcessOptions::default())?;
    let opts = RenderOptions {
        release: berth_render::Release {
            name: name.to_string(),
            namespace: ns.to_string(),
            revision,
            is_install: revision == 1,
            is_upgrade: revision > 1,
        },
        ..RenderOptions::default()
    };
    let rendered = render(&prepared.chart, &prepared.values, &opts)?;
    let now = jiff::Timestamp::now();
    Ok(Release {
        name: name.to_string(),
        namespace: ns.to_string(),
        version: revision,
        info: Info {
            first_deployed: Some(now),
            last_deployed: Some(now),
            description: if revision == 1 {
                "Install complete".to_string()
            } else {
                "Upgrade complete".to_string()
            },
            status: Status::Deployed,
            notes: rendered.notes.clone().unwrap_or_default(),
            ..Info::default()
        },
        chart: record_chart,
        config,
        manifest: manifest_text(&rendered.manifests),
        hooks: rendered
            .hooks
            .iter()
            .map(HookRecord::from_rendered)
            .collect(),
        labels: [("team".to_string(), "berth-e2e".to_string())].into(),
        apply_method: APPLY_METHOD_SSA.to_string(),
    })
}

/// berth writes v1 (deployed), then v2 (deployed) and marks v1
/// superseded: helm's list, history, status, get values|manifest|notes
/// show exactly berth's data.
fn berth_records_read_by_helm(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "release-berth";
    namespace(cp, ns)?;
    let store = Store::new(client, ns);

    let mut v1 = podinfo_release("web", ns, 1, "replicaCount: 2\nui:\n  message: first\n")?;
    env.rt.block_on(store.create(&v1))?;
    let mut v2 = podinfo_release("web", ns, 2, "replicaCount: 3\nui:\n  message: second\n")?;
    v2.info.first_deployed = v1.info.first_deployed;
    env.rt.block_on(store.create(&v2))?;
    v1.info.status = Status::Superseded;
    v1.info.description = "Superseded".to_string();
    env.rt.block_on(store.update(&v1))?;
    ensure!(!v2.hooks.is_empty(), "podinfo rendered no hooks");
    ensure!(!v2.info.notes.is_empty(), "podinfo rendered no notes");

    // The Secrets carry Helm's type and labels.
    let secret: Value = serde_json::from_str(&cp.kubectl_output(&[
        "get",
        "secret",
        "-n",
        ns,
        "sh.helm.release.v1.web.v1",
        "-o",
        "json",
    ])?)?;
    ensure!(
        secret["type"] == "helm.sh/release.v1",
        "type {}",
        secret["type"]
    );
    let labels = &secret["metadata"]["labels"];
    for (k, v) in [
        ("name", "web"),
        ("owner", "helm"),
        ("status", "superseded"),
        ("version", "1"),
        ("team", "berth-e2e"),
    ] {
        ensure!(labels[k] == v, "label {k} is {} in {labels}", labels[k]);
    }
    for k in ["createdAt", "modifiedAt"] {
        ensure!(
            labels[k].as_str().is_some_and(|s| s.parse::<i64>().is_ok()),
            "label {k} is {} in {labels}",
            labels[k]
        );
    }

    let chart = format!("podinfo-{}", v2.chart.version());
    let app = v2.chart.app_version().unwrap_or_default().to_string();
    let list = helm_json(env, cp, &["list", "-n", ns])?;
    let entries = list.as_array().context("helm list is not a list")?;
    ensure!(entries.len() == 1, "helm list: {list}");
    let e = &entries[0];
    ensure!(
        e["name"] == "web"
            && e["namespace"] == ns
            && e["revision"] == "2"
            && e["status"] == "deployed"
            && e["chart"] == chart.as_str()
            && e["app_version"] == app.as_str(),
        "helm list: {e}"
    );

    let history = helm_json(env, cp, &["history", "web", "-n", ns])?;
    let revs = history.as_array().context("helm history is not a list")?;
    ensure!(revs.len() == 2, "helm history: {history}");
    for (h, r) in revs.iter().zip([&v1, &v2]) {
        ensure!(
            h["revision"] == r.version
                && h["status"] == r.info.status.as_str()
                && h["chart"] == chart.as_str()
                && h["app_version"] == app.as_str()
                && h["description"] == r.info.description.as_str(),
            "helm history entry {h} for revision {}",
            r.version
        );
        let updated = h["updated"].as_str().unwrap_or_default();
        let updated: jiff::Timestamp = updated
            .parse()
            .with_context(|| format!("helm history updated {updated:?}"))?;
        ensure!(Some(updated) == r.info.last_deployed, "updated {updated}");
    }

    // helm status -o json is the whole record as Helm decoded it, less
    // the chart (stripped by `helm status`); the chart is compared through
    // `helm get all --template` (Go's own JSON of the decoded chart).
    let status = helm_json(env, cp, &["status", "web", "-n", ns])?;
    let mut ours = serde_json::to_value(&v2)?;
    ours.as_object_mut()
        .and_then(|o| o.remove("chart"))
        .context("no chart in berth's JSON")?;
    ensure_same_json("helm status -o json and berth's v2", &ours, &status)?;
    // helm get all has no toJson: print the chart's parts with Go's own
    // formatting (bytes as hex) and build the same text from berth's record.
    let chart_tpl = "{{ with .Release.Chart }}{{ .Metadata.Name }}|{{ .Metadata.Version }}|\
        {{ .Metadata.AppVersion }}|{{ .Metadata.APIVersion }}|{{ .Metadata.Description }}\n\
        {{ range .Templates }}{{ .Name }} {{ printf \"%x\" .Data }}\n{{ end }}\
        {{ range .Files }}{{ .Name }} {{ printf \"%x\" .Data }}\n{{ end }}\
        schema {{ printf \"%x\" .Schema }}{{ end }}";
    let helm_chart = helm(
        env,
        cp,
        &["get", "all", "web", "-n", ns, "--template", chart_tpl],
    )?;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let meta = v2.chart.metadata.clone().unwrap_or_default();
    let mut want = format!(
        "{}|{}|{}|{}|{}\n",
        meta.name, meta.version, meta.app_version, meta.api_version, meta.description
    );
    for f in v2.chart.templates.iter().chain(&v2.chart.files) {
        want.push_str(&format!("{} {}\n", f.name, hex(&f.data)));
    }
    want.push_str(&format!(
        "schema {}",
        hex(v2.chart.schema.as_deref().unwrap_or_default())
    ));
    ensure!(
        helm_chart == want,
        "the chart as helm decoded it differs from berth's record:\n{}\nvs\n{}",
        short(&Value::String(helm_chart.clone())),
        short(&Value::String(want))
    );
    ensure!(
        v2.chart.templates.len() > 10,
        "{} templates",
        v2.chart.templates.len()
    );
    // The chart's default values under the config: helm get values --all.
    let all = helm_json(env, cp, &["get", "values", "web", "-n", ns, "--all"])?;
    ensure!(
        all["replicaCount"] == 3
            && all["ui"]["message"] == "second"
            && all["image"]["repository"]
                == v2
                    .chart
                    .values
                    .as_ref()
                    .map_or(Value::Null, |v| v["image"]["repository"].clone()),
        "helm get values --all: {}",
        short(&all)
    );
    let metadata = helm_json(env, cp, &["get", "metadata", "web", "-n", ns])?;
    let meta = &metadata;
    ensure!(
        meta["name"] == "web"
            && meta["chart"] == "podinfo"
            && meta["version"] == v2.chart.version()
            && meta["appVersion"] == app.as_str()
            && meta["namespace"] == ns
            && meta["revision"] == 2
            && meta["status"] == "deployed"
            && meta["applyMethod"] == "ssa"
            && meta["labels"]["team"] == "berth-e2e",
        "helm get metadata: {meta}"
    );

    for (rev, r) in [("1", &v1), ("2", &v2)] {
        let values = helm_json(
            env,
            cp,
            &["get", "values", "web", "-n", ns, "--revision", rev],
        )?;
        ensure_same_json(
            &format!("helm get values --revision {rev}"),
            &Value::Object(r.config.clone()),
            &values,
        )?;
        let manifest = helm(
            env,
            cp,
            &["get", "manifest", "web", "-n", ns, "--revision", rev],
        )?;
        ensure!(
            manifest == format!("{}\n", r.manifest),
            "helm get manifest --revision {rev}:\n{manifest}"
        );
        let notes = helm(
            env,
            cp,
            &["get", "notes", "web", "-n", ns, "--revision", rev],
        )?;
        ensure!(
            notes == format!("NOTES:\n{}\n", r.info.notes),
            "helm get notes --revision {rev}:\n{notes}"
        );
    }
    let hooks = helm(env, cp, &["get", "hooks", "web", "-n", ns])?;
    for h in &v2.hooks {
        ensure!(
            hooks.contains(&format!("# Source: {}\n{}", h.path, h.manifest)),
            "helm get hooks lacks {}:\n{hooks}",
            h.path
        );
    }

    // And berth reads back exactly what it wrote.
    let back = env.rt.block_on(store.history("web"))?;
    ensure!(back.len() == 2, "history has {} records", back.len());
    ensure!(
        back[0] == v1 && back[1] == v2,
        "berth's history differs from what it wrote"
    );
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}

fn write(dir: &Path, rel: &str, text: &str) -> Result<()> {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().context("no parent")?)?;
    std::fs::write(&p, text).with_context(|| format!("failed to write {}", p.display()))
}

/// A chart of ConfigMaps only (nothing to roll out), with a hook and notes.
fn tiny_chart(env: &Env) -> Result<PathBuf> {
    let chart = env.dir.path().join("release-tiny");
    write(
        &chart,
        "Chart.yaml",
        "apiVersion: v2\nname: tiny\nversion: 0.3.0\nappVersion: \"2.1\"\ndescription: release e2e\n\
         keywords: [a, b]\nmaintainers:\n  - name: someone\n    email: a@example.invalid\n",
    )?;
    write(
        &chart,
        "values.yaml",
        "greeting: hello\ncount: 1\nlist: [1, 2]\n",
    )?;
    write(
        &chart,
        "values.schema.json",
        "{\"type\": \"object\", \"properties\": {\"count\": {\"type\": \"integer\"}}}\n",
    )?;
    write(
        &chart,
        "templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n\
         data:\n  greeting: {{ .Values.greeting | quote }}\n  count: {{ .Values.count | quote }}\n",
    )?;
    write(
        &chart,
        "templates/hook.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-hook\n  annotations:\n\
         \x20   helm.sh/hook: post-install,post-upgrade\n    helm.sh/hook-weight: \"3\"\n\
         \x20   helm.sh/hook-delete-policy: before-hook-creation\ndata:\n  rev: {{ .Release.Revision | quote }}\n",
    )?;
    write(
        &chart,
        "templates/NOTES.txt",
        "Hello {{ .Values.greeting }} from {{ .Release.Name }}.\n",
    )?;
    write(&chart, "README.md", "# tiny\n")?;
    Ok(chart)
}

/// The JSON helm stored in a release Secret, decoded here by hand
/// (base64, gunzip) so berth's decoder is compared with helm's bytes.
fn helm_record_json(secret: &Secret) -> Result<Value> {
    let data = secret
        .data
        .as_ref()
        .and_then(|d| d.get("release"))
        .context("no release data")?;
    let gz = base64::engine::general_purpose::STANDARD.decode(&data.0)?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice()).read_to_end(&mut json)?;
    Ok(serde_json::from_slice(&json)?)
}

/// `helm install` then `helm upgrade`: berth's `history` decodes both
/// revisions, field for field what helm wrote; a record berth rewrites
/// (as when adopting the release) stays readable by helm.
fn helm_records_read_by_berth(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "release-helm";
    namespace(cp, ns)?;
    let chart = tiny_chart(env)?;
    let chart_arg = chart.to_string_lossy().to_string();
    helm(
        env,
        cp,
        &[
            "install",
            "app",
            &chart_arg,
            "-n",
            ns,
            "--set",
            "greeting=hi,count=2",
        ],
    )?;
    helm(
        env,
        cp,
        &[
            "upgrade",
            "app",
            &chart_arg,
            "-n",
            ns,
            "--set",
            "greeting=bye",
            "--labels",
            "tier=gold",
        ],
    )?;

    let store = Store::new(client.clone(), ns);
    let history = env.rt.block_on(store.history("app"))?;
    ensure!(
        history.len() == 2,
        "berth reads {} revisions",
        history.len()
    );
    let (v1, v2) = (&history[0], &history[1]);
    ensure!(
        v1.version == 1 && v2.version == 2,
        "versions {} {}",
        v1.version,
        v2.version
    );
    ensure!(
        v1.info.status == Status::Superseded && v2.info.status == Status::Deployed,
        "statuses {} {}",
        v1.info.status,
        v2.info.status
    );
    ensure!(
        Value::Object(v1.config.clone()) == json!({"greeting": "hi", "count": 2}),
        "v1 config {:?}",
        v1.config
    );
    ensure!(
        Value::Object(v2.config.clone()) == json!({"greeting": "bye"}),
        "v2 config {:?}",
        v2.config
    );
    ensure!(
        v2.chart.name() == "tiny"
            && v2.chart.version() == "0.3.0"
            && v2.chart.app_version() == Some("2.1"),
        "chart {} {} {:?}",
        v2.chart.name(),
        v2.chart.version(),
        v2.chart.app_version()
    );
    ensure!(
        v2.labels.get("tier").map(String::as_str) == Some("gold") && v2.labels.len() == 1,
        "custom labels {:?}",
        v2.labels
    );
    ensure!(
        v2.info.notes == "Hello bye from app.\n",
        "notes {:?}",
        v2.info.notes
    );
    ensure!(v2.info.first_deployed.is_some() && v2.info.last_deployed.is_some());
    let manifest = helm(env, cp, &["get", "manifest", "app", "-n", ns])?;
    ensure!(
        manifest == format!("{}\n", v2.manifest),
        "manifest {:?}",
        v2.manifest
    );
    ensure!(
        v2.manifest.contains("name: app-cm"),
        "manifest {:?}",
        v2.manifest
    );
    ensure!(v2.hooks.len() == 1, "hooks {:?}", v2.hooks);
    let hook = &v2.hooks[0];
    ensure!(
        hook.name == "app-hook"
            && hook.kind == "ConfigMap"
            && hook.path == "tiny/templates/hook.yaml"
            && hook.events == ["post-install", "post-upgrade"]
            && hook.weight == 3
            && hook.delete_policies == ["before-hook-creation"]
            && hook.last_run.phase == HookPhase::Succeeded
            && hook.last_run.started_at.is_some()
            && hook.last_run.completed_at.is_some(),
        "hook {hook:?}"
    );
    let rendered = hook.to_rendered();
    ensure!(
        rendered.manifest.head.api_version == "v1" && rendered.weight == 3,
        "hook as rendered {rendered:?}"
    );
    ensure!(
        v2.chart
            .templates
            .iter()
            .any(|t| t.name == "templates/cm.yaml")
            && v2
                .chart
                .files
                .iter()
                .any(|f| f.name == "README.md" && f.data == b"# tiny\n")
            && v2.chart.schema.is_some()
            && v2
                .chart
                .values
                .as_ref()
                .is_some_and(|v| v.contains_key("list")),
        "chart record {:?}",
        v2.chart
    );

    // Field for field: berth's record re-serialised equals helm's JSON.
    let secrets: kube::Api<Secret> = kube::Api::namespaced(client, ns);
    for r in &history {
        let secret = env.rt.block_on(secrets.get(&r.secret_name()))?;
        let theirs = helm_record_json(&secret)?;
        ensure_same_json(
            &format!("revision {} as helm wrote it", r.version),
            &serde_json::to_value(r)?,
            &theirs,
        )?;
    }

    // berth rewrites v2 (as adoption would, with its own description) and
    // helm still reads it, labels and all.
    let mut adopted = v2.clone();
    adopted.info.description = "Adopted by berth".to_string();
    env.rt.block_on(store.update(&adopted))?;
    let status = helm_json(env, cp, &["status", "app", "-n", ns])?;
    ensure!(
        status["info"]["description"] == "Adopted by berth" && status["version"] == 2,
        "helm status after berth's update: {}",
        status["info"]
    );
    let history = helm_json(env, cp, &["history", "app", "-n", ns])?;
    ensure!(
        history.as_array().map(Vec::len) == Some(2)
            && history[1]["description"] == "Adopted by berth",
        "helm history after berth's update: {history}"
    );
    let back = env.rt.block_on(store.history("app"))?;
    ensure!(back[1] == adopted, "berth reads back {:?}", back[1].info);
    // helm can upgrade on top of berth's record.
    helm(
        env,
        cp,
        &["upgrade", "app", &chart_arg, "-n", ns, "--reuse-values"],
    )?;
    let back = env.rt.block_on(store.history("app"))?;
    ensure!(
        back.len() == 3
            && back[1].info.status == Status::Superseded
            && back[2].info.status == Status::Deployed
            && Value::Object(back[2].config.clone()) == json!({"greeting": "bye"}),
        "after helm upgrade over berth's record: {:?}",
        back.iter()
            .map(|r| (r.version, r.info.status))
            .collect::<Vec<_>>()
    );
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}

/// A small record (tiny chart, some values) for revision `version`.
fn small_release(name: &str, ns: &str, version: i64, status: Status) -> Release {
    let chart = berth_chart::Chart {
        metadata: berth_chart::Metadata {
            name: "small".to_string(),
            version: "1.0.0".to_string(),
            api_version: "v2".to_string(),
            ..Default::default()
        },
        ..Default::default()
    };
    let t = jiff::Timestamp::now();
    Release {
        name: name.to_string(),
        namespace: ns.to_string(),
        version,
        info: Info {
            first_deployed: Some(t),
            last_deployed: Some(t),
            description: format!("revision {version}"),
            status,
            ..Info::default()
        },
        chart: ChartRecord::from_chart(&chart),
        config: json!({"revision": version})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        manifest: format!(
            "---\n# Source: small/templates/cm.yaml\nkind: ConfigMap\nrev: {version}\n"
        ),
        apply_method: APPLY_METHOD_SSA.to_string(),
        ..Release::default()
    }
}

/// Six upgrades with max history 3, trimmed after each as the reconciler
/// does: helm history shows the three latest.
fn trim_keeps_max_history(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "release-trim";
    namespace(cp, ns)?;
    let store = Store::new(client, ns);
    let mut all_deleted = Vec::new();
    for v in 1..=6 {
        // As an upgrade does: the previous revision becomes superseded.
        if let Some(mut prev) = env.rt.block_on(store.last("trim"))? {
            prev.info.status = Status::Superseded;
            env.rt.block_on(store.update(&prev))?;
        }
        env.rt
            .block_on(store.create(&small_release("trim", ns, v, Status::Deployed)))?;
        all_deleted.extend(env.rt.block_on(store.trim("trim", 3))?);
    }
    ensure!(all_deleted == vec![1, 2, 3], "trim deleted {all_deleted:?}");
    let history = helm_json(env, cp, &["history", "trim", "-n", ns])?;
    let revs: Vec<(i64, String)> = history
        .as_array()
        .context("history is not a list")?
        .iter()
        .map(|h| {
            (
                h["revision"].as_i64().unwrap_or(-1),
                h["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    ensure!(
        revs == vec![
            (4, "superseded".to_string()),
            (5, "superseded".to_string()),
            (6, "deployed".to_string())
        ],
        "helm history after trim: {revs:?}"
    );
    let six = env.rt.block_on(store.get("trim", 6))?.context("no v6")?;
    ensure!(
        six.version == 6 && six.info.status == Status::Deployed,
        "get v6: {:?}",
        six.info
    );
    ensure!(
        env.rt.block_on(store.get("trim", 1))?.is_none(),
        "v1 survived the trim"
    );
    // A creation that already exists is its own error.
    match env
        .rt
        .block_on(store.create(&small_release("trim", ns, 6, Status::Deployed)))
    {
        Err(StoreError::AlreadyExists { secret, .. }) => {
            ensure!(secret == "sh.helm.release.v1.trim.v6", "secret {secret}")
        }
        other => bail!("creating v6 again gave {other:?}"),
    }
    // Deleting what is gone is fine.
    env.rt.block_on(store.delete("trim", 1))?;
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}

/// A release Secret whose data is not a record: `history` fails naming
/// it (the reconciler must not write over a history it cannot read).
fn corrupt_record_fails_history(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "release-corrupt";
    namespace(cp, ns)?;
    let store = Store::new(client, ns);
    env.rt
        .block_on(store.create(&small_release("bad", ns, 2, Status::Deployed)))?;
    ensure!(env.rt.block_on(store.history("bad"))?.len() == 1);
    cp.kubectl_output(&[
        "create",
        "secret",
        "generic",
        "-n",
        ns,
        "sh.helm.release.v1.bad.v1",
        "--type=helm.sh/release.v1",
        "--from-literal=release=H4sIAAAAAAAA/this is not a record",
    ])?;
    cp.kubectl_output(&[
        "label",
        "secret",
        "-n",
        ns,
        "sh.helm.release.v1.bad.v1",
        "owner=helm",
        "name=bad",
        "version=1",
        "status=superseded",
    ])?;
    match env.rt.block_on(store.history("bad")) {
        Err(e @ StoreError::Decode { .. }) => {
            let msg = e.to_string();
            ensure!(
                msg.contains("release-corrupt/sh.helm.release.v1.bad.v1"),
                "error does not name the Secret: {msg}"
            );
        }
        other => bail!("history over a corrupt record gave {other:?}"),
    }
    // Trim refuses too, rather than deleting around what it cannot read.
    ensure!(
        env.rt.block_on(store.trim("bad", 1)).is_err(),
        "trim read past a corrupt record"
    );
    // A record under another release's key is refused as well.
    let mut other = small_release("bad", ns, 3, Status::Deployed);
    other.name = "other".to_string();
    let text = release::encode(&other)?;
    cp.kubectl_output(&["delete", "secret", "-n", ns, "sh.helm.release.v1.bad.v1"])?;
    cp.kubectl_output(&[
        "create",
        "secret",
        "generic",
        "-n",
        ns,
        "sh.helm.release.v1.bad.v3",
        "--type=helm.sh/release.v1",
        &format!("--from-literal=release={text}"),
    ])?;
    cp.kubectl_output(&[
        "label",
        "secret",
        "-n",
        ns,
        "sh.helm.release.v1.bad.v3",
        "owner=helm",
        "name=bad",
    ])?;
    match env.rt.block_on(store.history("bad")) {
        Err(e @ StoreError::Mismatch { .. }) => {
            ensure!(e.to_string().contains("sh.helm.release.v1.bad.v3"), "{e}")
        }
        other => bail!("history over a misplaced record gave {other:?}"),
    }
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}

/// berth's pending-upgrade record (as left by a crash mid-upgrade) is what
/// helm shows, and helm refuses to upgrade over it; once berth settles it
/// (failed), helm sees that too.
fn pending_upgrade_visible_to_helm(env: &Env) -> Result<()> {
    let cp = env.cluster()?;
    let client = cp.client(&env.rt)?;
    let ns = "release-pending";
    namespace(cp, ns)?;
    let store = Store::new(client, ns);
    env.rt
        .block_on(store.create(&small_release("stuck", ns, 1, Status::Deployed)))?;
    let mut v2 = small_release("stuck", ns, 2, Status::PendingUpgrade);
    v2.info.description = "Preparing upgrade".to_string();
    env.rt.block_on(store.create(&v2))?;
    let status = helm_json(env, cp, &["status", "stuck", "-n", ns])?;
    ensure!(
        status["info"]["status"] == "pending-upgrade" && status["version"] == 2,
        "helm status: {}",
        status["info"]
    );
    let table = helm(env, cp, &["status", "stuck", "-n", ns])?;
    ensure!(
        table.contains("STATUS: pending-upgrade"),
        "helm status:\n{table}"
    );
    let pending = helm_json(env, cp, &["list", "-n", ns, "--pending"])?;
    ensure!(
        pending[0]["name"] == "stuck" && pending[0]["status"] == "pending-upgrade",
        "helm list --pending: {pending}"
    );
    let chart = tiny_chart(env)?;
    let err = helm(
        env,
        cp,
        &["upgrade", "stuck", &chart.to_string_lossy(), "-n", ns],
    )
    .err()
    .context("helm upgraded over a pending release")?;
    ensure!(
        format!("{err:#}").contains("another operation (install/upgrade/rollback) is in progress"),
        "helm upgrade: {err:#}"
    );
    // berth settles it.
    let stored = env.rt.block_on(store.history("stuck"))?;
    let mut settled = stored.last().context("no records")?.clone();
    ensure!(
        settled.info.status.is_pending(),
        "berth reads {}",
        settled.info.status
    );
    settled.info.status = Status::Failed;
    settled.info.description = "Upgrade interrupted; berth restarted".to_string();
    env.rt.block_on(store.update(&settled))?;
    let history = helm_json(env, cp, &["history", "stuck", "-n", ns])?;
    ensure!(
        history[1]["status"] == "failed"
            && history[1]["description"] == "Upgrade interrupted; berth restarted",
        "helm history: {history}"
    );
    cp.kubectl_output(&["delete", "namespace", ns, "--wait=false"])?;
    Ok(())
}
