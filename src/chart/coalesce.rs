//! Helm's values coalescing (`pkg/chart/common/util/coalesce.go`, v4.3.1):
//! user values over chart defaults, maps merged key by key, lists and
//! scalars replaced, `null` deleting a default (when coalescing; merging
//! keeps it), globals copied from a chart into each subchart (the parent's
//! winning), and each subchart's defaults coalesced under
//! `values[<subchart name>]`.
//!
//! Type clashes keep the higher-priority value and log Helm's warning
//! (`tracing::warn!`, where Helm uses `log.Printf`).

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
    let mut dest = user.clone();
    coalesce(chart, &mut dest, "", false)?;
    Ok(dest)
}

/// Helm's `MergeValues`: as [`coalesce_values`], but `null`s are kept (for
/// steps whose result is coalesced again later).
pub fn merge_values(chart: &Chart, user: &Values) -> Result<Values, CoalesceError> {
    let mut dest = user.clone();
    coalesce(chart, &mut dest, "", true)?;
    Ok(dest)
}

/// Helm's `CoalesceTables`: `src` merged under `dst` (dst wins), `null` in
/// `dst` deleting what `src` has.
pub fn coalesce_tables(dst: &mut Values, src: Values) {
    coalesce_tables_full_key(dst, src, "", false);
}

/// Helm's `MergeTables`: as [`coalesce_tables`], keeping `null`s.
pub fn merge_tables(dst: &mut Values, src: Values) {
    coalesce_tables_full_key(dst, src, "", true);
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

fn coalesce(
    chart: &Chart,
    dest: &mut Values,
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
    dest: &mut Values,
    prefix: &str,
    merge: bool,
) -> Result<(), CoalesceError> {
    let sub_prefix = concat_prefix(prefix, chart.name());
    for sub in &chart.dependencies {
        let name = sub.name();
        let mut sub_values = match dest.remove(name) {
            None => Values::new(),
            Some(Json::Object(m)) => m,
            Some(other) => {
                let shown = go_bad_t(&other);
                dest.insert(name.to_string(), other);
                return Err(CoalesceError::TypeMismatch {
                    name: name.to_string(),
                    shown,
                });
            }
        };
        coalesce_globals(&mut sub_values, dest, &sub_prefix);
        let res = coalesce(sub, &mut sub_values, &sub_prefix, merge);
        dest.insert(name.to_string(), Json::Object(sub_values));
        res?;
    }
    Ok(())
}

/// Helm's `coalesceGlobals`: `src`'s globals merged into `dest`'s, the
/// parent's (`src`) values winning.
fn coalesce_globals(dest: &mut Values, src: &Values, prefix: &str) {
    let mut dg = match dest.get(GLOBAL_KEY) {
        None => Values::new(),
        Some(Json::Object(m)) => m.clone(),
        Some(_) => {
            tracing::warn!(
                "warning: skipping globals because destination {GLOBAL_KEY} is not a table."
            );
            return;
        }
    };
    let sg = match src.get(GLOBAL_KEY) {
        None => Values::new(),
        Some(Json::Object(m)) => m.clone(),
        Some(_) => {
            tracing::warn!("warning: skipping globals because source {GLOBAL_KEY} is not a table.");
            return;
        }
    };
    for (key, val) in sg {
        match val {
            Json::Object(vv) => match dg.remove(&key) {
                None => {
                    dg.insert(key, Json::Object(vv));
                }
                Some(Json::Object(dest_map)) => {
                    let mut vv = vv;
                    let sub_prefix = concat_prefix(prefix, &key);
                    coalesce_tables_full_key(&mut vv, dest_map, &sub_prefix, true);
                    dg.insert(key, Json::Object(vv));
                }
                Some(other) => {
                    tracing::warn!(
                        "Conflict: cannot merge map onto non-map for {key:?}. Skipping."
                    );
                    dg.insert(key, other);
                }
            },
            val => {
                if matches!(dg.get(&key), Some(Json::Object(_))) {
                    tracing::warn!("key {key} is table. Skipping");
                } else {
                    dg.insert(key, val);
                }
            }
        }
    }
    dest.insert(GLOBAL_KEY.to_string(), Json::Object(dg));
}

/// Helm's `coalesceValues`: one chart's defaults under `v`.
fn coalesce_chart_values(chart: &Chart, v: &mut Values, prefix: &str, merge: bool) {
    let sub_prefix = concat_prefix(prefix, chart.name());
    for (key, val) in &chart.values {
        match v.get_mut(key) {
            Some(Json::Null) if !merge => {
                v.remove(key);
            }
            Some(Json::Object(dest)) => match val {
                Json::Object(src) => {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    let mut src = src.clone();
                    if !merge {
                        clean_nil_values(&mut src);
                    }
                    let full = concat_prefix(&sub_prefix, key);
                    coalesce_tables_full_key(dest, src, &full, merge);
                }
                Json::Null => {}
                _ => tracing::warn!("warning: skipped value for {sub_prefix}.{key}: Not a table."),
            },
            Some(_) => {}
            None => {
                if !merge {
                    match val {
                        Json::Null => continue,
                        Json::Object(m) => {
                            let mut m = m.clone();
                            clean_nil_values(&mut m);
                            v.insert(key.clone(), Json::Object(m));
                            continue;
                        }
                        _ => {}
                    }
                }
                v.insert(key.clone(), val.clone());
            }
        }
    }
}

/// Helm's `coalesceTablesFullKey`: `src` merged under `dst` (dst wins).
fn coalesce_tables_full_key(dst: &mut Values, mut src: Values, prefix: &str, merge: bool) {
    let src_non_nil: std::collections::HashSet<String> = src
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    for (key, val) in dst.iter() {
        if val.is_null() {
            src.insert(key.clone(), Json::Null);
        }
    }
    for (key, val) in src {
        let full = || concat_prefix(prefix, &key);
        match dst.get_mut(&key) {
            Some(Json::Null) if !merge && src_non_nil.contains(&key) => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, val);
            }
            Some(dv) => match (dv, val) {
                (Json::Object(dv), Json::Object(sv)) => {
                    coalesce_tables_full_key(dv, sv, &full(), merge);
                }
                (_, Json::Object(sv)) => {
                    tracing::warn!(
                        "warning: cannot overwrite table with non table for {} ({})",
                        full(),
                        go_v(&Json::Object(sv))
                    );
                }
                (Json::Object(_), val) if !val.is_null() => {
                    tracing::warn!(
                        "warning: destination for {} is a table. Ignoring non-table value ({})",
                        full(),
                        go_v(&val)
                    );
                }
                _ => {}
            },
        }
    }
}

/// Helm's `cleanNilValues`: drop `null` entries of maps, recursively (not
/// inside lists).
pub(crate) fn clean_nil_values(m: &mut Values) {
    m.retain(|_, v| !v.is_null());
    for v in m.values_mut() {
        if let Json::Object(sub) = v {
            clean_nil_values(sub);
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
