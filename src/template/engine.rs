//! The public API: a parsed template set, execution options and errors.
//!
//! ```
//! use std::sync::Arc;
//! use berth_template::{engine::{ExecOptions, Templates}, funcs, Value};
//!
//! let mut t = Templates::new(Arc::new(funcs::helm_functions()));
//! t.parse("hello.txt", "hello {{ .name }}").unwrap();
//! let mut data = std::collections::BTreeMap::new();
//! data.insert("name".to_string(), Value::str("world"));
//! let out = t.execute("hello.txt", &Value::map(data), &ExecOptions::default()).unwrap();
//! assert_eq!(out, "hello world");
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::Tree;
use crate::func::Registry;
use crate::parse::{self, ParseError};
use crate::value::Value;

/// A map keyed by template names: seeded foldhash (fast on short keys;
/// the seed keeps a chart's names from being chosen to collide).
pub(crate) type NameMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A template execution or parse error. `Display` is Go's message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `template: NAME:LINE: MESSAGE`
    #[error("template: {name}:{line}: {message}")]
    Parse {
        name: String,
        line: usize,
        message: String,
    },
    /// An execution error; `message` is Go's complete text, e.g.
    /// `template: t:1:5: executing "t" at <.a.b>: nil pointer evaluating
    /// interface {}.b`.
    #[error("{message}")]
    Exec { template: String, message: String },
    /// A resource limit of [`Limits`] was reached (Go has none of these).
    #[error("template: {location}: executing \"{template}\": {message}")]
    Limit {
        template: String,
        /// `FILE:LINE:COL` of the action that was running.
        location: String,
        limit: LimitKind,
        message: String,
    },
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Error {
        Error::Parse {
            name: e.name,
            line: e.line,
            message: e.message,
        }
    }
}

/// Which limit an [`Error::Limit`] hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    Steps,
    OutputBytes,
    IncludeDepth,
    TplDepth,
}

/// Go's `missingkey` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default`/`invalid`: a missing key yields "no value".
    Invalid,
    /// `missingkey=zero` (Helm's default): the map element type's zero
    /// value; for `map[string]interface{}` that is nil, printed
    /// `<no value>`.
    #[default]
    Zero,
    /// `missingkey=error` (Helm's strict mode).
    Error,
}

/// Resource limits for one execution (Go and Helm have none except Helm's
/// include recursion guard; a hostile chart must not hang or exhaust the
/// controller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Evaluation steps: every node, command, `range` iteration and
    /// function call costs one; functions charge more through
    /// `Context::charge`.
    pub max_steps: u64,
    /// Bytes written by the execution, nested `include`/`tpl` output
    /// included.
    pub max_output_bytes: u64,
    /// Nesting of `template`/`include` calls.
    pub max_include_depth: u32,
    /// Nesting of `tpl` calls.
    pub max_tpl_depth: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps: 200_000_000,
            max_output_bytes: 256 * 1024 * 1024,
            max_include_depth: 10_000,
            max_tpl_depth: 200,
        }
    }
}

/// Helm's `lookup` backend: `(apiVersion, kind, namespace, name)`.
pub type LookupHook = Arc<dyn Fn(&str, &str, &str, &str) -> Result<Value, String> + Send + Sync>;

/// Options for one execution.
#[derive(Clone, Default)]
pub struct ExecOptions {
    pub missing_key: MissingKey,
    pub limits: Limits,
    /// Backend for Helm's `lookup`; without one `lookup` returns an empty
    /// map, as `helm template` does.
    pub lookup: Option<LookupHook>,
}

impl std::fmt::Debug for ExecOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecOptions")
            .field("missing_key", &self.missing_key)
            .field("limits", &self.limits)
            .field("lookup", &self.lookup.is_some())
            .finish()
    }
}

/// Below this many bytes of template text, [`Templates::parse_files`]
/// parses on the calling thread: a new thread costs about a millisecond
/// before it does any work (fresh allocator pages), which is measured to
/// outweigh half the parse of charts with 100–250 KiB of templates.
const PARALLEL_PARSE_MIN_BYTES: usize = 256 * 1024;

/// One template file parsed on its own ([`Templates::parse_detached`]),
/// not yet part of a set.
pub struct ParsedFile(parse::TreeSet);

