//! Template functions: Sprig's list functions (`list.go`, Sprig v3.3.0).
//!
//! Sprig takes lists as `interface{}` and walks them with reflection, so
//! any slice works (`[]interface {}`, `[]string` from `splitList`, …) and
//! everything else fails with Sprig's message ("Cannot push on type
//! string"), from the `must*` variant as an error and from the plain one as
//! a panic with the same text. A nil list makes Go call `Kind()` on a nil
//! `reflect.Type`, which is a nil pointer dereference in both variants.

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::funcs::reflection::deep_equal;
use crate::funcs::strings::arg_int;
use crate::value::{GoType, List, Value};

use GoType::{Int, Interface};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    reg.add("list", &[], Some(Interface), list);
    reg.add("tuple", &[], Some(Interface), list);
    reg.add("append", &[Interface, Interface], None, push);
    reg.add("push", &[Interface, Interface], None, push);
    reg.add("mustAppend", &[Interface, Interface], None, push);
    reg.add("mustPush", &[Interface, Interface], None, push);
    reg.add("prepend", &[Interface, Interface], None, prepend);
    reg.add("mustPrepend", &[Interface, Interface], None, prepend);
    reg.add("first", &[Interface], None, first);
    reg.add("mustFirst", &[Interface], None, first);
    reg.add("rest", &[Interface], None, rest);
    reg.add("mustRest", &[Interface], None, rest);
    reg.add("last", &[Interface], None, last);
    reg.add("mustLast", &[Interface], None, last);
    reg.add("initial", &[Interface], None, initial);
    reg.add("mustInitial", &[Interface], None, initial);
    reg.add("reverse", &[Interface], None, reverse);
    reg.add("mustReverse", &[Interface], None, reverse);
    reg.add("uniq", &[Interface], None, uniq);
    reg.add("mustUniq", &[Interface], None, uniq);
    reg.add("without", &[Interface], Some(Interface), without);
    reg.add("mustWithout", &[Interface], Some(Interface), without);
    reg.add("has", &[Interface, Interface], None, has);
    reg.add("mustHas", &[Interface, Interface], None, has);
    reg.add("slice", &[Interface], Some(Interface), slice);
    reg.add("mustSlice", &[Interface], Some(Interface), slice);
    reg.add("concat", &[], Some(Interface), concat);
    reg.add("chunk", &[Int, Interface], None, chunk);
    reg.add("mustChunk", &[Int, Interface], None, chunk);
    reg.add("compact", &[Interface], None, compact);
    reg.add("mustCompact", &[Interface], None, compact);
}

/// Go's runtime message for calling a method through a nil pointer, which
/// is what `reflect.TypeOf(nil).Kind()` ends in.
pub(crate) const NIL_DEREF: &str =
    "runtime error: invalid memory address or nil pointer dereference";

/// The elements of a Go slice value, or the `reflect.Kind` name of a value
/// that is not one (`Err(None)` for nil).
pub(crate) fn slice_items(v: &Value) -> Result<Vec<Value>, Option<String>> {
    match &*v.slice_view() {
        Value::List(l) => Ok(l.items.as_ref().clone()),
        // A []byte's elements are uint8.
        Value::Bytes(b) => Ok(b.iter().map(|x| Value::Uint8(*x)).collect()),
        Value::Nil => Err(None),
        other => Err(Some(other.kind_name().to_string())),
    }
}

/// `slice_items`, with Sprig's error for non-slices: `msg` gets the kind
/// name for its `%s`.
/// Copying a list is charged to the evaluation budget by its length, so
/// that a template appending in a loop cannot run unbounded quadratic work.
fn items_or(ctx: &mut dyn Context, v: &Value, msg: &str) -> Result<Vec<Value>, FuncError> {
    let items = slice_items(v).map_err(|kind| match kind {
        None => FuncError::new(NIL_DEREF),
        Some(kind) => FuncError::new(msg.replace("%s", &kind)),
    })?;
    ctx.charge(items.len() as u64)?;
    Ok(items)
}

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

fn interface_list(items: Vec<Value>) -> Value {
    Value::List(List::new(items))
}

