//! Helm's `strvals` syntax: `--set`, `--set-string`, `--set-json`,
//! `--set-file` and `--set-literal`, with Helm v4.3.1's semantics and error
//! messages (`pkg/strvals`, `pkg/cli/values/options.go`).
//!
//! A set line is `name1=value1,name2=value2`. Names are dotted paths with
//! list indexes (`a.b[0].c`); `\` escapes the next character in names and
//! values (`a\.b=x` sets the key `a.b`). Values:
//! - `--set`: `true`/`false`/`null` (any case) become a bool or null, `0`
//!   and integers not starting with `0` an `i64`, anything else a string;
//!   `{a,b}` is a list.
//! - `--set-string`: always a string (lists still split).
//! - `--set-json`: each value is one JSON document (numbers `f64`), or the
//!   whole argument is a JSON object merged as a values file would be.
//! - `--set-file`: each value is a path whose content becomes the string.
//! - `--set-literal`: one key, the rest of the argument verbatim.
//!
//! Quirks kept on purpose because Helm has them: `a={}` is `[""]`; `a=` is
//! `""`; `a[0]` alone leaves an empty list; an index may not exceed 65536
//! nor a name nest deeper than 30 levels; a name whose existing value has
//! the wrong type fails with Go's `interface conversion` panic text.

use serde_json::{Map, Number, Value as Json};

use crate::Values;

/// Helm's `strvals.MaxIndex`.
pub const MAX_INDEX: usize = 65536;
/// Helm's `strvals.MaxNestedNameLevel`.
pub const MAX_NESTED_NAME_LEVEL: usize = 30;

/// Why a set line could not be applied. The `Display` text is what Helm
/// prints for the same flag (`Error: <text>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrvalsError {
    #[error("failed parsing --set data: {0}")]
    Set(String),
    #[error("failed parsing --set-string data: {0}")]
    SetString(String),
    /// `--set-json` with a `key=json` line; Helm does not show the reason.
    #[error("failed parsing --set-json data {value}")]
    SetJson { value: String, reason: String },
    /// `--set-json` with a whole JSON object; Helm does not show the reason.
    #[error("failed parsing --set-json data JSON: {value}")]
    SetJsonObject { value: String, reason: String },
    #[error("failed parsing --set-file data: {0}")]
    SetFile(String),
    #[error("failed parsing --set-literal data: {0}")]
    SetLiteral(String),
    /// A `targetPath` that is not a valid strvals name.
    #[error("invalid target path {path:?}: {reason}")]
    TargetPath { path: String, reason: String },
}

impl StrvalsError {
    /// The parser's own message (what `strvals` returns, before the flag
    /// prefix `helm` adds).
    pub fn reason(&self) -> &str {
        match self {
            StrvalsError::Set(r)
            | StrvalsError::SetString(r)
            | StrvalsError::SetFile(r)
            | StrvalsError::SetLiteral(r) => r,
            StrvalsError::SetJson { reason, .. }
            | StrvalsError::SetJsonObject { reason, .. }
            | StrvalsError::TargetPath { reason, .. } => reason,
        }
    }
}

/// `--set`: Helm's `strvals.ParseInto`.
pub fn parse_set(s: &str, into: &mut Values) -> Result<(), StrvalsError> {
    Parser::new(s, Mode::Typed)
        .run(into)
        .map_err(StrvalsError::Set)
}

/// `--set-string`: Helm's `strvals.ParseIntoString`.
pub fn parse_set_string(s: &str, into: &mut Values) -> Result<(), StrvalsError> {
    Parser::new(s, Mode::String)
        .run(into)
        .map_err(StrvalsError::SetString)
}

/// `--set-json`, one flag value as Helm's `MergeValues` handles it: a value
/// that (trimmed) starts with `{` is a JSON object merged into `into` like a
/// values file (`loader.MergeMaps`); otherwise `key=json,...`
/// (`strvals.ParseJSON`), an empty value meaning `null`.
pub fn parse_set_json(s: &str, into: &mut Values) -> Result<(), StrvalsError> {
    let trimmed = s.trim();
    if trimmed.starts_with('{') {
        let parsed: Result<Json, _> = serde_json::from_str(trimmed);
        return match parsed {
            Ok(Json::Object(map)) => {
                crate::values::merge_maps(into, json_numbers_as_f64_map(map));
                Ok(())
            }
            Ok(_) => Err(StrvalsError::SetJsonObject {
                value: s.to_string(),
                reason: "not a JSON object".into(),
            }),
            Err(e) => Err(StrvalsError::SetJsonObject {
                value: s.to_string(),
                reason: e.to_string(),
            }),
        };
    }
    Parser::new(s, Mode::Json)
        .run(into)
        .map_err(|reason| StrvalsError::SetJson {
            value: s.to_string(),
            reason,
        })
}

