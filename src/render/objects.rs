//! The Go values of Helm's top-level object that are not plain maps:
//! `.Capabilities` (`*common.Capabilities` with `KubeVersion`,
//! `APIVersions.Has` and `HelmVersion`), `.Files` (`engine.files`, a
//! `map[string][]byte` with `Get`, `GetBytes`, `Glob`, `Lines`, `AsConfig`,
//! `AsSecrets`), and `.Chart` (Helm v4's `MetadataAsMap`, a map built by
//! reflection from `chart.Metadata`).

use std::any::Any;
use std::collections::BTreeMap;
use std::rc::Rc;

use base64::Engine as _;
use berth_chart::{File, Metadata};
use berth_template::fmt::format_v;
use berth_template::{GoType, List, Map, Object, Value};

use crate::{Capabilities, HelmVersion};

// ---------------------------------------------------------------- versions

/// The default API versions of Helm v4.3.1 client-only
/// (`common.DefaultVersionSet`: client-go's scheme
/// `PrioritizedVersionsAllGroups` plus apiextensions v1beta1/v1), in Go's
/// order. Produced by the real Go code: `target/e2e-bin/oracle
/// --capabilities` (the oracle is built against helm.sh/helm/v4 v4.3.1 and
/// prints `common.DefaultCapabilities`).
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "lifecycle.k8s.io/v1alpha1",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// Helm v4.3.1's default Kubernetes version: client-go v0.37 → `v1.37.0`
/// (`makeDefaultCapabilities`: major + 1, same minor).
pub const DEFAULT_KUBE_VERSION: &str = "v1.37.0";

impl Default for HelmVersion {
    /// `version.Get()` of the pinned helm binary (`e2e/tools/helm`, built
    /// with the release ldflags: version v4.3.1, tree state clean, no git
    /// commit), which is what the conformance suite compares with.
    fn default() -> HelmVersion {
        HelmVersion {
            version: "v4.3.1".into(),
            git_commit: String::new(),
            git_tree_state: "clean".into(),
            go_version: "go1.26.8".into(),
            kube_client_version: "v1.37".into(),
        }
    }
}

impl Default for Capabilities {
    /// `common.DefaultCapabilities` of Helm v4.3.1 (what `helm template`
    /// uses without `--kube-version` / `--api-versions`).
    fn default() -> Capabilities {
        Capabilities {
            kube_version: DEFAULT_KUBE_VERSION.into(),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
            helm_version: HelmVersion::default(),
        }
    }
}

pub use berth_chart::kube_version::{KubeVersion, KubeVersionError};

/// A version Helm built itself (`newCapabilities`): all forms equal.
fn fallback_kube_version(input: &str) -> KubeVersion {
    KubeVersion {
        version: input.to_string(),
        normalized: input.to_string(),
        major: String::new(),
        minor: String::new(),
    }
}

impl Capabilities {
    /// The Kubernetes version in its parsed forms (an unparsable string is
    /// kept as it is in every form).
    pub fn kube(&self) -> KubeVersion {
        KubeVersion::parse(&self.kube_version)
            .unwrap_or_else(|_| fallback_kube_version(&self.kube_version))
    }
}

// ---------------------------------------------------------------- .Capabilities

/// `*common.Capabilities`
pub struct CapabilitiesObject {
    kube: Rc<KubeVersionObject>,
    apis: Rc<VersionSet>,
    helm: Rc<BuildInfo>,
}

/// `common.KubeVersion` (reached through the pointer, so its pointer
/// methods `String` and `GitVersion` are callable).
pub struct KubeVersionObject(KubeVersion);

/// `common.VersionSet` (`[]string` with `Has`).
pub struct VersionSet(Vec<String>);

/// `version.BuildInfo`
pub struct BuildInfo(HelmVersion);

