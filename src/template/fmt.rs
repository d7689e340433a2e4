//! Go's `fmt` formatting of template values.
//!
//! `format_v` is `fmt.Sprintf("%v", v)` (what Sprig's `strval`, `print` and
//! `{{ . }}` output use). `printf` with every verb builds on this module.

use crate::value::Value;

/// `fmt.Sprintf("%v", v)`.
pub fn format_v(v: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, v);
    out
}

/// Append `fmt.Sprintf("%v", v)` to `out`.
pub fn write_v(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Int32(i) => out.push_str(&i.to_string()),
        Value::Uint64(u) => out.push_str(&u.to_string()),
        Value::Float(f) => out.push_str(&format_float_g(*f)),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => {
            out.push('[');
            for (i, byte) in b.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(&byte.to_string());
            }
            out.push(']');
        }
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, item);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (i, (k, item)) in m.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(out, item);
            }
            out.push(']');
        }
        Value::Object(o) => out.push_str(&o.format_v()),
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`, which is also `%v` of a float64:
/// the shortest digits that round-trip, in exponent form when the decimal
/// exponent is < -4 or >= 6 (so 1000000 prints `1e+06`, 123456 `123456`).
pub fn format_float_g(f: f64) -> String {
    format_float_shortest(f, 'g')
}

/// Shortest round-trip formatting of `f` in Go's `'g'` or `'e'` style.
fn format_float_shortest(f: f64, style: char) -> String {
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
    // Rust's `{:e}` yields the shortest round-trip digits: "1.2345e5".
    let sci = format!("{:e}", f);
    let (neg, sci) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, sci),
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let nd = digits.len() as i32;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let eprec = if style == 'g' { GO_SHORTEST_EPREC } else { -1 };
    if style == 'e' || exp < -4 || exp >= eprec {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = (exp + 1) as usize;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in 0..(int_len - digits.len()) {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// Go's strconv: with the shortest precision, `'g'` switches to the
/// exponent form from decimal exponent 6 on ("use precision 6 for this
/// decision").
const GO_SHORTEST_EPREC: i32 = 6;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_format_like_go_v() {
        // Expected values are Go's documented `%v` output.
        assert_eq!(format_float_g(0.5), "0.5");
        assert_eq!(format_float_g(-2.25), "-2.25");
        assert_eq!(format_float_g(3.0), "3");
        assert_eq!(format_float_g(1_000_000.0), "1e+06");
        assert_eq!(format_float_g(123_456.0), "123456");
        assert_eq!(format_float_g(0.000_001), "1e-06");
        assert_eq!(format_float_g(123_456_789.0), "1.23456789e+08");
    }
}
