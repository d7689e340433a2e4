//! The text `helm template` prints (Helm v4.3.1 `pkg/action/action.go`
//! `renderResources` and `pkg/cmd/template.go`):
//!
//! - the release manifest: with `--include-crds`, every CRD file as
//!   `---\n# Source: <path>\n<raw content>\n`, then every manifest as
//!   `---\n# Source: <path>\n<document>\n`; the whole trimmed of
//!   surrounding whitespace and ended with one newline;
//! - then, unless `--no-hooks`, every hook the same way (test hooks left
//!   out with `--skip-tests`);
//! - with `--show-only`, that text is split into documents again and only
//!   those whose `# Source:` path (without the chart name) matches one of
//!   the patterns (Go's `filepath.Match`) are printed, pattern by pattern,
//!   as `---\n<document>\n`; a pattern that matches nothing is an error.

use crate::manifest::split_manifests;
use crate::Rendered;

/// `helm template`'s output flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputOptions {
    pub include_crds: bool,
    pub skip_tests: bool,
    pub show_only: Vec<String>,
    pub no_hooks: bool,
}

/// Why the output could not be produced. `Display` is Helm's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    #[error("could not find template {0} in chart")]
    TemplateNotFound(String),
}

/// Byte-exact `helm template` stdout for a rendered chart.
pub fn template_output(r: &Rendered, o: &OutputOptions) -> Result<String, OutputError> {
    // Sized once: the output of a large chart is megabytes, and growing it
    // document by document copied it over and over.
    let crds = if o.include_crds { &r.crds[..] } else { &[] };
    let hooks = if o.no_hooks { &[] } else { &r.hooks[..] };
    let size = crds
        .iter()
        .map(|c| doc_size(&c.source, &c.content))
        .sum::<usize>()
        + r.manifests
            .iter()
            .map(|m| doc_size(&m.source, &m.content))
            .sum::<usize>()
        + hooks
            .iter()
            .map(|h| doc_size(&h.manifest.source, &h.manifest.content))
            .sum::<usize>()
        + 1;
    let mut out = String::with_capacity(size);
    for crd in crds {
        push_doc(&mut out, &crd.source, &crd.content);
    }
    for m in &r.manifests {
        push_doc(&mut out, &m.source, &m.content);
    }
    // Helm trims the CRDs and manifests as one text; it starts with
    // `---` (or is empty), so only its end can change.
    let kept = out.trim_end().len();
    out.truncate(kept);
    out.push('\n');
    if !o.no_hooks {
        for h in &r.hooks {
            if o.skip_tests && h.is_test() {
                continue;
            }
            push_doc(&mut out, &h.manifest.source, &h.manifest.content);
        }
    }
    if o.show_only.is_empty() {
        return Ok(out);
    }
    let docs = split_manifests(&out);
    let mut shown = String::new();
    for pattern in &o.show_only {
        let pattern = pattern.replace(std::path::MAIN_SEPARATOR, "/");
        let mut missing = true;
        for doc in &docs {
            let Some(name) = source_name(doc) else {
                continue;
            };
            if !go_filepath_match(&pattern, name) {
                continue;
            }
            shown.push_str("---\n");
            shown.push_str(doc);
            shown.push('\n');
            missing = false;
        }
        if missing {
            return Err(OutputError::TemplateNotFound(pattern));
        }
    }
    Ok(shown)
}

/// The bytes [`push_doc`] writes.
fn doc_size(source: &str, content: &str) -> usize {
    "---\n# Source: ".len() + source.len() + 1 + content.len() + 1
}

fn push_doc(out: &mut String, source: &str, content: &str) {
    out.push_str("---\n# Source: ");
    out.push_str(source);
    out.push('\n');
    out.push_str(content);
    out.push('\n');
}

/// The first match of `# Source: [^/]+/(.+)` in a document: the path after
/// the chart name (to the end of that line).
fn source_name(doc: &str) -> Option<&str> {
    const TAG: &str = "# Source: ";
    let mut from = 0;
    while let Some(i) = doc[from..].find(TAG) {
        let start = from + i + TAG.len();
        let rest = &doc[start..];
        // `[^/]+` needs at least one character before the slash.
        if let Some(slash) = rest.find('/').filter(|s| *s > 0) {
            let tail = &rest[slash + 1..];
            let line = tail.split('\n').next().unwrap_or("");
            if !line.is_empty() {
                return Some(line);
            }
        }
        from = start;
    }
    None
}

/// Go's `path/filepath.Match` with `/` as separator: `*` any run of
/// non-separators, `?` one non-separator, `[...]` classes (`^` negates,
/// ranges, `\` escapes), `\` escapes. A malformed pattern matches nothing
/// (Go returns `ErrBadPattern`, which Helm treats as no match).
pub fn go_filepath_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    match_from(&p, 0, &s, 0).unwrap_or(false)
}

/// `None` for a bad pattern.
fn match_from(p: &[char], mut pi: usize, s: &[char], mut si: usize) -> Option<bool> {
    while pi < p.len() {
        match p[pi] {
            '*' => {
                while pi < p.len() && p[pi] == '*' {
                    pi += 1;
                }
                if pi == p.len() {
                    return Some(!s[si..].contains(&'/'));
                }
                let mut j = si;
                loop {
                    if match_from(p, pi, s, j)? {
                        return Some(true);
                    }
                    if j >= s.len() || s[j] == '/' {
                        return Some(false);
                    }
                    j += 1;
                }
            }
            '?' => {
                if si >= s.len() || s[si] == '/' {
                    return Some(false);
                }
                pi += 1;
                si += 1;
            }
            '[' => {
                let (matched, next) = match_class(p, pi + 1, s.get(si).copied())?;
                if !matched {
                    return Some(false);
                }
                pi = next;
                si += 1;
            }
            '\\' => {
                let c = *p.get(pi + 1)?;
                if s.get(si) != Some(&c) {
                    return Some(false);
                }
                pi += 2;
                si += 1;
            }
            c => {
                if s.get(si) != Some(&c) {
                    return Some(false);
                }
                pi += 1;
                si += 1;
            }
        }
    }
    Some(si == s.len())
}

