//! Template functions: hashes, passwords, keys, certificates and AES
//! (Sprig's `crypto.go`).
//!
//! Certificates are built the way Go's `x509.CreateCertificate` builds
//! Sprig's templates: v3, a random 128-bit serial, subject CN only, the
//! issuer copied byte for byte from the parent, extensions in Go's order
//! (key usage, extended key usage, basic constraints, subject key id for
//! CAs, authority key id from the parent, subject alternative names), and
//! the signature algorithm Go picks for the signing key (SHA-256 with RSA or
//! ECDSA, or Ed25519). Keys are written in the PEM forms Sprig writes (PKCS#1
//! for RSA, SEC 1 for ECDSA, PKCS#8 for Ed25519, OpenSSL's DSA form).

use std::rc::Rc;

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use der::{Decode as _, Encode as _};
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::value::{GoType, Object, Value};

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    use GoType::{Int, Interface, InterfaceSlice, String as Str};
    reg.add("sha1sum", &[Str], None, sha1sum);
    reg.add("sha256sum", &[Str], None, sha256sum);
    reg.add("sha512sum", &[Str], None, sha512sum);
    reg.add("adler32sum", &[Str], None, adler32sum);
    reg.add("bcrypt", &[Str], None, bcrypt_fn);
    reg.add("htpasswd", &[Str, Str], None, htpasswd);
    reg.add("randBytes", &[Int], None, rand_bytes);
    // func derivePassword(counter uint32, passwordType, password, user,
    // site string) string — the engine has no uint32, so the counter is
    // declared `int` and range-checked here.
    reg.add(
        "derivePassword",
        &[Int, Str, Str, Str, Str],
        None,
        derive_password,
    );
    reg.add("genPrivateKey", &[Str], None, gen_private_key);
    reg.add("buildCustomCert", &[Str, Str], None, build_custom_cert);
    reg.add("genCA", &[Str, Int], None, gen_ca);
    reg.add("genCAWithKey", &[Str, Int, Str], None, gen_ca_with_key);
    reg.add(
        "genSelfSignedCert",
        &[Str, InterfaceSlice, InterfaceSlice, Int],
        None,
        gen_self_signed_cert,
    );
    reg.add(
        "genSelfSignedCertWithKey",
        &[Str, InterfaceSlice, InterfaceSlice, Int, Str],
        None,
        gen_self_signed_cert_with_key,
    );
    // The `ca` parameter is Sprig's unexported `certificate` struct; it is
    // declared `interface {}` and checked here.
    reg.add(
        "genSignedCert",
        &[Str, InterfaceSlice, InterfaceSlice, Int, Interface],
        None,
        gen_signed_cert,
    );
    reg.add(
        "genSignedCertWithKey",
        &[Str, InterfaceSlice, InterfaceSlice, Int, Interface, Str],
        None,
        gen_signed_cert_with_key,
    );
    reg.add("encryptAES", &[Str, Str], None, encrypt_aes);
    reg.add("decryptAES", &[Str, Str], None, decrypt_aes);
}

// ---------------------------------------------------------------------------
// Arguments.

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

fn int_arg(args: &[Value], i: usize) -> Result<i64, FuncError> {
    match args.get(i) {
        Some(Value::Int(n)) | Some(Value::Int64(n)) => Ok(*n),
        Some(Value::Int32(n)) => Ok(i64::from(*n)),
        other => Err(FuncError::new(format!(
            "internal: expected int argument {i}, got {}",
            other
                .map(Value::type_name)
                .unwrap_or_else(|| "nothing".into())
        ))),
    }
}

/// A `[]interface{}` argument: nil or a list.
fn list_arg(args: &[Value], i: usize) -> Result<Vec<Value>, FuncError> {
    match args.get(i) {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(Value::List(l)) => Ok(l.items.as_ref().clone()),
        Some(other) => Err(FuncError::new(format!(
            "wrong type for value; expected []interface {{}}; got {}",
            other.type_name()
        ))),
    }
}

fn cert_arg(args: &[Value], i: usize) -> Result<Certificate, FuncError> {
    let v = args.get(i).cloned().unwrap_or(Value::Nil);
    if let Value::Object(o) = &v {
        if let Some(c) = o.as_any().downcast_ref::<Certificate>() {
            return Ok(c.clone());
        }
    }
    let got = match &v {
        // Go reports a nil interface argument as an invalid value.
        Value::Nil => "invalid value; expected sprig.certificate".to_string(),
        other => format!(
            "wrong type for value; expected sprig.certificate; got {}",
            other.type_name()
        ),
    };
    Err(FuncError::new(got))
}

// ---------------------------------------------------------------------------
// Hashes.

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha1sum(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let s = str_arg(&args, 0)?;
    ctx.charge(s.len() as u64 / 64)?;
    Ok(Value::string(hex(&Sha1::digest(s.as_bytes()))))
}

fn sha256sum(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let s = str_arg(&args, 0)?;
    ctx.charge(s.len() as u64 / 64)?;
    Ok(Value::string(hex(&Sha256::digest(s.as_bytes()))))
}

fn sha512sum(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let s = str_arg(&args, 0)?;
    ctx.charge(s.len() as u64 / 64)?;
    Ok(Value::string(hex(&Sha512::digest(s.as_bytes()))))
}

/// Adler-32 (RFC 1950), as `hash/adler32.Checksum`.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the largest n with 255n(n+1)/2 + (n+1)(MOD-1) < 2^32.
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

fn adler32sum(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let s = str_arg(&args, 0)?;
    ctx.charge(s.len() as u64 / 64)?;
    Ok(Value::string(adler32(s.as_bytes()).to_string()))
}

// ---------------------------------------------------------------------------
// Passwords.

/// `bcrypt.GenerateFromPassword(input, 10)`; x/crypto refuses passwords
/// over 72 bytes, and Sprig returns the error as the result text.
fn bcrypt_hash(password: &str) -> String {
    if password.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .into();
    }
    match bcrypt::hash_with_result(password, 10) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

fn bcrypt_fn(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    Ok(Value::string(bcrypt_hash(str_arg(&args, 0)?)))
}

fn htpasswd(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let user = str_arg(&args, 0)?;
    let password = str_arg(&args, 1)?;
    if user.contains(':') {
        return Ok(Value::string(format!("invalid username: {user}")));
    }
    Ok(Value::string(format!("{user}:{}", bcrypt_hash(password))))
}

fn rand_bytes(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let n = int_arg(&args, 0)?;
    if n < 0 {
        return Err(FuncError::new("runtime error: makeslice: len out of range"));
    }
    ctx.charge(n as u64)?;
    let mut buf = vec![0u8; n as usize];
    OsRng.fill_bytes(&mut buf);
    Ok(Value::string(
        base64::engine::general_purpose::STANDARD.encode(buf),
    ))
}

const MASTER_PASSWORD_SEED: &[u8] = b"com.lyndir.masterpassword";

