//! Values files → template values, the way Helm reads them.
//!
//! Helm v4 reads `values.yaml` and `-f` files with `loader.LoadValues`: a
//! final newline is added when missing, the text is cut into documents by
//! k8s' `utilyaml.YAMLReader` (a line starting with `---` separates
//! documents; anything but blanks or a comment after the dashes is an
//! error), each document is decoded with `sigs.k8s.io/yaml.Unmarshal` into
//! a `map[string]any` and the maps are merged with `loader.MergeMaps`,
//! later documents winning. The YAML decoding itself (goyaml.v2's YAML 1.1
//! scalars, keys turned into strings, the JSON round trip that makes every
//! number a `float64`) is [`crate::funcs::yaml::parse`]'s, the reader
//! behind `fromYaml`.
//!
//! `helm template` then coalesces the chart's defaults with the (empty) user
//! values, which drops `null` entries from maps; [`coalesce_chart_defaults`]
//! does that step for a single chart without user values.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::funcs::yaml::parse::{unmarshal_map, YamlParseError};
use crate::value::{Map, Value};

/// Why a values file could not be read; `Display` is `LoadValues`' error
/// text (Helm puts `cannot load values.yaml: ` or `failed to parse FILE: `
/// before it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// sigs.k8s.io/yaml could not turn a document into JSON; the text is
    /// what follows its `error converting YAML to JSON: ` (`yaml: line 2:
    /// …`, `json: unsupported value: +Inf`, …).
    #[error("cannot unmarshal yaml document: error converting YAML to JSON: {0}")]
    Yaml(String),
    /// A document is not a map; the Go type it decoded to (`[]interface
    /// {}`, `string`, `bool`, `float64`).
    #[error(
        "cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: \
         json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
        json_kind_of(.0)
    )]
    NotAMap(String),
    /// A line starts with `---` followed by something other than blanks or
    /// a comment (the trimmed rest of the line).
    #[error("error reading yaml document: invalid Yaml document separator: {0}")]
    Separator(String),
}

/// encoding/json's name for the kind of a value of Go type `go_type`.
fn json_kind_of(go_type: &str) -> &'static str {
    match go_type {
        t if t.starts_with('[') => "array",
        "string" => "string",
        "bool" => "bool",
        t if t.starts_with("map") => "object",
        _ => "number",
    }
}

impl From<YamlParseError> for ConvertError {
    fn from(e: YamlParseError) -> Self {
        match e {
            YamlParseError::Yaml(msg) => ConvertError::Yaml(format!("yaml: {msg}")),
            YamlParseError::Convert(msg) => ConvertError::Yaml(msg),
            YamlParseError::Type { what, .. } => ConvertError::NotAMap(
                match what {
                    "array" => "[]interface {}",
                    "string" => "string",
                    "bool" => "bool",
                    "object" => "map[string]interface {}",
                    _ => "float64",
                }
                .to_string(),
            ),
        }
    }
}

/// Decode a values file (one or more YAML documents) into the map Helm
/// would see (`loader.LoadValues`). An empty file gives an empty map.
pub fn values_from_yaml(text: &str) -> Result<Value, ConvertError> {
    let mut merged: Option<Map> = None;
    for doc in Documents::new(text) {
        let map = unmarshal_map(&doc?)?;
        match &merged {
            // MergeMaps into an empty map is a copy: keep the first map.
            None => merged = Some(map),
            Some(dst) => merge_maps(dst, &map),
        }
    }
    Ok(Value::Map(merged.unwrap_or_default()))
}

/// The documents of a values file as k8s' `utilyaml.YAMLReader` returns
/// them (over `LoadValues`' text, which always ends in a newline): lines
/// as `bufio.Reader.ReadLine` gives them (without `\n` or `\r\n`), each
/// followed by `\n`; a line starting with `---` ends the document so far
/// and is dropped (an empty document so far is skipped), unless what
/// follows the dashes, trimmed, is neither empty nor a comment: that is
/// an error when the reader gets there.
struct Documents<'a> {
    rest: &'a str,
}

impl<'a> Documents<'a> {
    fn new(text: &'a str) -> Self {
        Documents { rest: text }
    }
}

