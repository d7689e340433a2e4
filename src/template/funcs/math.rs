//! Template functions: Sprig's numbers and conversions.
//!
//! Sprig converts its `interface{}` arguments with spf13/cast (v1.7.0), so
//! that is what `to_int64` and `to_float64` reproduce: strings parse with
//! Go's `strconv` (base-0 integers: `0x1F`, `0o17`, `017`, `1_000`; a
//! trailing `.0` is accepted; anything else, overflow included, gives 0),
//! floats truncate toward zero, nil and unknown types give 0. Integer
//! arithmetic wraps like Go's `int64`, and float→int conversion of NaN or an
//! out-of-range value gives `i64::MIN`, as Go on amd64 does.
//!
//! The `…f` functions go through shopspring/decimal: each operand becomes
//! the exact decimal of its shortest float spelling, the operation is exact
//! (division rounds to 16 places, half away from zero), and the result is
//! the nearest float64.

use num_bigint::BigInt;

use crate::fmt::format_v;
use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::value::{GoType, List, Value};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    use GoType::{Float64, Int, Interface, String};
    reg.add("atoi", &[String], None, atoi);
    reg.add("int64", &[Interface], None, int64);
    reg.add("int", &[Interface], None, int);
    reg.add("float64", &[Interface], None, float64);
    reg.add("toDecimal", &[Interface], None, to_decimal);
    reg.add("seq", &[], Some(Int), seq);
    reg.add("until", &[Int], None, until);
    reg.add("untilStep", &[Int, Int, Int], None, until_step);
    reg.add("add1", &[Interface], None, add1);
    reg.add("add", &[], Some(Interface), add);
    reg.add("sub", &[Interface, Interface], None, sub);
    reg.add("div", &[Interface, Interface], None, div);
    reg.add("mod", &[Interface, Interface], None, modulo);
    reg.add("mul", &[Interface], Some(Interface), mul);
    reg.add("add1f", &[Interface], None, add1f);
    reg.add("addf", &[], Some(Interface), addf);
    reg.add("subf", &[Interface], Some(Interface), subf);
    reg.add("divf", &[Interface], Some(Interface), divf);
    reg.add("mulf", &[Interface], Some(Interface), mulf);
    reg.add("biggest", &[Interface], Some(Interface), max);
    reg.add("max", &[Interface], Some(Interface), max);
    reg.add("min", &[Interface], Some(Interface), min);
    reg.add("maxf", &[Interface], Some(Interface), maxf);
    reg.add("minf", &[Interface], Some(Interface), minf);
    reg.add("ceil", &[Interface], None, ceil);
    reg.add("floor", &[Interface], None, floor);
    reg.add("round", &[Interface, Int], Some(Float64), round);
}

// ---- conversions (spf13/cast) ---------------------------------------------

/// spf13/cast `ToInt64` (and `ToInt`: Go's `int` is 64-bit).
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Int32(i) => i64::from(*i),
        Value::Uint64(u) => *u as i64,
        Value::Uint8(u) => i64::from(*u),
        Value::Float(f) => go_float_to_int64(*f),
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(trim_zero_decimal(s), 0).unwrap_or(0),
        Value::Nil
        | Value::Complex(..)
        | Value::Bytes(_)
        | Value::List(_)
        | Value::Map(_)
        | Value::Object(_) => 0,
    }
}

/// spf13/cast `ToFloat64`.
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Int32(i) => f64::from(*i),
        Value::Uint64(u) => *u as f64,
        Value::Uint8(u) => f64::from(*u),
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => parse_go_float(s).unwrap_or(0.0),
        Value::Nil
        | Value::Complex(..)
        | Value::Bytes(_)
        | Value::List(_)
        | Value::Map(_)
        | Value::Object(_) => 0.0,
    }
}

