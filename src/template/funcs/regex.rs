//! Template functions: Sprig's regular expressions, with Go's `regexp`
//! (RE2) syntax and semantics.
//!
//! The `regex` crate matches like Go (leftmost-first, linear time), but its
//! syntax differs: `\d \s \w \b` are Unicode there and ASCII in Go, `\<`
//! `\>` are assertions there and literals in Go, character classes nest and
//! have set operators there, octal escapes and `\p{greek}` spellings exist
//! only in Go, group names follow other rules, and error messages differ.
//! So Go patterns are parsed here by Go's rules (`regexp/syntax`, Perl
//! flags), with Go's error messages, and translated into an unambiguous
//! pattern for the `regex` crate: every literal is spelled `\x{…}`, every
//! Perl/POSIX class is spelled out, and each atom carries its own flags.
//!
//! On top of the compiled pattern, the Go iteration rules are reproduced:
//! `FindAll` skips an empty match right after a match, `ReplaceAll` does not
//! replace an empty match that abuts the previous one, `Split` follows
//! Go's `Regexp.Split`, and `$name`/`${name}` expansion follows
//! `Regexp.Expand` (`$1x` names group `1x`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::value::{GoType, List, Value};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    use GoType::{Int, String};
    reg.add("regexMatch", &[String, String], None, regex_match);
    reg.add("mustRegexMatch", &[String, String], None, must_regex_match);
    reg.add("regexFindAll", &[String, String, Int], None, regex_find_all);
    reg.add(
        "mustRegexFindAll",
        &[String, String, Int],
        None,
        must_regex_find_all,
    );
    reg.add("regexFind", &[String, String], None, regex_find);
    reg.add("mustRegexFind", &[String, String], None, must_regex_find);
    reg.add(
        "regexReplaceAll",
        &[String, String, String],
        None,
        regex_replace_all,
    );
    reg.add(
        "mustRegexReplaceAll",
        &[String, String, String],
        None,
        must_regex_replace_all,
    );
    reg.add(
        "regexReplaceAllLiteral",
        &[String, String, String],
        None,
        regex_replace_all_literal,
    );
    reg.add(
        "mustRegexReplaceAllLiteral",
        &[String, String, String],
        None,
        must_regex_replace_all_literal,
    );
    reg.add("regexSplit", &[String, String, Int], None, regex_split);
    reg.add(
        "mustRegexSplit",
        &[String, String, Int],
        None,
        must_regex_split,
    );
    reg.add("regexQuoteMeta", &[String], None, regex_quote_meta);
}

// ---- errors -----------------------------------------------------------------

/// A pattern Go's `regexp.Compile` rejects; displays as Go's
/// `*syntax.Error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error parsing regexp: {}: `{expr}`", .code.message())]
pub struct SyntaxError {
    pub code: ErrorCode,
    /// The offending part of the pattern, as Go reports it.
    pub expr: String,
}

/// Go's `syntax.ErrorCode`s that Perl-syntax parsing can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidCharClass,
    InvalidCharRange,
    InvalidEscape,
    InvalidNamedCapture,
    InvalidPerlOp,
    InvalidRepeatOp,
    InvalidRepeatSize,
    MissingBracket,
    MissingParen,
    MissingRepeatArgument,
    TrailingBackslash,
    UnexpectedParen,
    NestingDepth,
    Large,
}

impl ErrorCode {
    fn message(self) -> &'static str {
        match self {
            ErrorCode::InvalidCharClass => "invalid character class",
            ErrorCode::InvalidCharRange => "invalid character class range",
            ErrorCode::InvalidEscape => "invalid escape sequence",
            ErrorCode::InvalidNamedCapture => "invalid named capture",
            ErrorCode::InvalidPerlOp => "invalid or unsupported Perl syntax",
            ErrorCode::InvalidRepeatOp => "invalid nested repetition operator",
            ErrorCode::InvalidRepeatSize => "invalid repeat count",
            ErrorCode::MissingBracket => "missing closing ]",
            ErrorCode::MissingParen => "missing closing )",
            ErrorCode::MissingRepeatArgument => "missing argument to repetition operator",
            ErrorCode::TrailingBackslash => "trailing backslash at end of expression",
            ErrorCode::UnexpectedParen => "unexpected )",
            ErrorCode::NestingDepth => "expression nests too deeply",
            ErrorCode::Large => "expression too large",
        }
    }
}

fn err<T>(code: ErrorCode, expr: &str) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        code,
        expr: expr.to_string(),
    })
}

// ---- translation of Go syntax ---------------------------------------------

/// Go's parser flags that change meaning (Perl syntax).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Flags {
    /// `i`
    fold: bool,
    /// `m` (Go's `OneLine` cleared)
    multiline: bool,
    /// `s`
    dot_nl: bool,
    /// `U`
    ungreedy: bool,
}

/// A counted repetition (`{n,m}`) and the counted repetitions inside it,
/// for Go's limit of 1000 on nested repeat counts.
#[derive(Clone, Debug)]
struct Repeat {
    min: i64,
    max: i64,
    inner: Vec<Repeat>,
}

fn repeats_valid(reps: &[Repeat], n: i64) -> bool {
    reps.iter().all(|r| {
        let mut n = n;
        let mut m = r.max;
        if m == 0 {
            return true;
        }
        if m < 0 {
            m = r.min;
        }
        if m > n {
            return false;
        }
        if m > 0 {
            n /= m;
        }
        repeats_valid(&r.inner, n)
    })
}

/// The most recent item of a group, which a repetition operator applies to.
struct Item {
    /// Where its translation starts in the output.
    start: usize,
    repeats: Vec<Repeat>,
}

struct Frame {
    /// Flags to restore at the closing parenthesis.
    saved_flags: Flags,
    /// Where the group's translation starts in the output.
    start: usize,
    /// Repetitions in the group's finished items.
    repeats: Vec<Repeat>,
    last: Option<Item>,
}

impl Frame {
    fn new(saved_flags: Flags, start: usize) -> Frame {
        Frame {
            saved_flags,
            start,
            repeats: Vec::new(),
            last: None,
        }
    }
    fn finish_last(&mut self) {
        if let Some(item) = self.last.take() {
            self.repeats.extend(item.repeats);
        }
    }
}

/// Go's limit on nesting (`maxHeight`), applied to group depth.
const MAX_DEPTH: usize = 1000;

