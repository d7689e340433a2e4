//! Template functions: Sprig's `semver` and `semverCompare`, on
//! `berth-semver` (Masterminds/semver v3 semantics).
//!
//! `semver` returns a `*semver.Version`, whose methods templates call:
//! `.Major`, `.Prerelease`, `.Original`, `.Compare (semver "2.0.0")`,
//! `.IncMinor`, … . Value-receiver methods that return a `semver.Version`
//! (not a pointer) give a value on which only value-receiver methods exist,
//! as in Go (`(semver "1.2.3").IncMajor.Original` fails).

use std::rc::Rc;

use berth_semver::{Constraint, Version};

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::value::{GoType, Object, Value};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    reg.add("semver", &[GoType::String], None, semver);
    reg.add(
        "semverCompare",
        &[GoType::String, GoType::String],
        None,
        semver_compare,
    );
}

fn str_arg(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or("")
}

fn semver(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let v = Version::parse(str_arg(&args, 0)).map_err(|e| FuncError(e.to_string()))?;
    Ok(SemverVersion::pointer(v))
}

fn semver_compare(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let c = Constraint::parse(str_arg(&args, 0)).map_err(|e| FuncError(e.to_string()))?;
    let v = Version::parse(str_arg(&args, 1)).map_err(|e| FuncError(e.to_string()))?;
    Ok(Value::Bool(c.matches(&v)))
}

/// A Masterminds `*semver.Version` (or, from the `Inc…`/`Set…` methods, a
/// `semver.Version` value).
pub struct SemverVersion {
    pub version: Version,
    /// `*semver.Version` rather than `semver.Version`.
    pointer: bool,
}

impl SemverVersion {
    pub fn pointer(version: Version) -> Value {
        Value::Object(Rc::new(SemverVersion {
            version,
            pointer: true,
        }))
    }

    fn value(version: Version) -> Value {
        Value::Object(Rc::new(SemverVersion {
            version,
            pointer: false,
        }))
    }
}

/// Methods with value receivers (on both `Version` and `*Version`).
const VALUE_METHODS: &[&str] = &[
    "String",
    "Major",
    "Minor",
    "Patch",
    "Prerelease",
    "Metadata",
    "IncPatch",
    "IncMinor",
    "IncMajor",
    "SetPrerelease",
    "SetMetadata",
    "MarshalJSON",
    "MarshalText",
    "Value",
];

/// Methods with pointer receivers (only on `*Version`).
const POINTER_METHODS: &[&str] = &[
    "Original",
    "LessThan",
    "LessThanEqual",
    "GreaterThan",
    "GreaterThanEqual",
    "Equal",
    "Compare",
];

fn arity(name: &str) -> usize {
    match name {
        "SetPrerelease" | "SetMetadata" | "LessThan" | "LessThanEqual" | "GreaterThan"
        | "GreaterThanEqual" | "Equal" | "Compare" => 1,
        _ => 0,
    }
}

const NIL_DEREFERENCE: &str = "runtime error: invalid memory address or nil pointer dereference";

/// The `*semver.Version` argument of a comparison method; `Ok(None)` for
/// nil.
fn version_arg(v: &Value) -> Result<Option<&Version>, String> {
    match v {
        Value::Nil => Ok(None),
        Value::Object(o) => match o.as_any().downcast_ref::<SemverVersion>() {
            Some(s) if s.pointer => Ok(Some(&s.version)),
            _ => Err(format!(
                "wrong type for value; expected *semver.Version; got {}",
                v.type_name()
            )),
        },
        other => Err(format!(
            "wrong type for value; expected *semver.Version; got {}",
            other.type_name()
        )),
    }
}

impl Object for SemverVersion {
    fn type_name(&self) -> &str {
        if self.pointer {
            "*semver.Version"
        } else {
            "semver.Version"
        }
    }

    fn kind_name(&self) -> &str {
        if self.pointer {
            "ptr"
        } else {
            "struct"
        }
    }

    fn field(&self, name: &str) -> Option<Value> {
        if arity(name) != 0 {
            return None;
        }
        self.call_method(name, &[]).and_then(Result::ok)
    }