/// Go's `int64(f)` on amd64: truncation, and the "integer indefinite"
/// value `i64::MIN` for NaN and anything out of range.
pub fn go_float_to_int64(f: f64) -> i64 {
    // 2^63 is exactly representable; the valid range is [-2^63, 2^63).
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// spf13/cast's `trimZeroDecimal`: `"1.0"`/`"1.00"` → `"1"` (only when the
/// fraction is all zeros and at least one zero follows the dot).
fn trim_zero_decimal(s: &str) -> &str {
    let mut found_zero = false;
    for (i, b) in s.bytes().enumerate().rev() {
        match b {
            b'.' if found_zero => return &s[..i],
            b'.' => {}
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// Go's `strconv.ParseInt(s, base, 64)`; `base` is 0 (prefixes, `_`
/// separators) or 2..=36. `None` on any error (syntax or range).
pub fn parse_go_int(s: &str, base: u32) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_go_uint(digits, base)?;
    if neg {
        if magnitude > 1u64 << 63 {
            None
        } else {
            Some((magnitude as i64).wrapping_neg())
        }
    } else if magnitude >= 1u64 << 63 {
        None
    } else {
        Some(magnitude as i64)
    }
}

/// Go's `strconv.ParseUint(s, base, 64)`, `None` on any error.
fn parse_go_uint(s: &str, base: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let base_zero = base == 0;
    let original = s;
    let (base, digits) = if base_zero {
        let b = s.as_bytes();
        if b[0] == b'0' {
            match b.get(1).map(u8::to_ascii_lowercase) {
                Some(b'b') if b.len() >= 3 => (2, &s[2..]),
                Some(b'o') if b.len() >= 3 => (8, &s[2..]),
                Some(b'x') if b.len() >= 3 => (16, &s[2..]),
                _ => (8, &s[1..]),
            }
        } else {
            (10, s)
        }
    } else {
        (base, s)
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    for c in digits.bytes() {
        if c == b'_' && base_zero {
            underscores = true;
            continue;
        }
        let d = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'a'..=b'z' | b'A'..=b'Z' => u32::from(c.to_ascii_lowercase() - b'a') + 10,
            _ => return None,
        };
        if d >= base {
            return None;
        }
        n = n.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    if underscores && !underscores_ok(original) {
        return None;
    }
    Some(n)
}

/// Go's `underscoreOK`: `_` only between digits, or between a base prefix
/// and a digit.
fn underscores_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let b = match b.first() {
        Some(b'+' | b'-') => &b[1..],
        _ => b,
    };
    // '^' start, '0' digit or prefix, '_' underscore, '!' other.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
            continue;
        }
        if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
            continue;
        }
        if saw == b'_' {
            return false;
        }
        saw = b'!';
    }
    saw != b'_'
}

/// Go's `strconv.ParseFloat(s, 64)`, `None` on a syntax error and on
/// overflow (where Go returns ±Inf with `ErrRange`).
pub fn parse_go_float(s: &str) -> Option<f64> {
    if let Some(special) = parse_special_float(s) {
        return Some(special);
    }
    let bytes = s.as_bytes();
    let (neg, body) = match bytes.first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let lower = body.as_bytes();
    let value = if lower.len() > 2 && lower[0] == b'0' && lower[1].eq_ignore_ascii_case(&b'x') {
        parse_hex_float(&body[2..])?
    } else {
        parse_decimal_float(body)?
    };
    if s.contains('_') && !underscores_ok(s) {
        return None;
    }
    if value.is_infinite() {
        return None;
    }
    Some(if neg { -value } else { value })
}

