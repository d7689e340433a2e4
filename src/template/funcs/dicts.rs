//! Template functions: Sprig's dict functions (`dict.go`, Sprig v3.3.0),
//! with `merge`/`mergeOverwrite` following dario.cat/mergo v1.0.1 on
//! `map[string]interface {}`.
//!
//! Go maps are references: `set`, `unset`, `merge` and `mergeOverwrite`
//! change the map they are given (`.Values` included), and a map merged
//! into a missing key is shared, not copied. Our `Map` aliases the same way.
//!
//! A parameter typed `map[string]interface {}` may receive a nil map
//! (`set nil "k" v`): it arrives as `Value::Nil` and behaves like Go's nil
//! map (reads see nothing, writes panic).

use std::collections::BTreeMap;

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::funcs::strings::{arg_str, strval};
use crate::value::{GoType, List, Map, Value};

use GoType::{Interface, InterfaceMap, String as Str};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    reg.add("dict", &[], Some(Interface), dict);
    reg.add("get", &[InterfaceMap, Str], None, get);
    reg.add("set", &[InterfaceMap, Str, Interface], None, set);
    reg.add("unset", &[InterfaceMap, Str], None, unset);
    reg.add("hasKey", &[InterfaceMap, Str], None, has_key);
    reg.add("pluck", &[Str], Some(InterfaceMap), pluck);
    reg.add("keys", &[], Some(InterfaceMap), keys);
    reg.add("pick", &[InterfaceMap], Some(Str), pick);
    reg.add("omit", &[InterfaceMap], Some(Str), omit);
    reg.add("merge", &[InterfaceMap], Some(InterfaceMap), merge);
    reg.add("mustMerge", &[InterfaceMap], Some(InterfaceMap), merge);
    reg.add(
        "mergeOverwrite",
        &[InterfaceMap],
        Some(InterfaceMap),
        merge_overwrite,
    );
    reg.add(
        "mustMergeOverwrite",
        &[InterfaceMap],
        Some(InterfaceMap),
        merge_overwrite,
    );
    reg.add("values", &[InterfaceMap], None, values);
    reg.add("dig", &[], Some(Interface), dig);
    reg.add("deepCopy", &[Interface], None, deep_copy_fn);
    reg.add("mustDeepCopy", &[Interface], None, deep_copy_fn);
}

/// Nesting depth at which merging and copying give up. Go has no limit
/// (a map that contains itself recurses until the goroutine stack
/// overflows, which kills the process); we fail the render instead.
const MAX_DEPTH: usize = 512;

fn too_deep() -> FuncError {
    FuncError::new("runtime error: maximum nesting depth exceeded (cyclic map?)")
}

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

/// A `map[string]interface {}` parameter: `None` is Go's nil map.
fn map_arg(args: &[Value], i: usize) -> Result<Option<Map>, FuncError> {
    match arg(args, i) {
        Value::Nil => Ok(None),
        Value::Map(m) if m.nil => Ok(None),
        Value::Map(m) => Ok(Some(m.clone())),
        other => Err(FuncError::new(format!(
            "wrong type for value; expected map[string]interface {{}}; got {}",
            other.type_name()
        ))),
    }
}

/// The same Go map seen through the plain `map[string]interface {}` type
/// (a `common.Values` passed to a Sprig function loses its name).
fn as_plain(m: &Map) -> Value {
    Value::Map(Map {
        entries: m.entries.clone(),
        elem: m.elem,
        type_name: None,
        nil: m.nil,
    })
}

fn new_map(entries: BTreeMap<String, Value>) -> Value {
    Value::map(entries)
}

fn dict(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let mut entries = BTreeMap::new();
    let mut i = 0;
    while i < args.len() {
        let key = strval(&args[i]);
        let value = args.get(i + 1).cloned().unwrap_or_else(|| Value::str(""));
        entries.insert(key, value);
        i += 2;
    }
    Ok(new_map(entries))
}

fn get(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let key = arg_str(&args, 1)?;
    Ok(map_arg(&args, 0)?
        .and_then(|m| m.get(key))
        .unwrap_or_else(|| Value::str("")))
}

