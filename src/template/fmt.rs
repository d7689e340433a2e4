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

/// Go's `strconv.Quote(s)`: a double-quoted Go string literal. Printable
/// runes (Go's `strconv.IsPrint`) stay as they are; `"` and `\` are
/// backslash-escaped; `\a \b \f \n \r \t \v` use their short forms; other
/// control bytes become `\xHH`, other non-printable runes `\uHHHH` or
/// `\UHHHHHHHH` (lowercase hex).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_quoted(&mut out, s, false);
    out
}

/// Go's `strconv.QuoteToASCII(s)` (`%+q`): as [`quote`], but every
/// non-ASCII rune is escaped too.
pub fn quote_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_quoted(&mut out, s, true);
    out
}

/// Go's `strconv.Quote(string(b))` for bytes that may not be UTF-8: each
/// invalid byte becomes `\xHH`, as Go does.
pub fn quote_bytes(b: &[u8], ascii_only: bool) -> String {
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    for chunk in b.utf8_chunks() {
        write_escaped_str(&mut out, chunk.valid(), '"', ascii_only);
        for byte in chunk.invalid() {
            push_hex_escape(&mut out, 'x', u32::from(*byte), 2);
        }
    }
    out.push('"');
    out
}

/// Append `strconv.Quote(s)` (or `QuoteToASCII`) to `out`.
pub fn write_quoted(out: &mut String, s: &str, ascii_only: bool) {
    out.push('"');
    write_escaped_str(out, s, '"', ascii_only);
    out.push('"');
}

/// Go's `strconv.QuoteRune(r)` (`%q` of a rune): single-quoted.
pub fn quote_rune(r: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(8);
    out.push('\'');
    write_escaped_rune(&mut out, r, '\'', ascii_only);
    out.push('\'');
    out
}

/// Go's `strconv.CanBackquote(s)`: whether `s` can be written as a raw
/// string literal (no control characters other than tab, no backquote, no
/// byte order mark).
pub fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{feff}' && (c == '\t' || !(c < ' ' || c == '\u{7f}')))
}

fn write_escaped_str(out: &mut String, s: &str, quote: char, ascii_only: bool) {
    let mut plain_from = 0;
    for (i, c) in s.char_indices() {
        let plain = c != quote
            && c != '\\'
            && if ascii_only {
                c.is_ascii() && crate::printable::is_print(c)
            } else {
                crate::printable::is_print(c)
            };
        if plain {
            continue;
        }
        out.push_str(&s[plain_from..i]);
        write_escaped_rune(out, c, quote, ascii_only);
        plain_from = i + c.len_utf8();
    }
    out.push_str(&s[plain_from..]);
}

fn write_escaped_rune(out: &mut String, c: char, quote: char, ascii_only: bool) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    let printable = crate::printable::is_print(c);
    if printable && (!ascii_only || c.is_ascii()) {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if c < ' ' || c == '\u{7f}' => push_hex_escape(out, 'x', c as u32, 2),
        c if (c as u32) < 0x10000 => push_hex_escape(out, 'u', c as u32, 4),
        c => push_hex_escape(out, 'U', c as u32, 8),
    }
}

fn push_hex_escape(out: &mut String, kind: char, v: u32, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('\\');
    out.push(kind);
    for shift in (0..digits).rev() {
        out.push(char::from(HEX[((v >> (shift * 4)) & 0xf) as usize]));
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
    fn quote_matches_go_strconv() {
        // Expectations printed by Go 1.26 strconv.Quote / QuoteToASCII.
        assert_eq!(quote("a\"b\\c'"), r#""a\"b\\c'""#);
        assert_eq!(
            quote("\x00\x07\x08\x0c\n\r\t\x0b\x1b\x7f"),
            r#""\x00\a\b\f\n\r\t\v\x1b\x7f""#
        );
        let uni = "é\u{a0}\u{200b}\u{1F600}\u{E0001}日本\u{85}\u{feff}";
        assert_eq!(
            quote(uni),
            "\"é\\u00a0\\u200b\u{1F600}\\U000e0001日本\\u0085\\ufeff\""
        );
        assert_eq!(
            quote_ascii(uni),
            r#""\u00e9\u00a0\u200b\U0001f600\U000e0001\u65e5\u672c\u0085\ufeff""#
        );
        assert_eq!(quote_bytes(b"ok \xff\xfe x", false), r#""ok \xff\xfe x""#);
        assert_eq!(quote_rune('\'', false), r"'\''");
        assert_eq!(quote_rune('"', false), "'\"'");
        assert_eq!(quote_rune('é', true), r"'\u00e9'");
    }

    #[test]
    fn format_v_of_every_kind() {
        // Go: fmt.Sprintf("%v", []interface{}{nil, true, 1, int64(2),
        // int32(3), uint64(4), 1e6, "s", []byte("hi"),
        // map[string]interface{}{"b": nil, "a": []string{"x"}}})
        let mut m = std::collections::BTreeMap::new();
        m.insert("b".to_string(), Value::Nil);
        m.insert("a".to_string(), Value::strings(vec!["x".into()]));
        let v = Value::list(vec![
            Value::Nil,
            Value::Bool(true),
            Value::Int(1),
            Value::Int64(2),
            Value::Int32(3),
            Value::Uint64(4),
            Value::Float(1e6),
            Value::str("s"),
            Value::Bytes(std::rc::Rc::from(&b"hi"[..])),
            Value::map(m),
        ]);
        assert_eq!(
            format_v(&v),
            "[<nil> true 1 2 3 4 1e+06 s [104 105] map[a:[x] b:<nil>]]"
        );
    }

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
