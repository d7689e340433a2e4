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
    match &*v.slice_view() {
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

/// `unicode.IsLetter` (L), from Go's own tables.
pub(crate) fn go_is_letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_sorted_ranges(c, GO_LETTER)
}

/// `unicode.IsNumber` (N).
pub(crate) fn go_is_number(c: char) -> bool {
    c.is_numeric()
}

/// `unicode.IsPunct` (P), from Go's own tables.
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
    in_sorted_ranges(c, GO_PUNCT)
}

/// Binary search in a sorted table of inclusive ranges.
fn in_sorted_ranges(c: char, ranges: &[(u32, u32)]) -> bool {
    let c = c as u32;
    ranges
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
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
    let v = arg(&args, 0).slice_view();
    let v = &*v;
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

// Go 1.26's `unicode.IsLetter` and `unicode.IsPunct` above U+007F, as
// inclusive ranges. Generated by walking every rune through Go's functions
// (a throwaway program, as for `printable.rs`):
//
// ```go
// for r := rune(0x80); r <= 0x110000; r++ {
//     in := r <= 0x10FFFF && unicode.IsLetter(r) // resp. IsPunct
//     if in && start < 0 { start = r } else if !in && start >= 0 {
//         fmt.Printf(" (0x%x, 0x%x),", start, r-1); start = -1
//     }
// }
// ```
#[rustfmt::skip]
const GO_LETTER: &[(u32, u32)] = &[
    (0xaa, 0xaa), (0xb5, 0xb5), (0xba, 0xba), (0xc0, 0xd6), (0xd8, 0xf6), (0xf8, 0x2c1),
    (0x2c6, 0x2d1), (0x2e0, 0x2e4), (0x2ec, 0x2ec), (0x2ee, 0x2ee), (0x370, 0x374), (0x376, 0x377),
    (0x37a, 0x37d), (0x37f, 0x37f), (0x386, 0x386), (0x388, 0x38a), (0x38c, 0x38c), (0x38e, 0x3a1),
    (0x3a3, 0x3f5), (0x3f7, 0x481), (0x48a, 0x52f), (0x531, 0x556), (0x559, 0x559), (0x560, 0x588),
    (0x5d0, 0x5ea), (0x5ef, 0x5f2), (0x620, 0x64a), (0x66e, 0x66f), (0x671, 0x6d3), (0x6d5, 0x6d5),
    (0x6e5, 0x6e6), (0x6ee, 0x6ef), (0x6fa, 0x6fc), (0x6ff, 0x6ff), (0x710, 0x710), (0x712, 0x72f),
    (0x74d, 0x7a5), (0x7b1, 0x7b1), (0x7ca, 0x7ea), (0x7f4, 0x7f5), (0x7fa, 0x7fa), (0x800, 0x815),
    (0x81a, 0x81a), (0x824, 0x824), (0x828, 0x828), (0x840, 0x858), (0x860, 0x86a), (0x870, 0x887),
    (0x889, 0x88e), (0x8a0, 0x8c9), (0x904, 0x939), (0x93d, 0x93d), (0x950, 0x950), (0x958, 0x961),
    (0x971, 0x980), (0x985, 0x98c), (0x98f, 0x990), (0x993, 0x9a8), (0x9aa, 0x9b0), (0x9b2, 0x9b2),
    (0x9b6, 0x9b9), (0x9bd, 0x9bd), (0x9ce, 0x9ce), (0x9dc, 0x9dd), (0x9df, 0x9e1), (0x9f0, 0x9f1),
    (0x9fc, 0x9fc), (0xa05, 0xa0a), (0xa0f, 0xa10), (0xa13, 0xa28), (0xa2a, 0xa30), (0xa32, 0xa33),
    (0xa35, 0xa36), (0xa38, 0xa39), (0xa59, 0xa5c), (0xa5e, 0xa5e), (0xa72, 0xa74), (0xa85, 0xa8d),
    (0xa8f, 0xa91), (0xa93, 0xaa8), (0xaaa, 0xab0), (0xab2, 0xab3), (0xab5, 0xab9), (0xabd, 0xabd),
    (0xad0, 0xad0), (0xae0, 0xae1), (0xaf9, 0xaf9), (0xb05, 0xb0c), (0xb0f, 0xb10), (0xb13, 0xb28),
    (0xb2a, 0xb30), (0xb32, 0xb33), (0xb35, 0xb39), (0xb3d, 0xb3d), (0xb5c, 0xb5d), (0xb5f, 0xb61),
    (0xb71, 0xb71), (0xb83, 0xb83), (0xb85, 0xb8a), (0xb8e, 0xb90), (0xb92, 0xb95), (0xb99, 0xb9a),
    (0xb9c, 0xb9c), (0xb9e, 0xb9f), (0xba3, 0xba4), (0xba8, 0xbaa), (0xbae, 0xbb9), (0xbd0, 0xbd0),
    (0xc05, 0xc0c), (0xc0e, 0xc10), (0xc12, 0xc28), (0xc2a, 0xc39), (0xc3d, 0xc3d), (0xc58, 0xc5a),
    (0xc5d, 0xc5d), (0xc60, 0xc61), (0xc80, 0xc80), (0xc85, 0xc8c), (0xc8e, 0xc90), (0xc92, 0xca8),
    (0xcaa, 0xcb3), (0xcb5, 0xcb9), (0xcbd, 0xcbd), (0xcdd, 0xcde), (0xce0, 0xce1), (0xcf1, 0xcf2),
    (0xd04, 0xd0c), (0xd0e, 0xd10), (0xd12, 0xd3a), (0xd3d, 0xd3d), (0xd4e, 0xd4e), (0xd54, 0xd56),
    (0xd5f, 0xd61), (0xd7a, 0xd7f), (0xd85, 0xd96), (0xd9a, 0xdb1), (0xdb3, 0xdbb), (0xdbd, 0xdbd),
    (0xdc0, 0xdc6), (0xe01, 0xe30), (0xe32, 0xe33), (0xe40, 0xe46), (0xe81, 0xe82), (0xe84, 0xe84),
    (0xe86, 0xe8a), (0xe8c, 0xea3), (0xea5, 0xea5), (0xea7, 0xeb0), (0xeb2, 0xeb3), (0xebd, 0xebd),
    (0xec0, 0xec4), (0xec6, 0xec6), (0xedc, 0xedf), (0xf00, 0xf00), (0xf40, 0xf47), (0xf49, 0xf6c),
    (0xf88, 0xf8c), (0x1000, 0x102a), (0x103f, 0x103f), (0x1050, 0x1055), (0x105a, 0x105d),
    (0x1061, 0x1061), (0x1065, 0x1066), (0x106e, 0x1070), (0x1075, 0x1081), (0x108e, 0x108e),
    (0x10a0, 0x10c5), (0x10c7, 0x10c7), (0x10cd, 0x10cd), (0x10d0, 0x10fa), (0x10fc, 0x1248),
    (0x124a, 0x124d), (0x1250, 0x1256), (0x1258, 0x1258), (0x125a, 0x125d), (0x1260, 0x1288),
    (0x128a, 0x128d), (0x1290, 0x12b0), (0x12b2, 0x12b5), (0x12b8, 0x12be), (0x12c0, 0x12c0),
    (0x12c2, 0x12c5), (0x12c8, 0x12d6), (0x12d8, 0x1310), (0x1312, 0x1315), (0x1318, 0x135a),
    (0x1380, 0x138f), (0x13a0, 0x13f5), (0x13f8, 0x13fd), (0x1401, 0x166c), (0x166f, 0x167f),
    (0x1681, 0x169a), (0x16a0, 0x16ea), (0x16f1, 0x16f8), (0x1700, 0x1711), (0x171f, 0x1731),
    (0x1740, 0x1751), (0x1760, 0x176c), (0x176e, 0x1770), (0x1780, 0x17b3), (0x17d7, 0x17d7),
    (0x17dc, 0x17dc), (0x1820, 0x1878), (0x1880, 0x1884), (0x1887, 0x18a8), (0x18aa, 0x18aa),
    (0x18b0, 0x18f5), (0x1900, 0x191e), (0x1950, 0x196d), (0x1970, 0x1974), (0x1980, 0x19ab),
    (0x19b0, 0x19c9), (0x1a00, 0x1a16), (0x1a20, 0x1a54), (0x1aa7, 0x1aa7), (0x1b05, 0x1b33),
    (0x1b45, 0x1b4c), (0x1b83, 0x1ba0), (0x1bae, 0x1baf), (0x1bba, 0x1be5), (0x1c00, 0x1c23),
    (0x1c4d, 0x1c4f), (0x1c5a, 0x1c7d), (0x1c80, 0x1c88), (0x1c90, 0x1cba), (0x1cbd, 0x1cbf),
    (0x1ce9, 0x1cec), (0x1cee, 0x1cf3), (0x1cf5, 0x1cf6), (0x1cfa, 0x1cfa), (0x1d00, 0x1dbf),
    (0x1e00, 0x1f15), (0x1f18, 0x1f1d), (0x1f20, 0x1f45), (0x1f48, 0x1f4d), (0x1f50, 0x1f57),
    (0x1f59, 0x1f59), (0x1f5b, 0x1f5b), (0x1f5d, 0x1f5d), (0x1f5f, 0x1f7d), (0x1f80, 0x1fb4),
    (0x1fb6, 0x1fbc), (0x1fbe, 0x1fbe), (0x1fc2, 0x1fc4), (0x1fc6, 0x1fcc), (0x1fd0, 0x1fd3),
    (0x1fd6, 0x1fdb), (0x1fe0, 0x1fec), (0x1ff2, 0x1ff4), (0x1ff6, 0x1ffc), (0x2071, 0x2071),
    (0x207f, 0x207f), (0x2090, 0x209c), (0x2102, 0x2102), (0x2107, 0x2107), (0x210a, 0x2113),
    (0x2115, 0x2115), (0x2119, 0x211d), (0x2124, 0x2124), (0x2126, 0x2126), (0x2128, 0x2128),
    (0x212a, 0x212d), (0x212f, 0x2139), (0x213c, 0x213f), (0x2145, 0x2149), (0x214e, 0x214e),
    (0x2183, 0x2184), (0x2c00, 0x2ce4), (0x2ceb, 0x2cee), (0x2cf2, 0x2cf3), (0x2d00, 0x2d25),
    (0x2d27, 0x2d27), (0x2d2d, 0x2d2d), (0x2d30, 0x2d67), (0x2d6f, 0x2d6f), (0x2d80, 0x2d96),
    (0x2da0, 0x2da6), (0x2da8, 0x2dae), (0x2db0, 0x2db6), (0x2db8, 0x2dbe), (0x2dc0, 0x2dc6),
    (0x2dc8, 0x2dce), (0x2dd0, 0x2dd6), (0x2dd8, 0x2dde), (0x2e2f, 0x2e2f), (0x3005, 0x3006),
    (0x3031, 0x3035), (0x303b, 0x303c), (0x3041, 0x3096), (0x309d, 0x309f), (0x30a1, 0x30fa),
    (0x30fc, 0x30ff), (0x3105, 0x312f), (0x3131, 0x318e), (0x31a0, 0x31bf), (0x31f0, 0x31ff),
    (0x3400, 0x4dbf), (0x4e00, 0xa48c), (0xa4d0, 0xa4fd), (0xa500, 0xa60c), (0xa610, 0xa61f),
    (0xa62a, 0xa62b), (0xa640, 0xa66e), (0xa67f, 0xa69d), (0xa6a0, 0xa6e5), (0xa717, 0xa71f),
    (0xa722, 0xa788), (0xa78b, 0xa7ca), (0xa7d0, 0xa7d1), (0xa7d3, 0xa7d3), (0xa7d5, 0xa7d9),
    (0xa7f2, 0xa801), (0xa803, 0xa805), (0xa807, 0xa80a), (0xa80c, 0xa822), (0xa840, 0xa873),
    (0xa882, 0xa8b3), (0xa8f2, 0xa8f7), (0xa8fb, 0xa8fb), (0xa8fd, 0xa8fe), (0xa90a, 0xa925),
    (0xa930, 0xa946), (0xa960, 0xa97c), (0xa984, 0xa9b2), (0xa9cf, 0xa9cf), (0xa9e0, 0xa9e4),
    (0xa9e6, 0xa9ef), (0xa9fa, 0xa9fe), (0xaa00, 0xaa28), (0xaa40, 0xaa42), (0xaa44, 0xaa4b),
    (0xaa60, 0xaa76), (0xaa7a, 0xaa7a), (0xaa7e, 0xaaaf), (0xaab1, 0xaab1), (0xaab5, 0xaab6),
    (0xaab9, 0xaabd), (0xaac0, 0xaac0), (0xaac2, 0xaac2), (0xaadb, 0xaadd), (0xaae0, 0xaaea),
    (0xaaf2, 0xaaf4), (0xab01, 0xab06), (0xab09, 0xab0e), (0xab11, 0xab16), (0xab20, 0xab26),
    (0xab28, 0xab2e), (0xab30, 0xab5a), (0xab5c, 0xab69), (0xab70, 0xabe2), (0xac00, 0xd7a3),
    (0xd7b0, 0xd7c6), (0xd7cb, 0xd7fb), (0xf900, 0xfa6d), (0xfa70, 0xfad9), (0xfb00, 0xfb06),
    (0xfb13, 0xfb17), (0xfb1d, 0xfb1d), (0xfb1f, 0xfb28), (0xfb2a, 0xfb36), (0xfb38, 0xfb3c),
    (0xfb3e, 0xfb3e), (0xfb40, 0xfb41), (0xfb43, 0xfb44), (0xfb46, 0xfbb1), (0xfbd3, 0xfd3d),
    (0xfd50, 0xfd8f), (0xfd92, 0xfdc7), (0xfdf0, 0xfdfb), (0xfe70, 0xfe74), (0xfe76, 0xfefc),
    (0xff21, 0xff3a), (0xff41, 0xff5a), (0xff66, 0xffbe), (0xffc2, 0xffc7), (0xffca, 0xffcf),
    (0xffd2, 0xffd7), (0xffda, 0xffdc), (0x10000, 0x1000b), (0x1000d, 0x10026), (0x10028, 0x1003a),
    (0x1003c, 0x1003d), (0x1003f, 0x1004d), (0x10050, 0x1005d), (0x10080, 0x100fa),
    (0x10280, 0x1029c), (0x102a0, 0x102d0), (0x10300, 0x1031f), (0x1032d, 0x10340),
    (0x10342, 0x10349), (0x10350, 0x10375), (0x10380, 0x1039d), (0x103a0, 0x103c3),
    (0x103c8, 0x103cf), (0x10400, 0x1049d), (0x104b0, 0x104d3), (0x104d8, 0x104fb),
    (0x10500, 0x10527), (0x10530, 0x10563), (0x10570, 0x1057a), (0x1057c, 0x1058a),
    (0x1058c, 0x10592), (0x10594, 0x10595), (0x10597, 0x105a1), (0x105a3, 0x105b1),
    (0x105b3, 0x105b9), (0x105bb, 0x105bc), (0x10600, 0x10736), (0x10740, 0x10755),
    (0x10760, 0x10767), (0x10780, 0x10785), (0x10787, 0x107b0), (0x107b2, 0x107ba),
    (0x10800, 0x10805), (0x10808, 0x10808), (0x1080a, 0x10835), (0x10837, 0x10838),
    (0x1083c, 0x1083c), (0x1083f, 0x10855), (0x10860, 0x10876), (0x10880, 0x1089e),
    (0x108e0, 0x108f2), (0x108f4, 0x108f5), (0x10900, 0x10915), (0x10920, 0x10939),
    (0x10980, 0x109b7), (0x109be, 0x109bf), (0x10a00, 0x10a00), (0x10a10, 0x10a13),
    (0x10a15, 0x10a17), (0x10a19, 0x10a35), (0x10a60, 0x10a7c), (0x10a80, 0x10a9c),
    (0x10ac0, 0x10ac7), (0x10ac9, 0x10ae4), (0x10b00, 0x10b35), (0x10b40, 0x10b55),
    (0x10b60, 0x10b72), (0x10b80, 0x10b91), (0x10c00, 0x10c48), (0x10c80, 0x10cb2),
    (0x10cc0, 0x10cf2), (0x10d00, 0x10d23), (0x10e80, 0x10ea9), (0x10eb0, 0x10eb1),
    (0x10f00, 0x10f1c), (0x10f27, 0x10f27), (0x10f30, 0x10f45), (0x10f70, 0x10f81),
    (0x10fb0, 0x10fc4), (0x10fe0, 0x10ff6), (0x11003, 0x11037), (0x11071, 0x11072),
    (0x11075, 0x11075), (0x11083, 0x110af), (0x110d0, 0x110e8), (0x11103, 0x11126),
    (0x11144, 0x11144), (0x11147, 0x11147), (0x11150, 0x11172), (0x11176, 0x11176),
    (0x11183, 0x111b2), (0x111c1, 0x111c4), (0x111da, 0x111da), (0x111dc, 0x111dc),
    (0x11200, 0x11211), (0x11213, 0x1122b), (0x1123f, 0x11240), (0x11280, 0x11286),
    (0x11288, 0x11288), (0x1128a, 0x1128d), (0x1128f, 0x1129d), (0x1129f, 0x112a8),
    (0x112b0, 0x112de), (0x11305, 0x1130c), (0x1130f, 0x11310), (0x11313, 0x11328),
    (0x1132a, 0x11330), (0x11332, 0x11333), (0x11335, 0x11339), (0x1133d, 0x1133d),
    (0x11350, 0x11350), (0x1135d, 0x11361), (0x11400, 0x11434), (0x11447, 0x1144a),
    (0x1145f, 0x11461), (0x11480, 0x114af), (0x114c4, 0x114c5), (0x114c7, 0x114c7),
    (0x11580, 0x115ae), (0x115d8, 0x115db), (0x11600, 0x1162f), (0x11644, 0x11644),
    (0x11680, 0x116aa), (0x116b8, 0x116b8), (0x11700, 0x1171a), (0x11740, 0x11746),
    (0x11800, 0x1182b), (0x118a0, 0x118df), (0x118ff, 0x11906), (0x11909, 0x11909),
    (0x1190c, 0x11913), (0x11915, 0x11916), (0x11918, 0x1192f), (0x1193f, 0x1193f),
    (0x11941, 0x11941), (0x119a0, 0x119a7), (0x119aa, 0x119d0), (0x119e1, 0x119e1),
    (0x119e3, 0x119e3), (0x11a00, 0x11a00), (0x11a0b, 0x11a32), (0x11a3a, 0x11a3a),
    (0x11a50, 0x11a50), (0x11a5c, 0x11a89), (0x11a9d, 0x11a9d), (0x11ab0, 0x11af8),
    (0x11c00, 0x11c08), (0x11c0a, 0x11c2e), (0x11c40, 0x11c40), (0x11c72, 0x11c8f),
    (0x11d00, 0x11d06), (0x11d08, 0x11d09), (0x11d0b, 0x11d30), (0x11d46, 0x11d46),
    (0x11d60, 0x11d65), (0x11d67, 0x11d68), (0x11d6a, 0x11d89), (0x11d98, 0x11d98),
    (0x11ee0, 0x11ef2), (0x11f02, 0x11f02), (0x11f04, 0x11f10), (0x11f12, 0x11f33),
    (0x11fb0, 0x11fb0), (0x12000, 0x12399), (0x12480, 0x12543), (0x12f90, 0x12ff0),
    (0x13000, 0x1342f), (0x13441, 0x13446), (0x14400, 0x14646), (0x16800, 0x16a38),
    (0x16a40, 0x16a5e), (0x16a70, 0x16abe), (0x16ad0, 0x16aed), (0x16b00, 0x16b2f),
    (0x16b40, 0x16b43), (0x16b63, 0x16b77), (0x16b7d, 0x16b8f), (0x16e40, 0x16e7f),
    (0x16f00, 0x16f4a), (0x16f50, 0x16f50), (0x16f93, 0x16f9f), (0x16fe0, 0x16fe1),
    (0x16fe3, 0x16fe3), (0x17000, 0x187f7), (0x18800, 0x18cd5), (0x18d00, 0x18d08),
    (0x1aff0, 0x1aff3), (0x1aff5, 0x1affb), (0x1affd, 0x1affe), (0x1b000, 0x1b122),
    (0x1b132, 0x1b132), (0x1b150, 0x1b152), (0x1b155, 0x1b155), (0x1b164, 0x1b167),
    (0x1b170, 0x1b2fb), (0x1bc00, 0x1bc6a), (0x1bc70, 0x1bc7c), (0x1bc80, 0x1bc88),
    (0x1bc90, 0x1bc99), (0x1d400, 0x1d454), (0x1d456, 0x1d49c), (0x1d49e, 0x1d49f),
    (0x1d4a2, 0x1d4a2), (0x1d4a5, 0x1d4a6), (0x1d4a9, 0x1d4ac), (0x1d4ae, 0x1d4b9),
    (0x1d4bb, 0x1d4bb), (0x1d4bd, 0x1d4c3), (0x1d4c5, 0x1d505), (0x1d507, 0x1d50a),
    (0x1d50d, 0x1d514), (0x1d516, 0x1d51c), (0x1d51e, 0x1d539), (0x1d53b, 0x1d53e),
    (0x1d540, 0x1d544), (0x1d546, 0x1d546), (0x1d54a, 0x1d550), (0x1d552, 0x1d6a5),
    (0x1d6a8, 0x1d6c0), (0x1d6c2, 0x1d6da), (0x1d6dc, 0x1d6fa), (0x1d6fc, 0x1d714),
    (0x1d716, 0x1d734), (0x1d736, 0x1d74e), (0x1d750, 0x1d76e), (0x1d770, 0x1d788),
    (0x1d78a, 0x1d7a8), (0x1d7aa, 0x1d7c2), (0x1d7c4, 0x1d7cb), (0x1df00, 0x1df1e),
    (0x1df25, 0x1df2a), (0x1e030, 0x1e06d), (0x1e100, 0x1e12c), (0x1e137, 0x1e13d),
    (0x1e14e, 0x1e14e), (0x1e290, 0x1e2ad), (0x1e2c0, 0x1e2eb), (0x1e4d0, 0x1e4eb),
    (0x1e7e0, 0x1e7e6), (0x1e7e8, 0x1e7eb), (0x1e7ed, 0x1e7ee), (0x1e7f0, 0x1e7fe),
    (0x1e800, 0x1e8c4), (0x1e900, 0x1e943), (0x1e94b, 0x1e94b), (0x1ee00, 0x1ee03),
    (0x1ee05, 0x1ee1f), (0x1ee21, 0x1ee22), (0x1ee24, 0x1ee24), (0x1ee27, 0x1ee27),
    (0x1ee29, 0x1ee32), (0x1ee34, 0x1ee37), (0x1ee39, 0x1ee39), (0x1ee3b, 0x1ee3b),
    (0x1ee42, 0x1ee42), (0x1ee47, 0x1ee47), (0x1ee49, 0x1ee49), (0x1ee4b, 0x1ee4b),
    (0x1ee4d, 0x1ee4f), (0x1ee51, 0x1ee52), (0x1ee54, 0x1ee54), (0x1ee57, 0x1ee57),
    (0x1ee59, 0x1ee59), (0x1ee5b, 0x1ee5b), (0x1ee5d, 0x1ee5d), (0x1ee5f, 0x1ee5f),
    (0x1ee61, 0x1ee62), (0x1ee64, 0x1ee64), (0x1ee67, 0x1ee6a), (0x1ee6c, 0x1ee72),
    (0x1ee74, 0x1ee77), (0x1ee79, 0x1ee7c), (0x1ee7e, 0x1ee7e), (0x1ee80, 0x1ee89),
    (0x1ee8b, 0x1ee9b), (0x1eea1, 0x1eea3), (0x1eea5, 0x1eea9), (0x1eeab, 0x1eebb),
    (0x20000, 0x2a6df), (0x2a700, 0x2b739), (0x2b740, 0x2b81d), (0x2b820, 0x2cea1),
    (0x2ceb0, 0x2ebe0), (0x2f800, 0x2fa1d), (0x30000, 0x3134a), (0x31350, 0x323af),
];
#[rustfmt::skip]
const GO_PUNCT: &[(u32, u32)] = &[
    (0xa1, 0xa1), (0xa7, 0xa7), (0xab, 0xab), (0xb6, 0xb7), (0xbb, 0xbb), (0xbf, 0xbf),
    (0x37e, 0x37e), (0x387, 0x387), (0x55a, 0x55f), (0x589, 0x58a), (0x5be, 0x5be), (0x5c0, 0x5c0),
    (0x5c3, 0x5c3), (0x5c6, 0x5c6), (0x5f3, 0x5f4), (0x609, 0x60a), (0x60c, 0x60d), (0x61b, 0x61b),
    (0x61d, 0x61f), (0x66a, 0x66d), (0x6d4, 0x6d4), (0x700, 0x70d), (0x7f7, 0x7f9), (0x830, 0x83e),
    (0x85e, 0x85e), (0x964, 0x965), (0x970, 0x970), (0x9fd, 0x9fd), (0xa76, 0xa76), (0xaf0, 0xaf0),
    (0xc77, 0xc77), (0xc84, 0xc84), (0xdf4, 0xdf4), (0xe4f, 0xe4f), (0xe5a, 0xe5b), (0xf04, 0xf12),
    (0xf14, 0xf14), (0xf3a, 0xf3d), (0xf85, 0xf85), (0xfd0, 0xfd4), (0xfd9, 0xfda),
    (0x104a, 0x104f), (0x10fb, 0x10fb), (0x1360, 0x1368), (0x1400, 0x1400), (0x166e, 0x166e),
    (0x169b, 0x169c), (0x16eb, 0x16ed), (0x1735, 0x1736), (0x17d4, 0x17d6), (0x17d8, 0x17da),
    (0x1800, 0x180a), (0x1944, 0x1945), (0x1a1e, 0x1a1f), (0x1aa0, 0x1aa6), (0x1aa8, 0x1aad),
    (0x1b5a, 0x1b60), (0x1b7d, 0x1b7e), (0x1bfc, 0x1bff), (0x1c3b, 0x1c3f), (0x1c7e, 0x1c7f),
    (0x1cc0, 0x1cc7), (0x1cd3, 0x1cd3), (0x2010, 0x2027), (0x2030, 0x2043), (0x2045, 0x2051),
    (0x2053, 0x205e), (0x207d, 0x207e), (0x208d, 0x208e), (0x2308, 0x230b), (0x2329, 0x232a),
    (0x2768, 0x2775), (0x27c5, 0x27c6), (0x27e6, 0x27ef), (0x2983, 0x2998), (0x29d8, 0x29db),
    (0x29fc, 0x29fd), (0x2cf9, 0x2cfc), (0x2cfe, 0x2cff), (0x2d70, 0x2d70), (0x2e00, 0x2e2e),
    (0x2e30, 0x2e4f), (0x2e52, 0x2e5d), (0x3001, 0x3003), (0x3008, 0x3011), (0x3014, 0x301f),
    (0x3030, 0x3030), (0x303d, 0x303d), (0x30a0, 0x30a0), (0x30fb, 0x30fb), (0xa4fe, 0xa4ff),
    (0xa60d, 0xa60f), (0xa673, 0xa673), (0xa67e, 0xa67e), (0xa6f2, 0xa6f7), (0xa874, 0xa877),
    (0xa8ce, 0xa8cf), (0xa8f8, 0xa8fa), (0xa8fc, 0xa8fc), (0xa92e, 0xa92f), (0xa95f, 0xa95f),
    (0xa9c1, 0xa9cd), (0xa9de, 0xa9df), (0xaa5c, 0xaa5f), (0xaade, 0xaadf), (0xaaf0, 0xaaf1),
    (0xabeb, 0xabeb), (0xfd3e, 0xfd3f), (0xfe10, 0xfe19), (0xfe30, 0xfe52), (0xfe54, 0xfe61),
    (0xfe63, 0xfe63), (0xfe68, 0xfe68), (0xfe6a, 0xfe6b), (0xff01, 0xff03), (0xff05, 0xff0a),
    (0xff0c, 0xff0f), (0xff1a, 0xff1b), (0xff1f, 0xff20), (0xff3b, 0xff3d), (0xff3f, 0xff3f),
    (0xff5b, 0xff5b), (0xff5d, 0xff5d), (0xff5f, 0xff65), (0x10100, 0x10102), (0x1039f, 0x1039f),
    (0x103d0, 0x103d0), (0x1056f, 0x1056f), (0x10857, 0x10857), (0x1091f, 0x1091f),
    (0x1093f, 0x1093f), (0x10a50, 0x10a58), (0x10a7f, 0x10a7f), (0x10af0, 0x10af6),
    (0x10b39, 0x10b3f), (0x10b99, 0x10b9c), (0x10ead, 0x10ead), (0x10f55, 0x10f59),
    (0x10f86, 0x10f89), (0x11047, 0x1104d), (0x110bb, 0x110bc), (0x110be, 0x110c1),
    (0x11140, 0x11143), (0x11174, 0x11175), (0x111c5, 0x111c8), (0x111cd, 0x111cd),
    (0x111db, 0x111db), (0x111dd, 0x111df), (0x11238, 0x1123d), (0x112a9, 0x112a9),
    (0x1144b, 0x1144f), (0x1145a, 0x1145b), (0x1145d, 0x1145d), (0x114c6, 0x114c6),
    (0x115c1, 0x115d7), (0x11641, 0x11643), (0x11660, 0x1166c), (0x116b9, 0x116b9),
    (0x1173c, 0x1173e), (0x1183b, 0x1183b), (0x11944, 0x11946), (0x119e2, 0x119e2),
    (0x11a3f, 0x11a46), (0x11a9a, 0x11a9c), (0x11a9e, 0x11aa2), (0x11b00, 0x11b09),
    (0x11c41, 0x11c45), (0x11c70, 0x11c71), (0x11ef7, 0x11ef8), (0x11f43, 0x11f4f),
    (0x11fff, 0x11fff), (0x12470, 0x12474), (0x12ff1, 0x12ff2), (0x16a6e, 0x16a6f),
    (0x16af5, 0x16af5), (0x16b37, 0x16b3b), (0x16b44, 0x16b44), (0x16e97, 0x16e9a),
    (0x16fe2, 0x16fe2), (0x1bc9f, 0x1bc9f), (0x1da87, 0x1da8b), (0x1e95e, 0x1e95f),
];

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
