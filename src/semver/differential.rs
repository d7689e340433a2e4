//! The hand-written matchers of `grammar.rs` against upstream's regular
//! expressions (Masterminds/semver v3.5.0's, spelled for `regex-lite`, which
//! like Go matches leftmost-first): same match or no match, same span for
//! every capture group, on every string the test vectors and conformance
//! cases use and on several hundred thousand generated ones.

use super::grammar::{self, Span};
use super::rewrite_hyphen_ranges;
use regex_lite::Regex;
use std::path::Path;

/// Go's `\s` (ASCII only).
const WS: &str = r"[\t\n\f\r ]";
/// Upstream's operator alternation, in its order.
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";
/// Upstream's version inside a constraint.
const CV: &str = concat!(
    r"v?([0-9xX*|]+)(\.[0-9xX*|]+)?(\.[0-9xX*|]+)?",
    r"(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?",
    r"(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?",
);

struct Oracle {
    loose_version: Regex,
    comparator: Regex,
    hyphen_range: Regex,
    find_comparator: Regex,
    valid_group: Regex,
}

impl Oracle {
    fn new() -> Oracle {
        let re = |s: &str| Regex::new(s).expect("oracle regex");
        Oracle {
            loose_version: re(concat!(
                r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?",
                r"(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?",
                r"(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$",
            )),
            comparator: re(&format!(r"^{WS}*({OPS}){WS}*({CV}){WS}*$")),
            hyphen_range: re(&format!(r"{WS}*({CV}){WS}+-{WS}+({CV}){WS}*")),
            find_comparator: re(&format!(r"({OPS}){WS}*({CV})")),
            valid_group: re(&format!(
                r"^({WS}*({OPS}){WS}*({CV}){WS}*)((?:{WS}+|,{WS}*)({OPS}){WS}*({CV}){WS}*)*$"
            )),
        }
    }
}

type Groups = Vec<Option<(usize, usize)>>;

fn from_regex(caps: &regex_lite::Captures<'_>) -> Groups {
    (0..caps.len())
        .map(|i| caps.get(i).map(|m| (m.start(), m.end())))
        .collect()
}

fn from_hand(groups: &[Option<Span>]) -> Groups {
    groups.iter().map(|g| g.map(|s| (s.start, s.end))).collect()
}

/// Compares every matcher on `s`; returns the differences.
fn differences(oracle: &Oracle, s: &str) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut check =
        |what: &str, want: &dyn std::fmt::Debug, got: &dyn std::fmt::Debug, same: bool| {
            if !same {
                diffs.push(format!("{what} on {s:?}: regex {want:?}, hand {got:?}"));
            }
        };
    let want = oracle.loose_version.captures(s).map(|c| from_regex(&c));
    let got = grammar::loose_version(s).map(|g| from_hand(&g));
    check("loose_version", &want, &got, want == got);
    let want = oracle.comparator.captures(s).map(|c| from_regex(&c));
    let got = grammar::comparator(s).map(|g| from_hand(&g));
    check("comparator", &want, &got, want == got);
    let want: Vec<Groups> = oracle
        .find_comparator
        .captures_iter(s)
        .map(|c| from_regex(&c))
        .collect();
    let got: Vec<Groups> = grammar::find_comparators(s)
        .iter()
        .map(|g| from_hand(g))
        .collect();
    check("find_comparators", &want, &got, want == got);
    let want = oracle.valid_group.is_match(s);
    let got = grammar::valid_group(s);
    check("valid_group", &want, &got, want == got);
    let want: Vec<Groups> = oracle
        .hyphen_range
        .captures_iter(s)
        .map(|c| from_regex(&c))
        .collect();
    let got: Vec<Groups> = grammar::hyphen_ranges(s)
        .iter()
        .map(|g| from_hand(g))
        .collect();
    check("hyphen_ranges", &want, &got, want == got);
    diffs
}

/// Compares the matchers on `input` and on every string `Constraint::parse`
/// and `Version::parse` derive from it: the hyphen-rewritten constraint,
/// its `||` groups, the comparators found in them and the versions built
/// from those.
fn differences_through_parse(oracle: &Oracle, input: &str) -> Vec<String> {
    let mut diffs = differences(oracle, input);
    let rewritten = rewrite_hyphen_ranges(input);
    if rewritten != input {
        diffs.extend(differences(oracle, &rewritten));
    }
    for group in rewritten.split("||") {
        if group != input {
            diffs.extend(differences(oracle, group));
        }
        for found in grammar::find_comparators(group) {
            let text = found[0].map_or("", |g| g.of(group));
            if text != group {
                diffs.extend(differences(oracle, text));
            }
            let part = |i: usize| found[i].map_or("", |g| g.of(group));
            let (major, minor, pre) = (part(3), part(4), part(6));
            for derived in [
                format!("0.0.0{pre}"),
                format!("{major}.0.0{pre}"),
                format!("{major}{minor}.0{pre}"),
            ] {
                diffs.extend(differences(oracle, &derived));
            }
        }
    }
    diffs
}

