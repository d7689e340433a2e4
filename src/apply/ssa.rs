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

use super::discovery::{Discovered, DiscoveryError, Resolved};
use super::{
    ObjectName, FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, RELEASE_NAMESPACE_ANNOTATION,
    RELEASE_NAME_ANNOTATION,
};
use crate::api::helm_release::CrdsPolicy;

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
    /// What to do with the chart's `crds/` files (CRDs among the rendered
    /// templates are always applied).
    pub crds: CrdsPolicy,
    /// Adopt existing objects that do not carry the release's ownership
    /// metadata (Helm's `--take-ownership`); otherwise such an object
    /// fails the apply before anything of its phase is applied.
    pub take_ownership: bool,
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
    #[error("failed to create namespace {namespace}: {}", kube_message(.source))]
    CreateNamespace {
        namespace: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("{object}: failed to apply: {}", kube_message(.source))]
    Apply {
        object: ObjectName,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("{object} exists and cannot be imported into the current release: {reason}")]
    NotOwned { object: ObjectName, reason: String },
    #[error("{object}: failed to read it: {}", kube_message(.source))]
    Get {
        object: ObjectName,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("{object}: not Established after {timeout:?}: {last}")]
    CrdNotEstablished {
        object: ObjectName,
        timeout: Duration,
        last: String,
    },
}

/// The API server's message for API errors (the `Status` they carry is
/// noise in a condition), the error itself otherwise.
pub fn kube_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
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
    /// A CRD of the chart's `crds/` directory: like Helm, berth never
    /// deletes those, so they stay out of the inventory.
    pub from_crds_dir: bool,
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

