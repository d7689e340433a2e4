//! `.helmignore` rules as Helm's `pkg/ignore` implements them.
//!
//! Helm's rules are not `.gitignore`'s:
//! - one pattern a line, surrounding spaces trimmed, blank lines and lines
//!   starting with `#` skipped (no inline comments);
//! - globs are Go's `filepath.Match` (`*` and `?` never cross `/`,
//!   `[a-z]`, `[^…]`, `\` escapes); `**` is an error;
//! - a pattern with no `/` is matched against the base name only, a pattern
//!   with a `/` against the whole path relative to the chart root, and a
//!   leading `/` is stripped (the rest is matched against the whole path);
//! - a trailing `/` only matches directories;
//! - `!pattern` is Helm's odd negation: evaluating it, a path that does
//!   **not** match is ignored at once, a path that matches goes on to the
//!   next rule;
//! - rules are tried in order and the first decision wins;
//! - [`Rules::add_defaults`] appends `templates/.?*` (dotfiles in
//!   `templates/`), which Helm's directory loader always adds after the
//!   file's rules.

/// The name of the ignore file at a chart's root.
pub const HELM_IGNORE: &str = ".helmignore";

/// Why a `.helmignore` could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoreError {
    #[error("double-star (**) syntax is not supported")]
    DoubleStar,
    /// Go's `filepath.ErrBadPattern`.
    #[error("syntax error in pattern")]
    BadPattern,
}

#[derive(Debug, Clone)]
struct Pattern {
    /// The glob without `!`, the trailing `/` or a leading `/`.
    glob: String,
    /// The glob has a `/` (or had a leading one): match the whole path.
    whole_path: bool,
    negate: bool,
    must_dir: bool,
    /// The glob's shape, found once when parsed.
    shape: Shape,
}

/// Common globs matched without the general matcher (same results as
/// [`glob_match`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// No `*`, `?`, `[` or `\`: the name itself.
    Literal,
    /// `*` then such a literal (`*.swp`): the name ends with it and has no
    /// `/` before it.
    StarSuffix(String),
    /// Such a literal then `*` (`.git*`): the name starts with it and has
    /// no `/` after it.
    PrefixStar(String),
    /// Anything else.
    General,
}

impl Shape {
    fn of(glob: &str) -> Shape {
        let literal = |s: &str| !s.contains(['*', '?', '[', '\\']);
        if literal(glob) {
            return Shape::Literal;
        }
        if let Some(rest) = glob.strip_prefix('*') {
            if !rest.is_empty() && literal(rest) {
                return Shape::StarSuffix(rest.to_string());
            }
        }
        if let Some(rest) = glob.strip_suffix('*') {
            if !rest.is_empty() && literal(rest) {
                return Shape::PrefixStar(rest.to_string());
            }
        }
        Shape::General
    }
}

impl Pattern {
    fn matches(&self, name: &str) -> bool {
        match &self.shape {
            Shape::Literal => self.glob == name,
            Shape::StarSuffix(suffix) => name
                .strip_suffix(suffix.as_str())
                .is_some_and(|head| !head.contains('/')),
            Shape::PrefixStar(prefix) => name
                .strip_prefix(prefix.as_str())
                .is_some_and(|tail| !tail.contains('/')),
            // Patterns were checked when parsed; a failing match is false
            // in Helm too.
            Shape::General => glob_match(&self.glob, name).unwrap_or(false),
        }
    }
}

/// A parsed `.helmignore`.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

impl Rules {
    /// No rules: nothing is ignored.
    pub fn empty() -> Rules {
        Rules::default()
    }

