//! `values.schema.json` validation (Helm v4.3.1's `ValidateAgainstSchema`,
//! `pkg/chart/common/util/jsonschema.go`): the chart's schema against its
//! final values, then each subchart's schema against its subtree
//! (`values[<name>]`), the failures of all charts gathered into one error:
//!
//! ```text
//! <chart>:
//! - at '/replicaCount': <reason>
//! <subchart>:
//! - at '/image': <reason>
//! ```
//!
//! Helm validates with santhosh-tekuri/jsonschema v6; berth with the
//! `jsonschema` crate. Which values pass or fail is the same (both follow
//! the drafts; a schema without `$schema` is 2020-12 in both, and formats
//! are asserted only up to draft-07 in both), and the frame of the message
//! is Helm's (header, chart names, one `- at '<JSON pointer>': ` line per
//! failure). The residual difference: the reason after the colon is the
//! `jsonschema` crate's wording (`"x" is not of type "integer"` where Helm
//! says `got string, want integer`), and where Helm nests several causes
//! under one line berth lists the leaf failures flat.
//!
//! Unlike Helm, berth never fetches anything a schema refers to: a `$ref`
//! to another document (`http(s)://`, `file://`, …) fails with
//! [`SchemaError`] naming it; references inside the schema (`#/...`) work.

use serde_json::Value as Json;

use crate::{Chart, Values};

/// The schema(s) the values do not satisfy, or a schema that cannot be
/// used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SchemaError(pub String);

/// Validate `values` (a chart's final values, subchart values under their
/// names) against the schema of the chart and of each subchart.
pub fn validate(chart: &Chart, values: &Values) -> Result<(), SchemaError> {
    let mut out = String::new();
    validate_into(chart, values, &mut out);
    if out.is_empty() {
        Ok(())
    } else {
        Err(SchemaError(out))
    }
}

fn validate_into(chart: &Chart, values: &Values, out: &mut String) {
    if let Some(schema) = &chart.schema {
        if let Err(e) = validate_single(values, schema) {
            out.push_str(chart.name());
            out.push_str(":\n");
            out.push_str(&e);
        }
    }
    for sub in &chart.dependencies {
        match values.get(sub.name()) {
            None | Some(Json::Null) => {}
            Some(Json::Object(sub_values)) => validate_into(sub, sub_values, out),
            Some(other) => {
                out.push_str(&format!(
                    "{}:\ninvalid type for values: expected object (map), got {}\n",
                    sub.name(),
                    go_type(other)
                ));
            }
        }
    }
}

fn go_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "<nil>",
        Json::Bool(_) => "bool",
        Json::Number(n) if n.is_f64() => "float64",
        Json::Number(_) => "int64",
        Json::String(_) => "string",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[string]interface {}",
    }
}

/// Refuses every document outside the schema itself.
struct NoRemote;

impl jsonschema::Retrieve for NoRemote {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Json, Box<dyn std::error::Error + Send + Sync>> {
        Err(format!(
            "berth does not load external schema references ({}): inline the referenced schema",
            uri.as_str()
        )
        .into())
    }
}

/// One schema against one values tree: `Err` holds the failure lines
/// (each `- at '<pointer>': <reason>\n`), or the reason the schema cannot
/// be used.
pub fn validate_single(values: &Values, schema: &[u8]) -> Result<(), String> {
    let schema: Json = serde_json::from_slice(schema).map_err(|e| format!("{e}\n"))?;
    let validator = jsonschema::options()
        .with_base_uri("file:///values.schema.json")
        .with_retriever(NoRemote)
        .build(&schema)
        .map_err(|e| format!("{e}\n"))?;
    let instance = Json::Object(values.clone());
    let mut lines = String::new();
    for error in validator.iter_errors(&instance) {
        let path = error.instance_path().to_string();
        lines.push_str(&format!("- at '{path}': {error}\n"));
    }
    if lines.is_empty() {
        Ok(())
    } else {
        Err(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse;
    use crate::Metadata;

    fn chart(name: &str, schema: Option<&str>, deps: Vec<Chart>) -> Chart {
        Chart {
            metadata: Metadata {
                name: name.into(),
                ..Metadata::default()
            },
            schema: schema.map(|s| s.as_bytes().to_vec()),
            dependencies: deps,
            ..Chart::default()
        }
    }

    const SCHEMA: &str = r#"{"type":"object","properties":{"replicas":{"type":"integer"},"name":{"type":"string"}},"required":["name"]}"#;

    #[test]
    fn failures_are_framed_per_chart() {
        let sub = chart("sub", Some(SCHEMA), vec![]);
        let top = chart("top", Some(SCHEMA), vec![sub]);
        let ok = parse("name: a\nreplicas: 2\nsub: {name: b}\n").unwrap();
        validate(&top, &ok).unwrap();
        let bad = parse("name: a\nreplicas: x\nsub: {replicas: 1.0}\n").unwrap();
        let e = validate(&top, &bad).unwrap_err().0;
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines[0], "top:");
        assert!(lines[1].starts_with("- at '/replicas': "), "{e}");
        assert_eq!(lines[2], "sub:");
        assert!(lines[3].starts_with("- at '': "), "{e}");
        assert_eq!(lines.len(), 4, "{e}");
        let bad = parse("name: a\nsub: 3\n").unwrap();
        let e = validate(&top, &bad).unwrap_err().0;
        assert_eq!(
            e,
            "sub:\ninvalid type for values: expected object (map), got float64\n"
        );
    }

    #[test]
    fn remote_references_are_refused() {
        let top = chart(
            "top",
            Some(r#"{"$ref":"https://example.invalid/schema.json"}"#),
            vec![],
        );
        let e = validate(&top, &Values::new()).unwrap_err().0;
        assert!(
            e.contains("does not load external schema references"),
            "{e}"
        );
    }
}
