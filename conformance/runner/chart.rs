//! Chart metadata (`.Chart`) and chart directories for the benchmark.
//!
//! Helm v4 exposes `.Chart` as a map built by reflection from the
//! `chart.Metadata` struct (`MetadataAsMap`): every field under its Go name,
//! empty ones included, lists as `[]interface {}`, `Annotations` as a
//! `map[string]string`, plus `IsRoot`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_template::{GoType, Map, Value};
use serde::Deserialize;

/// The `Chart.yaml` of every case chart (see `conformance/README.md`).
pub const CASE_CHART_YAML: &str =
    "apiVersion: v2\nname: conformance\nversion: 0.1.0\nappVersion: 1.0.0\n";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Maintainer {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub url: String,
}

/// The fields of `chart.Metadata` (without dependencies: the benchmark only
/// renders charts that have none).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartMeta {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub home: String,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub maintainers: Vec<Maintainer>,
    #[serde(default)]
    pub icon: String,
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub app_version: String,
    #[serde(default)]
    pub deprecated: bool,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub kube_version: String,
    #[serde(default)]
    pub dependencies: Vec<serde::de::IgnoredAny>,
    #[serde(default, rename = "type")]
    pub chart_type: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("failed to read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to parse {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl ChartMeta {
    pub fn parse(text: &str) -> Result<ChartMeta, String> {
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    }

    /// `.Chart` as Helm v4 builds it (`MetadataAsMap` + `IsRoot`).
    pub fn to_value(&self, is_root: bool) -> Value {
        let s = |x: &str| Value::str(x);
        let strings = |v: &[String]| Value::list(v.iter().map(|x| Value::str(x)).collect());
        let mut m = BTreeMap::new();
        m.insert("Name".into(), s(&self.name));
        m.insert("Home".into(), s(&self.home));
        m.insert("Sources".into(), strings(&self.sources));
        m.insert("Version".into(), s(&self.version));
        m.insert("Description".into(), s(&self.description));
        m.insert("Keywords".into(), strings(&self.keywords));
        let maintainers = self
            .maintainers
            .iter()
            .map(|mt| {
                let mut e = BTreeMap::new();
                e.insert("Name".to_string(), s(&mt.name));
                e.insert("Email".to_string(), s(&mt.email));
                e.insert("URL".to_string(), s(&mt.url));
                Value::map(e)
            })
            .collect();
        m.insert("Maintainers".into(), Value::list(maintainers));
        m.insert("Icon".into(), s(&self.icon));
        m.insert("APIVersion".into(), s(&self.api_version));
        m.insert("Condition".into(), s(&self.condition));
        m.insert("Tags".into(), s(&self.tags));
        m.insert("AppVersion".into(), s(&self.app_version));
        m.insert("Deprecated".into(), Value::Bool(self.deprecated));
        // Metadata.Annotations is a nil map[string]string when Chart.yaml
        // has none (`toJson .Chart` shows `"Annotations":null`).
        let annotations = match &self.annotations {
            Some(ann) => {
                let entries: BTreeMap<String, Value> = ann
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::str(v)))
                    .collect();
                let mut map = Map::from_entries(entries);
                map.elem = GoType::String;
                map
            }
            None => Map::nil(GoType::String),
        };
        m.insert("Annotations".into(), Value::Map(annotations));
        m.insert("KubeVersion".into(), s(&self.kube_version));
        m.insert("Dependencies".into(), Value::list(Vec::new()));
        m.insert("Type".into(), s(&self.chart_type));
        m.insert("IsRoot".into(), Value::Bool(is_root));
        Value::map(m)
    }
}

/// A chart directory without subcharts, as the benchmark renders it.
pub struct ChartDir {
    pub dir: PathBuf,
    pub meta: ChartMeta,
    pub values_yaml: String,
    /// Template files, path relative to the chart root (`templates/x.yaml`).
    pub templates: BTreeMap<String, String>,
}

impl ChartDir {
    pub fn load(dir: &Path) -> Result<ChartDir, ChartError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| ChartError::Read {
                path: p.to_path_buf(),
                source,
            })
        };
        let chart_yaml = dir.join("Chart.yaml");
        let meta = ChartMeta::parse(&read(&chart_yaml)?).map_err(|message| ChartError::Parse {
            path: chart_yaml,
            message,
        })?;
        let values_path = dir.join("values.yaml");
        let values_yaml = if values_path.exists() {
            read(&values_path)?
        } else {
            String::new()
        };
        let mut templates = BTreeMap::new();
        collect(dir, &dir.join("templates"), &mut templates)?;
        Ok(ChartDir {
            dir: dir.to_path_buf(),
            meta,
            values_yaml,
            templates,
        })
    }

    /// Whether the chart vendors subcharts (the benchmark skips those).
    pub fn has_subcharts(&self) -> bool {
        std::fs::read_dir(self.dir.join("charts"))
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    }
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<(), ChartError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(_) => return Ok(()),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else {
            let bytes = std::fs::read(&path).map_err(|source| ChartError::Read {
                path: path.clone(),
                source,
            })?;
            // Helm strips a UTF-8 byte order mark from every file.
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let rel = path
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            out.insert(rel, String::from_utf8_lossy(bytes).into_owned());
        }
    }
    Ok(())
}