/// `inf`, `infinity` (signed or not) and `nan` (unsigned), any case.
fn parse_special_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Unsigned decimal float: digits with an optional fraction and exponent;
/// `_` may separate digits (checked by the caller).
fn parse_decimal_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut saw_digits = false;
    let mut saw_dot = false;
    while i < b.len() {
        match b[i] {
            b'0'..=b'9' => saw_digits = true,
            b'_' => {}
            b'.' if !saw_dot => saw_dot = true,
            _ => break,
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    if i < b.len() {
        if !b[i].eq_ignore_ascii_case(&b'e') {
            return None;
        }
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
        if i == start || i != b.len() {
            return None;
        }
    }
    let cleaned: String = s.chars().filter(|c| *c != '_').collect();
    cleaned.parse::<f64>().ok()
}

/// Hexadecimal float after `0x`: hex mantissa with optional fraction and a
/// mandatory binary exponent `p±N`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut mantissa: u64 = 0;
    let mut exp: i64 = 0;
    let mut saw_digits = false;
    let mut saw_dot = false;
    let mut sticky = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'_' {
            i += 1;
            continue;
        }
        if c == b'.' && !saw_dot {
            saw_dot = true;
            i += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else {
            break;
        };
        saw_digits = true;
        if mantissa >> 60 == 0 {
            mantissa = mantissa * 16 + u64::from(d);
            if saw_dot {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !saw_dot {
                exp += 4;
            }
        }
        i += 1;
    }
    if !saw_digits || i >= b.len() || !b[i].eq_ignore_ascii_case(&b'p') {
        return None;
    }
    i += 1;
    let mut exp_neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        exp_neg = b[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut e: i64 = 0;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        if b[i] != b'_' {
            e = (e * 10 + i64::from(b[i] - b'0')).min(100_000);
        }
        i += 1;
    }
    if i == start || i != b.len() {
        return None;
    }
    let exp = exp + if exp_neg { -e } else { e };
    // Keep a sticky bit below the mantissa so the one rounding is right.
    let m = if sticky { mantissa | 1 } else { mantissa };
    Some(ldexp(m as f64, exp))
}

/// Go's `math.Ldexp`: `frac × 2^exp`, rounding once for subnormal results.
fn ldexp(frac: f64, exp: i64) -> f64 {
    if frac == 0.0 || frac.is_nan() || frac.is_infinite() {
        return frac;
    }
    let (mut m, e) = frexp(frac);
    let mut exp = exp.saturating_add(i64::from(e));
    let sign = m.is_sign_negative();
    if exp < -1075 {
        return if sign { -0.0 } else { 0.0 };
    }
    if exp > 1024 {
        return if sign {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let mut scale = 1.0;
    if exp < -1022 {
        // Subnormal: build in range, then one rounding multiply.
        exp += 53;
        scale = 1.0 / (1u64 << 53) as f64;
    }
    if exp > 1023 {
        m *= 2.0;
        exp -= 1;
    }
    // m in [0.5, 2): m × 2^exp, with 2^exp a normal float.
    m *= f64::from_bits(((exp + 1023) as u64) << 52);
    m * scale
}

/// Go's `math.Frexp` for finite non-zero values: `f = frac × 2^exp` with
/// `|frac|` in [0.5, 1).
fn frexp(f: f64) -> (f64, i32) {
    let mut f = f;
    let mut exp = 0;
    if f.abs() < f64::MIN_POSITIVE {
        f *= (1u64 << 52) as f64;
        exp = -52;
    }
    let bits = f.to_bits();
    exp += ((bits >> 52) & 0x7ff) as i32 - 1022;
    let frac_bits = (bits & !(0x7ffu64 << 52)) | (1022u64 << 52);
    (f64::from_bits(frac_bits), exp)
}

/// Go's `math.Pow(10, n)` for an integer `n`, step for step: Go's result
/// is not always the correctly rounded power (`Pow(10, 308)` is
/// `1.0000000000000006e308`), and `round` shows it.
fn go_pow10(n: i64) -> f64 {
    if n == 0 {
        return 1.0;
    }
    if n == 1 {
        return 10.0;
    }
    let mut a1 = 1.0f64;
    let mut ae: i64 = 0;
    let (mut x1, xe) = frexp(10.0);
    let mut xe = i64::from(xe);
    let mut i = n.unsigned_abs();
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    if n < 0 {
        a1 = 1.0 / a1;
        ae = -ae;
    }
    ldexp(a1, ae)
}

/// Go's `math.Max`.
fn go_max(x: f64, y: f64) -> f64 {
    if x.is_infinite() && x > 0.0 || y.is_infinite() && y > 0.0 {
        f64::INFINITY
    } else if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == 0.0 && y == 0.0 {
        if x.is_sign_negative() {
            y
        } else {
            x
        }
    } else if x > y {
        x
    } else {
        y
    }
}

/// Go's `math.Min`.
fn go_min(x: f64, y: f64) -> f64 {
    if x.is_infinite() && x < 0.0 || y.is_infinite() && y < 0.0 {
        f64::NEG_INFINITY
    } else if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == 0.0 && y == 0.0 {
        if x.is_sign_negative() {
            x
        } else {
            y
        }
    } else if x < y {
        x
    } else {
        y
    }
}

// ---- decimal arithmetic (shopspring/decimal) ------------------------------

/// An exact decimal `mantissa × 10^exp`.
#[derive(Clone, Debug)]
struct Decimal {
    mantissa: BigInt,
    exp: i64,
}

/// shopspring/decimal's `DivisionPrecision`.
const DIVISION_PLACES: i64 = 16;

fn pow10_big(n: i64) -> BigInt {
    BigInt::from(10u32).pow(n.unsigned_abs() as u32)
}

impl Decimal {
    /// `decimal.NewFromFloat`: the exact value of the shortest decimal
    /// that round-trips to `f`. Panics in Go for NaN and ±Inf.
    fn from_float(f: f64) -> Result<Decimal, FuncError> {
        if f.is_nan() || f.is_infinite() {
            return Err(FuncError(format!(
                "Cannot create a Decimal from {}",
                crate::fmt::format_float_g(f)
            )));
        }
        if f == 0.0 {
            return Ok(Decimal {
                mantissa: BigInt::from(0),
                exp: 0,
            });
        }
        // `{:e}` is the shortest round-trip spelling: "-1.2345e-7".
        let sci = format!("{f:e}");
        let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let exp: i64 = exp.parse().unwrap_or(0);
        let digits: String = mant.chars().filter(|c| *c != '.').collect();
        let frac_len = mant.split_once('.').map_or(0, |(_, frac)| frac.len()) as i64;
        let mantissa: BigInt = digits.parse().unwrap_or_default();
        Ok(Decimal {
            mantissa,
            exp: exp - frac_len,
        })
    }

    fn rescaled(&self, exp: i64) -> BigInt {
        debug_assert!(exp <= self.exp);
        &self.mantissa * pow10_big(self.exp - exp)
    }

    fn add(&self, other: &Decimal) -> Decimal {
        let exp = self.exp.min(other.exp);
        Decimal {
            mantissa: self.rescaled(exp) + other.rescaled(exp),
            exp,
        }
    }

    fn sub(&self, other: &Decimal) -> Decimal {
        let exp = self.exp.min(other.exp);
        Decimal {
            mantissa: self.rescaled(exp) - other.rescaled(exp),
            exp,
        }
    }

    fn mul(&self, other: &Decimal) -> Decimal {
        Decimal {
            mantissa: &self.mantissa * &other.mantissa,
            exp: self.exp + other.exp,
        }
    }

    /// `Div`: the quotient rounded to 16 decimal places, half away from
    /// zero.
    fn div(&self, other: &Decimal) -> Result<Decimal, FuncError> {
        if other.mantissa.sign() == num_bigint::Sign::NoSign {
            return Err(FuncError::new("decimal division by 0"));
        }
        // q × 10^-16 ≈ (a × 10^ea) / (b × 10^eb), so
        // q ≈ a × 10^(ea - eb + 16) / b.
        let shift = self.exp - other.exp + DIVISION_PLACES;
        let (num, den) = if shift >= 0 {
            (&self.mantissa * pow10_big(shift), other.mantissa.clone())
        } else {
            (self.mantissa.clone(), &other.mantissa * pow10_big(-shift))
        };
        // BigInt's `/` and `%` truncate toward zero, like Go's QuoRem.
        let mut q = &num / &den;
        let r = &num % &den;
        let twice_r = r.magnitude() * 2u32;
        if &twice_r >= den.magnitude() {
            let away = if (num.sign() == num_bigint::Sign::Minus)
                != (den.sign() == num_bigint::Sign::Minus)
            {
                -1
            } else {
                1
            };
            q += away;
        }
        Ok(Decimal {
            mantissa: q,
            exp: -DIVISION_PLACES,
        })
    }

    /// The nearest float64 (`Float64()`, via `big.Rat`).
    fn to_float(&self) -> f64 {
        format!("{}e{}", self.mantissa, self.exp)
            .parse::<f64>()
            .unwrap_or(0.0)
    }
}

type DecimalOp = fn(&Decimal, &Decimal) -> Result<Decimal, FuncError>;

/// Sprig's `execDecimalOp`: fold `rest` into `first` with `op`.
fn decimal_fold(first: &Value, rest: &[Value], op: DecimalOp) -> FuncResult {
    let mut acc = Decimal::from_float(to_float64(first))?;
    for v in rest {
        let d = Decimal::from_float(to_float64(v))?;
        acc = op(&acc, &d)?;
    }
    Ok(Value::Float(acc.to_float()))
}

fn dec_add(a: &Decimal, b: &Decimal) -> Result<Decimal, FuncError> {
    Ok(a.add(b))
}
fn dec_sub(a: &Decimal, b: &Decimal) -> Result<Decimal, FuncError> {
    Ok(a.sub(b))
}
fn dec_mul(a: &Decimal, b: &Decimal) -> Result<Decimal, FuncError> {
    Ok(a.mul(b))
}
fn dec_div(a: &Decimal, b: &Decimal) -> Result<Decimal, FuncError> {
    a.div(b)
}

// ---- the functions ----------------------------------------------------------

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

/// `atoi`: `strconv.Atoi` with the error dropped; overflow keeps Go's
/// clamped value.
fn atoi(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let s = arg(&args, 0).as_str().unwrap_or("");
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Value::Int(0));
    }
    let mut n: u64 = 0;
    let mut overflow = false;
    for b in digits.bytes() {
        match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
        {
            Some(next) => n = next,
            None => {
                overflow = true;
                break;
            }
        }
    }
    let value = match (neg, overflow) {
        (false, true) => i64::MAX,
        (true, true) => i64::MIN,
        (false, false) => i64::try_from(n).unwrap_or(i64::MAX),
        (true, false) => {
            if n > 1u64 << 63 {
                i64::MIN
            } else {
                (n as i64).wrapping_neg()
            }
        }
    };
    Ok(Value::Int(value))
}

fn int64(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Int64(to_int64(arg(&args, 0))))
}