/// The documents of a render: (the chart's `crds/` files, the manifests
/// in install order). Hooks are left to the caller.
pub fn documents_of(
    rendered: &berth_render::Rendered,
) -> Result<(Vec<Document>, Vec<Document>), ApplyError> {
    let mut crds = Vec::new();
    for c in &rendered.crds {
        crds.extend(parse_documents(&c.source, &c.content)?);
    }
    let mut docs = Vec::new();
    for m in &rendered.manifests {
        docs.extend(parse_documents(&m.source, &m.content)?);
    }
    Ok((crds, docs))
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

/// Why `object` does not belong to the release, in Helm's words
/// (`checkOwnership` in `pkg/action/validate.go`): the managed-by label
/// and both release annotations must be set to the release.
pub fn ownership_error(
    object: &DynamicObject,
    release_name: &str,
    release_namespace: &str,
) -> Option<String> {
    fn require(
        map: Option<&std::collections::BTreeMap<String, String>>,
        key: &str,
        want: &str,
    ) -> Option<String> {
        match map.and_then(|m| m.get(key)) {
            None => Some(format!("missing key {key:?}: must be set to {want:?}")),
            Some(v) if v != want => Some(format!(
                "key {key:?} must equal {want:?}: current value is {v:?}"
            )),
            Some(_) => None,
        }
    }
    let labels = object.metadata.labels.as_ref();
    let annotations = object.metadata.annotations.as_ref();
    let errors: Vec<String> = [
        require(labels, MANAGED_BY_LABEL, MANAGED_BY_VALUE)
            .map(|e| format!("label validation error: {e}")),
        require(annotations, RELEASE_NAME_ANNOTATION, release_name)
            .map(|e| format!("annotation validation error: {e}")),
        require(annotations, RELEASE_NAMESPACE_ANNOTATION, release_namespace)
            .map(|e| format!("annotation validation error: {e}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!errors.is_empty()).then(|| format!("invalid ownership metadata; {}", errors.join("; ")))
}

/// Whether the live object belongs to the release (Helm's ownership
/// label and annotations).
pub fn owned_by(object: &DynamicObject, release_name: &str, release_namespace: &str) -> bool {
    ownership_error(object, release_name, release_namespace).is_none()
}

/// Apply `crds` (the chart's `crds/` files, per `opts.crds`) and
/// `documents` (rendered manifests in install order): CRDs first, each
/// waited on until `Established`, then everything else in order.
/// `discovered` is refreshed after CRDs were applied. Returns the applied
/// objects in apply order.
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
    let mut applied = Vec::new();
    let mut any_crd = false;
    // The crds/ directory: Helm installs these without ownership checks
    // and never deletes them.
    if opts.crds != CrdsPolicy::Skip {
        for doc in crds {
            let (_, name, api, _) = target(client, discovered, doc, opts).await?;
            if opts.crds == CrdsPolicy::Create {
                let live = api
                    .get_opt(&name.name)
                    .await
                    .map_err(|source| ApplyError::Get {
                        object: name.clone(),
                        source: Box::new(source),
                    })?;
                if live.is_some() {
                    tracing::debug!(object = %name, "exists; crds policy Create leaves it");
                    continue;
                }
            }
            let mut a = apply_one(client, discovered, doc, opts).await?;
            if is_crd(doc) {
                wait_established(client, &a.name, opts.crd_timeout).await?;
                any_crd = true;
            }
            a.from_crds_dir = true;
            applied.push(a);
        }
    }
    let (crd_docs, rest): (Vec<&Document>, Vec<&Document>) =
        documents.iter().partition(|d| is_crd(d));
    for doc in &crd_docs {
        check_ownership(client, discovered, doc, opts).await?;
    }
    for doc in &crd_docs {
        let a = apply_one(client, discovered, doc, opts).await?;
        wait_established(client, &a.name, opts.crd_timeout).await?;
        any_crd = true;
        applied.push(a);
    }
    if any_crd {
        *discovered = Discovered::run(client).await?;
    }
    // Resolve everything before changing anything, so that an unknown
    // kind fails the whole apply rather than half of it.
    for doc in &rest {
        resolve(client, discovered, doc).await?;
    }
    for doc in &rest {
        check_ownership(client, discovered, doc, opts).await?;
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
) -> Result<&'a Resolved, ApplyError> {
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

/// The object as it will be applied (namespace defaulted or dropped,
/// ownership metadata set), its name and the API to reach it.
async fn target(
    client: &Client,
    discovered: &Discovered,
    doc: &Document,
    opts: &ApplyOptions,
) -> Result<(DynamicObject, ObjectName, Api<DynamicObject>, Resolved), ApplyError> {
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
    Ok((object, name, api, resolved))
}

/// A document as [`apply_all`] applies it: the object (namespace
/// defaulted or dropped, ownership metadata set, no resourceVersion or
/// managedFields), its name, the API to reach it and its resource. An
/// unknown kind is [`ApplyError::UnknownKind`].
pub async fn prepare_document(
    client: &Client,
    discovered: &Discovered,
    doc: &Document,
    opts: &ApplyOptions,
) -> Result<(DynamicObject, ObjectName, Api<DynamicObject>, Resolved), ApplyError> {
    let (mut object, name, api, resolved) = target(client, discovered, doc, opts).await?;
    object.metadata.resource_version = None;
    object.metadata.managed_fields = None;
    Ok((object, name, api, resolved))
}

/// Refuse an existing object that belongs to no release or another one
/// (Helm's `existingResourceConflict`), unless ownership is taken.
async fn check_ownership(
    client: &Client,
    discovered: &Discovered,
    doc: &Document,
    opts: &ApplyOptions,
) -> Result<(), ApplyError> {
    if opts.take_ownership {
        return Ok(());
    }
    let (_, name, api, _) = target(client, discovered, doc, opts).await?;
    let live = api
        .get_opt(&name.name)
        .await
        .map_err(|source| ApplyError::Get {
            object: name.clone(),
            source: Box::new(source),
        })?;
    match live.and_then(|l| ownership_error(&l, &opts.release_name, &opts.release_namespace)) {
        Some(reason) => Err(ApplyError::NotOwned {
            object: name,
            reason,
        }),
        None => Ok(()),
    }
}

async fn apply_one(
    client: &Client,
    discovered: &Discovered,
    doc: &Document,
    opts: &ApplyOptions,
) -> Result<Applied, ApplyError> {
    let (mut object, name, api, resolved) = target(client, discovered, doc, opts).await?;
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
            source: Box::new(source),
        })?;
    Ok(Applied {
        name,
        resource: resolved.resource,
        namespaced: resolved.namespaced,
        live,
        from_crds_dir: false,
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
        source: Box::new(source),
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
        assert_eq!(
            obj.metadata.labels.as_ref().unwrap()["app.kubernetes.io/managed-by"],
            "Helm"
        );
        assert_eq!(
            ownership_error(obj, "rel", "other").as_deref(),
            Some(
                r#"invalid ownership metadata; annotation validation error: key "meta.helm.sh/release-namespace" must equal "other": current value is "ns""#
            )
        );
        obj.metadata.labels = None;
        assert_eq!(
            ownership_error(obj, "rel", "ns").as_deref(),
            Some(
                r#"invalid ownership metadata; label validation error: missing key "app.kubernetes.io/managed-by": must be set to "Helm""#
            )
        );
    }
}
