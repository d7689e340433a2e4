//! Helm-compatible release records: every revision of a release stored as
//! Helm v4.3.1 stores it, so the real `helm list`, `helm history`,
//! `helm status` and `helm get values|manifest|notes` show berth's
//! releases, and berth reads the records `helm install`/`upgrade` wrote.
//!
//! - [`Release`] and its parts are Helm's `release.Release` JSON
//!   (`pkg/release/v1`), field for field.
//! - [`encode`]/[`decode`]: JSON → gzip → base64, the text in a Secret's
//!   `release` data (`pkg/storage/driver/util.go`); decoding also reads
//!   records stored without gzip, and caps what it inflates.
//! - [`store`]: the `sh.helm.release.v1.<name>.v<N>` Secrets with Helm's
//!   labels, history, and Helm's max-history trimming.

mod chart;
mod go_time;
mod hook;
pub mod store;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

pub use chart::{ChartRecord, DependencyRecord, FileRecord, MaintainerRecord, MetadataRecord};
pub use hook::{HookExecution, HookPhase, HookRecord};
pub use store::{Store, StoreError};

/// The most a record may inflate to. Helm releases can be large (a chart's
/// files and templates are inside), but never this large: a Secret holds
/// at most 1 MiB of compressed text.
pub const MAX_DECODED_SIZE: u64 = 64 * 1024 * 1024;

/// A release's state: Helm's `common.Status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Status {
    #[default]
    Unknown,
    Deployed,
    Uninstalled,
    Superseded,
    Failed,
    Uninstalling,
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Unknown,
        Status::Deployed,
        Status::Uninstalled,
        Status::Superseded,
        Status::Failed,
        Status::Uninstalling,
        Status::PendingInstall,
        Status::PendingUpgrade,
        Status::PendingRollback,
    ];

    /// Helm's string (`deployed`, `pending-upgrade`, …), also the Secret's
    /// `status` label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Unknown => "unknown",
            Status::Deployed => "deployed",
            Status::Uninstalled => "uninstalled",
            Status::Superseded => "superseded",
            Status::Failed => "failed",
            Status::Uninstalling => "uninstalling",
            Status::PendingInstall => "pending-install",
            Status::PendingUpgrade => "pending-upgrade",
            Status::PendingRollback => "pending-rollback",
        }
    }

    /// An operation is under way (Helm's `IsPending`: install, upgrade or
    /// rollback; not `uninstalling`).
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            Status::PendingInstall | Status::PendingUpgrade | Status::PendingRollback
        )
    }

    /// The status named by Helm's string; `""` (Go's zero value) is
    /// `Unknown`.
    pub fn parse(s: &str) -> Option<Status> {
        if s.is_empty() {
            return Some(Status::Unknown);
        }
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Status, D::Error> {
        let s = String::deserialize(d)?;
        Status::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown release status {s:?}")))
    }
}

/// Helm's `release.Release`: one revision of a release.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Release {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default)]
    pub info: Info,
    #[serde(default)]
    pub chart: ChartRecord,
    /// The user-supplied values (what `helm get values` shows), not the
    /// chart's defaults.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "serde_json::Map::is_empty"
    )]
    pub config: berth_chart::Values,
    /// The rendered manifests (see [`manifest_text`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub hooks: Vec<HookRecord>,
    /// The revision, from 1.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Custom labels: kept on the Secret, not in the JSON (Helm's
    /// `json:"-"`). Helm's own labels (`name`, `owner`, `status`,
    /// `version`, `createdAt`, `modifiedAt`) are never here.
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
    /// Helm 4: `ssa` (server-side apply) or `csa`; empty means client-side
    /// apply. berth applies server-side: [`APPLY_METHOD_SSA`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub apply_method: String,
}

/// `Release.apply_method` for a release applied with server-side apply.
pub const APPLY_METHOD_SSA: &str = "ssa";

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Helm's `release.Info`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Info {
    #[serde(
        default,
        with = "go_time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_deployed: Option<jiff::Timestamp>,
    #[serde(
        default,
        with = "go_time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_deployed: Option<jiff::Timestamp>,
    #[serde(
        default,
        with = "go_time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted: Option<jiff::Timestamp>,
    /// The log line `helm history` shows ("Install complete",
    /// "Upgrade complete", "Rollback to 2", …).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub status: Status,
    /// The revision a rollback went back to (0: not a rollback).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rollback_revision: i64,
    /// The rendered `NOTES.txt`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// Helm's `resources` (deployed objects by kind, for `helm status
    /// --show-resources`), kept as written; berth does not fill it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<serde_json::Value>,
}

