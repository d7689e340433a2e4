//! Judging berth's output against several helm runs of the same case.
//!
//! **Random by design.** Helm is run at least twice per case (a third time
//! when the first two differ). Whatever differs between helm runs is random
//! by design (`randAlphaNum`, `genCA`, `uuidv4`, `bcrypt`, `now`, …, and what
//! is derived from them, such as `checksum/*` annotations or the base64 of a
//! generated key), wherever it is: no chart, path or function is named
//! here. Such a value is compared by its *shape*, and only by the properties
//! every helm run agrees on:
//! - same place in the tree and same type; for maps, the keys all helm runs
//!   have; for lists, the length when helm's is fixed;
//! - a multi-line string line by line, when helm's line count is fixed;
//! - PEM text: the same sequence of block types, every body valid base64,
//!   and the text around the blocks by these same rules (a key's or
//!   certificate's length is never fixed, even when a few runs agree);
//! - base64 text: berth's decodes too, and the decoded text is compared by
//!   these same rules (binary contents: decoding is enough);
//! - a line of tokens (`key: "value"`): the same separators, each token by
//!   these same rules;
//! - any other string: the same length when helm's is fixed, the prefix and
//!   suffix all helm runs share (`$2a$10$` of a bcrypt hash, the fixed part
//!   of a generated name), and no character class (lowercase, uppercase,
//!   other; digits go with any letters) helm never used.
//!
//! berth runs between the helm runs, so a time-derived value (`now`) shares
//! whatever prefix the helm runs before and after it share.
//!
//! **Semantic identity**: same exit status; when helm fails, the same error
//! text; otherwise the same documents (source and parsed data, random fields
//! by shape), as a set *and* in the same order.
//!
//! **Byte identity**: berth's stdout equals helm's (also when both fail);
//! when helm's own runs differ, line by line, with the lines that differ
//! between helm runs compared by shape.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::Value;

use crate::docs::{self, Doc};
use crate::process::Output;

/// At most this many differences are collected per document.
const MAX_DIFFS: usize = 6;

/// The outcome of one case.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    pub semantic: bool,
    pub bytes: bool,
    /// Whether helm's runs differed (the case has random fields).
    pub random: bool,
    /// Human-readable findings, already compact (for the report).
    pub findings: Vec<String>,
}

/// Compares berth's run with helm's runs (`helm[0]` first; the runs that
/// failed when the first succeeded are ignored).
pub fn compare_case(helm: &[Output], berth: &Output) -> Verdict {
    let mut v = Verdict::default();
    let Some(h0) = helm.first() else {
        v.findings.push("no helm run".into());
        return v;
    };
    if !h0.success {
        let want = h0.error_message().unwrap_or(h0.stderr.trim_end());
        if berth.success {
            v.findings
                .push(format!("helm fails, berth renders\n  helm:  {want}"));
            return v;
        }
        let got = berth.error_message().unwrap_or(berth.stderr.trim_end());
        if want == got {
            v.semantic = true;
            // helm prints nothing on stdout when it fails; neither may berth.
            v.bytes = berth.stdout == h0.stdout;
            if !v.bytes {
                v.findings.push(format!(
                    "both fail with the same error, stdout differs: {}",
                    first_line_diff(&h0.stdout, &berth.stdout)
                ));
            }
        } else {
            v.findings.push(format!(
                "both fail, with different errors\n  helm:  {}\n  berth: {}",
                indent(want),
                indent(got)
            ));
        }
        return v;
    }
    if !berth.success {
        let got = berth.error_message().unwrap_or(berth.stderr.trim_end());
        v.findings.push(format!(
            "helm renders, berth fails\n  berth: {}",
            indent(got)
        ));
        return v;
    }
    let runs: Vec<&Output> = helm.iter().filter(|h| h.success).collect();
    v.random = runs.iter().any(|h| h.stdout != h0.stdout);

    // Documents.
    let mut helm_docs: Vec<Vec<Doc>> = runs.iter().map(|h| docs::split(&h.stdout)).collect();
    let n = helm_docs[0].len();
    if helm_docs.iter().any(|d| d.len() != n) {
        v.findings.push(
            "helm's own runs print different numbers of documents; compared with the first run only"
                .into(),
        );
        helm_docs.truncate(1);
    }
    let berth_docs = docs::split(&berth.stdout);
    let variants: Vec<Vec<&Doc>> = (0..n)
        .map(|i| helm_docs.iter().map(|run| &run[i]).collect())
        .collect();
    v.semantic = compare_documents(&variants, &berth_docs, &mut v.findings);

    // Bytes.
    let texts: Vec<&str> = runs.iter().map(|h| h.stdout.as_str()).collect();
    v.bytes = if berth.stdout == h0.stdout {
        true
    } else if v.random {
        match text_matches(&berth.stdout, &texts) {
            Ok(()) => true,
            Err(e) => {
                v.findings.push(format!("bytes differ: {e}"));
                false
            }
        }
    } else {
        v.findings.push(format!(
            "bytes differ: {}",
            first_line_diff(&h0.stdout, &berth.stdout)
        ));
        false
    };
    v
}

