//! Masterminds/semver v3.5.0's grammar, matched by hand.
//!
//! Upstream defines the grammar with five regular expressions. Each function
//! here accepts exactly the language of one of them and reports exactly the
//! capture groups Go's (leftmost-first) matcher reports, numbered as in
//! upstream's expression; `differential.rs` checks that against the
//! expressions themselves. The expressions, with `WS` = Go's ASCII `\s`
//! (`[\t\n\f\r ]`), `OPS` = `=||!=|>|<|>=|=>|<=|=<|~|~>|\^` and `CV` = the
//! constraint version
//! `v?([0-9xX*|]+)(\.[0-9xX*|]+)?(\.[0-9xX*|]+)?(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?`:
//! - [`loose_version`] matches `^` CV with `[0-9]` for `[0-9xX*|]` `$`;
//! - [`comparator`] matches `^WS*(OPS)WS*(CV)WS*$`;
//! - [`find_comparators`] finds all of `(OPS)WS*(CV)`;
//! - [`valid_group`] matches `^(WS*(OPS)WS*(CV)WS*)((?:WS+|,WS*)(OPS)WS*(CV)WS*)*$`;
//! - [`hyphen_ranges`] finds all of `WS*(CV)WS+-WS+(CV)WS*`.
//!
//! Why the matchers can be this simple: a version never contains white
//! space, `,` or an operator character, and a version string has at most one
//! full parse, which is the one the greedy reading finds. So wherever the
//! expression needs a version to end before white space, a comma or the
//! end, the only candidate end is where the greedy reading stops; and at
//! most one operator alternative can be followed by a version (see
//! [`OPS`]), so the first that is is the one leftmost-first matching picks.

/// A byte range of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The text of the span (both ends are next to ASCII bytes or at the
    /// ends of `s`, so they are character boundaries).
    pub fn of(self, s: &str) -> &str {
        s.get(self.start..self.end).unwrap_or("")
    }
}

/// The groups of one version: 0 = the whole version, 1 = major, 2 =
/// `.minor`, 3 = `.patch`, 4 = `-pre`, 5 = pre, 6 = the last `.part` of
/// pre, 7 = `+meta`, 8 = meta, 9 = the last `.part` of meta; `None` where
/// the group did not take part.
pub(crate) type VersionGroups = [Option<Span>; 10];

/// Upstream's operator alternation, in its order (`=` before the empty
/// operator before `!=`; `>` before `>=`). Leftmost-first matching tries
/// them in this order, but the order cannot change a result: an operator
/// must be followed by white space or a version character, neither of
/// which is an operator character, so at one position at most one
/// alternative (the whole run of operator characters, or the empty one
/// before white space or a version) leads to a match. We try them in
/// upstream's order all the same.
const OPS: [&str; 12] = [
    "=", "", "!=", ">", "<", ">=", "=>", "<=", "=<", "~", "~>", "^",
];

/// Go's `\s`: ASCII only, without `\v`.
fn is_ws(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

fn is_digit(b: u8) -> bool {
    b.is_ascii_digit()
}

/// A character of a constraint's version part: `[0-9xX*|]` (the `|` is
/// upstream's quirk, kept).
fn is_constraint_part(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'x' | b'X' | b'*' | b'|')
}

/// A character of a pre-release or metadata identifier: `[0-9A-Za-z-]`.
fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

fn skip(s: &[u8], mut i: usize, class: fn(u8) -> bool) -> usize {
    while i < s.len() && class(s[i]) {
        i += 1;
    }
    i
}

fn at(s: &[u8], i: usize, class: fn(u8) -> bool) -> bool {
    s.get(i).is_some_and(|&b| class(b))
}

/// `(\.P+)?` with `P` = `part`, greedily at `*i`.
fn dotted_part(s: &[u8], i: &mut usize, part: fn(u8) -> bool) -> Option<Span> {
    if s.get(*i) != Some(&b'.') || !at(s, *i + 1, part) {
        return None;
    }
    let start = *i;
    *i = skip(s, start + 1, part);
    Some(Span::new(start, *i))
}

/// `(T([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?` with `T` = `tag`, greedily at
/// `*i`: the groups (whole, identifiers, last `.identifier`).
fn tagged(s: &[u8], i: &mut usize, tag: u8) -> [Option<Span>; 3] {
    if s.get(*i) != Some(&tag) || !at(s, *i + 1, is_ident) {
        return [None; 3];
    }
    let start = *i;
    let mut end = skip(s, start + 1, is_ident);
    let mut last = None;
    while s.get(end) == Some(&b'.') && at(s, end + 1, is_ident) {
        let dot = end;
        end = skip(s, dot + 1, is_ident);
        last = Some(Span::new(dot, end));
    }
    *i = end;
    [
        Some(Span::new(start, end)),
        Some(Span::new(start + 1, end)),
        last,
    ]
}

/// The greedy reading of a version at `start` (`v?` then parts of class
/// `part`, then optional `-pre` and `+meta`), as the expression reads it
/// when nothing has to follow.
fn version_at(s: &[u8], start: usize, part: fn(u8) -> bool) -> Option<VersionGroups> {
    let mut i = start;
    // `v?`: taking the `v` only helps when a part character follows.
    if s.get(i) == Some(&b'v') && at(s, i + 1, part) {
        i += 1;
    }
    let major_start = i;
    i = skip(s, i, part);
    if i == major_start {
        return None;
    }
    let major = Span::new(major_start, i);
    let minor = dotted_part(s, &mut i, part);
    let patch = dotted_part(s, &mut i, part);
    let [pre_all, pre, pre_last] = tagged(s, &mut i, b'-');
    let [meta_all, meta, meta_last] = tagged(s, &mut i, b'+');
    Some([
        Some(Span::new(start, i)),
        Some(major),
        minor,
        patch,
        pre_all,
        pre,
        pre_last,
        meta_all,
        meta,
        meta_last,
    ])
}