/// The Master Password templates Sprig ships, by password type.
fn password_templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// The Master Password algorithm (v3 key derivation, as Sprig has it):
/// scrypt(password, seed‖len(user)‖user, N=32768, r=8, p=2) keys an
/// HMAC-SHA256 over seed‖len(site)‖site‖counter; its bytes pick a template
/// and then one character per template class.
pub fn master_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    let Some(templates) = password_templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let mut salt = MASTER_PASSWORD_SEED.to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let derived = scrypt::Params::new(15, 8, 2, 64)
        .map_err(|e| e.to_string())
        .and_then(|params| {
            scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key).map_err(|e| e.to_string())
        });
    if let Err(e) = derived {
        return format!("failed to derive password: {e}");
    }
    let mut msg = MASTER_PASSWORD_SEED.to_vec();
    msg.extend_from_slice(&(site.len() as u32).to_be_bytes());
    msg.extend_from_slice(site.as_bytes());
    msg.extend_from_slice(&counter.to_be_bytes());
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
        return "failed to derive password: hmac key".into();
    };
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let template = templates[usize::from(seed[0]) % templates.len()].as_bytes();
    template
        .iter()
        .enumerate()
        .map(|(i, &class)| {
            let chars = template_chars(class);
            char::from(chars[usize::from(seed[i + 1]) % chars.len()])
        })
        .collect()
}

fn derive_password(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let counter = int_arg(&args, 0)?;
    let counter = u32::try_from(counter)
        .map_err(|_| FuncError::new(format!("{counter} overflows uint32")))?;
    Ok(Value::string(master_password(
        counter,
        str_arg(&args, 1)?,
        str_arg(&args, 2)?,
        str_arg(&args, 3)?,
        str_arg(&args, 4)?,
    )))
}

// ---------------------------------------------------------------------------
// AES (Sprig's encryptAES/decryptAES: AES-256-CBC, the password copied into
// a zeroed 32-byte key, PKCS#7 padding, random IV prepended, base64).

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

fn aes_key(password: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password.as_bytes()[..n]);
    key
}

pub fn encrypt_aes_with_iv(password: &str, plaintext: &[u8], iv: [u8; 16]) -> String {
    let key = aes_key(password);
    let pad = 16 - plaintext.len() % 16;
    let mut content = plaintext.to_vec();
    content.extend(std::iter::repeat_n(pad as u8, pad));
    let mut enc = Aes256CbcEnc::new(&key.into(), &iv.into());
    let mut out = iv.to_vec();
    for block in content.chunks(16) {
        let mut b = aes::Block::clone_from_slice(block);
        enc.encrypt_block_mut(&mut b);
        out.extend_from_slice(&b);
    }
    base64::engine::general_purpose::STANDARD.encode(out)
}

fn encrypt_aes(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let password = str_arg(&args, 0)?;
    let plaintext = str_arg(&args, 1)?;
    if plaintext.is_empty() {
        return Ok(Value::str(""));
    }
    ctx.charge(plaintext.len() as u64 / 16)?;
    let mut iv = [0u8; 16];
    OsRng.fill_bytes(&mut iv);
    Ok(Value::string(encrypt_aes_with_iv(
        password,
        plaintext.as_bytes(),
        iv,
    )))
}

/// Sprig's decryptAES, including the Go runtime panics it hits on short or
/// malformed input (the template engine reports those as errors).
pub fn decrypt_aes_bytes(password: &str, crypt64: &str) -> Result<Vec<u8>, String> {
    if crypt64.is_empty() {
        return Ok(Vec::new());
    }
    let key = aes_key(password);
    let crypt = go_base64_decode(crypt64.as_bytes())
        .map_err(|at| format!("illegal base64 data at input byte {at}"))?;
    if crypt.len() < 16 {
        return Err(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            crypt.len()
        ));
    }
    let (iv, body) = crypt.split_at(16);
    if body.len() % 16 != 0 {
        return Err("crypto/cipher: input not full blocks".into());
    }
    let mut iv_arr = [0u8; 16];
    iv_arr.copy_from_slice(iv);
    let mut dec = Aes256CbcDec::new(&key.into(), &iv_arr.into());
    let mut out = Vec::with_capacity(body.len());
    for block in body.chunks(16) {
        let mut b = aes::Block::clone_from_slice(block);
        dec.decrypt_block_mut(&mut b);
        out.extend_from_slice(&b);
    }
    let Some(&last) = out.last() else {
        return Err("runtime error: index out of range [-1]".into());
    };
    let end = out.len() as i64 - i64::from(last);
    if end < 0 {
        return Err(format!("runtime error: slice bounds out of range [:{end}]"));
    }
    out.truncate(end as usize);
    Ok(out)
}

fn decrypt_aes(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let password = str_arg(&args, 0)?;
    let crypt64 = str_arg(&args, 1)?;
    ctx.charge(crypt64.len() as u64 / 16)?;
    let bytes = decrypt_aes_bytes(password, crypt64).map_err(FuncError)?;
    Ok(Value::string(String::from_utf8_lossy(&bytes).into_owned()))
}

/// `base64.StdEncoding.DecodeString` with Go's error offsets (newlines are
/// skipped; the error is the input byte index Go reports).
pub fn go_base64_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    fn val(c: u8) -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    loop {
        let mut dbuf = [0u8; 4];
        let mut dlen = 4;
        let mut j = 0;
        let mut trailing_err = None;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if let Some(v) = val(c) {
                dbuf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return Err(si - 1);
            }
            match j {
                0 | 1 => return Err(si - 1),
                2 => {
                    while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(src.len());
                    }
                    if src[si] != b'=' {
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
                trailing_err = Some(si);
            }
            dlen = j;
            break;
        }
        let v = (u32::from(dbuf[0]) << 18)
            | (u32::from(dbuf[1]) << 12)
            | (u32::from(dbuf[2]) << 6)
            | u32::from(dbuf[3]);
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if let Some(at) = trailing_err {
            return Err(at);
        }
        if dlen < 4 {
            return Ok(out);
        }
    }
}

// ---------------------------------------------------------------------------
// PEM.

/// `pem.EncodeToMemory`: 64-column base64 between BEGIN/END lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The first PEM block in `text` (like `pem.Decode`): its type and bytes.
/// Header lines (`Key: value`) are skipped.
pub fn pem_decode(text: &[u8]) -> Option<(String, Vec<u8>)> {
    let text = String::from_utf8_lossy(text);
    let mut search = 0;
    while let Some(pos) = text[search..].find("-----BEGIN ") {
        let start = search + pos;
        search = start + 11;
        // BEGIN must start a line.
        if start > 0 && !text[..start].ends_with('\n') {
            continue;
        }
        let rest = &text[start + 11..];
        let type_end = rest.find("-----")?;
        let label = &rest[..type_end];
        if label.contains('\n') {
            continue;
        }
        let after = &rest[type_end + 5..];
        let Some(body_start) = after.find('\n') else {
            continue;
        };
        if !after[..body_start].trim_end_matches('\r').trim().is_empty() {
            continue;
        }
        let body = &after[body_start + 1..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body.find(&end_marker) else {
            continue;
        };
        let mut b64 = String::new();
        for line in body[..end].lines() {
            if line.contains(':') {
                continue;
            }
            b64.extend(line.chars().filter(|c| !c.is_whitespace()));
        }
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()) else {
            continue;
        };
        return Some((label.to_string(), bytes));
    }
    None
}

