//! Go `time.Time` in Helm's release JSON, as `Option<jiff::Timestamp>`.
//!
//! Go marshals a time as RFC 3339 with nanoseconds (trailing zeros
//! trimmed) and its zone offset. Helm v4 omits zero times (`omitzero`, or
//! its own `MarshalJSON`), Helm v3 wrote them as `""`, and a plain
//! `time.Time` field without `omitzero` is written as
//! `0001-01-01T00:00:00Z`. All three read back as `None` here.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serializer};

/// Go's zero `time.Time` as its JSON text.
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn is_go_zero(t: &Timestamp) -> bool {
    // 0001-01-01T00:00:00Z as seconds since the Unix epoch.
    t.as_second() == -62_135_596_800 && t.subsec_nanosecond() == 0
}

/// Parse one Go time text: `""` and the zero time are `None`.
pub fn parse(text: &str) -> Result<Option<Timestamp>, jiff::Error> {
    if text.is_empty() {
        return Ok(None);
    }
    let t: Timestamp = text.parse()?;
    Ok(if is_go_zero(&t) { None } else { Some(t) })
}

fn deserialize_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    match text {
        None => Ok(None),
        Some(s) => {
            parse(&s).map_err(|e| serde::de::Error::custom(format!("invalid time {s:?}: {e}")))
        }
    }
}

/// A field Helm omits when zero (`omitzero`): use with
/// `skip_serializing_if = "Option::is_none"` and `default`.
pub mod optional {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        deserialize_text(d)
    }
}

/// A field Helm always writes (no `omitzero`): `None` is written as Go's
/// zero time.
pub mod always {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.to_string()),
            None => s.serialize_str(GO_ZERO_TIME),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        deserialize_text(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_texts() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse(GO_ZERO_TIME).unwrap(), None);
        // Go writes the local offset; the instant is what counts.
        let t = parse("2026-03-01T10:20:30.123456789+01:00")
            .unwrap()
            .unwrap();
        assert_eq!(t.to_string(), "2026-03-01T09:20:30.123456789Z");
        // Whole seconds print without a fraction, as Go's RFC3339Nano.
        let t = parse("2026-03-01T09:20:30.500Z").unwrap().unwrap();
        assert_eq!(t.to_string(), "2026-03-01T09:20:30.5Z");
        assert!(parse("yesterday").is_err());
    }
}
