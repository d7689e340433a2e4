//! Scaffolding for the tests of berth itself: its CRDs, namespaces,
//! controllers on the suite's runtime (sharded by a label), the built
//! `berth controller` binary as a child process, and the kubectl/helm
//! helpers the controller tests share.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ::berth::api::helm_release::HelmRelease;
use ::berth::api::oci_repository::OCIRepository;
use ::berth::controller::{Context, RunOptions, UnavailableVerifier};
use anyhow::{bail, ensure, Context as _, Result};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use super::process::free_port;
use super::registry::{random_hex, run_output, ClientHome};
use super::Env;

/// The label that shards the test objects between the controllers of the
/// run (each test file's in-process controllers, the binaries).
pub const SHARD_LABEL: &str = "e2e.berth.dev/controller";

/// How long the waits below (CRDs Established, a HelmRelease's state, a
/// condition) may take.
pub const WAIT: Duration = Duration::from_secs(90);

/// A client with the cluster's admin credential.
pub fn client(env: &Env) -> Result<kube::Client> {
    env.cluster()?.client(&env.rt)
}

/// The kube config of the cluster's admin kubeconfig.
pub fn admin_config(env: &Env) -> Result<kube::Config> {
    let kubeconfig = kube::config::Kubeconfig::read_from(&env.cluster()?.kubeconfig)?;
    Ok(env.rt.block_on(kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &Default::default(),
    ))?)
}

/// Apply berth's CRDs (server-side apply, idempotent) and wait until
/// they are Established.
pub fn install_crds(env: &Env) -> Result<()> {
    let crds: Api<CustomResourceDefinition> = Api::all(client(env)?);
    for crd in ::berth::api::crds() {
        let name = crd.metadata.name.clone().context("a CRD without a name")?;
        env.rt.block_on(crds.patch(
            &name,
            &PatchParams::apply("berth-e2e").force(),
            &Patch::Apply(&crd),
        ))?;
        let start = Instant::now();
        loop {
            let got = env.rt.block_on(crds.get(&name))?;
            let established = got
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                break;
            }
            ensure!(start.elapsed() < WAIT, "CRD {name} not Established");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    Ok(())
}

/// A new namespace `<prefix>-<6 hex digits>`; its name.
pub fn create_namespace(env: &Env, prefix: &str) -> Result<String> {
    let ns = format!("{prefix}-{}", random_hex(3)?);
    let api: Api<Namespace> = Api::all(client(env)?);
    let obj: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}}))?;
    env.rt.block_on(api.create(&PostParams::default(), &obj))?;
    Ok(ns)
}

/// berth's CRDs installed, then `berth::controller::run` on the suite's
/// runtime with the admin credential for the objects labelled `shard`.
/// `configure` adjusts the context (verifier, kube config, flags) first.
pub fn start_controller(
    env: &Env,
    shard: &str,
    concurrency: u16,
    configure: impl FnOnce(&mut Context),
) -> Result<Arc<Context>> {
    install_crds(env)?;
    start_controller_as(env, client(env)?, shard, concurrency, configure)
}

/// `start_controller` with `client` (its credential) and without
/// installing the CRDs.
pub fn start_controller_as(
    env: &Env,
    client: kube::Client,
    shard: &str,
    concurrency: u16,
    configure: impl FnOnce(&mut Context),
) -> Result<Arc<Context>> {
    let store = Arc::new(::berth::artifact::ArtifactStore::default());
    let mut ctx = Context::new(client, store, Arc::new(UnavailableVerifier));
    configure(&mut ctx);
    let ctx = Arc::new(ctx);
    let run_ctx = ctx.clone();
    let options = RunOptions {
        concurrency,
        label_selector: Some(format!("{SHARD_LABEL}={shard}")),
    };
    env.rt.spawn(async move {
        ::berth::controller::run(run_ctx, options, futures::future::pending::<()>()).await;
    });
    Ok(ctx)
}

