//! Template functions: Sprig's string functions (`strings.go` and the
//! string entries of `functions.go`, Sprig v3.3.0).
//!
//! Go strings are byte strings: `trunc`, `substr`, `abbrev`, `wrap`,
//! `initials` and `nospace` index bytes, not characters, exactly as Sprig
//! (and the goutils helpers it calls) do. Where Go would cut a multi-byte
//! character in half, our UTF-8 strings get U+FFFD in its place.

use std::collections::BTreeMap;

use crate::fmt::{format_v, quote as go_quote};
use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::value::{GoType, Map, Value};

use GoType::{Int, Interface, String as Str};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    reg.add("hello", &[], None, hello);
    reg.add("abbrev", &[Int, Str], None, abbrev);
    reg.add("abbrevboth", &[Int, Int, Str], None, abbrevboth);
    reg.add("trunc", &[Int, Str], None, trunc);
    reg.add("trim", &[Str], None, trim);
    reg.add("upper", &[Str], None, upper);
    reg.add("lower", &[Str], None, lower);
    reg.add("title", &[Str], None, title);
    reg.add("untitle", &[Str], None, untitle);
    reg.add("substr", &[Int, Int, Str], None, substr);
    reg.add("repeat", &[Int, Str], None, repeat);
    reg.add("trimall", &[Str, Str], None, trim_all);
    reg.add("trimAll", &[Str, Str], None, trim_all);
    reg.add("trimSuffix", &[Str, Str], None, trim_suffix);
    reg.add("trimPrefix", &[Str, Str], None, trim_prefix);
    reg.add("nospace", &[Str], None, nospace);
    reg.add("initials", &[Str], None, initials);
    reg.add("swapcase", &[Str], None, swapcase);
    reg.add("snakecase", &[Str], None, snakecase);
    reg.add("camelcase", &[Str], None, camelcase);
    reg.add("kebabcase", &[Str], None, kebabcase);
    reg.add("wrap", &[Int, Str], None, wrap);
    reg.add("wrapWith", &[Int, Str, Str], None, wrap_with);
    reg.add("contains", &[Str, Str], None, contains);
    reg.add("hasPrefix", &[Str, Str], None, has_prefix);
    reg.add("hasSuffix", &[Str, Str], None, has_suffix);
    reg.add("quote", &[], Some(Interface), quote);
    reg.add("squote", &[], Some(Interface), squote);
    reg.add("cat", &[], Some(Interface), cat);
    reg.add("indent", &[Int, Str], None, indent);
    reg.add("nindent", &[Int, Str], None, nindent);
    reg.add("replace", &[Str, Str, Str], None, replace);
    reg.add("plural", &[Str, Str, Int], None, plural);
    reg.add("toString", &[Interface], None, to_string);
    reg.add("split", &[Str, Str], None, split);
    reg.add("splitList", &[Str, Str], None, split_list);
    reg.add("splitn", &[Str, Int, Str], None, splitn);
    reg.add("join", &[Str, Interface], None, join);
    reg.add("sortAlpha", &[Interface], None, sort_alpha);
    reg.add("toStrings", &[Interface], None, to_strings);
}

// ---------------------------------------------------------------------------
// Shared helpers (used by the other families of this library too).

/// Sprig's `strval`: strings as they are, `[]byte` as text, errors and
/// Stringers through their method (our objects format that way), anything
/// else as `%v`.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => format_v(other),
    }
}

/// Sprig's `strslice`: a list as strings (nil elements dropped), nil as
/// the empty list, any other value as a one-element list.
pub(crate) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::Nil => Vec::new(),
        Value::List(l) => l
            .items
            .iter()
            .filter(|item| !item.is_nil())
            .map(strval)
            .collect(),
        Value::Bytes(b) => b.iter().map(|byte| byte.to_string()).collect(),
        other => vec![strval(other)],
    }
}

/// A Go string argument (the engine has converted it already).
pub(crate) fn arg_str(args: &[Value], i: usize) -> Result<&str, FuncError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(FuncError::new(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        ))),
        None => Err(FuncError::new("missing argument")),
    }
}

/// A Go int argument (the engine has converted it already).
pub(crate) fn arg_int(args: &[Value], i: usize) -> Result<i64, FuncError> {
    match args.get(i) {
        Some(Value::Int(n)) | Some(Value::Int64(n)) => Ok(*n),
        Some(Value::Int32(n)) => Ok(i64::from(*n)),
        Some(other) => Err(FuncError::new(format!(
            "wrong type for value; expected int; got {}",
            other.type_name()
        ))),
        None => Err(FuncError::new("missing argument")),
    }
}

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

