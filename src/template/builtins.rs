//! Go's builtin template functions (`and`, `or`, `not`, `len`, `index`,
//! `slice`, `print*`, `html`, `js`, `urlquery`, `call`, `eq`…`ge`), with
//! Go's argument handling and error texts.

use crate::ast::Arg;
use crate::exec::{At, Exec, ParamType, Val, R};
use crate::value::{GoType, List, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Print,
    Printf,
    Println,
    Html,
    Js,
    Urlquery,
    Call,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Builtin {
    pub fn from_name(name: &str) -> Option<Builtin> {
        Some(match name {
            "and" => Builtin::And,
            "or" => Builtin::Or,
            "not" => Builtin::Not,
            "len" => Builtin::Len,
            "index" => Builtin::Index,
            "slice" => Builtin::Slice,
            "print" => Builtin::Print,
            "printf" => Builtin::Printf,
            "println" => Builtin::Println,
            "html" => Builtin::Html,
            "js" => Builtin::Js,
            "urlquery" => Builtin::Urlquery,
            "call" => Builtin::Call,
            "eq" => Builtin::Eq,
            "ne" => Builtin::Ne,
            "lt" => Builtin::Lt,
            "le" => Builtin::Le,
            "gt" => Builtin::Gt,
            "ge" => Builtin::Ge,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Builtin::And => "and",
            Builtin::Or => "or",
            Builtin::Not => "not",
            Builtin::Len => "len",
            Builtin::Index => "index",
            Builtin::Slice => "slice",
            Builtin::Print => "print",
            Builtin::Printf => "printf",
            Builtin::Println => "println",
            Builtin::Html => "html",
            Builtin::Js => "js",
            Builtin::Urlquery => "urlquery",
            Builtin::Call => "call",
            Builtin::Eq => "eq",
            Builtin::Ne => "ne",
            Builtin::Lt => "lt",
            Builtin::Le => "le",
            Builtin::Gt => "gt",
            Builtin::Ge => "ge",
        }
    }

    /// Go signature: fixed parameter types and the variadic element type.
    fn signature(self) -> (&'static [ParamType], Option<ParamType>) {
        const R1: &[ParamType] = &[ParamType::Reflect];
        const R2: &[ParamType] = &[ParamType::Reflect, ParamType::Reflect];
        const S1: &[ParamType] = &[ParamType::Go(GoType::String)];
        const IFACE: ParamType = ParamType::Go(GoType::Interface);
        match self {
            Builtin::And
            | Builtin::Or
            | Builtin::Index
            | Builtin::Slice
            | Builtin::Call
            | Builtin::Eq => (R1, Some(ParamType::Reflect)),
            Builtin::Not | Builtin::Len => (R1, None),
            Builtin::Print | Builtin::Println | Builtin::Html | Builtin::Js | Builtin::Urlquery => {
                (&[], Some(IFACE))
            }
            Builtin::Printf => (S1, Some(IFACE)),
            Builtin::Ne | Builtin::Lt | Builtin::Le | Builtin::Gt | Builtin::Ge => (R2, None),
        }
    }
}

/// Evaluate a builtin call: `args` excludes the function name.
pub(crate) fn call<'a>(
    ex: &mut Exec<'a, '_>,
    b: Builtin,
    dot: &Val,
    node: At<'a>,
    args: &'a [Arg],
    final_: Option<Val>,
) -> R<Val> {
    let name = b.name();
    let (fixed, variadic) = b.signature();
    let num_in = args.len() + usize::from(final_.is_some());
    let num_fixed = fixed.len();
    if variadic.is_some() {
        if num_in < num_fixed {
            return Err(ex.err(format_args!(
                "wrong number of args for {name}: want at least {num_fixed} got {}",
                args.len()
            )));
        }
    } else if num_in != num_fixed {
        return Err(ex.err(format_args!(
            "wrong number of args for {name}: want {num_fixed} got {num_in}"
        )));
    }
    ex.step(1)?;
    if matches!(b, Builtin::And | Builtin::Or) {
        let want = b == Builtin::Or;
        let mut v = Val::invalid();
        for a in args {
            v = ex.eval_arg(dot, ParamType::Reflect, a)?;
            if v.v.truthy() == want {
                return Ok(v);
            }
        }
        if let Some(f) = final_ {
            v = f;
        }
        return Ok(v);
    }
    let mut argv: Vec<Val> = Vec::with_capacity(num_in);
    for (i, a) in args.iter().enumerate() {
        let t = if i < num_fixed {
            fixed[i]
        } else {
            variadic.unwrap_or(ParamType::Reflect)
        };
        argv.push(ex.eval_arg(dot, t, a)?);
    }
    if let Some(f) = final_ {
        let t = match variadic {
            Some(vt) if num_in > num_fixed => vt,
            _ => fixed[num_in - 1],
        };
        argv.push(ex.validate_type(f, t)?);
    }
    let r = match b {
        Builtin::Not => Ok(Val::of(Value::Bool(!argv[0].v.truthy()))),
        Builtin::Len => length(&argv[0]).map(|n| Val::of(Value::Int(n))),
        Builtin::Index => index(&argv[0], &argv[1..]),
        Builtin::Slice => slice(&argv[0], &argv[1..]),
        Builtin::Print => {
            let vals: Vec<Value> = argv.into_iter().map(|v| v.v).collect();
            let s = crate::fmt::sprint(&vals);
            charge_len(ex, s.len())?;
            Ok(Val::of(Value::string(s)))
        }
        Builtin::Println => {
            let vals: Vec<Value> = argv.into_iter().map(|v| v.v).collect();
            let s = crate::fmt::sprintln(&vals);
            charge_len(ex, s.len())?;
            Ok(Val::of(Value::string(s)))
        }
        Builtin::Printf => {
            let format = argv[0].v.as_str().unwrap_or("").to_string();
            let vals: Vec<Value> = argv.into_iter().skip(1).map(|v| v.v).collect();
            let s = crate::fmt::sprintf(&format, &vals);
            charge_len(ex, s.len())?;
            Ok(Val::of(Value::string(s)))
        }
        Builtin::Html => Ok(Val::of(Value::string(html_escape(&eval_args(&argv))))),
        Builtin::Js => Ok(Val::of(Value::string(js_escape(&eval_args(&argv))))),
        Builtin::Urlquery => Ok(Val::of(Value::string(query_escape(&eval_args(&argv))))),
        Builtin::Call => {
            let callee = match args.first() {
                Some(a) => a.to_string(),
                None => "<reflect.Value>".to_string(),
            };
            let f = argv[0].clone().indirect_interface();
            if f.v.is_nil() {
                Err("call of nil".to_string())
            } else {
                Err(format!("non-function {callee} of type {}", f.v.type_name()))
            }
        }
        Builtin::Eq => eq(&argv[0], &argv[1..]).map(|b| Val::of(Value::Bool(b))),
        Builtin::Ne => eq(&argv[0], &argv[1..]).map(|b| Val::of(Value::Bool(!b))),
        Builtin::Lt => lt(&argv[0], &argv[1]).map(|b| Val::of(Value::Bool(b))),
        Builtin::Le => le(&argv[0], &argv[1]).map(|b| Val::of(Value::Bool(b))),
        Builtin::Gt => le(&argv[0], &argv[1]).map(|b| Val::of(Value::Bool(!b))),
        Builtin::Ge => lt(&argv[0], &argv[1]).map(|b| Val::of(Value::Bool(!b))),
        Builtin::And | Builtin::Or => Ok(Val::invalid()),
    };
    r.map_err(|msg| {
        ex.node = node;
        ex.err(format_args!("error calling {name}: {msg}"))
    })
}

/// Strings built by the print family count against both budgets, so
/// that doubling a string in a loop cannot exhaust memory.
fn charge_len(ex: &mut Exec<'_, '_>, n: usize) -> R<()> {
    ex.step(n as u64 / 64)?;
    ex.count_output(n)
}

/// Go's `evalArgs` for `html`, `js` and `urlquery`: one string argument
/// is used as is; otherwise `fmt.Sprint` with "no value" for nil.
fn eval_args(args: &[Val]) -> String {
    if let [one] = args {
        if let Value::String(s) = &one.v {
            return s.to_string();
        }
    }
    let vals: Vec<Value> = args
        .iter()
        .map(|a| {
            if a.v.is_nil() {
                Value::str("<no value>")
            } else {
                a.v.clone()
            }
        })
        .collect();
    crate::fmt::sprint(&vals)
}

/// Go's `template.HTMLEscapeString`.
pub(crate) fn html_escape(s: &str) -> String {
    if !s.contains(['\'', '"', '&', '<', '>', '\0']) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Go's `template.JSEscapeString`.
pub(crate) fn js_escape(s: &str) -> String {
    let special = |c: char| {
        matches!(c, '\\' | '\'' | '"' | '<' | '>' | '&' | '=') || c < ' ' || !c.is_ascii()
    };
    if !s.contains(special) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if !special(c) {
            out.push(c);
            continue;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if c.is_ascii() => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c => {
                if crate::printable::is_print(c) {
                    out.push(c);
                } else {
                    out.push_str(&format!("\\u{:04X}", c as u32));
                }
            }
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn length(v: &Val) -> Result<i64, String> {
    match &*v.v.slice_view() {
        Value::Nil if v.iface => Err("len of nil pointer".into()),
        // Go calls Type() on the invalid reflect.Value and recovers the panic.
        Value::Nil => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Value::String(s) => Ok(s.len() as i64),
        Value::Bytes(b) => Ok(b.len() as i64),
        Value::List(l) => Ok(l.len() as i64),
        Value::Map(m) => Ok(m.len() as i64),
        other => Err(format!("len of type {}", other.type_name())),
    }
}

/// Go's `indexArg`.
fn index_arg(i: &Val, cap: usize) -> Result<usize, String> {
    let x: i64 = match &i.v {
        Value::Int(n) | Value::Int64(n) => *n,
        Value::Int32(n) => i64::from(*n),
        Value::Uint64(u) => *u as i64,
        Value::Uint8(u) => i64::from(*u),
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.type_name()
            ))
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &Val, indexes: &[Val]) -> Result<Val, String> {
    let mut item = item.clone().indirect_interface();
    if item.v.is_nil() {
        return Err("index of untyped nil".into());
    }
    for idx in indexes {
        if item.v.is_nil() {
            return Err("index of nil pointer".into());
        }
        item = match &*item.v.slice_view() {
            Value::List(l) => {
                let x = index_arg(idx, l.len())?;
                match l.items.get(x) {
                    Some(v) => Val {
                        v: v.clone(),
                        iface: l.elem == GoType::Interface,
                        addr: false,
                    },
                    None => return Err("reflect: slice index out of range".into()),
                }
            }
            Value::Bytes(b) => {
                let x = index_arg(idx, b.len())?;
                match b.get(x) {
                    Some(c) => Val::of(Value::Uint8(*c)),
                    None => return Err("reflect: slice index out of range".into()),
                }
            }
            Value::String(s) => {
                let x = index_arg(idx, s.len())?;
                match s.as_bytes().get(x) {
                    Some(c) => Val::of(Value::Uint8(*c)),
                    None => return Err("reflect: string index out of range".into()),
                }
            }
            Value::Map(m) => {
                let key = match &idx.v {
                    Value::String(k) => k.clone(),
                    Value::Nil => return Err("value is nil; should be of type string".into()),
                    other => {
                        return Err(format!(
                            "value has type {}; should be string",
                            other.type_name()
                        ))
                    }
                };
                match m.get(&key) {
                    Some(v) => Val {
                        v,
                        iface: m.elem == GoType::Interface,
                        addr: false,
                    },
                    None => match m.elem {
                        GoType::Interface => Val {
                            v: Value::Nil,
                            iface: true,
                            addr: false,
                        },
                        t => Val::of(crate::exec::zero_value(t)),
                    },
                }
            }
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

fn slice(item: &Val, indexes: &[Val]) -> Result<Val, String> {
    let mut item = item.clone().indirect_interface();
    if let Value::Object(_) = &item.v {
        item.v = item.v.slice_view().into_owned();
    }
    if item.v.is_nil() {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match &item.v {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        Value::Bytes(b) => b.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut idx = [0usize, len, len];
    for (i, v) in indexes.iter().enumerate() {
        idx[i] = index_arg(v, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    let (lo, hi) = (idx[0], idx[1]);
    Ok(Val::of(match &item.v {
        Value::String(s) => {
            Value::string(String::from_utf8_lossy(&s.as_bytes()[lo..hi]).into_owned())
        }
        Value::List(l) => Value::List(List::typed(l.items[lo..hi].to_vec(), l.elem)),
        Value::Bytes(b) => Value::Bytes(std::rc::Rc::from(&b[lo..hi])),
        _ => Value::Nil,
    }))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Uint,
    Complex,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) | Value::Int32(_) => Kind::Int,
        Value::Uint64(_) | Value::Uint8(_) => Kind::Uint,
        Value::Float(_) => Kind::Float,
        Value::Complex(..) => Kind::Complex,
        Value::String(_) => Kind::String,
        _ => Kind::Invalid,
    }
}

fn int_of(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Int32(i) => i64::from(*i),
        _ => 0,
    }
}

fn uint_of(v: &Value) -> u64 {
    match v {
        Value::Uint64(u) => *u,
        Value::Uint8(u) => u64::from(*u),
        _ => 0,
    }
}

fn float_of(v: &Value) -> f64 {
    match v {
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

/// Go's reflect kind name used when comparing non-basic values.
fn reflect_kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::List(_) | Value::Bytes(_) => "slice",
        Value::Map(_) => "map",
        Value::Object(_) => "struct",
        _ => "basic",
    }
}

/// text/template's `isNil`: an invalid value or a nil map/slice.
fn go_is_nil(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::List(l) => l.nil,
        Value::Map(m) => m.nil,
        _ => false,
    }
}

/// Go's `eq`.
fn eq(arg1: &Val, rest: &[Val]) -> Result<bool, String> {
    let a = &arg1.v;
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a);
    for arg in rest {
        let b = &arg.v;
        let k2 = basic_kind(b);
        let truth = if k1 != k2 {
            match (k1, k2) {
                (Kind::Int, Kind::Uint) => int_of(a) >= 0 && int_of(a) as u64 == uint_of(b),
                (Kind::Uint, Kind::Int) => int_of(b) >= 0 && uint_of(a) == int_of(b) as u64,
                _ => {
                    if !a.is_nil() && !b.is_nil() {
                        return Err(format!(
                            "incompatible types for comparison: {} and {}",
                            a.type_name(),
                            b.type_name()
                        ));
                    }
                    false
                }
            }
        } else {
            match k1 {
                Kind::Bool => matches!((a, b), (Value::Bool(x), Value::Bool(y)) if x == y),
                Kind::Float => float_of(a) == float_of(b),
                Kind::Complex => matches!(
                    (a, b),
                    (Value::Complex(ar, ai), Value::Complex(br, bi)) if ar == br && ai == bi
                ),
                Kind::Int => int_of(a) == int_of(b),
                Kind::String => a.as_str() == b.as_str(),
                Kind::Uint => uint_of(a) == uint_of(b),
                Kind::Invalid => {
                    let (ka, kb) = (reflect_kind(a), reflect_kind(b));
                    if ka != kb && ka != "invalid" && kb != "invalid" {
                        return Err(crate::fmt::sprintf(
                            "non-comparable types %s: %v, %s: %v",
                            &[
                                a.clone(),
                                Value::string(a.type_name()),
                                Value::string(b.type_name()),
                                b.clone(),
                            ],
                        ));
                    }
                    if go_is_nil(a) || go_is_nil(b) {
                        go_is_nil(a) == go_is_nil(b)
                    } else {
                        match (a, b) {
                            (Value::Object(x), Value::Object(y)) => {
                                std::rc::Rc::ptr_eq(x, y)
                                    || (x.type_name() == y.type_name()
                                        && x.format_v() == y.format_v())
                            }
                            _ => {
                                return Err(crate::fmt::sprintf(
                                    "non-comparable type %s: %v",
                                    &[b.clone(), Value::string(b.type_name())],
                                ))
                            }
                        }
                    }
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
fn lt(arg1: &Val, arg2: &Val) -> Result<bool, String> {
    let (a, b) = (&arg1.v, &arg2.v);
    let k1 = basic_kind(a);
    if k1 == Kind::Invalid {
        return Err("invalid type for comparison".into());
    }
    let k2 = basic_kind(b);
    if k2 == Kind::Invalid {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return match (k1, k2) {
            (Kind::Int, Kind::Uint) => Ok(int_of(a) < 0 || (int_of(a) as u64) < uint_of(b)),
            (Kind::Uint, Kind::Int) => Ok(int_of(b) >= 0 && uint_of(a) < int_of(b) as u64),
            _ => Err(format!(
                "incompatible types for comparison: {} and {}",
                a.type_name(),
                b.type_name()
            )),
        };
    }
    Ok(match k1 {
        Kind::Bool | Kind::Complex | Kind::Invalid => {
            return Err("invalid type for comparison".into())
        }
        Kind::Float => float_of(a) < float_of(b),
        Kind::Int => int_of(a) < int_of(b),
        Kind::String => a.as_str() < b.as_str(),
        Kind::Uint => uint_of(a) < uint_of(b),
    })
}

fn le(a: &Val, b: &Val) -> Result<bool, String> {
    if lt(a, b)? {
        return Ok(true);
    }
    eq(a, std::slice::from_ref(b))
}
