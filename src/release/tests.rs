//! Unit tests of the record format and Helm's history rules. The field
//! names, status strings and the trimming rule are Helm v4.3.1's
//! (`pkg/release/v1/*.go`, `pkg/release/common/status.go`,
//! `pkg/storage/storage.go`); a record written by the real helm is decoded
//! by the e2e suite (`e2e/release.rs`).

use std::io::Write;

use base64::Engine;
use berth_render::manifest::{Head, Hook, HookDeletePolicy, HookEvent, Manifest};
use serde_json::json;

use super::store::{validate_name, versions_to_trim};
use super::*;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn sample_chart() -> berth_chart::Chart {
    let mut chart = berth_chart::Chart::default();
    chart.metadata.name = "demo".into();
    chart.metadata.version = "1.2.3".into();
    chart.metadata.app_version = "6.0".into();
    chart.metadata.api_version = "v2".into();
    chart.metadata.description = "a demo".into();
    chart.templates = vec![berth_chart::File {
        name: "templates/cm.yaml".into(),
        data: b"kind: ConfigMap\n".to_vec(),
    }];
    chart.files = vec![berth_chart::File {
        name: "README.md".into(),
        data: b"# demo\n".to_vec(),
    }];
    chart.values = json!({"replicas": 1.0, "image": {"tag": "x"}})
        .as_object()
        .cloned()
        .unwrap_or_default();
    chart.schema = Some(b"{}".to_vec());
    chart
}

