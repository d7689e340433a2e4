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
use std::collections::BTreeMap;
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
    let mut dest = table_from(user);
    coalesce(chart, &mut dest, "", false)?;
    Ok(table_into_json(dest))
}

/// Helm's `MergeValues`: as [`coalesce_values`], but `null`s are kept (for
/// steps whose result is coalesced again later).
pub fn merge_values(chart: &Chart, user: &Values) -> Result<Values, CoalesceError> {
    let mut dest = table_from(user);
    coalesce(chart, &mut dest, "", true)?;
    Ok(table_into_json(dest))
}

/// Helm's `CoalesceTables`: `src` merged under `dst` (dst wins), `null` in
/// `dst` deleting what `src` has.
pub fn coalesce_tables(dst: &mut Values, src: Values) {
    merge_json(dst, src, &KeyPath::root(""), false);
}

/// Helm's `MergeTables`: as [`coalesce_tables`], keeping `null`s.
pub fn merge_tables(dst: &mut Values, src: Values) {
    merge_json(dst, src, &KeyPath::root(""), true);
}

/// A value of the tree being coalesced. Go's maps are shared objects, and
/// `coalesceGlobals` copies a global table only one level deep, so deeper
/// tables are the same map in the parent and every subchart (what one chart
/// merges into them the others see). Only those become [`Node::Shared`];
/// everything else stays plain JSON that has one owner and is moved, not
/// copied (Helm mutates its maps in place).
enum Node {
    /// A value (a map included) nothing else holds.
    Own(Json),
    /// A map several trees may hold at once.
    Shared(MapRef),
}

type Table = BTreeMap<String, Node>;
type MapRef = Rc<RefCell<Table>>;

/// What coalescing looks at in a value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Table,
    Other,
}

fn json_kind(v: &Json) -> Kind {
    match v {
        Json::Null => Kind::Null,
        Json::Object(_) => Kind::Table,
        _ => Kind::Other,
    }
}

impl Node {
    fn kind(&self) -> Kind {
        match self {
            Node::Own(v) => json_kind(v),
            Node::Shared(_) => Kind::Table,
        }
    }

    /// The map this node is, made shareable (an owned map becomes a shared
    /// one in place, its entries still owned by it); `None` for non-maps.
    fn promote(&mut self) -> Option<&MapRef> {
        if let Node::Own(Json::Object(m)) = self {
            let table = table_from_owned(std::mem::take(m));
            *self = Node::Shared(Rc::new(RefCell::new(table)));
        }
        match self {
            Node::Shared(rc) => Some(rc),
            Node::Own(_) => None,
        }
    }

    /// A second holder of this value (Go copying a map entry): a map is
    /// shared (promoted in place first), anything else is immutable and
    /// copied.
    fn share(&mut self) -> Node {
        match self.promote() {
            Some(rc) => Node::Shared(rc.clone()),
            None => match self {
                Node::Own(v) => Node::Own(v.clone()),
                Node::Shared(rc) => Node::Shared(rc.clone()),
            },
        }
    }

    /// The value as JSON, for messages.
    fn to_json(&self) -> Json {
        match self {
            Node::Own(v) => v.clone(),
            Node::Shared(rc) => match rc.try_borrow() {
                Ok(t) => Json::Object(t.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
                // Only a map being merged into itself is borrowed here.
                Err(_) => Json::Object(Values::new()),
            },
        }
    }

    /// The value as JSON, moved out where this is its last holder.
    fn into_json(self) -> Json {
        match self {
            Node::Own(v) => v,
            Node::Shared(rc) => match Rc::try_unwrap(rc) {
                Ok(cell) => Json::Object(table_into_json(cell.into_inner())),
                Err(rc) => Node::Shared(rc).to_json(),
            },
        }
    }

    /// The entries of a map given up by its holder: moved when nothing else
    /// holds it, shared entry by entry when something does.
    fn into_entries(self) -> Vec<(String, Node)> {
        match self {
            Node::Own(Json::Object(m)) => m.into_iter().map(|(k, v)| (k, Node::Own(v))).collect(),
            Node::Own(_) => Vec::new(),
            Node::Shared(rc) => match Rc::try_unwrap(rc) {
                Ok(cell) => cell.into_inner().into_iter().collect(),
                Err(rc) => match rc.try_borrow_mut() {
                    Ok(mut t) => t.iter_mut().map(|(k, v)| (k.clone(), v.share())).collect(),
                    Err(_) => Vec::new(),
                },
            },
        }
    }
}

/// Go's deep copy of a values map (`copystructure.Copy`), top level as
/// nodes.
fn table_from(m: &Values) -> Table {
    m.iter()
        .map(|(k, v)| (k.clone(), Node::Own(v.clone())))
        .collect()
}

fn table_from_owned(m: Values) -> Table {
    m.into_iter().map(|(k, v)| (k, Node::Own(v))).collect()
}

fn table_into_json(t: Table) -> Values {
    t.into_iter().map(|(k, v)| (k, v.into_json())).collect()
}

/// A dotted key for messages, built only when one is printed.
struct KeyPath<'a> {
    parent: Option<&'a KeyPath<'a>>,
    key: &'a str,
}

