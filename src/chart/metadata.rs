//! `Chart.yaml`: Helm's `chart.Metadata`, `Dependency`, `Maintainer` and
//! `Lock`, with Helm's field names.

use serde::{Deserialize, Serialize};

/// `chart.Maintainer`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintainer {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub url: String,
}

/// `chart.Dependency`: an entry of `dependencies:` (or `requirements.yaml`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dependency {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub enabled: bool,
    /// `import-values`: strings (`exports.<name>`) or `{child, parent}` maps.
    #[serde(default, rename = "import-values")]
    pub import_values: Vec<serde_json::Value>,
    #[serde(default)]
    pub alias: String,
}

/// `chart.Metadata`: the fields of `Chart.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub home: String,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub maintainers: Vec<Maintainer>,
    #[serde(default)]
    pub icon: String,
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub condition: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub app_version: String,
    #[serde(default)]
    pub deprecated: bool,
    /// `None` when `Chart.yaml` has no `annotations` (Helm's nil map, which
    /// `toJson .Chart` shows as `null`).
    #[serde(default)]
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub kube_version: String,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
    #[serde(default, rename = "type")]
    pub chart_type: String,
}

/// `chart.Lock`: `Chart.lock` / `requirements.lock`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    #[serde(default)]
    pub generated: String,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
}

// ---------------------------------------------------------------------------
// Decoding: Chart.yaml, requirements.yaml and the lock files are read the
// way Helm reads them with sigs.k8s.io/yaml — YAML (1.1 scalars) turned into
// JSON, then decoded by encoding/json into Helm's structs. That means: keys
// match field names exactly or else case-insensitively, unknown keys are
// ignored, a number or bool where a string is expected becomes its string
// form, `null` leaves a string or bool unchanged and empties a list or map,
// and a type mismatch is an error in encoding/json's words.
// ---------------------------------------------------------------------------

use berth_template::funcs::yaml::parse::yaml_to_value;
use berth_template::Value;

/// What decoding noticed that validation reports later, in Helm's order:
/// the index of the first `null` entry of `maintainers` / `dependencies`
/// (Helm keeps a nil pointer there and `Validate` refuses it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeNotes {
    pub null_maintainer: Option<usize>,
    pub null_dependency: Option<usize>,
}

const JSON_PREFIX: &str = "error unmarshaling JSON: while decoding JSON: json: ";

/// The YAML text decoded into a top-level map (Helm: `yaml.Unmarshal`,
/// YAML → JSON, of the first document only — unlike values files, these
/// are not split at `---` lines); `None` for an empty or `null` document.
fn yaml_to_map(data: &[u8], go_type: &str) -> Result<Option<berth_template::Map>, String> {
    let text = std::str::from_utf8(data).map_err(|_| {
        "error converting YAML to JSON: yaml: invalid leading UTF-8 octet".to_string()
    })?;
    match yaml_to_value(text).map_err(|e| e.to_string())? {
        Value::Map(m) => Ok(Some(m)),
        Value::Nil => Ok(None),
        other => Err(format!(
            "{JSON_PREFIX}cannot unmarshal {} into Go value of type {go_type}",
            json_kind(&other)
        )),
    }
}

/// The JSON kind of a decoded YAML value, as encoding/json names it.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Map(_) => "object",
        Value::List(_) => "array",
        Value::String(_) | Value::Bytes(_) => "string",
        Value::Bool(_) => "bool",
        Value::Nil => "null",
        _ => "number",
    }
}

