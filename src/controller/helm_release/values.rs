//! Values of a HelmRelease: `valuesFrom` ConfigMaps/Secrets and inline `values`, composed as Flux does.
//!
//! The rules are Flux helm-controller's (`chartutil.ChartValuesFromReferences`
//! and `ReplacePathValue`): every reference is read in order from the
//! HelmRelease's namespace with a direct GET (one read per object, so a
//! reconcile sees one version of it); a document is decoded as Helm decodes
//! a `-f` file and deep-merged over what came before; a `targetPath` puts
//! the raw text at a Helm `--set` path; finally the inline `spec.values`
//! are merged over all of it.

use std::collections::HashMap;

use berth_chart::strvals::{replace_path_value, StrvalsError};
use berth_chart::values::merge_maps;
use berth_chart::Values;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::Api;
use serde_json::{Number, Value as Json};

use crate::api::helm_release::{ValuesKind, ValuesReference};

/// The largest values document accepted from one key (a ConfigMap or Secret
/// cannot exceed about 1 MiB anyway; this bounds what a hostile or buggy
/// API answer can make us parse).
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// The key read when `valuesKey` is unset.
pub const DEFAULT_VALUES_KEY: &str = "values.yaml";

/// Why the values could not be composed. Every message names the object.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    #[error("{kind} {namespace}/{name} not found")]
    ObjectNotFound {
        kind: &'static str,
        namespace: String,
        name: String,
    },
    #[error("{kind} {namespace}/{name}: key {key} not found")]
    KeyNotFound {
        kind: &'static str,
        namespace: String,
        name: String,
        key: String,
    },
    #[error("failed to get {kind} {namespace}/{name}: {source}")]
    Get {
        kind: &'static str,
        namespace: String,
        name: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("{kind} {namespace}/{name}: key {key} is {size} bytes, more than the {limit} bytes accepted")]
    TooLarge {
        kind: &'static str,
        namespace: String,
        name: String,
        key: String,
        size: usize,
        limit: usize,
    },
    #[error("{kind} {namespace}/{name}: key {key} is not UTF-8 text")]
    NotUtf8 {
        kind: &'static str,
        namespace: String,
        name: String,
        key: String,
    },
    #[error("{kind} {namespace}/{name}: key {key} is not a valid values document: {source}")]
    Document {
        kind: &'static str,
        namespace: String,
        name: String,
        key: String,
        #[source]
        source: berth_chart::values::ValuesError,
    },
    #[error("{kind} {namespace}/{name}: key {key} cannot be set at target path {path:?}: {}", .source.reason())]
    TargetPath {
        kind: &'static str,
        namespace: String,
        name: String,
        key: String,
        path: String,
        #[source]
        source: Box<StrvalsError>,
    },
    #[error("spec.values is not a map (it is {0})")]
    InlineNotMap(&'static str),
}

impl ValuesError {
    /// The condition reason (CamelCase, bounded).
    pub fn reason(&self) -> &'static str {
        match self {
            ValuesError::ObjectNotFound { .. } | ValuesError::KeyNotFound { .. } => {
                "ValuesFromNotFound"
            }
            ValuesError::Get { .. } => "ValuesFromFailed",
            ValuesError::TooLarge { .. }
            | ValuesError::NotUtf8 { .. }
            | ValuesError::Document { .. }
            | ValuesError::TargetPath { .. }
            | ValuesError::InlineNotMap(_) => "InvalidValues",
        }
    }

    /// Whether retrying without a change can help: only an API failure
    /// (a missing object may be created later, but that is an event the
    /// watches see).
    pub fn is_transient(&self) -> bool {
        matches!(self, ValuesError::Get { .. })
    }
}

/// `ConfigMap` / `Secret`.
pub fn kind_name(kind: ValuesKind) -> &'static str {
    match kind {
        ValuesKind::ConfigMap => "ConfigMap",
        ValuesKind::Secret => "Secret",
    }
}

/// The data of one referenced object, by key.
enum Fetched {
    ConfigMap(ConfigMap),
    Secret(Secret),
}

impl Fetched {
    /// The bytes at `key`: a ConfigMap's `data`, then its `binaryData`; a
    /// Secret's `data`.
    fn get(&self, key: &str) -> Option<&[u8]> {
        match self {
            Fetched::ConfigMap(cm) => cm
                .data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|s| s.as_bytes())
                .or_else(|| {
                    cm.binary_data
                        .as_ref()
                        .and_then(|d| d.get(key))
                        .map(|b| b.0.as_slice())
                }),
            Fetched::Secret(s) => s
                .data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|b| b.0.as_slice()),
        }
    }
}

