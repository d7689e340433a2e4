//! The lexer: Go `text/template/parse` tokenisation, item for item.
//!
//! It produces the same items (with the same byte positions and lines) as
//! Go's lexer, because the parser's error messages quote them: `unexpected
//! "}" in operand`, `unexpected <end> in input`, `bad character U+0021 '!'`.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ItemKind {
    Error,
    Bool,
    /// A printable ASCII character inside an action (`,` and friends).
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords (printed as `<word>` in errors).
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemKind {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemKind::Block
                | ItemKind::Break
                | ItemKind::Continue
                | ItemKind::Dot
                | ItemKind::Define
                | ItemKind::Else
                | ItemKind::End
                | ItemKind::If
                | ItemKind::Nil
                | ItemKind::Range
                | ItemKind::Template
                | ItemKind::With
        )
    }
}

/// A lexed item. `val` is a slice of the source, except for
/// [`ItemKind::Error`] items, whose text is [`Lexer::error_text`] (the
/// lexer stops at its first error).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Item<'s> {
    pub kind: ItemKind,
    pub pos: usize,
    pub val: &'s str,
    pub line: usize,
}

impl std::fmt::Display for Item<'_> {
    /// Go's `item.String()`, used in parse errors (error items are
    /// printed from the lexer's error text).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ItemKind::Eof => f.write_str("EOF"),
            ItemKind::Error => f.write_str(self.val),
            k if k.is_keyword() => write!(f, "<{}>", self.val),
            _ => {
                if self.val.chars().count() > 10 {
                    // `%.10q...`: the first ten runes, quoted.
                    let head: String = self.val.chars().take(10).collect();
                    write!(f, "{}...", crate::fmt::quote(&head))
                } else {
                    f.write_str(&crate::fmt::quote(self.val))
                }
            }
        }
    }
}

/// The states a step can hand over to; the others (Go's lexLeftDelim,
/// lexSpace, lexIdentifier, …) are entered directly from the state that
/// leads to them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    Comment,
    RightDelim,
    InsideAction,
}

pub(crate) struct Lexer<'s> {
    input: &'s str,
    left: &'s str,
    right: &'s str,
    pos: usize,
    start: usize,
    at_eof: bool,
    paren_depth: i64,
    line: usize,
    start_line: usize,
    inside_action: bool,
    pub break_ok: bool,
    pub continue_ok: bool,
    /// Set once an error item was produced; afterwards only EOF follows.
    dead: bool,
    /// The message of the error item.
    error: String,
    /// Finds the left delimiter in text (most of a template's bytes).
    left_finder: memchr::memmem::Finder<'s>,
}

/// Newlines in `s` (line numbers are tracked by counting them).
fn count_newlines(s: &str) -> usize {
    memchr::memchr_iter(b'\n', s.as_bytes()).count()
}

const EOF: Option<char> = None;

/// ASCII bytes Go's `isAlphaNumeric` accepts: `_`, letters and digits.
static ASCII_ALNUM: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    t
};

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Go's `isAlphaNumeric`: `_`, Unicode letters and decimal digits.
pub(crate) fn is_alnum(c: char) -> bool {
    c == '_'
        || c.is_ascii_alphanumeric()
        || (!c.is_ascii() && (c.is_alphabetic() || c.is_numeric()))
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space_byte(b[1])
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space_byte(b[0]) && b[1] == b'-'
}

const TRIM_MARKER_LEN: usize = 2;

fn has_right_trim_marker_bytes(b: &[u8]) -> bool {
    b.len() >= 2 && is_space_byte(b[0]) && b[1] == b'-'
}

/// `s.starts_with(prefix)` with a first-byte check before the comparison
/// (delimiters are short and rarely match).
fn starts_with(s: &[u8], prefix: &[u8]) -> bool {
    match (s.first(), prefix.first()) {
        (Some(a), Some(b)) if a != b => false,
        _ => s.starts_with(prefix),
    }
}

fn trim_right_len(s: &str) -> usize {
    s.len() - s.trim_end_matches([' ', '\t', '\r', '\n']).len()
}

fn trim_left_len(s: &str) -> usize {
    s.len() - s.trim_start_matches([' ', '\t', '\r', '\n']).len()
}

