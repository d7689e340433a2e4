//! Helm's engine (`pkg/engine`) and the render half of `renderResources`
//! (`pkg/action/action.go`), Helm v4.3.1:
//!
//! 1. the chart's `kubeVersion` constraint is checked against
//!    `.Capabilities.KubeVersion`;
//! 2. every template of the chart and its subcharts is collected with its
//!    chart's top-level object (`recAllTpls`: `.Values` scoped per
//!    subchart, `.Chart`, `.Files`, `.Release`, `.Capabilities`,
//!    `.Subcharts`; library charts contribute only partials);
//! 3. all of them are parsed into one template set in Helm's order (deeper
//!    paths first, then names descending), then every non-partial file is
//!    executed in that order with `.Template` set, `<no value>` removed;
//! 4. `NOTES.txt` files are taken out (the root chart's only, unless
//!    subchart notes are asked for), the rest split into documents, hooks
//!    separated and everything sorted in install order; CRDs are collected
//!    from `crds/`.
//!
//! Errors read as Helm's: parse errors through `cleanupParseError`,
//! execution errors through `reformatExecErrorMsg` (the `required`/`fail`
//! message unwrapped from `HELM_ERR_START…HELM_ERR_END`, other template
//! errors as Helm's multi-line trace), a panic as `rendering template
//! failed: …`.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};

use berth_chart::{Chart, Values};
use berth_template::engine::{Error as EngineError, ExecOptions, MissingKey, Templates};
use berth_template::{Map, Registry, Value};

use crate::manifest::{self, ManifestError};
use crate::objects::{chart_value, go_path_base, CapabilitiesObject, Files};
use crate::{RenderOptions, Rendered};

/// Why a chart could not be rendered. `Display` is Helm's error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The root chart's `kubeVersion` does not admit the target version.
    #[error(
        "chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {version}"
    )]
    KubeVersion { constraint: String, version: String },
    /// A template failed to parse (`parse error at (<file>:<line>): …`).
    #[error("{0}")]
    Parse(String),
    /// A template failed to execute (Helm's reformatted message).
    #[error("{0}")]
    Exec(String),
    /// The engine panicked (a bug in berth); Helm's recover wording.
    #[error("rendering template failed: {0}")]
    Panic(String),
    /// A rendered document is not valid YAML or has a bad head.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// The suffix that marks a notes file (Helm's `notesFileSuffix`).
const NOTES_SUFFIX: &str = "NOTES.txt";

/// Helm's function map, built once per process.
pub fn helm_functions() -> Arc<Registry> {
    static FUNCS: OnceLock<Arc<Registry>> = OnceLock::new();
    FUNCS
        .get_or_init(|| Arc::new(berth_template::funcs::helm_functions()))
        .clone()
}

/// Render a prepared chart tree (from `berth_chart::process::prepare`:
/// disabled subcharts removed, aliases applied) with its final values.
/// A panic inside the engine is returned as [`RenderError::Panic`].
pub fn render(
    chart: &Chart,
    values: &Values,
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    check_kube_version(chart, opts)?;
    let files = render_files_with(chart, values, opts, None)?;
    split_rendered(chart, files, opts)
}

/// [`render`] with templates that [`parse_ahead`] has been parsing (of the
/// chart as loaded, before its dependencies were processed). Files whose
/// name or text changed since (an alias renames a subchart's templates)
/// are parsed again here; the result is [`render`]'s.
pub fn render_parsed_ahead(
    chart: &Chart,
    values: &Values,
    opts: &RenderOptions,
    ahead: ParseAhead,
) -> Result<Rendered, RenderError> {
    check_kube_version(chart, opts)?;
    let files = render_files_with(chart, values, opts, Some(ahead))?;
    split_rendered(chart, files, opts)
}

/// Templates being parsed on a thread of its own while the caller does
/// other work (for `berth template`: loading the chart's values files,
/// processing the dependencies and coalescing the values, none of which
/// the parse depends on). Files are added as they become known
/// ([`ParseAhead::add`]); when the render needs them, the calling thread
/// parses what is left alongside the helper.
pub struct ParseAhead {
    queue: Arc<AheadQueue>,
    helper: Option<std::thread::JoinHandle<()>>,
}

