//! Drift detection: is the cluster still what berth applied?
//!
//! As Flux does it (`fluxcd/pkg/ssa` dry-run diff, helm-controller's
//! drift detection): each desired object is applied with server-side
//! apply in dry-run mode (field manager `berth`, conflicts forced, the
//! same ownership metadata as [`ssa::apply_all`]), and the result — the
//! object as it would be if berth applied now — is compared with the live
//! object. Fields the server manages (`managedFields`, `resourceVersion`,
//! `generation`) and `status` are left out, so defaults, server-set
//! fields and fields other managers added do not count; only what berth
//! would change does. Ignore rules remove their JSON pointers from both
//! sides before comparing. An object that is not there is `missing`.
//!
//! Correcting is re-applying with `force` ([`ssa::apply_all`]): it takes
//! back the fields another manager changed (`kubectl edit`, `kubectl
//! patch`, `kubectl scale`) and recreates deleted objects.

use kube::api::{DynamicObject, Patch, PatchParams};
use kube::Client;
use serde_json::Value;

use super::discovery::{split_api_version, Discovered};
use super::ssa::{self, kube_message, ApplyError};
use super::{ObjectName, FIELD_MANAGER};
use crate::api::helm_release::{IgnoreRule, ObjectSelector};

/// At most this many changed pointers are listed per object.
pub const MAX_CHANGED: usize = 32;

/// One object that differs from the desired state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub object: ObjectName,
    /// Not on the cluster.
    pub missing: bool,
    /// JSON pointers (RFC 6901) of the fields berth would change, sorted,
    /// the first [`MAX_CHANGED`] of them.
    pub changed: Vec<String>,
}

/// Why drift detection failed.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error(transparent)]
    Prepare(Box<ApplyError>),
    #[error("{object}: failed to read it: {}", kube_message(.source))]
    Get {
        object: ObjectName,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("{object}: dry-run apply failed: {}", kube_message(.source))]
    DryRun {
        object: ObjectName,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("{object}: failed to compare: {reason}")]
    Compare { object: ObjectName, reason: String },
}

impl From<ApplyError> for DriftError {
    fn from(e: ApplyError) -> Self {
        DriftError::Prepare(Box::new(e))
    }
}

/// Compare the desired `documents` (applied as [`ssa::apply_all`] applies
/// them with `opts`) with the live objects by server-side dry-run apply,
/// skipping the fields of the `ignore` rules that select each object.
/// Returns only the objects that drifted, in document order.
pub async fn detect(
    client: &Client,
    discovered: &Discovered,
    documents: &[ssa::Document],
    opts: &ssa::ApplyOptions,
    ignore: &[IgnoreRule],
) -> Result<Vec<Drift>, DriftError> {
    let mut drifts = Vec::new();
    for doc in documents {
        if discovered.resolve(&doc.api_version, &doc.kind).is_none() {
            // Its kind is not served (a CRD deleted by hand took its
            // resources with it): missing, re-applying brings it back.
            drifts.push(Drift {
                object: ObjectName {
                    kind: doc.kind.clone(),
                    namespace: doc
                        .object
                        .metadata
                        .namespace
                        .clone()
                        .or_else(|| Some(opts.target_namespace.clone())),
                    name: doc.object.metadata.name.clone().unwrap_or_default(),
                },
                missing: true,
                changed: Vec::new(),
            });
            continue;
        }
        let (object, name, api, resolved) =
            ssa::prepare_document(client, discovered, doc, opts).await?;
        let live = match api.get_opt(&name.name).await {
            Ok(Some(live)) => live,
            Ok(None) => {
                drifts.push(Drift {
                    object: name,
                    missing: true,
                    changed: Vec::new(),
                });
                continue;
            }
            Err(source) => {
                return Err(DriftError::Get {
                    object: name,
                    source: Box::new(source),
                })
            }
        };
        let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
        let desired: DynamicObject = api
            .patch(&name.name, &params, &Patch::Apply(&object))
            .await
            .map_err(|source| DriftError::DryRun {
                object: name.clone(),
                source: Box::new(source),
            })?;
        let to_value = |o: &DynamicObject| {
            serde_json::to_value(o).map_err(|e| DriftError::Compare {
                object: name.clone(),
                reason: e.to_string(),
            })
        };
        let (mut live, mut desired) = (to_value(&live)?, to_value(&desired)?);
        let (_, version) = split_api_version(&doc.api_version);
        let pointers: Vec<&str> = ignore
            .iter()
            .filter(|r| {
                r.target.as_ref().is_none_or(|t| {
                    selects(
                        t,
                        &resolved.resource.group,
                        version,
                        &resolved.resource.kind,
                        &name,
                    )
                })
            })
            .flat_map(|r| r.paths.iter().map(String::as_str))
            .collect();
        for v in [&mut live, &mut desired] {
            normalize(v);
            for p in &pointers {
                remove_pointer(v, p);
            }
        }
        let mut changed = Vec::new();
        diff(&live, &desired, &mut String::new(), &mut changed);
        if !changed.is_empty() {
            changed.sort();
            changed.truncate(MAX_CHANGED);
            tracing::info!(object = %name, changed = ?changed, "drift detected");
            drifts.push(Drift {
                object: name,
                missing: false,
                changed,
            });
        }
    }
    Ok(drifts)
}

