//! `make demo`: the local control plane and registry of the e2e suite, the
//! demo chart (`demo/chart`) packaged with the real `helm`, pushed, signed
//! with the real `cosign`, an `OCIRepository` (with `verify`) and a
//! `HelmRelease` reconciled to Ready by the built `berth controller`, then a
//! second version pushed and signed and the upgrade shown.
//!
//! It is a `harness = false` test binary so it reuses `e2e/env` as it is.
//! `scripts/demo.sh` starts it detached (its own session) and follows its
//! output until it prints `demo ready` (or `demo failed`); it then keeps
//! the environment up until it receives SIGUSR1 (`make demo-down`), when it
//! stops berth and every process of the environment and removes the run
//! directory. (SIGINT/SIGTERM/SIGHUP are the e2e environment's own
//! interrupt handling: it removes the run directory and exits, and every
//! child dies with this process through PR_SET_PDEATHSIG.)
//!
//! State: `${BERTH_CACHE:-~/.cache/berth}/demo/` holds `demo.pid` (while it
//! runs), `demo.log` (written by the script) and `berth.log`.

#[allow(dead_code)]
#[path = "env/mod.rs"]
mod env;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use env::charts::{helm_push, PackagedChart};
use env::process::Process;
use env::registry::{random_hex, run_ok, ClientHome};
use env::Env;

const NAMESPACE: &str = "demo";
const NAME: &str = "demo-app";
/// Repository path of the chart in the registry (`<host>/charts/demo-app`).
const REPO: &str = "charts";
/// How long each stage may take to become Ready.
const STAGE_TIMEOUT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_secs(2);

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    let state = state_dir();
    if let Err(e) = std::fs::create_dir_all(&state) {
        println!("demo failed: cannot create {}: {e}", state.display());
        std::process::exit(1);
    }
    let pid_file = state.join("demo.pid");
    let stop = Arc::new(AtomicBool::new(false));
    let registered = signal_hook::flag::register(signal_hook::consts::SIGUSR1, stop.clone());
    if let Err(e) =
        registered.and_then(|_| std::fs::write(&pid_file, std::process::id().to_string()))
    {
        println!("demo failed: {e}");
        std::process::exit(1);
    }

    let env = match Env::new() {
        Ok(env) => env,
        Err(e) => {
            println!("demo failed: cannot prepare the environment: {e:#}");
            let _ = std::fs::remove_file(&pid_file);
            std::process::exit(1);
        }
    };
    let mut berth = None;
    let outcome = run(&env, &repo, &state, &stop, &mut berth);
    let code = match outcome {
        Ok(()) => {
            println!("demo ready");
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                if let Some(p) = berth.as_mut() {
                    if let Err(e) = Process::check_running(p) {
                        println!("demo: berth controller stopped: {e:#}");
                        break;
                    }
                }
            }
            println!("demo: stopping (make demo-down)");
            0
        }
        Err(e) => {
            println!("demo failed: {e:#}");
            1
        }
    };
    if let Some(p) = berth.take() {
        p.stop();
    }
    env.shutdown();
    let _ = std::fs::remove_file(&pid_file);
    println!("demo: environment removed");
    std::process::exit(code);
}

/// `${BERTH_CACHE:-$HOME/.cache/berth}/demo`, as `e2e/tools/build.sh`
/// places its cache.
fn state_dir() -> PathBuf {
    let cache = match std::env::var_os("BERTH_CACHE") {
        Some(c) => PathBuf::from(c),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into()))
            .join(".cache/berth"),
    };
    cache.join("demo")
}

