//! Values files decoded as Helm decodes them, and conversions between
//! [`Values`] and template values.
//!
//! Helm reads `values.yaml` and `-f` files with `loader.LoadValues`: the
//! text is cut into documents at `---` lines, each is decoded with
//! `sigs.k8s.io/yaml` (YAML → JSON → `interface{}`, so every number is a
//! `float64` and keys are strings) and the documents are merged. That
//! lives in one place, [`berth_template::convert::values_from_yaml`]
//! (whose errors read as `LoadValues`' do); this module turns its result
//! into [`Values`], which can cross threads and feed the schema validator,
//! and turns [`Values`] back into template values for rendering.

use std::collections::BTreeMap;

use berth_template::{GoType, List, Map, Value};
use serde_json::{Number, Value as Json};

use crate::Values;

/// Why values could not be decoded or converted.
#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    #[error("{0}")]
    Yaml(#[from] berth_template::convert::ConvertError),
    /// A template value with no JSON form (a function, an object, a
    /// non-finite number).
    #[error("cannot represent a {0} in values")]
    Unrepresentable(String),
}

/// Decode a values file (one or more YAML documents; an empty file is an
/// empty map) into [`Values`], every number an `f64`.
pub fn parse(text: &str) -> Result<Values, ValuesError> {
    let value = berth_template::convert::values_from_yaml(text)?;
    match into_json(value)? {
        Json::Object(map) => Ok(map),
        // values_from_yaml always returns a map.
        other => Err(ValuesError::Unrepresentable(json_kind(&other).into())),
    }
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "list",
        Json::Object(_) => "map",
    }
}

/// A template value as JSON: what Helm's values trees can hold. `Int`/
/// `Int64` become `i64` numbers, `Float` an `f64` number, bytes a string.
pub fn from_template(value: &Value) -> Result<Json, ValuesError> {
    Ok(match value {
        Value::Nil => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) | Value::Int64(i) => Json::Number(Number::from(*i)),
        Value::Int32(i) => Json::Number(Number::from(*i)),
        Value::Uint64(u) => Json::Number(Number::from(*u)),
        Value::Uint8(u) => Json::Number(Number::from(*u)),
        Value::Float(f) => Json::Number(
            Number::from_f64(*f)
                .ok_or_else(|| ValuesError::Unrepresentable("non-finite float".into()))?,
        ),
        Value::String(s) => Json::String(s.to_string()),
        Value::Bytes(b) => Json::String(String::from_utf8_lossy(b).into_owned()),
        Value::List(l) => {
            if l.nil {
                Json::Null
            } else {
                Json::Array(
                    l.items
                        .iter()
                        .map(from_template)
                        .collect::<Result<_, _>>()?,
                )
            }
        }
        Value::Map(m) => {
            if m.nil {
                Json::Null
            } else {
                let mut out = serde_json::Map::new();
                for (k, v) in m.borrow().iter() {
                    out.insert(k.clone(), from_template(v)?);
                }
                Json::Object(out)
            }
        }
        other => return Err(ValuesError::Unrepresentable(other.type_name())),
    })
}

/// [`from_template`] for a tree nothing else holds: maps' keys and
/// lists' items are moved out, not cloned (a shared part is copied).
fn into_json(value: Value) -> Result<Json, ValuesError> {
    Ok(match value {
        Value::List(l) if !l.nil => {
            let items = std::rc::Rc::try_unwrap(l.items).unwrap_or_else(|rc| (*rc).clone());
            Json::Array(items.into_iter().map(into_json).collect::<Result<_, _>>()?)
        }
        Value::Map(m) if !m.nil => {
            let entries = std::rc::Rc::try_unwrap(m.entries)
                .map(std::cell::RefCell::into_inner)
                .unwrap_or_else(|rc| rc.borrow().clone());
            Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| Ok((k, into_json(v)?)))
                    .collect::<Result<_, ValuesError>>()?,
            )
        }
        other => from_template(&other)?,
    })
}