/// Bytes → string, as a Go `string([]byte)` would print (invalid UTF-8,
/// which only appears when Go cuts a character in half, becomes U+FFFD).
fn bytes_to_string(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Go's message for a string slice expression that is out of range.
fn slice_bounds_error(lo: Option<i64>, hi: i64, len: usize, hi_only: bool) -> FuncError {
    if hi_only {
        FuncError::new(format!(
            "runtime error: slice bounds out of range [:{hi}] with length {len}"
        ))
    } else {
        FuncError::new(format!(
            "runtime error: slice bounds out of range [{}:{hi}]",
            lo.unwrap_or(0)
        ))
    }
}

/// Go `s[lo:hi]` on bytes, with Go's panics.
fn go_slice_str(s: &str, lo: i64, hi: i64) -> Result<String, FuncError> {
    let len = s.len();
    if hi < 0 || hi as u64 > len as u64 {
        return Err(slice_bounds_error(None, hi, len, true));
    }
    if lo < 0 || lo > hi {
        return Err(slice_bounds_error(Some(lo), hi, len, false));
    }
    Ok(bytes_to_string(&s.as_bytes()[lo as usize..hi as usize]))
}

// ---------------------------------------------------------------------------
// Unicode classification and case mapping as Go's `unicode` package does it
// (simple, one-rune mappings; general categories where Rust's std offers the
// derived properties only).

/// `unicode.IsSpace` (the White_Space property, which Rust uses too).
pub(crate) fn go_is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Characters Rust calls uppercase (the derived Uppercase property) that
/// are not in Go's `unicode.Upper` (general category Lu).
const OTHER_UPPERCASE: &[(u32, u32)] = &[
    (0x2160, 0x216F),
    (0x24B6, 0x24CF),
    (0x1F130, 0x1F149),
    (0x1F150, 0x1F169),
    (0x1F170, 0x1F189),
];

/// Characters Rust calls lowercase (derived Lowercase) that are not in
/// Go's `unicode.Lower` (Ll). From Unicode's PropList (Other_Lowercase).
const OTHER_LOWERCASE: &[(u32, u32)] = &[
    (0xAA, 0xAA),
    (0xBA, 0xBA),
    (0x2B0, 0x2B8),
    (0x2C0, 0x2C1),
    (0x2E0, 0x2E4),
    (0x345, 0x345),
    (0x37A, 0x37A),
    (0x1D2C, 0x1D6A),
    (0x1D78, 0x1D78),
    (0x1D9B, 0x1DBF),
    (0x2071, 0x2071),
    (0x207F, 0x207F),
    (0x2090, 0x209C),
    (0x2170, 0x217F),
    (0x24D0, 0x24E9),
    (0x2C7C, 0x2C7D),
    (0xA69C, 0xA69D),
    (0xA770, 0xA770),
    (0xA7F8, 0xA7F9),
    (0xAB5C, 0xAB5F),
    (0x10780, 0x10780),
    (0x10783, 0x10785),
    (0x10787, 0x107B0),
    (0x107B2, 0x107BA),
];

fn in_ranges(c: char, ranges: &[(u32, u32)]) -> bool {
    let c = c as u32;
    ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
}

/// `unicode.IsUpper` (Lu).
pub(crate) fn go_is_upper(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_uppercase();
    }
    c.is_uppercase() && !in_ranges(c, OTHER_UPPERCASE)
}

/// `unicode.IsLower` (Ll).
pub(crate) fn go_is_lower(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_lowercase();
    }
    c.is_lowercase() && !in_ranges(c, OTHER_LOWERCASE)
}

/// The titlecase letters (Lt).
const TITLECASE: &[(u32, u32)] = &[
    (0x1C5, 0x1C5),
    (0x1C8, 0x1C8),
    (0x1CB, 0x1CB),
    (0x1F2, 0x1F2),
    (0x1F88, 0x1F8F),
    (0x1F98, 0x1F9F),
    (0x1FA8, 0x1FAF),
    (0x1FBC, 0x1FBC),
    (0x1FCC, 0x1FCC),
    (0x1FFC, 0x1FFC),
];

/// `unicode.IsTitle` (Lt).
pub(crate) fn go_is_title(c: char) -> bool {
    in_ranges(c, TITLECASE)
}

/// `unicode.IsLetter` (L). Outside Latin-1 this is Rust's Alphabetic minus
/// letter numbers, which is close to (not exactly) Go's category L.
pub(crate) fn go_is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    c.is_alphabetic() && !c.is_numeric()
}

/// `unicode.IsNumber` (N).
pub(crate) fn go_is_number(c: char) -> bool {
    c.is_numeric()
}

