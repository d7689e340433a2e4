//! Template functions: JSON (`toJson fromJson fromJsonArray toPrettyJson
//! toRawJson mustToJson mustToPrettyJson mustToRawJson mustFromJson`).
//!
//! Output must be Go `encoding/json`'s bytes: compact, map keys sorted by
//! bytes, `<`/`>`/`&` escaped as `\u003c`… unless raw, U+2028/U+2029
//! escaped, float64 in `'f'` form below 1e21 and `'e'` form beyond,
//! `[]byte` as base64. Decoding follows `json.Unmarshal` into
//! `interface{}`: every number is a float64, and syntax errors carry the
//! messages of Go's scanner (`invalid character 'x' looking for beginning
//! of value`, `unexpected end of JSON input`).
//!
//! Helm's `toJson`/`mustToJson`/`fromJson`/`fromJsonArray` replace Sprig's:
//! `toJson` swallows errors (""), `fromJson` reports them inside the map as
//! `{"Error": msg}`, `fromJsonArray` as `[msg]`.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::value::{GoType, List, Map, Value};

/// How deep `encode`/`decode` may nest before giving up. Go's decoder stops
/// at 10000 and its encoder has no limit; our value trees are dropped
/// recursively, so we stay well below what a thread's stack survives.
pub const MAX_DEPTH: usize = 1_000;

/// A JSON encoding or decoding failure; `Display` is Go's message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// `json.UnsupportedValueError`: NaN or ±Inf.
    #[error("json: unsupported value: {0}")]
    UnsupportedValue(String),
    /// A map that contains itself (Go finds the cycle after 1000 levels).
    #[error("json: unsupported value: encountered a cycle via {0}")]
    Cycle(String),
    /// `json.UnsupportedTypeError`: a Go value encoding/json cannot encode.
    #[error("json: unsupported type: {0}")]
    UnsupportedType(String),
    /// Nesting beyond [`MAX_DEPTH`].
    #[error("json: exceeded max depth")]
    TooDeep,
    /// A syntax error from Go's scanner (`invalid character …`).
    #[error("{0}")]
    Syntax(String),
    /// `json.UnmarshalTypeError` at the top level.
    #[error("json: cannot unmarshal {what} into Go value of type {target}")]
    Type { what: String, target: String },
}

/// Encoder options: Go's `json.Marshal` escapes HTML; `Encoder` with
/// `SetEscapeHTML(false)` does not; `MarshalIndent(v, "", "  ")` indents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodeOptions {
    pub escape_html: bool,
    pub indent: bool,
}

impl EncodeOptions {
    /// `json.Marshal`.
    pub const COMPACT: EncodeOptions = EncodeOptions {
        escape_html: true,
        indent: false,
    };
    /// `json.MarshalIndent(v, "", "  ")`.
    pub const PRETTY: EncodeOptions = EncodeOptions {
        escape_html: true,
        indent: true,
    };
    /// `json.Encoder` with `SetEscapeHTML(false)`, trailing newline trimmed.
    pub const RAW: EncodeOptions = EncodeOptions {
        escape_html: false,
        indent: false,
    };
}

/// Encode `v` as Go's `encoding/json` would.
pub fn encode(v: &Value, opts: EncodeOptions) -> Result<String, JsonError> {
    let mut enc = Encoder {
        out: String::new(),
        opts,
        path: Vec::new(),
    };
    enc.value(v, 0)?;
    Ok(enc.out)
}

struct Encoder {
    out: String,
    opts: EncodeOptions,
    /// Maps on the current path, for cycle detection.
    path: Vec<*const ()>,
}

