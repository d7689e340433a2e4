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
//! are asserted only up to draft-07 in both). The message is Helm's: the
//! header, chart names, one `- at '<JSON pointer>': <reason>` line per
//! failure in santhosh-tekuri's words (`got string, want integer`,
//! `missing properties 'a', 'b'`, `minimum: got 0, want 1` with its
//! thousands separators, `'oneOf' failed, none matched` with the branches'
//! failures indented below, `validation failed` grouping a branch's
//! several failures). Residual differences: Helm lists the failures of one
//! object in Go map order, which changes from run to run (berth's order is
//! stable, so compare the lines as a set); keywords without a counterpart
//! above (`format`, `contains`, `dependentRequired`, `propertyNames`,
//! `oneOf` matching several, `unevaluated*`, …) keep the `jsonschema`
//! crate's wording; where a value fails `type`, Helm reports only that,
//! the crate may add the other keywords' failures too; a schema that is
//! not valid JSON or does not compile fails with the crate's message.
//!
//! Unlike Helm, berth never fetches anything a schema refers to: a `$ref`
//! to another document (`http(s)://`, `file://`, …) fails with
//! [`SchemaError`] naming it; references inside the schema (`#/...`) work.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::JsonType;
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
        // Go's RE2 semantics for `pattern` (no look-around, no
        // backreferences), as Helm's validator compiles them.
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .build(&schema)
        .map_err(|e| format!("{e}\n"))?;
    let instance = Json::Object(values.clone());
    let mut lines = Vec::new();
    let errors: Vec<jsonschema::ValidationError> = validator.iter_errors(&instance).collect();
    describe_all(&errors, 0, &mut lines);
    if lines.is_empty() {
        Ok(())
    } else {
        Err(lines.concat())
    }
}

