//! Release records in Secrets, as Helm v4.3.1's Secret driver keeps them
//! (`pkg/storage/driver/secrets.go`, `pkg/storage/storage.go`): one Secret
//! `sh.helm.release.v1.<name>.v<N>` of type `helm.sh/release.v1` per
//! revision, its `release` data the [`encode`](super::encode)d record, and
//! the labels Helm selects on.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::Api;

use super::{decode_bytes, encode, secret_name, RecordError, Release, Status};

/// The Secret type Helm 3 and 4 give release records.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";
/// The Secret data key holding the record.
pub const DATA_KEY: &str = "release";
/// The labels Helm sets itself; never custom labels.
pub const SYSTEM_LABELS: [&str; 6] = [
    "name",
    "owner",
    "status",
    "version",
    "createdAt",
    "modifiedAt",
];

/// Why a release record could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid release name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("failed to list the release records of {name} in namespace {namespace}: {source}")]
    List {
        name: String,
        namespace: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("release record Secret {namespace}/{secret} has no {DATA_KEY:?} data")]
    MissingData { namespace: String, secret: String },
    #[error("failed to decode release record Secret {namespace}/{secret}: {source}")]
    Decode {
        namespace: String,
        secret: String,
        #[source]
        source: RecordError,
    },
    #[error(
        "release record Secret {namespace}/{secret} holds release {found_name} revision \
         {found_version}, not what its name says"
    )]
    Mismatch {
        namespace: String,
        secret: String,
        found_name: String,
        found_version: i64,
    },
    #[error("failed to encode release record Secret {namespace}/{secret}: {source}")]
    Encode {
        namespace: String,
        secret: String,
        #[source]
        source: RecordError,
    },
    #[error("release record Secret {namespace}/{secret} already exists")]
    AlreadyExists { namespace: String, secret: String },
    #[error("release record Secret {namespace}/{secret} does not exist")]
    NotFound { namespace: String, secret: String },
    #[error("release record Secret {namespace}/{secret} changed while it was being updated")]
    Conflict { namespace: String, secret: String },
    #[error("failed to {action} release record Secret {namespace}/{secret}: {source}")]
    Api {
        action: &'static str,
        namespace: String,
        secret: String,
        #[source]
        source: Box<kube::Error>,
    },
}

/// The release records of one storage namespace.
#[derive(Clone)]
pub struct Store {
    api: Api<Secret>,
    namespace: String,
}

