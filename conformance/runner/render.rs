//! Rendering a chart's templates with berth's engine the way Helm's engine
//! (`pkg/engine`) does: every file parsed into one set in Helm's order,
//! every non-partial file executed in that order with the chart's top-level
//! object, `<no value>` removed, and errors reworded as Helm words them.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use berth_template::convert::{coalesce_chart_defaults, values_from_yaml};
use berth_template::engine::{Error as EngineError, ExecOptions, Templates};
use berth_template::{GoType, Map, Registry, Value};

use crate::cases::{NamedCase, CASE_FILE};
use crate::chart::{ChartMeta, CASE_CHART_YAML};
use crate::oracle::Outcome;

/// Helm's `.Release` under `helm template`.
pub const RELEASE_NAME: &str = "release-name";
pub const NAMESPACE: &str = "default";

/// Renders charts with berth's engine.
pub struct Renderer {
    funcs: Arc<Registry>,
    capabilities: Value,
    case_meta: ChartMeta,
}

/// A chart ready to execute: the top-level object and the files.
pub struct Prepared {
    pub chart_name: String,
    pub top: Value,
    /// Template files, path relative to the chart root.
    pub files: BTreeMap<String, String>,
}

impl Renderer {
    pub fn new(funcs: Arc<Registry>, capabilities: Value) -> Renderer {
        Renderer {
            funcs,
            capabilities,
            case_meta: ChartMeta::parse(CASE_CHART_YAML).unwrap_or_default(),
        }
    }

    /// Build the top-level object of a chart (Helm's `ToRenderValues` plus
    /// `recAllTpls`): Values (the chart's values.yaml, coalesced), Release,
    /// Chart, Capabilities, Files (empty), Subcharts (empty).
    pub fn prepare(
        &self,
        meta: &ChartMeta,
        values_yaml: Option<&str>,
        files: BTreeMap<String, String>,
    ) -> Result<Prepared, String> {
        let values = match values_yaml {
            Some(text) => {
                values_from_yaml(text).map_err(|e| format!("cannot load values.yaml: {e}"))?
            }
            None => Value::empty_map(),
        };
        let values = match coalesce_chart_defaults(&values) {
            Value::Map(m) => Value::Map(Map {
                type_name: Some("common.Values"),
                ..m
            }),
            other => other,
        };
        let mut release = BTreeMap::new();
        release.insert("Name".to_string(), Value::str(RELEASE_NAME));
        release.insert("Namespace".to_string(), Value::str(NAMESPACE));
        release.insert("IsUpgrade".to_string(), Value::Bool(false));
        release.insert("IsInstall".to_string(), Value::Bool(true));
        release.insert("Revision".to_string(), Value::Int(1));
        release.insert("Service".to_string(), Value::str("Helm"));
        let mut top = BTreeMap::new();
        top.insert("Chart".to_string(), meta.to_value(true));
        top.insert(
            "Files".to_string(),
            Value::Map(Map {
                elem: GoType::Bytes,
                type_name: Some("engine.files"),
                ..Map::new()
            }),
        );
        top.insert("Release".to_string(), Value::map(release));
        top.insert("Capabilities".to_string(), self.capabilities.clone());
        top.insert("Values".to_string(), values);
        top.insert("Subcharts".to_string(), Value::empty_map());
        Ok(Prepared {
            chart_name: meta.name.clone(),
            // Helm passes the top-level object as `common.Values`.
            top: Value::Map(Map {
                type_name: Some("common.Values"),
                ..Map::from_entries(top)
            }),
            files,
        })
    }

    pub fn prepare_case(&self, case: &NamedCase) -> Result<Prepared, String> {
        self.prepare(
            &self.case_meta,
            case.case.values.as_deref(),
            case.chart_files(),
        )
    }

