//! YAML output with Go's exact bytes.
//!
//! `toYaml` is `sigs.k8s.io/yaml.Marshal`: the value goes through
//! `encoding/json` first (so numbers take JSON's spelling and every map key
//! is a string), the JSON text is decoded again by goyaml.v2 and encoded by
//! goyaml.v2's emitter (libyaml's, ported to Go). `toYamlPretty` encodes the
//! Go value directly with goyaml.v3 (indent 2). Both emitters are
//! reproduced here from their observable rules: which scalar style a string
//! gets (plain, single-quoted, double-quoted, literal), how long lines are
//! folded at 80 columns (v2 only), how sequences are indented under a key
//! (v3 only), how keys are ordered (goyaml's "natural" order, where `a9`
//! sorts before `a10`).
//!
//! The model: the emitter walks the value once and writes it with the
//! state the C emitter keeps (column, `whitespace`, `indention`, the indent
//! stack), choosing each scalar's style as the Go encoder requests it. The
//! errors Go would report are found by a separate walk first, in the order
//! Go's encoders meet them (map keys in byte order).

use std::borrow::Cow;
use std::rc::Rc;

use crate::funcs::json::{self, JsonError};
use crate::value::Value;

/// A failure to produce YAML; `Display` is Go's message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlEmitError {
    /// `json.Marshal` failed (NaN, cycles, unsupported objects).
    #[error("error marshaling into JSON: {0}")]
    Json(#[from] JsonError),
    /// goyaml.v2 refused the intermediate JSON text (a character YAML does
    /// not allow, a key it cannot read back).
    #[error("yaml: {0}")]
    Reread(String),
    /// Nesting beyond what we recurse into.
    #[error("yaml: exceeded max depth of {0}")]
    TooDeep(usize),
}

/// How deep a value may nest. goyaml.v2 refuses JSON nested deeper than
/// 10000 levels (so `toYaml` fails there in Go as well); we stop at the
/// JSON module's limit.
const MAX_DEPTH: usize = json::MAX_DEPTH;

/// The scalar style the Go encoder requests (the emitter may still change
/// it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// Which Go encoder is reproduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    /// goyaml.v2 as sigs.k8s.io/yaml uses it (`toYaml`).
    V2,
    /// goyaml.v3 with `SetIndent(2)` (`toYamlPretty`).
    V3,
}

/// `sigs.k8s.io/yaml.Marshal(v)`: the complete document, ending in a
/// newline (Helm's `toYaml` trims that one newline).
pub fn to_yaml(v: &Value) -> Result<String, YamlEmitError> {
    Checker::default().check(v, 0, Dialect::V2)?;
    Ok(Emitter::new(Dialect::V2).document(v))
}

/// goyaml.v3 `Encoder` with `SetIndent(2)`: the complete document, ending
/// in a newline (Helm's `toYamlPretty` trims it).
pub fn to_yaml_pretty(v: &Value) -> Result<String, YamlEmitError> {
    Checker::default().check(v, 0, Dialect::V3)?;
    Ok(Emitter::new(Dialect::V3).document(v))
}

// ---------------------------------------------------------------------------
// What Go refuses.

/// The failures of the Go encoders, found in their order: for `toYaml`
/// what `encoding/json` refuses (NaN, cycles, types it cannot encode) and
/// then what goyaml.v2 cannot read back from the JSON text (control
/// characters, keys too long); for `toYamlPretty` what goyaml.v3 cannot
/// encode. Map entries are visited in byte order of the keys, as
/// `encoding/json` does.
#[derive(Default)]
struct Checker {
    path: Vec<*const ()>,
}

impl Checker {
    fn check(&mut self, v: &Value, depth: usize, dialect: Dialect) -> Result<(), YamlEmitError> {
        if depth > MAX_DEPTH {
            return Err(YamlEmitError::TooDeep(MAX_DEPTH));
        }
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            self.check_inner(v, depth, dialect)
        })
    }

    fn check_inner(
        &mut self,
        v: &Value,
        depth: usize,
        dialect: Dialect,
    ) -> Result<(), YamlEmitError> {
        match v {
            Value::Complex(..) => Err(JsonError::UnsupportedType(v.type_name()).into()),
            Value::Float(f) if dialect == Dialect::V2 => {
                json::float_text(*f).map(drop).map_err(Into::into)
            }
            Value::String(s) if dialect == Dialect::V2 => reread_string(s).map(drop),
            Value::List(l) if !l.nil => {
                for item in l.items.iter() {
                    self.check(item, depth + 1, dialect)?;
                }
                Ok(())
            }
            Value::Map(m) if !m.nil => {
                let id = Rc::as_ptr(&m.entries) as *const ();
                if self.path.contains(&id) {
                    return Err(match dialect {
                        Dialect::V2 => JsonError::Cycle(v.type_name()).into(),
                        Dialect::V3 => YamlEmitError::TooDeep(MAX_DEPTH),
                    });
                }
                self.path.push(id);
                for (k, item) in m.borrow().iter() {
                    if dialect == Dialect::V2 {
                        check_rereadable_key(k)?;
                    }
                    self.check(item, depth + 1, dialect)?;
                }
                self.path.pop();
                Ok(())
            }
            Value::Object(o) => match o.json_value() {
                Some(inner) => self.check(&inner, depth + 1, dialect),
                None => Err(JsonError::UnsupportedType(o.type_name().to_string()).into()),
            },
            _ => Ok(()),
        }
    }
}

