//! Template functions: Helm's engine functions (`include tpl required fail
//! lookup getHostByName`) and the duration helpers of Helm v4.3.1's
//! `pkg/engine/funcs.go` (`mustToDuration durationSeconds … durationRoundTo
//! durationTruncateTo`).
//!
//! `include`, `tpl` and `lookup` are thin wrappers over the running engine
//! ([`Context`]). `required` and `fail` return Helm's message wrapped in
//! `HELM_ERR_START…HELM_ERR_END`, exactly as Helm's functions do; the
//! renderer strips the markers when it formats the execution error (Helm's
//! `reformatExecErrorMsg`). `getHostByName` is Helm's stub without
//! `--enable-dns`: it always returns "".

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::funcs::dates::{parse_duration, GoDuration};
use crate::value::{GoType, Value};

/// Helm's markers around `required`/`fail` messages.
pub const WARN_START: &str = "HELM_ERR_START";
pub const WARN_END: &str = "HELM_ERR_END";

fn warn_wrap(msg: &str) -> FuncError {
    FuncError(format!("{WARN_START}{msg}{WARN_END}"))
}

fn str_arg(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(|v| v.as_str()).unwrap_or_default()
}

fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Nil)
}

fn include(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    ctx.include(str_arg(&args, 0), arg(&args, 1))
        .map(Value::string)
}

fn tpl(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    ctx.tpl(str_arg(&args, 0), arg(&args, 1)).map(Value::string)
}

/// `required MSG VAL`: an error when VAL is nil or the empty string;
/// anything else (0, false, empty lists) passes through.
fn required(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let val = arg(&args, 1);
    match &val {
        Value::Nil => Err(warn_wrap(str_arg(&args, 0))),
        Value::String(s) if s.is_empty() => Err(warn_wrap(str_arg(&args, 0))),
        _ => Ok(val),
    }
}

fn fail(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Err(warn_wrap(str_arg(&args, 0)))
}

fn lookup(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    ctx.lookup(
        str_arg(&args, 0),
        str_arg(&args, 1),
        str_arg(&args, 2),
        str_arg(&args, 3),
    )
}

fn get_host_by_name(_: &mut dyn Context, _: Vec<Value>) -> FuncResult {
    Ok(Value::str(""))
}

// ---------------------------------------------------------------------------
// time.Duration

const NANOSECOND: i64 = 1;
const MICROSECOND: i64 = 1000 * NANOSECOND;
const MILLISECOND: i64 = 1000 * MICROSECOND;
const SECOND: i64 = 1000 * MILLISECOND;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;

fn duration_value(d: i64) -> Value {
    GoDuration(d).into_value()
}

fn seconds(d: i64) -> f64 {
    (d / SECOND) as f64 + (d % SECOND) as f64 / 1e9
}

fn minutes(d: i64) -> f64 {
    (d / MINUTE) as f64 + (d % MINUTE) as f64 / (60.0 * 1e9)
}

fn hours(d: i64) -> f64 {
    (d / HOUR) as f64 + (d % HOUR) as f64 / (60.0 * 60.0 * 1e9)
}

