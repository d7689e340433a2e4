//! Helm's dependency processing (`pkg/chart/v2/util/dependencies.go`,
//! v4.3.1 `ProcessDependencies`): which subcharts are enabled (`condition`,
//! `tags`), aliases (a renamed copy of the subchart), and `import-values`
//! (child values copied into the parent's defaults).
//!
//! Helm's own order and quirks are kept:
//! - a subchart matches a `Chart.yaml` dependency by name *and* version
//!   constraint; one that does not match stays as an undeclared subchart,
//!   yet a disabled dependency of the same name still removes it (by name);
//! - conditions are a comma list, the first path holding a bool wins; a
//!   subchart's conditions are looked up in its parent's coalesced values
//!   under the subchart's path, tags always at the top level;
//! - a chart that declares dependencies gets, as its defaults, its whole
//!   merged values tree (subchart values and globals included) with the
//!   imported values under it.

use serde_json::Value as Json;

use crate::coalesce::{self, CoalesceError};
use crate::{Chart, Dependency, Values};

/// Why dependencies could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependencyError {
    #[error(transparent)]
    Coalesce(#[from] CoalesceError),
}

/// Helm's `IsCompatibleRange`: whether `version` satisfies `constraint`
/// (false when either does not parse).
pub fn is_compatible_range(constraint: &str, version: &str) -> bool {
    let Ok(v) = berth_semver::Version::parse(version) else {
        return false;
    };
    let Ok(c) = berth_semver::Constraint::parse(constraint) else {
        return false;
    };
    c.matches(&v)
}

/// Helm's `action.CheckDependencies`: the names of `Chart.yaml`
/// dependencies with no loaded subchart of that name.
pub fn missing_dependencies(chart: &Chart) -> Vec<String> {
    chart
        .metadata
        .dependencies
        .iter()
        .filter(|req| !chart.dependencies.iter().any(|d| d.name() == req.name))
        .map(|req| req.name.clone())
        .collect()
}

/// Helm's `ProcessDependencies`: remove disabled subcharts (recursively),
/// apply aliases, then import values (children first). `user` are the user
/// values (`-f`/`--set`), not yet coalesced.
pub fn process_dependencies(chart: &mut Chart, user: &Values) -> Result<(), DependencyError> {
    process_enabled(chart, user, "")?;
    process_import_values(chart)?;
    Ok(())
}

/// Helm's `processDependencyEnabled`.
fn process_enabled(chart: &mut Chart, values: &Values, path: &str) -> Result<(), DependencyError> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    // Charts are moved, not copied, unless several dependencies use the
    // same subchart (aliases), and then only for all but its last use.
    let mut loaded: Vec<Option<Chart>> = std::mem::take(&mut chart.dependencies)
        .into_iter()
        .map(Some)
        .collect();
    let matches = |c: &Chart, req: &Dependency| {
        c.name() == req.name && is_compatible_range(&req.version, &c.metadata.version)
    };
    let mut subcharts: Vec<Chart> = Vec::with_capacity(loaded.len());
    // Subcharts no dependency declares (by name and version) stay as they are.
    for slot in &mut loaded {
        let declared = slot.as_ref().is_some_and(|c| {
            chart
                .metadata
                .dependencies
                .iter()
                .any(|req| matches(c, req))
        });
        if !declared {
            subcharts.extend(slot.take());
        }
    }
    // Helm's getAliasDependency: the first loaded subchart matching each
    // dependency, renamed to its alias.
    let chosen: Vec<Option<usize>> = chart
        .metadata
        .dependencies
        .iter()
        .map(|req| {
            loaded
                .iter()
                .position(|slot| slot.as_ref().is_some_and(|c| matches(c, req)))
        })
        .collect();
    for (n, req) in chart.metadata.dependencies.iter_mut().enumerate() {
        if let Some(i) = chosen[n] {
            let last_use = !chosen[n + 1..].contains(&Some(i));
            let found = if last_use {
                loaded[i].take()
            } else {
                loaded[i].clone()
            };
            if let Some(mut found) = found {
                if !req.alias.is_empty() {
                    found.metadata.name = req.alias.clone();
                }
                subcharts.push(found);
            }
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    chart.dependencies = subcharts;

    for req in &mut chart.metadata.dependencies {
        req.enabled = true;
    }
    let cvals = coalesce::coalesce_values(chart, values)?;
    process_tags(&mut chart.metadata.dependencies, &cvals);
    process_conditions(&mut chart.metadata.dependencies, &cvals, path);

    let disabled: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    if !disabled.is_empty() {
        for name in &disabled {
            tracing::debug!(chart = chart.name(), dependency = %name, "dependency disabled");
        }
        chart
            .dependencies
            .retain(|c| !disabled.iter().any(|n| n == c.name()));
        chart
            .metadata
            .dependencies
            .retain(|r| !disabled.contains(&r.name));
    }
    for sub in &mut chart.dependencies {
        let sub_path = format!("{path}{}.", sub.name());
        process_enabled(sub, &cvals, &sub_path)?;
    }
    Ok(())
}

/// Helm's `processDependencyTags`: with a `tags` table in the values, a
/// dependency is disabled when some tag of it is false and none is true.
fn process_tags(reqs: &mut [Dependency], cvals: &Values) {
    let Some(Json::Object(tags)) = cvals.get("tags") else {
        return;
    };
    for r in reqs {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            match tags.get(k) {
                Some(Json::Bool(true)) => has_true = true,
                Some(Json::Bool(false)) => has_false = true,
                Some(_) => {
                    tracing::warn!(tag = %k, chart = %r.name, "returned non-bool value")
                }
                None => {}
            }
        }
        r.enabled = has_true || !has_false;
    }
}