impl<'a> Iterator for Documents<'a> {
    type Item = Result<Cow<'a, str>, ConvertError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            // The document runs to the next line starting with `---` (or
            // the end); such a line is a separator or an error.
            let text = self.rest;
            let bytes = text.as_bytes();
            let sep = if bytes.starts_with(b"---") {
                Some(0)
            } else {
                memchr::memmem::find(bytes, b"\n---").map(|i| i + 1)
            };
            let (doc_end, next) = match sep {
                None => (text.len(), text.len()),
                Some(start) => {
                    let line_end = memchr::memchr(b'\n', &bytes[start..])
                        .map_or(text.len(), |i| start + i + 1);
                    let trimmed = text[start + 3..line_end].trim();
                    if !trimmed.is_empty() && !trimmed.starts_with('#') {
                        // Whatever was read before the bad separator is
                        // not returned; the reader fails here.
                        self.rest = "";
                        return Some(Err(ConvertError::Separator(trimmed.to_string())));
                    }
                    (start, line_end)
                }
            };
            let doc = &text[..doc_end];
            self.rest = &text[next..];
            if doc.is_empty() {
                continue;
            }
            return Some(Ok(read_lines(doc)));
        }
    }
}

/// A document's lines as the line reader returns them: `\r\n` becomes
/// `\n` and the last line ends in `\n`.
fn read_lines(doc: &str) -> Cow<'_, str> {
    let crlf = memchr::memmem::find(doc.as_bytes(), b"\r\n").is_some();
    if !crlf && doc.ends_with('\n') {
        return Cow::Borrowed(doc);
    }
    let mut out = if crlf {
        doc.replace("\r\n", "\n")
    } else {
        doc.to_string()
    };
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Cow::Owned(out)
}

/// Helm's `loader.MergeMaps`: `src` wins, nested maps merge recursively.
fn merge_maps(dst: &Map, src: &Map) {
    for (k, v) in src.borrow().iter() {
        let existing = dst.get(k);
        match (existing, v) {
            (Some(Value::Map(d)), Value::Map(s)) => {
                let copy = Map::from_entries(d.borrow().clone());
                merge_maps(&copy, s);
                dst.insert(k.clone(), Value::Map(copy));
            }
            _ => dst.insert(k.clone(), v.clone()),
        }
    }
}