// ---------------------------------------------------------------------------
// Keys.

/// A private key of one of the kinds Sprig handles.
enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ecdsa(p256::SecretKey),
    Ed25519(ed25519_dalek::SigningKey),
    /// DSA (P, Q, G, Y, X, big-endian): parsed and written but, as in Go,
    /// not usable for signing or in a certificate.
    Dsa(Vec<Vec<u8>>),
}

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_ED25519: &str = "1.3.101.112";

/// A new RSA key of `bits` bits, from [`super::rsa_keygen`]: a sieved
/// prime search over AWS-LC's big-number arithmetic, about three times as
/// fast on average as AWS-LC's own generator, which was about Go's speed
/// (the `rsa` crate's pure-Rust search was several times slower still).
/// The key comes out as the `rsa` crate's, which the encoding and signing
/// code uses.
fn generate_rsa(bits: usize) -> Result<rsa::RsaPrivateKey, String> {
    super::rsa_keygen::generate_rsa_key(bits).map_err(|e| e.to_string())
}

/// RSA-2048 keys (what `genCA`, `genSelfSignedCert` and `genSignedCert`
/// make) generated ahead, on threads of their own, for a process that
/// renders once. A key's prime search takes tens to hundreds of
/// milliseconds, ten times a whole render, and charts ask for keys in
/// pairs (a CA, then a certificate it signs): when the first is asked
/// for and the templates have more such calls ([`expect_rsa2048_calls`]),
/// the keys are generated two at a time instead of one after the other.
/// Not before: many charts have these calls in branches their values
/// never take, and keys generated speculatively during the render slowed
/// such renders by a tenth to a quarter (same-run A/B on redis and
/// postgresql, even at the lowest thread priority). The keys are as fresh
/// and as random as those made on demand (the same generator, one key per
/// request, never reused); ones not asked for are never used.
struct RsaAhead {
    state: std::sync::Mutex<RsaAheadState>,
    ready: std::sync::Condvar,
}

struct RsaAheadState {
    keys: Vec<Result<rsa::RsaPrivateKey, String>>,
    /// Keys not started yet.
    to_start: usize,
    /// Keys being generated.
    running: usize,
    /// Keys asked for in all.
    requested: usize,
    /// Threads generating.
    workers: usize,
}

static RSA2048_AHEAD: std::sync::OnceLock<std::sync::Arc<RsaAhead>> = std::sync::OnceLock::new();

/// Calls of the key-making functions the templates have, told by
/// [`expect_rsa2048_calls`] and taken by the first key asked for.
static RSA2048_EXPECTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Tells the key-making functions that the templates have `calls` more
/// calls of them ([`rsa2048_calls`]); for `berth template`, which counts
/// them in the templates it reads.
pub fn expect_rsa2048_calls(calls: usize) {
    RSA2048_EXPECTED.fetch_add(calls, std::sync::atomic::Ordering::Relaxed);
}

/// How many keys are generated at once (the machine may have no more
/// cores than that to spare next to the render).
const RSA_AHEAD_THREADS: usize = 2;

/// The most keys generated ahead in one process: calls beyond are usually
/// in branches a render does not take, and each costs a core for tens of
/// milliseconds; further keys are generated on demand.
const RSA_AHEAD_MAX: usize = 4;

/// Generates `count` more RSA-2048 keys on background threads (up to
/// [`RSA_AHEAD_MAX`] per process), for the key-generating functions to
/// take instead of generating their own.
fn generate_rsa2048_ahead(count: usize) {
    if count == 0 {
        return;
    }
    let ahead = RSA2048_AHEAD
        .get_or_init(|| {
            std::sync::Arc::new(RsaAhead {
                state: std::sync::Mutex::new(RsaAheadState {
                    keys: Vec::new(),
                    to_start: 0,
                    running: 0,
                    requested: 0,
                    workers: 0,
                }),
                ready: std::sync::Condvar::new(),
            })
        })
        .clone();
    let mut state = ahead.lock();
    let added = count.min(RSA_AHEAD_MAX - state.requested);
    state.requested += added;
    state.to_start += added;
    while state.workers < RSA_AHEAD_THREADS.min(state.to_start + state.running) {
        let worker = ahead.clone();
        let spawned = std::thread::Builder::new()
            .name("rsa".into())
            .spawn(move || worker.generate_while_wanted());
        if spawned.is_err() {
            break;
        }
        state.workers += 1;
    }
    if state.workers == 0 {
        // None started: the functions generate their keys themselves.
        state.to_start = 0;
    }
}

/// How many calls of the functions that make an RSA-2048 key (`genCA`,
/// `genSelfSignedCert`, `genSignedCert`; not their `WithKey` forms) the
/// template text has.
pub fn rsa2048_calls(text: &str) -> usize {
    // One pass over the text for the names' common start (three searches,
    // one per name, were 2 % of a large chart's render).
    const NAMES: [&[u8]; 3] = [b"genCA", b"genSelfSignedCert", b"genSignedCert"];
    let bytes = text.as_bytes();
    let ident = |b: Option<&u8>| b.is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_');
    memchr::memmem::find_iter(bytes, b"gen")
        .filter(|&at| {
            let rest = &bytes[at..];
            NAMES.iter().any(|name| {
                rest.starts_with(name)
                    && !ident(at.checked_sub(1).and_then(|i| bytes.get(i)))
                    && !ident(rest.get(name.len()))
            })
        })
        .count()
}

