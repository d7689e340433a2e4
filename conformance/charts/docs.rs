//! `helm template` output as documents.
//!
//! The output is a series of YAML documents separated by `---` lines, each
//! starting with a `# Source: chart/templates/x.yaml` comment (CRD files
//! printed by `--include-crds` may hold several documents; the later ones
//! inherit the file's source). Each document is parsed as data: both sides
//! go through the same parser, so a parser quirk cannot make a difference
//! appear or vanish.

use serde_json::Value;

/// One document of the output.
#[derive(Debug, Clone)]
pub struct Doc {
    /// The `# Source:` path it came from (`""` when none was seen yet).
    pub source: String,
    /// Its exact text, without the `---` separator line.
    pub text: String,
    /// The parsed data (`Null` for a document of only comments), or the
    /// parse error.
    pub value: Result<Value, String>,
}

impl Doc {
    /// `Kind namespace/name` for the report (or the source when the document
    /// has no kind).
    pub fn describe(&self) -> String {
        let Ok(v) = &self.value else {
            return format!("(unparsable) from {}", self.source);
        };
        let s = |p: &[&str]| -> String {
            let mut cur = v;
            for k in p {
                match cur.get(k) {
                    Some(x) => cur = x,
                    None => return String::new(),
                }
            }
            cur.as_str().unwrap_or_default().to_string()
        };
        let kind = s(&["kind"]);
        if kind.is_empty() {
            return format!("document from {}", self.source);
        }
        let ns = s(&["metadata", "namespace"]);
        let name = s(&["metadata", "name"]);
        let obj = if ns.is_empty() {
            name
        } else {
            format!("{ns}/{name}")
        };
        format!("{kind} {obj} ({})", self.source)
    }
}

/// Splits the output into documents and parses each. Chunks holding only
/// whitespace (before the first `---`) are not documents.
pub fn split(output: &str) -> Vec<Doc> {
    let mut docs = Vec::new();
    let mut source = String::new();
    let mut chunk_start = 0;
    let mut at = 0;
    let flush = |text: &str, source: &mut String, docs: &mut Vec<Doc>| {
        if text.trim().is_empty() {
            return;
        }
        if let Some(line) = text.lines().find(|l| l.starts_with("# Source: ")) {
            *source = line["# Source: ".len()..].trim_end().to_string();
        }
        docs.push(Doc {
            source: source.clone(),
            text: text.to_string(),
            value: parse(text),
        });
    };
    for line in output.split_inclusive('\n') {
        if line.trim_end() == "---" {
            flush(&output[chunk_start..at], &mut source, &mut docs);
            chunk_start = at + line.len();
        }
        at += line.len();
    }
    flush(&output[chunk_start..], &mut source, &mut docs);
    docs
}

fn parse(text: &str) -> Result<Value, String> {
    let only_comments = text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    });
    if only_comments {
        return Ok(Value::Null);
    }
    let mut opts = serde_saphyr::Options::default();
    // Real outputs are big (CRDs of several MB): no size budget here, the
    // text comes from our own two tools.
    opts.budget = None;
    // Read scalars as Kubernetes does (sigs.k8s.io/yaml on go-yaml v2, YAML
    // 1.1): `yes`/`on` are booleans and `0755` is octal, so `yes` and
    // `"yes"` stay different, as they are to the API server.
    opts.legacy_octal_numbers = true;
    serde_saphyr::from_str_with_options::<Value>(text, opts).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_separator_lines_and_keeps_sources() {
        let out = "---\n# Source: c/templates/a.yaml\nkind: A\nmetadata:\n  name: a\n---\n# Source: c/crds/x.yaml\nkind: X\n---\nkind: Z\n";
        let docs = split(out);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].source, "c/templates/a.yaml");
        assert_eq!(docs[0].describe(), "A a (c/templates/a.yaml)");
        assert_eq!(docs[1].source, "c/crds/x.yaml");
        // A CRD file's second document inherits the file's source.
        assert_eq!(docs[2].source, "c/crds/x.yaml");
        assert_eq!(docs[2].value.as_ref().unwrap()["kind"], "Z");
    }

    #[test]
    fn comment_only_documents_are_null() {
        let docs = split("---\n# Source: c/templates/empty.yaml\n# nothing\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].value.as_ref().unwrap(), &Value::Null);
    }

    #[test]
    fn scalars_resolve_as_kubernetes_reads_them() {
        let docs = split("a: yes\nb: \"yes\"\nc: 0755\n");
        let v = docs[0].value.as_ref().unwrap();
        assert_eq!(v["a"], Value::Bool(true));
        assert_eq!(v["b"], "yes");
        assert_eq!(v["c"], 493);
    }

    #[test]
    fn integers_and_floats_stay_distinct() {
        let docs = split("a: 1\nb: 1.0\n");
        let v = docs[0].value.as_ref().unwrap();
        assert_ne!(v["a"], v["b"]);
    }
}