/// A controller started once per run, by the first test that needs it;
/// a failed start fails every test that asks for it.
pub struct SharedController(OnceLock<std::result::Result<Arc<Context>, String>>);

impl SharedController {
    pub const fn new() -> Self {
        SharedController(OnceLock::new())
    }

    /// The controller, started with `start` on first use; `what` names
    /// it in the error.
    pub fn get(
        &self,
        what: &str,
        start: impl FnOnce() -> Result<Arc<Context>>,
    ) -> Result<Arc<Context>> {
        self.0
            .get_or_init(|| start().map_err(|e| format!("{e:#}")))
            .clone()
            .map_err(|e| anyhow::anyhow!("{what} unavailable: {e}"))
    }
}

/// Server-side apply (as a user would `kubectl apply --server-side`) an
/// OCIRepository, HelmRelease or ConfigMap into `ns`, labelled `shard`.
pub fn apply(env: &Env, ns: &str, shard: &str, obj: Value) -> Result<()> {
    let mut obj = obj;
    obj["metadata"]["namespace"] = json!(ns);
    obj["metadata"]["labels"][SHARD_LABEL] = json!(shard);
    let name = obj["metadata"]["name"]
        .as_str()
        .context("name")?
        .to_string();
    let client = client(env)?;
    let params = PatchParams::apply("e2e-user").force();
    match obj["kind"].as_str() {
        Some("HelmRelease") => {
            let api: Api<HelmRelease> = Api::namespaced(client, ns);
            env.rt
                .block_on(api.patch(&name, &params, &Patch::Apply(&obj)))?;
        }
        Some("OCIRepository") => {
            let api: Api<OCIRepository> = Api::namespaced(client, ns);
            env.rt
                .block_on(api.patch(&name, &params, &Patch::Apply(&obj)))?;
        }
        Some("ConfigMap") => {
            let api: Api<ConfigMap> = Api::namespaced(client, ns);
            env.rt
                .block_on(api.patch(&name, &params, &Patch::Apply(&obj)))?;
        }
        other => bail!("apply: unexpected kind {other:?}"),
    }
    Ok(())
}