/// [`Values`] as the template map Helm passes as `.Values`
/// (`common.Values`, a `map[string]interface {}`).
pub fn to_template(values: &Values) -> Value {
    let entries: BTreeMap<String, Value> = values
        .iter()
        .map(|(k, v)| (k.clone(), json_to_template(v)))
        .collect();
    Value::Map(Map {
        type_name: Some("common.Values"),
        ..Map::from_entries(entries)
    })
}

/// One JSON value as a template value: `i64` numbers are Go `int64` (what
/// `--set` gives), other numbers `float64`; arrays `[]interface {}`, objects
/// `map[string]interface {}`.
pub fn json_to_template(value: &Json) -> Value {
    match value {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64().filter(|_| !n.is_f64()) {
                Value::Int64(i)
            } else if let Some(u) = n.as_u64().filter(|_| !n.is_f64()) {
                Value::Uint64(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => Value::str(s),
        Json::Array(items) => Value::List(List::typed(
            items.iter().map(json_to_template).collect(),
            GoType::Interface,
        )),
        Json::Object(map) => {
            let entries: BTreeMap<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), json_to_template(v)))
                .collect();
            Value::Map(Map::from_entries(entries))
        }
    }
}

/// Helm's `loader.MergeMaps`, in place: `src` over `dst`, maps merged
/// key by key, anything else (lists, scalars, `null`) replaced. How `-f`
/// files combine, in order, the later winning.
pub fn merge_maps(dst: &mut Values, src: Values) {
    for (key, value) in src {
        if let Json::Object(src_map) = value {
            if let Some(Json::Object(dst_map)) = dst.get_mut(&key) {
                merge_maps(dst_map, src_map);
            } else {
                dst.insert(key, Json::Object(src_map));
            }
        } else {
            dst.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_from_files_are_floats() {
        let v = parse("a: 1\nb: 1.5\nc: [1, x]\nd: {e: true}\n").unwrap();
        assert!(v["a"].is_f64(), "{:?}", v["a"]);
        assert!(v["b"].is_f64());
        assert!(v["c"][0].is_f64());
        assert_eq!(v["d"]["e"], Json::Bool(true));
        let t = to_template(&v);
        let Value::Map(m) = &t else {
            panic!("not a map")
        };
        assert!(matches!(m.get("a"), Some(Value::Float(f)) if f == 1.0));
        assert_eq!(m.type_name, Some("common.Values"));
    }

    #[test]
    fn set_integers_stay_int64() {
        let mut v = Values::new();
        v.insert("n".into(), Json::Number(Number::from(3i64)));
        let Value::Map(m) = to_template(&v) else {
            panic!("not a map")
        };
        assert!(matches!(m.get("n"), Some(Value::Int64(3))));
    }

    #[test]
    fn empty_file_is_empty_map_and_bad_yaml_is_an_error() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse("a: [").is_err());
        assert!(matches!(parse("- 1\n"), Err(ValuesError::Yaml(_))));
    }

    #[test]
    fn errors_read_as_load_values_errors() {
        // `helm template x . -f f.yaml` (Helm v4.3.1) prints these after
        // `Error: failed to parse f.yaml: `.
        let msg = |text: &str| parse(text).map(|_| ()).unwrap_err().to_string();
        assert_eq!(
            msg("a: [\n"),
            "cannot unmarshal yaml document: error converting YAML to JSON: \
             yaml: line 1: did not find expected node content"
        );
        assert_eq!(
            msg("a: 1\n--- x\n"),
            "error reading yaml document: invalid Yaml document separator: x"
        );
        assert_eq!(
            msg("- 1\n"),
            "cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: \
             json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
    }

    #[test]
    fn merge_maps_deep_merges_maps_and_replaces_the_rest() {
        let mut dst = parse("a: {b: 1, c: [1, 2]}\nd: x\ne: {f: 1}\n").unwrap();
        let src = parse("a: {c: [3], g: null}\nd: {h: 1}\ne: 2\n").unwrap();
        merge_maps(&mut dst, src);
        let want = parse("a: {b: 1, c: [3], g: null}\nd: {h: 1}\ne: 2\n").unwrap();
        assert_eq!(dst, want);
    }
}
