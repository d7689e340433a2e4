//! The lexer: Go `text/template/parse` tokenisation, item for item.
//!
//! It produces the same items (with the same byte positions) as Go's
//! lexer, because the parser's error messages quote them: `unexpected
//! "}" in operand`, `unexpected <end> in input`, `bad character U+0021 '!'`.
//! Go's item line is always the line of the item's position, so lines are
//! counted only when an error needs one ([`Lexer::line_at`]).
//!
//! One difference: Go emits an `itemSpace` for each run of spaces inside
//! an action, and its parser skips them except to tell whether an operand
//! is followed by space. Here the run is skipped and the item after it
//! carries [`Item::space_before`] instead.

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
    /// Whether Go's lexer emitted an `itemSpace` right before this item
    /// (spaces inside an action, other than a single one before `-}}`).
    pub space_before: bool,
    pub pos: usize,
    pub val: &'s str,
}

impl<'s> Item<'s> {
    /// The first `.name` of a field item (which holds a whole chain of
    /// adjacent fields, `.a.b.c`, where Go has one item per field).
    pub fn first_field(&self) -> &'s str {
        match self.val.bytes().skip(1).position(|b| b == b'.') {
            Some(i) => &self.val[..i + 1],
            None => self.val,
        }
    }
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
                // A joined field item stands for Go's first field item.
                let val = match self.kind {
                    ItemKind::Field => self.first_field(),
                    _ => self.val,
                };
                if val.chars().count() > 10 {
                    // `%.10q...`: the first ten runes, quoted.
                    let head: String = val.chars().take(10).collect();
                    write!(f, "{}...", crate::fmt::quote(&head))
                } else {
                    f.write_str(&crate::fmt::quote(val))
                }
            }
        }
    }
}

pub(crate) struct Lexer<'s> {
    input: &'s str,
    left: &'s str,
    right: &'s [u8],
    /// The right delimiter's first byte.
    right0: u8,
    pos: usize,
    start: usize,
    paren_depth: i64,
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

/// Newlines in `s`.
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

/// The keyword item of an identifier, if it is one (`break` and
/// `continue` only where they are not function names).
fn keyword(word: &str, break_ok: bool, continue_ok: bool) -> ItemKind {
    match word {
        "block" => ItemKind::Block,
        "break" if break_ok => ItemKind::Break,
        "continue" if continue_ok => ItemKind::Continue,
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
    }
}

impl<'s> Lexer<'s> {
    pub fn new(input: &'s str, left: &'s str, right: &'s str) -> Lexer<'s> {
        let left = if left.is_empty() { "{{" } else { left };
        let right = if right.is_empty() { "}}" } else { right }.as_bytes();
        Lexer {
            input,
            left,
            left_finder: memchr::memmem::Finder::new(left.as_bytes()),
            right,
            right0: right[0],
            pos: 0,
            start: 0,
            paren_depth: 0,
            inside_action: false,
            break_ok: true,
            continue_ok: true,
            dead: false,
            error: String::new(),
        }
    }

    /// The text being lexed.
    pub fn input(&self) -> &'s str {
        self.input
    }

    /// The error text of the last [`ItemKind::Error`] item.
    pub fn error_text(&self) -> &str {
        &self.error
    }