/// Helm's `processDependencyConditions`: the first condition path (of the
/// comma list) that holds a bool decides.
fn process_conditions(reqs: &mut [Dependency], cvals: &Values, path: &str) {
    for r in reqs {
        let condition = r.condition.trim().to_string();
        for c in condition.split(',') {
            if c.is_empty() {
                continue;
            }
            match path_value(cvals, &format!("{path}{c}")) {
                Some(Json::Bool(b)) => {
                    r.enabled = *b;
                    break;
                }
                Some(_) => {
                    tracing::warn!(path = %c, chart = %r.name, "returned non-bool value")
                }
                None => {}
            }
        }
    }
}

/// Helm's `Values.Table`: the map at a dotted path.
pub fn table<'a>(values: &'a Values, path: &str) -> Option<&'a Values> {
    let mut table = values;
    for part in path.split('.') {
        match table.get(part) {
            Some(Json::Object(m)) => table = m,
            _ => return None,
        }
    }
    Some(table)
}

/// Helm's `Values.PathValue`: the non-map value at a dotted path.
pub fn path_value<'a>(values: &'a Values, path: &str) -> Option<&'a Json> {
    if path.is_empty() {
        return None;
    }
    let (parent, key) = match path.rsplit_once('.') {
        Some((parent, key)) => (table(values, parent)?, key),
        None => (values, path),
    };
    match parent.get(key) {
        Some(Json::Object(_)) | None => None,
        Some(v) => Some(v),
    }
}

/// Helm's `processDependencyImportValues` (merge mode): children first,
/// then this chart.
fn process_import_values(chart: &mut Chart) -> Result<(), DependencyError> {
    for sub in &mut chart.dependencies {
        process_import_values(sub)?;
    }
    import_values(chart)
}

/// Helm's `processImportValues` with `merge` true.
fn import_values(chart: &mut Chart) -> Result<(), DependencyError> {
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = coalesce::merge_values(chart, &Values::new())?;
    let mut imported = Values::new();
    for r in &mut chart.metadata.dependencies {
        let mut normalized = Vec::with_capacity(r.import_values.len());
        for iv in &r.import_values {
            match iv {
                Json::Object(m) => {
                    let child = go_print(m.get("child"));
                    let parent = go_print(m.get("parent"));
                    let mut entry = serde_json::Map::new();
                    entry.insert("child".into(), Json::String(child.clone()));
                    entry.insert("parent".into(), Json::String(parent.clone()));
                    normalized.push(Json::Object(entry));
                    let Some(vv) = table(&cvals, &format!("{}.{child}", r.name)) else {
                        tracing::warn!(chart = %r.name, "ImportValues missing table from chart");
                        continue;
                    };
                    coalesce::merge_tables(&mut imported, path_to_map(&parent, vv.clone()));
                }
                Json::String(s) => {
                    let child = format!("exports.{s}");
                    let mut entry = serde_json::Map::new();
                    entry.insert("child".into(), Json::String(child.clone()));
                    entry.insert("parent".into(), Json::String(".".into()));
                    normalized.push(Json::Object(entry));
                    let Some(vm) = table(&cvals, &format!("{}.{child}", r.name)) else {
                        tracing::warn!(chart = %r.name, "ImportValues missing table");
                        continue;
                    };
                    coalesce::merge_tables(&mut imported, vm.clone());
                }
                _ => {}
            }
        }
        r.import_values = normalized;
    }
    // The parent's own values win over what it imports.
    let mut values = cvals;
    coalesce::merge_tables(&mut values, imported);
    chart.values = values;
    Ok(())
}

