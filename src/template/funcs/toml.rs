//! Template functions: Helm's TOML helpers (`toToml`, `mustToToml`,
//! `fromToml`, all three registered by Helm v4.3.1's `pkg/engine/funcs.go`).
//!
//! `toToml`/`mustToToml` reproduce the bytes of the encoder Helm pins
//! (BurntSushi/toml v1.6.0, `toml.NewEncoder(w).Encode(v)`): in every table
//! the plain key/values come first, then sub-tables and arrays of tables,
//! each group sorted by key bytes; sub-table headers carry the full dotted
//! key and are indented two spaces per level below the top; a blank line
//! precedes every top-level table and every `[[array]]` entry; keys outside
//! `[A-Za-z0-9_-]` are double-quoted; floats always carry a `.0` or an
//! exponent (`1e+06`), `nan`/`inf` keep their sign; nil map values are
//! skipped and a nil array element is an error. `toToml` returns an
//! encoder error's text as its output; `mustToToml` fails with it.
//!
//! `fromToml` decodes into `map[string]interface {}` as BurntSushi's
//! decoder does: integers are `int64`, floats `float64`, inline arrays
//! `[]interface {}`, `[[x]]` arrays of tables `[]map[string]interface {}`,
//! and datetimes `time.Time` (offset datetimes in UTC or a fixed zone,
//! local ones in the decoder's `datetime-local`/`date-local`/`time-local`
//! zones). A parse error is reported in the map as `{"Error": msg}`.

use std::collections::BTreeMap;

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::funcs::dates::{GoDuration, GoTime, Location};
use crate::value::{GoType, List, Map, Value};

/// Nesting deeper than this is refused (Go would recurse until its stack
/// overflows on a map that contains itself).
const MAX_DEPTH: usize = 1_000;

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    // func toTOML(v any) string
    reg.add("toToml", &[GoType::Interface], None, to_toml);
    // func mustToTOML(v any) string (panics on error)
    reg.add("mustToToml", &[GoType::Interface], None, must_to_toml);
    // func fromTOML(str string) map[string]any
    reg.add("fromToml", &[GoType::String], None, from_toml);
}

/// A TOML encoding failure; `Display` is the Go error's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TomlError {
    #[error("toml: cannot encode array with nil element")]
    ArrayNilElement,
    #[error("toml: top-level values must be Go maps or structs")]
    NoKey,
    /// `toml.Encode(nil)`: a reflect panic on the zero `reflect.Value`.
    #[error("reflect: call of reflect.Value.Type on zero Value")]
    ZeroValue,
    /// A Go value the encoder has no TOML form for.
    #[error("toml: unsupported type: {0}")]
    Unsupported(String),
    /// A Go kind the encoder has no TOML type for (complex numbers); Go's
    /// message has no `toml:` prefix here.
    #[error("unsupported type: {0}")]
    UnsupportedKind(String),
    #[error("toml: exceeded max depth")]
    TooDeep,
}

fn to_toml(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let v = args.first().cloned().unwrap_or(Value::Nil);
    match encode(&v) {
        Ok(s) => Ok(Value::string(s)),
        // Go's reflect panic escapes Helm's toToml as a template error.
        Err(e @ TomlError::ZeroValue) => Err(FuncError(e.to_string())),
        Err(e) => Ok(Value::string(e.to_string())),
    }
}

fn must_to_toml(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let v = args.first().cloned().unwrap_or(Value::Nil);
    encode(&v)
        .map(Value::string)
        .map_err(|e| FuncError(e.to_string()))
}

fn from_toml(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let text = match args.first() {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(FuncError::new("internal: fromToml expects a string")),
    };
    let map = Map::new();
    match decode(&text) {
        Ok(entries) => {
            *map.borrow_mut() = entries;
        }
        Err(msg) => map.insert("Error", Value::string(msg)),
    }
    Ok(Value::Map(map))
}

// ---------------------------------------------------------------------------
// Encoding.

/// The TOML type the encoder assigns a value (its `tomlTypeOfGo`); `None`
/// for nil.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Scalar,
    Array,
    /// A non-empty array whose elements are all tables.
    ArrayOfTables,
    Table,
}