/// Go's `%#U` of a rune: `U+0021 '!'` (the quoted form only if printable).
pub(crate) fn format_unicode(c: Option<char>) -> String {
    match c {
        None => "U+FFFFFFFFFFFFFFFF".to_string(),
        Some(c) => {
            if crate::printable::is_print(c) {
                format!("U+{:04X} '{}'", c as u32, c)
            } else {
                format!("U+{:04X}", c as u32)
            }
        }
    }
}

impl<'s> Lexer<'s> {
    pub fn new(input: &'s str, left: &'s str, right: &'s str) -> Lexer<'s> {
        let left = if left.is_empty() { "{{" } else { left };
        Lexer {
            input,
            left,
            left_finder: memchr::memmem::Finder::new(left.as_bytes()),
            right: if right.is_empty() { "}}" } else { right },
            pos: 0,
            start: 0,
            at_eof: false,
            paren_depth: 0,
            line: 1,
            start_line: 1,
            inside_action: false,
            break_ok: true,
            continue_ok: true,
            dead: false,
            error: String::new(),
        }
    }

    /// The error text of the last [`ItemKind::Error`] item.
    pub fn error_text(&self) -> &str {
        &self.error
    }

    fn next(&mut self) -> Option<char> {
        let Some(&b) = self.input.as_bytes().get(self.pos) else {
            self.at_eof = true;
            return EOF;
        };
        if b.is_ascii() {
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
            }
            return Some(char::from(b));
        }
        let c = self.input[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn peek(&mut self) -> Option<char> {
        match self.input.as_bytes().get(self.pos) {
            None => None,
            Some(&b) if b.is_ascii() => Some(char::from(b)),
            Some(_) => self.input[self.pos..].chars().next(),
        }
    }

    fn backup(&mut self) {
        if !self.at_eof && self.pos > 0 {
            let b = self.input.as_bytes()[self.pos - 1];
            if b.is_ascii() {
                self.pos -= 1;
                if b == b'\n' {
                    self.line -= 1;
                }
                return;
            }
            if let Some(c) = self.input[..self.pos].chars().next_back() {
                self.pos -= c.len_utf8();
                if c == '\n' {
                    self.line -= 1;
                }
            }
        }
    }

    fn this_item(&mut self, kind: ItemKind) -> Item<'s> {
        let item = Item {
            kind,
            pos: self.start,
            val: &self.input[self.start..self.pos],
            line: self.start_line,
        };
        self.start = self.pos;
        self.start_line = self.line;
        item
    }

    fn ignore(&mut self) {
        self.line += count_newlines(&self.input[self.start..self.pos]);
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while let Some(c) = self.next() {
            if !valid.contains(c) {
                break;
            }
        }
        self.backup();
    }

    fn error(&mut self, msg: String) -> Item<'s> {
        let item = Item {
            kind: ItemKind::Error,
            pos: self.start,
            val: "",
            line: self.start_line,
        };
        self.error = msg;
        self.dead = true;
        item
    }

    #[inline]
    fn at_right_delim(&self) -> (bool, bool) {
        let rest = &self.input.as_bytes()[self.pos..];
        let right = self.right.as_bytes();
        if has_right_trim_marker_bytes(rest) && starts_with(&rest[TRIM_MARKER_LEN..], right) {
            return (true, true);
        }
        if starts_with(rest, right) {
            return (true, false);
        }
        (false, false)
    }

    fn at_terminator(&mut self) -> bool {
        match self.input.as_bytes().get(self.pos) {
            None => true,
            Some(&b) if is_space_byte(b) => true,
            Some(b'.' | b',' | b'|' | b':' | b')' | b'(') => true,
            _ => starts_with(&self.input.as_bytes()[self.pos..], self.right.as_bytes()),
        }
    }

