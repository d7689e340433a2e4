//! cosign's legacy layer format with a Rekor bundle, built from real
//! Sigstore bundles of the conformance corpus (hashedrekord entries with
//! inclusion promises): the same signature, certificate and log entry
//! written as cosign writes them into `.sig` layer annotations must verify
//! through `layer_to_bundle`, and every tampered piece must be refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use berth_verify::legacy::{layer_to_bundle, LayerContent};
use berth_verify::{
    IdentityMatcher, Policy, PublicKey, RejectionKind, Signer, TlogRequirement, TrustMaterial,
    Verifier,
};
use serde_json::{json, Value};
use sigstore_types::Artifact;

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn corpus() -> PathBuf {
    match std::env::var_os("BERTH_SIGSTORE_CONFORMANCE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/sigstore-conformance"),
    }
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn trust() -> TrustMaterial {
    let root = corpus().join("trusted_root.production.json");
    TrustMaterial::trusted_root_json("production", &std::fs::read(root).unwrap()).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The annotations cosign would write for the bundle's signature.
fn annotations_from_bundle(bundle: &Value) -> (String, BTreeMap<String, String>) {
    let vm = &bundle["verificationMaterial"];
    let entry = &vm["tlogEntries"][0];
    let mut a = BTreeMap::new();
    let signature = bundle["messageSignature"]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    a.insert(
        "dev.cosignproject.cosign/signature".to_string(),
        signature.clone(),
    );
    if let Some(der) = vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str() {
        let body = B64.encode(B64.decode(der).unwrap());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        a.insert(
            "dev.sigstore.cosign/certificate".to_string(),
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                lines.join("\n")
            ),
        );
    }
    let log_id = B64
        .decode(entry["logId"]["keyId"].as_str().unwrap())
        .unwrap();
    let rekor = json!({
        "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
        "Payload": {
            "body": entry["canonicalizedBody"],
            "integratedTime": entry["integratedTime"].as_str().unwrap().parse::<i64>().unwrap(),
            "logIndex": entry["logIndex"].as_str().unwrap().parse::<i64>().unwrap(),
            "logID": hex(&log_id),
        }
    });
    a.insert("dev.sigstore.cosign/bundle".to_string(), rekor.to_string());
    (signature, a)
}

fn verify(
    policy: Policy,
    signature: &str,
    annotations: &BTreeMap<String, String>,
    payload: &[u8],
) -> Result<Signer, berth_verify::Rejection> {
    let bundle = layer_to_bundle(
        LayerContent::MessageSignature {
            signature_b64: signature,
            payload,
        },
        annotations,
    )
    .map_err(|m| berth_verify::Rejection {
        kind: RejectionKind::Malformed,
        message: m,
    })?;
    Verifier::new(policy).unwrap().verify_bundle(
        &bundle,
        &Artifact::from_blob(payload),
        "legacy layer",
    )
}

fn identity_policy() -> Policy {
    let mut p = Policy::new(
        Vec::new(),
        vec![IdentityMatcher::new(&regex::escape(ISSUER), &regex::escape(IDENTITY)).unwrap()],
    )
    .unwrap();
    p.trust = trust();
    p.identity_tlog = TlogRequirement::Required;
    p
}

fn tamper_rekor(a: &BTreeMap<String, String>, f: impl Fn(&mut Value)) -> BTreeMap<String, String> {
    let mut a = a.clone();
    let mut rekor: Value = serde_json::from_str(&a["dev.sigstore.cosign/bundle"]).unwrap();
    f(&mut rekor);
    a.insert("dev.sigstore.cosign/bundle".into(), rekor.to_string());
    a
}

