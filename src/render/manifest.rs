//! Rendered files → documents: split, hooks separated, sorted in Helm's
//! install order (Helm v4.3.1 `pkg/release/v1/util`: `SplitManifests`,
//! `SortManifests`, `InstallOrder`), and the raw CRD files of `crds/`
//! (`Chart.CRDObjects`).

use std::collections::BTreeMap;

use berth_chart::Chart;
use berth_template::funcs::yaml::parse::yaml_to_value_keep;
use berth_template::Value;

/// The identifying head of a document (`apiVersion`, `kind`,
/// `metadata.name`, `metadata.namespace`), empty when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

/// One non-hook document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The template it came from, as Helm prints it in `# Source:`
    /// (`chart/templates/x.yaml`, `chart/charts/sub/templates/y.yaml`).
    pub source: String,
    /// The document as Helm v4.3.1 keeps it: leading whitespace trimmed,
    /// trailing whitespace kept (`helm template` prints it as it is, so a
    /// document followed by blank lines prints them).
    pub content: String,
    pub head: Head,
}

/// Helm's hook events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HookEvent {
    PreInstall,
    PostInstall,
    PreDelete,
    PostDelete,
    PreUpgrade,
    PostUpgrade,
    PreRollback,
    PostRollback,
    Test,
}

impl HookEvent {
    /// Helm's name of the event (the `helm.sh/hook` annotation value and
    /// what release records store).
    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::PreInstall => "pre-install",
            HookEvent::PostInstall => "post-install",
            HookEvent::PreDelete => "pre-delete",
            HookEvent::PostDelete => "post-delete",
            HookEvent::PreUpgrade => "pre-upgrade",
            HookEvent::PostUpgrade => "post-upgrade",
            HookEvent::PreRollback => "pre-rollback",
            HookEvent::PostRollback => "post-rollback",
            HookEvent::Test => "test",
        }
    }

    /// Helm's `events` table: the annotation value (trimmed, lowercased)
    /// → event; `test-success` is Helm 2's name for `test`.
    pub fn parse(s: &str) -> Option<HookEvent> {
        Some(match s {
            "pre-install" => HookEvent::PreInstall,
            "post-install" => HookEvent::PostInstall,
            "pre-delete" => HookEvent::PreDelete,
            "post-delete" => HookEvent::PostDelete,
            "pre-upgrade" => HookEvent::PreUpgrade,
            "post-upgrade" => HookEvent::PostUpgrade,
            "pre-rollback" => HookEvent::PreRollback,
            "post-rollback" => HookEvent::PostRollback,
            "test" | "test-success" => HookEvent::Test,
            _ => return None,
        })
    }
}

/// `helm.sh/hook-delete-policy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookDeletePolicy {
    BeforeHookCreation,
    HookSucceeded,
    HookFailed,
}

impl HookDeletePolicy {
    /// Helm's name of the policy.
    pub fn as_str(self) -> &'static str {
        match self {
            HookDeletePolicy::BeforeHookCreation => "before-hook-creation",
            HookDeletePolicy::HookSucceeded => "hook-succeeded",
            HookDeletePolicy::HookFailed => "hook-failed",
        }
    }

    pub fn parse(s: &str) -> Option<HookDeletePolicy> {
        Some(match s {
            "before-hook-creation" => HookDeletePolicy::BeforeHookCreation,
            "hook-succeeded" => HookDeletePolicy::HookSucceeded,
            "hook-failed" => HookDeletePolicy::HookFailed,
            _ => return None,
        })
    }
}

/// One hook document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hook {
    pub manifest: Manifest,
    pub events: Vec<HookEvent>,
    /// `helm.sh/hook-weight` (Atoi, 0 when absent or invalid).
    pub weight: i32,
    /// Known `helm.sh/hook-delete-policy` values in annotation order
    /// (Helm keeps unknown strings too; they have no effect).
    pub delete_policies: Vec<HookDeletePolicy>,
}

impl Hook {
    /// Whether this is a test hook (`helm template --skip-tests` drops it).
    pub fn is_test(&self) -> bool {
        self.events.contains(&HookEvent::Test)
    }
}

/// A file from a chart's `crds/` directory, raw (never templated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Crd {
    /// `chart/crds/file.yaml` (subcharts: `chart/charts/sub/crds/...`).
    pub source: String,
    pub content: String,
}