/// Flux's semantics (helm-controller `chartutil.ChartValuesFromReferences` + `ReplacePathValue`): for each ref in order, read the
/// ConfigMap (data, then binaryData) or Secret (data) key (`valuesKey`, default `values.yaml`) in `namespace` with a direct GET;
/// missing object/key → error unless `optional` (then skipped, logged). Without `targetPath` the text is a YAML values document
/// merged into the result (deep merge, later wins, maps merged recursively, everything else replaced; an empty document is
/// nothing). With `targetPath` the raw text is set at that path with Helm's strvals (`path=value` via ParseInto; a value in single
/// or double quotes is set as the unquoted string via ParseIntoString).
/// Finally `inline` (spec.values) is merged over all of it. Numbers come out as Helm decodes values documents (f64), so the
/// result renders exactly as `helm install -f` would.
pub async fn compose(
    client: &kube::Client,
    namespace: &str,
    refs: &[ValuesReference],
    inline: Option<&Json>,
) -> Result<Values, ValuesError> {
    // One read per object: a reconcile acts on a single version of each.
    let mut fetched: HashMap<(&'static str, String), Option<Fetched>> = HashMap::new();
    for r in refs {
        let cache_key = (kind_name(r.kind), r.name.clone());
        if let std::collections::hash_map::Entry::Vacant(slot) = fetched.entry(cache_key) {
            slot.insert(fetch(client, namespace, r.kind, &r.name).await?);
        }
    }
    compose_fetched(namespace, refs, inline, |kind, name| {
        fetched
            .get(&(kind_name(kind), name.to_string()))
            .and_then(Option::as_ref)
    })
}

/// Direct GET; `None` when the object does not exist.
async fn fetch(
    client: &kube::Client,
    namespace: &str,
    kind: ValuesKind,
    name: &str,
) -> Result<Option<Fetched>, ValuesError> {
    let fail = |e: kube::Error| ValuesError::Get {
        kind: kind_name(kind),
        namespace: namespace.to_string(),
        name: name.to_string(),
        source: Box::new(e),
    };
    Ok(match kind {
        ValuesKind::ConfigMap => Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .get_opt(name)
            .await
            .map_err(fail)?
            .map(Fetched::ConfigMap),
        ValuesKind::Secret => Api::<Secret>::namespaced(client.clone(), namespace)
            .get_opt(name)
            .await
            .map_err(fail)?
            .map(Fetched::Secret),
    })
}

/// The composition itself, over already fetched objects (`lookup` returns
/// `None` for a missing one).
fn compose_fetched<'a>(
    namespace: &str,
    refs: &[ValuesReference],
    inline: Option<&Json>,
    lookup: impl Fn(ValuesKind, &str) -> Option<&'a Fetched>,
) -> Result<Values, ValuesError> {
    let mut result = Values::new();
    for r in refs {
        let kind = kind_name(r.kind);
        let key = r.values_key.as_deref().unwrap_or(DEFAULT_VALUES_KEY);
        let Some(object) = lookup(r.kind, &r.name) else {
            let err = ValuesError::ObjectNotFound {
                kind,
                namespace: namespace.to_string(),
                name: r.name.clone(),
            };
            if r.optional {
                tracing::info!("optional values reference skipped: {err}");
                continue;
            }
            return Err(err);
        };
        let Some(bytes) = object.get(key) else {
            let err = ValuesError::KeyNotFound {
                kind,
                namespace: namespace.to_string(),
                name: r.name.clone(),
                key: key.to_string(),
            };
            if r.optional {
                tracing::info!("optional values reference skipped: {err}");
                continue;
            }
            return Err(err);
        };
        let text = document_text(kind, namespace, &r.name, key, bytes)?;
        match r.target_path.as_deref().filter(|p| !p.is_empty()) {
            Some(path) => {
                replace_path_value(path, text, &mut result).map_err(|source| {
                    ValuesError::TargetPath {
                        kind,
                        namespace: namespace.to_string(),
                        name: r.name.clone(),
                        key: key.to_string(),
                        path: path.to_string(),
                        source: Box::new(source),
                    }
                })?;
            }
            None => {
                let doc =
                    berth_chart::values::parse(text).map_err(|source| ValuesError::Document {
                        kind,
                        namespace: namespace.to_string(),
                        name: r.name.clone(),
                        key: key.to_string(),
                        source,
                    })?;
                merge_maps(&mut result, doc);
            }
        }
    }
    match inline {
        None | Some(Json::Null) => {}
        Some(Json::Object(map)) => merge_maps(&mut result, numbers_as_f64_map(map)),
        Some(other) => return Err(ValuesError::InlineNotMap(json_kind(other))),
    }
    Ok(result)
}