fn kind_of(v: &Value, depth: usize) -> Result<Option<Kind>, TomlError> {
    if depth > MAX_DEPTH {
        return Err(TomlError::TooDeep);
    }
    Ok(Some(match v {
        Value::Nil => return Ok(None),
        // The encoder skips nil maps and slices like nil interfaces.
        Value::List(l) if l.nil => return Ok(None),
        Value::Map(m) if m.nil => return Ok(None),
        Value::Complex(..) => return Err(TomlError::UnsupportedKind(v.type_name())),
        Value::Bool(_)
        | Value::Int(_)
        | Value::Int64(_)
        | Value::Int32(_)
        | Value::Uint64(_)
        | Value::Uint8(_)
        | Value::Float(_)
        | Value::String(_) => Kind::Scalar,
        // `[]byte` is an array of integers.
        Value::Bytes(_) => Kind::Array,
        Value::List(l) => {
            if l.is_empty() {
                return Ok(Some(Kind::Array));
            }
            // Go checks every element (a nil one is an error even after a
            // non-table element was seen).
            let mut all_tables = true;
            for item in l.items.iter() {
                let k = stacker::maybe_grow(64 * 1024, 1024 * 1024, || kind_of(item, depth + 1))?;
                match k {
                    None => return Err(TomlError::ArrayNilElement),
                    Some(Kind::Table) => {}
                    Some(_) => all_tables = false,
                }
            }
            if all_tables {
                Kind::ArrayOfTables
            } else {
                Kind::Array
            }
        }
        Value::Map(_) => Kind::Table,
        Value::Object(o) => {
            let any = o.as_any();
            if any.is::<GoTime>() || any.is::<GoDuration>() || is_text_marshaler(o.type_name()) {
                Kind::Scalar
            } else {
                return Err(TomlError::Unsupported(o.type_name().to_string()));
            }
        }
    }))
}

/// Objects whose Go type implements `encoding.TextMarshaler` with
/// `MarshalText` = `String()` (Masterminds' semver versions): the encoder
/// writes them as quoted strings.
fn is_text_marshaler(type_name: &str) -> bool {
    matches!(type_name, "*semver.Version" | "semver.Version")
}

/// A nil interface, map or slice (the encoder's `isNil`).
fn is_go_nil(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::List(l) => l.nil,
        Value::Map(m) => m.nil,
        _ => false,
    }
}

fn is_table(k: Option<Kind>) -> bool {
    matches!(k, Some(Kind::Table) | Some(Kind::ArrayOfTables))
}

/// Encode `v` as BurntSushi/toml's `Encoder.Encode` would.
pub fn encode(v: &Value) -> Result<String, TomlError> {
    let mut enc = Encoder { out: String::new() };
    enc.encode(&[], v, 0)?;
    Ok(enc.out)
}

struct Encoder {
    out: String,
}

fn bare_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// One key part, quoted unless it is a non-empty bare key.
fn key_part(out: &mut String, k: &str) {
    if k.is_empty() {
        out.push_str("\"\"");
    } else if k.chars().all(bare_key_char) {
        out.push_str(k);
    } else {
        write_quoted(out, k);
    }
}

/// The dotted form of a key path, as in a table header.
fn dotted(key: &[&str]) -> String {
    let mut s = String::new();
    for (i, k) in key.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        key_part(&mut s, k);
    }
    s
}

/// A TOML basic string with the encoder's escapes: `"` `\` and the control
/// characters (`\b \t \n \f \r`, the rest and DEL as `\u00XX`).
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// BurntSushi's float text: `strconv.FormatFloat(f, 'g', -1, 64)` plus a
/// `.0` when there is neither a point nor an exponent.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    let mut s = crate::fmt::format_float_g(f);
    if !s.contains('.') && !s.contains('e') {
        s.push_str(".0");
    }
    s
}

