//! One Sigstore bundle against the policy: the cryptography (signature,
//! certificate chain, SCT, log entries, timestamps) is `sigstore-verify`'s;
//! choosing keys, anchored identity matching and the log requirement are
//! ours.

use sigstore_types::bundle::VerificationMaterialContent;
use sigstore_types::{Artifact, Bundle, SignatureContent};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy};

use crate::error::{Rejection, RejectionKind};
use crate::policy::{Policy, TlogRequirement};

/// Who signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signer {
    /// A trusted public key.
    Key { name: String, fingerprint: String },
    /// A certificate whose OIDC issuer and SAN matched an identity.
    Certificate { issuer: String, subject: String },
}

impl std::fmt::Display for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signer::Key { name, fingerprint } => write!(f, "key {name} ({fingerprint})"),
            Signer::Certificate { issuer, subject } => {
                write!(f, "identity {subject} from issuer {issuer}")
            }
        }
    }
}

/// The DSSE statement's predicate type, when the bundle holds one.
pub fn predicate_type(bundle: &Bundle) -> Option<String> {
    let SignatureContent::DsseEnvelope(env) = &bundle.content else {
        return None;
    };
    let v: serde_json::Value = serde_json::from_slice(env.payload.as_bytes()).ok()?;
    v.get("predicateType")?.as_str().map(str::to_string)
}

