//! `berth template [NAME] CHART`: render a chart locally, printing exactly
//! what `helm template` (Helm v4.3.1) prints for the same chart, values and
//! flags.
//!
//! The steps follow `helm template` (`pkg/cmd/template.go`, `runInstall`,
//! `action.Install.RunWithContext`) and fail where it fails, with its words:
//! `--kube-version` parsed → arguments → the chart located → user values
//! (`-f` files merged in order, then `--set-json`, `--set`, `--set-string`,
//! `--set-file`, `--set-literal`, as `values.Options.MergeValues`) → the
//! chart loaded → release name checked → [`berth_chart::process::prepare_then`]
//! (dependencies, coalescing, schema, `kubeVersion`) →
//! [`berth_render::engine::render`] →
//! [`berth_render::output::template_output`].

use std::path::{Component, Path, PathBuf};

use berth_chart::load::{load_path_observed, LoadError, LoadedTemplates};
use berth_chart::process::{prepare_then, ProcessError, ProcessOptions};
use berth_chart::strvals::{
    parse_set, parse_set_file, parse_set_json, parse_set_literal, parse_set_string, StrvalsError,
};
use berth_chart::values::{merge_maps, parse as parse_values, ValuesError};
use berth_chart::{Chart, Values};
use berth_render::engine::{render_parsed_ahead, ParseAhead, RenderError};
use berth_render::objects::{KubeVersion, KubeVersionError};
use berth_render::output::{template_output, OutputError, OutputOptions};
use berth_render::{Capabilities, Release, RenderOptions};

/// The flags of `berth template` (those of `helm template` berth supports).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TemplateArgs {
    /// `[NAME] CHART`: the release name (default `release-name`) and the
    /// chart, a directory or a `.tgz`.
    #[arg(value_name = "[NAME] CHART")]
    pub args: Vec<String>,
    /// Values files, later files win (repeatable, or comma-separated).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<String>,
    /// Values on the command line (`a.b=c,d[0]=e`; repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Values on the command line, always strings (repeatable).
    #[arg(long = "set-string", value_name = "KEY=VALUE")]
    pub set_string: Vec<String>,
    /// JSON values on the command line (`a={"b":1}` or a whole JSON object;
    /// repeatable).
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    /// Values read from files (`key=path`; repeatable).
    #[arg(long = "set-file", value_name = "KEY=PATH")]
    pub set_file: Vec<String>,
    /// A literal string value (`key=rest of the argument`, no escapes or
    /// lists; repeatable).
    #[arg(long = "set-literal", value_name = "KEY=VALUE")]
    pub set_literal: Vec<String>,
    /// The release namespace (`.Release.Namespace`).
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,
    /// Kubernetes version for `.Capabilities.KubeVersion`.
    #[arg(long = "kube-version", value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// Extra API versions for `.Capabilities.APIVersions` (repeatable, or
    /// comma-separated).
    #[arg(short = 'a', long = "api-versions", value_name = "GROUP/VERSION")]
    pub api_versions: Vec<String>,
    /// Print the chart's `crds/` files too.
    #[arg(long = "include-crds")]
    pub include_crds: bool,
    /// Leave out test hooks.
    #[arg(long = "skip-tests")]
    pub skip_tests: bool,
    /// Only print the manifests rendered from these templates (repeatable;
    /// `templates/x.yaml`, globs allowed).
    #[arg(short = 's', long = "show-only", value_name = "TEMPLATE")]
    pub show_only: Vec<String>,
    /// Set `.Release.IsUpgrade` instead of `.Release.IsInstall`.
    #[arg(long = "is-upgrade")]
    pub is_upgrade: bool,
    /// Leave out hooks.
    #[arg(long = "no-hooks")]
    pub no_hooks: bool,
    /// Do not validate the values against `values.schema.json`.
    #[arg(long = "skip-schema-validation")]
    pub skip_schema_validation: bool,
    /// Chart version for `oci://` charts: an exact tag or a semver
    /// constraint (the highest matching tag; empty: the highest release).
    #[arg(long = "version", value_name = "VERSION")]
    pub version: Option<String>,
    /// Use plain HTTP for an `oci://` registry.
    #[arg(long = "plain-http")]
    pub plain_http: bool,
    /// CA bundle (PEM) for the `oci://` registry's TLS certificate.
    #[arg(long = "ca-file", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for the `oci://` registry.
    #[arg(long = "cert-file", value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
    /// Client key (PEM) for the `oci://` registry.
    #[arg(long = "key-file", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Registry user name (otherwise Helm's, then Docker's registry config).
    #[arg(long = "username")]
    pub username: Option<String>,
    /// Registry password.
    #[arg(long = "password")]
    pub password: Option<String>,
}