    /// Parse the text of a `.helmignore` (a leading UTF-8 BOM is skipped).
    pub fn parse(text: &str) -> Result<Rules, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rules = Rules::empty();
        // bufio.Scanner's ScanLines: lines end at \n, a trailing \r is
        // dropped (and TrimSpace drops it anyway).
        for line in text.split('\n') {
            rules.add_rule(line)?;
        }
        Ok(rules)
    }

    /// Helm's `AddDefaults`: ignore every dotfile in `templates/`.
    pub fn add_defaults(&mut self) {
        // A constant, valid pattern.
        let _ = self.add_rule("templates/.?*");
    }

    /// Add one line's rule (Helm's `parseRule`).
    pub fn add_rule(&mut self, line: &str) -> Result<(), IgnoreError> {
        let rule = line.trim_matches(is_go_space);
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err(IgnoreError::DoubleStar);
        }
        // Helm checks the raw rule (with its `!` and `/`) compiles.
        glob_match(rule, "abc")?;
        let mut rule = rule;
        let negate = if let Some(rest) = rule.strip_prefix('!') {
            rule = rest;
            true
        } else {
            false
        };
        let must_dir = if let Some(rest) = rule.strip_suffix('/') {
            rule = rest;
            true
        } else {
            false
        };
        let (glob, whole_path) = if let Some(rest) = rule.strip_prefix('/') {
            (rest, true)
        } else {
            (rule, rule.contains('/'))
        };
        self.patterns.push(Pattern {
            shape: Shape::of(glob),
            glob: glob.to_string(),
            whole_path,
            negate,
            must_dir,
        });
        Ok(())
    }

    /// Whether `path` (relative to the chart root, `/`-separated) is
    /// ignored; `is_dir` says whether it is a directory (after following
    /// symlinks, as Helm's walker reports it).
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        let base = go_base(path);
        for p in &self.patterns {
            let subject = if p.whole_path { path } else { base };
            let matched = || p.matches(subject);
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !matched() {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if matched() {
                return true;
            }
        }
        false
    }
}

/// Go's `unicode.IsSpace` (what `strings.TrimSpace` trims).
fn is_go_space(c: char) -> bool {
    c.is_whitespace()
}

