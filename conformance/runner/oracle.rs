//! The Go oracle: Helm's own engine in one long-lived process
//! (`e2e/tools/oracle`, built by `e2e/tools/build.sh oracle`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::cases::NamedCase;

/// A render result: the output, or the error text.
pub type Outcome = Result<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    #[error("failed to build the oracle with {script}: {detail}")]
    Build { script: PathBuf, detail: String },
    #[error("failed to run the oracle {path}: {source}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the oracle failed: {0}")]
    Failed(String),
    #[error("failed to decode the oracle's answer: {0}")]
    Decode(String),
}

pub struct Oracle {
    path: PathBuf,
}

#[derive(Serialize)]
struct CaseIn<'a> {
    name: &'a str,
    files: BTreeMap<String, String>,
    values: Option<&'a str>,
}

#[derive(Deserialize)]
struct CaseOut {
    name: String,
    output: Option<String>,
    error: Option<String>,
}

/// The oracle's default capabilities (`--capabilities`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Capabilities {
    pub kube_version: KubeVersion,
    #[serde(rename = "APIVersions")]
    pub api_versions: Vec<String>,
    pub helm_version: HelmVersion,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KubeVersion {
    pub version: String,
    pub major: String,
    pub minor: String,
    pub string: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HelmVersion {
    pub version: String,
    pub git_commit: String,
    pub git_tree_state: String,
    pub go_version: String,
    pub kube_client_version: String,
}

/// `--bench` result.
#[derive(Debug, Clone, Deserialize)]
pub struct BenchResult {
    pub cases: usize,
    pub iterations: u64,
    pub nanos: u64,
}

/// `--chart` result.
#[derive(Debug, Clone, Deserialize)]
pub struct ChartResult {
    pub chart: String,
    #[serde(default)]
    pub files: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub iterations: Option<u64>,
    #[serde(default)]
    pub nanos: Option<u64>,
}

impl Oracle {
    /// Build (or reuse) the pinned oracle and return a handle to it.
    /// `BERTH_ORACLE` names a prebuilt binary instead.
    pub fn build(repo: &Path) -> Result<Oracle, OracleError> {
        if let Some(path) = std::env::var_os("BERTH_ORACLE") {
            return Ok(Oracle { path: path.into() });
        }
        let script = repo.join("e2e/tools/build.sh");
        let status = Command::new(&script)
            .arg("oracle")
            .current_dir(repo)
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .status()
            .map_err(|e| OracleError::Build {
                script: script.clone(),
                detail: e.to_string(),
            })?;
        if !status.success() {
            return Err(OracleError::Build {
                script,
                detail: status.to_string(),
            });
        }
        let links = std::env::var_os("BERTH_TOOLS_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("target/e2e-bin"));
        Ok(Oracle {
            path: links.join("oracle"),
        })
    }

    /// Run the oracle with `args`, feeding `input` on stdin; return stdout.
    fn run(&self, args: &[String], input: Vec<u8>) -> Result<String, OracleError> {
        let mut child = Command::new(&self.path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| OracleError::Spawn {
                path: self.path.clone(),
                source,
            })?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| OracleError::Failed("no stdin".into()))?;
        // Write from another thread: the oracle answers while it reads.
        let writer = std::thread::spawn(move || {
            let r = stdin.write_all(&input);
            drop(stdin);
            r
        });
        let out = child
            .wait_with_output()
            .map_err(|e| OracleError::Failed(e.to_string()))?;
        match writer.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(OracleError::Failed(format!("writing cases: {e}"))),
            Err(_) => return Err(OracleError::Failed("writer thread panicked".into())),
        }
        if !out.status.success() {
            return Err(OracleError::Failed(format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        String::from_utf8(out.stdout).map_err(|e| OracleError::Decode(e.to_string()))
    }

    fn encode_cases(cases: &[NamedCase]) -> Result<Vec<u8>, OracleError> {
        let mut input = Vec::new();
        for c in cases {
            let line = CaseIn {
                name: &c.id,
                files: c.chart_files(),
                values: c.case.values.as_deref(),
            };
            serde_json::to_writer(&mut input, &line)
                .map_err(|e| OracleError::Decode(e.to_string()))?;
            input.push(b'\n');
        }
        Ok(input)
    }

    /// Render every case with Helm's engine, in one process.
    pub fn render_cases(&self, cases: &[NamedCase]) -> Result<Vec<Outcome>, OracleError> {
        let stdout = self.run(&[], Self::encode_cases(cases)?)?;
        let mut outcomes = Vec::with_capacity(cases.len());
        let mut lines = BufReader::new(stdout.as_bytes()).lines();
        for c in cases {
            let line = lines
                .next()
                .ok_or_else(|| OracleError::Decode(format!("no answer for {}", c.id)))?
                .map_err(|e| OracleError::Decode(e.to_string()))?;
            let out: CaseOut =
                serde_json::from_str(&line).map_err(|e| OracleError::Decode(e.to_string()))?;
            if out.name != c.id {
                return Err(OracleError::Decode(format!(
                    "answer for {} where {} was expected",
                    out.name, c.id
                )));
            }
            outcomes.push(match (out.output, out.error) {
                (_, Some(e)) => Err(e),
                (Some(o), None) => Ok(o),
                (None, None) => Ok(String::new()),
            });
        }
        Ok(outcomes)
    }

    pub fn capabilities(&self) -> Result<Capabilities, OracleError> {
        let stdout = self.run(&["--capabilities".into()], Vec::new())?;
        serde_json::from_str(&stdout).map_err(|e| OracleError::Decode(e.to_string()))
    }

    /// Time `iterations` in-process renders of every case.
    pub fn bench_cases(
        &self,
        cases: &[NamedCase],
        iterations: u64,
    ) -> Result<BenchResult, OracleError> {
        let stdout = self.run(
            &["--bench".into(), iterations.to_string()],
            Self::encode_cases(cases)?,
        )?;
        serde_json::from_str(&stdout).map_err(|e| OracleError::Decode(e.to_string()))
    }

    /// Render a chart directory (and time `iterations` renders if > 0).
    pub fn chart(&self, dir: &Path, iterations: u64) -> Result<ChartResult, OracleError> {
        let stdout = self.run(
            &[
                "--chart".into(),
                dir.to_string_lossy().into_owned(),
                "--bench".into(),
                iterations.to_string(),
            ],
            Vec::new(),
        )?;
        serde_json::from_str(&stdout).map_err(|e| OracleError::Decode(e.to_string()))
    }
}
