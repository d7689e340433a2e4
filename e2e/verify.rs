//! berth-verify against real cosign signatures on the real registries:
//! charts pushed by the real `helm push`, signed offline by the real
//! `cosign-v2`/`cosign-v3` (no transparency log), and verified by berth
//! through berth-oci. One test per case; every refusal asserts its reason.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use berth_oci::{Client, ClientOptions, Credentials, Digest};
use berth_verify::{
    Format, IdentityMatcher, Policy, PublicKey, Signer, TlogRequirement, TrustMaterial, Verified,
    Verifier,
};

use crate::env::registry::{random_hex, run_ok, ClientHome, Registry};
use crate::env::Env;

const COSIGN_PASSWORD: &str = "berth-verify-e2e";
const ISSUER: &str = "https://issuer.berth.test";
const SUBJECT: &str = "release-bot@berth.test";
const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";

pub fn tests() -> Vec<crate::Test> {
    macro_rules! t {
        ($name:ident) => {
            crate::Test {
                name: stringify!($name),
                run: $name,
            }
        };
    }
    vec![
        t!(verify_cosign_v2_legacy_key),
        t!(verify_cosign_v3_legacy_key_without_referrers),
        t!(verify_cosign_v3_bundle_key_referrers),
        t!(verify_cosign_v3_bundle_key_tag_fallback),
        t!(verify_any_of_several_keys),
        t!(verify_key_types),
        t!(verify_refuses_unsigned),
        t!(verify_refuses_other_key),
        t!(verify_refuses_signature_copied_from_another_digest),
        t!(verify_refuses_tampered_payload),
        t!(verify_refuses_retagged_chart),
        t!(verify_refuses_promoted_copy_without_signatures),
        t!(verify_certificate_identity),
        t!(verify_refuses_expired_certificate),
        t!(verify_refuses_bundle_with_swapped_certificate),
        t!(verify_attestation_gate),
        t!(verify_reconciler_adapter),
    ]
}

/// A client home with a cosign key pair (`signer`) and another (`other`).
struct Kit<'a> {
    env: &'a Env,
    home: ClientHome,
}

struct Pushed {
    /// `repo/name` inside the registry.
    name: String,
    digest: String,
    /// `host/repo/name@digest`, for cosign.
    image: String,
}

