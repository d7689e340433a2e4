//! A fast reader for the YAML that rendered manifests and values files are
//! written in, building the very [`Document`] that `read_document` builds
//! from granit-parser's events.
//!
//! Why hand-written: every rendered manifest is parsed (Helm sorts and
//! checks them), and granit costs 140–280 instructions a byte; no crate
//! gives granit's exact events (its scalar values, styles, the `~` it
//! emits for an empty value, its block scalar chomping with libyaml's
//! end-of-input rule) any faster, and any other parser would differ from
//! it somewhere. So this reader knows a small, common subset exactly:
//!
//! - block mappings and block sequences at any indentation (a sequence at
//!   its key's indentation, `- k: v` compact mappings, `- - x`);
//! - plain, single- and double-quoted scalars: keys on one line, values
//!   also over several lines indented past their collection (folded as
//!   granit folds them), escapes decoded as granit decodes them; empty
//!   values, comments and blank lines, one leading `---` line;
//! - flow sequences of plain and quoted scalars on one line, `{}`, also
//!   as the whole document;
//! - literal and folded block scalars with clip, strip or keep chomping
//!   (no indentation indicator), following granit's algorithm line by line;
//! - an anchor (`&name`, ASCII letters, digits, `_-.`) before a plain or
//!   quoted scalar value on its line, and an alias (`*name`) of one as a
//!   whole value (the alias node points at the anchored node, as granit's
//!   events make it).
//!
//! Anything else (tabs, `\r`, other anchors and aliases, tags, `?` keys,
//! directives, `...`, a second document, multi-line keys, a comment inside
//! a multi-line plain scalar, an escaped line break, a long key, control
//! characters, U+2028/U+2029/U+FEFF/U+0085, any indentation it is not sure
//! of) makes it answer `None`, "not sure", and the caller reads the text
//! with granit as before. So the fallback keeps the semantics: a `Some` is
//! only ever returned for text granit reads without error into the same
//! nodes (goyaml's one-line rule for implicit keys, checked by
//! `read_document` outside granit, holds too: keys here are on one line),
//! and every error (with its message) still comes from the granit path.
//! The differential tests below check that on rendered manifests, values
//! files and conformance cases, on mutated documents and on random
//! documents of YAML line pieces.

use super::{Document, RawNode, ScalarStyle};

/// Deepest block nesting followed here (recursion is on the Rust stack;
/// deeper documents go to granit, which has its own limit).
const MAX_DEPTH: usize = 128;

/// Longest key accepted, in bytes (granit drops a simple key candidate
/// after 1024 characters).
const MAX_KEY_BYTES: usize = 1000;

/// `text` as the node arena, or `None` when it is outside the subset this
/// reader is sure of (then granit must read it).
/// (Never inlined, so that profiles show its cost apart from granit's.)
#[inline(never)]
pub(super) fn read_document(text: &str) -> Option<Document> {
    if !simple_bytes(text.as_bytes()) {
        return None;
    }
    let mut r = Reader {
        text,
        src: text.as_bytes(),
        pos: 0,
        line_start: 0,
        // About one node per line: no regrowing for typical documents.
        nodes: Vec::with_capacity(text.len() / 24 + 4),
        entries: Vec::new(),
        depth: 0,
        anchors: Vec::new(),
    };
    let root = r.document()?;
    Some(Document {
        nodes: r.nodes,
        root,
    })
}