impl RsaAhead {
    fn lock(&self) -> std::sync::MutexGuard<'_, RsaAheadState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn generate_while_wanted(&self) {
        loop {
            {
                let mut state = self.lock();
                if state.to_start == 0 {
                    state.workers -= 1;
                    return;
                }
                state.to_start -= 1;
                state.running += 1;
            }
            let key = std::panic::catch_unwind(|| generate_rsa(2048))
                .unwrap_or_else(|_| Err("rsa key generation failed".to_string()));
            let mut state = self.lock();
            state.running -= 1;
            state.keys.push(key);
            drop(state);
            self.ready.notify_all();
        }
    }

    /// A key generated ahead, waiting for one being generated; `None` when
    /// none is left (the caller generates its own).
    fn take(&self) -> Option<Result<rsa::RsaPrivateKey, String>> {
        let mut state = self.lock();
        loop {
            if let Some(key) = state.keys.pop() {
                return Some(key);
            }
            if state.to_start == 0 && state.running == 0 {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl PrivateKey {
    fn generate(kind: &str) -> Result<PrivateKey, String> {
        Ok(match kind {
            "" | "rsa" => PrivateKey::Rsa(Box::new(generate_rsa(4096)?)),
            "ecdsa" => PrivateKey::Ecdsa(p256::SecretKey::random(&mut OsRng)),
            "ed25519" => PrivateKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng)),
            "dsa" => {
                let components = dsa::Components::generate(&mut OsRng, dsa::KeySize::DSA_2048_256);
                let key = dsa::SigningKey::generate(&mut OsRng, components);
                let vk = key.verifying_key();
                let c = vk.components();
                PrivateKey::Dsa(vec![
                    c.p().to_bytes_be(),
                    c.q().to_bytes_be(),
                    c.g().to_bytes_be(),
                    vk.y().to_bytes_be(),
                    key.x().to_bytes_be(),
                ])
            }
            _ => return Err(format!("Unknown type {kind}")),
        })
    }

    fn rsa2048() -> Result<PrivateKey, String> {
        // The first key asked for starts the ones the templates are
        // expected to ask for next, all on background threads.
        let expected = RSA2048_EXPECTED.swap(0, std::sync::atomic::Ordering::Relaxed);
        if expected >= 2 {
            generate_rsa2048_ahead(expected);
        }
        let key = match RSA2048_AHEAD.get().and_then(|ahead| ahead.take()) {
            Some(key) => key,
            None => generate_rsa(2048),
        };
        key.map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| format!("error generating rsa key: {e}"))
    }

    /// Sprig's `pemBlockForKey`.
    fn to_pem(&self) -> Result<String, String> {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        Ok(match self {
            PrivateKey::Rsa(k) => pem_encode(
                "RSA PRIVATE KEY",
                k.to_pkcs1_der().map_err(|e| e.to_string())?.as_bytes(),
            ),
            PrivateKey::Ecdsa(k) => pem_encode("EC PRIVATE KEY", &ec_private_key_der(k)),
            PrivateKey::Ed25519(k) => {
                // Go's MarshalPKCS8PrivateKey: version 0, the algorithm
                // without parameters, the seed as a nested OCTET STRING.
                let mut der = vec![
                    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04,
                    0x22, 0x04, 0x20,
                ];
                der.extend_from_slice(&k.to_bytes());
                pem_encode("PRIVATE KEY", &der)
            }
            PrivateKey::Dsa(parts) => {
                let mut body = der_integer(&[0]);
                for p in parts {
                    body.extend(der_integer(p));
                }
                pem_encode("DSA PRIVATE KEY", &der_tlv(0x30, &body))
            }
        })
    }

    /// Sprig's `parsePrivateKeyPEM`.
    fn from_pem(text: &str) -> Result<PrivateKey, String> {
        let (label, der) =
            pem_decode(text.as_bytes()).ok_or_else(|| "no PEM data in input".to_string())?;
        if label == "PRIVATE KEY" {
            return parse_pkcs8(&der).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
        }
        let Some(kind) = label.strip_suffix(" PRIVATE KEY") else {
            return Err(format!("no private key data in PEM block of type {label}"));
        };
        match kind {
            "RSA" => {
                use rsa::pkcs1::DecodeRsaPrivateKey;
                rsa::RsaPrivateKey::from_pkcs1_der(&der)
                    .map(|k| PrivateKey::Rsa(Box::new(k)))
                    .map_err(|e| format!("parsing RSA private key from PEM: x509: {e}"))
            }
            "EC" => p256::SecretKey::from_sec1_der(&der)
                .map(PrivateKey::Ecdsa)
                .map_err(|_| {
                    "parsing EC private key from PEM: x509: failed to parse EC private key"
                        .to_string()
                }),
            "DSA" => parse_dsa(&der)
                .map(PrivateKey::Dsa)
                .ok_or_else(|| "parsing DSA private key from PEM: asn1: structure error".into()),
            _ => Err(format!("invalid private key type {label}")),
        }
    }

    /// The DER SubjectPublicKeyInfo of the public half.
    fn public_spki(&self) -> Result<Vec<u8>, String> {
        use rsa::pkcs8::EncodePublicKey;
        match self {
            PrivateKey::Rsa(k) => rsa::RsaPublicKey::from(k.as_ref())
                .to_public_key_der()
                .map(|d| d.as_bytes().to_vec())
                .map_err(|e| e.to_string()),
            PrivateKey::Ecdsa(k) => k
                .public_key()
                .to_public_key_der()
                .map(|d| d.as_bytes().to_vec())
                .map_err(|e| e.to_string()),
            PrivateKey::Ed25519(k) => k
                .verifying_key()
                .to_public_key_der()
                .map(|d| d.as_bytes().to_vec())
                .map_err(|e| e.to_string()),
            PrivateKey::Dsa(_) => Err("x509: unsupported public key type: *dsa.PublicKey".into()),
        }
    }

    /// Go's `signingParamsForKey` (DER AlgorithmIdentifier) and the
    /// signature over `tbs`.
    fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            PrivateKey::Rsa(k) => {
                let digest = Sha256::digest(tbs);
                k.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest)
                    .map_err(|e| e.to_string())
            }
            PrivateKey::Ecdsa(k) => {
                use p256::ecdsa::signature::Signer;
                let sk = p256::ecdsa::SigningKey::from(k);
                let sig: p256::ecdsa::DerSignature = sk.sign(tbs);
                Ok(sig.as_bytes().to_vec())
            }
            PrivateKey::Ed25519(k) => {
                use ed25519_dalek::Signer;
                Ok(k.sign(tbs).to_bytes().to_vec())
            }
            PrivateKey::Dsa(_) => {
                Err("x509: certificate private key does not implement crypto.Signer".into())
            }
        }
    }

    fn signature_algorithm(&self) -> Vec<u8> {
        match self {
            // sha256WithRSAEncryption, NULL parameters.
            PrivateKey::Rsa(_) => der_tlv(
                0x30,
                &[
                    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
                ],
            ),
            // ecdsa-with-SHA256.
            PrivateKey::Ecdsa(_) => der_tlv(
                0x30,
                &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
            ),
            // Ed25519.
            PrivateKey::Ed25519(_) | PrivateKey::Dsa(_) => {
                der_tlv(0x30, &[0x06, 0x03, 0x2b, 0x65, 0x70])
            }
        }
    }
}

/// Go's `x509.MarshalECPrivateKey` (SEC 1): version 1, the scalar, the
/// named curve and the uncompressed public point.
fn ec_private_key_der(k: &p256::SecretKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let point = k.public_key().to_encoded_point(false);
    let mut bits = vec![0u8];
    bits.extend_from_slice(point.as_bytes());
    der_seq(&[
        der_integer(&[1]),
        der_tlv(0x04, &k.to_bytes()),
        der_tlv(
            0xa0,
            &der_tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
        ),
        der_tlv(0xa1, &der_tlv(0x03, &bits)),
    ])
}