fn sample_release() -> Release {
    let hook = Hook {
        manifest: Manifest {
            source: "demo/templates/job.yaml".into(),
            content:
                "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  namespace: apps\n"
                    .into(),
            head: Head {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                name: "migrate".into(),
                namespace: "apps".into(),
            },
        },
        events: vec![HookEvent::PreUpgrade, HookEvent::PreInstall],
        weight: -5,
        delete_policies: vec![HookDeletePolicy::BeforeHookCreation],
    };
    let t: jiff::Timestamp = "2026-03-01T09:20:30.123456789Z".parse().unwrap_or_default();
    Release {
        name: "web".into(),
        namespace: "apps".into(),
        version: 2,
        info: Info {
            first_deployed: Some(t),
            last_deployed: Some(t),
            deleted: None,
            description: "Upgrade complete".into(),
            status: Status::Deployed,
            rollback_revision: 0,
            notes: "thanks".into(),
            resources: None,
        },
        chart: ChartRecord::from_chart(&sample_chart()),
        config: json!({"replicas": 3, "nested": {"a": [1, "b", null]}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        manifest: "---\n# Source: demo/templates/cm.yaml\nkind: ConfigMap\n".into(),
        hooks: vec![HookRecord::from_rendered(&hook)],
        labels: [("team".to_string(), "a".to_string())].into(),
        apply_method: APPLY_METHOD_SSA.into(),
    }
}

#[test]
fn status_strings_are_helms() {
    let want = [
        (Status::Unknown, "unknown"),
        (Status::Deployed, "deployed"),
        (Status::Uninstalled, "uninstalled"),
        (Status::Superseded, "superseded"),
        (Status::Failed, "failed"),
        (Status::Uninstalling, "uninstalling"),
        (Status::PendingInstall, "pending-install"),
        (Status::PendingUpgrade, "pending-upgrade"),
        (Status::PendingRollback, "pending-rollback"),
    ];
    for (status, text) in want {
        assert_eq!(status.as_str(), text);
        assert_eq!(Status::parse(text), Some(status));
        assert_eq!(serde_json::to_value(status).ok(), Some(json!(text)));
        // Helm's IsPending: the three pending states only.
        assert_eq!(status.is_pending(), text.starts_with("pending-"), "{text}");
    }
    assert_eq!(Status::parse(""), Some(Status::Unknown));
    assert_eq!(Status::parse("Deployed"), None);
}

#[test]
fn json_has_helms_field_names() {
    let r = sample_release();
    let v = serde_json::to_value(&r).unwrap();
    let keys = |v: &serde_json::Value| -> Vec<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut top = keys(&v);
    top.sort();
    assert_eq!(
        top,
        [
            "apply_method",
            "chart",
            "config",
            "hooks",
            "info",
            "manifest",
            "name",
            "namespace",
            "version"
        ]
    );
    assert_eq!(v["apply_method"], "ssa");
    assert_eq!(v["version"], 2);
    let mut info = keys(&v["info"]);
    info.sort();
    assert_eq!(
        info,
        [
            "description",
            "first_deployed",
            "last_deployed",
            "notes",
            "status"
        ]
    );
    assert_eq!(
        v["info"]["first_deployed"],
        "2026-03-01T09:20:30.123456789Z"
    );
    let mut chart = keys(&v["chart"]);
    chart.sort();
    assert_eq!(
        chart,
        [
            "files",
            "lock",
            "metadata",
            "schema",
            "schemamodtime",
            "templates",
            "values"
        ]
    );
    // Go []byte is base64; a zero time.Time without omitzero is written.
    assert_eq!(v["chart"]["schema"], b64(b"{}"));
    assert_eq!(v["chart"]["schemamodtime"], "0001-01-01T00:00:00Z");
    assert_eq!(v["chart"]["lock"], serde_json::Value::Null);
    assert_eq!(v["chart"]["templates"][0]["name"], "templates/cm.yaml");
    assert_eq!(
        v["chart"]["templates"][0]["data"],
        b64(b"kind: ConfigMap\n")
    );
    assert_eq!(v["chart"]["metadata"]["appVersion"], "6.0");
    assert_eq!(v["chart"]["metadata"]["apiVersion"], "v2");
    // omitempty: no empty strings or lists in the metadata.
    assert!(v["chart"]["metadata"].get("home").is_none());
    assert!(v["chart"]["metadata"].get("dependencies").is_none());
    let hook = &v["hooks"][0];
    assert_eq!(hook["name"], "migrate");
    assert_eq!(hook["kind"], "Job");
    assert_eq!(hook["path"], "demo/templates/job.yaml");
    assert_eq!(hook["events"], json!(["pre-upgrade", "pre-install"]));
    assert_eq!(hook["weight"], -5);
    assert_eq!(hook["delete_policies"], json!(["before-hook-creation"]));
    // last_run is always written, its phase too (empty: never ran).
    assert_eq!(hook["last_run"], json!({"phase": ""}));
    // Labels live on the Secret only.
    assert!(v.get("labels").is_none());
}

#[test]
fn encode_decode_round_trip() {
    let r = sample_release();
    let text = encode(&r).unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .unwrap();
    assert_eq!(&raw[..3], &[0x1f, 0x8b, 0x08], "gzip magic");
    let back = decode(&text).unwrap();
    // Labels are not in the record.
    let mut want = r.clone();
    want.labels.clear();
    assert_eq!(back, want);
    assert_eq!(back.digest(), r.digest());
    assert_eq!(back.chart.name(), "demo");
    assert_eq!(back.chart.version(), "1.2.3");
    assert_eq!(back.chart.app_version(), Some("6.0"));
    assert_eq!(back.chart.name_version(), "demo-1.2.3");
}

#[test]
fn decodes_plain_json_and_helm3_empty_times() {
    // Records from before Helm compressed them are base64 JSON; Helm 3
    // wrote zero times as "" and nil slices as null.
    let json = json!({
        "name": "old",
        "info": {"first_deployed": "2020-01-02T03:04:05.5+02:00", "last_deployed": "",
                 "deleted": "", "description": "Install complete", "status": "superseded"},
        "chart": {"metadata": {"name": "c", "version": "0.1.0"}, "lock": null,
                  "templates": null, "values": null, "schema": null, "files": null},
        "config": null,
        "hooks": [{"name": "h", "events": ["post-install"], "last_run": {"started_at": "", "completed_at": "", "phase": ""}}],
        "version": 1,
        "namespace": "ns"
    });
    let r = decode(&b64(json.to_string().as_bytes())).unwrap();
    assert_eq!(r.name, "old");
    assert_eq!(r.info.status, Status::Superseded);
    assert_eq!(
        r.info.first_deployed.map(|t| t.to_string()).as_deref(),
        Some("2020-01-02T01:04:05.5Z")
    );
    assert_eq!(r.info.last_deployed, None);
    assert_eq!(r.chart.schema, None);
    assert!(r.chart.templates.is_empty() && r.config.is_empty());
    assert_eq!(r.hooks[0].last_run, HookExecution::default());
}

#[test]
fn hostile_records_fail_clearly() {
    let err = |s: &str| decode(s).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err("not base64!").contains("not base64"));
    // Gzip magic followed by garbage.
    let bad_gzip = b64(&[0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6, 7]);
    assert!(
        err(&bad_gzip).contains("not valid gzip"),
        "{}",
        err(&bad_gzip)
    );
    assert!(err(&b64(b"{\"name\": 3}")).contains("not a Helm release"));
    assert!(err(&b64(b"{\"info\": {\"status\": \"exploded\"}}")).contains("unknown release status"));
    assert!(err(&b64(b"[1,2]")).contains("not a Helm release"));
    // Deep nesting stops at serde_json's recursion limit, not the stack.
    let deep = format!(
        "{{\"config\":{{\"a\":{}1{}}}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(err(&b64(deep.as_bytes())).contains("not a Helm release"));
}

#[test]
fn inflating_stops_at_the_cap() {
    // 2 MiB of zeros compress to a few KiB; with a 1 MiB cap it is refused.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&vec![b' '; 2 * 1024 * 1024]).unwrap();
    let bomb = gz.finish().unwrap();
    let text = b64(&bomb);
    match decode_limited(text.as_bytes(), 1024 * 1024) {
        Err(RecordError::TooLarge { limit }) => assert_eq!(limit, 1024 * 1024),
        other => panic!("want TooLarge, got {other:?}"),
    }
    // Under the real cap it inflates (and then is whitespace, not JSON).
    assert!(matches!(decode(&text), Err(RecordError::Decode(_))));
}

#[test]
fn digest_names_the_exact_record() {
    let a = sample_release();
    let mut b = a.clone();
    assert_eq!(a.digest(), b.digest());
    assert!(a.digest().starts_with("sha256:") && a.digest().len() == 7 + 64);
    b.info.status = Status::Superseded;
    assert_ne!(a.digest(), b.digest());
    // Labels are not part of the record.
    let mut c = a.clone();
    c.labels.insert("x".into(), "y".into());
    assert_eq!(a.digest(), c.digest());
}

#[test]
fn config_digest_is_canonical() {
    let m = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
    let a = m(json!({"b": {"y": 1, "x": [1.0, "s"]}, "a": 3.0}));
    let b = m(json!({"a": 3, "b": {"x": [1, "s"], "y": 1.0}}));
    assert_eq!(config_digest(&a), config_digest(&b));
    let c = m(json!({"a": 3.5, "b": {"x": [1, "s"], "y": 1}}));
    assert_ne!(config_digest(&a), config_digest(&c));
    let d = m(json!({"a": "3", "b": {"x": [1, "s"], "y": 1}}));
    assert_ne!(config_digest(&a), config_digest(&d));
    // The empty values have a fixed digest: sha256 of "{}".
    assert_eq!(
        config_digest(&serde_json::Map::new()),
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
}

#[test]
fn hooks_convert_both_ways() {
    let r = sample_release();
    let back = r.hooks[0].to_rendered();
    assert_eq!(back.manifest.source, "demo/templates/job.yaml");
    assert_eq!(back.manifest.head.api_version, "batch/v1");
    assert_eq!(back.manifest.head.namespace, "apps");
    assert_eq!(
        back.events,
        vec![HookEvent::PreUpgrade, HookEvent::PreInstall]
    );
    assert_eq!(back.weight, -5);
    assert_eq!(
        back.delete_policies,
        vec![HookDeletePolicy::BeforeHookCreation]
    );
    assert_eq!(HookRecord::from_rendered(&back), r.hooks[0]);
    // Unknown strings in a stored hook are dropped when run, as Helm does.
    let mut odd = r.hooks[0].clone();
    odd.events.push("on-a-whim".into());
    odd.delete_policies.push("never".into());
    let h = odd.to_rendered();
    assert_eq!(h.events.len(), 2);
    assert_eq!(h.delete_policies.len(), 1);
}

#[test]
fn manifest_text_is_helms() {
    let m = |source: &str, content: &str| Manifest {
        source: source.into(),
        content: content.into(),
        head: Head::default(),
    };
    let text = manifest_text(&[
        m("c/templates/a.yaml", "kind: A"),
        m("c/templates/b.yaml", "kind: B\n"),
    ]);
    assert_eq!(
        text,
        "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n\n"
    );
}

#[test]
fn trim_follows_helms_max_history() {
    use Status::*;
    // 0 is no limit; within the limit nothing goes.
    let six: Vec<(i64, Status)> = (1..=5)
        .map(|v| (v, Superseded))
        .chain([(6, Deployed)])
        .collect();
    assert!(versions_to_trim(&six, 0).is_empty());
    assert!(versions_to_trim(&six, 6).is_empty());
    assert_eq!(versions_to_trim(&six, 3), vec![1, 2, 3]);
    assert_eq!(versions_to_trim(&six, 1), vec![1, 2, 3, 4, 5]);
    // The last deployed revision survives failed upgrades after it.
    let failing = [
        (1, Superseded),
        (2, Deployed),
        (3, Failed),
        (4, Failed),
        (5, Failed),
    ];
    assert_eq!(versions_to_trim(&failing, 2), vec![1, 3, 4]);
    assert_eq!(versions_to_trim(&failing, 1), vec![1, 3, 4]);
    // The newest (a pending upgrade just written) is never deleted.
    let pending = [(1, Deployed), (2, PendingUpgrade)];
    assert!(versions_to_trim(&pending, 1).is_empty());
    // Unsorted input, the deployed in the middle.
    let mixed = [
        (4, Superseded),
        (1, Superseded),
        (3, Deployed),
        (2, Superseded),
        (5, PendingUpgrade),
    ];
    assert_eq!(versions_to_trim(&mixed, 3), vec![1, 2]);
    assert_eq!(versions_to_trim(&mixed, 2), vec![1, 2, 4]);
}

#[test]
fn release_names_are_checked() {
    for ok in ["web", "a", "my-app.v2", "a1-b2"] {
        assert!(validate_name(ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "Web",
        "-a",
        "a-",
        "a..b",
        "a,owner!=helm",
        "a b",
        &"x".repeat(54),
    ] {
        assert!(validate_name(bad).is_err(), "{bad:?}");
    }
    assert_eq!(secret_name("web", 7), "sh.helm.release.v1.web.v7");
}
