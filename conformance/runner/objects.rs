//! The Go structs of Helm's top-level object that a case can reach:
//! `.Capabilities` (`*common.Capabilities`) with `KubeVersion`,
//! `APIVersions` (`.Has`) and `HelmVersion`. Their contents come from the
//! oracle (`--capabilities`), so both sides see the same cluster.

use std::any::Any;
use std::rc::Rc;

use berth_template::fmt::format_v;
use berth_template::{GoType, List, Object, Value};

use crate::oracle;

/// `*common.Capabilities`
pub struct Capabilities {
    kube: Rc<KubeVersion>,
    apis: Rc<VersionSet>,
    helm: Rc<BuildInfo>,
}

/// `common.KubeVersion` (reached through the pointer, so its pointer
/// methods `String` and `GitVersion` are callable).
pub struct KubeVersion(oracle::KubeVersion);

/// `common.VersionSet` (`[]string` with `Has`).
pub struct VersionSet(Vec<String>);

/// `version.BuildInfo`
pub struct BuildInfo(oracle::HelmVersion);

impl Capabilities {
    pub fn from_oracle(c: &oracle::Capabilities) -> Capabilities {
        Capabilities {
            kube: Rc::new(KubeVersion(c.kube_version.clone())),
            apis: Rc::new(VersionSet(c.api_versions.clone())),
            helm: Rc::new(BuildInfo(c.helm_version.clone())),
        }
    }

    pub fn value(self) -> Value {
        Value::Object(Rc::new(self))
    }
}

impl KubeVersion {
    /// `%v` of the struct value (no `String` method on the value type):
    /// `{Version normalizedVersion Major Minor}`.
    fn struct_v(&self) -> String {
        let k = &self.0;
        format!("{{{} {} {} {}}}", k.version, k.string, k.major, k.minor)
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

impl Object for Capabilities {
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
    fn format_v(&self) -> String {
        // text/template prints through the pointer: the struct's fields.
        format!(
            "{{{} {} {}}}",
            self.kube.struct_v(),
            self.apis.list_v(),
            self.helm.struct_v()
        )
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "common.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<Value> {
        let k = &self.0;
        match name {
            "Version" => Some(Value::str(&k.version)),
            "Major" => Some(Value::str(&k.major)),
            "Minor" => Some(Value::str(&k.minor)),
            "String" => Some(Value::str(&k.string)),
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
        self.0.string.clone()
    }
    fn method_signature(&self, name: &str) -> Option<(&'static [GoType], Option<GoType>)> {
        self.has_method(name).then_some((&[][..], None))
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
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `%v` of a value, for diagnostics.
pub fn show(v: &Value) -> String {
    format_v(v)
}
