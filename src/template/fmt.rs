//! Go's `fmt` formatting of template values.
//!
//! `format_v` is `fmt.Sprintf("%v", v)` (what Sprig's `strval`, `print` and
//! `{{ . }}` output use). `printf` with every verb builds on this module.

use crate::value::{GoType, Value};

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
        Value::Int(i) | Value::Int64(i) => push_display(out, i),
        Value::Int32(i) => push_display(out, i),
        Value::Uint64(u) => push_display(out, u),
        Value::Uint8(u) => push_display(out, u),
        Value::Complex(..) => {
            let mut p = Printer::new();
            p.print_value(v, 'v', 0);
            out.push_str(&p.buf);
        }
        Value::Float(f) => {
            // Integral values below 1e6 print as plain integers in Go's
            // shortest 'g' form; skip the general path for them.
            if f.fract() == 0.0 && f.abs() < 1e6 && !(*f == 0.0 && f.is_sign_negative()) {
                push_display(out, &(*f as i64));
            } else {
                out.push_str(&format_float_g(*f));
            }
        }
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

fn push_display(out: &mut String, v: &dyn std::fmt::Display) {
    use std::fmt::Write as _;
    let _ = write!(out, "{v}");
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

// ---------------------------------------------------------------------
// Go's fmt.Sprintf / Sprint / Sprintln over template values.
// ---------------------------------------------------------------------

/// `fmt.Sprint(args...)`: operands are separated by a space when neither
/// side is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut p = Printer::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(' ');
        }
        p.print_arg(a, 'v');
        prev_string = is_string;
    }
    p.buf
}

/// `fmt.Sprintln(args...)`: operands always separated by spaces, then a
/// newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut p = Printer::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.print_arg(a, 'v');
    }
    p.buf.push('\n');
    p.buf
}

/// `fmt.Sprintf(format, args...)` with every verb, flag, width,
/// precision, argument index and error form of Go's `fmt`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::new();
    p.do_printf(format, args);
    p.buf
}

#[derive(Clone, Copy, Default)]
struct Flags {
    wid_present: bool,
    prec_present: bool,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    wid: i64,
    prec: i64,
}

struct Printer {
    buf: String,
    f: Flags,
    good_arg_num: bool,
    reordered: bool,
}

const LDIGITS: &[u8; 17] = b"0123456789abcdefx";
const UDIGITS: &[u8; 17] = b"0123456789ABCDEFX";

fn too_large(x: i64) -> bool {
    !(-1_000_000..=1_000_000).contains(&x)
}

/// Go's `parsenum`: (number, is_number, new index).
fn parse_num(s: &[u8], start: usize, end: usize) -> (i64, bool, usize) {
    if start >= end {
        return (0, false, end);
    }
    let mut num: i64 = 0;
    let mut isnum = false;
    let mut i = start;
    while i < end && s[i].is_ascii_digit() {
        if too_large(num) {
            return (0, false, end);
        }
        num = num * 10 + i64::from(s[i] - b'0');
        isnum = true;
        i += 1;
    }
    (num, isnum, i)
}

/// Go's `parseArgNumber` on `format[i..]` (which starts with `[`).
fn parse_arg_number(s: &[u8]) -> (i64, usize, bool) {
    if s.len() < 3 {
        return (0, 1, false);
    }
    for i in 1..s.len() {
        if s[i] == b']' {
            let (w, ok, newi) = parse_num(s, 1, i);
            if !ok || newi != i {
                return (0, i + 1, false);
            }
            return (w - 1, i + 1, true);
        }
    }
    (0, 1, false)
}

/// Go's `intFromArg` for `*` widths and precisions.
fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
    if arg_num >= args.len() {
        return (0, false, arg_num);
    }
    let (mut num, mut ok) = match &args[arg_num] {
        Value::Int(i) | Value::Int64(i) => (*i, true),
        Value::Int32(i) => (i64::from(*i), true),
        Value::Uint64(u) => match i64::try_from(*u) {
            Ok(i) => (i, true),
            Err(_) => (0, false),
        },
        Value::Uint8(u) => (i64::from(*u), true),
        _ => (0, false),
    };
    if too_large(num) {
        num = 0;
        ok = false;
    }
    (num, ok, arg_num + 1)
}

