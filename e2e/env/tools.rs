//! The pinned tools, built by `e2e/tools/build.sh` into the cache outside
//! the clone and linked into `target/e2e-bin/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub struct Tools {
    pub bin: PathBuf,
}

impl Tools {
    /// Build (or reuse from the cache) every pinned tool and return where
    /// they are linked.
    pub fn locate() -> Result<Tools> {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let bin = match std::env::var_os("BERTH_TOOLS_BIN") {
            Some(p) => PathBuf::from(p),
            None => repo.join("target/e2e-bin"),
        };
        let status = Command::new(repo.join("e2e/tools/build.sh"))
            .env("BERTH_TOOLS_BIN", &bin)
            .status()
            .context("failed to run e2e/tools/build.sh")?;
        if !status.success() {
            bail!("e2e/tools/build.sh failed ({status})");
        }
        Ok(Tools { bin })
    }

    /// Path of a pinned tool binary, e.g. `tools.path("helm")`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// A `Command` for a pinned tool.
    pub fn command(&self, name: &str) -> Command {
        Command::new(self.path(name))
    }
}
