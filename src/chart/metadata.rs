//! `Chart.yaml`: Helm's `chart.Metadata`, `Dependency`, `Maintainer` and
//! `Lock`, with Helm's field names.

use serde::{Deserialize, Serialize};

/// `chart.Maintainer`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintainer {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub url: String,
}

/// `chart.Dependency`: an entry of `dependencies:` (or `requirements.yaml`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dependency {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub enabled: bool,
    /// `import-values`: strings (`exports.<name>`) or `{child, parent}` maps.
    #[serde(default, rename = "import-values")]
    pub import_values: Vec<serde_json::Value>,
    #[serde(default)]
    pub alias: String,
}

/// `chart.Metadata`: the fields of `Chart.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
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
    /// `None` when `Chart.yaml` has no `annotations` (Helm's nil map, which
    /// `toJson .Chart` shows as `null`).
    #[serde(default)]
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub kube_version: String,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    #[serde(default, rename = "type")]
    pub chart_type: String,
}

/// `chart.Lock`: `Chart.lock` / `requirements.lock`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    #[serde(default)]
    pub generated: String,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
}
