//! Smoke tests of the registry environment: the real helm, cosign (v2 and
//! v3) and oras clients against the real registries of `env::registry`.
//! They prove the peers berth's own e2e tests rely on behave as those tests
//! expect (digests, media types, signature layouts, TLS, auth).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::env::charts::{package_chart, PackagedChart};
use crate::env::registry::{http_send, random_hex, run_fails, run_ok, ClientHome, Registry};
use crate::env::Env;

const HELM_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
const HELM_CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const SIMPLESIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const BUNDLE_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const OCI_INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";
/// Password of the cosign key pairs (`COSIGN_PASSWORD`).
const COSIGN_PASSWORD: &str = "berth-e2e-key-password";

pub fn tests() -> Vec<crate::Test> {
    vec![
        crate::Test {
            name: "registry_helm_push_pull_by_digest",
            run: helm_push_pull_by_digest,
        },
        crate::Test {
            name: "registry_cosign_sign_verify_referrers",
            run: cosign_sign_verify_referrers,
        },
        crate::Test {
            name: "registry_cosign_sign_verify_tag_fallback",
            run: cosign_sign_verify_tag_fallback,
        },
        crate::Test {
            name: "registry_oras_push_pull_media_type",
            run: oras_push_pull_media_type,
        },
        crate::Test {
            name: "registry_tls_needs_the_ca",
            run: tls_needs_the_ca,
        },
        crate::Test {
            name: "registry_basic_auth",
            run: basic_auth,
        },
    ]
}

/// `helm package` + `helm push` to both plain registries, then `helm pull`
/// by digest: the same archive bytes come back, and the manifest names the
/// chart layer by the archive's digest.
fn helm_push_pull_by_digest(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let home = ClientHome::new(env, "helm-push-pull")?;
    let chart = package_chart(env, &home, "smoke", "0.1.0")?;
    for reg in [&regs.referrers, &regs.no_referrers] {
        let repo = format!("charts-{}", random_hex(4)?);
        let digest = helm_push(env, &home, reg, &chart, &repo, &[])?;

        let manifest = get_manifest(env, reg, &format!("{repo}/smoke"), &digest)?
            .context("the pushed chart's manifest is missing")?;
        ensure!(
            manifest.digest == digest,
            "{}: manifest bytes hash to {}, helm reported {digest}",
            reg.name,
            manifest.digest
        );
        let json = manifest.json()?;
        ensure!(
            json["config"]["mediaType"] == HELM_CONFIG_MEDIA_TYPE,
            "{}: unexpected config: {json}",
            reg.name
        );
        let chart_layer = layer_with_media_type(&json, HELM_CHART_MEDIA_TYPE)
            .with_context(|| format!("{}: no chart layer in {json}", reg.name))?;
        ensure!(
            chart_layer["digest"] == sha256_digest(&chart.bytes),
            "{}: chart layer {} is not the packaged archive ({})",
            reg.name,
            chart_layer["digest"],
            sha256_digest(&chart.bytes)
        );

        let dest = home.tmp.join(format!("pull-{}", reg.name));
        std::fs::create_dir_all(&dest)?;
        let mut cmd = home.command(&env.tools, "helm");
        cmd.arg("pull")
            .arg(format!(
                "{}@{digest}",
                reg.oci_url(&format!("{repo}/smoke"))
            ))
            .arg("--plain-http")
            .arg("--destination")
            .arg(&dest);
        run_ok(cmd)?;
        let pulled = read_only_archive(&dest)?;
        ensure!(
            pulled == chart.bytes,
            "{}: pulled archive differs from the pushed one ({} vs {} bytes)",
            reg.name,
            pulled.len(),
            chart.bytes.len()
        );
    }
    Ok(())
}

