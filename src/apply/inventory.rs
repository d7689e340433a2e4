//! The applied set as object references (`HelmRelease.status.inventory`,
//! Flux's `<namespace>_<name>_<group>_<kind>` ids) and pruning: delete
//! what the previous inventory had and the new one has not — only objects
//! the release owns (Helm's ownership annotations on the live object) and
//! never one marked `helm.sh/resource-policy: keep`.

use std::collections::BTreeSet;

use kube::api::DynamicObject;
use kube::Client;

use super::discovery::Discovered;
use super::ssa::Applied;
use super::uninstall::{delete_objects, UninstallError};
use super::{ObjectName, RESOURCE_POLICY_ANNOTATION, RESOURCE_POLICY_KEEP};
use crate::api::helm_release::{DeletionPropagation, ResourceInventory, ResourceRef};

/// Why pruning failed.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error("inventory entry {id:?} is malformed (want <namespace>_<name>_<group>_<kind>)")]
    MalformedEntry { id: String },
    /// Reading or deleting an object failed (the error names it).
    #[error(transparent)]
    Delete(#[from] UninstallError),
}

/// One inventory entry, parsed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectRef {
    pub namespace: String,
    pub name: String,
    pub group: String,
    pub kind: String,
    /// The apiVersion it was applied with.
    pub version: String,
}

impl ObjectRef {
    pub fn id(&self) -> String {
        format!(
            "{}_{}_{}_{}",
            self.namespace, self.name, self.group, self.kind
        )
    }

    pub fn to_entry(&self) -> ResourceRef {
        ResourceRef {
            id: self.id(),
            v: self.version.clone(),
        }
    }

    /// Parse a Flux inventory entry. Names, namespaces and kinds cannot
    /// contain `_`; groups cannot either (DNS subdomains).
    pub fn from_entry(entry: &ResourceRef) -> Result<ObjectRef, PruneError> {
        let parts: Vec<&str> = entry.id.split('_').collect();
        match parts.as_slice() {
            [ns, name, group, kind] if !name.is_empty() && !kind.is_empty() => Ok(ObjectRef {
                namespace: ns.to_string(),
                name: name.to_string(),
                group: group.to_string(),
                kind: kind.to_string(),
                version: entry.v.clone(),
            }),
            _ => Err(PruneError::MalformedEntry {
                id: entry.id.clone(),
            }),
        }
    }

    pub fn object_name(&self) -> ObjectName {
        ObjectName {
            kind: self.kind.clone(),
            namespace: (!self.namespace.is_empty()).then(|| self.namespace.clone()),
            name: self.name.clone(),
        }
    }
}

/// The inventory of the applied objects (in apply order, each once),
/// leaving out the CRDs of the chart's `crds/` directory (never pruned).
pub fn inventory_of(applied: &[Applied]) -> ResourceInventory {
    let mut seen = BTreeSet::new();
    let mut entries = Vec::new();
    for a in applied.iter().filter(|a| !a.from_crds_dir) {
        let r = ObjectRef {
            namespace: a.name.namespace.clone().unwrap_or_default(),
            name: a.name.name.clone(),
            group: a.resource.group.clone(),
            kind: a.resource.kind.clone(),
            version: a.resource.version.clone(),
        };
        if seen.insert(r.id()) {
            entries.push(r.to_entry());
        }
    }
    ResourceInventory { entries }
}

/// What pruning did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PruneReport {
    pub deleted: Vec<ObjectName>,
    /// Already gone.
    pub missing: Vec<ObjectName>,
    /// Kept: `helm.sh/resource-policy: keep`.
    pub kept: Vec<ObjectName>,
    /// Not deleted: the live object does not belong to the release.
    pub not_owned: Vec<ObjectName>,
}

/// Delete the objects of `previous` that `current` no longer has (the
/// release `release_name` in `release_namespace`), with background
/// propagation.
pub async fn prune(
    client: &Client,
    discovered: &Discovered,
    previous: &ResourceInventory,
    current: &ResourceInventory,
    release_name: &str,
    release_namespace: &str,
) -> Result<PruneReport, PruneError> {
    let keep_ids: BTreeSet<&str> = current.entries.iter().map(|e| e.id.as_str()).collect();
    let gone = previous
        .entries
        .iter()
        .filter(|e| !keep_ids.contains(e.id.as_str()))
        .map(ObjectRef::from_entry)
        .collect::<Result<Vec<_>, _>>()?;
    // Deleted last first (Helm uninstalls in reverse too), owned objects
    // only, `keep` honoured.
    Ok(delete_objects(
        client,
        discovered,
        &gone,
        release_name,
        release_namespace,
        DeletionPropagation::Background,
        None,
    )
    .await?)
}

/// Helm keeps an object whose `helm.sh/resource-policy` is `keep`
/// (trimmed, lowercased, as `kube.ResourcePolicyAnno` is read in
/// `pkg/action/resource_policy.go`).
pub fn has_keep_policy(object: &DynamicObject) -> bool {
    object
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(RESOURCE_POLICY_ANNOTATION))
        .is_some_and(|v| v.trim().to_lowercase() == RESOURCE_POLICY_KEEP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_round_trip() {
        let r = ObjectRef {
            namespace: "apps".into(),
            name: "web".into(),
            group: "apps".into(),
            kind: "Deployment".into(),
            version: "v1".into(),
        };
        let e = r.to_entry();
        assert_eq!(e.id, "apps_web_apps_Deployment");
        assert_eq!(ObjectRef::from_entry(&e).unwrap(), r);
        let cluster = ResourceRef {
            id: "_viewer_rbac.authorization.k8s.io_ClusterRole".into(),
            v: "v1".into(),
        };
        let r = ObjectRef::from_entry(&cluster).unwrap();
        assert_eq!(r.object_name().to_string(), "ClusterRole viewer");
        assert!(ObjectRef::from_entry(&ResourceRef {
            id: "a_b_c".into(),
            v: "v1".into()
        })
        .is_err());
    }

    #[test]
    fn keep_policy_is_trimmed_and_case_insensitive() {
        let mut o = DynamicObject {
            types: None,
            metadata: Default::default(),
            data: serde_json::Value::Null,
        };
        assert!(!has_keep_policy(&o));
        o.metadata.annotations = Some(
            [(RESOURCE_POLICY_ANNOTATION.to_string(), " Keep ".to_string())]
                .into_iter()
                .collect(),
        );
        assert!(has_keep_policy(&o));
    }
}
