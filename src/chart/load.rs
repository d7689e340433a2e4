//! Files (from a directory or an archive) → [`Chart`], as Helm v4.3.1's
//! `pkg/chart/v2/loader` does it.
//!
//! - [`load_path`]: a directory (Helm's `LoadDir`) or a `.tgz` file (Helm's
//!   `LoadFile`, which first checks the file looks gzipped).
//! - [`load_archive`]: a `.tgz` in memory (Helm's `LoadArchive`).
//! - [`load_files`]: Helm's `LoadFiles`: `Chart.yaml` first (no
//!   `apiVersion` means `v1`), then `Chart.lock`, `values.yaml`,
//!   `values.schema.json`, `requirements.yaml` / `requirements.lock`
//!   (decoded onto the metadata / lock; kept among the files of a v1
//!   chart), `templates/…`, `charts/…` (subcharts; `.prov` files stay files)
//!   and every other file; then `Metadata.Validate`, then the subcharts,
//!   recursively (names starting with `_` or `.` are skipped, `x.tgz` is an
//!   archive, anything else a directory — so a stray file in `charts/` is an
//!   error, as in Helm).
//!
//! Directory loading follows Helm's walker: entries in lexical order,
//! `.helmignore` rules (plus Helm's default `templates/.?*`) applied to
//! files and directories, symlinks followed (a linked file's content is
//! loaded, a linked directory walked), irregular files refused, a UTF-8 BOM
//! dropped, and a total size budget (100 MiB, like Helm; berth also applies
//! the 5 MiB per-file limit its archive reader uses). Two things Helm
//! allows are refused, because a chart directory may come from an
//! untrusted source (a Git repository): a symlink whose target resolves
//! outside the chart directory (Helm would read any file the process can),
//! and a symlinked directory that leads back into one of its own ancestors
//! (Helm would walk it forever).
//!
//! Subcharts may nest at most [`MAX_SUBCHART_DEPTH`] levels, and the
//! subchart archives of one chart tree share one 100 MiB decompressed
//! budget (Helm has neither limit; without them nested archives could
//! multiply memory use or exhaust the stack).
//!
//! In front of the v2 loader, [`load_path`] and [`load_archive`] do what
//! Helm v4's generic `pkg/chart/loader` does: read `Chart.yaml`'s
//! `apiVersion` first (`v1`, `v2` or none go on; anything else is
//! `unsupported chart version`; berth has no loader for Helm 4's `v3`
//! charts and says so), with its messages (`unable to detect chart at …`,
//! `unable to detect chart version, no Chart.yaml found`, `stream does not
//! appear to be a valid chart file …`). Where Helm reports an unreadable
//! archive *file* as just `unable to load chart archive`, berth appends the
//! reason (the entry and the check that failed), as Helm already does for
//! archive streams.
//!
//! Unlike Helm, the chart's templates and files are sorted by name and its
//! subcharts by their name under `charts/` (Helm keeps walk/archive order
//! and loads subcharts in Go map order); nothing in rendering depends on
//! Helm's order.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::archive::{read_archive, ArchiveError, ArchiveLimits};
use crate::helmignore::{IgnoreError, Rules, HELM_IGNORE};
use crate::metadata::{DecodeNotes, Lock, ValidationError};
use crate::{Chart, File};

