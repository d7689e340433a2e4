//! The Sigstore conformance suite's verification protocol:
//! `verify-bundle --bundle FILE (--certificate-identity ID
//! --certificate-oidc-issuer URL | --key PEM) [--trusted-root FILE]
//! [--staging] FILE_OR_DIGEST`, where `sha256:<hex>` names a digest.
//!
//! Identity and issuer are exact here (the suite's semantics): they are
//! escaped before becoming berth's anchored expressions. A log entry is
//! required for keys and identities alike, as in sigstore-go's defaults.

use sigstore_types::{Artifact, ArtifactDigest, Bundle, HashAlgorithm};

use crate::oci::Verifier;
use crate::policy::{IdentityMatcher, Policy, PublicKey, TlogRequirement, TrustMaterial};

/// Parsed arguments.
#[derive(Debug, Default)]
struct Args {
    bundle: Option<String>,
    identity: Option<String>,
    issuer: Option<String>,
    key: Option<String>,
    trusted_root: Option<String>,
    staging: bool,
    input: Option<String>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = args.iter().peekable();
    if it.peek().map(|s| s.as_str()) == Some("verify-bundle") {
        it.next();
    }
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--bundle" => a.bundle = Some(value("--bundle")?),
            "--certificate-identity" => a.identity = Some(value("--certificate-identity")?),
            "--certificate-oidc-issuer" => a.issuer = Some(value("--certificate-oidc-issuer")?),
            "--key" => a.key = Some(value("--key")?),
            "--trusted-root" => a.trusted_root = Some(value("--trusted-root")?),
            "--staging" => a.staging = true,
            s if s.starts_with("--") => return Err(format!("unknown flag {s}")),
            s => {
                if a.input.replace(s.to_string()).is_some() {
                    return Err("more than one FILE_OR_DIGEST".into());
                }
            }
        }
    }
    Ok(a)
}

/// Run one verification; `Ok` carries a line saying who signed.
pub fn run(args: &[String]) -> Result<String, String> {
    let a = parse(args)?;
    let bundle_path = a.bundle.ok_or("--bundle is required")?;
    let input = a.input.ok_or("FILE_OR_DIGEST is required")?;
    let read = |p: &str| std::fs::read(p).map_err(|e| format!("failed to read {p}: {e}"));

    let trust = match &a.trusted_root {
        Some(p) => TrustMaterial::parse(p, &read(p)?).map_err(|e| e.to_string())?,
        None if a.staging => TrustMaterial::trusted_root_json(
            "the Sigstore staging root",
            sigstore_trust_root::SIGSTORE_STAGING_TRUSTED_ROOT.as_bytes(),
        )
        .map_err(|e| e.to_string())?,
        None => TrustMaterial::public_good().map_err(|e| e.to_string())?,
    };
    let keys = match &a.key {
        Some(p) => PublicKey::parse_pem(p, &read(p)?).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let identities = match (&a.identity, &a.issuer) {
        (Some(id), Some(iss)) => {
            vec![
                IdentityMatcher::new(&regex::escape(iss), &regex::escape(id))
                    .map_err(|e| e.to_string())?,
            ]
        }
        (None, None) => Vec::new(),
        _ => return Err("--certificate-identity and --certificate-oidc-issuer go together".into()),
    };
    let policy = Policy {
        keys,
        identities,
        trust,
        key_tlog: TlogRequirement::Required,
        identity_tlog: TlogRequirement::Required,
        attestations: Vec::new(),
    };
    let verifier = Verifier::new(policy).map_err(|e| e.to_string())?;

    let text = String::from_utf8(read(&bundle_path)?)
        .map_err(|_| format!("{bundle_path} is not UTF-8"))?;
    let bundle =
        Bundle::from_json(&text).map_err(|e| format!("{bundle_path}: not a valid bundle: {e}"))?;
    let blob;
    let artifact = match input.strip_prefix("sha256:") {
        Some(hex) => {
            let bytes: Option<Vec<u8>> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect();
            let bytes = bytes.ok_or_else(|| format!("{input}: not a hexadecimal digest"))?;
            Artifact::from_digest(
                ArtifactDigest::new(HashAlgorithm::Sha2256, bytes)
                    .map_err(|e| format!("{input}: {e}"))?,
            )
        }
        None => {
            blob = read(&input)?;
            Artifact::from_blob(&blob)
        }
    };
    verifier
        .verify_bundle(&bundle, &artifact, &bundle_path)
        .map(|signer| format!("verified: signed by {signer}"))
        .map_err(|r| format!("{} ({})", r.message, r.kind.reason()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_the_protocol() {
        let a = parse(&s(&[
            "verify-bundle",
            "--bundle",
            "b.json",
            "--key",
            "k.pub",
            "sha256:00",
        ]))
        .unwrap();
        assert_eq!(a.bundle.as_deref(), Some("b.json"));
        assert_eq!(a.key.as_deref(), Some("k.pub"));
        assert_eq!(a.input.as_deref(), Some("sha256:00"));
        assert!(parse(&s(&["--bundle"])).is_err());
        assert!(parse(&s(&["--nope"])).is_err());
        assert!(parse(&s(&["a", "b"])).is_err());
    }
}