impl Printer {
    fn new() -> Printer {
        Printer {
            buf: String::new(),
            f: Flags::default(),
            good_arg_num: true,
            reordered: false,
        }
    }

    fn write_padding(&mut self, n: i64) {
        if n <= 0 {
            return;
        }
        let c = if self.f.zero && !self.f.minus {
            '0'
        } else {
            ' '
        };
        for _ in 0..n {
            self.buf.push(c);
        }
    }

    fn pad(&mut self, s: &str) {
        if !self.f.wid_present || self.f.wid == 0 {
            self.buf.push_str(s);
            return;
        }
        let width = self.f.wid - s.chars().count() as i64;
        if !self.f.minus {
            self.write_padding(width);
            self.buf.push_str(s);
        } else {
            self.buf.push_str(s);
            self.write_padding(width);
        }
    }

    fn arg_number(
        &mut self,
        arg_num: usize,
        format: &[u8],
        i: usize,
        num_args: usize,
    ) -> (usize, usize, bool) {
        if format.len() <= i || format[i] != b'[' {
            return (arg_num, i, false);
        }
        self.reordered = true;
        let (index, wid, ok) = parse_arg_number(&format[i..]);
        if ok && 0 <= index && (index as usize) < num_args {
            return (index as usize, i + wid, true);
        }
        self.good_arg_num = false;
        (arg_num, i + wid, ok)
    }

    fn do_printf(&mut self, format: &str, args: &[Value]) {
        let fb = format.as_bytes();
        let end = fb.len();
        let mut arg_num = 0usize;
        let mut after_index;
        self.reordered = false;
        let mut i = 0;
        'format_loop: while i < end {
            self.good_arg_num = true;
            let lasti = i;
            while i < end && fb[i] != b'%' {
                i += 1;
            }
            if i > lasti {
                self.buf.push_str(&format[lasti..i]);
            }
            if i >= end {
                break;
            }
            i += 1;
            self.f = Flags::default();
            while i < end {
                let c = fb[i];
                match c {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = true,
                    b'+' => self.f.plus = true,
                    b'-' => self.f.minus = true,
                    b' ' => self.f.space = true,
                    _ => {
                        if c.is_ascii_lowercase() && arg_num < args.len() {
                            if c == b'v' {
                                self.f.sharp_v = self.f.sharp;
                                self.f.sharp = false;
                                self.f.plus_v = self.f.plus;
                                self.f.plus = false;
                            }
                            self.print_arg(&args[arg_num], c as char);
                            arg_num += 1;
                            i += 1;
                            continue 'format_loop;
                        }
                        break;
                    }
                }
                i += 1;
            }
            let r = self.arg_number(arg_num, fb, i, args.len());
            arg_num = r.0;
            i = r.1;
            after_index = r.2;
            if i < end && fb[i] == b'*' {
                i += 1;
                let (w, ok, n) = int_from_arg(args, arg_num);
                self.f.wid = w;
                self.f.wid_present = ok;
                arg_num = n;
                if !ok {
                    self.buf.push_str("%!(BADWIDTH)");
                }
                if self.f.wid < 0 {
                    self.f.wid = -self.f.wid;
                    self.f.minus = true;
                    self.f.zero = false;
                }
                after_index = false;
            } else {
                let (w, ok, n) = parse_num(fb, i, end);
                self.f.wid = w;
                self.f.wid_present = ok;
                i = n;
                if after_index && ok {
                    self.good_arg_num = false;
                }
            }
            if i + 1 < end && fb[i] == b'.' {
                i += 1;
                if after_index {
                    self.good_arg_num = false;
                }
                let r = self.arg_number(arg_num, fb, i, args.len());
                arg_num = r.0;
                i = r.1;
                after_index = r.2;
                if i < end && fb[i] == b'*' {
                    i += 1;
                    let (p, ok, n) = int_from_arg(args, arg_num);
                    self.f.prec = p;
                    self.f.prec_present = ok;
                    arg_num = n;
                    if self.f.prec < 0 {
                        self.f.prec = 0;
                        self.f.prec_present = false;
                    }
                    if !self.f.prec_present {
                        self.buf.push_str("%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (p, ok, n) = parse_num(fb, i, end);
                    self.f.prec = p;
                    self.f.prec_present = ok;
                    i = n;
                    if !ok {
                        self.f.prec = 0;
                        self.f.prec_present = true;
                    }
                }
            }
            if !after_index {
                let r = self.arg_number(arg_num, fb, i, args.len());
                arg_num = r.0;
                i = r.1;
            }
            if i >= end {
                self.buf.push_str("%!(NOVERB)");
                break;
            }
            let verb = format[i..].chars().next().unwrap_or('?');
            i += verb.len_utf8();
            if verb == '%' {
                self.buf.push('%');
            } else if !self.good_arg_num {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(BADINDEX)");
            } else if arg_num >= args.len() {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(MISSING)");
            } else {
                if verb == 'v' {
                    self.f.sharp_v = self.f.sharp;
                    self.f.sharp = false;
                    self.f.plus_v = self.f.plus;
                    self.f.plus = false;
                }
                self.print_arg(&args[arg_num], verb);
                arg_num += 1;
            }
        }
        if !self.reordered && arg_num < args.len() {
            self.f = Flags::default();
            self.buf.push_str("%!(EXTRA ");
            for (k, a) in args[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.buf.push_str(", ");
                }
                if a.is_nil() {
                    self.buf.push_str("<nil>");
                } else {
                    self.buf.push_str(&a.type_name());
                    self.buf.push('=');
                    self.print_arg(a, 'v');
                }
            }
            self.buf.push(')');
        }
    }