pub const HOOK_ANNOTATION: &str = "helm.sh/hook";
pub const HOOK_WEIGHT_ANNOTATION: &str = "helm.sh/hook-weight";
pub const HOOK_DELETE_ANNOTATION: &str = "helm.sh/hook-delete-policy";

/// Why the rendered files could not be sorted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Helm's `YAML parse error on <file>: <sigs.k8s.io/yaml error>`.
    #[error("YAML parse error on {file}: {message}")]
    Yaml { file: String, message: String },
}

/// Helm's `SplitManifests`: the documents of a rendered file in order,
/// split at every line that starts with `---` (the regex `(?m)^---[ \t]*`,
/// so `---apiVersion: v1` splits too), blank documents dropped, each with
/// its leading whitespace trimmed (trailing whitespace is kept).
pub fn split_manifests(big: &str) -> Vec<&str> {
    let text = big.trim_start();
    let bytes = text.as_bytes();
    // Line starts that begin with `---`: the text's own start, and every
    // `---` right after a newline (found in one pass over the text).
    let first = text.starts_with("---").then_some(0);
    let separators = first
        .into_iter()
        .chain(memchr::memmem::find_iter(bytes, b"\n---").map(|i| i + 1));
    let mut docs = Vec::new();
    let mut begin = 0;
    for line_start in separators {
        // A separator consumes only spaces and tabs after its `---`, never
        // a newline, so the next one always starts at or after `begin`.
        let mut end = line_start + 3;
        while end < bytes.len() && (bytes[end] == b' ' || bytes[end] == b'\t') {
            end += 1;
        }
        docs.push(&text[begin..line_start]);
        begin = end;
    }
    docs.push(&text[begin..]);
    docs.into_iter()
        .filter(|d| !d.trim().is_empty())
        .map(|d| d.trim_start())
        .collect()
}

/// What `SortManifests` reads from a document: Helm's `SimpleHead`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimpleHead {
    pub head: Head,
    /// `metadata.annotations` (`None`: absent or null).
    pub annotations: Option<BTreeMap<String, String>>,
}

/// Decode a document's head as `yaml.Unmarshal(doc, &SimpleHead{})` does:
/// YAML errors and type mismatches in Go's words; scalars in string fields
/// are stringified (sigs.k8s.io/yaml converts them for string targets).
pub fn parse_head(doc: &str) -> Result<SimpleHead, String> {
    // The whole document is parsed and checked, but only the fields read
    // below are built (matched as `json_field` does).
    let v =
        yaml_to_value_keep(doc, &["apiVersion", "kind", "metadata"]).map_err(|e| e.to_string())?;
    let mut out = SimpleHead::default();
    let top = match &v {
        Value::Nil => return Ok(out),
        Value::Map(m) => m.clone(),
        other => {
            return Err(json_type_error(
                json_kind(other),
                "Go value",
                "util.SimpleHead",
            ))
        }
    };
    let top = top.borrow();
    let mut first_err: Option<String> = None;
    let mut note = |e: String| {
        if first_err.is_none() {
            first_err = Some(e);
        }
    };
    if let Some(v) = json_field(&top, "apiVersion") {
        match string_target(&v) {
            Ok(s) => out.head.api_version = s,
            Err(k) => note(json_type_error(
                k,
                "Go struct field SimpleHead.apiVersion",
                "string",
            )),
        }
    }
    if let Some(v) = json_field(&top, "kind") {
        match string_target(&v) {
            Ok(s) => out.head.kind = s,
            Err(k) => note(json_type_error(
                k,
                "Go struct field SimpleHead.kind",
                "string",
            )),
        }
    }
    match json_field(&top, "metadata") {
        None | Some(Value::Nil) => {}
        Some(Value::Map(meta)) => {
            let meta = meta.borrow();
            if let Some(v) = json_field(&meta, "name") {
                match string_target(&v) {
                    Ok(s) => out.head.name = s,
                    Err(k) => note(json_type_error(k, "Go struct field .metadata.name", "string")),
                }
            }
            // Not part of Helm's SimpleHead; read leniently for callers.
            if let Some(v) = json_field(&meta, "namespace") {
                if let Ok(s) = string_target(&v) {
                    out.head.namespace = s;
                }
            }
            match json_field(&meta, "annotations") {
                None | Some(Value::Nil) => {}
                Some(Value::Map(ann)) => {
                    let mut map = BTreeMap::new();
                    for (k, v) in ann.borrow().iter() {
                        match string_target(v) {
                            Ok(s) => {
                                map.insert(k.clone(), s);
                            }
                            Err(kind) => note(json_type_error(
                                kind,
                                "Go struct field .metadata.annotations",
                                "string",
                            )),
                        }
                    }
                    out.annotations = Some(map);
                }
                Some(other) => note(json_type_error(
                    json_kind(&other),
                    "Go struct field .metadata.annotations",
                    "map[string]string",
                )),
            }
        }
        Some(other) => note(json_type_error(
            json_kind(&other),
            "Go struct field SimpleHead.metadata",
            "struct { Name string \"json:\\\"name\\\"\"; Annotations map[string]string \"json:\\\"annotations\\\"\" }",
        )),
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn json_type_error(what: &str, field: &str, ty: &str) -> String {
    format!(
        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {what} into {field} of type {ty}"
    )
}

/// encoding/json matches object keys to struct fields exactly first, then
/// case-insensitively.
fn json_field(m: &BTreeMap<String, Value>, name: &str) -> Option<Value> {
    if let Some(v) = m.get(name) {
        return Some(v.clone());
    }
    m.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Float(_)
        | Value::Int(_)
        | Value::Int64(_)
        | Value::Int32(_)
        | Value::Uint64(_)
        | Value::Uint8(_) => "number",
        Value::String(_) | Value::Bytes(_) => "string",
        Value::List(_) => "array",
        Value::Nil => "null",
        _ => "object",
    }
}

/// A YAML value decoded into a Go `string`: scalars become their string
/// form (sigs.k8s.io/yaml's conversion for string targets), null the empty
/// string; lists and maps are a type error (their JSON kind is returned).
fn string_target(v: &Value) -> Result<String, &'static str> {
    Ok(match v {
        Value::Nil => String::new(),
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) | Value::Int64(i) => i.to_string(),
        Value::Int32(i) => i.to_string(),
        Value::Uint64(u) => u.to_string(),
        Value::Uint8(u) => u.to_string(),
        Value::Float(f) => {
            if f.is_nan() {
                ".nan".into()
            } else if f.is_infinite() {
                if *f > 0.0 { ".inf" } else { "-.inf" }.into()
            } else if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                berth_template::fmt::format_float_g(*f)
            }
        }
        Value::List(_) => return Err("array"),
        _ => return Err("object"),
    })
}

