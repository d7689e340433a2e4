//! Chart directories for the benchmark, loaded with berth's chart loader
//! (`berth_chart::load`, Helm's `LoadDir`: `.helmignore`, `Chart.yaml`,
//! `values.yaml`, templates, files, subcharts).

use std::path::{Path, PathBuf};

use berth_chart::Chart;

/// The `Chart.yaml` of every case chart (see `conformance/README.md`).
pub const CASE_CHART_YAML: &str =
    "apiVersion: v2\nname: conformance\nversion: 0.1.0\nappVersion: 1.0.0\n";

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("failed to load the chart {path}: {source}")]
    Load {
        path: PathBuf,
        #[source]
        source: berth_chart::load::LoadError,
    },
}

/// A chart directory as the benchmark renders it.
pub struct ChartDir {
    pub dir: PathBuf,
    pub chart: Chart,
}

impl ChartDir {
    pub fn load(dir: &Path) -> Result<ChartDir, ChartError> {
        let chart = berth_chart::load::load_path(dir).map_err(|source| ChartError::Load {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(ChartDir {
            dir: dir.to_path_buf(),
            chart,
        })
    }

    pub fn name(&self) -> &str {
        self.chart.name()
    }

    /// Whether the chart vendors subcharts (the benchmark skips those: the
    /// oracle renders charts without processing dependencies).
    pub fn has_subcharts(&self) -> bool {
        !self.chart.dependencies.is_empty()
    }
}