impl Encoder {
    fn newline(&mut self, depth: usize) {
        if self.opts.indent {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str("  ");
            }
        }
    }

    fn value(&mut self, v: &Value, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.value_inner(v, depth))
    }

    fn value_inner(&mut self, v: &Value, depth: usize) -> Result<(), JsonError> {
        match v {
            Value::Nil => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => self.out.push_str(&i.to_string()),
            Value::Int32(i) => self.out.push_str(&i.to_string()),
            Value::Uint64(u) => self.out.push_str(&u.to_string()),
            Value::Uint8(u) => self.out.push_str(&u.to_string()),
            Value::Complex(..) => return Err(JsonError::UnsupportedType(v.type_name())),
            Value::Float(f) => self.out.push_str(&float_text(*f)?),
            Value::String(s) => write_string(&mut self.out, s, self.opts.escape_html),
            Value::Bytes(b) => {
                self.out.push('"');
                self.out.push_str(&base64_std(b));
                self.out.push('"');
            }
            Value::List(l) if l.nil => self.out.push_str("null"),
            Value::Map(m) if m.nil => self.out.push_str("null"),
            Value::List(l) => {
                if l.is_empty() {
                    self.out.push_str("[]");
                    return Ok(());
                }
                self.out.push('[');
                for (i, item) in l.items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    self.value(item, depth + 1)?;
                }
                self.newline(depth);
                self.out.push(']');
            }
            Value::Map(m) => {
                let id = Rc::as_ptr(&m.entries) as *const ();
                if self.path.contains(&id) {
                    return Err(JsonError::Cycle(v.type_name()));
                }
                let entries = m.borrow();
                if entries.is_empty() {
                    self.out.push_str("{}");
                    return Ok(());
                }
                self.path.push(id);
                self.out.push('{');
                for (i, (k, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    write_string(&mut self.out, k, self.opts.escape_html);
                    self.out.push(':');
                    if self.opts.indent {
                        self.out.push(' ');
                    }
                    self.value(item, depth + 1)?;
                }
                self.newline(depth);
                self.out.push('}');
                self.path.pop();
            }
            Value::Object(o) => match o.json_value() {
                Some(inner) => self.value(&inner, depth + 1)?,
                None => return Err(JsonError::UnsupportedType(o.type_name().to_string())),
            },
        }
        Ok(())
    }
}

/// Go `encoding/json`'s float64 text: shortest digits, `'f'` form when
/// 1e-6 <= |f| < 1e21, else `'e'` form with Go's exponent cleanup (`1e-7`,
/// `1e+21`). NaN and infinities are errors.
pub fn float_text(f: f64) -> Result<String, JsonError> {
    if f.is_nan() {
        return Err(JsonError::UnsupportedValue("NaN".into()));
    }
    if f.is_infinite() {
        let s = if f > 0.0 { "+Inf" } else { "-Inf" };
        return Err(JsonError::UnsupportedValue(s.into()));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust's `{:e}` has the shortest round-trip digits: "1.5e21", "1e-7".
        let sci = format!("{f:e}");
        let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let mut out = mant.to_string();
        out.push('e');
        match exp.strip_prefix('-') {
            Some(digits) => {
                out.push('-');
                out.push_str(digits);
            }
            None => {
                out.push('+');
                if exp.len() < 2 {
                    out.push('0');
                }
                out.push_str(exp);
            }
        }
        Ok(out)
    } else {
        // Rust's `{}` prints shortest round-trip digits without exponent.
        Ok(format!("{f}"))
    }
}

