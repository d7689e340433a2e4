//! Template functions: Sprig's base64 and base32 encodings.
//!
//! The decoders follow Go's `encoding/base64` and `encoding/base32`
//! `StdEncoding` exactly, because Sprig returns the decoder's error text
//! *as the result* (`b64dec "%%"` renders `illegal base64 data at input
//! byte 0`), so the byte offsets in those messages are output. Go's rules:
//! padding is required, `\r` and `\n` are skipped anywhere, non-zero
//! trailing bits are accepted; base32 ignores anything after its padding.
//!
//! Decoded bytes that are not UTF-8 cannot live in a template string here
//! (Go strings may hold any bytes); they are replaced by U+FFFD.

use crate::func::{Context, FuncResult, Registry};
use crate::value::{GoType, Value};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    reg.add("b64enc", &[GoType::String], None, b64enc);
    reg.add("b64dec", &[GoType::String], None, b64dec);
    reg.add("b32enc", &[GoType::String], None, b32enc);
    reg.add("b32dec", &[GoType::String], None, b32dec);
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const PAD: u8 = b'=';

fn string_arg(args: &[Value]) -> &str {
    args.first().and_then(Value::as_str).unwrap_or("")
}

fn text(bytes: Vec<u8>) -> Value {
    match String::from_utf8(bytes) {
        Ok(s) => Value::string(s),
        Err(e) => Value::string(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

fn b64enc(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let s = string_arg(&args);
    ctx.charge(s.len() as u64 / 64)?;
    Ok(Value::string(base64_encode(s.as_bytes())))
}

fn b64dec(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let s = string_arg(&args);
    ctx.charge(s.len() as u64 / 64)?;
    Ok(match base64_decode(s.as_bytes()) {
        Ok(bytes) => text(bytes),
        Err(offset) => Value::string(format!("illegal base64 data at input byte {offset}")),
    })
}

fn b32enc(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let s = string_arg(&args);
    ctx.charge(s.len() as u64 / 64)?;
    Ok(Value::string(base32_encode(s.as_bytes())))
}

fn b32dec(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let s = string_arg(&args);
    ctx.charge(s.len() as u64 / 64)?;
    Ok(match base32_decode(s.as_bytes()) {
        Ok(bytes) => text(bytes),
        Err(offset) => Value::string(format!("illegal base32 data at input byte {offset}")),
    })
}

/// Standard base64 with padding.
pub fn base64_encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push(PAD as char);
            }
        }
    }
    out
}

fn b64_value(c: u8) -> Option<u8> {
    B64.iter().position(|&x| x == c).map(|p| p as u8)
}

/// Go's `base64.StdEncoding.DecodeString`; `Err(offset)` is the byte
/// offset Go's `CorruptInputError` reports.
pub fn base64_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        let (next, done) = base64_quantum(src, si, &mut out)?;
        si = next;
        if done {
            break;
        }
    }
    Ok(out)
}

/// One 4-character quantum starting at `si` (Go's `decodeQuantum`).
/// Returns the next position and whether the input ended.
fn base64_quantum(src: &[u8], mut si: usize, out: &mut Vec<u8>) -> Result<(usize, bool), usize> {
    let mut buf = [0u8; 4];
    let mut len = 4;
    let mut j = 0;
    while j < 4 {
        if si == src.len() {
            if j == 0 {
                return Ok((si, true));
            }
            // Padding is required: a short final quantum is corrupt.
            return Err(si - j);
        }
        let c = src[si];
        si += 1;
        if let Some(v) = b64_value(c) {
            buf[j] = v;
            j += 1;
            continue;
        }
        if c == b'\n' || c == b'\r' {
            continue;
        }
        if c != PAD {
            return Err(si - 1);
        }
        // Padding: only after two or three characters.
        match j {
            0 | 1 => return Err(si - 1),
            2 => {
                while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                    si += 1;
                }
                if si == src.len() {
                    return Err(src.len());
                }
                if src[si] != PAD {
                    return Err(si - 1);
                }
                si += 1;
            }
            _ => {}
        }
        while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
            si += 1;
        }
        if si < src.len() {
            // Trailing garbage after the padding.
            return Err(si);
        }
        len = j;
        break;
    }
    let n = (u32::from(buf[0]) << 18)
        | (u32::from(buf[1]) << 12)
        | (u32::from(buf[2]) << 6)
        | u32::from(buf[3]);
    let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
    out.extend_from_slice(&bytes[..len - 1]);
    Ok((si, len < 4))
}

