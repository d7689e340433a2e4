//! Values files → template values, the way Helm decodes them.
//!
//! Helm reads `values.yaml` (and `-f` files) with `sigs.k8s.io/yaml`: YAML
//! (with YAML 1.1 scalars: `on`/`yes` are booleans, `0777` is octal) is
//! turned into JSON and decoded into `interface{}`. So every number becomes a
//! `float64`, map keys become strings (`1` → "1", `1e6` → "1e+06", `true` →
//! "true"), `!!binary` becomes the decoded string, and a null map key or an
//! infinite/NaN number is an error. Several YAML documents in one file are
//! merged, later documents winning (Helm's `loader.LoadValues`).
//!
//! `helm template` then coalesces the chart's defaults with the (empty) user
//! values, which drops `null` entries from maps; [`coalesce_chart_defaults`]
//! does that step for a single chart without user values.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::fmt::format_float_g;
use crate::value::{Map, Value};

/// Why a values file could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("failed to parse values YAML: {0}")]
    Yaml(String),
    #[error("failed to decode values: a document is not a map but {0}")]
    NotAMap(String),
}

/// Decode a values file (one or more YAML documents) into the map Helm
/// would see. An empty file gives an empty map.
pub fn values_from_yaml(text: &str) -> Result<Value, ConvertError> {
    // Comments are never needed, and buffering them trips the parser's
    // comment budget on real values files (jenkins' has long commented-out
    // certificates).
    let options = serde_saphyr::options! {
        emit_comments: false,
        legacy_octal_numbers: true,
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::LastWins,
    };
    let docs: Vec<GoValue> =
        serde_saphyr::from_str_multiple_with_options::<GoValue, Vec<GoValue>>(text, options)
            .map_err(|e| ConvertError::Yaml(e.to_string()))?;
    let merged = Map::new();
    for GoValue(doc) in docs {
        match doc {
            Value::Nil => {}
            Value::Map(m) => merge_maps(&merged, &m),
            other => return Err(ConvertError::NotAMap(other.type_name())),
        }
    }
    Ok(Value::Map(merged))
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

/// A value decoded as Go's `json.Unmarshal` into `interface{}` would see it
/// after `sigs.k8s.io/yaml`'s YAML → JSON step.
struct GoValue(Value);

impl<'de> Deserialize<'de> for GoValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(GoValueVisitor).map(GoValue)
    }
}

fn float<E: de::Error>(f: f64) -> Result<Value, E> {
    if f.is_finite() {
        Ok(Value::Float(f))
    } else {
        Err(E::custom(format!(
            "error converting YAML to JSON: json: unsupported value: {}",
            format_float_g(f)
        )))
    }
}

struct GoValueVisitor;

impl<'de> Visitor<'de> for GoValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Float(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Float(v as f64))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Float(v as f64))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(Value::Float(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        float(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::str(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::string(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        // `!!binary`: Go keeps the decoded bytes as a string; JSON encoding
        // then replaces invalid UTF-8 with U+FFFD.
        Ok(Value::string(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(GoValueVisitor)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(GoValueVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(GoValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::list(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some(GoKey(k)) = map.next_key()? {
            let GoValue(v) = map.next_value()?;
            entries.insert(k, v);
        }
        Ok(Value::map(entries))
    }
}

/// A map key as `sigs.k8s.io/yaml` turns it into a JSON object key.
struct GoKey(String);

impl<'de> Deserialize<'de> for GoKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(GoKeyVisitor).map(GoKey)
    }
}

struct GoKeyVisitor;

impl<'de> Visitor<'de> for GoKeyVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar map key")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(format_float_g(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<String, E> {
        Ok(String::from_utf8_lossy(v).into_owned())
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Err(E::custom(
            "error converting YAML to JSON: unsupported map key of type: %!s(<nil>)",
        ))
    }
    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        self.visit_unit()
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

    // Expectations below were printed by Helm v4.3.1 (the conformance
    // oracle) for `{{ .Values }}` with these values files.
    #[test]
    fn numbers_are_float64_and_yaml_1_1_scalars_apply() {
        assert_eq!(
            decode("a: 1000000\nb: 0x10\nc: 0777\nd: 1.0\ne: on\nf: yes\n"),
            "map[a:1e+06 b:16 c:511 d:1 e:true f:true]"
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
        assert_eq!(decode("a: 1\na: 2\n"), "map[a:2]");
        assert_eq!(decode(""), "map[]");
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

    #[test]
    fn bad_documents_fail() {
        assert!(values_from_yaml("hello\n").is_err());
        assert!(values_from_yaml("a: .inf\n").is_err());
        assert!(values_from_yaml("a: [\n").is_err());
    }
}
