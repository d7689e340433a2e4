//! Chart directories for the benchmark, read into `berth_chart::Chart`s.
//!
//! A small reader for charts without subcharts (the benchmark skips the
//! others): `Chart.yaml`, `values.yaml`, `templates/` and every other file
//! (what `.Files` sees). It does not apply `.helmignore`; chart loading
//! proper is `berth_chart::load`.

use std::path::{Path, PathBuf};

use berth_chart::{Chart, File, Metadata};

/// The `Chart.yaml` of every case chart (see `conformance/README.md`).
pub const CASE_CHART_YAML: &str =
    "apiVersion: v2\nname: conformance\nversion: 0.1.0\nappVersion: 1.0.0\n";

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

/// A chart directory without subcharts, as the benchmark renders it.
pub struct ChartDir {
    pub dir: PathBuf,
    pub chart: Chart,
    pub values_yaml: String,
}

/// Files the loader keeps out of `.Files`.
const NOT_FILES: &[&str] = &[
    "Chart.yaml",
    "values.yaml",
    "values.schema.json",
    "Chart.lock",
    "requirements.yaml",
    "requirements.lock",
];

impl ChartDir {
    pub fn load(dir: &Path) -> Result<ChartDir, ChartError> {
        let mut all = Vec::new();
        collect(dir, dir, &mut all)?;
        all.sort_by(|a, b| a.name.cmp(&b.name));
        let text = |name: &str| {
            all.iter()
                .find(|f| f.name == name)
                .map(|f| String::from_utf8_lossy(&f.data).into_owned())
        };
        let chart_yaml = text("Chart.yaml").unwrap_or_default();
        let metadata: Metadata =
            serde_saphyr::from_str(&chart_yaml).map_err(|e| ChartError::Parse {
                path: dir.join("Chart.yaml"),
                message: e.to_string(),
            })?;
        let values_yaml = text("values.yaml").unwrap_or_default();
        let mut templates = Vec::new();
        let mut files = Vec::new();
        for f in all {
            if f.name.starts_with("templates/") {
                templates.push(f);
            } else if !f.name.starts_with("charts/") && !NOT_FILES.contains(&f.name.as_str()) {
                files.push(f);
            }
        }
        Ok(ChartDir {
            dir: dir.to_path_buf(),
            chart: Chart {
                metadata,
                templates,
                files,
                ..Chart::default()
            },
            values_yaml,
        })
    }

    pub fn name(&self) -> &str {
        self.chart.name()
    }

    /// Whether the chart vendors subcharts (the benchmark skips those).
    pub fn has_subcharts(&self) -> bool {
        std::fs::read_dir(self.dir.join("charts"))
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<File>) -> Result<(), ChartError> {
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
            let bytes = bytes
                .strip_prefix(b"\xEF\xBB\xBF")
                .map(<[u8]>::to_vec)
                .unwrap_or(bytes);
            let name = path
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            out.push(File { name, data: bytes });
        }
    }
    Ok(())
}