/// Go's `strconv.ParseFloat` for the decimal and special forms users write
/// (`2.5`, `1e3`, `inf`); `None` on a syntax error.
fn parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        let v = if lower == "nan" {
            f64::NAN
        } else {
            f64::INFINITY
        };
        if lower == "nan" && body.len() != s.len() {
            return None;
        }
        return Some(if s.starts_with('-') { -v } else { v });
    }
    let bytes = body.as_bytes();
    let mut digits = 0;
    let mut i = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if e == i {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    // Out of range is an error in Go too (ParseFloat returns ErrRange).
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

const MAX_DURATION_SECONDS: i64 = i64::MAX / SECOND;
const MIN_DURATION_SECONDS: i64 = i64::MIN / SECOND;

fn from_seconds_float(secs: f64) -> Result<i64, String> {
    if secs.is_nan() || secs.is_infinite() {
        return Err(format!(
            "invalid duration seconds: {}",
            crate::fmt::format_float_g(secs)
        ));
    }
    let max = i64::MAX as f64 / SECOND as f64;
    let min = i64::MIN as f64 / SECOND as f64;
    if secs > max || secs < min {
        return Err(format!(
            "duration seconds overflow: {}",
            crate::fmt::format_float_g(secs)
        ));
    }
    let nanos = secs * SECOND as f64;
    if nanos > i64::MAX as f64 || nanos < i64::MIN as f64 {
        return Err(format!(
            "duration nanoseconds overflow: {}",
            crate::fmt::format_float_g(nanos)
        ));
    }
    Ok(nanos as i64)
}

/// Helm's `asDuration`.
fn as_duration(v: &Value) -> Result<i64, String> {
    match v {
        Value::Object(o) => match o.as_any().downcast_ref::<GoDuration>() {
            Some(d) => Ok(d.0),
            None => Err(format!("unsupported duration type {}", v.type_name())),
        },
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Err("empty duration".into());
            }
            if let Ok(d) = parse_duration(t) {
                return Ok(d);
            }
            if let Some(f) = parse_float(t) {
                return from_seconds_float(f);
            }
            Err(format!("could not parse duration {}", crate::fmt::quote(s)))
        }
        Value::Nil => Err("invalid duration".into()),
        Value::Int(i) | Value::Int64(i) => from_seconds_int(*i),
        Value::Int32(i) => from_seconds_int(i64::from(*i)),
        Value::Uint8(u) => from_seconds_int(i64::from(*u)),
        Value::Uint64(u) => {
            if *u > MAX_DURATION_SECONDS as u64 {
                Err(format!("duration seconds overflow: {u}"))
            } else {
                Ok(*u as i64 * SECOND)
            }
        }
        Value::Float(f) => from_seconds_float(*f),
        _ => Err(format!("unsupported duration type {}", v.type_name())),
    }
}

fn from_seconds_int(s: i64) -> Result<i64, String> {
    if !(MIN_DURATION_SECONDS..=MAX_DURATION_SECONDS).contains(&s) {
        return Err(format!("duration seconds overflow: {s}"));
    }
    Ok(s * SECOND)
}

fn must_to_duration(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    as_duration(&arg(&args, 0))
        .map(duration_value)
        .map_err(FuncError)
}

fn float_of(args: &[Value], f: fn(i64) -> f64) -> FuncResult {
    Ok(Value::Float(
        as_duration(&arg(args, 0)).map(f).unwrap_or(0.0),
    ))
}

fn int_of(args: &[Value], f: fn(i64) -> i64) -> FuncResult {
    Ok(Value::Int64(as_duration(&arg(args, 0)).map(f).unwrap_or(0)))
}

fn duration_seconds(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    float_of(&args, seconds)
}
fn duration_minutes(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    float_of(&args, minutes)
}
fn duration_hours(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    float_of(&args, hours)
}
fn duration_days(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    float_of(&args, |d| hours(d) / 24.0)
}
fn duration_weeks(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    float_of(&args, |d| hours(d) / 24.0 / 7.0)
}
fn duration_milliseconds(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    int_of(&args, |d| d / MILLISECOND)
}
fn duration_microseconds(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    int_of(&args, |d| d / MICROSECOND)
}
fn duration_nanoseconds(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    int_of(&args, |d| d)
}

/// Go's `Duration.Round`.
fn round(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let less_than_half = |x: i64, y: i64| (x as u64).wrapping_add(x as u64) < y as u64;
    let mut r = d % m;
    if d < 0 {
        r = -r;
        if less_than_half(r, m) {
            return d + r;
        }
        let d1 = d.wrapping_sub(m).wrapping_add(r);
        if d1 < d {
            d1
        } else {
            i64::MIN
        }
    } else {
        if less_than_half(r, m) {
            return d - r;
        }
        let d1 = d.wrapping_add(m).wrapping_sub(r);
        if d1 > d {
            d1
        } else {
            i64::MAX
        }
    }
}

/// Go's `Duration.Truncate`.
fn truncate(d: i64, m: i64) -> i64 {
    if m <= 0 {
        d
    } else {
        d - d % m
    }
}

fn round_like(args: &[Value], f: fn(i64, i64) -> i64) -> FuncResult {
    let Ok(d) = as_duration(&arg(args, 0)) else {
        return Ok(duration_value(0));
    };
    Ok(duration_value(match as_duration(&arg(args, 1)) {
        Ok(m) => f(d, m),
        Err(_) => d,
    }))
}

fn duration_round_to(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    round_like(&args, round)
}

