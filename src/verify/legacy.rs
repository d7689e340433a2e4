//! cosign's legacy formats (signatures under `sha256-<hex>.sig`,
//! attestations under `sha256-<hex>.att`): the layer annotations are turned
//! into an equivalent Sigstore bundle (v0.1, which carries Rekor inclusion
//! promises), so both formats go through the same checks; then the
//! simple-signing claim is checked here.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use sigstore_types::Bundle;

use crate::policy::pem_blocks;

pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
pub const REKOR_BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
pub const RFC3161_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";
const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";
const BUNDLE_V01: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";

/// The simple-signing payload cosign signs (`critical` is what matters).
#[derive(Debug, Deserialize)]
pub struct SimpleSigning {
    pub critical: Critical,
    /// `null` and absent are the same (Go marshals an empty map as null).
    #[serde(default)]
    pub optional: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Deserialize)]
pub struct Critical {
    pub identity: CriticalIdentity,
    pub image: CriticalImage,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Deserialize)]
pub struct CriticalIdentity {
    #[serde(rename = "docker-reference", default)]
    pub docker_reference: String,
}

#[derive(Debug, Deserialize)]
pub struct CriticalImage {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

/// Parse a simple-signing payload, refusing other `critical.type`s.
pub fn parse_simple_signing(payload: &[u8]) -> Result<SimpleSigning, String> {
    let s: SimpleSigning = serde_json::from_slice(payload)
        .map_err(|e| format!("the payload is not a simple-signing document: {e}"))?;
    if s.critical.kind != SIMPLE_SIGNING_TYPE {
        return Err(format!(
            "the payload's critical.type is {:?}, not {SIMPLE_SIGNING_TYPE:?}",
            s.critical.kind
        ));
    }
    Ok(s)
}

/// The Rekor bundle cosign stores in `dev.sigstore.cosign/bundle` (Go
/// field names, no JSON tags).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RekorBundle {
    signed_entry_timestamp: String,
    payload: RekorPayload,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RekorPayload {
    body: String,
    integrated_time: i64,
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TsaAnnotation {
    #[serde(rename = "SignedRFC3161Timestamp")]
    signed_rfc3161_timestamp: String,
}

/// What a legacy layer is: a signature over the payload blob, or a DSSE
/// envelope (attestation).
pub enum LayerContent<'a> {
    /// The raw signature (base64 from the annotation) over `payload`.
    MessageSignature {
        signature_b64: &'a str,
        payload: &'a [u8],
    },
    /// The DSSE envelope JSON (the layer blob).
    Dsse { envelope: &'a [u8] },
}

/// Build the Sigstore bundle equivalent to a legacy layer.
pub fn layer_to_bundle(
    content: LayerContent<'_>,
    annotations: &BTreeMap<String, String>,
) -> Result<Bundle, String> {
    let mut material = serde_json::Map::new();
    match annotations.get(CERTIFICATE_ANNOTATION) {
        Some(pem) if !pem.trim().is_empty() => {
            let certs = pem_blocks(pem, "CERTIFICATE")?;
            let leaf = certs
                .first()
                .ok_or("the certificate annotation holds no PEM certificate")?;
            // Only the leaf: intermediates and roots come from the trusted
            // root, never from the signature itself.
            material.insert(
                "x509CertificateChain".into(),
                json!({"certificates": [{"rawBytes": B64.encode(leaf)}]}),
            );
        }
        _ => {
            material.insert("publicKey".into(), json!({"hint": ""}));
        }
    }
    let mut entries = Vec::new();
    if let Some(raw) = annotations.get(REKOR_BUNDLE_ANNOTATION) {
        let rb: RekorBundle = serde_json::from_str(raw)
            .map_err(|e| format!("the Rekor bundle annotation is not valid: {e}"))?;
        let body = B64
            .decode(&rb.payload.body)
            .map_err(|e| format!("the Rekor entry body is not base64: {e}"))?;
        let body_json: Value = serde_json::from_slice(&body)
            .map_err(|e| format!("the Rekor entry body is not JSON: {e}"))?;
        let kind = body_json["kind"].as_str().unwrap_or_default();
        let version = body_json["apiVersion"].as_str().unwrap_or_default();
        let log_id =
            decode_hex(&rb.payload.log_id).ok_or("the Rekor bundle's logID is not hexadecimal")?;
        entries.push(json!({
            "logIndex": rb.payload.log_index.to_string(),
            "logId": {"keyId": B64.encode(log_id)},
            "kindVersion": {"kind": kind, "version": version},
            "integratedTime": rb.payload.integrated_time.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": rb.signed_entry_timestamp},
            "canonicalizedBody": rb.payload.body,
        }));
    }
    material.insert("tlogEntries".into(), Value::Array(entries));
    if let Some(raw) = annotations.get(RFC3161_ANNOTATION) {
        let ts: TsaAnnotation = serde_json::from_str(raw)
            .map_err(|e| format!("the RFC 3161 timestamp annotation is not valid: {e}"))?;
        material.insert(
            "timestampVerificationData".into(),
            json!({"rfc3161Timestamps": [{"signedTimestamp": ts.signed_rfc3161_timestamp}]}),
        );
    }
    let mut bundle = json!({
        "mediaType": BUNDLE_V01,
        "verificationMaterial": Value::Object(material),
    });
    match content {
        LayerContent::MessageSignature {
            signature_b64,
            payload,
        } => {
            B64.decode(signature_b64)
                .map_err(|e| format!("the signature annotation is not base64: {e}"))?;
            bundle["messageSignature"] = json!({
                "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(Sha256::digest(payload))},
                "signature": signature_b64,
            });
        }
        LayerContent::Dsse { envelope } => {
            let env: Value = serde_json::from_slice(envelope)
                .map_err(|e| format!("the DSSE envelope is not JSON: {e}"))?;
            let sigs = env["signatures"].as_array().cloned().unwrap_or_default();
            let [sig] = sigs.as_slice() else {
                return Err(format!(
                    "the DSSE envelope has {} signatures, expected one",
                    sigs.len()
                ));
            };
            bundle["dsseEnvelope"] = json!({
                "payload": env["payload"],
                "payloadType": env["payloadType"],
                "signatures": [{"sig": sig["sig"], "keyid": sig["keyid"].as_str().unwrap_or_default()}],
            });
        }
    }
    Bundle::from_json(&bundle.to_string()).map_err(|e| format!("not a valid signature: {e}"))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The payload shape cosign (sigstore/sigstore pkg/signature/payload)
    // writes: `optional` is null without annotations.
    const PAYLOAD: &str = r#"{"critical":{"identity":{"docker-reference":"reg.test/charts/app"},"image":{"docker-manifest-digest":"sha256:aaaa"},"type":"cosign container image signature"},"optional":null}"#;

    #[test]
    fn simple_signing_parses() {
        let s = parse_simple_signing(PAYLOAD.as_bytes()).unwrap();
        assert_eq!(s.critical.image.docker_manifest_digest, "sha256:aaaa");
        assert_eq!(s.critical.identity.docker_reference, "reg.test/charts/app");
        assert!(s.optional.is_none());
    }

    #[test]
    fn simple_signing_refuses_other_types() {
        let other = PAYLOAD.replace("cosign container image signature", "something else");
        let err = parse_simple_signing(other.as_bytes()).unwrap_err();
        assert!(err.contains("critical.type"), "{err}");
        assert!(parse_simple_signing(b"{}").is_err());
        assert!(parse_simple_signing(b"not json").is_err());
    }

    #[test]
    fn key_layer_becomes_a_v01_bundle() {
        let b = layer_to_bundle(
            LayerContent::MessageSignature {
                signature_b64: "MEUCIQ==",
                payload: PAYLOAD.as_bytes(),
            },
            &BTreeMap::new(),
        )
        .unwrap();
        assert!(b.verification_material.tlog_entries.is_empty());
        assert!(matches!(
            b.verification_material.content,
            sigstore_types::bundle::VerificationMaterialContent::PublicKey(_)
        ));
    }

    #[test]
    fn bad_signature_base64_is_refused() {
        let err = layer_to_bundle(
            LayerContent::MessageSignature {
                signature_b64: "!!",
                payload: b"x",
            },
            &BTreeMap::new(),
        )
        .err()
        .unwrap();
        assert!(err.contains("base64"), "{err}");
    }

    #[test]
    fn hex_decoding() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
    }
}
