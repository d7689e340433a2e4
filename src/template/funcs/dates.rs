//! Template functions: dates and durations (Sprig's `date.go`), and Go's
//! `time.Time` as templates see it.
//!
//! `now`, `toDate` and `dateModify` return a Go `time.Time`, which charts
//! then format, compare or call methods on (`.Unix`, `.Year`, `.Format`,
//! `.Add`, …). [`GoTime`] models one: an instant, a location and, for
//! `now`, a monotonic clock reading (which `%v` prints as `m=+…`). Layouts
//! are Go's reference-time layouts (`2006-01-02T15:04:05Z07:00`), formatted
//! and parsed with Go's rules; zones are loaded from the system zoneinfo
//! files exactly where Go's `time.LoadLocation` looks, and `Local` follows
//! Go's `$TZ` / `/etc/localtime` rules.

use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::value::{GoType, Object, Value};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    // time.Now: func() time.Time
    reg.add("now", &[], None, now);
    // func date(fmt string, date interface{}) string
    reg.add("date", &[GoType::String, GoType::Interface], None, date);
    // func dateInZone(fmt string, date interface{}, zone string) string
    let in_zone: &'static [GoType] = &[GoType::String, GoType::Interface, GoType::String];
    reg.add("dateInZone", in_zone, None, date_in_zone);
    reg.add("date_in_zone", in_zone, None, date_in_zone);
    // func dateModify(fmt string, date time.Time) time.Time
    let modify: &'static [GoType] = &[GoType::String, GoType::Time];
    reg.add("dateModify", modify, None, date_modify);
    reg.add("date_modify", modify, None, date_modify);
    // func mustDateModify(fmt string, date time.Time) (time.Time, error)
    reg.add("mustDateModify", modify, None, must_date_modify);
    reg.add("must_date_modify", modify, None, must_date_modify);
    // func dateAgo(date interface{}) string
    reg.add("ago", &[GoType::Interface], None, ago);
    // func duration(sec interface{}) string
    reg.add("duration", &[GoType::Interface], None, duration);
    // func durationRound(duration interface{}) string
    reg.add("durationRound", &[GoType::Interface], None, duration_round);
    // func htmlDate(date interface{}) string
    reg.add("htmlDate", &[GoType::Interface], None, html_date);
    // func htmlDateInZone(date interface{}, zone string) string
    reg.add(
        "htmlDateInZone",
        &[GoType::Interface, GoType::String],
        None,
        html_date_in_zone,
    );
    // func toDate(fmt, str string) time.Time
    reg.add("toDate", &[GoType::String, GoType::String], None, to_date);
    // func mustToDate(fmt, str string) (time.Time, error)
    reg.add(
        "mustToDate",
        &[GoType::String, GoType::String],
        None,
        must_to_date,
    );
    // func unixEpoch(date time.Time) string
    reg.add("unixEpoch", &[GoType::Time], None, unix_epoch);
}

// ---------------------------------------------------------------------------
// Argument helpers.

fn str_arg(args: &[Value], i: usize) -> Result<&str, FuncError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        other => Err(FuncError::new(format!(
            "internal: expected string argument {i}, got {}",
            other
                .map(Value::type_name)
                .unwrap_or_else(|| "nothing".into())
        ))),
    }
}

fn time_arg(args: &[Value], i: usize) -> Result<GoTime, FuncError> {
    match args.get(i).and_then(GoTime::from_value) {
        Some(t) => Ok(t),
        None => Err(FuncError::new(format!(
            "internal: expected time.Time argument {i}, got {}",
            args.get(i)
                .map(Value::type_name)
                .unwrap_or_else(|| "nothing".into())
        ))),
    }
}

fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Nil)
}

// ---------------------------------------------------------------------------
// The functions.

fn now(_ctx: &mut dyn Context, _args: Vec<Value>) -> FuncResult {
    Ok(GoTime::now().into_value())
}

/// Sprig's date argument: a `time.Time`, or Unix seconds as `int`,
/// `int64` or `int32`; anything else means "now".
fn time_of_date_arg(v: &Value) -> GoTime {
    match v {
        Value::Int(n) | Value::Int64(n) => GoTime::unix(*n, 0, Location::local()),
        Value::Int32(n) => GoTime::unix(i64::from(*n), 0, Location::local()),
        other => GoTime::from_value(other).unwrap_or_else(GoTime::now),
    }
}

fn format_in_zone(layout: &str, date: &Value, zone: &str) -> String {
    let t = time_of_date_arg(date);
    let loc = load_location(zone).unwrap_or_else(|_| Location::utc());
    t.in_location(loc).format(layout)
}

fn date(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(format_in_zone(
        str_arg(&args, 0)?,
        &arg(&args, 1),
        "Local",
    )))
}

fn date_in_zone(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(format_in_zone(
        str_arg(&args, 0)?,
        &arg(&args, 1),
        str_arg(&args, 2)?,
    )))
}

fn html_date(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(format_in_zone(
        "2006-01-02",
        &arg(&args, 0),
        "Local",
    )))
}

fn html_date_in_zone(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(format_in_zone(
        "2006-01-02",
        &arg(&args, 0),
        str_arg(&args, 1)?,
    )))
}

fn date_modify(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let t = time_arg(&args, 1)?;
    Ok(match parse_duration(str_arg(&args, 0)?) {
        Ok(d) => t.add(d),
        Err(_) => t,
    }
    .into_value())
}

fn must_date_modify(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let t = time_arg(&args, 1)?;
    let d = parse_duration(str_arg(&args, 0)?).map_err(FuncError)?;
    Ok(t.add(d).into_value())
}

fn ago(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    // Sprig's `ago` takes time.Time, int64 and int (not int32).
    let t = match &arg(&args, 0) {
        Value::Int(n) | Value::Int64(n) => GoTime::unix(*n, 0, Location::local()),
        other => GoTime::from_value(other).unwrap_or_else(GoTime::now),
    };
    let since = GoTime::now().sub(&t);
    Ok(Value::string(format_duration(round_duration(
        since,
        NANOS_PER_SEC,
    ))))
}

fn duration(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let secs = match &arg(&args, 0) {
        Value::String(s) => parse_go_int64(s).unwrap_or(0),
        Value::Int64(n) => *n,
        _ => 0,
    };
    // Go: time.Duration(n) * time.Second, wrapping like Go's int64.
    Ok(Value::string(format_duration(
        secs.wrapping_mul(NANOS_PER_SEC),
    )))
}