/// `unicode.IsPunct` (P): exact for Latin-1, the common punctuation blocks
/// beyond it.
pub(crate) fn go_is_punct(c: char) -> bool {
    if c.is_ascii() {
        return matches!(
            c,
            '!' | '"'
                | '#'
                | '%'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | ','
                | '-'
                | '.'
                | '/'
                | ':'
                | ';'
                | '?'
                | '@'
                | '['
                | '\\'
                | ']'
                | '_'
                | '{'
                | '}'
        );
    }
    const PUNCT: &[(u32, u32)] = &[
        (0xA1, 0xA1),
        (0xA7, 0xA7),
        (0xAB, 0xAB),
        (0xB6, 0xB7),
        (0xBB, 0xBB),
        (0xBF, 0xBF),
        (0x37E, 0x37E),
        (0x387, 0x387),
        (0x55A, 0x55F),
        (0x589, 0x58A),
        (0x5BE, 0x5BE),
        (0x5C0, 0x5C0),
        (0x5C3, 0x5C3),
        (0x5C6, 0x5C6),
        (0x5F3, 0x5F4),
        (0x609, 0x60A),
        (0x60C, 0x60D),
        (0x61B, 0x61B),
        (0x61D, 0x61F),
        (0x66A, 0x66D),
        (0x6D4, 0x6D4),
        (0x964, 0x965),
        (0x970, 0x970),
        (0xE4F, 0xE4F),
        (0xE5A, 0xE5B),
        (0x2010, 0x2027),
        (0x2030, 0x2043),
        (0x2045, 0x2051),
        (0x2053, 0x205E),
        (0x207D, 0x207E),
        (0x208D, 0x208E),
        (0x2308, 0x230B),
        (0x2329, 0x232A),
        (0x2768, 0x2775),
        (0x27C5, 0x27C6),
        (0x27E6, 0x27EF),
        (0x2983, 0x2998),
        (0x29D8, 0x29DB),
        (0x29FC, 0x29FD),
        (0x2CF9, 0x2CFC),
        (0x2CFE, 0x2CFF),
        (0x2E00, 0x2E2E),
        (0x2E30, 0x2E4F),
        (0x2E52, 0x2E5D),
        (0x3001, 0x3003),
        (0x3008, 0x3011),
        (0x3014, 0x301F),
        (0x3030, 0x3030),
        (0x303D, 0x303D),
        (0x30A0, 0x30A0),
        (0x30FB, 0x30FB),
        (0xFE10, 0xFE19),
        (0xFE30, 0xFE52),
        (0xFE54, 0xFE61),
        (0xFE63, 0xFE63),
        (0xFE68, 0xFE68),
        (0xFE6A, 0xFE6B),
        (0xFF01, 0xFF03),
        (0xFF05, 0xFF0A),
        (0xFF0C, 0xFF0F),
        (0xFF1A, 0xFF1B),
        (0xFF1F, 0xFF20),
        (0xFF3B, 0xFF3D),
        (0xFF3F, 0xFF3F),
        (0xFF5B, 0xFF5B),
        (0xFF5D, 0xFF5D),
        (0xFF5F, 0xFF65),
    ];
    in_ranges(c, PUNCT)
}

/// `unicode.ToUpper`: the simple (one-rune) uppercase mapping.
pub(crate) fn go_to_upper(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut up = c.to_uppercase();
    if up.len() == 1 {
        return up.next().unwrap_or(c);
    }
    // Full mappings that expand; the simple mapping exists only for the
    // Greek letters with ypogegrammeni.
    let u = c as u32;
    let mapped = match u {
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => u + 8,
        0x1FB3 => 0x1FBC,
        0x1FC3 => 0x1FCC,
        0x1FF3 => 0x1FFC,
        _ => u,
    };
    char::from_u32(mapped).unwrap_or(c)
}

/// `unicode.ToLower`: the simple lowercase mapping.
pub(crate) fn go_to_lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut low = c.to_lowercase();
    if low.len() == 1 {
        return low.next().unwrap_or(c);
    }
    if c == '\u{130}' {
        return 'i';
    }
    c
}

/// `unicode.ToTitle`: the simple titlecase mapping.
pub(crate) fn go_to_title(c: char) -> char {
    let u = c as u32;
    let mapped = match u {
        0x1C4..=0x1C6 => 0x1C5,
        0x1C7..=0x1C9 => 0x1C8,
        0x1CA..=0x1CC => 0x1CB,
        0x1F1..=0x1F3 => 0x1F2,
        // Georgian Mkhedruli has uppercase forms (Mtavruli) but is its own
        // titlecase.
        0x10D0..=0x10FA | 0x10FD..=0x10FF => u,
        _ => return go_to_upper(c),
    };
    char::from_u32(mapped).unwrap_or(c)
}

/// A byte read as a rune, as goutils' byte loops do (`rune(str[i])`).
fn latin1(b: u8) -> char {
    char::from(b)
}

// ---------------------------------------------------------------------------
// The functions.

fn hello(_: &mut dyn Context, _: Vec<Value>) -> FuncResult {
    Ok(Value::str("Hello!"))
}

/// goutils `AbbreviateFull` on bytes; `None` where goutils returns an
/// error (Sprig then yields "").
fn abbreviate_full(s: &[u8], offset: i64, max_width: i64) -> Option<Vec<u8>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    if max_width < 4 {
        return None;
    }
    let len = s.len() as i64;
    if len <= max_width {
        return Some(s.to_vec());
    }
    let mut offset = offset.min(len);
    if len - offset < max_width - 3 {
        offset = len - (max_width - 3);
    }
    let marker = b"...";
    if offset <= 4 {
        let mut out = s[..(max_width - 3) as usize].to_vec();
        out.extend_from_slice(marker);
        return Some(out);
    }
    if max_width < 7 {
        return None;
    }
    let mut out = marker.to_vec();
    if offset + max_width - 3 < len {
        out.extend(abbreviate_full(&s[offset as usize..], 0, max_width - 3)?);
    } else {
        out.extend_from_slice(&s[(len - (max_width - 3)) as usize..]);
    }
    Some(out)
}

fn abbrev(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let width = arg_int(&args, 0)?;
    let s = arg_str(&args, 1)?;
    if width < 4 {
        return Ok(Value::str(s));
    }
    let out = abbreviate_full(s.as_bytes(), 0, width).unwrap_or_default();
    Ok(Value::string(bytes_to_string(&out)))
}

fn abbrevboth(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let left = arg_int(&args, 0)?;
    let right = arg_int(&args, 1)?;
    let s = arg_str(&args, 2)?;
    if right < 4 || left > 0 && right < 7 {
        return Ok(Value::str(s));
    }
    let out = abbreviate_full(s.as_bytes(), left, right).unwrap_or_default();
    Ok(Value::string(bytes_to_string(&out)))
}