fn end_of(groups: &VersionGroups) -> usize {
    groups[0].map_or(0, |g| g.end)
}

/// Masterminds' lenient version expression on the whole of `input`.
pub(crate) fn loose_version(input: &str) -> Option<VersionGroups> {
    let s = input.as_bytes();
    version_at(s, 0, is_digit).filter(|g| end_of(g) == s.len())
}

/// `(OPS)WS*(CV)` at `start`, with the first operator alternative that a
/// version follows: the operator's span and the version's groups.
fn operator_and_version(s: &[u8], start: usize) -> Option<(Span, VersionGroups)> {
    let rest = s.get(start..)?;
    OPS.iter().find_map(|op| {
        if !rest.starts_with(op.as_bytes()) {
            return None;
        }
        let op_end = start + op.len();
        let version = version_at(s, skip(s, op_end, is_ws), is_constraint_part)?;
        Some((Span::new(start, op_end), version))
    })
}

/// The groups of a comparator: 0 = the match, 1 = the operator, 2..=11 =
/// the version's groups 0..=9.
pub(crate) type ComparatorGroups = [Option<Span>; 12];

fn comparator_groups(whole: Span, op: Span, version: &VersionGroups) -> ComparatorGroups {
    let mut groups = [None; 12];
    groups[0] = Some(whole);
    groups[1] = Some(op);
    groups[2..].copy_from_slice(version);
    groups
}

/// One whole comparator (`^WS*(OPS)WS*(CV)WS*$`).
pub(crate) fn comparator(text: &str) -> Option<ComparatorGroups> {
    let s = text.as_bytes();
    let start = skip(s, 0, is_ws);
    let mut trailing = s.len();
    while trailing > start && is_ws(s[trailing - 1]) {
        trailing -= 1;
    }
    // The version must end where the trailing white space starts; as it
    // contains no white space, that is only possible for its greedy reading.
    let rest = &s[start..];
    OPS.iter().find_map(|op| {
        if !rest.starts_with(op.as_bytes()) {
            return None;
        }
        let op_end = start + op.len();
        let version = version_at(s, skip(s, op_end, is_ws), is_constraint_part)?;
        (end_of(&version) == trailing)
            .then(|| comparator_groups(Span::new(0, s.len()), Span::new(start, op_end), &version))
    })
}

/// Every match of `(OPS)WS*(CV)` in an AND group, leftmost first, not
/// overlapping.
pub(crate) fn find_comparators(group: &str) -> Vec<ComparatorGroups> {
    let s = group.as_bytes();
    let mut found = Vec::new();
    let mut p = 0;
    while p < s.len() {
        match operator_and_version(s, p) {
            Some((op, version)) => {
                let end = end_of(&version);
                found.push(comparator_groups(Span::new(p, end), op, &version));
                p = end;
            }
            None => p += 1,
        }
    }
    found
}

/// Whether a whole AND group has the grammar: comparators separated by
/// white space or one comma with optional white space around it.
pub(crate) fn valid_group(group: &str) -> bool {
    let s = group.as_bytes();
    let mut i = skip(s, 0, is_ws);
    loop {
        // `i` is at a non-space character, so at most one operator
        // alternative (the whole run of operator characters, or the empty
        // one before a version character) can be followed by a version.
        let Some((_, version)) = operator_and_version(s, i) else {
            return false;
        };
        let end = end_of(&version);
        let next = skip(s, end, is_ws);
        if next == s.len() {
            return true;
        }
        if s[next] == b',' {
            i = skip(s, next + 1, is_ws);
        } else if next > end {
            i = next;
        } else {
            // The version is followed by a character that can neither
            // continue it nor separate it from the next comparator.
            return false;
        }
    }
}

/// The groups of a hyphen range: 0 = the match, 1..=10 = the first
/// version's groups 0..=9, 11..=20 = the second's.
pub(crate) type HyphenGroups = [Option<Span>; 21];

/// `WS*(CV)WS+-WS+(CV)WS*` at `p`.
fn hyphen_range_at(s: &[u8], p: usize) -> Option<HyphenGroups> {
    let from = version_at(s, skip(s, p, is_ws), is_constraint_part)?;
    let from_end = end_of(&from);
    let dash = skip(s, from_end, is_ws);
    if dash == from_end || s.get(dash) != Some(&b'-') {
        return None;
    }
    let to_start = skip(s, dash + 1, is_ws);
    if to_start == dash + 1 {
        return None;
    }
    let to = version_at(s, to_start, is_constraint_part)?;
    let end = skip(s, end_of(&to), is_ws);
    let mut groups = [None; 21];
    groups[0] = Some(Span::new(p, end));
    groups[1..11].copy_from_slice(&from);
    groups[11..].copy_from_slice(&to);
    Some(groups)
}

/// Every match of `WS*(CV)WS+-WS+(CV)WS*`, leftmost first, not overlapping.
pub(crate) fn hyphen_ranges(input: &str) -> Vec<HyphenGroups> {
    let s = input.as_bytes();
    // Every match has white space, `-`, white space; most constraints don't.
    let has_spaced_dash = s
        .windows(3)
        .any(|w| is_ws(w[0]) && w[1] == b'-' && is_ws(w[2]));
    let mut found = Vec::new();
    if !has_spaced_dash {
        return found;
    }
    let mut p = 0;
    while p < s.len() {
        match hyphen_range_at(s, p) {
            Some(groups) => {
                p = groups[0].map_or(s.len(), |g| g.end);
                found.push(groups);
            }
            None => p += 1,
        }
    }
    found
}