/// On the registry with the referrers API: cosign v2 signs in the legacy
/// `.sig` tag format and both versions verify that; then cosign v3 adds a
/// Sigstore bundle as a referrer and both verify that (cosign 2.6 and 3
/// prefer bundles when the registry lists any). A second chart is signed
/// only with a bundle, by cosign v2, and verified by v3. A different key
/// fails every time.
fn cosign_sign_verify_referrers(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let reg = &regs.referrers;
    let home = ClientHome::new(env, "cosign-referrers")?;
    let cosign = Cosign::new(env, &home)?;
    let repo = format!("signed-{}", random_hex(4)?);
    let name = format!("{repo}/signed");
    let chart = package_chart(env, &home, "signed", "1.0.0")?;
    let digest = helm_push(env, &home, reg, &chart, &repo, &[])?;
    let image = format!("{}@{digest}", reg.repo(&name));
    let hex = digest_hex(&digest)?;

    // cosign v2, legacy format: one simplesigning layer under sha256-<hex>.sig.
    cosign.sign("cosign-v2", &image, SignFormat::LegacyTag)?;
    let sig = get_manifest(env, reg, &name, &format!("sha256-{hex}.sig"))?
        .context("cosign v2 wrote no .sig tag")?;
    let sig_json = sig.json()?;
    let layers = sig_json["layers"].as_array().cloned().unwrap_or_default();
    ensure!(
        layers.len() == 1 && layers[0]["mediaType"] == SIMPLESIGNING_MEDIA_TYPE,
        "unexpected .sig manifest: {sig_json}"
    );
    let referrers = get_referrers(env, reg, &name, &digest)?;
    ensure!(
        referrers.as_ref().map(referrer_artifact_types) == Some(Vec::new()),
        "the referrers list should be empty (200) before any bundle: {referrers:?}"
    );
    cosign.verify_both_ways(&image)?;

    // cosign v3, bundle format: one referrer with the bundle artifactType.
    cosign.sign("cosign-v3", &image, SignFormat::Bundle)?;
    let referrers =
        get_referrers(env, reg, &name, &digest)?.context("the referrers API answered 404")?;
    ensure!(
        referrer_artifact_types(&referrers) == vec![BUNDLE_V03_MEDIA_TYPE.to_string()],
        "unexpected referrers after cosign v3 sign: {referrers}"
    );
    cosign.verify_both_ways(&image)?;

    // Only a bundle, written by cosign v2: no .sig tag, one referrer.
    let chart2 = package_chart(env, &home, "bundled", "1.0.0")?;
    let digest2 = helm_push(env, &home, reg, &chart2, &repo, &[])?;
    let name2 = format!("{repo}/bundled");
    let image2 = format!("{}@{digest2}", reg.repo(&name2));
    cosign.sign("cosign-v2", &image2, SignFormat::Bundle)?;
    ensure!(
        get_manifest(
            env,
            reg,
            &name2,
            &format!("sha256-{}.sig", digest_hex(&digest2)?)
        )?
        .is_none(),
        "a bundle-only signature also wrote a .sig tag"
    );
    let referrers = get_referrers(env, reg, &name2, &digest2)?.context("referrers 404")?;
    ensure!(
        referrer_artifact_types(&referrers) == vec![BUNDLE_V03_MEDIA_TYPE.to_string()],
        "unexpected referrers after cosign v2 bundle sign: {referrers}"
    );
    cosign.verify_both_ways(&image2)?;
    Ok(())
}

/// On distribution (no referrers API): cosign v3 signs in the legacy format
/// and both versions verify it; then v3 adds a bundle, which lands in the
/// referrers tag schema (an index under tag `sha256-<hex>`), and both
/// versions verify through that fallback.
fn cosign_sign_verify_tag_fallback(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let reg = &regs.no_referrers;
    let home = ClientHome::new(env, "cosign-fallback")?;
    let cosign = Cosign::new(env, &home)?;
    let repo = format!("signed-{}", random_hex(4)?);
    let chart = package_chart(env, &home, "fallback", "2.0.0")?;
    let digest = helm_push(env, &home, reg, &chart, &repo, &[])?;
    let name = format!("{repo}/fallback");
    let image = format!("{}@{digest}", reg.repo(&name));
    let hex = digest_hex(&digest)?;

    ensure!(
        get_referrers(env, reg, &name, &digest)?.is_none(),
        "{} is expected to lack the referrers API",
        reg.name
    );

    cosign.sign("cosign-v3", &image, SignFormat::LegacyTag)?;
    let sig = get_manifest(env, reg, &name, &format!("sha256-{hex}.sig"))?
        .context("cosign v3 wrote no .sig tag")?;
    ensure!(
        layer_with_media_type(&sig.json()?, SIMPLESIGNING_MEDIA_TYPE).is_some(),
        "no simplesigning layer under sha256-{hex}.sig"
    );
    cosign.verify_both_ways(&image)?;

    cosign.sign("cosign-v3", &image, SignFormat::Bundle)?;
    let index = get_manifest(env, reg, &name, &format!("sha256-{hex}"))?
        .context("no referrers fallback tag after the bundle")?;
    ensure!(
        index.media_type == OCI_INDEX_MEDIA_TYPE,
        "the fallback tag sha256-{hex} holds {} rather than an index",
        index.media_type
    );
    let types = referrer_artifact_types(&index.json()?);
    ensure!(
        types == vec![BUNDLE_V03_MEDIA_TYPE.to_string()],
        "unexpected fallback index: {types:?}"
    );
    cosign.verify_both_ways(&image)?;
    Ok(())
}

