//! Comparing the two sides and printing what differs.

use std::fmt::Write as _;

use crate::cases::NamedCase;
use crate::oracle::Outcome;

/// How one case compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Same output, or both failed with the same message.
    Identical,
    /// Both failed, with different messages (counted separately; the case
    /// itself passes).
    ErrorMessageDiffers,
    /// Different output, or only one side failed.
    Mismatch,
}

pub fn compare(helm: &Outcome, berth: &Outcome) -> Verdict {
    match (helm, berth) {
        (Ok(a), Ok(b)) if a == b => Verdict::Identical,
        (Err(a), Err(b)) if a == b => Verdict::Identical,
        (Err(_), Err(_)) => Verdict::ErrorMessageDiffers,
        _ => Verdict::Mismatch,
    }
}

/// Show a string with its invisible characters visible (`⏎` line ends are
/// kept as real new lines; tabs, `\r` and trailing spaces are marked).
pub fn visible(s: &str) -> String {
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, true),
            None => (line, false),
        };
        let trimmed = body.trim_end_matches(' ');
        let trailing = body.len() - trimmed.len();
        for c in trimmed.chars() {
            match c {
                '\t' => out.push('→'),
                '\r' => out.push('␍'),
                c => out.push(c),
            }
        }
        for _ in 0..trailing {
            out.push('·');
        }
        if nl {
            out.push_str("⏎\n");
        }
    }
    out
}

fn indent(s: &str, prefix: &str) -> String {
    let mut out = String::new();
    for line in s.lines() {
        out.push_str(prefix);
        out.push_str(line);
        out.push('\n');
    }
    if s.is_empty() {
        out.push_str(prefix);
        out.push_str("(empty)\n");
    }
    out
}

/// A short line diff (first differing line with context, and the first
/// differing byte offset).
pub fn short_diff(helm: &str, berth: &str) -> String {
    let a: Vec<&str> = helm.split('\n').collect();
    let b: Vec<&str> = berth.split('\n').collect();
    let first = a
        .iter()
        .zip(b.iter())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let byte = helm
        .bytes()
        .zip(berth.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or(helm.len().min(berth.len()));
    let mut out = format!(
        "first difference at line {} (byte {byte}); helm has {} lines, berth {}\n",
        first + 1,
        a.len(),
        b.len()
    );
    let from = first.saturating_sub(1);
    for i in from..(first + 3).min(a.len().max(b.len())) {
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) if x == y => {
                let _ = writeln!(out, "  {}", visible(x));
            }
            (x, y) => {
                if let Some(x) = x {
                    let _ = writeln!(out, "- {}", visible(x));
                }
                if let Some(y) = y {
                    let _ = writeln!(out, "+ {}", visible(y));
                }
            }
        }
    }
    out
}

fn show_outcome(o: &Outcome) -> String {
    match o {
        Ok(s) => format!("output:\n{}", indent(&visible(s), "    │")),
        Err(e) => format!("error:\n{}", indent(e, "    │")),
    }
}

/// The report of one failing case.
pub fn describe(case: &NamedCase, helm: &Outcome, berth: &Outcome, verdict: &Verdict) -> String {
    let mut out = String::new();
    let tag = match verdict {
        Verdict::Mismatch => "MISMATCH",
        Verdict::ErrorMessageDiffers => "ERROR MESSAGE",
        Verdict::Identical => "ok",
    };
    let _ = writeln!(out, "── {tag}: {}", case.id);
    let _ = write!(out, "  template:\n{}", indent(&case.case.template, "    │"));
    if let Some(v) = &case.case.values {
        let _ = write!(out, "  values:\n{}", indent(v, "    │"));
    }
    for (name, text) in &case.case.files {
        let _ = write!(out, "  file templates/{name}:\n{}", indent(text, "    │"));
    }
    let _ = write!(out, "  helm {}", show_outcome(helm));
    let _ = write!(out, "  berth {}", show_outcome(berth));
    if let (Ok(a), Ok(b)) = (helm, berth) {
        let _ = write!(out, "  diff (- helm, + berth): {}", short_diff(a, b));
    }
    out
}
