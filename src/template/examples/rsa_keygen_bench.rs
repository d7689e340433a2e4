//! RSA key generation: berth's sieved generator (`funcs/rsa_keygen.rs`)
//! against AWS-LC's (`PrivateDecryptingKey::generate`), one key of each in
//! turn so that both see the same machine; prints min/median/mean/max in ms
//! and the ratio of the means.
//!
//! Usage: `cargo run -p berth-template --release --example
//! rsa_keygen_bench -- [-n N] [--bits 2048|4096] [--sweep]`; `--sweep`
//! adds other sieve sizes (small-prime limit × window) to the rotation.

use std::time::Instant;

// The generator is crate-private; the example compiles its own copy.
#[path = "../funcs/rsa_keygen.rs"]
mod rsa_keygen;

use rsa_keygen::{generate_rsa_key, generate_rsa_key_with, SmallPrimes};

/// One way to make a key, timed.
struct Generator {
    name: String,
    make: Box<dyn Fn()>,
    millis: Vec<f64>,
}

fn main() {
    let mut keys = 40;
    let mut bits = 2048;
    let mut sweep = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-n" => keys = args.next().and_then(|n| n.parse().ok()).unwrap_or(keys),
            "--bits" => bits = args.next().and_then(|n| n.parse().ok()).unwrap_or(bits),
            "--sweep" => sweep = true,
            _ => {
                eprintln!("usage: rsa_keygen_bench [-n N] [--bits 2048|4096] [--sweep]");
                std::process::exit(2);
            }
        }
    }
    let aws_size = match bits {
        2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
        4096 => aws_lc_rs::rsa::KeySize::Rsa4096,
        _ => {
            eprintln!("--bits: 2048 or 4096");
            std::process::exit(2);
        }
    };

    let mut generators = vec![
        Generator {
            name: "berth (default sieve)".into(),
            make: Box::new(move || {
                generate_rsa_key(bits).expect("berth key");
            }),
            millis: Vec::new(),
        },
        Generator {
            name: "aws-lc".into(),
            make: Box::new(move || {
                aws_lc_rs::rsa::PrivateDecryptingKey::generate(aws_size).expect("aws-lc key");
            }),
            millis: Vec::new(),
        },
    ];
    if sweep {
        for limit_log2 in [16, 18, 20] {
            let table = std::rc::Rc::new(SmallPrimes::below(1 << limit_log2));
            for window in [1024, 4096, 16384] {
                let table = table.clone();
                generators.push(Generator {
                    name: format!("berth primes < 2^{limit_log2}, window {window}"),
                    make: Box::new(move || {
                        generate_rsa_key_with(bits, &table, window).expect("berth key");
                    }),
                    millis: Vec::new(),
                });
            }
        }
    }

    // One untimed key each (tables, page faults).
    for g in &generators {
        (g.make)();
    }
    for _ in 0..keys {
        for g in &mut generators {
            let t = Instant::now();
            (g.make)();
            g.millis.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }

    println!("rsa-{bits}, {keys} keys each, in turn");
    println!(
        "{:<40} {:>8} {:>8} {:>8} {:>8}",
        "generator (ms)", "min", "median", "mean", "max"
    );
    let mut means = Vec::new();
    for g in &mut generators {
        g.millis.sort_by(f64::total_cmp);
        let n = g.millis.len();
        let median = (g.millis[(n - 1) / 2] + g.millis[n / 2]) / 2.0;
        let mean = g.millis.iter().sum::<f64>() / n as f64;
        println!(
            "{:<40} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            g.name,
            g.millis[0],
            median,
            mean,
            g.millis[n - 1]
        );
        means.push(mean);
    }
    println!(
        "mean aws-lc / mean berth (default sieve): {:.2}x",
        means[1] / means[0]
    );
}