impl<'a> Kit<'a> {
    fn new(env: &'a Env, name: &str) -> Result<Kit<'a>> {
        let kit = Kit {
            env,
            home: ClientHome::new(env, name)?,
        };
        for pair in ["signer", "other"] {
            let dir = kit.dir(pair);
            std::fs::create_dir_all(&dir)?;
            let mut cmd = kit.cmd("cosign-v2");
            cmd.current_dir(&dir).arg("generate-key-pair");
            run_ok(cmd).with_context(|| format!("cosign generate-key-pair ({pair})"))?;
        }
        Ok(kit)
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.home.tmp.join(name)
    }

    fn key(&self, pair: &str) -> PathBuf {
        self.dir(pair).join("cosign.key")
    }

    fn public(&self, pair: &str) -> Result<Vec<PublicKey>> {
        let pem = std::fs::read(self.dir(pair).join("cosign.pub"))?;
        Ok(PublicKey::parse_pem(&format!("{pair}.pub"), &pem)?)
    }

    fn cmd(&self, tool: &str) -> Command {
        let mut cmd = self.home.command(&self.env.tools, tool);
        cmd.env("COSIGN_PASSWORD", COSIGN_PASSWORD);
        cmd
    }

    /// `helm package` a small chart and `helm push` it; `salt` changes
    /// its content (so its digest).
    fn push_chart(
        &self,
        reg: &Registry,
        repo: &str,
        name: &str,
        version: &str,
        salt: &str,
    ) -> Result<Pushed> {
        let src = self
            .home
            .tmp
            .join(format!("src-{name}-{version}-{salt}"))
            .join(name);
        std::fs::create_dir_all(src.join("templates"))?;
        std::fs::write(
            src.join("Chart.yaml"),
            format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
        )?;
        std::fs::write(src.join("values.yaml"), format!("salt: {salt:?}\n"))?;
        std::fs::write(
            src.join("templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  salt: {{ .Values.salt | quote }}\n",
        )?;
        let dest = self.home.tmp.join(format!("pkg-{name}-{version}-{salt}"));
        std::fs::create_dir_all(&dest)?;
        let mut cmd = self.home.command(&self.env.tools, "helm");
        cmd.arg("package").arg(&src).arg("--destination").arg(&dest);
        run_ok(cmd)?;
        let mut cmd = self.home.command(&self.env.tools, "helm");
        cmd.arg("push")
            .arg(dest.join(format!("{name}-{version}.tgz")))
            .arg(reg.oci_url(repo))
            .arg("--plain-http");
        let out = crate::env::registry::run_output(cmd)?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ensure!(out.status.success(), "helm push failed:\n{text}");
        let digest = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Digest: "))
            .with_context(|| format!("no digest in helm push output:\n{text}"))?
            .trim()
            .to_string();
        let name = format!("{repo}/{name}");
        Ok(Pushed {
            image: format!("{}@{digest}", reg.repo(&name)),
            name,
            digest,
        })
    }

    /// `cosign sign --key` offline (no tlog, no signing config).
    fn sign(&self, tool: &str, pair: &str, image: &str, bundle: bool) -> Result<()> {
        let mut cmd = self.cmd(tool);
        cmd.arg("sign")
            .arg("--key")
            .arg(self.key(pair))
            .args(["--tlog-upload=false", "--use-signing-config=false", "--yes"])
            .arg(format!("--new-bundle-format={bundle}"))
            .arg("--allow-http-registry")
            .arg(image);
        run_ok(cmd).with_context(|| format!("{tool} sign (bundle: {bundle})"))?;
        Ok(())
    }

    fn oras(&self, args: &[&str]) -> Result<String> {
        let mut cmd = self.home.command(&self.env.tools, "oras");
        cmd.args(args);
        run_ok(cmd)
    }
}

fn key_policy(keys: Vec<PublicKey>) -> Result<Policy> {
    Ok(Policy::new(keys, Vec::new())?)
}

/// Run berth-verify for `pushed` on `reg`.
fn berth_verify(
    env: &Env,
    reg: &Registry,
    name: &str,
    digest: &str,
    policy: Policy,
) -> Result<std::result::Result<Verified, berth_verify::Error>> {
    let client = {
        let _rt = env.rt.enter();
        Client::new(
            &reg.host,
            Credentials::Anonymous,
            ClientOptions {
                insecure: true,
                timeout: Duration::from_secs(30),
                ..ClientOptions::default()
            },
        )?
    };
    let verifier = Verifier::new(policy)?;
    let digest = Digest::parse(digest)?;
    Ok(env.rt.block_on(verifier.verify(&client, name, &digest)))
}

fn expect_ok(r: std::result::Result<Verified, berth_verify::Error>) -> Result<Verified> {
    r.map_err(|e| anyhow::anyhow!("berth refused a good signature ({}): {e}", e.reason()))
}

fn expect_refused(
    r: std::result::Result<Verified, berth_verify::Error>,
    reason: &str,
    message_parts: &[&str],
) -> Result<String> {
    match r {
        Ok(v) => bail!("berth accepted what it must refuse: {v:?}"),
        Err(e) => {
            let msg = e.to_string();
            ensure!(
                e.reason() == reason,
                "refused with reason {} instead of {reason}: {msg}",
                e.reason()
            );
            for part in message_parts {
                ensure!(msg.contains(part), "message lacks {part:?}: {msg}");
            }
            println!("    refused as expected ({reason}): {msg}");
            Ok(msg)
        }
    }
}

fn expect_key_signer(v: &Verified, name: &str, format: Format) -> Result<()> {
    ensure!(
        v.format == format,
        "verified through {:?}, expected {format:?}",
        v.format
    );
    match &v.signer {
        Signer::Key {
            name: n,
            fingerprint,
        } => ensure!(
            n == name && fingerprint.starts_with("sha256:"),
            "signer {n} {fingerprint}"
        ),
        other => bail!("unexpected signer {other:?}"),
    }
    Ok(())
}

fn verify_cosign_v2_legacy_key(env: &Env) -> Result<()> {
    let reg = &env.registries()?.referrers;
    let kit = Kit::new(env, "verify-v2-legacy")?;
    let repo = format!("v2legacy-{}", random_hex(4)?);
    let p = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
    kit.sign("cosign-v2", "signer", &p.image, false)?;
    let v = expect_ok(berth_verify(
        env,
        reg,
        &p.name,
        &p.digest,
        key_policy(kit.public("signer")?)?,
    )?)?;
    expect_key_signer(&v, "signer.pub", Format::Legacy)
}

fn verify_cosign_v3_legacy_key_without_referrers(env: &Env) -> Result<()> {
    let reg = &env.registries()?.no_referrers;
    let kit = Kit::new(env, "verify-v3-legacy")?;
    let repo = format!("v3legacy-{}", random_hex(4)?);
    let p = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
    kit.sign("cosign-v3", "signer", &p.image, false)?;
    let v = expect_ok(berth_verify(
        env,
        reg,
        &p.name,
        &p.digest,
        key_policy(kit.public("signer")?)?,
    )?)?;
    expect_key_signer(&v, "signer.pub", Format::Legacy)
}

fn verify_cosign_v3_bundle_key_referrers(env: &Env) -> Result<()> {
    let reg = &env.registries()?.referrers;
    let kit = Kit::new(env, "verify-v3-bundle")?;
    let repo = format!("v3bundle-{}", random_hex(4)?);
    let p = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
    kit.sign("cosign-v3", "signer", &p.image, true)?;
    let v = expect_ok(berth_verify(
        env,
        reg,
        &p.name,
        &p.digest,
        key_policy(kit.public("signer")?)?,
    )?)?;
    expect_key_signer(&v, "signer.pub", Format::Bundle)
}

fn verify_cosign_v3_bundle_key_tag_fallback(env: &Env) -> Result<()> {
    let reg = &env.registries()?.no_referrers;
    let kit = Kit::new(env, "verify-v3-fallback")?;
    let repo = format!("v3fallback-{}", random_hex(4)?);
    let p = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
    kit.sign("cosign-v3", "signer", &p.image, true)?;
    let v = expect_ok(berth_verify(
        env,
        reg,
        &p.name,
        &p.digest,
        key_policy(kit.public("signer")?)?,
    )?)?;
    expect_key_signer(&v, "signer.pub", Format::Bundle)
}

/// P-384, Ed25519 and RSA keys (made by openssl, imported by cosign):
/// legacy signatures by cosign v2 and bundles by cosign v3 verify with the
/// matching `.pub`, and not with the P-256 key.
fn verify_key_types(env: &Env) -> Result<()> {
    let reg = &env.registries()?.referrers;
    let kit = Kit::new(env, "verify-key-types")?;
    let repo = format!("keytypes-{}", random_hex(4)?);
    for (alg, genpkey) in [
        (
            "p384",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"][..],
        ),
        ("ed25519", &["-algorithm", "ed25519"][..]),
        (
            "rsa",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..],
        ),
    ] {
        let dir = kit.dir(alg);
        std::fs::create_dir_all(&dir)?;
        let mut cmd = Command::new("openssl");
        cmd.current_dir(&dir)
            .arg("genpkey")
            .args(genpkey)
            .args(["-out", "key.pem"]);
        run_ok(cmd).with_context(|| format!("openssl genpkey ({alg})"))?;
        let mut cmd = kit.cmd("cosign-v2");
        cmd.current_dir(&dir).args([
            "import-key-pair",
            "--key",
            "key.pem",
            "--output-key-prefix",
            "cosign",
        ]);
        run_ok(cmd).with_context(|| format!("cosign import-key-pair ({alg})"))?;
        for (tool, bundle) in [("cosign-v2", false), ("cosign-v3", true)] {
            let p = kit.push_chart(reg, &repo, &format!("{alg}-{tool}"), "1.0.0", alg)?;
            kit.sign(tool, alg, &p.image, bundle)?;
            let v = expect_ok(berth_verify(
                env,
                reg,
                &p.name,
                &p.digest,
                key_policy(kit.public(alg)?)?,
            )?)
            .with_context(|| format!("{alg} signed by {tool}"))?;
            expect_key_signer(
                &v,
                &format!("{alg}.pub"),
                if bundle {
                    Format::Bundle
                } else {
                    Format::Legacy
                },
            )?;
            expect_refused(
                berth_verify(
                    env,
                    reg,
                    &p.name,
                    &p.digest,
                    key_policy(kit.public("signer")?)?,
                )?,
                "SignatureMismatch",
                &["signature does not match key signer.pub"],
            )?;
        }
    }
    Ok(())
}

/// A policy with several keys accepts a signature by any of them, and
/// names the one that matched.
fn verify_any_of_several_keys(env: &Env) -> Result<()> {
    let reg = &env.registries()?.referrers;
    let kit = Kit::new(env, "verify-several")?;
    let repo = format!("several-{}", random_hex(4)?);
    let p = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
    kit.sign("cosign-v3", "other", &p.image, true)?;
    let mut keys = kit.public("signer")?;
    keys.extend(kit.public("other")?);
    let v = expect_ok(berth_verify(
        env,
        reg,
        &p.name,
        &p.digest,
        key_policy(keys)?,
    )?)?;
    expect_key_signer(&v, "other.pub", Format::Bundle)
}

fn verify_refuses_unsigned(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let kit = Kit::new(env, "verify-unsigned")?;
    for (reg, looked) in [
        (&regs.referrers, "referrers"),
        (&regs.no_referrers, "referrers tag sha256-"),
    ] {
        let repo = format!("unsigned-{}", random_hex(4)?);
        let p = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
        let hex = p.digest.trim_start_matches("sha256:");
        expect_refused(
            berth_verify(
                env,
                reg,
                &p.name,
                &p.digest,
                key_policy(kit.public("signer")?)?,
            )?,
            "SignatureNotFound",
            &[&p.digest, looked, &format!("tag sha256-{hex}.sig")],
        )?;
    }
    Ok(())
}

fn verify_refuses_other_key(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let kit = Kit::new(env, "verify-other-key")?;
    for (reg, tool, bundle) in [
        (&regs.referrers, "cosign-v2", false),
        (&regs.referrers, "cosign-v3", true),
        (&regs.no_referrers, "cosign-v3", true),
    ] {
        let repo = format!("otherkey-{}", random_hex(4)?);
        let p = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
        kit.sign(tool, "other", &p.image, bundle)?;
        expect_refused(
            berth_verify(
                env,
                reg,
                &p.name,
                &p.digest,
                key_policy(kit.public("signer")?)?,
            )?,
            "SignatureMismatch",
            &["signature does not match key signer.pub", &p.digest],
        )?;
    }
    Ok(())
}

/// The `.sig` manifest of chart A copied to chart B's signature tag: the
/// signature is genuine, but its payload names A.
fn verify_refuses_signature_copied_from_another_digest(env: &Env) -> Result<()> {
    let reg = &env.registries()?.no_referrers;
    let kit = Kit::new(env, "verify-copied-sig")?;
    let repo = format!("copied-{}", random_hex(4)?);
    let a = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
    let b = kit.push_chart(reg, &repo, "app", "1.0.1", "b")?;
    kit.sign("cosign-v2", "signer", &a.image, false)?;
    let a_tag = format!("sha256-{}.sig", a.digest.trim_start_matches("sha256:"));
    let b_tag = format!("sha256-{}.sig", b.digest.trim_start_matches("sha256:"));
    let manifest = kit.oras(&[
        "manifest",
        "fetch",
        "--plain-http",
        &format!("{}:{a_tag}", reg.repo(&a.name)),
    ])?;
    let file = kit.home.tmp.join("copied-sig.json");
    std::fs::write(&file, manifest.trim())?;
    kit.oras(&[
        "manifest",
        "push",
        "--plain-http",
        &format!("{}:{b_tag}", reg.repo(&b.name)),
        &file.display().to_string(),
    ])?;
    expect_refused(
        berth_verify(
            env,
            reg,
            &b.name,
            &b.digest,
            key_policy(kit.public("signer")?)?,
        )?,
        "PayloadDigestMismatch",
        &[
            &format!("the signed payload is for {}", a.digest),
            &b.digest,
        ],
    )?;
    // Add a valid bundle of B by an untrusted key: two candidates, each
    // failing one part of the policy, still make no verified signature.
    kit.sign("cosign-v3", "other", &b.image, true)?;
    expect_refused(
        berth_verify(
            env,
            reg,
            &b.name,
            &b.digest,
            key_policy(kit.public("signer")?)?,
        )?,
        "SignatureVerificationFailed",
        &[
            "signature does not match key signer.pub",
            &format!("the signed payload is for {}", a.digest),
        ],
    )?;
    // A itself still verifies.
    expect_ok(berth_verify(
        env,
        reg,
        &a.name,
        &a.digest,
        key_policy(kit.public("signer")?)?,
    )?)?;
    Ok(())
}

/// The simple-signing payload replaced by an edited copy (same digest
/// claim, one more annotation), the signature annotation kept.
fn verify_refuses_tampered_payload(env: &Env) -> Result<()> {
    let reg = &env.registries()?.referrers;
    let kit = Kit::new(env, "verify-tampered")?;
    let repo = format!("tampered-{}", random_hex(4)?);
    let p = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
    kit.sign("cosign-v2", "signer", &p.image, false)?;
    let tag = format!("sha256-{}.sig", p.digest.trim_start_matches("sha256:"));
    let sig_ref = format!("{}:{tag}", reg.repo(&p.name));
    let manifest: serde_json::Value =
        serde_json::from_str(&kit.oras(&["manifest", "fetch", "--plain-http", &sig_ref])?)?;
    let layer_digest = manifest["layers"][0]["digest"]
        .as_str()
        .context("no layer in the .sig manifest")?
        .to_string();
    let payload_file = kit.home.tmp.join("payload.json");
    kit.oras(&[
        "blob",
        "fetch",
        "--plain-http",
        "--output",
        &payload_file.display().to_string(),
        &format!("{}@{layer_digest}", reg.repo(&p.name)),
    ])?;
    let mut payload: serde_json::Value = serde_json::from_slice(&std::fs::read(&payload_file)?)?;
    payload["optional"] = serde_json::json!({"approved-by": "mallory"});
    let tampered = serde_json::to_vec(&payload)?;
    let tampered_file = kit.home.tmp.join("tampered.json");
    std::fs::write(&tampered_file, &tampered)?;
    kit.oras(&[
        "blob",
        "push",
        "--plain-http",
        &reg.repo(&p.name),
        &tampered_file.display().to_string(),
    ])?;
    let mut edited = manifest.clone();
    edited["layers"][0]["digest"] = sha256_digest(&tampered).into();
    edited["layers"][0]["size"] = tampered.len().into();
    let edited_file = kit.home.tmp.join("tampered-manifest.json");
    std::fs::write(&edited_file, serde_json::to_vec(&edited)?)?;
    kit.oras(&[
        "manifest",
        "push",
        "--plain-http",
        &sig_ref,
        &edited_file.display().to_string(),
    ])?;
    expect_refused(
        berth_verify(
            env,
            reg,
            &p.name,
            &p.digest,
            key_policy(kit.public("signer")?)?,
        )?,
        "SignatureMismatch",
        &["signature does not match key signer.pub"],
    )?;
    Ok(())
}

/// After signing, the same tag is pushed again with other content: the
/// tag now resolves to an unsigned digest.
fn verify_refuses_retagged_chart(env: &Env) -> Result<()> {
    let reg = &env.registries()?.referrers;
    let kit = Kit::new(env, "verify-retagged")?;
    let repo = format!("retagged-{}", random_hex(4)?);
    let signed = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
    kit.sign("cosign-v3", "signer", &signed.image, true)?;
    let again = kit.push_chart(reg, &repo, "app", "1.0.0", "evil")?;
    ensure!(again.digest != signed.digest, "re-push kept the digest");
    let client = {
        let _rt = env.rt.enter();
        Client::new(
            &reg.host,
            Credentials::Anonymous,
            ClientOptions {
                insecure: true,
                ..ClientOptions::default()
            },
        )?
    };
    let resolved = env.rt.block_on(client.resolve(&again.name, "1.0.0"))?;
    ensure!(
        resolved.to_string() == again.digest,
        "tag resolves to {resolved}"
    );
    expect_refused(
        berth_verify(
            env,
            reg,
            &again.name,
            &again.digest,
            key_policy(kit.public("signer")?)?,
        )?,
        "SignatureNotFound",
        &[&again.digest],
    )?;
    expect_ok(berth_verify(
        env,
        reg,
        &signed.name,
        &signed.digest,
        key_policy(kit.public("signer")?)?,
    )?)?;
    Ok(())
}

/// A signed chart copied to another registry with `oras cp` (which copies
/// the artifact, not its signatures): refused there, and the message says
/// the signatures must follow the artifact.
fn verify_refuses_promoted_copy_without_signatures(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let kit = Kit::new(env, "verify-promoted")?;
    let repo = format!("promoted-{}", random_hex(4)?);
    let p = kit.push_chart(&regs.referrers, &repo, "app", "1.0.0", "a")?;
    kit.sign("cosign-v2", "signer", &p.image, false)?;
    kit.sign("cosign-v3", "signer", &p.image, true)?;
    kit.oras(&[
        "cp",
        "--from-plain-http",
        "--to-plain-http",
        &format!("{}:1.0.0", regs.referrers.repo(&p.name)),
        &format!("{}:1.0.0", regs.no_referrers.repo(&p.name)),
    ])?;
    expect_ok(berth_verify(
        env,
        &regs.referrers,
        &p.name,
        &p.digest,
        key_policy(kit.public("signer")?)?,
    )?)?;
    expect_refused(
        berth_verify(
            env,
            &regs.no_referrers,
            &p.name,
            &p.digest,
            key_policy(kit.public("signer")?)?,
        )?,
        "SignatureNotFound",
        &["copied from another registry", "signatures"],
    )?;
    Ok(())
}

/// A test CA and leaves that carry Fulcio's OIDC-issuer extensions and an
/// email SAN.
struct TestCa {
    ca_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    fn new() -> Result<TestCa> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "berth e2e signing CA");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let key = rcgen::KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(TestCa {
            ca_pem: cert.pem(),
            issuer: rcgen::Issuer::new(params, key),
        })
    }

    /// A leaf for `subject` from `issuer`, valid in the given years; its
    /// key (PKCS#8 PEM) and certificate (PEM).
    fn leaf(&self, subject: &str, issuer: &str, from: i32, to: i32) -> Result<(String, String)> {
        let (key, cert, _) = self.leaf_with_der(subject, issuer, from, to)?;
        Ok((key, cert))
    }

    /// [`TestCa::leaf`], plus the certificate's DER.
    fn leaf_with_der(
        &self,
        subject: &str,
        issuer: &str,
        from: i32,
        to: i32,
    ) -> Result<(String, String, Vec<u8>)> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.subject_alt_names = vec![rcgen::SanType::Rfc822Name(subject.try_into()?)];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(to, 1, 1);
        // Fulcio's issuer: 1.3.6.1.4.1.57264.1.1 (raw bytes, legacy) and
        // 1.3.6.1.4.1.57264.1.8 (DER UTF8String).
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 57264, 1, 1],
                issuer.as_bytes().to_vec(),
            ));
        let mut utf8 = vec![0x0c, issuer.len() as u8];
        utf8.extend_from_slice(issuer.as_bytes());
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 57264, 1, 8],
                utf8,
            ));
        let key = rcgen::KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok((key.serialize_pem(), cert.pem(), cert.der().to_vec()))
    }
}