    fn bad_verb(&mut self, verb: char, v: &Value) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        if v.is_nil() {
            self.buf.push_str("<nil>");
        } else {
            self.buf.push_str(&v.type_name());
            self.buf.push('=');
            let saved = self.f;
            self.print_value(v, 'v', 0);
            self.f = saved;
        }
        self.buf.push(')');
    }

    /// Go's `printArg` (top level: a nil interface prints `<nil>`).
    fn print_arg(&mut self, v: &Value, verb: char) {
        if v.is_nil() {
            match verb {
                'T' | 'v' => self.pad("<nil>"),
                _ => self.bad_verb(verb, v),
            }
            return;
        }
        match verb {
            'T' => {
                let t = v.type_name();
                self.fmt_s(&t);
                return;
            }
            'p' => {
                self.fmt_pointer(v, 'p');
                return;
            }
            _ => {}
        }
        self.print_value(v, verb, 0);
    }

    fn fmt_pointer(&mut self, v: &Value, verb: char) {
        let addr = match v {
            Value::Map(m) => std::rc::Rc::as_ptr(&m.entries) as *const u8 as usize,
            Value::List(l) => std::rc::Rc::as_ptr(&l.items) as *const u8 as usize,
            Value::Bytes(b) => b.as_ptr() as usize,
            _ => {
                self.bad_verb(verb, v);
                return;
            }
        };
        match verb {
            'p' => {
                let sharp = self.f.sharp;
                self.f.sharp = !sharp;
                self.fmt_integer(addr as u64, 16, false, 'v', LDIGITS);
                self.f.sharp = sharp;
            }
            _ => self.bad_verb(verb, v),
        }
    }

    /// Go's `printValue`; `depth > 0` inside slices and maps.
    fn print_value(&mut self, v: &Value, verb: char, _depth: usize) {
        match v {
            Value::Nil => {
                // A nil interface inside a container.
                if self.f.sharp_v {
                    self.buf.push_str("interface {}(nil)");
                } else {
                    self.buf.push_str("<nil>");
                }
            }
            Value::Bool(b) => match verb {
                't' | 'v' => self.pad(if *b { "true" } else { "false" }),
                _ => self.bad_verb(verb, v),
            },
            Value::Int(i) | Value::Int64(i) => self.fmt_int_verb(*i as u64, true, verb, v),
            Value::Int32(i) => self.fmt_int_verb(i64::from(*i) as u64, true, verb, v),
            Value::Uint64(u) => self.fmt_int_verb(*u, false, verb, v),
            Value::Uint8(u) => self.fmt_int_verb(u64::from(*u), false, verb, v),
            Value::Complex(re, im) => self.fmt_complex(*re, *im, verb, v),
            Value::Float(x) => self.fmt_float_verb(*x, verb, v),
            Value::String(s) => self.fmt_string(s, verb, v),
            Value::Bytes(b) => self.fmt_bytes(b, verb, "[]byte", v),
            Value::List(l) => {
                if matches!(verb, 's' | 'q' | 'x' | 'X') && l.elem == GoType::Bytes {
                    // not a byte slice: fall through to element printing
                }
                if self.f.sharp_v && l.nil {
                    self.buf.push_str(&v.type_name());
                    self.buf.push_str("(nil)");
                } else if self.f.sharp_v {
                    self.buf.push_str(&v.type_name());
                    self.buf.push('{');
                    for (i, item) in l.items.iter().enumerate() {
                        if i > 0 {
                            self.buf.push_str(", ");
                        }
                        self.print_value(item, verb, _depth + 1);
                    }
                    self.buf.push('}');
                } else {
                    self.buf.push('[');
                    for (i, item) in l.items.iter().enumerate() {
                        if i > 0 {
                            self.buf.push(' ');
                        }
                        self.print_value(item, verb, _depth + 1);
                    }
                    self.buf.push(']');
                }
            }
            Value::Map(m) => {
                if self.f.sharp_v && m.nil {
                    self.buf.push_str(&v.type_name());
                    self.buf.push_str("(nil)");
                    return;
                }
                if self.f.sharp_v {
                    self.buf.push_str(&v.type_name());
                    self.buf.push('{');
                } else {
                    self.buf.push_str("map[");
                }
                let entries = m.borrow();
                for (i, (k, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        if self.f.sharp_v {
                            self.buf.push_str(", ");
                        } else {
                            self.buf.push(' ');
                        }
                    }
                    self.fmt_string(k, verb, &Value::str(k));
                    self.buf.push(':');
                    self.print_value(item, verb, _depth + 1);
                }
                self.buf.push(if self.f.sharp_v { '}' } else { ']' });
            }
            Value::Object(o) => {
                // Objects stand for Go values whose String() method fmt
                // uses for these verbs.
                match verb {
                    'v' | 's' | 'x' | 'X' | 'q' => {
                        let s = o.format_v();
                        self.fmt_string(&s, verb, v);
                    }
                    _ => self.bad_verb(verb, v),
                }
            }
        }
    }

    fn fmt_int_verb(&mut self, u: u64, signed: bool, verb: char, v: &Value) {
        match verb {
            'v' => {
                if self.f.sharp_v && !signed {
                    let sharp = self.f.sharp;
                    self.f.sharp = true;
                    self.fmt_integer(u, 16, false, 'v', LDIGITS);
                    self.f.sharp = sharp;
                } else {
                    self.fmt_integer(u, 10, signed, verb, LDIGITS);
                }
            }
            'd' => self.fmt_integer(u, 10, signed, verb, LDIGITS),
            'b' => self.fmt_integer(u, 2, signed, verb, LDIGITS),
            'o' | 'O' => self.fmt_integer(u, 8, signed, verb, LDIGITS),
            'x' => self.fmt_integer(u, 16, signed, verb, LDIGITS),
            'X' => self.fmt_integer(u, 16, signed, verb, UDIGITS),
            'c' => {
                let c = char::from_u32(u as u32)
                    .filter(|_| u <= 0x10FFFF)
                    .unwrap_or('\u{FFFD}');
                let mut b = [0u8; 4];
                let s: &str = c.encode_utf8(&mut b);
                let s = s.to_string();
                self.pad(&s);
            }
            'q' => {
                let c = char::from_u32(u as u32)
                    .filter(|_| u <= 0x10FFFF)
                    .unwrap_or('\u{FFFD}');
                let s = quote_rune(c, self.f.plus);
                self.pad(&s);
            }
            'U' => self.fmt_unicode(u),
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_unicode(&mut self, u: u64) {
        let mut prec = 4i64;
        if self.f.prec_present && self.f.prec > 4 {
            prec = self.f.prec;
        }
        let mut hex = format!("{u:X}");
        while (hex.len() as i64) < prec {
            hex.insert(0, '0');
        }
        let mut s = format!("U+{hex}");
        if self.f.sharp && u <= 0x10FFFF {
            if let Some(c) = char::from_u32(u as u32) {
                if crate::printable::is_print(c) {
                    s.push_str(" '");
                    s.push(c);
                    s.push('\'');
                }
            }
        }
        let old_zero = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = old_zero;
    }

    /// Go's `fmt.fmtInteger`.
    fn fmt_integer(&mut self, u: u64, base: u64, signed: bool, verb: char, digits: &[u8; 17]) {
        let negative = signed && (u as i64) < 0;
        let mut u = if negative {
            (u as i64).unsigned_abs()
        } else {
            u
        };
        let mut prec: i64 = 0;
        if self.f.prec_present {
            prec = self.f.prec;
            if prec == 0 && u == 0 {
                let old_zero = self.f.zero;
                self.f.zero = false;
                let w = self.f.wid;
                self.write_padding(w);
                self.f.zero = old_zero;
                return;
            }
        } else if self.f.zero && !self.f.minus && self.f.wid_present {
            prec = self.f.wid;
            if negative || self.f.plus || self.f.space {
                prec -= 1;
            }
        }
        // Digits are produced right to left.
        let mut buf: Vec<u8> = Vec::with_capacity(24);
        while u >= base {
            buf.push(digits[(u % base) as usize]);
            u /= base;
        }
        buf.push(digits[u as usize]);
        while (buf.len() as i64) < prec {
            buf.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => {
                    buf.push(b'b');
                    buf.push(b'0');
                }
                8 if buf.last() != Some(&b'0') => buf.push(b'0'),
                16 => {
                    buf.push(digits[16]);
                    buf.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            buf.push(b'o');
            buf.push(b'0');
        }
        if negative {
            buf.push(b'-');
        } else if self.f.plus {
            buf.push(b'+');
        } else if self.f.space {
            buf.push(b' ');
        }
        buf.reverse();
        let s = String::from_utf8(buf).unwrap_or_default();
        let old_zero = self.f.zero;
        self.f.zero = false;
        self.pad(&s);
        self.f.zero = old_zero;
    }

    /// Go's `fmtComplex`: both parts with the float verb, the imaginary
    /// one always signed.
    fn fmt_complex(&mut self, re: f64, im: f64, verb: char, v: &Value) {
        if !matches!(
            verb,
            'v' | 'b' | 'g' | 'G' | 'x' | 'X' | 'f' | 'F' | 'e' | 'E'
        ) {
            self.bad_verb(verb, v);
            return;
        }
        let old_plus = self.f.plus;
        self.buf.push('(');
        self.fmt_float_verb(re, verb, v);
        self.f.plus = true;
        self.fmt_float_verb(im, verb, v);
        self.buf.push_str("i)");
        self.f.plus = old_plus;
    }

    fn fmt_float_verb(&mut self, x: f64, verb: char, v: &Value) {
        match verb {
            'v' => self.fmt_float(x, 'g', -1),
            'b' | 'g' | 'G' | 'x' | 'X' => self.fmt_float(x, verb, -1),
            'f' | 'e' | 'E' => self.fmt_float(x, verb, 6),
            'F' => self.fmt_float(x, 'f', 6),
            _ => self.bad_verb(verb, v),
        }
    }

    /// Go's `fmt.fmtFloat`.
    fn fmt_float(&mut self, v: f64, verb: char, prec: i64) {
        let prec = if self.f.prec_present {
            self.f.prec
        } else {
            prec
        };
        let body = format_float(v, verb, prec);
        let mut num: Vec<u8> = Vec::with_capacity(body.len() + 8);
        if body.starts_with('-') || body.starts_with('+') {
            num.extend_from_slice(body.as_bytes());
        } else {
            num.push(b'+');
            num.extend_from_slice(body.as_bytes());
        }
        if self.f.space && num[0] == b'+' && !self.f.plus {
            num[0] = b' ';
        }
        if num.get(1) == Some(&b'I') || num.get(1) == Some(&b'N') {
            let old_zero = self.f.zero;
            self.f.zero = false;
            if num[1] == b'N' && !self.f.space && !self.f.plus {
                num.remove(0);
            }
            let s = String::from_utf8(num).unwrap_or_default();
            self.pad(&s);
            self.f.zero = old_zero;
            return;
        }
        if self.f.sharp && verb != 'b' {
            let mut digits: i64 = 0;
            if matches!(verb, 'v' | 'g' | 'G' | 'x') {
                digits = prec;
                if digits == -1 {
                    digits = 6;
                }
            }
            let mut tail: Vec<u8> = Vec::new();
            let mut has_dot = false;
            let mut saw_nonzero = false;
            let mut i = 1;
            while i < num.len() {
                match num[i] {
                    b'.' => has_dot = true,
                    b'p' | b'P' => {
                        tail.extend_from_slice(&num[i..]);
                        num.truncate(i);
                        break;
                    }
                    b'e' | b'E' if verb != 'x' && verb != 'X' => {
                        tail.extend_from_slice(&num[i..]);
                        num.truncate(i);
                        break;
                    }
                    c => {
                        if c != b'0' {
                            saw_nonzero = true;
                        }
                        if saw_nonzero {
                            digits -= 1;
                        }
                    }
                }
                i += 1;
            }
            if !has_dot {
                if num.len() == 2 && num[1] == b'0' {
                    digits -= 1;
                }
                num.push(b'.');
            }
            while digits > 0 {
                num.push(b'0');
                digits -= 1;
            }
            num.extend_from_slice(&tail);
        }
        let s = String::from_utf8(num).unwrap_or_default();
        if self.f.plus || !s.starts_with('+') {
            if self.f.zero && !self.f.minus && self.f.wid_present && self.f.wid > s.len() as i64 {
                self.buf.push_str(&s[..1]);
                let n = self.f.wid - s.len() as i64;
                self.write_padding(n);
                self.buf.push_str(&s[1..]);
                return;
            }
            self.pad(&s);
            return;
        }
        self.pad(&s[1..]);
    }

    fn truncate<'x>(&self, s: &'x str) -> &'x str {
        if self.f.prec_present {
            let mut n = self.f.prec;
            for (i, _) in s.char_indices() {
                n -= 1;
                if n < 0 {
                    return &s[..i];
                }
            }
        }
        s
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s).to_string();
        self.pad(&s);
    }

    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        if self.f.sharp && can_backquote(s) {
            let q = format!("`{s}`");
            self.pad(&q);
            return;
        }
        let q = if self.f.plus {
            quote_ascii(s)
        } else {
            quote(s)
        };
        self.pad(&q);
    }

    fn fmt_sbx(&mut self, b: &[u8], digits: &[u8; 17]) {
        let mut length = b.len() as i64;
        if self.f.prec_present && self.f.prec < length {
            length = self.f.prec;
        }
        let mut width = 2 * length;
        if width > 0 {
            if self.f.space {
                if self.f.sharp {
                    width *= 2;
                }
                width += length - 1;
            } else if self.f.sharp {
                width += 2;
            }
        } else {
            if self.f.wid_present {
                let w = self.f.wid;
                self.write_padding(w);
            }
            return;
        }
        if self.f.wid_present && self.f.wid > width && !self.f.minus {
            let n = self.f.wid - width;
            self.write_padding(n);
        }
        if self.f.sharp {
            self.buf.push('0');
            self.buf.push(digits[16] as char);
        }
        for (i, c) in b.iter().take(length as usize).enumerate() {
            if self.f.space && i > 0 {
                self.buf.push(' ');
                if self.f.sharp {
                    self.buf.push('0');
                    self.buf.push(digits[16] as char);
                }
            }
            self.buf.push(digits[(c >> 4) as usize] as char);
            self.buf.push(digits[(c & 0xF) as usize] as char);
        }
        if self.f.wid_present && self.f.wid > width && self.f.minus {
            let n = self.f.wid - width;
            self.write_padding(n);
        }
    }

    fn fmt_string(&mut self, s: &str, verb: char, v: &Value) {
        match verb {
            'v' => {
                if self.f.sharp_v {
                    self.fmt_q(s)
                } else {
                    self.fmt_s(s)
                }
            }
            's' => self.fmt_s(s),
            'x' => self.fmt_sbx(s.as_bytes(), LDIGITS),
            'X' => self.fmt_sbx(s.as_bytes(), UDIGITS),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(verb, v),
        }
    }

    fn fmt_bytes(&mut self, b: &[u8], verb: char, type_string: &str, v: &Value) {
        match verb {
            'v' | 'd' => {
                if self.f.sharp_v {
                    self.buf.push_str(type_string);
                    self.buf.push('{');
                    for (i, c) in b.iter().enumerate() {
                        if i > 0 {
                            self.buf.push_str(", ");
                        }
                        let sharp = self.f.sharp;
                        self.f.sharp = true;
                        self.fmt_integer(u64::from(*c), 16, false, 'v', LDIGITS);
                        self.f.sharp = sharp;
                    }
                    self.buf.push('}');
                } else {
                    self.buf.push('[');
                    for (i, c) in b.iter().enumerate() {
                        if i > 0 {
                            self.buf.push(' ');
                        }
                        self.fmt_integer(u64::from(*c), 10, false, verb, LDIGITS);
                    }
                    self.buf.push(']');
                }
            }
            's' => {
                let s = String::from_utf8_lossy(b).into_owned();
                self.fmt_s(&s);
            }
            'x' => self.fmt_sbx(b, LDIGITS),
            'X' => self.fmt_sbx(b, UDIGITS),
            'q' => {
                let s = self.truncate_bytes(b);
                let q = quote_bytes(s, self.f.plus);
                self.pad(&q);
            }
            _ => {
                // Go prints the slice element by element with the verb.
                self.buf.push('[');
                for (i, c) in b.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(' ');
                    }
                    self.fmt_int_verb(u64::from(*c), false, verb, &Value::Uint8(*c));
                }
                self.buf.push(']');
                let _ = v;
            }
        }
    }

    fn truncate_bytes<'x>(&self, b: &'x [u8]) -> &'x [u8] {
        if !self.f.prec_present {
            return b;
        }
        let s = String::from_utf8_lossy(b);
        let t = self.truncate(&s);
        &b[..t.len().min(b.len())]
    }
}

