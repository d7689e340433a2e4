//! The berth binary: parses flags and wires the runtime; the library does
//! the work.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// The system allocator, with a bump region in front for one-shot commands (see
/// `berth::alloc`).
#[global_allocator]
static GLOBAL: berth::alloc::BerthAlloc = berth::alloc::BerthAlloc::process();

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
enum VerifyCommand {
    /// Verify a Sigstore bundle for a file or a `sha256:<hex>` digest:
    /// `--bundle FILE (--certificate-identity ID --certificate-oidc-issuer
    /// URL | --key PEM) [--trusted-root FILE] FILE_OR_DIGEST`. Exit status
    /// 0 when it verifies, 1 with the reason on stderr when it does not.
    Bundle {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
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
    Template(Box<berth::cmd_template::TemplateArgs>),
    /// Run the controllers against the current cluster.
    Controller(ControllerArgs),
    /// Verify signatures offline (Sigstore's conformance protocol).
    #[command(subcommand)]
    Verify(VerifyCommand),
    /// Print the version.
    Version,
    /// Table of OCIRepositories and HelmReleases: Ready, revision, signer, age.
    Get(berth::cli::GetArgs),
    /// Request a reconcile (`source` or `hr`) and wait for its result.
    Reconcile(berth::cli::ReconcileArgs),
    /// Suspend an OCIRepository (`source`) or a HelmRelease (`hr`).
    Suspend(berth::cli::SuspendArgs),
    /// Resume an OCIRepository (`source`) or a HelmRelease (`hr`).
    Resume(berth::cli::SuspendArgs),
    /// Explain a HelmRelease: source, tag, digest, signer, release, objects.
    Explain(berth::cli::ExplainArgs),
}

#[derive(clap::Args)]
struct ControllerArgs {
    /// Path of a kubeconfig; without it, $KUBECONFIG, ~/.kube/config or the
    /// in-cluster service account.
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// Objects reconciled at the same time, per controller.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// Watch only objects matching this label selector (e.g.
    /// `shard=a`), to split the objects between several controllers.
    #[arg(long)]
    watch_label_selector: Option<String>,
    /// Log line format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Bound on the bytes the in-process artifact store keeps.
    #[arg(long, default_value_t = berth::artifact::DEFAULT_MAX_TOTAL_BYTES)]
    artifact_store_bytes: u64,
    /// Address of the HTTP endpoint serving `/metrics` (Prometheus) and the
    /// `/healthz` and `/readyz` probes.
    #[arg(long, default_value = "0.0.0.0:8080")]
    metrics_addr: std::net::SocketAddr,
    /// Refuse HelmRelease `chartRef`s to sources in another namespace
    /// (multi-tenancy lockdown).
    #[arg(long)]
    no_cross_namespace_refs: bool,
    /// Apply HelmReleases without `serviceAccountName` as this
    /// ServiceAccount of their namespace (multi-tenancy lockdown).
    #[arg(long)]
    default_service_account: Option<String>,
    /// Elect a leader on a Lease among the processes sharing it; only the
    /// leader reconciles, the others stand by (their `/healthz` and
    /// `/readyz` still answer ok). `--leader-elect=false` runs without.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set,
        num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    leader_elect: bool,
    /// Namespace of the leader-election Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    leader_election_namespace: String,
    /// Name of the leader-election Lease. Default: `berth-leader`, with a
    /// hash of `--watch-label-selector` appended when one is given, so each
    /// shard elects its own leader.
    #[arg(long)]
    leader_election_id: Option<String>,
    /// How long standbys wait, after the Lease last changed, before taking
    /// it over.
    #[arg(long, default_value = "15s", value_parser = berth::controller::parse_go_duration)]
    leader_election_lease_duration: std::time::Duration,
    /// How long the leader keeps failing to renew before it stops and exits.
    #[arg(long, default_value = "10s", value_parser = berth::controller::parse_go_duration)]
    leader_election_renew_deadline: std::time::Duration,
    /// Pause between attempts to acquire or renew the Lease.
    #[arg(long, default_value = "2s", value_parser = berth::controller::parse_go_duration)]
    leader_election_retry_period: std::time::Duration,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

fn main() -> anyhow::Result<()> {
    // kube and reqwest both bring rustls; pick one provider before any
    // client is built (two installed providers make rustls panic).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Controller(_)
            | Command::Get(_)
            | Command::Reconcile(_)
            | Command::Suspend(_)
            | Command::Resume(_)
            | Command::Explain(_)
    ) {
        // Long-running or waiting on the cluster: memory must be given
        // back, and allocation speed does not matter here.
        berth::alloc::end_one_shot();
    }
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
                // Everything is written and flushed: leave without running
                // the exit handlers (the allocator returns its memory to the
                // system page by page there, ~2 % of a small chart's run).
                exit_now(0);
            }
            // As helm: `Error: <message>` on stderr, exit status 1.
            Err(e) => {
                eprintln!("Error: {e}");
                std::process::exit(1);
            }
        },
        Command::Controller(args) => run_controller(args)?,
        Command::Verify(VerifyCommand::Bundle { args }) => {
            match berth_verify::conformance::run(&args) {
                Ok(line) => println!("{line}"),
                Err(reason) => {
                    eprintln!("Error: verification failed: {reason}");
                    std::process::exit(1);
                }
            }
        }
        Command::Version => println!("berth {}", env!("CARGO_PKG_VERSION")),
        Command::Get(a) => std::process::exit(berth::cli::run(berth::cli::Sre::Get(a))),
        Command::Reconcile(a) => std::process::exit(berth::cli::run(berth::cli::Sre::Reconcile(a))),
        Command::Suspend(a) => std::process::exit(berth::cli::run(berth::cli::Sre::Suspend(a))),
        Command::Resume(a) => std::process::exit(berth::cli::run(berth::cli::Sre::Resume(a))),
        Command::Explain(a) => std::process::exit(berth::cli::run(berth::cli::Sre::Explain(a))),
    }
    Ok(())
}