/// A `time.Time` as the encoder writes it (unquoted): RFC 3339 with
/// nanoseconds, or the local forms for the decoder's local zones.
fn time_text(t: &GoTime) -> String {
    let zone = t.format("MST");
    let layout = match zone.as_str() {
        "datetime-local" => "2006-01-02T15:04:05.999999999",
        "date-local" => "2006-01-02",
        "time-local" => "15:04:05.999999999",
        _ => "2006-01-02T15:04:05.999999999Z07:00",
    };
    t.format(layout)
}

impl Encoder {
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn indent(&mut self, key: &[&str]) {
        for _ in 1..key.len() {
            self.out.push_str("  ");
        }
    }

    fn encode(&mut self, key: &[&str], v: &Value, depth: usize) -> Result<(), TomlError> {
        if depth > MAX_DEPTH {
            return Err(TomlError::TooDeep);
        }
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.encode_inner(key, v, depth))
    }

    fn encode_inner(&mut self, key: &[&str], v: &Value, depth: usize) -> Result<(), TomlError> {
        match v {
            Value::Nil => {
                if key.is_empty() {
                    return Err(TomlError::ZeroValue);
                }
                Ok(())
            }
            Value::List(_) | Value::Bytes(_) => {
                if kind_of(v, depth)? == Some(Kind::ArrayOfTables) {
                    self.array_of_tables(key, v, depth)
                } else {
                    self.key_value(key, v, depth)
                }
            }
            Value::Map(m) => self.table(key, m, depth),
            Value::Object(_) => {
                kind_of(v, depth)?;
                self.key_value(key, v, depth)
            }
            _ => self.key_value(key, v, depth),
        }
    }

    fn key_value(&mut self, key: &[&str], v: &Value, depth: usize) -> Result<(), TomlError> {
        let Some(last) = key.last() else {
            return self.element(v, depth);
        };
        self.indent(key);
        key_part(&mut self.out, last);
        self.out.push_str(" = ");
        self.element(v, depth)?;
        self.newline();
        Ok(())
    }

    fn inline_key_value(&mut self, k: &str, v: &Value, depth: usize) -> Result<(), TomlError> {
        key_part(&mut self.out, k);
        self.out.push_str(" = ");
        self.element(v, depth)
    }

    fn array_of_tables(&mut self, key: &[&str], v: &Value, depth: usize) -> Result<(), TomlError> {
        if key.is_empty() {
            return Err(TomlError::NoKey);
        }
        let Value::List(l) = v else {
            return Ok(());
        };
        for item in l.items.iter() {
            let Value::Map(m) = item else {
                continue;
            };
            self.newline();
            self.indent(key);
            self.out.push_str("[[");
            self.out.push_str(&dotted(key));
            self.out.push_str("]]");
            self.newline();
            self.map(key, m, false, depth + 1)?;
        }
        Ok(())
    }

    fn table(&mut self, key: &[&str], m: &Map, depth: usize) -> Result<(), TomlError> {
        if key.len() == 1 {
            self.newline();
        }
        if !key.is_empty() {
            self.indent(key);
            self.out.push('[');
            self.out.push_str(&dotted(key));
            self.out.push(']');
            self.newline();
        }
        self.map(key, m, false, depth + 1)
    }

    fn map(&mut self, key: &[&str], m: &Map, inline: bool, depth: usize) -> Result<(), TomlError> {
        if depth > MAX_DEPTH {
            return Err(TomlError::TooDeep);
        }
        // Snapshot the entries: encoding never mutates, but a map may hold
        // itself.
        let entries: Vec<(String, Value)> = m
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut direct = Vec::new();
        let mut sub = Vec::new();
        for (k, v) in &entries {
            if is_table(kind_of(v, depth + 1)?) {
                sub.push((k.as_str(), v));
            } else {
                direct.push((k.as_str(), v));
            }
        }
        if inline {
            self.out.push('{');
        }
        let has_sub = !sub.is_empty();
        for (group, trail) in [(direct, has_sub), (sub, false)] {
            let n = group.len();
            for (i, (k, v)) in group.into_iter().enumerate() {
                if is_go_nil(v) {
                    continue;
                }
                if inline {
                    self.inline_key_value(k, v, depth + 1)?;
                    if trail || i != n - 1 {
                        self.out.push_str(", ");
                    }
                } else {
                    let mut path: Vec<&str> = key.to_vec();
                    path.push(k);
                    self.encode(&path, v, depth + 1)?;
                }
            }
        }
        if inline {
            self.out.push('}');
        }
        Ok(())
    }

    /// A value in element position (after `key = `, inside an array or at
    /// the top level).
    fn element(&mut self, v: &Value, depth: usize) -> Result<(), TomlError> {
        if depth > MAX_DEPTH {
            return Err(TomlError::TooDeep);
        }
        match v {
            Value::Nil => return Err(TomlError::ArrayNilElement),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => self.out.push_str(&i.to_string()),
            Value::Int32(i) => self.out.push_str(&i.to_string()),
            Value::Uint64(u) => self.out.push_str(&u.to_string()),
            Value::Uint8(u) => self.out.push_str(&u.to_string()),
            Value::Complex(..) => return Err(TomlError::UnsupportedKind(v.type_name())),
            Value::Float(f) => self.out.push_str(&float_text(*f)),
            Value::String(s) => write_quoted(&mut self.out, s),
            Value::Bytes(b) => {
                self.out.push('[');
                for (i, x) in b.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.out.push_str(&x.to_string());
                }
                self.out.push(']');
            }
            Value::List(l) => {
                self.out.push('[');
                let n = l.len();
                for (i, item) in l.items.iter().enumerate() {
                    stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.element(item, depth + 1))?;
                    if i != n - 1 {
                        self.out.push_str(", ");
                    }
                }
                self.out.push(']');
            }
            Value::Map(m) => {
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.map(&[], m, true, depth + 1))?;
            }
            Value::Object(o) => {
                let any = o.as_any();
                if let Some(t) = any.downcast_ref::<GoTime>() {
                    self.out.push_str(&time_text(t));
                } else if is_text_marshaler(o.type_name()) {
                    write_quoted(&mut self.out, &o.format_v());
                } else if let Some(d) = any.downcast_ref::<GoDuration>() {
                    write_quoted(&mut self.out, &crate::funcs::dates::format_duration(d.0));
                } else {
                    return Err(TomlError::Unsupported(o.type_name().to_string()));
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Decoding.

/// Decode a TOML document into the entries of a `map[string]interface {}`;
/// `Err` carries the error text for the map's `Error` key.
fn decode(text: &str) -> Result<BTreeMap<String, Value>, String> {
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1
            })
            .unwrap_or(1);
        let msg = e.message().trim_end().to_string();
        format!("toml: line {line}: {msg}")
    })?;
    Ok(table_entries(doc.as_table()))
}