/// Append `s` as a JSON string literal, escaping as Go does.
pub fn write_string(out: &mut String, s: &str, escape_html: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if escape_html => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 0xf] as char);
            }
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 0xf] as char);
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Standard base64 with padding (Go's `[]byte` JSON encoding).
pub fn base64_std(b: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = match chunk.len() {
            1 => u32::from(chunk[0]) << 16,
            2 => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8),
            _ => (u32::from(chunk[0]) << 16) | (u32::from(chunk[1]) << 8) | u32::from(chunk[2]),
        };
        out.push(ALPHABET[(n >> 18) as usize & 63] as char);
        out.push(ALPHABET[(n >> 12) as usize & 63] as char);
        if chunk.len() > 1 {
            out.push(ALPHABET[(n >> 6) as usize & 63] as char);
        } else {
            out.push('=');
        }
        if chunk.len() > 2 {
            out.push(ALPHABET[n as usize & 63] as char);
        } else {
            out.push('=');
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Decoding.

/// Decode `text` as `json.Unmarshal` into an `interface{}` does: objects
/// become `map[string]interface {}`, arrays `[]interface {}`, numbers
/// float64. Syntax errors carry Go's scanner messages.
pub fn decode(text: &str) -> Result<Value, JsonError> {
    let (v, type_error) = decode_partial(text)?;
    match type_error {
        Some(e) => Err(e),
        None => Ok(v),
    }
}

/// Like [`decode`], but a number out of float64 range is, as in Go, not a
/// syntax error: it decodes as nil and the first such error is returned
/// beside the (otherwise complete) value.
fn decode_partial(text: &str) -> Result<(Value, Option<JsonError>), JsonError> {
    let mut d = Decoder {
        b: text.as_bytes(),
        pos: 0,
        type_error: None,
    };
    let v = d.document()?;
    Ok((v, d.type_error))
}

/// Go's name for the JSON kind of a decoded value, as `UnmarshalTypeError`
/// prints it.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "null",
        Value::Bool(_) => "bool",
        Value::Float(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "array",
        _ => "object",
    }
}

/// `json.Unmarshal(text, &map[string]interface{}{})`: `null` sets the map
/// to a typed nil map; any other non-object is a type error.
pub fn decode_object(text: &str) -> Result<Map, JsonError> {
    decode_object_partial(text).and_then(|(m, e)| match e {
        Some(e) => Err(e),
        None => Ok(m),
    })
}

/// [`decode_object`] keeping what Go keeps when a nested number is out of
/// range: the map decoded so far plus the error.
fn decode_object_partial(text: &str) -> Result<(Map, Option<JsonError>), JsonError> {
    let (v, type_error) = decode_partial(text)?;
    match v {
        Value::Map(m) => Ok((m, type_error)),
        Value::Nil if type_error.is_some() => Err(JsonError::Type {
            what: "number".into(),
            target: "map[string]interface {}".into(),
        }),
        Value::Nil => Ok((Map::nil(GoType::Interface), None)),
        other => Err(JsonError::Type {
            what: json_kind(&other).to_string(),
            target: "map[string]interface {}".into(),
        }),
    }
}

/// `json.Unmarshal(text, &[]interface{}{})`: `null` gives a typed nil
/// slice.
pub fn decode_array(text: &str) -> Result<List, JsonError> {
    match decode(text)? {
        Value::List(l) => Ok(l),
        Value::Nil => Ok(List::nil(GoType::Interface)),
        other => Err(JsonError::Type {
            what: json_kind(&other).to_string(),
            target: "[]interface {}".into(),
        }),
    }
}

/// A container being decoded.
enum Frame {
    Array(Vec<Value>),
    Object(BTreeMap<String, Value>, String),
}

struct Decoder<'a> {
    b: &'a [u8],
    pos: usize,
    type_error: Option<JsonError>,
}

const EOF_MSG: &str = "unexpected end of JSON input";