struct AheadQueue {
    /// An empty set with Helm's functions and delimiters: what every file
    /// is parsed against.
    set: Templates,
    state: std::sync::Mutex<AheadState>,
    more: std::sync::Condvar,
}

#[derive(Default)]
struct AheadState {
    /// `(template name, text)` not taken yet, by size (taken from the end).
    todo: Vec<(String, String)>,
    /// `(template name, text, parse)`.
    done: Vec<(String, String, ParsedOrError)>,
    /// No more files will be added.
    closed: bool,
}

type ParsedOrError = Result<berth_template::ParsedFile, EngineError>;

impl AheadQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, AheadState> {
        // A panic while the lock was held (there is no code that can panic
        // under it) would leave the state as consistent as before.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Parses files as they come until the queue is closed and empty.
    fn work(&self) {
        loop {
            let mut state = self.lock();
            let job = loop {
                if let Some(job) = state.todo.pop() {
                    break job;
                }
                if state.closed {
                    return;
                }
                state = self.more.wait(state).unwrap_or_else(|p| p.into_inner());
            };
            drop(state);
            let parsed = self.set.parse_detached(&job.0, &job.1);
            self.lock().done.push((job.0, job.1, parsed));
        }
    }
}

impl ParseAhead {
    /// Starts the helper thread, with nothing to parse yet.
    pub fn start() -> ParseAhead {
        let queue = Arc::new(AheadQueue {
            set: Templates::new(helm_functions()),
            state: std::sync::Mutex::new(AheadState::default()),
            more: std::sync::Condvar::new(),
        });
        let worker = queue.clone();
        let helper = std::thread::Builder::new()
            .name("parse".into())
            .spawn(move || worker.work())
            .map_err(|e| tracing::debug!(error = %e, "no parse thread"))
            .ok();
        ParseAhead { queue, helper }
    }

    /// Queues the templates of the chart at `chart_path` (`root`,
    /// `root/charts/sub`: how the render names them); a library chart's
    /// only partials, as the render takes them. Their
    /// `genCA`/`genSelfSignedCert`/`genSignedCert` calls are counted, so
    /// that the keys they ask for are generated two at a time
    /// (`expect_rsa2048_calls`).
    pub fn add(&self, chart_path: &str, library: bool, templates: &[berth_chart::File]) {
        let files = templates
            .iter()
            .filter(|t| !library || go_path_base(&t.name).starts_with('_'))
            .map(|t| {
                (
                    go_path_join(chart_path, &t.name),
                    utf8_lossy(&t.data).into_owned(),
                )
            });
        let files: Vec<(String, String)> = files.collect();
        // Keys the templates may ask for: generated two at a time once
        // the first is asked for.
        berth_template::funcs::crypto::expect_rsa2048_calls(
            files
                .iter()
                .map(|(_, text)| berth_template::funcs::crypto::rsa2048_calls(text))
                .sum(),
        );
        let mut state = self.queue.lock();
        state.todo.extend(files);
        // Largest last: taken first, so the last file either thread is
        // busy with when the render waits is a small one.
        state.todo.sort_by_key(|(_, text)| text.len());
        drop(state);
        self.queue.more.notify_one();
    }

    /// Queues every template of `chart` and its subcharts.
    pub fn add_chart(&self, chart: &Chart) {
        self.add_chart_at(chart, chart.name());
    }

    fn add_chart_at(&self, chart: &Chart, chart_path: &str) {
        let library = chart.metadata.chart_type.eq_ignore_ascii_case("library");
        self.add(chart_path, library, &chart.templates);
        for dep in &chart.dependencies {
            self.add_chart_at(dep, &format!("{chart_path}/charts/{}", dep.name()));
        }
    }