    fn next(&mut self) -> Option<char> {
        let Some(&b) = self.input.as_bytes().get(self.pos) else {
            return EOF;
        };
        if b.is_ascii() {
            self.pos += 1;
            return Some(char::from(b));
        }
        let c = self.input[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// The character at `pos`, if any.
    fn char_at(&self, pos: usize) -> Option<char> {
        match self.input.as_bytes().get(pos) {
            None => None,
            Some(&b) if b.is_ascii() => Some(char::from(b)),
            Some(_) => self.input[pos..].chars().next(),
        }
    }

    fn this_item(&mut self, kind: ItemKind) -> Item<'s> {
        let item = Item {
            kind,
            space_before: false,
            pos: self.start,
            val: &self.input[self.start..self.pos],
        };
        self.start = self.pos;
        item
    }

    fn ignore(&mut self) {
        self.start = self.pos;
    }

    /// Go's line of the item at `pos` (1-based).
    pub fn line_at(&self, pos: usize) -> usize {
        1 + count_newlines(&self.input[..pos.min(self.input.len())])
    }

    /// Go's `accept` for a set of ASCII bytes.
    fn accept(&mut self, valid: &[u8]) -> bool {
        match self.input.as_bytes().get(self.pos) {
            Some(b) if valid.contains(b) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Go's `acceptRun` for a set of ASCII bytes.
    fn accept_run(&mut self, valid: &[u8]) {
        let bytes = self.input.as_bytes();
        while self.pos < bytes.len() && valid.contains(&bytes[self.pos]) {
            self.pos += 1;
        }
    }

    fn error(&mut self, msg: String) -> Item<'s> {
        let item = Item {
            kind: ItemKind::Error,
            space_before: false,
            pos: self.start,
            val: "",
        };
        self.error = msg;
        self.dead = true;
        item
    }

    /// Go's `atRightDelim` at `pos`: (at a delimiter, with a trim marker).
    #[inline]
    fn right_delim_at(&self, pos: usize) -> (bool, bool) {
        let rest = &self.input.as_bytes()[pos..];
        let Some(&b) = rest.first() else {
            return (false, false);
        };
        if is_space_byte(b)
            && has_right_trim_marker_bytes(rest)
            && starts_with(&rest[TRIM_MARKER_LEN..], self.right)
        {
            return (true, true);
        }
        if b == self.right0 && rest.starts_with(self.right) {
            return (true, false);
        }
        (false, false)
    }

    fn at_terminator(&self) -> bool {
        match self.input.as_bytes().get(self.pos) {
            None => true,
            Some(&b) if is_space_byte(b) => true,
            Some(b'.' | b',' | b'|' | b':' | b')' | b'(') => true,
            _ => starts_with(&self.input.as_bytes()[self.pos..], self.right),
        }
    }

    /// The next item, as Go's `nextItem` (less the `itemSpace` items).
    pub fn next_item(&mut self) -> Item<'s> {
        if self.dead {
            return Item {
                kind: ItemKind::Eof,
                space_before: false,
                // Go's line is the error item's.
                pos: self.start,
                val: "EOF",
            };
        }
        if self.inside_action {
            self.lex_inside_action()
        } else {
            self.lex_text()
        }
    }

    /// Go's lexText, with lexLeftDelim and lexComment (which go back to
    /// lexText) entered directly.
    fn lex_text(&mut self) -> Item<'s> {
        loop {
            let Some(x) = self.left_finder.find(&self.input.as_bytes()[self.pos..]) else {
                self.pos = self.input.len();
                if self.pos > self.start {
                    return self.this_item(ItemKind::Text);
                }
                return self.this_item(ItemKind::Eof);
            };
            if x > 0 {
                self.pos += x;
                let delim_end = self.pos + self.left.len();
                let mut trim = 0;
                if has_left_trim_marker(&self.input[delim_end..]) {
                    trim = trim_right_len(&self.input[self.start..self.pos]);
                }
                self.pos -= trim;
                let item = self.this_item(ItemKind::Text);
                self.pos += trim;
                self.ignore();
                if !item.val.is_empty() {
                    return item;
                }
            }
            // lexLeftDelim.
            self.pos += self.left.len();
            let trim = has_left_trim_marker(&self.input[self.pos..]);
            let after = if trim { TRIM_MARKER_LEN } else { 0 };
            if self.input[self.pos + after..].starts_with("/*") {
                self.pos += after;
                self.ignore();
                if let Some(err) = self.lex_comment() {
                    return err;
                }
                continue;
            }
            let item = self.this_item(ItemKind::LeftDelim);
            self.inside_action = true;
            self.pos += after;
            self.ignore();
            self.paren_depth = 0;
            return item;
        }
    }