/// goyaml's `floatv`: `strconv.FormatFloat(f, 'g', -1, 64)` with YAML's
/// spellings of the infinities and NaN.
fn go_yaml_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf" } else { "-.inf" }.into()
    } else {
        crate::fmt::format_float_g(f)
    }
}

/// goyaml.v2 reading a JSON number back: an integer when it fits int64 or
/// uint64 (so `1e+06` from JSON `1000000` prints as `1000000`, and `-0` as
/// `0`), else a float64 printed with `'g'` (`1e+21`, `1e-07`,
/// `1.2345675e+06`).
fn reread_number(text: &str) -> String {
    if let Ok(i) = text.parse::<i64>() {
        return i.to_string();
    }
    if let Ok(u) = text.parse::<u64>() {
        return u.to_string();
    }
    match text.parse::<f64>() {
        Ok(f) => go_yaml_float(f),
        Err(_) => text.to_string(),
    }
}

/// Characters that encoding/json leaves unescaped but goyaml's reader
/// refuses ("control characters are not allowed"): DEL, the C1 controls
/// except NEL, and U+FFFE/U+FFFF. (JSON escapes everything below U+0020.)
fn yaml_forbidden(c: char) -> bool {
    let c = c as u32;
    c == 0x7F || ((0x80..=0x9F).contains(&c) && c != 0x85) || c == 0xFFFE || c == 0xFFFF
}

/// What goyaml.v2 reads back from the JSON string literal of `s`.
/// encoding/json escapes every character YAML would treat specially except
/// spaces and NEL (U+0085), which YAML 1.1 reads as a line break inside a
/// double-quoted scalar: a line break folds into a space (several into
/// newlines), with the spaces around it dropped.
fn reread_string(s: &str) -> Result<Cow<'_, str>, YamlEmitError> {
    if contains_forbidden(s) {
        return Err(YamlEmitError::Reread(
            "control characters are not allowed".into(),
        ));
    }
    if s.is_ascii() || !s.contains('\u{85}') {
        return Ok(Cow::Borrowed(s));
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut column_zero = false;
    while i < chars.len() {
        if column_zero {
            let rest: String = chars[i..].iter().take(3).collect();
            let after = chars.get(i + 3).copied();
            if (rest == "---" || rest == "...")
                && matches!(after, Some(' ') | Some('\t') | Some('\u{85}'))
            {
                return Err(YamlEmitError::Reread(
                    "line 1: found unexpected document indicator".into(),
                ));
            }
        }
        column_zero = false;
        // Content up to the next space or break.
        while i < chars.len() && chars[i] != ' ' && chars[i] != '\u{85}' {
            out.push(chars[i]);
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        // Blanks and breaks.
        let mut whitespaces = String::new();
        let mut leading_break = false;
        let mut trailing_breaks = 0usize;
        while i < chars.len() && (chars[i] == ' ' || chars[i] == '\u{85}') {
            if chars[i] == ' ' {
                if !leading_break {
                    whitespaces.push(' ');
                }
            } else if !leading_break {
                whitespaces.clear();
                leading_break = true;
                column_zero = true;
            } else {
                trailing_breaks += 1;
                column_zero = true;
            }
            if chars[i] == ' ' {
                column_zero = false;
            }
            i += 1;
            if column_zero && i < chars.len() {
                let rest: String = chars[i..].iter().take(3).collect();
                let after = chars.get(i + 3).copied();
                if (rest == "---" || rest == "...")
                    && matches!(after, Some(' ') | Some('\t') | Some('\u{85}'))
                {
                    return Err(YamlEmitError::Reread(
                        "line 1: found unexpected document indicator".into(),
                    ));
                }
            }
        }
        if leading_break {
            if trailing_breaks == 0 {
                out.push(' ');
            } else {
                for _ in 0..trailing_breaks {
                    out.push('\n');
                }
            }
        } else {
            out.push_str(&whitespaces);
        }
        column_zero = false;
    }
    Ok(Cow::Owned(out))
}

/// Whether `s` has a character goyaml's reader refuses ([`yaml_forbidden`];
/// in ASCII only DEL).
fn contains_forbidden(s: &str) -> bool {
    s.bytes().any(|b| b >= 0x7F) && s.chars().any(yaml_forbidden)
}

/// A JSON object key goyaml.v2 cannot read back as a key: one that spans
/// lines (a raw NEL) or whose JSON text is longer than the 1024 characters
/// a YAML simple key may have.
fn check_rereadable_key(k: &str) -> Result<(), YamlEmitError> {
    if contains_forbidden(k) {
        return Err(YamlEmitError::Reread(
            "control characters are not allowed".into(),
        ));
    }
    // JSON spells a character in at most six (`\u00XX`): short ASCII keys
    // cannot come near the limit.
    if k.is_ascii() && k.len() * 6 + 2 <= 1024 {
        return Ok(());
    }
    let mut quoted = String::new();
    json::write_string(&mut quoted, k, true);
    if k.contains('\u{85}') || quoted.chars().count() > 1024 {
        return Err(YamlEmitError::Reread(
            "line 1: did not find expected ',' or '}'".into(),
        ));
    }
    Ok(())
}

/// goyaml's `stringv`: literal style for strings with a newline, plain when
/// the plain scalar would read back as the same string, else double quotes.
fn string_style(s: &str, dialect: Dialect) -> Style {
    if s.contains('\n') {
        Style::Literal
    } else if resolves_to_string(s)
        && !is_base60_float(s)
        && !(dialect == Dialect::V3 && is_old_bool(s))
    {
        Style::Plain
    } else {
        Style::DoubleQuoted
    }
}

fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// What goyaml's `resolve` makes of a plain scalar (YAML 1.1 rules).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// Looks like a timestamp (`2024-01-01`); decoded into `interface{}` it
    /// stays a string.
    Timestamp,
    Str,
}