/// Why `berth template` failed. `Display` is the text `helm template`
/// prints after `Error: ` for the same failure.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("invalid kube version '{input}': {source}")]
    KubeVersion {
        input: String,
        #[source]
        source: KubeVersionError,
    },
    #[error("\"berth template\" requires at least 1 argument")]
    MissingChart,
    #[error("expected at most two arguments, unexpected arguments: {0}")]
    TooManyArguments(String),
    #[error("failed to pull {reference}: {source}")]
    Pull {
        reference: String,
        #[source]
        source: crate::oci_chart::PullError,
    },
    #[error("path {0:?} not found")]
    PathNotFound(String),
    /// berth has no chart repositories; helm says the same when none is
    /// configured.
    #[error("repo {0} not found")]
    RepoNotFound(String),
    #[error("non-absolute URLs should be in form of repo_name/path_to_chart, got: {0}")]
    NotAChartPath(String),
    /// A `-f` file could not be read (Go's `open <path>: <reason>`).
    #[error("{0}")]
    ReadValues(String),
    #[error("failed to parse {path}: {source}")]
    ParseValues {
        path: String,
        #[source]
        source: ValuesError,
    },
    #[error(transparent)]
    Strvals(#[from] StrvalsError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("release name check failed: release name {name:?}: {reason}")]
    ReleaseName { name: String, reason: &'static str },
    #[error(transparent)]
    Process(ProcessError),
    /// Failures Helm meets once the release exists (in `renderResources`),
    /// which it reports with a hint about `--debug`.
    #[error("{0}\n\nUse --debug flag to render out invalid YAML")]
    ProcessAtRender(ProcessError),
    #[error("{0}\n\nUse --debug flag to render out invalid YAML")]
    Render(#[source] RenderError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// The release name `helm template` uses when only CHART is given.
pub const DEFAULT_RELEASE_NAME: &str = "release-name";

/// Helm's `chartutil.ValidateReleaseName` message for a bad name.
const INVALID_RELEASE_NAME: &str = "invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53";

/// Renders the chart as `helm template` would and returns its stdout.
pub fn run_template(a: &TemplateArgs) -> Result<String, TemplateError> {
    // helm parses --kube-version before anything else.
    let kube = match &a.kube_version {
        Some(v) if !v.is_empty() => {
            Some(
                KubeVersion::parse(v).map_err(|source| TemplateError::KubeVersion {
                    input: v.clone(),
                    source,
                })?,
            )
        }
        _ => None,
    };
    let (name, chart_ref) = match a.args.as_slice() {
        [] => return Err(TemplateError::MissingChart),
        [chart] => (DEFAULT_RELEASE_NAME.to_string(), chart.clone()),
        [name, chart] => (name.clone(), chart.clone()),
        [_, _, rest @ ..] => return Err(TemplateError::TooManyArguments(rest.join(", "))),
    };
    // The templates do not depend on the values: parse them while the
    // values files are decoded and the dependencies and values processed.
    let ahead = ParseAhead::start();
    let chart = if chart_ref.trim().starts_with("oci://") {
        let archive = crate::oci_chart::pull_chart(
            chart_ref.trim(),
            &crate::oci_chart::PullOptions {
                version: a.version.clone(),
                plain_http: a.plain_http,
                ca_file: a.ca_file.clone(),
                cert_file: a.cert_file.clone(),
                key_file: a.key_file.clone(),
                username: a.username.clone(),
                password: a.password.clone(),
            },
        )
        .map_err(|source| TemplateError::Pull {
            reference: chart_ref.trim().to_string(),
            source,
        })?;
        let user_values = user_values(a)?;
        let chart = berth_chart::load::load_archive(&archive)?;
        ahead.add_chart(&chart);
        (user_values, chart)
    } else {
        let chart_path = locate_chart(&chart_ref)?;
        let user_values = user_values(a)?;
        let chart = load_path_observed(&chart_path, &mut |t: LoadedTemplates<'_>| {
            ahead.add(t.chart_path, t.library, t.templates)
        })?;
        (user_values, chart)
    };
    let (user_values, chart) = chart;
    if installable_with_dependencies(&chart) {
        validate_release_name(&name)?;
    }

    let mut capabilities = Capabilities::default();
    if let Some(k) = kube {
        capabilities.kube_version = k.version;
    }
    capabilities
        .api_versions
        .extend(split_list(&a.api_versions));
    let process = ProcessOptions {
        kube_version: capabilities.kube_version.clone(),
        skip_schema_validation: a.skip_schema_validation,
    };
    let opts = RenderOptions {
        release: Release {
            name,
            // helm's namespace lookup falls back to `default` for an empty
            // `--namespace`.
            namespace: if a.namespace.is_empty() {
                "default".to_string()
            } else {
                a.namespace.clone()
            },
            revision: 1,
            is_install: !a.is_upgrade,
            is_upgrade: a.is_upgrade,
        },
        capabilities,
        strict: false,
        subchart_notes: false,
        limits: Default::default(),
        lookup: None,
    };
    let out = OutputOptions {
        include_crds: a.include_crds,
        skip_tests: a.skip_tests,
        show_only: a.show_only.clone(),
        no_hooks: a.no_hooks,
    };
    berth_render::one_shot_process();
    // Rendering runs while the values are checked against the schemas;
    // a schema or kubeVersion error still wins, as in helm.
    let (prepared, output) = prepare_then(chart, user_values, &process, |prepared| {
        let rendered = render_parsed_ahead(&prepared.chart, &prepared.values, &opts, ahead)
            .map_err(TemplateError::Render)?;
        let output = template_output(&rendered, &out)?;
        // The process exits right after printing: freeing the rendered
        // files (and below, the chart and its values) node by node would
        // only cost time (millions of instructions for large charts).
        std::mem::forget(rendered);
        Ok::<_, TemplateError>(output)
    })
    .map_err(|e| match e {
        ProcessError::KubeVersion { .. } => TemplateError::ProcessAtRender(e),
        e => TemplateError::Process(e),
    })?;
    std::mem::forget(prepared);
    output
}

/// Helm's `LocateChart` for what berth supports: an existing path (made
/// absolute, as Helm loads it); otherwise Helm's messages for a missing
/// path or a repository reference.
fn locate_chart(reference: &str) -> Result<PathBuf, TemplateError> {
    let name = reference.trim();
    let path = Path::new(name);
    if std::fs::metadata(path).is_ok() {
        return Ok(absolute(path));
    }
    if path.is_absolute() || name.starts_with('.') {
        return Err(TemplateError::PathNotFound(name.to_string()));
    }
    match name.split_once('/') {
        Some((repo, _)) => Err(TemplateError::RepoNotFound(repo.to_string())),
        None => Err(TemplateError::NotAChartPath(name.to_string())),
    }
}

/// Go's `filepath.Abs`: joined with the working directory and cleaned
/// lexically (`.` and `..` resolved without following links).
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(cwd) => cwd.join(path),
            Err(_) => path.to_path_buf(),
        }
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(c);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// pflag's string-slice flags (`-f`, `-a`): every occurrence may hold a
/// comma-separated list.
fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Helm's `values.Options.MergeValues`: `-f` files merged in order, then
/// `--set-json`, `--set`, `--set-string`, `--set-file`, `--set-literal`.
fn user_values(a: &TemplateArgs) -> Result<Values, TemplateError> {
    let mut base = Values::new();
    for file in split_list(&a.values) {
        let text = read_file(&file).map_err(|e| TemplateError::ReadValues(e.to_string()))?;
        let current = parse_values(&text).map_err(|source| TemplateError::ParseValues {
            path: file.clone(),
            source,
        })?;
        merge_maps(&mut base, current);
    }
    for v in &a.set_json {
        parse_set_json(v, &mut base)?;
    }
    for v in &a.set {
        parse_set(v, &mut base)?;
    }
    for v in &a.set_string {
        parse_set_string(v, &mut base)?;
    }
    for v in &a.set_file {
        parse_set_file(v, &mut base, &read_file)?;
    }
    for v in &a.set_literal {
        parse_set_literal(v, &mut base)?;
    }
    Ok(base)
}

/// Reads a file, the error worded as Go's `os.ReadFile` words it
/// (`open <path>: no such file or directory`).
fn read_file(path: &str) -> Result<String, std::io::Error> {
    let bytes = std::fs::read(path).map_err(|e| go_io_error(path, &e))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn go_io_error(path: &str, e: &std::io::Error) -> std::io::Error {
    // Go's errno texts are the C library's, lower-cased at the start.
    let text = e.to_string();
    let reason = text.split(" (os error").next().unwrap_or(&text).to_string();
    let mut chars = reason.chars();
    let reason = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => reason,
    };
    let op = if e.kind() == std::io::ErrorKind::IsADirectory {
        "read"
    } else {
        "open"
    };
    std::io::Error::new(e.kind(), format!("{op} {path}: {reason}"))
}

/// Whether Helm would get as far as checking the release name: the chart
/// is an application chart and its dependencies are all present (Helm
/// reports those problems first; `prepare` reports them for berth).
fn installable_with_dependencies(chart: &Chart) -> bool {
    matches!(chart.metadata.chart_type.as_str(), "" | "application")
        && berth_chart::dependencies::missing_dependencies(chart).is_empty()
}

/// Helm's `ValidateReleaseName`: at most 53 characters of DNS labels
/// (`[a-z0-9]([-a-z0-9]*[a-z0-9])?` joined by dots).
fn validate_release_name(name: &str) -> Result<(), TemplateError> {
    let bad = |reason| {
        Err(TemplateError::ReleaseName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("no name provided");
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if name.len() > 53 || !name.split('.').all(label_ok) {
        return bad(INVALID_RELEASE_NAME);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_follow_helm_rules() {
        for ok in ["a", "release-name", "a.b-c.d9", &"x".repeat(53)] {
            assert!(validate_release_name(ok).is_ok(), "{ok}");
        }
        for bad in ["Bad", "-a", "a-", "a..b", "a_b", &"x".repeat(54)] {
            assert!(validate_release_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn release_name_error_reads_like_helm() {
        let e = validate_release_name("Bad_Name").unwrap_err();
        assert_eq!(
            e.to_string(),
            "release name check failed: release name \"Bad_Name\": invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"
        );
    }

    #[test]
    fn chart_references_helm_cannot_resolve_locally() {
        assert_eq!(
            locate_chart("./does-not-exist").unwrap_err().to_string(),
            "path \"./does-not-exist\" not found"
        );
        assert_eq!(
            locate_chart("nonexist").unwrap_err().to_string(),
            "non-absolute URLs should be in form of repo_name/path_to_chart, got: nonexist"
        );
        assert_eq!(
            locate_chart("foo/bar").unwrap_err().to_string(),
            "repo foo not found"
        );
    }

    #[test]
    fn missing_values_file_reads_like_go() {
        let e = read_file("/nonexistent/values.yaml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "open /nonexistent/values.yaml: no such file or directory"
        );
    }

    #[test]
    fn lists_split_on_commas() {
        let v = split_list(&["a.yaml,b.yaml".to_string(), "c.yaml".to_string()]);
        assert_eq!(v, ["a.yaml", "b.yaml", "c.yaml"]);
    }

    #[test]
    fn absolute_cleans_dot_segments() {
        assert_eq!(absolute(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }
}
