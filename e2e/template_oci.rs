//! `berth template oci://…` against real `helm template oci://…`: charts
//! pushed with real `helm push` to the real registries, pulled by both
//! tools with the same flags, outputs compared byte for byte — by exact
//! version, by a semver range, by the default (highest release), over TLS
//! with a CA file, and with the credentials `helm registry login` stored.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context as _, Result};

use crate::env::registry::{random_hex, run_output, ClientHome};
use crate::env::Env;

pub fn tests() -> Vec<crate::Test> {
    vec![crate::Test {
        name: "template_oci_matches_helm",
        run: template_oci_matches_helm,
    }]
}

fn corpus() -> PathBuf {
    match std::env::var_os("BERTH_CHART_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/charts"),
    }
}

/// `berth` with the same environment as the client home's tools.
fn berth(home: &ClientHome) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", &home.home)
        .env("DOCKER_CONFIG", &home.docker_config)
        .env("XDG_CONFIG_HOME", home.home.join(".config"))
        .current_dir(&home.home);
    cmd
}

fn stdout_of(cmd: Command, what: &str) -> Result<String> {
    let out = run_output(cmd)?;
    ensure!(
        out.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// Both tools render `reference` with `args`; their outputs must be equal.
fn same_output(env: &Env, home: &ClientHome, reference: &str, args: &[&str]) -> Result<String> {
    let mut helm = home.command(&env.tools, "helm");
    helm.args(["template", "rel", reference]).args(args);
    let helm_out = stdout_of(helm, &format!("helm template {reference} {args:?}"))?;
    let mut ours = berth(home);
    ours.args(["template", "rel", reference]).args(args);
    let berth_out = stdout_of(ours, &format!("berth template {reference} {args:?}"))?;
    ensure!(
        helm_out == berth_out,
        "berth template {reference} {args:?} differs from helm:\n--- helm\n{helm_out}\n--- berth\n{berth_out}"
    );
    Ok(berth_out)
}

fn package(env: &Env, home: &ClientHome, src: &Path) -> Result<PathBuf> {
    let dest = home.tmp.join(format!("pkg-{}", random_hex(4)?));
    std::fs::create_dir_all(&dest)?;
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("package").arg(src).arg("--destination").arg(&dest);
    stdout_of(cmd, "helm package")?;
    let tgz = std::fs::read_dir(&dest)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
        .context("helm package wrote no .tgz")?;
    Ok(tgz)
}

fn push(env: &Env, home: &ClientHome, tgz: &Path, target: &str, flags: &[&str]) -> Result<()> {
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("push").arg(tgz).arg(target).args(flags);
    stdout_of(cmd, "helm push").map(|_| ())
}

fn small_chart(home: &ClientHome, version: &str) -> Result<PathBuf> {
    let src = home.tmp.join(format!("src-{version}")).join("small");
    std::fs::create_dir_all(src.join("templates"))?;
    std::fs::write(
        src.join("Chart.yaml"),
        format!("apiVersion: v2\nname: small\nversion: {version}\n"),
    )?;
    std::fs::write(
        src.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  version: {{ .Chart.Version | quote }}\n",
    )?;
    Ok(src)
}

fn template_oci_matches_helm(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let home = ClientHome::new(env, "template-oci")?;
    let repo = format!("tmpl-{}", random_hex(4)?);
    let plain = &regs.referrers;

    // A real chart of the corpus, by exact version.
    let podinfo = package(env, &home, &corpus().join("podinfo"))?;
    push(
        env,
        &home,
        &podinfo,
        &format!("oci://{}/{repo}", plain.host),
        &["--plain-http"],
    )?;
    let version = berth_chart::load::load_path(&podinfo)?.metadata.version;
    let podinfo_ref = format!("oci://{}/{repo}/podinfo", plain.host);
    let out = same_output(
        env,
        &home,
        &podinfo_ref,
        &[
            "--version",
            &version,
            "--plain-http",
            "--kube-version",
            "1.33.0",
            "--skip-tests",
        ],
    )?;
    ensure!(
        out.contains("kind: Deployment"),
        "podinfo rendered no Deployment:\n{out}"
    );

    // Versions chosen from the tag list.
    for v in ["1.0.0", "1.1.0", "2.0.0-rc.1"] {
        let tgz = package(env, &home, &small_chart(&home, v)?)?;
        push(
            env,
            &home,
            &tgz,
            &format!("oci://{}/{repo}", plain.host),
            &["--plain-http"],
        )?;
    }
    let small_ref = format!("oci://{}/{repo}/small", plain.host);
    let ranged = same_output(env, &home, &small_ref, &["--version", "^1", "--plain-http"])?;
    ensure!(
        ranged.contains("version: \"1.1.0\""),
        "^1 did not pick 1.1.0:\n{ranged}"
    );
    let default = same_output(env, &home, &small_ref, &["--plain-http"])?;
    ensure!(
        default.contains("version: \"1.1.0\""),
        "the default is not the highest release:\n{default}"
    );
    let pre = same_output(
        env,
        &home,
        &small_ref,
        &["--version", "2.0.0-rc.1", "--plain-http"],
    )?;
    ensure!(
        pre.contains("version: \"2.0.0-rc.1\""),
        "an exact pre-release was not used:\n{pre}"
    );

    // A range nothing matches: both fail, berth with helm's words.
    let mut none = berth(&home);
    none.args([
        "template",
        "rel",
        &small_ref,
        "--version",
        ">=9",
        "--plain-http",
    ]);
    let out = run_output(none)?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        !out.status.success()
            && stderr.contains("could not locate a version matching provided version string >=9"),
        "berth template with an unmatched range: {stderr}"
    );

    // TLS with the run's CA.
    let tls = &regs.tls;
    let ca = regs.ca_cert.display().to_string();
    push(
        env,
        &home,
        &podinfo,
        &format!("oci://{}/{repo}", tls.host),
        &["--ca-file", &ca],
    )?;
    same_output(
        env,
        &home,
        &format!("oci://{}/{repo}/podinfo", tls.host),
        &[
            "--version",
            &version,
            "--ca-file",
            &ca,
            "--kube-version",
            "1.33.0",
            "--skip-tests",
        ],
    )?;
    let mut no_ca = berth(&home);
    no_ca.args([
        "template",
        "rel",
        &format!("oci://{}/{repo}/podinfo", tls.host),
        "--version",
        &version,
    ]);
    ensure!(
        !run_output(no_ca)?.status.success(),
        "berth trusted the run's CA without --ca-file"
    );

    // Basic auth with the credentials `helm registry login` stored.
    let auth = &regs.auth;
    let creds = auth
        .credentials
        .as_ref()
        .context("the auth registry has no credentials")?;
    let mut login = home.command(&env.tools, "helm");
    login
        .args([
            "registry",
            "login",
            &auth.host,
            "--plain-http",
            "--username",
            &creds.username,
        ])
        .args(["--password", &creds.password]);
    stdout_of(login, "helm registry login")?;
    let tgz = package(env, &home, &small_chart(&home, "3.0.0")?)?;
    push(
        env,
        &home,
        &tgz,
        &format!("oci://{}/{repo}", auth.host),
        &["--plain-http"],
    )?;
    let authed = same_output(
        env,
        &home,
        &format!("oci://{}/{repo}/small", auth.host),
        &["--version", "3.0.0", "--plain-http"],
    )?;
    ensure!(authed.contains("version: \"3.0.0\""), "{authed}");
    Ok(())
}