impl CapabilitiesObject {
    pub fn new(c: &Capabilities) -> CapabilitiesObject {
        CapabilitiesObject {
            kube: Rc::new(KubeVersionObject(c.kube())),
            apis: Rc::new(VersionSet(c.api_versions.clone())),
            helm: Rc::new(BuildInfo(c.helm_version.clone())),
        }
    }

    pub fn value(self) -> Value {
        Value::Object(Rc::new(self))
    }
}

impl CapabilitiesObject {
    fn struct_v(&self) -> String {
        format!(
            "{{{} {} {}}}",
            self.kube.struct_v(),
            self.apis.list_v(),
            self.helm.struct_v()
        )
    }
}

impl KubeVersionObject {
    /// `%v` of the struct value (no `String` method on the value type):
    /// `{Version normalizedVersion Major Minor}`.
    fn struct_v(&self) -> String {
        let k = &self.0;
        format!("{{{} {} {} {}}}", k.version, k.normalized, k.major, k.minor)
    }
}

impl BuildInfo {
    fn struct_v(&self) -> String {
        let h = &self.0;
        format!(
            "{{{} {} {} {} {}}}",
            h.version, h.git_commit, h.git_tree_state, h.go_version, h.kube_client_version
        )
    }
}

impl VersionSet {
    fn list_v(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
}

impl Object for CapabilitiesObject {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }
    fn kind_name(&self) -> &str {
        "ptr"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::Object(self.kube.clone())),
            "APIVersions" => Some(Value::Object(self.apis.clone())),
            "HelmVersion" => Some(Value::Object(self.helm.clone())),
            _ => None,
        }
    }
    fn json_value(&self) -> Option<Value> {
        // encoding/json: the exported fields (berth's maps sort keys, so
        // `toJson` lists them alphabetically where Go keeps field order).
        let mut m = BTreeMap::new();
        m.insert("KubeVersion".to_string(), self.kube.json_value()?);
        m.insert("APIVersions".to_string(), self.apis.json_value()?);
        m.insert("HelmVersion".to_string(), self.helm.json_value()?);
        Some(Value::map(m))
    }
    fn format_v(&self) -> String {
        // fmt prints a pointer to a struct as `&{fields}`.
        format!("&{}", self.struct_v())
    }
    fn format_print(&self) -> String {
        // text/template's printer dereferences the pointer first.
        self.struct_v()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Object for KubeVersionObject {
    fn type_name(&self) -> &str {
        "common.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<Value> {
        let k = &self.0;
        match name {
            "Version" => Some(Value::str(&k.version)),
            "Major" => Some(Value::str(&k.major)),
            "Minor" => Some(Value::str(&k.minor)),
            "String" => Some(Value::str(&k.normalized)),
            "GitVersion" => Some(Value::str(&k.version)),
            _ => None,
        }
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(name, "String" | "GitVersion")
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if !self.has_method(name) {
            return None;
        }
        if !args.is_empty() {
            return Some(Err(format!(
                "wrong number of args for {name}: want 0 got {}",
                args.len()
            )));
        }
        self.field(name).map(Ok)
    }
    fn format_v(&self) -> String {
        // `fmt` sees a copy: no pointer-receiver `String()`.
        self.struct_v()
    }
    fn format_print(&self) -> String {
        // `{{ .Capabilities.KubeVersion }}` is addressable: `String()` applies.
        self.0.normalized.clone()
    }
    fn method_signature(&self, name: &str) -> Option<(&'static [GoType], Option<GoType>)> {
        self.has_method(name).then_some((&[][..], None))
    }
    fn json_value(&self) -> Option<Value> {
        // encoding/json: the exported fields.
        let k = &self.0;
        let mut m = BTreeMap::new();
        m.insert("Version".to_string(), Value::str(&k.version));
        m.insert("Major".to_string(), Value::str(&k.major));
        m.insert("Minor".to_string(), Value::str(&k.minor));
        Some(Value::map(m))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Object for VersionSet {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn kind_name(&self) -> &str {
        "slice"
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn has_method(&self, name: &str) -> bool {
        name == "Has"
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if name != "Has" {
            return None;
        }
        match args {
            [Value::String(s)] => Some(Ok(Value::Bool(self.0.iter().any(|v| **v == **s)))),
            [other] => Some(Err(format!(
                "wrong type for value; expected string; got {}",
                other.type_name()
            ))),
            _ => Some(Err(format!(
                "wrong number of args for Has: want 1 got {}",
                args.len()
            ))),
        }
    }
    fn format_v(&self) -> String {
        self.list_v()
    }
    fn method_signature(&self, name: &str) -> Option<(&'static [GoType], Option<GoType>)> {
        (name == "Has").then_some((&[GoType::String][..], None))
    }
    fn as_list(&self) -> Option<List> {
        Some(List::typed(
            self.0.iter().map(|v| Value::str(v)).collect(),
            GoType::String,
        ))
    }
    fn json_value(&self) -> Option<Value> {
        self.as_list().map(Value::List)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Object for BuildInfo {
    fn type_name(&self) -> &str {
        "version.BuildInfo"
    }
    fn field(&self, name: &str) -> Option<Value> {
        let h = &self.0;
        let s = match name {
            "Version" => &h.version,
            "GitCommit" => &h.git_commit,
            "GitTreeState" => &h.git_tree_state,
            "GoVersion" => &h.go_version,
            "KubeClientVersion" => &h.kube_client_version,
            _ => return None,
        };
        Some(Value::str(s))
    }
    fn format_v(&self) -> String {
        self.struct_v()
    }
    fn json_value(&self) -> Option<Value> {
        // The json tags of version.BuildInfo (`omitempty` on all).
        let h = &self.0;
        let mut m = BTreeMap::new();
        for (k, v) in [
            ("version", &h.version),
            ("git_commit", &h.git_commit),
            ("git_tree_state", &h.git_tree_state),
            ("go_version", &h.go_version),
        ] {
            if !v.is_empty() {
                m.insert(k.to_string(), Value::str(v));
            }
        }
        // The only field without `omitempty`.
        m.insert(
            "kube_client_version".to_string(),
            Value::str(&h.kube_client_version),
        );
        Some(Value::map(m))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

// ---------------------------------------------------------------- .Files

/// Helm's `engine.files`: a chart's non-template files by name, with the
/// methods templates call. Cloning shares the entries.
#[derive(Clone)]
pub struct Files {
    /// `map[string][]byte`, every value a `Value::Bytes`.
    map: Map,
}

impl Files {
    /// `newFiles(chart.Files)`.
    pub fn new(files: &[File]) -> Files {
        let entries: BTreeMap<String, Value> = files
            .iter()
            .map(|f| (f.name.clone(), Value::Bytes(Rc::from(f.data.as_slice()))))
            .collect();
        Files::from_entries(entries)
    }

    fn from_entries(entries: BTreeMap<String, Value>) -> Files {
        let mut map = Map::from_entries(entries);
        map.elem = GoType::Bytes;
        map.type_name = Some("engine.files");
        Files { map }
    }

    pub fn value(self) -> Value {
        Value::Object(Rc::new(self))
    }

    fn bytes(&self, name: &str) -> Rc<[u8]> {
        match self.map.get(name) {
            Some(Value::Bytes(b)) => b,
            _ => Rc::from(&[][..]),
        }
    }

    /// `Glob(pattern)`: the files whose name matches (gobwas/glob with `/`
    /// as separator; a bad pattern matches everything, as Helm falls back
    /// to `**`).
    pub fn glob(&self, pattern: &str) -> Files {
        let g = Glob::compile(pattern).unwrap_or_else(Glob::super_all);
        let entries: BTreeMap<String, Value> = self
            .map
            .borrow()
            .iter()
            .filter(|(k, _)| g.matches(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Files::from_entries(entries)
    }

    /// `AsConfig()`: `path.Base(name): content` as YAML (Helm's `toYAML`).
    pub fn as_config(&self) -> String {
        let entries: BTreeMap<String, Value> = self
            .map
            .borrow()
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                    _ => String::new(),
                };
                (go_path_base(k).to_string(), Value::string(s))
            })
            .collect();
        helm_to_yaml(entries)
    }

    /// `AsSecrets()`: `path.Base(name): base64(content)` as YAML.
    pub fn as_secrets(&self) -> String {
        let entries: BTreeMap<String, Value> = self
            .map
            .borrow()
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
                    _ => String::new(),
                };
                (go_path_base(k).to_string(), Value::string(s))
            })
            .collect();
        helm_to_yaml(entries)
    }

    /// `Lines(path)`: the file split on `\n`, one trailing newline dropped.
    pub fn lines(&self, name: &str) -> Vec<String> {
        let b = self.bytes(name);
        if b.is_empty() {
            return Vec::new();
        }
        let s = String::from_utf8_lossy(&b);
        let s = s.strip_suffix('\n').unwrap_or(&s);
        s.split('\n').map(str::to_string).collect()
    }
}

/// Helm's `toYAML` of a `map[string]string`: sigs.k8s.io/yaml without the
/// final newline.
fn helm_to_yaml(entries: BTreeMap<String, Value>) -> String {
    let mut m = Map::from_entries(entries);
    m.elem = GoType::String;
    match berth_template::funcs::yaml::to_yaml(&Value::Map(m)) {
        Ok(s) => s.strip_suffix('\n').map(str::to_string).unwrap_or(s),
        Err(_) => String::new(),
    }
}

/// Go's `path.Base`.
pub fn go_path_base(p: &str) -> &str {
    if p.is_empty() {
        return ".";
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

const FILES_METHODS: &[&str] = &["Get", "GetBytes", "Glob", "AsConfig", "AsSecrets", "Lines"];

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }
    fn kind_name(&self) -> &str {
        "map"
    }
    fn field(&self, name: &str) -> Option<Value> {
        if FILES_METHODS.contains(&name) {
            return None;
        }
        // A map key; missing keys are the zero []byte (missingkey=zero).
        Some(Value::Bytes(self.bytes(name)))
    }
    fn has_method(&self, name: &str) -> bool {
        FILES_METHODS.contains(&name)
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let want = match name {
            "AsConfig" | "AsSecrets" => 0,
            "Get" | "GetBytes" | "Glob" | "Lines" => 1,
            _ => return None,
        };
        if args.len() != want {
            return Some(Err(format!(
                "wrong number of args for {name}: want {want} got {}",
                args.len()
            )));
        }
        let arg = match args.first() {
            Some(Value::String(s)) => s.to_string(),
            Some(other) => {
                return Some(Err(format!(
                    "wrong type for value; expected string; got {}",
                    other.type_name()
                )))
            }
            None => String::new(),
        };
        Some(Ok(match name {
            "Get" => Value::string(String::from_utf8_lossy(&self.bytes(&arg)).into_owned()),
            "GetBytes" => Value::Bytes(self.bytes(&arg)),
            "Glob" => self.glob(&arg).value(),
            "Lines" => Value::strings(self.lines(&arg)),
            "AsConfig" => Value::string(self.as_config()),
            _ => Value::string(self.as_secrets()),
        }))
    }
    fn method_signature(&self, name: &str) -> Option<(&'static [GoType], Option<GoType>)> {
        match name {
            "AsConfig" | "AsSecrets" => Some((&[][..], None)),
            "Get" | "GetBytes" | "Glob" | "Lines" => Some((&[GoType::String][..], None)),
            _ => None,
        }
    }
    fn format_v(&self) -> String {
        format_v(&Value::Map(self.map.clone()))
    }
    fn json_value(&self) -> Option<Value> {
        // encoding/json writes []byte as base64.
        let entries: BTreeMap<String, Value> = self
            .map
            .borrow()
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    Value::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
                    _ => String::new(),
                };
                (k.clone(), Value::string(s))
            })
            .collect();
        Some(Value::map(entries))
    }
    fn as_map(&self) -> Option<Map> {
        Some(self.map.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

// ---------------------------------------------------------------- glob

/// A gobwas/glob pattern compiled with `/` as the only separator: `*` any
/// run without `/`, `**` any run, `?` one character but `/`, `[abc]`,
/// `[a-z]`, `[!...]`, `{a,b}` alternatives, `\` escapes.
#[derive(Debug, Clone)]
pub struct Glob {
    seq: Vec<GlobNode>,
}

#[derive(Debug, Clone)]
enum GlobNode {
    Lit(char),
    Any,
    Super,
    Single,
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
    Alt(Vec<Vec<GlobNode>>),
}

impl Glob {
    /// `None` when the pattern does not compile (gobwas reports an error).
    pub fn compile(pattern: &str) -> Option<Glob> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let seq = parse_seq(&chars, &mut pos, false)?;
        if pos != chars.len() {
            return None;
        }
        Some(Glob { seq })
    }

    fn super_all() -> Glob {
        Glob {
            seq: vec![GlobNode::Super],
        }
    }

    pub fn matches(&self, s: &str) -> bool {
        let chars: Vec<char> = s.chars().collect();
        match_seq(&self.seq, &chars, 0, &[])
    }
}

fn parse_seq(p: &[char], pos: &mut usize, in_alt: bool) -> Option<Vec<GlobNode>> {
    let mut out = Vec::new();
    while *pos < p.len() {
        let c = p[*pos];
        match c {
            '*' => {
                if p.get(*pos + 1) == Some(&'*') {
                    *pos += 2;
                    out.push(GlobNode::Super);
                } else {
                    *pos += 1;
                    out.push(GlobNode::Any);
                }
            }
            '?' => {
                *pos += 1;
                out.push(GlobNode::Single);
            }
            '\\' => {
                // gobwas drops a trailing backslash.
                if let Some(next) = p.get(*pos + 1) {
                    out.push(GlobNode::Lit(*next));
                }
                *pos = (*pos + 2).min(p.len());
            }
            '[' => {
                *pos += 1;
                let negated = p.get(*pos) == Some(&'!');
                if negated {
                    *pos += 1;
                }
                let mut items = Vec::new();
                loop {
                    let c = *p.get(*pos)?;
                    if c == ']' {
                        *pos += 1;
                        break;
                    }
                    let lo = if c == '\\' {
                        *pos += 1;
                        *p.get(*pos)?
                    } else {
                        c
                    };
                    *pos += 1;
                    if p.get(*pos) == Some(&'-') && p.get(*pos + 1).is_some_and(|c| *c != ']') {
                        let hi = p[*pos + 1];
                        *pos += 2;
                        if hi < lo {
                            return None;
                        }
                        items.push((lo, hi));
                    } else {
                        items.push((lo, lo));
                    }
                }
                if items.is_empty() {
                    return None;
                }
                out.push(GlobNode::Class { negated, items });
            }
            '{' => {
                *pos += 1;
                let mut alts = Vec::new();
                loop {
                    let alt = parse_seq(p, pos, true)?;
                    alts.push(alt);
                    match p.get(*pos) {
                        Some(',') => *pos += 1,
                        Some('}') => {
                            *pos += 1;
                            break;
                        }
                        // gobwas accepts an unclosed `{`: the alternatives
                        // run to the end of the pattern.
                        _ => break,
                    }
                }
                out.push(GlobNode::Alt(alts));
            }
            ',' | '}' if in_alt => return Some(out),
            _ => {
                *pos += 1;
                out.push(GlobNode::Lit(c));
            }
        }
    }
    Some(out)
}

/// Match `seq` followed by `rest` (the continuation after an alternative)
/// against `s[i..]`.
fn match_seq(seq: &[GlobNode], s: &[char], i: usize, rest: &[&[GlobNode]]) -> bool {
    let Some((node, tail)) = seq.split_first() else {
        return match rest.split_first() {
            Some((next, more)) => match_seq(next, s, i, more),
            None => i == s.len(),
        };
    };
    match node {
        GlobNode::Lit(c) => s.get(i) == Some(c) && match_seq(tail, s, i + 1, rest),
        GlobNode::Single => s.get(i).is_some_and(|c| *c != '/') && match_seq(tail, s, i + 1, rest),
        GlobNode::Class { negated, items } => match s.get(i) {
            Some(c) => {
                let inside = items.iter().any(|(lo, hi)| lo <= c && c <= hi);
                inside != *negated && match_seq(tail, s, i + 1, rest)
            }
            None => false,
        },
        GlobNode::Any => {
            let mut j = i;
            loop {
                if match_seq(tail, s, j, rest) {
                    return true;
                }
                if j >= s.len() || s[j] == '/' {
                    return false;
                }
                j += 1;
            }
        }
        GlobNode::Super => (i..=s.len()).any(|j| match_seq(tail, s, j, rest)),
        GlobNode::Alt(alts) => {
            let mut cont: Vec<&[GlobNode]> = Vec::with_capacity(rest.len() + 1);
            cont.push(tail);
            cont.extend_from_slice(rest);
            alts.iter().any(|a| match_seq(a, s, i, &cont))
        }
    }
}

// ---------------------------------------------------------------- .Chart

/// `.Chart` as Helm v4 builds it: `MetadataAsMap` (every field of
/// `chart.Metadata` under its Go name, empty ones included, slices as
/// `[]interface {}`, structs as maps, `Annotations` a `map[string]string`
/// or nil) plus `IsRoot`.
pub fn chart_value(meta: &Metadata, is_root: bool) -> Value {
    let s = |x: &str| Value::str(x);
    let strings = |v: &[String]| Value::list(v.iter().map(|x| Value::str(x)).collect());
    let mut m = BTreeMap::new();
    m.insert("Name".into(), s(&meta.name));
    m.insert("Home".into(), s(&meta.home));
    m.insert("Sources".into(), strings(&meta.sources));
    m.insert("Version".into(), s(&meta.version));
    m.insert("Description".into(), s(&meta.description));
    m.insert("Keywords".into(), strings(&meta.keywords));
    let maintainers = meta
        .maintainers
        .iter()
        .map(|mt| {
            let mut e = BTreeMap::new();
            e.insert("Name".to_string(), s(&mt.name));
            e.insert("Email".to_string(), s(&mt.email));
            e.insert("URL".to_string(), s(&mt.url));
            Value::map(e)
        })
        .collect();
    m.insert("Maintainers".into(), Value::list(maintainers));
    m.insert("Icon".into(), s(&meta.icon));
    m.insert("APIVersion".into(), s(&meta.api_version));
    m.insert("Condition".into(), s(&meta.condition));
    m.insert("Tags".into(), s(&meta.tags));
    m.insert("AppVersion".into(), s(&meta.app_version));
    m.insert("Deprecated".into(), Value::Bool(meta.deprecated));
    // Metadata.Annotations is a nil map[string]string when Chart.yaml has
    // none (`toJson .Chart` shows `"Annotations":null`).
    let annotations = match &meta.annotations {
        Some(ann) => {
            let entries: BTreeMap<String, Value> = ann
                .iter()
                .map(|(k, v)| (k.clone(), Value::str(v)))
                .collect();
            let mut map = Map::from_entries(entries);
            map.elem = GoType::String;
            map
        }
        None => Map::nil(GoType::String),
    };
    m.insert("Annotations".into(), Value::Map(annotations));
    m.insert("KubeVersion".into(), s(&meta.kube_version));
    let deps = meta
        .dependencies
        .iter()
        .map(|d| {
            let mut e = BTreeMap::new();
            e.insert("Name".to_string(), s(&d.name));
            e.insert("Version".to_string(), s(&d.version));
            e.insert("Repository".to_string(), s(&d.repository));
            e.insert("Condition".to_string(), s(&d.condition));
            e.insert("Tags".to_string(), strings(&d.tags));
            e.insert("Enabled".to_string(), Value::Bool(d.enabled));
            e.insert(
                "ImportValues".to_string(),
                Value::list(
                    d.import_values
                        .iter()
                        .map(berth_chart::values::json_to_template)
                        .collect(),
                ),
            );
            e.insert("Alias".to_string(), s(&d.alias));
            Value::map(e)
        })
        .collect();
    m.insert("Dependencies".into(), Value::list(deps));
    m.insert("Type".into(), s(&meta.chart_type));
    m.insert("IsRoot".into(), Value::Bool(is_root));
    Value::map(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gobwas_glob_semantics() {
        let g = |p: &str| Glob::compile(p).expect(p);
        assert!(g("files/*").matches("files/a.conf"));
        assert!(!g("files/*").matches("files/sub/a.conf"));
        assert!(g("files/**").matches("files/sub/a.conf"));
        assert!(g("**.yaml").matches("a/b/c.yaml"));
        assert!(g("*.{yaml,json}").matches("x.json"));
        assert!(!g("*.{yaml,json}").matches("x.toml"));
        assert!(g("file?.txt").matches("file1.txt"));
        assert!(!g("a?b").matches("a/b"));
        assert!(g("[a-c]x").matches("bx"));
        assert!(g("[!a-c]x").matches("dx"));
        assert!(!g("[!a-c]x").matches("ax"));
        assert!(g("\\*").matches("*"));
        assert!(Glob::compile("[abc").is_none());
        assert!(Glob::compile("[]").is_none());
        // Checked against gobwas/glob v0.2.3 (Helm's): an unclosed `{` runs
        // to the end, a stray `}` or `,` is literal, `[!a]` matches `/`.
        assert!(g("{a,b").matches("a"));
        assert!(g("{a,b").matches("b"));
        assert!(g("a}").matches("a}"));
        assert!(g("a,b").matches("a,b"));
        assert!(g("[!a]x").matches("/x"));
        assert!(g("{a,b/*}").matches("b/c"));
        assert!(g("{}").matches(""));
        assert!(g("a\\").matches("a"));
        assert!(!g("\\").matches("x"));
    }

    #[test]
    fn files_methods() {
        let f = Files::new(&[
            File {
                name: "conf/a.txt".into(),
                data: b"one\ntwo\n".to_vec(),
            },
            File {
                name: "conf/sub/b.txt".into(),
                data: b"x".to_vec(),
            },
        ]);
        assert_eq!(f.lines("conf/a.txt"), vec!["one", "two"]);
        assert!(f.lines("missing").is_empty());
        let g = f.glob("conf/*");
        assert_eq!(g.map.len(), 1);
        assert_eq!(g.as_config(), "a.txt: |\n  one\n  two");
        assert_eq!(
            f.glob("conf/**").as_secrets(),
            "a.txt: b25lCnR3bwo=\nb.txt: eA=="
        );
        // A bad pattern matches everything.
        assert_eq!(f.glob("[").map.len(), 2);
    }

    #[test]
    fn kube_version_parsing() {
        let k = KubeVersion::parse("1.33.0").unwrap();
        assert_eq!(k.version, "v1.33.0");
        assert_eq!(k.normalized, "v1.33.0");
        assert_eq!((k.major.as_str(), k.minor.as_str()), ("1", "33"));
        let k = KubeVersion::parse("v1.33.4-gke.1245000").unwrap();
        assert_eq!(k.version, "v1.33.4-gke.1245000");
        assert_eq!(k.normalized, "v1.33.4");
        assert!(KubeVersion::parse("1").is_err());
        assert!(KubeVersion::parse("x").is_err());
    }
}