fn list(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    ctx.charge(args.len() as u64)?;
    Ok(interface_list(args))
}

fn push(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let mut items = items_or(ctx, arg(&args, 0), "Cannot push on type %s")?;
    items.push(arg(&args, 1).clone());
    Ok(interface_list(items))
}

fn prepend(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let items = items_or(ctx, arg(&args, 0), "Cannot prepend on type %s")?;
    let mut out = Vec::with_capacity(items.len() + 1);
    out.push(arg(&args, 1).clone());
    out.extend(items);
    Ok(interface_list(out))
}

/// One element of a slice by position from the start (or, with
/// `from_end`, from the end), without copying the list: `first` and `last`
/// are O(1) in Go and are often called inside loops.
fn element(v: &Value, from_end: bool, msg: &str) -> FuncResult {
    let pick = |len: usize| match (len, from_end) {
        (0, _) => None,
        (n, true) => Some(n - 1),
        (_, false) => Some(0),
    };
    match &*v.slice_view() {
        Value::List(l) => Ok(pick(l.len())
            .and_then(|i| l.items.get(i).cloned())
            .unwrap_or(Value::Nil)),
        Value::Bytes(b) => Ok(pick(b.len())
            .and_then(|i| b.get(i))
            .map(|x| Value::Uint8(*x))
            .unwrap_or(Value::Nil)),
        Value::Nil => Err(FuncError::new(NIL_DEREF)),
        other => Err(FuncError::new(msg.replace("%s", other.kind_name()))),
    }
}

fn first(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    element(arg(&args, 0), false, "Cannot find first on type %s")
}

fn last(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    element(arg(&args, 0), true, "Cannot find last on type %s")
}

fn rest(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let items = items_or(ctx, arg(&args, 0), "Cannot find rest on type %s")?;
    // An empty list gives a nil []interface {} (`null` in JSON).
    if items.is_empty() {
        return Ok(Value::List(List::nil(GoType::Interface)));
    }
    Ok(interface_list(items.into_iter().skip(1).collect()))
}

fn initial(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let mut items = items_or(ctx, arg(&args, 0), "Cannot find initial on type %s")?;
    // As in `rest`: nil for an empty list.
    if items.pop().is_none() {
        return Ok(Value::List(List::nil(GoType::Interface)));
    }
    Ok(interface_list(items))
}

fn reverse(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let mut items = items_or(ctx, arg(&args, 0), "Cannot find reverse on type %s")?;
    items.reverse();
    Ok(interface_list(items))
}

fn in_list(haystack: &[Value], needle: &Value) -> bool {
    haystack.iter().any(|h| deep_equal(needle, h))
}

fn uniq(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let items = items_or(ctx, arg(&args, 0), "Cannot find uniq on type %s")?;
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        ctx.charge(out.len() as u64)?;
        if !in_list(&out, &item) {
            out.push(item);
        }
    }
    Ok(interface_list(out))
}

fn without(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let items = items_or(ctx, arg(&args, 0), "Cannot find without on type %s")?;
    let omit = args.get(1..).unwrap_or(&[]);
    ctx.charge((items.len() as u64).saturating_mul(omit.len() as u64))?;
    Ok(interface_list(
        items.into_iter().filter(|x| !in_list(omit, x)).collect(),
    ))
}

fn has(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let haystack = arg(&args, 1);
    if haystack.is_nil() {
        return Ok(Value::Bool(false));
    }
    let needle = arg(&args, 0);
    if let Value::List(l) = haystack {
        // A scan, not a copy; charged by length like the other walks.
        ctx.charge(l.len() as u64)?;
        return Ok(Value::Bool(in_list(&l.items, needle)));
    }
    let items = items_or(ctx, haystack, "Cannot find has on type %s")?;
    Ok(Value::Bool(in_list(&items, needle)))
}