fn parse_pkcs8(der: &[u8]) -> Result<PrivateKey, String> {
    let info = rsa::pkcs8::PrivateKeyInfo::from_der(der)
        .map_err(|_| "x509: failed to parse private key".to_string())?;
    let oid = info.algorithm.oid.to_string();
    match oid.as_str() {
        OID_RSA => {
            use rsa::pkcs8::DecodePrivateKey;
            rsa::RsaPrivateKey::from_pkcs8_der(der)
                .map(|k| PrivateKey::Rsa(Box::new(k)))
                .map_err(|e| {
                    format!("x509: failed to parse RSA private key embedded in PKCS#8: {e}")
                })
        }
        OID_EC => {
            let curve = info
                .algorithm
                .parameters_oid()
                .map(|o| o.to_string())
                .unwrap_or_default();
            if curve != OID_P256 {
                return Err("x509: failed to parse EC private key embedded in PKCS#8: x509: unknown elliptic curve".into());
            }
            use p256::pkcs8::DecodePrivateKey;
            p256::SecretKey::from_pkcs8_der(der)
                .map(PrivateKey::Ecdsa)
                .map_err(|_| "x509: failed to parse EC private key embedded in PKCS#8".into())
        }
        OID_ED25519 => {
            use ed25519_dalek::pkcs8::DecodePrivateKey;
            ed25519_dalek::SigningKey::from_pkcs8_der(der)
                .map(PrivateKey::Ed25519)
                .map_err(|_| "x509: invalid Ed25519 private key".into())
        }
        other => Err(format!(
            "x509: PKCS#8 wrapping contained private key with unknown algorithm: {other}"
        )),
    }
}

/// OpenSSL's DSA private key: SEQUENCE { version, P, Q, G, Y, X }.
fn parse_dsa(der: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut reader = der::SliceReader::new(der).ok()?;
    use der::Reader;
    let parts = reader
        .sequence(|r| {
            let mut parts = Vec::new();
            for _ in 0..6 {
                let n = der::asn1::UintRef::decode(r)?;
                parts.push(n.as_bytes().to_vec());
            }
            Ok(parts)
        })
        .ok()?;
    Some(parts[1..].to_vec())
}

fn gen_private_key(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let kind = str_arg(&args, 0)?;
    let text = match PrivateKey::generate(kind) {
        Ok(key) => key
            .to_pem()
            .unwrap_or_else(|e| format!("failed to generate private key: {e}")),
        Err(e) if e.starts_with("Unknown type") => e,
        Err(e) => format!("failed to generate private key: {e}"),
    };
    Ok(Value::string(text))
}

// ---------------------------------------------------------------------------
// DER writing.

fn der_len(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes: Vec<u8> = len
        .to_be_bytes()
        .iter()
        .copied()
        .skip_while(|&b| b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend_from_slice(content);
    out
}

/// A non-negative INTEGER from big-endian magnitude bytes.
fn der_integer(magnitude: &[u8]) -> Vec<u8> {
    let mut m: Vec<u8> = magnitude.iter().copied().skip_while(|&b| b == 0).collect();
    if m.is_empty() {
        m.push(0);
    }
    if m[0] & 0x80 != 0 {
        m.insert(0, 0);
    }
    der_tlv(0x02, &m)
}

fn der_seq(parts: &[Vec<u8>]) -> Vec<u8> {
    der_tlv(0x30, &parts.concat())
}

/// Go's asn1 choice for a string: PrintableString when every byte is in
/// its (strict) alphabet, else UTF8String.
fn der_string(s: &str) -> Vec<u8> {
    let printable = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
    der_tlv(if printable { 0x13 } else { 0x0c }, s.as_bytes())
}

/// UTCTime for 1950..=2049, else GeneralizedTime (RFC 5280, as Go).
fn der_time(unix: i64) -> Vec<u8> {
    let t = crate::funcs::dates::GoTime::unix(unix, 0, crate::funcs::dates::Location::utc());
    let year: i64 = t.format("2006").parse().unwrap_or(0);
    if (1950..2050).contains(&year) {
        der_tlv(0x17, t.format("060102150405Z").as_bytes())
    } else {
        der_tlv(0x18, t.format("20060102150405Z").as_bytes())
    }
}

fn extension(oid: &[u8], critical: bool, value: Vec<u8>) -> Vec<u8> {
    let mut parts = vec![der_tlv(0x06, oid)];
    if critical {
        parts.push(vec![0x01, 0x01, 0xff]);
    }
    parts.push(der_tlv(0x04, &value));
    der_seq(&parts)
}

// ---------------------------------------------------------------------------
// Certificates.

/// Sprig's `certificate` struct: PEM certificate and key.
#[derive(Clone)]
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(&self.cert)),
            "Key" => Some(Value::str(&self.key)),
            _ => None,
        }
    }
    fn format_v(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Certificate {
    fn into_value(self) -> Value {
        Value::Object(Rc::new(self))
    }
}

/// What a new certificate gets from its issuer.
struct Issuer<'a> {
    /// DER Name.
    subject: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
    /// DER SubjectPublicKeyInfo of the issuer certificate, checked against
    /// the signing key (Go: "provided PrivateKey doesn't match parent's
    /// PublicKey"); `None` for self-signed.
    spki: Option<Vec<u8>>,
    key: &'a PrivateKey,
}

struct CertTemplate {
    cn: String,
    ips: Vec<Vec<u8>>,
    dns: Vec<String>,
    days: i64,
    is_ca: bool,
}

/// Go's `net.ParseIP`: dotted IPv4 (no leading zeros) or IPv6.
fn parse_ip(s: &str) -> Option<Vec<u8>> {
    if let Ok(v4) = s.parse::<std::net::Ipv4Addr>() {
        return Some(v4.octets().to_vec());
    }
    if s.contains('%') {
        return None;
    }
    s.parse::<std::net::Ipv6Addr>()
        .ok()
        .map(|v6| match v6.to_ipv4_mapped() {
            // Go keeps IPv4-mapped IPv6 as 16 bytes, but To4() turns it into
            // 4 bytes when the SAN is written.
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        })
}

fn cert_template(
    cn: &str,
    ips: &[Value],
    dns: &[Value],
    days: i64,
) -> Result<CertTemplate, String> {
    let mut ip_bytes = Vec::new();
    for ip in ips {
        let Value::String(s) = ip else {
            return Err(format!(
                "error parsing ip: {} is not a string",
                crate::fmt::format_v(ip)
            ));
        };
        ip_bytes.push(parse_ip(s).ok_or_else(|| format!("error parsing ip: {s}"))?);
    }
    let mut names = Vec::new();
    for d in dns {
        let Value::String(s) = d else {
            return Err(format!(
                "error processing alternate dns name: {} is not a string",
                crate::fmt::format_v(d)
            ));
        };
        names.push(s.to_string());
    }
    Ok(CertTemplate {
        cn: cn.to_string(),
        ips: ip_bytes,
        dns: names,
        days,
        is_ca: false,
    })
}

fn name_der(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return der_seq(&[]);
    }
    let atv = der_seq(&[der_tlv(0x06, &[0x55, 0x04, 0x03]), der_string(cn)]);
    der_seq(&[der_tlv(0x31, &atv)])
}

/// The BIT STRING contents (without the unused-bits byte) of an SPKI.
fn spki_key_bits(spki: &[u8]) -> Option<Vec<u8>> {
    let info = rsa::pkcs8::spki::SubjectPublicKeyInfoRef::from_der(spki).ok()?;
    info.subject_public_key.as_bytes().map(<[u8]>::to_vec)
}