fn assert_no_differences(oracle: &Oracle, inputs: impl IntoIterator<Item = String>) -> usize {
    let mut count = 0;
    let mut diffs = Vec::new();
    for s in inputs {
        count += 1;
        diffs.extend(differences_through_parse(oracle, &s));
        if diffs.len() > 20 {
            break;
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    count
}

/// Every string literal (`"…"`, and `\"…\"` inside YAML strings), every
/// line and every tab-separated field (with and without a leading `K `-style
/// kind) of a text file.
fn candidate_strings(text: &str, out: &mut Vec<String>) {
    for line in text.lines() {
        out.push(line.to_string());
        for field in line.split('\t') {
            out.push(field.to_string());
            out.push(field.trim().to_string());
            if field.as_bytes().get(1) == Some(&b' ') {
                out.push(field[2..].to_string());
            }
        }
        for (i, piece) in line.split("\\\"").enumerate() {
            if i % 2 == 1 {
                out.push(piece.to_string());
            }
        }
    }
    // Plain string literals, with the common escapes undone.
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut lit = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => lit.push('\n'),
                    Some('t') => lit.push('\t'),
                    Some(other) => lit.push(other),
                    None => break,
                },
                c => lit.push(c),
            }
        }
        out.push(lit);
    }
}

fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(&path, keep, out);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

#[test]
fn hand_matchers_agree_on_every_test_and_conformance_string() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("tests.rs")];
    files_under(&root.join("testdata"), &|_| true, &mut files);
    let cases = root.join("../../conformance/cases");
    files_under(
        &cases,
        &|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("semver"))
        },
        &mut files,
    );
    assert!(
        files.iter().any(|f| f.ends_with("semver.yaml")),
        "{files:?}"
    );
    let mut strings = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        candidate_strings(&text, &mut strings);
    }
    strings.sort();
    strings.dedup();
    let oracle = Oracle::new();
    let count = assert_no_differences(&oracle, strings);
    assert!(count > 1000, "only {count} strings");
}

const ALPHABET: [char; 21] = [
    '0', '1', '9', 'x', 'X', '*', '|', '.', '-', '+', 'v', '=', '!', '>', '<', '~', '^', ',', ' ',
    '\t', 'a',
];

/// Characters the random strings add to `ALPHABET`: an upper-case letter,
/// white space Go's `\s` has and one it lacks (`\v`), a non-ASCII letter.
const EXTRA: [char; 5] = ['Z', '\n', '\u{b}', 'é', 'V'];

/// Pieces the random "token" strings are built from, so that long valid
/// constraints (hyphen ranges, `||`, comma lists) come up often.
const TOKENS: [&str; 40] = [
    "1", "0", "12", "01", "1.2", "1.2.3", "x", "X", "*", "v", "v1", ".", "-", "+", "-rc.1", "+b.2",
    "-0", "|", "||", " ", "  ", "\t", ",", " - ", " -", "- ", "=", "!=", ">", "<", ">=", "=>",
    "<=", "=<", "~", "~>", "^", "a", "Z", "é",
];

/// SplitMix64: small, deterministic, good enough to spread the cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn hand_matchers_agree_on_every_short_string() {
    // All strings of up to four characters over the alphabet (204,205).
    let oracle = Oracle::new();
    let mut strings = Vec::new();
    let mut current = vec![String::new()];
    for _ in 0..4 {
        let mut longer = Vec::with_capacity(current.len() * ALPHABET.len());
        for s in &current {
            for c in ALPHABET {
                let mut t = s.clone();
                t.push(c);
                longer.push(t);
            }
        }
        strings.append(&mut current);
        current = longer;
    }
    strings.append(&mut current);
    let count = assert_no_differences(&oracle, strings);
    assert_eq!(count, 1 + 21 + 21 * 21 + 21 * 21 * 21 + 21 * 21 * 21 * 21);
}

#[test]
fn hand_matchers_agree_on_random_strings() {
    let oracle = Oracle::new();
    let mut rng = Rng(0x5EED_0F5E_47E5);
    let alphabet: Vec<char> = ALPHABET.iter().chain(EXTRA.iter()).copied().collect();
    let strings: Vec<String> = (0..150_000)
        .map(|_| {
            let len = rng.below(13);
            (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect()
        })
        .collect();
    assert_eq!(assert_no_differences(&oracle, strings), 150_000);
}

#[test]
fn hand_matchers_agree_on_random_token_strings() {
    let oracle = Oracle::new();
    let mut rng = Rng(0x70CE_5EED);
    let strings: Vec<String> = (0..150_000)
        .map(|_| {
            let n = 1 + rng.below(8);
            (0..n).map(|_| TOKENS[rng.below(TOKENS.len())]).collect()
        })
        .collect();
    assert_eq!(assert_no_differences(&oracle, strings), 150_000);
}
