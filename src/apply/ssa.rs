//! Server-side apply of rendered documents.
//!
//! Each document is parsed (YAML → [`DynamicObject`]), its kind resolved
//! through [`Discovered`], its namespace defaulted to the target namespace
//! when the kind is namespaced (and dropped when it is cluster-scoped),
//! marked with Helm's ownership label and annotations so that `helm` sees
//! it as part of the release, and applied with field manager `berth`
//! (conflicts forced only when asked). CustomResourceDefinitions go first
//! and are waited on until `Established`, then discovery is refreshed so
//! that custom resources of the same chart resolve.

use std::time::{Duration, Instant};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::Client;
use serde_json::{json, Value};

use super::discovery::{Discovered, DiscoveryError};
use super::{
    ObjectName, FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, RELEASE_NAMESPACE_ANNOTATION,
    RELEASE_NAME_ANNOTATION,
};

const CRD_API_VERSION: &str = "apiextensions.k8s.io/v1";
const CRD_KIND: &str = "CustomResourceDefinition";

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The Helm release the objects belong to (ownership annotations).
    pub release_name: String,
    pub release_namespace: String,
    /// Where namespaced objects without a namespace go.
    pub target_namespace: String,
    /// Create the target namespace first.
    pub create_namespace: bool,
    /// Take over fields another manager owns (SSA `force`).
    pub force: bool,
    /// How long to wait for each CRD to be `Established`.
    pub crd_timeout: Duration,
}

/// Why applying failed. Every variant names the document or the object.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("document {source_name}: failed to parse: {reason}")]
    Parse { source_name: String, reason: String },
    #[error("document {source_name}: {reason}")]
    InvalidDocument { source_name: String, reason: String },
    #[error("{object} (document {source_name}): {reason}")]
    UnknownKind {
        object: ObjectName,
        source_name: String,
        /// True when no CRD defines the kind.
        crd_missing: bool,
        reason: String,
    },
    #[error("failed to discover the API server's resources: {0}")]
    Discovery(#[from] DiscoveryError),
    #[error("failed to create namespace {namespace}: {source}")]
    CreateNamespace {
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error("{object}: failed to apply: {source}")]
    Apply {
        object: ObjectName,
        #[source]
        source: kube::Error,
    },
    #[error("{object}: not Established after {timeout:?}: {last}")]
    CrdNotEstablished {
        object: ObjectName,
        timeout: Duration,
        last: String,
    },
}

/// One document ready to apply.
#[derive(Debug, Clone)]
pub struct Document {
    /// Where it came from (`chart/templates/x.yaml`), for errors.
    pub source: String,
    pub object: DynamicObject,
    pub api_version: String,
    pub kind: String,
}

/// One applied object.
#[derive(Debug, Clone)]
pub struct Applied {
    pub name: ObjectName,
    pub resource: ApiResource,
    pub namespaced: bool,
    /// The object as the server returned it after the apply.
    pub live: DynamicObject,
}

/// Parse the YAML documents of `text` (several per file allowed; empty
/// documents skipped). `source` names the file in errors.
pub fn parse_documents(source: &str, text: &str) -> Result<Vec<Document>, ApplyError> {
    let values: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| ApplyError::Parse {
        source_name: source.to_string(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    for value in values {
        if value.is_null() {
            continue;
        }
        let invalid = |reason: &str| ApplyError::InvalidDocument {
            source_name: source.to_string(),
            reason: reason.to_string(),
        };
        let map = value.as_object().ok_or_else(|| invalid("not a mapping"))?;
        let api_version = map
            .get("apiVersion")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("apiVersion is missing"))?
            .to_string();
        let kind = map
            .get("kind")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("kind is missing"))?
            .to_string();
        let object: DynamicObject = serde_json::from_value(value.clone())
            .map_err(|e| invalid(&format!("{kind}: invalid object: {e}")))?;
        if object.metadata.name.as_deref().unwrap_or("").is_empty() {
            return Err(invalid(&format!("{kind}: metadata.name is missing")));
        }
        out.push(Document {
            source: source.to_string(),
            object,
            api_version,
            kind,
        });
    }
    Ok(out)
}

