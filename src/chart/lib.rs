//! Helm charts as berth loads and prepares them for rendering.
//!
//! The flow, each step its own module:
//! - [`archive`]: a `.tgz` turned into a list of [`File`]s, with Helm's size
//!   limits and path checks (absolute paths, `..`, links that escape).
//! - [`helmignore`]: `.helmignore` rules for directory charts.
//! - [`load`]: files (from an archive or a directory) → [`Chart`]:
//!   `Chart.yaml` ([`metadata`]), `values.yaml`, `values.schema.json`,
//!   `templates/`, the other files, and the subcharts under `charts/`.
//! - [`values`]: values files decoded as Helm decodes them, and the user
//!   values of `-f` files merged in order.
//! - [`strvals`]: Helm's `--set` / `--set-string` / `--set-json` /
//!   `--set-file` syntax.
//! - [`coalesce`]: Helm's values coalescing (parent over child, `null`
//!   deletes, globals flow down).
//! - [`dependencies`]: conditions, tags, aliases and `import-values`.
//! - [`schema`]: `values.schema.json` validation of the merged values.
//! - [`process`]: the steps `helm template` runs between loading and
//!   rendering, in Helm's order, ending in the chart tree to render and its
//!   final values.
//!
//! Values are [`Values`], a JSON object: Send, cheap to build, what the
//! JSON-schema validator takes, and able to carry Helm's number types (a
//! number from a values file is always an `f64` — Helm decodes YAML through
//! JSON into `float64` — while `--set` integers are `i64`). The renderer
//! converts them into template values.

pub mod archive;
pub mod coalesce;
pub mod dependencies;
pub mod helmignore;
pub mod kube_version;
pub mod load;
pub mod metadata;
pub mod process;
pub mod schema;
pub mod strvals;
pub mod values;

pub use metadata::{Dependency, Lock, Maintainer, Metadata};

/// A values tree: the JSON object form of Helm's `map[string]interface{}`.
/// Numbers from values files are `f64`; integers from `--set` are `i64`.
pub type Values = serde_json::Map<String, serde_json::Value>;

/// One file of a chart, its name relative to the chart root with `/`
/// separators (`templates/deployment.yaml`, `files/a.conf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub data: Vec<u8>,
}

/// A loaded chart: Helm's `chart.Chart`.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    /// `Chart.yaml` (for an `apiVersion: v1` chart, with the dependencies of
    /// `requirements.yaml` moved in, as Helm does).
    pub metadata: Metadata,
    /// `Chart.lock` (or `requirements.lock` for v1 charts).
    pub lock: Option<Lock>,
    /// Files under `templates/`, sorted by name.
    pub templates: Vec<File>,
    /// `values.yaml` as decoded (the chart's defaults, not coalesced).
    pub values: Values,
    /// `values.schema.json`, raw.
    pub schema: Option<Vec<u8>>,
    /// Every other file the chart carries (Helm's `Files`, what `.Files`
    /// sees): not `Chart.yaml`, `values.yaml`, `values.schema.json`, the
    /// lock/requirements files, `templates/`, or anything under `charts/`;
    /// sorted by name. `crds/` files are here too.
    pub files: Vec<File>,
    /// Subcharts loaded from `charts/`, in load order (sorted by path).
    pub dependencies: Vec<Chart>,
}

impl Chart {
    /// The chart's name (`Chart.yaml` `name`, or the alias once
    /// dependencies are processed).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// `type: library`: its templates are only partials, it renders nothing.
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type == "library"
    }

    /// The chart's CRD files: `crds/` entries ending in `.yaml`, `.yml` or
    /// `.json` (Helm's `Chart.CRDs`), in name order.
    pub fn crd_files(&self) -> impl Iterator<Item = &File> {
        self.files.iter().filter(|f| {
            f.name.starts_with("crds/")
                && (f.name.ends_with(".yaml")
                    || f.name.ends_with(".yml")
                    || f.name.ends_with(".json"))
        })
    }
}
