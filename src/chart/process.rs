//! The steps `helm template` (Helm v4.3.1, `pkg/cmd/install.go`,
//! `action.Install.RunWithContext`, `renderResources`) runs between loading
//! a chart and rendering it, in Helm's order:
//!
//! 1. only application charts are installable (`library charts are not
//!    installable`);
//! 2. `CheckDependencies`: every `Chart.yaml` dependency has a subchart of
//!    that name under `charts/`;
//! 3. `ProcessDependencies`: conditions, tags, aliases, import-values
//!    ([`crate::dependencies`]);
//! 4. `ToRenderValuesWithSchemaValidation`: the user values coalesced with
//!    the processed chart's defaults ([`crate::coalesce`]), then validated
//!    against every `values.schema.json` ([`crate::schema`]) unless skipped;
//! 5. the chart's `kubeVersion` constraint against the target Kubernetes
//!    version.
//!
//! Errors read as Helm prints them (after `Error: `).

use crate::coalesce::{self, CoalesceError};
use crate::dependencies::{self, DependencyError};
use crate::schema::{self, SchemaError};
use crate::{Chart, Values};

/// How to prepare a chart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessOptions {
    /// The Kubernetes version rendered for (`--kube-version`, `1.33.0` or
    /// `v1.33.0`; what `.Capabilities.KubeVersion` shows). Checked against
    /// the chart's `kubeVersion`; empty skips that check.
    pub kube_version: String,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
}

/// A chart ready to render.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Disabled subcharts removed, aliases applied, imported values in the
    /// defaults of the charts that import them.
    pub chart: Chart,
    /// The final coalesced values of the top chart (each subchart's under
    /// its name), what `.Values` is for the top chart.
    pub values: Values,
}

/// Why a chart cannot be prepared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    #[error("{0} charts are not installable")]
    NotInstallable(String),
    #[error("an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {}", .0.join(", "))]
    MissingDependencies(Vec<String>),
    #[error("chart dependencies processing failed: {0}")]
    Dependencies(#[source] DependencyError),
    #[error("{0}")]
    Coalesce(#[source] CoalesceError),
    #[error(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{0}"
    )]
    Schema(#[source] SchemaError),
    #[error("chart requires kubeVersion: {required} which is incompatible with Kubernetes {kube_version}")]
    KubeVersion {
        required: String,
        kube_version: String,
    },
    /// Helm rejects such a `--kube-version` when parsing flags.
    #[error("invalid kube version {0:?}")]
    BadKubeVersion(String),
}

/// Prepare `chart` with the user values (`-f`/`--set` already merged).
pub fn prepare(
    chart: Chart,
    user_values: Values,
    opts: &ProcessOptions,
) -> Result<Prepared, ProcessError> {
    prepare_then(chart, user_values, opts, |_| ()).map(|(p, ())| p)
}

/// [`prepare`] followed by `then(&prepared)` (rendering), with the same
/// outcome, but `then` runs on this thread while the values are validated
/// against the chart's schemas on another (validation compiles every
/// schema, a large share of a small chart's time). As in `prepare`, a
/// schema error wins over a `kubeVersion` error, and either over whatever
/// `then` returned: Helm validates before it renders.
pub fn prepare_then<T>(
    mut chart: Chart,
    user_values: Values,
    opts: &ProcessOptions,
    then: impl FnOnce(&Prepared) -> T,
) -> Result<(Prepared, T), ProcessError> {
    match chart.metadata.chart_type.as_str() {
        "" | "application" => {}
        other => return Err(ProcessError::NotInstallable(other.to_string())),
    }
    if chart.metadata.deprecated {
        tracing::warn!("this chart is deprecated");
    }
    let missing = dependencies::missing_dependencies(&chart);
    if !missing.is_empty() {
        return Err(ProcessError::MissingDependencies(missing));
    }
    dependencies::process_dependencies(&mut chart, &user_values)
        .map_err(ProcessError::Dependencies)?;
    let values = coalesce::coalesce_values(&chart, &user_values).map_err(ProcessError::Coalesce)?;
    let prepared = Prepared { chart, values };
    if opts.skip_schema_validation {
        check_kube_version(&prepared.chart, &opts.kube_version)?;
        let out = then(&prepared);
        return Ok((prepared, out));
    }
    let out = std::thread::scope(|scope| {
        // Named, so that profiles and debuggers tell it from the render.
        let schema = std::thread::Builder::new()
            .name("schema".into())
            .spawn_scoped(scope, || {
                schema::validate(&prepared.chart, &prepared.values)
            });
        let schema_checked = || match schema {
            Ok(thread) => match thread.join() {
                Ok(r) => r.map_err(ProcessError::Schema),
                Err(panic) => std::panic::resume_unwind(panic),
            },
            // No thread: validate here, after the render.
            Err(_) => {
                schema::validate(&prepared.chart, &prepared.values).map_err(ProcessError::Schema)
            }
        };
        match check_kube_version(&prepared.chart, &opts.kube_version) {
            Ok(()) => {
                let out = then(&prepared);
                schema_checked()?;
                Ok(out)
            }
            Err(e) => {
                schema_checked()?;
                Err(e)
            }
        }
    })?;
    Ok((prepared, out))
}

/// The chart's `kubeVersion` constraint against the target version, as
/// Helm's `renderResources` checks it (the version normalized to
/// `vMAJOR.MINOR.PATCH`, the message showing it as given, `v`-prefixed).
fn check_kube_version(chart: &Chart, kube_version: &str) -> Result<(), ProcessError> {
    let required = &chart.metadata.kube_version;
    if required.is_empty() || kube_version.is_empty() {
        return Ok(());
    }
    let (git_version, normalized) = parse_kube_version(kube_version)
        .ok_or_else(|| ProcessError::BadKubeVersion(kube_version.to_string()))?;
    if dependencies::is_compatible_range(required, &normalized) {
        Ok(())
    } else {
        Err(ProcessError::KubeVersion {
            required: required.clone(),
            kube_version: git_version,
        })
    }
}

/// Helm's `ParseKubeVersion`: (`v`-prefixed input, `v` + the numeric
/// components) — `1.33.4-gke.1` gives (`v1.33.4-gke.1`, `v1.33.4`).
pub fn parse_kube_version(input: &str) -> Option<(String, String)> {
    crate::kube_version::KubeVersion::parse(input)
        .ok()
        .map(|k| (k.version, k.normalized))
}

#[cfg(test)]
mod tests;
