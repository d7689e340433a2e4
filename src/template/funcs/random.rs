//! Template functions: random strings, integers, shuffling and UUIDs.
//!
//! Sprig draws the `rand*` strings from `crypto/rand` through goutils'
//! `CryptoRandom`, which rejects candidates from `' '..='z'` until it finds
//! one of the wanted class; the result is a uniform choice from the class's
//! ASCII characters, which is what we draw directly. `randInt` and `shuffle`
//! use `math/rand` in Go; any uniform source gives the same distribution.

use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use rand::Rng;

use crate::func::{Context, FuncError, FuncResult, Registry};
use crate::value::{GoType, Value};

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8] = b"0123456789";

/// The characters goutils accepts for each generator: `unicode.IsLetter` /
/// `unicode.IsDigit` over `' '..='z'`, or every printable ASCII character
/// (32..=126) for `randAscii`.
#[derive(Clone, Copy)]
enum Alphabet {
    AlphaNumeric,
    Alpha,
    Numeric,
    Ascii,
}

impl Alphabet {
    fn chars(self) -> Vec<u8> {
        match self {
            Alphabet::AlphaNumeric => [UPPER, LOWER, DIGITS].concat(),
            Alphabet::Alpha => [UPPER, LOWER].concat(),
            Alphabet::Numeric => DIGITS.to_vec(),
            Alphabet::Ascii => (32u8..=126).collect(),
        }
    }
}