/// `strconv.FormatFloat(v, fmt, prec, 64)` for `fmt` in `b e E f g G x X`
/// (`prec` -1 = shortest).
pub fn format_float(v: f64, fmt: char, prec: i64) -> String {
    let neg = v.is_sign_negative() && !v.is_nan();
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if neg { "-Inf".into() } else { "+Inf".into() };
    }
    let mut out = String::new();
    match fmt {
        'b' => {
            let bits = v.to_bits();
            let mut exp = ((bits >> 52) & 0x7ff) as i64;
            let mut mant = bits & ((1u64 << 52) - 1);
            if exp == 0 {
                exp += 1;
            } else {
                mant |= 1u64 << 52;
            }
            exp -= 1075;
            if neg {
                out.push('-');
            }
            out.push_str(&mant.to_string());
            out.push('p');
            if exp >= 0 {
                out.push('+');
            }
            out.push_str(&exp.to_string());
            return out;
        }
        'x' | 'X' => return format_hex_float(v, fmt, prec),
        _ => {}
    }
    if neg {
        out.push('-');
    }
    let a = v.abs();
    let shortest = prec < 0;
    match fmt {
        'f' if !shortest => {
            out.push_str(&format!("{:.*}", prec as usize, a));
            return out;
        }
        'e' | 'E' if !shortest => {
            let (digits, dp) = decimal_digits(a, Some(prec as usize + 1));
            write_e(&mut out, &digits, dp, prec, fmt);
            return out;
        }
        _ => {}
    }
    let (digits, dp) = match fmt {
        'g' | 'G' if !shortest => {
            let p = if prec == 0 { 1 } else { prec as usize };
            decimal_digits(a, Some(p))
        }
        _ => decimal_digits(a, None),
    };
    let nd = digits.len() as i64;
    match fmt {
        'e' | 'E' => write_e(&mut out, &digits, dp, nd - 1, fmt),
        'f' => write_f(&mut out, &digits, dp, (nd - dp).max(0)),
        _ => {
            // 'g' / 'G'
            let mut p = if shortest {
                nd
            } else if prec == 0 {
                1
            } else {
                prec
            };
            let mut eprec = p;
            if eprec > nd && nd >= dp {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if exp < -4 || exp >= eprec {
                if p > nd {
                    p = nd;
                }
                let efmt = if fmt == 'G' { 'E' } else { 'e' };
                write_e(&mut out, &digits, dp, p - 1, efmt);
            } else {
                if p > dp {
                    p = nd;
                }
                write_f(&mut out, &digits, dp, (p - dp).max(0));
            }
        }
    }
    out
}