/// The key's bytes as text, bounded.
fn document_text<'b>(
    kind: &'static str,
    namespace: &str,
    name: &str,
    key: &str,
    bytes: &'b [u8],
) -> Result<&'b str, ValuesError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(ValuesError::TooLarge {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
            key: key.to_string(),
            size: bytes.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    std::str::from_utf8(bytes).map_err(|_| ValuesError::NotUtf8 {
        kind,
        namespace: namespace.to_string(),
        name: name.to_string(),
        key: key.to_string(),
    })
}

/// `spec.values` as Flux reads it (`json.Unmarshal` into
/// `map[string]interface{}`): every number a `float64`.
fn numbers_as_f64_map(map: &serde_json::Map<String, Json>) -> Values {
    map.iter()
        .map(|(k, v)| (k.clone(), number_as_f64(v)))
        .collect()
}

fn number_as_f64(v: &Json) -> Json {
    match v {
        Json::Number(n) => n
            .as_f64()
            .and_then(Number::from_f64)
            .map(Json::Number)
            .unwrap_or_else(|| Json::Number(n.clone())),
        Json::Array(items) => Json::Array(items.iter().map(number_as_f64).collect()),
        Json::Object(map) => Json::Object(numbers_as_f64_map(map)),
        other => other.clone(),
    }
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a map",
    }
}