/// goyaml's `resolve("", s)`: whether the plain scalar `s` reads as a
/// null, bool, number or timestamp, and which.
pub(super) fn resolve_plain(s: &str, allow_timestamp: bool) -> Resolved {
    let Some(&first) = s.as_bytes().first() else {
        return Resolved::Null;
    };
    let hinted = matches!(
        first,
        b'y' | b'Y'
            | b'n'
            | b'N'
            | b't'
            | b'T'
            | b'f'
            | b'F'
            | b'o'
            | b'O'
            | b'~'
            | b'.'
            | b'+'
            | b'-'
    ) || first.is_ascii_digit();
    if !hinted {
        return Resolved::Str;
    }
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false)
        }
        "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match first {
        b'.' => match go_parse_float(s) {
            Some(f) => Resolved::Float(f),
            None => Resolved::Str,
        },
        b'+' | b'-' | b'0'..=b'9' => {
            if allow_timestamp && is_timestamp(s) {
                return Resolved::Timestamp;
            }
            let plain = s.replace('_', "");
            if let Some(i) = go_parse_int(&plain) {
                return Resolved::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain) {
                return Resolved::Uint(u);
            }
            if yaml_style_float(&plain) {
                if let Some(f) = go_parse_float(&plain) {
                    return Resolved::Float(f);
                }
            }
            if let Some(bin) = plain.strip_prefix("0b") {
                if let Some(v) = parse_digits(bin, 2) {
                    return if v <= i64::MAX as u128 {
                        Resolved::Int(v as i64)
                    } else {
                        Resolved::Uint(v as u64)
                    };
                }
            } else if let Some(bin) = plain.strip_prefix("-0b") {
                if let Some(v) = parse_digits(bin, 2).filter(|v| *v <= 1u128 << 63) {
                    return Resolved::Int((v as i128).wrapping_neg() as i64);
                }
            }
            Resolved::Str
        }
        _ => Resolved::Str,
    }
}

fn resolves_to_string(s: &str) -> bool {
    resolve_plain(s, true) == Resolved::Str
}

/// Unsigned digits in `base`, at least one, no sign; `None` on overflow of
/// u64 or a bad digit.
fn parse_digits(s: &str, base: u32) -> Option<u128> {
    if s.is_empty() {
        return None;
    }
    let mut v: u128 = 0;
    for c in s.chars() {
        let d = c.to_digit(base)?;
        v = v * u128::from(base) + u128::from(d);
        if v > u128::from(u64::MAX) {
            return None;
        }
    }
    Some(v)
}

/// Go `strconv.ParseUint(s, 0, 64)` magnitude (no sign): base prefixes
/// `0x`, `0o`, `0b`, and a leading `0` for octal.
fn parse_base0(s: &str) -> Option<u128> {
    let lower = s.get(..2).map(|p| p.to_ascii_lowercase());
    match lower.as_deref() {
        Some("0x") => parse_digits(&s[2..], 16),
        Some("0o") => parse_digits(&s[2..], 8),
        Some("0b") => parse_digits(&s[2..], 2),
        _ if s.len() > 1 && s.starts_with('0') => parse_digits(&s[1..], 8),
        _ => parse_digits(s, 10),
    }
}

/// Go `strconv.ParseInt(s, 0, 64)`.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, mag) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = parse_base0(mag)?;
    if neg {
        if v <= 1u128 << 63 {
            Some((v as i128).wrapping_neg() as i64)
        } else {
            None
        }
    } else if v <= i64::MAX as u128 {
        Some(v as i64)
    } else {
        None
    }
}

/// Go `strconv.ParseUint(s, 0, 64)` (no sign allowed).
fn go_parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    parse_base0(s).map(|v| v as u64)
}

/// goyaml's `yamlStyleFloat`:
/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms goyaml hands it: the
/// value when well-formed and in range.
fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" && body.len() == s.len() {
        return Some(f64::NAN);
    }
    if !decimal_float_syntax(body) {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's decimal float syntax: digits with an optional point (at least one
/// digit overall), an optional exponent.
fn decimal_float_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut nd = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        nd += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            nd += 1;
        }
    }
    if nd == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