/// Why a chart could not be loaded. Messages follow Helm's.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The archive could not be read (path checks, limits, corrupt data).
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// A `.tgz` file that is not valid gzip.
    #[error("file '{path}' does not appear to be a valid chart file (details: {source})")]
    InvalidChartFile {
        path: String,
        #[source]
        source: ArchiveError,
    },
    /// An in-memory archive that is not valid gzip.
    #[error("stream does not appear to be a valid chart file (details: {0})")]
    InvalidChartStream(#[source] ArchiveError),
    /// The top-level archive could not be read. (For a file Helm prints
    /// only `unable to load chart archive`; berth adds the reason.)
    #[error("unable to load chart archive: {0}")]
    UnreadableArchive(#[source] ArchiveError),
    #[error("unable to detect chart version, no Chart.yaml found")]
    NoChartYamlInArchive,
    #[error("unable to detect chart at {path}: {message}")]
    NoChartYamlInDirectory { path: String, message: String },
    #[error("unsupported chart version")]
    UnsupportedChartVersion,
    /// Helm v4 loads `apiVersion: v3` charts with a separate loader that
    /// berth does not have.
    #[error("chart apiVersion v3 is not supported by berth")]
    ApiVersionV3,
    #[error("file '{0}' seems to be a YAML file, but expected a gzipped archive")]
    YamlNotArchive(String),
    #[error("file '{path}' does not appear to be a gzipped archive; got '{content_type}'")]
    NotArchive { path: String, content_type: String },
    /// A file-system error, in Go's `op path: reason` form.
    #[error("{0}")]
    Io(String),
    /// `Chart.yaml`, `Chart.lock`, `values.yaml`, `requirements.yaml` or
    /// `requirements.lock` could not be decoded.
    #[error("cannot load {file}: {message}")]
    Parse { file: &'static str, message: String },
    #[error("Chart.yaml file is missing")]
    MissingChartYaml,
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error("error unpacking subchart {name} in {parent}: {source}")]
    Subchart {
        name: String,
        parent: String,
        #[source]
        source: Box<LoadError>,
    },
    #[error("subchart {name} in {parent} is nested more than {MAX_SUBCHART_DEPTH} levels deep")]
    TooDeep { name: String, parent: String },
    #[error("error unpacking subchart tar in {parent}: expected {expected}, got {got}")]
    SubchartArchiveName {
        parent: String,
        expected: String,
        got: String,
    },
    /// `.helmignore` has a bad rule.
    #[error(transparent)]
    Ignore(#[from] IgnoreError),
    #[error("cannot load irregular file {0} as it has file mode type bits set")]
    IrregularFile(String),
    #[error("error reading {name}: chart exceeds maximum decompressed size of {max} bytes")]
    DirectoryTooLarge { name: String, max: u64 },
    #[error("error reading {name}: file exceeds maximum size of {max} bytes")]
    FileTooLarge { name: String, max: u64 },
    #[error("error evaluating symlink {path}: {message}")]
    Symlink { path: String, message: String },
    #[error("symlink {path} points outside the chart directory (to {target})")]
    SymlinkOutside { path: String, target: String },
    #[error("symlink loop: {path} leads back to {target}")]
    SymlinkLoop { path: String, target: String },
}

/// Load a chart from a directory or a `.tgz` file (what `helm template`
/// does with a local chart: Helm's `pkg/chart/loader.Load`, which reads
/// `Chart.yaml`'s `apiVersion` first and hands v1/v2 charts to the v2
/// loader).
pub fn load_path(path: &Path) -> Result<Chart, LoadError> {
    load_path_observed(path, &mut |_: LoadedTemplates<'_>| {})
}

/// One chart's templates as the loader has read them, before that chart's
/// values are decoded: its path in the tree as the render names templates
/// (`root`, `root/charts/sub`), whether it is a library chart, and its
/// `templates/` files.
pub struct LoadedTemplates<'a> {
    pub chart_path: &'a str,
    pub library: bool,
    pub templates: &'a [File],
}

/// [`load_path`], telling `observer` each chart's templates as soon as
/// they are read (`berth template` parses them while the values files are
/// decoded). The result, errors included, is [`load_path`]'s.
pub fn load_path_observed(
    path: &Path,
    observer: &mut dyn FnMut(LoadedTemplates<'_>),
) -> Result<Chart, LoadError> {
    let meta = fs::metadata(path).map_err(|e| go_io_error("stat", path, &e))?;
    if meta.is_dir() {
        let top = std::path::absolute(path).map_err(|e| go_io_error("stat", path, &e))?;
        let chart_yaml = top.join("Chart.yaml");
        let data = fs::read(&chart_yaml).map_err(|e| LoadError::NoChartYamlInDirectory {
            path: chart_yaml.display().to_string(),
            message: format!("open {}: {}", chart_yaml.display(), go_reason(&e)),
        })?;
        check_api_version(&data)?;
        load_dir(path, observer)
    } else {
        load_file(path, observer)
    }
}

/// Load a chart from an in-memory `.tgz` (an OCI chart layer): Helm's
/// `pkg/chart/loader.LoadArchive`.
pub fn load_archive(bytes: &[u8]) -> Result<Chart, LoadError> {
    let files = read_archive(bytes, &ArchiveLimits::default()).map_err(|e| {
        if e.is_not_gzip() {
            LoadError::InvalidChartStream(e)
        } else {
            LoadError::UnreadableArchive(e)
        }
    })?;
    load_detected(files, &mut |_: LoadedTemplates<'_>| {})
}

/// A subchart archive under `charts/`: the v2 loader's `LoadArchive`, whose
/// errors are the archive reader's own. All subchart archives of a chart
/// tree share one decompressed-size budget (Helm gives each its own 100
/// MiB, so nested archives could multiply memory use).
fn load_subchart_archive(bytes: &[u8], nested: &mut Nesting<'_>) -> Result<Chart, LoadError> {
    let limits = ArchiveLimits {
        max_total_bytes: nested.budget,
        ..ArchiveLimits::default()
    };
    let files = read_archive(bytes, &limits)?;
    let used: u64 = files
        .iter()
        .map(|f| (f.name.len() + f.data.len()) as u64)
        .sum();
    nested.budget = nested.budget.saturating_sub(used);
    load_files_within(files, nested)
}

/// The version sniffing of Helm's generic loader on archive files.
fn load_detected(
    files: Vec<File>,
    observer: &mut dyn FnMut(LoadedTemplates<'_>),
) -> Result<Chart, LoadError> {
    let chart_yaml = files
        .iter()
        .find(|f| f.name == "Chart.yaml")
        .ok_or(LoadError::NoChartYamlInArchive)?;
    check_api_version(&chart_yaml.data)?;
    load_files_observed(files, observer)
}

fn check_api_version(chart_yaml: &[u8]) -> Result<(), LoadError> {
    let version =
        crate::metadata::decode_api_version(chart_yaml).map_err(|message| LoadError::Parse {
            file: "Chart.yaml",
            message,
        })?;
    match version.as_str() {
        "" | "v1" | "v2" => Ok(()),
        "v3" => Err(LoadError::ApiVersionV3),
        _ => Err(LoadError::UnsupportedChartVersion),
    }
}

/// Helm's `LoadFile`: check the file looks gzipped, then read it.
fn load_file(
    path: &Path,
    observer: &mut dyn FnMut(LoadedTemplates<'_>),
) -> Result<Chart, LoadError> {
    let name = path.display().to_string();
    let mut file = fs::File::open(path).map_err(|e| go_io_error("open", path, &e))?;
    let mut head = Vec::with_capacity(512);
    (&mut file)
        .take(512)
        .read_to_end(&mut head)
        .map_err(|e| LoadError::Io(format!("file '{name}' cannot be read: {}", go_reason(&e))))?;
    if !head.starts_with(&[0x1f, 0x8b, 0x08]) {
        if name.ends_with(".yml") || name.ends_with(".yaml") {
            return Err(LoadError::YamlNotArchive(name));
        }
        return Err(LoadError::NotArchive {
            path: name,
            content_type: detect_content_type(&head).to_string(),
        });
    }
    let reader = std::io::Cursor::new(head).chain(file);
    let files = read_archive(reader, &ArchiveLimits::default()).map_err(|e| {
        if e.is_not_gzip() {
            LoadError::InvalidChartFile {
                path: name.clone(),
                source: e,
            }
        } else {
            LoadError::UnreadableArchive(e)
        }
    })?;
    load_detected(files, observer)
}

/// Go's `http.DetectContentType` for what a mistaken chart argument
/// usually is (text, HTML/XML, PDF, zip, binary). Helm sniffs a 512-byte
/// buffer, zero-padded when the file is shorter — so a short text file
/// sniffs as binary, as it does in Helm.
fn detect_content_type(head: &[u8]) -> &'static str {
    let mut data = [0u8; 512];
    let n = head.len().min(512);
    data[..n].copy_from_slice(&head[..n]);
    let trimmed = {
        let start = data
            .iter()
            .position(|b| !matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' '))
            .unwrap_or(data.len());
        &data[start..]
    };
    const HTML: &[&[u8]] = &[
        b"<!DOCTYPE HTML",
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
        b"<!--",
    ];
    for tag in HTML {
        if trimmed.len() > tag.len()
            && trimmed[..tag.len()].eq_ignore_ascii_case(tag)
            && matches!(trimmed[tag.len()], b' ' | b'>')
        {
            return "text/html; charset=utf-8";
        }
    }
    if trimmed.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    if data.starts_with(b"%PDF-") {
        return "application/pdf";
    }
    if data.starts_with(b"\xFE\xFF") {
        return "text/plain; charset=utf-16be";
    }
    if data.starts_with(b"\xFF\xFE") {
        return "text/plain; charset=utf-16le";
    }
    if data.starts_with(b"\xEF\xBB\xBF") {
        return "text/plain; charset=utf-8";
    }
    if data.starts_with(b"PK\x03\x04") {
        return "application/zip";
    }
    let binary = data.iter().any(|&b| {
        b <= 0x08 || b == 0x0B || (0x0E..=0x1A).contains(&b) || (0x1C..=0x1F).contains(&b)
    });
    if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    }
}

/// Helm's `LoadFiles`: build a chart (and its subcharts) from its files.
pub fn load_files(files: Vec<File>) -> Result<Chart, LoadError> {
    load_files_observed(files, &mut |_: LoadedTemplates<'_>| {})
}

fn load_files_observed(
    files: Vec<File>,
    observer: &mut dyn FnMut(LoadedTemplates<'_>),
) -> Result<Chart, LoadError> {
    let mut nested = Nesting {
        budget: ArchiveLimits::default().max_total_bytes,
        depth: 0,
        parent_path: None,
        observer,
    };
    load_files_within(files, &mut nested)
}

/// How deep subcharts may nest (Helm has no limit; without one, a chart of
/// archives nested in archives could exhaust the stack).
pub const MAX_SUBCHART_DEPTH: usize = 64;

/// What a chart tree's loading shares across its subcharts.
struct Nesting<'a> {
    /// Decompressed bytes left for subchart archives.
    budget: u64,
    /// How many subchart levels are being loaded.
    depth: usize,
    /// The path of the chart whose subcharts are being loaded.
    parent_path: Option<String>,
    observer: &'a mut dyn FnMut(LoadedTemplates<'_>),
}

/// [`load_files`] within the limits of the tree being loaded.
fn load_files_within(files: Vec<File>, nested: &mut Nesting<'_>) -> Result<Chart, LoadError> {
    let mut chart = Chart::default();
    // `values.yaml` is decoded once the templates have been shown to the
    // observer; an error that the loop or the checks after it meet is
    // preceded by a values error, as when the values were decoded in
    // their turn (the file comes before it).
    let mut values_data: Option<Vec<u8>> = None;
    let values_first = |values_data: &mut Option<Vec<u8>>, e: LoadError| -> LoadError {
        match values_data.take().map(|d| decode_values(&d)) {
            Some(Err(values_error)) => values_error,
            _ => e,
        }
    };
    let mut has_metadata = false;
    let mut notes = DecodeNotes::default();

    // Chart.yaml first, wherever it is in the list.
    for f in files.iter().filter(|f| f.name == "Chart.yaml") {
        has_metadata = true;
        notes = chart
            .metadata
            .decode_onto(&f.data)
            .map_err(|message| LoadError::Parse {
                file: "Chart.yaml",
                message,
            })?;
        if chart.metadata.api_version.is_empty() {
            chart.metadata.api_version = "v1".to_string();
        }
    }

    let mut subcharts: BTreeMap<String, Vec<File>> = BTreeMap::new();
    for f in files {
        match f.name.as_str() {
            "Chart.yaml" => {}
            "Chart.lock" => {
                chart.lock = Some(
                    decode_lock(&f.data, "Chart.lock")
                        .map_err(|e| values_first(&mut values_data, e))?,
                )
            }
            "values.yaml" => values_data = Some(f.data),
            "values.schema.json" => chart.schema = Some(f.data),
            "requirements.yaml" => {
                has_metadata = true;
                if chart.metadata.api_version != "v1" {
                    tracing::warn!(
                        chart = %chart.metadata.name,
                        "dependencies are handled in Chart.yaml since apiVersion \"v2\"; \
                         we recommend migrating dependencies to Chart.yaml"
                    );
                }
                let more = chart.metadata.decode_onto(&f.data).map_err(|message| {
                    values_first(
                        &mut values_data,
                        LoadError::Parse {
                            file: "requirements.yaml",
                            message,
                        },
                    )
                })?;
                notes.null_maintainer = more.null_maintainer.or(notes.null_maintainer);
                notes.null_dependency = more.null_dependency.or(notes.null_dependency);
                if chart.metadata.api_version == "v1" {
                    chart.files.push(f);
                }
            }
            "requirements.lock" => {
                chart.lock = Some(
                    decode_lock(&f.data, "requirements.lock")
                        .map_err(|e| values_first(&mut values_data, e))?,
                );
                has_metadata = true;
                if chart.metadata.api_version != "v1" {
                    tracing::warn!(
                        chart = %chart.metadata.name,
                        "dependency locking is handled in Chart.lock since apiVersion \"v2\"; \
                         we recommend migrating to Chart.lock"
                    );
                }
                if chart.metadata.api_version == "v1" {
                    chart.files.push(f);
                }
            }
            name if name.starts_with("templates/") => chart.templates.push(f),
            name if name.starts_with("charts/") => {
                if extension(name) == ".prov" {
                    chart.files.push(f);
                    continue;
                }
                let rest = &name["charts/".len()..];
                let sub = rest.split('/').next().unwrap_or(rest).to_string();
                let inner = rest.to_string();
                subcharts.entry(sub).or_default().push(File {
                    name: inner,
                    data: f.data,
                });
            }
            _ => chart.files.push(f),
        }
    }

    if !has_metadata {
        return Err(values_first(&mut values_data, LoadError::MissingChartYaml));
    }
    chart
        .metadata
        .validate_with(notes)
        .map_err(|e| values_first(&mut values_data, e.into()))?;

    let chart_path = match &nested.parent_path {
        None => chart.metadata.name.clone(),
        Some(parent) => format!("{parent}/charts/{}", chart.metadata.name),
    };
    (nested.observer)(LoadedTemplates {
        chart_path: &chart_path,
        library: chart.metadata.chart_type.eq_ignore_ascii_case("library"),
        templates: &chart.templates,
    });
    if let Some(data) = values_data.take() {
        chart.values = decode_values(&data)?;
    }
    let outer_path = nested.parent_path.replace(chart_path);

    for (sub, mut files) in subcharts {
        if sub.starts_with('_') || sub.starts_with('.') {
            continue;
        }
        if nested.depth >= MAX_SUBCHART_DEPTH {
            return Err(LoadError::TooDeep {
                name: sub,
                parent: chart.metadata.name.clone(),
            });
        }
        nested.depth += 1;
        let loaded = if extension(&sub) == ".tgz" {
            let first = files.swap_remove(0);
            if first.name != sub {
                return Err(LoadError::SubchartArchiveName {
                    parent: chart.metadata.name.clone(),
                    expected: sub,
                    got: first.name,
                });
            }
            load_subchart_archive(&first.data, nested)
        } else {
            let inner: Vec<File> = files
                .into_iter()
                .filter_map(|f| {
                    let (_, rest) = f.name.split_once('/')?;
                    Some(File {
                        name: rest.to_string(),
                        data: f.data,
                    })
                })
                .collect();
            load_files_within(inner, nested)
        };
        nested.depth -= 1;
        match loaded {
            Ok(c) => chart.dependencies.push(c),
            Err(e) => {
                return Err(LoadError::Subchart {
                    name: sub,
                    parent: chart.metadata.name.clone(),
                    source: Box::new(e),
                })
            }
        }
    }

    nested.parent_path = outer_path;
    chart.templates.sort_by(|a, b| a.name.cmp(&b.name));
    chart.files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(chart)
}

fn decode_lock(data: &[u8], file: &'static str) -> Result<Lock, LoadError> {
    Lock::decode(data).map_err(|message| LoadError::Parse { file, message })
}

/// `values.yaml`, with Helm's wording around the parser's message.
fn decode_values(data: &[u8]) -> Result<crate::Values, LoadError> {
    let parse_error = |message: String| LoadError::Parse {
        file: "values.yaml",
        message,
    };
    let text = std::str::from_utf8(data).map_err(|_| {
        parse_error(
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             yaml: invalid leading UTF-8 octet"
                .into(),
        )
    })?;
    crate::values::parse(text).map_err(|e| match e {
        crate::values::ValuesError::Yaml(berth_template::convert::ConvertError::Yaml(msg)) => {
            parse_error(format!(
                "cannot unmarshal yaml document: error converting YAML to JSON: {msg}"
            ))
        }
        crate::values::ValuesError::Yaml(berth_template::convert::ConvertError::NotAMap(kind)) => {
            parse_error(format!(
                "cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: \
             json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                if kind.starts_with('[') {
                    "array"
                } else if kind == "string" {
                    "string"
                } else if kind == "bool" {
                    "bool"
                } else {
                    "number"
                }
            ))
        }
        other => parse_error(other.to_string()),
    })
}

/// Go's `filepath.Ext`: the suffix from the last `.` of the last element.
fn extension(name: &str) -> &str {
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rfind('.') {
        Some(i) => &last[i..],
        None => "",
    }
}

// ---------------------------------------------------------------------------
// Directories
// ---------------------------------------------------------------------------

struct DirWalk {
    rules: Rules,
    /// The chart directory, symlinks resolved: links must stay inside.
    root_real: PathBuf,
    limits: ArchiveLimits,
    remaining: u64,
    files: Vec<File>,
    /// Resolved directories on the current walk path (loop detection).
    stack: Vec<PathBuf>,
}

/// Helm's `LoadDir`.
fn load_dir(dir: &Path, observer: &mut dyn FnMut(LoadedTemplates<'_>)) -> Result<Chart, LoadError> {
    let top = std::path::absolute(dir).map_err(|e| go_io_error("stat", dir, &e))?;
    let root_real = fs::canonicalize(&top).map_err(|e| go_io_error("lstat", &top, &e))?;

    let mut rules = Rules::empty();
    let ignore_file = top.join(HELM_IGNORE);
    if fs::metadata(&ignore_file).is_ok() {
        let text =
            fs::read_to_string(&ignore_file).map_err(|e| go_io_error("open", &ignore_file, &e))?;
        rules = Rules::parse(&text)?;
    }
    rules.add_defaults();

    let limits = ArchiveLimits::default();
    let mut walk = DirWalk {
        rules,
        root_real: root_real.clone(),
        limits,
        remaining: limits.max_total_bytes,
        files: Vec::new(),
        stack: vec![root_real],
    };
    walk.walk_dir(&top, "")?;
    load_files_observed(walk.files, observer)
}

impl DirWalk {
    /// Walk `dir`, whose resolved path is the last of `self.stack`.
    fn walk_dir(&mut self, dir: &Path, rel: &str) -> Result<(), LoadError> {
        // The entry types come with the directory listing (no stat per
        // entry); a file is stat'ed once open, for its size.
        let mut entries: Vec<(std::ffi::OsString, fs::FileType)> = fs::read_dir(dir)
            .map_err(|e| go_io_error("open", dir, &e))?
            .map(|entry| entry.and_then(|e| Ok((e.file_name(), e.file_type()?))))
            .collect::<Result<_, _>>()
            .map_err(|e| go_io_error("readdirent", dir, &e))?;
        entries.sort_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
        for (name, file_type) in entries {
            let path = dir.join(&name);
            let child_rel = {
                let name = name.to_string_lossy();
                if rel.is_empty() {
                    name.into_owned()
                } else {
                    format!("{rel}/{name}")
                }
            };
            self.visit(&path, &name, &child_rel, file_type)?;
        }
        Ok(())
    }

    fn visit(
        &mut self,
        path: &Path,
        name: &std::ffi::OsStr,
        rel: &str,
        file_type: fs::FileType,
    ) -> Result<(), LoadError> {
        let (is_dir, is_file, real) = if file_type.is_symlink() {
            let resolved = fs::canonicalize(path).map_err(|e| LoadError::Symlink {
                path: path.display().to_string(),
                message: go_reason(&e),
            })?;
            if !resolved.starts_with(&self.root_real) {
                return Err(LoadError::SymlinkOutside {
                    path: path.display().to_string(),
                    target: resolved.display().to_string(),
                });
            }
            tracing::info!(
                path = %path.display(),
                resolved = %resolved.display(),
                "found symbolic link in chart; the linked content is included"
            );
            let meta =
                fs::symlink_metadata(&resolved).map_err(|e| go_io_error("lstat", &resolved, &e))?;
            (meta.is_dir(), meta.is_file(), Some(resolved))
        } else {
            (file_type.is_dir(), file_type.is_file(), None)
        };

        if is_dir {
            if self.rules.ignore(rel, true) {
                return Ok(());
            }
            let real = match real {
                Some(real) => real,
                // Not a link: its resolved path is its parent's plus its name.
                None => match self.stack.last() {
                    Some(parent) => parent.join(name),
                    None => fs::canonicalize(path).map_err(|e| go_io_error("lstat", path, &e))?,
                },
            };
            if self.stack.contains(&real) {
                return Err(LoadError::SymlinkLoop {
                    path: path.display().to_string(),
                    target: real.display().to_string(),
                });
            }
            self.stack.push(real);
            let result = self.walk_dir(path, rel);
            self.stack.pop();
            return result;
        }

        if self.rules.ignore(rel, false) {
            return Ok(());
        }
        if !is_file {
            return Err(LoadError::IrregularFile(path.display().to_string()));
        }
        let data = self.read_with_budget(path, rel)?;
        self.files.push(File {
            name: rel.to_string(),
            data,
        });
        Ok(())
    }

    /// Read a file without ever holding more than the budget allows (it
    /// may have grown since it was stat'ed).
    fn read_with_budget(&mut self, path: &Path, rel: &str) -> Result<Vec<u8>, LoadError> {
        let too_large = || LoadError::DirectoryTooLarge {
            name: rel.to_string(),
            max: self.limits.max_total_bytes,
        };
        let file_too_large = || LoadError::FileTooLarge {
            name: rel.to_string(),
            max: self.limits.max_file_bytes,
        };
        let file = fs::File::open(path).map_err(|e| go_io_error("open", path, &e))?;
        let size = file
            .metadata()
            .map_err(|e| go_io_error("stat", path, &e))?
            .len();
        if size > self.remaining {
            return Err(too_large());
        }
        if size > self.limits.max_file_bytes {
            return Err(file_too_large());
        }
        let allowed = self.remaining.min(self.limits.max_file_bytes);
        let mut data = Vec::with_capacity(size.min(allowed) as usize);
        file.take(allowed.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| LoadError::Io(format!("error reading {rel}: {}", go_reason(&e))))?;
        let got = data.len() as u64;
        if got > self.remaining {
            return Err(too_large());
        }
        if got > self.limits.max_file_bytes {
            return Err(file_too_large());
        }
        self.remaining -= got;
        if data.starts_with(b"\xEF\xBB\xBF") {
            data.drain(..3);
        }
        Ok(data)
    }
}

/// An OS error as Go prints it: `op path: reason`.
fn go_io_error(op: &str, path: &Path, e: &std::io::Error) -> LoadError {
    LoadError::Io(format!("{op} {}: {}", path.display(), go_reason(e)))
}

/// The reason part of a Go `*PathError` (`no such file or directory`).
fn go_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, data: &str) -> File {
        File {
            name: name.to_string(),
            data: data.as_bytes().to_vec(),
        }
    }

    const CHART_V2: &str = "apiVersion: v2\nname: top\nversion: 1.0.0\n";

    #[test]
    fn the_observer_sees_every_charts_templates_under_their_render_paths() {
        let files = vec![
            file("Chart.yaml", CHART_V2),
            file("values.yaml", "a: 1\n"),
            file("templates/a.yaml", "a"),
            file(
                "charts/sub/Chart.yaml",
                "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            ),
            file("charts/sub/templates/_h.tpl", "h"),
            file(
                "charts/sub/charts/lib/Chart.yaml",
                "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
            ),
            file("charts/sub/charts/lib/templates/_l.tpl", "l"),
        ];
        let mut seen = Vec::new();
        let chart = load_files_observed(files, &mut |t: LoadedTemplates<'_>| {
            let names: Vec<&str> = t.templates.iter().map(|f| f.name.as_str()).collect();
            seen.push(format!(
                "{} {} {}",
                t.chart_path,
                t.library,
                names.join(",")
            ));
        })
        .unwrap();
        assert_eq!(
            seen,
            [
                "top false templates/a.yaml",
                "top/charts/sub false templates/_h.tpl",
                "top/charts/sub/charts/lib true templates/_l.tpl",
            ]
        );
        assert_eq!(chart.values["a"], 1.0);
    }

    #[test]
    fn a_values_error_still_wins_over_a_later_files_error() {
        let bad_values = file("values.yaml", "a: [\n");
        let bad_lock = file("Chart.lock", "dependencies: 7\n");
        let err = |files: Vec<File>| load_files(files).unwrap_err().to_string();
        let values_first = err(vec![
            file("Chart.yaml", CHART_V2),
            bad_values.clone(),
            bad_lock.clone(),
        ]);
        let lock_first = err(vec![
            file("Chart.yaml", CHART_V2),
            bad_lock.clone(),
            bad_values.clone(),
        ]);
        assert!(values_first.contains("values.yaml"), "{values_first}");
        assert!(lock_first.contains("Chart.lock"), "{lock_first}");
        // No Chart.yaml at all: the values error, met first, is reported.
        let no_chart = err(vec![bad_values.clone()]);
        assert!(no_chart.contains("values.yaml"), "{no_chart}");
        assert_eq!(
            err(vec![file("values.yaml", "a: 1\n")]),
            LoadError::MissingChartYaml.to_string()
        );
    }

    #[test]
    fn classifies_files() {
        let c = load_files(vec![
            file("values.yaml", "a: 1\nb: [x]\n"),
            file("templates/z.yaml", "z"),
            file("templates/a.yaml", "a"),
            file("Chart.yaml", CHART_V2),
            file(
                "Chart.lock",
                "dependencies:\n- name: sub\n  version: 0.1.0\n",
            ),
            file("values.schema.json", "{}"),
            file("crds/c.yaml", "kind: CustomResourceDefinition"),
            file("README.md", "hi"),
            file("charts/sub.prov", "sig"),
            file("charts/_ignored/Chart.yaml", "not: loaded"),
            file("charts/.hidden/Chart.yaml", "not: loaded"),
            file("charts/sub/Chart.yaml", "name: sub\nversion: 0.1.0\n"),
            file("charts/sub/values.yaml", "x: z\n"),
            file("charts/sub/templates/t.yaml", "t"),
        ])
        .unwrap();
        assert_eq!(c.name(), "top");
        let names = |fs: &[File]| fs.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&c.templates),
            ["templates/a.yaml", "templates/z.yaml"]
        );
        assert_eq!(
            names(&c.files),
            ["README.md", "charts/sub.prov", "crds/c.yaml"]
        );
        assert_eq!(c.values["a"], serde_json::json!(1.0));
        assert_eq!(c.schema.as_deref(), Some(&b"{}"[..]));
        assert_eq!(c.lock.as_ref().map(|l| l.dependencies.len()), Some(1));
        assert_eq!(c.dependencies.len(), 1);
        let sub = &c.dependencies[0];
        // No apiVersion: a v1 chart.
        assert_eq!(sub.metadata.api_version, "v1");
        assert_eq!(names(&sub.templates), ["templates/t.yaml"]);
        assert_eq!(sub.values["x"], serde_json::json!("z"));
        assert_eq!(c.crd_files().count(), 1);
    }

    // Expected messages from Helm v4.3.1's loader.LoadFiles on the same
    // inputs (a throwaway Go program).
    #[test]
    fn errors_read_like_helm() {
        let err = |files: Vec<File>| load_files(files).unwrap_err().to_string();
        assert_eq!(
            err(vec![file("values.yaml", "a: 1")]),
            "Chart.yaml file is missing"
        );
        assert_eq!(
            err(vec![file(
                "requirements.yaml",
                "dependencies:\n- name: x\n"
            )]),
            "validation: chart.metadata.apiVersion is required"
        );
        assert_eq!(
            err(vec![
                file("Chart.yaml", CHART_V2),
                file("charts/README.md", "x")
            ]),
            "error unpacking subchart README.md in top: Chart.yaml file is missing"
        );
        assert_eq!(
            err(vec![
                file("Chart.yaml", CHART_V2),
                file("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: nope\n")
            ]),
            "error unpacking subchart sub in top: validation: chart.metadata.version \"nope\" is invalid"
        );
        let values = err(vec![
            file("Chart.yaml", CHART_V2),
            file("values.yaml", "a: [\n"),
        ]);
        assert!(
            values.starts_with(
                "cannot load values.yaml: cannot unmarshal yaml document: error converting YAML to JSON: "
            ),
            "{values}"
        );
        assert!(err(vec![file("Chart.yaml", "name: [a\n")])
            .starts_with("cannot load Chart.yaml: error converting YAML to JSON: "));
        assert!(err(vec![
            file("Chart.yaml", CHART_V2),
            file("charts/bad.tgz", "this is not gzip")
        ])
        .starts_with("error unpacking subchart bad.tgz in top: gzip: invalid header"));
    }

    #[test]
    fn v1_requirements_move_into_metadata_and_stay_files() {
        let c = load_files(vec![
            file("Chart.yaml", "apiVersion: v1\nname: old\nversion: 0.1.0\n"),
            file(
                "requirements.yaml",
                "dependencies:\n- name: db\n  version: 1.x\n  repository: file://../db\n  condition: db.enabled\n  tags: [backend]\n  alias: database\n  import-values:\n  - data\n  - child: a\n    parent: b\n",
            ),
            file("requirements.lock", "dependencies:\n- name: db\n  version: 1.2.3\ndigest: d\n"),
            file("charts/db/Chart.yaml", "name: db\nversion: 1.2.3\n"),
        ])
        .unwrap();
        let d = &c.metadata.dependencies;
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].name, "db");
        assert_eq!(d[0].alias, "database");
        assert_eq!(d[0].condition, "db.enabled");
        assert_eq!(d[0].tags, ["backend"]);
        assert_eq!(
            d[0].import_values,
            [
                serde_json::json!("data"),
                serde_json::json!({"child": "a", "parent": "b"})
            ]
        );
        assert_eq!(c.lock.as_ref().map(|l| l.digest.as_str()), Some("d"));
        let names: Vec<&str> = c.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["requirements.lock", "requirements.yaml"]);
        assert_eq!(c.dependencies[0].name(), "db");

        // A v2 chart: requirements.yaml still sets the dependencies (with a
        // warning) but is not kept as a file.
        let c = load_files(vec![
            file("Chart.yaml", CHART_V2),
            file("requirements.yaml", "dependencies:\n- name: db\n"),
        ])
        .unwrap();
        assert_eq!(c.metadata.dependencies[0].name, "db");
        assert!(c.files.is_empty());
    }

    fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        {
            let mut b = tar::Builder::new(&mut enc);
            for (name, data) in entries {
                let mut h = tar::Header::new_gnu();
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                b.append_data(&mut h, name, *data).unwrap();
            }
            b.finish().unwrap();
        }
        enc.finish().unwrap()
    }

    #[test]
    fn archives_and_archived_subcharts() {
        let sub = tgz(&[
            (
                "sub/Chart.yaml",
                b"apiVersion: v2\nname: sub\nversion: 0.2.0\n",
            ),
            ("sub/templates/s.yaml", b"s"),
        ]);
        let top = tgz(&[
            ("top/Chart.yaml", CHART_V2.as_bytes()),
            ("top/values.yaml", b"\xEF\xBB\xBFk: v\n"),
            ("top/charts/sub-0.2.0.tgz", &sub),
        ]);
        let c = load_archive(&top).unwrap();
        assert_eq!(c.values["k"], serde_json::json!("v"));
        assert_eq!(c.dependencies[0].name(), "sub");
        assert_eq!(c.dependencies[0].templates[0].name, "templates/s.yaml");
    }

    /// Corrupted archives never panic: flip bytes of a valid chart archive,
    /// compressed and uncompressed, and load each variant.
    #[test]
    fn corrupted_archives_are_errors_not_panics() {
        let entries: &[(&str, &[u8])] = &[
            ("top/Chart.yaml", CHART_V2.as_bytes()),
            ("top/values.yaml", b"a: {b: [1, 2]}\n"),
            ("top/templates/x.yaml", b"kind: {{ .Values.a }}\n"),
        ];
        let good = tgz(entries);
        assert!(load_archive(&good).is_ok());
        let mut seed = 0x2545_f491_u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for _ in 0..400 {
            let mut bad = good.clone();
            let at = next() as usize % bad.len();
            bad[at] ^= (next() % 255 + 1) as u8;
            let _ = load_archive(&bad);
            let _ = load_archive(&bad[..next() as usize % bad.len()]);
        }
        // Corrupt the tar itself (valid gzip around it).
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&good[..])
            .read_to_end(&mut raw)
            .unwrap();
        for _ in 0..400 {
            let mut bad = raw.clone();
            for _ in 0..4 {
                let at = next() as usize % bad.len();
                bad[at] = next() as u8;
            }
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut enc, &bad).unwrap();
            let _ = load_archive(&enc.finish().unwrap());
        }
    }

    #[test]
    fn subchart_archives_share_one_budget() {
        // Each subchart archive holds 4 MiB of zeros (under every per-file
        // and per-archive limit); 30 of them pass the shared 100 MiB.
        let zeros = vec![0u8; 4 * 1024 * 1024];
        let sub = |i: usize| {
            tgz(&[
                (
                    &format!("s{i}/Chart.yaml"),
                    format!("apiVersion: v2\nname: s{i}\nversion: 1.0.0\n").as_bytes(),
                ),
                (&format!("s{i}/files/zeros"), &zeros[..]),
            ])
        };
        let subs: Vec<(String, Vec<u8>)> = (0..30)
            .map(|i| (format!("top/charts/s{i}.tgz"), sub(i)))
            .collect();
        let mut entries: Vec<(&str, &[u8])> = vec![("top/Chart.yaml", CHART_V2.as_bytes())];
        entries.extend(subs.iter().map(|(n, d)| (n.as_str(), d.as_slice())));
        let e = load_archive(&tgz(&entries)).unwrap_err().to_string();
        assert!(
            e.contains("decompressed chart is larger than the maximum size"),
            "{e}"
        );
        // 20 of them fit.
        let e = load_archive(&tgz(&entries[..21]));
        assert!(e.is_ok(), "{:?}", e.err());
    }

    #[test]
    fn subchart_nesting_is_limited() {
        let chart = |name: &str| format!("apiVersion: v2\nname: {name}\nversion: 1.0.0\n");
        let nest = |levels: usize| {
            let mut files = vec![file("Chart.yaml", &chart("top"))];
            let mut prefix = String::new();
            for i in 0..levels {
                prefix.push_str(&format!("charts/c{i}/"));
                files.push(file(
                    &format!("{prefix}Chart.yaml"),
                    &chart(&format!("c{i}")),
                ));
            }
            files
        };
        let c = load_files(nest(MAX_SUBCHART_DEPTH)).unwrap();
        assert_eq!(c.dependencies[0].dependencies[0].name(), "c1");
        let e = load_files(nest(MAX_SUBCHART_DEPTH + 1))
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("is nested more than 64 levels deep"), "{e}");
    }

    /// A scratch directory under the system temp dir, removed on drop.
    struct Scratch(PathBuf);
    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let p = std::env::temp_dir().join(format!("berth-load-{tag}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            Scratch(p)
        }
        fn write(&self, rel: &str, data: &str) {
            let p = self.0.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, data).unwrap();
        }
    }
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn directories_helmignore_and_symlinks() {
        let s = Scratch::new("dir");
        let c = s.0.join("chart");
        s.write("chart/Chart.yaml", CHART_V2);
        s.write("chart/.helmignore", "# comment\n*.bak\nsecret/\n");
        s.write("chart/values.yaml", "\u{feff}a: b\n");
        s.write("chart/templates/a.yaml", "a");
        s.write("chart/templates/.hidden.yaml", "h");
        s.write("chart/templates/old.bak", "b");
        s.write("chart/secret/key", "k");
        s.write("chart/files/real.txt", "real");
        std::os::unix::fs::symlink("real.txt", c.join("files/link.txt")).unwrap();
        std::os::unix::fs::symlink("files", c.join("linkdir")).unwrap();
        let chart = load_path(&c).unwrap();
        let names: Vec<&str> = chart.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                ".helmignore",
                "files/link.txt",
                "files/real.txt",
                "linkdir/link.txt",
                "linkdir/real.txt"
            ]
        );
        assert_eq!(chart.files[1].data, b"real");
        let t: Vec<&str> = chart.templates.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(t, ["templates/a.yaml"]);
        assert_eq!(chart.values["a"], serde_json::json!("b"));

        // A symlink out of the chart is refused.
        s.write("outside.txt", "secret");
        std::os::unix::fs::symlink("../../outside.txt", c.join("files/out.txt")).unwrap();
        let e = load_path(&c).unwrap_err().to_string();
        assert!(e.contains("points outside the chart directory"), "{e}");
        fs::remove_file(c.join("files/out.txt")).unwrap();

        // A directory symlink back to an ancestor is a loop.
        std::os::unix::fs::symlink("..", c.join("files/up")).unwrap();
        let e = load_path(&c).unwrap_err().to_string();
        assert!(e.starts_with("symlink loop: "), "{e}");
        fs::remove_file(c.join("files/up")).unwrap();

        // A dangling symlink.
        std::os::unix::fs::symlink("nowhere", c.join("files/dangling")).unwrap();
        let e = load_path(&c).unwrap_err().to_string();
        assert!(e.starts_with("error evaluating symlink "), "{e}");
        fs::remove_file(c.join("files/dangling")).unwrap();

        // A bad .helmignore rule.
        s.write("chart/.helmignore", "a/**/b\n");
        assert_eq!(
            load_path(&c).unwrap_err().to_string(),
            "double-star (**) syntax is not supported"
        );
    }

    #[test]
    fn archive_files_on_disk() {
        let s = Scratch::new("file");
        let yaml = s.0.join("values.yaml");
        fs::write(&yaml, "a: 1\n").unwrap();
        assert_eq!(
            load_path(&yaml).unwrap_err().to_string(),
            format!(
                "file '{}' seems to be a YAML file, but expected a gzipped archive",
                yaml.display()
            )
        );
        let txt = s.0.join("chart.txt");
        fs::write(&txt, "hello\n".repeat(100)).unwrap();
        assert_eq!(
            load_path(&txt).unwrap_err().to_string(),
            format!(
                "file '{}' does not appear to be a gzipped archive; got 'text/plain; charset=utf-8'",
                txt.display()
            )
        );
        let good = s.0.join("top-1.0.0.tgz");
        fs::write(&good, tgz(&[("top/Chart.yaml", CHART_V2.as_bytes())])).unwrap();
        assert_eq!(load_path(&good).unwrap().name(), "top");
        let missing = s.0.join("missing");
        assert_eq!(
            load_path(&missing).unwrap_err().to_string(),
            format!("stat {}: no such file or directory", missing.display())
        );
    }

    /// Run the real `helm template` on a chart path and return its error
    /// message (`Error: …` on stderr), or None if it succeeded.
    fn helm_template_error(helm: &Path, chart: &Path) -> Option<String> {
        let out = std::process::Command::new(helm)
            .args(["template", "t"])
            .arg(chart)
            .args(["--kube-version", "1.33.0"])
            .output()
            .unwrap();
        if out.status.success() {
            return None;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let at = stderr
            .find("Error: ")
            .unwrap_or_else(|| panic!("helm stderr: {stderr}"));
        Some(stderr[at + "Error: ".len()..].trim_end().to_string())
    }

    // Loading failures compared with the real helm v4.3.1 on the same
    // inputs: `helm template` must fail with berth's message.
    #[test]
    fn load_errors_match_helm_template() {
        let helm = helm_binary();
        if !helm.exists() {
            eprintln!(
                "SKIPPING: {} is missing (run e2e/tools/build.sh helm)",
                helm.display()
            );
            return;
        }
        let s = Scratch::new("helmdiff");
        let ok = "apiVersion: v2\nname: top\nversion: 1.0.0\n";
        let dir_cases: &[(&str, &[(&str, &str)])] = &[
            ("no-chart-yaml", &[("values.yaml", "a: 1\n")]),
            ("name-type", &[("Chart.yaml", "apiVersion: v2\nname: [a]\nversion: 1.0.0\n")]),
            ("api-type", &[("Chart.yaml", "apiVersion: [v2]\nname: a\nversion: 1.0.0\n")]),
            ("bad-version", &[("Chart.yaml", "apiVersion: v2\nname: a\nversion: x1\n")]),
            ("no-name", &[("Chart.yaml", "apiVersion: v2\nversion: 1.0.0\n")]),
            ("no-version", &[("Chart.yaml", "name: a\n")]),
            ("unsupported", &[("Chart.yaml", "apiVersion: v9\nname: a\nversion: 1.0.0\n")]),
            ("bad-type", &[("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\ntype: app\n")]),
            (
                "deprecated-string",
                &[("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\ndeprecated: \"yes\"\n")],
            ),
            (
                "bad-alias",
                &[("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- name: x\n  alias: a.b\n")],
            ),
            (
                "dup-dep",
                &[("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- name: x\n- name: y\n  alias: x\n")],
            ),
            (
                "null-dep",
                &[("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- \n")],
            ),
            (
                "null-maintainer",
                &[("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\nmaintainers:\n- \n")],
            ),
            (
                "maintainer-type",
                &[("Chart.yaml", "apiVersion: v2\nname: a\nversion: 1.0.0\nmaintainers:\n- name: [x]\n")],
            ),
            ("stray-in-charts", &[("Chart.yaml", ok), ("charts/README.md", "x")]),
            ("double-star", &[("Chart.yaml", ok), (".helmignore", "a/**\n")]),
            ("bad-glob", &[("Chart.yaml", ok), (".helmignore", "[x\n")]),
            (
                "bad-subchart",
                &[("Chart.yaml", ok), ("charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: nope\n")],
            ),
            ("subchart-garbage-tgz", &[("Chart.yaml", ok), ("charts/x.tgz", "garbage")]),
            ("values-list", &[("Chart.yaml", ok), ("values.yaml", "- a\n")]),
            ("lock-type", &[("Chart.yaml", ok), ("Chart.lock", "digest: [x]\n")]),
        ];
        let mut paths: Vec<PathBuf> = Vec::new();
        for (name, files) in dir_cases {
            for (rel, data) in *files {
                s.write(&format!("{name}/{rel}"), data);
            }
            paths.push(s.0.join(name));
        }
        // An irregular file (a FIFO) in a chart directory.
        s.write("fifo/Chart.yaml", ok);
        let fifo = s.0.join("fifo/templates");
        fs::create_dir_all(&fifo).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(fifo.join("pipe"))
            .status()
            .unwrap();
        assert!(made.success());
        paths.push(s.0.join("fifo"));
        // Files that are not chart archives, and archives that are not charts.
        let text = s.0.join("chart.tgz");
        fs::write(&text, "hello").unwrap();
        let yaml = s.0.join("values.yaml");
        fs::write(&yaml, "a: 1\n").unwrap();
        let binary = s.0.join("chart.bin");
        fs::write(&binary, [0u8, 1, 2, 3, 0xff]).unwrap();
        let no_chart = s.0.join("nochart-1.0.0.tgz");
        fs::write(&no_chart, tgz(&[("c/values.yaml", b"a: 1\n")])).unwrap();
        let bad_version = s.0.join("badver-1.0.0.tgz");
        fs::write(
            &bad_version,
            tgz(&[(
                "c/Chart.yaml",
                b"apiVersion: v2\nname: c\nversion: v1.x.y\n",
            )]),
        )
        .unwrap();
        paths.extend([text, yaml, binary, no_chart, bad_version]);

        let mut failures = Vec::new();
        for path in &paths {
            let ours = match load_path(path) {
                Ok(_) => "<loaded>".to_string(),
                Err(e) => e.to_string(),
            };
            let helms = helm_template_error(&helm, path).unwrap_or_else(|| "<rendered>".into());
            if ours != helms {
                failures.push(format!(
                    "{}:\n  helm:  {helms}\n  berth: {ours}",
                    path.display()
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "differences from helm:\n{}",
            failures.join("\n")
        );
    }

    // Chart.yaml decoding checked against the real helm: `helm show chart`
    // prints the metadata Helm decoded (and sanitised); decoding that
    // output must give what berth decoded from the original.
    #[test]
    fn chart_yaml_decoding_matches_helm_show_chart() {
        let helm = helm_binary();
        if !helm.exists() {
            eprintln!(
                "SKIPPING: {} is missing (run e2e/tools/build.sh helm)",
                helm.display()
            );
            return;
        }
        let s = Scratch::new("show");
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "scalars",
                &[(
                    "Chart.yaml",
                    "apiVersion: v2\nname: scalars\nversion: 1.10\nappVersion: 1.10\nkubeVersion: 1.25\n\
                     description: 0.0001\nhome: true\nicon: 1e3\nkeywords: [1, 2.5, yes, on, x]\n\
                     sources: [012, 0x1F]\ndeprecated: true\n",
                )],
            ),
            (
                "case-insensitive",
                &[(
                    "Chart.yaml",
                    "APIVERSION: v2\nName: ci\nVERSION: 0.1.0\nAppversion: \"2\"\nTYPE: library\n",
                )],
            ),
            (
                "sanitised",
                &[(
                    "Chart.yaml",
                    concat!(
                        "apiVersion: v2\nname: s\nversion: 1.0.0\n",
                        "description: \"tab\\there\\u200bzw\\u00a0nb\\x01ctl\\nnl\"\n",
                        "maintainers:\n- name: \"a\\tb\"\n  email: e@x\n  url: \"\\u00adu\"\n",
                        "annotations:\n  k: 1\n  b: true\n  n: null\n",
                    ),
                )],
            ),
            (
                "dependencies",
                &[(
                    "Chart.yaml",
                    concat!(
                        "apiVersion: v2\nname: d\nversion: 1.0.0\ndependencies:\n",
                        "- name: \"sub\\t\"\n  version: ~1.2\n  repository: file://sub\n",
                        "  condition: a.b,c\n  tags: [t1, 2]\n  alias: Al_ias-1\n  enabled: true\n",
                        "  import-values:\n  - x\n  - child: a.b\n    parent: c\n",
                    ),
                )],
            ),
            (
                "v1-requirements",
                &[
                    ("Chart.yaml", "name: old\nversion: 0.0.1\n"),
                    ("requirements.yaml", "dependencies:\n- name: db\n  version: 1.x\n  alias: database\n"),
                ],
            ),
            (
                "v2-requirements",
                &[
                    ("Chart.yaml", "apiVersion: v2\nname: new\nversion: 0.0.1\ndependencies:\n- name: a\n"),
                    ("requirements.yaml", "dependencies:\n- name: b\n"),
                ],
            ),
        ];
        for (name, files) in cases {
            for (rel, data) in *files {
                s.write(&format!("{name}/{rel}"), data);
            }
            s.write(&format!("{name}/templates/x.yaml"), "a: b\n");
            let dir = s.0.join(name);
            let mut ours = load_path(&dir)
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .metadata;
            let out = std::process::Command::new(&helm)
                .args(["show", "chart"])
                .arg(&dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let mut theirs = crate::Metadata::default();
            theirs.decode_onto(&out.stdout).unwrap();
            // Helm's YAML output omits an empty annotations map.
            if ours.annotations.as_ref().is_some_and(|a| a.is_empty()) {
                ours.annotations = None;
            }
            assert_eq!(
                ours,
                theirs,
                "{name}: helm show chart printed\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }

    // .helmignore semantics checked against the real helm: the files
    // `helm package` keeps are the files berth loads.
    #[test]
    fn helmignore_matches_helm_package() {
        let helm = helm_binary();
        if !helm.exists() {
            eprintln!(
                "SKIPPING: {} is missing (run e2e/tools/build.sh helm)",
                helm.display()
            );
            return;
        }
        let s = Scratch::new("ignore");
        s.write("c/Chart.yaml", CHART_V2);
        s.write(
            "c/.helmignore",
            "# a comment\n\n*.bak\n/top.txt\nsecret/\ntemplates/*.md\ndocs/a?.txt\n[ab].cfg\n  *.tmp  \nsub/dir/\nfoo # bar\n",
        );
        for rel in [
            "values.yaml",
            "top.txt",
            "x/top.txt",
            "a.bak",
            "deep/er/b.bak",
            "secret/key",
            "x/secret/key",
            "secret.txt",
            "templates/a.yaml",
            "templates/README.md",
            "templates/.hidden",
            "templates/sub/.hidden2",
            "templates/sub/x.md",
            "docs/a1.txt",
            "docs/a12.txt",
            "docs/sub/a1.txt",
            "a.cfg",
            "c.cfg",
            "x/b.cfg",
            "t.tmp",
            "sub/dir/f",
            "sub/dirf",
            "foo # bar",
            "foo",
            ".dotfile",
        ] {
            s.write(&format!("c/{rel}"), "a: 1\n");
        }
        let chart = load_path(&s.0.join("c")).unwrap();
        let mut ours: Vec<String> = chart
            .templates
            .iter()
            .chain(chart.files.iter())
            .map(|f| f.name.clone())
            .chain(["Chart.yaml".to_string(), "values.yaml".to_string()])
            .collect();
        ours.sort();
        // The rules took effect (so the comparison below is not vacuous).
        for gone in [
            "a.bak",
            "top.txt",
            "secret/key",
            "templates/.hidden",
            "t.tmp",
        ] {
            assert!(!ours.iter().any(|n| n == gone), "{gone} loaded: {ours:?}");
        }
        for kept in ["x/top.txt", "secret.txt", "foo", "templates/sub/x.md"] {
            assert!(ours.iter().any(|n| n == kept), "{kept} missing: {ours:?}");
        }

        let out = s.0.join("out");
        fs::create_dir_all(&out).unwrap();
        let status = std::process::Command::new(&helm)
            .arg("package")
            .arg(s.0.join("c"))
            .arg("-d")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let packaged = fs::read(out.join("top-1.0.0.tgz")).unwrap();
        let mut theirs: Vec<String> = read_archive(&packaged[..], &ArchiveLimits::default())
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        theirs.sort();
        assert_eq!(ours, theirs);
    }

    // ---- the corpus: every chart, as a directory and as `helm package` makes it

    fn corpus_dir() -> PathBuf {
        match std::env::var_os("BERTH_CHART_CORPUS") {
            Some(p) => PathBuf::from(p),
            None => PathBuf::from("/work/shared/charts"),
        }
    }

    fn helm_binary() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e-bin/helm")
    }

    fn assert_same_chart(path: &str, a: &Chart, b: &Chart) {
        assert_eq!(a.metadata, b.metadata, "{path}: metadata");
        let files = |fs: &[File]| {
            fs.iter()
                .map(|f| (f.name.clone(), f.data.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            files(&a.templates),
            files(&b.templates),
            "{path}: templates"
        );
        assert_eq!(files(&a.files), files(&b.files), "{path}: files");
        assert_eq!(a.values, b.values, "{path}: values");
        assert_eq!(a.schema, b.schema, "{path}: schema");
        assert_eq!(
            a.lock.as_ref().map(|l| (&l.digest, &l.dependencies)),
            b.lock.as_ref().map(|l| (&l.digest, &l.dependencies)),
            "{path}: lock"
        );
        let mut da: Vec<&Chart> = a.dependencies.iter().collect();
        let mut db: Vec<&Chart> = b.dependencies.iter().collect();
        da.sort_by(|x, y| x.name().cmp(y.name()));
        db.sort_by(|x, y| x.name().cmp(y.name()));
        let names = |d: &[&Chart]| d.iter().map(|c| c.name().to_string()).collect::<Vec<_>>();
        assert_eq!(names(&da), names(&db), "{path}: dependencies");
        for (x, y) in da.iter().zip(db.iter()) {
            assert_same_chart(&format!("{path}/charts/{}", x.name()), x, y);
        }
    }

    #[test]
    fn loads_every_corpus_chart_as_directory_and_as_helm_package() {
        let corpus = corpus_dir();
        let mut dirs: Vec<PathBuf> = fs::read_dir(&corpus)
            .unwrap_or_else(|e| panic!("corpus {}: {e}", corpus.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("Chart.yaml").is_file())
            .collect();
        dirs.sort();
        assert!(!dirs.is_empty(), "no charts in {}", corpus.display());

        let helm = helm_binary();
        let out = std::env::temp_dir().join(format!("berth-load-corpus-{}", std::process::id()));
        let _ = fs::remove_dir_all(&out);
        fs::create_dir_all(&out).unwrap();
        if !helm.exists() {
            eprintln!(
                "SKIPPING the helm-package half: {} is missing (run e2e/tools/build.sh helm)",
                helm.display()
            );
        }
        for dir in &dirs {
            let label = dir.file_name().unwrap().to_string_lossy().to_string();
            let chart = load_path(dir).unwrap_or_else(|e| panic!("{label}: {e}"));
            assert!(!chart.templates.is_empty(), "{label}: no templates");
            if !helm.exists() {
                continue;
            }
            let dest = out.join(&label);
            fs::create_dir_all(&dest).unwrap();
            let status = std::process::Command::new(&helm)
                .arg("package")
                .arg(dir)
                .arg("-d")
                .arg(&dest)
                .output()
                .unwrap();
            assert!(
                status.status.success(),
                "helm package {label}: {}",
                String::from_utf8_lossy(&status.stderr)
            );
            let tgz = fs::read_dir(&dest)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|x| x == "tgz"))
                .unwrap_or_else(|| panic!("{label}: helm package wrote no .tgz"));
            let packaged = load_path(&tgz).unwrap_or_else(|e| panic!("{label} (.tgz): {e}"));
            assert_same_chart(&label, &chart, &packaged);
        }
        let _ = fs::remove_dir_all(&out);
    }
}