/// A character class starting after `[` (Go's `matchChunk`: `^`
/// negates, at least one range, `]` or `-` where a character is expected
/// is a bad pattern); returns whether `c` is in it and the index after
/// `]`. Unlike `?` and `*`, a class may match the separator.
fn match_class(p: &[char], mut i: usize, c: Option<char>) -> Option<(bool, usize)> {
    let negated = p.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut ranges = 0;
    loop {
        if p.get(i) == Some(&']') && ranges > 0 {
            i += 1;
            break;
        }
        let (lo, next) = class_char(p, i)?;
        i = next;
        let mut hi = lo;
        if p.get(i) == Some(&'-') {
            let (h, next) = class_char(p, i + 1)?;
            hi = h;
            i = next;
        }
        if let Some(c) = c {
            if lo <= c && c <= hi {
                matched = true;
            }
        }
        ranges += 1;
    }
    let _ = c?;
    Some((matched != negated, i))
}

/// Go's `getEsc`: one class character (`\` escapes); `-`, `]`, the end of
/// the pattern, or a character that ends the pattern are bad patterns.
fn class_char(p: &[char], mut i: usize) -> Option<(char, usize)> {
    match p.get(i) {
        None | Some('-') | Some(']') => return None,
        Some('\\') => i += 1,
        _ => {}
    }
    let c = *p.get(i)?;
    if i + 1 >= p.len() {
        return None;
    }
    Some((c, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Crd, Hook, HookEvent, Manifest};

    fn m(source: &str, content: &str) -> Manifest {
        Manifest {
            source: source.into(),
            content: content.into(),
            ..Manifest::default()
        }
    }

    fn rendered() -> Rendered {
        Rendered {
            manifests: vec![
                m("c/templates/a.yaml", "a: 1\n\n"),
                m("c/templates/b.yaml", "b: 2\n"),
            ],
            hooks: vec![
                Hook {
                    manifest: m("c/templates/t.yaml", "t: 1\n"),
                    events: vec![HookEvent::Test],
                    ..Hook::default()
                },
                Hook {
                    manifest: m("c/templates/h.yaml", "h: 1\n"),
                    events: vec![HookEvent::PreInstall],
                    ..Hook::default()
                },
            ],
            crds: vec![Crd {
                source: "c/crds/x.yaml".into(),
                content: "kind: CustomResourceDefinition\n".into(),
            }],
            notes: None,
        }
    }

    #[test]
    fn layout_like_helm_template() {
        let out = template_output(&rendered(), &OutputOptions::default()).unwrap();
        assert_eq!(
            out,
            "---\n# Source: c/templates/a.yaml\na: 1\n\n\n---\n# Source: c/templates/b.yaml\nb: 2\n\
             ---\n# Source: c/templates/t.yaml\nt: 1\n\n---\n# Source: c/templates/h.yaml\nh: 1\n\n"
        );
        let out = template_output(
            &rendered(),
            &OutputOptions {
                include_crds: true,
                skip_tests: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(
            out.starts_with("---\n# Source: c/crds/x.yaml\nkind: CustomResourceDefinition\n\n---")
        );
        assert!(!out.contains("t: 1"));
        let out = template_output(
            &rendered(),
            &OutputOptions {
                no_hooks: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(out.ends_with("b: 2\n") && !out.contains("h: 1"));
        // Nothing rendered: one newline.
        assert_eq!(
            template_output(&Rendered::default(), &OutputOptions::default()).unwrap(),
            "\n"
        );
    }

    #[test]
    fn show_only_filters_by_path() {
        let o = OutputOptions {
            show_only: vec!["templates/b.yaml".into(), "templates/h*".into()],
            ..Default::default()
        };
        assert_eq!(
            template_output(&rendered(), &o).unwrap(),
            "---\n# Source: c/templates/b.yaml\nb: 2\n\n---\n# Source: c/templates/h.yaml\nh: 1\n\n\n"
        );
        let o = OutputOptions {
            show_only: vec!["templates/zzz.yaml".into()],
            ..Default::default()
        };
        assert_eq!(
            template_output(&rendered(), &o).unwrap_err().to_string(),
            "could not find template templates/zzz.yaml in chart"
        );
    }

    #[test]
    fn filepath_match() {
        assert!(go_filepath_match("templates/*.yaml", "templates/a.yaml"));
        assert!(!go_filepath_match("templates/*", "templates/sub/a.yaml"));
        assert!(go_filepath_match("templates/[ab].yaml", "templates/b.yaml"));
        assert!(go_filepath_match(
            "templates/[^ab].yaml",
            "templates/c.yaml"
        ));
        assert!(go_filepath_match("t?", "ta"));
        assert!(!go_filepath_match("templates/[", "templates/a"));
        // Go: `]` or `-` where a class character is expected is a bad
        // pattern; a class may match the separator.
        assert!(!go_filepath_match("[]a]", "]"));
        assert!(!go_filepath_match("[-a]", "-"));
        assert!(go_filepath_match("a[^x]b", "a/b"));
        assert!(go_filepath_match("[a-c][\\]]", "b]"));
    }
}