impl<'a> KeyPath<'a> {
    fn root(prefix: &'a str) -> KeyPath<'a> {
        KeyPath {
            parent: None,
            key: prefix,
        }
    }

    fn child(&'a self, key: &'a str) -> KeyPath<'a> {
        KeyPath {
            parent: Some(self),
            key,
        }
    }

    /// Helm's `concatPrefix` applied from the root down.
    fn full(&self) -> String {
        match self.parent {
            None => self.key.to_string(),
            Some(p) => concat_prefix(&p.full(), self.key),
        }
    }
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

/// What `coalesceTablesFullKey` does with one key of `src`.
enum Step {
    /// `dst` nulls a default: the key goes (when coalescing).
    Delete,
    /// `dst` lacks the key: `src`'s value moves in.
    Insert,
    /// Both are tables: merge one level down.
    Recurse,
    /// `src` has a table where `dst` has something else.
    TableOverNonTable,
    /// `dst` has a table where `src` has a non-null non-table.
    NonTableOverTable,
    Keep,
}

fn step(dst: Option<Kind>, src: Kind, merge: bool) -> Step {
    match dst {
        None => Step::Insert,
        Some(Kind::Null) if !merge && src != Kind::Null => Step::Delete,
        Some(Kind::Table) if src == Kind::Table => Step::Recurse,
        Some(_) if src == Kind::Table => Step::TableOverNonTable,
        Some(Kind::Table) if src != Kind::Null => Step::NonTableOverTable,
        Some(_) => Step::Keep,
    }
}

fn warn_table_over_non_table(path: &KeyPath, src: &Json) {
    tracing::warn!(
        "warning: cannot overwrite table with non table for {} ({})",
        path.full(),
        go_v(src)
    );
}

fn warn_non_table_over_table(path: &KeyPath, src: &Json) {
    tracing::warn!(
        "warning: destination for {} is a table. Ignoring non-table value ({})",
        path.full(),
        go_v(src)
    );
}

/// Helm's `coalesceTablesFullKey` on two owned JSON maps: `src` merged
/// under `dst` (dst wins). Helm also copies `dst`'s nulls into `src`, which
/// is consumed here, so that is left out.
fn merge_json(dst: &mut Values, src: Values, path: &KeyPath, merge: bool) {
    for (key, val) in src {
        match step(dst.get(&key).map(json_kind), json_kind(&val), merge) {
            Step::Delete => {
                dst.remove(&key);
            }
            Step::Insert => {
                dst.insert(key, val);
            }
            Step::Recurse => {
                if let (Some(Json::Object(d)), Json::Object(s)) = (dst.get_mut(&key), val) {
                    merge_json(d, s, &path.child(&key), merge);
                }
            }
            Step::TableOverNonTable => warn_table_over_non_table(&path.child(&key), &val),
            Step::NonTableOverTable => warn_non_table_over_table(&path.child(&key), &val),
            Step::Keep => {}
        }
    }
}

/// A chart default as Helm copies it in: when coalescing (not merging),
/// without the `null`s of its maps (`cleanNilValues`, not inside lists).
fn copy_default(v: &Json, merge: bool) -> Json {
    // A whole-tree clone is cheaper than rebuilding maps entry by entry.
    let mut copy = v.clone();
    if !merge {
        clean_nil_values(&mut copy);
    }
    copy
}

/// Helm's `cleanNilValues`: drop `null` entries of maps, recursively (not
/// inside lists).
fn clean_nil_values(v: &mut Json) {
    if let Json::Object(m) = v {
        m.retain(|_, v| !v.is_null());
        m.values_mut().for_each(clean_nil_values);
    }
}

/// `coalesceTablesFullKey` of a chart's default table `src` (borrowed:
/// only what moves into `dst` is copied) under the owned map `dst`; when
/// coalescing, `src`'s nulls are cleaned first, as Helm does.
fn merge_default_json(dst: &mut Values, src: &Values, path: &KeyPath, merge: bool) {
    for (key, val) in src {
        if !merge && val.is_null() {
            continue;
        }
        match step(dst.get(key).map(json_kind), json_kind(val), merge) {
            Step::Delete => {
                dst.remove(key);
            }
            Step::Insert => {
                dst.insert(key.clone(), copy_default(val, merge));
            }
            Step::Recurse => {
                if let (Some(Json::Object(d)), Json::Object(s)) = (dst.get_mut(key), val) {
                    merge_default_json(d, s, &path.child(key), merge);
                }
            }
            // Helm prints the default as cleaned.
            Step::TableOverNonTable => {
                warn_table_over_non_table(&path.child(key), &copy_default(val, merge))
            }
            Step::NonTableOverTable => {
                warn_non_table_over_table(&path.child(key), &copy_default(val, merge))
            }
            Step::Keep => {}
        }
    }
}

/// As [`merge_default_json`], into a table node.
fn merge_default_node(dst: &mut Node, src: &Values, path: &KeyPath, merge: bool) {
    let rc = match dst {
        Node::Own(Json::Object(d)) => return merge_default_json(d, src, path, merge),
        Node::Own(_) => return,
        Node::Shared(rc) => rc.clone(),
    };
    // A map borrowed up the stack would be a map merged into itself.
    let Ok(mut dst) = rc.try_borrow_mut() else {
        return;
    };
    for (key, val) in src {
        if !merge && val.is_null() {
            continue;
        }
        match step(dst.get(key).map(Node::kind), json_kind(val), merge) {
            Step::Delete => {
                dst.remove(key);
            }
            Step::Insert => {
                dst.insert(key.clone(), Node::Own(copy_default(val, merge)));
            }
            Step::Recurse => {
                if let (Some(d), Json::Object(s)) = (dst.get_mut(key), val) {
                    merge_default_node(d, s, &path.child(key), merge);
                }
            }
            // Helm prints the default as cleaned.
            Step::TableOverNonTable => {
                warn_table_over_non_table(&path.child(key), &copy_default(val, merge))
            }
            Step::NonTableOverTable => {
                warn_non_table_over_table(&path.child(key), &copy_default(val, merge))
            }
            Step::Keep => {}
        }
    }
}

/// `coalesceTablesFullKey` of two table nodes, `src` given up.
fn merge_node(dst: &mut Node, src: Node, path: &KeyPath, merge: bool) {
    match (&mut *dst, src) {
        (Node::Own(Json::Object(d)), Node::Own(Json::Object(s))) => merge_json(d, s, path, merge),
        (Node::Shared(a), Node::Shared(b)) if Rc::ptr_eq(a, &b) => {
            // Merging a map with itself changes nothing.
        }
        (_, src) => {
            let Some(rc) = dst.promote().cloned() else {
                return;
            };
            let Ok(mut dst) = rc.try_borrow_mut() else {
                return;
            };
            for (key, val) in src.into_entries() {
                match step(dst.get(&key).map(Node::kind), val.kind(), merge) {
                    Step::Delete => {
                        dst.remove(&key);
                    }
                    Step::Insert => {
                        dst.insert(key, val);
                    }
                    Step::Recurse => {
                        if let Some(d) = dst.get_mut(&key) {
                            merge_node(d, val, &path.child(&key), merge);
                        }
                    }
                    Step::TableOverNonTable => {
                        warn_table_over_non_table(&path.child(&key), &val.to_json())
                    }
                    Step::NonTableOverTable => {
                        warn_non_table_over_table(&path.child(&key), &val.to_json())
                    }
                    Step::Keep => {}
                }
            }
        }
    }
}

fn coalesce(
    chart: &Chart,
    dest: &mut Table,
    prefix: &str,
    merge: bool,
) -> Result<(), CoalesceError> {
    coalesce_chart_values(chart, dest, prefix, merge);
    coalesce_deps(chart, dest, prefix, merge)
}

/// Helm's `coalesceDeps`: each subchart's values (with the globals copied
/// down) coalesced with its own defaults.
fn coalesce_deps(
    chart: &Chart,
    dest: &mut Table,
    prefix: &str,
    merge: bool,
) -> Result<(), CoalesceError> {
    let sub_prefix = concat_prefix(prefix, chart.name());
    for sub in &chart.dependencies {
        let name = sub.name();
        let sub_values = match dest.get_mut(name) {
            None => {
                let m: MapRef = Rc::default();
                dest.insert(name.to_string(), Node::Shared(m.clone()));
                m
            }
            Some(node) => match node.promote() {
                Some(m) => m.clone(),
                None => {
                    return Err(CoalesceError::TypeMismatch {
                        name: name.to_string(),
                        shown: go_bad_t(&node.to_json()),
                    });
                }
            },
        };
        // Only a subchart named like a map on the stack (a loop) is borrowed.
        let Ok(mut sub_values) = sub_values.try_borrow_mut() else {
            continue;
        };
        coalesce_globals(&mut sub_values, dest, &sub_prefix);
        coalesce(sub, &mut sub_values, &sub_prefix, merge)?;
    }
    Ok(())
}

/// Helm's `coalesceGlobals`: `src`'s globals merged into `dest`'s, the
/// parent's (`src`) values winning; each global table copied one level
/// deep, as Helm's `copyMap` does (the tables under it shared).
fn coalesce_globals(dest: &mut Table, src: &mut Table, prefix: &str) {
    if !matches!(
        dest.get(GLOBAL_KEY).map(Node::kind),
        None | Some(Kind::Table)
    ) {
        tracing::warn!(
            "warning: skipping globals because destination {GLOBAL_KEY} is not a table."
        );
        return;
    }
    // The parent's globals, table entries copied one level deep.
    let mut globals: Vec<(String, Node)> = Vec::new();
    match src.get_mut(GLOBAL_KEY) {
        None => {}
        Some(node) => {
            let Some(sg) = node.promote().cloned() else {
                tracing::warn!(
                    "warning: skipping globals because source {GLOBAL_KEY} is not a table."
                );
                return;
            };
            if let Some(Node::Shared(dg)) = dest.get(GLOBAL_KEY) {
                if Rc::ptr_eq(dg, &sg) {
                    return;
                }
            }
            let Ok(mut sg) = sg.try_borrow_mut() else {
                return;
            };
            for (key, val) in sg.iter_mut() {
                let copy = match val.promote() {
                    Some(table) => match table.try_borrow_mut() {
                        Ok(mut t) => {
                            let vv: Table =
                                t.iter_mut().map(|(k, v)| (k.clone(), v.share())).collect();
                            Node::Shared(Rc::new(RefCell::new(vv)))
                        }
                        Err(_) => continue,
                    },
                    None => val.share(),
                };
                globals.push((key.clone(), copy));
            }
        }
    }
    let dg_node = dest
        .entry(GLOBAL_KEY.to_string())
        .or_insert_with(|| Node::Shared(Rc::default()));
    let Some(dg) = dg_node.promote().cloned() else {
        return;
    };
    let Ok(mut dg) = dg.try_borrow_mut() else {
        return;
    };
    for (key, mut val) in globals {
        let current = dg.get(&key).map(Node::kind);
        if val.kind() == Kind::Table {
            match current {
                None => {
                    dg.insert(key, val);
                }
                Some(Kind::Table) => {
                    // Helm reverses the order here to merge top-down: the
                    // parent's copy wins and takes the child's entries.
                    if let Some(old) = dg.remove(&key) {
                        let sub_prefix = concat_prefix(prefix, &key);
                        merge_node(&mut val, old, &KeyPath::root(&sub_prefix), true);
                    }
                    dg.insert(key, val);
                }
                Some(_) => {
                    tracing::warn!(
                        "Conflict: cannot merge map onto non-map for {key:?}. Skipping."
                    );
                }
            }
        } else if current == Some(Kind::Table) {
            tracing::warn!("key {key} is table. Skipping");
        } else {
            dg.insert(key, val);
        }
    }
}

/// Helm's `coalesceValues`: one chart's defaults under `v` (copied as they
/// are taken).
fn coalesce_chart_values(chart: &Chart, v: &mut Table, prefix: &str, merge: bool) {
    let sub_prefix = concat_prefix(prefix, chart.name());
    for (key, val) in &chart.values {
        match v.get(key).map(Node::kind) {
            Some(Kind::Null) if !merge => {
                v.remove(key);
            }
            Some(Kind::Table) => match val {
                Json::Object(src) => {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    let root = KeyPath::root(&sub_prefix);
                    if let Some(dest) = v.get_mut(key) {
                        merge_default_node(dest, src, &root.child(key), merge);
                    }
                }
                Json::Null => {}
                _ => tracing::warn!("warning: skipped value for {sub_prefix}.{key}: Not a table."),
            },
            Some(_) => {}
            None => {
                if !merge && val.is_null() {
                    continue;
                }
                v.insert(key.clone(), Node::Own(copy_default(val, merge)));
            }
        }
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