fn indent(s: &str) -> String {
    s.replace('\n', "\n         ")
}

/// The semantic comparison of the documents. Returns whether they match as
/// a set and in order; appends findings otherwise.
fn compare_documents(helm: &[Vec<&Doc>], berth: &[Doc], findings: &mut Vec<String>) -> bool {
    // The common case: same documents at the same positions.
    if helm.len() == berth.len()
        && helm
            .iter()
            .zip(berth)
            .all(|(hs, b)| doc_differences(b, hs).is_empty())
    {
        return true;
    }
    // As a set: pair each helm document with the first unused berth
    // document that matches it.
    let mut used = vec![false; berth.len()];
    let mut pairing: Vec<Option<usize>> = Vec::with_capacity(helm.len());
    for hs in helm {
        let found =
            (0..berth.len()).find(|&j| !used[j] && doc_differences(&berth[j], hs).is_empty());
        if let Some(j) = found {
            used[j] = true;
        }
        pairing.push(found);
    }
    let missing: Vec<usize> = (0..helm.len()).filter(|&i| pairing[i].is_none()).collect();
    let extra: Vec<usize> = (0..berth.len()).filter(|&j| !used[j]).collect();
    if missing.is_empty() && extra.is_empty() {
        let at = pairing
            .iter()
            .enumerate()
            .find(|(i, p)| **p != Some(*i))
            .map(|(i, _)| i)
            .unwrap_or(0);
        findings.push(format!(
            "same {} documents, different order: helm's document {} ({}) is berth's document {}",
            helm.len(),
            at + 1,
            helm[at][0].describe(),
            pairing[at].map(|j| j + 1).unwrap_or(0)
        ));
        return false;
    }
    findings.push(format!(
        "documents: helm {}, berth {}; {} of helm's have no equal in berth's, {} of berth's none in helm's",
        helm.len(),
        berth.len(),
        missing.len(),
        extra.len()
    ));
    // Explain the unmatched ones: pair them by object identity when
    // possible, to show what differs inside.
    let mut extra_left: Vec<usize> = extra.clone();
    for (shown, &i) in missing.iter().enumerate() {
        if shown >= 5 {
            findings.push(format!("… and {} more", missing.len() - shown));
            break;
        }
        let hs = &helm[i];
        let id = identity(hs[0]);
        let partner = extra_left
            .iter()
            .position(|&j| identity(&berth[j]) == id)
            .map(|k| extra_left.remove(k));
        match partner {
            Some(j) => {
                let diffs = doc_differences(&berth[j], hs);
                findings.push(format!(
                    "{} differs:\n    {}",
                    hs[0].describe(),
                    diffs.join("\n    ")
                ));
            }
            None => findings.push(format!("missing in berth: {}", hs[0].describe())),
        }
    }
    for &j in extra_left.iter().take(5) {
        findings.push(format!("only in berth: {}", berth[j].describe()));
    }
    false
}

