//! RSA key generation for the key-making template functions (`genCA`,
//! `genSelfSignedCert`, `genSignedCert`, `genPrivateKey "rsa"`).
//!
//! Written by hand because AWS-LC's generator spends a third of its time
//! outside the exponentiations that find primes: every candidate is a
//! fresh random number, trial-divided in constant time by only ~500 small
//! primes, then gcd(p-1, e) is computed, before Miller-Rabin. Here a prime
//! is looked for in a window of consecutive odd numbers after one random
//! start: the start's residues modulo tens of thousands of small primes
//! are computed once, a sieve strikes out every candidate of the window
//! with a small factor (or ≡ 1 mod e, so that gcd(p-1, e) = 1) in one
//! pass, and only the survivors get an exponentiation (a base-2 Fermat
//! test): ~32 per 1024-bit prime instead of ~49. The first survivor that
//! passes is confirmed by Miller-Rabin with random bases, as many rounds
//! as FIPS 186-4 asks for at its size (5 for a 1024-bit prime). The
//! big-number arithmetic stays in AWS-LC, through `aws-lc-sys`: its
//! constant-time exponentiation for every test.
//!
//! Three departures from AWS-LC's generator, all acceptable here:
//! - The sieve and the walk through the window take variable time and
//!   touch memory at places that depend on the secret start, where AWS-LC
//!   trial-divides in constant time. Berth makes keys in a one-shot
//!   renderer or a controller, where no one who could time the generation
//!   or watch the cache can ask for keys; the exponentiations on the
//!   candidate that becomes the prime are AWS-LC's constant-time ones.
//! - A search through consecutive numbers picks a prime with probability
//!   proportional to the gap before it, not uniformly; the entropy lost is
//!   small (Brandt and Damgård, Crypto '92), and Go's `crypto/rand.Prime`
//!   and OpenSSL's `BN_generate_prime_ex` long searched the same way.
//!   FIPS 186-4 B.3.3 draws every candidate afresh, so these keys are not
//!   FIPS-conformant (nothing in a chart asks for that).
//! - The confirmation runs FIPS 186-4's number of Miller-Rabin rounds, not
//!   AWS-LC's `BN_primality_test`, which runs at least 16 to hide whether
//!   a candidate is prime (it was half of a key's time; the candidates
//!   here have passed a Fermat test, nearly all are prime). Its squarings
//!   stop at the first -1, which tells the power of two dividing p - 1.

use std::os::raw::c_int;
use std::ptr::{self, NonNull};
use std::sync::OnceLock;

use aws_lc_sys as lc;
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

/// The public exponent, F4, as Go and AWS-LC use.
const PUBLIC_EXPONENT: u32 = 65537;

/// The sieve divides primes of up to 1024 bits (2048-bit keys) by the odd
/// primes below this, 23,000 of them. A larger table leaves fewer
/// survivors (as 1/ln(limit)) but costs more per window in residues; Fermat
/// tests plus residues per 2048-bit key came to 24.1 ms with 2^16, 22.0
/// with 2^18, 21.7 with 2^20 (but 2.5 ms more to build the table) and 29.4
/// with 2^22.
const SIEVE_LIMIT_1024: u32 = 1 << 18;

/// The same for larger primes, whose tests cost 7 times as much: per
/// 4096-bit key 308 ms with 2^18, 280 with 2^20, 270 with 2^22 (but 15 ms
/// to build the table).
const SIEVE_LIMIT_LARGER: u32 = 1 << 20;

/// Odd candidates per window, per bit of the prime: 4,096 for a 1024-bit
/// prime, among which one is prime with probability 1 - e^-11.5; 8,192 for
/// a 2048-bit one (the same). Striking out a window costs microseconds;
/// a window without a prime costs its survivors' tests and a new start.
const WINDOW_PER_PRIME_BIT: usize = 4;

/// Windows tried for one prime before giving up (a prime is found in the
/// first with near certainty; the limit only bounds a broken generator).
const MAX_WINDOWS: usize = 64;

/// The largest window accepted (its offsets, doubled, fit a `u32`).
const MAX_WINDOW: usize = 1 << 24;