fn trunc(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let c = arg_int(&args, 0)?;
    let s = arg_str(&args, 1)?;
    let len = s.len() as i64;
    let out = if c < 0 && len + c > 0 {
        &s.as_bytes()[(len + c) as usize..]
    } else if c >= 0 && len > c {
        &s.as_bytes()[..c as usize]
    } else {
        s.as_bytes()
    };
    Ok(Value::string(bytes_to_string(out)))
}

fn trim(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::str(arg_str(&args, 0)?.trim_matches(go_is_space)))
}

fn upper(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(
        arg_str(&args, 0)?.chars().map(go_to_upper).collect(),
    ))
}

fn lower(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(
        arg_str(&args, 0)?.chars().map(go_to_lower).collect(),
    ))
}

/// `strings.Title`'s word boundary test.
fn title_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    // Letters and digits are never spaces, so Go's extra test adds nothing.
    go_is_space(c)
}

fn title(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let s = arg_str(&args, 0)?;
    let mut prev = ' ';
    let out = s
        .chars()
        .map(|c| {
            let mapped = if title_separator(prev) {
                go_to_title(c)
            } else {
                c
            };
            prev = c;
            mapped
        })
        .collect();
    Ok(Value::string(out))
}

fn untitle(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    // goutils.Uncapitalize: lowercase the first rune of every
    // whitespace-separated word.
    let s = arg_str(&args, 0)?;
    let mut next = true;
    let out = s
        .chars()
        .map(|c| {
            if go_is_space(c) {
                next = true;
                c
            } else if next {
                next = false;
                go_to_lower(c)
            } else {
                c
            }
        })
        .collect();
    Ok(Value::string(out))
}

fn substr(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let start = arg_int(&args, 0)?;
    let end = arg_int(&args, 1)?;
    let s = arg_str(&args, 2)?;
    let len = s.len() as i64;
    let out = if start < 0 {
        go_slice_str(s, 0, end)?
    } else if end < 0 || end > len {
        go_slice_str(s, start, len)?
    } else {
        go_slice_str(s, start, end)?
    };
    Ok(Value::string(out))
}

/// `strings.Repeat` with its panics, charged to the evaluation budget.
pub(crate) fn go_repeat(ctx: &mut dyn Context, s: &str, count: i64) -> Result<String, FuncError> {
    if count < 0 {
        return Err(FuncError::new("strings: negative Repeat count"));
    }
    if count == 0 || s.is_empty() {
        return Ok(String::new());
    }
    let total = (s.len() as u64)
        .checked_mul(count as u64)
        .filter(|n| *n <= i64::MAX as u64)
        .ok_or_else(|| FuncError::new("strings: Repeat output length overflow"))?;
    ctx.charge(total)?;
    Ok(s.repeat(count as usize))
}

fn repeat(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let count = arg_int(&args, 0)?;
    let s = arg_str(&args, 1)?;
    Ok(Value::string(go_repeat(ctx, s, count)?))
}

fn trim_all(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let cutset = arg_str(&args, 0)?;
    let s = arg_str(&args, 1)?;
    Ok(Value::str(s.trim_matches(|c| cutset.contains(c))))
}

fn trim_suffix(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let suffix = arg_str(&args, 0)?;
    let s = arg_str(&args, 1)?;
    Ok(Value::str(s.strip_suffix(suffix).unwrap_or(s)))
}

fn trim_prefix(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let prefix = arg_str(&args, 0)?;
    let s = arg_str(&args, 1)?;
    Ok(Value::str(s.strip_prefix(prefix).unwrap_or(s)))
}

fn nospace(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    // goutils.DeleteWhiteSpace walks bytes, reading each as a Latin-1 rune:
    // bytes 0x85 and 0xA0 count as spaces, and when anything was removed
    // the kept bytes are re-encoded as runes (so "é x" becomes "Ã©x").
    let s = arg_str(&args, 0)?;
    let kept: Vec<char> = s.bytes().map(latin1).filter(|c| !go_is_space(*c)).collect();
    if kept.len() == s.len() {
        return Ok(Value::str(s));
    }
    Ok(Value::string(kept.into_iter().collect()))
}