impl<'a> Kit<'a> {
    /// Import a PEM key as a cosign key and sign `image` with the leaf
    /// certificate and the CA as chain.
    fn sign_with_certificate(
        &self,
        tool: &str,
        label: &str,
        ca: &TestCa,
        leaf: &(String, String),
        image: &str,
        bundle: bool,
    ) -> Result<()> {
        let dir = self.dir(&format!("cert-{label}"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("leaf.key.pem"), &leaf.0)?;
        std::fs::write(dir.join("leaf.pem"), &leaf.1)?;
        std::fs::write(dir.join("chain.pem"), &ca.ca_pem)?;
        if !dir.join("import.key").is_file() {
            let mut cmd = self.cmd("cosign-v2");
            cmd.current_dir(&dir).args([
                "import-key-pair",
                "--key",
                "leaf.key.pem",
                "--output-key-prefix",
                "import",
            ]);
            run_ok(cmd).context("cosign import-key-pair")?;
        }
        let mut cmd = self.cmd(tool);
        cmd.current_dir(&dir)
            .args(["sign", "--key", "import.key"])
            .args([
                "--certificate",
                "leaf.pem",
                "--certificate-chain",
                "chain.pem",
            ])
            .args(["--tlog-upload=false", "--use-signing-config=false", "--yes"])
            .arg(format!("--new-bundle-format={bundle}"))
            .arg("--allow-http-registry")
            .arg(image);
        run_ok(cmd).with_context(|| format!("{tool} sign --certificate ({label})"))?;
        Ok(())
    }
}

fn identity_policy(ca: &TestCa, issuer: &str, subject: &str) -> Result<Policy> {
    let mut policy = Policy::new(Vec::new(), vec![IdentityMatcher::new(issuer, subject)?])?;
    policy.trust = TrustMaterial::ca_bundle("test-ca.pem", ca.ca_pem.as_bytes())?;
    // Offline signing: no log entry to require.
    policy.identity_tlog = TlogRequirement::Optional;
    Ok(policy)
}

/// Certificate-based signatures (legacy and bundle) verify only when an
/// anchored `matchOIDCIdentity` matches both issuer and subject; without a
/// log entry they are refused unless the policy makes the log optional;
/// another CA's certificate is refused.
fn verify_certificate_identity(env: &Env) -> Result<()> {
    let reg = &env.registries()?.referrers;
    let kit = Kit::new(env, "verify-identity")?;
    let ca = TestCa::new()?;
    let leaf = ca.leaf(SUBJECT, ISSUER, 2020, 2099)?;
    let repo = format!("identity-{}", random_hex(4)?);
    let legacy = kit.push_chart(reg, &repo, "legacy", "1.0.0", "a")?;
    let bundle = kit.push_chart(reg, &repo, "bundle", "1.0.0", "b")?;
    kit.sign_with_certificate("cosign-v2", "good", &ca, &leaf, &legacy.image, false)?;
    kit.sign_with_certificate("cosign-v3", "good", &ca, &leaf, &bundle.image, true)?;

    for (p, format) in [(&legacy, Format::Legacy), (&bundle, Format::Bundle)] {
        let v = expect_ok(berth_verify(
            env,
            reg,
            &p.name,
            &p.digest,
            identity_policy(&ca, &regex_escape(ISSUER), &regex_escape(SUBJECT))?,
        )?)?;
        ensure!(v.format == format, "format {:?}", v.format);
        ensure!(
            v.signer
                == Signer::Certificate {
                    issuer: ISSUER.into(),
                    subject: SUBJECT.into()
                },
            "signer {:?}",
            v.signer
        );
        // Regexes work, anchored.
        expect_ok(berth_verify(
            env,
            reg,
            &p.name,
            &p.digest,
            identity_policy(&ca, r"https://issuer\.berth\.test", r".*@berth\.test")?,
        )?)?;
        // Wrong subject, a prefix of the subject, a prefix of the issuer.
        for (iss, sub) in [
            (regex_escape(ISSUER), "someone@berth\\.test".to_string()),
            (regex_escape(ISSUER), "release-bot".to_string()),
            ("https://issuer".to_string(), regex_escape(SUBJECT)),
            ("https://other\\.test".to_string(), ".*".to_string()),
        ] {
            expect_refused(
                berth_verify(
                    env,
                    reg,
                    &p.name,
                    &p.digest,
                    identity_policy(&ca, &iss, &sub)?,
                )?,
                "IdentityMismatch",
                &[&format!(
                    "certificate identity \"{SUBJECT}\" from issuer \"{ISSUER}\" does not match"
                )],
            )?;
        }
        // Identities need a log entry by default.
        let mut strict = identity_policy(&ca, ".*", ".*")?;
        strict.identity_tlog = TlogRequirement::Required;
        expect_refused(
            berth_verify(env, reg, &p.name, &p.digest, strict)?,
            "TransparencyLogInvalid",
            &["no transparency log entry"],
        )?;
        // Another CA does not vouch for this certificate.
        let other = TestCa::new()?;
        expect_refused(
            berth_verify(
                env,
                reg,
                &p.name,
                &p.digest,
                identity_policy(&other, ".*", ".*")?,
            )?,
            "CertificateInvalid",
            &[],
        )?;
        // A key policy does not accept a certificate signature.
        expect_refused(
            berth_verify(
                env,
                reg,
                &p.name,
                &p.digest,
                key_policy(kit.public("signer")?)?,
            )?,
            "IdentityMismatch",
            &["no matchOIDCIdentity"],
        )?;
    }
    Ok(())
}

/// A certificate that expired before the signature was checked (no log
/// time, so the check is at the current time) is refused.
fn verify_refuses_expired_certificate(env: &Env) -> Result<()> {
    let reg = &env.registries()?.referrers;
    let kit = Kit::new(env, "verify-expired")?;
    let ca = TestCa::new()?;
    let leaf = ca.leaf(SUBJECT, ISSUER, 2020, 2021)?;
    let repo = format!("expired-{}", random_hex(4)?);
    let p = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
    kit.sign_with_certificate("cosign-v2", "expired", &ca, &leaf, &p.image, false)?;
    let msg = expect_refused(
        berth_verify(
            env,
            reg,
            &p.name,
            &p.digest,
            identity_policy(&ca, ".*", ".*")?,
        )?,
        "CertificateInvalid",
        &[],
    )?;
    ensure!(
        msg.to_lowercase().contains("expired"),
        "message does not say expired: {msg}"
    );
    Ok(())
}

/// A cosign v3 bundle whose certificate was replaced by another leaf of
/// the same CA with the same identity (so chain and identity pass): the
/// signature does not match the certificate's key. Edited in the referrers
/// tag index of the registry without the referrers API.
fn verify_refuses_bundle_with_swapped_certificate(env: &Env) -> Result<()> {
    let reg = &env.registries()?.no_referrers;
    let kit = Kit::new(env, "verify-swapped-cert")?;
    let ca = TestCa::new()?;
    let leaf = ca.leaf(SUBJECT, ISSUER, 2020, 2099)?;
    let (_, _, other_der) = ca.leaf_with_der(SUBJECT, ISSUER, 2020, 2099)?;
    let repo = format!("swapped-{}", random_hex(4)?);
    let p = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
    kit.sign_with_certificate("cosign-v3", "swapped", &ca, &leaf, &p.image, true)?;
    let policy = || identity_policy(&ca, &regex_escape(ISSUER), &regex_escape(SUBJECT));
    expect_ok(berth_verify(env, reg, &p.name, &p.digest, policy()?)?)?;

    let repo_ref = reg.repo(&p.name);
    let index_tag = format!("sha256-{}", p.digest.trim_start_matches("sha256:"));
    let fetch_json = |reference: &str| -> Result<serde_json::Value> {
        Ok(serde_json::from_str(&kit.oras(&[
            "manifest",
            "fetch",
            "--plain-http",
            reference,
        ])?)?)
    };
    let mut index = fetch_json(&format!("{repo_ref}:{index_tag}"))?;
    let bundle_manifest_digest = index["manifests"][0]["digest"]
        .as_str()
        .context("empty referrers index")?
        .to_string();
    let mut manifest = fetch_json(&format!("{repo_ref}@{bundle_manifest_digest}"))?;
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .context("bundle manifest without layer")?
        .to_string();
    let bundle_file = kit.home.tmp.join("bundle.json");
    kit.oras(&[
        "blob",
        "fetch",
        "--plain-http",
        "--output",
        &bundle_file.display().to_string(),
        &format!("{repo_ref}@{layer}"),
    ])?;
    let mut bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&bundle_file)?)?;
    // cosign v3 writes the leaf as `certificate`, or, given
    // --certificate-chain, as the first of `x509CertificateChain`.
    let material = &mut bundle["verificationMaterial"];
    let slot = if material["certificate"]["rawBytes"].is_string() {
        &mut material["certificate"]["rawBytes"]
    } else {
        &mut material["x509CertificateChain"]["certificates"][0]["rawBytes"]
    };
    ensure!(slot.is_string(), "the bundle carries no certificate");
    *slot = base64(&other_der).into();
    let edited = serde_json::to_vec(&bundle)?;
    let edited_file = kit.home.tmp.join("bundle-swapped.json");
    std::fs::write(&edited_file, &edited)?;
    kit.oras(&[
        "blob",
        "push",
        "--plain-http",
        &repo_ref,
        &edited_file.display().to_string(),
    ])?;
    manifest["layers"][0]["digest"] = sha256_digest(&edited).into();
    manifest["layers"][0]["size"] = edited.len().into();
    let manifest_bytes = serde_json::to_vec(&manifest)?;
    let manifest_file = kit.home.tmp.join("bundle-manifest-swapped.json");
    std::fs::write(&manifest_file, &manifest_bytes)?;
    kit.oras(&[
        "manifest",
        "push",
        "--plain-http",
        &format!("{repo_ref}:swapped"),
        &manifest_file.display().to_string(),
    ])?;
    index["manifests"][0]["digest"] = sha256_digest(&manifest_bytes).into();
    index["manifests"][0]["size"] = manifest_bytes.len().into();
    let index_file = kit.home.tmp.join("index-swapped.json");
    std::fs::write(&index_file, serde_json::to_vec(&index)?)?;
    kit.oras(&[
        "manifest",
        "push",
        "--plain-http",
        &format!("{repo_ref}:{index_tag}"),
        &index_file.display().to_string(),
    ])?;
    expect_refused(
        berth_verify(env, reg, &p.name, &p.digest, policy()?)?,
        "SignatureMismatch",
        &["invalid DSSE signature", &sha256_digest(&manifest_bytes)],
    )?;
    Ok(())
}