    /// Parses what is left on this thread, waits for the helper, and
    /// returns every file parsed: name → (text, result).
    fn finish(mut self) -> std::collections::HashMap<String, (String, ParsedOrError)> {
        self.queue.lock().closed = true;
        self.queue.more.notify_all();
        self.queue.work();
        if let Some(helper) = self.helper.take() {
            // A helper that panicked leaves its file unparsed: that file is
            // parsed again by the render.
            let _ = helper.join();
        }
        let done = std::mem::take(&mut self.queue.lock().done);
        done.into_iter()
            .map(|(name, text, parsed)| (name, (text, parsed)))
            .collect()
    }
}

impl Drop for ParseAhead {
    /// Unused (the load or the values failed): the helper stops once the
    /// files queued are parsed.
    fn drop(&mut self) {
        self.queue.lock().closed = true;
        self.queue.more.notify_all();
    }
}

/// [`ParseAhead`] of every template of `chart` and its subcharts.
pub fn parse_ahead(chart: &Chart) -> ParseAhead {
    let ahead = ParseAhead::start();
    ahead.add_chart(chart);
    ahead
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".to_string())
}

/// `renderResources`' check of `Chart.yaml` `kubeVersion` (Masterminds
/// constraint against the normalized Kubernetes version; an unparsable
/// constraint or version is incompatible).
fn check_kube_version(chart: &Chart, opts: &RenderOptions) -> Result<(), RenderError> {
    let constraint = &chart.metadata.kube_version;
    if constraint.is_empty() {
        return Ok(());
    }
    let kube = opts.capabilities.kube();
    let ok = match (
        berth_semver::Version::parse(&kube.normalized),
        berth_semver::Constraint::parse(constraint),
    ) {
        (Ok(v), Ok(c)) => c.matches(&v),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(RenderError::KubeVersion {
            constraint: constraint.clone(),
            version: kube.version,
        })
    }
}

/// One template file with the top-level object of its chart.
struct Renderable<'a> {
    name: String,
    text: std::borrow::Cow<'a, str>,
    /// The chart's top-level object (shared by all its templates).
    top: Map,
    base_path: Arc<str>,
}

/// Helm's `engine.Render`: every rendered file keyed by its template path,
/// in execution order (Helm returns a map; the order is irrelevant to
/// callers). A panic inside is returned as [`RenderError::Panic`].
pub fn render_files(
    chart: &Chart,
    values: &Values,
    opts: &RenderOptions,
) -> Result<Vec<(String, String)>, RenderError> {
    render_files_with(chart, values, opts, None)
}

fn render_files_with(
    chart: &Chart,
    values: &Values,
    opts: &RenderOptions,
    ahead: Option<ParseAhead>,
) -> Result<Vec<(String, String)>, RenderError> {
    catch_unwind(AssertUnwindSafe(|| {
        render_files_unguarded(chart, values, opts, ahead)
    }))
    .unwrap_or_else(|p| Err(RenderError::Panic(panic_message(p.as_ref()))))
}

fn render_files_unguarded(
    chart: &Chart,
    values: &Values,
    opts: &RenderOptions,
    ahead: Option<ParseAhead>,
) -> Result<Vec<(String, String)>, RenderError> {
    let release = release_value(opts);
    let capabilities = CapabilitiesObject::new(&opts.capabilities).value();
    let root_values = berth_chart::values::to_template(values);
    let mut tpls = Vec::new();
    collect_templates(
        chart,
        None,
        &root_values,
        &release,
        &capabilities,
        chart.name(),
        &mut tpls,
    );
    execute_all(tpls, opts, ahead)
}

