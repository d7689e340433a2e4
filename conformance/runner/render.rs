//! Rendering case charts and real charts with berth's render pipeline
//! (`berth_render::engine`), which does what Helm's `pkg/engine` does:
//! every file parsed into one set in Helm's order, every non-partial file
//! executed with its chart's top-level object, `<no value>` removed, and
//! errors worded as Helm words them. This module only builds the charts
//! (a case is a one-chart `conformance` chart) and their default values.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use berth_chart::{Chart, File, Values};
use berth_render::{Capabilities, HelmVersion, Release, RenderOptions};

use crate::cases::{NamedCase, CASE_FILE};
use crate::chart::CASE_CHART_YAML;
use crate::oracle::{self, Outcome};

/// Helm's `.Release` under `helm template`.
pub const RELEASE_NAME: &str = "release-name";
pub const NAMESPACE: &str = "default";

/// Renders charts with berth's pipeline.
pub struct Renderer {
    opts: RenderOptions,
}

/// A chart ready to render: the chart and its coalesced default values.
pub struct Prepared {
    pub chart: Chart,
    pub values: Values,
}

/// The oracle's capabilities as berth's (both sides see the same cluster).
pub fn capabilities_from_oracle(c: &oracle::Capabilities) -> Capabilities {
    Capabilities {
        kube_version: c.kube_version.version.clone(),
        api_versions: c.api_versions.clone(),
        helm_version: HelmVersion {
            version: c.helm_version.version.clone(),
            git_commit: c.helm_version.git_commit.clone(),
            git_tree_state: c.helm_version.git_tree_state.clone(),
            go_version: c.helm_version.go_version.clone(),
            kube_client_version: c.helm_version.kube_client_version.clone(),
        },
    }
}

impl Renderer {
    pub fn new(capabilities: Capabilities) -> Renderer {
        Renderer {
            opts: RenderOptions {
                release: Release {
                    name: RELEASE_NAME.into(),
                    namespace: NAMESPACE.into(),
                    ..Release::default()
                },
                capabilities,
                strict: false,
                subchart_notes: false,
                limits: Default::default(),
                lookup: None,
            },
        }
    }

    /// A loaded chart with its default values coalesced as `helm template`
    /// does without user values (Helm's `CoalesceValues` with an empty
    /// user map).
    pub fn prepare(&self, chart: Chart) -> Result<Prepared, String> {
        let values = berth_chart::coalesce::coalesce_values(&chart, &Values::new())
            .map_err(|e| e.to_string())?;
        Ok(Prepared { chart, values })
    }

    /// A case as the oracle builds it: `Chart.yaml`, `values.yaml` and the
    /// template files through the chart loader (Helm's `LoadFiles`).
    pub fn prepare_case(&self, case: &NamedCase) -> Result<Prepared, String> {
        let mut files = vec![File {
            name: "Chart.yaml".into(),
            data: CASE_CHART_YAML.as_bytes().to_vec(),
        }];
        if let Some(values) = &case.case.values {
            files.push(File {
                name: "values.yaml".into(),
                data: values.as_bytes().to_vec(),
            });
        }
        files.extend(case.chart_files().into_iter().map(|(name, text)| File {
            name,
            data: text.into_bytes(),
        }));
        let chart = berth_chart::load::load_files(files).map_err(|e| e.to_string())?;
        self.prepare(chart)
    }

    /// Render a case and return its `templates/case.yaml`.
    pub fn render_case(&self, case: &NamedCase) -> Outcome {
        let prepared = self.prepare_case(case)?;
        let mut out = self.render(&prepared)?;
        let key = format!("{}/{}", prepared.chart.name(), CASE_FILE);
        out.remove(&key)
            .ok_or_else(|| format!("the case has no {CASE_FILE}"))
    }

    /// [`Renderer::render_case`], with a panic anywhere reported as a
    /// failed render (a bug to show, not a reason to stop).
    pub fn render_case_caught(&self, case: &NamedCase) -> Outcome {
        catch_unwind(AssertUnwindSafe(|| self.render_case(case))).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("berth panicked: {msg}"))
        })
    }

    /// Helm's `engine.Render`: rendered files keyed `<chart>/templates/...`
    /// (subcharts `<chart>/charts/<sub>/templates/...`), or Helm's error
    /// text.
    pub fn render(&self, p: &Prepared) -> Result<BTreeMap<String, String>, String> {
        berth_render::engine::render_files(&p.chart, &p.values, &self.opts)
            .map(|files| files.into_iter().collect())
            .map_err(|e| e.to_string())
    }
}