/// Go's `int(f)` for a float64 on amd64: truncation, and the "integer
/// indefinite" value for NaN and out-of-range inputs.
pub(crate) fn go_float_to_int(f: f64) -> i64 {
    // 2^63 as f64; every float in [-2^63, 2^63) converts exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f.trunc() as i64
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: sign, base prefix (`0x`, `0o`, `0b`,
/// or a leading `0` for octal) and `_` digit separators after a prefix.
pub(crate) fn go_parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (base, digits, prefixed) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest.to_string(), true)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest.to_string(), true)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    if digits.contains('_') && !underscores_ok(&lower, prefixed) {
        return None;
    }
    let digits: String = digits.chars().filter(|c| *c != '_').collect();
    if digits.is_empty() {
        return None;
    }
    let magnitude = u128::from_str_radix(&digits, base).ok()?;
    let value = if neg {
        -(magnitude as i128)
    } else {
        magnitude as i128
    };
    i64::try_from(value).ok()
}

/// Go's `underscoreOK`: underscores only between digits, or between the
/// base prefix and a digit; never without a prefix.
fn underscores_ok(s: &str, prefixed: bool) -> bool {
    if !prefixed {
        return false;
    }
    // '^' stands for "after a digit or a base prefix", '_' for "after an
    // underscore", '!' for anything else.
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut saw = '^';
    if bytes.len() >= 2 && bytes[0] == b'0' && bytes[1].is_ascii_alphabetic() {
        i = 2;
    }
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_hexdigit() {
            saw = '0';
        } else if c == b'_' {
            if saw != '0' && saw != '^' {
                return false;
            }
            saw = '_';
        } else {
            if saw == '_' {
                return false;
            }
            saw = '!';
        }
        i += 1;
    }
    saw != '_'
}

/// spf13/cast `ToInt` (v1.7.0): numbers truncate, strings parse with base
/// prefixes (a trailing ".0…" is ignored), bools are 0/1, anything else 0.
pub(crate) fn cast_to_int(v: &Value) -> i64 {
    match v {
        Value::Int(n) | Value::Int64(n) => *n,
        Value::Int32(n) => i64::from(*n),
        Value::Uint64(n) => *n as i64,
        Value::Uint8(n) => i64::from(*n),
        Value::Float(f) => go_float_to_int(*f),
        Value::String(s) => go_parse_int_base0(trim_zero_decimal(s)).unwrap_or(0),
        Value::Bool(b) => i64::from(*b),
        _ => 0,
    }
}