/// Decimal digits of `a >= 0` (no trailing zeros; empty for zero) and the
/// decimal point position: `a = 0.d1d2... * 10^dp`. `sig` rounds to that
/// many significant digits (half to even on the exact value); `None` gives
/// the shortest digits that round-trip.
fn decimal_digits(a: f64, sig: Option<usize>) -> (Vec<u8>, i64) {
    if a == 0.0 {
        return (Vec::new(), 0);
    }
    let s = match sig {
        Some(n) => format!("{:.*e}", n.saturating_sub(1), a),
        None => format!("{a:e}"),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(|c| c.is_ascii_digit()).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits == [b'0'] {
        return (Vec::new(), 0);
    }
    (digits, exp + 1)
}

/// strconv's `fmtE`.
fn write_e(out: &mut String, digits: &[u8], dp: i64, prec: i64, fmt: char) {
    let nd = digits.len() as i64;
    out.push(if nd == 0 { '0' } else { digits[0] as char });
    if prec > 0 {
        out.push('.');
        let mut i = 1;
        let m = nd.min(prec + 1);
        while i < m {
            out.push(digits[i as usize] as char);
            i += 1;
        }
        while i <= prec {
            out.push('0');
            i += 1;
        }
    }
    out.push(fmt);
    let mut exp = dp - 1;
    if nd == 0 {
        exp = 0;
    }
    if exp < 0 {
        out.push('-');
        exp = -exp;
    } else {
        out.push('+');
    }
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

/// strconv's `fmtF`.
fn write_f(out: &mut String, digits: &[u8], dp: i64, prec: i64) {
    let nd = digits.len() as i64;
    if dp > 0 {
        let m = nd.min(dp);
        for d in &digits[..m as usize] {
            out.push(*d as char);
        }
        for _ in m..dp {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            let j = dp + i - 1;
            let c = if 0 <= j && j < nd {
                digits[j as usize] as char
            } else {
                '0'
            };
            out.push(c);
        }
    }
}

/// strconv's `%x` float form: `-0x1.8p+01`.
fn format_hex_float(v: f64, fmt: char, prec: i64) -> String {
    let neg = v.is_sign_negative();
    let bits = v.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        exp += 1;
    } else {
        mant |= 1u64 << 52;
    }
    exp -= 1075;
    // Shift mantissa so the leading 1 sits at bit 60.
    if mant == 0 {
        exp = 0;
    }
    let shift = 60u32;
    mant <<= shift - 52;
    while mant != 0 && mant & (1u64 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    // The leading 1 is at bit 60 (the mantissa was shifted by 8 there).
    exp += 52;
    if mant == 0 {
        exp = 0;
    }
    // Round to prec hex digits after the point.
    if (0..15).contains(&prec) {
        let sh = (60 - 4 * prec) as u32;
        let extra = mant & ((1u64 << sh) - 1);
        mant >>= sh;
        let half = 1u64 << (sh - 1);
        if extra > half || (extra == half && mant & 1 == 1) {
            mant += 1;
        }
        mant <<= sh;
        if mant & (1u64 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let digits: &[u8; 17] = if fmt == 'X' { UDIGITS } else { LDIGITS };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push('0');
    out.push(if fmt == 'X' { 'X' } else { 'x' });
    out.push(if mant == 0 { '0' } else { '1' });
    let mut frac_digits = String::new();
    let mut m = (mant & ((1u64 << 60) - 1)) << 4;
    for _ in 0..15 {
        frac_digits.push(digits[((m >> 60) & 0xF) as usize] as char);
        m <<= 4;
    }
    let frac_digits = if prec < 0 {
        frac_digits.trim_end_matches('0').to_string()
    } else {
        let mut f: String = frac_digits.chars().take(prec as usize).collect();
        while (f.len() as i64) < prec {
            f.push('0');
        }
        f
    };
    if !frac_digits.is_empty() {
        out.push('.');
        out.push_str(&frac_digits);
    }
    out.push(if fmt == 'X' { 'P' } else { 'p' });
    if exp < 0 {
        out.push('-');
    } else {
        out.push('+');
    }
    let a = exp.abs();
    if a < 10 {
        out.push('0');
    }
    out.push_str(&a.to_string());
    out
}

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
