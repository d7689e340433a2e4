//! Uninstall: delete a release's objects, as Helm v4.3.1's
//! `Uninstall.deleteRelease` does (`pkg/action/uninstall.go`): objects
//! marked `helm.sh/resource-policy: keep` stay, objects that do not carry
//! the release's ownership metadata are skipped (Helm's
//! `verifyOwnershipBeforeDelete`), and with `wait` the call returns once
//! they are gone (Helm's `WaitForDelete`).
//!
//! Order: the reverse of the given order (the release manifest and the
//! inventory are in install order, so custom resources go before their
//! CRDs and workloads before their ConfigMaps and ServiceAccounts).

use std::time::{Duration, Instant};

use kube::api::{Api, DeleteParams, DynamicObject, PropagationPolicy};
use kube::Client;

use super::discovery::{split_api_version, Discovered};
use super::inventory::{has_keep_policy, ObjectRef, PruneReport};
use super::ssa::{kube_message, owned_by, parse_documents};
use super::ObjectName;
use crate::api::helm_release::DeletionPropagation;

/// Why uninstalling failed.
#[derive(Debug, thiserror::Error)]
pub enum UninstallError {
    #[error("manifest document {document}: {reason}")]
    Manifest { document: String, reason: String },
    #[error("manifest document {document}: {object}: the API server does not serve kind {} in {api_version}", .object.kind)]
    UnknownKind {
        document: String,
        object: ObjectName,
        api_version: String,
    },
    #[error("{object}: failed to read it before deleting: {}", kube_message(.source))]
    Get {
        object: ObjectName,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("{object}: failed to delete: {}", kube_message(.source))]
    Delete {
        object: ObjectName,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("timed out after {timeout:?} waiting for the deletion of {}", names(.remaining))]
    Timeout {
        timeout: Duration,
        /// Deleted but still there.
        remaining: Vec<ObjectName>,
    },
}