fn run(
    env: &Env,
    repo: &Path,
    state: &Path,
    stop: &AtomicBool,
    berth: &mut Option<Process>,
) -> Result<()> {
    let started = Instant::now();
    println!("demo: starting the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)");
    let cluster = env.cluster()?;
    println!("demo: starting the registries");
    let regs = env.registries()?;
    let reg = &regs.referrers;
    println!(
        "demo: registry at {} (plain HTTP, OCI 1.1 referrers API)",
        reg.host
    );
    check_stop(stop)?;

    let crds = repo.join("crds");
    kubectl(cluster, &["apply", "--server-side", "-f", path_str(&crds)?])?;
    kubectl(
        cluster,
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/ocirepositories.berth.dev",
            "crd/helmreleases.berth.dev",
        ],
    )?;

    let home = ClientHome::new(env, "demo")?;
    let password = random_hex(8)?;
    let keys = home.tmp.join("keys");
    std::fs::create_dir_all(&keys)?;
    let mut cmd = home.command(&env.tools, "cosign-v2");
    cmd.current_dir(&keys)
        .env("COSIGN_PASSWORD", &password)
        .arg("generate-key-pair");
    run_ok(cmd)?;
    println!(
        "demo: cosign key pair generated ({})",
        keys.join("cosign.pub").display()
    );

    publish(env, &home, repo, reg, &keys, &password, "0.1.0")?;
    check_stop(stop)?;

    kubectl(
        cluster,
        &["apply", "-f", path_str(&repo.join("demo/namespace.yaml"))?],
    )?;
    kubectl(
        cluster,
        &[
            "-n",
            NAMESPACE,
            "create",
            "secret",
            "generic",
            "cosign-pub",
            &format!(
                "--from-file=cosign.pub={}",
                path_str(&keys.join("cosign.pub"))?
            ),
        ],
    )?;
    for file in ["ocirepository.yaml", "helmrelease.yaml"] {
        let text = std::fs::read_to_string(repo.join("demo").join(file))
            .with_context(|| format!("failed to read demo/{file}"))?;
        let out = home.tmp.join(file);
        std::fs::write(&out, text.replace("${REGISTRY}", &reg.host))?;
        kubectl(cluster, &["apply", "-f", path_str(&out)?])?;
    }

    let log = state.join("berth.log");
    let metrics = format!("127.0.0.1:{}", env::process::free_port()?);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.arg("controller")
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .args(["--log-format", "text", "--metrics-addr", &metrics])
        .env("RUST_LOG", "info,berth=debug")
        // A log file, not a terminal: no colour codes.
        .env("NO_COLOR", "1");
    // Process::spawn writes `<state>/berth.log`.
    *berth = Some(Process::spawn("berth", cmd, state)?);
    println!("demo: berth controller started (log: {})", log.display());

    watch(cluster, berth, stop, "0.1.0")?;
    println!(
        "demo: version 0.1.0 is Ready ({:.0}s since start); now pushing and signing 0.2.0",
        started.elapsed().as_secs_f32()
    );
    publish(env, &home, repo, reg, &keys, &password, "0.2.0")?;
    watch(cluster, berth, stop, "0.2.0")?;

    println!();
    println!(
        "demo: upgraded to 0.2.0; the environment stays up ({:.0}s in all)",
        started.elapsed().as_secs_f32()
    );
    println!("  kubeconfig:  {}", cluster.kubeconfig.display());
    println!("  berth log:   {}", log.display());
    println!("  metrics:     http://{metrics}/metrics");
    println!("  registry:    {}", reg.oci_url(&format!("{REPO}/{NAME}")));
    println!("  cosign key:  {}", keys.join("cosign.pub").display());
    println!();
    println!("  export KUBECONFIG={}", cluster.kubeconfig.display());
    println!("  kubectl -n {NAMESPACE} get ocirepo,hr,deploy,svc,cm");
    println!("  kubectl -n {NAMESPACE} describe hr {NAME}");
    println!("  make demo-down   # stops everything and removes the run directory");
    Ok(())
}

fn check_stop(stop: &AtomicBool) -> Result<()> {
    if stop.load(Ordering::Relaxed) {
        bail!("stopped by make demo-down before the demo was ready");
    }
    Ok(())
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str()
        .with_context(|| format!("path {} is not UTF-8", p.display()))
}

fn kubectl(cluster: &env::control_plane::ControlPlane, args: &[&str]) -> Result<()> {
    let out = cluster.kubectl_output(args)?;
    for line in out.lines() {
        println!("  {line}");
    }
    Ok(())
}