impl Store {
    pub fn new(client: kube::Client, namespace: &str) -> Store {
        Store {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_string(),
        }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Every revision of release `name`, oldest first (Helm's `History`:
    /// the Secrets labelled `owner=helm,name=<name>`). A record that cannot
    /// be read fails the whole history, naming its Secret: whoever writes
    /// the next revision must not do it over a history it cannot see.
    pub async fn history(&self, name: &str) -> Result<Vec<Release>, StoreError> {
        validate_name(name)?;
        let params = ListParams::default().labels(&format!("owner=helm,name={name}"));
        let list = self.api.list(&params).await.map_err(|e| StoreError::List {
            name: name.to_string(),
            namespace: self.namespace.clone(),
            source: Box::new(e),
        })?;
        let mut out = Vec::with_capacity(list.items.len());
        for secret in &list.items {
            out.push(self.read_secret(secret)?);
        }
        out.sort_by_key(|r| r.version);
        Ok(out)
    }

    /// The newest revision of release `name`, if it has any.
    pub async fn last(&self, name: &str) -> Result<Option<Release>, StoreError> {
        Ok(self.history(name).await?.pop())
    }

    /// One revision, `None` when its Secret does not exist.
    pub async fn get(&self, name: &str, version: i64) -> Result<Option<Release>, StoreError> {
        validate_name(name)?;
        let secret = secret_name(name, version);
        match self.api.get_opt(&secret).await {
            Ok(Some(s)) => self.read_secret(&s).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(self.api_error("read", &secret, e)),
        }
    }

    fn read_secret(&self, secret: &Secret) -> Result<Release, StoreError> {
        let secret_name = secret.metadata.name.clone().unwrap_or_default();
        let data = secret
            .data
            .as_ref()
            .and_then(|d| d.get(DATA_KEY))
            .ok_or_else(|| StoreError::MissingData {
                namespace: self.namespace.clone(),
                secret: secret_name.clone(),
            })?;
        let mut release = decode_bytes(&data.0).map_err(|source| StoreError::Decode {
            namespace: self.namespace.clone(),
            secret: secret_name.clone(),
            source,
        })?;
        if super::secret_name(&release.name, release.version) != secret_name {
            return Err(StoreError::Mismatch {
                namespace: self.namespace.clone(),
                secret: secret_name,
                found_name: release.name,
                found_version: release.version,
            });
        }
        release.labels = secret
            .metadata
            .labels
            .iter()
            .flatten()
            .filter(|(k, _)| !SYSTEM_LABELS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(release)
    }

    /// Store a new revision. Labels as Helm's `Create`: the custom labels,
    /// `createdAt` (Unix seconds), `name`, `owner=helm`, `status`,
    /// `version`.
    pub async fn create(&self, r: &Release) -> Result<(), StoreError> {
        validate_name(&r.name)?;
        let secret = r.secret_name();
        let mut labels = r.labels.clone();
        labels.insert("createdAt".to_string(), now_unix());
        let obj = self.secret_object(r, &secret, labels, None)?;
        match self.api.create(&PostParams::default(), &obj).await {
            Ok(_) => {
                tracing::debug!(secret = %secret, namespace = %self.namespace, status = %r.info.status, "release record created");
                Ok(())
            }
            Err(kube::Error::Api(s)) if s.code == 409 => Err(StoreError::AlreadyExists {
                namespace: self.namespace.clone(),
                secret,
            }),
            Err(e) => Err(self.api_error("create", &secret, e)),
        }
    }

    /// Replace a stored revision (its record and `status` label), as
    /// Helm's `Update`: `modifiedAt` set to now; the Secret's `createdAt`
    /// is kept. The replace is conditional on the version read, so a
    /// concurrent writer gives [`StoreError::Conflict`], never a lost write.
    pub async fn update(&self, r: &Release) -> Result<(), StoreError> {
        validate_name(&r.name)?;
        let secret = r.secret_name();
        let current = match self.api.get_opt(&secret).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                return Err(StoreError::NotFound {
                    namespace: self.namespace.clone(),
                    secret,
                })
            }
            Err(e) => return Err(self.api_error("read", &secret, e)),
        };
        let mut labels = r.labels.clone();
        if let Some(created) = current
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("createdAt"))
        {
            labels.insert("createdAt".to_string(), created.clone());
        }
        labels.insert("modifiedAt".to_string(), now_unix());
        let obj = self.secret_object(r, &secret, labels, current.metadata.resource_version)?;
        match self
            .api
            .replace(&secret, &PostParams::default(), &obj)
            .await
        {
            Ok(_) => {
                tracing::debug!(secret = %secret, namespace = %self.namespace, status = %r.info.status, "release record updated");
                Ok(())
            }
            Err(kube::Error::Api(s)) if s.code == 409 => Err(StoreError::Conflict {
                namespace: self.namespace.clone(),
                secret,
            }),
            Err(kube::Error::Api(s)) if s.code == 404 => Err(StoreError::NotFound {
                namespace: self.namespace.clone(),
                secret,
            }),
            Err(e) => Err(self.api_error("update", &secret, e)),
        }
    }

    /// Remove one revision; one already gone is not an error.
    pub async fn delete(&self, name: &str, version: i64) -> Result<(), StoreError> {
        validate_name(name)?;
        let secret = secret_name(name, version);
        match self.api.delete(&secret, &DeleteParams::default()).await {
            Ok(_) => {
                tracing::debug!(secret = %secret, namespace = %self.namespace, "release record deleted");
                Ok(())
            }
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(self.api_error("delete", &secret, e)),
        }
    }