/// Go's `quoteChar`: the byte as a rune, in single quotes, escaped like
/// `strconv.Quote`.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        _ => {
            let q = crate::fmt::quote(&char::from(c).to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

fn invalid(c: u8, context: &str) -> JsonError {
    JsonError::Syntax(format!("invalid character {} {}", quote_char(c), context))
}

impl Decoder<'_> {
    fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn eof() -> JsonError {
        JsonError::Syntax(EOF_MSG.into())
    }

    fn document(&mut self) -> Result<Value, JsonError> {
        let mut stack: Vec<Frame> = Vec::new();
        // Parse a value, iteratively so that deep nesting cannot exhaust
        // the Rust stack.
        'value: loop {
            self.skip_ws();
            let c = self.peek().ok_or_else(Self::eof)?;
            let mut done: Value = match c {
                b'{' | b'[' => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(invalid(c, "exceeded max depth"));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let close = if c == b'{' { b'}' } else { b']' };
                    match self.peek() {
                        None => return Err(Self::eof()),
                        Some(n) if n == close => {
                            self.pos += 1;
                            if c == b'{' {
                                Value::empty_map()
                            } else {
                                Value::list(Vec::new())
                            }
                        }
                        Some(_) if c == b'[' => {
                            stack.push(Frame::Array(Vec::new()));
                            continue 'value;
                        }
                        Some(b'"') => {
                            let key = self.string()?;
                            self.colon()?;
                            stack.push(Frame::Object(BTreeMap::new(), key));
                            continue 'value;
                        }
                        Some(n) => {
                            return Err(invalid(n, "looking for beginning of object key string"))
                        }
                    }
                }
                b'"' => Value::string(self.string()?),
                b'-' | b'0'..=b'9' => self.number()?,
                b't' => self.literal("true", Value::Bool(true))?,
                b'f' => self.literal("false", Value::Bool(false))?,
                b'n' => self.literal("null", Value::Nil)?,
                _ => return Err(invalid(c, "looking for beginning of value")),
            };
            // Hand the finished value to its container, closing as many
            // containers as end here.
            loop {
                let Some(frame) = stack.last_mut() else {
                    self.skip_ws();
                    return match self.peek() {
                        None => Ok(done),
                        Some(c) => Err(invalid(c, "after top-level value")),
                    };
                };
                self.skip_ws();
                let next = self.peek().ok_or_else(Self::eof)?;
                match frame {
                    Frame::Array(items) => {
                        items.push(done);
                        match next {
                            b',' => {
                                self.pos += 1;
                                continue 'value;
                            }
                            b']' => {
                                self.pos += 1;
                                let Some(Frame::Array(items)) = stack.pop() else {
                                    unreachable!("top frame is an array")
                                };
                                done = Value::list(items);
                            }
                            c => return Err(invalid(c, "after array element")),
                        }
                    }
                    Frame::Object(map, key) => {
                        map.insert(std::mem::take(key), done);
                        match next {
                            b',' => {
                                self.pos += 1;
                                self.skip_ws();
                                match self.peek() {
                                    None => return Err(Self::eof()),
                                    Some(b'"') => {}
                                    Some(c) => {
                                        return Err(invalid(
                                            c,
                                            "looking for beginning of object key string",
                                        ))
                                    }
                                }
                                *key = self.string()?;
                                self.colon()?;
                                continue 'value;
                            }
                            b'}' => {
                                self.pos += 1;
                                let Some(Frame::Object(map, _)) = stack.pop() else {
                                    unreachable!("top frame is an object")
                                };
                                done = Value::map(map);
                            }
                            c => return Err(invalid(c, "after object key:value pair")),
                        }
                    }
                }
            }
        }
    }

    fn colon(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        match self.peek() {
            None => Err(Self::eof()),
            Some(b':') => {
                self.pos += 1;
                Ok(())
            }
            Some(c) => Err(invalid(c, "after object key")),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, JsonError> {
        let w = word.as_bytes();
        self.pos += 1;
        for (i, &expect) in w.iter().enumerate().skip(1) {
            match self.peek() {
                None => return Err(Self::eof()),
                Some(c) if c == expect => self.pos += 1,
                Some(c) => {
                    let ctx = format!("in literal {} (expecting {})", word, quote_char(w[i]));
                    return Err(invalid(c, &ctx));
                }
            }
        }
        Ok(v)
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
            match self.peek() {
                None => return Err(Self::eof()),
                Some(b'0'..=b'9') => {}
                Some(c) => return Err(invalid(c, "in numeric literal")),
            }
        }
        if self.peek() == Some(b'0') {
            self.pos += 1;
        } else {
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            match self.peek() {
                None => return Err(Self::eof()),
                Some(b'0'..=b'9') => {}
                Some(c) => return Err(invalid(c, "after decimal point in numeric literal")),
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            match self.peek() {
                None => return Err(Self::eof()),
                Some(b'0'..=b'9') => {}
                Some(c) => return Err(invalid(c, "in exponent of numeric literal")),
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        let text = std::str::from_utf8(&self.b[start..self.pos]).unwrap_or("0");
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => {
                if self.type_error.is_none() {
                    self.type_error = Some(JsonError::Type {
                        what: format!("number {text}"),
                        target: "float64".into(),
                    });
                }
                Ok(Value::Nil)
            }
        }
    }

    /// A string literal starting at the opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek().ok_or_else(Self::eof)?;
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(String::from_utf8(out)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()));
                }
                b'\\' => {
                    self.pos += 1;
                    let e = self.peek().ok_or_else(Self::eof)?;
                    self.pos += 1;
                    let simple = match e {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        _ => return Err(invalid(e, "in string escape code")),
                    };
                    if let Some(s) = simple {
                        out.push(s);
                        continue;
                    }
                    let mut r = self.hex4()?;
                    if (0xD800..0xDC00).contains(&r) {
                        // A high surrogate: combine with a following low one,
                        // else it decodes as U+FFFD (and the next escape
                        // stands on its own).
                        let save = self.pos;
                        if self.b.get(self.pos) == Some(&b'\\')
                            && self.b.get(self.pos + 1) == Some(&b'u')
                        {
                            self.pos += 2;
                            let lo = self.hex4()?;
                            if (0xDC00..0xE000).contains(&lo) {
                                r = 0x10000 + ((r - 0xD800) << 10) + (lo - 0xDC00);
                            } else {
                                self.pos = save;
                                r = 0xFFFD;
                            }
                        } else {
                            r = 0xFFFD;
                        }
                    } else if (0xDC00..0xE000).contains(&r) {
                        r = 0xFFFD;
                    }
                    let ch = char::from_u32(r).unwrap_or('\u{FFFD}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c if c < 0x20 => return Err(invalid(c, "in string literal")),
                c => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut r = 0u32;
        for _ in 0..4 {
            let c = self.peek().ok_or_else(Self::eof)?;
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return Err(invalid(c, "in \\u hexadecimal character escape")),
            };
            r = r * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(r)
    }
}

// ---------------------------------------------------------------------------
// The template functions.

fn arg(args: &[Value]) -> Value {
    args.first().cloned().unwrap_or(Value::Nil)
}

fn string_arg(args: &[Value]) -> String {
    args.first()
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Helm `toJson`: `json.Marshal`, "" on error.
fn to_json(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(
        encode(&arg(&args), EncodeOptions::COMPACT).unwrap_or_default(),
    ))
}

/// Helm `mustToJson`: panics (→ error) on failure.
fn must_to_json(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    encode(&arg(&args), EncodeOptions::COMPACT)
        .map(Value::string)
        .map_err(|e| FuncError::new(e.to_string()))
}

/// Sprig `toPrettyJson`: `json.MarshalIndent(v, "", "  ")`, "" on error.
fn to_pretty_json(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(
        encode(&arg(&args), EncodeOptions::PRETTY).unwrap_or_default(),
    ))
}