fn set(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let key = arg_str(&args, 1)?;
    let m = map_arg(&args, 0)?.ok_or_else(|| FuncError::new("assignment to entry in nil map"))?;
    m.insert(key, arg(&args, 2).clone());
    Ok(as_plain(&m))
}

fn unset(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let key = arg_str(&args, 1)?;
    match map_arg(&args, 0)? {
        Some(m) => {
            m.borrow_mut().remove(key);
            Ok(as_plain(&m))
        }
        // Deleting from a nil map is a no-op; the nil map comes back.
        None => Ok(Value::Map(Map::nil(Interface))),
    }
}

fn has_key(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let key = arg_str(&args, 1)?;
    Ok(Value::Bool(
        map_arg(&args, 0)?.is_some_and(|m| m.borrow().contains_key(key)),
    ))
}

fn pluck(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let key = arg_str(&args, 0)?;
    let mut out = Vec::new();
    for i in 1..args.len() {
        if let Some(v) = map_arg(&args, i)?.and_then(|m| m.get(key)) {
            out.push(v);
        }
    }
    Ok(Value::list(out))
}

fn keys(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    // Go lists each map's keys in random order; we list them sorted.
    let mut out = Vec::new();
    for i in 0..args.len() {
        if let Some(m) = map_arg(&args, i)? {
            out.extend(m.borrow().keys().cloned());
        }
    }
    Ok(Value::strings(out))
}

fn pick(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let m = map_arg(&args, 0)?;
    let mut out = BTreeMap::new();
    for i in 1..args.len() {
        let key = arg_str(&args, i)?;
        if let Some(v) = m.as_ref().and_then(|m| m.get(key)) {
            out.insert(key.to_string(), v);
        }
    }
    Ok(new_map(out))
}

fn omit(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let m = map_arg(&args, 0)?;
    let mut drop = Vec::new();
    for i in 1..args.len() {
        drop.push(arg_str(&args, i)?);
    }
    let out = match m {
        Some(m) => m
            .borrow()
            .iter()
            .filter(|(k, _)| !drop.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        None => BTreeMap::new(),
    };
    Ok(new_map(out))
}

fn values(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    // Go's order is random; ours is the keys' sorted order.
    let out = match map_arg(&args, 0)? {
        Some(m) => m.borrow().values().cloned().collect(),
        None => Vec::new(),
    };
    Ok(Value::list(out))
}

fn is_slice(v: &Value) -> bool {
    matches!(v, Value::List(_) | Value::Bytes(_))
}

/// An empty slice of the same Go type as `v` (a slice).
fn empty_slice_like(v: &Value) -> Value {
    match v {
        Value::Bytes(_) => Value::Bytes(Vec::new().into()),
        Value::List(l) => Value::List(List::typed(Vec::new(), l.elem)),
        _ => Value::list(Vec::new()),
    }
}

/// mergo's `deepMerge` for two `map[string]interface {}` values, `dst`
/// changed in place.
///
/// Per key of `src`:
/// - a nil source value is skipped, or with `overwrite` stored as nil;
/// - two maps merge recursively (the destination map is changed in place);
/// - for a source slice mergo first stores a slice (the source one when
///   overwriting or when `dst` is empty, else the destination's value or a
///   new empty slice) — this only shows when nothing replaces it below;
/// - a non-empty destination value is then kept when the source is a slice,
///   or when both are maps;
/// - otherwise the source value is stored when overwriting, or when the
///   destination value is missing or empty (nil, false, 0, "", empty list
///   or map). Stored maps and lists are shared with `src`, not copied.
fn merge_maps(
    ctx: &mut dyn Context,
    dst: &Map,
    src: &Map,
    overwrite: bool,
    depth: usize,
) -> Result<(), FuncError> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    let entries: Vec<(String, Value)> = src
        .borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    ctx.charge(entries.len() as u64)?;
    for (key, sv) in entries {
        let dv = dst.get(&key);
        if sv.is_nil() {
            if overwrite {
                dst.insert(key, Value::Nil);
            }
            continue;
        }
        match &sv {
            Value::Map(sm) => {
                if let Some(Value::Map(dm)) = &dv {
                    // Go would recurse into a map merged with itself
                    // forever; merging it into itself changes nothing.
                    if !dm.same(sm) {
                        merge_maps(ctx, dm, sm, overwrite, depth + 1)?;
                    }
                }
            }
            v if is_slice(v) => {
                let stored = if overwrite || dst.is_empty() {
                    sv.clone()
                } else {
                    match &dv {
                        None | Some(Value::Nil) => empty_slice_like(&sv),
                        Some(d) => d.clone(),
                    }
                };
                dst.insert(key.clone(), stored);
            }
            _ => {}
        }
        if let Some(d) = &dv {
            // For a map, emptiness is judged after the recursive merge.
            if !d.is_empty() {
                if is_slice(&sv) {
                    continue;
                }
                if matches!(sv, Value::Map(_)) && matches!(d, Value::Map(_)) {
                    continue;
                }
            }
        }
        if overwrite || dv.as_ref().is_none_or(Value::is_empty) {
            dst.insert(key, sv);
        }
    }
    Ok(())
}