fn int(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Int(to_int64(arg(&args, 0))))
}

fn float64(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Float(to_float64(arg(&args, 0))))
}

/// `toDecimal`: the `%v` text of the value read as a base-8 integer, 0 on
/// failure.
fn to_decimal(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let text = format_v(arg(&args, 0));
    Ok(Value::Int64(parse_go_int(&text, 8).unwrap_or(0)))
}

fn int_arg(args: &[Value], i: usize) -> i64 {
    match arg(args, i) {
        Value::Int(n) | Value::Int64(n) => *n,
        other => to_int64(other),
    }
}

/// How many values Sprig's `untilStep(start, stop, step)` loop produces;
/// `None` when Go's `int` wraps around and the loop never ends.
fn until_step_len(start: i64, stop: i64, step: i64) -> Option<u64> {
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let count = if stop < start {
        if step >= 0 {
            return Some(0);
        }
        (start - stop + (-step) - 1) / (-step)
    } else {
        if step <= 0 {
            return Some(0);
        }
        (stop - start + step - 1) / step
    };
    if count == 0 {
        return Some(0);
    }
    // After the last value the loop adds `step` once more; if that leaves
    // int64, Go wraps to the other side of `stop` and goes on forever.
    let after_last = start + count * step;
    if after_last > i128::from(i64::MAX) || after_last < i128::from(i64::MIN) {
        return None;
    }
    u64::try_from(count).ok()
}