/// Parse and execute a collected template set the way Helm's `render`
/// does.
fn execute_all(
    mut tpls: Vec<Renderable<'_>>,
    opts: &RenderOptions,
    ahead: Option<ParseAhead>,
) -> Result<Vec<(String, String)>, RenderError> {
    tpls.sort_by(|a, b| helm_parse_order(&a.name, &b.name));
    let mut set = Templates::new(helm_functions());
    match ahead {
        None => {
            let files: Vec<(&str, &str)> = tpls.iter().map(|t| (&*t.name, &*t.text)).collect();
            set.parse_files(&files)
                .map_err(|(i, e)| RenderError::Parse(helm_parse_error(&tpls[i].name, &e)))?;
        }
        Some(ahead) => {
            let mut parsed = ahead.finish();
            // In Helm's order, the first failure wins, as above.
            for t in &tpls {
                let added = match parsed.remove(&t.name) {
                    Some((text, result)) if text == *t.text => {
                        result.and_then(|p| set.add_parsed(&t.name, p))
                    }
                    _ => set.parse(&t.name, &t.text),
                };
                added.map_err(|e| RenderError::Parse(helm_parse_error(&t.name, &e)))?;
            }
            if crate::is_one_shot() {
                std::mem::forget(parsed);
            }
        }
    }
    let exec = ExecOptions {
        missing_key: if opts.strict {
            MissingKey::Error
        } else {
            MissingKey::Zero
        },
        limits: opts.limits,
        lookup: opts.lookup.clone(),
    };
    let mut rendered = Vec::with_capacity(tpls.len());
    for t in &tpls {
        if go_path_base(&t.name).starts_with('_') {
            continue;
        }
        // Helm sets .Template on the chart's shared top-level map.
        let mut tm = BTreeMap::new();
        tm.insert("Name".to_string(), Value::str(&t.name));
        tm.insert("BasePath".to_string(), Value::str(&t.base_path));
        t.top.insert(
            "Template",
            Value::Map(Map {
                type_name: Some("common.Values"),
                ..Map::from_entries(tm)
            }),
        );
        let out = set
            .execute(&t.name, &Value::Map(t.top.clone()), &exec)
            .map_err(|e| RenderError::Exec(helm_exec_error(&t.name, &e)))?;
        let out = if out.contains("<no value>") {
            out.replace("<no value>", "")
        } else {
            out
        };
        rendered.push((t.name.clone(), out));
    }
    if crate::is_one_shot() {
        std::mem::forget(set);
    }
    Ok(rendered)
}

/// `.Release` (a `map[string]interface {}`; `Revision` is a Go `int`).
fn release_value(opts: &RenderOptions) -> Value {
    let r = &opts.release;
    let mut m = BTreeMap::new();
    m.insert("Name".to_string(), Value::str(&r.name));
    m.insert("Namespace".to_string(), Value::str(&r.namespace));
    m.insert("IsUpgrade".to_string(), Value::Bool(r.is_upgrade));
    m.insert("IsInstall".to_string(), Value::Bool(r.is_install));
    m.insert("Revision".to_string(), Value::Int(r.revision));
    m.insert("Service".to_string(), Value::str("Helm"));
    Value::map(m)
}

/// Helm's `recAllTpls`: build this chart's top-level object, recurse into
/// the subcharts (whose objects become `.Subcharts.<name>`), and collect
/// this chart's templates. Returns the top-level map.
fn collect_templates<'a>(
    chart: &'a Chart,
    parent_values: Option<&Value>,
    root_values: &Value,
    release: &Value,
    capabilities: &Value,
    full_path: &str,
    out: &mut Vec<Renderable<'a>>,
) -> Map {
    let values = match parent_values {
        None => root_values.clone(),
        Some(parent) => subchart_values(parent, chart.name()),
    };
    let subcharts = Map::new();
    let mut top = BTreeMap::new();
    top.insert(
        "Chart".to_string(),
        chart_value(&chart.metadata, parent_values.is_none()),
    );
    top.insert("Files".to_string(), Files::new(&chart.files).value());
    top.insert("Release".to_string(), release.clone());
    top.insert("Capabilities".to_string(), capabilities.clone());
    top.insert("Values".to_string(), values.clone());
    top.insert("Subcharts".to_string(), Value::Map(subcharts.clone()));
    let top = Map {
        type_name: Some("common.Values"),
        ..Map::from_entries(top)
    };
    for dep in &chart.dependencies {
        let sub_path = format!("{full_path}/charts/{}", dep.name());
        let sub_top = collect_templates(
            dep,
            Some(&values),
            root_values,
            release,
            capabilities,
            &sub_path,
            out,
        );
        // `.Subcharts.<name>` is the child's map[string]interface {}.
        subcharts.insert(
            dep.name(),
            Value::Map(Map {
                type_name: None,
                ..sub_top
            }),
        );
    }
    let base_path: Arc<str> = Arc::from(format!("{full_path}/templates").as_str());
    let library = chart.metadata.chart_type.eq_ignore_ascii_case("library");
    for t in &chart.templates {
        if library && !go_path_base(&t.name).starts_with('_') {
            continue;
        }
        out.push(Renderable {
            name: go_path_join(full_path, &t.name),
            text: utf8_lossy(&t.data),
            top: top.clone(),
            base_path: base_path.clone(),
        });
    }
    top
}