/// `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits, and
/// (since Go 1.13) underscores only with a base prefix, so none here.
fn parse_go_int64(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

fn duration_round(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let v = arg(&args, 0);
    let d: i64 = match &v {
        Value::String(s) => parse_duration(s).unwrap_or(0),
        Value::Int64(n) => *n,
        other => match GoTime::from_value(other) {
            Some(t) => GoTime::now().sub(&t),
            None => 0,
        },
    };
    let u = d.unsigned_abs();
    const HOUR: u64 = 3_600_000_000_000;
    let units: [(u64, &str); 6] = [
        (HOUR * 24 * 365, "y"),
        (HOUR * 24 * 30, "mo"),
        (HOUR * 24, "d"),
        (HOUR, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
    ];
    for (size, suffix) in units {
        if u > size {
            return Ok(Value::string(format!("{}{}", u / size, suffix)));
        }
    }
    Ok(Value::str("0s"))
}

fn to_date(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let layout = str_arg(&args, 0)?;
    let s = str_arg(&args, 1)?;
    let local = Location::local();
    Ok(parse_time(layout, s, &local, &local)
        .unwrap_or_else(|_| GoTime::zero())
        .into_value())
}

fn must_to_date(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let layout = str_arg(&args, 0)?;
    let s = str_arg(&args, 1)?;
    let local = Location::local();
    parse_time(layout, s, &local, &local)
        .map(GoTime::into_value)
        .map_err(FuncError)
}

fn unix_epoch(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(time_arg(&args, 0)?.unix_sec().to_string()))
}

// ---------------------------------------------------------------------------
// Locations.

/// A Go `*time.Location`.
pub struct Location {
    /// What `Location.String()` prints ("UTC", "Local", "Europe/Berlin").
    name: String,
    zone: Zone,
}

enum Zone {
    /// No zone data: every instant is "UTC" +0000 (Go's UTC, and `Local`
    /// when no zone could be loaded).
    Utc,
    /// `time.FixedZone(abbreviation, offset)`.
    Fixed(String, i32),
    /// A zone loaded from a TZif file, plus its zone types (abbreviation,
    /// offset) in file order, which Go's parser searches by name.
    Tzif(jiff::tz::TimeZone, Vec<(String, i32)>),
}

impl Location {
    pub fn utc() -> Arc<Location> {
        static UTC: OnceLock<Arc<Location>> = OnceLock::new();
        UTC.get_or_init(|| {
            Arc::new(Location {
                name: "UTC".into(),
                zone: Zone::Utc,
            })
        })
        .clone()
    }

    /// Go's `time.Local`, initialised once per process like Go's.
    pub fn local() -> Arc<Location> {
        static LOCAL: OnceLock<Arc<Location>> = OnceLock::new();
        LOCAL.get_or_init(|| Arc::new(init_local())).clone()
    }

    pub(crate) fn fixed(name: &str, offset: i32) -> Arc<Location> {
        Arc::new(Location {
            name: name.to_string(),
            zone: Zone::Fixed(name.to_string(), offset),
        })
    }

    /// The zone abbreviation and UTC offset (seconds) in effect at `unix`.
    fn lookup(&self, unix: i64) -> (String, i32) {
        match &self.zone {
            Zone::Utc => ("UTC".to_string(), 0),
            Zone::Fixed(name, off) => (name.clone(), *off),
            Zone::Tzif(tz, _) => {
                // jiff covers years -9999..=9999; clamp beyond (the zone's
                // rule is the same far out).
                let clamped = unix.clamp(-377_705_116_800, 253_402_207_200);
                match jiff::Timestamp::from_second(clamped) {
                    Ok(ts) => {
                        let info = tz.to_offset_info(ts);
                        (info.abbreviation().to_string(), info.offset().seconds())
                    }
                    Err(_) => ("UTC".to_string(), 0),
                }
            }
        }
    }

    /// Go's `Location.lookupName`: the offset of a zone called `name`,
    /// preferring one in effect at `unix`.
    fn lookup_name(&self, name: &str, unix: i64) -> Option<i32> {
        let zones: Vec<(String, i32)> = match &self.zone {
            Zone::Utc => return None,
            Zone::Fixed(n, off) => vec![(n.clone(), *off)],
            Zone::Tzif(_, types) => types.clone(),
        };
        for (zname, zoff) in &zones {
            if zname == name {
                let (n, off) = self.lookup(unix - i64::from(*zoff));
                if &n == zname {
                    return Some(off);
                }
            }
        }
        zones.iter().find(|(n, _)| n == name).map(|(_, off)| *off)
    }
}

const ZONE_SOURCES: [&str; 4] = [
    "/usr/share/zoneinfo/",
    "/usr/share/lib/zoneinfo/",
    "/usr/lib/locale/TZ/",
    "/etc/zoneinfo",
];

/// Load a TZif file `name` from the first of `sources` that has it (Go's
/// `loadLocation`).
fn load_from_sources(name: &str, sources: &[&str]) -> Option<Location> {
    for source in sources {
        let path = if source.is_empty() {
            std::path::PathBuf::from(name)
        } else {
            std::path::Path::new(source).join(name)
        };
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        if let Some(loc) = location_from_tzif(name, &data) {
            return Some(loc);
        }
    }
    None
}

fn location_from_tzif(name: &str, data: &[u8]) -> Option<Location> {
    let tz = jiff::tz::TimeZone::tzif(name, data).ok()?;
    Some(Location {
        name: name.to_string(),
        zone: Zone::Tzif(tz, tzif_zone_types(data).unwrap_or_default()),
    })
}

/// The local time types (abbreviation, UTC offset) of a TZif file, from
/// its 64-bit data block when there is one (as Go reads it).
fn tzif_zone_types(data: &[u8]) -> Option<Vec<(String, i32)>> {
    fn be32(d: &[u8], at: usize) -> Option<usize> {
        let b = d.get(at..at + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    // Header: magic(4) version(1) reserved(15) six counts.
    struct Counts {
        isutc: usize,
        isstd: usize,
        leap: usize,
        time: usize,
        typ: usize,
        chars: usize,
    }
    fn header(d: &[u8], at: usize) -> Option<Counts> {
        if d.get(at..at + 4)? != b"TZif" {
            return None;
        }
        Some(Counts {
            isutc: be32(d, at + 20)?,
            isstd: be32(d, at + 24)?,
            leap: be32(d, at + 28)?,
            time: be32(d, at + 32)?,
            typ: be32(d, at + 36)?,
            chars: be32(d, at + 40)?,
        })
    }
    let v1 = header(data, 0)?;
    let mut at = 0;
    let mut counts = v1;
    let mut time_size = 4;
    if data.get(4).copied().unwrap_or(0) >= b'2' {
        let v1_len = 44
            + counts.time * 4
            + counts.time
            + counts.typ * 6
            + counts.chars
            + counts.leap * 8
            + counts.isstd
            + counts.isutc;
        at = v1_len;
        counts = header(data, at)?;
        time_size = 8;
    }
    let types_at = at + 44 + counts.time * time_size + counts.time;
    let chars_at = types_at + counts.typ * 6;
    let chars = data.get(chars_at..chars_at + counts.chars)?;
    let mut out = Vec::with_capacity(counts.typ);
    for i in 0..counts.typ {
        let t = data.get(types_at + i * 6..types_at + i * 6 + 6)?;
        let off = i32::from_be_bytes([t[0], t[1], t[2], t[3]]);
        let idx = t[5] as usize;
        let rest = chars.get(idx..).unwrap_or(&[]);
        let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
        out.push((String::from_utf8_lossy(&rest[..end]).into_owned(), off));
    }
    Some(out)
}

/// Go's `initLocal` on Unix: `$TZ` unset → `/etc/localtime`; `$TZ=""` or
/// `UTC` → UTC; `$TZ=/path` or `:/path` → that file; else a zone name.
fn init_local() -> Location {
    let fallback = Location {
        name: "UTC".into(),
        zone: Zone::Utc,
    };
    match std::env::var_os("TZ") {
        None => match load_from_sources("localtime", &["/etc"]) {
            Some(mut loc) => {
                loc.name = "Local".into();
                loc
            }
            None => fallback,
        },
        Some(tz) => {
            let tz = tz.to_string_lossy().into_owned();
            let tz = tz.strip_prefix(':').unwrap_or(&tz).to_string();
            if tz.starts_with('/') {
                match load_from_sources(&tz, &[""]) {
                    Some(mut loc) => {
                        loc.name = if tz == "/etc/localtime" {
                            "Local".into()
                        } else {
                            tz
                        };
                        loc
                    }
                    None => fallback,
                }
            } else if !tz.is_empty() && tz != "UTC" {
                load_from_sources(&tz, &ZONE_SOURCES).unwrap_or(fallback)
            } else {
                fallback
            }
        }
    }
}

/// Go's `time.LoadLocation`.
pub fn load_location(name: &str) -> Result<Arc<Location>, String> {
    if name.is_empty() || name == "UTC" {
        return Ok(Location::utc());
    }
    if name == "Local" {
        return Ok(Location::local());
    }
    if name.contains("..") || name.starts_with('/') || name.starts_with('\\') {
        return Err("time: invalid location name".into());
    }
    if let Some(dir) = std::env::var_os("ZONEINFO").filter(|d| !d.is_empty()) {
        if let Ok(data) = std::fs::read(std::path::Path::new(&dir).join(name)) {
            if let Some(loc) = location_from_tzif(name, &data) {
                return Ok(Arc::new(loc));
            }
        }
    }
    load_from_sources(name, &ZONE_SOURCES)
        .map(Arc::new)
        .ok_or_else(|| format!("unknown time zone {name}"))
}

// ---------------------------------------------------------------------------
// Civil calendar arithmetic (proleptic Gregorian, astronomical years).

const SECS_PER_DAY: i64 = 86_400;
const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Seconds from 0001-01-01 (Go's zero Time) to 1970-01-01.
const ZERO_TIME_UNIX: i64 = -62_135_596_800;

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

// ---------------------------------------------------------------------------
// time.Time

/// A Go `time.Time`.
#[derive(Clone)]
pub struct GoTime {
    unix: i64,
    nsec: u32,
    loc: Arc<Location>,
    /// Monotonic clock reading (ns since process start), only on `now`.
    mono: Option<i64>,
}

/// The broken-down wall clock of a time in its location.
struct Civil {
    year: i64,
    month: i64,
    day: i64,
    yday: i64,
    weekday: usize,
    hour: i64,
    min: i64,
    sec: i64,
    offset: i32,
    abbrev: String,
}

fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

impl GoTime {
    pub fn now() -> GoTime {
        let start = process_start();
        let mono = Instant::now().duration_since(start).as_nanos() as i64;
        let (unix, nsec) = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                let d = e.duration();
                let (s, n) = (d.as_secs() as i64, d.subsec_nanos());
                if n == 0 {
                    (-s, 0)
                } else {
                    (-s - 1, 1_000_000_000 - n)
                }
            }
        };
        GoTime {
            unix,
            nsec,
            loc: Location::local(),
            mono: Some(mono),
        }
    }

    /// `time.Unix(sec, nsec)` in `loc`.
    pub fn unix(sec: i64, nsec: i64, loc: Arc<Location>) -> GoTime {
        let sec = sec.wrapping_add(nsec.div_euclid(NANOS_PER_SEC));
        GoTime {
            unix: sec,
            nsec: nsec.rem_euclid(NANOS_PER_SEC) as u32,
            loc,
            mono: None,
        }
    }

    /// Go's zero `time.Time{}` (0001-01-01 00:00:00 UTC).
    pub fn zero() -> GoTime {
        GoTime::unix(ZERO_TIME_UNIX, 0, Location::utc())
    }

    pub fn into_value(self) -> Value {
        Value::Object(std::rc::Rc::new(self))
    }

    /// The `time.Time` inside a template value, if it is one.
    pub fn from_value(v: &Value) -> Option<GoTime> {
        match v {
            Value::Object(o) => o.as_any().downcast_ref::<GoTime>().cloned(),
            _ => None,
        }
    }

    pub fn unix_sec(&self) -> i64 {
        self.unix
    }

    pub fn nanosecond(&self) -> u32 {
        self.nsec
    }

    fn in_location(&self, loc: Arc<Location>) -> GoTime {
        GoTime {
            unix: self.unix,
            nsec: self.nsec,
            loc,
            mono: None,
        }
    }

    fn civil(&self) -> Civil {
        let (abbrev, offset) = self.loc.lookup(self.unix);
        let local = self.unix.wrapping_add(i64::from(offset));
        let days = local.div_euclid(SECS_PER_DAY);
        let secs = local.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let yday = days - days_from_civil(year, 1, 1) + 1;
        Civil {
            year,
            month,
            day,
            yday,
            weekday: (days + 4).rem_euclid(7) as usize,
            hour: secs / 3600,
            min: secs % 3600 / 60,
            sec: secs % 60,
            offset,
            abbrev,
        }
    }

    /// Go's `time.Date`, normalising out-of-range fields, in `loc`.
    #[allow(clippy::too_many_arguments)]
    fn date(
        year: i64,
        month: i64,
        day: i64,
        hour: i64,
        min: i64,
        sec: i64,
        nsec: i64,
        loc: Arc<Location>,
    ) -> GoTime {
        let m0 = month - 1;
        let year = year + m0.div_euclid(12);
        let month = m0.rem_euclid(12) + 1;
        let sec = sec + nsec.div_euclid(NANOS_PER_SEC);
        let nsec = nsec.rem_euclid(NANOS_PER_SEC);
        let days = days_from_civil(year, month, 1) + (day - 1);
        let local = days
            .wrapping_mul(SECS_PER_DAY)
            .wrapping_add(hour * 3600 + min * 60 + sec);
        // Go: use the offset in effect at the UTC instant the local time
        // names under the first guess.
        let (_, guess) = loc.lookup(local);
        let mut unix = local;
        if guess != 0 {
            let (_, off) = loc.lookup(local - i64::from(guess));
            unix = local - i64::from(off);
        }
        GoTime {
            unix,
            nsec: nsec as u32,
            loc,
            mono: None,
        }
    }

    /// `t.Add(d)`: keeps the monotonic reading, as Go does.
    pub fn add(&self, d: i64) -> GoTime {
        let mut sec = self.unix.wrapping_add(d / NANOS_PER_SEC);
        let mut nsec = i64::from(self.nsec) + d % NANOS_PER_SEC;
        if nsec >= NANOS_PER_SEC {
            sec = sec.wrapping_add(1);
            nsec -= NANOS_PER_SEC;
        } else if nsec < 0 {
            sec = sec.wrapping_sub(1);
            nsec += NANOS_PER_SEC;
        }
        GoTime {
            unix: sec,
            nsec: nsec as u32,
            loc: self.loc.clone(),
            mono: self.mono.and_then(|m| m.checked_add(d)),
        }
    }

    /// `t.Sub(u)`, saturating at the Duration range like Go.
    pub fn sub(&self, u: &GoTime) -> i64 {
        if let (Some(a), Some(b)) = (self.mono, u.mono) {
            return a.saturating_sub(b);
        }
        let diff = (i128::from(self.unix) - i128::from(u.unix)) * 1_000_000_000
            + (i128::from(self.nsec) - i128::from(u.nsec));
        diff.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    fn cmp_instant(&self, u: &GoTime) -> std::cmp::Ordering {
        if let (Some(a), Some(b)) = (self.mono, u.mono) {
            return a.cmp(&b);
        }
        (self.unix, self.nsec).cmp(&(u.unix, u.nsec))
    }

    /// Nanoseconds since Go's zero time, for Round/Truncate.
    fn since_zero(&self) -> i128 {
        (i128::from(self.unix) - i128::from(ZERO_TIME_UNIX)) * 1_000_000_000 + i128::from(self.nsec)
    }

    fn round_or_truncate(&self, d: i64, round: bool) -> GoTime {
        let t = self.in_location(self.loc.clone());
        if d <= 0 {
            return t;
        }
        let r = self.since_zero().rem_euclid(i128::from(d)) as i64;
        if round && (r as u64) + (r as u64) >= d as u64 {
            t.add(d - r)
        } else {
            t.add(-r)
        }
    }

    /// `t.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        let c = self.civil();
        let mut out: Vec<u8> = Vec::with_capacity(layout.len() + 10);
        let mut rest = layout.as_bytes();
        loop {
            let (prefix, std, suffix) = next_std_chunk(rest);
            out.extend_from_slice(prefix);
            let Some(std) = std else { break };
            rest = suffix;
            match std {
                Std::Year => append_int(&mut out, c.year.abs() % 100, 2),
                Std::LongYear => append_int(&mut out, c.year, 4),
                Std::Month => {
                    out.extend_from_slice(&MONTHS[(c.month - 1) as usize].as_bytes()[..3])
                }
                Std::LongMonth => out.extend_from_slice(MONTHS[(c.month - 1) as usize].as_bytes()),
                Std::NumMonth => append_int(&mut out, c.month, 0),
                Std::ZeroMonth => append_int(&mut out, c.month, 2),
                Std::WeekDay => out.extend_from_slice(&DAYS[c.weekday].as_bytes()[..3]),
                Std::LongWeekDay => out.extend_from_slice(DAYS[c.weekday].as_bytes()),
                Std::Day => append_int(&mut out, c.day, 0),
                Std::UnderDay => {
                    if c.day < 10 {
                        out.push(b' ');
                    }
                    append_int(&mut out, c.day, 0)
                }
                Std::ZeroDay => append_int(&mut out, c.day, 2),
                Std::UnderYearDay => {
                    if c.yday < 100 {
                        out.push(b' ');
                        if c.yday < 10 {
                            out.push(b' ');
                        }
                    }
                    append_int(&mut out, c.yday, 0)
                }
                Std::ZeroYearDay => append_int(&mut out, c.yday, 3),
                Std::Hour => append_int(&mut out, c.hour, 2),
                Std::Hour12 | Std::ZeroHour12 => {
                    let hr = if c.hour % 12 == 0 { 12 } else { c.hour % 12 };
                    append_int(&mut out, hr, if std == Std::Hour12 { 0 } else { 2 })
                }
                Std::Minute => append_int(&mut out, c.min, 0),
                Std::ZeroMinute => append_int(&mut out, c.min, 2),
                Std::Second => append_int(&mut out, c.sec, 0),
                Std::ZeroSecond => append_int(&mut out, c.sec, 2),
                Std::PM => out.extend_from_slice(if c.hour >= 12 { b"PM" } else { b"AM" }),
                Std::Pm => out.extend_from_slice(if c.hour >= 12 { b"pm" } else { b"am" }),
                Std::Tz(kind) => format_offset(&mut out, kind, c.offset),
                Std::TzName => {
                    if !c.abbrev.is_empty() {
                        out.extend_from_slice(c.abbrev.as_bytes());
                    } else {
                        let mut zone = c.offset / 60;
                        if zone < 0 {
                            out.push(b'-');
                            zone = -zone;
                        } else {
                            out.push(b'+');
                        }
                        append_int(&mut out, i64::from(zone / 60), 2);
                        append_int(&mut out, i64::from(zone % 60), 2);
                    }
                }
                Std::Frac { digits, trim, sep } => {
                    append_nano(&mut out, self.nsec, digits, trim, sep);
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// `t.String()`: the `%v` form, with the monotonic reading if any.
    pub fn go_string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.mono {
            let sign = if m < 0 { '-' } else { '+' };
            let m2 = m.unsigned_abs();
            let (m1, m2) = (m2 / 1_000_000_000, m2 % 1_000_000_000);
            let (m0, m1) = (m1 / 1_000_000_000, m1 % 1_000_000_000);
            let mut buf = Vec::new();
            let mut wid = 0;
            if m0 != 0 {
                append_int(&mut buf, m0 as i64, 0);
                wid = 9;
            }
            append_int(&mut buf, m1 as i64, wid);
            buf.push(b'.');
            append_int(&mut buf, m2 as i64, 9);
            s.push_str(" m=");
            s.push(sign);
            s.push_str(&String::from_utf8_lossy(&buf));
        }
        s
    }

    /// `t.Format(time.RFC3339Nano)`, what `json.Marshal` writes for a
    /// `time.Time` (for `toJson`/`toYaml`).
    pub fn rfc3339_nano(&self) -> String {
        self.format("2006-01-02T15:04:05.999999999Z07:00")
    }
}

/// Go's `appendInt`: `x` zero-padded to `width` digits, sign first.
fn append_int(out: &mut Vec<u8>, x: i64, width: usize) {
    if x < 0 {
        out.push(b'-');
    }
    let digits = x.unsigned_abs().to_string();
    for _ in digits.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(digits.as_bytes());
}

fn append_nano(out: &mut Vec<u8>, nsec: u32, digits: usize, trim: bool, sep: u8) {
    if trim && (digits == 0 || nsec == 0) {
        return;
    }
    let start = out.len();
    out.push(sep);
    append_int(out, i64::from(nsec), 9);
    if digits < 9 {
        out.truncate(out.len() - 9 + digits);
    }
    if trim {
        while out.len() > start && out.last() == Some(&b'0') {
            out.pop();
        }
        if out.len() == start + 1 {
            out.pop();
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct TzKind {
    /// `Z0700`, `Z07:00`, … (print `Z` for UTC) vs `-0700`, `-07:00`, …
    iso: bool,
    colon: bool,
    /// `-07`: hours only.
    short: bool,
    /// `-070000`: with seconds.
    seconds: bool,
}

fn format_offset(out: &mut Vec<u8>, k: TzKind, offset: i32) {
    if offset == 0 && k.iso {
        out.push(b'Z');
        return;
    }
    let mut zone = offset / 60;
    let mut abs = offset;
    if zone < 0 {
        out.push(b'-');
        zone = -zone;
        abs = -abs;
    } else {
        out.push(b'+');
    }
    append_int(out, i64::from(zone / 60), 2);
    if k.colon {
        out.push(b':');
    }
    if !k.short {
        append_int(out, i64::from(zone % 60), 2);
    }
    if k.seconds {
        if k.colon {
            out.push(b':');
        }
        append_int(out, i64::from(abs % 60), 2);
    }
}

/// One element of a Go layout.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TzName,
    Tz(TzKind),
    Frac { digits: usize, trim: bool, sep: u8 },
}

fn tz(iso: bool, colon: bool, short: bool, seconds: bool) -> Std {
    Std::Tz(TzKind {
        iso,
        colon,
        short,
        seconds,
    })
}

fn starts_with_lower(s: &[u8]) -> bool {
    s.first().is_some_and(|c| c.is_ascii_lowercase())
}

/// Go's `nextStdChunk`: the literal text before the first layout element,
/// the element, and the rest of the layout.
fn next_std_chunk(layout: &[u8]) -> (&[u8], Option<Std>, &[u8]) {
    let at = |i: usize, s: &[u8]| layout.get(i..).is_some_and(|r| r.starts_with(s));
    for i in 0..layout.len() {
        let hit = |std: Std, len: usize| (&layout[..i], Some(std), &layout[i + len..]);
        match layout[i] {
            b'J' if at(i, b"Jan") => {
                if at(i, b"January") {
                    return hit(Std::LongMonth, 7);
                }
                if !starts_with_lower(&layout[i + 3..]) {
                    return hit(Std::Month, 3);
                }
            }
            b'M' => {
                if at(i, b"Mon") {
                    if at(i, b"Monday") {
                        return hit(Std::LongWeekDay, 6);
                    }
                    if !starts_with_lower(&layout[i + 3..]) {
                        return hit(Std::WeekDay, 3);
                    }
                }
                if at(i, b"MST") {
                    return hit(Std::TzName, 3);
                }
            }
            b'0' => {
                if let Some(&n) = layout.get(i + 1) {
                    let std = match n {
                        b'1' => Some(Std::ZeroMonth),
                        b'2' => Some(Std::ZeroDay),
                        b'3' => Some(Std::ZeroHour12),
                        b'4' => Some(Std::ZeroMinute),
                        b'5' => Some(Std::ZeroSecond),
                        b'6' => Some(Std::Year),
                        _ => None,
                    };
                    if let Some(std) = std {
                        return hit(std, 2);
                    }
                }
                if at(i, b"002") {
                    return hit(Std::ZeroYearDay, 3);
                }
            }
            b'1' => {
                if layout.get(i + 1) == Some(&b'5') {
                    return hit(Std::Hour, 2);
                }
                return hit(Std::NumMonth, 1);
            }
            b'2' => {
                if at(i, b"2006") {
                    return hit(Std::LongYear, 4);
                }
                return hit(Std::Day, 1);
            }
            b'_' => {
                if layout.get(i + 1) == Some(&b'2') {
                    if at(i + 1, b"2006") {
                        return (&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]);
                    }
                    return hit(Std::UnderDay, 2);
                }
                if at(i, b"__2") {
                    return hit(Std::UnderYearDay, 3);
                }
            }
            b'3' => return hit(Std::Hour12, 1),
            b'4' => return hit(Std::Minute, 1),
            b'5' => return hit(Std::Second, 1),
            b'P' if layout.get(i + 1) == Some(&b'M') => return hit(Std::PM, 2),
            b'p' if layout.get(i + 1) == Some(&b'm') => return hit(Std::Pm, 2),
            b'-' => {
                if at(i, b"-070000") {
                    return hit(tz(false, false, false, true), 7);
                }
                if at(i, b"-07:00:00") {
                    return hit(tz(false, true, false, true), 9);
                }
                if at(i, b"-0700") {
                    return hit(tz(false, false, false, false), 5);
                }
                if at(i, b"-07:00") {
                    return hit(tz(false, true, false, false), 6);
                }
                if at(i, b"-07") {
                    return hit(tz(false, false, true, false), 3);
                }
            }
            b'Z' => {
                if at(i, b"Z070000") {
                    return hit(tz(true, false, false, true), 7);
                }
                if at(i, b"Z07:00:00") {
                    return hit(tz(true, true, false, true), 9);
                }
                if at(i, b"Z0700") {
                    return hit(tz(true, false, false, false), 5);
                }
                if at(i, b"Z07:00") {
                    return hit(tz(true, true, false, false), 6);
                }
                if at(i, b"Z07") {
                    return hit(tz(true, false, true, false), 3);
                }
            }
            sep @ (b'.' | b',') => {
                if let Some(&ch @ (b'0' | b'9')) = layout.get(i + 1) {
                    let mut j = i + 1;
                    while layout.get(j) == Some(&ch) {
                        j += 1;
                    }
                    if !layout.get(j).is_some_and(u8::is_ascii_digit) {
                        let std = Std::Frac {
                            digits: (j - (i + 1)) & 0xfff,
                            trim: ch == b'9',
                            sep,
                        };
                        return (&layout[..i], Some(std), &layout[j..]);
                    }
                }
            }
            _ => {}
        }
    }
    (layout, None, &[])
}

// ---------------------------------------------------------------------------
// Parsing (Go's time.ParseInLocation).

/// Go's `time.quote` for error messages: non-ASCII and control bytes as
/// `\xNN`, `"` and `\` escaped.
fn go_time_quote(s: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in s {
        if !(b' '..0x80).contains(&b) {
            out.push_str(&format!("\\x{b:02x}"));
        } else {
            if b == b'"' || b == b'\\' {
                out.push('\\');
            }
            out.push(b as char);
        }
    }
    out.push('"');
    out
}

#[derive(Clone, Copy)]
struct Bad;

fn is_digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

fn getnum(s: &[u8], fixed: bool) -> Result<(i64, &[u8]), Bad> {
    if !is_digit(s, 0) {
        return Err(Bad);
    }
    if !is_digit(s, 1) {
        if fixed {
            return Err(Bad);
        }
        return Ok((i64::from(s[0] - b'0'), &s[1..]));
    }
    Ok((
        i64::from(s[0] - b'0') * 10 + i64::from(s[1] - b'0'),
        &s[2..],
    ))
}

fn getnum3(s: &[u8], fixed: bool) -> Result<(i64, &[u8]), Bad> {
    let mut n = 0;
    let mut i = 0;
    while i < 3 && is_digit(s, i) {
        n = n * 10 + i64::from(s[i] - b'0');
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return Err(Bad);
    }
    Ok((n, &s[i..]))
}

/// Go's `leadingInt`: digits as u64, failing on overflow past 1<<63.
fn leading_int(s: &[u8]) -> Result<(u64, &[u8]), Bad> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > (1 << 63) / 10 {
            return Err(Bad);
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > 1 << 63 {
            return Err(Bad);
        }
        i += 1;
    }
    Ok((x, &s[i..]))
}

/// Go's time-package `atoi`: optional sign, digits, nothing else.
fn time_atoi(s: &[u8]) -> Result<i64, Bad> {
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (q, rem) = leading_int(s)?;
    if !rem.is_empty() {
        return Err(Bad);
    }
    let x = q as i64;
    Ok(if neg { x.wrapping_neg() } else { x })
}

fn skip<'a>(mut value: &'a [u8], mut prefix: &[u8]) -> Result<&'a [u8], &'a [u8]> {
    while let Some(&p) = prefix.first() {
        if p == b' ' {
            if value.first().is_some_and(|&c| c != b' ') {
                return Err(value);
            }
            while prefix.first() == Some(&b' ') {
                prefix = &prefix[1..];
            }
            while value.first() == Some(&b' ') {
                value = &value[1..];
            }
            continue;
        }
        if value.first() != Some(&p) {
            return Err(value);
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Ok(value)
}

/// Go's case-insensitive (ASCII letters only) name lookup.
fn lookup_name<'a>(tab: &[&str], val: &'a [u8]) -> Result<(usize, &'a [u8]), Bad> {
    for (i, v) in tab.iter().enumerate() {
        let v = v.as_bytes();
        if val.len() >= v.len()
            && val[..v.len()].iter().zip(v).all(|(&a, &b)| {
                a == b || {
                    let (la, lb) = (a | 0x20, b | 0x20);
                    la == lb && la.is_ascii_lowercase()
                }
            })
        {
            return Ok((i, &val[v.len()..]));
        }
    }
    Err(Bad)
}

fn parse_nanoseconds(value: &[u8], nbytes: usize) -> Result<(i64, Option<&'static str>), Bad> {
    if !matches!(value.first(), Some(b'.' | b',')) {
        return Err(Bad);
    }
    let nbytes = nbytes.min(10);
    let ns = time_atoi(&value[1..nbytes])?;
    if ns < 0 {
        return Ok((0, Some("fractional second")));
    }
    let mut ns = ns;
    for _ in 0..(10 - nbytes) {
        ns *= 10;
    }
    Ok((ns, None))
}

fn parse_signed_offset(value: &[u8]) -> usize {
    match value.first() {
        Some(b'-' | b'+') => {}
        _ => return 0,
    }
    match leading_int(&value[1..]) {
        Ok((x, rem)) if rem.len() != value.len() - 1 && x <= 23 => value.len() - rem.len(),
        _ => 0,
    }
}

fn parse_time_zone(value: &[u8]) -> Option<usize> {
    if value.len() < 3 {
        return None;
    }
    if value.starts_with(b"ChST") || value.starts_with(b"MeST") {
        return Some(4);
    }
    if value.starts_with(b"GMT") {
        let rest = &value[3..];
        return Some(if rest.is_empty() {
            3
        } else {
            3 + parse_signed_offset(rest)
        });
    }
    if value[0] == b'+' || value[0] == b'-' {
        let n = parse_signed_offset(value);
        return (n > 0).then_some(n);
    }
    let mut upper = 0;
    while upper < 6 && upper < value.len() && value[upper].is_ascii_uppercase() {
        upper += 1;
    }
    match upper {
        5 if value[4] == b'T' => Some(5),
        4 if value[3] == b'T' || value.starts_with(b"WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

/// Go's `time.parse(layout, value, defaultLocation, local)`, with Go's
/// error texts.
fn parse_time(
    layout_str: &str,
    value_str: &str,
    default_loc: &Arc<Location>,
    local: &Arc<Location>,
) -> Result<GoTime, String> {
    let quoted = |s: &[u8]| go_time_quote(s);
    let err_elem = |layout_elem: &[u8], value_elem: &[u8]| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            quoted(value_str.as_bytes()),
            quoted(layout_str.as_bytes()),
            quoted(value_elem),
            quoted(layout_elem)
        )
    };
    let err_msg = |msg: &str| format!("parsing time {}{}", quoted(value_str.as_bytes()), msg);

    let mut layout = layout_str.as_bytes();
    let mut value = value_str.as_bytes();
    let (mut am_set, mut pm_set) = (false, false);
    let mut year: i64 = 0;
    let mut month: i64 = -1;
    let mut day: i64 = -1;
    let mut yday: i64 = -1;
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let mut z: Option<Arc<Location>> = None;
    let mut zone_offset: i64 = -1;
    let mut zone_name: Vec<u8> = Vec::new();

    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        let std_str = &layout[prefix.len()..layout.len() - suffix.len()];
        value = skip(value, prefix).map_err(|v| err_elem(prefix, v))?;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(err_msg(&format!(": extra text: {}", quoted(value))));
            }
            break;
        };
        layout = suffix;
        let hold = value;
        let mut range_err: Option<&str> = None;
        let res: Result<(), Bad> = (|| {
            match std {
                Std::Year => {
                    if value.len() < 2 {
                        return Err(Bad);
                    }
                    let p = &value[..2];
                    value = &value[2..];
                    year = time_atoi(p)?;
                    year += if year >= 69 { 1900 } else { 2000 };
                }
                Std::LongYear => {
                    if value.len() < 4 || !is_digit(value, 0) {
                        return Err(Bad);
                    }
                    let p = &value[..4];
                    value = &value[4..];
                    year = time_atoi(p)?;
                }
                Std::Month | Std::LongMonth => {
                    let tab: Vec<&str> = if std == Std::Month {
                        MONTHS.iter().map(|m| &m[..3]).collect()
                    } else {
                        MONTHS.to_vec()
                    };
                    let (m, rest) = lookup_name(&tab, value)?;
                    month = m as i64 + 1;
                    value = rest;
                }
                Std::NumMonth | Std::ZeroMonth => {
                    let (m, rest) = getnum(value, std == Std::ZeroMonth)?;
                    month = m;
                    value = rest;
                    if month <= 0 || 12 < month {
                        range_err = Some("month");
                    }
                }
                Std::WeekDay | Std::LongWeekDay => {
                    let tab: Vec<&str> = if std == Std::WeekDay {
                        DAYS.iter().map(|d| &d[..3]).collect()
                    } else {
                        DAYS.to_vec()
                    };
                    let (_, rest) = lookup_name(&tab, value)?;
                    value = rest;
                }
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    if std == Std::UnderDay && value.first() == Some(&b' ') {
                        value = &value[1..];
                    }
                    let (d, rest) = getnum(value, std == Std::ZeroDay)?;
                    day = d;
                    value = rest;
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    for _ in 0..2 {
                        if std == Std::UnderYearDay && value.first() == Some(&b' ') {
                            value = &value[1..];
                        }
                    }
                    let (d, rest) = getnum3(value, std == Std::ZeroYearDay)?;
                    yday = d;
                    value = rest;
                }
                Std::Hour => {
                    let r = getnum(value, false);
                    let (h, rest) = r.unwrap_or((0, value));
                    hour = h;
                    value = rest;
                    if !(0..24).contains(&hour) {
                        range_err = Some("hour");
                    }
                    r?;
                }
                Std::Hour12 | Std::ZeroHour12 => {
                    let r = getnum(value, std == Std::ZeroHour12);
                    let (h, rest) = r.unwrap_or((0, value));
                    hour = h;
                    value = rest;
                    if !(0..=12).contains(&hour) {
                        range_err = Some("hour");
                    }
                    r?;
                }
                Std::Minute | Std::ZeroMinute => {
                    let r = getnum(value, std == Std::ZeroMinute);
                    let (m, rest) = r.unwrap_or((0, value));
                    min = m;
                    value = rest;
                    if !(0..60).contains(&min) {
                        range_err = Some("minute");
                    }
                    r?;
                }
                Std::Second | Std::ZeroSecond => {
                    let (s, rest) = getnum(value, std == Std::ZeroSecond)?;
                    sec = s;
                    value = rest;
                    if !(0..60).contains(&sec) {
                        range_err = Some("second");
                        return Ok(());
                    }
                    if value.len() >= 2 && matches!(value[0], b'.' | b',') && is_digit(value, 1) {
                        let (_, next, _) = next_std_chunk(layout);
                        if matches!(next, Some(Std::Frac { .. })) {
                            return Ok(());
                        }
                        let mut n = 2;
                        while n < value.len() && is_digit(value, n) {
                            n += 1;
                        }
                        let (ns, re) = parse_nanoseconds(value, n)?;
                        nsec = ns;
                        range_err = re;
                        value = &value[n..];
                    }
                }
                Std::PM | Std::Pm => {
                    if value.len() < 2 {
                        return Err(Bad);
                    }
                    let p = &value[..2];
                    value = &value[2..];
                    let (pm, am): (&[u8], &[u8]) = if std == Std::PM {
                        (b"PM", b"AM")
                    } else {
                        (b"pm", b"am")
                    };
                    if p == pm {
                        pm_set = true;
                    } else if p == am {
                        am_set = true;
                    } else {
                        return Err(Bad);
                    }
                }
                Std::Tz(k) => {
                    if k.iso && value.first() == Some(&b'Z') {
                        value = &value[1..];
                        z = Some(Location::utc());
                        return Ok(());
                    }
                    let (sign, hh, mm, ss): (u8, &[u8], &[u8], &[u8]);
                    if k.colon && !k.seconds {
                        if value.len() < 6 || value[3] != b':' {
                            return Err(Bad);
                        }
                        (sign, hh, mm, ss) = (value[0], &value[1..3], &value[4..6], b"00");
                        value = &value[6..];
                    } else if k.short {
                        if value.len() < 3 {
                            return Err(Bad);
                        }
                        (sign, hh, mm, ss) = (value[0], &value[1..3], b"00", b"00");
                        value = &value[3..];
                    } else if k.colon && k.seconds {
                        if value.len() < 9 || value[3] != b':' || value[6] != b':' {
                            return Err(Bad);
                        }
                        (sign, hh, mm, ss) = (value[0], &value[1..3], &value[4..6], &value[7..9]);
                        value = &value[9..];
                    } else if k.seconds {
                        if value.len() < 7 {
                            return Err(Bad);
                        }
                        (sign, hh, mm, ss) = (value[0], &value[1..3], &value[3..5], &value[5..7]);
                        value = &value[7..];
                    } else {
                        if value.len() < 5 {
                            return Err(Bad);
                        }
                        (sign, hh, mm, ss) = (value[0], &value[1..3], &value[3..5], b"00");
                        value = &value[5..];
                    }
                    let parsed = getnum(hh, true).and_then(|(h, _)| {
                        let (m, _) = getnum(mm, true)?;
                        let (s, _) = getnum(ss, true)?;
                        Ok((h, m, s))
                    });
                    let (hr, mi, se) = match parsed {
                        Ok(v) => v,
                        Err(Bad) => {
                            // Go keeps going with the digits it got, but
                            // reports the error (range checks use zeros).
                            return Err(Bad);
                        }
                    };
                    if hr > 24 {
                        range_err = Some("time zone offset hour");
                    }
                    if mi > 60 {
                        range_err = Some("time zone offset minute");
                    }
                    if se > 60 {
                        range_err = Some("time zone offset second");
                    }
                    zone_offset = (hr * 60 + mi) * 60 + se;
                    match sign {
                        b'+' => {}
                        b'-' => zone_offset = -zone_offset,
                        _ => return Err(Bad),
                    }
                }
                Std::TzName => {
                    if value.starts_with(b"UTC") {
                        z = Some(Location::utc());
                        value = &value[3..];
                        return Ok(());
                    }
                    let n = parse_time_zone(value).ok_or(Bad)?;
                    zone_name = value[..n].to_vec();
                    value = &value[n..];
                }
                Std::Frac {
                    digits,
                    trim: false,
                    ..
                } => {
                    let ndigit = 1 + digits;
                    if value.len() < ndigit {
                        return Err(Bad);
                    }
                    let (ns, re) = parse_nanoseconds(value, ndigit)?;
                    nsec = ns;
                    range_err = re;
                    value = &value[ndigit..];
                }
                Std::Frac { trim: true, .. } => {
                    if value.len() < 2
                        || !matches!(value[0], b'.' | b',')
                        || !value[1].is_ascii_digit()
                    {
                        return Ok(());
                    }
                    let mut i = 0;
                    while i + 1 < value.len() && value[i + 1].is_ascii_digit() {
                        i += 1;
                    }
                    let (ns, re) = parse_nanoseconds(value, 1 + i)?;
                    nsec = ns;
                    range_err = re;
                    value = &value[1 + i..];
                }
            }
            Ok(())
        })();
        if let Some(what) = range_err {
            return Err(err_msg(&format!(": {what} out of range")));
        }
        if res.is_err() {
            return Err(err_elem(std_str, hold));
        }
    }
    if pm_set && hour < 12 {
        hour += 12;
    } else if am_set && hour == 12 {
        hour = 0;
    }

    if yday >= 0 {
        let mut d = 0;
        let mut m = 0;
        if is_leap(year) {
            if yday == 31 + 29 {
                m = 2;
                d = 29;
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(err_msg(": day-of-year out of range"));
        }
        if m == 0 {
            m = (yday - 1) / 31 + 1;
            if days_before(m + 1) < yday {
                m += 1;
            }
            d = yday - days_before(m);
        }
        if month >= 0 && month != m {
            return Err(err_msg(": day-of-year does not match month"));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(err_msg(": day-of-year does not match day"));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(err_msg(": day out of range"));
    }

    if let Some(z) = z {
        return Ok(GoTime::date(year, month, day, hour, min, sec, nsec, z));
    }
    let zone_name = String::from_utf8_lossy(&zone_name).into_owned();
    if zone_offset != -1 {
        let t = GoTime::date(year, month, day, hour, min, sec, nsec, Location::utc());
        let unix = t.unix - zone_offset;
        let (name, offset) = local.lookup(unix);
        let loc = if i64::from(offset) == zone_offset && (zone_name.is_empty() || name == zone_name)
        {
            local.clone()
        } else {
            Location::fixed(&zone_name, zone_offset as i32)
        };
        return Ok(GoTime {
            unix,
            nsec: t.nsec,
            loc,
            mono: None,
        });
    }
    if !zone_name.is_empty() {
        let t = GoTime::date(year, month, day, hour, min, sec, nsec, Location::utc());
        if let Some(offset) = local.lookup_name(&zone_name, t.unix) {
            return Ok(GoTime {
                unix: t.unix - i64::from(offset),
                nsec: t.nsec,
                loc: local.clone(),
                mono: None,
            });
        }
        let mut offset = 0;
        if zone_name.len() > 3 && zone_name.starts_with("GMT") {
            offset = time_atoi(&zone_name.as_bytes()[3..]).unwrap_or(0) * 3600;
        }
        return Ok(GoTime {
            unix: t.unix,
            nsec: t.nsec,
            loc: Location::fixed(&zone_name, offset as i32),
            mono: None,
        });
    }
    Ok(GoTime::date(
        year,
        month,
        day,
        hour,
        min,
        sec,
        nsec,
        default_loc.clone(),
    ))
}

/// Days before the first of `month` in a non-leap year (Go's
/// `daysBefore`).
fn days_before(month: i64) -> i64 {
    const CUM: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
    CUM[(month - 1).clamp(0, 12) as usize]
}

// ---------------------------------------------------------------------------
// time.Duration

/// Go's `time.ParseDuration`, with Go's error texts.
pub fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_time_quote(orig.as_bytes()));
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let pl = s.len();
        let (mut v, rest) = leading_int(s).map_err(|_| invalid())?;
        s = rest;
        let pre = pl != s.len();
        let mut post = false;
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let pl = s.len();
            let mut overflow = false;
            let mut i = 0;
            while i < s.len() && s[i].is_ascii_digit() {
                if !overflow {
                    if f > (i64::MAX as u64) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + u64::from(s[i] - b'0');
                        if y > 1 << 63 {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                i += 1;
            }
            s = &s[i..];
            post = pl != s.len();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let mut i = 0;
        while i < s.len() && !(s[i] == b'.' || s[i].is_ascii_digit()) {
            i += 1;
        }
        if i == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                go_time_quote(orig.as_bytes())
            ));
        }
        let u = &s[..i];
        s = &s[i..];
        let unit: u64 = match u {
            b"ns" => 1,
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000,
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60_000_000_000,
            b"h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_time_quote(u),
                    go_time_quote(orig.as_bytes())
                ))
            }
        };
        if v > (1u64 << 63) / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        d = d.wrapping_add(v);
        if d > 1 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > i64::MAX as u64 {
        return Err(invalid());
    }
    Ok(d as i64)
}

