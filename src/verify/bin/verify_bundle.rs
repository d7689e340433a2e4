//! `berth-verify-bundle`: the Sigstore conformance suite's verification
//! entry point (see `berth_verify::conformance`). Exit status 0 when the
//! bundle verifies, 1 with the reason on stderr when it does not.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match berth_verify::conformance::run(&args) {
        Ok(line) => println!("{line}"),
        Err(reason) => {
            eprintln!("verification failed: {reason}");
            std::process::exit(1);
        }
    }
}