/// Failure lines in santhosh-tekuri/jsonschema's words where the kind has
/// a counterpart (`got string, want integer`, `missing property 'x'`,
/// `minimum: got 0, want 1`, …), the `jsonschema` crate's otherwise;
/// `oneOf`/`anyOf` failures with their subschemas' failures indented
/// below, as Helm prints them.
fn describe_all(errors: &[jsonschema::ValidationError], depth: usize, out: &mut Vec<String>) {
    let mut i = 0;
    while i < errors.len() {
        let e = &errors[i];
        let path = e.instance_path().to_string();
        let indent = "  ".repeat(depth);
        if let ValidationErrorKind::Required { .. } = e.kind() {
            // One line per object, all its missing properties.
            let mut missing = Vec::new();
            while i < errors.len() {
                let r = &errors[i];
                match r.kind() {
                    ValidationErrorKind::Required { property }
                        if r.instance_path().to_string() == path =>
                    {
                        missing.push(display(property));
                        i += 1;
                    }
                    _ => break,
                }
            }
            let msg = if missing.len() == 1 {
                format!("missing property {}", missing[0])
            } else {
                format!("missing properties {}", missing.join(", "))
            };
            out.push(format!("{indent}- at '{path}': {msg}\n"));
            continue;
        }
        out.push(format!("{indent}- at '{path}': {}\n", message(e)));
        match e.kind() {
            ValidationErrorKind::OneOfNotValid { context }
            | ValidationErrorKind::AnyOf { context } => {
                for branch in context {
                    if branch.len() > 1 {
                        // Several failures of one subschema: Helm groups them.
                        let inner = "  ".repeat(depth + 1);
                        out.push(format!("{inner}- at '{path}': validation failed\n"));
                        describe_all(branch, depth + 2, out);
                    } else {
                        describe_all(branch, depth + 1, out);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
}

fn message(e: &jsonschema::ValidationError) -> String {
    let instance: &Json = e.instance();
    let got_number = || grouped(&go_number(instance));
    let go_number = |v: &Json| grouped(&go_number(v));
    match e.kind() {
        ValidationErrorKind::Type { kind } => {
            let want: Vec<&str> = match kind {
                TypeKind::Single(t) => vec![t.as_str()],
                TypeKind::Multiple(set) => [
                    JsonType::Null,
                    JsonType::Boolean,
                    JsonType::Number,
                    JsonType::Integer,
                    JsonType::String,
                    JsonType::Array,
                    JsonType::Object,
                ]
                .into_iter()
                .filter(|t| set.contains(*t))
                .map(|t| t.as_str())
                .collect(),
            };
            format!("got {}, want {}", json_type(instance), want.join(" or "))
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let names: Vec<String> = unexpected.iter().map(|n| quote(n)).collect();
            format!("additional properties {} not allowed", names.join(", "))
        }
        ValidationErrorKind::Enum { options } => match options.as_ref() {
            Json::Array(opts) if opts.iter().all(is_primitive) => {
                let shown: Vec<String> = opts.iter().map(display).collect();
                if shown.len() == 1 {
                    format!("value must be {}", shown[0])
                } else {
                    format!("value must be one of {}", shown.join(", "))
                }
            }
            _ => e.to_string(),
        },
        ValidationErrorKind::Constant { expected_value } => {
            if is_primitive(expected_value) {
                format!("value must be {}", display(expected_value))
            } else {
                "'const' failed".into()
            }
        }
        ValidationErrorKind::Minimum { limit } => {
            format!("minimum: got {}, want {}", got_number(), go_number(limit))
        }
        ValidationErrorKind::Maximum { limit } => {
            format!("maximum: got {}, want {}", got_number(), go_number(limit))
        }
        ValidationErrorKind::ExclusiveMinimum { limit } => format!(
            "exclusiveMinimum: got {}, want {}",
            got_number(),
            go_number(limit)
        ),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!(
            "exclusiveMaximum: got {}, want {}",
            got_number(),
            go_number(limit)
        ),
        ValidationErrorKind::MinLength { limit } => {
            format!(
                "minLength: got {}, want {}",
                grouped(&char_count(instance).to_string()),
                grouped(&limit.to_string())
            )
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!(
                "maxLength: got {}, want {}",
                grouped(&char_count(instance).to_string()),
                grouped(&limit.to_string())
            )
        }
        ValidationErrorKind::MinItems { limit } => {
            format!(
                "minItems: got {}, want {}",
                grouped(&item_count(instance).to_string()),
                grouped(&limit.to_string())
            )
        }
        ValidationErrorKind::MaxItems { limit } => {
            format!(
                "maxItems: got {}, want {}",
                grouped(&item_count(instance).to_string()),
                grouped(&limit.to_string())
            )
        }
        ValidationErrorKind::MinProperties { limit } => {
            format!(
                "minProperties: got {}, want {}",
                grouped(&item_count(instance).to_string()),
                grouped(&limit.to_string())
            )
        }
        ValidationErrorKind::MaxProperties { limit } => {
            format!(
                "maxProperties: got {}, want {}",
                grouped(&item_count(instance).to_string()),
                grouped(&limit.to_string())
            )
        }
        ValidationErrorKind::Pattern { pattern } => match instance {
            Json::String(got) => {
                format!("{} does not match pattern {}", quote(got), quote(pattern))
            }
            _ => e.to_string(),
        },
        ValidationErrorKind::OneOfNotValid { .. } => "'oneOf' failed, none matched".into(),
        ValidationErrorKind::AnyOf { .. } => "'anyOf' failed".into(),
        ValidationErrorKind::Not { .. } => "'not' failed".into(),
        ValidationErrorKind::FalseSchema => "false schema".into(),
        ValidationErrorKind::UniqueItems => match instance {
            Json::Array(items) => {
                let pair = (0..items.len()).find_map(|a| {
                    (a + 1..items.len())
                        .find(|b| items[a] == items[*b])
                        .map(|b| (a, b))
                });
                match pair {
                    Some((a, b)) => format!(
                        "items at {} and {} are equal",
                        grouped(&a.to_string()),
                        grouped(&b.to_string())
                    ),
                    None => e.to_string(),
                }
            }
            _ => e.to_string(),
        },
        _ => e.to_string(),
    }
}

/// santhosh-tekuri's JSON type names of an instance.
fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn is_primitive(v: &Json) -> bool {
    !matches!(v, Json::Array(_) | Json::Object(_))
}

/// santhosh-tekuri's `quote`: Go's `%q` with `"` unescaped and `'`
/// escaped, in single quotes.
fn quote(s: &str) -> String {
    let q = berth_template::fmt::quote(s);
    let inner = q[1..q.len() - 1].replace("\\\"", "\"").replace('\'', "\\'");
    format!("'{inner}'")
}

/// santhosh-tekuri's `display` of a primitive value.
fn display(v: &Json) -> String {
    match v {
        Json::String(s) => quote(s),
        Json::Null => "<nil>".into(),
        Json::Array(_) | Json::Object(_) => "value".into(),
        other => crate::coalesce::go_v(other),
    }
}

fn go_number(v: &Json) -> String {
    match v {
        Json::Number(n) => match n.as_f64().and_then(serde_json::Number::from_f64) {
            Some(f) => crate::coalesce::go_v(&Json::Number(f)),
            None => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// A number as `golang.org/x/text/message` prints it for English (the
/// validator's printer): thousands separated by commas.
fn grouped(n: &str) -> String {
    if n.contains(['e', 'E']) {
        return n.to_string();
    }
    let (sign, rest) = match n.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", n),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let mut out = String::with_capacity(n.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

fn char_count(v: &Json) -> usize {
    match v {
        Json::String(s) => s.chars().count(),
        _ => 0,
    }
}

fn item_count(v: &Json) -> usize {
    match v {
        Json::Array(a) => a.len(),
        Json::Object(m) => m.len(),
        _ => 0,
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