/// `--set-file`: Helm's `strvals.ParseIntoFile`; each value (or list item)
/// is a path, `read` returns the file's content (Helm reads `-` as stdin
/// and URLs through its getters; that is the caller's business).
pub fn parse_set_file(
    s: &str,
    into: &mut Values,
    read: &dyn Fn(&str) -> Result<String, std::io::Error>,
) -> Result<(), StrvalsError> {
    Parser::new(s, Mode::File(read))
        .run(into)
        .map_err(StrvalsError::SetFile)
}

/// `--set-literal`: Helm's `strvals.ParseLiteralInto` (one name, the rest
/// of the argument is the string value, no escapes).
pub fn parse_set_literal(s: &str, into: &mut Values) -> Result<(), StrvalsError> {
    Parser::new(s, Mode::Literal)
        .run(into)
        .map_err(StrvalsError::SetLiteral)
}

/// Set `value` at a strvals name (`a.b[0].c`, `\.` escapes a dot) — a
/// HelmRelease `valuesFrom[].targetPath`. The value is stored as given (no
/// string typing, no list syntax).
pub fn parse_set_at_path(
    path: &str,
    value: serde_json::Value,
    into: &mut Values,
) -> Result<(), StrvalsError> {
    let line = format!("{path}=");
    let err = |reason: String| StrvalsError::TargetPath {
        path: path.to_string(),
        reason,
    };
    let mut parser = Parser::new(&line, Mode::Given(Some(value)));
    parser.run(into).map_err(err)?;
    if let Mode::Given(Some(_)) = parser.mode {
        // The path never reached its `=` (e.g. `a.` or `a[0]`).
        return Err(err(format!("key {} has no value", go_quote(path))));
    }
    Ok(())
}

/// A HelmRelease `valuesFrom[].targetPath` with the referenced key's text,
/// as Flux's helm-controller applies it (`ReplacePathValue`): a value
/// wrapped in single or double quotes has every leading and trailing quote
/// trimmed and is set as a string (`--set-string`), any other value is
/// typed as `--set` types it; either way the line is `<path>=<value>`, so
/// the value's own commas and braces keep their strvals meaning.
pub fn replace_path_value(path: &str, value: &str, into: &mut Values) -> Result<(), StrvalsError> {
    let quoted = |q: char| value.starts_with(q) && value.ends_with(q);
    let (line, mode) = if quoted('\'') || quoted('"') {
        let trimmed = value.trim_matches(|c| c == '\'' || c == '"');
        (format!("{path}={trimmed}"), Mode::String)
    } else {
        (format!("{path}={value}"), Mode::Typed)
    };
    Parser::new(&line, mode)
        .run(into)
        .map_err(|reason| StrvalsError::TargetPath {
            path: path.to_string(),
            reason,
        })
}

/// Every JSON number as Go's `encoding/json` decodes into `interface{}`:
/// a `float64`.
fn json_numbers_as_f64(v: Json) -> Json {
    match v {
        Json::Number(n) => match n.as_f64().and_then(Number::from_f64) {
            Some(f) => Json::Number(f),
            None => Json::Number(n),
        },
        Json::Array(items) => Json::Array(items.into_iter().map(json_numbers_as_f64).collect()),
        Json::Object(map) => Json::Object(json_numbers_as_f64_map(map)),
        other => other,
    }
}

fn json_numbers_as_f64_map(map: Map<String, Json>) -> Map<String, Json> {
    map.into_iter()
        .map(|(k, v)| (k, json_numbers_as_f64(v)))
        .collect()
}

fn go_quote(s: &str) -> String {
    berth_template::fmt::quote(s)
}

/// Go's `%q` of a `[]rune`: each rune as a quoted character, `['a' 'b']`.
fn go_quote_runes(s: &str) -> String {
    let runes: Vec<String> = s
        .chars()
        .map(|c| match c {
            '\'' => "'\\''".to_string(),
            '"' => "'\"'".to_string(),
            c => {
                let q = go_quote(&c.to_string());
                format!("'{}'", &q[1..q.len() - 1])
            }
        })
        .collect();
    format!("[{}]", runes.join(" "))
}