fn table_entries(t: &toml_edit::Table) -> BTreeMap<String, Value> {
    t.iter()
        .filter_map(|(k, item)| item_value(item).map(|v| (k.to_string(), v)))
        .collect()
}

fn item_value(item: &toml_edit::Item) -> Option<Value> {
    Some(match item {
        toml_edit::Item::None => return None,
        toml_edit::Item::Value(v) => value(v),
        toml_edit::Item::Table(t) => Value::map(table_entries(t)),
        toml_edit::Item::ArrayOfTables(a) => Value::List(List::typed(
            a.iter().map(|t| Value::map(table_entries(t))).collect(),
            GoType::InterfaceMap,
        )),
    })
}

fn value(v: &toml_edit::Value) -> Value {
    match v {
        toml_edit::Value::String(s) => Value::str(s.value()),
        toml_edit::Value::Integer(i) => Value::Int64(*i.value()),
        toml_edit::Value::Float(f) => Value::Float(*f.value()),
        toml_edit::Value::Boolean(b) => Value::Bool(*b.value()),
        toml_edit::Value::Datetime(d) => datetime(d.value()),
        toml_edit::Value::Array(a) => Value::list(a.iter().map(value).collect()),
        toml_edit::Value::InlineTable(t) => {
            Value::map(t.iter().map(|(k, v)| (k.to_string(), value(v))).collect())
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_since_epoch(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A TOML datetime as the Go decoder's `time.Time`.
fn datetime(d: &toml_edit::Datetime) -> Value {
    let (y, mo, da) = match &d.date {
        Some(date) => (
            i64::from(date.year),
            i64::from(date.month),
            i64::from(date.day),
        ),
        // A local time is on Go's year 0, January 1.
        None => (0, 1, 1),
    };
    let (h, mi, s, ns) = match &d.time {
        Some(t) => (
            i64::from(t.hour),
            i64::from(t.minute),
            i64::from(t.second.unwrap_or(0)),
            i64::from(t.nanosecond.unwrap_or(0)),
        ),
        None => (0, 0, 0, 0),
    };
    let wall = days_since_epoch(y, mo, da) * 86_400 + h * 3600 + mi * 60 + s;
    let (offset, loc) = match (&d.date, &d.time, &d.offset) {
        (_, _, Some(toml_edit::Offset::Z)) => (0, Location::utc()),
        (_, _, Some(toml_edit::Offset::Custom { minutes })) => {
            let secs = i32::from(*minutes) * 60;
            if secs == 0 {
                (0, Location::utc())
            } else {
                (secs, Location::fixed("", secs))
            }
        }
        (Some(_), Some(_), None) => (0, Location::fixed("datetime-local", 0)),
        (Some(_), None, None) => (0, Location::fixed("date-local", 0)),
        _ => (0, Location::fixed("time-local", 0)),
    };
    GoTime::unix(wall - i64::from(offset), ns, loc).into_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(entries: Vec<(&str, Value)>) -> Value {
        Value::map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    #[test]
    fn order_quoting_and_indentation() {
        let v = m(vec![
            ("top", Value::Float(1.5)),
            (
                "x",
                m(vec![
                    ("k", Value::Int(2)),
                    (
                        "y",
                        m(vec![(
                            "w",
                            Value::list(vec![m(vec![("q", Value::Int(1))])]),
                        )]),
                    ),
                ]),
            ),
            ("a b", Value::str("t\u{1}\"")),
            ("n", Value::Nil),
        ]);
        assert_eq!(
            encode(&v).unwrap(),
            "\"a b\" = \"t\\u0001\\\"\"\ntop = 1.5\n\n[x]\n  k = 2\n  [x.y]\n\n    [[x.y.w]]\n      q = 1\n"
        );
    }

    #[test]
    fn floats_and_errors() {
        assert_eq!(float_text(100.0), "100.0");
        assert_eq!(float_text(1e6), "1e+06");
        assert_eq!(float_text(1e-7), "1e-07");
        assert_eq!(float_text(f64::NEG_INFINITY), "-inf");
        assert_eq!(
            encode(&m(vec![(
                "a",
                Value::list(vec![Value::Int(1), Value::Nil])
            )])),
            Err(TomlError::ArrayNilElement)
        );
        assert_eq!(encode(&Value::list(vec![m(vec![])])), Err(TomlError::NoKey));
        assert_eq!(encode(&Value::Nil), Err(TomlError::ZeroValue));
        assert_eq!(
            encode(&m(vec![(
                "a",
                Value::list(vec![m(vec![("b", Value::Int(1))]), Value::Int(2)])
            )]))
            .unwrap(),
            "a = [{b = 1}, 2]\n"
        );
    }

    #[test]
    fn decode_types() {
        let d = decode("a = 1\nb = 2.5\n[[t]]\nx = 1\n[s]\nd = 1979-05-27T07:32:00Z").unwrap();
        assert!(matches!(d["a"], Value::Int64(1)));
        assert!(matches!(d["b"], Value::Float(f) if f == 2.5));
        assert_eq!(d["t"].type_name(), "[]map[string]interface {}");
        let Value::Map(s) = &d["s"] else {
            panic!("not a map")
        };
        let t = GoTime::from_value(&s.get("d").unwrap()).unwrap();
        assert_eq!(t.unix_sec(), 296_638_320);
        assert!(decode("a = ").is_err());
    }
}
