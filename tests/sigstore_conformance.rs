//! Sigstore's own bundle-verification vectors (real bundles from real
//! Sigstore infrastructure, `../shared/sigstore-conformance`, path
//! overridable with `BERTH_SIGSTORE_CONFORMANCE`), each run through
//! `berth verify bundle` with the conformance suite's protocol: every
//! happy case must verify, every `_fail` case must fail with a reason.

use std::path::{Path, PathBuf};
use std::process::Command;

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn corpus() -> PathBuf {
    match std::env::var_os("BERTH_SIGSTORE_CONFORMANCE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sigstore-conformance"),
    }
}

fn read_trimmed(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

#[test]
fn sigstore_conformance_bundle_vectors() {
    let root = corpus();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("bundle.sigstore.json").is_file())
        .collect();
    cases.sort();
    assert!(
        cases.len() > 50,
        "only {} cases in {}",
        cases.len(),
        root.display()
    );

    let mut passed = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let must_fail = name.ends_with("_fail");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
        cmd.args(["verify", "bundle"])
            .arg("--bundle")
            .arg(case.join("bundle.sigstore.json"));
        if case.join("key.pub").is_file() {
            cmd.arg("--key").arg(case.join("key.pub"));
        } else {
            let identity =
                read_trimmed(&case.join("identity")).unwrap_or_else(|| DEFAULT_IDENTITY.into());
            let issuer =
                read_trimmed(&case.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.into());
            cmd.args(["--certificate-identity", &identity])
                .args(["--certificate-oidc-issuer", &issuer]);
        }
        let trusted_root = if case.join("trusted_root.json").is_file() {
            case.join("trusted_root.json")
        } else {
            root.join("trusted_root.production.json")
        };
        cmd.arg("--trusted-root").arg(trusted_root);
        let artifact = if case.join("artifact").is_file() {
            case.join("artifact")
        } else {
            root.join("a.txt")
        };
        cmd.arg(artifact);
        let out = cmd.output().expect("run berth verify bundle");
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let ok = match (must_fail, out.status.success()) {
            (false, true) => true,
            // A failure must say why.
            (true, false) => {
                stderr.starts_with("Error: verification failed: ") && stderr.len() > 25
            }
            _ => false,
        };
        if ok {
            passed += 1;
            println!(
                "  ok   {name}: {}",
                if must_fail { &stderr } else { "verified" }
            );
        } else {
            println!(
                "  FAIL {name}: expected {}, got {}: {stderr}",
                if must_fail { "failure" } else { "success" },
                if out.status.success() {
                    "success"
                } else {
                    "failure"
                }
            );
            failures.push(name);
        }
    }
    println!("sigstore conformance: {passed}/{} cases", cases.len());
    assert!(failures.is_empty(), "cases not as expected: {failures:?}");
}