/// Go's type name of a value inside `map[string]interface{}`, for the
/// `interface conversion` panic text Helm reports.
fn go_type_name(v: &Json) -> &'static str {
    match v {
        Json::Null => "nil",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float64",
        Json::Number(_) => "int64",
        Json::String(_) => "string",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[string]interface {}",
    }
}

const MAP_TYPE: &str = "map[string]interface {}";
const LIST_TYPE: &str = "[]interface {}";

/// How values are read.
enum Mode<'a> {
    /// `--set`: typed scalars.
    Typed,
    /// `--set-string`.
    String,
    /// `--set-json`.
    Json,
    /// `--set-file`: the value is a path.
    File(&'a dyn Fn(&str) -> Result<String, std::io::Error>),
    /// `--set-literal`.
    Literal,
    /// `parse_set_at_path`: the value, taken at the first `=`.
    Given(Option<Json>),
}

/// The outcomes of a parsing step besides success. Go's parser returns
/// `io.EOF` to end a line silently, errors, and panics on type assertions
/// (recovered by the innermost `key` call).
enum Stop {
    Eof,
    Err(String),
    Panic(String),
}

type Step<T> = Result<T, Stop>;

fn conversion_panic(found: &Json, wanted: &str) -> Stop {
    Stop::Panic(format!(
        "interface conversion: interface {{}} is {}, not {wanted}",
        go_type_name(found)
    ))
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    mode: Mode<'a>,
}