/// `berth controller`: logs, a kube client, the shared context, and the
/// controllers until SIGTERM or SIGINT.
fn run_controller(args: ControllerArgs) -> anyhow::Result<()> {
    use std::sync::Arc;
    use tracing_subscriber::EnvFilter;

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match args.log_format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init(),
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    rt.block_on(async move {
        let config = match &args.kubeconfig {
            Some(path) => {
                let kubeconfig = kube::config::Kubeconfig::read_from(path)
                    .with_context(|| format!("failed to read {}", path.display()))?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                    .await
                    .with_context(|| format!("failed to load {}", path.display()))?
            }
            None => kube::Config::infer()
                .await
                .context("failed to find a kubeconfig or an in-cluster service account")?,
        };
        let client =
            kube::Client::try_from(config.clone()).context("failed to build a kube client")?;
        let store = Arc::new(berth::artifact::ArtifactStore::new(
            args.artifact_store_bytes,
        ));
        let verifier = Arc::new(berth::controller::cosign::CosignVerifier::new());
        let elector = if args.leader_elect {
            use berth::controller::leader::{default_identity, default_lease_name, ElectionConfig};
            let config = ElectionConfig {
                namespace: args.leader_election_namespace.clone(),
                name: args
                    .leader_election_id
                    .clone()
                    .unwrap_or_else(|| default_lease_name(args.watch_label_selector.as_deref())),
                identity: default_identity(),
                lease_duration: args.leader_election_lease_duration,
                renew_deadline: args.leader_election_renew_deadline,
                retry_period: args.leader_election_retry_period,
            };
            Some(berth::controller::leader::Elector::new(
                client.clone(),
                config,
            )?)
        } else {
            None
        };
        let leader_status = elector.as_ref().map(|e| e.status());
        let shutdown = {
            use futures::FutureExt as _;
            shutdown_signal().boxed().shared()
        };
        let render: berth::controller::metrics::Render = {
            let verifier = verifier.clone();
            Arc::new(move || {
                let mut text = verifier.render_prometheus();
                if let Some(status) = &leader_status {
                    text.push_str(&status.render_prometheus());
                }
                text
            })
        };
        let (metrics_addr, serve_metrics) =
            berth::controller::metrics::bind(args.metrics_addr, render, shutdown.clone()).await?;
        tracing::info!(%metrics_addr, "serving /metrics, /healthz and /readyz");
        let metrics = tokio::spawn(serve_metrics);
        let mut ctx = berth::controller::Context::new(client, store, verifier);
        ctx.kube_config = Some(config);
        ctx.no_cross_namespace_refs = args.no_cross_namespace_refs;
        ctx.default_service_account = args.default_service_account.clone();
        let ctx = Arc::new(ctx);
        tracing::info!(
            concurrency = args.concurrency,
            label_selector = args.watch_label_selector.as_deref().unwrap_or(""),
            "starting the controllers"
        );
        let options = berth::controller::RunOptions {
            concurrency: args.concurrency,
            label_selector: args.watch_label_selector.clone(),
        };
        match elector {
            None => berth::controller::run(ctx, options, shutdown).await,
            Some(elector) => {
                let lead = move |stop| berth::controller::run(ctx, options, stop);
                if let Err(e) =
                    berth::controller::leader::run_leading(elector, shutdown, lead).await
                {
                    // As controller-runtime: exit non-zero so the pod
                    // restarts as a standby.
                    tracing::error!(error = %e, "exiting");
                    std::process::exit(1);
                }
            }
        }
        match metrics.await {
            Ok(Err(e)) => tracing::warn!(error = %e, "the metrics endpoint failed"),
            Err(e) => tracing::warn!(error = %e, "the metrics endpoint task failed"),
            Ok(Ok(())) => {}
        }
        tracing::info!("stopped");
        Ok(())
    })
}

/// Resolves on the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "failed to listen for SIGTERM");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
    }
}

/// Ends the process at once with `code`, skipping `atexit` handlers and
/// destructors. Only for a command that has flushed all of its output.
fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` takes no pointers and never returns; the callers
    // have flushed stdout, and nothing else of this process needs to run.
    unsafe { libc::_exit(code) }
}