/// Sprig's `untilStep`, charging the budget before building.
fn until_step_values(
    ctx: &mut dyn Context,
    start: i64,
    stop: i64,
    step: i64,
) -> Result<Vec<i64>, FuncError> {
    let count = until_step_len(start, stop, step).unwrap_or(u64::MAX);
    ctx.charge(count)?;
    let count = usize::try_from(count).map_err(|_| FuncError::new("untilStep: too many values"))?;
    let mut out = Vec::with_capacity(count);
    let mut i = start;
    for _ in 0..count {
        out.push(i);
        i = i.wrapping_add(step);
    }
    Ok(out)
}

fn int_list(items: Vec<i64>) -> Value {
    Value::List(List::typed(
        items.into_iter().map(Value::Int).collect(),
        GoType::Int,
    ))
}

fn until(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let count = int_arg(&args, 0);
    let step = if count < 0 { -1 } else { 1 };
    Ok(int_list(until_step_values(ctx, 0, count, step)?))
}

fn until_step(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let (start, stop, step) = (int_arg(&args, 0), int_arg(&args, 1), int_arg(&args, 2));
    Ok(int_list(until_step_values(ctx, start, stop, step)?))
}

/// `seq`, GNU-seq-like: `seq END`, `seq START END`, `seq START STEP END`;
/// the numbers joined by spaces.
fn seq(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let p: Vec<i64> = (0..args.len()).map(|i| int_arg(&args, i)).collect();
    let values = match p.as_slice() {
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            until_step_values(ctx, 1, end.wrapping_add(inc), inc)?
        }
        [start, end] => {
            let inc = if end < start { -1 } else { 1 };
            until_step_values(ctx, *start, end.wrapping_add(inc), inc)?
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if *step > 0 {
                    return Ok(Value::str(""));
                }
            }
            until_step_values(ctx, *start, end.wrapping_add(inc), *step)?
        }
        _ => Vec::new(),
    };
    let text = values
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Value::string(text))
}

