//! Helm's values coalescing (`pkg/chart/common/util/coalesce.go`, v4.3.1):
//! user values over chart defaults, maps merged key by key, lists and
//! scalars replaced, `null` deleting a default (when coalescing; merging
//! keeps it), globals copied from a chart into each subchart (the parent's
//! winning), and each subchart's defaults coalesced under
//! `values[<subchart name>]`.
//!
//! Type clashes keep the higher-priority value and log Helm's warning
//! (`tracing::warn!`, where Helm uses `log.Printf`).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use serde_json::Value as Json;

use crate::{Chart, Values};

/// The key of the values every chart shares.
pub const GLOBAL_KEY: &str = "global";

/// Why values could not be coalesced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoalesceError {
    /// The value where a subchart's values belong is not a map (Helm prints
    /// it with `%t`).
    #[error("type mismatch on {name}: {shown}")]
    TypeMismatch { name: String, shown: String },
}

/// Helm's `CoalesceValues`: the chart's (and its subcharts') defaults
/// under `user`, `null`s deleting keys.
pub fn coalesce_values(chart: &Chart, user: &Values) -> Result<Values, CoalesceError> {
    let dest = Node::map_from(user);
    coalesce(chart, &dest, "", false)?;
    Ok(Node::map_into(&dest))
}

/// Helm's `MergeValues`: as [`coalesce_values`], but `null`s are kept (for
/// steps whose result is coalesced again later).
pub fn merge_values(chart: &Chart, user: &Values) -> Result<Values, CoalesceError> {
    let dest = Node::map_from(user);
    coalesce(chart, &dest, "", true)?;
    Ok(Node::map_into(&dest))
}

/// Helm's `CoalesceTables`: `src` merged under `dst` (dst wins), `null` in
/// `dst` deleting what `src` has.
pub fn coalesce_tables(dst: &mut Values, src: Values) {
    tables(dst, src, false);
}

/// Helm's `MergeTables`: as [`coalesce_tables`], keeping `null`s.
pub fn merge_tables(dst: &mut Values, src: Values) {
    tables(dst, src, true);
}

fn tables(dst: &mut Values, src: Values, merge: bool) {
    if src.is_empty() {
        // Nothing to merge: Helm's loop only copies dst's nulls into src.
        return;
    }
    let d = Node::map_from(dst);
    let s = Node::map_from(&src);
    coalesce_tables_full_key(&d, &s, "", merge);
    *dst = Node::map_into(&d);
}

/// A values tree as Go holds it while coalescing: maps are shared objects
/// (`coalesceGlobals` copies a global table one level deep, so deeper
/// tables are the same map in the parent and every subchart, and what one
/// chart merges into them the others see). Lists and scalars are never
/// mutated and stay plain JSON.
#[derive(Clone)]
enum Node {
    Leaf(Json),
    Map(MapRef),
}

type MapRef = Rc<RefCell<BTreeMap<String, Node>>>;

impl Node {
    fn from_json(v: &Json) -> Node {
        match v {
            Json::Object(m) => Node::Map(Node::map_from(m)),
            other => Node::Leaf(other.clone()),
        }
    }

    /// A fresh deep copy (Go's `copystructure.Copy`).
    fn map_from(m: &Values) -> MapRef {
        Rc::new(RefCell::new(
            m.iter()
                .map(|(k, v)| (k.clone(), Node::from_json(v)))
                .collect(),
        ))
    }

    fn to_json(&self) -> Json {
        match self {
            Node::Leaf(v) => v.clone(),
            Node::Map(m) => Json::Object(Node::map_into(m)),
        }
    }

    fn map_into(m: &MapRef) -> Values {
        m.borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect()
    }

    fn is_null(&self) -> bool {
        matches!(self, Node::Leaf(Json::Null))
    }
}