    /// The next item, as Go's `nextItem`.
    pub fn next_item(&mut self) -> Item<'s> {
        if self.dead {
            return Item {
                kind: ItemKind::Eof,
                pos: 0,
                val: "EOF",
                line: self.start_line,
            };
        }
        let mut state = if self.inside_action {
            State::InsideAction
        } else {
            State::Text
        };
        loop {
            match self.step(state) {
                Ok(item) => return item,
                Err(next) => state = next,
            }
        }
    }

    /// Run one state: `Ok(item)` when it emits, `Err(next)` to go on.
    fn step(&mut self, state: State) -> Result<Item<'s>, State> {
        match state {
            State::Text => self.lex_text(),
            State::Comment => self.lex_comment(),
            State::RightDelim => Ok(self.lex_right_delim()),
            State::InsideAction => self.lex_inside_action(),
        }
    }

    fn lex_text(&mut self) -> Result<Item<'s>, State> {
        if let Some(x) = self.left_finder.find(&self.input.as_bytes()[self.pos..]) {
            if x > 0 {
                self.pos += x;
                let delim_end = self.pos + self.left.len();
                let mut trim = 0;
                if has_left_trim_marker(&self.input[delim_end..]) {
                    trim = trim_right_len(&self.input[self.start..self.pos]);
                }
                self.pos -= trim;
                self.line += count_newlines(&self.input[self.start..self.pos]);
                let item = self.this_item(ItemKind::Text);
                self.pos += trim;
                self.ignore();
                if !item.val.is_empty() {
                    return Ok(item);
                }
            }
            // Go's state machine goes to lexLeftDelim; go there directly.
            return self.lex_left_delim();
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.line += count_newlines(&self.input[self.start..self.pos]);
            return Ok(self.this_item(ItemKind::Text));
        }
        Ok(self.this_item(ItemKind::Eof))
    }

    fn lex_left_delim(&mut self) -> Result<Item<'s>, State> {
        self.pos += self.left.len();
        let trim = has_left_trim_marker(&self.input[self.pos..]);
        let after = if trim { TRIM_MARKER_LEN } else { 0 };
        if self.input[self.pos + after..].starts_with("/*") {
            self.pos += after;
            self.ignore();
            return Err(State::Comment);
        }
        let item = self.this_item(ItemKind::LeftDelim);
        self.inside_action = true;
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        Ok(item)
    }

    fn lex_comment(&mut self) -> Result<Item<'s>, State> {
        self.pos += 2;
        let Some(x) = memchr::memmem::find(&self.input.as_bytes()[self.pos..], b"*/") else {
            return Ok(self.error("unclosed comment".into()));
        };
        self.pos += x + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return Ok(self.error("comment ends before closing delimiter".into()));
        }
        self.line += count_newlines(&self.input[self.start..self.pos]);
        // The comment item itself is dropped (Go emits it only in
        // ParseComments mode).
        self.start = self.pos;
        self.start_line = self.line;
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += self.right.len();
        if trim {
            self.pos += trim_left_len(&self.input[self.pos..]);
        }
        self.ignore();
        Err(State::Text)
    }

    fn lex_right_delim(&mut self) -> Item<'s> {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += TRIM_MARKER_LEN;
            self.ignore();
        }
        self.pos += self.right.len();
        let item = self.this_item(ItemKind::RightDelim);
        if trim {
            self.pos += trim_left_len(&self.input[self.pos..]);
            self.ignore();
        }
        self.inside_action = false;
        item
    }

    fn lex_inside_action(&mut self) -> Result<Item<'s>, State> {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return Err(State::RightDelim);
            }
            return Ok(self.error("unclosed left paren".into()));
        }
        let c = self.next();
        let Some(c) = c else {
            return Ok(self.error("unclosed action".into()));
        };
        match c {
            // The next states are entered directly (Go's lexer returns
            // them as its next state function; the items are the same).
            c if is_space(c) => {
                self.backup();
                self.lex_space()
            }
            '=' => Ok(self.this_item(ItemKind::Assign)),
            ':' => {
                if self.next() != Some('=') {
                    return Ok(self.error("expected :=".into()));
                }
                Ok(self.this_item(ItemKind::Declare))
            }
            '|' => Ok(self.this_item(ItemKind::Pipe)),
            '"' => Ok(self.lex_quote()),
            '`' => Ok(self.lex_raw_quote()),
            '$' => Ok(self.lex_variable()),
            '\'' => Ok(self.lex_char()),
            '.' => {
                if let Some(&b) = self.input.as_bytes().get(self.pos) {
                    if !b.is_ascii_digit() {
                        return Ok(self.lex_field_or_variable(ItemKind::Field));
                    }
                }
                self.backup();
                Ok(self.lex_number())
            }
            '+' | '-' | '0'..='9' => {
                self.backup();
                Ok(self.lex_number())
            }
            c if is_alnum(c) => {
                self.backup();
                Ok(self.lex_identifier())
            }
            '(' => {
                self.paren_depth += 1;
                Ok(self.this_item(ItemKind::LeftParen))
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return Ok(self.error("unexpected right paren".into()));
                }
                Ok(self.this_item(ItemKind::RightParen))
            }
            c if c.is_ascii() && (' '..='~').contains(&c) => Ok(self.this_item(ItemKind::Char)),
            c => Ok(self.error(format!(
                "unrecognized character in action: {}",
                format_unicode(Some(c))
            ))),
        }
    }

    fn lex_space(&mut self) -> Result<Item<'s>, State> {
        let mut n = 0;
        while let Some(c) = self.peek() {
            if !is_space(c) {
                break;
            }
            self.next();
            n += 1;
        }
        let back = &self.input[self.pos - 1..];
        if has_right_trim_marker(back) && back[TRIM_MARKER_LEN..].starts_with(self.right) {
            self.backup();
            if n == 1 {
                return Err(State::RightDelim);
            }
        }
        Ok(self.this_item(ItemKind::Space))
    }

    fn lex_identifier(&mut self) -> Item<'s> {
        self.skip_ascii_alnum();
        loop {
            let c = self.next();
            match c {
                Some(c) if is_alnum(c) => {}
                _ => {
                    self.backup();
                    let word = &self.input[self.start..self.pos];
                    if !self.at_terminator() {
                        return self.error(format!("bad character {}", format_unicode(c)));
                    }
                    let kind = match word {
                        "block" => ItemKind::Block,
                        "break" if self.break_ok => ItemKind::Break,
                        "continue" if self.continue_ok => ItemKind::Continue,
                        "define" => ItemKind::Define,
                        "else" => ItemKind::Else,
                        "end" => ItemKind::End,
                        "if" => ItemKind::If,
                        "range" => ItemKind::Range,
                        "nil" => ItemKind::Nil,
                        "template" => ItemKind::Template,
                        "with" => ItemKind::With,
                        "true" | "false" => ItemKind::Bool,
                        _ => ItemKind::Identifier,
                    };
                    return self.this_item(kind);
                }
            }
        }
    }

    fn lex_variable(&mut self) -> Item<'s> {
        if self.at_terminator() {
            return self.this_item(ItemKind::Variable);
        }
        self.lex_field_or_variable(ItemKind::Variable)
    }

    fn lex_field_or_variable(&mut self, kind: ItemKind) -> Item<'s> {
        if self.at_terminator() {
            return self.this_item(if kind == ItemKind::Variable {
                ItemKind::Variable
            } else {
                ItemKind::Dot
            });
        }
        self.skip_ascii_alnum();
        let mut c;
        loop {
            c = self.next();
            match c {
                Some(ch) if is_alnum(ch) => {}
                _ => {
                    self.backup();
                    break;
                }
            }
        }
        if !self.at_terminator() {
            return self.error(format!("bad character {}", format_unicode(c)));
        }
        self.this_item(kind)
    }

    /// Skip a run of ASCII letters, digits and `_` (what the character
    /// loops of identifiers and fields accept; they go on from there with
    /// the rest of Unicode).
    fn skip_ascii_alnum(&mut self) {
        let bytes = self.input.as_bytes();
        let mut p = self.pos;
        while p < bytes.len() && ASCII_ALNUM[usize::from(bytes[p])] {
            p += 1;
        }
        self.pos = p;
    }

    fn lex_char(&mut self) -> Item<'s> {
        loop {
            match self.next() {
                Some('\\') => match self.next() {
                    Some(c) if c != '\n' => {}
                    _ => return self.error("unterminated character constant".into()),
                },
                None | Some('\n') => return self.error("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        self.this_item(ItemKind::CharConstant)
    }

    fn lex_number(&mut self) -> Item<'s> {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return self.error(format!("bad number syntax: {}", crate::fmt::quote(&text)));
        }
        if let Some('+' | '-') = self.peek() {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_string();
                return self.error(format!("bad number syntax: {}", crate::fmt::quote(&text)));
            }
            return self.this_item(ItemKind::Complex);
        }
        self.this_item(ItemKind::Number)
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if let Some(c) = self.peek() {
            if is_alnum(c) {
                self.next();
                return false;
            }
        }
        true
    }

    fn lex_quote(&mut self) -> Item<'s> {
        loop {
            // Go reads rune by rune; only `\`, `"` and newlines matter, so
            // jump to the next of them.
            let rest = &self.input.as_bytes()[self.pos..];
            let Some(i) = memchr::memchr3(b'\\', b'"', b'\n', rest) else {
                self.pos = self.input.len();
                self.at_eof = true;
                return self.error("unterminated quoted string".into());
            };
            let b = rest[i];
            self.pos += i + 1;
            match b {
                b'\\' => match self.next() {
                    Some(c) if c != '\n' => {}
                    _ => return self.error("unterminated quoted string".into()),
                },
                b'"' => break,
                _ => {
                    self.line += 1;
                    return self.error("unterminated quoted string".into());
                }
            }
        }
        self.this_item(ItemKind::String)
    }

    fn lex_raw_quote(&mut self) -> Item<'s> {
        let rest = &self.input.as_bytes()[self.pos..];
        let Some(i) = memchr::memchr(b'`', rest) else {
            self.line += count_newlines(&self.input[self.pos..]);
            self.pos = self.input.len();
            self.at_eof = true;
            return self.error("unterminated raw quoted string".into());
        };
        self.line += count_newlines(&self.input[self.pos..self.pos + i]);
        self.pos += i + 1;
        self.this_item(ItemKind::RawString)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(ItemKind, String)> {
        let mut l = Lexer::new(src, "", "");
        let mut out = Vec::new();
        loop {
            let it = l.next_item();
            let k = it.kind;
            let val = if k == ItemKind::Error {
                l.error_text().to_string()
            } else {
                it.val.to_string()
            };
            out.push((k, val));
            if k == ItemKind::Eof || k == ItemKind::Error {
                break;
            }
        }
        out
    }

    #[test]
    fn trim_markers_eat_whitespace() {
        use ItemKind::*;
        assert_eq!(
            kinds("a \n{{- .x -}}\n b"),
            vec![
                (Text, "a".into()),
                (LeftDelim, "{{".into()),
                (Field, ".x".into()),
                (RightDelim, "}}".into()),
                (Text, "b".into()),
                (Eof, "".into()),
            ]
        );
    }

    #[test]
    fn comments_vanish_with_trim() {
        use ItemKind::*;
        assert_eq!(
            kinds("a  {{- /* c */ -}}  b"),
            vec![(Text, "a".into()), (Text, "b".into()), (Eof, "".into())]
        );
    }

    #[test]
    fn quoted_strings_escapes_and_lines() {
        use ItemKind::*;
        let k = kinds("{{\"a\\\"b\" `x\ny` \"\\\\\"}}");
        assert_eq!(k[1], (String, "\"a\\\"b\"".into()));
        assert_eq!(k[3], (RawString, "`x\ny`".into()));
        assert_eq!(k[5], (String, "\"\\\\\"".into()));
        // The item after a raw string with a newline is on the next line.
        let mut l = Lexer::new("{{`x\ny` 1}}", "", "");
        let lines: Vec<(ItemKind, usize)> = std::iter::from_fn(|| {
            let it = l.next_item();
            (it.kind != Eof).then_some((it.kind, it.line))
        })
        .collect();
        assert_eq!(lines[1], (RawString, 1));
        assert_eq!(lines[3], (Number, 2));
        assert_eq!(
            kinds("{{\"ab")[1],
            (Error, "unterminated quoted string".into())
        );
        assert_eq!(
            kinds("{{\"a\nb\"}}")[1],
            (Error, "unterminated quoted string".into())
        );
        assert_eq!(
            kinds("{{\"a\\")[1],
            (Error, "unterminated quoted string".into())
        );
        assert_eq!(
            kinds("{{`ab")[1],
            (Error, "unterminated raw quoted string".into())
        );
    }

    #[test]
    fn numbers_and_bad_numbers() {
        use ItemKind::*;
        let k = kinds("{{1_000 0x1F 1e3 'a' 3x}}");
        assert_eq!(k[1], (Number, "1_000".into()));
        assert_eq!(k[3], (Number, "0x1F".into()));
        assert_eq!(k[5], (Number, "1e3".into()));
        assert_eq!(k[7], (CharConstant, "'a'".into()));
        assert_eq!(k[9], (Error, "bad number syntax: \"3x\"".into()));
    }
}