fn merge_all(ctx: &mut dyn Context, args: &[Value], overwrite: bool) -> FuncResult {
    let mut dst = map_arg(args, 0)?;
    for i in 1..args.len() {
        let Some(src) = map_arg(args, i)? else {
            continue;
        };
        // mergo gives a nil destination map a fresh one first.
        let d = dst.get_or_insert_with(Map::new);
        if !d.same(&src) {
            merge_maps(ctx, d, &src, overwrite, 0)?;
        }
    }
    Ok(match dst {
        Some(m) => as_plain(&m),
        // No source to merge: mergo leaves a nil destination nil.
        None => Value::Map(Map::nil(Interface)),
    })
}

fn merge(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    merge_all(ctx, &args, false)
}

fn merge_overwrite(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    merge_all(ctx, &args, true)
}

/// Go's message for a failed `x.(T)` on an `interface {}`.
fn conversion_error(v: &Value, want: &str) -> FuncError {
    let have = if v.is_nil() {
        "nil".to_string()
    } else {
        v.type_name()
    };
    FuncError::new(format!(
        "interface conversion: interface {{}} is {have}, not {want}"
    ))
}

/// `v.(map[string]interface {})`: only the plain map type passes (not
/// `common.Values`, not `map[string]string`).
fn assert_plain_map(v: &Value) -> Result<Map, FuncError> {
    match v {
        Value::Map(m) if m.type_name.is_none() && m.elem == GoType::Interface => Ok(m.clone()),
        other => Err(conversion_error(other, "map[string]interface {}")),
    }
}

fn dig(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    if args.len() < 3 {
        return Err(FuncError::new("dig needs at least three arguments"));
    }
    let n = args.len();
    let mut dict = assert_plain_map(&args[n - 1])?;
    let default = &args[n - 2];
    let mut keys = Vec::with_capacity(n - 2);
    for k in &args[..n - 2] {
        match k {
            Value::String(s) => keys.push(s.clone()),
            other => return Err(conversion_error(other, "string")),
        }
    }
    for (i, key) in keys.iter().enumerate() {
        let Some(step) = dict.get(key) else {
            return Ok(default.clone());
        };
        if i == keys.len() - 1 {
            return Ok(step);
        }
        dict = assert_plain_map(&step)?;
    }
    Ok(default.clone())
}

/// mitchellh/copystructure's `Copy`: maps and slices are copied all the
/// way down (keeping their Go types); scalars and objects are shared.
pub(crate) fn deep_copy(
    ctx: &mut dyn Context,
    v: &Value,
    depth: usize,
) -> Result<Value, FuncError> {
    if depth > MAX_DEPTH {
        return Err(too_deep());
    }
    ctx.charge(1)?;
    Ok(match v {
        Value::Map(m) => {
            let mut entries = BTreeMap::new();
            for (k, item) in m.borrow().iter() {
                entries.insert(k.clone(), deep_copy(ctx, item, depth + 1)?);
            }
            let mut copy = Map::from_entries(entries);
            copy.elem = m.elem;
            copy.type_name = m.type_name;
            copy.nil = m.nil;
            Value::Map(copy)
        }
        Value::List(l) => {
            let mut items = Vec::with_capacity(l.len());
            for item in l.items.iter() {
                items.push(deep_copy(ctx, item, depth + 1)?);
            }
            let mut copy = List::typed(items, l.elem);
            copy.nil = l.nil;
            Value::List(copy)
        }
        Value::Bytes(b) => Value::Bytes(b.to_vec().into()),
        other => other.clone(),
    })
}