/// Why a key could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeygenError {
    /// Only modulus sizes that are multiples of 128 bits, from 1024 up.
    #[error("failed to generate an rsa key of {0} bits: unsupported size")]
    UnsupportedSize(usize),
    #[error("failed to read random bytes for an rsa prime")]
    Random(#[source] rand::Error),
    /// An AWS-LC call failed (allocation, mostly); names the step.
    #[error("failed to {0} (aws-lc)")]
    BigNum(&'static str),
    #[error("failed to find a {0}-bit prime in {1} windows")]
    NoPrime(usize, usize),
    /// A window of more odd candidates than [`MAX_WINDOW`].
    #[error("failed to search for a prime: window of {0} candidates too large")]
    WindowTooLarge(usize),
    #[error("failed to build the rsa key from its primes")]
    BuildKey(#[source] rsa::Error),
}

/// A new RSA key of `bits` bits (n has exactly that many), e = 65537.
pub(crate) fn generate_rsa_key(bits: usize) -> Result<rsa::RsaPrivateKey, KeygenError> {
    static UP_TO_1024: OnceLock<SmallPrimes> = OnceLock::new();
    static LARGER: OnceLock<SmallPrimes> = OnceLock::new();
    let table = if bits / 2 <= 1024 {
        UP_TO_1024.get_or_init(|| SmallPrimes::below(SIEVE_LIMIT_1024))
    } else {
        LARGER.get_or_init(|| SmallPrimes::below(SIEVE_LIMIT_LARGER))
    };
    generate_rsa_key_with(bits, table, WINDOW_PER_PRIME_BIT * bits / 2)
}

/// [`generate_rsa_key`] with a given sieve table and window (odd
/// candidates per window); for measuring other sizes.
pub(crate) fn generate_rsa_key_with(
    bits: usize,
    table: &SmallPrimes,
    window: usize,
) -> Result<rsa::RsaPrivateKey, KeygenError> {
    if bits < 1024 || !bits.is_multiple_of(128) {
        return Err(KeygenError::UnsupportedSize(bits));
    }
    if window > MAX_WINDOW {
        return Err(KeygenError::WindowTooLarge(window));
    }
    let prime_bits = bits / 2;
    let mut ctx = BnCtx::new()?;
    let p = generate_prime(prime_bits, table, window, None, &mut ctx)?;
    let q = generate_prime(prime_bits, table, window, Some(&p), &mut ctx)?;

    let prime_bytes = prime_bits / 8;
    let p = rsa::BigUint::from_bytes_be(&p.to_be_bytes(prime_bytes)?);
    let q = rsa::BigUint::from_bytes_be(&q.to_be_bytes(prime_bytes)?);
    // `from_p_q` computes d = e^-1 mod lcm(p-1, q-1); it precomputes the
    // CRT values but drops a failure to, which `precompute()` reports.
    // `validate()` is cheap next to the search (microseconds).
    let mut key = rsa::RsaPrivateKey::from_p_q(p, q, rsa::BigUint::from(PUBLIC_EXPONENT))
        .map_err(KeygenError::BuildKey)?;
    key.precompute().map_err(KeygenError::BuildKey)?;
    key.validate().map_err(KeygenError::BuildKey)?;
    Ok(key)
}

/// A random probable prime of exactly `prime_bits` bits (the top two set,
/// so that the product of two has exactly twice as many, as Go makes
/// them), p ≢ 1 mod e. With `other`, one farther than 2^(prime_bits-100)
/// from it (FIPS 186-4 B.3.3 step 5.4).
fn generate_prime(
    prime_bits: usize,
    table: &SmallPrimes,
    window: usize,
    other: Option<&Bn>,
    ctx: &mut BnCtx,
) -> Result<Bn, KeygenError> {
    let mut scratch = Scratch::new()?;
    for _ in 0..MAX_WINDOWS {
        let start = random_start(prime_bits)?;
        let Some(prime) = search_window(table, &start, window, &mut scratch, ctx)? else {
            continue;
        };
        // A window that runs past 2^prime_bits (a start within 2·window of
        // it) could yield a prime one bit too long.
        if prime.num_bits() as usize != prime_bits {
            continue;
        }
        if let Some(other) = other {
            if too_close(&prime, other, prime_bits, &mut scratch)? {
                continue;
            }
        }
        return Ok(prime);
    }
    Err(KeygenError::NoPrime(prime_bits, MAX_WINDOWS))
}

/// A random odd number of `prime_bits` bits with the top two set,
/// big-endian.
fn random_start(prime_bits: usize) -> Result<Zeroizing<Vec<u8>>, KeygenError> {
    let mut start = Zeroizing::new(vec![0u8; prime_bits / 8]);
    OsRng
        .try_fill_bytes(&mut start)
        .map_err(KeygenError::Random)?;
    start[0] |= 0b1100_0000;
    let last = start.len() - 1;
    start[last] |= 1;
    Ok(start)
}

/// Whether |p - q| ≤ 2^(prime_bits - 100) (also rejecting the few values
/// just above, up to 2^(prime_bits - 99)).
fn too_close(
    p: &Bn,
    q: &Bn,
    prime_bits: usize,
    scratch: &mut Scratch,
) -> Result<bool, KeygenError> {
    // SAFETY: all three are valid BIGNUMs; BN_sub allows any sign.
    let ok = unsafe { lc::BN_sub(scratch.power.as_mut_ptr(), p.as_ptr(), q.as_ptr()) };
    check(ok, "subtract two primes")?;
    Ok(scratch.power.num_bits() as usize <= prime_bits - 99)
}

/// The first odd number of `start, start + 2, …, start + 2·(window-1)`
/// (`start` odd, big-endian, a multiple of 8 bytes long) that the sieve
/// keeps, passes a base-2 Fermat test and then AWS-LC's Miller-Rabin test;
/// `None` if the window has none. `window` ≤ [`MAX_WINDOW`].
fn search_window(
    table: &SmallPrimes,
    start: &[u8],
    window: usize,
    scratch: &mut Scratch,
    ctx: &mut BnCtx,
) -> Result<Option<Bn>, KeygenError> {
    let residues = table.residues(start);
    let struck = table.sieve(&residues, residue(start, PUBLIC_EXPONENT), window);
    let start = Bn::from_be_bytes(start)?;
    let mut candidate = Bn::new()?;
    for offset in 0..window {
        if struck[offset / 64] & (1 << (offset % 64)) != 0 {
            continue;
        }
        // Below 2^25: `window` ≤ MAX_WINDOW.
        candidate.set_to_sum(&start, (2 * offset) as u32)?;
        if passes_fermat_base_2(&candidate, scratch, ctx)?
            && passes_miller_rabin(&candidate, scratch, ctx)?
        {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// 2^(n-1) ≡ 1 (mod n), with AWS-LC's constant-time exponentiation: the
/// one test most survivors of the sieve (composites) fail.
fn passes_fermat_base_2(
    n: &Bn,
    scratch: &mut Scratch,
    ctx: &mut BnCtx,
) -> Result<bool, KeygenError> {
    let mont = MontCtx::new_consttime(n, ctx)?;
    scratch.exponent.set_to_difference(n, 1)?;
    // SAFETY: every pointer is a valid BIGNUM/BN_CTX/BN_MONT_CTX that
    // outlives the call; the result does not alias the inputs; `mont` was
    // made for `n`; the base 2 is below n (n has ≥ 512 bits).
    let ok = unsafe {
        lc::BN_mod_exp_mont_consttime(
            scratch.power.as_mut_ptr(),
            scratch.two.as_ptr(),
            scratch.exponent.as_ptr(),
            n.as_ptr(),
            ctx.as_mut_ptr(),
            mont.as_ptr(),
        )
    };
    check(ok, "compute a Fermat test")?;
    Ok(scratch.power.is_one())
}

/// A uniformly random base in [2, n - 2] (`n_minus_1` is n - 1), drawn
/// from the operating system like the primes' starts. Not AWS-LC's
/// `BN_rand_range_ex`: its generator seeds itself per thread from CPU
/// jitter, tens of milliseconds for each thread that makes keys.
fn random_base(base: &mut Bn, n: &Bn, n_minus_1: &Bn) -> Result<(), KeygenError> {
    let len = (n.num_bits() as usize).div_ceil(8);
    let top_bits = n.num_bits() as usize - 8 * (len - 1);
    let mut bytes = Zeroizing::new(vec![0u8; len]);
    loop {
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(KeygenError::Random)?;
        // As many bits as n has: below n - 3 three times in four at
        // least (n's top two bits are set).
        if top_bits < 8 {
            bytes[0] &= (1u8 << top_bits) - 1;
        }
        let r = Bn::from_be_bytes(&bytes)?;
        base.set_to_sum(&r, 2)?;
        // r + 2 ≤ n - 2 ⇔ r + 2 < n - 1.
        if base.compare(n_minus_1).is_lt() {
            return Ok(());
        }
    }
}

/// Miller-Rabin rounds for a candidate of `bits` bits: FIPS 186-4's
/// count for an error probability below 2^-125 (appendix F.1), the table
/// AWS-LC's key generation uses (5 for 1024-bit primes, 4 for 2048-bit).
fn miller_rabin_rounds(bits: u32) -> usize {
    match bits {
        3747.. => 3,
        1345.. => 4,
        _ => 5,
    }
}

/// Miller-Rabin with random bases, [`miller_rabin_rounds`] of them: the
/// confirmation of a candidate that passed the Fermat test (see the module
/// doc for why not `BN_primality_test`). The exponentiations are AWS-LC's
/// constant-time ones; the squarings after each stop at the first -1.
fn passes_miller_rabin(
    n: &Bn,
    scratch: &mut Scratch,
    ctx: &mut BnCtx,
) -> Result<bool, KeygenError> {
    let mont = MontCtx::new_consttime(n, ctx)?;
    // n - 1 = 2^s · d with d odd (n is odd and above 3).
    scratch.exponent.set_to_difference(n, 1)?;
    let n_minus_1 = &scratch.exponent;
    let mut s = 1;
    // SAFETY: `n_minus_1` is a valid BIGNUM; reading a bit is side-effect free.
    while unsafe { lc::BN_is_bit_set(n_minus_1.as_ptr(), s) } == 0 {
        s += 1;
    }
    let mut d = Bn::new()?;
    // SAFETY: valid BIGNUMs, `d` distinct from the input.
    check(
        unsafe { lc::BN_rshift(d.as_mut_ptr(), n_minus_1.as_ptr(), s) },
        "split n - 1",
    )?;
    let mut base = Bn::new()?;
    let mut z = Bn::new()?;
    let mut squared = Bn::new()?;
    'rounds: for _ in 0..miller_rabin_rounds(n.num_bits()) {
        random_base(&mut base, n, n_minus_1)?;
        // SAFETY: valid BIGNUM/BN_CTX/BN_MONT_CTX pointers outliving the
        // call; the output does not alias the inputs; `mont` was made for
        // `n`; the base is below n.
        check(
            unsafe {
                lc::BN_mod_exp_mont_consttime(
                    z.as_mut_ptr(),
                    base.as_ptr(),
                    d.as_ptr(),
                    n.as_ptr(),
                    ctx.as_mut_ptr(),
                    mont.as_ptr(),
                )
            },
            "compute a Miller-Rabin round",
        )?;
        if z.is_one() || z.compare(n_minus_1).is_eq() {
            continue;
        }
        for _ in 1..s {
            // SAFETY: valid BIGNUMs and context; the output is distinct
            // from the inputs.
            check(
                unsafe {
                    lc::BN_mod_sqr(
                        squared.as_mut_ptr(),
                        z.as_ptr(),
                        n.as_ptr(),
                        ctx.as_mut_ptr(),
                    )
                },
                "square in a Miller-Rabin round",
            )?;
            std::mem::swap(&mut z, &mut squared);
            if z.compare(n_minus_1).is_eq() {
                continue 'rounds;
            }
            if z.is_one() {
                return Ok(false);
            }
        }
        return Ok(false);
    }
    Ok(true)
}

// ---------------------------------------------------------------------------
// The sieve.

/// The odd primes below a limit, with what the sieve needs to reduce a
/// big number modulo each of them quickly.
pub(crate) struct SmallPrimes {
    /// 3, 5, 7, … ascending.
    primes: Vec<u32>,
    /// ⌊2^64 / p⌋ for each prime, for [`reduce`].
    prime_reciprocals: Vec<u64>,
    /// The primes in runs of consecutive ones, by product.
    groups: Vec<PrimeGroup>,
}

/// A run of consecutive primes whose product m is below 2^62: a big
/// number is reduced modulo m one 64-bit limb at a time (Montgomery
/// reduction, R = 2^64), then modulo each of the run's primes, so that
/// each limb costs two multiplications per two or three primes.
struct PrimeGroup {
    product: u64,
    /// -m^-1 mod R.
    neg_inverse: u64,
    /// R^2 mod m.
    r_squared: u64,
    /// Index in `primes` one past the run's last prime.
    end: usize,
}

impl PrimeGroup {
    fn new(product: u64, end: usize) -> PrimeGroup {
        // Newton's iteration doubles the correct low bits of an inverse of
        // an odd number, starting from 3 (m·m ≡ 1 mod 8).
        let mut inverse = product;
        for _ in 0..5 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(product.wrapping_mul(inverse)));
        }
        let r_mod = u128::from(u64::MAX % product + 1);
        PrimeGroup {
            product,
            neg_inverse: inverse.wrapping_neg(),
            r_squared: (r_mod * r_mod % u128::from(product)) as u64,
            end,
        }
    }

    /// t·R^-1 mod m, for t < m·R or t < m + R.
    fn redc(&self, t: u128) -> u64 {
        let u = (t as u64).wrapping_mul(self.neg_inverse);
        // t + u·m < 2·m·R ≤ 2^127: no overflow; the quotient is below 2m.
        let q = ((t + u128::from(u) * u128::from(self.product)) >> 64) as u64;
        if q >= self.product {
            q - self.product
        } else {
            q
        }
    }

    /// a·b·R^-1 mod m, for a, b < m.
    fn mont_mul(&self, a: u64, b: u64) -> u64 {
        self.redc(u128::from(a) * u128::from(b))
    }

    /// R^(n+1) mod m: with E(k) = R^(k+1), E(a)·E(b)·R^-1 = E(a+b), so
    /// E(n) comes from E(1) = R^2 by double-and-add.
    fn r_power_plus_one(&self, n: usize) -> u64 {
        let mut e = self.r_squared;
        for bit in (0..usize::BITS - 1 - n.leading_zeros()).rev() {
            e = self.mont_mul(e, e);
            if n >> bit & 1 == 1 {
                e = self.mont_mul(e, self.r_squared);
            }
        }
        e
    }
}

impl SmallPrimes {
    /// The odd primes below `limit`.
    pub(crate) fn below(limit: u32) -> SmallPrimes {
        // Sieve of Eratosthenes over the odd numbers: index i is 2i + 1.
        let half = limit as usize / 2;
        let mut composite = vec![false; half];
        let mut primes = Vec::new();
        for i in 1..half {
            if composite[i] {
                continue;
            }
            let p = 2 * i + 1;
            primes.push(p as u32);
            let Some(square) = p.checked_mul(p) else {
                continue;
            };
            for j in (square / 2..half).step_by(p) {
                composite[j] = true;
            }
        }
        // p is odd, so ⌊(2^64 - 1) / p⌋ = ⌊2^64 / p⌋.
        let prime_reciprocals = primes.iter().map(|&p| u64::MAX / u64::from(p)).collect();
        let mut groups = Vec::new();
        let mut product = 1u64;
        for (i, &p) in primes.iter().enumerate() {
            match product.checked_mul(u64::from(p)) {
                Some(next) if next < 1 << 62 => product = next,
                _ => {
                    groups.push(PrimeGroup::new(product, i));
                    product = u64::from(p);
                }
            }
        }
        if product > 1 {
            groups.push(PrimeGroup::new(product, primes.len()));
        }
        SmallPrimes {
            primes,
            prime_reciprocals,
            groups,
        }
    }

    /// `start` (big-endian, a multiple of 8 bytes long) modulo each prime.
    fn residues(&self, start: &[u8]) -> Zeroizing<Vec<u32>> {
        debug_assert!(!start.is_empty() && start.len().is_multiple_of(8));
        let limbs = Zeroizing::new(
            start
                .rchunks_exact(8)
                .map(|limb| {
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(limb);
                    u64::from_be_bytes(bytes)
                })
                .collect::<Vec<u64>>(),
        );
        let mut residues = Zeroizing::new(Vec::with_capacity(self.primes.len()));
        let mut first = 0;
        // With limbs l_0 (least significant) … l_(n-1) and
        // acc ← (acc + l_i)·R^-1 for each, acc ends as start·R^-n mod m.
        // Eight groups at a time: independent multiplications the CPU
        // overlaps, on data that stays in cache.
        let mut by_group = Zeroizing::new([0u64; 8]);
        for groups in self.groups.chunks(8) {
            by_group.fill(0);
            for &limb in limbs.iter() {
                for (acc, group) in by_group.iter_mut().zip(groups) {
                    *acc = group.redc(u128::from(*acc) + u128::from(limb));
                }
            }
            for (&acc, group) in by_group.iter().zip(groups) {
                let r = group.mont_mul(acc, group.r_power_plus_one(limbs.len()));
                for i in first..group.end {
                    residues.push(
                        reduce(r, u64::from(self.primes[i]), self.prime_reciprocals[i]) as u32,
                    );
                }
                first = group.end;
            }
        }
        residues
    }

    /// The offsets k in `0..window` whose candidate start + 2k is divisible
    /// by one of the primes or ≡ 1 mod e, as a bit set, given the start's
    /// `residues` (from [`SmallPrimes::residues`]) and its residue mod e.
    fn sieve(&self, residues: &[u32], residue_e: u32, window: usize) -> Zeroizing<Vec<u64>> {
        let mut struck = Zeroizing::new(vec![0u64; window.div_ceil(64)]);
        let mut strike_every = |first: u32, step: u32| {
            let mut k = first as usize;
            while k < window {
                struck[k / 64] |= 1 << (k % 64);
                k += step as usize;
            }
        };
        for (&p, &r) in self.primes.iter().zip(residues) {
            // start + 2k ≡ 0 (mod p)  ⇔  2k ≡ -r.
            strike_every(half_mod(if r == 0 { 0 } else { p - r }, p), p);
        }
        // start + 2k ≡ 1 (mod e)  ⇔  2k ≡ 1 - r.
        let e = PUBLIC_EXPONENT;
        strike_every(half_mod((1 + e - residue_e) % e, e), e);
        struck
    }
}

/// The k in 0..p with 2k ≡ t (mod p), for odd p and t < p.
fn half_mod(t: u32, p: u32) -> u32 {
    if t.is_multiple_of(2) {
        t / 2
    } else {
        ((u64::from(t) + u64::from(p)) / 2) as u32
    }
}

/// `start` (big-endian, a multiple of 4 bytes long) modulo one m < 2^32.
fn residue(start: &[u8], m: u32) -> u32 {
    let m = u64::from(m);
    let r = start.chunks_exact(4).fold(0, |r, digit| {
        let digit = u64::from(u32::from_be_bytes([digit[0], digit[1], digit[2], digit[3]]));
        ((r << 32) | digit) % m
    });
    r as u32
}

/// x mod m (Barrett reduction), with `m_reciprocal` = ⌊2^64 / m⌋: the
/// estimated quotient ⌊x·⌊2^64/m⌋ / 2^64⌋ is the true one or one less, so
/// one conditional subtraction finishes.
fn reduce(x: u64, m: u64, m_reciprocal: u64) -> u64 {
    let q = ((u128::from(x) * u128::from(m_reciprocal)) >> 64) as u64;
    let r = x - q * m;
    if r >= m {
        r - m
    } else {
        r
    }
}

// ---------------------------------------------------------------------------
// AWS-LC, through owned handles.

fn check(ok: c_int, step: &'static str) -> Result<(), KeygenError> {
    if ok == 1 {
        Ok(())
    } else {
        Err(KeygenError::BigNum(step))
    }
}

/// An object AWS-LC made, or the step that failed when it returned NULL.
fn non_null<T>(p: *mut T, step: &'static str) -> Result<NonNull<T>, KeygenError> {
    NonNull::new(p).ok_or(KeygenError::BigNum(step))
}

/// An owned AWS-LC `BIGNUM` (freed, and zeroed by AWS-LC's allocator, on
/// drop).
struct Bn(NonNull<lc::BIGNUM>);

impl Bn {
    fn new() -> Result<Bn, KeygenError> {
        // SAFETY: BN_new has no preconditions; NULL means out of memory.
        let bn = unsafe { lc::BN_new() };
        non_null(bn, "allocate a big number").map(Bn)
    }

    fn from_be_bytes(bytes: &[u8]) -> Result<Bn, KeygenError> {
        // SAFETY: `bytes` is valid for `bytes.len()` bytes; a NULL `ret`
        // asks for a fresh BIGNUM, NULL back means out of memory.
        let bn = unsafe { lc::BN_bin2bn(bytes.as_ptr(), bytes.len(), ptr::null_mut()) };
        non_null(bn, "read a big number").map(Bn)
    }

    fn from_word(word: u32) -> Result<Bn, KeygenError> {
        let mut bn = Bn::new()?;
        // SAFETY: `bn` is a valid BIGNUM.
        let ok = unsafe { lc::BN_set_word(bn.as_mut_ptr(), lc::BN_ULONG::from(word)) };
        check(ok, "set a big number")?;
        Ok(bn)
    }

    fn as_ptr(&self) -> *const lc::BIGNUM {
        self.0.as_ptr()
    }

    fn as_mut_ptr(&mut self) -> *mut lc::BIGNUM {
        self.0.as_ptr()
    }

    fn num_bits(&self) -> u32 {
        // SAFETY: `self` is a valid BIGNUM.
        unsafe { lc::BN_num_bits(self.as_ptr()) }
    }

    fn is_one(&self) -> bool {
        // SAFETY: `self` is a valid BIGNUM.
        unsafe { lc::BN_is_one(self.as_ptr()) == 1 }
    }

    /// self = a.
    fn set_to(&mut self, a: &Bn) -> Result<(), KeygenError> {
        // SAFETY: both are valid BIGNUMs and distinct (`&mut self` and `&a`
        // cannot alias).
        let copied = unsafe { lc::BN_copy(self.as_mut_ptr(), a.as_ptr()) };
        if copied.is_null() {
            return Err(KeygenError::BigNum("copy a big number"));
        }
        Ok(())
    }

    /// self = a + word.
    fn set_to_sum(&mut self, a: &Bn, word: u32) -> Result<(), KeygenError> {
        self.set_to(a)?;
        // SAFETY: `self` is a valid BIGNUM.
        let ok = unsafe { lc::BN_add_word(self.as_mut_ptr(), lc::BN_ULONG::from(word)) };
        check(ok, "add to a big number")
    }

    /// self = a - word.
    fn set_to_difference(&mut self, a: &Bn, word: u32) -> Result<(), KeygenError> {
        self.set_to(a)?;
        // SAFETY: `self` is a valid BIGNUM.
        let ok = unsafe { lc::BN_sub_word(self.as_mut_ptr(), lc::BN_ULONG::from(word)) };
        check(ok, "subtract from a big number")
    }

    /// Whether self < other, = other or > other.
    fn compare(&self, other: &Bn) -> std::cmp::Ordering {
        // SAFETY: a comparison of two valid BIGNUMs.
        unsafe { lc::BN_cmp(self.as_ptr(), other.as_ptr()) }.cmp(&0)
    }

    /// Big-endian, left-padded with zeros to `len` bytes.
    fn to_be_bytes(&self, len: usize) -> Result<Zeroizing<Vec<u8>>, KeygenError> {
        let mut out = Zeroizing::new(vec![0u8; len]);
        // SAFETY: `out` is valid for `len` bytes; `self` is a valid BIGNUM.
        let ok = unsafe { lc::BN_bn2bin_padded(out.as_mut_ptr(), len, self.as_ptr()) };
        check(ok, "write a big number")?;
        Ok(out)
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: the pointer came from BN_new/BN_bin2bn, is owned by `self`
        // alone and is freed once.
        unsafe { lc::BN_free(self.0.as_ptr()) }
    }
}

/// An owned AWS-LC `BN_CTX` (scratch space for the arithmetic).
struct BnCtx(NonNull<lc::BN_CTX>);

impl BnCtx {
    fn new() -> Result<BnCtx, KeygenError> {
        // SAFETY: BN_CTX_new has no preconditions; NULL means out of memory.
        let ctx = unsafe { lc::BN_CTX_new() };
        non_null(ctx, "allocate a BN_CTX").map(BnCtx)
    }

    fn as_mut_ptr(&mut self) -> *mut lc::BN_CTX {
        self.0.as_ptr()
    }
}

impl Drop for BnCtx {
    fn drop(&mut self) {
        // SAFETY: owned by `self` alone, freed once.
        unsafe { lc::BN_CTX_free(self.0.as_ptr()) }
    }
}

/// An owned AWS-LC `BN_MONT_CTX` for one odd modulus.
struct MontCtx(NonNull<lc::BN_MONT_CTX>);

impl MontCtx {
    /// Treating the modulus as secret (it may be the prime).
    fn new_consttime(modulus: &Bn, ctx: &mut BnCtx) -> Result<MontCtx, KeygenError> {
        // SAFETY: both are valid; the context keeps no pointer to `modulus`
        // (it copies it); NULL means failure.
        let mont = unsafe { lc::BN_MONT_CTX_new_consttime(modulus.as_ptr(), ctx.as_mut_ptr()) };
        non_null(mont, "set up Montgomery arithmetic").map(MontCtx)
    }

    fn as_ptr(&self) -> *const lc::BN_MONT_CTX {
        self.0.as_ptr()
    }
}

impl Drop for MontCtx {
    fn drop(&mut self) {
        // SAFETY: owned by `self` alone, freed once.
        unsafe { lc::BN_MONT_CTX_free(self.0.as_ptr()) }
    }
}

/// Numbers reused across candidates.
struct Scratch {
    two: Bn,
    exponent: Bn,
    power: Bn,
}

impl Scratch {
    fn new() -> Result<Scratch, KeygenError> {
        Ok(Scratch {
            two: Bn::from_word(2)?,
            exponent: Bn::new()?,
            power: Bn::new()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint_dig::prime::probably_prime;
    use rand::{Rng, SeedableRng};
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};
    use rsa::BigUint;
    use sha2::{Digest, Sha256};

    fn assert_sound_key(bits: usize) {
        let key = generate_rsa_key(bits).expect("key");
        assert_eq!(key.n().bits(), bits);
        assert_eq!(key.e(), &BigUint::from(PUBLIC_EXPONENT));
        let [p, q] = key.primes() else {
            panic!("two primes expected, got {}", key.primes().len());
        };
        assert_ne!(p, q);
        for prime in [p, q] {
            assert_eq!(prime.bits(), bits / 2);
            // An independent test: num-bigint-dig's (Go's) Miller-Rabin
            // with 20 random bases plus Baillie-PSW.
            assert!(probably_prime(prime, 20));
            // gcd(e, p-1) = 1: e is prime, so e ∤ p-1.
            assert_ne!((prime - 1u32) % PUBLIC_EXPONENT, BigUint::from(0u32));
        }
        key.validate().expect("valid key");

        let digest = Sha256::digest(b"berth rsa keygen");
        let signature = key
            .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest)
            .expect("sign");
        rsa::RsaPublicKey::from(&key)
            .verify(rsa::Pkcs1v15Sign::new::<Sha256>(), &digest, &signature)
            .expect("signature verifies");
    }

    #[test]
    fn miller_rabin_tells_primes_from_composites_that_fool_fermat() {
        let mut ctx = BnCtx::new().unwrap();
        let mut scratch = Scratch::new().unwrap();
        let big = |n: &BigUint| Bn::from_be_bytes(&n.to_bytes_be()).unwrap();
        let one = BigUint::from(1u32);
        // Mersenne primes 2^127 - 1 and 2^521 - 1.
        for e in [127usize, 521] {
            let p = (one.clone() << e) - &one;
            assert!(
                passes_miller_rabin(&big(&p), &mut scratch, &mut ctx).unwrap(),
                "2^{e}-1"
            );
        }
        // Base-2 Fermat liars: the Carmichael number 2465 = 5·17·29 and
        // 2^k-bit Carmichael-shaped products (6k+1)(12k+1)(18k+1), which
        // pass the Fermat test the search runs first; and a product of two
        // large primes.
        let p127 = (one.clone() << 127usize) - &one;
        let p521 = (one.clone() << 521usize) - &one;
        let carmichael = |k: u64| {
            BigUint::from(6 * k + 1) * BigUint::from(12 * k + 1) * BigUint::from(18 * k + 1)
        };
        // k = 1, 6, 35: all three factors prime.
        for n in [
            BigUint::from(2465u32),
            carmichael(1),
            carmichael(6),
            carmichael(35),
            &p127 * &p521,
        ] {
            let bn = big(&n);
            assert!(
                passes_fermat_base_2(&bn, &mut scratch, &mut ctx).unwrap() || n == &p127 * &p521
            );
            assert!(
                !passes_miller_rabin(&bn, &mut scratch, &mut ctx).unwrap(),
                "{n}"
            );
        }
    }

    #[test]
    fn a_2048_bit_key_is_sound() {
        assert_sound_key(2048);
    }

    #[test]
    fn a_4096_bit_key_is_sound() {
        assert_sound_key(4096);
    }

    #[test]
    fn unsupported_sizes_are_refused() {
        for bits in [0, 512, 1000, 2050] {
            assert!(
                matches!(generate_rsa_key(bits), Err(KeygenError::UnsupportedSize(b)) if b == bits)
            );
        }
    }

    /// An odd number of `bytes` bytes with the top two bits set, from a
    /// seed.
    fn seeded_start(seed: u64, bytes: usize) -> Vec<u8> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut start: Vec<u8> = (0..bytes).map(|_| rng.gen()).collect();
        start[0] |= 0b1100_0000;
        start[bytes - 1] |= 1;
        start
    }

    #[test]
    fn the_sieve_strikes_exactly_the_candidates_with_a_small_factor() {
        let table = SmallPrimes::below(SIEVE_LIMIT_1024);
        let window = 600;
        for seed in [1, 2] {
            let start = seeded_start(seed, 128);
            let residues = table.residues(&start);
            let struck = table.sieve(&residues, residue(&start, PUBLIC_EXPONENT), window);
            let start = BigUint::from_bytes_be(&start);
            let mut kept = 0;
            for k in 0..window {
                let candidate = &start + BigUint::from(2 * k);
                let has_small_factor = table
                    .primes
                    .iter()
                    .any(|&p| (&candidate % p) == BigUint::from(0u32));
                let is_one_mod_e = (&candidate % PUBLIC_EXPONENT) == BigUint::from(1u32);
                let is_struck = struck[k / 64] & (1 << (k % 64)) != 0;
                assert_eq!(
                    is_struck,
                    has_small_factor || is_one_mod_e,
                    "seed {seed}, offset {k}"
                );
                kept += usize::from(!is_struck);
            }
            // About 1.12 / ln(2^18) of the odd numbers survive: 54 of 600.
            assert!((25..=90).contains(&kept), "{kept} kept");
        }
    }

    #[test]
    fn residues_match_plain_remainders() {
        // Past 2^16 (runs of two or three primes per group), and limb
        // counts that are and are not powers of two.
        let table = SmallPrimes::below(1 << 20);
        for (seed, bytes) in [(3, 128), (4, 256), (5, 192), (6, 8)] {
            let start = seeded_start(seed, bytes);
            let residues = table.residues(&start);
            assert_eq!(residues.len(), table.primes.len());
            let e_residue = residue(&start, PUBLIC_EXPONENT);
            let start = BigUint::from_bytes_be(&start);
            for (&p, &r) in table.primes.iter().zip(residues.iter()) {
                assert_eq!(&start % p, BigUint::from(r), "{bytes} bytes mod {p}");
            }
            assert_eq!(&start % PUBLIC_EXPONENT, BigUint::from(e_residue));
        }
    }

    #[test]
    fn the_table_holds_the_odd_primes_below_its_limit() {
        let table = SmallPrimes::below(100);
        let expected = [
            3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83,
            89, 97,
        ];
        assert_eq!(table.primes, expected);
        assert_eq!(SmallPrimes::below(1 << 16).primes.len(), 6541);
        assert_eq!(SmallPrimes::below(1 << 20).primes.len(), 82024);
    }

    #[test]
    fn a_window_yields_the_first_prime_in_it() {
        let table = SmallPrimes::below(SIEVE_LIMIT_1024);
        let window = 4096;
        let mut ctx = BnCtx::new().expect("ctx");
        let mut scratch = Scratch::new().expect("scratch");
        for seed in [4, 5, 6] {
            let start_bytes = seeded_start(seed, 128);
            let start = BigUint::from_bytes_be(&start_bytes);
            // The first prime at or after the start, found independently,
            // that is not ≡ 1 mod e.
            let mut prime = start.clone();
            while !(probably_prime(&prime, 20) && &prime % PUBLIC_EXPONENT != BigUint::from(1u32)) {
                prime += 2u32;
            }
            assert!(&prime - &start < BigUint::from(2 * window));
            let found = search_window(&table, &start_bytes, window, &mut scratch, &mut ctx)
                .expect("search")
                .expect("a prime in the window");
            let found = BigUint::from_bytes_be(&found.to_be_bytes(128).expect("bytes"));
            assert_eq!(found, prime, "seed {seed}");

            // Starting at the prime itself finds it too.
            let at_prime = prime.to_bytes_be();
            assert_eq!(at_prime.len(), 128);
            let found = search_window(&table, &at_prime, window, &mut scratch, &mut ctx)
                .expect("search")
                .expect("a prime in the window");
            assert_eq!(
                BigUint::from_bytes_be(&found.to_be_bytes(128).expect("bytes")),
                prime
            );
        }
    }

    #[test]
    fn primes_too_close_are_told_apart_from_distant_ones() {
        let mut scratch = Scratch::new().expect("scratch");
        let p = BigUint::from_bytes_be(&seeded_start(7, 128));
        let bn = |n: &BigUint| Bn::from_be_bytes(&n.to_bytes_be()).expect("bn");
        let near = &p + (BigUint::from(1u32) << 900);
        let far = &p + (BigUint::from(1u32) << 930);
        assert!(too_close(&bn(&p), &bn(&near), 1024, &mut scratch).expect("sub"));
        assert!(too_close(&bn(&near), &bn(&p), 1024, &mut scratch).expect("sub"));
        assert!(!too_close(&bn(&p), &bn(&far), 1024, &mut scratch).expect("sub"));
        assert!(!too_close(&bn(&far), &bn(&p), 1024, &mut scratch).expect("sub"));
    }
}