impl<'a> Parser<'a> {
    fn new(s: &str, mode: Mode<'a>) -> Parser<'a> {
        Parser {
            chars: s.chars().collect(),
            pos: 0,
            mode,
        }
    }

    fn literal(&self) -> bool {
        matches!(self.mode, Mode::Literal)
    }

    fn run(&mut self, data: &mut Values) -> Result<(), String> {
        loop {
            match self.key(data, 0) {
                Ok(()) => continue,
                Err(Stop::Eof) => return Ok(()),
                Err(Stop::Err(e) | Stop::Panic(e)) => return Err(e),
            }
        }
    }

    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Go's `runesUntil`: the runes up to one of `stop` (consumed), with
    /// `\` escaping the next rune (not in literal mode). `Err(partial)` at
    /// the end of input.
    fn until(&mut self, stop: &[char]) -> Result<(String, char), String> {
        let mut v = String::new();
        loop {
            let Some(c) = self.read() else {
                return Err(v);
            };
            if stop.contains(&c) {
                return Ok((v, c));
            }
            if c == '\\' && !self.literal() {
                let Some(next) = self.read() else {
                    return Err(v);
                };
                v.push(next);
            } else {
                v.push(c);
            }
        }
    }

    /// Go's `parser.key`, recovering type-assertion panics.
    fn key(&mut self, data: &mut Values, level: usize) -> Step<()> {
        match self.key_inner(data, level) {
            Err(Stop::Panic(p)) => Err(Stop::Err(format!("unable to parse key: {p}"))),
            other => other,
        }
    }

    fn key_inner(&mut self, data: &mut Values, level: usize) -> Step<()> {
        let stop: &[char] = if self.literal() {
            &['=', '[', '.']
        } else {
            &['=', '[', ',', '.']
        };
        let (k, last) = match self.until(stop) {
            Ok(r) => r,
            Err(k) if k.is_empty() => return Err(Stop::Eof),
            Err(k) => return Err(Stop::Err(format!("key {} has no value", go_quote(&k)))),
        };
        match last {
            '[' => {
                let i = self.key_index()?;
                let list = match data.get_mut(&k) {
                    None => Vec::new(),
                    Some(Json::Array(l)) => std::mem::take(l),
                    Some(other) => return Err(conversion_panic(other, LIST_TYPE)),
                };
                let (list, res) = self.list_item(list, i, level);
                if matches!(res, Err(Stop::Panic(_))) {
                    return res;
                }
                set(data, &k, Json::Array(list));
                res
            }
            '=' => self.key_value(data, k),
            ',' => {
                set(data, &k, Json::String(String::new()));
                Err(Stop::Err(format!(
                    "key {} has no value (cannot end with ,)",
                    go_quote(&k)
                )))
            }
            _ => {
                // '.'
                let level = level + 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(Stop::Err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    )));
                }
                let (mut inner, existed) = match data.get_mut(&k) {
                    None => (Values::new(), false),
                    Some(Json::Object(m)) => (std::mem::take(m), true),
                    Some(other) => return Err(conversion_panic(other, MAP_TYPE)),
                };
                let res = self.key(&mut inner, level);
                let empty = inner.is_empty();
                if existed {
                    // Go mutated the existing map in place.
                    data.insert(k.clone(), Json::Object(inner));
                } else if !empty {
                    set(data, &k, Json::Object(inner));
                }
                match res {
                    Ok(()) if empty => {
                        Err(Stop::Err(format!("key map {} has no value", go_quote(&k))))
                    }
                    other => other,
                }
            }
        }
    }

    /// The `=` case of `key`: read the value and set it.
    fn key_value(&mut self, data: &mut Values, k: String) -> Step<()> {
        match &mut self.mode {
            Mode::Literal => {
                let v = self.rest();
                set(data, &k, Json::String(v));
                return Ok(());
            }
            Mode::Given(v) => {
                let v = v.take().unwrap_or(Json::Null);
                set(data, &k, v);
                return Ok(());
            }
            Mode::Json => {
                if self.empty_val() {
                    set(data, &k, Json::Null);
                    return Ok(());
                }
                let v = self.json_value()?;
                set(data, &k, v);
                self.empty_val();
                return Ok(());
            }
            _ => {}
        }
        match self.val_list() {
            Ok(list) => {
                set(data, &k, Json::Array(list));
                Ok(())
            }
            Err(ListStop::Eof) => {
                set(data, &k, Json::String(String::new()));
                Err(Stop::Eof)
            }
            Err(ListStop::NotList) => {
                let rs = self.val();
                let v = self.typed(&rs);
                match v {
                    Ok(v) => {
                        set(data, &k, v);
                        Ok(())
                    }
                    Err(e) => {
                        set(data, &k, Json::Null);
                        Err(Stop::Err(e))
                    }
                }
            }
            Err(ListStop::Err(e)) => Err(Stop::Err(e)),
        }
    }

    /// The rest of the input (literal values).
    fn rest(&mut self) -> String {
        let v: String = self.chars[self.pos..].iter().collect();
        self.pos = self.chars.len();
        v
    }

    /// Go's `keyIndex`: the runes up to `]` as an `int` (`strconv.Atoi`).
    /// The end of input wraps `io.EOF`, which ends the line silently.
    fn key_index(&mut self) -> Step<i64> {
        let v = match self.until(&[']']) {
            Ok((v, _)) => v,
            Err(_) => return Err(Stop::Eof),
        };
        atoi(&v).map_err(|e| Stop::Err(format!("error parsing index: {e}")))
    }

    /// Go's `listItem`: returns the list (to be stored by the caller even
    /// when the step ends with EOF or an error) and the outcome.
    fn list_item(&mut self, mut list: Vec<Json>, i: i64, level: usize) -> (Vec<Json>, Step<()>) {
        if i < 0 {
            return (
                list,
                Err(Stop::Err(format!("negative {i} index not allowed"))),
            );
        }
        let (k, last) = match self.until(&['[', '.', '=']) {
            Ok(r) => r,
            Err(k) if !k.is_empty() => {
                let msg = format!(
                    "unexpected data at end of array index: {}",
                    go_quote_runes(&k)
                );
                return (list, Err(Stop::Err(msg)));
            }
            Err(_) => return (list, Err(Stop::Eof)),
        };
        if !k.is_empty() {
            let msg = format!(
                "unexpected data at end of array index: {}",
                go_quote_runes(&k)
            );
            return (list, Err(Stop::Err(msg)));
        }
        match last {
            '=' => {
                let v = match &mut self.mode {
                    Mode::Literal => Json::String(self.rest()),
                    Mode::Given(v) => v.take().unwrap_or(Json::Null),
                    Mode::Json => {
                        if self.empty_val() {
                            Json::Null
                        } else {
                            let v = match self.json_value() {
                                Ok(v) => v,
                                Err(e) => return (list, Err(e)),
                            };
                            let res = set_index(&mut list, i, v);
                            if res.is_err() {
                                return (list, res);
                            }
                            self.empty_val();
                            return (list, Ok(()));
                        }
                    }
                    _ => match self.val_list() {
                        Ok(l) => Json::Array(l),
                        Err(ListStop::Eof) => Json::String(String::new()),
                        Err(ListStop::NotList) => {
                            let rs = self.val();
                            match self.typed(&rs) {
                                Ok(v) => v,
                                Err(e) => return (list, Err(Stop::Err(e))),
                            }
                        }
                        Err(ListStop::Err(e)) => return (list, Err(Stop::Err(e))),
                    },
                };
                let res = set_index(&mut list, i, v);
                (list, res)
            }
            '[' => {
                let next = match self.key_index() {
                    Ok(n) => n,
                    Err(e) => return (list, Err(e)),
                };
                let idx = i as usize;
                let current = match list.get_mut(idx) {
                    Some(Json::Null) | None => Vec::new(),
                    Some(Json::Array(l)) => std::mem::take(l),
                    Some(other) => {
                        let p = conversion_panic(other, LIST_TYPE);
                        return (list, Err(p));
                    }
                };
                let (inner, res) = self.list_item(current, next, level);
                if res.is_err() {
                    return (list, res);
                }
                let res = set_index(&mut list, i, Json::Array(inner));
                (list, res)
            }
            _ => {
                // '.'
                let idx = i as usize;
                let existing = idx < list.len();
                let mut inner = match list.get_mut(idx) {
                    Some(Json::Object(m)) => std::mem::take(m),
                    _ => Values::new(),
                };
                let res = self.key(&mut inner, level);
                if res.is_err() {
                    if existing {
                        // Go put (or kept) this map at list[i] before recursing.
                        list[idx] = Json::Object(inner);
                    }
                    return (list, res);
                }
                let res = set_index(&mut list, i, Json::Object(inner));
                (list, res)
            }
        }
    }

    /// Go's `emptyVal` (JSON mode): skip spaces; true at the end or at a
    /// `,` (consumed), false before anything else (not consumed).
    fn empty_val(&mut self) -> bool {
        loop {
            match self.chars.get(self.pos) {
                None => return true,
                Some(',') => {
                    self.pos += 1;
                    return true;
                }
                Some(c) if c.is_whitespace() => self.pos += 1,
                Some(_) => return false,
            }
        }
    }

    /// One JSON value at the current position, as Go's `json.Decoder`
    /// reads it (the rest stays unread); numbers become `f64`.
    fn json_value(&mut self) -> Step<Json> {
        let start = self.pos;
        let end = json_value_end(&self.chars, start).map_err(|e| Stop::Err(e.to_string()))?;
        let text: String = self.chars[start..end].iter().collect();
        let v: Json = serde_json::from_str(&text).map_err(|e| Stop::Err(e.to_string()))?;
        self.pos = end;
        Ok(json_numbers_as_f64(v))
    }

    /// Go's `val`: the runes up to `,`.
    fn val(&mut self) -> String {
        match self.until(&[',']) {
            Ok((v, _)) | Err(v) => v,
        }
    }

    /// Go's `valList`: a `{a,b}` list, or `NotList` (nothing consumed).
    fn val_list(&mut self) -> Result<Vec<Json>, ListStop> {
        match self.chars.get(self.pos) {
            None => return Err(ListStop::Eof),
            Some('{') => self.pos += 1,
            Some(_) => return Err(ListStop::NotList),
        }
        let mut list = Vec::new();
        loop {
            match self.until(&[',', '}']) {
                Err(_) => return Err(ListStop::Err("list must terminate with '}'".into())),
                Ok((rs, '}')) => {
                    if self.chars.get(self.pos) == Some(&',') {
                        self.pos += 1;
                    }
                    let v = self.typed(&rs).map_err(ListStop::Err)?;
                    list.push(v);
                    return Ok(list);
                }
                Ok((rs, _)) => {
                    let v = self.typed(&rs).map_err(ListStop::Err)?;
                    list.push(v);
                }
            }
        }
    }

    /// The reader: a scalar as the mode types it.
    fn typed(&self, rs: &str) -> Result<Json, String> {
        match &self.mode {
            Mode::Typed => Ok(typed_val(rs)),
            Mode::File(read) => read(rs).map(Json::String).map_err(|e| e.to_string()),
            _ => Ok(Json::String(rs.to_string())),
        }
    }
}