/// Go's `time.Duration.String()`.
pub fn format_duration(d: i64) -> String {
    fn frac(buf: &mut Vec<u8>, v: u64, prec: usize) -> u64 {
        let mut v = v;
        let mut digits = Vec::new();
        let mut print = false;
        for _ in 0..prec {
            let digit = (v % 10) as u8;
            print = print || digit != 0;
            if print {
                digits.push(b'0' + digit);
            }
            v /= 10;
        }
        if print {
            digits.push(b'.');
        }
        digits.reverse();
        buf.splice(0..0, digits);
        v
    }
    fn int(buf: &mut Vec<u8>, v: u64) {
        buf.splice(0..0, v.to_string().into_bytes());
    }
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    // Built right to left, like Go's buffer.
    let mut buf: Vec<u8> = Vec::new();
    if u < 1_000_000_000 {
        if u == 0 {
            return "0s".into();
        }
        let (prec, unit): (usize, &str) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        buf.extend_from_slice(unit.as_bytes());
        u = frac(&mut buf, u, prec);
        int(&mut buf, u);
    } else {
        buf.push(b's');
        u = frac(&mut buf, u, 9);
        int(&mut buf, u % 60);
        u /= 60;
        if u > 0 {
            buf.insert(0, b'm');
            int(&mut buf, u % 60);
            u /= 60;
            if u > 0 {
                buf.insert(0, b'h');
                int(&mut buf, u);
            }
        }
    }
    if neg {
        buf.insert(0, b'-');
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Go's `Duration.Round(m)`: half away from zero, saturating.
pub fn round_duration(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let mut r = d % m;
    let less_than_half = |x: i64, y: i64| (x as u64).wrapping_add(x as u64) < y as u64;
    if d < 0 {
        r = -r;
        if less_than_half(r, m) {
            return d + r;
        }
        return d.checked_sub(m - r).unwrap_or(i64::MIN);
    }
    if less_than_half(r, m) {
        return d - r;
    }
    d.checked_add(m - r).unwrap_or(i64::MAX)
}

fn truncate_duration(d: i64, m: i64) -> i64 {
    if m <= 0 {
        d
    } else {
        d - d % m
    }
}

/// A Go `time.Duration` (nanoseconds): results of `.Sub` and of Helm's
/// duration helpers. Prints as Go's `Duration.String()` (`1h2m3s`, `1.5s`,
/// `250ms`) and encodes to JSON as its integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoDuration(pub i64);

impl Object for GoDuration {
    fn type_name(&self) -> &str {
        "time.Duration"
    }
    fn kind_name(&self) -> &str {
        "int64"
    }
    fn field(&self, name: &str) -> Option<Value> {
        self.call_method(name, &[]).and_then(Result::ok)
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(
            name,
            "Hours"
                | "Minutes"
                | "Seconds"
                | "Milliseconds"
                | "Microseconds"
                | "Nanoseconds"
                | "String"
                | "Abs"
                | "Round"
                | "Truncate"
        )
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let d = self.0;
        let want = if matches!(name, "Round" | "Truncate") {
            1
        } else {
            0
        };
        if !self.has_method(name) {
            return None;
        }
        if args.len() != want {
            return Some(Err(wrong_args(name, want, args.len())));
        }
        let split = |unit: i64| {
            let whole = d / unit;
            let rest = d % unit;
            whole as f64 + rest as f64 / unit as f64
        };
        Some(Ok(match name {
            "Hours" => Value::Float(split(3_600_000_000_000)),
            "Minutes" => Value::Float(split(60_000_000_000)),
            "Seconds" => Value::Float(split(1_000_000_000)),
            "Milliseconds" => Value::Int64(d / 1_000_000),
            "Microseconds" => Value::Int64(d / 1_000),
            "Nanoseconds" => Value::Int64(d),
            "String" => Value::string(format_duration(d)),
            "Abs" => GoDuration(if d == i64::MIN { i64::MAX } else { d.abs() }).into_value(),
            _ => {
                let m = match duration_arg(&args[0]) {
                    Ok(m) => m,
                    Err(e) => return Some(Err(e)),
                };
                if name == "Round" {
                    GoDuration(round_duration(d, m)).into_value()
                } else {
                    GoDuration(truncate_duration(d, m)).into_value()
                }
            }
        }))
    }
    fn format_v(&self) -> String {
        format_duration(self.0)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn json_value(&self) -> Option<Value> {
        Some(Value::Int64(self.0))
    }
}

impl GoDuration {
    pub fn into_value(self) -> Value {
        Value::Object(std::rc::Rc::new(self))
    }
}

fn wrong_args(name: &str, want: usize, got: usize) -> String {
    format!("wrong number of args for {name}: want {want} got {got}")
}

/// A `time.Duration` method argument: an integer (nanoseconds) or a
/// Duration value.
fn duration_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(n) | Value::Int64(n) => Ok(*n),
        Value::Int32(n) => Ok(i64::from(*n)),
        Value::Object(o) => match o.as_any().downcast_ref::<GoDuration>() {
            Some(d) => Ok(d.0),
            None => Err(format!(
                "wrong type for value; expected time.Duration; got {}",
                v.type_name()
            )),
        },
        _ => Err(format!(
            "wrong type for value; expected time.Duration; got {}",
            v.type_name()
        )),
    }
}

fn int_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(n) | Value::Int64(n) => Ok(*n),
        Value::Int32(n) => Ok(i64::from(*n)),
        _ => Err(format!(
            "wrong type for value; expected int; got {}",
            v.type_name()
        )),
    }
}