    /// Keep at most `max` revisions of `name` (0: no limit), as Helm's
    /// `--history-max` does: see [`versions_to_trim`]. Returns the
    /// revisions deleted, oldest first.
    pub async fn trim(&self, name: &str, max: usize) -> Result<Vec<i64>, StoreError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let history = self.history(name).await?;
        let records: Vec<(i64, Status)> =
            history.iter().map(|r| (r.version, r.info.status)).collect();
        let doomed = versions_to_trim(&records, max);
        for v in &doomed {
            self.delete(name, *v).await?;
        }
        if !doomed.is_empty() {
            tracing::info!(release = %name, namespace = %self.namespace, deleted = ?doomed, "trimmed release history");
        }
        Ok(doomed)
    }

    fn secret_object(
        &self,
        r: &Release,
        secret: &str,
        mut labels: BTreeMap<String, String>,
        resource_version: Option<String>,
    ) -> Result<Secret, StoreError> {
        let text = encode(r).map_err(|source| StoreError::Encode {
            namespace: self.namespace.clone(),
            secret: secret.to_string(),
            source,
        })?;
        // Helm's own labels win over custom labels of the same name.
        labels.insert("name".to_string(), r.name.clone());
        labels.insert("owner".to_string(), "helm".to_string());
        labels.insert("status".to_string(), r.info.status.as_str().to_string());
        labels.insert("version".to_string(), r.version.to_string());
        Ok(Secret {
            metadata: ObjectMeta {
                name: Some(secret.to_string()),
                namespace: Some(self.namespace.clone()),
                labels: Some(labels),
                resource_version,
                ..ObjectMeta::default()
            },
            type_: Some(SECRET_TYPE.to_string()),
            data: Some(BTreeMap::from([(
                DATA_KEY.to_string(),
                ByteString(text.into_bytes()),
            )])),
            ..Secret::default()
        })
    }

    fn api_error(&self, action: &'static str, secret: &str, e: kube::Error) -> StoreError {
        StoreError::Api {
            action,
            namespace: self.namespace.clone(),
            secret: secret.to_string(),
            source: Box::new(e),
        }
    }
}

fn now_unix() -> String {
    jiff::Timestamp::now().as_second().to_string()
}

/// Helm's release name rule (`chartutil.ValidateReleaseName`): at most 53
/// characters, lowercase DNS-1123 labels joined by dots. Checked before a
/// name goes into a label selector or a Secret name.
pub fn validate_name(name: &str) -> Result<(), StoreError> {
    let fail = |reason| {
        Err(StoreError::InvalidName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return fail("it is empty");
    }
    if name.len() > 53 {
        return fail("it is longer than 53 characters");
    }
    for part in name.split('.') {
        let ok_chars = part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let ends_ok = part
            .bytes()
            .next()
            .zip(part.bytes().last())
            .is_some_and(|(a, z)| a != b'-' && z != b'-');
        if !ok_chars || !ends_ok {
            return fail("it must be lowercase letters, digits, '-' and '.', starting and ending with a letter or digit");
        }
    }
    Ok(())
}

/// Which revisions Helm's max-history rule deletes once the newest
/// revision has been written. Helm trims before it creates a revision
/// (`Storage.Create` → `removeLeastRecent(name, max-1)`), so here the newest
/// record is never a candidate and the older ones are trimmed to `max - 1`,
/// oldest first, sparing the last `deployed` among them. `max == 0` means
/// no limit.
pub fn versions_to_trim(records: &[(i64, Status)], max: usize) -> Vec<i64> {
    if max == 0 || records.len() <= max {
        return Vec::new();
    }
    let mut sorted: Vec<(i64, Status)> = records.to_vec();
    sorted.sort_by_key(|(v, _)| *v);
    sorted.pop(); // the newest stays
    let keep = max - 1;
    let last_deployed = sorted
        .iter()
        .rev()
        .find(|(_, s)| *s == Status::Deployed)
        .map(|(v, _)| *v);
    let mut doomed = Vec::new();
    for (v, _) in &sorted {
        if sorted.len() - doomed.len() == keep {
            break;
        }
        if Some(*v) != last_deployed {
            doomed.push(*v);
        }
    }
    doomed
}