/// Go's `fmt.Sprintf("%v", x)` for an `import-values` field.
fn go_print(v: Option<&Json>) -> String {
    match v {
        None => "<nil>".into(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => coalesce::go_v(other),
    }
}

/// Helm's `pathToMap`: `data` nested under a dotted path (`.` is the root).
fn path_to_map(path: &str, data: Values) -> Values {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let mut m = Values::new();
        m.insert(part.to_string(), Json::Object(cur));
        cur = m;
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::parse;
    use crate::Metadata;

    fn chart(
        name: &str,
        version: &str,
        values: &str,
        reqs: Vec<Dependency>,
        deps: Vec<Chart>,
    ) -> Chart {
        Chart {
            metadata: Metadata {
                name: name.into(),
                version: version.into(),
                dependencies: reqs,
                ..Metadata::default()
            },
            values: parse(values).unwrap(),
            dependencies: deps,
            ..Chart::default()
        }
    }

    fn dep(name: &str, version: &str) -> Dependency {
        Dependency {
            name: name.into(),
            version: version.into(),
            ..Dependency::default()
        }
    }

    fn names(c: &Chart) -> Vec<&str> {
        c.dependencies.iter().map(|d| d.name()).collect()
    }

    #[test]
    fn conditions_tags_and_aliases() {
        let sub = chart("sub", "1.0.0", "enabled: true\n", vec![], vec![]);
        let other = chart("other", "2.0.0", "", vec![], vec![]);
        let mut a = dep("sub", "^1");
        a.alias = "first".into();
        a.condition = "first.enabled".into();
        let mut b = dep("sub", "1.x");
        b.alias = "second".into();
        b.condition = "nope.enabled,second.flag".into();
        let mut o = dep("other", "2.0.0");
        o.tags = vec!["t1".into(), "t2".into()];
        let mut top = chart(
            "top",
            "1.0.0",
            "second: {flag: false}\ntags: {t1: false}\n",
            vec![a, b, o],
            vec![sub, other],
        );
        process_dependencies(&mut top, &Values::new()).unwrap();
        assert_eq!(names(&top), vec!["first"]);
        let reqs: Vec<&str> = top
            .metadata
            .dependencies
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(reqs, vec!["first"]);
        // A true tag wins over a false one; user values decide conditions.
        let sub = chart("sub", "1.0.0", "", vec![], vec![]);
        let other = chart("other", "2.0.0", "", vec![], vec![]);
        let mut o = dep("other", "2.0.0");
        o.tags = vec!["t1".into(), "t2".into()];
        let mut s = dep("sub", "1.0.0");
        s.condition = "sub.enabled".into();
        let mut top = chart(
            "top",
            "1.0.0",
            "tags: {t1: false}\n",
            vec![s, o],
            vec![sub, other],
        );
        let user = parse("tags: {t2: true}\nsub: {enabled: false}\n").unwrap();
        process_dependencies(&mut top, &user).unwrap();
        assert_eq!(names(&top), vec!["other"]);
    }

    #[test]
    fn an_unmatched_version_stays_but_a_false_condition_removes_it_by_name() {
        let sub = chart("sdk", "0.1.0", "", vec![], vec![]);
        let mut d = dep("sdk", "v0.6.0");
        d.condition = "sdk.enabled".into();
        let mut top = chart(
            "top",
            "1.0.0",
            "sdk: {enabled: true}\n",
            vec![d.clone()],
            vec![sub.clone()],
        );
        process_dependencies(&mut top, &Values::new()).unwrap();
        assert_eq!(names(&top), vec!["sdk"]);
        let mut top = chart(
            "top",
            "1.0.0",
            "sdk: {enabled: false}\n",
            vec![d],
            vec![sub],
        );
        process_dependencies(&mut top, &Values::new()).unwrap();
        assert!(top.dependencies.is_empty());
    }

    #[test]
    fn import_values_both_forms() {
        let sub = chart(
            "sub",
            "1.0.0",
            "exports: {data: {a: 1, b: 2}}\ninner: {x: {z: 1}}\n",
            vec![],
            vec![],
        );
        let mut d = dep("sub", "1.0.0");
        d.import_values = vec![
            Json::String("data".into()),
            serde_json::json!({"child": "inner.x", "parent": "p.q"}),
        ];
        let mut top = chart("top", "1.0.0", "b: 9\n", vec![d], vec![sub]);
        process_dependencies(&mut top, &Values::new()).unwrap();
        assert_eq!(top.values["a"], Json::from(1.0));
        assert_eq!(top.values["b"], Json::from(9.0));
        assert_eq!(top.values["p"]["q"]["z"], Json::from(1.0));
        assert_eq!(
            top.metadata.dependencies[0].import_values,
            vec![
                serde_json::json!({"child": "exports.data", "parent": "."}),
                serde_json::json!({"child": "inner.x", "parent": "p.q"}),
            ]
        );
    }
}