struct Translator<'a> {
    whole: &'a str,
    out: String,
    frames: Vec<Frame>,
    flags: Flags,
    /// Capture names by group index (index 0 is the whole match).
    names: Vec<String>,
}

/// A translated pattern.
struct Translation {
    pattern: String,
    names: Vec<String>,
}

fn translate(expr: &str) -> Result<Translation, SyntaxError> {
    let mut t = Translator {
        whole: expr,
        out: String::with_capacity(expr.len() * 2),
        frames: vec![Frame::new(Flags::default(), 0)],
        flags: Flags::default(),
        names: vec![String::new()],
    };
    t.run()?;
    Ok(Translation {
        pattern: t.out,
        names: t.names,
    })
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// A character for the `regex` crate: alphanumerics as they are,
/// everything else as `\x{…}` so nothing is ever special.
fn push_char(out: &mut String, c: char) {
    if is_alnum(c) {
        out.push(c);
    } else {
        let _ = write!(out, "\\x{{{:X}}}", c as u32);
    }
}

fn is_surrogate(r: u32) -> bool {
    (0xD800..=0xDFFF).contains(&r)
}

/// Never matches (Go's empty class).
const EMPTY_CLASS: &str = r"[^\x{0}-\x{10FFFF}]";

impl Translator<'_> {
    fn frame(&mut self) -> &mut Frame {
        // The root frame is never popped.
        let n = self.frames.len();
        &mut self.frames[n - 1]
    }

    /// Append an atom; it becomes the item a repetition applies to.
    fn push_atom(&mut self, text: &str) {
        let start = self.out.len();
        let frame = self.frame();
        frame.finish_last();
        frame.last = Some(Item {
            start,
            repeats: Vec::new(),
        });
        self.out.push_str(text);
    }

    /// Wrap in `(?i:…)` when case folding is on.
    fn with_fold(&self, text: String) -> String {
        if self.flags.fold {
            format!("(?i:{text})")
        } else {
            text
        }
    }

    fn push_literal(&mut self, r: u32) {
        let text = match char::from_u32(r) {
            Some(c) => {
                let mut s = String::new();
                push_char(&mut s, c);
                self.with_fold(s)
            }
            // A surrogate can never occur in a UTF-8 string.
            None => EMPTY_CLASS.to_string(),
        };
        self.push_atom(&text);
    }

    fn run(&mut self) -> Result<(), SyntaxError> {
        let whole = self.whole;
        let mut pos = 0;
        // Start of the previous token when it was a repetition operator.
        let mut last_repeat: Option<usize> = None;
        while pos < whole.len() {
            let t = &whole[pos..];
            let mut repeat_start = None;
            let c = t.chars().next().unwrap_or('\0');
            match c {
                '(' => {
                    if t.starts_with("(?") {
                        pos += self.perl_flags(t)?;
                    } else {
                        self.open_group(self.flags, true);
                        self.names.push(String::new());
                        pos += 1;
                    }
                }
                '|' => {
                    self.frame().finish_last();
                    self.out.push('|');
                    pos += 1;
                }
                ')' => {
                    self.close_group()?;
                    pos += 1;
                }
                '^' => {
                    let a = if self.flags.multiline {
                        "(?m:^)"
                    } else {
                        r"\A"
                    };
                    self.push_atom(a);
                    pos += 1;
                }
                '$' => {
                    let a = if self.flags.multiline {
                        "(?m:$)"
                    } else {
                        r"\z"
                    };
                    self.push_atom(a);
                    pos += 1;
                }
                '.' => {
                    let a = if self.flags.dot_nl {
                        "(?s:.)"
                    } else {
                        r"[^\n]"
                    };
                    self.push_atom(a);
                    pos += 1;
                }
                '[' => {
                    let (class, used) = self.parse_class(t)?;
                    let class = self.with_fold(class);
                    self.push_atom(&class);
                    pos += used;
                }
                '*' | '+' | '?' => {
                    let after = pos + 1;
                    let op = c.to_string();
                    pos = self.repeat(&op, None, pos, after, last_repeat)?;
                    repeat_start = Some(after - 1);
                }
                '{' => match parse_repeat(t) {
                    None => {
                        self.push_literal('{' as u32);
                        pos += 1;
                    }
                    Some((min, max, used)) => {
                        let after = pos + used;
                        if !(0..=1000).contains(&min) || max > 1000 || (max >= 0 && min > max) {
                            return err(ErrorCode::InvalidRepeatSize, &whole[pos..after]);
                        }
                        let op = match max {
                            _ if max == min => format!("{{{min}}}"),
                            -1 => format!("{{{min},}}"),
                            _ => format!("{{{min},{max}}}"),
                        };
                        let start = pos;
                        pos = self.repeat(&op, Some((min, max)), pos, after, last_repeat)?;
                        repeat_start = Some(start);
                    }
                },
                '\\' => pos += self.escape(t)?,
                _ => {
                    self.push_literal(c as u32);
                    pos += c.len_utf8();
                }
            }
            last_repeat = repeat_start;
        }
        if self.frames.len() != 1 {
            return err(ErrorCode::MissingParen, whole);
        }
        Ok(())
    }

    fn open_group(&mut self, saved_flags: Flags, capture: bool) {
        let start = self.out.len();
        self.frame().finish_last();
        self.frames.push(Frame::new(saved_flags, start));
        self.out.push_str(if capture { "(" } else { "(?:" });
    }

    fn close_group(&mut self) -> Result<(), SyntaxError> {
        if self.frames.len() < 2 {
            return err(ErrorCode::UnexpectedParen, self.whole);
        }
        let mut frame = self
            .frames
            .pop()
            .unwrap_or_else(|| Frame::new(Flags::default(), 0));
        frame.finish_last();
        self.out.push(')');
        self.flags = frame.saved_flags;
        let parent = self.frame();
        parent.finish_last();
        parent.last = Some(Item {
            start: frame.start,
            repeats: frame.repeats,
        });
        Ok(())
    }

    /// Apply a repetition operator `op` (at `pos`, ending at `after`) to
    /// the last item. Returns the position after the operator (and its
    /// optional non-greedy `?`).
    fn repeat(
        &mut self,
        op: &str,
        counted: Option<(i64, i64)>,
        pos: usize,
        after: usize,
        last_repeat: Option<usize>,
    ) -> Result<usize, SyntaxError> {
        let whole = self.whole;
        let mut after = after;
        let mut lazy = self.flags.ungreedy;
        if whole[after..].starts_with('?') {
            after += 1;
            lazy = !lazy;
        }
        if let Some(prev) = last_repeat {
            // Go (Perl) forbids stacked operators: `a**`, `a{2}{3}`.
            return err(ErrorCode::InvalidRepeatOp, &whole[prev..after]);
        }
        let Some(item) = self.frame().last.take() else {
            return err(ErrorCode::MissingRepeatArgument, &whole[pos..after]);
        };
        let repeats = match counted {
            Some((min, max)) => {
                let node = Repeat {
                    min,
                    max,
                    inner: item.repeats,
                };
                if (min >= 2 || max >= 2) && !repeats_valid(std::slice::from_ref(&node), 1000) {
                    return err(ErrorCode::InvalidRepeatSize, &whole[pos..after]);
                }
                vec![node]
            }
            None => item.repeats,
        };
        self.out.insert_str(item.start, "(?:");
        self.out.push(')');
        self.out.push_str(op);
        if lazy {
            self.out.push('?');
        }
        self.frame().last = Some(Item {
            start: item.start,
            repeats,
        });
        Ok(after)
    }

    /// `(?…`: flags, a non-capturing group, or a named group. Returns the
    /// bytes used.
    fn perl_flags(&mut self, t: &str) -> Result<usize, SyntaxError> {
        let b = t.as_bytes();
        let starts_with_p = b.len() > 4 && b[2] == b'P' && b[3] == b'<';
        let starts_with_name = b.len() > 3 && b[2] == b'<';
        if starts_with_p || starts_with_name {
            let name_start = if starts_with_p { 4 } else { 3 };
            let Some(end) = t.find('>') else {
                return err(ErrorCode::InvalidNamedCapture, t);
            };
            let name = &t[name_start..end];
            if name.is_empty() || !name.chars().all(|c| c == '_' || is_alnum(c)) {
                return err(ErrorCode::InvalidNamedCapture, &t[..=end]);
            }
            self.open_group(self.flags, true);
            self.names.push(name.to_string());
            return Ok(end + 1);
        }
        let mut flags = self.flags;
        let mut negate = false;
        let mut saw_flag = false;
        for (i, c) in t[2..].char_indices() {
            let used = 2 + i + c.len_utf8();
            match c {
                'i' => flags.fold = !negate,
                'm' => flags.multiline = !negate,
                's' => flags.dot_nl = !negate,
                'U' => flags.ungreedy = !negate,
                '-' if !negate => {
                    negate = true;
                    saw_flag = false;
                    continue;
                }
                ':' | ')' if !negate || saw_flag => {
                    if c == ':' {
                        self.open_group(self.flags, false);
                    }
                    self.flags = flags;
                    return Ok(used);
                }
                _ => return err(ErrorCode::InvalidPerlOp, &t[..used]),
            }
            saw_flag = true;
        }
        err(ErrorCode::InvalidPerlOp, t)
    }

    /// A backslash sequence outside a class. Returns the bytes used.
    fn escape(&mut self, t: &str) -> Result<usize, SyntaxError> {
        let next = t[1..].chars().next();
        match next {
            Some('A') => {
                self.push_atom(r"\A");
                return Ok(2);
            }
            Some('b') => {
                self.push_atom(r"(?-u:\b)");
                return Ok(2);
            }
            Some('B') => {
                self.push_atom(r"(?-u:\B)");
                return Ok(2);
            }
            Some('C') => return err(ErrorCode::InvalidEscape, &t[..2]),
            Some('Q') => {
                let rest = &t[2..];
                let (lit, used) = match rest.find(r"\E") {
                    Some(i) => (&rest[..i], 2 + i + 2),
                    None => (rest, t.len()),
                };
                for c in lit.chars() {
                    self.push_literal(c as u32);
                }
                return Ok(used);
            }
            Some('z') => {
                self.push_atom(r"\z");
                return Ok(2);
            }
            Some('p' | 'P') => {
                let (class, used) = parse_unicode_class(t)?;
                let class = self.with_fold(class);
                self.push_atom(&class);
                return Ok(used);
            }
            _ => {}
        }
        if let Some(class) = perl_class(t) {
            let class = self.with_fold(class.to_string());
            self.push_atom(&class);
            return Ok(2);
        }
        let (r, used) = parse_escape(t)?;
        self.push_literal(r);
        Ok(used)
    }

    /// A bracketed class starting at `t` (`[`). Returns the `regex`-crate
    /// class and the bytes used.
    fn parse_class(&self, whole_class: &str) -> Result<(String, usize), SyntaxError> {
        let mut out = String::from("[");
        let mut t = &whole_class[1..];
        if t.starts_with('^') {
            out.push('^');
            t = &t[1..];
        }
        let mut items = 0usize;
        let mut first = true;
        while t.is_empty() || !t.starts_with(']') || first {
            first = false;
            if t.len() > 2 && t.starts_with("[:") {
                if let Some((group, rest)) = posix_class(t)? {
                    out.push_str(group);
                    items += 1;
                    t = rest;
                    continue;
                }
            }
            if t.len() >= 2 && t.starts_with('\\') && matches!(t.as_bytes()[1], b'p' | b'P') {
                let (class, used) = parse_unicode_class(t)?;
                out.push_str(&class);
                items += 1;
                t = &t[used..];
                continue;
            }
            if let Some(class) = perl_class(t) {
                // Inside a class, a positive Perl class is its ranges.
                let inner = class
                    .strip_prefix('[')
                    .and_then(|c| c.strip_suffix(']'))
                    .filter(|c| !c.starts_with('^'))
                    .unwrap_or(class);
                out.push_str(inner);
                items += 1;
                t = &t[2..];
                continue;
            }
            let range_text = t;
            let (lo, used) = class_char(t, whole_class)?;
            t = &t[used..];
            let mut hi = lo;
            if t.len() >= 2 && t.starts_with('-') && !t[1..].starts_with(']') {
                let (h, used) = class_char(&t[1..], whole_class)?;
                t = &t[1 + used..];
                hi = h;
                if hi < lo {
                    let len = range_text.len() - t.len();
                    return err(ErrorCode::InvalidCharRange, &range_text[..len]);
                }
            }
            // Surrogates cannot occur in UTF-8 text; drop them from ranges.
            let lo = if is_surrogate(lo) { 0xE000 } else { lo };
            let hi = if is_surrogate(hi) { 0xD7FF } else { hi };
            if lo <= hi {
                if let (Some(l), Some(h)) = (char::from_u32(lo), char::from_u32(hi)) {
                    push_char(&mut out, l);
                    if h != l {
                        out.push('-');
                        push_char(&mut out, h);
                    }
                    items += 1;
                }
            }
        }
        out.push(']');
        let used = whole_class.len() - t.len() + 1;
        if items == 0 {
            // Only surrogates: matches nothing, or (negated) anything.
            let class = if out.starts_with("[^") {
                r"[\x{0}-\x{10FFFF}]"
            } else {
                EMPTY_CLASS
            };
            return Ok((class.to_string(), used));
        }
        Ok((out, used))
    }
}