/// Poll HelmRelease `ns/name` every 300 ms until `done` holds; after
/// `WAIT` the error shows its status.
pub fn wait_hr(
    env: &Env,
    ns: &str,
    name: &str,
    what: &str,
    done: impl Fn(&HelmRelease) -> bool,
) -> Result<HelmRelease> {
    let api: Api<HelmRelease> = Api::namespaced(client(env)?, ns);
    let start = Instant::now();
    loop {
        let hr = env.rt.block_on(api.get(name))?;
        if done(&hr) {
            return Ok(hr);
        }
        if start.elapsed() > WAIT {
            bail!(
                "HelmRelease {ns}/{name}: not {what} after {WAIT:?}; status:\n{}",
                serde_json::to_string_pretty(&hr.status).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Poll `f` every 300 ms until it returns true, failing after `WAIT`.
pub fn wait_until(what: &str, f: impl Fn() -> Result<bool>) -> Result<()> {
    let start = Instant::now();
    loop {
        if f()? {
            return Ok(());
        }
        ensure!(start.elapsed() < WAIT, "not {what} after {WAIT:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `helm --kubeconfig <admin> ARGS…` → stdout, failing on a non-zero exit.
pub fn helm(env: &Env, home: &ClientHome, args: &[&str]) -> Result<String> {
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("--kubeconfig")
        .arg(&env.cluster()?.kubeconfig)
        .args(args);
    let out = run_output(cmd)?;
    ensure!(
        out.status.success(),
        "helm {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `helm` whose stdout is JSON.
pub fn helm_json(env: &Env, home: &ClientHome, args: &[&str]) -> Result<Value> {
    let text = helm(env, home, args)?;
    serde_json::from_str(&text).with_context(|| format!("helm {args:?} printed {text}"))
}

/// `kubectl ARGS…` (admin) whose stdout is JSON.
pub fn kubectl_json(env: &Env, args: &[&str]) -> Result<Value> {
    let text = env.cluster()?.kubectl_output(args)?;
    Ok(serde_json::from_str(&text)?)
}

/// The built `berth controller` as a child process: admin kubeconfig,
/// metrics on a free loopback port, `RUST_LOG=info,berth=debug`, output
/// appended to a log file; SIGKILLed by the kernel if the suite dies
/// (`PR_SET_PDEATHSIG`) and killed when dropped while still running.
pub struct BerthProcess {
    pub child: Child,
    pub log: PathBuf,
    pub metrics_port: u16,
}

/// Start `berth controller --kubeconfig K --metrics-addr A ARGS…`, its
/// output appended to `log`.
pub fn spawn_berth(env: &Env, args: &[&str], log: &Path) -> Result<BerthProcess> {
    spawn_berth_with(env, args, log, |_| {})
}

/// `spawn_berth`, with `configure` adjusting the command (environment)
/// before it starts.
pub fn spawn_berth_with(
    env: &Env,
    args: &[&str],
    log: &Path,
    configure: impl FnOnce(&mut Command),
) -> Result<BerthProcess> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("failed to open {}", log.display()))?;
    let metrics_port = free_port()?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.arg("controller")
        .arg("--kubeconfig")
        .arg(&env.cluster()?.kubeconfig)
        .arg("--metrics-addr")
        .arg(format!("127.0.0.1:{metrics_port}"))
        .args(args)
        .env("RUST_LOG", "info,berth=debug")
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    configure(&mut cmd);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let child = cmd.spawn().context("failed to start berth controller")?;
    Ok(BerthProcess {
        child,
        log: log.to_path_buf(),
        metrics_port,
    })
}

impl BerthProcess {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The JSON lines of the log (`--log-format json`).
    pub fn log_json(&self) -> Vec<Value> {
        self.log_text()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Whether its JSON log shows a registry poll of `ns/name`.
    pub fn polled(&self, ns: &str, name: &str) -> bool {
        self.log_json().iter().any(|v| {
            v["fields"]["message"] == "polled"
                && v["fields"]["namespace"] == ns
                && v["fields"]["name"] == name
        })
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: plain syscall on our own child.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Result<Option<ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// SIGKILL and reap it.
    pub fn kill(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Wait for it to exit, failing (with the log) after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if start.elapsed() > timeout {
                bail!(
                    "berth controller ({}) still running {timeout:?} later; log:\n{}",
                    self.log.display(),
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then wait up to `timeout` for it to exit; SIGKILL after
    /// that (`None`: it ignored the SIGTERM).
    pub fn terminate(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        self.signal(libc::SIGTERM);
        let stopping = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            if stopping.elapsed() > timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `GET /metrics` (which must answer 200) → the text.
    pub fn metrics(&self, env: &Env) -> Result<String> {
        let port = self.metrics_port;
        env.rt.block_on(async {
            let r = reqwest::Client::new()
                .get(format!("http://127.0.0.1:{port}/metrics"))
                .send()
                .await?;
            ensure!(r.status().is_success(), "/metrics answered {}", r.status());
            Ok(r.text().await?)
        })
    }

    /// `metrics`, after checking both probes (`/healthz`, `/readyz`)
    /// answer 200.
    pub fn scrape(&self, env: &Env) -> Result<String> {
        let port = self.metrics_port;
        env.rt.block_on(async {
            let client = reqwest::Client::new();
            for probe in ["healthz", "readyz"] {
                let r = client
                    .get(format!("http://127.0.0.1:{port}/{probe}"))
                    .send()
                    .await?;
                ensure!(r.status().is_success(), "/{probe} answered {}", r.status());
            }
            Ok::<_, anyhow::Error>(())
        })?;
        self.metrics(env)
    }
}

impl Drop for BerthProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
