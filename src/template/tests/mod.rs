//! Engine tests: Go-produced expectations (`go_cases.rs`), limits against
//! hostile templates, and the public API.

mod go_cases;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::{Error, ExecOptions, LimitKind, Limits, MissingKey, Templates};
use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::value::{GoType, Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Ok,
    Parse,
    Exec,
}

// ---- a small JSON reader for test data (numbers become float64) ----

struct Json<'s> {
    s: &'s [u8],
    i: usize,
}

impl Json<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn value(&mut self) -> Value {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut m = BTreeMap::new();
                loop {
                    self.ws();
                    if self.s[self.i] == b'}' {
                        self.i += 1;
                        break;
                    }
                    if self.s[self.i] == b',' {
                        self.i += 1;
                        continue;
                    }
                    let Value::String(k) = self.value() else {
                        panic!("bad key")
                    };
                    self.ws();
                    assert_eq!(self.s[self.i], b':');
                    self.i += 1;
                    let v = self.value();
                    m.insert(k.to_string(), v);
                }
                Value::map(m)
            }
            b'[' => {
                self.i += 1;
                let mut l = Vec::new();
                loop {
                    self.ws();
                    if self.s[self.i] == b']' {
                        self.i += 1;
                        break;
                    }
                    if self.s[self.i] == b',' {
                        self.i += 1;
                        continue;
                    }
                    l.push(self.value());
                }
                Value::list(l)
            }
            b'"' => {
                self.i += 1;
                let mut out = String::new();
                loop {
                    let c = self.s[self.i];
                    self.i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            let e = self.s[self.i];
                            self.i += 1;
                            out.push(match e {
                                b'n' => '\n',
                                b't' => '\t',
                                b'"' => '"',
                                b'\\' => '\\',
                                b'u' => {
                                    let h =
                                        std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                                    self.i += 4;
                                    char::from_u32(u32::from_str_radix(h, 16).unwrap()).unwrap()
                                }
                                other => other as char,
                            });
                        }
                        _ => {
                            // Copy a whole UTF-8 sequence.
                            let start = self.i - 1;
                            let mut end = self.i;
                            while end < self.s.len() && (self.s[end] & 0xC0) == 0x80 {
                                end += 1;
                            }
                            out.push_str(std::str::from_utf8(&self.s[start..end]).unwrap());
                            self.i = end;
                        }
                    }
                }
                Value::string(out)
            }
            b't' => {
                self.i += 4;
                Value::Bool(true)
            }
            b'f' => {
                self.i += 5;
                Value::Bool(false)
            }
            b'n' => {
                self.i += 4;
                Value::Nil
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len() && b"+-.eE0123456789".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).unwrap();
                Value::Float(t.parse().unwrap())
            }
        }
    }
}

pub(crate) fn json(s: &str) -> Value {
    if s.is_empty() {
        return Value::Nil;
    }
    Json {
        s: s.as_bytes(),
        i: 0,
    }
    .value()
}

// ---- the helper functions the Go expectations were produced with ----

fn upper(_: &mut dyn Context, a: Vec<Value>) -> FuncResult {
    Ok(Value::string(a[0].as_str().unwrap_or("").to_uppercase()))
}
fn repeat(c: &mut dyn Context, a: Vec<Value>) -> FuncResult {
    let n = match a[0] {
        Value::Int(n) => n.max(0) as usize,
        _ => 0,
    };
    let s = a[1].as_str().unwrap_or("");
    c.charge((n * s.len()) as u64 / 64)?;
    Ok(Value::string(s.repeat(n)))
}
fn list(_: &mut dyn Context, a: Vec<Value>) -> FuncResult {
    Ok(Value::list(a))
}
fn half(_: &mut dyn Context, a: Vec<Value>) -> FuncResult {
    match a[0] {
        Value::Float(f) => Ok(Value::Float(f / 2.0)),
        _ => Err(FuncError::new("not a float")),
    }
}
fn fail(_: &mut dyn Context, a: Vec<Value>) -> FuncResult {
    Err(FuncError(a[0].as_str().unwrap_or("").to_string()))
}
fn nilf(_: &mut dyn Context, _: Vec<Value>) -> FuncResult {
    Ok(Value::Nil)
}
fn strs(_: &mut dyn Context, _: Vec<Value>) -> FuncResult {
    Ok(Value::strings(vec!["a".into(), "b".into()]))
}
fn smap(_: &mut dyn Context, _: Vec<Value>) -> FuncResult {
    let mut m = Map::new();
    m.elem = GoType::String;
    m.insert("a", Value::str("x"));
    Ok(Value::Map(m))
}
fn include(c: &mut dyn Context, a: Vec<Value>) -> FuncResult {
    let name = a[0].as_str().unwrap_or("").to_string();
    c.include(&name, a[1].clone()).map(Value::string)
}
fn tpl(c: &mut dyn Context, a: Vec<Value>) -> FuncResult {
    let text = a[0].as_str().unwrap_or("").to_string();
    c.tpl(&text, a[1].clone()).map(Value::string)
}