/// `oras push` of a file with a custom media type and artifact type, then
/// `oras pull` gets the same bytes back.
fn oras_push_pull_media_type(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let home = ClientHome::new(env, "oras")?;
    let media_type = "application/vnd.berth.e2e.payload.v1+text";
    let artifact_type = "application/vnd.berth.e2e.artifact.v1";
    for reg in [&regs.referrers, &regs.no_referrers] {
        let work = home.tmp.join(format!("oras-{}", reg.name));
        std::fs::create_dir_all(&work)?;
        let content = format!("berth e2e payload {}\n", random_hex(16)?);
        std::fs::write(work.join("payload.txt"), &content)?;
        let name = format!("oras-{}/payload", random_hex(4)?);
        let reference = format!("{}:v1", reg.repo(&name));

        let mut cmd = home.command(&env.tools, "oras");
        cmd.current_dir(&work)
            .args(["push", "--plain-http", "--artifact-type", artifact_type])
            .arg(&reference)
            .arg(format!("payload.txt:{media_type}"));
        run_ok(cmd)?;

        let manifest = get_manifest(env, reg, &name, "v1")?.context("oras push left no tag v1")?;
        let json = manifest.json()?;
        ensure!(
            json["artifactType"] == artifact_type,
            "{}: artifactType in {json}",
            reg.name
        );
        let layer = layer_with_media_type(&json, media_type)
            .with_context(|| format!("{}: no {media_type} layer in {json}", reg.name))?;
        ensure!(
            layer["digest"] == sha256_digest(content.as_bytes())
                && layer["annotations"]["org.opencontainers.image.title"] == "payload.txt",
            "{}: unexpected layer {layer}",
            reg.name
        );

        let out = work.join("pulled");
        let mut cmd = home.command(&env.tools, "oras");
        cmd.args(["pull", "--plain-http", "-o"])
            .arg(&out)
            .arg(format!("{}@{}", reg.repo(&name), manifest.digest));
        run_ok(cmd)?;
        let pulled = std::fs::read_to_string(out.join("payload.txt"))?;
        ensure!(pulled == content, "{}: pulled {pulled:?}", reg.name);
    }
    Ok(())
}