/// Go's `CreateCertificate` for Sprig's template; returns (cert PEM, key
/// PEM).
fn create_certificate(
    tmpl: &CertTemplate,
    subject_key: &PrivateKey,
    issuer: Option<&Issuer>,
) -> Result<(String, String), String> {
    let wrap = |e: String| format!("error creating certificate: {e}");
    let signing_key = issuer.map(|i| i.key).unwrap_or(subject_key);
    if matches!(signing_key, PrivateKey::Dsa(_)) {
        return Err(wrap(
            "x509: certificate private key does not implement crypto.Signer".into(),
        ));
    }
    let spki = subject_key.public_spki().map_err(wrap)?;
    let subject = name_der(&tmpl.cn);
    let issuer_name = issuer.map(|i| i.subject.clone()).unwrap_or(subject.clone());
    if let Some(parent_spki) = issuer.and_then(|i| i.spki.as_ref()) {
        if &signing_key.public_spki().map_err(wrap)? != parent_spki {
            return Err(wrap(
                "x509: provided PrivateKey doesn't match parent's PublicKey".into(),
            ));
        }
    }

    let mut serial = [0u8; 16];
    OsRng.fill_bytes(&mut serial);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    // Go: time.Hour * 24 * time.Duration(daysValid), wrapping int64.
    let valid_nanos = 86_400_000_000_000i64.wrapping_mul(tmpl.days);
    let not_after = now + valid_nanos.div_euclid(1_000_000_000);

    let mut exts = Vec::new();
    // Key usage: digitalSignature | keyEncipherment (| keyCertSign).
    let ku: &[u8] = if tmpl.is_ca {
        &[0x03, 0x02, 0x02, 0xa4]
    } else {
        &[0x03, 0x02, 0x05, 0xa0]
    };
    exts.push(extension(&[0x55, 0x1d, 0x0f], true, ku.to_vec()));
    // Extended key usage: serverAuth, clientAuth.
    exts.push(extension(
        &[0x55, 0x1d, 0x25],
        false,
        der_seq(&[
            der_tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01]),
            der_tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02]),
        ]),
    ));
    // Basic constraints (cA omitted when false, as DER's default).
    let bc = if tmpl.is_ca {
        der_seq(&[vec![0x01, 0x01, 0xff]])
    } else {
        der_seq(&[])
    };
    exts.push(extension(&[0x55, 0x1d, 0x13], true, bc));
    if tmpl.is_ca {
        // RFC 7093 method 1: leftmost 160 bits of SHA-256 of the key bits.
        let bits = spki_key_bits(&spki).unwrap_or_default();
        let skid = Sha256::digest(&bits)[..20].to_vec();
        exts.push(extension(&[0x55, 0x1d, 0x0e], false, der_tlv(0x04, &skid)));
    }
    if let Some(i) = issuer {
        if i.subject != subject {
            if let Some(akid) = &i.subject_key_id {
                exts.push(extension(
                    &[0x55, 0x1d, 0x23],
                    false,
                    der_seq(&[der_tlv(0x80, akid)]),
                ));
            }
        }
    }
    if !tmpl.dns.is_empty() || !tmpl.ips.is_empty() {
        let mut names: Vec<Vec<u8>> = tmpl
            .dns
            .iter()
            .map(|d| der_tlv(0x82, d.as_bytes()))
            .collect();
        names.extend(tmpl.ips.iter().map(|ip| der_tlv(0x87, ip)));
        let empty_subject = subject == der_seq(&[]);
        exts.push(extension(
            &[0x55, 0x1d, 0x11],
            empty_subject,
            der_seq(&names),
        ));
    }

    let sig_alg = signing_key.signature_algorithm();
    let tbs = der_seq(&[
        der_tlv(0xa0, &der_integer(&[2])),
        der_integer(&serial),
        sig_alg.clone(),
        issuer_name,
        der_seq(&[der_time(now), der_time(not_after)]),
        subject,
        spki,
        der_tlv(0xa3, &der_seq(&exts)),
    ]);
    let signature = signing_key.sign(&tbs).map_err(wrap)?;
    let mut bits = vec![0u8];
    bits.extend(signature);
    let cert = der_seq(&[tbs, sig_alg, der_tlv(0x03, &bits)]);
    let key_pem = subject_key
        .to_pem()
        .map_err(|e| format!("error pem-encoding key: {e}"))?;
    Ok((pem_encode("CERTIFICATE", &cert), key_pem))
}

/// The parts of a parsed PEM certificate a signed certificate needs.
struct ParsedCa {
    subject: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
    spki: Vec<u8>,
}

fn parse_certificate_der(der: &[u8]) -> Result<ParsedCa, String> {
    let cert = x509_cert::Certificate::from_der(der)
        .map_err(|e| format!("x509: malformed certificate: {e}"))?;
    let tbs = &cert.tbs_certificate;
    let subject = tbs.subject.to_der().map_err(|e| e.to_string())?;
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    let mut subject_key_id = None;
    for ext in tbs.extensions.iter().flatten() {
        if ext.extn_id.to_string() == "2.5.29.14" {
            if let Ok(id) = der::asn1::OctetString::from_der(ext.extn_value.as_bytes()) {
                subject_key_id = Some(id.as_bytes().to_vec());
            }
        }
    }
    Ok(ParsedCa {
        subject,
        subject_key_id,
        spki,
    })
}

fn generate_signed(
    tmpl: &CertTemplate,
    key: &PrivateKey,
    ca: &Certificate,
) -> Result<Certificate, String> {
    let (_, der) =
        pem_decode(ca.cert.as_bytes()).ok_or_else(|| "unable to decode certificate".to_string())?;
    let parsed = parse_certificate_der(&der)
        .map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))?;
    let signer =
        PrivateKey::from_pem(&ca.key).map_err(|e| format!("error parsing private key: {e}"))?;
    let issuer = Issuer {
        subject: parsed.subject,
        subject_key_id: parsed.subject_key_id,
        spki: Some(parsed.spki),
        key: &signer,
    };
    let (cert, key) = create_certificate(tmpl, key, Some(&issuer))?;
    Ok(Certificate { cert, key })
}

fn self_signed(tmpl: &CertTemplate, key: &PrivateKey) -> Result<Certificate, String> {
    let (cert, key) = create_certificate(tmpl, key, None)?;
    Ok(Certificate { cert, key })
}

fn key_from_pem_arg(text: &str) -> Result<PrivateKey, FuncError> {
    PrivateKey::from_pem(text).map_err(|e| FuncError::new(format!("parsing private key: {e}")))
}

fn done(r: Result<Certificate, String>) -> FuncResult {
    r.map(Certificate::into_value).map_err(FuncError)
}

fn ca_template(cn: &str, days: i64) -> CertTemplate {
    CertTemplate {
        cn: cn.to_string(),
        ips: Vec::new(),
        dns: Vec::new(),
        days,
        is_ca: true,
    }
}

fn gen_ca(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let tmpl = ca_template(str_arg(&args, 0)?, int_arg(&args, 1)?);
    let key = PrivateKey::rsa2048().map_err(FuncError)?;
    done(self_signed(&tmpl, &key))
}

