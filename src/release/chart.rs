//! The chart inside a release record: Helm v4.3.1's `chart.Chart` JSON
//! (`pkg/chart/v2/chart.go`). Only the top chart is stored, as in Helm:
//! its dependencies are not serialised (`helm get` never shows them).

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::go_time;
use super::null_default;

/// `chart.Chart` as Helm serialises it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartRecord {
    /// `Chart.yaml` (Go `*Metadata`, `null` when nil).
    #[serde(default)]
    pub metadata: Option<MetadataRecord>,
    /// `Chart.lock`, kept as the JSON Helm wrote (`null` when absent).
    #[serde(default)]
    pub lock: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "null_default")]
    pub templates: Vec<FileRecord>,
    /// The chart's default values (`values.yaml`), `null` when nil.
    #[serde(default)]
    pub values: Option<berth_chart::Values>,
    /// `values.schema.json`, base64 in JSON (Go `[]byte`), `null` when nil.
    #[serde(default, with = "optional_bytes")]
    pub schema: Option<Vec<u8>>,
    #[serde(default, with = "go_time::always")]
    pub schemamodtime: Option<jiff::Timestamp>,
    #[serde(default, deserialize_with = "null_default")]
    pub files: Vec<FileRecord>,
    #[serde(
        default,
        with = "go_time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub modtime: Option<jiff::Timestamp>,
}

/// `common.File`: a name and its bytes (base64 in JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    #[serde(default)]
    pub name: String,
    #[serde(default, with = "bytes")]
    pub data: Vec<u8>,
    #[serde(
        default,
        with = "go_time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub modtime: Option<jiff::Timestamp>,
}

/// `chart.Metadata` with Helm's `omitempty` fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataRecord {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub home: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub keywords: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub maintainers: Vec<MaintainerRecord>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub icon: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tags: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub app_version: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kube_version: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dependencies: Vec<DependencyRecord>,
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub chart_type: String,
}

/// `chart.Maintainer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintainerRecord {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
}

/// `chart.Dependency` (`name` and `repository` are always written).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DependencyRecord {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub condition: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enabled: bool,
    #[serde(
        default,
        rename = "import-values",
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub import_values: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alias: String,
}

impl DependencyRecord {
    fn from_dependency(d: &berth_chart::Dependency) -> DependencyRecord {
        DependencyRecord {
            name: d.name.clone(),
            version: d.version.clone(),
            repository: d.repository.clone(),
            condition: d.condition.clone(),
            tags: d.tags.clone(),
            enabled: d.enabled,
            import_values: d.import_values.clone(),
            alias: d.alias.clone(),
        }
    }
}

impl MetadataRecord {
    fn from_metadata(m: &berth_chart::Metadata) -> MetadataRecord {
        MetadataRecord {
            name: m.name.clone(),
            home: m.home.clone(),
            sources: m.sources.clone(),
            version: m.version.clone(),
            description: m.description.clone(),
            keywords: m.keywords.clone(),
            maintainers: m
                .maintainers
                .iter()
                .map(|x| MaintainerRecord {
                    name: x.name.clone(),
                    email: x.email.clone(),
                    url: x.url.clone(),
                })
                .collect(),
            icon: m.icon.clone(),
            api_version: m.api_version.clone(),
            condition: m.condition.clone(),
            tags: m.tags.clone(),
            app_version: m.app_version.clone(),
            deprecated: m.deprecated,
            annotations: m.annotations.clone().unwrap_or_default(),
            kube_version: m.kube_version.clone(),
            dependencies: m
                .dependencies
                .iter()
                .map(DependencyRecord::from_dependency)
                .collect(),
            chart_type: m.chart_type.clone(),
        }
    }
}

fn lock_json(lock: &berth_chart::Lock) -> serde_json::Value {
    // Go's `time.Time` is always written; berth keeps Chart.lock's
    // `generated` as the text it read (RFC 3339 in practice).
    let generated = match go_time::parse(&lock.generated) {
        Ok(Some(t)) => t.to_string(),
        _ => go_time::GO_ZERO_TIME.to_string(),
    };
    serde_json::json!({
        "generated": generated,
        "digest": lock.digest,
        "dependencies": lock
            .dependencies
            .iter()
            .map(DependencyRecord::from_dependency)
            .collect::<Vec<_>>(),
    })
}

fn files(files: &[berth_chart::File]) -> Vec<FileRecord> {
    files
        .iter()
        .map(|f| FileRecord {
            name: f.name.clone(),
            data: f.data.clone(),
            modtime: None,
        })
        .collect()
}

impl ChartRecord {
    /// The record of a loaded chart: its metadata, lock, templates, default
    /// values, schema and files; not its subcharts (Helm does not
    /// serialise them either).
    pub fn from_chart(chart: &berth_chart::Chart) -> ChartRecord {
        ChartRecord {
            metadata: Some(MetadataRecord::from_metadata(&chart.metadata)),
            lock: chart.lock.as_ref().map(lock_json),
            templates: files(&chart.templates),
            values: Some(chart.values.clone()),
            schema: chart.schema.clone(),
            schemamodtime: None,
            files: files(&chart.files),
            modtime: None,
        }
    }

    /// `Chart.yaml` `name` ("" when the record has no metadata).
    pub fn name(&self) -> &str {
        self.metadata.as_ref().map_or("", |m| m.name.as_str())
    }

    /// `Chart.yaml` `version`.
    pub fn version(&self) -> &str {
        self.metadata.as_ref().map_or("", |m| m.version.as_str())
    }

    /// `Chart.yaml` `appVersion`, `None` when empty.
    pub fn app_version(&self) -> Option<&str> {
        self.metadata
            .as_ref()
            .map(|m| m.app_version.as_str())
            .filter(|v| !v.is_empty())
    }

    /// `name-version`, as `helm list` shows the chart.
    pub fn name_version(&self) -> String {
        format!("{}-{}", self.name(), self.version())
    }
}

/// Go `[]byte`: standard base64 in JSON (`null` reads as empty).
mod bytes {
    use super::*;

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text {
            None => Ok(Vec::new()),
            Some(t) => base64::engine::general_purpose::STANDARD
                .decode(t.as_bytes())
                .map_err(|e| serde::de::Error::custom(format!("invalid base64 bytes: {e}"))),
        }
    }
}

/// Go `[]byte` that may be nil (`null`).
mod optional_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match b {
            Some(b) => bytes::serialize(b, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text {
            None => Ok(None),
            Some(t) => base64::engine::general_purpose::STANDARD
                .decode(t.as_bytes())
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("invalid base64 bytes: {e}"))),
        }
    }
}
