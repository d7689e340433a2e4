//! Template functions: Sprig's defaults and logic (`defaults.go`, Sprig
//! v3.3.0) and Sprig's `fail` (Helm replaces `fail` with its own later).
//!
//! "Empty" is Sprig's rule (`Value::is_empty`): nil, false, zero numbers,
//! and empty strings, slices and maps; structs never are.

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::funcs::strings::arg_str;
use crate::value::{GoType, Value};

use GoType::{Bool, Interface, String as Str};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    reg.add("default", &[Interface], Some(Interface), default);
    reg.add("empty", &[Interface], None, empty);
    reg.add("coalesce", &[], Some(Interface), coalesce);
    reg.add("all", &[], Some(Interface), all);
    reg.add("any", &[], Some(Interface), any);
    reg.add("ternary", &[Interface, Interface, Bool], None, ternary);
    reg.add("fail", &[Str], None, fail);
}

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

fn default(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    // Only the first of the variadic values counts.
    match args.get(1) {
        Some(given) if !given.is_empty() => Ok(given.clone()),
        _ => Ok(arg(&args, 0).clone()),
    }
}

fn empty(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Bool(arg(&args, 0).is_empty()))
}

fn coalesce(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(args
        .into_iter()
        .find(|v| !v.is_empty())
        .unwrap_or(Value::Nil))
}

fn all(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Bool(args.iter().all(|v| !v.is_empty())))
}

fn any(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Bool(args.iter().any(|v| !v.is_empty())))
}

fn ternary(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let cond = match arg(&args, 2) {
        Value::Bool(b) => *b,
        other => {
            return Err(FuncError::new(format!(
                "wrong type for value; expected bool; got {}",
                other.type_name()
            )))
        }
    };
    Ok(arg(&args, if cond { 0 } else { 1 }).clone())
}

fn fail(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Err(FuncError::new(arg_str(&args, 0)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::strings::test_support::{i, s, show};

    fn reg() -> Registry {
        let mut reg = Registry::new();
        register(&mut reg);
        reg
    }

    // Sprig's documented behaviour (docs/defaults.md) and defaults.go.
    #[test]
    fn default_uses_sprig_emptiness() {
        let r = reg();
        assert_eq!(show(&r, "default", vec![s("d"), Value::Nil]), "d");
        assert_eq!(show(&r, "default", vec![s("d")]), "d");
        assert_eq!(show(&r, "default", vec![i(3), i(0)]), "3");
        assert_eq!(
            show(&r, "default", vec![Value::Bool(true), Value::Bool(false)]),
            "true"
        );
        assert_eq!(show(&r, "default", vec![s("d"), Value::Float(0.5)]), "0.5");
        assert_eq!(show(&r, "default", vec![s("d"), Value::list(vec![])]), "d");
        assert_eq!(show(&r, "default", vec![s("d"), s(""), s("x")]), "d");
    }

    #[test]
    fn logic_helpers() {
        let r = reg();
        assert_eq!(show(&r, "empty", vec![Value::empty_map()]), "true");
        assert_eq!(show(&r, "empty", vec![Value::Float(0.0)]), "true");
        assert_eq!(
            show(&r, "coalesce", vec![Value::Nil, i(0), s("x"), s("y")]),
            "x"
        );
        assert_eq!(show(&r, "coalesce", vec![Value::Nil, s("")]), "<nil>");
        assert_eq!(show(&r, "all", vec![]), "true");
        assert_eq!(show(&r, "any", vec![]), "false");
        assert_eq!(show(&r, "all", vec![i(1), s("")]), "false");
        assert_eq!(show(&r, "any", vec![i(0), s("a")]), "true");
        assert_eq!(
            show(&r, "ternary", vec![s("y"), s("n"), Value::Bool(false)]),
            "n"
        );
        assert_eq!(show(&r, "fail", vec![s("boom")]), "ERR: boom");
    }
}
