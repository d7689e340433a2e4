//! Running `helm` / `berth` as processes: their output for the comparison,
//! their wall time and peak memory for the benchmark.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// What one run printed.
#[derive(Debug, Clone)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The error as the user sees it: from the first line starting with
    /// `Error: ` to the end of stderr (helm may print warnings before it).
    pub fn error_message(&self) -> Option<&str> {
        let mut at = 0;
        for line in self.stderr.split_inclusive('\n') {
            if line.starts_with("Error: ") {
                return Some(self.stderr[at..].trim_end());
            }
            at += line.len();
        }
        None
    }
}

/// Runs `bin args...` to completion, capturing both streams.
pub fn run(bin: &Path, args: &[String]) -> anyhow::Result<Output> {
    let out = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("failed to run {}", bin.display()))?;
    Ok(Output {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Wall time and peak resident memory of one run.
#[derive(Debug, Clone, Copy)]
pub struct Measurement {
    pub wall: Duration,
    /// `ru_maxrss` of the child (KiB on Linux).
    pub max_rss_kib: i64,
    pub success: bool,
}

/// Runs `bin args...` with its output discarded (both tools write to
/// `/dev/null`, so neither pays for a pipe), timing the whole process from
/// spawn to exit and reading its peak RSS from `wait4`'s rusage.
pub fn measure(bin: &Path, args: &[String]) -> anyhow::Result<Measurement> {
    let start = Instant::now();
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("failed to run {}", bin.display()))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; zeroed is a valid value for it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits for our own child, whose pid std just gave us; the
        // pointers are to live locals. `Child` is not waited on afterwards
        // (dropping it does not wait), so the pid is reaped exactly once.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).context("wait4 failed");
        }
    }
    let wall = start.elapsed();
    drop(child);
    Ok(Measurement {
        wall,
        max_rss_kib: usage.ru_maxrss,
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(stderr: &str) -> Output {
        Output {
            success: false,
            stdout: String::new(),
            stderr: stderr.to_string(),
        }
    }

    #[test]
    fn error_message_starts_at_the_error_line() {
        let o = out("walk.go:74: warning\nError: boom\n\nUse --debug flag\n");
        assert_eq!(o.error_message(), Some("Error: boom\n\nUse --debug flag"));
        assert_eq!(out("just a warning\n").error_message(), None);
    }

    #[test]
    fn measure_reports_exit_status_and_memory() {
        let ok = measure(Path::new("/bin/sh"), &["-c".into(), "exit 0".into()]).unwrap();
        assert!(ok.success);
        assert!(ok.max_rss_kib > 0);
        let bad = measure(Path::new("/bin/sh"), &["-c".into(), "exit 3".into()]).unwrap();
        assert!(!bad.success);
    }
}