    /// Render a case and return its `templates/case.yaml`.
    pub fn render_case(&self, case: &NamedCase) -> Outcome {
        let prepared = self.prepare_case(case)?;
        let mut out = self.render(&prepared)?;
        let key = format!("{}/{}", prepared.chart_name, CASE_FILE);
        out.remove(&key)
            .ok_or_else(|| format!("the case has no {CASE_FILE}"))
    }

    /// [`Renderer::render_case`], with a panic in the engine or a function
    /// reported as a failed render (a bug to show, not a reason to stop).
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

    /// Helm's `engine.Render` for one chart without subcharts: rendered
    /// files keyed `<chart>/templates/...`, or Helm's error text.
    pub fn render(&self, p: &Prepared) -> Result<BTreeMap<String, String>, String> {
        let mut names: Vec<String> = p
            .files
            .keys()
            .map(|f| format!("{}/{f}", p.chart_name))
            .collect();
        names.sort_by(|a, b| helm_parse_order(a, b));
        let mut set = Templates::new(self.funcs.clone());
        for name in &names {
            let rel = &name[p.chart_name.len() + 1..];
            let text = p.files.get(rel).map(String::as_str).unwrap_or("");
            set.parse(name, text)
                .map_err(|e| helm_parse_error(name, &e))?;
        }
        let opts = ExecOptions::default();
        let base = format!("{}/templates", p.chart_name);
        let mut rendered = BTreeMap::new();
        for name in &names {
            let base_name = name.rsplit('/').next().unwrap_or(name);
            if base_name.starts_with('_') {
                continue;
            }
            // Helm sets .Template on the shared top-level map before each file.
            if let Value::Map(top) = &p.top {
                let mut t = BTreeMap::new();
                t.insert("Name".to_string(), Value::str(name));
                t.insert("BasePath".to_string(), Value::str(&base));
                top.insert(
                    "Template",
                    Value::Map(Map {
                        type_name: Some("common.Values"),
                        ..Map::from_entries(t)
                    }),
                );
            }
            let out = set
                .execute(name, &p.top, &opts)
                .map_err(|e| helm_exec_error(name, &e))?;
            rendered.insert(name.clone(), out.replace("<no value>", ""));
        }
        Ok(rendered)
    }
}

/// Helm's `sortTemplates`: deeper paths first; within one depth, lexically
/// descending (`sort.Reverse` of depth-then-name).
pub fn helm_parse_order(a: &str, b: &str) -> Ordering {
    let (da, db) = (a.matches('/').count(), b.matches('/').count());
    db.cmp(&da).then_with(|| b.cmp(a))
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

/// One level of `template: <name>: executing "<fn>" at <<loc>>: <msg>` (or
/// `template: <name>: <msg>`), formatted as Helm's `TraceableError`, plus the
/// nested template error the message wraps, if any.
fn parse_exec_level(s: &str) -> Option<(String, Option<&str>)> {
    let rem = s.strip_prefix("template: ")?;
    if rem.starts_with("no template ") {
        return Some((format!("{s}\n"), None));
    }
    let (block, msg) = if let Some((name, after)) = rem.split_once(": executing \"") {
        let end = after.find('"')?;
        let func = &after[..end];
        let after_func = after[end + 1..].strip_prefix(" at <")?;
        let (loc, msg) = after_func.split_once(">: ")?;
        (
            format!("{name}\n  executing \"{func}\" at <{loc}>:\n    "),
            msg,
        )
    } else {
        let sep = rem.rfind(": ")?;
        (format!("{}\n  ", &rem[..sep]), &rem[sep + 2..])
    };
    // A wrapped template error continues the chain.
    let (own, next) = match msg.find(" template:") {
        Some(cut) => (&msg[..cut], Some(msg[cut + 1..].trim_start())),
        None => (msg, None),
    };
    if next.is_none() && msg.contains("error calling ") {
        // `error calling F: <plain Go error>`: Go's chain ends in an error
        // Helm cannot parse, so Helm shows the raw message.
        return None;
    }
    Some((format!("{block}{own}\n"), next))
}