#[test]
fn certificate_signature_with_rekor_set() {
    let root = corpus();
    let bundle = read_json(&root.join("happy-path-v0.1/bundle.sigstore.json"));
    let payload = std::fs::read(root.join("a.txt")).unwrap();
    let (sig, a) = annotations_from_bundle(&bundle);

    let signer = verify(identity_policy(), &sig, &a, &payload).unwrap();
    assert_eq!(
        signer,
        Signer::Certificate {
            issuer: ISSUER.into(),
            subject: IDENTITY.into()
        }
    );

    // Another payload: the signature (and the Rekor entry's hash) do not match.
    let err = verify(identity_policy(), &sig, &a, b"another payload").unwrap_err();
    assert_ne!(err.kind, RejectionKind::Malformed, "{err}");

    // The SET does not verify when it or what it covers changes.
    let bad_set = tamper_rekor(&a, |r| {
        let set = B64
            .decode(r["SignedEntryTimestamp"].as_str().unwrap())
            .unwrap();
        let mut set = set.clone();
        let last = set.len() - 1;
        set[last] ^= 1;
        r["SignedEntryTimestamp"] = B64.encode(set).into();
    });
    let err = verify(identity_policy(), &sig, &bad_set, &payload).unwrap_err();
    assert_eq!(err.kind, RejectionKind::TlogInvalid, "{err}");
    let moved_time = tamper_rekor(&a, |r| {
        r["Payload"]["integratedTime"] =
            (r["Payload"]["integratedTime"].as_i64().unwrap() + 1).into();
    });
    let err = verify(identity_policy(), &sig, &moved_time, &payload).unwrap_err();
    assert_eq!(err.kind, RejectionKind::TlogInvalid, "{err}");

    // A Rekor entry of another signature (the v0.3 happy path's) is refused.
    let other = read_json(&root.join("happy-path-v0.3/bundle.sigstore.json"));
    let (_, other_a) = annotations_from_bundle(&other);
    let mut mixed = a.clone();
    mixed.insert(
        "dev.sigstore.cosign/bundle".into(),
        other_a["dev.sigstore.cosign/bundle"].clone(),
    );
    // (Its integrated time is outside this certificate's validity, which
    // is found first; either way the entry does not vouch for it.)
    let err = verify(identity_policy(), &sig, &mixed, &payload).unwrap_err();
    assert!(
        matches!(
            err.kind,
            RejectionKind::TlogInvalid | RejectionKind::CertificateInvalid
        ),
        "{err}"
    );

    // Identity anchored: a prefix of the subject does not match.
    let mut prefix = identity_policy();
    prefix.identities = vec![IdentityMatcher::new(
        &regex::escape(ISSUER),
        "https://github.com/sigstore-conformance",
    )
    .unwrap()];
    let err = verify(prefix, &sig, &a, &payload).unwrap_err();
    assert_eq!(err.kind, RejectionKind::IdentityMismatch, "{err}");

    // Without the Rekor bundle, an identity needs a log entry.
    let mut no_log = a.clone();
    no_log.remove("dev.sigstore.cosign/bundle");
    let err = verify(identity_policy(), &sig, &no_log, &payload).unwrap_err();
    assert_eq!(err.kind, RejectionKind::TlogInvalid, "{err}");
}

#[test]
fn key_signature_with_rekor_set() {
    let root = corpus();
    let dir = root.join("managed-key-happy-path");
    let bundle = read_json(&dir.join("bundle.sigstore.json"));
    let payload = std::fs::read(root.join("a.txt")).unwrap();
    let (sig, a) = annotations_from_bundle(&bundle);
    let key =
        PublicKey::parse_pem("key.pub", &std::fs::read(dir.join("key.pub")).unwrap()).unwrap();
    let mut policy = Policy::new(key, Vec::new()).unwrap();
    policy.trust = trust();
    policy.key_tlog = TlogRequirement::Required;
    let signer = verify(policy.clone(), &sig, &a, &payload).unwrap();
    assert!(
        matches!(signer, Signer::Key { ref name, .. } if name == "key.pub"),
        "{signer:?}"
    );

    // The log entry is checked when present, even though keys do not
    // require one.
    policy.key_tlog = TlogRequirement::Optional;
    let bad_set = tamper_rekor(&a, |r| {
        r["Payload"]["logIndex"] = (r["Payload"]["logIndex"].as_i64().unwrap() + 1).into();
    });
    let err = verify(policy.clone(), &sig, &bad_set, &payload).unwrap_err();
    assert_eq!(err.kind, RejectionKind::TlogInvalid, "{err}");

    // Another key.
    let other = PublicKey::parse_pem(
        "other.pub",
        &std::fs::read(root.join("managed-key-and-trusted-root/key.pub")).unwrap(),
    )
    .unwrap();
    if other[0].fingerprint != policy.keys[0].fingerprint {
        let mut p = policy.clone();
        p.keys = other;
        assert!(verify(p, &sig, &a, &payload).is_err());
    }
}