/// Register this family's functions.
pub fn register(reg: &mut Registry) {
    // func(count int) string
    reg.add("randAlphaNum", &[GoType::Int], None, rand_alpha_num);
    reg.add("randAlpha", &[GoType::Int], None, rand_alpha);
    reg.add("randAscii", &[GoType::Int], None, rand_ascii);
    reg.add("randNumeric", &[GoType::Int], None, rand_numeric);
    // func(min, max int) int
    reg.add("randInt", &[GoType::Int, GoType::Int], None, rand_int);
    // xstrings.Shuffle: func(str string) string
    reg.add("shuffle", &[GoType::String], None, shuffle);
    // func() string
    reg.add("uuidv4", &[], None, uuidv4);
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

/// A random string of `count` characters from `alphabet`. goutils returns an
/// error for a negative count, which Sprig drops: the result is "".
fn random_string(ctx: &mut dyn Context, count: i64, alphabet: Alphabet) -> FuncResult {
    if count <= 0 {
        return Ok(Value::str(""));
    }
    ctx.charge(count as u64)?;
    let chars = alphabet.chars();
    let mut rng = OsRng;
    let out: String = (0..count)
        .map(|_| char::from(chars[rng.gen_range(0..chars.len())]))
        .collect();
    Ok(Value::string(out))
}

fn rand_alpha_num(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    random_string(ctx, int_arg(&args, 0)?, Alphabet::AlphaNumeric)
}

fn rand_alpha(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    random_string(ctx, int_arg(&args, 0)?, Alphabet::Alpha)
}

fn rand_ascii(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    random_string(ctx, int_arg(&args, 0)?, Alphabet::Ascii)
}

fn rand_numeric(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    random_string(ctx, int_arg(&args, 0)?, Alphabet::Numeric)
}

/// `rand.Intn(max-min) + min`: half-open `[min, max)`. Go's `Intn` panics
/// for a non-positive bound (the subtraction wraps like Go's int).
fn rand_int(_ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let min = int_arg(&args, 0)?;
    let max = int_arg(&args, 1)?;
    let span = max.wrapping_sub(min);
    if span <= 0 {
        return Err(FuncError::new("invalid argument to Intn"));
    }
    let n = rand::thread_rng().gen_range(0..span);
    Ok(Value::Int(n.wrapping_add(min)))
}

/// Shuffle the runes of a string (a uniform permutation, as xstrings'
/// Fisher–Yates).
fn shuffle(ctx: &mut dyn Context, args: Vec<Value>) -> FuncResult {
    let s = str_arg(&args, 0)?;
    ctx.charge(s.len() as u64)?;
    let mut runes: Vec<char> = s.chars().collect();
    runes.shuffle(&mut rand::thread_rng());
    Ok(Value::string(runes.into_iter().collect()))
}

/// A random (version 4, RFC 4122 variant) UUID in its canonical lowercase
/// form, as `github.com/google/uuid`'s `New().String()`.
pub(crate) fn new_uuid_v4() -> String {
    let mut b = [0u8; 16];
    OsRng.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn uuidv4(_ctx: &mut dyn Context, _args: Vec<Value>) -> FuncResult {
    Ok(Value::string(new_uuid_v4()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A context for calling functions directly: a small evaluation budget,
    /// no templates.
    pub(crate) struct TestCtx {
        pub budget: u64,
    }

    impl Default for TestCtx {
        fn default() -> Self {
            TestCtx { budget: 1_000_000 }
        }
    }

    impl Context for TestCtx {
        fn include(&mut self, name: &str, _data: Value) -> Result<String, FuncError> {
            Err(FuncError::new(format!("no template {name:?} in tests")))
        }
        fn tpl(&mut self, _text: &str, _data: Value) -> Result<String, FuncError> {
            Err(FuncError::new("no tpl in tests"))
        }
        fn charge(&mut self, units: u64) -> Result<(), FuncError> {
            if units > self.budget {
                return Err(FuncError::new("evaluation budget exceeded"));
            }
            self.budget -= units;
            Ok(())
        }
        fn lookup(&mut self, _: &str, _: &str, _: &str, _: &str) -> Result<Value, FuncError> {
            Ok(Value::empty_map())
        }
    }

    fn call(f: crate::func::FuncImpl, args: Vec<Value>) -> FuncResult {
        f(&mut TestCtx::default(), args)
    }

    fn string_of(r: FuncResult) -> String {
        match r {
            Ok(Value::String(s)) => s.to_string(),
            other => panic!("expected a string, got {other:?}"),
        }
    }

    #[test]
    fn random_strings_have_length_and_alphabet() {
        type Case = (crate::func::FuncImpl, fn(char) -> bool);
        let cases: [Case; 4] = [
            (rand_alpha_num, |c| c.is_ascii_alphanumeric()),
            (rand_alpha, |c| c.is_ascii_alphabetic()),
            (rand_numeric, |c| c.is_ascii_digit()),
            (rand_ascii, |c| (' '..='~').contains(&c)),
        ];
        for (f, ok) in cases {
            let s = string_of(call(f, vec![Value::Int(500)]));
            assert_eq!(s.chars().count(), 500);
            assert!(s.chars().all(ok), "{s}");
            assert_eq!(string_of(call(f, vec![Value::Int(0)])), "");
            // goutils' error for a negative count is dropped by Sprig.
            assert_eq!(string_of(call(f, vec![Value::Int(-3)])), "");
        }
    }

    #[test]
    fn random_strings_cover_their_alphabet() {
        let s = string_of(call(rand_ascii, vec![Value::Int(20_000)]));
        for c in ' '..='~' {
            assert!(s.contains(c), "missing {c:?}");
        }
    }

    #[test]
    fn huge_counts_are_charged_first() {
        let mut ctx = TestCtx { budget: 100 };
        let err = rand_alpha(&mut ctx, vec![Value::Int(1_000_000_000)]);
        assert!(err.is_err());
    }

    #[test]
    fn rand_int_is_half_open() {
        for _ in 0..200 {
            match call(rand_int, vec![Value::Int(-2), Value::Int(3)]) {
                Ok(Value::Int(n)) => assert!((-2..3).contains(&n)),
                other => panic!("{other:?}"),
            }
        }
        match call(rand_int, vec![Value::Int(7), Value::Int(8)]) {
            Ok(Value::Int(7)) => {}
            other => panic!("{other:?}"),
        }
        // Go: rand.Intn panics with this message for n <= 0.
        assert_eq!(
            call(rand_int, vec![Value::Int(5), Value::Int(5)]).unwrap_err(),
            FuncError::new("invalid argument to Intn")
        );
        assert!(call(rand_int, vec![Value::Int(i64::MIN), Value::Int(i64::MAX)]).is_err());
    }

    #[test]
    fn shuffle_permutes_runes() {
        let s = string_of(call(shuffle, vec![Value::str("héllo wörld ✓")]));
        let mut a: Vec<char> = s.chars().collect();
        let mut b: Vec<char> = "héllo wörld ✓".chars().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_eq!(string_of(call(shuffle, vec![Value::str("")])), "");
    }

    #[test]
    fn uuids_are_version_4() {
        let u = string_of(call(uuidv4, vec![]));
        assert_eq!(u.len(), 36);
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
        assert!(u
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(u, string_of(call(uuidv4, vec![])));
    }
}