/// `cosign attest` of an SLSA provenance predicate (legacy `.att` with
/// cosign v2, bundle referrer with cosign v3) passes the attestation gate;
/// without it, or with another predicate type only, the gate fails.
fn verify_attestation_gate(env: &Env) -> Result<()> {
    let reg = &env.registries()?.referrers;
    let kit = Kit::new(env, "verify-attest")?;
    let predicate = kit.home.tmp.join("provenance.json");
    std::fs::write(
        &predicate,
        r#"{"builder":{"id":"https://ci.berth.test/builder"},"buildType":"https://berth.test/build","invocation":{}}"#,
    )?;
    let repo = format!("attest-{}", random_hex(4)?);
    for (tool, bundle) in [("cosign-v2", false), ("cosign-v3", true)] {
        let p = kit.push_chart(reg, &repo, tool, "1.0.0", "a")?;
        kit.sign(tool, "signer", &p.image, bundle)?;
        let policy = |types: &[&str]| -> Result<Policy> {
            let mut p = key_policy(kit.public("signer")?)?;
            p.attestations = types.iter().map(|t| t.to_string()).collect();
            Ok(p)
        };
        expect_refused(
            berth_verify(env, reg, &p.name, &p.digest, policy(&[SLSA_V02])?)?,
            "AttestationMissing",
            &[SLSA_V02, &p.digest],
        )?;
        let mut cmd = kit.cmd(tool);
        cmd.arg("attest")
            .arg("--key")
            .arg(kit.key("signer"))
            .args(["--type", "slsaprovenance", "--predicate"])
            .arg(&predicate)
            .args(["--tlog-upload=false", "--use-signing-config=false", "--yes"])
            .arg(format!("--new-bundle-format={bundle}"))
            .arg("--allow-http-registry")
            .arg(&p.image);
        run_ok(cmd).with_context(|| format!("{tool} attest"))?;
        let v = expect_ok(berth_verify(
            env,
            reg,
            &p.name,
            &p.digest,
            policy(&[SLSA_V02])?,
        )?)?;
        ensure!(
            v.attestations.len() == 1 && v.attestations[0].0 == SLSA_V02,
            "attestations {:?}",
            v.attestations
        );
        expect_refused(
            berth_verify(
                env,
                reg,
                &p.name,
                &p.digest,
                policy(&[SLSA_V02, "https://spdx.dev/Document"])?,
            )?,
            "AttestationMissing",
            &["https://spdx.dev/Document"],
        )?;
        // Signed by both keys, attested by one: a policy that trusts only
        // the other key passes the signature gate, not the attestation gate.
        kit.sign(tool, "other", &p.image, bundle)?;
        let mut other = key_policy(kit.public("other")?)?;
        expect_ok(berth_verify(env, reg, &p.name, &p.digest, other.clone())?)?;
        other.attestations = vec![SLSA_V02.to_string()];
        expect_refused(
            berth_verify(env, reg, &p.name, &p.digest, other)?,
            "AttestationMissing",
            &[SLSA_V02, "signature does not match key other.pub"],
        )?;
    }
    Ok(())
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$#&-~".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let h = sha2::Sha256::digest(bytes);
    format!(
        "sha256:{}",
        h.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// The reconciler's `CosignVerifier` (through the `Verifier` trait, as
/// the controller calls it): the Secret's `.pub` key verifies and is
/// recorded with its fingerprint; the same digest under the same policy is
/// not fetched again; a changed key verifies again and is refused; the
/// outcomes are counted.
fn verify_reconciler_adapter(env: &Env) -> Result<()> {
    use berth::api::oci_repository::{OCIRepositoryVerification, VerifiedSigner};
    use berth::controller::cosign::CosignVerifier;
    use berth::controller::{VerificationMaterial, Verifier as _, VerifyRequest};
    use std::collections::BTreeMap;

    let reg = &env.registries()?.referrers;
    let kit = Kit::new(env, "verify-adapter")?;
    let repo = format!("adapter-{}", random_hex(4)?);
    let p = kit.push_chart(reg, &repo, "app", "1.0.0", "a")?;
    kit.sign("cosign-v2", "signer", &p.image, false)?;
    let client = {
        let _rt = env.rt.enter();
        Client::new(
            &reg.host,
            Credentials::Anonymous,
            ClientOptions {
                insecure: true,
                ..ClientOptions::default()
            },
        )?
    };
    let reference = berth_oci::Reference::parse(&format!("{}/{}:1.0.0", reg.host, p.name))?;
    let digest = Digest::parse(&p.digest)?;
    let spec = OCIRepositoryVerification {
        secret_ref: Some(berth::api::LocalObjectReference {
            name: "cosign-keys".into(),
        }),
        ..Default::default()
    };
    let material = |pair: &str| -> Result<VerificationMaterial> {
        Ok(VerificationMaterial {
            secret: Some(BTreeMap::from([(
                "cosign.pub".to_string(),
                std::fs::read(kit.dir(pair).join("cosign.pub"))?,
            )])),
            trusted_root: None,
        })
    };
    let verifier = CosignVerifier::new();
    let run = |material: &VerificationMaterial| {
        env.rt.block_on(verifier.verify(VerifyRequest {
            client: &client,
            reference: &reference,
            digest: &digest,
            spec: &spec,
            material,
        }))
    };

    let good = material("signer")?;
    let signer: VerifiedSigner =
        run(&good).map_err(|e| anyhow::anyhow!("{}: {}", e.reason, e.message))?;
    let fingerprint = &kit.public("signer")?[0].fingerprint;
    ensure!(
        signer.key.as_deref() == Some(&format!("cosign.pub ({fingerprint})"))
            && signer.format.as_deref() == Some("legacy-tag")
            && signer.issuer.is_none(),
        "signer {signer:?}"
    );
    let requests = client.counters().total();
    let again = run(&good).map_err(|e| anyhow::anyhow!("{}: {}", e.reason, e.message))?;
    ensure!(again == signer, "second answer {again:?}");
    ensure!(
        client.counters().total() == requests,
        "the verified digest was fetched again ({} requests, then {})",
        requests,
        client.counters().total()
    );

    let err = run(&material("other")?)
        .err()
        .context("a changed key still verified")?;
    ensure!(
        err.reason == "SignatureMismatch"
            && err
                .message
                .contains("signature does not match key cosign.pub")
            && !err.retryable,
        "unexpected refusal {err:?}"
    );
    ensure!(
        client.counters().total() > requests,
        "the changed policy did not go back to the registry"
    );
    let metrics = verifier.metrics();
    ensure!(
        metrics.total.get("ok") == Some(&2) && metrics.total.get("SignatureMismatch") == Some(&1),
        "metrics {metrics:?}"
    );
    Ok(())
}