/// What identifies an object across the two outputs for the report.
fn identity(d: &Doc) -> (String, String) {
    (d.source.clone(), d.describe())
}

/// The differences between berth's document and helm's variants of it
/// (empty when they match).
pub fn doc_differences(b: &Doc, hs: &[&Doc]) -> Vec<String> {
    let mut out = Vec::new();
    if hs.iter().all(|h| h.source == hs[0].source) && b.source != hs[0].source {
        out.push(format!(
            "source: helm {:?}, berth {:?}",
            hs[0].source, b.source
        ));
    }
    let helm_values: Option<Vec<&Value>> = hs.iter().map(|h| h.value.as_ref().ok()).collect();
    match (helm_values, &b.value) {
        (Some(hv), Ok(bv)) => value_differences("", bv, &hv, &mut out),
        (None, Err(_)) => {
            let texts: Vec<&str> = hs.iter().map(|h| h.text.as_str()).collect();
            if let Err(e) = text_matches(&b.text, &texts) {
                out.push(format!("(unparsable on both sides) {e}"));
            }
        }
        (Some(_), Err(e)) => out.push(format!("berth's document does not parse: {e}")),
        (None, Ok(_)) => out.push("helm's document does not parse, berth's does".into()),
    }
    out
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}…")
    } else {
        s
    }
}