/// The objects `refs` name, as `(kind, namespace, name)` — the reconciler's watches map ConfigMap/Secret events to HelmReleases with it.
/// Each object once, in the order first referenced.
pub fn referenced_objects(
    namespace: &str,
    refs: &[ValuesReference],
) -> Vec<(ValuesKind, String, String)> {
    let mut out: Vec<(ValuesKind, String, String)> = Vec::new();
    for r in refs {
        let entry = (r.kind, namespace.to_string(), r.name.clone());
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;
    use serde_json::json;

    use super::*;

    fn cm(data: &[(&str, &str)], binary: &[(&str, &[u8])]) -> Fetched {
        Fetched::ConfigMap(ConfigMap {
            data: (!data.is_empty()).then(|| {
                data.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>()
            }),
            binary_data: (!binary.is_empty()).then(|| {
                binary
                    .iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.to_vec())))
                    .collect::<BTreeMap<_, _>>()
            }),
            ..ConfigMap::default()
        })
    }

    fn secret(data: &[(&str, &[u8])]) -> Fetched {
        Fetched::Secret(Secret {
            data: Some(
                data.iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.to_vec())))
                    .collect(),
            ),
            ..Secret::default()
        })
    }

    fn reference(kind: ValuesKind, name: &str) -> ValuesReference {
        ValuesReference {
            kind,
            name: name.to_string(),
            ..ValuesReference::default()
        }
    }

    fn with(
        r: ValuesReference,
        key: Option<&str>,
        path: Option<&str>,
        optional: bool,
    ) -> ValuesReference {
        ValuesReference {
            values_key: key.map(str::to_string),
            target_path: path.map(str::to_string),
            optional,
            ..r
        }
    }

    /// Compose over a fixed set of objects: `(kind, name) → object`.
    fn run(
        objects: &[(ValuesKind, &str, Fetched)],
        refs: &[ValuesReference],
        inline: Option<Json>,
    ) -> Result<Json, ValuesError> {
        compose_fetched("ns", refs, inline.as_ref(), |kind, name| {
            objects
                .iter()
                .find(|(k, n, _)| *k == kind && *n == name)
                .map(|(_, _, o)| o)
        })
        .map(Json::Object)
    }

    /// Numbers must be compared with their Go type: `f64` (values
    /// documents) or `i64` (`--set` typing).
    fn is_f64(v: &Json) -> bool {
        matches!(v, Json::Number(n) if n.is_f64())
    }

    #[test]
    fn documents_merge_in_order_maps_deep_everything_else_replaced() {
        let objects = [
            (
                ValuesKind::ConfigMap,
                "base",
                cm(
                    &[(
                        "values.yaml",
                        "a:\n  b: 1\n  c: [1, 2]\n  m: {x: 1}\nkeep: yes\nreplaced: {deep: 1}\n",
                    )],
                    &[],
                ),
            ),
            (
                ValuesKind::Secret,
                "over",
                secret(&[(
                    "values.yaml",
                    b"a:\n  c: [3]\n  d: x\n  m: 7\nreplaced: scalar\nnulled: ~\n",
                )]),
            ),
        ];
        let refs = [
            reference(ValuesKind::ConfigMap, "base"),
            reference(ValuesKind::Secret, "over"),
        ];
        let v = run(&objects, &refs, None).unwrap();
        assert_eq!(
            v,
            json!({
                "a": {"b": 1.0, "c": [3.0], "d": "x", "m": 7.0},
                // YAML 1.1 as sigs.k8s.io/yaml reads it: `yes` is true.
                "keep": true,
                "replaced": "scalar",
                "nulled": null,
            })
        );
        assert!(is_f64(&v["a"]["b"]) && is_f64(&v["a"]["m"]));
    }

    #[test]
    fn empty_and_comment_only_documents_are_nothing() {
        let objects = [
            (
                ValuesKind::ConfigMap,
                "empty",
                cm(&[("values.yaml", "")], &[]),
            ),
            (
                ValuesKind::ConfigMap,
                "comment",
                cm(&[("values.yaml", "# nothing here\n")], &[]),
            ),
            (
                ValuesKind::ConfigMap,
                "one",
                cm(&[("values.yaml", "x: 1\n")], &[]),
            ),
        ];
        let refs = [
            reference(ValuesKind::ConfigMap, "one"),
            reference(ValuesKind::ConfigMap, "empty"),
            reference(ValuesKind::ConfigMap, "comment"),
        ];
        assert_eq!(run(&objects, &refs, None).unwrap(), json!({"x": 1.0}));
    }

    #[test]
    fn configmap_data_wins_over_binary_data_and_binary_data_is_read() {
        let objects = [(
            ValuesKind::ConfigMap,
            "cm",
            cm(
                &[("values.yaml", "from: data\n")],
                &[("values.yaml", b"from: binary\n"), ("bin.yaml", b"b: 2\n")],
            ),
        )];
        let refs = [
            reference(ValuesKind::ConfigMap, "cm"),
            with(
                reference(ValuesKind::ConfigMap, "cm"),
                Some("bin.yaml"),
                None,
                false,
            ),
        ];
        assert_eq!(
            run(&objects, &refs, None).unwrap(),
            json!({"from": "data", "b": 2.0})
        );
    }

    #[test]
    fn target_path_typed_and_quoted() {
        let objects = [(
            ValuesKind::Secret,
            "s",
            secret(&[
                ("int", b"42"),
                ("bool", b"true"),
                ("float", b"1.5"),
                ("zero", b"012"),
                ("single", b"'42'"),
                ("double", b"\"true\""),
                ("mixed", b"\"'x y'\""),
                ("list", b"{p,q}"),
                ("text", b"hello world"),
            ]),
        )];
        let at = |key: &str, path: &str| {
            with(
                reference(ValuesKind::Secret, "s"),
                Some(key),
                Some(path),
                false,
            )
        };
        let refs = [
            at("int", "a.b[0].c"),
            at("bool", "a.b[0].d"),
            at("float", "f"),
            at("zero", "z"),
            at("single", "q.single"),
            at("double", "q.double"),
            at("mixed", "q.mixed"),
            at("list", "l"),
            at("text", "esc\\.aped"),
        ];
        let v = run(&objects, &refs, None).unwrap();
        assert_eq!(
            v,
            json!({
                "a": {"b": [{"c": 42, "d": true}]},
                // --set typing: only integers become numbers.
                "f": "1.5",
                "z": "012",
                "q": {"single": "42", "double": "true", "mixed": "x y"},
                "l": ["p", "q"],
                "esc.aped": "hello world",
            })
        );
        // --set gives Go int64, not float64.
        assert!(!is_f64(&v["a"]["b"][0]["c"]));
    }

    #[test]
    fn target_path_then_document_then_inline() {
        let objects = [
            (ValuesKind::ConfigMap, "tp", cm(&[("v", "7")], &[])),
            (
                ValuesKind::ConfigMap,
                "doc",
                cm(&[("values.yaml", "a:\n  other: 1\n")], &[]),
            ),
        ];
        let refs = [
            with(
                reference(ValuesKind::ConfigMap, "tp"),
                Some("v"),
                Some("a.n"),
                false,
            ),
            reference(ValuesKind::ConfigMap, "doc"),
        ];
        let inline = json!({"a": {"other": 2, "list": [1, {"k": 3}]}, "top": "t"});
        let v = run(&objects, &refs, Some(inline)).unwrap();
        assert_eq!(
            v,
            json!({"a": {"n": 7, "other": 2.0, "list": [1.0, {"k": 3.0}]}, "top": "t"})
        );
        // Inline numbers are float64 as Flux's json.Unmarshal makes them.
        assert!(is_f64(&v["a"]["other"]) && is_f64(&v["a"]["list"][1]["k"]));
    }

    #[test]
    fn inline_only_and_inline_not_a_map() {
        assert_eq!(run(&[], &[], None).unwrap(), json!({}));
        assert_eq!(run(&[], &[], Some(Json::Null)).unwrap(), json!({}));
        let err = run(&[], &[], Some(json!([1]))).unwrap_err();
        assert_eq!(err.reason(), "InvalidValues");
        assert_eq!(err.to_string(), "spec.values is not a map (it is a list)");
    }

    #[test]
    fn missing_object_and_key_fail_unless_optional() {
        let objects = [(
            ValuesKind::ConfigMap,
            "cm",
            cm(&[("values.yaml", "x: 1\n")], &[]),
        )];
        let err = run(&objects, &[reference(ValuesKind::Secret, "cm")], None).unwrap_err();
        assert_eq!(err.to_string(), "Secret ns/cm not found");
        assert_eq!(err.reason(), "ValuesFromNotFound");
        let err = run(
            &objects,
            &[with(
                reference(ValuesKind::ConfigMap, "cm"),
                Some("other.yaml"),
                None,
                false,
            )],
            None,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "ConfigMap ns/cm: key other.yaml not found");
        assert_eq!(err.reason(), "ValuesFromNotFound");

        let refs = [
            with(reference(ValuesKind::Secret, "gone"), None, None, true),
            with(
                reference(ValuesKind::ConfigMap, "cm"),
                Some("other.yaml"),
                Some("p"),
                true,
            ),
            reference(ValuesKind::ConfigMap, "cm"),
        ];
        assert_eq!(run(&objects, &refs, None).unwrap(), json!({"x": 1.0}));
    }

    #[test]
    fn bad_documents_and_paths_are_invalid_values_naming_the_object() {
        let objects = [(
            ValuesKind::Secret,
            "bad",
            secret(&[
                ("list.yaml", b"- a\n- b\n"),
                ("broken.yaml", b"a: [\n"),
                ("binary", &[0xff, 0xfe, 0x00]),
                ("commas", b"a,b"),
            ]),
        )];
        for (key, path, want) in [
            (
                "list.yaml",
                None,
                "Secret ns/bad: key list.yaml is not a valid values document",
            ),
            (
                "broken.yaml",
                None,
                "Secret ns/bad: key broken.yaml is not a valid values document",
            ),
            (
                "binary",
                None,
                "Secret ns/bad: key binary is not UTF-8 text",
            ),
            (
                "commas",
                Some("x"),
                "Secret ns/bad: key commas cannot be set at target path \"x\"",
            ),
            (
                "list.yaml",
                Some("a[x]"),
                "Secret ns/bad: key list.yaml cannot be set at target path \"a[x]\"",
            ),
        ] {
            let r = with(reference(ValuesKind::Secret, "bad"), Some(key), path, false);
            let err = run(&objects, &[r], None).unwrap_err();
            assert_eq!(err.reason(), "InvalidValues", "{err}");
            assert!(err.to_string().starts_with(want), "{key}: {err}");
        }
        // Optional covers only absence, never a bad document.
        let r = with(
            reference(ValuesKind::Secret, "bad"),
            Some("broken.yaml"),
            None,
            true,
        );
        assert!(run(&objects, &[r], None).is_err());
    }

    #[test]
    fn oversized_documents_are_refused() {
        let big = format!("x: \"{}\"\n", "a".repeat(MAX_DOCUMENT_BYTES));
        let objects = [(
            ValuesKind::ConfigMap,
            "big",
            cm(&[("values.yaml", &big)], &[]),
        )];
        let err = run(&objects, &[reference(ValuesKind::ConfigMap, "big")], None).unwrap_err();
        assert_eq!(err.reason(), "InvalidValues");
        assert!(
            err.to_string().contains("more than the 4194304 bytes"),
            "{err}"
        );
    }

    #[test]
    fn referenced_objects_once_each_in_order() {
        let refs = [
            reference(ValuesKind::Secret, "a"),
            with(reference(ValuesKind::ConfigMap, "a"), Some("k"), None, true),
            reference(ValuesKind::Secret, "a"),
            reference(ValuesKind::ConfigMap, "b"),
        ];
        assert_eq!(
            referenced_objects("ns", &refs),
            vec![
                (ValuesKind::Secret, "ns".to_string(), "a".to_string()),
                (ValuesKind::ConfigMap, "ns".to_string(), "a".to_string()),
                (ValuesKind::ConfigMap, "ns".to_string(), "b".to_string()),
            ]
        );
    }
}