/// `String::from_utf8_lossy`, validating with `str::from_utf8` first: its
/// word-at-a-time ASCII path is several times cheaper than the lossy
/// decoder's byte loop, and templates are nearly always valid UTF-8.
fn utf8_lossy(data: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(data) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(data),
    }
}

/// `values.Table("Values." + name)` on the parent's top-level object: the
/// parent's `.Values.<name>` when it is a map (the same Go map, typed
/// `common.Values`), else an empty `common.Values`. The name is split on
/// dots as Helm's `parsePath` does.
fn subchart_values(parent_values: &Value, name: &str) -> Value {
    let mut cur = parent_values.clone();
    for part in name.split('.') {
        let next = match &cur {
            Value::Map(m) => match m.get(part) {
                Some(Value::Map(sub)) => Some(sub),
                _ => None,
            },
            _ => None,
        };
        match next {
            Some(sub) => cur = Value::Map(sub),
            None => {
                return Value::Map(Map {
                    type_name: Some("common.Values"),
                    ..Map::new()
                })
            }
        }
    }
    match cur {
        Value::Map(m) => Value::Map(Map {
            type_name: Some("common.Values"),
            ..m
        }),
        other => other,
    }
}

/// Go's `path.Join(a, b)` for the clean relative names charts use.
fn go_path_join(a: &str, b: &str) -> String {
    let joined = format!("{a}/{b}");
    // Template names are clean paths already, nearly always.
    if joined
        .split('/')
        .all(|p| !p.is_empty() && p != "." && p != "..")
    {
        return joined;
    }
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            _ => parts.push(p),
        }
    }
    parts.join("/")
}

/// `renderResources` after the engine: notes out, documents sorted, CRDs.
fn split_rendered(
    chart: &Chart,
    files: Vec<(String, String)>,
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    let root_notes = format!("{}/templates/{NOTES_SUFFIX}", chart.name());
    let mut notes: Option<String> = None;
    let mut rest: Vec<(&str, &str)> = Vec::with_capacity(files.len());
    // Helm ranges over a map for notes; with subchart notes berth joins
    // them in path order.
    let mut note_files: Vec<&(String, String)> = Vec::new();
    for f in &files {
        if f.0.ends_with(NOTES_SUFFIX) {
            if opts.subchart_notes || f.0 == root_notes {
                note_files.push(f);
            }
        } else {
            rest.push((f.0.as_str(), f.1.as_str()));
        }
    }
    note_files.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, text) in note_files {
        let n = notes.get_or_insert_with(String::new);
        if !n.is_empty() {
            n.push('\n');
        }
        n.push_str(text);
    }
    let (hooks, manifests) = manifest::sort_manifests(rest)?;
    Ok(Rendered {
        manifests,
        hooks,
        crds: manifest::crd_objects(chart),
        notes,
    })
}

/// Helm's `sortTemplates`: deeper paths first; within one depth, names
/// descending (`sort.Reverse` of depth-then-name).
pub fn helm_parse_order(a: &str, b: &str) -> Ordering {
    // Bytes, not `matches('/')`: the char searcher made this sort ~3 % of
    // a large chart's render.
    let depth = |s: &str| s.bytes().filter(|&c| c == b'/').count();
    depth(b).cmp(&depth(a)).then_with(|| b.cmp(a))
}