fn type_error(v: &Value, strukt: &str, path: &str, go_type: &str) -> String {
    format!(
        "{JSON_PREFIX}cannot unmarshal {} into Go struct field {strukt}.{path} of type {go_type}",
        json_kind(v)
    )
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)` (what sigs.k8s.io/yaml uses
/// for a YAML float decoded into a string field); a whole number prints as
/// the integer YAML would have given (`strconv.FormatInt`).
fn yaml_number_string(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        return format!("{}", f as i64);
    }
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // Shortest float32 digits, then Go's %g layout.
    let e = format!("{:e}", f as f32);
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if !(-4..21).contains(&exp) {
        let (head, tail) = digits.split_at(1);
        let frac = if tail.is_empty() {
            String::new()
        } else {
            format!(".{tail}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{head}{frac}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        format!("{sign}0.{zeros}{digits}")
    } else {
        let point = exp as usize + 1;
        if digits.len() <= point {
            format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
        } else {
            format!("{sign}{}.{}", &digits[..point], &digits[point..])
        }
    }
}

/// A scalar decoded into a Go `string` field: `None` for null (no change).
fn go_string(v: &Value, strukt: &str, path: &str) -> Result<Option<String>, String> {
    Ok(match v {
        Value::Nil => None,
        Value::String(s) => Some(s.to_string()),
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Float(f) => Some(yaml_number_string(*f)),
        Value::Int(i) | Value::Int64(i) => Some(i.to_string()),
        Value::Uint64(u) => Some(u.to_string()),
        _ => return Err(type_error(v, strukt, path, "string")),
    })
}

fn set_string(target: &mut String, v: &Value, strukt: &str, path: &str) -> Result<(), String> {
    if let Some(s) = go_string(v, strukt, path)? {
        *target = s;
    }
    Ok(())
}

/// A `[]string` field: null empties it, elements as [`go_string`] (a null
/// element is "").
fn set_string_list(
    target: &mut Vec<String>,
    v: &Value,
    strukt: &str,
    path: &str,
) -> Result<(), String> {
    match v {
        Value::Nil => target.clear(),
        Value::List(l) => {
            let mut out = Vec::with_capacity(l.items.len());
            for item in l.items.iter() {
                out.push(go_string(item, strukt, path)?.unwrap_or_default());
            }
            *target = out;
        }
        _ => return Err(type_error(v, strukt, path, "[]string")),
    }
    Ok(())
}

fn set_bool(target: &mut bool, v: &Value, strukt: &str, path: &str) -> Result<(), String> {
    match v {
        Value::Nil => {}
        Value::Bool(b) => *target = *b,
        _ => return Err(type_error(v, strukt, path, "bool")),
    }
    Ok(())
}

/// encoding/json's field lookup: an exact name first, else a
/// case-insensitive one.
fn field_for<'a>(key: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .find(|n| **n == key)
        .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(key)))
        .copied()
}

const METADATA_FIELDS: &[&str] = &[
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
];
const MAINTAINER_FIELDS: &[&str] = &["name", "email", "url"];
const DEPENDENCY_FIELDS: &[&str] = &[
    "name",
    "version",
    "repository",
    "condition",
    "tags",
    "enabled",
    "import-values",
    "alias",
];
const LOCK_FIELDS: &[&str] = &["generated", "digest", "dependencies"];

impl Metadata {
    /// Decode `Chart.yaml` (or, as Helm does, `requirements.yaml`) onto
    /// this metadata: the keys present overwrite, the others are kept.
    /// The error is encoding/json's or the YAML parser's message, without
    /// the `cannot load <file>:` prefix.
    pub fn decode_onto(&mut self, data: &[u8]) -> Result<DecodeNotes, String> {
        let mut notes = DecodeNotes::default();
        let Some(map) = yaml_to_map(data, "v2.Metadata")? else {
            return Ok(notes);
        };
        let entries = map.borrow();
        for (key, v) in entries.iter() {
            let Some(field) = field_for(key, METADATA_FIELDS) else {
                continue;
            };
            let s = "Metadata";
            match field {
                "name" => set_string(&mut self.name, v, s, field)?,
                "home" => set_string(&mut self.home, v, s, field)?,
                "sources" => set_string_list(&mut self.sources, v, s, field)?,
                "version" => set_string(&mut self.version, v, s, field)?,
                "description" => set_string(&mut self.description, v, s, field)?,
                "keywords" => set_string_list(&mut self.keywords, v, s, field)?,
                "icon" => set_string(&mut self.icon, v, s, field)?,
                "apiVersion" => set_string(&mut self.api_version, v, s, field)?,
                "condition" => set_string(&mut self.condition, v, s, field)?,
                "tags" => set_string(&mut self.tags, v, s, field)?,
                "appVersion" => set_string(&mut self.app_version, v, s, field)?,
                "deprecated" => set_bool(&mut self.deprecated, v, s, field)?,
                "kubeVersion" => set_string(&mut self.kube_version, v, s, field)?,
                "type" => set_string(&mut self.chart_type, v, s, field)?,
                "annotations" => match v {
                    Value::Nil => self.annotations = None,
                    Value::Map(m) => {
                        // encoding/json decodes into an existing map.
                        let mut out = self.annotations.take().unwrap_or_default();
                        for (k, item) in m.borrow().iter() {
                            let text = go_string(item, s, field)?.unwrap_or_default();
                            out.insert(k.clone(), text);
                        }
                        self.annotations = Some(out);
                    }
                    _ => return Err(type_error(v, s, field, "map[string]string")),
                },
                "maintainers" => match v {
                    Value::Nil => self.maintainers.clear(),
                    Value::List(l) => {
                        let mut out = Vec::with_capacity(l.items.len());
                        notes.null_maintainer = None;
                        for (i, item) in l.items.iter().enumerate() {
                            match item {
                                Value::Nil => {
                                    notes.null_maintainer.get_or_insert(i);
                                    out.push(Maintainer::default());
                                }
                                Value::Map(m) => out.push(decode_maintainer(m)?),
                                other => return Err(type_error(other, s, field, "v2.Maintainer")),
                            }
                        }
                        self.maintainers = out;
                    }
                    _ => return Err(type_error(v, s, field, "[]*v2.Maintainer")),
                },
                "dependencies" => {
                    let (deps, null_at) = decode_dependencies(v, s)?;
                    self.dependencies = deps;
                    notes.null_dependency = null_at;
                }
                _ => {}
            }
        }
        Ok(notes)
    }
}

fn decode_maintainer(m: &berth_template::Map) -> Result<Maintainer, String> {
    let mut out = Maintainer::default();
    for (key, v) in m.borrow().iter() {
        let Some(field) = field_for(key, MAINTAINER_FIELDS) else {
            continue;
        };
        let path = format!("maintainers.{field}");
        let s = "Maintainer";
        match field {
            "name" => set_string(&mut out.name, v, s, &path)?,
            "email" => set_string(&mut out.email, v, s, &path)?,
            _ => set_string(&mut out.url, v, s, &path)?,
        }
    }
    Ok(out)
}

/// A `[]*Dependency` field: the list and the index of its first null.
fn decode_dependencies(
    v: &Value,
    strukt: &str,
) -> Result<(Vec<Dependency>, Option<usize>), String> {
    let l = match v {
        Value::Nil => return Ok((Vec::new(), None)),
        Value::List(l) => l,
        _ => return Err(type_error(v, strukt, "dependencies", "[]*v2.Dependency")),
    };
    let mut out = Vec::with_capacity(l.items.len());
    let mut null_at = None;
    for (i, item) in l.items.iter().enumerate() {
        match item {
            Value::Nil => {
                null_at.get_or_insert(i);
                out.push(Dependency::default());
            }
            Value::Map(m) => out.push(decode_dependency(m)?),
            other => return Err(type_error(other, strukt, "dependencies", "v2.Dependency")),
        }
    }
    Ok((out, null_at))
}

fn decode_dependency(m: &berth_template::Map) -> Result<Dependency, String> {
    let mut out = Dependency::default();
    for (key, v) in m.borrow().iter() {
        let Some(field) = field_for(key, DEPENDENCY_FIELDS) else {
            continue;
        };
        let path = format!("dependencies.{field}");
        let s = "Dependency";
        match field {
            "name" => set_string(&mut out.name, v, s, &path)?,
            "version" => set_string(&mut out.version, v, s, &path)?,
            "repository" => set_string(&mut out.repository, v, s, &path)?,
            "condition" => set_string(&mut out.condition, v, s, &path)?,
            "tags" => set_string_list(&mut out.tags, v, s, &path)?,
            "enabled" => set_bool(&mut out.enabled, v, s, &path)?,
            "alias" => set_string(&mut out.alias, v, s, &path)?,
            _ => match v {
                Value::Nil => out.import_values.clear(),
                Value::List(l) => {
                    let mut items = Vec::with_capacity(l.items.len());
                    for item in l.items.iter() {
                        items.push(crate::values::from_template(item).map_err(|e| e.to_string())?);
                    }
                    out.import_values = items;
                }
                _ => return Err(type_error(v, s, &path, "[]interface {}")),
            },
        }
    }
    Ok(out)
}

/// Helm's chart-version sniffing (`pkg/chart/loader`'s `chartBase`): only
/// `apiVersion` of `Chart.yaml` is decoded; an absent or null one is "".
pub fn decode_api_version(data: &[u8]) -> Result<String, String> {
    let mut version = String::new();
    if let Some(map) = yaml_to_map(data, "loader.chartBase")? {
        for (key, v) in map.borrow().iter() {
            if field_for(key, &["apiVersion"]).is_some() {
                set_string(&mut version, v, "chartBase", "apiVersion")?;
            }
        }
    }
    Ok(version)
}

impl Lock {
    /// Decode `Chart.lock` / `requirements.lock` (Helm's `chart.Lock`).
    /// `generated` is kept as text.
    pub fn decode(data: &[u8]) -> Result<Lock, String> {
        let mut lock = Lock::default();
        let Some(map) = yaml_to_map(data, "v2.Lock")? else {
            return Ok(lock);
        };
        for (key, v) in map.borrow().iter() {
            let Some(field) = field_for(key, LOCK_FIELDS) else {
                continue;
            };
            match field {
                "generated" => set_string(&mut lock.generated, v, "Lock", field)?,
                "digest" => set_string(&mut lock.digest, v, "Lock", field)?,
                _ => lock.dependencies = decode_dependencies(v, "Lock")?.0,
            }
        }
        Ok(lock)
    }
}

// ---------------------------------------------------------------------------
// Validation: Helm's `Metadata.Validate`, run by the loader on every chart.
// ---------------------------------------------------------------------------

/// Helm's `chart.ValidationError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("validation: {0}")]
pub struct ValidationError(pub String);