fn deep_copy_fn(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    match arg(&args, 0) {
        Value::Nil => Err(FuncError::new(
            "reflect: call of reflect.Value.Type on zero Value",
        )),
        v => deep_copy(ctx, v, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmt::format_v;
    use crate::funcs::strings::test_support::{call, i, s, show};

    fn reg() -> Registry {
        let mut reg = Registry::new();
        register(&mut reg);
        reg
    }

    fn m(pairs: Vec<(&str, Value)>) -> Value {
        Value::map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    // Expectations: Sprig v3.3.0 + mergo v1.0.1 behaviour observed through
    // Helm v4.3.1's engine.

    #[test]
    fn dict_get_set_unset() {
        let r = reg();
        assert_eq!(show(&r, "dict", vec![s("a"), i(1), i(2)]), "map[2: a:1]");
        let d = m(vec![("a", i(1))]);
        assert_eq!(show(&r, "get", vec![d.clone(), s("a")]), "1");
        assert_eq!(show(&r, "get", vec![d.clone(), s("zz")]), "");
        assert_eq!(
            show(&r, "set", vec![d.clone(), s("b"), i(2)]),
            "map[a:1 b:2]"
        );
        // set mutated the caller's map.
        assert_eq!(format_v(&d), "map[a:1 b:2]");
        assert_eq!(show(&r, "unset", vec![d.clone(), s("a")]), "map[b:2]");
        assert_eq!(
            show(&r, "set", vec![Value::Nil, s("a"), i(1)]),
            "ERR: assignment to entry in nil map"
        );
        assert_eq!(show(&r, "get", vec![Value::Nil, s("a")]), "");
        assert_eq!(show(&r, "hasKey", vec![d, s("b")]), "true");
    }

    #[test]
    fn typed_nil_maps() {
        let r = reg();
        let nil_map = || Value::Map(Map::nil(GoType::Interface));
        assert_eq!(
            show(&r, "set", vec![nil_map(), s("a"), i(1)]),
            "ERR: assignment to entry in nil map"
        );
        let is_nil_map = |v: FuncResult| matches!(v, Ok(Value::Map(m)) if m.nil && m.is_empty());
        assert!(is_nil_map(call(&r, "unset", vec![nil_map(), s("a")])));
        assert!(is_nil_map(call(&r, "merge", vec![nil_map()])));
        assert!(is_nil_map(call(&r, "deepCopy", vec![nil_map()])));
        // mergo gives a nil destination a fresh map before merging.
        let merged = call(&r, "merge", vec![nil_map(), m(vec![("a", i(1))])]);
        assert!(matches!(&merged, Ok(Value::Map(m)) if !m.nil));
        assert_eq!(merged.map(|v| format_v(&v)).ok(), Some("map[a:1]".into()));
    }

    #[test]
    fn merge_keeps_non_empty_destination_values() {
        let r = reg();
        let dst = m(vec![
            ("a", i(1)),
            ("b", Value::Bool(false)),
            ("n", m(vec![("x", i(1))])),
            ("l", Value::list(vec![i(1)])),
        ]);
        let src = m(vec![
            ("a", i(2)),
            ("b", Value::Bool(true)),
            ("c", Value::Nil),
            ("n", m(vec![("x", i(2)), ("y", i(3))])),
            ("l", Value::list(vec![i(9)])),
            ("z", s("new")),
        ]);
        let out = call(&r, "merge", vec![dst.clone(), src.clone()]).unwrap_or(Value::Nil);
        assert_eq!(format_v(&out), "map[a:1 b:true l:[1] n:map[x:1 y:3] z:new]");
        assert_eq!(format_v(&dst), format_v(&out));
        let dst2 = m(vec![("a", i(1)), ("l", Value::list(vec![i(1)]))]);
        let out = call(&r, "mergeOverwrite", vec![dst2, src]).unwrap_or(Value::Nil);
        assert_eq!(
            format_v(&out),
            "map[a:2 b:true c:<nil> l:[9] n:map[x:2 y:3] z:new]"
        );
    }

    #[test]
    fn merged_maps_are_shared_not_copied() {
        let r = reg();
        let inner = m(vec![("x", i(1))]);
        let src = m(vec![("n", inner.clone())]);
        let out = call(&r, "merge", vec![Value::empty_map(), src]).unwrap_or(Value::Nil);
        if let (Value::Map(o), Value::Map(inn)) = (&out, &inner) {
            assert!(matches!(o.get("n"), Some(Value::Map(n)) if n.same(inn)));
        } else {
            panic!("merge did not return a map");
        }
    }

    #[test]
    fn dig_walks_plain_maps_only() {
        let r = reg();
        let d = m(vec![("a", m(vec![("b", s("x"))]))]);
        assert_eq!(
            show(&r, "dig", vec![s("a"), s("b"), s("def"), d.clone()]),
            "x"
        );
        assert_eq!(
            show(&r, "dig", vec![s("a"), s("c"), s("def"), d.clone()]),
            "def"
        );
        assert_eq!(
            show(&r, "dig", vec![s("a"), s("b"), s("c"), s("def"), d.clone()]),
            "ERR: interface conversion: interface {} is string, not map[string]interface {}"
        );
        assert_eq!(
            show(&r, "dig", vec![s("a"), d.clone()]),
            "ERR: dig needs at least three arguments"
        );
        let mut values = Map::new();
        values.type_name = Some("common.Values");
        assert_eq!(
            show(&r, "dig", vec![s("a"), s("d"), Value::Map(values)]),
            "ERR: interface conversion: interface {} is common.Values, not map[string]interface {}"
        );
        assert_eq!(
            show(&r, "dig", vec![i(1), s("d"), d]),
            "ERR: interface conversion: interface {} is int, not string"
        );
    }

    #[test]
    fn deep_copy_is_independent() {
        let r = reg();
        let d = m(vec![("a", m(vec![("b", i(1))]))]);
        let c = call(&r, "deepCopy", vec![d.clone()]).unwrap_or(Value::Nil);
        if let Value::Map(cm) = &c {
            if let Some(Value::Map(inner)) = cm.get("a") {
                inner.insert("b", i(2));
            }
        }
        assert_eq!(format_v(&d), "map[a:map[b:1]]");
        assert_eq!(format_v(&c), "map[a:map[b:2]]");
        assert_eq!(
            show(&r, "deepCopy", vec![Value::Nil]),
            "ERR: reflect: call of reflect.Value.Type on zero Value"
        );
    }

    #[test]
    fn cyclic_maps_fail_instead_of_recursing_forever() {
        let r = reg();
        let cyclic = || {
            let d = m(vec![("a", i(1))]);
            if let Value::Map(dm) = &d {
                dm.insert("self", d.clone());
            }
            d
        };
        let out = show(&r, "deepCopy", vec![cyclic()]);
        assert!(
            out.starts_with("ERR: runtime error: maximum nesting depth"),
            "{out}"
        );
        // Each level of one merges into the matching level of the other.
        let out = show(&r, "mergeOverwrite", vec![cyclic(), cyclic()]);
        assert!(
            out.starts_with("ERR: runtime error: maximum nesting depth"),
            "{out}"
        );
    }

    #[test]
    fn keys_values_pick_omit_pluck() {
        let r = reg();
        let d = m(vec![("b", i(2)), ("a", i(1)), ("c", i(3))]);
        assert_eq!(show(&r, "keys", vec![d.clone()]), "[a b c]");
        assert_eq!(show(&r, "values", vec![d.clone()]), "[1 2 3]");
        assert_eq!(
            show(&r, "pick", vec![d.clone(), s("a"), s("z")]),
            "map[a:1]"
        );
        assert_eq!(show(&r, "omit", vec![d.clone(), s("a")]), "map[b:2 c:3]");
        assert_eq!(
            show(&r, "pluck", vec![s("a"), d.clone(), m(vec![]), d]),
            "[1 1]"
        );
    }
}