fn gen_ca_with_key(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let tmpl = ca_template(str_arg(&args, 0)?, int_arg(&args, 1)?);
    let key = key_from_pem_arg(str_arg(&args, 2)?)?;
    done(self_signed(&tmpl, &key))
}

fn leaf_template(args: &[Value]) -> Result<CertTemplate, FuncError> {
    cert_template(
        str_arg(args, 0)?,
        &list_arg(args, 1)?,
        &list_arg(args, 2)?,
        int_arg(args, 3)?,
    )
    .map_err(FuncError)
}

fn gen_self_signed_cert(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let key = PrivateKey::rsa2048().map_err(FuncError)?;
    let tmpl = leaf_template(&args)?;
    done(self_signed(&tmpl, &key))
}

fn gen_self_signed_cert_with_key(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let key = key_from_pem_arg(str_arg(&args, 4)?)?;
    let tmpl = leaf_template(&args)?;
    done(self_signed(&tmpl, &key))
}

fn gen_signed_cert(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let ca = cert_arg(&args, 4)?;
    let key = PrivateKey::rsa2048().map_err(FuncError)?;
    let tmpl = leaf_template(&args)?;
    done(generate_signed(&tmpl, &key, &ca))
}

fn gen_signed_cert_with_key(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let ca = cert_arg(&args, 4)?;
    let key = key_from_pem_arg(str_arg(&args, 5)?)?;
    let tmpl = leaf_template(&args)?;
    done(generate_signed(&tmpl, &key, &ca))
}

