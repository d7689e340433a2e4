//! Manifest and index documents, and the checks a fetched document must
//! pass before berth believes it (CVE-2021-41190: a document is one kind,
//! and its own `mediaType` agrees with the Content-Type it came with).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Helm's chart layer.
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Helm's config blob.
pub const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";

/// The `Accept` header for manifest requests.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

/// A content descriptor. `urls` is kept so callers can see it, but the
/// client never fetches from it (CVE-2020-15157).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<serde_json::Value>,
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl ImageManifest {
    /// The first layer with this media type (Helm sorts layers by digest,
    /// so the chart is not always `layers[0]`).
    pub fn layer_with_media_type(&self, media_type: &str) -> Option<&Descriptor> {
        self.layers.iter().find(|l| l.media_type == media_type)
    }
}

/// An image index (OCI) or manifest list (Docker).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// `null` is read as empty (some registries send it for no referrers).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A parsed manifest document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Document {
    Manifest(ImageManifest),
    Index(ImageIndex),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("unsupported manifest media type {0:?}")]
    UnsupportedMediaType(String),
    #[error("the document says mediaType {body:?} but was served as {content_type:?}")]
    MediaTypeMismatch { content_type: String, body: String },
    #[error("ambiguous document: it has both \"manifests\" and \"config\"/\"layers\"")]
    Ambiguous,
    #[error("invalid manifest document: {0}")]
    Invalid(String),
}

/// The media type of a Content-Type value, without parameters, lowercased.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_index_type(mt: &str) -> bool {
    mt == OCI_INDEX || mt == DOCKER_MANIFEST_LIST
}

fn is_manifest_type(mt: &str) -> bool {
    mt == OCI_MANIFEST || mt == DOCKER_MANIFEST
}

/// Parse a manifest or index served with `content_type`:
/// - the Content-Type must be one of the four manifest/index types;
/// - a `mediaType` in the body, when present, must equal it;
/// - a document with both `manifests` and `config` or `layers` is refused
///   whatever it claims to be;
/// - `schemaVersion` must be 2 and the required fields present.
pub fn parse_document(bytes: &[u8], content_type: &str) -> Result<Document, DocumentError> {
    let ct = essence(content_type);
    if !is_index_type(&ct) && !is_manifest_type(&ct) {
        return Err(DocumentError::UnsupportedMediaType(ct));
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| DocumentError::Invalid(e.to_string()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| DocumentError::Invalid("not a JSON object".into()))?;
    if obj.contains_key("manifests") && (obj.contains_key("config") || obj.contains_key("layers")) {
        return Err(DocumentError::Ambiguous);
    }
    match obj.get("mediaType") {
        None => {}
        Some(serde_json::Value::String(body)) if *body == ct => {}
        Some(other) => {
            return Err(DocumentError::MediaTypeMismatch {
                content_type: ct,
                body: other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_string),
            })
        }
    }
    if obj.get("schemaVersion").and_then(|v| v.as_u64()) != Some(2) {
        return Err(DocumentError::Invalid("schemaVersion must be 2".into()));
    }
    if is_index_type(&ct) {
        if obj.contains_key("config") || obj.contains_key("layers") {
            return Err(DocumentError::Invalid(format!(
                "{ct} with config or layers"
            )));
        }
        serde_json::from_value(value)
            .map(Document::Index)
            .map_err(|e| DocumentError::Invalid(e.to_string()))
    } else {
        serde_json::from_value(value)
            .map(Document::Manifest)
            .map_err(|e| DocumentError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    fn helm_manifest() -> String {
        // What `helm push` writes: no mediaType field.
        format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{HELM_CONFIG}","digest":"{D}","size":2}},
            "layers":[{{"mediaType":"{HELM_CHART_LAYER}","digest":"{D}","size":2}}],
            "annotations":{{"org.opencontainers.image.version":"1.0.0"}}}}"#
        )
    }

    #[test]
    fn helm_manifest_without_media_type_is_accepted() {
        let doc = parse_document(helm_manifest().as_bytes(), OCI_MANIFEST).unwrap();
        let Document::Manifest(m) = doc else {
            panic!("not a manifest")
        };
        assert_eq!(m.layer_with_media_type(HELM_CHART_LAYER).unwrap().size, 2);
        // Content-Type parameters and case are ignored.
        parse_document(
            helm_manifest().as_bytes(),
            "Application/vnd.oci.image.manifest.v1+json; charset=utf-8",
        )
        .unwrap();
    }

    #[test]
    fn refusals() {
        assert!(matches!(
            parse_document(helm_manifest().as_bytes(), "application/json"),
            Err(DocumentError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            parse_document(helm_manifest().as_bytes(), OCI_INDEX),
            Err(DocumentError::Invalid(_))
        ));
        let with_mt = helm_manifest().replacen('{', &format!(r#"{{"mediaType":"{OCI_INDEX}","#), 1);
        assert!(matches!(
            parse_document(with_mt.as_bytes(), OCI_MANIFEST),
            Err(DocumentError::MediaTypeMismatch { .. })
        ));
        let ambiguous = helm_manifest().replacen('{', r#"{"manifests":[],"#, 1);
        for ct in [OCI_MANIFEST, OCI_INDEX] {
            assert_eq!(
                parse_document(ambiguous.as_bytes(), ct),
                Err(DocumentError::Ambiguous)
            );
        }
        let v1 = helm_manifest().replace("\"schemaVersion\":2", "\"schemaVersion\":1");
        assert!(parse_document(v1.as_bytes(), OCI_MANIFEST).is_err());
        let bad_digest = helm_manifest().replacen(D, "sha256:abc", 1);
        assert!(parse_document(bad_digest.as_bytes(), OCI_MANIFEST).is_err());
        assert!(parse_document(b"[]", OCI_MANIFEST).is_err());
    }

    #[test]
    fn index_with_null_manifests() {
        let doc = parse_document(br#"{"schemaVersion":2,"manifests":null}"#, OCI_INDEX).unwrap();
        assert_eq!(
            doc,
            Document::Index(ImageIndex {
                schema_version: 2,
                media_type: None,
                artifact_type: None,
                manifests: vec![],
                subject: None,
                annotations: None
            })
        );
    }
}