/// A parsed template set (Go's `*template.Template` with its associated
/// templates). Cloning is cheap; parsing into a clone does not affect the
/// original. `Send + Sync`: parse once, execute from any thread.
#[derive(Clone)]
pub struct Templates {
    pub(crate) trees: Arc<NameMap<Arc<str>, Arc<Tree>>>,
    pub(crate) funcs: Arc<Registry>,
    /// The name of the set's root template (Helm: `gotpl`), used by `tpl`
    /// and in "no template associated with" errors.
    pub(crate) root_name: Arc<str>,
    left: Arc<str>,
    right: Arc<str>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.trees.keys().map(|k| &**k).collect();
        names.sort_unstable();
        f.debug_struct("Templates")
            .field("templates", &names)
            .finish()
    }
}

impl Templates {
    /// An empty set using `funcs` (plus Go's builtins). The root name is
    /// Helm's `gotpl`.
    pub fn new(funcs: Arc<Registry>) -> Templates {
        Templates {
            trees: Arc::new(NameMap::default()),
            funcs,
            root_name: Arc::from("gotpl"),
            left: Arc::from("{{"),
            right: Arc::from("}}"),
        }
    }

    /// Use other action delimiters for later parses (Go's `Delims`).
    pub fn set_delims(&mut self, left: &str, right: &str) {
        self.left = Arc::from(if left.is_empty() { "{{" } else { left });
        self.right = Arc::from(if right.is_empty() { "}}" } else { right });
    }

    /// Rename the root template (the name `tpl` parses under).
    pub fn set_root_name(&mut self, name: &str) {
        self.root_name = Arc::from(name);
    }

    /// Parse `text` as template `name`, adding it and every template it
    /// defines. A later non-empty definition replaces an earlier one; an
    /// empty one (only whitespace and comments) never does.
    pub fn parse(&mut self, name: &str, text: &str) -> Result<(), Error> {
        self.parse_main(name, text).map(|_| ())
    }

    /// [`Templates::parse`] of every `(name, text)` in order, with the
    /// same result: each file is parsed on its own (a parse reads only its
    /// text, the delimiters and the function names), so large sets are
    /// parsed on two threads and the trees added in order afterwards. On
    /// error: the index of the first file, in order, that failed, and its
    /// error.
    pub fn parse_files(&mut self, files: &[(&str, &str)]) -> Result<(), (usize, Error)> {
        let total: usize = files.iter().map(|(_, t)| t.len()).sum();
        if total < PARALLEL_PARSE_MIN_BYTES || files.len() < 2 {
            for (i, (name, text)) in files.iter().enumerate() {
                self.parse(name, text).map_err(|e| (i, e))?;
            }
            return Ok(());
        }
        // The first file at which the running size passes half the total
        // starts the second thread's share.
        let mut acc = 0;
        let split = files
            .iter()
            .position(|(_, t)| {
                acc += t.len();
                acc * 2 >= total
            })
            .map_or(files.len(), |i| i + 1)
            .min(files.len() - 1);
        let (first, second) = files.split_at(split);
        let (left, right, funcs) = (&*self.left, &*self.right, &*self.funcs);
        let parse_share = |share: &[(&str, &str)]| -> Vec<Result<parse::TreeSet, Error>> {
            share
                .iter()
                .map(|(name, text)| {
                    parse::parse(name, text, left, right, funcs).map_err(Error::from)
                })
                .collect()
        };
        let (mut sets, rest) = std::thread::scope(|scope| {
            let worker = scope.spawn(|| parse_share(second));
            let mine = parse_share(first);
            // A worker that panicked parses nothing: its share is parsed
            // here instead (a panic then surfaces on the caller's thread).
            let theirs = worker.join().unwrap_or_else(|_| parse_share(second));
            (mine, theirs)
        });
        sets.extend(rest);
        for (i, ((name, _), set)) in files.iter().zip(sets).enumerate() {
            let set = set.map_err(|e| (i, e))?;
            self.add_set(name, set).map_err(|e| (i, e))?;
        }
        Ok(())
    }

    /// Parse `text` as template `name` without adding it: what
    /// [`Templates::parse`] reads, for [`Templates::add_parsed`] to add
    /// later, possibly on another thread (the parse depends only on the
    /// text, the name, the delimiters and the function names).
    pub fn parse_detached(&self, name: &str, text: &str) -> Result<ParsedFile, Error> {
        parse::parse(name, text, &self.left, &self.right, &self.funcs)
            .map(ParsedFile)
            .map_err(Error::from)
    }

    /// Adds a file parsed by [`Templates::parse_detached`] (of a set with
    /// the same delimiters and functions) under `name`: the same as
    /// [`Templates::parse`] of that file now.
    pub fn add_parsed(&mut self, name: &str, parsed: ParsedFile) -> Result<(), Error> {
        self.add_set(name, parsed.0).map(|_| ())
    }