/// `helm package demo/chart` at `version`, `helm push` it, `cosign sign`
/// its digest with the demo key.
fn publish(
    env: &Env,
    home: &ClientHome,
    repo: &Path,
    reg: &env::registry::Registry,
    keys: &Path,
    password: &str,
    version: &str,
) -> Result<()> {
    let dest = home.tmp.join(format!("pkg-{version}"));
    std::fs::create_dir_all(&dest)?;
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("package")
        .arg(repo.join("demo/chart"))
        .args(["--version", version, "--app-version", version])
        .arg("--destination")
        .arg(&dest);
    run_ok(cmd)?;
    let path = dest.join(format!("{NAME}-{version}.tgz"));
    let bytes = std::fs::read(&path)
        .with_context(|| format!("helm package wrote no {}", path.display()))?;
    let chart = PackagedChart { path, bytes };
    let digest = helm_push(env, home, &chart, &reg.host, REPO, &["--plain-http"])?;
    println!(
        "demo: helm push {NAME}-{version}.tgz {} -> {digest}",
        reg.oci_url(REPO)
    );
    let mut cmd = home.command(&env.tools, "cosign-v2");
    cmd.env("COSIGN_PASSWORD", password)
        .arg("sign")
        .arg("--key")
        .arg(keys.join("cosign.key"))
        // Offline: no transparency log, no public signing config.
        .args([
            "--tlog-upload=false",
            "--use-signing-config=false",
            "--yes",
            "--allow-http-registry",
        ])
        .arg(format!("{}@{digest}", reg.repo(&format!("{REPO}/{NAME}"))));
    run_ok(cmd)?;
    println!("demo: cosign sign --key cosign.key {REPO}/{NAME}@{digest}");
    Ok(())
}

/// Print `kubectl get ocirepo,hr` every `POLL` until the source holds
/// `version` and the release is Ready on it.
fn watch(
    cluster: &env::control_plane::ControlPlane,
    berth: &mut Option<Process>,
    stop: &AtomicBool,
    version: &str,
) -> Result<()> {
    let start = Instant::now();
    println!("demo: kubectl -n {NAMESPACE} get ocirepo,hr (until both are Ready on {version})");
    loop {
        check_stop(stop)?;
        if let Some(p) = berth.as_mut() {
            p.check_running()?;
        }
        // Checked before the table is printed, so the last table shown is
        // (at least) the Ready state.
        let ready = ready_on(cluster, version)?;
        let table = cluster.kubectl_output(&["-n", NAMESPACE, "get", "ocirepo,hr"])?;
        println!("--- {:>3.0}s", start.elapsed().as_secs_f32());
        for line in table.lines() {
            println!("  {line}");
        }
        if ready {
            return Ok(());
        }
        if start.elapsed() > STAGE_TIMEOUT {
            let described = cluster
                .kubectl_output(&["-n", NAMESPACE, "describe", "ocirepo,hr"])
                .unwrap_or_else(|e| format!("{e:#}"));
            let tail = berth.as_ref().map(|p| p.log_tail(40)).unwrap_or_default();
            bail!(
                "not Ready on {version} after {STAGE_TIMEOUT:?}\n{described}\n--- berth log tail:\n{tail}"
            );
        }
        std::thread::sleep(POLL);
    }
}

/// Both objects Ready, the source's revision on `version` and the
/// release's latest history entry deployed from it.
fn ready_on(cluster: &env::control_plane::ControlPlane, version: &str) -> Result<bool> {
    let ready = r#"{.status.conditions[?(@.type=="Ready")].status}"#;
    let field = |kind: &str, path: &str| -> Result<String> {
        cluster.kubectl_output(&[
            "-n",
            NAMESPACE,
            "get",
            kind,
            NAME,
            "-o",
            &format!("jsonpath={path}"),
        ])
    };
    let source_ready = field("ocirepo", ready)? == "True";
    let revision = field("ocirepo", "{.status.artifact.revision}")?;
    let release_ready = field("hr", ready)? == "True";
    let released = field("hr", "{.status.history[0].chartVersion}")?;
    let generation = field("hr", "{.metadata.generation}")?;
    let observed = field("hr", "{.status.observedGeneration}")?;
    Ok(source_ready
        && revision.starts_with(&format!("{version}@"))
        && release_ready
        && released == version
        && generation == observed)
}