/// The TLS registry accepts helm, cosign and oras when they are given the
/// run's CA, and they refuse to talk to it without.
fn tls_needs_the_ca(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let reg = &regs.tls;
    let ca = regs.ca_cert.as_path();
    let home = ClientHome::new(env, "tls")?;
    let repo = format!("tls-{}", random_hex(4)?);

    // helm: push and pull by digest with --ca-file; without it, both fail
    // on the certificate.
    let chart = package_chart(env, &home, "secure", "0.3.0")?;
    let ca_flag = ["--ca-file".to_string(), ca.display().to_string()];
    let digest = helm_push(env, &home, reg, &chart, &repo, &ca_flag)?;
    let reference = format!("{}@{digest}", reg.oci_url(&format!("{repo}/secure")));
    let dest = home.tmp.join("pull-tls");
    std::fs::create_dir_all(&dest)?;
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("pull")
        .arg(&reference)
        .args(&ca_flag)
        .arg("--destination")
        .arg(&dest);
    run_ok(cmd)?;
    ensure!(
        read_only_archive(&dest)? == chart.bytes,
        "the chart pulled over TLS differs from the pushed one"
    );

    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("push").arg(&chart.path).arg(reg.oci_url(&repo));
    expect_certificate_error("helm push", run_fails(cmd)?)?;
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("pull")
        .arg(&reference)
        .arg("--destination")
        .arg(&dest);
    expect_certificate_error("helm pull", run_fails(cmd)?)?;

    // cosign: signs and verifies with --registry-cacert, and cannot even
    // sign without it.
    let cosign = Cosign::new(env, &home)?;
    let image = format!("{}@{digest}", reg.repo(&format!("{repo}/secure")));
    cosign.sign("cosign-v3", &image, SignFormat::Bundle)?;
    cosign.verify_both_ways(&image)?;
    let mut cmd = home.command(&env.tools, "cosign-v3");
    cmd.env("COSIGN_PASSWORD", COSIGN_PASSWORD)
        .args(["sign", "--key"])
        .arg(&cosign.key)
        .args(["--tlog-upload=false", "--use-signing-config=false", "--yes"])
        .arg(&image);
    expect_certificate_error("cosign sign", run_fails(cmd)?)?;

    // oras: the same with its --ca-file.
    let work = home.tmp.join("oras-tls");
    std::fs::create_dir_all(&work)?;
    std::fs::write(work.join("note.txt"), "over TLS\n")?;
    let target = format!("{}:v1", reg.repo(&format!("{repo}/note")));
    let mut cmd = home.command(&env.tools, "oras");
    cmd.current_dir(&work)
        .arg("push")
        .arg("--ca-file")
        .arg(ca)
        .arg(&target)
        .arg("note.txt");
    run_ok(cmd)?;
    let mut cmd = home.command(&env.tools, "oras");
    cmd.current_dir(&work)
        .arg("push")
        .arg(&target)
        .arg("note.txt");
    expect_certificate_error("oras push", run_fails(cmd)?)?;
    let mut cmd = home.command(&env.tools, "oras");
    cmd.args(["manifest", "fetch", "--ca-file"])
        .arg(ca)
        .arg(&target);
    run_ok(cmd)?;

    // Our own HTTP client with only the system roots refuses it too.
    let plain = {
        let _rt = env.rt.enter();
        reqwest::Client::builder().no_proxy().build()?
    };
    let url = format!("{}/v2/", reg.base_url());
    let refused = http_send(env, plain.get(&url));
    ensure!(refused.is_err(), "GET {url} without the CA succeeded");
    Ok(())
}