fn names(list: &[ObjectName]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn propagation_policy(p: DeletionPropagation) -> PropagationPolicy {
    match p {
        DeletionPropagation::Background => PropagationPolicy::Background,
        DeletionPropagation::Foreground => PropagationPolicy::Foreground,
        DeletionPropagation::Orphan => PropagationPolicy::Orphan,
    }
}

/// Delete `objects` (the release's objects, in install order) last
/// first, with `propagation`, skipping those marked
/// `helm.sh/resource-policy: keep` and those the release
/// `release_name`/`release_namespace` does not own. With `wait`, return
/// once every deleted object is gone, or fail naming those left.
pub async fn delete_objects(
    client: &Client,
    discovered: &Discovered,
    objects: &[ObjectRef],
    release_name: &str,
    release_namespace: &str,
    propagation: DeletionPropagation,
    wait: Option<Duration>,
) -> Result<PruneReport, UninstallError> {
    let mut report = PruneReport::default();
    let params = DeleteParams {
        propagation_policy: Some(propagation_policy(propagation)),
        ..DeleteParams::default()
    };
    let mut deleted: Vec<(ObjectName, Api<DynamicObject>)> = Vec::new();
    for r in objects.iter().rev() {
        let object = r.object_name();
        let Some(api) = api_for(client, discovered, r) else {
            // Not served at any version any more (its CRD is gone): the
            // object went with it.
            report.missing.push(object);
            continue;
        };
        let live = match api.get_opt(&r.name).await {
            Ok(Some(live)) => live,
            Ok(None) => {
                report.missing.push(object);
                continue;
            }
            Err(source) => {
                return Err(UninstallError::Get {
                    object,
                    source: Box::new(source),
                })
            }
        };
        if !owned_by(&live, release_name, release_namespace) {
            tracing::warn!(object = %object, release = release_name, "not deleted: not owned by the release");
            report.not_owned.push(object);
            continue;
        }
        if has_keep_policy(&live) {
            tracing::info!(object = %object, "not deleted: helm.sh/resource-policy: keep");
            report.kept.push(object);
            continue;
        }
        match api.delete(&r.name, &params).await {
            Ok(_) => {
                tracing::debug!(object = %object, "deleted");
                report.deleted.push(object.clone());
                deleted.push((object, api));
            }
            Err(kube::Error::Api(s)) if s.code == 404 => report.missing.push(object),
            Err(source) => {
                return Err(UninstallError::Delete {
                    object,
                    source: Box::new(source),
                })
            }
        }
    }
    if let Some(timeout) = wait {
        wait_deleted(&deleted, timeout).await?;
    }
    Ok(report)
}

fn api_for(client: &Client, discovered: &Discovered, r: &ObjectRef) -> Option<Api<DynamicObject>> {
    let api_version = if r.group.is_empty() {
        r.version.clone()
    } else {
        format!("{}/{}", r.group, r.version)
    };
    let resolved = discovered
        .resolve(&api_version, &r.kind)
        .or_else(|| discovered.resolve_group_kind(&r.group, &r.kind))?;
    Some(if resolved.namespaced {
        Api::namespaced_with(client.clone(), &r.namespace, &resolved.resource)
    } else {
        Api::all_with(client.clone(), &resolved.resource)
    })
}

/// Wait until every object of `deleted` is gone (a read error counts as
/// still there until the time is up).
async fn wait_deleted(
    deleted: &[(ObjectName, Api<DynamicObject>)],
    timeout: Duration,
) -> Result<(), UninstallError> {
    let start = Instant::now();
    let mut pending: Vec<&(ObjectName, Api<DynamicObject>)> = deleted.iter().collect();
    loop {
        let mut still = Vec::new();
        for entry in pending {
            let (object, api) = entry;
            match api.get_opt(&object.name).await {
                Ok(None) => {}
                Ok(Some(_)) => still.push(entry),
                Err(e) => {
                    tracing::debug!(object = %object, "waiting for deletion: {}", kube_message(&e));
                    still.push(entry);
                }
            }
        }
        if still.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            return Err(UninstallError::Timeout {
                timeout,
                remaining: still.into_iter().map(|(o, _)| o.clone()).collect(),
            });
        }
        pending = still;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The object references of a Helm release manifest (`---` separated
/// documents with `# Source:` comments), in manifest order. Namespaced
/// kinds without a namespace get `default_namespace`; cluster-scoped
/// kinds lose any namespace. A kind the server does not serve is an error
/// naming the document.
pub fn refs_of_manifest(
    discovered: &Discovered,
    manifest: &str,
    default_namespace: &str,
) -> Result<Vec<ObjectRef>, UninstallError> {
    let mut refs = Vec::new();
    for (i, doc) in berth_render::manifest::split_manifests(manifest)
        .into_iter()
        .enumerate()
    {
        if doc.trim().is_empty() {
            continue;
        }
        let document = doc
            .lines()
            .find_map(|l| l.trim().strip_prefix("# Source:"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| format!("#{}", i + 1));
        let parsed = parse_documents(&document, doc).map_err(|e| UninstallError::Manifest {
            document: document.clone(),
            reason: e.to_string(),
        })?;
        for d in parsed {
            let name = d.object.metadata.name.clone().unwrap_or_default();
            let Some(resolved) = discovered.resolve(&d.api_version, &d.kind) else {
                return Err(UninstallError::UnknownKind {
                    document,
                    object: ObjectName {
                        kind: d.kind.clone(),
                        namespace: d.object.metadata.namespace.clone(),
                        name,
                    },
                    api_version: d.api_version.clone(),
                });
            };
            let namespace = if resolved.namespaced {
                d.object
                    .metadata
                    .namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| default_namespace.to_string())
            } else {
                String::new()
            };
            let (group, version) = split_api_version(&d.api_version);
            refs.push(ObjectRef {
                namespace,
                name,
                group: group.to_string(),
                kind: resolved.resource.kind.clone(),
                version: version.to_string(),
            });
        }
    }
    Ok(refs)
}