fn duration_truncate_to(_: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    round_like(&args, truncate)
}

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    use GoType::{Interface, String as Str};
    reg.add("include", &[Str, Interface], None, include);
    reg.add("tpl", &[Str, Interface], None, tpl);
    reg.add("required", &[Str, Interface], None, required);
    reg.add("fail", &[Str], None, fail);
    reg.add("lookup", &[Str, Str, Str, Str], None, lookup);
    reg.add("getHostByName", &[Str], None, get_host_by_name);

    reg.add("mustToDuration", &[Interface], None, must_to_duration);
    reg.add("durationSeconds", &[Interface], None, duration_seconds);
    reg.add(
        "durationMilliseconds",
        &[Interface],
        None,
        duration_milliseconds,
    );
    reg.add(
        "durationMicroseconds",
        &[Interface],
        None,
        duration_microseconds,
    );
    reg.add(
        "durationNanoseconds",
        &[Interface],
        None,
        duration_nanoseconds,
    );
    reg.add("durationMinutes", &[Interface], None, duration_minutes);
    reg.add("durationHours", &[Interface], None, duration_hours);
    reg.add("durationDays", &[Interface], None, duration_days);
    reg.add("durationWeeks", &[Interface], None, duration_weeks);
    reg.add(
        "durationRoundTo",
        &[Interface, Interface],
        None,
        duration_round_to,
    );
    reg.add(
        "durationTruncateTo",
        &[Interface, Interface],
        None,
        duration_truncate_to,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context without an engine: include/tpl fail, lookup is empty.
    struct NoEngine;

    impl Context for NoEngine {
        fn include(&mut self, name: &str, _: Value) -> Result<String, FuncError> {
            Err(FuncError(format!("no template {name}")))
        }
        fn tpl(&mut self, _: &str, _: Value) -> Result<String, FuncError> {
            Err(FuncError("no engine".into()))
        }
        fn charge(&mut self, _: u64) -> Result<(), FuncError> {
            Ok(())
        }
        fn lookup(&mut self, _: &str, _: &str, _: &str, _: &str) -> Result<Value, FuncError> {
            Ok(Value::empty_map())
        }
    }

    #[test]
    fn required_refuses_only_nil_and_empty_string() {
        let call = |v: Value| required(&mut NoEngine, vec![Value::str("need x"), v]);
        assert_eq!(
            call(Value::Nil).unwrap_err().0,
            "HELM_ERR_STARTneed xHELM_ERR_END"
        );
        assert!(call(Value::str("")).is_err());
        assert!(call(Value::Int(0)).is_ok());
        assert!(call(Value::Bool(false)).is_ok());
        assert!(call(Value::list(vec![])).is_ok());
        assert_eq!(
            fail(&mut NoEngine, vec![Value::str("boom")]).unwrap_err().0,
            "HELM_ERR_STARTboomHELM_ERR_END"
        );
        assert_eq!(
            format!(
                "{:?}",
                lookup(
                    &mut NoEngine,
                    vec![
                        Value::str("v1"),
                        Value::str("Pod"),
                        Value::str(""),
                        Value::str("")
                    ]
                )
                .unwrap()
            ),
            "{}"
        );
    }

    #[test]
    fn durations_print_and_parse_like_go() {
        // Go's documented Duration.String/ParseDuration results.
        for (d, s) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (250 * MILLISECOND, "250ms"),
            (1_500 * MILLISECOND, "1.5s"),
            (90 * SECOND, "1m30s"),
            (HOUR + 2 * MINUTE + 3 * SECOND, "1h2m3s"),
            (-MINUTE, "-1m0s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(crate::funcs::dates::format_duration(d), s);
        }
        assert_eq!(
            parse_duration("1h2m3s").ok(),
            Some(HOUR + 2 * MINUTE + 3 * SECOND)
        );
        assert_eq!(parse_duration("1.5h").ok(), Some(90 * MINUTE));
        assert_eq!(parse_duration("-0").ok(), Some(0));
        assert_eq!(parse_duration(".5s").ok(), Some(500 * MILLISECOND));
        assert_eq!(parse_duration("1").ok(), None);
        assert_eq!(parse_duration("1x").ok(), None);
        assert_eq!(parse_duration("").ok(), None);
        assert_eq!(as_duration(&Value::str(" 2.5 ")), Ok(2_500 * MILLISECOND));
        assert_eq!(as_duration(&Value::Float(1.5)), Ok(1_500 * MILLISECOND));
        assert_eq!(
            as_duration(&Value::Bool(true)).unwrap_err(),
            "unsupported duration type bool"
        );
        assert_eq!(round(HOUR + 15 * MINUTE + 30 * SECOND, HOUR), HOUR);
        assert_eq!(round(-(90 * SECOND), MINUTE), -2 * MINUTE);
        assert_eq!(truncate(90 * SECOND, MINUTE), MINUTE);
    }
}