fn is_crd(doc: &Document) -> bool {
    doc.kind == CRD_KIND && doc.api_version == CRD_API_VERSION
}

/// Mark `object` as belonging to the release (Helm's ownership metadata).
pub fn set_ownership(object: &mut DynamicObject, release_name: &str, release_namespace: &str) {
    object
        .metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string());
    let annotations = object
        .metadata
        .annotations
        .get_or_insert_with(Default::default);
    annotations.insert(
        RELEASE_NAME_ANNOTATION.to_string(),
        release_name.to_string(),
    );
    annotations.insert(
        RELEASE_NAMESPACE_ANNOTATION.to_string(),
        release_namespace.to_string(),
    );
}

/// Whether the live object carries the release's ownership annotations.
pub fn owned_by(object: &DynamicObject, release_name: &str, release_namespace: &str) -> bool {
    let Some(a) = object.metadata.annotations.as_ref() else {
        return false;
    };
    a.get(RELEASE_NAME_ANNOTATION).map(String::as_str) == Some(release_name)
        && a.get(RELEASE_NAMESPACE_ANNOTATION).map(String::as_str) == Some(release_namespace)
}

/// Apply `crds` (the chart's `crds/` files) and `documents` (rendered
/// manifests in install order): CRDs first, each waited on until
/// `Established`, then everything else in order. `discovered` is refreshed
/// after CRDs were applied. Returns the applied objects in apply order.
pub async fn apply_all(
    client: &Client,
    discovered: &mut Discovered,
    crds: &[Document],
    documents: &[Document],
    opts: &ApplyOptions,
) -> Result<Vec<Applied>, ApplyError> {
    if opts.create_namespace {
        create_namespace(client, &opts.target_namespace).await?;
    }
    let (crd_docs, rest): (Vec<&Document>, Vec<&Document>) =
        crds.iter().chain(documents.iter()).partition(|d| is_crd(d));
    let mut applied = Vec::new();
    for doc in &crd_docs {
        let a = apply_one(client, discovered, doc, opts).await?;
        wait_established(client, &a.name, opts.crd_timeout).await?;
        applied.push(a);
    }
    if !crd_docs.is_empty() {
        *discovered = Discovered::run(client).await?;
    }
    // Resolve everything before changing anything, so that an unknown
    // kind fails the whole apply rather than half of it.
    for doc in &rest {
        resolve(client, discovered, doc).await?;
    }
    for doc in rest {
        applied.push(apply_one(client, discovered, doc, opts).await?);
    }
    Ok(applied)
}

async fn resolve<'a>(
    client: &Client,
    discovered: &'a Discovered,
    doc: &Document,
) -> Result<&'a super::discovery::Resolved, ApplyError> {
    match discovered.resolve(&doc.api_version, &doc.kind) {
        Some(r) => Ok(r),
        None => {
            let reason = discovered
                .explain_unknown(client, &doc.api_version, &doc.kind)
                .await;
            Err(ApplyError::UnknownKind {
                object: ObjectName {
                    kind: doc.kind.clone(),
                    namespace: doc.object.metadata.namespace.clone(),
                    name: doc.object.metadata.name.clone().unwrap_or_default(),
                },
                source_name: doc.source.clone(),
                crd_missing: reason.contains("no CustomResourceDefinition defines it"),
                reason,
            })
        }
    }
}