impl Metadata {
    /// Helm's `Metadata.Validate`: sanitise the text fields, then check the
    /// required fields, the name, the semver version, the type, the
    /// maintainers and the dependencies (alias format, no two with the same
    /// name or alias). Like Helm's loader, it does not check that `type:
    /// library` goes with `apiVersion: v2` (only `helm lint` does).
    pub fn validate(&mut self) -> Result<(), ValidationError> {
        self.validate_with(DecodeNotes::default())
    }

    /// [`Metadata::validate`] with the null entries decoding saw.
    pub fn validate_with(&mut self, notes: DecodeNotes) -> Result<(), ValidationError> {
        let err = |m: String| Err(ValidationError(m));
        for s in [
            &mut self.name,
            &mut self.description,
            &mut self.home,
            &mut self.icon,
            &mut self.condition,
            &mut self.tags,
            &mut self.app_version,
            &mut self.kube_version,
        ] {
            *s = sanitize_string(s);
        }
        for s in self.sources.iter_mut().chain(self.keywords.iter_mut()) {
            *s = sanitize_string(s);
        }
        if self.api_version.is_empty() {
            return err("chart.metadata.apiVersion is required".into());
        }
        if self.name.is_empty() {
            return err("chart.metadata.name is required".into());
        }
        let q = berth_semver::go_quote;
        if self.name == "." || self.name == ".." {
            return err(format!(
                "chart.metadata.name {} is not allowed",
                q(&self.name)
            ));
        }
        if self.name != go_base(&self.name) {
            return err(format!("chart.metadata.name {} is invalid", q(&self.name)));
        }
        if self.version.is_empty() {
            return err("chart.metadata.version is required".into());
        }
        if berth_semver::Version::parse(&self.version).is_err() {
            return err(format!(
                "chart.metadata.version {} is invalid",
                q(&self.version)
            ));
        }
        if !matches!(self.chart_type.as_str(), "" | "application" | "library") {
            return err("chart.metadata.type must be application or library".into());
        }
        for (i, m) in self.maintainers.iter_mut().enumerate() {
            if notes.null_maintainer == Some(i) {
                return err("maintainers must not contain empty or null nodes".into());
            }
            m.name = sanitize_string(&m.name);
            m.email = sanitize_string(&m.email);
            m.url = sanitize_string(&m.url);
        }
        let mut seen = std::collections::HashSet::new();
        for (i, d) in self.dependencies.iter_mut().enumerate() {
            if notes.null_dependency == Some(i) {
                return err("dependencies must not contain empty or null nodes".into());
            }
            d.name = sanitize_string(&d.name);
            d.version = sanitize_string(&d.version);
            d.repository = sanitize_string(&d.repository);
            d.condition = sanitize_string(&d.condition);
            for t in d.tags.iter_mut() {
                *t = sanitize_string(t);
            }
            if !d.alias.is_empty() && !is_valid_alias(&d.alias) {
                return err(format!(
                    "dependency {} has disallowed characters in the alias",
                    q(&d.name)
                ));
            }
            let key = if d.alias.is_empty() {
                d.name.clone()
            } else {
                d.alias.clone()
            };
            if !seen.insert(key.clone()) {
                return err(format!(
                    "more than one dependency with name or alias {}",
                    q(&key)
                ));
            }
        }
        Ok(())
    }
}