/// Go's `strconv.Atoi` for hook weights: optional sign, decimal digits,
/// within `int`; anything else is 0 in Helm.
fn atoi(s: &str) -> i32 {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    // Helm stores the weight as a Go int; berth keeps i32 and saturates
    // (only the order of absurd weights could differ).
    match s.parse::<i64>() {
        Ok(v) => v.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
        Err(_) => 0,
    }
}

/// Below this many bytes of documents, heads are decoded on the calling
/// thread (spawning costs more than it saves).
const PARALLEL_HEADS_MIN_BYTES: usize = 256 * 1024;

/// [`parse_head`] of every document, in order. Decoding is most of the
/// sorting work for charts that render large documents (CRDs as
/// templates), and each document is independent, so large sets are
/// decoded on a few threads.
fn parse_heads(docs: &[(&str, &str)]) -> Vec<Result<SimpleHead, String>> {
    let total: usize = docs.iter().map(|(_, d)| d.len()).sum();
    if total < PARALLEL_HEADS_MIN_BYTES || docs.len() < 2 {
        return docs.iter().map(|(_, d)| parse_head(d)).collect();
    }
    // Asked only now: the answer comes from reading cgroup files.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4);
    if threads < 2 {
        return docs.iter().map(|(_, d)| parse_head(d)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<SimpleHead, String>>> = vec![None; docs.len()];
    let parsed: Vec<Vec<(usize, Result<SimpleHead, String>)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((_, doc)) = docs.get(i) else { break };
                        out.push((i, parse_head(doc)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    for (i, head) in parsed.into_iter().flatten() {
        slots[i] = Some(head);
    }
    // A worker that panicked left its documents unparsed: decode them here
    // (and let a panic surface on this thread, where the caller catches it).
    slots
        .into_iter()
        .zip(docs)
        .map(|(slot, (_, doc))| slot.unwrap_or_else(|| parse_head(doc)))
        .collect()
}

/// Helm's `InstallOrder`.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Helm's `lessByKind`: known kinds by their rank, unknown kinds after
/// them alphabetically; equal keys keep their order (the sort is stable).
fn kind_key(kind: &str) -> (usize, &str) {
    match INSTALL_ORDER.iter().position(|k| *k == kind) {
        Some(i) => (i, ""),
        None => (INSTALL_ORDER.len(), kind),
    }
}

/// Sort documents by kind in install order, stable.
pub fn sort_by_kind<T>(items: &mut [T], kind: impl Fn(&T) -> &str) {
    items.sort_by(|a, b| kind_key(kind(a)).cmp(&kind_key(kind(b))));
}

/// Helm's `SortManifests(files, nil, InstallOrder)`: every rendered file in
/// path order (partials and blank files skipped), split into documents;
/// documents with a `helm.sh/hook` annotation become hooks (an unknown
/// hook event drops the document, as Helm does), the others manifests;
/// both sorted by kind.
pub fn sort_manifests<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(Vec<Hook>, Vec<Manifest>), ManifestError> {
    let mut files: Vec<(&str, &str)> = files.into_iter().collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    let mut docs: Vec<(&str, &str)> = Vec::new();
    for (path, content) in files {
        if crate::objects::go_path_base(path).starts_with('_') || content.trim().is_empty() {
            continue;
        }
        docs.extend(split_manifests(content).into_iter().map(|d| (path, d)));
    }
    let heads = parse_heads(&docs);
    let mut hooks = Vec::new();
    let mut generic = Vec::new();
    for ((path, doc), head) in docs.into_iter().zip(heads) {
        let head = head.map_err(|message| ManifestError::Yaml {
            file: path.to_string(),
            message,
        })?;
        let manifest = Manifest {
            source: path.to_string(),
            content: doc.to_string(),
            head: head.head,
        };
        let hook_types = match head.annotations.as_ref() {
            Some(a) if !a.is_empty() => a.get(HOOK_ANNOTATION),
            _ => None,
        };
        let Some(hook_types) = hook_types else {
            generic.push(manifest);
            continue;
        };
        let events: Option<Vec<HookEvent>> = hook_types
            .split(',')
            .map(|t| HookEvent::parse(&t.trim().to_lowercase()))
            .collect();
        let Some(events) = events else {
            tracing::info!(hook_types = %hook_types, "skipping unknown hooks");
            continue;
        };
        let annotations = head.annotations.unwrap_or_default();
        let weight = annotations
            .get(HOOK_WEIGHT_ANNOTATION)
            .map(|w| atoi(w))
            .unwrap_or(0);
        let delete_policies = annotations
            .get(HOOK_DELETE_ANNOTATION)
            .map(|p| {
                p.split(',')
                    .filter_map(|x| HookDeletePolicy::parse(&x.trim().to_lowercase()))
                    .collect()
            })
            .unwrap_or_default();
        hooks.push(Hook {
            manifest,
            events,
            weight,
            delete_policies,
        });
    }
    sort_by_kind(&mut hooks, |h| h.manifest.head.kind.as_str());
    sort_by_kind(&mut generic, |m| m.head.kind.as_str());
    Ok((hooks, generic))
}

/// Helm's `Chart.CRDObjects`: the chart's `crds/*.{yaml,yml,json}` files,
/// then those of each subchart (depth first), each named
/// `<chart full path>/crds/...`.
pub fn crd_objects(chart: &Chart) -> Vec<Crd> {
    let mut out = Vec::new();
    collect_crds(chart, chart.name(), &mut out);
    out
}

fn collect_crds(chart: &Chart, full_path: &str, out: &mut Vec<Crd>) {
    for f in chart.crd_files() {
        out.push(Crd {
            source: format!("{full_path}/{}", f.name),
            content: String::from_utf8_lossy(&f.data).into_owned(),
        });
    }
    for dep in &chart.dependencies {
        let sub = format!("{full_path}/charts/{}", dep.name());
        collect_crds(dep, &sub, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_helm_regex() {
        // Leading blank documents and whitespace-only documents vanish.
        assert_eq!(
            split_manifests("\n---\na: 1\n---\n\n---   \nb: 2\n"),
            vec!["a: 1\n", "b: 2\n"]
        );
        // `---` glued to content splits too (the v4.3.1 regex has no `$`).
        assert_eq!(
            split_manifests("---apiVersion: v1\n"),
            vec!["apiVersion: v1\n"]
        );
        // Only at line starts.
        assert_eq!(split_manifests("a: x---y\n"), vec!["a: x---y\n"]);
        // Trailing whitespace is kept, leading trimmed.
        assert_eq!(split_manifests("  a: 1\n\n\n"), vec!["a: 1\n\n\n"]);
        // A comment-only document is kept.
        assert_eq!(split_manifests("# c\n---\nx: 1"), vec!["# c\n", "x: 1"]);
        // `----` leaves a `-` behind.
        assert_eq!(split_manifests("a: 1\n----\n"), vec!["a: 1\n", "-\n"]);
    }

    #[test]
    fn head_parsing_and_errors() {
        let h = parse_head(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: 5\n  annotations:\n    w: 1\n",
        )
        .unwrap();
        assert_eq!(h.head.kind, "Pod");
        assert_eq!(h.head.name, "5");
        assert_eq!(h.annotations.unwrap()["w"], "1");
        assert_eq!(
            parse_head("just a string\n").unwrap_err(),
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type util.SimpleHead"
        );
        assert_eq!(
            parse_head("kind: [a]\n").unwrap_err(),
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go struct field SimpleHead.kind of type string"
        );
        assert_eq!(
            parse_head("metadata:\n  annotations:\n    a: [1]\n").unwrap_err(),
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go struct field .metadata.annotations of type string"
        );
        assert_eq!(
            parse_head("a: [\n").unwrap_err(),
            "error converting YAML to JSON: yaml: line 1: did not find expected node content"
        );
        assert_eq!(
            parse_head("# only a comment\n").unwrap(),
            SimpleHead::default()
        );
    }

    #[test]
    fn hooks_and_order() {
        let file = "kind: Deployment\nmetadata:\n  name: d\n---\nkind: Service\nmetadata:\n  name: s\n---\nkind: Zeta\n---\nkind: Alpha\n---\nkind: Job\nmetadata:\n  name: j\n  annotations:\n    helm.sh/hook: \" Pre-Install , post-install\"\n    helm.sh/hook-weight: \"+3\"\n    helm.sh/hook-delete-policy: hook-succeeded,before-hook-creation\n---\nkind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: nope\n---\nkind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: test-success\n";
        let (hooks, manifests) = sort_manifests([("c/templates/a.yaml", file)]).unwrap();
        let kinds: Vec<&str> = manifests.iter().map(|m| m.head.kind.as_str()).collect();
        assert_eq!(kinds, vec!["Service", "Deployment", "Alpha", "Zeta"]);
        assert_eq!(hooks.len(), 2, "the unknown hook is dropped");
        let job = hooks
            .iter()
            .find(|h| h.manifest.head.kind == "Job")
            .unwrap();
        assert_eq!(
            job.events,
            vec![HookEvent::PreInstall, HookEvent::PostInstall]
        );
        assert_eq!(job.weight, 3);
        assert_eq!(
            job.delete_policies,
            vec![
                HookDeletePolicy::HookSucceeded,
                HookDeletePolicy::BeforeHookCreation
            ]
        );
        assert!(hooks.iter().any(|h| h.is_test()));
        // Kind order: Pod before Job.
        assert_eq!(hooks[0].manifest.head.kind, "Pod");
    }

    #[test]
    fn parallel_head_decoding_keeps_order_and_errors() {
        let big = format!("data:\n  x: \"{}\"\n", "y".repeat(4096));
        let mut texts = Vec::new();
        for i in 0..200 {
            texts.push(if i == 150 {
                "a: [\n".to_string()
            } else {
                format!("kind: K{i}\nmetadata:\n  name: n{i}\n{big}")
            });
        }
        let docs: Vec<(&str, &str)> = texts.iter().map(|t| ("f", t.as_str())).collect();
        let total: usize = texts.iter().map(String::len).sum();
        assert!(total > PARALLEL_HEADS_MIN_BYTES);
        let heads = parse_heads(&docs);
        let sequential: Vec<_> = docs.iter().map(|(_, d)| parse_head(d)).collect();
        assert_eq!(heads, sequential);
        assert!(heads[150].is_err());
        assert_eq!(heads[7].as_ref().unwrap().head.name, "n7");
    }

    #[test]
    fn weights_are_atoi() {
        assert_eq!(atoi("-5"), -5);
        assert_eq!(atoi("+3"), 3);
        assert_eq!(atoi("1.5"), 0);
        assert_eq!(atoi(" 1"), 0);
        assert_eq!(atoi(""), 0);
    }
}