fn build_custom_cert(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let b64cert = str_arg(&args, 0)?;
    let b64key = str_arg(&args, 1)?;
    let cert = go_base64_decode(b64cert.as_bytes())
        .map_err(|_| FuncError::new("unable to decode base64 certificate"))?;
    let key = go_base64_decode(b64key.as_bytes())
        .map_err(|_| FuncError::new("unable to decode base64 private key"))?;
    let (_, der) =
        pem_decode(&cert).ok_or_else(|| FuncError::new("unable to decode certificate"))?;
    parse_certificate_der(&der).map_err(|e| {
        FuncError::new(format!("error parsing certificate: decodedCert.Bytes: {e}"))
    })?;
    let key_text = String::from_utf8_lossy(&key).into_owned();
    PrivateKey::from_pem(&key_text)
        .map_err(|e| FuncError::new(format!("error parsing private key: {e}")))?;
    Ok(Certificate {
        cert: String::from_utf8_lossy(&cert).into_owned(),
        key: key_text,
    }
    .into_value())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::random::tests::TestCtx;
    use x509_parser::prelude::{FromDer, X509Certificate};

    fn text(r: FuncResult) -> String {
        crate::fmt::format_v(&r.expect("function succeeded"))
    }

    #[test]
    fn rsa_key_calls_are_counted_as_whole_names() {
        let t = "{{ $ca := genCA \"x\" 1 }}{{ genSignedCert \"a\" nil nil 1 $ca }}\
                 {{ genCAWithKey \"x\" 1 $k }}{{ genSelfSignedCert \"a\" nil nil 1 }}\
                 {{ genSelfSignedCertWithKey \"a\" nil nil 1 $k }} mygenCA genCA_x";
        assert_eq!(rsa2048_calls(t), 3);
        assert_eq!(rsa2048_calls("no keys here"), 0);
        assert_eq!(rsa2048_calls("genCA"), 1);
        assert_eq!(rsa2048_calls("{{genSignedCert}}{{genCA}}gen"), 2);
        assert_eq!(rsa2048_calls("generate genSigned genCAs _genCA"), 0);
    }

    #[test]
    fn keys_generated_ahead_are_handed_out_once_then_made_on_demand() {
        let ahead = RsaAhead {
            state: std::sync::Mutex::new(RsaAheadState {
                keys: Vec::new(),
                to_start: 2,
                running: 0,
                requested: 2,
                workers: 1,
            }),
            ready: std::sync::Condvar::new(),
        };
        std::thread::scope(|s| {
            s.spawn(|| ahead.generate_while_wanted());
            let a = ahead.take().expect("first key").expect("generated");
            let b = ahead.take().expect("second key").expect("generated");
            assert_ne!(a, b, "every key is a new one");
            assert!(ahead.take().is_none(), "no third key: made on demand");
        });
        assert_eq!(ahead.lock().workers, 0);
    }

    fn cert_of(v: &Value) -> Certificate {
        match v {
            Value::Object(o) => o
                .as_any()
                .downcast_ref::<Certificate>()
                .expect("a certificate")
                .clone(),
            other => panic!("not a certificate: {other:?}"),
        }
    }

    fn der_of(pem: &str) -> Vec<u8> {
        let (label, der) = pem_decode(pem.as_bytes()).expect("PEM");
        assert_eq!(label, "CERTIFICATE");
        der
    }

    #[test]
    fn hashes_match_go() {
        // Go: sha1sum "abc", adler32sum "Wikipedia" / "" (Sprig via Helm).
        let mut ctx = TestCtx::default();
        assert_eq!(
            text(sha1sum(&mut ctx, vec![Value::str("abc")])),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            text(adler32sum(&mut ctx, vec![Value::str("Wikipedia")])),
            "300286872"
        );
        assert_eq!(text(adler32sum(&mut ctx, vec![Value::str("")])), "1");
        assert_eq!(
            text(sha256sum(&mut ctx, vec![Value::str("")])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn derive_password_matches_sprig() {
        // Produced by Helm v4.3.1 (Sprig v3.3.0) `derivePassword`.
        let cases = [
            (1, "long", "pw", "user", "example.com", "DinaHinfJads4_"),
            (
                7,
                "maximum",
                "pässwörd",
                "ユーザー",
                "site",
                "zbee)NnsYswH0#ZhNZ0[",
            ),
            (0, "pin", "", "", "", "2847"),
            (4_294_967_295, "basic", "a", "b", "c", "WAc32ybk"),
            (3, "medium", "x", "y", "z", "GibWec1%"),
            (
                3,
                "nope",
                "x",
                "y",
                "z",
                "cannot find password template nope",
            ),
        ];
        for (counter, kind, pw, user, site, want) in cases {
            assert_eq!(master_password(counter, kind, pw, user, site), want);
        }
    }

    #[test]
    fn aes_interoperates_with_sprig() {
        // Ciphertext produced by Helm v4.3.1's `encryptAES "secretkey"
        // "hello world, this is berth"` (random IV inside).
        let go = "OQRwW6Na+o2W6TgcVNXVr/PgUig8dOev1ALph6ANOYWNwdtHzh7kRVxM3Vv0hA6u";
        assert_eq!(
            decrypt_aes_bytes("secretkey", go),
            Ok(b"hello world, this is berth".to_vec())
        );
        let mut ctx = TestCtx::default();
        let ours = text(encrypt_aes(
            &mut ctx,
            vec![Value::str("k"), Value::str("round trip ✓")],
        ));
        assert_eq!(
            text(decrypt_aes(
                &mut ctx,
                vec![Value::str("k"), Value::string(ours)]
            )),
            "round trip ✓"
        );
        // Go's panics and errors, as Helm reports them.
        let err = |s: &str| decrypt_aes_bytes("k", s).unwrap_err();
        assert_eq!(
            err("YWJj"),
            "runtime error: slice bounds out of range [:16] with capacity 3"
        );
        assert_eq!(
            err("AAAAAAAAAAAAAAAAAAAAAA=="),
            "runtime error: index out of range [-1]"
        );
        assert_eq!(
            err("AAAAAAAAAAAAAAAAAAAAAAA="),
            "crypto/cipher: input not full blocks"
        );
        assert_eq!(err("!!!!"), "illegal base64 data at input byte 0");
        assert_eq!(
            err("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="),
            "runtime error: slice bounds out of range [:-14]"
        );
    }

    #[test]
    fn bcrypt_and_htpasswd() {
        let mut ctx = TestCtx::default();
        let h = text(htpasswd(
            &mut ctx,
            vec![Value::str("admin"), Value::str("pw")],
        ));
        let hash = h.strip_prefix("admin:").expect("user prefix");
        assert!(hash.starts_with("$2a$10$") && hash.len() == 60, "{hash}");
        assert!(bcrypt::verify("pw", hash).expect("valid hash"));
        assert_eq!(
            text(bcrypt_fn(&mut ctx, vec![Value::string("a".repeat(73))])),
            "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
        );
        assert_eq!(
            text(htpasswd(&mut ctx, vec![Value::str("a:b"), Value::str("x")])),
            "invalid username: a:b"
        );
    }

    #[test]
    fn ca_and_signed_certificates_have_sprig_fields() {
        let mut ctx = TestCtx::default();
        let ca_v = gen_ca(&mut ctx, vec![Value::str("my-ca"), Value::Int(30)]).expect("genCA");
        let ca = cert_of(&ca_v);
        assert!(ca.key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        let ca_der = der_of(&ca.cert);
        let (_, parsed_ca) = X509Certificate::from_der(&ca_der).expect("CA parses");
        assert!(parsed_ca.is_ca());
        assert_eq!(parsed_ca.subject().to_string(), "CN=my-ca");
        assert_eq!(parsed_ca.issuer().to_string(), "CN=my-ca");
        let validity = parsed_ca.validity();
        let days = (validity.not_after.timestamp() - validity.not_before.timestamp()) / 86_400;
        assert_eq!(days, 30);
        let ku = parsed_ca.key_usage().expect("ku").expect("present");
        assert!(ku.critical && ku.value.key_cert_sign() && ku.value.digital_signature());
        assert!(parsed_ca.verify_signature(None).is_ok());

        let ec_key = text(gen_private_key(&mut ctx, vec![Value::str("ecdsa")]));
        assert!(ec_key.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        // Go's MarshalECPrivateKey output is 121 bytes: 227 PEM characters.
        assert_eq!(ec_key.len(), 227);
        let leaf_v = gen_signed_cert_with_key(
            &mut ctx,
            vec![
                Value::str("leaf.example"),
                Value::list(vec![Value::str("10.0.0.1"), Value::str("::1")]),
                Value::list(vec![Value::str("a.example"), Value::str("*.b.example")]),
                Value::Int(3),
                ca_v.clone(),
                Value::string(ec_key),
            ],
        )
        .expect("genSignedCertWithKey");
        let leaf = cert_of(&leaf_v);
        assert!(leaf.key.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        let leaf_der = der_of(&leaf.cert);
        let (_, parsed) = X509Certificate::from_der(&leaf_der).expect("leaf parses");
        assert!(!parsed.is_ca());
        assert_eq!(parsed.issuer().to_string(), "CN=my-ca");
        assert!(parsed
            .verify_signature(Some(parsed_ca.public_key()))
            .is_ok());
        let san = parsed
            .subject_alternative_name()
            .expect("san")
            .expect("present");
        let names: Vec<String> = san
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "DNSName(a.example)",
                "DNSName(*.b.example)",
                "IPAddress(0a:00:00:01)",
                "IPAddress(00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01)"
            ]
        );
        let eku = parsed.extended_key_usage().expect("eku").expect("present");
        assert!(eku.value.server_auth && eku.value.client_auth);
        let aki = parsed
            .get_extension_unique(&x509_parser::oid_registry::OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER)
            .expect("aki")
            .is_some();
        assert!(aki);

        // buildCustomCert round-trips Sprig's own output.
        let b64 = |s: &str| Value::string(base64::engine::general_purpose::STANDARD.encode(s));
        let rebuilt =
            build_custom_cert(&mut ctx, vec![b64(&ca.cert), b64(&ca.key)]).expect("built");
        assert_eq!(cert_of(&rebuilt).cert, ca.cert);

        // A key that does not match the CA certificate is refused, as Go.
        let other = text(gen_private_key(&mut ctx, vec![Value::str("ed25519")]));
        let bad_ca = Certificate {
            cert: ca.cert.clone(),
            key: other.clone(),
        }
        .into_value();
        let err = gen_signed_cert(
            &mut ctx,
            vec![
                Value::str("x"),
                Value::Nil,
                Value::Nil,
                Value::Int(1),
                bad_ca,
            ],
        )
        .unwrap_err();
        assert_eq!(
            err.0,
            "error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey"
        );
        // Ed25519 self-signed certificates are signed with Ed25519.
        let ed = gen_self_signed_cert_with_key(
            &mut ctx,
            vec![
                Value::str(""),
                Value::Nil,
                Value::list(vec![Value::str("x")]),
                Value::Int(1),
                Value::string(other),
            ],
        )
        .expect("ed25519 cert");
        let ed_der = der_of(&cert_of(&ed).cert);
        let (_, parsed_ed) = X509Certificate::from_der(&ed_der).expect("parses");
        assert!(parsed_ed.verify_signature(None).is_ok());
    }

    #[test]
    fn argument_errors_match_sprig() {
        let mut ctx = TestCtx::default();
        let err = |r: FuncResult| r.unwrap_err().0;
        assert_eq!(
            err(gen_self_signed_cert(
                &mut ctx,
                vec![
                    Value::str("x"),
                    Value::list(vec![Value::str("1.2.3")]),
                    Value::Nil,
                    Value::Int(1)
                ]
            )),
            "error parsing ip: 1.2.3"
        );
        assert_eq!(
            err(gen_self_signed_cert(
                &mut ctx,
                vec![
                    Value::str("x"),
                    Value::Nil,
                    Value::list(vec![Value::Int(1)]),
                    Value::Int(1)
                ]
            )),
            "error processing alternate dns name: 1 is not a string"
        );
        assert_eq!(
            err(gen_ca_with_key(
                &mut ctx,
                vec![Value::str("x"), Value::Int(1), Value::str("nope")]
            )),
            "parsing private key: no PEM data in input"
        );
        assert_eq!(
            text(gen_private_key(&mut ctx, vec![Value::str("foo")])),
            "Unknown type foo"
        );
        assert_eq!(
            err(build_custom_cert(
                &mut ctx,
                vec![Value::str("!"), Value::str("")]
            )),
            "unable to decode base64 certificate"
        );
    }
}
