//! What the live API server serves: `.Capabilities` for the renderer and
//! the API resource behind a document's `apiVersion` + `kind`.
//!
//! The version set is built as Helm v4.3.1's `action.GetVersionSet` builds
//! it from `ServerGroupsAndResources`: every served `group/version` (and
//! `v1` for the core group), plus `group/version/Kind` for every resource
//! listed under it (subresources included, each Kind once).

use std::collections::{BTreeMap, BTreeSet};

use berth_render::Capabilities;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, ListParams};
use kube::Client;

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("failed to read the API server version: {0}")]
    Version(#[source] Box<kube::Error>),
    #[error("failed to list the API groups: {0}")]
    Groups(#[source] Box<kube::Error>),
    #[error("failed to list the resources of {group_version}: {source}")]
    Resources {
        group_version: String,
        #[source]
        source: Box<kube::Error>,
    },
}

/// One served kind: how to reach it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// A snapshot of the server's API surface.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// `v1.37.2` (the server's `gitVersion`).
    pub kube_version: String,
    /// Helm's version set, sorted.
    pub api_versions: Vec<String>,
    /// (apiVersion, kind) → resource (top-level resources only).
    kinds: BTreeMap<(String, String), Resolved>,
    /// Served group/versions.
    group_versions: BTreeSet<String>,
}

impl Discovered {
    /// Ask the server (`/version`, `/api`, `/apis` and every group/version).
    pub async fn run(client: &Client) -> Result<Discovered, DiscoveryError> {
        let info = client
            .apiserver_version()
            .await
            .map_err(|e| DiscoveryError::Version(Box::new(e)))?;
        let mut group_versions = Vec::new();
        let core = client
            .list_core_api_versions()
            .await
            .map_err(|e| DiscoveryError::Groups(Box::new(e)))?;
        group_versions.extend(core.versions);
        let groups = client
            .list_api_groups()
            .await
            .map_err(|e| DiscoveryError::Groups(Box::new(e)))?;
        for g in groups.groups {
            group_versions.extend(g.versions.into_iter().map(|v| v.group_version));
        }

        let mut set: BTreeSet<String> = group_versions.iter().cloned().collect();
        let mut kinds = BTreeMap::new();
        for gv in &group_versions {
            let list = if gv.contains('/') {
                client.list_api_group_resources(gv).await
            } else {
                client.list_core_api_resources(gv).await
            };
            let list = match list {
                Ok(l) => l,
                // Helm tolerates a group whose discovery fails (an
                // unavailable aggregated API); so do we.
                Err(kube::Error::Api(s)) if s.code == 503 || s.code == 404 => {
                    tracing::warn!(group_version = %gv, "discovery of the group failed: {}", s.message);
                    continue;
                }
                Err(source) => {
                    return Err(DiscoveryError::Resources {
                        group_version: gv.clone(),
                        source: Box::new(source),
                    })
                }
            };
            let (group, version) = split_api_version(gv);
            for r in list.resources {
                set.insert(format!("{gv}/{}", r.kind));
                if r.name.contains('/') {
                    continue;
                }
                let resource = ApiResource {
                    group: r.group.clone().unwrap_or_else(|| group.to_string()),
                    version: r.version.clone().unwrap_or_else(|| version.to_string()),
                    api_version: gv.clone(),
                    kind: r.kind.clone(),
                    plural: r.name.clone(),
                };
                kinds.insert(
                    (gv.clone(), r.kind.clone()),
                    Resolved {
                        resource,
                        namespaced: r.namespaced,
                    },
                );
            }
        }
        Ok(Discovered {
            kube_version: info.git_version,
            api_versions: set.into_iter().collect(),
            kinds,
            group_versions: group_versions.into_iter().collect(),
        })
    }

    /// `.Capabilities` for rendering against this server.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            kube_version: self.kube_version.clone(),
            api_versions: self.api_versions.clone(),
            ..Capabilities::default()
        }
    }

    /// The resource serving `kind` at `api_version`, if any.
    pub fn resolve(&self, api_version: &str, kind: &str) -> Option<&Resolved> {
        self.kinds.get(&(api_version.to_string(), kind.to_string()))
    }

    /// The resource serving `kind` of `group` at any version (the
    /// preferred order of discovery, else the first), for objects recorded
    /// at a version the server no longer serves.
    pub fn resolve_group_kind(&self, group: &str, kind: &str) -> Option<&Resolved> {
        self.kinds
            .values()
            .find(|r| r.resource.group == group && r.resource.kind == kind)
    }

    /// Whether `group/version` is served at all.
    pub fn serves(&self, api_version: &str) -> bool {
        self.group_versions.contains(api_version)
    }

    /// Why `kind` at `api_version` is not served, in words for an error:
    /// whether a CustomResourceDefinition for it is missing, or present
    /// without that version.
    pub async fn explain_unknown(&self, client: &Client, api_version: &str, kind: &str) -> String {
        let (group, version) = split_api_version(api_version);
        if !group.contains('.') {
            return format!(
                "the API server has no kind {kind} in {api_version} (not a built-in kind of Kubernetes {})",
                self.kube_version
            );
        }
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        let found = match crds.list(&ListParams::default()).await {
            Ok(list) => list
                .items
                .into_iter()
                .find(|c| c.spec.group == group && c.spec.names.kind == kind),
            Err(e) => {
                return format!(
                    "the API server does not serve kind {kind} in {api_version} (and listing CustomResourceDefinitions failed: {e})"
                )
            }
        };
        match found {
            None => format!(
                "the API server does not serve kind {kind} in {api_version}: no CustomResourceDefinition defines it (is the CRD installed?)"
            ),
            Some(crd) => {
                let name = crd.metadata.name.unwrap_or_default();
                let versions: Vec<String> = crd
                    .spec
                    .versions
                    .iter()
                    .filter(|v| v.served)
                    .map(|v| v.name.clone())
                    .collect();
                if versions.iter().any(|v| v == version) {
                    format!("CustomResourceDefinition {name} defines kind {kind} in {api_version} but the API server does not serve it yet (not Established?)")
                } else {
                    format!(
                        "CustomResourceDefinition {name} does not serve version {version} (served: {})",
                        versions.join(", ")
                    )
                }
            }
        }
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

#[cfg(test)]
mod tests {
    use super::split_api_version;

    #[test]
    fn api_version_split() {
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
        assert_eq!(split_api_version("v1"), ("", "v1"));
        assert_eq!(
            split_api_version("apiextensions.k8s.io/v1"),
            ("apiextensions.k8s.io", "v1")
        );
    }
}