fn must_to_pretty_json(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    encode(&arg(&args), EncodeOptions::PRETTY)
        .map(Value::string)
        .map_err(|e| FuncError::new(e.to_string()))
}

/// Sprig `toRawJson`: no HTML escaping; it panics on error, which
/// text/template reports as an error of the call.
fn to_raw_json(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    encode(&arg(&args), EncodeOptions::RAW)
        .map(Value::string)
        .map_err(|e| FuncError::new(e.to_string()))
}

/// Helm `fromJson`: a map, or `{"Error": msg}`.
fn from_json(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    // Go sets the map to nil for `null` (`toJson` of it is `null`).
    Ok(match decode_object_partial(&string_arg(&args)) {
        Ok((m, None)) => Value::Map(m),
        Ok((m, Some(e))) => {
            m.insert("Error", Value::string(e.to_string()));
            Value::Map(m)
        }
        Err(e) => {
            let m = Map::new();
            m.insert("Error", Value::string(e.to_string()));
            Value::Map(m)
        }
    })
}

/// Helm `fromJsonArray`: a list, or `[msg]`.
fn from_json_array(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    // As in `from_json`, `null` gives a nil slice.
    Ok(match decode_array(&string_arg(&args)) {
        Ok(items) => Value::List(items),
        Err(e) => Value::list(vec![Value::string(e.to_string())]),
    })
}

