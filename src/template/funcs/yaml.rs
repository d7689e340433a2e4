//! Template functions: YAML (`toYaml mustToYaml toYamlPretty fromYaml
//! fromYamlArray`), Helm's own (`pkg/engine/funcs.go`).
//!
//! `toYaml` must match Helm byte for byte, because charts write
//! `toYaml .Values.x | nindent 4` everywhere: see [`emit`] for how
//! sigs.k8s.io/yaml's output is reproduced. `fromYaml` decodes as Helm
//! decodes values files, see [`parse`].

#[path = "yaml_emit.rs"]
pub mod emit;
#[path = "yaml_parse.rs"]
pub mod parse;

pub use emit::{to_yaml, to_yaml_pretty, YamlEmitError};
pub use parse::{parse_yaml_values, YamlParseError};

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::value::{GoType, List, Map, Value};

fn arg(args: &[Value]) -> Value {
    args.first().cloned().unwrap_or(Value::Nil)
}

fn trim_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

/// `toYaml`: the YAML document without its final newline; "" on error.
fn to_yaml_fn(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(
        to_yaml(&arg(&args)).map(trim_newline).unwrap_or_default(),
    ))
}

/// `mustToYaml`: as `toYaml`, but the error stops the render.
fn must_to_yaml(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    to_yaml(&arg(&args))
        .map(|s| Value::string(trim_newline(s)))
        .map_err(|e| FuncError::new(e.to_string()))
}

/// `toYamlPretty`: goyaml.v3 with indent 2; "" on error.
fn to_yaml_pretty_fn(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(
        to_yaml_pretty(&arg(&args))
            .map(trim_newline)
            .unwrap_or_default(),
    ))
}

fn string_arg(args: &[Value]) -> &str {
    args.first().and_then(|v| v.as_str()).unwrap_or_default()
}

/// `fromYaml`: a map, or `{"Error": msg}`.
fn from_yaml(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Map(match parse::unmarshal_map(string_arg(&args)) {
        Ok(m) => m,
        Err(e) => {
            let m = Map::new();
            m.insert("Error", Value::string(e.to_string()));
            m
        }
    }))
}

/// `fromYamlArray`: a list, or `[msg]`.
fn from_yaml_array(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::List(
        match parse::unmarshal_list(string_arg(&args)) {
            Ok(items) => List::new(items),
            Err(e) => List::new(vec![Value::string(e.to_string())]),
        },
    ))
}

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    use GoType::{Interface, String as Str};
    reg.add("toYaml", &[Interface], None, to_yaml_fn);
    reg.add("mustToYaml", &[Interface], None, must_to_yaml);
    reg.add("toYamlPretty", &[Interface], None, to_yaml_pretty_fn);
    reg.add("fromYaml", &[Str], None, from_yaml);
    reg.add("fromYamlArray", &[Str], None, from_yaml_array);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_decode_like_sigs_yaml() {
        let v = parse_yaml_values(
            "a: 1\nb: [yes, \"on\", 0x10, 1_000, 1.5, ~, 2024-01-01]\nc:\n  d: e\n",
        )
        .unwrap();
        assert_eq!(
            format!("{v:?}"),
            r#"{"a": float64(1), "b": [true, "on", float64(16), float64(1000), float64(1.5), nil, "2024-01-01"], "c": {"d": "e"}}"#
        );
        let v = parse_yaml_values("1: a\n1.5: b\ntrue: c\n2024-01-01: d\n").unwrap();
        assert_eq!(
            format!("{v:?}"),
            r#"{"1": "a", "1.5": "b", "2024-01-01": "d", "true": "c"}"#
        );
        assert_eq!(format!("{:?}", parse_yaml_values("").unwrap()), "{}");
    }

    #[test]
    fn decode_errors_read_like_helm() {
        assert_eq!(
            parse_yaml_values("foo").unwrap_err().to_string(),
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type map[string]interface {}"
        );
        assert_eq!(
            parse_yaml_values("~: a").unwrap_err().to_string(),
            "error converting YAML to JSON: unsupported map key of type: %!s(<nil>), key: <nil>, value: \"a\""
        );
        assert!(parse_yaml_values("a: [").is_err());
        assert!(parse_yaml_values("a: .inf").is_err());
    }

    #[test]
    fn merge_keys_follow_goyaml_v2_order() {
        // Checked against Helm: a merge overwrites keys set before it, and
        // `y`/`n` are booleans in YAML 1.1.
        let v = parse_yaml_values("base: &b {x: 1, y: 2}\nm:\n  x: 0\n  <<: *b\n  q: 3\nn:\n  <<: [{a: 1}, {a: 2, b: 2}]\n").unwrap();
        assert_eq!(
            format!("{v:?}"),
            r#"{"base": {"true": float64(2), "x": float64(1)}, "false": {"a": float64(1), "b": float64(2)}, "m": {"q": float64(3), "true": float64(2), "x": float64(1)}}"#
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        let err = parse_yaml_values(&doc).unwrap_err().to_string();
        assert!(err.contains("excessive aliasing"), "{err}");
    }

    #[test]
    fn keeping_some_fields_checks_the_whole_document() {
        use super::parse::{yaml_to_value, yaml_to_value_keep};
        let keep = ["kind", "metadata"];
        // Only the kept top-level fields (any ASCII case) are built.
        let v = yaml_to_value_keep("Kind: A\nspec: {x: [1, 2]}\nmetadata: {name: web}\n", &keep)
            .unwrap();
        assert_eq!(
            format!("{v:?}"),
            r#"{"Kind": "A", "metadata": {"name": "web"}}"#
        );
        // Errors anywhere fail as the full decode does, first one first.
        for doc in [
            "kind: A\nspec: {x: .nan}\n",
            "kind: A\nspec: [{~: 1}]\n",
            "spec: {x: -.inf}\nkind: {~: 1}\n",
            "kind: A\nspec: [\n",
            "kind: A\nspec: {1.5: x, true: y, 2: z}\nother: !!binary aGk=\n",
            "- a\n- b\n",
            "",
        ] {
            assert_eq!(
                yaml_to_value_keep(doc, &keep).map(drop),
                yaml_to_value(doc).map(drop),
                "{doc:?}"
            );
        }
        // A value replaced by a later equal key is not converted (Go's map
        // keeps only the last), in small and in indexed (large) maps.
        let mut big = String::from("spec:\n");
        for i in 0..40 {
            big.push_str(&format!("  k{i}: {i}\n"));
        }
        for doc in [
            "spec: {a: .nan, a: 1}\nkind: A\n".to_string(),
            format!("{big}  k3: .nan\n  k3: 3\nkind: A\n"),
        ] {
            assert!(yaml_to_value(&doc).is_ok(), "{doc}");
            assert!(yaml_to_value_keep(&doc, &keep).is_ok(), "{doc}");
        }
        let v = yaml_to_value(&format!("{big}  k3: x\n  k39: z\n")).unwrap();
        let s = format!("{v:?}");
        assert!(
            s.contains(r#""k3": "x""#) && s.contains(r#""k39": "z""#),
            "{s}"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let doc = format!("a: {}{}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse_yaml_values(&doc).is_err());
    }
}