/// Helm's `cleanupParseError`: `parse error at (<file:line>): <last part>`.
pub fn helm_parse_error(file: &str, e: &EngineError) -> String {
    let raw = e.to_string();
    let tokens: Vec<&str> = raw.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({file}): {raw}");
    }
    format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    )
}

const WARN_START: &str = "HELM_ERR_START";
const WARN_END: &str = "HELM_ERR_END";

/// Helm's `reformatExecErrorMsg`, as far as a flat message allows (Go walks
/// the wrapped error chain; berth's engine gives the whole text): `required`
/// and `fail` messages become `execution error at (<loc>): <msg>`; a
/// template error becomes Helm's multi-line trace, one block per nested
/// template; a chain that ends in a plain Go error keeps Go's raw text.
pub fn helm_exec_error(file: &str, e: &EngineError) -> String {
    let raw = e.to_string();
    let tokens: Vec<&str> = raw.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({file}): {raw}");
    }
    if let Some(start) = tokens[2].find(WARN_START) {
        let inner = &tokens[2][start + WARN_START.len()..];
        if let Some(end) = inner.rfind(WARN_END) {
            return format!("execution error at ({}): {}", tokens[1], &inner[..end]);
        }
    }
    let mut blocks = Vec::new();
    let mut rest = raw.as_str();
    loop {
        let Some(trace) = parse_exec_level(rest) else {
            // The chain ends in an error that is not a template error.
            return raw;
        };
        let (block, next) = trace;
        if blocks.last() != Some(&block) {
            blocks.push(block);
        }
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    blocks.concat().trim().to_string()
}

/// Helm's `parseTemplateExecutingAtErrorType`: `<name>: executing
/// "<fn>" at <<loc>>: <msg>` as the block header and the message.
fn executing_form(rem: &str) -> Option<(String, &str)> {
    let (name, after) = rem.split_once(": executing ")?;
    let quoted = after.strip_prefix('"')?;
    let end = quoted.find('"')?;
    let func = &quoted[..end];
    let after_func = quoted[end + 1..].strip_prefix(" at <")?;
    let (loc, msg) = after_func.split_once(">: ")?;
    Some((
        format!("{name}\n  executing \"{func}\" at <{loc}>:\n    "),
        msg,
    ))
}