fn join(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

fn value_differences(path: &str, b: &Value, hs: &[&Value], out: &mut Vec<String>) {
    if out.len() >= MAX_DIFFS {
        return;
    }
    let h0 = hs[0];
    let stable = hs.iter().all(|h| *h == h0);
    let here = if path.is_empty() { "." } else { path };
    if stable {
        if b == h0 {
            return;
        }
        match (b, h0) {
            (Value::Object(bm), Value::Object(hm)) => {
                for (k, hv) in hm {
                    match bm.get(k) {
                        Some(bv) => value_differences(&join(path, k), bv, &[hv], out),
                        None => out.push(format!(
                            "{}: missing in berth (helm: {})",
                            join(path, k),
                            short(hv)
                        )),
                    }
                    if out.len() >= MAX_DIFFS {
                        return;
                    }
                }
                for (k, bv) in bm {
                    if !hm.contains_key(k) && out.len() < MAX_DIFFS {
                        out.push(format!("{}: only in berth ({})", join(path, k), short(bv)));
                    }
                }
            }
            (Value::Array(ba), Value::Array(ha)) => {
                if ba.len() != ha.len() {
                    out.push(format!(
                        "{here}: helm has {} items, berth {}",
                        ha.len(),
                        ba.len()
                    ));
                }
                for (i, (bv, hv)) in ba.iter().zip(ha).enumerate() {
                    value_differences(&format!("{path}[{i}]"), bv, &[hv], out);
                    if out.len() >= MAX_DIFFS {
                        return;
                    }
                }
            }
            (Value::String(bs), Value::String(hs)) if hs.contains('\n') || bs.contains('\n') => {
                out.push(format!("{here}: text differs, {}", first_line_diff(hs, bs)));
            }
            _ => out.push(format!(
                "{here}: helm {} ({}), berth {} ({})",
                short(h0),
                kind_of(h0),
                short(b),
                kind_of(b)
            )),
        }
        return;
    }
    // Random by design somewhere under here.
    if hs.iter().all(|h| h.is_object()) {
        let Value::Object(bm) = b else {
            out.push(format!(
                "{here}: helm a map (random contents), berth {}",
                kind_of(b)
            ));
            return;
        };
        let maps: Vec<&serde_json::Map<String, Value>> =
            hs.iter().filter_map(|h| h.as_object()).collect();
        let mut all_keys: BTreeSet<&str> = BTreeSet::new();
        for m in &maps {
            all_keys.extend(m.keys().map(String::as_str));
        }
        for k in &all_keys {
            let sub: Option<Vec<&Value>> = maps.iter().map(|m| m.get(*k)).collect();
            if let Some(sub) = sub {
                match bm.get(*k) {
                    Some(bv) => value_differences(&join(path, k), bv, &sub, out),
                    None => out.push(format!("{}: missing in berth", join(path, k))),
                }
            }
        }
        for k in bm.keys() {
            if !all_keys.contains(k.as_str()) && out.len() < MAX_DIFFS {
                out.push(format!("{}: only in berth", join(path, k)));
            }
        }
        let min = maps.iter().map(|m| m.len()).min().unwrap_or(0);
        let max = maps.iter().map(|m| m.len()).max().unwrap_or(0);
        if bm.len() < min || bm.len() > max {
            out.push(format!(
                "{here}: helm has {min}..{max} keys (random), berth {}",
                bm.len()
            ));
        }
        return;
    }
    if hs.iter().all(|h| h.is_array()) {
        let Value::Array(ba) = b else {
            out.push(format!(
                "{here}: helm a list (random contents), berth {}",
                kind_of(b)
            ));
            return;
        };
        let lists: Vec<&Vec<Value>> = hs.iter().filter_map(|h| h.as_array()).collect();
        let len = lists[0].len();
        if lists.iter().all(|l| l.len() == len) {
            if ba.len() != len {
                out.push(format!("{here}: helm has {len} items, berth {}", ba.len()));
                return;
            }
            for i in 0..len {
                let sub: Vec<&Value> = lists.iter().map(|l| &l[i]).collect();
                value_differences(&format!("{path}[{i}]"), &ba[i], &sub, out);
            }
        } else {
            let min = lists.iter().map(|l| l.len()).min().unwrap_or(0);
            let max = lists.iter().map(|l| l.len()).max().unwrap_or(0);
            if ba.len() < min || ba.len() > max {
                out.push(format!(
                    "{here}: helm has {min}..{max} items (random), berth {}",
                    ba.len()
                ));
            }
        }
        return;
    }
    if hs.iter().all(|h| h.is_string()) {
        let Value::String(bs) = b else {
            out.push(format!(
                "{here}: helm a random string, berth {} ({})",
                short(b),
                kind_of(b)
            ));
            return;
        };
        let strs: Vec<&str> = hs.iter().filter_map(|h| h.as_str()).collect();
        if let Err(e) = shape_matches(bs, &strs) {
            out.push(format!(
                "{here}: random value of another shape: {e} (helm e.g. {}, berth {})",
                short(h0),
                short(b)
            ));
        }
        return;
    }
    let k0 = kind_of(h0);
    if hs.iter().all(|h| kind_of(h) == k0) && kind_of(b) != k0 {
        out.push(format!(
            "{here}: helm a random {k0}, berth {} ({})",
            short(b),
            kind_of(b)
        ));
    }
}

/// Character classes used by a string: letters-or-digits (lower), upper,
/// other. Digits count as any letter: a short random name often has no
/// digit in a few helm runs by chance, while a whole class of letters
/// (uppercase in `randAlphaNum | lower`) does not appear by chance.
fn classes(s: &str) -> [bool; 3] {
    let mut c = [false; 3];
    for ch in s.chars() {
        if ch.is_ascii_lowercase() {
            c[0] = true;
        } else if ch.is_ascii_uppercase() {
            c[1] = true;
        } else if !ch.is_ascii_digit() {
            c[2] = true;
        }
    }
    c
}

fn common_prefix_len(strs: &[&str]) -> usize {
    let first = strs[0];
    let mut n = first.len();
    for s in &strs[1..] {
        n = first
            .char_indices()
            .zip(s.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map(|((i, a), _)| i + a.len_utf8())
            .unwrap_or(0)
            .min(n);
    }
    n
}

/// `len`, cut back to the end of the last whole alphanumeric run of
/// `text[..len]` when it stops inside one.
fn token_prefix_len(text: &str, len: usize) -> usize {
    let inside = |i: usize| {
        text[..i]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
            && text[i..].chars().next().is_some_and(char::is_alphanumeric)
    };
    if len == 0 || len >= text.len() || !inside(len) {
        return len;
    }
    text[..len]
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_alphanumeric())
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// The suffix counterpart of [`token_prefix_len`]: `len` bytes at the end
/// of `text`, cut to start at a whole alphanumeric run.
fn token_suffix_len(text: &str, len: usize) -> usize {
    let start = text.len() - len;
    let inside = |i: usize| {
        text[..i]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
            && text[i..].chars().next().is_some_and(char::is_alphanumeric)
    };
    if len == 0 || start == 0 || !inside(start) {
        return len;
    }
    match text[start..]
        .char_indices()
        .find(|(_, c)| !c.is_alphanumeric())
    {
        Some((i, _)) => len - i,
        None => 0,
    }
}

fn common_suffix_len(strs: &[&str]) -> usize {
    let first = strs[0];
    let mut n = first.len();
    for s in &strs[1..] {
        let m: usize = first
            .chars()
            .rev()
            .zip(s.chars().rev())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum();
        n = n.min(m);
    }
    n
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    if s.len() < 4 || !s.len().is_multiple_of(4) {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// PEM text split into its block types (`CERTIFICATE`, `RSA PRIVATE KEY`)
/// and the text around the blocks (each block replaced by `<PEM>`), or
/// `None` when a block is malformed (no END, body not base64).
fn pem_blocks(s: &str) -> Option<(Vec<String>, String)> {
    let mut types = Vec::new();
    let mut outside = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("-----BEGIN ") {
        outside.push_str(&rest[..start]);
        outside.push_str("<PEM>");
        let after = &rest[start + "-----BEGIN ".len()..];
        let end_label = after.find("-----")?;
        let kind = after[..end_label].to_string();
        let body_start = &after[end_label + 5..];
        let end_marker = format!("-----END {kind}-----");
        let body_end = body_start.find(&end_marker)?;
        let body: String = body_start[..body_end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(&body)
            .ok()?;
        types.push(kind);
        rest = &body_start[body_end + end_marker.len()..];
    }
    outside.push_str(rest);
    Some((types, outside))
}

/// Characters that separate the tokens of a line (YAML punctuation and
/// blanks; not `:`, `/`, `=`, `.`, which occur inside URLs, paths and
/// base64).
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '[' | ']' | '{' | '}' | '(' | ')')
}

/// A string cut into alternating runs of separators and tokens.
fn runs(s: &str) -> Vec<(bool, &str)> {
    let mut out: Vec<(bool, &str)> = Vec::new();
    let mut start = 0;
    let mut kind = None;
    for (i, c) in s.char_indices() {
        let sep = is_separator(c);
        if kind != Some(sep) {
            if let Some(k) = kind {
                out.push((k, &s[start..i]));
            }
            start = i;
            kind = Some(sep);
        }
    }
    if let Some(k) = kind {
        out.push((k, &s[start..]));
    }
    out
}

/// Whether berth's string has the shape helm's varying strings agree on.
pub fn shape_matches(b: &str, hs: &[&str]) -> Result<(), String> {
    let h0 = hs[0];
    if hs.iter().all(|h| *h == h0) {
        return if b == h0 {
            Ok(())
        } else {
            Err(format!(
                "helm always prints {:?}, berth {:?}",
                truncate(h0, 80),
                truncate(b, 80)
            ))
        };
    }
    // PEM (before lines: the length of a key or certificate is not fixed,
    // even when a few helm runs happen to agree on it).
    if hs.iter().all(|h| h.contains("-----BEGIN ")) {
        let parsed: Option<Vec<(Vec<String>, String)>> = hs.iter().map(|h| pem_blocks(h)).collect();
        if let Some(parsed) = parsed {
            if parsed.iter().all(|p| p.0 == parsed[0].0) {
                let Some((bt, bo)) = pem_blocks(b) else {
                    return Err("berth's PEM text is malformed".into());
                };
                if bt != parsed[0].0 {
                    return Err(format!(
                        "PEM blocks: helm {:?}, berth {:?}",
                        parsed[0].0, bt
                    ));
                }
                let outside: Vec<&str> = parsed.iter().map(|p| p.1.as_str()).collect();
                return shape_matches(&bo, &outside)
                    .map_err(|e| format!("around the PEM blocks: {e}"));
            }
        }
    }
    // Line by line when helm's line count is fixed.
    let lines: Vec<Vec<&str>> = hs.iter().map(|h| h.split('\n').collect()).collect();
    let count = lines[0].len();
    if count > 1 && lines.iter().all(|l| l.len() == count) {
        let bl: Vec<&str> = b.split('\n').collect();
        if bl.len() != count {
            return Err(format!("helm has {count} lines, berth {}", bl.len()));
        }
        for i in 0..count {
            let sub: Vec<&str> = lines.iter().map(|l| l[i]).collect();
            shape_matches(bl[i], &sub).map_err(|e| format!("line {}: {e}", i + 1))?;
        }
        return Ok(());
    }
    // Base64.
    let decoded: Option<Vec<Vec<u8>>> = hs.iter().map(|h| decode_base64(h)).collect();
    if let Some(decoded) = decoded {
        let Some(bd) = decode_base64(b) else {
            return Err("helm prints base64, berth's value does not decode".into());
        };
        let texts: Option<Vec<&str>> = decoded
            .iter()
            .map(|d| std::str::from_utf8(d).ok())
            .collect();
        if let (Some(texts), Ok(bt)) = (texts, std::str::from_utf8(&bd)) {
            return shape_matches(bt, &texts).map_err(|e| format!("base64-decoded: {e}"));
        }
        return Ok(());
    }
    // Tokens, when helm's runs cut into the same pattern of tokens.
    let cut: Vec<Vec<(bool, &str)>> = hs.iter().map(|h| runs(h)).collect();
    let pattern: Vec<bool> = cut[0].iter().map(|r| r.0).collect();
    if pattern.len() > 1
        && cut
            .iter()
            .all(|c| c.iter().map(|r| r.0).eq(pattern.iter().copied()))
    {
        let bc = runs(b);
        if !bc.iter().map(|r| r.0).eq(pattern.iter().copied()) {
            return Err(format!(
                "helm's values are {} tokens, berth's {}",
                pattern.len(),
                bc.len()
            ));
        }
        for (i, (_, bt)) in bc.iter().enumerate() {
            let sub: Vec<&str> = cut.iter().map(|c| c[i].1).collect();
            shape_matches(bt, &sub)?;
        }
        return Ok(());
    }
    // Any other string.
    let len = h0.chars().count();
    if hs.iter().all(|h| h.chars().count() == len) && b.chars().count() != len {
        return Err(format!(
            "length {}, helm's is always {len}",
            b.chars().count()
        ));
    }
    // A common prefix or suffix that stops inside an alphanumeric run is
    // a coincidence of the random part (two random tokens share their
    // first or last character one time in 36), not a fixed part of the
    // value: only whole runs count.
    let p = token_prefix_len(h0, common_prefix_len(hs));
    if !b.starts_with(&h0[..p]) {
        return Err(format!("helm's values all start with {:?}", &h0[..p]));
    }
    let s = token_suffix_len(h0, common_suffix_len(hs));
    if !b.ends_with(&h0[h0.len() - s..]) {
        return Err(format!(
            "helm's values all end with {:?}",
            &h0[h0.len() - s..]
        ));
    }
    let mut allowed = [false; 3];
    for h in hs {
        for (a, c) in allowed.iter_mut().zip(classes(h)) {
            *a |= c;
        }
    }
    let names = ["lowercase letters", "uppercase letters", "other characters"];
    for (i, c) in classes(b).iter().enumerate() {
        if *c && !allowed[i] {
            return Err(format!("berth's value has {}, helm's never", names[i]));
        }
    }
    Ok(())
}

/// Whole-text comparison when helm's runs differ: the same number of lines,
/// stable lines equal, varying lines by shape.
pub fn text_matches(b: &str, hs: &[&str]) -> Result<(), String> {
    let lines: Vec<Vec<&str>> = hs.iter().map(|h| h.split('\n').collect()).collect();
    let count = lines[0].len();
    let bl: Vec<&str> = b.split('\n').collect();
    if lines.iter().any(|l| l.len() != count) {
        // Helm's own line count varies: judge as one string.
        return shape_matches(b, hs);
    }
    if bl.len() != count {
        return Err(format!(
            "{} lines, helm {count}; {}",
            bl.len(),
            first_line_diff(hs[0], b)
        ));
    }
    for i in 0..count {
        let sub: Vec<&str> = lines.iter().map(|l| l[i]).collect();
        if let Err(e) = shape_matches(bl[i], &sub) {
            return Err(format!("line {}: {e}", i + 1));
        }
    }
    Ok(())
}

/// `line N: helm «…» / berth «…»` for the first line that differs, with
/// one line of context.
pub fn first_line_diff(helm: &str, berth: &str) -> String {
    let hl: Vec<&str> = helm.split('\n').collect();
    let bl: Vec<&str> = berth.split('\n').collect();
    let i = hl
        .iter()
        .zip(&bl)
        .position(|(a, b)| a != b)
        .unwrap_or(hl.len().min(bl.len()));
    let at = |l: &[&str], i: usize| -> String {
        l.get(i)
            .map(|s| format!("{:?}", truncate(s, 160)))
            .unwrap_or_else(|| "(end)".into())
    };
    let context = if i > 0 {
        format!(" after {}", at(&hl, i - 1))
    } else {
        String::new()
    };
    format!(
        "line {}{context}:\n      helm:  {}\n      berth: {}",
        i + 1,
        at(&hl, i),
        at(&bl, i)
    )
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_share_no_fixed_parts_by_chance() {
        // Two of helm's random names happen to end (and start) alike.
        let hs = ["berth-demo-grpc-test-23eyh", "berth-demo-grpc-test-2tzoh"];
        assert_eq!(shape_matches("berth-demo-grpc-test-1tzok", &hs), Ok(()));
        // The fixed part is still checked.
        assert!(shape_matches("other-demo-grpc-test-1tzok", &hs).is_err());
        assert_eq!(token_prefix_len("ab-cd", 4), 3);
        assert_eq!(token_prefix_len("ab-cd", 3), 3);
        assert_eq!(token_suffix_len("ab-cd", 1), 0);
        assert_eq!(token_suffix_len("ab-cd", 3), 3);
        assert_eq!(token_suffix_len("x.yaml", 4), 4);
    }

    fn ok(stdout: &str) -> Output {
        Output {
            success: true,
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    fn failed(stderr: &str) -> Output {
        Output {
            success: false,
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn stable_output_must_be_equal() {
        let h = ok("---\n# Source: c/templates/a.yaml\nkind: A\nx: 1\n");
        let v = compare_case(&[h.clone(), h.clone()], &h);
        assert!(v.semantic && v.bytes);
        let b = ok("---\n# Source: c/templates/a.yaml\nkind: A\nx: 2\n");
        let v = compare_case(&[h.clone(), h.clone()], &b);
        assert!(!v.semantic && !v.bytes);
        assert!(
            v.findings.iter().any(|f| f.contains(".x: helm 1")),
            "{:?}",
            v.findings
        );
    }

    #[test]
    fn same_data_other_bytes_is_semantic_only() {
        let h = ok("---\n# Source: c/templates/a.yaml\nkind: A\nx: \"1\"\n");
        let b = ok("---\n# Source: c/templates/a.yaml\nkind: A\nx: '1'\n");
        let v = compare_case(&[h.clone(), h], &b);
        assert!(v.semantic);
        assert!(!v.bytes);
    }

    #[test]
    fn order_is_checked() {
        let h = ok("---\nkind: A\n---\nkind: B\n");
        let b = ok("---\nkind: B\n---\nkind: A\n");
        let v = compare_case(&[h.clone(), h], &b);
        assert!(!v.semantic);
        assert!(
            v.findings[0].contains("different order"),
            "{:?}",
            v.findings
        );
    }

    #[test]
    fn random_strings_compare_by_shape() {
        let h1 = ok("kind: Secret\ndata:\n  pw: abcDEF123xyz\n");
        let h2 = ok("kind: Secret\ndata:\n  pw: QwErTy987abc\n");
        let good = ok("kind: Secret\ndata:\n  pw: ZZZzzz000aaa\n");
        let v = compare_case(&[h1.clone(), h2.clone()], &good);
        assert!(v.random && v.semantic && v.bytes, "{:?}", v.findings);
        let short = ok("kind: Secret\ndata:\n  pw: abc\n");
        let v = compare_case(&[h1, h2], &short);
        assert!(!v.semantic && !v.bytes);
    }

    #[test]
    fn shared_prefix_and_classes_are_kept() {
        assert!(shape_matches("name-test-abcde", &["name-test-xkqzp", "name-test-0a9b8"]).is_ok());
        assert!(shape_matches("other-test-abcd", &["name-test-xkqzp", "name-test-0a9b8"]).is_err());
        assert!(shape_matches("name-test-ABCDE", &["name-test-xkqzp", "name-test-0a9b8"]).is_err());
    }

    #[test]
    fn base64_of_random_text_is_decoded() {
        // "pw-abc123" / "pw-xyz789" / berth "pw-qqq000", all base64 of 9 bytes.
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let (a, b) = (enc("pw-abc123"), enc("pw-xyz789"));
        assert!(shape_matches(&enc("pw-qqq000"), &[&a, &b]).is_ok());
        assert!(shape_matches(&enc("xx-qqq000"), &[&a, &b]).is_err());
        assert!(shape_matches("not base64!", &[&a, &b]).is_err());
    }

    #[test]
    fn pem_blocks_compare_by_type() {
        let pem = |body: &str| {
            format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
        };
        let (a, b) = (pem("QUJDRA=="), pem("RUZHSElK"));
        assert!(shape_matches(&pem("WFla"), &[&a, &b]).is_ok());
        let key = "-----BEGIN RSA PRIVATE KEY-----\nQUJD\n-----END RSA PRIVATE KEY-----\n";
        assert!(shape_matches(key, &[&a, &b]).is_err());
    }

    #[test]
    fn a_line_compares_token_by_token() {
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let line = |v: &str| format!("  password: \"{}\"", enc(v));
        let (a, b) = (line("abcdEFGH12"), line("QRSTuvwx98"));
        assert!(shape_matches(&line("mnopQRST00"), &[&a, &b]).is_ok());
        assert!(shape_matches(&line("short"), &[&a, &b]).is_err());
        assert!(shape_matches(&format!("  passwd: \"{}\"", enc("mnopQRST00")), &[&a, &b]).is_err());
    }

    #[test]
    fn digits_go_with_letters() {
        assert!(shape_matches("test-a1b2c", &["test-koeiy", "test-xqzab"]).is_ok());
        assert!(shape_matches("test-a1B2c", &["test-koeiy", "test-xqzab"]).is_err());
    }

    #[test]
    fn pem_ignores_key_length_but_not_the_text_around() {
        let pem = |body: &str| {
            format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
        };
        let (a, b) = (
            format!("ca: |\n{}", pem("QUJD\nQUJD")),
            format!("ca: |\n{}", pem("RUZH\nSElK")),
        );
        assert!(shape_matches(&format!("ca: |\n{}", pem("WFla")), &[&a, &b]).is_ok());
        assert!(shape_matches(&format!("cert: |\n{}", pem("WFla")), &[&a, &b]).is_err());
    }

    #[test]
    fn errors_compare_by_message() {
        let h = failed("Error: execution error at (c/templates/a.yaml:1:2): boom\n");
        let same = failed("Error: execution error at (c/templates/a.yaml:1:2): boom\n");
        assert!(compare_case(std::slice::from_ref(&h), &same).semantic);
        let other = failed("Error: something else\n");
        assert!(!compare_case(std::slice::from_ref(&h), &other).semantic);
        assert!(!compare_case(&[h], &ok("kind: A\n")).semantic);
    }
}