/// Whether `selector` selects the object (every field set must equal).
pub fn selects(
    selector: &ObjectSelector,
    group: &str,
    version: &str,
    kind: &str,
    object: &ObjectName,
) -> bool {
    let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    eq(&selector.group, group)
        && eq(&selector.version, version)
        && eq(&selector.kind, kind)
        && eq(&selector.name, &object.name)
        && eq(
            &selector.namespace,
            object.namespace.as_deref().unwrap_or(""),
        )
}

/// Drop what the server manages and what berth does not apply.
fn normalize(v: &mut Value) {
    if let Some(obj) = v.as_object_mut() {
        obj.remove("status");
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in ["managedFields", "resourceVersion", "generation"] {
                meta.remove(k);
            }
        }
    }
}

/// Decode one RFC 6901 reference token.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Remove the value at JSON pointer `pointer` from `v`, if there is one.
pub fn remove_pointer(v: &mut Value, pointer: &str) {
    let Some(rest) = pointer.strip_prefix('/') else {
        return;
    };
    let tokens: Vec<String> = rest.split('/').map(unescape).collect();
    let Some((last, parents)) = tokens.split_last() else {
        return;
    };
    let mut cur = v;
    for t in parents {
        cur = match cur {
            Value::Object(m) => match m.get_mut(t) {
                Some(next) => next,
                None => return,
            },
            Value::Array(a) => match t.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(next) => next,
                None => return,
            },
            _ => return,
        };
    }
    match cur {
        Value::Object(m) => {
            m.remove(last);
        }
        Value::Array(a) => {
            if let Some(i) = last.parse::<usize>().ok().filter(|i| *i < a.len()) {
                a.remove(i);
            }
        }
        _ => {}
    }
}

/// The pointers where `a` and `b` differ: keys present on one side only,
/// differing scalars, and arrays of different length (as a whole).
fn diff(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let len = path.len();
                path.push('/');
                path.push_str(&escape(k));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => diff(p, q, path, out),
                    _ => out.push(path.clone()),
                }
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                diff(p, q, path, out);
                path.truncate(len);
            }
        }
        _ if a == b => {}
        _ => out.push(if path.is_empty() {
            "/".to_string()
        } else {
            path.clone()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_lists_pointers() {
        let live = json!({
            "metadata": {"name": "a", "resourceVersion": "5", "managedFields": [1], "generation": 3,
                "annotations": {"x/y": "1"}},
            "spec": {"replicas": 3, "ports": [{"port": 80}, {"port": 81}], "extra": true},
            "status": {"ready": 1}
        });
        let desired = json!({
            "metadata": {"name": "a", "resourceVersion": "5", "generation": 4,
                "annotations": {"x/y": "2"}},
            "spec": {"replicas": 1, "ports": [{"port": 80}, {"port": 82}]},
            "status": {"ready": 0}
        });
        let (mut l, mut d) = (live, desired);
        normalize(&mut l);
        normalize(&mut d);
        let mut out = Vec::new();
        diff(&l, &d, &mut String::new(), &mut out);
        out.sort();
        assert_eq!(
            out,
            [
                "/metadata/annotations/x~1y",
                "/spec/extra",
                "/spec/ports/1/port",
                "/spec/replicas"
            ]
        );
    }

    #[test]
    fn pointers_are_removed() {
        let mut v = json!({"spec": {"replicas": 3, "a/b": {"c~d": 1, "e": 2}, "list": [1, 2, 3]}});
        remove_pointer(&mut v, "/spec/replicas");
        remove_pointer(&mut v, "/spec/a~1b/c~0d");
        remove_pointer(&mut v, "/spec/list/1");
        remove_pointer(&mut v, "/spec/nothing/here");
        remove_pointer(&mut v, "not-a-pointer");
        assert_eq!(v, json!({"spec": {"a/b": {"e": 2}, "list": [1, 3]}}));
    }

    #[test]
    fn selector_fields_must_all_match() {
        let o = ObjectName {
            kind: "Deployment".into(),
            namespace: Some("apps".into()),
            name: "web".into(),
        };
        let mut s = ObjectSelector {
            kind: Some("Deployment".into()),
            ..Default::default()
        };
        assert!(selects(&s, "apps", "v1", "Deployment", &o));
        s.namespace = Some("other".into());
        assert!(!selects(&s, "apps", "v1", "Deployment", &o));
        s.namespace = Some("apps".into());
        s.group = Some("apps".into());
        s.version = Some("v1".into());
        s.name = Some("web".into());
        assert!(selects(&s, "apps", "v1", "Deployment", &o));
        assert!(!selects(&s, "apps", "v1", "StatefulSet", &o));
    }
}
