//! Signatures without a transparency-log entry or timestamp (cosign
//! `--tlog-upload=false`), accepted only when the policy makes the log
//! optional. `sigstore-verify` refuses such bundles outright, so this path
//! is ours: the signature over the payload (or DSSE PAE) with the key or
//! the certificate's key, the in-toto subject against the digest, and the
//! certificate chain (code-signing EKU) checked at the current time, since
//! no trusted signing time exists.

use rustls_pki_types::{CertificateDer, UnixTime};
use sha2::{Digest as _, Sha256};
use sigstore_crypto::VerificationKey;
use sigstore_trust_root::TrustedRoot;
use sigstore_types::{Artifact, Bundle, DerPublicKey, HashAlgorithm, SignatureContent};

use crate::error::RejectionKind;

const IN_TOTO: &str = "application/vnd.in-toto+json";
/// id-kp-codeSigning, 1.3.6.1.5.5.7.3.3 (OID value bytes).
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

pub(crate) type Failure = (RejectionKind, String);

/// The signature of `bundle` verifies with `key`, over content bound to
/// `artifact`.
pub(crate) fn verify_content(
    key: &DerPublicKey,
    bundle: &Bundle,
    artifact: &Artifact<'_>,
) -> Result<(), Failure> {
    let vk = VerificationKey::from_spki(key).map_err(|e| {
        (
            RejectionKind::SignatureMismatch,
            format!("unusable key: {e}"),
        )
    })?;
    match &bundle.content {
        SignatureContent::MessageSignature(ms) => {
            let blob = artifact.blob().ok_or((
                RejectionKind::Malformed,
                "a message signature needs the signed bytes, not only their digest".to_string(),
            ))?;
            if let Some(md) = &ms.message_digest {
                if md.algorithm == HashAlgorithm::Sha2256
                    && md.digest.as_bytes() != Sha256::digest(blob).as_slice()
                {
                    return Err((
                        RejectionKind::DigestMismatch,
                        "the bundle's message digest is not the digest of the signed payload"
                            .into(),
                    ));
                }
            }
            vk.verify(blob, &ms.signature)
                .or_else(|e| {
                    if verify_ed25519ph(key, blob, ms.signature.as_bytes()) {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| {
                    (
                        RejectionKind::SignatureMismatch,
                        format!("invalid signature: {e}"),
                    )
                })
        }
        SignatureContent::DsseEnvelope(env) => {
            if env.payload_type != IN_TOTO {
                return Err((
                    RejectionKind::Malformed,
                    format!("DSSE payload type {:?} is not in-toto", env.payload_type),
                ));
            }
            let pae = env.pae();
            vk.verify(&pae, &env.signature.sig)
                .or_else(|e| {
                    if verify_ed25519ph(key, &pae, env.signature.sig.as_bytes()) {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
                .map_err(|e| {
                    (
                        RejectionKind::SignatureMismatch,
                        format!("invalid DSSE signature: {e}"),
                    )
                })?;
            let want = match artifact {
                Artifact::Digest(d) if d.algorithm() == HashAlgorithm::Sha2256 => {
                    crate::policy::hex(d.as_bytes())
                }
                Artifact::Blob(b) => crate::policy::hex(&Sha256::digest(b)),
                _ => {
                    return Err((
                        RejectionKind::Malformed,
                        "only sha256 artifacts can be bound to an in-toto subject".into(),
                    ))
                }
            };
            let statement: serde_json::Value = serde_json::from_slice(env.payload.as_bytes())
                .map_err(|e| {
                    (
                        RejectionKind::Malformed,
                        format!("the in-toto statement is not JSON: {e}"),
                    )
                })?;
            let subjects = statement["subject"].as_array().cloned().unwrap_or_default();
            if subjects
                .iter()
                .take(1024)
                .any(|s| s["digest"]["sha256"].as_str() == Some(want.as_str()))
            {
                Ok(())
            } else {
                Err((
                    RejectionKind::DigestMismatch,
                    format!("the in-toto statement's subjects do not include sha256:{want}"),
                ))
            }
        }
        _ => Err((
            RejectionKind::Malformed,
            "unsupported bundle content".into(),
        )),
    }
}

/// cosign signs with Ed25519ph (RFC 8032, SHA-512 prehash, empty context)
/// when given an Ed25519 key (`GetDefaultLoadOptions` in its `keys.go`), a
/// scheme `sigstore-crypto` does not offer: checked here for Ed25519 keys.
fn verify_ed25519ph(key: &DerPublicKey, message: &[u8], signature: &[u8]) -> bool {
    // SubjectPublicKeyInfo of an Ed25519 key: this 12-byte prefix, then
    // the 32-byte key.
    const PREFIX: [u8; 12] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    let der = key.as_bytes();
    let Some(raw) = der.strip_prefix(&PREFIX[..]) else {
        return false;
    };
    let (Ok(raw), Ok(sig)) = (
        <[u8; 32]>::try_from(raw),
        ed25519_dalek::Signature::from_slice(signature),
    ) else {
        return false;
    };
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&raw) else {
        return false;
    };
    let mut prehash = sha2::Sha512::new();
    prehash.update(message);
    vk.verify_prehashed(prehash, None, &sig).is_ok()
}

/// The leaf chains to one of the trusted root's certificate authorities
/// for code signing, now.
pub(crate) fn verify_chain_now(root: &TrustedRoot, leaf: &[u8]) -> Result<(), Failure> {
    let bad = |m: String| (RejectionKind::CertificateInvalid, m);
    let ders: Vec<Vec<u8>> = root
        .certificate_authorities
        .iter()
        .flat_map(|ca| ca.cert_chain.certificates.iter())
        .map(|c| c.raw_bytes.as_bytes().to_vec())
        .collect();
    let anchors: Vec<_> = ders
        .iter()
        .filter_map(|d| {
            webpki::anchor_from_trusted_cert(&CertificateDer::from(d.as_slice()))
                .ok()
                .map(|a| a.to_owned())
        })
        .collect();
    if anchors.is_empty() {
        return Err(bad(
            "the trusted root has no certificate authority to check the certificate against".into(),
        ));
    }
    let leaf_der = CertificateDer::from(leaf);
    let ee = webpki::EndEntityCert::try_from(&leaf_der)
        .map_err(|e| bad(format!("malformed certificate: {e:?}")))?;
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &[],
        UnixTime::now(),
        webpki::KeyUsage::required(CODE_SIGNING),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| match e {
        webpki::Error::CertExpired { .. } => bad(format!(
            "the certificate has expired ({e:?}) and no log entry or timestamp proves it signed while valid"
        )),
        other => bad(format!(
            "the certificate does not chain to the trusted root for code signing: {other:?}"
        )),
    })
}