enum ListStop {
    Eof,
    NotList,
    Err(String),
}

/// Go's `set`: an empty key is not set.
fn set(data: &mut Values, key: &str, val: Json) {
    if !key.is_empty() {
        data.insert(key.to_string(), val);
    }
}

/// Go's `setIndex`: grow the list with nulls up to `index`.
fn set_index(list: &mut Vec<Json>, index: i64, val: Json) -> Step<()> {
    if index < 0 {
        return Err(Stop::Err(format!("negative {index} index not allowed")));
    }
    if index > MAX_INDEX as i64 {
        return Err(Stop::Err(format!(
            "index of {index} is greater than maximum supported index of {MAX_INDEX}"
        )));
    }
    let index = index as usize;
    if list.len() <= index {
        list.resize(index + 1, Json::Null);
    }
    list[index] = val;
    Ok(())
}

/// Go's `strconv.Atoi` on a 64-bit platform, with its error texts.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            go_quote(s)
        ));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", go_quote(s)))
}

/// Go's `typedVal` for `--set`.
fn typed_val(val: &str) -> Json {
    if val.eq_ignore_ascii_case("true") {
        return Json::Bool(true);
    }
    if val.eq_ignore_ascii_case("false") {
        return Json::Bool(false);
    }
    if val.eq_ignore_ascii_case("null") {
        return Json::Null;
    }
    if val == "0" {
        return Json::Number(Number::from(0i64));
    }
    if !val.is_empty() && !val.starts_with('0') {
        if let Some(i) = parse_int64(val) {
            return Json::Number(Number::from(i));
        }
    }
    Json::String(val.to_string())
}