/// cast's `trimZeroDecimal`: "12.00" → "12", "12.50" unchanged.
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (1..=b.len()).rev() {
        match b[i - 1] {
            b'.' => {
                if found_zero {
                    return &s[..i - 1];
                }
            }
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

fn slice(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let list = arg(&args, 0).slice_view();
    let list = &*list;
    let len = match list {
        Value::List(l) => l.len(),
        Value::Bytes(b) => b.len(),
        Value::Nil => return Err(FuncError::new(NIL_DEREF)),
        other => {
            return Err(FuncError::new(format!(
                "list should be type of slice or array but {}",
                other.kind_name()
            )))
        }
    };
    if len == 0 {
        return Ok(Value::Nil);
    }
    let start = args.get(1).map(cast_to_int).unwrap_or(0);
    let end = if args.len() < 3 {
        len as i64
    } else {
        cast_to_int(&args[2])
    };
    // The result keeps the list's own type (reflect.Value.Slice).
    if start < 0 || end < start || end > len as i64 {
        return Err(FuncError::new(
            "reflect.Value.Slice: slice index out of bounds",
        ));
    }
    let (start, end) = (start as usize, end as usize);
    ctx.charge((end - start) as u64)?;
    Ok(match list {
        Value::List(l) => Value::List(List::typed(l.items[start..end].to_vec(), l.elem)),
        Value::Bytes(b) => Value::Bytes(b[start..end].into()),
        _ => Value::Nil,
    })
}

fn concat(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let mut out = Vec::new();
    for list in &args {
        match slice_items(list) {
            Ok(items) => {
                ctx.charge(items.len() as u64)?;
                out.extend(items);
            }
            Err(None) => return Err(FuncError::new(NIL_DEREF)),
            Err(Some(kind)) => {
                return Err(FuncError::new(format!("Cannot concat type {kind} as list")))
            }
        }
    }
    // Appending nothing leaves Sprig's `var res []interface{}` nil.
    if out.is_empty() {
        return Ok(Value::List(List::nil(GoType::Interface)));
    }
    Ok(interface_list(out))
}

fn chunk(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let size = arg_int(&args, 0)?;
    let items = items_or(ctx, arg(&args, 1), "Cannot chunk type %s")?;
    let len = items.len() as i64;
    // Sprig computes the chunk count in float64; replay it, including what
    // a zero or negative size does there.
    let count = go_float_to_int(((len - 1) as f64 / size as f64).floor() + 1.0);
    const MAKESLICE: &str = "runtime error: makeslice: len out of range";
    if count < 0 {
        return Err(FuncError::new(MAKESLICE));
    }
    ctx.charge(count as u64)?;
    let mut out = Vec::with_capacity(count.min(len + 1) as usize);
    for i in 0..count {
        let mut clen = size;
        if i == count - 1 {
            clen = go_float_to_int((len as f64 % size as f64).floor());
            if clen == 0 {
                clen = size;
            }
        }
        if clen < 0 {
            return Err(FuncError::new(MAKESLICE));
        }
        let mut part = Vec::with_capacity(clen as usize);
        for j in 0..clen {
            let ix = i * size + j;
            let item = usize::try_from(ix)
                .ok()
                .and_then(|ix| items.get(ix))
                .ok_or_else(|| FuncError::new("reflect: slice index out of range"))?;
            part.push(item.clone());
        }
        out.push(interface_list(part));
    }
    Ok(Value::List(List::typed(out, GoType::InterfaceSlice)))
}

fn compact(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let items = items_or(ctx, arg(&args, 0), "Cannot compact on type %s")?;
    Ok(interface_list(
        items.into_iter().filter(|x| !x.is_empty()).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::strings::test_support::{call, i, s, show};

    fn reg() -> Registry {
        let mut reg = Registry::new();
        register(&mut reg);
        reg
    }

    fn l(items: Vec<Value>) -> Value {
        Value::list(items)
    }

    // Expectations: Sprig v3.3.0 behaviour observed through Helm v4.3.1.

    #[test]
    fn basic_list_operations() {
        let r = reg();
        let abc = l(vec![s("a"), s("b"), s("c")]);
        assert_eq!(show(&r, "append", vec![abc.clone(), s("d")]), "[a b c d]");
        assert_eq!(show(&r, "prepend", vec![abc.clone(), s("z")]), "[z a b c]");
        assert_eq!(show(&r, "first", vec![abc.clone()]), "a");
        assert_eq!(show(&r, "last", vec![abc.clone()]), "c");
        assert_eq!(show(&r, "rest", vec![abc.clone()]), "[b c]");
        assert_eq!(show(&r, "initial", vec![abc.clone()]), "[a b]");
        assert_eq!(show(&r, "reverse", vec![abc.clone()]), "[c b a]");
        assert_eq!(show(&r, "first", vec![l(vec![])]), "<nil>");
        assert_eq!(show(&r, "rest", vec![l(vec![])]), "[]");
    }

    #[test]
    fn errors_name_the_kind() {
        let r = reg();
        assert_eq!(
            show(&r, "append", vec![s("x"), i(1)]),
            "ERR: Cannot push on type string"
        );
        assert_eq!(
            show(&r, "first", vec![Value::Nil]),
            format!("ERR: {NIL_DEREF}")
        );
        assert_eq!(
            show(&r, "mustSlice", vec![s("abc"), i(1)]),
            "ERR: list should be type of slice or array but string"
        );
        assert_eq!(
            show(&r, "concat", vec![l(vec![i(1)]), Value::Float(1.0)]),
            "ERR: Cannot concat type float64 as list"
        );
        assert_eq!(show(&r, "has", vec![i(1), Value::Nil]), "false");
    }

    #[test]
    fn uniq_and_without_use_deep_equality() {
        let r = reg();
        let v = l(vec![
            i(1),
            Value::Int64(1),
            i(1),
            s("1"),
            l(vec![i(2)]),
            l(vec![i(2)]),
        ]);
        assert_eq!(show(&r, "uniq", vec![v.clone()]), "[1 1 1 [2]]");
        assert_eq!(
            show(&r, "without", vec![v.clone(), i(1), s("1")]),
            "[1 [2] [2]]"
        );
        assert_eq!(show(&r, "has", vec![Value::Float(1.0), v]), "false");
    }

    #[test]
    fn slice_keeps_type_and_checks_bounds() {
        let r = reg();
        let strs = Value::strings(vec!["a".into(), "b".into(), "c".into()]);
        let out = call(&r, "slice", vec![strs.clone(), i(1)]).unwrap_or(Value::Nil);
        assert_eq!(out.type_name(), "[]string");
        assert_eq!(crate::fmt::format_v(&out), "[b c]");
        assert_eq!(
            show(&r, "slice", vec![strs.clone(), s("1"), Value::Float(2.9)]),
            "[b]"
        );
        assert_eq!(
            show(&r, "slice", vec![strs, i(2), i(1)]),
            "ERR: reflect.Value.Slice: slice index out of bounds"
        );
        let empty = call(&r, "slice", vec![l(vec![]), i(0)]).unwrap_or(Value::Int(0));
        assert!(empty.is_nil());
    }

    #[test]
    fn chunk_replays_float_arithmetic() {
        let r = reg();
        let five = l(vec![i(1), i(2), i(3), i(4), i(5)]);
        assert_eq!(
            show(&r, "chunk", vec![i(2), five.clone()]),
            "[[1 2] [3 4] [5]]"
        );
        assert_eq!(show(&r, "chunk", vec![i(5), five.clone()]), "[[1 2 3 4 5]]");
        assert_eq!(show(&r, "chunk", vec![i(2), l(vec![])]), "[]");
        assert_eq!(
            show(&r, "chunk", vec![i(0), five.clone()]),
            "ERR: runtime error: makeslice: len out of range"
        );
        assert_eq!(
            show(&r, "chunk", vec![i(-5), l(vec![i(1), i(2), i(3)])]),
            "[]"
        );
        let t = call(&r, "chunk", vec![i(2), five]).unwrap_or(Value::Nil);
        assert_eq!(t.type_name(), "[][]interface {}");
    }

    #[test]
    fn cast_to_int_follows_spf13_cast() {
        assert_eq!(cast_to_int(&s("0x10")), 16);
        assert_eq!(cast_to_int(&s("010")), 8);
        assert_eq!(cast_to_int(&s("12.00")), 12);
        assert_eq!(cast_to_int(&s("12.5")), 0);
        assert_eq!(cast_to_int(&s("1_000")), 0);
        assert_eq!(cast_to_int(&s("0x1_0")), 16);
        assert_eq!(cast_to_int(&Value::Float(-2.7)), -2);
        assert_eq!(cast_to_int(&Value::Bool(true)), 1);
        assert_eq!(cast_to_int(&Value::Nil), 0);
    }

    #[test]
    fn copies_are_charged_to_the_budget() {
        let r = reg();
        let big = l((0..100).map(i).collect());
        let push = r.get("append").map(|f| f.call);
        let mut small = crate::funcs::strings::test_support::TestCtx { budget: 50 };
        let out = push.map(|f| f(&mut small, vec![big.clone(), i(1)]));
        assert!(matches!(out, Some(Err(_))));
        let uniq = r.get("uniq").map(|f| f.call);
        let mut medium = crate::funcs::strings::test_support::TestCtx { budget: 1000 };
        let out = uniq.map(|f| f(&mut medium, vec![big]));
        assert!(
            matches!(out, Some(Err(_))),
            "uniq is quadratic and must be charged so"
        );
    }

    #[test]
    fn compact_drops_empty_values() {
        let r = reg();
        let v = l(vec![
            i(0),
            s(""),
            Value::Nil,
            Value::Bool(false),
            s("a"),
            l(vec![]),
            i(3),
        ]);
        assert_eq!(show(&r, "compact", vec![v]), "[a 3]");
    }
}
