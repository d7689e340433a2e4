//! `make conformance`: every case of `conformance/cases/` through Helm's own
//! engine (the Go oracle) and through berth's engine, in the same run.
//!
//! Usage: `conformance [--cases DIR] [--quiet] [--errors] [FILTER...]`
//! A FILTER keeps the cases whose `<family>/<name>` contains it. `--errors`
//! also prints the cases whose error messages differ. Exits non-zero when a
//! case is not identical.

use std::path::PathBuf;

use anyhow::Context as _;
use berth_conformance::cases::load_corpus;
use berth_conformance::oracle::{Oracle, Outcome};
use berth_conformance::render::{capabilities_from_oracle, Renderer};
use berth_conformance::report::{compare, describe, Verdict};

fn main() -> anyhow::Result<()> {
    let repo = berth_conformance::repo_root();
    let mut cases_dir = repo.join("conformance/cases");
    let mut filters = Vec::new();
    let mut quiet = false;
    let mut show_messages = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cases" => cases_dir = PathBuf::from(args.next().context("--cases needs a DIR")?),
            "--quiet" => quiet = true,
            "--errors" => show_messages = true,
            _ => filters.push(a),
        }
    }

    let mut cases = load_corpus(&cases_dir)?;
    if !filters.is_empty() {
        cases.retain(|c| filters.iter().any(|f| c.id.contains(f.as_str())));
    }
    anyhow::ensure!(!cases.is_empty(), "no cases in {}", cases_dir.display());

    let oracle = Oracle::build(&repo)?;
    let caps = oracle.capabilities()?;
    let helm = oracle.render_cases(&cases)?;

    let renderer = Renderer::new(capabilities_from_oracle(&caps));
    let mut identical = 0usize;
    let mut both_failed = 0usize;
    let mut message_mismatches = 0usize;
    let mut mismatched = Vec::new();
    for (case, helm_out) in cases.iter().zip(helm.iter()) {
        // A panic in the engine is a failed case, not a failed run.
        let berth_out: Outcome = renderer.render_case_caught(case);
        if helm_out.is_err() && berth_out.is_err() {
            both_failed += 1;
        }
        let verdict = compare(helm_out, &berth_out);
        match verdict {
            Verdict::Identical => identical += 1,
            Verdict::ErrorMessageDiffers => {
                identical += 1;
                message_mismatches += 1;
                if show_messages && !quiet {
                    println!("{}", describe(case, helm_out, &berth_out, &verdict));
                }
            }
            Verdict::Mismatch => {
                mismatched.push(case.id.clone());
                if !quiet {
                    println!("{}", describe(case, helm_out, &berth_out, &verdict));
                }
            }
        }
    }
    if !mismatched.is_empty() {
        println!("failing cases ({}):", mismatched.len());
        for id in &mismatched {
            println!("  {id}");
        }
    }
    println!(
        "template conformance: {identical}/{} cases identical ({message_mismatches} error-message mismatches among {both_failed} cases failing on both sides)",
        cases.len()
    );
    if identical < cases.len() {
        std::process::exit(1);
    }
    Ok(())
}