/// `^[a-zA-Z0-9_-]+$`
fn is_valid_alias(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Go's `filepath.Base` on `/`-separated paths.
fn go_base(path: &str) -> &str {
    if path.is_empty() {
        return ".";
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

/// Helm's `sanitizeString`: white space (Unicode `White_Space`, as Go's
/// `unicode.IsSpace`) becomes a space, and characters Go's
/// `unicode.IsPrint` rejects are dropped. Without Unicode category tables
/// the non-printables recognised are the control characters, the format
/// characters below, private-use and noncharacter code points; unassigned
/// code points are kept.
pub fn sanitize_string(s: &str) -> String {
    if s.chars()
        .all(|c| c == ' ' || (!c.is_whitespace() && is_go_printable(c)))
    {
        return s.to_string();
    }
    s.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if is_go_printable(c) {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}

fn is_go_printable(c: char) -> bool {
    let u = c as u32;
    if c.is_control() {
        return false;
    }
    // Format characters (Cf).
    let format = matches!(u,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F);
    // Private use (Co) and noncharacters.
    let private = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
        || (0xFDD0..=0xFDEF).contains(&u)
        || (u & 0xFFFE) == 0xFFFE;
    !(format || private)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Result<(Metadata, DecodeNotes), String> {
        let mut md = Metadata::default();
        let notes = md.decode_onto(text.as_bytes())?;
        Ok((md, notes))
    }

    // `helm template` (Helm v4.3.1) on a throwaway chart with these
    // Chart.yaml texts printed these messages after `Error: cannot load
    // Chart.yaml: `, and `.Chart.Description` "" for the two documents.
    #[test]
    fn only_the_first_document_counts_and_yaml_errors_read_like_goyaml() {
        let head = "apiVersion: v2\nname: t\nversion: 0.1.0\n";
        for second in [
            "---\ndescription: second\n",
            "---\nname: [\n",
            "--- x\ndescription: d\n",
        ] {
            let (md, _) = decode(&format!("{head}{second}")).unwrap();
            assert_eq!((md.name.as_str(), md.description.as_str()), ("t", ""));
        }
        for (tail, want) in [
            (
                "description: [\n",
                "error converting YAML to JSON: yaml: line 4: did not find expected node content",
            ),
            (
                "description: .inf\n",
                "error converting YAML to JSON: json: unsupported value: +Inf",
            ),
            (
                "x:\n\ty: 1\n",
                "error converting YAML to JSON: yaml: line 5: found character that cannot start any token",
            ),
            (
                "annotations:\n  ~: 1\n",
                "error converting YAML to JSON: unsupported map key of type: %!s(<nil>), key: <nil>, value: 1",
            ),
        ] {
            assert_eq!(decode(&format!("{head}{tail}")).unwrap_err(), want, "{tail:?}");
        }
        let (md, _) =
            decode("apiVersion: v2\nname: t\nversion: 0.1.0\ndescription: 1.50\n").unwrap();
        assert_eq!(md.description, "1.5");
    }

    // Expected messages were produced by Helm v4.3.1's loader.LoadFiles
    // (a throwaway Go program) on the same Chart.yaml texts.
    #[test]
    fn type_errors_read_like_encoding_json() {
        let prefix = "error unmarshaling JSON: while decoding JSON: json: ";
        for (text, want) in [
            (
                "apiVersion: v2\nname: [a]\nversion: 1.0.0\n",
                "cannot unmarshal array into Go struct field Metadata.name of type string",
            ),
            (
                "apiVersion: v2\nname: a\nversion: 1.0.0\nmaintainers:\n- name: [x]\n",
                "cannot unmarshal array into Go struct field Maintainer.maintainers.name of type string",
            ),
            (
                "apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- name: {a: 1}\n",
                "cannot unmarshal object into Go struct field Dependency.dependencies.name of type string",
            ),
            (
                "apiVersion: v2\nname: a\nversion: 1.0.0\ndeprecated: \"yes\"\n",
                "cannot unmarshal string into Go struct field Metadata.deprecated of type bool",
            ),
            ("- a\n", "cannot unmarshal array into Go value of type v2.Metadata"),
        ] {
            assert_eq!(decode(text).unwrap_err(), format!("{prefix}{want}"), "{text}");
        }
        assert!(decode("name: [a\n")
            .unwrap_err()
            .starts_with("error converting YAML to JSON: "));
    }

    #[test]
    fn scalars_become_strings_and_keys_match_case_insensitively() {
        let (md, _) = decode("apiVersion: v2\nname: a\nversion: 1.0\n").unwrap();
        assert_eq!(md.version, "1");
        let (md, _) = decode("apiVersion: v2\nname: 1234567\nversion: 1234567\n").unwrap();
        assert_eq!(
            (md.name.as_str(), md.version.as_str()),
            ("1234567", "1234567")
        );
        let (md, _) = decode("description: 0.1\nkeywords: [1, true, x]\n").unwrap();
        assert_eq!(md.description, "0.1");
        assert_eq!(md.keywords, ["1", "true", "x"]);
        // `name` (exact) sorts after `NAME` and wins, as in encoding/json.
        let (md, _) = decode("APIVERSION: v2\nNAME: a\nVersion: 1.0.0\nname: b\n").unwrap();
        assert_eq!(
            (
                md.api_version.as_str(),
                md.name.as_str(),
                md.version.as_str()
            ),
            ("v2", "b", "1.0.0")
        );
        assert_eq!(md.annotations, None);
        let (md, _) = decode("annotations: {}\n").unwrap();
        assert_eq!(md.annotations, Some(Default::default()));
    }

    #[test]
    fn float32_formatting() {
        for (f, want) in [
            (0.1, "0.1"),
            (1.5, "1.5"),
            (2.25, "2.25"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1.1, "1.1"),
            (-3.75, "-3.75"),
        ] {
            assert_eq!(yaml_number_string(f), want, "{f}");
        }
    }

    fn validated(text: &str) -> Result<Metadata, String> {
        let (mut md, notes) = decode(text)?;
        if md.api_version.is_empty() {
            md.api_version = "v1".into();
        }
        md.validate_with(notes).map_err(|e| e.to_string())?;
        Ok(md)
    }

    // Messages from Helm v4.3.1 (same throwaway program).
    #[test]
    fn validation_messages() {
        for (text, want) in [
            (
                "apiVersion: v2\nname: a\nversion: 1.0.0\nmaintainers:\n- \n",
                "validation: maintainers must not contain empty or null nodes",
            ),
            (
                "apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- name: x\n  alias: a.b\n",
                "validation: dependency \"x\" has disallowed characters in the alias",
            ),
            (
                "apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- name: x\n- name: y\n  alias: x\n",
                "validation: more than one dependency with name or alias \"x\"",
            ),
            (
                "apiVersion: v2\nname: a\nversion: x1\n",
                "validation: chart.metadata.version \"x1\" is invalid",
            ),
            (
                "apiVersion: v2\nname: a/b\nversion: 1.0.0\n",
                "validation: chart.metadata.name \"a/b\" is invalid",
            ),
            (
                "apiVersion: v2\nname: ..\nversion: 1.0.0\n",
                "validation: chart.metadata.name \"..\" is not allowed",
            ),
            (
                "apiVersion: v2\nname: a\nversion: 1.0.0\ntype: app\n",
                "validation: chart.metadata.type must be application or library",
            ),
            ("version: 1.0.0\n", "validation: chart.metadata.name is required"),
            ("name: a\n", "validation: chart.metadata.version is required"),
            (
                "apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n- \n",
                "validation: dependencies must not contain empty or null nodes",
            ),
        ] {
            assert_eq!(validated(text).unwrap_err(), want, "{text}");
        }
        // Helm's loader accepts a v1 library chart.
        assert!(validated("apiVersion: v1\nname: a\nversion: 1.0.0\ntype: library\n").is_ok());
    }

    #[test]
    fn sanitizing() {
        let md = validated(
            "apiVersion: v2\nname: a\nversion: 1.0.0\ndescription: \"a\\tb\\u200bc\\u00adz\\x01y\\u00a0\"\n",
        )
        .unwrap();
        // Helm v4.3.1 gives "a bczy " for the same input.
        assert_eq!(md.description, "a bczy ");
    }

    #[test]
    fn lock_files() {
        let lock = Lock::decode(
            b"dependencies:\n- name: common\n  repository: oci://example.test/charts\n  version: 2.31.10\ndigest: sha256:abc\ngenerated: \"2025-01-01T00:00:00Z\"\n",
        )
        .unwrap();
        assert_eq!(lock.dependencies[0].name, "common");
        assert_eq!(lock.dependencies[0].version, "2.31.10");
        assert_eq!(lock.digest, "sha256:abc");
        assert_eq!(lock.generated, "2025-01-01T00:00:00Z");
    }
}