/// One level of `template: <name>: executing "<fn>" at <<loc>>: <msg>` (or
/// `template: <name>: <msg>`), formatted as Helm's `TraceableError`, plus the
/// nested template error the message wraps, if any.
fn parse_exec_level(s: &str) -> Option<(String, Option<&str>)> {
    let rem = s.strip_prefix("template: ")?;
    if rem.starts_with("no template ") {
        return Some((format!("{s}\n"), None));
    }
    let (block, msg) = match executing_form(rem) {
        Some(parts) => parts,
        None => {
            // The simple form `<name>: <msg>`, split at the last `: `.
            let sep = rem.rfind(": ")?;
            (format!("{}\n  ", &rem[..sep]), &rem[sep + 2..])
        }
    };
    // Helm shows the message up to a wrapped template error.
    let own = match msg.find(" template:") {
        Some(cut) => &msg[..cut],
        None => msg,
    };
    // Go's chain continues only through `error calling F: %w`; it goes on
    // as a template error when the function returned one (`include`), and
    // ends in an error Helm cannot parse otherwise (`tpl`'s "cannot parse
    // template …", a plain Go error), so Helm shows the raw message.
    let next = match msg.strip_prefix("error calling ") {
        Some(call) => {
            let (_, wrapped) = call.split_once(": ")?;
            if !wrapped.starts_with("template: ") {
                return None;
            }
            Some(wrapped)
        }
        None => None,
    };
    Some((format!("{block}{own}\n"), next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_chart::{File, Metadata};

    fn chart(name: &str, templates: &[(&str, &str)]) -> Chart {
        Chart {
            metadata: Metadata {
                name: name.into(),
                version: "0.1.0".into(),
                api_version: "v2".into(),
                ..Metadata::default()
            },
            templates: templates
                .iter()
                .map(|(n, t)| File {
                    name: n.to_string(),
                    data: t.as_bytes().to_vec(),
                })
                .collect(),
            ..Chart::default()
        }
    }

    fn opts() -> RenderOptions {
        RenderOptions {
            release: crate::Release::default(),
            capabilities: crate::Capabilities::default(),
            strict: false,
            subchart_notes: false,
            limits: Default::default(),
            lookup: None,
        }
    }

    #[test]
    fn template_names_are_joined_as_gos_path_join_does() {
        // Expected names printed by Go's path.Join for the same arguments.
        let cases = [
            ("top", "templates/a.yaml", "top/templates/a.yaml"),
            (
                "top/charts/sub",
                "templates/_h.tpl",
                "top/charts/sub/templates/_h.tpl",
            ),
            ("top", "templates/./a.yaml", "top/templates/a.yaml"),
            ("top", "templates//a.yaml", "top/templates/a.yaml"),
            ("top", "templates/x/../a.yaml", "top/templates/a.yaml"),
            ("top", "templates/", "top/templates"),
            ("top", "../../a", "../a"),
        ];
        for (a, b, want) in cases {
            assert_eq!(go_path_join(a, b), want, "{a} + {b}");
        }
    }

    #[test]
    fn parse_order_is_deepest_first_then_descending() {
        let mut v = vec![
            "c/templates/a.yaml",
            "c/templates/b.yaml",
            "c/charts/s/templates/a.yaml",
        ];
        v.sort_by(|a, b| helm_parse_order(a, b));
        assert_eq!(
            v,
            vec![
                "c/charts/s/templates/a.yaml",
                "c/templates/b.yaml",
                "c/templates/a.yaml"
            ]
        );
    }

    #[test]
    fn subchart_values_are_scoped_and_objects_wired() {
        let mut root = chart(
            "root",
            &[("templates/a.yaml", "root: {{ .Values.x }} {{ .Chart.IsRoot }} {{ .Template.Name }} {{ .Subcharts.sub.Values.y }}\n")],
        );
        let mut sub = chart(
            "sub",
            &[
                ("templates/b.yaml", "sub: {{ .Values.y }} {{ .Chart.IsRoot }} {{ .Template.BasePath }} {{ .Files.Get \"f.txt\" }} {{ .Release.Name }} {{ .Capabilities.KubeVersion }}\n"),
                ("templates/_h.tpl", "{{ define \"h\" }}H{{ end }}"),
            ],
        );
        sub.files.push(File {
            name: "f.txt".into(),
            data: b"data".to_vec(),
        });
        root.dependencies.push(sub);
        let values: Values = serde_json::from_str(r#"{"x": "X", "sub": {"y": "Y"}}"#).unwrap();
        let files = render_files(&root, &values, &opts()).unwrap();
        let get = |n: &str| {
            files
                .iter()
                .find(|f| f.0 == n)
                .map(|f| f.1.clone())
                .unwrap()
        };
        assert_eq!(
            get("root/templates/a.yaml"),
            "root: X true root/templates/a.yaml Y\n"
        );
        assert_eq!(
            get("root/charts/sub/templates/b.yaml"),
            "sub: Y false root/charts/sub/templates data release-name v1.37.0\n"
        );
        assert!(!files.iter().any(|f| f.0.ends_with("_h.tpl")));
    }

    /// A root chart with two subcharts: `sub` (templates that redefine a
    /// partial of the root's, so the parse order matters) and `broken`
    /// (a template that does not parse).
    fn chart_with_subcharts() -> Chart {
        let mut root = chart(
            "root",
            &[
                (
                    "templates/a.yaml",
                    "a: {{ include \"p\" . }} {{ .Values.x }}\n",
                ),
                ("templates/_p.tpl", "{{ define \"p\" }}root{{ end }}"),
                ("templates/b.yaml", "b: {{ template \"q\" }}\n"),
            ],
        );
        root.dependencies.push(chart(
            "sub",
            &[
                (
                    "templates/_p.tpl",
                    "{{ define \"p\" }}sub{{ end }}{{ define \"q\" }}Q{{ end }}",
                ),
                (
                    "templates/s.yaml",
                    "s: {{ .Chart.Name }} {{ include \"p\" . }}\n",
                ),
            ],
        ));
        root.dependencies
            .push(chart("broken", &[("templates/x.yaml", "{{ if }}")]));
        root
    }

    fn rendered_both_ways(loaded: &Chart, prepared: &Chart) -> (String, String) {
        let values: Values = serde_json::from_str(r#"{"x": "X"}"#).unwrap();
        let show = |r: Result<Rendered, RenderError>| match r {
            Ok(r) => format!("{:?}", r.manifests),
            Err(e) => format!("error: {e}"),
        };
        let plain = show(render(prepared, &values, &opts()));
        let ahead = show(render_parsed_ahead(
            prepared,
            &values,
            &opts(),
            parse_ahead(loaded),
        ));
        (plain, ahead)
    }

    #[test]
    fn templates_parsed_ahead_render_as_parsed_in_place() {
        let loaded = chart_with_subcharts();
        // Parsed ahead with the failing subchart, which is then disabled:
        // its parse error must not count.
        let mut prepared = loaded.clone();
        prepared.dependencies.retain(|d| d.name() != "broken");
        let (plain, ahead) = rendered_both_ways(&loaded, &prepared);
        assert!(
            plain.contains("a: root X") && plain.contains("s: sub root"),
            "{plain}"
        );
        assert_eq!(ahead, plain);
        // An alias renames the subchart after the parse ahead: its
        // templates are parsed again under their new names.
        prepared.dependencies[0].metadata.name = "alias".into();
        let (plain, ahead) = rendered_both_ways(&loaded, &prepared);
        assert!(plain.contains("s: alias"), "{plain}");
        assert_eq!(ahead, plain);
        // Enabled, the failing subchart fails both ways alike.
        let (plain, ahead) = rendered_both_ways(&loaded, &loaded);
        assert_eq!(
            plain,
            "error: parse error at (root/charts/broken/templates/x.yaml:1): missing value for if"
        );
        assert_eq!(ahead, plain);
    }

    #[test]
    fn no_value_removed_and_errors_reworded() {
        let c = chart("c", &[("templates/a.yaml", "a: {{ .Values.missing }}\n")]);
        let files = render_files(&c, &Values::new(), &opts()).unwrap();
        assert_eq!(files[0].1, "a: \n");
        let c = chart(
            "c",
            &[("templates/a.yaml", "{{ required \"need x\" .Values.x }}")],
        );
        let e = render_files(&c, &Values::new(), &opts()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "execution error at (c/templates/a.yaml:1:3): need x"
        );
        let c = chart("c", &[("templates/a.yaml", "{{ if }}")]);
        let e = render_files(&c, &Values::new(), &opts()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "parse error at (c/templates/a.yaml:1): missing value for if"
        );
    }

    #[test]
    fn kube_version_constraint() {
        let mut c = chart("c", &[]);
        c.metadata.kube_version = ">=1.40.0-0".into();
        let e = render(&c, &Values::new(), &opts()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "chart requires kubeVersion: >=1.40.0-0 which is incompatible with Kubernetes v1.37.0"
        );
    }

    #[test]
    fn library_charts_render_nothing() {
        let mut c = chart(
            "lib",
            &[
                ("templates/a.yaml", "x: 1\n"),
                ("templates/_h.tpl", "{{ define \"h\" }}{{ end }}"),
            ],
        );
        c.metadata.chart_type = "library".into();
        assert!(render_files(&c, &Values::new(), &opts())
            .unwrap()
            .is_empty());
    }
}