/// The basic-auth registry answers 401 without or with wrong credentials,
/// and accepts the right ones from oras, helm and (through the docker
/// config oras wrote) cosign.
fn basic_auth(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let reg = &regs.auth;
    let creds = reg
        .credentials
        .as_ref()
        .context("the auth registry has no credentials")?;
    let client = regs.http_client();
    let url = format!("{}/v2/", reg.base_url());

    let status = |req: reqwest::RequestBuilder| -> Result<(u16, String)> {
        let resp = http_send(env, req)?;
        Ok((resp.status, resp.header("www-authenticate").to_string()))
    };
    let (code, challenge) = status(client.get(&url))?;
    ensure!(
        code == 401 && challenge.starts_with("Basic "),
        "anonymous GET /v2/: {code} {challenge:?}"
    );
    let (code, _) = status(client.get(&url).basic_auth(&creds.username, Some("wrong")))?;
    ensure!(code == 401, "GET /v2/ with a wrong password: {code}");
    let (code, _) = status(client.get(&url).basic_auth("nobody", Some(&creds.password)))?;
    ensure!(code == 401, "GET /v2/ with a wrong user: {code}");
    let (code, _) = status(
        client
            .get(&url)
            .basic_auth(&creds.username, Some(&creds.password)),
    )?;
    ensure!(code == 200, "GET /v2/ with the credentials: {code}");

    let home = ClientHome::new(env, "auth")?;
    let repo = format!("auth-{}", random_hex(4)?);
    let work = home.tmp.join("oras-auth");
    std::fs::create_dir_all(&work)?;
    std::fs::write(work.join("secret.txt"), "behind basic auth\n")?;
    let target = format!("{}:v1", reg.repo(&format!("{repo}/secret")));

    // oras: anonymous and wrong password fail with 401, right ones push.
    let oras_push = |extra: &[&str]| {
        let mut cmd = home.command(&env.tools, "oras");
        cmd.current_dir(&work)
            .args(["push", "--plain-http"])
            .args(extra)
            .arg(&target)
            .arg("secret.txt");
        cmd
    };
    expect_unauthorized("oras push (anonymous)", run_fails(oras_push(&[]))?)?;
    expect_unauthorized(
        "oras push (wrong password)",
        run_fails(oras_push(&["-u", &creds.username, "-p", "wrong"]))?,
    )?;
    run_ok(oras_push(&["-u", &creds.username, "-p", &creds.password]))?;

    // helm: registry login refuses a wrong password; after a good login,
    // push works with the stored credentials.
    let helm_login = |password: &str| {
        let mut cmd = home.command(&env.tools, "helm");
        cmd.args(["registry", "login", "--plain-http", &reg.host])
            .args(["--username", &creds.username, "--password", password]);
        cmd
    };
    expect_unauthorized("helm registry login", run_fails(helm_login("wrong"))?)?;
    let chart = package_chart(env, &home, "private", "0.0.1")?;
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("push")
        .arg(&chart.path)
        .arg(reg.oci_url(&repo))
        .arg("--plain-http");
    expect_unauthorized("helm push before login", run_fails(cmd)?)?;
    run_ok(helm_login(&creds.password))?;
    let digest = helm_push(env, &home, reg, &chart, &repo, &[])?;

    // cosign reads the docker config that `oras login` writes into the
    // client home.
    let cosign = Cosign::new(env, &home)?;
    let image = format!("{}@{digest}", reg.repo(&format!("{repo}/private")));
    let err = cosign
        .sign("cosign-v3", &image, SignFormat::LegacyTag)
        .err()
        .context("cosign signed without credentials")?;
    expect_unauthorized("cosign sign (anonymous)", format!("{err:#}"))?;
    let mut cmd = home.command(&env.tools, "oras");
    cmd.args(["login", "--plain-http", &reg.host]).args([
        "-u",
        &creds.username,
        "-p",
        &creds.password,
    ]);
    run_ok(cmd)?;
    ensure!(
        home.docker_config.join("config.json").is_file(),
        "oras login wrote no config.json under DOCKER_CONFIG"
    );
    cosign.sign("cosign-v3", &image, SignFormat::LegacyTag)?;
    cosign.verify("cosign-v3", &cosign.public, &image)?;
    Ok(())
}

fn expect_certificate_error(what: &str, out: String) -> Result<()> {
    ensure!(
        out.contains("certificate") || out.contains("x509"),
        "{what} failed, but not on the certificate:\n{out}"
    );
    Ok(())
}

fn expect_unauthorized(what: &str, out: String) -> Result<()> {
    let lower = out.to_lowercase();
    // oras words the answer to a Basic challenge it has no credentials for
    // as "basic credential not found".
    ensure!(
        lower.contains("401")
            || lower.contains("unauthorized")
            || lower.contains("basic credential not found"),
        "{what} failed, but not with 401:\n{out}"
    );
    Ok(())
}

/// `helm push` the chart to `oci://<reg>/<repo>` and return the digest it
/// reports. `extra` replaces `--plain-http` on the TLS registry.
fn helm_push(
    env: &Env,
    home: &ClientHome,
    reg: &Registry,
    chart: &PackagedChart,
    repo: &str,
    extra: &[String],
) -> Result<String> {
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("push").arg(&chart.path).arg(reg.oci_url(repo));
    if !reg.tls {
        cmd.arg("--plain-http");
    }
    cmd.args(extra);
    let out = run_output_text(cmd)?;
    let digest = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Digest: "))
        .with_context(|| format!("no digest in helm push output:\n{out}"))?
        .trim()
        .to_string();
    digest_hex(&digest)?;
    Ok(digest)
}

/// stdout and stderr of a command that must succeed (helm prints its push
/// summary on stderr).
fn run_output_text(cmd: Command) -> Result<String> {
    let out = crate::env::registry::run_output(cmd)?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!("command failed ({}):\n{text}", out.status);
    }
    Ok(text)
}

