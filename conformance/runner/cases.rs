//! The case corpus: `conformance/cases/<family>.yaml`, each a list of cases
//! (format in `conformance/README.md`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file of a case chart that is compared.
pub const CASE_FILE: &str = "templates/case.yaml";

/// One case as written in a case file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub template: String,
    #[serde(default)]
    pub values: Option<String>,
    /// Extra template files, path relative to `templates/`.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

/// A case with its family (the file it came from).
#[derive(Debug, Clone)]
pub struct NamedCase {
    /// `<family>/<name>`
    pub id: String,
    pub case: Case,
}

impl NamedCase {
    /// Every template file of the case chart, path relative to the chart
    /// root (`templates/case.yaml`, `templates/_helpers.tpl`, …).
    pub fn chart_files(&self) -> BTreeMap<String, String> {
        let mut files: BTreeMap<String, String> = self
            .case
            .files
            .iter()
            .map(|(k, v)| (format!("templates/{k}"), v.clone()))
            .collect();
        files.insert(CASE_FILE.to_string(), self.case.template.clone());
        files
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("failed to read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to parse case file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("case file {path}: duplicate case name {name:?}")]
    Duplicate { path: PathBuf, name: String },
    #[error("case file {path}: case {name:?} has a file named {file:?} (case.yaml is the template itself; paths are relative to templates/ and must not escape it)")]
    BadFile {
        path: PathBuf,
        name: String,
        file: String,
    },
}

/// Read every `*.yaml` file of `dir`, in name order.
pub fn load_corpus(dir: &Path) -> Result<Vec<NamedCase>, CorpusError> {
    let entries = std::fs::read_dir(dir).map_err(|source| CorpusError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        out.extend(load_case_file(&path)?);
    }
    Ok(out)
}

/// Read one case file.
pub fn load_case_file(path: &Path) -> Result<Vec<NamedCase>, CorpusError> {
    let text = std::fs::read_to_string(path).map_err(|source| CorpusError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let cases: Vec<Case> = if text.trim().is_empty() {
        Vec::new()
    } else {
        serde_saphyr::from_str(&text).map_err(|e| CorpusError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
    };
    let family = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        if !seen.insert(case.name.clone()) {
            return Err(CorpusError::Duplicate {
                path: path.to_path_buf(),
                name: case.name,
            });
        }
        for file in case.files.keys() {
            let bad = file == "case.yaml"
                || file.is_empty()
                || file.starts_with('/')
                || file
                    .split('/')
                    .any(|c| c == ".." || c == "." || c.is_empty());
            if bad {
                return Err(CorpusError::BadFile {
                    path: path.to_path_buf(),
                    name: case.name.clone(),
                    file: file.clone(),
                });
            }
        }
        out.push(NamedCase {
            id: format!("{family}/{}", case.name),
            case,
        });
    }
    Ok(out)
}