fn add1(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Int64(to_int64(arg(&args, 0)).wrapping_add(1)))
}

fn add(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let sum = args
        .iter()
        .fold(0i64, |acc, v| acc.wrapping_add(to_int64(v)));
    Ok(Value::Int64(sum))
}

fn sub(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Int64(
        to_int64(arg(&args, 0)).wrapping_sub(to_int64(arg(&args, 1))),
    ))
}

const DIVIDE_BY_ZERO: &str = "runtime error: integer divide by zero";

fn div(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let (a, b) = (to_int64(arg(&args, 0)), to_int64(arg(&args, 1)));
    if b == 0 {
        return Err(FuncError::new(DIVIDE_BY_ZERO));
    }
    // Go: MinInt64 / -1 wraps to MinInt64.
    Ok(Value::Int64(a.wrapping_div(b)))
}

fn modulo(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let (a, b) = (to_int64(arg(&args, 0)), to_int64(arg(&args, 1)));
    if b == 0 {
        return Err(FuncError::new(DIVIDE_BY_ZERO));
    }
    Ok(Value::Int64(a.wrapping_rem(b)))
}

fn mul(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let first = to_int64(arg(&args, 0));
    let product = args
        .iter()
        .skip(1)
        .fold(first, |acc, v| acc.wrapping_mul(to_int64(v)));
    Ok(Value::Int64(product))
}

fn add1f(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    decimal_fold(arg(&args, 0), &[Value::Int(1)], dec_add)
}

fn addf(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    decimal_fold(&Value::Float(0.0), &args, dec_add)
}

fn subf(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    decimal_fold(arg(&args, 0), args.get(1..).unwrap_or(&[]), dec_sub)
}

fn divf(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    decimal_fold(arg(&args, 0), args.get(1..).unwrap_or(&[]), dec_div)
}

fn mulf(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    decimal_fold(arg(&args, 0), args.get(1..).unwrap_or(&[]), dec_mul)
}

fn max(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let first = to_int64(arg(&args, 0));
    let best = args.iter().skip(1).map(to_int64).fold(first, i64::max);
    Ok(Value::Int64(best))
}

fn min(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let first = to_int64(arg(&args, 0));
    let best = args.iter().skip(1).map(to_int64).fold(first, i64::min);
    Ok(Value::Int64(best))
}

fn maxf(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let first = to_float64(arg(&args, 0));
    let best = args.iter().skip(1).map(to_float64).fold(first, go_max);
    Ok(Value::Float(best))
}

fn minf(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let first = to_float64(arg(&args, 0));
    let best = args.iter().skip(1).map(to_float64).fold(first, go_min);
    Ok(Value::Float(best))
}

fn ceil(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Float(to_float64(arg(&args, 0)).ceil()))
}

fn floor(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::Float(to_float64(arg(&args, 0)).floor()))
}