/// Two cosign key pairs and an empty trusted root, in one client home.
struct Cosign<'a> {
    env: &'a Env,
    home: &'a ClientHome,
    key: PathBuf,
    public: PathBuf,
    /// The public key of an unrelated pair.
    other_public: PathBuf,
    /// A trusted root with no services (`cosign trusted-root create` with
    /// no flags): given to `verify` so that neither version fetches the
    /// public Sigstore root over the network. Key-based verification with
    /// `--insecure-ignore-tlog` needs nothing from it.
    trusted_root: PathBuf,
}

#[derive(Clone, Copy)]
enum SignFormat {
    /// Simple-signing payload under the `sha256-<hex>.sig` tag.
    LegacyTag,
    /// Sigstore bundle v0.3 attached as an OCI referrer.
    Bundle,
}

impl SignFormat {
    fn name(self) -> &'static str {
        match self {
            SignFormat::LegacyTag => "legacy .sig tag",
            SignFormat::Bundle => "bundle via referrers",
        }
    }
}

impl<'a> Cosign<'a> {
    fn new(env: &'a Env, home: &'a ClientHome) -> Result<Cosign<'a>> {
        let signer = generate_key_pair(env, home, "signer")?;
        let other = generate_key_pair(env, home, "other")?;
        let trusted_root = home.tmp.join("empty-trusted-root.json");
        let mut cmd = home.command(&env.tools, "cosign-v3");
        cmd.args(["trusted-root", "create", "--out"])
            .arg(&trusted_root);
        run_ok(cmd)?;
        Ok(Cosign {
            env,
            home,
            key: signer.join("cosign.key"),
            public: signer.join("cosign.pub"),
            other_public: other.join("cosign.pub"),
            trusted_root,
        })
    }

    /// Registry flags: plain HTTP, or the run's CA for the TLS registry.
    fn registry_flags(&self, image: &str) -> Result<Vec<String>> {
        let regs = self.env.registries()?;
        if image.starts_with(&format!("{}/", regs.tls.host)) {
            Ok(vec![format!(
                "--registry-cacert={}",
                regs.ca_cert.display()
            )])
        } else {
            Ok(vec!["--allow-http-registry".into()])
        }
    }

    /// Sign with the key, offline: no transparency log, no TUF signing
    /// config.
    fn sign(&self, tool: &str, image: &str, format: SignFormat) -> Result<()> {
        let mut cmd = self.home.command(&self.env.tools, tool);
        cmd.env("COSIGN_PASSWORD", COSIGN_PASSWORD)
            .arg("sign")
            .arg("--key")
            .arg(&self.key)
            .args(["--tlog-upload=false", "--use-signing-config=false", "--yes"])
            .arg(match format {
                SignFormat::LegacyTag => "--new-bundle-format=false",
                SignFormat::Bundle => "--new-bundle-format=true",
            })
            .args(self.registry_flags(image)?)
            .arg(image);
        run_ok(cmd)
            .map(|_| ())
            .with_context(|| format!("{tool} sign ({})", format.name()))
    }

    fn verify_command(&self, tool: &str, public: &Path, image: &str) -> Result<Command> {
        let mut cmd = self.home.command(&self.env.tools, tool);
        cmd.arg("verify")
            .arg("--key")
            .arg(public)
            .arg("--insecure-ignore-tlog=true")
            .arg("--trusted-root")
            .arg(&self.trusted_root)
            .args(self.registry_flags(image)?)
            .arg(image);
        Ok(cmd)
    }

    fn verify(&self, tool: &str, public: &Path, image: &str) -> Result<()> {
        let out = run_output_text(self.verify_command(tool, public, image)?)
            .with_context(|| format!("{tool} verify {image}"))?;
        ensure!(
            out.contains("The signatures were verified against the specified public key"),
            "{tool} verify succeeded without saying what it verified:\n{out}"
        );
        Ok(())
    }

    fn verify_fails(&self, tool: &str, public: &Path, image: &str) -> Result<()> {
        let out = run_fails(self.verify_command(tool, public, image)?)
            .with_context(|| format!("{tool} verify {image} with {}", public.display()))?;
        ensure!(
            !out.contains("The signatures were verified"),
            "{tool} verify failed yet reported a verification:\n{out}"
        );
        Ok(())
    }

    /// Both cosign versions verify `image` with the signing key and refuse
    /// it with the other key.
    fn verify_both_ways(&self, image: &str) -> Result<()> {
        for tool in ["cosign-v2", "cosign-v3"] {
            self.verify(tool, &self.public, image)?;
            self.verify_fails(tool, &self.other_public, image)?;
        }
        Ok(())
    }
}

