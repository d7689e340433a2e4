//! The berth binary: parses flags and wires the runtime; the library does
//! the work.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "berth",
    version,
    about = "Signed Helm charts from OCI registries, reconciled into Kubernetes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the CustomResourceDefinitions generated from the API types.
    Crds {
        /// Write one file per CRD into this directory instead of printing.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Render a chart locally, exactly as `helm template` prints it.
    // A repeated single-value flag keeps its last value, as in helm.
    #[command(args_override_self = true)]
    Template(berth::cmd_template::TemplateArgs),
    /// Print the version.
    Version,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds { out_dir } => {
            let files = berth::api::crd_files().context("failed to serialise the CRDs")?;
            match out_dir {
                Some(dir) => {
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("failed to create {}", dir.display()))?;
                    for (name, yaml) in files {
                        let path = dir.join(name);
                        std::fs::write(&path, yaml)
                            .with_context(|| format!("failed to write {}", path.display()))?;
                    }
                }
                None => {
                    for (_, yaml) in files {
                        print!("---\n{yaml}");
                    }
                }
            }
        }
        Command::Template(args) => match berth::cmd_template::run_template(&args) {
            Ok(out) => {
                use std::io::Write as _;
                let mut stdout = std::io::stdout().lock();
                stdout
                    .write_all(out.as_bytes())
                    .and_then(|()| stdout.flush())
                    .context("failed to write the manifests")?;
            }
            // As helm: `Error: <message>` on stderr, exit status 1.
            Err(e) => {
                eprintln!("Error: {e}");
                std::process::exit(1);
            }
        },
        Command::Version => println!("berth {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(())
}