    fn has_method(&self, name: &str) -> bool {
        VALUE_METHODS.contains(&name) || (self.pointer && POINTER_METHODS.contains(&name))
    }

    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if !self.has_method(name) {
            return None;
        }
        let want = arity(name);
        if args.len() != want {
            return Some(Err(format!(
                "wrong number of args for {name}: want {want} got {}",
                args.len()
            )));
        }
        let v = &self.version;
        let overflow = |part: &str| format!("{part} version increment would overflow uint64");
        Some(match name {
            "String" => Ok(Value::string(v.to_string())),
            "Original" => Ok(Value::str(v.original())),
            "Major" => Ok(Value::Uint64(v.major())),
            "Minor" => Ok(Value::Uint64(v.minor())),
            "Patch" => Ok(Value::Uint64(v.patch())),
            "Prerelease" => Ok(Value::str(v.prerelease())),
            "Metadata" => Ok(Value::str(v.metadata())),
            "IncPatch" => v
                .inc_patch()
                .map(SemverVersion::value)
                .ok_or(overflow("patch")),
            "IncMinor" => v
                .inc_minor()
                .map(SemverVersion::value)
                .ok_or(overflow("minor")),
            "IncMajor" => v
                .inc_major()
                .map(SemverVersion::value)
                .ok_or(overflow("major")),
            "SetPrerelease" | "SetMetadata" => match &args[0] {
                Value::String(s) => {
                    let next = if name == "SetPrerelease" {
                        v.with_prerelease(s)
                    } else {
                        v.with_metadata(s)
                    };
                    next.map(SemverVersion::value).map_err(|e| e.to_string())
                }
                other => Err(format!(
                    "wrong type for value; expected string; got {}",
                    other.type_name()
                )),
            },
            "MarshalJSON" => Ok(Value::Bytes(Rc::from(
                crate::fmt::quote(&v.to_string()).into_bytes(),
            ))),
            "MarshalText" => Ok(Value::Bytes(Rc::from(v.to_string().into_bytes()))),
            "Value" => Ok(Value::string(v.to_string())),
            "Equal" => version_arg(&args[0]).map(|o| Value::Bool(o.is_some_and(|o| o == v))),
            _ => match version_arg(&args[0]) {
                Err(e) => Err(e),
                Ok(None) => Err(NIL_DEREFERENCE.to_string()),
                Ok(Some(o)) => Ok(match name {
                    "Compare" => Value::Int(i64::from(v.compare(o))),
                    "LessThan" => Value::Bool(v < o),
                    "LessThanEqual" => Value::Bool(v <= o),
                    "GreaterThan" => Value::Bool(v > o),
                    _ => Value::Bool(v >= o),
                }),
            },
        })
    }

    fn format_v(&self) -> String {
        self.version.to_string()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TestCtx;

    impl Context for TestCtx {
        fn include(&mut self, _: &str, _: Value) -> Result<String, FuncError> {
            Err(FuncError::new("include is not available in this test"))
        }
        fn tpl(&mut self, _: &str, _: Value) -> Result<String, FuncError> {
            Err(FuncError::new("tpl is not available in this test"))
        }
        fn charge(&mut self, _: u64) -> Result<(), FuncError> {
            Ok(())
        }
        fn lookup(&mut self, _: &str, _: &str, _: &str, _: &str) -> Result<Value, FuncError> {
            Ok(Value::empty_map())
        }
    }

    fn version(s: &str) -> Value {
        semver(&mut TestCtx, vec![Value::str(s)]).expect("valid version")
    }

    fn object(v: &Value) -> &dyn Object {
        match v {
            Value::Object(o) => o.as_ref(),
            _ => panic!("not an object"),
        }
    }

    // Expectations checked with Sprig v3.3.0 + Masterminds/semver v3.5.0.

    #[test]
    fn semver_compare_returns_go_errors() {
        let cmp = |c: &str, v: &str| match semver_compare(
            &mut TestCtx,
            vec![Value::str(c), Value::str(v)],
        ) {
            Ok(v) => format!("{v:?}"),
            Err(e) => e.0,
        };
        assert_eq!(cmp("^1.2", "1.9.0"), "true");
        assert_eq!(cmp(">=1.0.0", "1.0.0-rc1"), "false");
        assert_eq!(cmp("foo", "1.0.0"), "improper constraint: \"foo\"");
        assert_eq!(cmp(">1", "x.y"), "invalid semantic version");
    }

    #[test]
    fn methods_and_fields() {
        let v = version("v1.2.3-rc.1+b5");
        let o = object(&v);
        assert_eq!(o.type_name(), "*semver.Version");
        assert_eq!(format!("{:?}", o.field("Major")), "Some(uint64(1))");
        assert_eq!(
            format!("{:?}", o.field("Original")),
            "Some(\"v1.2.3-rc.1+b5\")"
        );
        assert_eq!(o.format_v(), "1.2.3-rc.1+b5");
        let next = o.field("IncMajor").expect("IncMajor");
        let n = object(&next);
        assert_eq!(n.type_name(), "semver.Version");
        assert_eq!(n.format_v(), "2.0.0");
        assert!(n.field("Original").is_none());
        assert!(!n.has_method("Original"));
        let other = version("1.3.0");
        let r = o.call_method("Compare", std::slice::from_ref(&other));
        assert_eq!(format!("{r:?}"), "Some(Ok(int(-1)))");
        let r = o.call_method("Compare", &[Value::Nil]);
        assert_eq!(r.map(|r| r.err()), Some(Some(NIL_DEREFERENCE.to_string())));
        let r = o.call_method("Equal", &[Value::Nil]);
        assert_eq!(format!("{r:?}"), "Some(Ok(false))");
        let r = o.call_method("SetPrerelease", &[Value::str("a..b")]);
        assert_eq!(
            r.map(|r| r.err()),
            Some(Some("invalid prerelease string".into()))
        );
    }
}