fn new_map() -> MapRef {
    Rc::new(RefCell::new(BTreeMap::new()))
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

fn coalesce(chart: &Chart, dest: &MapRef, prefix: &str, merge: bool) -> Result<(), CoalesceError> {
    coalesce_chart_values(chart, dest, prefix, merge);
    coalesce_deps(chart, dest, prefix, merge)
}

/// Helm's `coalesceDeps`: each subchart's values (with the globals copied
/// down) coalesced with its own defaults.
fn coalesce_deps(
    chart: &Chart,
    dest: &MapRef,
    prefix: &str,
    merge: bool,
) -> Result<(), CoalesceError> {
    let sub_prefix = concat_prefix(prefix, chart.name());
    for sub in &chart.dependencies {
        let name = sub.name();
        let existing = dest.borrow().get(name).cloned();
        let sub_values = match existing {
            None => {
                let m = new_map();
                dest.borrow_mut()
                    .insert(name.to_string(), Node::Map(m.clone()));
                m
            }
            Some(Node::Map(m)) => m,
            Some(other) => {
                return Err(CoalesceError::TypeMismatch {
                    name: name.to_string(),
                    shown: go_bad_t(&other.to_json()),
                });
            }
        };
        coalesce_globals(&sub_values, dest, &sub_prefix);
        coalesce(sub, &sub_values, &sub_prefix, merge)?;
        dest.borrow_mut()
            .insert(name.to_string(), Node::Map(sub_values));
    }
    Ok(())
}

/// Helm's `coalesceGlobals`: `src`'s globals merged into `dest`'s, the
/// parent's (`src`) values winning; each global table copied one level
/// deep, as Helm's `copyMap` does.
fn coalesce_globals(dest: &MapRef, src: &MapRef, prefix: &str) {
    let dest_global = dest.borrow().get(GLOBAL_KEY).cloned();
    let dg = match dest_global {
        None => new_map(),
        Some(Node::Map(m)) => m,
        Some(_) => {
            tracing::warn!(
                "warning: skipping globals because destination {GLOBAL_KEY} is not a table."
            );
            return;
        }
    };
    let src_global = src.borrow().get(GLOBAL_KEY).cloned();
    let sg = match src_global {
        None => new_map(),
        Some(Node::Map(m)) => m,
        Some(_) => {
            tracing::warn!("warning: skipping globals because source {GLOBAL_KEY} is not a table.");
            return;
        }
    };
    if !Rc::ptr_eq(&dg, &sg) {
        let entries: Vec<(String, Node)> = sg
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (key, val) in entries {
            let current = dg.borrow().get(&key).cloned();
            match val {
                Node::Map(vm) => {
                    let vv: MapRef = Rc::new(RefCell::new(vm.borrow().clone()));
                    match current {
                        None => {
                            dg.borrow_mut().insert(key, Node::Map(vv));
                        }
                        Some(Node::Map(dest_map)) => {
                            let sub_prefix = concat_prefix(prefix, &key);
                            coalesce_tables_full_key(&vv, &dest_map, &sub_prefix, true);
                            dg.borrow_mut().insert(key, Node::Map(vv));
                        }
                        Some(_) => {
                            tracing::warn!(
                                "Conflict: cannot merge map onto non-map for {key:?}. Skipping."
                            );
                        }
                    }
                }
                leaf => {
                    if matches!(current, Some(Node::Map(_))) {
                        tracing::warn!("key {key} is table. Skipping");
                    } else {
                        dg.borrow_mut().insert(key, leaf);
                    }
                }
            }
        }
    }
    dest.borrow_mut()
        .insert(GLOBAL_KEY.to_string(), Node::Map(dg));
}

/// Helm's `coalesceValues`: one chart's defaults (a fresh copy) under `v`.
fn coalesce_chart_values(chart: &Chart, v: &MapRef, prefix: &str, merge: bool) {
    let sub_prefix = concat_prefix(prefix, chart.name());
    for (key, val) in &chart.values {
        let current = v.borrow().get(key).cloned();
        match current {
            Some(n) if n.is_null() && !merge => {
                v.borrow_mut().remove(key);
            }
            Some(Node::Map(dest)) => match val {
                Json::Object(src) => {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    let src = Node::map_from(src);
                    if !merge {
                        clean_nil_values(&src);
                    }
                    let full = concat_prefix(&sub_prefix, key);
                    coalesce_tables_full_key(&dest, &src, &full, merge);
                }
                Json::Null => {}
                _ => tracing::warn!("warning: skipped value for {sub_prefix}.{key}: Not a table."),
            },
            Some(_) => {}
            None => {
                if !merge && val.is_null() {
                    continue;
                }
                let node = Node::from_json(val);
                if let (false, Node::Map(m)) = (merge, &node) {
                    clean_nil_values(m);
                }
                v.borrow_mut().insert(key.clone(), node);
            }
        }
    }
}

/// Helm's `coalesceTablesFullKey`: `src` merged under `dst` (dst wins).
fn coalesce_tables_full_key(dst: &MapRef, src: &MapRef, prefix: &str, merge: bool) {
    if Rc::ptr_eq(dst, src) {
        // Merging a map with itself changes nothing.
        return;
    }
    let src_non_nil: HashSet<String> = src
        .borrow()
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    {
        let dst_ref = dst.borrow();
        let mut src_mut = src.borrow_mut();
        for (key, val) in dst_ref.iter() {
            if val.is_null() {
                src_mut.insert(key.clone(), Node::Leaf(Json::Null));
            }
        }
    }
    let entries: Vec<(String, Node)> = src
        .borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, val) in entries {
        let full = || concat_prefix(prefix, &key);
        let current = dst.borrow().get(&key).cloned();
        match (current, val) {
            (Some(dv), _) if dv.is_null() && !merge && src_non_nil.contains(&key) => {
                dst.borrow_mut().remove(&key);
            }
            (None, val) => {
                dst.borrow_mut().insert(key, val);
            }
            (Some(Node::Map(dv)), Node::Map(sv)) => {
                coalesce_tables_full_key(&dv, &sv, &full(), merge);
            }
            (Some(_), Node::Map(sv)) => {
                tracing::warn!(
                    "warning: cannot overwrite table with non table for {} ({})",
                    full(),
                    go_v(&Node::Map(sv).to_json())
                );
            }
            (Some(Node::Map(_)), val) if !val.is_null() => {
                tracing::warn!(
                    "warning: destination for {} is a table. Ignoring non-table value ({})",
                    full(),
                    go_v(&val.to_json())
                );
            }
            _ => {}
        }
    }
}