fn generate_key_pair(env: &Env, home: &ClientHome, name: &str) -> Result<PathBuf> {
    let dir = home.tmp.join(format!("keys-{name}"));
    std::fs::create_dir_all(&dir)?;
    let mut cmd = home.command(&env.tools, "cosign-v2");
    cmd.current_dir(&dir)
        .env("COSIGN_PASSWORD", COSIGN_PASSWORD)
        .arg("generate-key-pair");
    run_ok(cmd)?;
    for f in ["cosign.key", "cosign.pub"] {
        ensure!(
            dir.join(f).is_file(),
            "cosign generate-key-pair wrote no {f}"
        );
    }
    Ok(dir)
}

/// The one `.tgz` that `helm pull` wrote into `dir` (pulled by digest, helm
/// names it `<chart>@sha256-<hex>.tgz`).
fn read_only_archive(dir: &Path) -> Result<Vec<u8>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "tgz") {
            found.push(path);
        }
    }
    match found.as_slice() {
        [one] => Ok(std::fs::read(one)?),
        _ => bail!("expected one .tgz in {}, found {found:?}", dir.display()),
    }
}

struct Manifest {
    bytes: Vec<u8>,
    media_type: String,
    digest: String,
}

impl Manifest {
    fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.bytes).context("manifest is not JSON")
    }
}

fn authorized(reg: &Registry, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match &reg.credentials {
        Some(c) => req.basic_auth(&c.username, Some(&c.password)),
        None => req,
    }
}

/// GET a manifest by tag or digest, straight from the registry API;
/// `None` on 404.
fn get_manifest(
    env: &Env,
    reg: &Registry,
    name: &str,
    reference: &str,
) -> Result<Option<Manifest>> {
    let client = env.registries()?.http_client();
    let url = format!("{}/v2/{name}/manifests/{reference}", reg.base_url());
    let resp = http_send(
        env,
        authorized(reg, client.get(&url)).header("Accept", MANIFEST_ACCEPT),
    )?;
    if resp.status == 404 {
        return Ok(None);
    }
    ensure!(
        resp.status == 200,
        "GET {url}: {}: {}",
        resp.status,
        String::from_utf8_lossy(&resp.body)
    );
    let media_type = resp.header("content-type").to_string();
    let bytes = resp.body;
    let digest = sha256_digest(&bytes);
    Ok(Some(Manifest {
        bytes,
        media_type,
        digest,
    }))
}

/// The referrers index of `digest`, or `None` when the registry answers 404
/// (no referrers API).
fn get_referrers(env: &Env, reg: &Registry, name: &str, digest: &str) -> Result<Option<Value>> {
    let client = env.registries()?.http_client();
    let url = format!("{}/v2/{name}/referrers/{digest}", reg.base_url());
    let resp = http_send(env, authorized(reg, client.get(&url)))?;
    if resp.status == 404 {
        return Ok(None);
    }
    ensure!(resp.status == 200, "GET {url}: {}", resp.status);
    Ok(Some(
        serde_json::from_slice(&resp.body).context("referrers index is not JSON")?,
    ))
}

fn referrer_artifact_types(index: &Value) -> Vec<String> {
    index["manifests"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| m["artifactType"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn layer_with_media_type<'a>(manifest: &'a Value, media_type: &str) -> Option<&'a Value> {
    manifest["layers"]
        .as_array()?
        .iter()
        .find(|l| l["mediaType"] == media_type)
}

fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn digest_hex(digest: &str) -> Result<&str> {
    match digest.strip_prefix("sha256:") {
        Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(hex),
        _ => bail!("not a sha256 digest: {digest:?}"),
    }
}