pub(crate) fn registry() -> Arc<Registry> {
    let mut reg = Registry::new();
    reg.add("upper", &[GoType::String], None, upper);
    reg.add("repeat", &[GoType::Int, GoType::String], None, repeat);
    reg.add("list", &[], Some(GoType::Interface), list);
    reg.add("half", &[GoType::Float64], None, half);
    reg.add("fail", &[GoType::String], None, fail);
    reg.add("nilf", &[], None, nilf);
    reg.add("strs", &[], None, strs);
    reg.add("smap", &[], None, smap);
    reg.add(
        "include",
        &[GoType::String, GoType::Interface],
        None,
        include,
    );
    reg.add("tpl", &[GoType::String, GoType::Interface], None, tpl);
    Arc::new(reg)
}

fn run(strict: bool, text: &str, data: &Value) -> (Kind, String) {
    let mut t = Templates::new(registry());
    t.set_root_name("t");
    if let Err(e) = t.parse("t", text) {
        return (Kind::Parse, e.to_string());
    }
    let opts = ExecOptions {
        missing_key: if strict {
            MissingKey::Error
        } else {
            MissingKey::Zero
        },
        ..ExecOptions::default()
    };
    match t.execute("t", data, &opts) {
        Ok(s) => (Kind::Ok, s),
        Err(e) => (Kind::Exec, e.to_string()),
    }
}