/// `round VALUE PLACES [HALF]`: scale by 10^places, take the ceiling when
/// the fractional part is ≥ HALF (0.5), else the floor, scale back.
fn round(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let val = to_float64(arg(&args, 0));
    let places = int_arg(&args, 1);
    let round_on = match args.get(2) {
        Some(Value::Float(f)) => *f,
        Some(other) => to_float64(other),
        None => 0.5,
    };
    let pow = go_pow10(places);
    let digit = pow * val;
    // Go's math.Modf: the fraction keeps the sign; ±Inf gives NaN.
    let frac = if digit.is_infinite() {
        f64::NAN
    } else {
        digit - digit.trunc()
    };
    let rounded = if frac >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    Ok(Value::Float(rounded / pow))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TestCtx {
        budget: u64,
    }

    impl Context for TestCtx {
        fn include(&mut self, _: &str, _: Value) -> Result<String, FuncError> {
            Err(FuncError::new("include is not available in this test"))
        }
        fn tpl(&mut self, _: &str, _: Value) -> Result<String, FuncError> {
            Err(FuncError::new("tpl is not available in this test"))
        }
        fn charge(&mut self, units: u64) -> Result<(), FuncError> {
            self.budget = self
                .budget
                .checked_sub(units)
                .ok_or_else(|| FuncError::new("evaluation budget exhausted"))?;
            Ok(())
        }
        fn lookup(&mut self, _: &str, _: &str, _: &str, _: &str) -> Result<Value, FuncError> {
            Ok(Value::empty_map())
        }
    }

    fn call(f: crate::func::FuncImpl, args: Vec<Value>) -> FuncResult {
        f(&mut TestCtx { budget: 1_000_000 }, args)
    }

    fn show(r: FuncResult) -> String {
        match r {
            Ok(v) => format!("{v:?}"),
            Err(e) => format!("error: {e}"),
        }
    }

    // Expectations below were checked with Go (spf13/cast v1.7.0, Sprig
    // v3.3.0, strconv) in a throwaway program.

    #[test]
    fn cast_to_int64_strings() {
        let cases = [
            ("1_000", 1000),
            ("0x1F", 31),
            ("0x_1F", 31),
            ("0o17", 15),
            ("017", 15),
            ("0b101", 5),
            ("08", 0),
            ("0_7", 7),
            ("1.0", 1),
            ("1.00", 1),
            ("1.", 0),
            (".0", 0),
            ("1.5", 0),
            ("1e3", 0),
            (" 1", 0),
            ("+5", 5),
            ("0x", 0),
            ("9223372036854775808", 0),
            ("-9223372036854775808", i64::MIN),
        ];
        for (s, want) in cases {
            assert_eq!(to_int64(&Value::str(s)), want, "{s:?}");
        }
    }

    #[test]
    fn cast_to_float64_strings() {
        let cases: [(&str, f64); 16] = [
            ("1_000", 1000.0),
            ("1_000.5", 1000.5),
            ("_1", 0.0),
            ("1__0", 0.0),
            ("0x1p4", 16.0),
            ("0x10", 0.0),
            ("0x1.8p1", 3.0),
            ("1e400", 0.0),
            ("1e-400", 0.0),
            ("+nan", 0.0),
            ("infin", 0.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("017", 17.0),
            ("0X1P-2", 0.25),
            ("1_e3", 0.0),
        ];
        for (s, want) in cases {
            assert_eq!(to_float64(&Value::str(s)), want, "{s:?}");
        }
        assert!(to_float64(&Value::str("NaN")).is_nan());
        assert_eq!(to_float64(&Value::str("-infinity")), f64::NEG_INFINITY);
        assert_eq!(to_float64(&Value::str("0x1.fffffffffffffp1023")), f64::MAX);
        assert_eq!(to_float64(&Value::str("0x1p1024")), 0.0);
    }

    #[test]
    fn float_to_int_like_amd64() {
        assert_eq!(to_int64(&Value::Float(1e19)), i64::MIN);
        assert_eq!(to_int64(&Value::Float(f64::NAN)), i64::MIN);
        assert_eq!(to_int64(&Value::Float(-1.9)), -1);
        assert_eq!(to_int64(&Value::Float(9.223372036854776e18)), i64::MIN);
    }

    #[test]
    fn atoi_clamps_on_overflow() {
        let r = |s: &str| show(call(atoi, vec![Value::str(s)]));
        assert_eq!(r("99999999999999999999"), "int(9223372036854775807)");
        assert_eq!(r("-99999999999999999999"), "int(-9223372036854775808)");
        assert_eq!(r("+12"), "int(12)");
        assert_eq!(r("1_0"), "int(0)");
    }

    #[test]
    fn go_pow_matches_go() {
        assert_eq!(go_pow10(23), 1e23);
        assert_eq!(go_pow10(-5), 1e-5);
        assert_eq!(go_pow10(308), 1.0000000000000006e308);
        assert_eq!(go_pow10(25), 1e25);
        assert_ne!(go_pow10(-23), 1e-23);
    }

    #[test]
    fn integer_division_by_zero_is_gos_panic() {
        assert_eq!(
            show(call(div, vec![Value::Int(1), Value::Int(0)])),
            "error: runtime error: integer divide by zero"
        );
        assert_eq!(
            show(call(modulo, vec![Value::Int(1), Value::Nil])),
            "error: runtime error: integer divide by zero"
        );
        assert_eq!(
            show(call(div, vec![Value::Int64(i64::MIN), Value::Int(-1)])),
            format!("int64({})", i64::MIN)
        );
    }

    #[test]
    fn decimal_ops() {
        let f = |func: crate::func::FuncImpl, args: Vec<f64>| {
            show(call(func, args.into_iter().map(Value::Float).collect()))
        };
        assert_eq!(f(addf, vec![0.1, 0.2]), "float64(0.3)");
        assert_eq!(f(divf, vec![1.0, 3.0]), "float64(0.3333333333333333)");
        assert_eq!(f(divf, vec![2.0, 3.0]), "float64(0.6666666666666667)");
        assert_eq!(f(mulf, vec![1.1, 1.1]), "float64(1.21)");
        assert_eq!(f(subf, vec![1.0, 0.9]), "float64(0.1)");
        assert_eq!(f(divf, vec![1.0, 0.0]), "error: decimal division by 0");
        assert_eq!(
            show(call(addf, vec![Value::str("NaN")])),
            "error: Cannot create a Decimal from NaN"
        );
    }

    #[test]
    fn until_and_seq() {
        let ints = |v: &[i64]| {
            v.iter()
                .map(|i| format!("int({i})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        assert_eq!(
            show(call(until, vec![Value::Int(3)])),
            format!("[{}]", ints(&[0, 1, 2]))
        );
        assert_eq!(
            show(call(until, vec![Value::Int(-2)])),
            format!("[{}]", ints(&[0, -1]))
        );
        let s = |args: Vec<i64>| show(call(seq, args.into_iter().map(Value::Int).collect()));
        assert_eq!(s(vec![5]), "\"1 2 3 4 5\"");
        assert_eq!(s(vec![0]), "\"1 0\"");
        assert_eq!(s(vec![3, 1]), "\"3 2 1\"");
        assert_eq!(s(vec![1, 2, 7]), "\"1 3 5 7\"");
        assert_eq!(s(vec![7, -2, 1]), "\"7 5 3 1\"");
        assert_eq!(s(vec![7, 2, 1]), "\"\"");
        assert_eq!(s(vec![]), "\"\"");
        assert_eq!(s(vec![1, 2, 3, 4]), "\"\"");
        assert_eq!(s(vec![i64::MAX]), "\"\"");
    }

    #[test]
    fn huge_ranges_hit_the_budget() {
        let mut ctx = TestCtx { budget: 1000 };
        let r = until(&mut ctx, vec![Value::Int(1_000_000_000_000)]);
        assert_eq!(show(r), "error: evaluation budget exhausted");
        let mut ctx = TestCtx { budget: 1000 };
        let r = until_step(
            &mut ctx,
            vec![Value::Int(0), Value::Int(i64::MAX), Value::Int(1 << 62)],
        );
        assert_eq!(show(r), "error: evaluation budget exhausted");
    }

    #[test]
    fn round_like_sprig() {
        let r = |v: f64, p: i64, extra: Option<f64>| {
            let mut args = vec![Value::Float(v), Value::Int(p)];
            if let Some(e) = extra {
                args.push(Value::Float(e));
            }
            show(call(round, args))
        };
        assert_eq!(r(12.3456, 2, None), "float64(12.35)");
        assert_eq!(r(2.5, 0, None), "float64(3)");
        assert_eq!(r(-2.5, 0, None), "float64(-3)");
        assert_eq!(r(3.7, 0, Some(0.8)), "float64(3)");
    }
}