    /// Parse and return the main tree of `text` (which is executed even
    /// when it is empty and so not registered over an existing template).
    pub(crate) fn parse_main(&mut self, name: &str, text: &str) -> Result<Arc<Tree>, Error> {
        let set = parse::parse(name, text, &self.left, &self.right, &self.funcs)?;
        self.add_set(name, set)
    }

    /// Add the trees of one parse of `name`, returning its main tree.
    fn add_set(&mut self, name: &str, set: parse::TreeSet) -> Result<Arc<Tree>, Error> {
        let trees = Arc::make_mut(&mut self.trees);
        let mut main = None;
        for (tname, tree) in set {
            let tree = Arc::new(tree);
            if *tname == *name {
                main = Some(tree.clone());
            }
            let keep_old = trees.get(&tname).is_some_and(|_| tree.is_empty());
            if !keep_old {
                trees.insert(tname, tree);
            }
        }
        main.ok_or_else(|| Error::Exec {
            template: name.to_string(),
            message: format!("template: {name}: internal error: no main tree"),
        })
    }

    /// Whether a template of this name exists.
    pub fn has(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// Names of all templates, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.trees.keys().map(|k| k.to_string()).collect();
        v.sort_unstable();
        v
    }

    pub(crate) fn lookup(&self, name: &str) -> Option<&Arc<Tree>> {
        self.trees.get(name)
    }

    /// Execute template `name` with `data` as `.` and `$`.
    pub fn execute(&self, name: &str, data: &Value, opts: &ExecOptions) -> Result<String, Error> {
        let Some(tree) = self.lookup(name) else {
            return Err(Error::Exec {
                template: name.to_string(),
                message: format!(
                    "template: no template {} associated with template {}",
                    crate::fmt::quote(name),
                    crate::fmt::quote(&self.root_name)
                ),
            });
        };
        let mut shared = crate::exec::Shared::new(opts);
        crate::exec::execute_tree(self, tree, data.clone(), &mut shared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    /// `(name, text)` files large enough to be parsed on two threads:
    /// each defines `shared` (later files win) and its own `own-N`.
    fn big_files(n: usize) -> Vec<(String, String)> {
        let filler = "x".repeat(PARALLEL_PARSE_MIN_BYTES / n + 1);
        (0..n)
            .map(|i| {
                let text = format!(
                    "{{{{define \"shared\"}}}}from {i}{{{{end}}}}{{{{define \"own-{i}\"}}}}{i}{{{{end}}}}{filler}"
                );
                (format!("f{i}.yaml"), text)
            })
            .collect()
    }

    fn run(set: &Templates, name: &str) -> String {
        set.execute(name, &Value::Nil, &ExecOptions::default())
            .expect("executes")
    }

    #[test]
    fn parse_files_matches_parsing_one_by_one() {
        let files = big_files(5);
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (&**n, &**t)).collect();
        let mut parallel = Templates::new(Arc::new(Registry::new()));
        parallel.parse_files(&refs).expect("parses");
        let mut serial = Templates::new(Arc::new(Registry::new()));
        for (n, t) in &refs {
            serial.parse(n, t).expect("parses");
        }
        assert_eq!(parallel.names(), serial.names());
        for name in serial.names() {
            assert_eq!(run(&parallel, &name), run(&serial, &name), "{name}");
        }
        // The last file's definition wins, across the two threads' shares.
        assert_eq!(run(&parallel, "shared"), "from 4");
    }

    #[test]
    fn parse_files_reports_the_first_failing_file_in_order() {
        let mut files = big_files(5);
        files[1].1.push_str("{{ end }}");
        files[4].1.push_str("{{ if }}");
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (&**n, &**t)).collect();
        let mut set = Templates::new(Arc::new(Registry::new()));
        let (index, err) = set.parse_files(&refs).expect_err("fails");
        assert_eq!(index, 1);
        let mut one = Templates::new(Arc::new(Registry::new()));
        let expected = one.parse(refs[1].0, refs[1].1).expect_err("fails");
        assert_eq!(err.to_string(), expected.to_string());
        // Only the second thread's share fails.
        let mut files = big_files(5);
        files[4].1.push_str("{{ if }}");
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (&**n, &**t)).collect();
        let (index, _) = set.parse_files(&refs).expect_err("fails");
        assert_eq!(index, 4);
    }

    #[test]
    fn templates_are_send_and_sync() {
        assert_send_sync::<Templates>();
        assert_send_sync::<ExecOptions>();
    }
}