fn check_table(rows: &[(bool, &str, &str, Kind, &str)], data_override: Option<&str>) {
    let mut failures = Vec::new();
    for (strict, text, data, kind, want) in rows {
        let data = json(data_override.unwrap_or(data));
        let got = run(*strict, text, &data);
        if got != (*kind, want.to_string()) {
            failures.push(format!(
                "template {text:?}\n  want {kind:?} {want:?}\n  got  {:?} {:?}",
                got.0, got.1
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn executes_like_go() {
    check_table(go_cases::EXEC_CASES, None);
}

#[test]
fn printf_like_go() {
    check_table(go_cases::PRINTF_CASES, Some(go_cases::DATA));
}

// ---- limits ----

fn limited(limits: Limits) -> ExecOptions {
    ExecOptions {
        limits,
        ..ExecOptions::default()
    }
}

fn exec_with(text: &str, opts: &ExecOptions) -> Result<String, Error> {
    let mut t = Templates::new(registry());
    t.parse("hostile.yaml", text)?;
    t.execute("hostile.yaml", &Value::Nil, opts)
}

#[test]
fn step_budget_stops_huge_range() {
    let opts = limited(Limits {
        max_steps: 100_000,
        ..Limits::default()
    });
    let err = exec_with(
        "a\n{{ range 1000000000 }}{{ range 1000 }}{{ end }}{{ end }}",
        &opts,
    )
    .expect_err("must hit the budget");
    match &err {
        Error::Limit {
            limit, location, ..
        } => {
            assert_eq!(*limit, LimitKind::Steps);
            assert!(location.starts_with("hostile.yaml:2:"), "{location}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("evaluation budget"), "{err}");
}

#[test]
fn output_limit_stops_huge_output() {
    let opts = limited(Limits {
        max_output_bytes: 10_000,
        ..Limits::default()
    });
    let err = exec_with("{{ range 100000 }}0123456789{{ end }}", &opts).expect_err("too big");
    assert!(
        matches!(
            err,
            Error::Limit {
                limit: LimitKind::OutputBytes,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn output_limit_counts_function_results() {
    let opts = limited(Limits {
        max_output_bytes: 1_000_000,
        ..Limits::default()
    });
    let err = exec_with("{{ repeat 100000000 \"x\" }}", &opts).expect_err("too big");
    assert!(matches!(err, Error::Limit { .. }), "{err:?}");
}

#[test]
fn string_doubling_is_bounded() {
    let err = exec_with(
        r#"{{ $x := "aaaaaaaa" }}{{ range 64 }}{{ $x = printf "%s%s" $x $x }}{{ end }}{{ len $x }}"#,
        &limited(Limits {
            max_output_bytes: 1 << 20,
            ..Limits::default()
        }),
    )
    .expect_err("must stop before exhausting memory");
    assert!(
        matches!(
            err,
            Error::Limit {
                limit: LimitKind::OutputBytes,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn include_recursion_hits_helm_guard() {
    // Helm allows 1000 nested includes of one name, then fails with its
    // own message (engine.go: includeFun).
    let err = exec_with(
        r#"{{ define "loop" }}{{ include "loop" . }}{{ end }}{{ include "loop" . }}"#,
        &ExecOptions::default(),
    )
    .expect_err("infinite include");
    let msg = err.to_string();
    assert!(
        msg.contains(
            "rendering template has a nested reference name: loop: unable to execute template"
        ),
        "{msg}"
    );
}

#[test]
fn include_depth_limit_is_a_limit_error() {
    let opts = limited(Limits {
        max_include_depth: 50,
        ..Limits::default()
    });
    let err = exec_with(
        r#"{{ define "loop" }}{{ include "loop" . }}{{ end }}{{ include "loop" . }}"#,
        &opts,
    )
    .expect_err("too deep");
    assert!(
        matches!(
            err,
            Error::Limit {
                limit: LimitKind::IncludeDepth,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn template_recursion_is_bounded() {
    let err = exec_with(
        r#"{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}"#,
        &ExecOptions::default(),
    )
    .expect_err("infinite template recursion");
    assert!(
        matches!(
            err,
            Error::Limit {
                limit: LimitKind::IncludeDepth,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn tpl_recursion_is_bounded() {
    let mut t = Templates::new(registry());
    t.parse("x", r#"{{ tpl .t . }}"#).expect("parses");
    let mut m = BTreeMap::new();
    m.insert("t".to_string(), Value::str("{{ tpl .t . }}"));
    let err = t
        .execute("x", &Value::map(m), &ExecOptions::default())
        .expect_err("infinite tpl");
    assert!(
        matches!(
            err,
            Error::Limit {
                limit: LimitKind::TplDepth,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn deep_nesting_parses_and_runs() {
    // Go accepts any nesting of control structures and 10000 levels of
    // parentheses; neither may overflow our stack (parse, run, error
    // report or drop).
    let depth = 20_000;
    let text = format!(
        "{}x{}",
        "{{ if true }}".repeat(depth),
        "{{ end }}".repeat(depth)
    );
    assert_eq!(
        exec_with(&text, &ExecOptions::default()).expect("runs"),
        "x"
    );
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(9_000), ")".repeat(9_000));
    assert_eq!(
        exec_with(&parens, &ExecOptions::default()).expect("runs"),
        "1"
    );
    let failing = format!("{{{{ len {}3{} }}}}", "(".repeat(9_000), ")".repeat(9_000));
    let err = exec_with(&failing, &ExecOptions::default()).expect_err("len of int");
    assert!(
        err.to_string()
            .ends_with(")))>: error calling len: len of type int"),
        "{err}"
    );
    let too_deep = format!("{{{{ {}1{} }}}}", "(".repeat(10_001), ")".repeat(10_001));
    let err = exec_with(&too_deep, &ExecOptions::default()).expect_err("too deep");
    assert_eq!(
        err.to_string(),
        "template: hostile.yaml:1: max expression depth exceeded"
    );
}

// ---- API ----

#[test]
fn later_definitions_win_and_empty_ones_do_not() {
    let mut t = Templates::new(registry());
    t.parse("sub/_helpers.tpl", r#"{{ define "name" }}sub{{ end }}"#)
        .unwrap();
    t.parse("root/_helpers.tpl", r#"{{ define "name" }}root{{ end }}"#)
        .unwrap();
    t.parse("root/empty.tpl", r#"{{ define "name" }}  {{ end }}"#)
        .unwrap();
    t.parse(
        "root/cm.yaml",
        r#"{{ template "name" }}-{{ include "name" . }}"#,
    )
    .unwrap();
    assert!(t.has("name") && t.has("root/cm.yaml") && !t.has("nope"));
    let out = t
        .execute("root/cm.yaml", &Value::Nil, &ExecOptions::default())
        .unwrap();
    assert_eq!(out, "root-root");
}

#[test]
fn parse_errors_name_file_and_line() {
    let mut t = Templates::new(registry());
    let err = t
        .parse("chart/templates/a.yaml", "a\nb\n{{ .x }")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"template: chart/templates/a.yaml:3: unexpected "}" in operand"#
    );
}

#[test]
fn missing_template_error() {
    let t = Templates::new(registry());
    let err = t
        .execute("x", &Value::Nil, &ExecOptions::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"template: no template "x" associated with template "gotpl""#
    );
}

#[test]
fn tpl_parses_under_the_root_name_and_sees_defines() {
    let mut t = Templates::new(registry());
    t.parse("a.yaml", r#"{{ define "d" }}D{{ end }}{{ tpl .t . }}"#)
        .unwrap();
    let mut m = BTreeMap::new();
    m.insert(
        "t".to_string(),
        Value::str(r#"{{ define "e" }}E{{ end }}{{ include "d" . }}{{ include "e" . }}{{ .zz }}"#),
    );
    let out = t
        .execute("a.yaml", &Value::map(m.clone()), &ExecOptions::default())
        .unwrap();
    assert_eq!(out, "DE");
    m.insert("t".to_string(), Value::str("{{ .a.b }}"));
    let err = t
        .execute("a.yaml", &Value::map(m), &ExecOptions::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "template: a.yaml:1:29: executing \"a.yaml\" at <tpl .t .>: error calling tpl: \
         error during tpl function execution for \"{{ .a.b }}\": template: gotpl:1:5: \
         executing \"gotpl\" at <.a.b>: nil pointer evaluating interface {}.b"
    );
    // The tpl's defines stay out of the original set.
    assert!(!t.has("e"));
}

#[test]
fn lookup_defaults_to_empty_map_and_uses_hook() {
    fn lookup(c: &mut dyn Context, a: Vec<Value>) -> FuncResult {
        let s: Vec<&str> = a.iter().map(|v| v.as_str().unwrap_or("")).collect();
        c.lookup(s[0], s[1], s[2], s[3])
    }
    let mut reg = Registry::new();
    reg.add("lookup", &[GoType::String; 4], None, lookup);
    let mut t = Templates::new(Arc::new(reg));
    t.parse("x", r#"{{ lookup "v1" "Pod" "ns" "p" | len }}"#)
        .unwrap();
    assert_eq!(
        t.execute("x", &Value::Nil, &ExecOptions::default())
            .unwrap(),
        "0"
    );
    let opts = ExecOptions {
        lookup: Some(Arc::new(|_: &str, kind: &str, _: &str, _: &str| {
            Ok(Value::list(vec![Value::str(kind), Value::str(kind)]))
        })),
        ..ExecOptions::default()
    };
    assert_eq!(t.execute("x", &Value::Nil, &opts).unwrap(), "2");
}

#[test]
fn parsed_set_is_shared_across_threads() {
    let mut t = Templates::new(registry());
    t.parse("x", "{{ range . }}{{ . }}{{ end }}").unwrap();
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let t = t.clone();
            std::thread::spawn(move || {
                let data = Value::list(vec![Value::Int(i), Value::Int(i)]);
                t.execute("x", &data, &ExecOptions::default()).unwrap()
            })
        })
        .collect();
    let outs: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(outs, vec!["00", "11"]);
}

#[test]
fn objects_expose_fields_and_methods() {
    struct Caps;
    impl crate::value::Object for Caps {
        fn type_name(&self) -> &str {
            "*chartutil.Capabilities"
        }
        fn kind_name(&self) -> &str {
            "ptr"
        }
        fn field(&self, name: &str) -> Option<Value> {
            (name == "KubeVersion").then(|| Value::str("v1.30.0"))
        }
        fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
            (name == "Has").then(|| match args {
                [Value::String(s)] => Ok(Value::Bool(&**s == "v1")),
                _ => Err(format!(
                    "wrong number of args for Has: want 1 got {}",
                    args.len()
                )),
            })
        }
        fn has_method(&self, name: &str) -> bool {
            name == "Has"
        }
        fn format_v(&self) -> String {
            "{caps}".into()
        }
        fn format_print(&self) -> String {
            "caps".into()
        }
        fn method_signature(&self, name: &str) -> Option<(&'static [GoType], Option<GoType>)> {
            (name == "Has").then_some((&[GoType::String][..], None))
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }
    let mut m = BTreeMap::new();
    m.insert(
        "Capabilities".to_string(),
        Value::Object(std::rc::Rc::new(Caps)),
    );
    let data = Value::map(m);
    let mut t = Templates::new(registry());
    t.parse("x", r#"{{ .Capabilities.KubeVersion }} {{ .Capabilities.Has "v1" }} {{ .Capabilities.Has "x" }}"#)
        .unwrap();
    assert_eq!(
        t.execute("x", &data, &ExecOptions::default()).unwrap(),
        "v1.30.0 true false"
    );
    t.parse("y", "{{ .Capabilities.Nope }}").unwrap();
    let err = t.execute("y", &data, &ExecOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "template: y:1:16: executing \"y\" at <.Capabilities.Nope>: can't evaluate field Nope in type interface {}"
    );
    t.parse("z", "{{ .Capabilities.Has }}").unwrap();
    let err = t.execute("z", &data, &ExecOptions::default()).unwrap_err();
    // Go checks a method's argument count itself (no "error calling").
    assert_eq!(
        err.to_string(),
        "template: z:1:16: executing \"z\" at <.Capabilities.Has>: wrong number of args for Has: want 1 got 0"
    );
    t.parse(
        "p",
        r#"{{ .Capabilities }} {{ printf "%v" .Capabilities }} {{ .Capabilities.Has 1 }}"#,
    )
    .unwrap();
    let err = t.execute("p", &data, &ExecOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("at <1>: expected string; found 1"),
        "{err}"
    );
    t.parse(
        "q",
        r#"{{ .Capabilities }} {{ printf "%v" .Capabilities }}"#,
    )
    .unwrap();
    assert_eq!(
        t.execute("q", &data, &ExecOptions::default()).unwrap(),
        "caps {caps}"
    );
}

#[test]
fn custom_delimiters() {
    // Go: template.New("t").Delims("[[", "]]").Option("missingkey=zero")
    // prints `1 {{ .a }}x` and then fails with the error below.
    let mut t = Templates::new(registry());
    t.set_delims("[[", "]]");
    t.parse("t", "[[ .a ]] {{ .a }} [[- /* c */ -]] x\n[[ .b.c ]]")
        .unwrap();
    let mut m = BTreeMap::new();
    m.insert("a".to_string(), Value::Int(1));
    let err = t
        .execute("t", &Value::map(m), &ExecOptions::default())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "template: t:2:5: executing \"t\" at <.b.c>: nil pointer evaluating interface {}.c"
    );
    t.parse("u", "[[ .a ]] {{ .a }} [[- /* c */ -]] x").unwrap();
    let mut m = BTreeMap::new();
    m.insert("a".to_string(), Value::Int(1));
    let out = t
        .execute("u", &Value::map(m), &ExecOptions::default())
        .unwrap();
    assert_eq!(out, "1 {{ .a }}x");
}

#[test]
fn multi_line_parse_errors() {
    // Go 1.26 messages.
    let mut t = Templates::new(registry());
    let e = t.parse("t", "a\n{{ if\n.x }}{{ \"x }}").unwrap_err();
    assert_eq!(e.to_string(), "template: t:3: unterminated quoted string");
    let e = t.parse("t", "{{ .x\n\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "template: t:3: unclosed action started at t:1"
    );
}