    /// Go's lexComment: skips the comment, or returns its error item.
    fn lex_comment(&mut self) -> Option<Item<'s>> {
        self.pos += 2;
        let Some(x) = memchr::memmem::find(&self.input.as_bytes()[self.pos..], b"*/") else {
            return Some(self.error("unclosed comment".into()));
        };
        self.pos += x + 2;
        let (delim, trim) = self.right_delim_at(self.pos);
        if !delim {
            return Some(self.error("comment ends before closing delimiter".into()));
        }
        // The comment item itself is dropped (Go emits it only in
        // ParseComments mode).
        self.start = self.pos;
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += self.right.len();
        if trim {
            self.pos += trim_left_len(&self.input[self.pos..]);
        }
        self.ignore();
        None
    }

    fn lex_right_delim(&mut self, trim: bool) -> Item<'s> {
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

    /// Go's lexInsideAction at a right delimiter.
    fn right_delim_or_unclosed(&mut self, trim: bool) -> Item<'s> {
        if self.paren_depth == 0 {
            return self.lex_right_delim(trim);
        }
        self.error("unclosed left paren".into())
    }

    /// Go's lexInsideAction, lexSpace and the state after it: the next
    /// item of an action, with a run of spaces before it skipped.
    fn lex_inside_action(&mut self) -> Item<'s> {
        let bytes = self.input.as_bytes();
        let Some(&b) = bytes.get(self.pos) else {
            return self.error("unclosed action".into());
        };
        if b == self.right0 || is_space_byte(b) {
            let (delim, trim) = self.right_delim_at(self.pos);
            if delim {
                return self.right_delim_or_unclosed(trim);
            }
        }
        if !is_space_byte(b) {
            return self.lex_operand(b);
        }
        // lexSpace: the run of spaces.
        let run = self.pos;
        let mut p = self.pos;
        while p < bytes.len() && is_space_byte(bytes[p]) {
            p += 1;
        }
        if p < bytes.len() && bytes[p] == b'-' && starts_with(&bytes[p + 1..], self.right) {
            // A trim-marked delimiter: the last space belongs to it.
            self.pos = p - 1;
            if p - run == 1 {
                // Go goes straight to lexRightDelim (no paren check).
                return self.lex_right_delim(true);
            }
            self.start = self.pos;
            let mut item = self.right_delim_or_unclosed(true);
            item.space_before = true;
            return item;
        }
        self.pos = p;
        self.start = p;
        // lexInsideAction after the space item.
        let mut item = match bytes.get(p) {
            None => self.error("unclosed action".into()),
            Some(&b) => {
                if b == self.right0 && bytes[p..].starts_with(self.right) {
                    self.right_delim_or_unclosed(false)
                } else {
                    self.lex_operand(b)
                }
            }
        };
        item.space_before = true;
        item
    }

    /// The rest of Go's lexInsideAction, at the byte `b` (not a space and
    /// not the start of a right delimiter).
    fn lex_operand(&mut self, b: u8) -> Item<'s> {
        let bytes = self.input.as_bytes();
        match b {
            b'=' => {
                self.pos += 1;
                self.this_item(ItemKind::Assign)
            }
            b':' => {
                self.pos += 1;
                if bytes.get(self.pos) != Some(&b'=') {
                    return self.error("expected :=".into());
                }
                self.pos += 1;
                self.this_item(ItemKind::Declare)
            }
            b'|' => {
                self.pos += 1;
                self.this_item(ItemKind::Pipe)
            }
            b'"' => {
                self.pos += 1;
                self.lex_quote()
            }
            b'`' => {
                self.pos += 1;
                self.lex_raw_quote()
            }
            b'$' => {
                self.pos += 1;
                self.lex_field_or_variable(ItemKind::Variable)
            }
            b'\'' => {
                self.pos += 1;
                self.lex_char()
            }
            b'.' => match bytes.get(self.pos + 1) {
                Some(d) if !d.is_ascii_digit() => {
                    self.pos += 1;
                    self.lex_field_or_variable(ItemKind::Field)
                }
                _ => self.lex_number(),
            },
            b'+' | b'-' | b'0'..=b'9' => self.lex_number(),
            b'(' => {
                self.pos += 1;
                self.paren_depth += 1;
                self.this_item(ItemKind::LeftParen)
            }
            b')' => {
                self.pos += 1;
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error("unexpected right paren".into());
                }
                self.this_item(ItemKind::RightParen)
            }
            b if ASCII_ALNUM[usize::from(b)] => self.lex_identifier(),
            b' '..=b'~' => {
                self.pos += 1;
                self.this_item(ItemKind::Char)
            }
            _ => {
                let c = self.char_at(self.pos);
                match c {
                    Some(c) if is_alnum(c) => self.lex_identifier(),
                    _ => {
                        if let Some(c) = c {
                            self.pos += c.len_utf8();
                        }
                        self.error(format!(
                            "unrecognized character in action: {}",
                            format_unicode(c)
                        ))
                    }
                }
            }
        }
    }

    /// Skip the alphanumeric run at `pos` (Go's loop of `next` while
    /// `isAlphaNumeric`, then `backup`), returning the character that
    /// ends it (`None` at the end of the input).
    fn skip_alnum(&mut self) -> Option<char> {
        let bytes = self.input.as_bytes();
        let mut p = self.pos;
        loop {
            while p < bytes.len() && ASCII_ALNUM[usize::from(bytes[p])] {
                p += 1;
            }
            self.pos = p;
            let &b = bytes.get(p)?;
            if b.is_ascii() {
                return Some(char::from(b));
            }
            let c = self.char_at(p)?;
            if !is_alnum(c) {
                return Some(c);
            }
            p += c.len_utf8();
        }
    }

    fn lex_identifier(&mut self) -> Item<'s> {
        let c = self.skip_alnum();
        if !self.at_terminator() {
            return self.error(format!("bad character {}", format_unicode(c)));
        }
        let word = &self.input[self.start..self.pos];
        let kind = keyword(word, self.break_ok, self.continue_ok);
        self.this_item(kind)
    }

    /// Go's lexFieldOrVariable, after the `.` or `$`.
    fn lex_field_or_variable(&mut self, kind: ItemKind) -> Item<'s> {
        if self.at_terminator() {
            return self.this_item(if kind == ItemKind::Variable {
                ItemKind::Variable
            } else {
                ItemKind::Dot
            });
        }
        let c = self.skip_alnum();
        if !self.at_terminator() {
            return self.error(format!("bad character {}", format_unicode(c)));
        }
        if kind == ItemKind::Field {
            self.join_fields();
        }
        self.this_item(kind)
    }

    /// Go emits each `.name` of a chain (`.a.b.c`) as its own field item
    /// and the parser joins them; take the fields that follow into this
    /// item, each as long as Go would lex it as a field (not `.` alone,
    /// not a number, not an error: those are left to the next item).
    fn join_fields(&mut self) {
        let bytes = self.input.as_bytes();
        while bytes.get(self.pos) == Some(&b'.') {
            let field = self.pos;
            match bytes.get(field + 1) {
                Some(d) if !d.is_ascii_digit() => {}
                _ => return,
            }
            self.pos += 1;
            if self.at_terminator() {
                self.pos = field;
                return;
            }
            self.skip_alnum();
            if !self.at_terminator() {
                self.pos = field;
                return;
            }
        }
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
        if let Some(b'+' | b'-') = self.input.as_bytes().get(self.pos) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_string();
                return self.error(format!("bad number syntax: {}", crate::fmt::quote(&text)));
            }
            return self.this_item(ItemKind::Complex);
        }
        self.this_item(ItemKind::Number)
    }

    fn scan_number(&mut self) -> bool {
        self.accept(b"+-");
        let mut digits: &[u8] = b"0123456789_";
        if self.accept(b"0") {
            if self.accept(b"xX") {
                digits = b"0123456789abcdefABCDEF_";
            } else if self.accept(b"oO") {
                digits = b"01234567_";
            } else if self.accept(b"bB") {
                digits = b"01_";
            }
        }
        self.accept_run(digits);
        if self.accept(b".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept(b"eE") {
            self.accept(b"+-");
            self.accept_run(b"0123456789_");
        }
        if digits.len() == 23 && self.accept(b"pP") {
            self.accept(b"+-");
            self.accept_run(b"0123456789_");
        }
        self.accept(b"i");
        if let Some(c) = self.char_at(self.pos) {
            if is_alnum(c) {
                self.pos += c.len_utf8();
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
                _ => return self.error("unterminated quoted string".into()),
            }
        }
        self.this_item(ItemKind::String)
    }

    fn lex_raw_quote(&mut self) -> Item<'s> {
        let rest = &self.input.as_bytes()[self.pos..];
        let Some(i) = memchr::memchr(b'`', rest) else {
            self.pos = self.input.len();
            return self.error("unterminated raw quoted string".into());
        };
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

    /// `(kind, space_before, line)` of each item up to EOF.
    fn spaced(src: &str) -> Vec<(ItemKind, bool, usize)> {
        let mut l = Lexer::new(src, "", "");
        std::iter::from_fn(|| {
            let it = l.next_item();
            (it.kind != ItemKind::Eof).then_some((it.kind, it.space_before, l.line_at(it.pos)))
        })
        .collect()
    }

    #[test]
    fn space_runs_mark_the_next_item() {
        use ItemKind::*;
        // Go: LeftDelim Field Space Field Space RightDelim.
        assert_eq!(
            spaced("{{.a .b\n }}"),
            vec![
                (LeftDelim, false, 1),
                (Field, false, 1),
                (Field, true, 1),
                (RightDelim, true, 2),
            ]
        );
        // One space before `-}}` belongs to the trim marker (no space
        // item); more leave a space item of all but the last.
        assert_eq!(spaced("{{.a -}}")[2], (RightDelim, false, 1));
        assert_eq!(spaced("{{.a \n -}}")[2], (RightDelim, true, 2));
        assert_eq!(spaced("{{.a\n\n-}}")[2], (RightDelim, true, 3));
        // A chain's fields are adjacent; a space ends it.
        assert_eq!(
            spaced("{{(.a).b .c}}")
                .iter()
                .map(|t| (t.0, t.1))
                .collect::<Vec<_>>(),
            vec![
                (LeftDelim, false),
                (LeftParen, false),
                (Field, false),
                (RightParen, false),
                (Field, false),
                (Field, true),
                (RightDelim, false),
            ]
        );
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
        assert_eq!(k[2], (RawString, "`x\ny`".into()));
        assert_eq!(k[3], (String, "\"\\\\\"".into()));
        // The item after a raw string with a newline is on the next line.
        let mut l = Lexer::new("{{`x\ny` 1}}", "", "");
        let lines: Vec<(ItemKind, usize)> = std::iter::from_fn(|| {
            let it = l.next_item();
            (it.kind != Eof).then_some((it.kind, l.line_at(it.pos)))
        })
        .collect();
        assert_eq!(lines[1], (RawString, 1));
        assert_eq!(lines[2], (Number, 2));
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
        assert_eq!(k[2], (Number, "0x1F".into()));
        assert_eq!(k[3], (Number, "1e3".into()));
        assert_eq!(k[4], (CharConstant, "'a'".into()));
        assert_eq!(k[5], (Error, "bad number syntax: \"3x\"".into()));
    }
}