/// Go's `strconv.ParseInt(s, 10, 64)` (an optional sign, ASCII digits;
/// Go also accepts `_` only with base 0).
fn parse_int64(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// Where the JSON value starting at `start` (after optional whitespace)
/// ends, as Go's `json.Decoder` delimits one value in a stream: strings
/// and nested brackets are matched; a bare scalar ends at the first
/// character that cannot continue it.
fn json_value_end(chars: &[char], start: usize) -> Result<usize, &'static str> {
    let mut i = start;
    while i < chars.len() && matches!(chars[i], ' ' | '\t' | '\n' | '\r') {
        i += 1;
    }
    let Some(&first) = chars.get(i) else {
        return Err("unexpected EOF");
    };
    match first {
        '{' | '[' => {
            let mut depth = 0usize;
            let mut in_string = false;
            while i < chars.len() {
                let c = chars[i];
                if in_string {
                    if c == '\\' {
                        i += 1;
                    } else if c == '"' {
                        in_string = false;
                    }
                } else {
                    match c {
                        '"' => in_string = true,
                        '{' | '[' => depth += 1,
                        '}' | ']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Ok(i + 1);
                            }
                        }
                        _ => {}
                    }
                }
                i += 1;
            }
            Err("unexpected EOF")
        }
        '"' => {
            i += 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => i += 2,
                    '"' => return Ok(i + 1),
                    _ => i += 1,
                }
            }
            Err("unexpected EOF")
        }
        c if c == '-' || c.is_ascii_digit() => json_number_end(chars, i),
        't' => json_literal_end(chars, i, "true"),
        'f' => json_literal_end(chars, i, "false"),
        'n' => json_literal_end(chars, i, "null"),
        _ => Err("invalid character looking for beginning of value"),
    }
}

/// Go's JSON scanner on a number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`,
/// ending at the first character that cannot continue it (`1.5.5` is
/// `1.5`, `01` is `0`); a `.` or exponent without digits is an error.
fn json_number_end(chars: &[char], start: usize) -> Result<usize, &'static str> {
    let digit = |i: usize| chars.get(i).is_some_and(|c| c.is_ascii_digit());
    let mut i = start;
    if chars.get(i) == Some(&'-') {
        i += 1;
    }
    match chars.get(i) {
        Some('0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            while digit(i) {
                i += 1;
            }
        }
        _ => return Err("invalid character in numeric literal"),
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        if !digit(i) {
            return Err("invalid character after decimal point in numeric literal");
        }
        while digit(i) {
            i += 1;
        }
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        i += 1;
        if matches!(chars.get(i), Some('+' | '-')) {
            i += 1;
        }
        if !digit(i) {
            return Err("invalid character in exponent of numeric literal");
        }
        while digit(i) {
            i += 1;
        }
    }
    Ok(i)
}

/// Go's JSON scanner on `true`/`false`/`null`: the exact word, ending right
/// after it (`truex` is `true`).
fn json_literal_end(chars: &[char], start: usize, word: &str) -> Result<usize, &'static str> {
    for (n, w) in word.chars().enumerate() {
        if chars.get(start + n) != Some(&w) {
            return Err("invalid character in literal");
        }
    }
    Ok(start + word.chars().count())
}

#[cfg(test)]
mod tests;