/// Verify `bundle` over `artifact` with `policy`; `what` names the
/// candidate in messages.
pub(crate) fn verify_bundle(
    verifier: &sigstore_verify::Verifier,
    policy: &Policy,
    bundle: &Bundle,
    artifact: &Artifact<'_>,
    what: &str,
) -> Result<Signer, Rejection> {
    let reject = |kind: RejectionKind, msg: String| Rejection {
        kind,
        message: format!("{what}: {msg}"),
    };
    let has_tlog = !bundle.verification_material.tlog_entries.is_empty();
    // Nothing that proves a time: only our offline path can check it (and
    // only when the policy does not require a log entry, checked below).
    let offline = !has_tlog
        && bundle
            .verification_material
            .timestamp_verification_data
            .rfc3161_timestamps
            .is_empty();
    match &bundle.verification_material.content {
        VerificationMaterialContent::PublicKey(_) => {
            if policy.keys.is_empty() {
                return Err(reject(
                    RejectionKind::SignatureMismatch,
                    "signed with a public key, but the policy trusts no key (only identities)"
                        .into(),
                ));
            }
            if !has_tlog && policy.key_tlog == TlogRequirement::Required {
                return Err(reject(
                    RejectionKind::TlogInvalid,
                    "no transparency log entry, and the policy requires one".into(),
                ));
            }
            let mut failures: Vec<(RejectionKind, String)> = Vec::new();
            for key in &policy.keys {
                let outcome = if offline {
                    crate::offline::verify_content(&key.der, bundle, artifact)
                } else {
                    let mut p = PublicKeyVerificationPolicy::new(key.der.clone());
                    if !has_tlog {
                        p = p.skip_tlog_unsafe();
                    }
                    verifier
                        .verify(artifact.clone(), bundle, &p)
                        .map(|_| ())
                        .map_err(|e| (classify(&e), e.to_string()))
                };
                match outcome {
                    Ok(()) => {
                        return Ok(Signer::Key {
                            name: key.name.clone(),
                            fingerprint: key.fingerprint.clone(),
                        })
                    }
                    Err((kind, e)) => failures.push((kind, format!("{}: {e}", key.name))),
                }
            }
            // A signature that matches no key is the common case: say so
            // plainly, naming every key tried.
            if failures
                .iter()
                .all(|(k, _)| *k == RejectionKind::SignatureMismatch)
            {
                let names: Vec<&str> = policy.keys.iter().map(|k| k.name.as_str()).collect();
                return Err(reject(
                    RejectionKind::SignatureMismatch,
                    format!("signature does not match key {}", names.join(", ")),
                ));
            }
            let kind = failures
                .iter()
                .map(|(k, _)| *k)
                .find(|k| *k != RejectionKind::SignatureMismatch)
                .unwrap_or(RejectionKind::SignatureMismatch);
            let msgs: Vec<String> = failures.into_iter().map(|(_, m)| m).collect();
            Err(reject(kind, msgs.join(", ")))
        }
        _ => {
            if policy.identities.is_empty() {
                return Err(reject(
                    RejectionKind::IdentityMismatch,
                    "signed with a certificate, but the policy has no matchOIDCIdentity (only keys)"
                        .into(),
                ));
            }
            if !has_tlog && policy.identity_tlog == TlogRequirement::Required {
                return Err(reject(
                    RejectionKind::TlogInvalid,
                    "no transparency log entry, and certificate identities require one \
                     (the log's time proves the short-lived certificate was valid when it signed)"
                        .into(),
                ));
            }
            let (issuer, subject) = if offline {
                let leaf = match &bundle.verification_material.content {
                    VerificationMaterialContent::Certificate(c) => c.raw_bytes.clone(),
                    VerificationMaterialContent::X509CertificateChain { certificates } => {
                        certificates
                            .first()
                            .map(|c| c.raw_bytes.clone())
                            .ok_or_else(|| {
                                reject(RejectionKind::Malformed, "empty certificate chain".into())
                            })?
                    }
                    _ => {
                        return Err(reject(
                            RejectionKind::Malformed,
                            "unsupported verification material".into(),
                        ))
                    }
                };
                crate::offline::verify_chain_now(&policy.trust.root, leaf.as_bytes())
                    .map_err(|(k, m)| reject(k, m))?;
                let info = sigstore_crypto::parse_certificate_info(&leaf).map_err(|e| {
                    reject(
                        RejectionKind::CertificateInvalid,
                        format!("unreadable certificate: {e}"),
                    )
                })?;
                crate::offline::verify_content(&info.public_key, bundle, artifact)
                    .map_err(|(k, m)| reject(k, m))?;
                (
                    info.issuer.unwrap_or_default(),
                    info.identity
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                )
            } else {
                let mut p = VerificationPolicy::any_identity();
                if policy.trust.from_ca_bundle {
                    p = p.skip_sct();
                }
                if !has_tlog {
                    p = p.skip_tlog_unsafe();
                }
                let result = verifier
                    .verify(artifact.clone(), bundle, &p)
                    .map_err(|e| reject(classify(&e), e.to_string()))?;
                (
                    result.issuer().unwrap_or_default().to_string(),
                    result
                        .identity()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                )
            };
            if policy
                .identities
                .iter()
                .any(|m| m.matches(&issuer, &subject))
            {
                Ok(Signer::Certificate { issuer, subject })
            } else {
                let expected: Vec<String> =
                    policy.identities.iter().map(|m| m.to_string()).collect();
                Err(reject(
                    RejectionKind::IdentityMismatch,
                    format!(
                        "certificate identity {subject:?} from issuer {issuer:?} does not match {}",
                        expected.join(" or ")
                    ),
                ))
            }
        }
    }
}

fn classify(e: &sigstore_verify::Error) -> RejectionKind {
    use sigstore_verify::Error as E;
    match e {
        E::SignatureInvalid(_) | E::Crypto(_) => RejectionKind::SignatureMismatch,
        E::ArtifactMismatch(_) => RejectionKind::DigestMismatch,
        E::Certificate(_) | E::TrustedCertificate(_) => RejectionKind::CertificateInvalid,
        E::TransparencyLog(_) | E::Timestamp(_) => RejectionKind::TlogInvalid,
        E::IdentityMismatch { .. } | E::IssuerMismatch { .. } => RejectionKind::IdentityMismatch,
        _ => RejectionKind::Malformed,
    }
}