/// Named integer types with a `String()` method: `time.Month`,
/// `time.Weekday`.
pub struct GoNamedInt {
    type_name: &'static str,
    value: i64,
    text: &'static str,
}

impl Object for GoNamedInt {
    fn type_name(&self) -> &str {
        self.type_name
    }
    fn kind_name(&self) -> &str {
        "int"
    }
    fn field(&self, name: &str) -> Option<Value> {
        (name == "String").then(|| Value::str(self.text))
    }
    fn has_method(&self, name: &str) -> bool {
        name == "String"
    }
    fn format_v(&self) -> String {
        self.text.to_string()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl GoNamedInt {
    /// The underlying integer (Go compares these as ints in `eq`).
    pub fn value(&self) -> i64 {
        self.value
    }
}

/// A `*time.Location`, printed by name.
struct GoLocation(Arc<Location>);

impl Object for GoLocation {
    fn type_name(&self) -> &str {
        "*time.Location"
    }
    fn kind_name(&self) -> &str {
        "ptr"
    }
    fn field(&self, name: &str) -> Option<Value> {
        (name == "String").then(|| Value::string(self.0.name.clone()))
    }
    fn has_method(&self, name: &str) -> bool {
        name == "String"
    }
    fn format_v(&self) -> String {
        self.0.name.clone()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

const TIME_METHODS: &[(&str, usize)] = &[
    ("Unix", 0),
    ("UnixNano", 0),
    ("UnixMilli", 0),
    ("UnixMicro", 0),
    ("Year", 0),
    ("Month", 0),
    ("Day", 0),
    ("Hour", 0),
    ("Minute", 0),
    ("Second", 0),
    ("Nanosecond", 0),
    ("YearDay", 0),
    ("Weekday", 0),
    ("UTC", 0),
    ("Local", 0),
    ("String", 0),
    ("IsZero", 0),
    ("Location", 0),
    ("Format", 1),
    ("Add", 1),
    ("AddDate", 3),
    ("Sub", 1),
    ("After", 1),
    ("Before", 1),
    ("Equal", 1),
    ("Compare", 1),
    ("Round", 1),
    ("Truncate", 1),
    ("In", 1),
];

impl Object for GoTime {
    fn type_name(&self) -> &str {
        "time.Time"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match TIME_METHODS.iter().find(|(n, _)| *n == name) {
            Some((_, 0)) => self.call_method(name, &[]).and_then(Result::ok),
            _ => None,
        }
    }
    fn has_method(&self, name: &str) -> bool {
        TIME_METHODS.iter().any(|(n, _)| *n == name)
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let (_, want) = TIME_METHODS.iter().find(|(n, _)| *n == name)?;
        if args.len() != *want {
            return Some(Err(wrong_args(name, *want, args.len())));
        }
        Some(self.method(name, args))
    }
    fn format_v(&self) -> String {
        self.go_string()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    /// `Time.MarshalJSON`: the RFC 3339 text with nanoseconds (trailing
    /// zeros dropped); Go refuses years outside [0,9999].
    fn json_value(&self) -> Option<Value> {
        let year = self.civil().year;
        if !(0..=9999).contains(&year) {
            return None;
        }
        Some(Value::string(self.rfc3339_nano()))
    }
}

impl GoTime {
    fn method(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let other_time = |v: &Value| {
            GoTime::from_value(v).ok_or_else(|| {
                format!(
                    "wrong type for value; expected time.Time; got {}",
                    v.type_name()
                )
            })
        };
        let nanos = || i128::from(self.unix) * 1_000_000_000 + i128::from(self.nsec);
        Ok(match name {
            "Unix" => Value::Int64(self.unix),
            // Go's UnixNano overflows silently outside 1678..2262.
            "UnixNano" => Value::Int64(nanos() as i64),
            "UnixMilli" => Value::Int64((nanos() / 1_000_000) as i64),
            "UnixMicro" => Value::Int64((nanos() / 1_000) as i64),
            "Year" => Value::Int(self.civil().year),
            "Month" => {
                let m = self.civil().month;
                Value::Object(std::rc::Rc::new(GoNamedInt {
                    type_name: "time.Month",
                    value: m,
                    text: MONTHS[(m - 1) as usize],
                }))
            }
            "Day" => Value::Int(self.civil().day),
            "Hour" => Value::Int(self.civil().hour),
            "Minute" => Value::Int(self.civil().min),
            "Second" => Value::Int(self.civil().sec),
            "Nanosecond" => Value::Int(i64::from(self.nsec)),
            "YearDay" => Value::Int(self.civil().yday),
            "Weekday" => {
                let w = self.civil().weekday;
                Value::Object(std::rc::Rc::new(GoNamedInt {
                    type_name: "time.Weekday",
                    value: w as i64,
                    text: DAYS[w],
                }))
            }
            "UTC" => self.in_location(Location::utc()).into_value(),
            "Local" => self.in_location(Location::local()).into_value(),
            "String" => Value::string(self.go_string()),
            "IsZero" => Value::Bool(self.unix == ZERO_TIME_UNIX && self.nsec == 0),
            "Location" => Value::Object(std::rc::Rc::new(GoLocation(self.loc.clone()))),
            "Format" => match &args[0] {
                Value::String(layout) => Value::string(self.format(layout)),
                other => {
                    return Err(format!(
                        "wrong type for value; expected string; got {}",
                        other.type_name()
                    ))
                }
            },
            "Add" => self.add(duration_arg(&args[0])?).into_value(),
            "AddDate" => {
                let (y, m, d) = (int_arg(&args[0])?, int_arg(&args[1])?, int_arg(&args[2])?);
                let c = self.civil();
                GoTime::date(
                    c.year + y,
                    c.month + m,
                    c.day + d,
                    c.hour,
                    c.min,
                    c.sec,
                    i64::from(self.nsec),
                    self.loc.clone(),
                )
                .into_value()
            }
            "Sub" => GoDuration(self.sub(&other_time(&args[0])?)).into_value(),
            "After" => Value::Bool(self.cmp_instant(&other_time(&args[0])?).is_gt()),
            "Before" => Value::Bool(self.cmp_instant(&other_time(&args[0])?).is_lt()),
            "Equal" => Value::Bool(self.cmp_instant(&other_time(&args[0])?).is_eq()),
            "Compare" => Value::Int(self.cmp_instant(&other_time(&args[0])?) as i64),
            "Round" => self
                .round_or_truncate(duration_arg(&args[0])?, true)
                .into_value(),
            "Truncate" => self
                .round_or_truncate(duration_arg(&args[0])?, false)
                .into_value(),
            "In" => match &args[0] {
                Value::Object(o) => match o.as_any().downcast_ref::<GoLocation>() {
                    Some(l) => self.in_location(l.0.clone()).into_value(),
                    None => {
                        return Err(format!(
                            "wrong type for value; expected *time.Location; got {}",
                            args[0].type_name()
                        ))
                    }
                },
                other => {
                    return Err(format!(
                        "wrong type for value; expected *time.Location; got {}",
                        other.type_name()
                    ))
                }
            },
            _ => return Err(format!("can't evaluate field {name} in type time.Time")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::random::tests::TestCtx;

    // Expected strings below were printed by Go 1.26's `time` package for
    // the same instants and layouts.

    fn ny() -> Arc<Location> {
        load_location("America/New_York").expect("tzdata present")
    }

    fn sample() -> GoTime {
        GoTime::unix(1_234_567_890, 123_456_789, Location::utc())
    }

    #[test]
    fn formats_like_go() {
        let utc = sample();
        let east = sample().in_location(ny());
        let cases = [
            (
                "2006-01-02T15:04:05.999999999Z07:00",
                "2009-02-13T23:31:30.123456789Z",
                "2009-02-13T18:31:30.123456789-05:00",
            ),
            (
                "Mon, 02 Jan 2006 15:04:05 -0700",
                "Fri, 13 Feb 2009 23:31:30 +0000",
                "Fri, 13 Feb 2009 18:31:30 -0500",
            ),
            ("3:04PM", "11:31PM", "6:31PM"),
            (
                "Jan _2 __2 002 06 Z07 -07:00:00 .000 ,999 .9 pm PM Monday Mon January",
                "Feb 13  44 044 09 Z +00:00:00 .123 ,123 .1 pm PM Friday Fri February",
                "Feb 13  44 044 09 -05 -05:00:00 .123 ,123 .1 pm PM Friday Fri February",
            ),
            (
                "2006-01-02 15:04:05.999999999 -0700 MST",
                "2009-02-13 23:31:30.123456789 +0000 UTC",
                "2009-02-13 18:31:30.123456789 -0500 EST",
            ),
            (
                "Janet Mondays 1 2 3 4 5",
                "Janet Fridays 2 13 11 31 30",
                "Janet Fridays 2 13 6 31 30",
            ),
        ];
        for (layout, want_utc, want_ny) in cases {
            assert_eq!(utc.format(layout), want_utc, "{layout}");
            assert_eq!(east.format(layout), want_ny, "{layout}");
        }
        let far = GoTime::unix(253_402_300_800, 0, Location::utc());
        assert_eq!(
            far.format("2006-01-02T15:04:05Z07:00"),
            "10000-01-01T00:00:00Z"
        );
        assert_eq!(GoTime::zero().go_string(), "0001-01-01 00:00:00 +0000 UTC");
    }

    #[test]
    fn parses_durations_like_go() {
        let ok = [
            ("1h2m3.5s", 3_723_500_000_000, "1h2m3.5s"),
            ("1.5h", 5_400_000_000_000, "1h30m0s"),
            ("-90m", -5_400_000_000_000, "-1h30m0s"),
            ("300ms", 300_000_000, "300ms"),
            ("1us", 1_000, "1µs"),
            ("2µs", 2_000, "2µs"),
            ("0", 0, "0s"),
            (
                "9223372036854775807ns",
                i64::MAX,
                "2562047h47m16.854775807s",
            ),
            ("1h1h", 7_200_000_000_000, "2h0m0s"),
        ];
        for (s, n, text) in ok {
            assert_eq!(parse_duration(s), Ok(n), "{s}");
            assert_eq!(format_duration(n), text, "{s}");
        }
        let bad = [
            ("", "time: invalid duration \"\""),
            ("1", "time: missing unit in duration \"1\""),
            ("1d", "time: unknown unit \"d\" in duration \"1d\""),
            (".s", "time: invalid duration \".s\""),
            (
                "9223372036854775808ns",
                "time: invalid duration \"9223372036854775808ns\"",
            ),
        ];
        for (s, msg) in bad {
            assert_eq!(parse_duration(s), Err(msg.to_string()), "{s}");
        }
    }

    #[test]
    fn parses_times_like_go() {
        let loc = ny();
        let p = |layout: &str, value: &str| parse_time(layout, value, &loc, &loc);
        let shown = |r: Result<GoTime, String>| match r {
            Ok(t) => t.go_string(),
            Err(e) => e,
        };
        let cases = [
            (
                "2006-01-02",
                "2024-02-30",
                "parsing time \"2024-02-30\": day out of range",
            ),
            (
                "2006-01-02T15:04:05Z07:00",
                "2024-03-10T02:30:00-05:00",
                "2024-03-10 02:30:00 -0500 -0500",
            ),
            (
                "Jan 2 2006 3:04pm MST",
                "Feb 3 2013 4:05pm PST",
                "2013-02-03 16:05:00 +0000 PST",
            ),
            (
                "2006-01-02 15:04:05",
                "2024-01-01 10:00:00.123",
                "2024-01-01 10:00:00.123 -0500 EST",
            ),
            ("2006-002", "2024-060", "2024-02-29 00:00:00 -0500 EST"),
            (
                "2006-01-02",
                "2024-01-0x",
                "parsing time \"2024-01-0x\" as \"2006-01-02\": cannot parse \"0x\" as \"02\"",
            ),
            (
                "2006-01-02",
                "2024-01-02 extra",
                "parsing time \"2024-01-02 extra\": extra text: \" extra\"",
            ),
            (
                "15:04",
                "25:00",
                "parsing time \"25:00\": hour out of range",
            ),
        ];
        for (layout, value, want) in cases {
            assert_eq!(shown(p(layout, value)), want, "{layout} {value}");
        }
    }

    #[test]
    fn builds_dates_across_transitions_like_go() {
        let loc = ny();
        let d = |y, m, day, h, mi| GoTime::date(y, m, day, h, mi, 0, 0, loc.clone()).go_string();
        assert_eq!(d(2024, 3, 10, 2, 30), "2024-03-10 01:30:00 -0500 EST");
        assert_eq!(d(2024, 11, 3, 1, 30), "2024-11-03 01:30:00 -0400 EDT");
        // AddDate normalises Feb 31 to Mar 2.
        assert_eq!(d(2024, 2, 31, 0, 0), "2024-03-02 00:00:00 -0500 EST");
    }

    #[test]
    fn sprig_functions() {
        let mut ctx = TestCtx::default();
        let s = |r: FuncResult| crate::fmt::format_v(&r.expect("ok"));
        assert_eq!(
            s(date_in_zone(
                &mut ctx,
                vec![
                    Value::str("2006-01-02 15:04 MST"),
                    Value::Int64(1_234_567_890),
                    Value::str("America/New_York")
                ]
            )),
            "2009-02-13 18:31 EST"
        );
        // Unknown zones fall back to UTC.
        assert_eq!(
            s(date_in_zone(
                &mut ctx,
                vec![
                    Value::str("15:04 MST"),
                    Value::Int(0),
                    Value::str("No/Such_Zone")
                ]
            )),
            "00:00 UTC"
        );
        assert_eq!(s(duration(&mut ctx, vec![Value::str("3723")])), "1h2m3s");
        assert_eq!(s(duration(&mut ctx, vec![Value::Int64(59)])), "59s");
        // Sprig only converts string and int64; a template int is 0.
        assert_eq!(s(duration(&mut ctx, vec![Value::Int(90)])), "0s");
        assert_eq!(s(duration_round(&mut ctx, vec![Value::str("2h5m")])), "2h");
        assert_eq!(s(duration_round(&mut ctx, vec![Value::str("-49h")])), "2d");
        assert_eq!(s(duration_round(&mut ctx, vec![Value::str("1s")])), "0s");
        assert_eq!(
            s(duration_round(&mut ctx, vec![Value::Int64(3_000_000_000)])),
            "3s"
        );
        let t = sample().into_value();
        assert_eq!(s(unix_epoch(&mut ctx, vec![t.clone()])), "1234567890");
        assert_eq!(
            s(date_modify(&mut ctx, vec![Value::str("-1h30m"), t.clone()]))
                .split(' ')
                .nth(1)
                .map(str::to_string),
            Some("22:01:30.123456789".into())
        );
        assert_eq!(
            date_modify(&mut ctx, vec![Value::str("1d"), t.clone()])
                .map(|v| crate::fmt::format_v(&v)),
            Ok(sample().go_string())
        );
        assert_eq!(
            must_date_modify(&mut ctx, vec![Value::str("1d"), t]).unwrap_err(),
            FuncError::new("time: unknown unit \"d\" in duration \"1d\"")
        );
        assert_eq!(s(ago(&mut ctx, vec![GoTime::now().into_value()])), "0s");
        assert!(crate::fmt::format_v(&now(&mut ctx, vec![]).expect("now")).contains(" m=+"));
    }

    #[test]
    fn time_methods() {
        let t = sample();
        let m = |name: &str, args: &[Value]| {
            t.call_method(name, args)
                .expect("method exists")
                .map(|v| crate::fmt::format_v(&v))
        };
        assert_eq!(m("Year", &[]), Ok("2009".into()));
        assert_eq!(m("Month", &[]), Ok("February".into()));
        assert_eq!(m("Weekday", &[]), Ok("Friday".into()));
        assert_eq!(m("YearDay", &[]), Ok("44".into()));
        assert_eq!(m("UnixMilli", &[]), Ok("1234567890123".into()));
        assert_eq!(m("Format", &[Value::str("Jan 2")]), Ok("Feb 13".into()));
        assert_eq!(
            m("Format", &[]),
            Err("wrong number of args for Format: want 1 got 0".into())
        );
        assert_eq!(
            m("AddDate", &[Value::Int(0), Value::Int(0), Value::Int(16)]),
            Ok("2009-03-01 23:31:30.123456789 +0000 UTC".into())
        );
        assert_eq!(
            m("Truncate", &[Value::Int(3_600_000_000_000)]),
            Ok("2009-02-13 23:00:00 +0000 UTC".into())
        );
        assert_eq!(
            m("Round", &[Value::Int(3_600_000_000_000)]),
            Ok("2009-02-14 00:00:00 +0000 UTC".into())
        );
        let later = t.add(90_000_000_000).into_value();
        assert_eq!(m("Before", std::slice::from_ref(&later)), Ok("true".into()));
        assert_eq!(m("Sub", &[later]), Ok("-1m30s".into()));
    }
}
