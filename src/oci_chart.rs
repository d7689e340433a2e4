//! Pulling a Helm chart from an OCI registry the way `helm pull` / `helm
//! template oci://…` resolve it, for `berth template`: the reference's tag
//! or digest, or else `--version` (an exact tag first, then a semver
//! constraint over the repository's tags, `_` read as `+`), the chart layer
//! of the manifest, fetched and verified by digest through `berth-oci`.
//!
//! Credentials come from Helm's registry config (`$HELM_REGISTRY_CONFIG`,
//! else `registry/config.json` under Helm's config home), then Docker's
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`), unless
//! `--username`/`--password` are given.

use std::path::{Path, PathBuf};

use berth_oci::manifest::HELM_CHART_LAYER;
use berth_oci::{docker_config, Client, ClientOptions, Credentials, Document, Reference};
use berth_semver::select::{select_tag as highest_matching, tag_version};
use berth_semver::Constraint;

/// The legacy chart layer Helm still pulls.
pub const LEGACY_CHART_LAYER: &str = "application/tar+gzip";

/// Helm's cap on a chart archive (`MaxDecompressedChartSize` applies to
/// the content; the compressed layer cannot be larger).
const MAX_CHART_LAYER: u64 = 100 * 1024 * 1024;

/// How to reach the registry.
#[derive(Debug, Default, Clone)]
pub struct PullOptions {
    /// `--version`: an exact tag or a semver constraint.
    pub version: Option<String>,
    /// `--plain-http`
    pub plain_http: bool,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{0}")]
    Reference(#[from] berth_oci::reference::ReferenceError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid registry config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{0}")]
    Registry(#[from] berth_oci::Error),
    #[error("improper constraint: {0}")]
    Constraint(String),
    #[error("could not locate a version matching provided version string {0}")]
    NoMatchingVersion(String),
    #[error("chart reference and version mismatch: {tag} is not {version}")]
    VersionMismatch { tag: String, version: String },
    #[error("{reference} is an index (several platforms), not a Helm chart")]
    Index { reference: String },
    #[error("{reference} has no Helm chart layer (layers: {present})")]
    NoChartLayer { reference: String, present: String },
    #[error("cannot start the network runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// Pull the chart archive (`.tgz` bytes) `reference` names.
pub fn pull_chart(reference: &str, opts: &PullOptions) -> Result<Vec<u8>, PullError> {
    let reference = Reference::parse(reference)?;
    let credentials = credentials(&reference, opts)?;
    let read = |p: &Option<PathBuf>| -> Result<Option<Vec<u8>>, PullError> {
        p.as_ref()
            .map(|path| {
                std::fs::read(path).map_err(|source| PullError::Read {
                    path: path.clone(),
                    source,
                })
            })
            .transpose()
    };
    let options = ClientOptions {
        insecure: opts.plain_http,
        ca_pem: read(&opts.ca_file)?,
        client_cert_pem: read(&opts.cert_file)?,
        client_key_pem: read(&opts.key_file)?,
        ..ClientOptions::default()
    };
    let client = Client::new(reference.registry(), credentials, options)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PullError::Runtime)?;
    rt.block_on(pull(&client, &reference, opts.version.as_deref()))
}

async fn pull(
    client: &Client,
    reference: &Reference,
    version: Option<&str>,
) -> Result<Vec<u8>, PullError> {
    let repository = reference.repository();
    let manifest_ref = match (reference.digest(), reference.tag()) {
        (Some(digest), _) => digest.to_string(),
        (None, Some(tag)) => {
            if let Some(v) = version.filter(|v| !v.is_empty()) {
                if v != tag.replace('_', "+") && v != tag {
                    return Err(PullError::VersionMismatch {
                        tag: tag.to_string(),
                        version: v.to_string(),
                    });
                }
            }
            tag.to_string()
        }
        (None, None) => {
            let tags = client.list_tags(repository).await?;
            select_tag(&tags, version.unwrap_or(""))?
        }
    };
    let fetched = client.fetch_manifest(repository, &manifest_ref).await?;
    let what = format!("{}/{repository}:{manifest_ref}", reference.registry());
    let manifest = match fetched.document {
        Document::Manifest(m) => m,
        Document::Index(_) => return Err(PullError::Index { reference: what }),
    };
    let layer = manifest
        .layer_with_media_type(HELM_CHART_LAYER)
        .or_else(|| manifest.layer_with_media_type(LEGACY_CHART_LAYER))
        .ok_or_else(|| PullError::NoChartLayer {
            reference: what.clone(),
            present: manifest
                .layers
                .iter()
                .map(|l| l.media_type.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    Ok(client
        .fetch_blob_to_vec(repository, layer, MAX_CHART_LAYER)
        .await?)
}

/// Helm's `GetTagMatchingVersionOrConstraint` over `Client.Tags` (strict
/// semver tags, `_` read as `+`, highest first): an exact match wins, else
/// the highest tag the constraint (`*` when empty) accepts. Returns the tag
/// as the registry spells it.
pub fn select_tag(tags: &[String], version: &str) -> Result<String, PullError> {
    // Helm keeps strict versions only: no `v` prefix (Flux's rule, which
    // `tag_version` follows, accepts one).
    let versions: Vec<&String> = tags
        .iter()
        .filter(|t| !t.starts_with('v') && tag_version(t).is_some())
        .collect();
    if !version.is_empty() {
        if let Some(tag) = versions.iter().find(|t| t.replace('_', "+") == version) {
            return Ok((*tag).clone());
        }
    }
    let constraint = Constraint::parse(if version.is_empty() { "*" } else { version })
        .map_err(|e| PullError::Constraint(e.to_string()))?;
    highest_matching(&versions, &constraint, None)
        .map(str::to_string)
        .ok_or_else(|| PullError::NoMatchingVersion(version.to_string()))
}

fn credentials(reference: &Reference, opts: &PullOptions) -> Result<Credentials, PullError> {
    if let (Some(username), Some(password)) = (&opts.username, &opts.password) {
        return Ok(Credentials::Basic {
            username: username.clone(),
            password: password.clone(),
        });
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut configs = Vec::new();
    match std::env::var_os("HELM_REGISTRY_CONFIG") {
        Some(p) => configs.push(PathBuf::from(p)),
        None => {
            // helmpath: $HELM_CONFIG_HOME, else $XDG_CONFIG_HOME/helm, else
            // ~/.config/helm.
            let config_home = std::env::var_os("HELM_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("XDG_CONFIG_HOME").map(|x| Path::new(&x).join("helm")))
                .or_else(|| home.as_ref().map(|h| h.join(".config/helm")));
            if let Some(dir) = config_home {
                configs.push(dir.join("registry/config.json"));
            }
        }
    }
    match std::env::var_os("DOCKER_CONFIG") {
        Some(d) => configs.push(Path::new(&d).join("config.json")),
        None => {
            if let Some(h) = &home {
                configs.push(h.join(".docker/config.json"));
            }
        }
    }
    for path in configs {
        let Ok(json) = std::fs::read(&path) else {
            continue;
        };
        match docker_config::credentials_for(&json, reference.registry()) {
            Ok(Some(c)) => return Ok(c),
            Ok(None) => {}
            Err(e) => {
                return Err(PullError::Config {
                    path,
                    message: e.to_string(),
                })
            }
        }
    }
    Ok(Credentials::Anonymous)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn versions_resolve_like_helm() {
        let t = tags(&[
            "1.0.0",
            "1.2.0",
            "2.0.0-rc.1",
            "1.10.0",
            "latest",
            "1.1.0_build.1",
        ]);
        // Empty: `*`, which skips pre-releases.
        assert_eq!(select_tag(&t, "").unwrap(), "1.10.0");
        assert_eq!(select_tag(&t, "^1 <1.5").unwrap(), "1.2.0");
        // An exact version wins, pre-release or build metadata included.
        assert_eq!(select_tag(&t, "2.0.0-rc.1").unwrap(), "2.0.0-rc.1");
        assert_eq!(select_tag(&t, "1.1.0+build.1").unwrap(), "1.1.0_build.1");
        assert!(matches!(
            select_tag(&t, ">=3"),
            Err(PullError::NoMatchingVersion(v)) if v == ">=3"
        ));
        assert!(matches!(
            select_tag(&t, "not a range"),
            Err(PullError::Constraint(_))
        ));
    }
}