async fn apply_one(
    client: &Client,
    discovered: &Discovered,
    doc: &Document,
    opts: &ApplyOptions,
) -> Result<Applied, ApplyError> {
    let resolved = resolve(client, discovered, doc).await?.clone();
    let mut object = doc.object.clone();
    if resolved.namespaced {
        if object
            .metadata
            .namespace
            .as_deref()
            .unwrap_or("")
            .is_empty()
        {
            object.metadata.namespace = Some(opts.target_namespace.clone());
        }
    } else {
        object.metadata.namespace = None;
    }
    set_ownership(&mut object, &opts.release_name, &opts.release_namespace);
    let name = ObjectName {
        kind: doc.kind.clone(),
        namespace: object.metadata.namespace.clone(),
        name: object.metadata.name.clone().unwrap_or_default(),
    };
    let api: Api<DynamicObject> = match &object.metadata.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resolved.resource),
        None => Api::all_with(client.clone(), &resolved.resource),
    };
    // Server-side apply wants the fields it owns, not the bookkeeping the
    // server adds.
    object.metadata.resource_version = None;
    object.metadata.managed_fields = None;
    let mut params = PatchParams::apply(FIELD_MANAGER);
    if opts.force {
        params = params.force();
    }
    tracing::debug!(object = %name, "applying");
    let live = api
        .patch(&name.name, &params, &Patch::Apply(&object))
        .await
        .map_err(|source| ApplyError::Apply {
            object: name.clone(),
            source,
        })?;
    Ok(Applied {
        name,
        resource: resolved.resource,
        namespaced: resolved.namespaced,
        live,
    })
}

async fn create_namespace(client: &Client, namespace: &str) -> Result<(), ApplyError> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
    api.patch(
        namespace,
        &PatchParams::apply(FIELD_MANAGER),
        &Patch::Apply(&body),
    )
    .await
    .map(|_| ())
    .map_err(|source| ApplyError::CreateNamespace {
        namespace: namespace.to_string(),
        source,
    })
}

async fn wait_established(
    client: &Client,
    object: &ObjectName,
    timeout: Duration,
) -> Result<(), ApplyError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let start = Instant::now();
    let mut last;
    loop {
        match api.get(&object.name).await {
            Ok(crd) => {
                let conditions = crd.status.and_then(|s| s.conditions).unwrap_or_default();
                match conditions.iter().find(|c| c.type_ == "Established") {
                    Some(c) if c.status == "True" => return Ok(()),
                    Some(c) => {
                        last = format!(
                            "Established={} {}",
                            c.status,
                            c.message.clone().unwrap_or_default()
                        )
                    }
                    None => last = "no Established condition yet".to_string(),
                }
            }
            Err(e) => last = format!("failed to read it: {e}"),
        }
        if start.elapsed() >= timeout {
            return Err(ApplyError::CrdNotEstablished {
                object: object.clone(),
                timeout,
                last,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documents_and_skips_empty_ones() {
        let docs = parse_documents(
            "c/crds/a.yaml",
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n---\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\n",
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].kind, "ConfigMap");
        assert_eq!(docs[0].object.data["data"]["k"], "v");
        assert_eq!(docs[1].object.metadata.namespace.as_deref(), Some("apps"));
    }

    #[test]
    fn refuses_documents_without_head() {
        let e = parse_documents(
            "c/templates/x.yaml",
            "kind: ConfigMap\nmetadata:\n  name: a\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "document c/templates/x.yaml: apiVersion is missing"
        );
        let e =
            parse_documents("c/templates/x.yaml", "apiVersion: v1\nkind: ConfigMap\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "document c/templates/x.yaml: ConfigMap: metadata.name is missing"
        );
    }

    #[test]
    fn ownership_is_helms() {
        let mut docs = parse_documents(
            "x",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
        )
        .unwrap();
        let obj = &mut docs[0].object;
        assert!(!owned_by(obj, "rel", "ns"));
        set_ownership(obj, "rel", "ns");
        assert!(owned_by(obj, "rel", "ns"));
        assert!(!owned_by(obj, "rel", "other"));
        assert_eq!(
            obj.metadata.labels.as_ref().unwrap()["app.kubernetes.io/managed-by"],
            "Helm"
        );
    }
}