/// goyaml's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&c) = b.first() else { return false };
    if !(c == b'+' || c == b'-' || c.is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    let mut i = 0;
    if matches!(b[0], b'+' | b'-') {
        i += 1;
    }
    if !b.get(i).is_some_and(|c| c.is_ascii_digit()) {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        // [0-5]?[0-9]
        let d1 = b.get(i).copied();
        let d2 = b.get(i + 1).copied();
        match (d1, d2) {
            (Some(a), Some(b2)) if (b'0'..=b'5').contains(&a) && b2.is_ascii_digit() => i += 2,
            (Some(a), _) if a.is_ascii_digit() => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// goyaml's `parseTimestamp`: `YYYY-M-D` optionally followed by a time
/// (`T`/`t`/space separated, `H:M:S` with optional fraction, and for the
/// `T` forms a `Z` or `±hh:mm` zone), each part as Go's `time.Parse`
/// accepts it for the layouts goyaml tries.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let year: i64 = s[..4].parse().unwrap_or(0);
    let mut i = 5;
    // Go's getnum for non-padded fields: one digit, or two when the second
    // is a digit too.
    let num = |i: &mut usize| -> Option<u32> {
        let d1 = b.get(*i).filter(|c| c.is_ascii_digit())?;
        *i += 1;
        let mut v = u32::from(d1 - b'0');
        if let Some(d2) = b.get(*i).filter(|c| c.is_ascii_digit()) {
            v = v * 10 + u32::from(d2 - b'0');
            *i += 1;
        }
        Some(v)
    };
    let Some(month) = num(&mut i) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(&mut i) else { return false };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let sep = b[i];
    if !matches!(sep, b'T' | b't' | b' ') {
        return false;
    }
    i += 1;
    let Some(hour) = num(&mut i) else {
        return false;
    };
    if b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(min) = num(&mut i) else { return false };
    if b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(sec) = num(&mut i) else { return false };
    if hour > 23 || min > 59 || sec > 59 {
        return false;
    }
    // Fraction: '.' or ',' followed by digits (Go accepts both after
    // seconds when the layout has a fraction).
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if sep == b' ' {
        return i == b.len();
    }
    // Z07:00
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let rest = &b[i + 1..];
            rest.len() == 5
                && rest[0].is_ascii_digit()
                && rest[1].is_ascii_digit()
                && rest[2] == b':'
                && rest[3].is_ascii_digit()
                && rest[4].is_ascii_digit()
                && (rest[0] - b'0') * 10 + (rest[1] - b'0') <= 24
                && (rest[3] - b'0') * 10 + (rest[4] - b'0') <= 59
        }
        _ => false,
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Go `unicode.IsLetter` (approximated by Rust's alphabetic property,
/// which differs only for some marks and letter-like numbers).
fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        c.is_alphabetic() && !c.is_numeric()
    }
}

/// Go `unicode.IsDigit` for ASCII; non-ASCII decimal digits (category Nd)
/// are not recognised, as Rust's std has no Nd table (a known gap: keys
/// with such digits may sort differently from goyaml).
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

/// goyaml's key order (`keyList.Less` for string keys): rune by rune,
/// letters before non-letters, and runs of digits compared as numbers, so
/// `a2 < a10` and `_x < B` is decided by letter-ness first.
fn key_less(a: &str, b: &str, dialect: Dialect) -> bool {
    if a.is_ascii() && b.is_ascii() {
        key_less_units(a.as_bytes(), b.as_bytes(), dialect)
    } else {
        let ar: Vec<char> = a.chars().collect();
        let br: Vec<char> = b.chars().collect();
        key_less_units(&ar, &br, dialect)
    }
}

fn key_less_units<C: Unit>(ar: &[C], br: &[C], dialect: Dialect) -> bool {
    let ch = |s: &[C], i: usize| -> char { s[i].into() };
    let mut digits = false;
    let n = ar.len().min(br.len());
    for i in 0..n {
        let (a, b) = (ch(ar, i), ch(br, i));
        if a == b {
            digits = is_digit(a);
            continue;
        }
        let al = is_letter(a);
        let bl = is_letter(b);
        if al && bl {
            return a < b;
        }
        if al || bl {
            return if dialect == Dialect::V3 && digits {
                al
            } else {
                bl
            };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if a == '0' || b == '0' {
            let mut j = i;
            while j > 0 && is_digit(ch(ar, j - 1)) {
                j -= 1;
                if ch(ar, j) != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && is_digit(ch(ar, ai)) {
            an = an
                .wrapping_mul(10)
                .wrapping_add(ch(ar, ai) as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && is_digit(ch(br, bi)) {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(ch(br, bi) as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return a < b;
    }
    ar.len() < br.len()
}

fn key_order(a: &str, b: &str, dialect: Dialect) -> std::cmp::Ordering {
    if key_less(a, b, dialect) {
        std::cmp::Ordering::Less
    } else if key_less(b, a, dialect) {
        std::cmp::Ordering::Greater
    } else {
        a.cmp(b)
    }
}

// ---------------------------------------------------------------------------
// The emitter.

/// libyaml's `is_printable` as goyaml applies it to UTF-8: LF, printable
/// ASCII, U+00A0–U+D7FF, U+E000–U+FFFD except the BOM. Characters outside
/// the BMP count as not printable (and get `\U` escapes).
fn is_printable(c: char) -> bool {
    let c = c as u32;
    c == 0x0A
        || (0x20..=0x7E).contains(&c)
        || (0xA0..=0xD7FF).contains(&c)
        || ((0xE000..=0xFFFD).contains(&c) && c != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `is_blankz`: blank, break or NUL.
fn is_blankz(c: char) -> bool {
    is_blank(c) || is_break(c) || c == '\0'
}

/// What `yaml_emitter_analyze_scalar` finds out about a scalar.
struct Analysis {
    multiline: bool,
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

fn analyze<C: Unit>(value: &[C], dialect: Dialect) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain_allowed: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let mut block_indicators = false;
    let mut flow_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut tab_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;

    let starts = |p: &str| value.iter().take(3).map(|&c| c.into()).eq(p.chars());
    if value.len() >= 3 && (starts("---") || starts("...")) {
        block_indicators = true;
        flow_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    let n = value.len();
    for (i, &c) in value.iter().enumerate() {
        let c: char = c.into();
        // Most characters change nothing but the "previous" flags: visible
        // ASCII that is an indicator only at the start or not at all.
        if i > 0
            && c.is_ascii_graphic()
            && !matches!(c, ',' | '?' | '[' | ']' | '{' | '}' | ':' | '#')
        {
            previous_space = false;
            previous_break = false;
            preceded_by_whitespace = false;
            continue;
        }
        let followed_by_whitespace = i + 1 >= n || is_blank(value[i + 1].into());
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                '?' | ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '-' if followed_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_indicators = true,
                ':' => {
                    flow_indicators = true;
                    if followed_by_whitespace {
                        block_indicators = true;
                    }
                }
                '#' if preceded_by_whitespace => {
                    flow_indicators = true;
                    block_indicators = true;
                }
                _ => {}
            }
        }
        if dialect == Dialect::V3 && c == '\t' {
            tab_characters = true;
        } else if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == n {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == n {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(c);
    }

    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain_allowed: true,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || tab_characters || special_characters {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        a.block_allowed = false;
    }
    if line_breaks {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if flow_indicators {
        a.flow_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// The node context libyaml tracks for the node being emitted.
#[derive(Clone, Copy, Default)]
struct Ctx {
    mapping: bool,
    simple_key: bool,
}

struct Emitter {
    dialect: Dialect,
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent: i64,
    indents: Vec<i64>,
    flow_level: usize,
    best_indent: i64,
    best_width: usize,
}

impl Emitter {
    fn new(dialect: Dialect) -> Emitter {
        Emitter {
            dialect,
            out: String::new(),
            column: 0,
            whitespace: true,
            indention: true,
            indent: -1,
            indents: Vec::new(),
            flow_level: 0,
            best_indent: 2,
            best_width: match dialect {
                Dialect::V2 => 80,
                Dialect::V3 => usize::MAX,
            },
        }
    }

    fn document(mut self, root: &Value) -> String {
        self.value(root, Ctx::default());
        // DOCUMENT-END (implicit): just finish the line.
        self.write_indent();
        self.out
    }

    // -- low-level writing, as libyaml's put/write/put_break --

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
        if self.dialect == Dialect::V3 {
            self.indention = true;
        }
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
            if self.dialect == Dialect::V3 {
                self.indention = true;
            }
        }
    }

    /// A line break inside a plain or single-quoted scalar: the first of a
    /// run is doubled (one break would fold into a space when read back).
    fn line_break(&mut self, c: char, after_break: bool) {
        if !after_break && c == '\n' {
            self.put_break();
        }
        self.write_break(c);
        self.indention = true;
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in indicator.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { self.best_indent } else { 0 };
        } else if !indentless {
            self.indent += self.best_indent;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    // -- nodes --

    /// Writes `v` as the Go encoder of the dialect would (the value has
    /// passed [`Checker`], so nothing here fails).
    fn value(&mut self, v: &Value, ctx: Ctx) {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.value_inner(v, ctx))
    }

    fn value_inner(&mut self, v: &Value, ctx: Ctx) {
        match v {
            Value::Nil => self.scalar("null", Style::Plain, ctx),
            Value::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain, ctx),
            Value::Int(i) | Value::Int64(i) => self.scalar(&i.to_string(), Style::Plain, ctx),
            Value::Int32(i) => self.scalar(&i.to_string(), Style::Plain, ctx),
            Value::Uint64(u) => self.scalar(&u.to_string(), Style::Plain, ctx),
            Value::Uint8(u) => self.scalar(&u.to_string(), Style::Plain, ctx),
            Value::Complex(..) => {}
            Value::Float(f) => {
                let text = match self.dialect {
                    Dialect::V2 => json::float_text(*f)
                        .map(|t| reread_number(&t))
                        .unwrap_or_default(),
                    Dialect::V3 => go_yaml_float(*f),
                };
                self.scalar(&text, Style::Plain, ctx);
            }
            Value::String(s) => match self.dialect {
                Dialect::V2 => {
                    let s = reread_string(s).unwrap_or_default();
                    self.scalar(&s, string_style(&s, Dialect::V2), ctx);
                }
                Dialect::V3 => self.scalar(s, string_style(s, Dialect::V3), ctx),
            },
            Value::Bytes(b) => match self.dialect {
                Dialect::V2 => {
                    let s = json::base64_std(b);
                    self.scalar(&s, string_style(&s, Dialect::V2), ctx);
                }
                Dialect::V3 if b.is_empty() || self.flow_level > 0 => self.flow_empty("[", "]"),
                Dialect::V3 => {
                    self.sequence_start(ctx);
                    for x in b.iter() {
                        self.sequence_item();
                        self.scalar(&x.to_string(), Style::Plain, Ctx::default());
                    }
                    self.pop_indent();
                }
            },
            Value::List(l) if l.nil => self.scalar("null", Style::Plain, ctx),
            Value::Map(m) if m.nil => self.scalar("null", Style::Plain, ctx),
            Value::List(l) if l.items.is_empty() || self.flow_level > 0 => {
                self.flow_empty("[", "]")
            }
            Value::List(l) => {
                self.sequence_start(ctx);
                for item in l.items.iter() {
                    self.sequence_item();
                    self.value(item, Ctx::default());
                }
                self.pop_indent();
            }
            Value::Map(m) => {
                let entries = m.borrow();
                if entries.is_empty() || self.flow_level > 0 {
                    self.flow_empty("{", "}");
                    return;
                }
                let mut sorted: Vec<(&str, &Value)> =
                    entries.iter().map(|(k, v)| (k.as_str(), v)).collect();
                let dialect = self.dialect;
                sorted.sort_by(|a, b| key_order(a.0, b.0, dialect));
                self.block_mapping(&sorted);
            }
            Value::Object(o) => {
                if let Some(inner) = o.json_value() {
                    self.value(&inner, ctx);
                }
            }
        }
    }

    fn flow_empty(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.flow_level += 1;
        self.flow_level -= 1;
        self.pop_indent();
        self.write_indicator(close, false, false, false);
    }

    /// Opens a block sequence (closed by `pop_indent`).
    fn sequence_start(&mut self, ctx: Ctx) {
        let indentless = match self.dialect {
            Dialect::V2 => ctx.mapping && !self.indention,
            Dialect::V3 => false,
        };
        self.increase_indent(false, indentless);
    }

    /// The `- ` before an item of a block sequence.
    fn sequence_item(&mut self) {
        self.write_indent();
        self.write_indicator("-", true, false, true);
    }

    fn block_mapping(&mut self, entries: &[(&str, &Value)]) {
        self.increase_indent(false, false);
        let value_ctx = Ctx {
            mapping: true,
            ..Ctx::default()
        };
        for &(key, value) in entries {
            self.write_indent();
            let style = string_style(key, self.dialect);
            if is_simple_key(key) {
                let key_ctx = Ctx {
                    mapping: true,
                    simple_key: true,
                };
                self.scalar(key, style, key_ctx);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.scalar(key, style, value_ctx);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.value(value, value_ctx);
        }
        self.pop_indent();
    }

    fn scalar(&mut self, value: &str, requested: Style, ctx: Ctx) {
        if value.is_ascii() {
            self.scalar_units(value.as_bytes(), requested, ctx);
        } else {
            let chars: Vec<char> = value.chars().collect();
            self.scalar_units(&chars, requested, ctx);
        }
    }

    fn scalar_units<C: Unit>(&mut self, chars: &[C], requested: Style, ctx: Ctx) {
        let a = analyze(chars, self.dialect);
        let style = self.select_style(chars, requested, &a, ctx);
        self.increase_indent(true, false);
        let allow_breaks = !ctx.simple_key;
        match style {
            Style::Plain => self.write_plain(chars, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(chars, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(chars, allow_breaks),
            Style::Literal => self.write_literal(chars),
        }
        self.pop_indent();
    }

    fn select_style<C: Unit>(
        &self,
        value: &[C],
        requested: Style,
        a: &Analysis,
        ctx: Ctx,
    ) -> Style {
        let mut style = requested;
        if ctx.simple_key && a.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain {
            if (self.flow_level > 0 && !a.flow_plain_allowed)
                || (self.flow_level == 0 && !a.block_plain_allowed)
            {
                style = Style::SingleQuoted;
            }
            if value.is_empty() && (self.flow_level > 0 || ctx.simple_key) {
                style = Style::SingleQuoted;
            }
        }
        if style == Style::SingleQuoted && !a.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal && (!a.block_allowed || self.flow_level > 0 || ctx.simple_key) {
            style = Style::DoubleQuoted;
        }
        style
    }

    /// Whether the run `value` can be written as it is: no breaks and no
    /// characters the style must escape, and no space where a line would
    /// be folded (the text ends within the width, or breaks are not
    /// allowed). `special` marks the characters the style escapes.
    fn verbatim<C: Unit>(
        &self,
        value: &[C],
        allow_breaks: bool,
        special: fn(char) -> bool,
    ) -> bool {
        let mut spaces = false;
        for &c in value {
            let c: char = c.into();
            if is_break(c) || special(c) {
                return false;
            }
            spaces |= c == ' ';
        }
        !spaces || !allow_breaks || self.column + value.len() <= self.best_width
    }

    /// Appends a run of characters that needs no folding or escaping.
    fn put_run<C: Unit>(&mut self, value: &[C]) {
        C::push_run(&mut self.out, value);
        self.column += value.len();
    }

    fn write_plain<C: Unit>(&mut self, value: &[C], allow_breaks: bool) {
        if !(self.whitespace || self.dialect == Dialect::V3 && value.is_empty()) {
            self.put(' ');
        }
        if self.verbatim(value, allow_breaks, |_| false) {
            self.put_run(value);
        } else {
            let mut spaces = false;
            let mut breaks = false;
            for (i, &c) in value.iter().enumerate() {
                let c: char = c.into();
                if c == ' ' {
                    let next_space = value.get(i + 1).is_some_and(|&n| n.into() == ' ');
                    if allow_breaks && !spaces && self.column > self.best_width && !next_space {
                        self.write_indent();
                    } else {
                        self.put(c);
                    }
                    spaces = true;
                } else if is_break(c) {
                    self.line_break(c, breaks);
                    breaks = true;
                } else {
                    if breaks {
                        self.write_indent();
                    }
                    self.put(c);
                    self.indention = false;
                    spaces = false;
                    breaks = false;
                }
            }
        }
        if !(self.dialect == Dialect::V3 && value.is_empty()) {
            self.whitespace = false;
        }
        self.indention = false;
    }

    fn write_single_quoted<C: Unit>(&mut self, value: &[C], allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut spaces = false;
        let mut breaks = false;
        let n = value.len();
        for (i, &c) in value.iter().enumerate() {
            let c: char = c.into();
            if c == ' ' {
                let next_space = value.get(i + 1).is_some_and(|&n| n.into() == ' ');
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && i > 0
                    && i + 1 < n
                    && !next_space
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                self.line_break(c, breaks);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted<C: Unit>(&mut self, value: &[C], allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let bom = value.first().is_some_and(|&c| c.into() == '\u{feff}');
        let escaped = |c: char| !is_printable(c) || c == '"' || c == '\\';
        if !bom && self.verbatim(value, allow_breaks, escaped) {
            self.put_run(value);
        } else {
            self.write_double_quoted_slow(value, allow_breaks, bom);
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted_slow<C: Unit>(&mut self, value: &[C], allow_breaks: bool, bom: bool) {
        let mut spaces = false;
        let n = value.len();
        for (i, &c) in value.iter().enumerate() {
            let c: char = c.into();
            if !is_printable(c) || bom || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let v = c as u32;
                        let (prefix, width) = if v <= 0xFF {
                            ('x', 2)
                        } else if v <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(prefix);
                        for k in (0..width).rev() {
                            let digit = (v >> (k * 4)) & 0xF;
                            self.put(
                                char::from_digit(digit, 16)
                                    .unwrap_or('0')
                                    .to_ascii_uppercase(),
                            );
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > self.best_width && i > 0 && i + 1 < n {
                    self.write_indent();
                    if value.get(i + 1).is_some_and(|&n| n.into() == ' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
    }

    fn write_literal<C: Unit>(&mut self, value: &[C]) {
        self.write_indicator("|", true, false, false);
        let at = |i: usize| -> char { value[i].into() };
        // Block scalar hints: an explicit indentation indicator when the
        // text starts with a space or a break, then the chomping indicator.
        if !value.is_empty() && (at(0) == ' ' || is_break(at(0))) {
            let hint = char::from_digit(self.best_indent as u32, 10).unwrap_or('2');
            self.write_indicator(&hint.to_string(), false, false, false);
        }
        let n = value.len();
        let chomp = if n == 0 || !is_break(at(n - 1)) {
            Some('-')
        } else if n == 1 || is_break(at(n - 2)) {
            Some('+')
        } else {
            None
        };
        if let Some(c) = chomp {
            self.write_indicator(&c.to_string(), false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        let mut i = 0;
        while i < n {
            let c = at(i);
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
                i += 1;
            } else {
                if breaks {
                    self.write_indent();
                }
                // The rest of the line as it is.
                let start = i;
                while i < n && !is_break(at(i)) {
                    i += 1;
                }
                self.put_run(&value[start..i]);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// `yaml_emitter_check_simple_key` for a string key: on one line and at
/// most 128 bytes.
fn is_simple_key(key: &str) -> bool {
    key.len() <= 128 && !key.chars().any(is_break)
}

/// What a scalar is written as: bytes when it is ASCII (no copy), else
/// `char`s (libyaml's emitter works on characters).
trait Unit: Copy + PartialEq + Into<char> {
    /// Appends the characters of `run` to `out`.
    fn push_run(out: &mut String, run: &[Self]);
}

impl Unit for u8 {
    fn push_run(out: &mut String, run: &[u8]) {
        // Only ever ASCII (see `Emitter::scalar`).
        out.push_str(std::str::from_utf8(run).unwrap_or_default());
    }
}

impl Unit for char {
    fn push_run(out: &mut String, run: &[char]) {
        out.extend(run.iter());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn map(pairs: &[(&str, Value)]) -> Value {
        let m: BTreeMap<String, Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        Value::map(m)
    }

    fn y(v: &Value) -> String {
        to_yaml(v).unwrap()
    }

    // Expected outputs below are goyaml.v2/v3 behaviour verified against
    // Helm v4.3.1's toYaml/toYamlPretty.

    #[test]
    fn scalars_quote_when_they_would_read_back_as_other_types() {
        for (s, want) in [
            ("true", "\"true\"\n"),
            ("on", "\"on\"\n"),
            ("1", "\"1\"\n"),
            ("1e3", "\"1e3\"\n"),
            ("0x1F", "\"0x1F\"\n"),
            ("1:20", "\"1:20\"\n"),
            ("2024-01-01", "\"2024-01-01\"\n"),
            ("", "\"\"\n"),
            ("~", "\"~\"\n"),
            ("a: b", "'a: b'\n"),
            ("- a", "'- a'\n"),
            (" a", "' a'\n"),
            ("a\tb", "\"a\\tb\"\n"),
            ("😀", "\"\\U0001F600\"\n"),
            ("\u{feff}ab", "\"\\uFEFF\\x61\\x62\"\n"),
            ("1.2.3", "1.2.3\n"),
            ("1e400", "1e400\n"),
            ("2024-13-01", "2024-13-01\n"),
            ("hello world", "hello world\n"),
        ] {
            assert_eq!(y(&Value::str(s)), want, "{s:?}");
        }
    }

    #[test]
    fn numbers_take_the_json_round_trip() {
        for (f, want) in [
            (1e6, "1000000\n"),
            (1234567.5, "1.2345675e+06\n"),
            (-0.0, "0\n"),
            (1.5e19, "15000000000000000000\n"),
            (1e20, "1e+20\n"),
            (1e21, "1e+21\n"),
            (1e-7, "1e-07\n"),
            (0.5, "0.5\n"),
        ] {
            assert_eq!(y(&Value::Float(f)), want, "{f}");
        }
        assert!(to_yaml(&Value::Float(f64::NAN)).is_err());
    }

    #[test]
    fn keys_sort_naturally_and_sequences_stay_at_the_key_indent() {
        let v = map(&[
            ("a10", Value::Int(1)),
            ("a9", Value::Int(2)),
            ("B", Value::Int(3)),
            ("_x", Value::Int(4)),
        ]);
        assert_eq!(y(&v), "_x: 4\nB: 3\na9: 2\na10: 1\n");
        let v = map(&[
            (
                "list",
                Value::list(vec![
                    Value::str("x"),
                    map(&[("a", Value::Int(1)), ("b", Value::list(vec![]))]),
                ]),
            ),
            ("empty", Value::empty_map()),
        ]);
        assert_eq!(y(&v), "empty: {}\nlist:\n- x\n- a: 1\n  b: []\n");
        assert_eq!(
            to_yaml_pretty(&v).unwrap(),
            "empty: {}\nlist:\n  - x\n  - a: 1\n    b: []\n"
        );
    }

    #[test]
    fn long_and_multiline_strings() {
        let long = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.";
        assert_eq!(
            y(&map(&[("long", Value::str(long))])),
            "long: Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\n  incididunt ut labore et dolore magna aliqua.\n"
        );
        assert_eq!(y(&map(&[("k", Value::str("a\nb"))])), "k: |-\n  a\n  b\n");
        assert_eq!(y(&map(&[("k", Value::str("a\nb\n"))])), "k: |\n  a\n  b\n");
        assert_eq!(y(&map(&[("k", Value::str("a\n\n"))])), "k: |+\n  a\n\n");
        assert_eq!(y(&map(&[("k", Value::str("\na"))])), "k: |2-\n\n  a\n");
        let key = format!("{}{}", "x".repeat(130), " xxx");
        assert_eq!(
            y(&map(&[(key.as_str(), Value::list(vec![Value::str("a")]))])),
            format!("? {}\n  xxx\n: - a\n", "x".repeat(130))
        );
    }

    #[test]
    fn nel_folds_and_control_characters_fail() {
        assert_eq!(y(&Value::str("a\u{85}b")), "a b\n");
        assert_eq!(y(&Value::str("a \u{85}\u{85}  b")), "|-\n  a\n  b\n");
        assert!(to_yaml(&Value::str("a\u{7f}")).is_err());
        assert!(to_yaml(&map(&[("a\u{85}b", Value::Int(1))])).is_err());
        assert!(to_yaml(&map(&[("a".repeat(1100).as_str(), Value::Int(1))])).is_err());
    }
}