/// Go's `filepath.Base` for `/`-separated paths.
fn go_base(path: &str) -> &str {
    if path.is_empty() {
        return ".";
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

/// Go's `filepath.Match` on a `/`-separated system: `Ok(matched)`, or
/// [`IgnoreError::BadPattern`] for a malformed pattern (checked to its end
/// even when the name does not match, as Go does).
pub fn glob_match(pattern: &str, name: &str) -> Result<bool, IgnoreError> {
    let mut pattern = pattern.as_bytes();
    let mut name = name.as_bytes();
    'outer: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing star matches the rest of the name if it has no '/'.
            return Ok(!name.contains(&b'/'));
        }
        let (t, ok) = match_chunk(chunk, name)?;
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                let (t, ok) = match_chunk(chunk, &name[i + 1..])?;
                if ok {
                    // A last chunk must consume the whole name.
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'outer;
                }
                i += 1;
            }
        }
        // No match: still report a malformed rest of the pattern.
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Leading stars, the chunk up to the next unescaped star outside brackets,
/// and the rest.
fn scan_chunk(mut pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while let Some((&b'*', rest)) = pattern.split_first() {
        pattern = rest;
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            // Skip the escaped byte (if any).
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

/// Match one chunk at the start of `s`: the rest of `s` and whether it
/// matched; the whole chunk is always scanned for syntax errors.
fn match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> Result<(&'a [u8], bool), IgnoreError> {
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match chunk[0] {
            b'[' => {
                let mut r = 0u32;
                if !failed {
                    let (c, n) = decode_rune(s);
                    r = c;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&b']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk.first() == Some(&b'-') {
                        let (h, rest) = get_esc(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    let (_, n) = decode_rune(s);
                    s = &s[n..];
                }
                chunk = &chunk[1..];
            }
            c => {
                let literal = if c == b'\\' {
                    chunk = &chunk[1..];
                    match chunk.first() {
                        Some(&b) => b,
                        None => return Err(IgnoreError::BadPattern),
                    }
                } else {
                    c
                };
                if !failed {
                    if literal != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed {
        return Ok((b"", false));
    }
    Ok((s, true))
}

/// One possibly escaped character of a `[...]` class.
fn get_esc(mut chunk: &[u8]) -> Result<(u32, &[u8]), IgnoreError> {
    match chunk.first() {
        None | Some(b'-') | Some(b']') => return Err(IgnoreError::BadPattern),
        Some(b'\\') => {
            chunk = &chunk[1..];
            if chunk.is_empty() {
                return Err(IgnoreError::BadPattern);
            }
        }
        _ => {}
    }
    let (r, n) = decode_rune(chunk);
    if r == 0xFFFD && n == 1 {
        return Err(IgnoreError::BadPattern);
    }
    chunk = &chunk[n..];
    if chunk.is_empty() {
        return Err(IgnoreError::BadPattern);
    }
    Ok((r, chunk))
}

/// Go's `utf8.DecodeRune`: the code point and its length; `(0xFFFD, 1)`
/// for an invalid sequence, `(0xFFFD, 0)` for empty input.
fn decode_rune(b: &[u8]) -> (u32, usize) {
    let Some(&first) = b.first() else {
        return (0xFFFD, 0);
    };
    if first < 0x80 {
        return (first as u32, 1);
    }
    let len = match first {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (0xFFFD, 1),
    };
    match b.get(..len).and_then(|p| std::str::from_utf8(p).ok()) {
        Some(s) => match s.chars().next() {
            Some(c) => (c as u32, len),
            None => (0xFFFD, 1),
        },
        None => (0xFFFD, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expectations from Go's filepath.Match documentation and tests
    // (path/filepath match_test.go).
    #[test]
    fn go_filepath_match() {
        let cases: &[(&str, &str, Result<bool, IgnoreError>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*/b", "a/c/b", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("a???b", "a☺b", Ok(false)),
            ("a[^a][^a][^a]b", "a☺b", Ok(false)),
            ("[a-ζ]*", "α", Ok(true)),
            ("*[a-ζ]", "A", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "x", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[\\-x]", "x", Ok(true)),
            ("[\\-x]", "-", Ok(true)),
            ("[\\-x]", "a", Ok(false)),
            ("[]a]", "]", Err(IgnoreError::BadPattern)),
            ("[-]", "-", Err(IgnoreError::BadPattern)),
            ("[x-]", "x", Err(IgnoreError::BadPattern)),
            ("[x-]", "-", Err(IgnoreError::BadPattern)),
            ("[x-]", "z", Err(IgnoreError::BadPattern)),
            ("[-x]", "x", Err(IgnoreError::BadPattern)),
            ("[-x]", "-", Err(IgnoreError::BadPattern)),
            ("[-x]", "a", Err(IgnoreError::BadPattern)),
            ("\\", "a", Err(IgnoreError::BadPattern)),
            ("[a-b-c]", "a", Err(IgnoreError::BadPattern)),
            ("[", "a", Err(IgnoreError::BadPattern)),
            ("[^", "a", Err(IgnoreError::BadPattern)),
            ("[^bc", "a", Err(IgnoreError::BadPattern)),
            ("a[", "a", Err(IgnoreError::BadPattern)),
            ("a[", "ab", Err(IgnoreError::BadPattern)),
            ("a[", "x", Err(IgnoreError::BadPattern)),
            ("a/b[", "x", Err(IgnoreError::BadPattern)),
            ("*x", "xxx", Ok(true)),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(
                &glob_match(pattern, name),
                want,
                "Match({pattern:?}, {name:?})"
            );
        }
    }

    fn rules(text: &str) -> Rules {
        let mut r = Rules::parse(text).unwrap();
        r.add_defaults();
        r
    }

    // The cases of Helm's pkg/ignore rules_test.go (TestIgnore), with its
    // testdata tree's directories: cargo/, helm/, mast/, rudder/ and
    // templates/ (and `.` dirs) are directories, everything else files.
    #[test]
    fn helm_ignore_cases() {
        let is_dir = |p: &str| {
            matches!(
                p,
                "cargo/" | "cargo" | "helm/" | "helm" | "mast/" | "mast" | "rudder" | "templates"
            )
        };
        let cases: &[(&str, &str, bool)] = &[
            // Glob tests
            ("helm.txt", "helm.txt", true),
            ("helm.*", "helm.txt", true),
            ("helm.*", "rudder.txt", false),
            ("*.txt", "tiller.txt", true),
            ("*.txt", "cargo/a.txt", true),
            ("cargo/*.txt", "cargo/a.txt", true),
            ("cargo/*.*", "cargo/a.txt", true),
            ("cargo/*.txt", "mast/a.txt", false),
            ("ru[c-e]?er.txt", "rudder.txt", true),
            ("templates/.?*", "templates/.dotfile", true),
            // "." should never get ignored. https://github.com/helm/helm/issues/1776
            (".*", ".", false),
            (".*", "./", false),
            (".*", ".joonix", true),
            (".*", "helm.txt", false),
            (".*", "", false),
            // Directory tests
            ("cargo/", "cargo", true),
            ("cargo/", "cargo/", true),
            ("cargo/", "mast/", false),
            ("helm.txt/", "helm.txt", false),
            // Negation tests
            ("!helm.txt", "helm.txt", false),
            ("!helm.txt", "tiller.txt", true),
            ("!*.txt", "cargo", true),
            ("!cargo/", "mast/", true),
            // Absolute path tests
            ("/a.txt", "a.txt", true),
            ("/a.txt", "cargo/a.txt", false),
            ("/cargo/a.txt", "cargo/a.txt", true),
        ];
        for (pattern, name, want) in cases {
            let r = Rules::parse(pattern).unwrap();
            assert_eq!(
                r.ignore(name, is_dir(name)),
                *want,
                "rule {pattern:?} on {name:?}"
            );
        }
    }

    #[test]
    fn parse_comments_blanks_and_errors() {
        let r = rules("# comment\n\n  *.bak  \r\n/top.txt\nsecrets/\n");
        assert!(r.ignore("a.bak", false));
        assert!(r.ignore("deep/x/a.bak", false));
        assert!(r.ignore("top.txt", false));
        assert!(!r.ignore("sub/top.txt", false));
        assert!(r.ignore("secrets", true));
        assert!(!r.ignore("secrets", false));
        assert!(!r.ignore("# comment", false));
        // The default rule: dotfiles in templates/.
        assert!(r.ignore("templates/.hidden.yaml", false));
        assert!(!r.ignore("templates/a.yaml", false));
        assert!(!r.ignore("templates/sub/.x", false));
        // Inline "comments" are part of the pattern.
        let r = Rules::parse("foo # bar").unwrap();
        assert!(r.ignore("foo # bar", false));
        assert!(!r.ignore("foo", false));

        assert_eq!(
            Rules::parse("a/**/b").unwrap_err().to_string(),
            "double-star (**) syntax is not supported"
        );
        assert_eq!(
            Rules::parse("ok\n[x").unwrap_err().to_string(),
            "syntax error in pattern"
        );
        // A BOM before the first rule is skipped.
        let r = Rules::parse("\u{feff}*.tmp").unwrap();
        assert!(r.ignore("a.tmp", false));
    }

    #[test]
    fn negation_ignores_every_non_match() {
        // Helm's negation: a path not matching `!x` is ignored right away.
        let r = rules("!keep.txt\n");
        assert!(!r.ignore("keep.txt", false));
        assert!(r.ignore("other.txt", false));
        // A match continues with the next rule.
        let r = rules("!*.txt\nsecret.txt\n");
        assert!(r.ignore("secret.txt", false));
        assert!(!r.ignore("a.txt", false));
        // A negated directory rule ignores every file.
        let r = rules("!dir/\n");
        assert!(r.ignore("file", false));
        assert!(!r.ignore("dir", true));
    }

    #[test]
    fn shortcut_shapes_agree_with_the_general_matcher() {
        let globs = [
            "abc",
            "*.swp",
            "*~",
            "*/b",
            ".git*",
            "a/b*",
            "*",
            "a]b",
            "x-y",
            "*.tar.gz",
            "templates/.?*",
            "",
        ];
        let names = [
            "abc",
            "x.swp",
            ".swp",
            "a/x.swp",
            "file~",
            "~",
            "a/b",
            "dir/a/b",
            ".git",
            ".gitignore",
            ".git/x",
            "a/bc",
            "a/b/c",
            "a]b",
            "x-y",
            "t.tar.gz",
            "",
            "templates/.x",
        ];
        for glob in globs {
            let shape = Shape::of(glob);
            let p = Pattern {
                glob: glob.to_string(),
                whole_path: true,
                negate: false,
                must_dir: false,
                shape: shape.clone(),
            };
            for name in names {
                assert_eq!(
                    p.matches(name),
                    glob_match(glob, name).unwrap(),
                    "{glob:?} ({shape:?}) against {name:?}"
                );
            }
        }
        assert_eq!(Shape::of("*.swp"), Shape::StarSuffix(".swp".into()));
        assert_eq!(Shape::of(".git*"), Shape::PrefixStar(".git".into()));
        assert_eq!(Shape::of("a\\*"), Shape::General);
    }
}