/// Sprig `mustFromJson`: any JSON value, or the error.
fn must_from_json(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    decode(&string_arg(&args)).map_err(|e| FuncError::new(e.to_string()))
}

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    use GoType::{Interface, String as Str};
    reg.add("toJson", &[Interface], None, to_json);
    reg.add("mustToJson", &[Interface], None, must_to_json);
    reg.add("toPrettyJson", &[Interface], None, to_pretty_json);
    reg.add("mustToPrettyJson", &[Interface], None, must_to_pretty_json);
    reg.add("toRawJson", &[Interface], None, to_raw_json);
    reg.add("mustToRawJson", &[Interface], None, to_raw_json);
    reg.add("fromJson", &[Str], None, from_json);
    reg.add("fromJsonArray", &[Str], None, from_json_array);
    reg.add("mustFromJson", &[Str], None, must_from_json);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, Value)]) -> Value {
        Value::map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn floats_format_like_encoding_json() {
        // encoding/json: 'f' between 1e-6 and 1e21, else 'e' with "e-07"
        // cleaned to "e-7".
        assert_eq!(float_text(1e6).unwrap(), "1000000");
        assert_eq!(float_text(1.5).unwrap(), "1.5");
        assert_eq!(float_text(-0.0).unwrap(), "-0");
        assert_eq!(float_text(1e20).unwrap(), "100000000000000000000");
        assert_eq!(float_text(1e21).unwrap(), "1e+21");
        assert_eq!(float_text(1.5e300).unwrap(), "1.5e+300");
        assert_eq!(float_text(0.000001).unwrap(), "0.000001");
        assert_eq!(float_text(1e-7).unwrap(), "1e-7");
        assert_eq!(float_text(1.25e-100).unwrap(), "1.25e-100");
        assert_eq!(
            float_text(f64::NAN).unwrap_err().to_string(),
            "json: unsupported value: NaN"
        );
        assert_eq!(
            float_text(f64::NEG_INFINITY).unwrap_err().to_string(),
            "json: unsupported value: -Inf"
        );
    }

    #[test]
    fn strings_escape_like_go() {
        let mut s = String::new();
        write_string(&mut s, "<a&b>\"\\\n\t\u{1}\u{8}\u{c}\u{2028}é\u{7f}", true);
        assert_eq!(
            s,
            "\"\\u003ca\\u0026b\\u003e\\\"\\\\\\n\\t\\u0001\\b\\f\\u2028é\u{7f}\""
        );
        let mut raw = String::new();
        write_string(&mut raw, "<&>", false);
        assert_eq!(raw, "\"<&>\"");
    }

    #[test]
    fn maps_sort_keys_and_pretty_indents() {
        let v = m(&[
            ("b", Value::list(vec![Value::Int(1), Value::Nil])),
            ("a", Value::empty_map()),
            ("c", Value::list(vec![])),
        ]);
        assert_eq!(
            encode(&v, EncodeOptions::COMPACT).unwrap(),
            r#"{"a":{},"b":[1,null],"c":[]}"#
        );
        assert_eq!(
            encode(&v, EncodeOptions::PRETTY).unwrap(),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    null\n  ],\n  \"c\": []\n}"
        );
        assert_eq!(
            encode(
                &Value::Bytes(Rc::from(&b"hi!?"[..])),
                EncodeOptions::COMPACT
            )
            .unwrap(),
            "\"aGkhPw==\""
        );
    }

    #[test]
    fn cycles_are_errors() {
        let map = Map::new();
        map.insert("self", Value::Map(map.clone()));
        let err = encode(&Value::Map(map.clone()), EncodeOptions::COMPACT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "json: unsupported value: encountered a cycle via map[string]interface {}"
        );
        map.borrow_mut().clear();
    }

    #[test]
    fn decode_values_and_errors() {
        let v =
            decode(r#" {"a": [1, 2.5e3, "x\u00e9\ud83d\ude00", true, null], "b": {}} "#).unwrap();
        assert_eq!(
            format!("{v:?}"),
            r#"{"a": [float64(1), float64(2500), "xé😀", true, nil], "b": {}}"#
        );
        let err = |s: &str| decode(s).unwrap_err().to_string();
        assert_eq!(err(""), "unexpected end of JSON input");
        assert_eq!(err("{\"a\":"), "unexpected end of JSON input");
        assert_eq!(
            err("{a}"),
            "invalid character 'a' looking for beginning of object key string"
        );
        assert_eq!(
            err("x"),
            "invalid character 'x' looking for beginning of value"
        );
        assert_eq!(err("[1 2]"), "invalid character '2' after array element");
        assert_eq!(err("{\"a\" 1}"), "invalid character '1' after object key");
        assert_eq!(
            err("{\"a\":1 2}"),
            "invalid character '2' after object key:value pair"
        );
        assert_eq!(err("01"), "invalid character '1' after top-level value");
        assert_eq!(err("-x"), "invalid character 'x' in numeric literal");
        assert_eq!(
            err("1.x"),
            "invalid character 'x' after decimal point in numeric literal"
        );
        assert_eq!(
            err("1ex"),
            "invalid character 'x' in exponent of numeric literal"
        );
        assert_eq!(err("tru"), "unexpected end of JSON input");
        assert_eq!(
            err("trux"),
            "invalid character 'x' in literal true (expecting 'e')"
        );
        assert_eq!(
            err("\"\\q\""),
            "invalid character 'q' in string escape code"
        );
        assert_eq!(
            err("\"\\u12x4\""),
            "invalid character 'x' in \\u hexadecimal character escape"
        );
        assert_eq!(err("\"a\nb\""), "invalid character '\\n' in string literal");
        assert_eq!(
            decode_object("[1]").err().unwrap().to_string(),
            "json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
        assert_eq!(
            decode_array("{}").err().unwrap().to_string(),
            "json: cannot unmarshal object into Go value of type []interface {}"
        );
        let null_map = decode_object("null").unwrap();
        assert!(null_map.is_empty() && null_map.nil);
        assert!(decode_array("null").is_ok_and(|l| l.nil && l.is_empty()));
        assert!(decode_array("[]").is_ok_and(|l| !l.nil));
        assert_eq!(
            encode(&Value::Map(null_map), EncodeOptions::COMPACT).ok(),
            Some("null".to_string())
        );
    }

    #[test]
    fn decode_deep_nesting_is_bounded() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert!(decode(&deep).is_err());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(decode(&ok).is_ok());
    }
}