/// Whether the text is free of the bytes and characters this reader
/// leaves to granit: control characters (tabs and `\r` included), DEL, C1
/// controls and NEL, the line and paragraph separators, the byte-order
/// mark and the non-characters U+FFFE/U+FFFF. Eight
/// bytes at a time: a word of printable ASCII and line feeds passes with a
/// few operations, others are looked at byte by byte.
fn simple_bytes(b: &[u8]) -> bool {
    let mut i = 0;
    while i + 8 <= b.len() {
        if !plain_ascii_word(word_at(b, i)) {
            for j in i..i + 8 {
                if !simple_byte(b, j) {
                    return false;
                }
            }
        }
        i += 8;
    }
    (i..b.len()).all(|j| simple_byte(b, j))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `i` (which has eight more) as a little-endian word.
fn word_at(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// Whether every byte of `x` is `\n` or in `0x20..0x7F` (each test below
/// is exact per byte: no carry crosses a byte).
fn plain_ascii_word(x: u64) -> bool {
    let low7 = x & !HIGH;
    // High bit of each byte whose low 7 bits are >= 0x20, resp. == 0x7F.
    let at_least_space = (low7 + ONES * 0x60) & HIGH;
    let del = (low7 + ONES) & HIGH;
    let nl = x ^ (ONES * 0x0A);
    let not_nl = (((nl & !HIGH) + !HIGH) | nl) & HIGH;
    let control = !at_least_space & HIGH & not_nl;
    (x & HIGH) | control | del == 0
}

fn simple_byte(b: &[u8], j: usize) -> bool {
    match b[j] {
        b'\n' | 0x20..=0x7E => true,
        0..=0x1F | 0x7F => false,
        // U+0080..U+009F (C1 controls and NEL)
        0xC2 => !matches!(b.get(j + 1), Some(0x80..=0x9F)),
        // U+2028, U+2029
        0xE2 => !(b.get(j + 1) == Some(&0x80) && matches!(b.get(j + 2), Some(0xA8 | 0xA9))),
        // U+FEFF, U+FFFE, U+FFFF
        0xEF => !matches!(
            (b.get(j + 1), b.get(j + 2)),
            (Some(0xBB), Some(0xBF)) | (Some(0xBF), Some(0xBE | 0xBF))
        ),
        _ => true,
    }
}

/// The number of spaces from `i` on, eight at a time.
fn spaces_at(b: &[u8], i: usize) -> usize {
    let mut j = i;
    while j + 8 <= b.len() {
        let other = word_at(b, j) ^ (ONES * 0x20);
        if other != 0 {
            return j - i + (other.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < b.len() && b[j] == b' ' {
        j += 1;
    }
    j - i
}

/// A scalar read but not yet stored (a key is stored after its mapping).
struct Scalar {
    value: String,
    style: ScalarStyle,
}

/// The indentation of the next content line, `None` at the end of input.
type Next = Option<usize>;

struct Reader<'a> {
    text: &'a str,
    src: &'a [u8],
    /// The byte being read.
    pos: usize,
    /// Where the line of `pos` starts.
    line_start: usize,
    nodes: Vec<RawNode>,
    /// The entries of the open mappings, innermost last (each mapping
    /// then gets one exactly sized vector).
    entries: Vec<(usize, usize)>,
    depth: usize,
    /// Anchors defined so far (name, anchored node), latest last.
    anchors: Vec<(&'a str, usize)>,
}

/// Whether `c` may be in an anchor name here (a subset of YAML's anchor
/// characters; a name with any other goes to granit).
fn anchor_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

impl<'a> Reader<'a> {
    /// The byte at `i`, 0 past the end (the text has no NUL).
    fn at(&self, i: usize) -> u8 {
        self.src.get(i).copied().unwrap_or(0)
    }

    fn peek(&self) -> u8 {
        self.at(self.pos)
    }

    /// Past a run of spaces (not tabs).
    fn skip_spaces(&mut self) {
        while self.peek() == b' ' {
            self.pos += 1;
        }
    }

    fn eof(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn col(&self) -> usize {
        self.pos - self.line_start
    }

    /// Whether the byte at `i` ends a token: a space, a line break or the
    /// end of input.
    fn is_sep(&self, i: usize) -> bool {
        i >= self.src.len() || matches!(self.src[i], b' ' | b'\n')
    }

    /// A block sequence entry starts here (`-` then a separator).
    fn at_entry(&self) -> bool {
        self.peek() == b'-' && self.is_sep(self.pos + 1)
    }

    fn push(&mut self, node: RawNode) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn push_scalar(&mut self, s: Scalar) -> usize {
        self.push(RawNode::Scalar {
            value: s.value,
            style: s.style,
            tag: None,
        })
    }

    /// granit's event for an empty value: a plain `~`.
    fn push_empty(&mut self) -> usize {
        self.push_scalar(Scalar {
            value: "~".to_string(),
            style: ScalarStyle::Plain,
        })
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    // ---- lines

    /// From the start of a line, skips blank and comment lines; stops at
    /// the first content character of the next content line and returns
    /// its indentation. `None` (not sure) for a document marker at column
    /// 0 unless `marker_ok`.
    fn next_content(&mut self, marker_ok: bool) -> Option<Next> {
        loop {
            let start = self.pos;
            let i = start + spaces_at(self.src, start);
            if i >= self.src.len() {
                self.pos = i;
                self.line_start = start;
                return Some(None);
            }
            match self.src[i] {
                b'\n' => self.pos = i + 1,
                b'#' => {
                    self.pos = match memchr::memchr(b'\n', &self.src[i..]) {
                        Some(n) => i + n + 1,
                        None => self.src.len(),
                    }
                }
                _ => {
                    self.pos = i;
                    self.line_start = start;
                    if i == start
                        && !marker_ok
                        && (self.src[i..].starts_with(b"---") || self.src[i..].starts_with(b"..."))
                    {
                        return None;
                    }
                    return Some(Some(i - start));
                }
            }
        }
    }

    /// After a node that ends its line: spaces, then an optional comment
    /// (after a space), then the line break or the end of input; leaves
    /// `pos` at the start of the next line.
    fn end_line(&mut self) -> Option<()> {
        let mut i = self.pos;
        while self.at(i) == b' ' {
            i += 1;
        }
        if i >= self.src.len() {
            self.pos = i;
            self.line_start = i;
            return Some(());
        }
        match self.src[i] {
            b'\n' => {}
            b'#' if i > 0 && self.src[i - 1] == b' ' => {}
            _ => return None,
        }
        self.pos = match memchr::memchr(b'\n', &self.src[i..]) {
            Some(n) => i + n + 1,
            None => self.src.len(),
        };
        self.line_start = self.pos;
        Some(())
    }

    // ---- the document

    fn document(&mut self) -> Option<Option<usize>> {
        let mut explicit = false;
        let mut next = self.next_content(true)?;
        if next == Some(0) && self.src[self.pos..].starts_with(b"---") && self.is_sep(self.pos + 3)
        {
            explicit = true;
            self.pos += 3;
            self.end_line()?;
            next = self.next_content(false)?;
        }
        let Some(col) = next else {
            return Some(explicit.then(|| self.push_empty()));
        };
        if col == 0
            && (self.src[self.pos..].starts_with(b"---")
                || self.src[self.pos..].starts_with(b"..."))
        {
            return None;
        }
        if matches!(self.peek(), b'{' | b'[') {
            // A flow collection as the whole document (`{}` is what
            // `toYaml` makes of an empty map, read back by `fromYaml`).
            let root = self.nodes.len();
            let after = self.inline_value(col)?;
            return after.is_none().then_some(Some(root));
        }
        self.enter()?;
        let root = self.nodes.len();
        let after = if self.at_entry() {
            self.block_seq(col)?
        } else {
            if !matches!(self.peek(), b'"' | b'\'')
                && !plain_start(self.peek(), self.at(self.pos + 1))
            {
                return None;
            }
            let (key, colon) = self.scalar(None)?;
            if !colon {
                return None;
            }
            self.block_map(col, key)?
        };
        // Anything after the root collection is outside the subset.
        after.is_none().then_some(Some(root))
    }

    /// A block node whose first line starts at `pos` (column `m`), inside
    /// a collection indented `parent`.
    fn block_node(&mut self, m: usize, parent: usize) -> Option<Next> {
        self.enter()?;
        let next = if self.at_entry() {
            self.block_seq(m)?
        } else {
            match self.peek() {
                // A block scalar on its own line.
                b'|' | b'>' => return None,
                b'[' | b'{' => self.inline_value(parent)?,
                _ => {
                    let (s, colon) = self.scalar(Some(parent))?;
                    if colon {
                        self.block_map(m, s)?
                    } else {
                        self.scalar_value(s, parent)?
                    }
                }
            }
        };
        self.depth -= 1;
        match next {
            Some(n) if n > parent => None,
            _ => Some(next),
        }
    }

    /// A block mapping at column `n` whose first key has been read (`pos`
    /// is after its `:`).
    fn block_map(&mut self, n: usize, first_key: Scalar) -> Option<Next> {
        self.enter()?;
        let map = self.push(RawNode::Map(Vec::new()));
        let first_entry = self.entries.len();
        let mut key = first_key;
        let next = loop {
            let k = self.push_scalar(key);
            self.skip_spaces();
            let v = self.nodes.len();
            let next = match self.peek() {
                b'\n' | b'#' | 0 => {
                    self.end_line()?;
                    match self.next_content(false)? {
                        Some(m) if m > n => self.block_node(m, n)?,
                        Some(m) if m == n && self.at_entry() => self.block_seq(n)?,
                        other => {
                            self.push_empty();
                            other
                        }
                    }
                }
                b'-' if self.is_sep(self.pos + 1) => return None,
                _ => self.inline_value(n)?,
            };
            self.entries.push((k, v));
            match next {
                Some(m) if m == n => {
                    if self.at_entry() {
                        return None;
                    }
                    let (s, colon) = self.scalar(None)?;
                    if !colon {
                        return None;
                    }
                    key = s;
                }
                Some(m) if m > n => return None,
                _ => break next,
            }
        };
        let entries = self.entries.drain(first_entry..).collect();
        self.nodes[map] = RawNode::Map(entries);
        self.depth -= 1;
        Some(next)
    }

    /// A block sequence at column `n`; `pos` is at its first `-`.
    fn block_seq(&mut self, n: usize) -> Option<Next> {
        self.enter()?;
        let seq = self.push(RawNode::Seq(Vec::new()));
        let mut items = Vec::new();
        let next = loop {
            self.pos += 1;
            self.skip_spaces();
            let item = self.nodes.len();
            let next = match self.peek() {
                b'\n' | b'#' | 0 => {
                    self.end_line()?;
                    match self.next_content(false)? {
                        Some(m) if m > n => self.block_node(m, n)?,
                        other => {
                            self.push_empty();
                            other
                        }
                    }
                }
                b'|' | b'>' | b'[' | b'{' | b'&' | b'*' => self.inline_value(n)?,
                _ => {
                    let c = self.col();
                    if self.at_entry() {
                        self.block_seq(c)?
                    } else {
                        if !plain_start(self.peek(), self.at(self.pos + 1))
                            && !matches!(self.peek(), b'"' | b'\'')
                        {
                            return None;
                        }
                        let (s, colon) = self.scalar(Some(n))?;
                        if colon {
                            self.block_map(c, s)?
                        } else {
                            self.scalar_value(s, n)?
                        }
                    }
                }
            };
            items.push(item);
            match next {
                Some(m) if m == n && self.at_entry() => {}
                Some(m) if m > n => return None,
                _ => break next,
            }
        };
        self.nodes[seq] = RawNode::Seq(items);
        self.depth -= 1;
        Some(next)
    }

    /// A value on the line of its key or `-` (not a block collection):
    /// block scalar, quoted or plain scalar, flow collection; returns the
    /// indentation of the content line after it. `block_indent` is the
    /// indentation of the innermost block collection.
    fn inline_value(&mut self, block_indent: usize) -> Option<Next> {
        match self.peek() {
            b'&' => return self.anchored_scalar(block_indent),
            b'*' => {
                let name = self.anchor_name()?;
                let target = self.anchors.iter().rev().find(|(n, _)| *n == name)?.1;
                self.push(RawNode::Alias(target, name.to_string()));
            }
            b'|' | b'>' => {
                self.block_scalar(block_indent)?;
                return self.next_content(false);
            }
            b'[' => self.flow_seq()?,
            b'{' => {
                self.pos += 1;
                self.skip_spaces();
                if self.peek() != b'}' {
                    return None;
                }
                self.pos += 1;
                self.push(RawNode::Map(Vec::new()));
            }
            c => {
                if !matches!(c, b'"' | b'\'') && !plain_start(c, self.at(self.pos + 1)) {
                    return None;
                }
                let (s, colon) = self.scalar(Some(block_indent))?;
                if colon {
                    return None;
                }
                return self.scalar_value(s, block_indent);
            }
        }
        self.end_line()?;
        self.next_content(false)
    }

    /// The name after the `&` or `*` at `pos`, which must end at a
    /// separator; `pos` is left after it.
    fn anchor_name(&mut self) -> Option<&'a str> {
        let start = self.pos + 1;
        let mut end = start;
        while anchor_char(self.at(end)) {
            end += 1;
        }
        if end == start || !self.is_sep(end) {
            return None;
        }
        self.pos = end;
        Some(&self.text[start..end])
    }

    /// `&name` and a scalar after it on the same line (an anchor on a
    /// collection, or before a line break, goes to granit).
    fn anchored_scalar(&mut self, block_indent: usize) -> Option<Next> {
        let name = self.anchor_name()?;
        self.skip_spaces();
        let c = self.peek();
        if !matches!(c, b'"' | b'\'') && !plain_start(c, self.at(self.pos + 1)) {
            return None;
        }
        let node = self.nodes.len();
        let (s, colon) = self.scalar(Some(block_indent))?;
        if colon {
            return None;
        }
        let next = self.scalar_value(s, block_indent)?;
        // granit gives the anchor to the node just read.
        if !matches!(self.nodes.get(node), Some(RawNode::Scalar { .. })) {
            return None;
        }
        self.anchors.push((name, node));
        Some(next)
    }

    /// Stores a scalar value read by [`Reader::scalar`] (not a key), with
    /// the continuation lines of a plain scalar (more indented than
    /// `block_indent`, folded as granit folds them); returns the
    /// indentation of the content line after it.
    fn scalar_value(&mut self, s: Scalar, block_indent: usize) -> Option<Next> {
        if s.style != ScalarStyle::Plain {
            self.push_scalar(s);
            self.end_line()?;
            return self.next_content(false);
        }
        let mut i = self.pos;
        while self.at(i) == b' ' {
            i += 1;
        }
        if i < self.src.len() && self.src[i] != b'\n' {
            // A comment ends it (what follows may not continue it).
            self.push_scalar(s);
            self.end_line()?;
            return self.next_content(false);
        }
        let mut value = s.value;
        // `i` is at the line break ending the scalar's last line so far.
        while i < self.src.len() {
            // Empty lines, then the next line with content.
            let mut line = i + 1;
            let mut breaks = 0;
            let first = loop {
                let j = line + spaces_at(self.src, line);
                if j < self.src.len() && self.src[j] == b'\n' {
                    breaks += 1;
                    line = j + 1;
                    continue;
                }
                break j;
            };
            if first >= self.src.len() || first - line <= block_indent || self.src[first] == b'#' {
                // Not a continuation: the line is read again from its start.
                i = line;
                break;
            }
            // Any character continues the scalar but a `:` before a
            // separator (the comment case ended it above).
            if self.src[first] == b':' && self.is_sep(first + 1) {
                return None;
            }
            self.pos = first;
            let end = self.plain_block();
            let mut k = end;
            while self.at(k) == b' ' {
                k += 1;
            }
            if k < self.src.len() && self.src[k] != b'\n' {
                // `: ` or a comment after a continuation line.
                return None;
            }
            if breaks == 0 {
                value.push(' ');
            } else {
                push_breaks(&mut value, breaks);
            }
            value.push_str(&self.text[first..end]);
            i = k;
        }
        let i = i.min(self.src.len());
        self.pos = i;
        self.line_start = i;
        self.push_scalar(Scalar {
            value,
            style: ScalarStyle::Plain,
        });
        self.next_content(false)
    }

    // ---- scalars

    /// A plain or quoted scalar in block context, and whether it is a key
    /// (followed by `:` and a separator; `pos` is then after the `:`).
    /// Otherwise `pos` is right after the scalar. A quoted scalar may span
    /// lines when it can only be a value, inside a collection indented
    /// `value_indent`.
    fn scalar(&mut self, value_indent: Option<usize>) -> Option<(Scalar, bool)> {
        let start = self.pos;
        let start_line = self.line_start;
        let s = match self.peek() {
            q @ (b'"' | b'\'') => {
                let value = self.quoted(q == b'\'', value_indent)?;
                if self.line_start != start_line {
                    // Spanning lines: a value, never a key.
                    return Some((
                        Scalar {
                            value,
                            style: quote_style(q),
                        },
                        false,
                    ));
                }
                Scalar {
                    value,
                    style: quote_style(q),
                }
            }
            c => {
                if !plain_start(c, self.at(self.pos + 1)) {
                    return None;
                }
                let end = self.plain_block();
                Scalar {
                    value: self.text[start..end].to_string(),
                    style: ScalarStyle::Plain,
                }
            }
        };
        // A key: optional spaces, `:`, a separator.
        let mut i = self.pos;
        while self.at(i) == b' ' {
            i += 1;
        }
        if self.at(i) == b':' && self.is_sep(i + 1) {
            if i - start > MAX_KEY_BYTES {
                return None;
            }
            self.pos = i + 1;
            return Some((s, true));
        }
        Some((s, false))
    }

    /// A plain scalar in block context from `pos`; returns its end (before
    /// trailing spaces) and leaves `pos` there. It stops before `: `, ` #`
    /// and the line end.
    fn plain_block(&mut self) -> usize {
        let mut i = self.pos + 1;
        let stop = loop {
            let Some(n) = memchr::memchr3(b':', b'#', b'\n', &self.src[i..]) else {
                break self.src.len();
            };
            let j = i + n;
            match self.src[j] {
                b'\n' => break j,
                b'#' if self.src[j - 1] == b' ' => break j,
                b':' if self.is_sep(j + 1) => break j,
                _ => i = j + 1,
            }
        };
        let mut end = stop;
        while self.src[end - 1] == b' ' {
            end -= 1;
        }
        self.pos = end;
        end
    }

    /// A quoted scalar from its opening quote at `pos`, read as granit
    /// reads it; `pos` ends after the closing quote. Line breaks are
    /// folded (one becomes a space, each further one a line feed, blanks
    /// around them dropped) when `cont_indent` allows continuation lines,
    /// which must then be indented more than it. Escapes are decoded as
    /// granit decodes them (an escaped line break, and escapes giving
    /// Unicode line breaks, U+FEFF or a surrogate, are left to granit).
    fn quoted(&mut self, single: bool, cont_indent: Option<usize>) -> Option<String> {
        let quote = if single { b'\'' } else { b'"' };
        let mut out = String::new();
        let mut i = self.pos + 1;
        loop {
            let rest = &self.src[i..];
            let n = if single {
                memchr::memchr2(b'\'', b'\n', rest)?
            } else {
                memchr::memchr3(b'"', b'\\', b'\n', rest)?
            };
            let segment = &self.text[i..i + n];
            i += n;
            match self.src[i] {
                b'\n' => {
                    // Blanks before a line break are dropped.
                    out.push_str(segment.trim_end_matches(' '));
                    let indent = cont_indent?;
                    let mut breaks = 0;
                    let first = loop {
                        i += 1;
                        let line = i;
                        while self.at(i) == b' ' {
                            i += 1;
                        }
                        if self.at(i) != b'\n' {
                            break line;
                        }
                        breaks += 1;
                    };
                    if i >= self.src.len() || i - first <= indent {
                        return None;
                    }
                    self.line_start = first;
                    if breaks == 0 {
                        out.push(' ');
                    } else {
                        push_breaks(&mut out, breaks);
                    }
                    continue;
                }
                c if c == quote => {
                    out.push_str(segment);
                    if single && self.at(i + 1) == b'\'' {
                        out.push('\'');
                        i += 2;
                        continue;
                    }
                    self.pos = i + 1;
                    return Some(out);
                }
                _ => out.push_str(segment),
            }
            // A backslash in a double-quoted scalar.
            let (c, len) = match self.at(i + 1) {
                b'0' => ('\0', 2),
                b'a' => ('\x07', 2),
                b'b' => ('\x08', 2),
                b't' => ('\t', 2),
                b'n' => ('\n', 2),
                b'v' => ('\x0b', 2),
                b'f' => ('\x0c', 2),
                b'r' => ('\r', 2),
                b'e' => ('\x1b', 2),
                b' ' => (' ', 2),
                b'"' => ('"', 2),
                b'/' => ('/', 2),
                b'\\' => ('\\', 2),
                b'_' => ('\u{A0}', 2),
                b'x' => (self.hex_escape(i + 2, 2)?, 4),
                b'u' => (self.hex_escape(i + 2, 4)?, 6),
                b'U' => (self.hex_escape(i + 2, 8)?, 10),
                _ => return None,
            };
            out.push(c);
            i += len;
        }
    }

    /// The character of `digits` hex digits at `i`, if it is one this
    /// reader may produce.
    fn hex_escape(&self, i: usize, digits: usize) -> Option<char> {
        let hex = self.text.get(i..i + digits)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        match v {
            0x85 | 0x2028 | 0x2029 | 0xFEFF => None,
            _ => char::from_u32(v),
        }
    }

    /// A flow sequence of plain and quoted scalars on one line.
    fn flow_seq(&mut self) -> Option<()> {
        let seq = self.push(RawNode::Seq(Vec::new()));
        let mut items = Vec::new();
        self.pos += 1;
        loop {
            self.skip_spaces();
            match self.peek() {
                b']' => break,
                q @ (b'"' | b'\'') => {
                    let value = self.quoted(q == b'\'', None)?;
                    items.push(self.push_scalar(Scalar {
                        value,
                        style: quote_style(q),
                    }));
                }
                c => {
                    let next = self.at(self.pos + 1);
                    let flow_indicator = matches!(next, b',' | b'[' | b']' | b'{' | b'}');
                    if !plain_start(c, next) || (c == b'-' && flow_indicator) {
                        return None;
                    }
                    let start = self.pos;
                    let end = self.plain_flow()?;
                    items.push(self.push_scalar(Scalar {
                        value: self.text[start..end].to_string(),
                        style: ScalarStyle::Plain,
                    }));
                }
            }
            self.skip_spaces();
            match self.peek() {
                b',' => self.pos += 1,
                b']' => break,
                _ => return None,
            }
        }
        self.pos += 1;
        self.nodes[seq] = RawNode::Seq(items);
        Some(())
    }

    /// A plain scalar inside a flow sequence; returns its end and leaves
    /// `pos` there. `None` for a `:` that could make a mapping, a comment
    /// or a line end inside the collection.
    fn plain_flow(&mut self) -> Option<usize> {
        let mut i = self.pos + 1;
        let mut end = i;
        loop {
            match self.at(i) {
                b'\n' | 0 => return None,
                b' ' => {
                    i += 1;
                    if self.at(i) == b'#' {
                        return None;
                    }
                }
                b':' => {
                    if self.is_sep(i + 1)
                        || matches!(self.at(i + 1), b',' | b'[' | b']' | b'{' | b'}')
                    {
                        return None;
                    }
                    i += 1;
                    end = i;
                }
                b',' | b'[' | b']' | b'{' | b'}' => break,
                _ => {
                    i += 1;
                    end = i;
                }
            }
        }
        self.pos = end;
        Some(end)
    }

    /// A literal (`|`) or folded (`>`) block scalar from its header at
    /// `pos`, read as granit reads it (libyaml's algorithm, with its
    /// reading of a last line without a line break); `pos` ends at the
    /// start of the first line after it.
    fn block_scalar(&mut self, block_indent: usize) -> Option<()> {
        let literal = self.peek() == b'|';
        self.pos += 1;
        #[derive(PartialEq)]
        enum Chomp {
            Clip,
            Strip,
            Keep,
        }
        let chomp = match self.peek() {
            b'-' => Chomp::Strip,
            b'+' => Chomp::Keep,
            _ => Chomp::Clip,
        };
        if chomp != Chomp::Clip {
            self.pos += 1;
        }
        // An indentation indicator, or anything glued to the header.
        if !self.is_sep(self.pos) {
            return None;
        }
        self.end_line()?;
        if self.eof() {
            return None;
        }

        // Leading empty lines and the indentation of the first content
        // line.
        let min_indent = block_indent + 1;
        let mut trailing_breaks = 0usize;
        let mut max_blank = 0usize;
        let first_col = loop {
            let i = self.pos + spaces_at(self.src, self.pos);
            if i >= self.src.len() {
                // Only empty lines up to the end of input: granit keeps
                // their line breaks for `+` only.
                let value = match chomp {
                    Chomp::Keep => "\n".repeat(trailing_breaks),
                    _ => String::new(),
                };
                self.pos = i;
                self.line_start = i;
                self.push_block(value, literal);
                return Some(());
            }
            if self.src[i] == b'\n' {
                max_blank = max_blank.max(i - self.pos);
                trailing_breaks += 1;
                self.pos = i + 1;
                self.line_start = self.pos;
                continue;
            }
            break i - self.pos;
        };
        if max_blank > first_col {
            return None;
        }
        if first_col < min_indent {
            // No content lines: the scalar is empty (its empty lines kept
            // only by `+`); the line belongs to the enclosing collection.
            let value = match chomp {
                Chomp::Keep => "\n".repeat(trailing_breaks),
                _ => String::new(),
            };
            self.push_block(value, literal);
            return Some(());
        }
        let indent = first_col;
        self.pos += indent;

        let mut out = String::new();
        let mut leading_break = false;
        let mut leading_blank = false;
        while self.col() == indent && !self.eof() {
            let trailing_blank = self.peek() == b' ';
            if !literal && leading_break && !leading_blank && !trailing_blank {
                push_breaks(&mut out, trailing_breaks);
                if trailing_breaks == 0 {
                    out.push(' ');
                }
            } else {
                if leading_break {
                    out.push('\n');
                }
                push_breaks(&mut out, trailing_breaks);
            }
            leading_break = false;
            trailing_breaks = 0;
            leading_blank = trailing_blank;

            let line_end = memchr::memchr(b'\n', &self.src[self.pos..])
                .map(|n| self.pos + n)
                .unwrap_or(self.src.len());
            out.push_str(&self.text[self.pos..line_end]);
            self.pos = line_end;
            if self.eof() {
                self.line_start = self.pos;
                break;
            }
            self.pos += 1;
            self.line_start = self.pos;
            leading_break = true;
            // Indentation and empty lines.
            loop {
                while self.col() < indent && self.peek() == b' ' {
                    self.pos += 1;
                }
                if self.peek() == b'\n' {
                    self.pos += 1;
                    self.line_start = self.pos;
                    trailing_breaks += 1;
                } else {
                    break;
                }
            }
        }
        if chomp != Chomp::Strip && leading_break {
            out.push('\n');
        }
        if chomp == Chomp::Keep {
            push_breaks(&mut out, trailing_breaks);
        }
        // The next line is read again from its start.
        self.pos = self.line_start;
        self.push_block(out, literal);
        Some(())
    }

    fn push_block(&mut self, value: String, literal: bool) {
        self.push_scalar(Scalar {
            value,
            style: if literal {
                ScalarStyle::Literal
            } else {
                ScalarStyle::Folded
            },
        });
    }
}

fn quote_style(q: u8) -> ScalarStyle {
    if q == b'\'' {
        ScalarStyle::SingleQuoted
    } else {
        ScalarStyle::DoubleQuoted
    }
}

fn push_breaks(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push('\n');
    }
}

/// Whether a plain scalar in block context may start with `c` (followed
/// by `next`); indicators are left to granit, except `-` before a
/// non-space (`-1`, `--flag`).
fn plain_start(c: u8, next: u8) -> bool {
    match c {
        b'-' => !matches!(next, b' ' | b'\n' | 0),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' | 0 => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    //! Differential tests: wherever the fast reader answers, granit must
    //! read the same text without error into the same document.

    use std::path::{Path, PathBuf};

    use super::super::read_document_granit;
    use super::read_document;
    use crate::value::Value;

    /// Checks the fast reader against granit on `text`; returns whether the
    /// fast reader answered.
    fn check(text: &str) -> bool {
        let Some(fast) = read_document(text) else {
            return false;
        };
        match read_document_granit(text) {
            Ok(doc) => assert_eq!(fast, doc, "fast reader differs from granit on {text:?}"),
            Err(e) => panic!("fast reader read a text granit rejects ({e}): {text:?}"),
        }
        true
    }

    #[test]
    fn subset_is_read_as_granit_reads_it() {
        let cases = [
            "",
            "# only a comment\n",
            "---\n",
            "---",
            "--- # c\n# d\n",
            "a: 1\n",
            "a: 1",
            "a:\n",
            "a:",
            "a:\nb: 2\n",
            "a:   # c\n  b: 2\n",
            "a:\n# c at column 0\n  b: 2\n",
            "  a: 1\n  b: 2\n",
            "a:\n- x\n- y\nb: 1\n",
            "a:\n  - x\n  -\n  - - y\n    - z\n",
            "- a: 1\n  b: [x, \"y\", 'z', ]\n- c:\n  - d\n  e: {}\n- []\n",
            "-\n- \n-   # c\n-",
            "key  : v\n\"q k\": 'it''s'\n'k2' : \"a\\x41\\u00e9\\t\\/\\\\ \\_\\\"\"\n",
            "a: b#c # d\nurl: http://x:80/y\n-x: -1\n--set: y\n",
            "k: v:w\n",
            "nested:\n  deeper:\n    deepest: 1\n  back: 2\nout: 3\n",
            "a: |\n  line 1\n\n  line 3\n    more\n",
            "a: |-\n  x\n\n\nb: |+\n  y\n\n\nc: |\n  z\n\n",
            "a: |\nb: |+\n\nc: |-\nd: 1\n",
            "a: |\n  x\n   \n  \n\n",
            "a: |\n\n\n  x\n",
            "a: |  # c\n  x\n",
            "a: |\n  x",
            "a: |+\n  x\n\n",
            "a: >\n  folded\n  text\n\n  para\n    more\n  back\n",
            "a: >-\n  one\n  two\n",
            "a: >+\n  one\n\n",
            "- |\n  x\n- >\n y\n",
            "- k: |\n    x\n  j: 1\n",
            "a: 'é ü'\nb: ÿ\n\"ключ\": значение\n",
            "x: [\"list\", \"watch\"]\ny: [v1]\nz: []\n",
            "e: \"\\x01\\x80\\u0000\\U0001F600\\e\\0\\a\\b\\v\\f\\r\\n\"\n",
            "a: multi\n  line\n\n   plain\nb: x\n  [y] - z &w\n",
            "a: 'multi  \n  line''s\n\n\n  quoted  '\nb: \"x\\t\n   y\"\n",
            "- 'a\n  b'\n- c\n  d\n-\n  e\n  f\n",
            "a:\n  {}\nb:\n  []\n",
            "{}",
            "{}\n",
            "  { }  # c\n\n",
            "[]\n",
            "[a, 'b', \"c\"]\n# d\n",
            "a: &x 1\nb: *x\n",
            "- &a x\n- *a\n- *a # c\n-   *a   \n",
            "a: &x v\nb: &x w\nc: *x\n",
            "p: &n multi\n  line\nq: *n\n",
            "a:\n  b: &c-1.d \"q\"\n  e: &f 'r'  # c\nd: *c-1.d\ng: *f",
        ];
        for text in cases {
            assert!(check(text), "fast reader left {text:?} to granit");
        }
    }

    #[test]
    fn outside_the_subset_goes_to_granit() {
        let cases = [
            "a: &x\n  b: 1\nc: *x\n",
            "a: &x |\n  block\nb: *x\n",
            "a: &y\n",
            "a: &x [1]\nb: *x\n",
            "a: *missing\n",
            "a: *x\nb: &x 1\n",
            "a: &x 1\nb: *x y\n",
            "a: &x 1\nb: *x#c\n",
            "a: &é 1\nb: *é\n",
            "&x a: 1\n",
            "a: !!str 1\n",
            "? a\n: b\n",
            "%YAML 1.1\n---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\n...\n",
            "a:\tb\n",
            "a: 1\r\n",
            "a: multi\nline\n",
            "a: 'multi\nline'\n",
            "'multi\n  line': 1\n",
            "a: \"escaped \\\n  break\"\n",
            "a: \"\\L\"\n",
            "a: \"\\u2028\"\n",
            "a: \u{2028}\n",
            "\u{FEFF}a: 1\n",
            "a: \u{85}\n",
            "a: \u{9F}\n",
            "a: \u{FFFE}\n",
            "a: {b: 1}\n",
            "a: [b, [c]]\n",
            "a: [b,\n  c]\n",
            "a: |2\n   x\n",
            "a:\n  |\n  x\n",
            "a: b: c\n",
            "a: - b\n",
            "a: 1\n b: 2\n",
            "a:\n    b: 1\n  c: 2\n",
            "plain scalar root\n",
            "a: |\n    \n  x\n",
        ];
        for text in cases {
            assert!(read_document(text).is_none(), "fast reader read {text:?}");
        }
        let long_key = format!("{}: 1\n", "k".repeat(1100));
        assert!(read_document(&long_key).is_none());
    }

    #[test]
    fn word_checks_agree_with_byte_checks() {
        for v in 0..=255u8 {
            for k in 0..8 {
                let mut w = *b"abcdefgh";
                w[k] = v;
                let plain = v == b'\n' || (0x20..0x7F).contains(&v);
                assert_eq!(
                    super::plain_ascii_word(u64::from_le_bytes(w)),
                    plain,
                    "byte {v:#x} at {k}"
                );
            }
        }
        for n in 0..20 {
            let text = format!("{}x{}", " ".repeat(n), " ".repeat(9));
            assert_eq!(super::spaces_at(text.as_bytes(), 0), n);
        }
        assert_eq!(super::spaces_at(b"    ", 1), 3);
    }

    // ---- corpora

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// The chart corpus: `BERTH_CHART_CORPUS`, else `../shared/charts` next
    /// to the clone.
    fn chart_corpus() -> PathBuf {
        match std::env::var_os("BERTH_CHART_CORPUS") {
            Some(p) => PathBuf::from(p),
            None => repo_root().join("../shared/charts"),
        }
    }

    /// Every file under `dir` whose name `keep` accepts, sorted.
    fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display()));
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if keep(&p) {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    fn read_texts(paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// The rendered manifests (`BERTH_YAML_CORPUS`, written by
    /// `scripts/yaml-fast-corpus.sh`); without it, the YAML files the
    /// chart corpus ships outside `templates/` (CRDs, Chart.yaml, …).
    fn manifest_texts() -> (Vec<String>, bool) {
        if let Some(dir) = std::env::var_os("BERTH_YAML_CORPUS") {
            let paths = files_under(Path::new(&dir), &|p| {
                p.extension().is_some_and(|e| e == "yaml")
            });
            assert!(!paths.is_empty(), "no documents in BERTH_YAML_CORPUS");
            return (read_texts(&paths), true);
        }
        let paths = files_under(&chart_corpus(), &|p| {
            let s = p.to_string_lossy();
            (s.ends_with(".yaml") || s.ends_with(".yml"))
                && !s.contains("/templates/")
                && !p.ends_with("values.yaml")
        });
        assert!(!paths.is_empty(), "no YAML files in the chart corpus");
        (read_texts(&paths), false)
    }

    fn values_texts() -> Vec<String> {
        let paths = files_under(&chart_corpus(), &|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("values"))
                && p.extension().is_some_and(|e| e == "yaml")
        });
        assert!(!paths.is_empty(), "no values files in the chart corpus");
        read_texts(&paths)
    }

    /// The conformance case files, each case's `values`, `template` and
    /// the string literals the templates pass to `fromYaml`/`fromYamlArray`.
    fn conformance_texts() -> Vec<String> {
        let dir = repo_root().join("conformance/cases");
        let paths = files_under(&dir, &|p| p.extension().is_some_and(|e| e == "yaml"));
        assert!(!paths.is_empty(), "no conformance cases");
        let mut out = Vec::new();
        for file in read_texts(&paths) {
            let cases = super::super::yaml_to_value(&file).expect("case file is YAML");
            out.push(file);
            let Value::List(list) = cases else { continue };
            for case in list.items.iter() {
                let Value::Map(m) = case else { continue };
                for field in ["values", "template"] {
                    if let Some(Value::String(s)) = m.get(field) {
                        out.extend(from_yaml_literals(&s));
                        out.push(s.to_string());
                    }
                }
            }
        }
        out
    }

    /// The Go string literals after `fromYaml`/`fromYamlArray` in a
    /// template, unescaped (the escapes the cases use).
    fn from_yaml_literals(template: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = template;
        while let Some(i) = rest.find("fromYaml") {
            rest = &rest[i + "fromYaml".len()..];
            let arg = rest.trim_start_matches("Array").trim_start();
            let Some(body) = arg.strip_prefix('"') else {
                continue;
            };
            let mut s = String::new();
            let mut chars = body.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some('r') => s.push('\r'),
                        Some(other) => s.push(other),
                        None => break,
                    },
                    c => s.push(c),
                }
            }
            out.push(s);
        }
        out
    }

    /// Checks every text; returns how many took the fast path.
    fn check_all(texts: &[String]) -> usize {
        texts.iter().filter(|t| check(t)).count()
    }

    #[test]
    fn rendered_manifests_match_granit() {
        let (texts, rendered) = manifest_texts();
        let fast = check_all(&texts);
        let share = fast as f64 / texts.len() as f64;
        eprintln!(
            "manifests ({}): {fast}/{} on the fast path ({:.1} %)",
            if rendered { "rendered" } else { "chart files" },
            texts.len(),
            share * 100.0
        );
        if rendered {
            // Rendered manifests are the fast reader's reason to exist.
            assert!(share >= 0.9, "only {:.1} % on the fast path", share * 100.0);
        }
    }

    #[test]
    fn values_files_match_granit() {
        let texts = values_texts();
        let fast = check_all(&texts);
        eprintln!("values files: {fast}/{} on the fast path", texts.len());
    }

    #[test]
    fn conformance_yaml_matches_granit() {
        let texts = conformance_texts();
        let fast = check_all(&texts);
        eprintln!("conformance texts: {fast}/{} on the fast path", texts.len());
        assert!(fast > 0);
    }

    /// The mutations' deterministic generator, shared with yaml_parse's tests.
    use super::super::tests::Rng;

    const MUTATION_BYTES: &[u8] = b" :-#'\"\n|>[]{}&*!?\t";

    /// `text` with one byte deleted, duplicated or replaced, at a random
    /// position (half of the time within a line's first few bytes, where
    /// indentation and indicators are); `None` if that breaks UTF-8.
    fn mutate(text: &str, rng: &mut Rng) -> Option<String> {
        let b = text.as_bytes();
        if b.is_empty() {
            return None;
        }
        let mut pos = rng.below(b.len());
        if rng.below(2) == 0 {
            let line = b[..pos]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |i| i + 1);
            pos = (line + rng.below(8)).min(b.len() - 1);
        }
        if !text.is_char_boundary(pos) || !text.is_char_boundary(pos + 1) {
            return None;
        }
        let mut out = b.to_vec();
        match rng.below(3) {
            0 => {
                out.remove(pos);
            }
            1 => out.insert(pos, b[pos]),
            _ => out[pos] = MUTATION_BYTES[rng.below(MUTATION_BYTES.len())],
        }
        String::from_utf8(out).ok()
    }

    /// At most `max` bytes of `text`, cut after a line break.
    fn head(text: &str, max: usize) -> &str {
        if text.len() <= max {
            return text;
        }
        match text.as_bytes()[..max].iter().rposition(|&b| b == b'\n') {
            Some(i) => &text[..=i],
            None => text,
        }
    }

    /// Line pieces for [`line_soup_matches_granit`]: the subset's syntax
    /// and its near misses.
    const PIECES: &[&str] = &[
        "",
        "a:",
        "a: b",
        "b: c d",
        "- ",
        "-",
        "- x",
        "- - y",
        "- k: v",
        "k:",
        "'q': 1",
        "\"d\": 'e''f'",
        "|",
        "|-",
        "|+",
        ">",
        ">-",
        "a: |",
        "a: >+",
        "- |",
        "text",
        "more text",
        "# c",
        "a: b # c",
        "[x, 'y', \"z\"]",
        "[]",
        "{}",
        "a: []",
        "a: {}",
        "'open",
        "close'",
        "\"open",
        "close\"",
        "x: y: z",
        "---",
        "...",
        "a:b",
        ": v",
        "-x",
        "k: 'a",
        "b'",
        "c :",
        "?",
        "a: -",
        "a: - b",
        "  ",
        "a: \"\\u00e9\\x41\"",
        "key: value:",
        "[a, b",
        "a: &x 1",
        "b: *x",
        "- &x v",
        "- *x",
        "&x",
        "*x",
        "c: &y 'q'",
        "d: *y # c",
        "e: &x",
        "#",
        "a: #",
        "- # c",
        "a: ~",
        "a: null",
    ];

    #[test]
    fn line_soup_matches_granit() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let (mut fast, total) = (0, 200_000);
        for _ in 0..total {
            let mut text = String::new();
            for _ in 0..1 + rng.below(7) {
                for _ in 0..[0, 0, 1, 2, 2, 3, 4, 6][rng.below(8)] {
                    text.push(' ');
                }
                text.push_str(PIECES[rng.below(PIECES.len())]);
                text.push('\n');
            }
            if rng.below(5) == 0 {
                text.pop();
            }
            if check(&text) {
                fast += 1;
            }
        }
        eprintln!("line soup: {fast}/{total} on the fast path");
        assert!(
            fast > total / 20,
            "too few documents on the fast path to test it"
        );
    }

    #[test]
    fn mutated_documents_match_granit() {
        let (manifests, _) = manifest_texts();
        let mut docs: Vec<String> = manifests;
        docs.extend(values_texts());
        docs.extend(conformance_texts());
        // The documents the fast reader takes are the interesting seeds.
        let seeds: Vec<&str> = docs
            .iter()
            .map(|d| head(d, 3000))
            .filter(|d| read_document(d).is_some())
            .collect();
        assert!(!seeds.is_empty());
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let variants = 30_000;
        let (mut fast, mut tried) = (0, 0);
        for i in 0..variants {
            let seed = seeds[i % seeds.len()];
            let mut text = match mutate(seed, &mut rng) {
                Some(t) => t,
                None => continue,
            };
            // Every fourth variant has a second mutation.
            if i % 4 == 3 {
                if let Some(t) = mutate(&text, &mut rng) {
                    text = t;
                }
            }
            tried += 1;
            if check(&text) {
                fast += 1;
            }
        }
        eprintln!("mutations: {fast}/{tried} on the fast path");
        assert!(
            fast > tried / 10,
            "too few mutations on the fast path to test it"
        );
    }
}