/// Why a record could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("failed to encode the release record as JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("failed to compress the release record: {0}")]
    Compress(#[source] std::io::Error),
    #[error("release record is not text")]
    NotText,
    #[error("release record is not base64: {0}")]
    Base64(#[source] base64::DecodeError),
    #[error("release record is not valid gzip: {0}")]
    Gunzip(#[source] std::io::Error),
    #[error("release record inflates to more than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("release record is not a Helm release: {0}")]
    Decode(#[source] serde_json::Error),
}

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// The text Helm keeps in a release Secret's `release` data (before the
/// Kubernetes base64 of Secret data): the record's JSON, gzipped (best
/// compression, as Helm), in standard base64.
pub fn encode(r: &Release) -> Result<String, RecordError> {
    let json = serde_json::to_vec(r).map_err(RecordError::Json)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&json).map_err(RecordError::Compress)?;
    let compressed = gz.finish().map_err(RecordError::Compress)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(compressed))
}

/// A record as Helm v3 or v4 writes it: base64, then gzip when the bytes
/// start with gzip's magic (older records are plain JSON), then the
/// release JSON. Inflating stops at [`MAX_DECODED_SIZE`].
pub fn decode(s: &str) -> Result<Release, RecordError> {
    decode_bytes(s.as_bytes())
}

/// [`decode`] for the raw bytes of a Secret's `release` data.
pub fn decode_bytes(data: &[u8]) -> Result<Release, RecordError> {
    decode_limited(data, MAX_DECODED_SIZE)
}

fn decode_limited(data: &[u8], limit: u64) -> Result<Release, RecordError> {
    // Base64 never inflates, so a text this long cannot be a valid record.
    if data.len() as u64 > limit {
        return Err(RecordError::TooLarge { limit });
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(RecordError::Base64)?;
    // Helm checks `len(b) > 3` before comparing the magic.
    let json = if raw.len() > 3 && raw[..3] == GZIP_MAGIC {
        let mut out = Vec::new();
        let mut limited = flate2::read::MultiGzDecoder::new(raw.as_slice()).take(limit + 1);
        limited.read_to_end(&mut out).map_err(RecordError::Gunzip)?;
        if out.len() as u64 > limit {
            return Err(RecordError::TooLarge { limit });
        }
        out
    } else {
        raw
    };
    serde_json::from_slice(&json).map_err(RecordError::Decode)
}

impl Release {
    /// `sha256:<hex>` of the record's JSON: names this exact revision
    /// (`HelmRelease.status.history`). The labels are not part of it.
    pub fn digest(&self) -> String {
        // Serialising these types cannot fail: every map key is a string.
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("sha256:{}", hex(&Sha256::digest(&json)))
    }

    /// The Secret that holds this revision.
    pub fn secret_name(&self) -> String {
        secret_name(&self.name, self.version)
    }
}

/// `sh.helm.release.v1.<name>.v<version>`: Helm's storage key.
pub fn secret_name(name: &str, version: i64) -> String {
    format!("sh.helm.release.v1.{name}.v{version}")
}

/// `sha256:<hex>` of the values as canonical JSON: keys sorted at every
/// level, and a float that holds a whole number written as that integer
/// (Helm reads values files into float64 and writes `3`, not `3.0`), so
/// the same values give the same digest however they were decoded.
pub fn config_digest(values: &berth_chart::Values) -> String {
    let mut out = String::new();
    canonical_map(values, &mut out);
    format!("sha256:{}", hex(&Sha256::digest(out.as_bytes())))
}

fn canonical_map(m: &serde_json::Map<String, serde_json::Value>, out: &mut String) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    out.push('{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::String(k.clone()).to_string());
        out.push(':');
        if let Some(v) = m.get(k) {
            canonical_value(v, out);
        }
    }
    out.push('}');
}

fn canonical_value(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(m) => canonical_map(m, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_value(x, out);
            }
            out.push(']');
        }
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                // Whole floats below 2^53 are exact integers.
                out.push_str(&(f as i64).to_string())
            }
            _ => out.push_str(&n.to_string()),
        },
        other => out.push_str(&other.to_string()),
    }
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Helm's `Release.Manifest`: each document as `---\n# Source: <file>\n
/// <content>\n`, in the order given (Helm's install order).
pub fn manifest_text(manifests: &[berth_render::manifest::Manifest]) -> String {
    let mut out = String::new();
    for m in manifests {
        out.push_str("---\n# Source: ");
        out.push_str(&m.source);
        out.push('\n');
        out.push_str(&m.content);
        out.push('\n');
    }
    out
}

/// `null` (Go's nil slice or map) reads as the empty value.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests;