/// Helm's `cleanNilValues`: drop `null` entries of maps, recursively (not
/// inside lists).
fn clean_nil_values(m: &MapRef) {
    m.borrow_mut().retain(|_, v| !v.is_null());
    let children: Vec<MapRef> = m
        .borrow()
        .values()
        .filter_map(|v| match v {
            Node::Map(c) => Some(c.clone()),
            Node::Leaf(_) => None,
        })
        .collect();
    for c in children {
        clean_nil_values(&c);
    }
}

/// Go's `%v` of a values tree (for messages).
pub(crate) fn go_v(v: &Json) -> String {
    match v {
        Json::Null => "<nil>".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => go_number(n),
        Json::String(s) => s.clone(),
        Json::Array(items) => format!("[{}]", items.iter().map(go_v).collect::<Vec<_>>().join(" ")),
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_v(&m[k.as_str()])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `%v` of a number from values: `int64` as is, `float64` in `%g`
/// form (`1`, `1.5`, `1e+21`).
fn go_number(n: &serde_json::Number) -> String {
    if !n.is_f64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let exp = if f == 0.0 {
        0
    } else {
        f.abs().log10().floor() as i32
    };
    if !(-4..21).contains(&exp) {
        let s = format!("{f:e}");
        // Rust prints `1e21`, Go `1e+21`; Go pads the exponent to 2 digits.
        match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = match e.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', e),
                };
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else {
        format!("{f}")
    }
}

/// Go's `%t` of a non-bool value (`%!t(string=x)`), as Helm's type-mismatch
/// error prints it.
fn go_bad_t(v: &Json) -> String {
    match v {
        Json::Null => "%!t(<nil>)".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) if n.is_f64() => format!("%!t(float64={})", go_number(n)),
        Json::Number(n) => format!("%!t(int64={n})"),
        Json::String(s) => format!("%!t(string={s})"),
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(go_bad_t).collect::<Vec<_>>().join(" ")
        ),
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("%!t(string={k}):{}", go_bad_t(&m[k.as_str()])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse;
    use crate::Metadata;

    fn chart(name: &str, values: &str, deps: Vec<Chart>) -> Chart {
        Chart {
            metadata: Metadata {
                name: name.into(),
                version: "1.0.0".into(),
                ..Metadata::default()
            },
            values: parse(values).unwrap(),
            dependencies: deps,
            ..Chart::default()
        }
    }

    #[test]
    fn user_values_win_and_nulls_delete() {
        let c = chart(
            "top",
            "a: 1\nb: {c: 2, d: 3}\nl: [1, 2]\nn: null\nkeep: x\n",
            vec![],
        );
        let user = parse("b: {c: 9, d: null}\nl: [5]\nkeep: null\nnew: null\n").unwrap();
        let got = coalesce_values(&c, &user).unwrap();
        let want = parse("a: 1\nb: {c: 9}\nl: [5]\nnew: null\n").unwrap();
        assert_eq!(got, want);
        // Merging keeps the nulls.
        let got = merge_values(&c, &user).unwrap();
        let want =
            parse("a: 1\nb: {c: 9, d: null}\nl: [5]\nn: null\nkeep: null\nnew: null\n").unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn type_clashes_keep_the_user_value() {
        let c = chart("top", "a: {b: 1}\nc: 1\n", vec![]);
        let user = parse("a: 5\nc: {d: 1}\n").unwrap();
        let got = coalesce_values(&c, &user).unwrap();
        assert_eq!(got, user);
    }

    #[test]
    fn subcharts_get_defaults_and_globals() {
        let sub = chart("sub", "x: 1\nglobal: {g: child, only: c}\n", vec![]);
        let c = chart("top", "global: {g: parent}\nsub: {y: 2}\n", vec![sub]);
        let got = coalesce_values(&c, &Values::new()).unwrap();
        let want = parse("global: {g: parent}\nsub: {x: 1, y: 2, global: {g: parent, only: c}}\n")
            .unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn a_scalar_where_subchart_values_belong_is_an_error() {
        let sub = chart("sub", "", vec![]);
        let c = chart("top", "", vec![sub]);
        let user = parse("sub: text\n").unwrap();
        let e = coalesce_values(&c, &user).unwrap_err();
        assert_eq!(e.to_string(), "type mismatch on sub: %!t(string=text)");
    }
}