/// Standard base32 with padding.
pub fn base32_encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(5) * 8);
    for chunk in input.chunks(5) {
        let mut b = [0u8; 5];
        b[..chunk.len()].copy_from_slice(chunk);
        let n = b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
        // Characters carrying data: ceil(bits / 5).
        let used = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < used {
                out.push(B32[((n >> (35 - 5 * i)) & 31) as usize] as char);
            } else {
                out.push(PAD as char);
            }
        }
    }
    out
}

fn b32_value(c: u8) -> Option<u8> {
    B32.iter().position(|&x| x == c).map(|p| p as u8)
}

/// Go's `base32.StdEncoding.DecodeString`: newlines are removed first, and
/// offsets count the input without them.
pub fn base32_decode(input: &[u8]) -> Result<Vec<u8>, usize> {
    let src: Vec<u8> = input
        .iter()
        .copied()
        .filter(|&c| c != b'\r' && c != b'\n')
        .collect();
    let total = src.len();
    let mut out = Vec::with_capacity(total / 8 * 5);
    let mut pos = 0;
    let mut end = false;
    while pos < total && !end {
        let mut buf = [0u8; 8];
        let mut len = 8;
        let mut j = 0;
        while j < 8 {
            if pos == total {
                // Missing padding.
                return Err(total - (total - pos) - j);
            }
            let c = src[pos];
            pos += 1;
            let remaining = total - pos;
            if c == PAD && j >= 2 && remaining < 8 {
                if remaining + j < 7 {
                    return Err(total);
                }
                for k in 0..(7 - j) {
                    if remaining > k && src[pos + k] != PAD {
                        return Err(total - remaining + k - 1);
                    }
                }
                len = j;
                end = true;
                if matches!(len, 1 | 3 | 6) {
                    return Err(total - remaining - 1);
                }
                break;
            }
            match b32_value(c) {
                Some(v) => buf[j] = v,
                None => return Err(total - remaining - 1),
            }
            j += 1;
        }
        let n = buf.iter().fold(0u64, |acc, &x| (acc << 5) | u64::from(x));
        let bytes = [
            (n >> 32) as u8,
            (n >> 24) as u8,
            (n >> 16) as u8,
            (n >> 8) as u8,
            n as u8,
        ];
        let produced = match len {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => 0,
        };
        out.extend_from_slice(&bytes[..produced]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values were produced by Go's encoding/base64 and
    // encoding/base32 (StdEncoding) in a throwaway program.

    #[test]
    fn base64_round_trips_and_pads() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode("héllo".as_bytes()), "aMOpbGxv");
        assert_eq!(base64_decode(b"Zm9vYmFy").as_deref(), Ok(&b"foobar"[..]));
        assert_eq!(base64_decode(b"Zm9v\r\nYmE=").as_deref(), Ok(&b"fooba"[..]));
        assert_eq!(base64_decode(b"Zh==").as_deref(), Ok(&b"f"[..]));
        assert_eq!(base64_decode(b"Zg=\n=").as_deref(), Ok(&b"f"[..]));
    }

    #[test]
    fn base64_errors_report_gos_offsets() {
        let cases: [(&[u8], usize); 10] = [
            (b"Zm9vYmFyZm9vYmFy!", 16),
            (b"Zm9vYmF=Zm9v", 8),
            (b"Zm9", 0),
            (b"Zm9v!", 4),
            (b"Z===", 1),
            (b"Zg=", 3),
            (b"Zg==x", 4),
            (b"Zg=x", 2),
            (b"=", 0),
            (b"Zm9vYm", 4),
        ];
        for (input, offset) in cases {
            assert_eq!(
                base64_decode(input),
                Err(offset),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn base32_round_trips_and_pads() {
        assert_eq!(base32_encode(b"f"), "MY======");
        assert_eq!(base32_encode(b"fo"), "MZXQ====");
        assert_eq!(base32_encode(b"foo"), "MZXW6===");
        assert_eq!(base32_encode(b"foob"), "MZXW6YQ=");
        assert_eq!(base32_encode(b"fooba"), "MZXW6YTB");
        assert_eq!(
            base32_decode(b"MZXW6YTBOI======").as_deref(),
            Ok(&b"foobar"[..])
        );
        assert_eq!(base32_decode(b"MY======MY").as_deref(), Ok(&b"f"[..]));
    }

    #[test]
    fn base32_errors_report_gos_offsets() {
        let cases: [(&[u8], usize); 8] = [
            (b"MZXW6Y==", 6),
            (b"MY======MZXW6===", 2),
            (b"MZXW6", 0),
            (b"M=======", 1),
            (b"MY=====", 7),
            (b"MY===x==", 4),
            (b"mzxw6ytb", 0),
            (b"MZX=====", 3),
        ];
        for (input, offset) in cases {
            assert_eq!(
                base32_decode(input),
                Err(offset),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