/// `helm template`'s coalescing of a chart's default values with empty user
/// values: entries whose value is nil are removed from every map reached
/// through maps (lists are left alone). Returns a new tree; `values` is not
/// changed.
pub fn coalesce_chart_defaults(values: &Value) -> Value {
    match values {
        Value::Map(m) => {
            let mut out = BTreeMap::new();
            for (k, v) in m.borrow().iter() {
                if v.is_nil() {
                    continue;
                }
                out.insert(k.clone(), coalesce_chart_defaults(v));
            }
            Value::Map(Map {
                entries: std::rc::Rc::new(std::cell::RefCell::new(out)),
                elem: m.elem,
                type_name: m.type_name,
                nil: m.nil,
            })
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmt::format_v;

    fn decode(text: &str) -> String {
        match values_from_yaml(text) {
            Ok(v) => format_v(&coalesce_chart_defaults(&v)),
            Err(e) => format!("error: {e}"),
        }
    }

    /// The message `helm template` prints after `Error: cannot load
    /// values.yaml: ` for a chart with this values.yaml.
    fn error(text: &str) -> String {
        match values_from_yaml(text) {
            Ok(v) => format!("no error: {}", format_v(&v)),
            Err(e) => e.to_string(),
        }
    }

    // Expectations below were printed by Helm v4.3.1 (the conformance
    // oracle, or `helm template` on a throwaway chart whose template
    // prints `{{ .Values }}`) for these values files.
    #[test]
    fn numbers_are_float64_and_yaml_1_1_scalars_apply() {
        assert_eq!(
            decode("a: 1000000\nb: 0x10\nc: 0777\nd: 1.0\ne: on\nf: yes\n"),
            "map[a:1e+06 b:16 c:511 d:1 e:true f:true]"
        );
        // helm template: common.Values{"a":511, "b":1000,
        // "c":1.2345678901234567e+19, "d":1.2345678901234568e+29,
        // "e":true, "f":true}
        assert_eq!(
            decode(
                "a: 0777\nb: 1_000\nc: 12345678901234567890\n\
                 d: 123456789012345678901234567890\ne: yes\nf: on\ng: null\nh: ~\ni:\n"
            ),
            "map[a:511 b:1000 c:1.2345678901234567e+19 d:1.2345678901234568e+29 e:true f:true]"
        );
        // helm template: common.Values{"a":-9.223372036854776e+18,
        // "b":9.223372036854776e+18, "c":5, "d":12, "e":1000, "f":1500}
        assert_eq!(
            decode(
                "a: -9223372036854775809\nb: 0x7FFFFFFFFFFFFFFF\nc: 0b101\nd: +12\n\
                 e: 1e3\nf: 1.5e+3\n"
            ),
            "map[a:-9.223372036854776e+18 b:9.223372036854776e+18 c:5 d:12 e:1000 f:1500]"
        );
        let v = values_from_yaml("a: 1\n").unwrap();
        let Value::Map(m) = v else {
            panic!("not a map")
        };
        assert_eq!(m.get("a").map(|a| a.type_name()), Some("float64".into()));
    }

    #[test]
    fn keys_become_strings() {
        assert_eq!(
            decode("1: a\ntrue: b\n1.5: c\n1e6: d\n0x10: e\n"),
            "map[1:a 1.5:c 16:e 1e+06:d true:b]"
        );
        // helm template: map[string]interface {}{"1":"x", "1.5":"z",
        // "true":true} (the value `y` is a YAML 1.1 bool).
        assert_eq!(
            decode("a:\n  1: x\n  true: y\n  1.5: z\n"),
            "map[a:map[1:x 1.5:z true:true]]"
        );
    }

    #[test]
    fn timestamps_stay_strings_and_binary_is_decoded() {
        // helm template: common.Values{"a":"2001-12-14", "b":"hello"}
        assert_eq!(
            decode("a: 2001-12-14\nb: !!binary aGVsbG8=\n"),
            "map[a:2001-12-14 b:hello]"
        );
        // helm template: "c":map[string]interface {}{"p":1, "q":2}
        assert_eq!(
            decode("a: &x {p: 1}\nb: *x\nc:\n  <<: *x\n  q: 2\n"),
            "map[a:map[p:1] b:map[p:1] c:map[p:1 q:2]]"
        );
    }

    #[test]
    fn documents_merge_and_nulls_drop() {
        assert_eq!(
            decode("a: {x: 1, z: 2}\n---\na: {z: 3}\nb: 1\n---\n"),
            "map[a:map[x:1 z:3] b:1]"
        );
        assert_eq!(
            decode("a: {b: null, c: {d: null}, e: [null]}\n"),
            "map[a:map[c:map[] e:[<nil>]]]"
        );
        // helm template: common.Values{} (a later null replaces the map,
        // then coalescing drops it).
        assert_eq!(decode("a: {x: 1}\n---\na: null\n"), "map[]");
        // A document that is only `~` is an empty map.
        assert_eq!(decode("a: 1\n---\n~\n"), "map[a:1]");
        assert_eq!(decode(""), "map[]");
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        // helm template: common.Values{"a":2}
        assert_eq!(decode("a: 1\na: 2\n"), "map[a:2]");
        // helm template: common.Values{"a":map[string]interface
        // {}{"true":2}} (the second map replaces the first; `y` is true).
        assert_eq!(decode("a: {x: 1}\na: {y: 2}\n"), "map[a:map[true:2]]");
    }

    #[test]
    fn only_comments_is_an_empty_map() {
        // helm template: common.Values{}
        assert_eq!(decode("# just a comment\n# another\n"), "map[]");
    }

    #[test]
    fn document_separators_are_lines_starting_with_three_dashes() {
        // helm template: common.Values{"a":1, "b":2} for each.
        assert_eq!(decode("a: 1\n--- # c\nb: 2\n"), "map[a:1 b:2]");
        assert_eq!(decode("a: 1\n---   \nb: 2\n"), "map[a:1 b:2]");
        assert_eq!(decode("a: 1\n---\t#x\nb: 2\n"), "map[a:1 b:2]");
        // No final newline.
        assert_eq!(decode("a: 1\n---\nb: 2"), "map[a:1 b:2]");
        // helm template: common.Values{"a":1} (leading and trailing
        // separators, an empty document between two).
        assert_eq!(decode("---\n---\na: 1\n---\n"), "map[a:1]");
        // An indented `---` is content: common.Values{"a":"1 ---"}.
        assert_eq!(decode("a: 1\n ---\n"), "map[a:1 ---]");
        // `...` ends a YAML document, so goyaml ignores what follows in
        // the same reader document: common.Values{"a":1, "c":3}.
        assert_eq!(decode("a: 1\n...\nb: 2\n---\nc: 3\n"), "map[a:1 c:3]");
        // helm template: common.Values{"a":1, "b":"x y"}
        assert_eq!(decode("a: 1\r\nb: \"x\r\n  y\"\r\n"), "map[a:1 b:x y]");
    }

    #[test]
    fn bad_separators_fail_where_the_reader_meets_them() {
        assert_eq!(
            error("a: 1\n--- foo\nb: 2\n"),
            "error reading yaml document: invalid Yaml document separator: foo"
        );
        assert_eq!(
            error("a: 1\n----\nb: 2\n"),
            "error reading yaml document: invalid Yaml document separator: -"
        );
        // The bad separator ends the first document before it is decoded,
        // so its syntax error is never seen.
        assert_eq!(
            error("a: [\n--- x\n"),
            "error reading yaml document: invalid Yaml document separator: x"
        );
        assert_eq!(
            error("a: 1\n--- x\nb: [\n"),
            "error reading yaml document: invalid Yaml document separator: x"
        );
        // An earlier document's error comes first.
        assert_eq!(
            error("a: [\n---\nb: 1\n--- x\n"),
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             yaml: line 1: did not find expected node content"
        );
    }

    #[test]
    fn syntax_errors_count_lines_per_document() {
        assert_eq!(
            error("a: 1\nb: [\n"),
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             yaml: line 2: did not find expected node content"
        );
        assert_eq!(
            error("a: 1\n---\nb: 2\nc: [\n"),
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             yaml: line 2: did not find expected node content"
        );
        assert_eq!(
            error("a: [\n---\nb: 1\n"),
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             yaml: line 1: did not find expected node content"
        );
        assert_eq!(
            error("a:\n\tb: 1\n"),
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             yaml: line 2: found character that cannot start any token"
        );
        assert_eq!(
            error("a: b: c\n"),
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             yaml: mapping values are not allowed in this context"
        );
        assert_eq!(
            error("a: \"\u{1}\"\n"),
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             yaml: control characters are not allowed"
        );
    }

    #[test]
    fn json_conversion_errors() {
        assert_eq!(
            error("a: .inf\n"),
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             json: unsupported value: +Inf"
        );
        assert_eq!(
            error("a: .nan\n"),
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             json: unsupported value: NaN"
        );
        assert_eq!(
            error("a:\n  ~: 1\n"),
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             unsupported map key of type: %!s(<nil>), key: <nil>, value: 1"
        );
    }

    #[test]
    fn documents_that_are_not_maps_fail() {
        let not_a_map = |kind: &str| {
            format!(
                "cannot unmarshal yaml document: error unmarshaling JSON: while decoding \
                 JSON: json: cannot unmarshal {kind} into Go value of type \
                 map[string]interface {{}}"
            )
        };
        assert_eq!(error("- 1\n- 2\n"), not_a_map("array"));
        assert_eq!(error("a: 1\n---\n- 1\n"), not_a_map("array"));
        assert_eq!(error("hello\n"), not_a_map("string"));
        assert_eq!(error("\"x\"\n"), not_a_map("string"));
        assert_eq!(error("true\n"), not_a_map("bool"));
        assert_eq!(error("1\n"), not_a_map("number"));
    }

    #[test]
    fn long_comment_blocks_are_fine() {
        // A key without a value followed by a long comment block, as in
        // jenkins' values.yaml (a commented-out certificate).
        let mut text = String::from("a:\n  x: 1\n  k:\n");
        for _ in 0..5000 {
            text.push_str("#        BgkqhkiG9w0BCQEWDnRlc3RAdGVzdC5pbmZvMIIBIjANBgkqhkiG9w0B\n");
        }
        text.push_str("b: 3\n");
        assert_eq!(decode(&text), "map[a:map[x:1] b:3]");
    }
}