/// Go's `parseRepeat`: `{n}`, `{n,}`, `{n,m}` at the start of `s`; `None`
/// when it is not one (then `{` is a literal). Returns (min, max, bytes
/// used); max is -1 for "no maximum"; a count of 10^8 or more makes min -1
/// (rejected by the caller), as in Go.
fn parse_repeat(s: &str) -> Option<(i64, i64, usize)> {
    let b = s.as_bytes();
    let mut i = 1;
    let (mut min, used) = parse_repeat_int(&b[i..])?;
    i += used;
    let max = if *b.get(i)? != b',' {
        min
    } else {
        i += 1;
        if *b.get(i)? == b'}' {
            -1
        } else {
            let (max, used) = parse_repeat_int(&b[i..])?;
            i += used;
            if max < 0 {
                min = -1;
            }
            max
        }
    };
    if b.get(i) != Some(&b'}') {
        return None;
    }
    Some((min, max, i + 1))
}

/// Go's `parseInt` for repeat counts: digits without leading zeros; -1 for
/// 10^8 and more.
fn parse_repeat_int(b: &[u8]) -> Option<(i64, usize)> {
    if b.first().is_none_or(|c| !c.is_ascii_digit()) {
        return None;
    }
    if b.len() >= 2 && b[0] == b'0' && b[1].is_ascii_digit() {
        return None;
    }
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut n: i64 = 0;
    for &c in &b[..digits] {
        if n >= 100_000_000 {
            n = -1;
            break;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some((n, digits))
}

/// `\d \D \s \S \w \W` at the start of `t`, as a `regex`-crate class.
fn perl_class(t: &str) -> Option<&'static str> {
    let b = t.as_bytes();
    if b.len() < 2 || b[0] != b'\\' {
        return None;
    }
    Some(match b[1] {
        b'd' => "[0-9]",
        b'D' => "[^0-9]",
        b's' => r"[\x{9}\x{A}\x{C}\x{D}\x{20}]",
        b'S' => r"[^\x{9}\x{A}\x{C}\x{D}\x{20}]",
        b'w' => "[0-9A-Z_a-z]",
        b'W' => "[^0-9A-Z_a-z]",
        _ => return None,
    })
}

/// A POSIX class `[:name:]` at the start of `t` (inside a bracket).
/// `Ok(None)` when there is no closing `:]` (then `[` is a literal).
fn posix_class(t: &str) -> Result<Option<(&'static str, &str)>, SyntaxError> {
    let Some(i) = t[2..].find(":]") else {
        return Ok(None);
    };
    let end = i + 4;
    let name = &t[..end];
    let group = match name {
        "[:alnum:]" => "0-9A-Za-z",
        "[:^alnum:]" => "[^0-9A-Za-z]",
        "[:alpha:]" => "A-Za-z",
        "[:^alpha:]" => "[^A-Za-z]",
        "[:ascii:]" => r"\x{0}-\x{7F}",
        "[:^ascii:]" => r"[^\x{0}-\x{7F}]",
        "[:blank:]" => r"\x{9}\x{20}",
        "[:^blank:]" => r"[^\x{9}\x{20}]",
        "[:cntrl:]" => r"\x{0}-\x{1F}\x{7F}",
        "[:^cntrl:]" => r"[^\x{0}-\x{1F}\x{7F}]",
        "[:digit:]" => "0-9",
        "[:^digit:]" => "[^0-9]",
        "[:graph:]" => r"\x{21}-\x{7E}",
        "[:^graph:]" => r"[^\x{21}-\x{7E}]",
        "[:lower:]" => "a-z",
        "[:^lower:]" => "[^a-z]",
        "[:print:]" => r"\x{20}-\x{7E}",
        "[:^print:]" => r"[^\x{20}-\x{7E}]",
        "[:punct:]" => r"\x{21}-\x{2F}\x{3A}-\x{40}\x{5B}-\x{60}\x{7B}-\x{7E}",
        "[:^punct:]" => r"[^\x{21}-\x{2F}\x{3A}-\x{40}\x{5B}-\x{60}\x{7B}-\x{7E}]",
        "[:space:]" => r"\x{9}-\x{D}\x{20}",
        "[:^space:]" => r"[^\x{9}-\x{D}\x{20}]",
        "[:upper:]" => "A-Z",
        "[:^upper:]" => "[^A-Z]",
        "[:word:]" => "0-9A-Z_a-z",
        "[:^word:]" => "[^0-9A-Z_a-z]",
        "[:xdigit:]" => "0-9A-Fa-f",
        "[:^xdigit:]" => "[^0-9A-Fa-f]",
        _ => return err(ErrorCode::InvalidCharRange, name),
    };
    Ok(Some((group, &t[end..])))
}

/// One character of a class: a literal rune or an escape.
fn class_char(t: &str, whole_class: &str) -> Result<(u32, usize), SyntaxError> {
    match t.chars().next() {
        None => err(ErrorCode::MissingBracket, whole_class),
        Some('\\') => parse_escape(t),
        Some(c) => Ok((c as u32, c.len_utf8())),
    }
}

/// Go's `parseEscape`: a single-character escape at the start of `t`.
/// Returns the rune and the bytes used.
fn parse_escape(t: &str) -> Result<(u32, usize), SyntaxError> {
    let mut chars = t[1..].char_indices().map(|(i, c)| (i + 1, c));
    let Some((_, c)) = chars.next() else {
        return err(ErrorCode::TrailingBackslash, "");
    };
    let after_c = 1 + c.len_utf8();
    let b = t.as_bytes();
    let invalid = |end: usize| err(ErrorCode::InvalidEscape, &t[..end.min(t.len())]);
    match c {
        '1'..='7' | '0' => {
            // Octal; a lone \1-\7 would be a backreference (unsupported).
            let is_octal = |i: usize| b.get(i).is_some_and(|d| (b'0'..=b'7').contains(d));
            if c != '0' && !is_octal(after_c) {
                return invalid(after_c);
            }
            let mut r = c as u32 - '0' as u32;
            let mut i = after_c;
            while i < after_c + 2 && is_octal(i) {
                r = r * 8 + u32::from(b[i] - b'0');
                i += 1;
            }
            Ok((r, i))
        }
        'x' => {
            let rest = &t[after_c..];
            let mut it = rest.char_indices();
            let Some((_, c1)) = it.next() else {
                return invalid(after_c);
            };
            if c1 == '{' {
                let mut r: u32 = 0;
                for (nhex, (i, h)) in it.enumerate() {
                    let end = after_c + i + h.len_utf8();
                    if h == '}' {
                        if nhex == 0 {
                            return invalid(end);
                        }
                        return Ok((r, end));
                    }
                    let Some(v) = h.to_digit(16) else {
                        return invalid(end);
                    };
                    r = r * 16 + v;
                    if r > 0x10FFFF {
                        return invalid(end);
                    }
                }
                return invalid(t.len());
            }
            let end1 = after_c + c1.len_utf8();
            let Some((_, c2)) = it.next() else {
                return invalid(end1);
            };
            let end2 = end1 + c2.len_utf8();
            match (c1.to_digit(16), c2.to_digit(16)) {
                (Some(x), Some(y)) => Ok((x * 16 + y, end2)),
                _ => invalid(end2),
            }
        }
        'a' => Ok((7, after_c)),
        'f' => Ok((12, after_c)),
        'n' => Ok((10, after_c)),
        'r' => Ok((13, after_c)),
        't' => Ok((9, after_c)),
        'v' => Ok((11, after_c)),
        c if c.is_ascii() && !is_alnum(c) => Ok((c as u32, after_c)),
        _ => invalid(after_c),
    }
}

/// `\pX`, `\p{Name}`, `\PX`, `\p{^Name}` at the start of `t`. Returns the
/// `regex`-crate class and the bytes used.
fn parse_unicode_class(t: &str) -> Result<(String, usize), SyntaxError> {
    let mut negated = t.as_bytes()[1] == b'P';
    let rest = &t[2..];
    let (seq_len, name) = match rest.chars().next() {
        Some('{') => match t.find('}') {
            Some(end) => (end + 1, &t[3..end]),
            None => return err(ErrorCode::InvalidCharRange, t),
        },
        Some(c) => (2 + c.len_utf8(), &t[2..2 + c.len_utf8()]),
        None => (2, ""),
    };
    let seq = &t[..seq_len];
    let name = match name.strip_prefix('^') {
        Some(n) => {
            negated = !negated;
            n
        }
        None => name,
    };
    let Some((actual, inverted)) = unicode_table(name) else {
        return err(ErrorCode::InvalidCharRange, seq);
    };
    if inverted {
        negated = !negated;
    }
    if actual == "Cs" {
        // Surrogates never occur in UTF-8 text (and `regex` rejects them).
        let class = if negated {
            r"[\x{0}-\x{10FFFF}]"
        } else {
            EMPTY_CLASS
        };
        return Ok((class.to_string(), seq_len));
    }
    let p = if negated { 'P' } else { 'p' };
    Ok((format!("\\{p}{{{actual}}}"), seq_len))
}

/// Go's `canonicalName`: separators dropped, first letter upper-cased,
/// the rest lower-cased.
fn canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut first = true;
    for c in name.chars() {
        match c {
            '_' | '-' | ' ' => continue,
            c if first => {
                out.push(c.to_ascii_uppercase());
                first = false;
            }
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

/// Go's `unicodeTable`: the `regex`-crate name of the table a `\p{…}` name
/// selects, and whether the class is inverted (`Assigned` is "not Cn").
fn unicode_table(name: &str) -> Option<(&'static str, bool)> {
    let canonical = canonical_name(name);
    if canonical == "Assigned" {
        return Some(("Cn", true));
    }
    UNICODE_TABLES
        .binary_search_by(|(k, _)| (*k).cmp(canonical.as_str()))
        .ok()
        .map(|i| (UNICODE_TABLES[i].1, false))
}

/// Every name Go 1.26's `regexp/syntax` resolves (after `canonicalName`),
/// with the table it selects: general categories, their long aliases, and
/// the scripts whose names survive canonicalisation (Go cannot reach
/// `Old_Italic` and other multi-word scripts). Listed from Go's `unicode`
/// package (Unicode 15.0.0); sorted for binary search.
const UNICODE_TABLES: &[(&str, &str)] = &[
    ("Adlam", "Adlam"),
    ("Ahom", "Ahom"),
    ("Any", "Any"),
    ("Arabic", "Arabic"),
    ("Armenian", "Armenian"),
    ("Ascii", "ASCII"),
    ("Assigned", "Assigned"),
    ("Avestan", "Avestan"),
    ("Balinese", "Balinese"),
    ("Bamum", "Bamum"),
    ("Batak", "Batak"),
    ("Bengali", "Bengali"),
    ("Bhaiksuki", "Bhaiksuki"),
    ("Bopomofo", "Bopomofo"),
    ("Brahmi", "Brahmi"),
    ("Braille", "Braille"),
    ("Buginese", "Buginese"),
    ("Buhid", "Buhid"),
    ("C", "C"),
    ("Carian", "Carian"),
    ("Casedletter", "LC"),
    ("Cc", "Cc"),
    ("Cf", "Cf"),
    ("Chakma", "Chakma"),
    ("Cham", "Cham"),
    ("Cherokee", "Cherokee"),
    ("Chorasmian", "Chorasmian"),
    ("Closepunctuation", "Pe"),
    ("Cn", "Cn"),
    ("Cntrl", "Cc"),
    ("Co", "Co"),
    ("Combiningmark", "M"),
    ("Common", "Common"),
    ("Connectorpunctuation", "Pc"),
    ("Control", "Cc"),
    ("Coptic", "Coptic"),
    ("Cs", "Cs"),
    ("Cuneiform", "Cuneiform"),
    ("Currencysymbol", "Sc"),
    ("Cypriot", "Cypriot"),
    ("Cyrillic", "Cyrillic"),
    ("Dashpunctuation", "Pd"),
    ("Decimalnumber", "Nd"),
    ("Deseret", "Deseret"),
    ("Devanagari", "Devanagari"),
    ("Digit", "Nd"),
    ("Dogra", "Dogra"),
    ("Duployan", "Duployan"),
    ("Elbasan", "Elbasan"),
    ("Elymaic", "Elymaic"),
    ("Enclosingmark", "Me"),
    ("Ethiopic", "Ethiopic"),
    ("Finalpunctuation", "Pf"),
    ("Format", "Cf"),
    ("Georgian", "Georgian"),
    ("Glagolitic", "Glagolitic"),
    ("Gothic", "Gothic"),
    ("Grantha", "Grantha"),
    ("Greek", "Greek"),
    ("Gujarati", "Gujarati"),
    ("Gurmukhi", "Gurmukhi"),
    ("Han", "Han"),
    ("Hangul", "Hangul"),
    ("Hanunoo", "Hanunoo"),
    ("Hatran", "Hatran"),
    ("Hebrew", "Hebrew"),
    ("Hiragana", "Hiragana"),
    ("Inherited", "Inherited"),
    ("Initialpunctuation", "Pi"),
    ("Javanese", "Javanese"),
    ("Kaithi", "Kaithi"),
    ("Kannada", "Kannada"),
    ("Katakana", "Katakana"),
    ("Kawi", "Kawi"),
    ("Kharoshthi", "Kharoshthi"),
    ("Khmer", "Khmer"),
    ("Khojki", "Khojki"),
    ("Khudawadi", "Khudawadi"),
    ("L", "L"),
    ("Lao", "Lao"),
    ("Latin", "Latin"),
    ("Lc", "LC"),
    ("Lepcha", "Lepcha"),
    ("Letter", "L"),
    ("Letternumber", "Nl"),
    ("Limbu", "Limbu"),
    ("Lineseparator", "Zl"),
    ("Lisu", "Lisu"),
    ("Ll", "Ll"),
    ("Lm", "Lm"),
    ("Lo", "Lo"),
    ("Lowercaseletter", "Ll"),
    ("Lt", "Lt"),
    ("Lu", "Lu"),
    ("Lycian", "Lycian"),
    ("Lydian", "Lydian"),
    ("M", "M"),
    ("Mahajani", "Mahajani"),
    ("Makasar", "Makasar"),
    ("Malayalam", "Malayalam"),
    ("Mandaic", "Mandaic"),
    ("Manichaean", "Manichaean"),
    ("Marchen", "Marchen"),
    ("Mark", "M"),
    ("Mathsymbol", "Sm"),
    ("Mc", "Mc"),
    ("Me", "Me"),
    ("Medefaidrin", "Medefaidrin"),
    ("Miao", "Miao"),
    ("Mn", "Mn"),
    ("Modi", "Modi"),
    ("Modifierletter", "Lm"),
    ("Modifiersymbol", "Sk"),
    ("Mongolian", "Mongolian"),
    ("Mro", "Mro"),
    ("Multani", "Multani"),
    ("Myanmar", "Myanmar"),
    ("N", "N"),
    ("Nabataean", "Nabataean"),
    ("Nandinagari", "Nandinagari"),
    ("Nd", "Nd"),
    ("Newa", "Newa"),
    ("Nko", "Nko"),
    ("Nl", "Nl"),
    ("No", "No"),
    ("Nonspacingmark", "Mn"),
    ("Number", "N"),
    ("Nushu", "Nushu"),
    ("Ogham", "Ogham"),
    ("Openpunctuation", "Ps"),
    ("Oriya", "Oriya"),
    ("Osage", "Osage"),
    ("Osmanya", "Osmanya"),
    ("Other", "C"),
    ("Otherletter", "Lo"),
    ("Othernumber", "No"),
    ("Otherpunctuation", "Po"),
    ("Othersymbol", "So"),
    ("P", "P"),
    ("Palmyrene", "Palmyrene"),
    ("Paragraphseparator", "Zp"),
    ("Pc", "Pc"),
    ("Pd", "Pd"),
    ("Pe", "Pe"),
    ("Pf", "Pf"),
    ("Phoenician", "Phoenician"),
    ("Pi", "Pi"),
    ("Po", "Po"),
    ("Privateuse", "Co"),
    ("Ps", "Ps"),
    ("Punct", "P"),
    ("Punctuation", "P"),
    ("Rejang", "Rejang"),
    ("Runic", "Runic"),
    ("S", "S"),
    ("Samaritan", "Samaritan"),
    ("Saurashtra", "Saurashtra"),
    ("Sc", "Sc"),
    ("Separator", "Z"),
    ("Sharada", "Sharada"),
    ("Shavian", "Shavian"),
    ("Siddham", "Siddham"),
    ("Sinhala", "Sinhala"),
    ("Sk", "Sk"),
    ("Sm", "Sm"),
    ("So", "So"),
    ("Sogdian", "Sogdian"),
    ("Soyombo", "Soyombo"),
    ("Spaceseparator", "Zs"),
    ("Spacingmark", "Mc"),
    ("Sundanese", "Sundanese"),
    ("Surrogate", "Cs"),
    ("Symbol", "S"),
    ("Syriac", "Syriac"),
    ("Tagalog", "Tagalog"),
    ("Tagbanwa", "Tagbanwa"),
    ("Takri", "Takri"),
    ("Tamil", "Tamil"),
    ("Tangsa", "Tangsa"),
    ("Tangut", "Tangut"),
    ("Telugu", "Telugu"),
    ("Thaana", "Thaana"),
    ("Thai", "Thai"),
    ("Tibetan", "Tibetan"),
    ("Tifinagh", "Tifinagh"),
    ("Tirhuta", "Tirhuta"),
    ("Titlecaseletter", "Lt"),
    ("Toto", "Toto"),
    ("Ugaritic", "Ugaritic"),
    ("Unassigned", "Cn"),
    ("Uppercaseletter", "Lu"),
    ("Vai", "Vai"),
    ("Vithkuqi", "Vithkuqi"),
    ("Wancho", "Wancho"),
    ("Yezidi", "Yezidi"),
    ("Yi", "Yi"),
    ("Z", "Z"),
    ("Zl", "Zl"),
    ("Zp", "Zp"),
    ("Zs", "Zs"),
];

// ---- compiled patterns and Go's matching loops -----------------------------

/// A compiled Go regular expression.
///
/// Built with `regex-automata`'s meta engine configured as the `regex`
/// crate configures it for a `Regex` (leftmost-first, UTF-8, no empty
/// match inside a character), except that no DFA is built, full or lazy:
/// templates compile a few patterns, match each against a few short
/// strings and exit, and building the DFAs (with the reverse NFA they
/// need) was most of that cost — a full DFA first (other crates in the
/// binary enable it for every `regex::Regex`), then the lazy DFA, ~3 % of
/// a large chart's render. Matching runs on the one-pass DFA, the bounded
/// backtracker and the PikeVM, the kinds of engine Go's `regexp` has,
/// with the same matches (the meta engine's engines agree by design).
pub struct GoRegex {
    re: regex_automata::meta::Regex,
    /// Capture names by group index (`""` for unnamed and for group 0).
    names: Vec<String>,
}

/// Go's `regexp.Compile`.
pub fn compile(expr: &str) -> Result<Rc<GoRegex>, SyntaxError> {
    thread_local! {
        static CACHE: RefCell<HashMap<String, Rc<GoRegex>>> = RefCell::new(HashMap::new());
    }
    if let Some(hit) = CACHE.with(|c| c.borrow().get(expr).cloned()) {
        return Ok(hit);
    }
    if expr.matches('(').count() > MAX_DEPTH && nesting_depth(expr) > MAX_DEPTH {
        return err(ErrorCode::NestingDepth, expr);
    }
    let translation = translate(expr)?;
    let config = regex_automata::meta::Config::new()
        .nfa_size_limit(Some(64 << 20))
        .hybrid_cache_capacity(2 << 20)
        .match_kind(regex_automata::MatchKind::LeftmostFirst)
        .utf8_empty(true)
        .dfa(false)
        .hybrid(false);
    let syntax = regex_automata::util::syntax::Config::new()
        .utf8(true)
        .nest_limit(4 * MAX_DEPTH as u32);
    let re = regex_automata::meta::Builder::new()
        .configure(config)
        .syntax(syntax)
        .build(&translation.pattern)
        .map_err(|_| SyntaxError {
            code: ErrorCode::Large,
            expr: expr.to_string(),
        })?;
    let compiled = Rc::new(GoRegex {
        re,
        names: translation.names,
    });
    CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(expr.to_string(), compiled.clone());
    });
    Ok(compiled)
}

/// Deepest parenthesis nesting (a cheap pre-check for Go's depth limit).
fn nesting_depth(expr: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut escaped = false;
    for c in expr.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '(' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

impl GoRegex {
    pub fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }

    /// Go's `allMatches`: successive matches, skipping an empty match that
    /// starts where the previous match ended; at most `n` (all if n < 0).
    pub fn match_ranges(&self, s: &str, n: i64) -> Vec<(usize, usize)> {
        let limit = if n < 0 { usize::MAX } else { n as usize };
        let mut out = Vec::new();
        let mut pos = 0;
        let mut prev_end: Option<usize> = None;
        while out.len() < limit && pos <= s.len() {
            let Some(m) = self.find_at(s, pos) else {
                break;
            };
            let (start, end) = (m.start(), m.end());
            let mut accept = true;
            if end == pos {
                if Some(start) == prev_end {
                    accept = false;
                }
                pos += s[pos..].chars().next().map_or(1, char::len_utf8);
            } else {
                pos = end;
            }
            prev_end = Some(end);
            if accept {
                out.push((start, end));
            }
        }
        out
    }

    pub fn find(&self, s: &str) -> String {
        self.re
            .find(s)
            .map_or_else(String::new, |m| s[m.range()].to_string())
    }

    /// The first match starting at or after `start` (the text before it
    /// still counts for anchors and word boundaries), as `Regex::find_at`.
    fn find_at(&self, s: &str, start: usize) -> Option<regex_automata::Match> {
        self.re
            .search(&regex_automata::Input::new(s).span(start..s.len()))
    }

    /// [`GoRegex::find_at`] with the capture groups, as `Regex::captures_at`.
    fn captures_at(
        &self,
        s: &str,
        start: usize,
    ) -> Option<regex_automata::util::captures::Captures> {
        let mut caps = self.re.create_captures();
        self.re.search_captures(
            &regex_automata::Input::new(s).span(start..s.len()),
            &mut caps,
        );
        caps.is_match().then_some(caps)
    }

    pub fn find_all(&self, s: &str, n: i64) -> Vec<String> {
        self.match_ranges(s, n)
            .into_iter()
            .map(|(a, b)| s[a..b].to_string())
            .collect()
    }

    /// Go's `ReplaceAllString` (`literal == false`, with `$` expansion) or
    /// `ReplaceAllLiteralString`.
    pub fn replace_all(&self, src: &str, repl: &str, literal: bool) -> String {
        let expand = !literal && repl.contains('$');
        let mut out = String::with_capacity(src.len());
        let mut last_end = 0;
        let mut search = 0;
        while search <= src.len() {
            let caps = if expand {
                self.captures_at(src, search)
            } else {
                None
            };
            let bounds = match &caps {
                Some(c) => c.get_group(0).map(|m| (m.start, m.end)),
                None if expand => None,
                None => self.find_at(src, search).map(|m| (m.start(), m.end())),
            };
            let Some((start, end)) = bounds else {
                break;
            };
            out.push_str(&src[last_end..start]);
            if end > last_end || start == 0 {
                match &caps {
                    Some(c) => self.expand(&mut out, repl, src, c),
                    None => out.push_str(repl),
                }
            }
            last_end = end;
            let width = src[search..].chars().next().map_or(0, char::len_utf8);
            if search + width > end {
                search += width;
            } else if search + 1 > end {
                search += 1;
            } else {
                search = end;
            }
        }
        out.push_str(&src[last_end..]);
        out
    }

    /// Go's `Regexp.Expand` of `template` for one match.
    fn expand(
        &self,
        out: &mut String,
        template: &str,
        src: &str,
        caps: &regex_automata::util::captures::Captures,
    ) {
        let group = |i: usize| caps.get_group(i).map(|m| &src[m.range()]);
        let mut t = template;
        while let Some(dollar) = t.find('$') {
            out.push_str(&t[..dollar]);
            t = &t[dollar + 1..];
            if let Some(rest) = t.strip_prefix('$') {
                out.push('$');
                t = rest;
                continue;
            }
            let Some((name, num, rest)) = extract_name(t) else {
                out.push('$');
                continue;
            };
            t = rest;
            let text = match num {
                Some(i) => group(i),
                None => self.names.iter().position(|n| n == name).and_then(group),
            };
            out.push_str(text.unwrap_or(""));
        }
        out.push_str(t);
    }

    /// Go's `Regexp.Split`.
    pub fn split(&self, expr_is_empty: bool, s: &str, n: i64) -> Vec<String> {
        if n == 0 {
            return Vec::new();
        }
        if !expr_is_empty && s.is_empty() {
            return vec![String::new()];
        }
        let matches = self.match_ranges(s, n);
        let mut out = Vec::with_capacity(matches.len() + 1);
        let (mut beg, mut end) = (0, 0);
        for (a, b) in matches {
            if n > 0 && out.len() as i64 >= n - 1 {
                break;
            }
            end = a;
            if b != 0 {
                out.push(s[beg..end].to_string());
            }
            beg = b;
        }
        if end != s.len() {
            out.push(s[beg..].to_string());
        }
        out
    }
}

/// Go's `extract`: a group name after `$` (`name` or `{name}`); the number
/// when it is a decimal without leading zeros.
fn extract_name(t: &str) -> Option<(&str, Option<usize>, &str)> {
    let (brace, body) = match t.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let len: usize = body
        .chars()
        .take_while(|c| c.is_alphabetic() || c.is_numeric() || *c == '_')
        .map(char::len_utf8)
        .sum();
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    let mut rest = &body[len..];
    if brace {
        rest = rest.strip_prefix('}')?;
    }
    let mut num: Option<usize> = Some(0);
    for b in name.bytes() {
        num = match num {
            Some(n) if b.is_ascii_digit() && n < 100_000_000 => {
                Some(n * 10 + usize::from(b - b'0'))
            }
            _ => None,
        };
    }
    if name.len() > 1 && name.starts_with('0') {
        num = None;
    }
    Some((name, num, rest))
}

/// Go's `regexp.QuoteMeta`.
pub fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---- the template functions -----------------------------------------------

fn str_arg(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or("")
}

fn int_arg(args: &[Value], i: usize) -> i64 {
    match args.get(i) {
        Some(Value::Int(n) | Value::Int64(n)) => *n,
        _ => 0,
    }
}

/// What `regexp.MustCompile` panics with (the non-`must` Sprig functions
/// use it, and the template reports the panic).
fn must_compile(expr: &str) -> Result<Rc<GoRegex>, FuncError> {
    compile(expr).map_err(|e| {
        let quoted = if crate::fmt::can_backquote(expr) {
            format!("`{expr}`")
        } else {
            crate::fmt::quote(expr)
        };
        FuncError(format!("regexp: Compile({quoted}): {e}"))
    })
}

/// `regexp.Compile`'s error as a returned Go error.
fn try_compile(expr: &str) -> Result<Rc<GoRegex>, FuncError> {
    compile(expr).map_err(|e| FuncError(e.to_string()))
}

fn strings(ctx: &mut dyn Context, items: Vec<String>) -> FuncResult {
    ctx.charge(items.len() as u64)?;
    Ok(Value::strings(items))
}

/// A `[]string` result that is a nil slice when empty.
fn nil_if_empty(v: Value) -> FuncResult {
    Ok(match v {
        Value::List(l) if l.is_empty() => Value::List(List::nil(l.elem)),
        other => other,
    })
}

fn regex_match(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let matched = compile(str_arg(&args, 0)).is_ok_and(|re| re.is_match(str_arg(&args, 1)));
    Ok(Value::Bool(matched))
}

fn must_regex_match(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let re = try_compile(str_arg(&args, 0))?;
    Ok(Value::Bool(re.is_match(str_arg(&args, 1))))
}

fn regex_find_all(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let re = must_compile(str_arg(&args, 0))?;
    let found = re.find_all(str_arg(&args, 1), int_arg(&args, 2));
    // FindAllString returns a nil slice when nothing matched.
    nil_if_empty(strings(ctx, found)?)
}

fn must_regex_find_all(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let re = try_compile(str_arg(&args, 0))?;
    let found = re.find_all(str_arg(&args, 1), int_arg(&args, 2));
    // FindAllString returns a nil slice when nothing matched.
    nil_if_empty(strings(ctx, found)?)
}

fn regex_find(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let re = must_compile(str_arg(&args, 0))?;
    Ok(Value::string(re.find(str_arg(&args, 1))))
}

fn must_regex_find(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let re = try_compile(str_arg(&args, 0))?;
    Ok(Value::string(re.find(str_arg(&args, 1))))
}

fn replace(ctx: &mut dyn Context, re: &GoRegex, args: &[Value], literal: bool) -> FuncResult {
    let (src, repl) = (str_arg(args, 1), str_arg(args, 2));
    let out = re.replace_all(src, repl, literal);
    ctx.charge(out.len() as u64 / 64)?;
    Ok(Value::string(out))
}

fn regex_replace_all(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let re = must_compile(str_arg(&args, 0))?;
    replace(ctx, &re, &args, false)
}

fn must_regex_replace_all(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let re = try_compile(str_arg(&args, 0))?;
    replace(ctx, &re, &args, false)
}

fn regex_replace_all_literal(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let re = must_compile(str_arg(&args, 0))?;
    replace(ctx, &re, &args, true)
}

fn must_regex_replace_all_literal(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let re = try_compile(str_arg(&args, 0))?;
    replace(ctx, &re, &args, true)
}

fn regex_split(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let expr = str_arg(&args, 0);
    let re = must_compile(expr)?;
    // Split returns a nil slice for n == 0.
    let n0 = int_arg(&args, 2) == 0;
    let out = strings(
        ctx,
        re.split(expr.is_empty(), str_arg(&args, 1), int_arg(&args, 2)),
    )?;
    if n0 {
        nil_if_empty(out)
    } else {
        Ok(out)
    }
}

fn must_regex_split(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let expr = str_arg(&args, 0);
    let re = try_compile(expr)?;
    // Split returns a nil slice for n == 0.
    let n0 = int_arg(&args, 2) == 0;
    let out = strings(
        ctx,
        re.split(expr.is_empty(), str_arg(&args, 1), int_arg(&args, 2)),
    )?;
    if n0 {
        nil_if_empty(out)
    } else {
        Ok(out)
    }
}

fn regex_quote_meta(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(quote_meta(str_arg(&args, 0))))
}

#[cfg(test)]
mod tests;