fn initials(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    // goutils.Initials: byte-wise, the first byte of each word as a rune.
    let s = arg_str(&args, 0)?;
    let mut out = String::new();
    let mut gap = true;
    for c in s.bytes().map(latin1) {
        if go_is_space(c) {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    Ok(Value::string(out))
}

fn swapcase(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    // goutils.SwapCase: a lowercase letter at the start of a word becomes
    // titlecase, others uppercase; upper- and titlecase become lowercase.
    let s = arg_str(&args, 0)?;
    let mut whitespace = true;
    let out = s
        .chars()
        .map(|c| {
            if go_is_upper(c) || go_is_title(c) {
                whitespace = false;
                go_to_lower(c)
            } else if go_is_lower(c) {
                if whitespace {
                    whitespace = false;
                    go_to_title(c)
                } else {
                    go_to_upper(c)
                }
            } else {
                whitespace = go_is_space(c);
                c
            }
        })
        .collect();
    Ok(Value::string(out))
}

// xstrings (v1.5.0) word splitting for snakecase/kebabcase/camelcase.

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || go_is_space(c)
}

/// xstrings' `isAlphabet`: a letter that is not a CJK ideograph.
fn is_alphabet(c: char) -> bool {
    if !go_is_letter(c) {
        return false;
    }
    let u = c as u32;
    !(u >= 0x3400
        && ((0x4E00..=0x9FCC).contains(&u)
            || (0x3400..=0x4D85).contains(&u)
            || (0x20000..=0x2B81D).contains(&u)))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum WordType {
    Invalid,
    Number,
    UpperCase,
    Alphabet,
    Connector,
    Punct,
    Other,
}

/// xstrings `nextWord` over a char slice: (type, word, remaining).
fn next_word(s: &[char]) -> (WordType, &[char], &[char]) {
    if s.is_empty() {
        return (WordType::Invalid, &[], &[]);
    }
    let r = s[0];
    let mut end = 1;
    let wt = if is_connector(r) {
        while end < s.len() && is_connector(s[end]) {
            end += 1;
        }
        WordType::Connector
    } else if go_is_punct(r) {
        while end < s.len() && go_is_punct(s[end]) {
            end += 1;
        }
        WordType::Punct
    } else if go_is_upper(r) {
        if end < s.len() {
            let r2 = s[end];
            if go_is_upper(r2) {
                end += 1;
                while end < s.len() && go_is_upper(s[end]) {
                    end += 1;
                }
                // "HTTPStatus": the last capital starts the next word.
                if end < s.len() && is_alphabet(s[end]) {
                    end -= 1;
                }
            } else if is_alphabet(r2) {
                end += 1;
                while end < s.len() && is_alphabet(s[end]) && !go_is_upper(s[end]) {
                    end += 1;
                }
            }
        }
        WordType::UpperCase
    } else if is_alphabet(r) {
        while end < s.len() && is_alphabet(s[end]) && !go_is_upper(s[end]) {
            end += 1;
        }
        WordType::Alphabet
    } else if go_is_number(r) {
        while end < s.len() && go_is_number(s[end]) {
            end += 1;
        }
        WordType::Number
    } else {
        while end < s.len() {
            let c = s[end];
            if is_connector(c) || is_alphabet(c) || go_is_number(c) || go_is_punct(c) {
                break;
            }
            end += 1;
        }
        WordType::Other
    };
    (wt, &s[..end], &s[end..])
}

/// xstrings `toLower` for one word.
fn word_to_lower(out: &mut String, wt: WordType, word: &[char], connector: char) {
    if wt != WordType::UpperCase && wt != WordType::Connector {
        out.extend(word.iter());
        return;
    }
    for &c in word {
        if is_connector(c) {
            out.push(connector);
        } else if go_is_upper(c) {
            out.push(go_to_lower(c));
        } else {
            out.push(c);
        }
    }
}

/// xstrings `camelCaseToLowerCase` (snake and kebab case).
fn camel_to_lower(s: &str, connector: char) -> String {
    use WordType::*;
    if s.is_empty() {
        return String::new();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 4);
    let (mut wt, mut word, mut remaining) = next_word(&chars);
    while !remaining.is_empty() {
        if wt != Connector {
            word_to_lower(&mut out, wt, word, connector);
        }
        let prev = wt;
        let last = word;
        (wt, word, remaining) = next_word(remaining);
        match prev {
            Number => {
                while wt == Alphabet || wt == Number {
                    word_to_lower(&mut out, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != Invalid && wt != Punct && wt != Connector {
                    out.push(connector);
                }
            }
            Connector => word_to_lower(&mut out, prev, last, connector),
            Punct => {}
            _ => {
                if wt != Number {
                    if wt != Connector && wt != Punct {
                        out.push(connector);
                    }
                    continue;
                }
                if remaining.is_empty() {
                    continue;
                }
                let last = word;
                (wt, word, remaining) = next_word(remaining);
                if wt != Alphabet {
                    word_to_lower(&mut out, Number, last, connector);
                    if wt != Connector && wt != Punct {
                        out.push(connector);
                    }
                    continue;
                }
                out.push(connector);
                word_to_lower(&mut out, Number, last, connector);
                while wt == Alphabet || wt == Number {
                    word_to_lower(&mut out, wt, word, connector);
                    (wt, word, remaining) = next_word(remaining);
                }
                if wt != Invalid && wt != Connector && wt != Punct {
                    out.push(connector);
                }
            }
        }
    }
    word_to_lower(&mut out, wt, word, connector);
    out
}

/// xstrings `ToPascalCase`.
fn pascal_case(s: &str) -> String {
    let mut chars = s.chars();
    let mut out = String::with_capacity(s.len());
    let mut first_upper = false;
    let mut r0 = '\0';
    let mut got = false;
    for c in chars.by_ref() {
        got = true;
        if !is_connector(c) {
            first_upper = go_is_upper(c);
            r0 = go_to_upper(c);
            break;
        }
        out.push(c);
        r0 = c;
    }
    let rest: Vec<char> = chars.collect();
    if rest.is_empty() {
        // Go writes the last rune read once more here: "_" becomes "__".
        if got {
            out.push(r0);
        }
        return out;
    }
    for c in rest {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            first_upper = go_is_upper(r0);
            r0 = go_to_upper(r0);
        } else {
            if first_upper {
                if go_is_upper(r0) {
                    r0 = go_to_lower(r0);
                } else {
                    first_upper = false;
                }
            }
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

fn snakecase(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(camel_to_lower(arg_str(&args, 0)?, '_')))
}

fn kebabcase(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(camel_to_lower(arg_str(&args, 0)?, '-')))
}

fn camelcase(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(pascal_case(arg_str(&args, 0)?)))
}

/// goutils `WrapCustom` on bytes.
fn wrap_custom(s: &str, wrap_length: i64, newline: &str, wrap_long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let newline = if newline.is_empty() { "\n" } else { newline };
    let wrap_length = wrap_length.max(1) as usize;
    let b = s.as_bytes();
    let len = b.len();
    let mut offset = 0usize;
    let mut out: Vec<u8> = Vec::with_capacity(len + len / wrap_length + 1);
    while len - offset > wrap_length {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = wrap_length + offset + 1;
        let space = b[offset..end].iter().rposition(|&c| c == b' ');
        match space {
            Some(i) => {
                out.extend_from_slice(&b[offset..offset + i]);
                out.extend_from_slice(newline.as_bytes());
                offset += i + 1;
            }
            None if wrap_long_words => {
                out.extend_from_slice(&b[offset..offset + wrap_length]);
                out.extend_from_slice(newline.as_bytes());
                offset += wrap_length;
            }
            None => {
                let end = wrap_length + offset;
                match b[end..].iter().position(|&c| c == b' ') {
                    None => {
                        out.extend_from_slice(&b[offset..]);
                        offset = len;
                    }
                    Some(i) => {
                        out.extend_from_slice(&b[offset..end + i]);
                        out.extend_from_slice(newline.as_bytes());
                        offset = end + i + 1;
                    }
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    bytes_to_string(&out)
}

fn wrap(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let width = arg_int(&args, 0)?;
    let s = arg_str(&args, 1)?;
    Ok(Value::string(wrap_custom(s, width, "", false)))
}

fn wrap_with(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let width = arg_int(&args, 0)?;
    let sep = arg_str(&args, 1)?;
    let s = arg_str(&args, 2)?;
    // Each break inserts `sep`; a long separator multiplies the output.
    ctx.charge((s.len() as u64).saturating_mul(sep.len().max(1) as u64) / width.max(1) as u64)?;
    Ok(Value::string(wrap_custom(s, width, sep, true)))
}

fn contains(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Bool(arg_str(&args, 1)?.contains(arg_str(&args, 0)?)))
}

fn has_prefix(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Bool(
        arg_str(&args, 1)?.starts_with(arg_str(&args, 0)?),
    ))
}

fn has_suffix(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Bool(
        arg_str(&args, 1)?.ends_with(arg_str(&args, 0)?),
    ))
}

fn quote(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let parts: Vec<String> = args
        .iter()
        .filter(|v| !v.is_nil())
        .map(|v| match v {
            Value::Bytes(b) => crate::fmt::quote_bytes(b, false),
            other => go_quote(&strval(other)),
        })
        .collect();
    Ok(Value::string(parts.join(" ")))
}

fn squote(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    // `'%v'`, not strval: a []byte prints as its numbers here.
    let parts: Vec<String> = args
        .iter()
        .filter(|v| !v.is_nil())
        .map(|v| format!("'{}'", format_v(v)))
        .collect();
    Ok(Value::string(parts.join(" ")))
}

fn cat(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let parts: Vec<String> = args.iter().filter(|v| !v.is_nil()).map(format_v).collect();
    Ok(Value::string(parts.join(" ")))
}

/// Sprig's `indent`, charged by output size.
fn indent_text(ctx: &mut dyn Context, spaces: i64, s: &str) -> Result<String, FuncError> {
    let pad = go_repeat(ctx, " ", spaces)?;
    let lines = s.bytes().filter(|&b| b == b'\n').count() as u64 + 1;
    ctx.charge(lines.saturating_mul(pad.len() as u64))?;
    let mut out = String::with_capacity(s.len() + pad.len() * lines as usize);
    out.push_str(&pad);
    out.push_str(&s.replace('\n', &format!("\n{pad}")));
    Ok(out)
}

fn indent(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let spaces = arg_int(&args, 0)?;
    let s = arg_str(&args, 1)?;
    Ok(Value::string(indent_text(ctx, spaces, s)?))
}

fn nindent(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let spaces = arg_int(&args, 0)?;
    let s = arg_str(&args, 1)?;
    Ok(Value::string(format!("\n{}", indent_text(ctx, spaces, s)?)))
}

fn replace(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let old = arg_str(&args, 0)?;
    let new = arg_str(&args, 1)?;
    let src = arg_str(&args, 2)?;
    if new.len() > old.len() {
        // Bound the growth before building it.
        let hits = if old.is_empty() {
            src.chars().count() as u64 + 1
        } else {
            src.matches(old).count() as u64
        };
        ctx.charge(hits.saturating_mul((new.len() - old.len()) as u64))?;
    }
    Ok(Value::string(src.replace(old, new)))
}

fn plural(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let one = arg_str(&args, 0)?;
    let many = arg_str(&args, 1)?;
    let count = arg_int(&args, 2)?;
    Ok(Value::str(if count == 1 { one } else { many }))
}

fn to_string(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(strval(arg(&args, 0))))
}

/// Go's `strings.SplitN` (n < 0: all pieces; n == 0: none).
pub(crate) fn go_split_n(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        // explode: one piece per rune, the last holding the rest.
        let count = s.chars().count() as i64;
        let n = if n < 0 || n > count { count } else { n };
        let mut out = Vec::with_capacity(n as usize);
        let mut rest = s;
        for _ in 0..n.saturating_sub(1) {
            let mut it = rest.chars();
            let c = it.next().map(|c| c.len_utf8()).unwrap_or(0);
            out.push(rest[..c].to_string());
            rest = &rest[c..];
        }
        if n > 0 {
            out.push(rest.to_string());
        }
        return out;
    }
    if n < 0 {
        return s.split(sep).map(str::to_string).collect();
    }
    s.splitn(n as usize, sep).map(str::to_string).collect()
}

fn index_map(parts: Vec<String>) -> Value {
    let entries: BTreeMap<String, Value> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}"), Value::string(p)))
        .collect();
    let mut map = Map::from_entries(entries);
    map.elem = GoType::String;
    Value::Map(map)
}

fn split(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let sep = arg_str(&args, 0)?;
    let s = arg_str(&args, 1)?;
    Ok(index_map(go_split_n(s, sep, -1)))
}

fn split_list(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let sep = arg_str(&args, 0)?;
    let s = arg_str(&args, 1)?;
    Ok(Value::strings(go_split_n(s, sep, -1)))
}

fn splitn(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let sep = arg_str(&args, 0)?;
    let n = arg_int(&args, 1)?;
    let s = arg_str(&args, 2)?;
    Ok(index_map(go_split_n(s, sep, n)))
}

fn join(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let sep = arg_str(&args, 0)?;
    Ok(Value::string(strslice(arg(&args, 1)).join(sep)))
}

fn sort_alpha(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let v = arg(&args, 0);
    let mut items = match v {
        Value::List(_) | Value::Bytes(_) => strslice(v),
        other => vec![strval(other)],
    };
    items.sort();
    Ok(Value::strings(items))
}

fn to_strings(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::strings(strslice(arg(&args, 0))))
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A minimal context for calling functions directly in unit tests.

    use crate::func::{Context, FuncError, FuncResult, Registry};
    use crate::value::Value;

    pub struct TestCtx {
        pub budget: u64,
    }

    impl Default for TestCtx {
        fn default() -> Self {
            TestCtx { budget: 1 << 30 }
        }
    }

    impl Context for TestCtx {
        fn include(&mut self, name: &str, _: Value) -> Result<String, FuncError> {
            Err(FuncError::new(format!("no template {name:?} in tests")))
        }
        fn tpl(&mut self, _: &str, _: Value) -> Result<String, FuncError> {
            Err(FuncError::new("tpl is not available in tests"))
        }
        fn charge(&mut self, units: u64) -> Result<(), FuncError> {
            if units > self.budget {
                return Err(FuncError::new("evaluation budget exhausted"));
            }
            self.budget -= units;
            Ok(())
        }
        fn lookup(&mut self, _: &str, _: &str, _: &str, _: &str) -> Result<Value, FuncError> {
            Ok(Value::empty_map())
        }
    }

    /// Call a registered function by name.
    pub fn call(reg: &Registry, name: &str, args: Vec<Value>) -> FuncResult {
        let f = reg
            .get(name)
            .ok_or_else(|| FuncError::new(format!("no function {name}")))?;
        (f.call)(&mut TestCtx::default(), args)
    }

    /// Call and format with `%v`, errors as `ERR: msg`.
    pub fn show(reg: &Registry, name: &str, args: Vec<Value>) -> String {
        match call(reg, name, args) {
            Ok(v) => crate::fmt::format_v(&v),
            Err(e) => format!("ERR: {e}"),
        }
    }

    pub fn s(x: &str) -> Value {
        Value::str(x)
    }

    pub fn i(n: i64) -> Value {
        Value::Int(n)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{call, i, s, show};
    use super::*;

    fn reg() -> Registry {
        let mut reg = Registry::new();
        register(&mut reg);
        reg
    }

    // Expected values below were produced by Sprig v3.3.0 under Go 1.26
    // (throwaway programs outside the repository) or are Go documentation.

    #[test]
    fn byte_indexed_functions() {
        let r = reg();
        assert_eq!(show(&r, "trunc", vec![i(3), s("abcdef")]), "abc");
        assert_eq!(show(&r, "trunc", vec![i(-2), s("abcdef")]), "ef");
        assert_eq!(show(&r, "trunc", vec![i(-10), s("abc")]), "abc");
        assert_eq!(show(&r, "substr", vec![i(1), i(3), s("abcdef")]), "bc");
        assert_eq!(show(&r, "substr", vec![i(0), i(10), s("abc")]), "abc");
        assert_eq!(
            show(&r, "substr", vec![i(-1), i(5), s("abc")]),
            "ERR: runtime error: slice bounds out of range [:5] with length 3"
        );
        assert_eq!(
            show(&r, "substr", vec![i(5), i(-1), s("abc")]),
            "ERR: runtime error: slice bounds out of range [5:3]"
        );
        assert_eq!(
            show(&r, "substr", vec![i(2), i(1), s("abc")]),
            "ERR: runtime error: slice bounds out of range [2:1]"
        );
        assert_eq!(show(&r, "abbrev", vec![i(5), s("hello world")]), "he...");
        assert_eq!(
            show(&r, "abbrevboth", vec![i(5), i(10), s("1234 5678 9123")]),
            "...5678..."
        );
    }

    #[test]
    fn goutils_byte_quirks() {
        let r = reg();
        assert_eq!(show(&r, "nospace", vec![s("a b\tc")]), "abc");
        assert_eq!(show(&r, "nospace", vec![s("héllo")]), "héllo");
        assert_eq!(show(&r, "nospace", vec![s("é x")]), "Ã©x");
        assert_eq!(show(&r, "initials", vec![s("foo bar  baz")]), "fbb");
        assert_eq!(
            show(&r, "swapcase", vec![s("This Is A.Test")]),
            "tHIS iS a.tEST"
        );
    }

    #[test]
    fn case_conversions() {
        let r = reg();
        let cases = [
            ("snakecase", "FirstName", "first_name"),
            ("snakecase", "HTTPServer", "http_server"),
            ("snakecase", "NoHTTPS", "no_https"),
            ("snakecase", "GO PATH", "go_path"),
            ("snakecase", "http2xx", "http_2xx"),
            ("snakecase", "HTTP20xOK", "http_20x_ok"),
            ("snakecase", "Duration2m3s", "duration_2m3s"),
            ("snakecase", "Bld4Floor3rd", "bld4_floor_3rd"),
            ("kebabcase", "FirstName", "first-name"),
            ("kebabcase", "GO_PATH", "go-path"),
            ("camelcase", "some_words", "SomeWords"),
            ("camelcase", "http_server", "HttpServer"),
            ("camelcase", "_complex__case_", "_Complex_Case_"),
            ("camelcase", "GOLANG_IS_GREAT", "GolangIsGreat"),
            ("camelcase", "a", "A"),
            ("title", "hello wORLD-x_y", "Hello WORLD-X_y"),
            ("untitle", "Hello World", "hello world"),
            ("upper", "straße", "STRAßE"),
            ("lower", "İSTANBUL ΣΑΣ", "istanbul σασ"),
        ];
        for (f, input, want) in cases {
            assert_eq!(show(&r, f, vec![s(input)]), want, "{f} {input:?}");
        }
    }

    #[test]
    fn wrapping() {
        let r = reg();
        assert_eq!(
            show(&r, "wrap", vec![i(5), s("Hello World Again")]),
            "Hello\nWorld\nAgain"
        );
        assert_eq!(
            show(&r, "wrapWith", vec![i(5), s("\t"), s("Hello World")]),
            "Hello\tWorld"
        );
        assert_eq!(
            show(&r, "wrapWith", vec![i(3), s("|"), s("abcdefg")]),
            "abc|def|g"
        );
        assert_eq!(show(&r, "wrap", vec![i(3), s("abcdefg hi")]), "abcdefg\nhi");
    }

    #[test]
    fn quoting_and_joining() {
        let r = reg();
        assert_eq!(
            show(&r, "quote", vec![s("a\"b"), Value::Nil, Value::Float(1e6)]),
            "\"a\\\"b\" \"1e+06\""
        );
        assert_eq!(show(&r, "squote", vec![s("a"), Value::Int(2)]), "'a' '2'");
        assert_eq!(
            show(
                &r,
                "cat",
                vec![s("a"), Value::Nil, Value::list(vec![i(1), i(2)])]
            ),
            "a [1 2]"
        );
        assert_eq!(
            show(
                &r,
                "join",
                vec![s("-"), Value::list(vec![i(1), Value::Nil, s("x")])]
            ),
            "1-x"
        );
        assert_eq!(show(&r, "join", vec![s(","), Value::Nil]), "");
        assert_eq!(show(&r, "sortAlpha", vec![Value::Nil]), "[<nil>]");
        assert_eq!(
            show(
                &r,
                "sortAlpha",
                vec![Value::list(vec![s("b"), s("a"), i(3)])]
            ),
            "[3 a b]"
        );
    }

    #[test]
    fn splitting() {
        let r = reg();
        assert_eq!(show(&r, "splitList", vec![s(""), s("abc")]), "[a b c]");
        assert_eq!(show(&r, "splitList", vec![s(""), s("")]), "[]");
        assert_eq!(show(&r, "splitList", vec![s(","), s("")]), "[]");
        assert_eq!(show(&r, "split", vec![s("/"), s("a/b")]), "map[_0:a _1:b]");
        assert_eq!(
            show(&r, "splitn", vec![s("/"), i(2), s("a/b/c")]),
            "map[_0:a _1:b/c]"
        );
        assert_eq!(show(&r, "splitn", vec![s("/"), i(0), s("a/b/c")]), "map[]");
        let v = call(&r, "split", vec![s(","), s("a")]).unwrap_or(Value::Nil);
        assert_eq!(v.type_name(), "map[string]string");
    }

    #[test]
    fn repeat_and_indent_are_charged() {
        let r = reg();
        assert_eq!(show(&r, "repeat", vec![i(3), s("ab")]), "ababab");
        assert_eq!(
            show(&r, "repeat", vec![i(-1), s("a")]),
            "ERR: strings: negative Repeat count"
        );
        let f = r.get("repeat").map(|f| f.call);
        let mut small = test_support::TestCtx { budget: 10 };
        let out = f.map(|f| f(&mut small, vec![i(100), s("x")]));
        assert!(matches!(out, Some(Err(_))));
        assert_eq!(show(&r, "indent", vec![i(2), s("a\n\nb")]), "  a\n  \n  b");
        assert_eq!(show(&r, "nindent", vec![i(1), s("a")]), "\n a");
    }
}
