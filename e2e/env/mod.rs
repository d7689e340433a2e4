//! The test environment. Every component starts lazily on first use, on
//! loopback, under one per-run temporary directory, and stops in
//! `Env::shutdown` (children also get SIGKILL if this process dies, see
//! `process`).

pub mod berth;
pub mod charts;
pub mod control_plane;
pub mod process;
pub mod registry;
pub mod tools;

use std::sync::OnceLock;

use anyhow::Result;

pub struct Env {
    /// Tokio runtime for async clients (kube, HTTP); tests are plain fns
    /// and `block_on` what they need.
    pub rt: tokio::runtime::Runtime,
    /// Per-run scratch directory, removed at shutdown.
    pub dir: tempfile::TempDir,
    pub tools: tools::Tools,
    cluster: OnceLock<Result<control_plane::ControlPlane, String>>,
    registries: OnceLock<Result<registry::Registries, String>>,
}

impl Env {
    pub fn new() -> Result<Env> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let dir = tempfile::Builder::new().prefix("berth-e2e-").tempdir()?;
        clean_up_on_interrupt(dir.path().to_path_buf())?;
        let tools = tools::Tools::locate()?;
        Ok(Env {
            rt,
            dir,
            tools,
            cluster: OnceLock::new(),
            registries: OnceLock::new(),
        })
    }

    /// The control plane, started on first use.
    pub fn cluster(&self) -> Result<&control_plane::ControlPlane> {
        self.cluster
            .get_or_init(|| control_plane::ControlPlane::start(self).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("control plane unavailable: {e}"))
    }

    /// The registries (with and without referrers, TLS, basic auth),
    /// started on first use.
    pub fn registries(&self) -> Result<&registry::Registries> {
        self.registries
            .get_or_init(|| registry::Registries::start(self).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("registries unavailable: {e}"))
    }

    /// Stop every process and remove the scratch directory.
    pub fn shutdown(mut self) {
        if let Some(Ok(c)) = self.cluster.take() {
            c.stop();
        }
        if let Some(Ok(r)) = self.registries.take() {
            r.stop();
        }
        let _ = self.dir.close();
    }
}

/// On SIGINT/SIGTERM/SIGHUP: kill every child and remove the run directory
/// before exiting, so an interrupted run leaves nothing behind either.
/// (SIGKILL cannot be caught; children still die through PDEATHSIG then,
/// but the directory stays.)
fn clean_up_on_interrupt(dir: std::path::PathBuf) -> Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            eprintln!(
                "e2e: interrupted (signal {sig}); stopping children and removing {}",
                dir.display()
            );
            process::kill_all_children();
            std::thread::sleep(std::time::Duration::from_millis(300));
            let _ = std::fs::remove_dir_all(&dir);
            std::process::exit(130);
        }
    });
    Ok(())
}
