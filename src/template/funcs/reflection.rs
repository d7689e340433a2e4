//! Template functions: Sprig's reflection functions (`reflect.go`, Sprig
//! v3.3.0) and `deepEqual` (Go's `reflect.DeepEqual`).

use std::rc::Rc;

use crate::func::{Context, FuncResult, Registry};
use crate::funcs::strings::arg_str;
use crate::value::{GoType, Value};

use GoType::{Interface, String as Str};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    reg.add("typeOf", &[Interface], None, type_of);
    reg.add("typeIs", &[Str, Interface], None, type_is);
    reg.add("typeIsLike", &[Str, Interface], None, type_is_like);
    reg.add("kindOf", &[Interface], None, kind_of);
    reg.add("kindIs", &[Str, Interface], None, kind_is);
    reg.add("deepEqual", &[Interface, Interface], None, deep_equal_fn);
}

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

/// Whether two values have the same Go type (`reflect.TypeOf(a) ==
/// reflect.TypeOf(b)`).
fn same_type(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => x.elem == y.elem,
        (Value::Map(x), Value::Map(y)) => x.elem == y.elem && x.type_name == y.type_name,
        (Value::Object(x), Value::Object(y)) => x.type_name() == y.type_name(),
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// Go's `reflect.DeepEqual` on template values: the dynamic types must be
/// identical (an `int` 1 is not an `int64` 1 nor a `float64` 1), slices and
/// maps compare element by element, NaN is unequal to itself.
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    if !same_type(a, b) {
        return false;
    }
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Int32(x), Value::Int32(y)) => x == y,
        (Value::Uint64(x), Value::Uint64(y)) => x == y,
        (Value::Uint8(x), Value::Uint8(y)) => x == y,
        (Value::Complex(a, b), Value::Complex(c, d)) => a == c && b == d,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            // A nil slice is only equal to a nil slice; Go short-cuts a
            // slice compared with itself.
            if x.nil || y.nil {
                return x.nil == y.nil;
            }
            Rc::ptr_eq(&x.items, &y.items)
                || (x.len() == y.len()
                    && x.items
                        .iter()
                        .zip(y.items.iter())
                        .all(|(p, q)| deep_equal(p, q)))
        }
        (Value::Map(x), Value::Map(y)) => {
            if x.nil || y.nil {
                return x.nil == y.nil;
            }
            if x.same(y) {
                return true;
            }
            let (xm, ym) = (x.borrow(), y.borrow());
            xm.len() == ym.len()
                && xm
                    .iter()
                    .all(|(k, v)| ym.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y) || x.format_v() == y.format_v(),
        _ => false,
    }
}

fn type_of(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(arg(&args, 0).type_name()))
}

fn type_is(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let target = arg_str(&args, 0)?;
    Ok(Value::Bool(arg(&args, 1).type_name() == target))
}

fn type_is_like(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let target = arg_str(&args, 0)?;
    let t = arg(&args, 1).type_name();
    Ok(Value::Bool(
        t == target || t.strip_prefix('*') == Some(target),
    ))
}

fn kind_of(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::str(arg(&args, 0).kind_name()))
}

fn kind_is(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let target = arg_str(&args, 0)?;
    Ok(Value::Bool(arg(&args, 1).kind_name() == target))
}

fn deep_equal_fn(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Bool(deep_equal(arg(&args, 0), arg(&args, 1))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::strings::test_support::{i, s, show};
    use crate::value::{List, Map};
    use std::collections::BTreeMap;

    fn reg() -> Registry {
        let mut reg = Registry::new();
        register(&mut reg);
        reg
    }

    #[test]
    fn types_and_kinds() {
        let r = reg();
        assert_eq!(show(&r, "typeOf", vec![Value::Float(1.0)]), "float64");
        assert_eq!(show(&r, "typeOf", vec![Value::Nil]), "<nil>");
        assert_eq!(
            show(&r, "typeOf", vec![Value::list(vec![])]),
            "[]interface {}"
        );
        assert_eq!(show(&r, "kindOf", vec![Value::Nil]), "invalid");
        assert_eq!(show(&r, "kindOf", vec![Value::empty_map()]), "map");
        assert_eq!(
            show(&r, "kindIs", vec![s("slice"), Value::strings(vec![])]),
            "true"
        );
        assert_eq!(show(&r, "typeIs", vec![s("int"), i(1)]), "true");
        assert_eq!(
            show(&r, "typeIsLike", vec![s("int"), Value::Int64(1)]),
            "false"
        );
        let mut values = Map::new();
        values.type_name = Some("common.Values");
        assert_eq!(
            show(&r, "typeOf", vec![Value::Map(values)]),
            "common.Values"
        );
    }

    #[test]
    fn uint8_is_its_own_type() {
        // `index "abc" 0` is a Go uint8 (byte).
        let r = reg();
        assert_eq!(show(&r, "typeOf", vec![Value::Uint8(97)]), "uint8");
        assert_eq!(show(&r, "kindOf", vec![Value::Uint8(97)]), "uint8");
        assert!(!deep_equal(&Value::Uint8(97), &i(97)));
        assert!(deep_equal(&Value::Uint8(97), &Value::Uint8(97)));
    }

    #[test]
    fn deep_equal_tells_nil_from_empty() {
        // reflect.DeepEqual: a nil map/slice is not equal to an empty one.
        let nil_map = Value::Map(Map::nil(GoType::Interface));
        let nil_list = Value::List(List::nil(GoType::Interface));
        assert!(!deep_equal(&nil_map, &Value::empty_map()));
        assert!(deep_equal(&nil_map, &nil_map.clone()));
        assert!(!deep_equal(&Value::list(vec![]), &nil_list));
        assert!(deep_equal(
            &nil_list,
            &Value::List(List::nil(GoType::Interface))
        ));
    }

    #[test]
    fn deep_equal_is_type_strict() {
        assert!(!deep_equal(&i(1), &Value::Int64(1)));
        assert!(!deep_equal(&i(1), &Value::Float(1.0)));
        assert!(deep_equal(&Value::Float(1.0), &Value::Float(1.0)));
        assert!(!deep_equal(
            &Value::Float(f64::NAN),
            &Value::Float(f64::NAN)
        ));
        assert!(!deep_equal(
            &Value::list(vec![s("a")]),
            &Value::strings(vec!["a".into()])
        ));
        let m1 = Value::map(BTreeMap::from([("a".to_string(), Value::list(vec![i(1)]))]));
        let m2 = Value::map(BTreeMap::from([("a".to_string(), Value::list(vec![i(1)]))]));
        assert!(deep_equal(&m1, &m2));
        let m3 = Value::map(BTreeMap::from([("b".to_string(), Value::list(vec![i(1)]))]));
        assert!(!deep_equal(&m1, &m3));
        assert!(deep_equal(&Value::Nil, &Value::Nil));
        assert!(!deep_equal(&Value::Nil, &s("")));
    }
}
