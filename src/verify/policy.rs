//! What a signature must satisfy: trusted keys or certificate identities,
//! the trust root, the transparency-log requirement, attestation types.

use std::fmt;

use base64::Engine as _;
use regex::Regex;
use sha2::{Digest as _, Sha256};
use sigstore_trust_root::TrustedRoot;
use sigstore_types::DerPublicKey;

use crate::error::Error;

/// A trusted public key (PEM `*.pub`: ECDSA P-256/P-384, Ed25519, RSA).
#[derive(Clone)]
pub struct PublicKey {
    /// Where it came from (the Secret key name, e.g. `cosign.pub`).
    pub name: String,
    pub(crate) der: DerPublicKey,
    /// `sha256:<hex>` of the PKIX DER: the key's fingerprint.
    pub fingerprint: String,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("name", &self.name)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl PublicKey {
    /// Every `PUBLIC KEY` block of a PEM file (a `.pub` may hold several).
    pub fn parse_pem(name: &str, pem: &[u8]) -> Result<Vec<PublicKey>, Error> {
        let bad = |reason: String| Error::InvalidKey {
            name: name.to_string(),
            reason,
        };
        let text = std::str::from_utf8(pem).map_err(|_| bad("not UTF-8 PEM text".into()))?;
        let blocks = pem_blocks(text, "PUBLIC KEY").map_err(bad)?;
        if blocks.is_empty() {
            return Err(bad("no PEM block 'PUBLIC KEY' in it".into()));
        }
        let several = blocks.len() > 1;
        blocks
            .into_iter()
            .enumerate()
            .map(|(i, der)| {
                // Check the key is one we can verify with before trusting it.
                sigstore_crypto::VerificationKey::from_spki(&DerPublicKey::new(der.clone()))
                    .map_err(|e| bad(format!("unsupported public key: {e}")))?;
                let fingerprint = format!("sha256:{}", hex(&Sha256::digest(&der)));
                Ok(PublicKey {
                    name: if several {
                        format!("{name}#{}", i + 1)
                    } else {
                        name.to_string()
                    },
                    der: DerPublicKey::new(der),
                    fingerprint,
                })
            })
            .collect()
    }
}

/// The base64 bodies of the PEM blocks labelled `label`, decoded.
pub(crate) fn pem_blocks(text: &str, label: &str) -> Result<Vec<Vec<u8>>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start + begin.len()..];
        let stop = after
            .find(&end)
            .ok_or_else(|| format!("PEM block {label} has no END line"))?;
        let body: String = after[..stop]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| format!("PEM block {label} is not base64: {e}"))?;
        out.push(der);
        rest = &after[stop + end.len()..];
    }
    Ok(out)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One `matchOIDCIdentity` entry: regular expressions for the
/// certificate's OIDC issuer and its SAN, each anchored at both ends (an
/// expression `https://a.example` does not match `https://a.example.evil`).
#[derive(Clone, Debug)]
pub struct IdentityMatcher {
    issuer_source: String,
    subject_source: String,
    issuer: Regex,
    subject: Regex,
}

impl IdentityMatcher {
    pub fn new(issuer: &str, subject: &str) -> Result<IdentityMatcher, Error> {
        let anchored = |what: &str, re: &str| {
            Regex::new(&format!("^(?:{re})$")).map_err(|e| {
                Error::InvalidPolicy(format!(
                    "matchOIDCIdentity {what} {re:?} is not a regular expression: {e}"
                ))
            })
        };
        Ok(IdentityMatcher {
            issuer: anchored("issuer", issuer)?,
            subject: anchored("subject", subject)?,
            issuer_source: issuer.to_string(),
            subject_source: subject.to_string(),
        })
    }

    /// Both expressions match.
    pub fn matches(&self, issuer: &str, subject: &str) -> bool {
        self.issuer.is_match(issuer) && self.subject.is_match(subject)
    }
}

impl fmt::Display for IdentityMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "issuer {:?} / subject {:?}",
            self.issuer_source, self.subject_source
        )
    }
}

/// Whether a transparency-log entry must be present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlogRequirement {
    /// Every accepted signature carries a log entry that verifies.
    Required,
    /// An entry that is present must verify; a missing one is accepted.
    Optional,
}

/// The roots certificates must chain to, and the logs and timestamp
/// authorities entries and timestamps are checked against.
#[derive(Clone, Debug)]
pub struct TrustMaterial {
    /// Where it came from, for messages.
    pub name: String,
    pub(crate) root: TrustedRoot,
    /// Built from a PEM CA bundle: no CT logs, so certificates carry no
    /// SCT to check.
    pub(crate) from_ca_bundle: bool,
}

impl TrustMaterial {
    /// The Sigstore public-good trusted root shipped with berth (the one
    /// `sigstore-trust-root` embeds; see the crate README to refresh it).
    pub fn public_good() -> Result<TrustMaterial, Error> {
        Self::trusted_root_json(
            "the Sigstore public-good root",
            sigstore_trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT.as_bytes(),
        )
    }

    /// A Sigstore `trusted_root.json`.
    pub fn trusted_root_json(name: &str, json: &[u8]) -> Result<TrustMaterial, Error> {
        let bad = |reason: String| Error::InvalidTrustedRoot {
            name: name.to_string(),
            reason,
        };
        let text = std::str::from_utf8(json).map_err(|_| bad("not UTF-8".into()))?;
        let root = TrustedRoot::from_json(text).map_err(|e| bad(e.to_string()))?;
        Ok(TrustMaterial {
            name: name.to_string(),
            root,
            from_ca_bundle: false,
        })
    }

    /// A PEM bundle of CA certificates: each certificate becomes a trusted
    /// authority (roots, and intermediates that may issue directly). There
    /// is no transparency log or timestamp authority in such a root, so
    /// signatures verified with it rely on the certificate's own validity
    /// window at verification time unless a log entry is optional and absent.
    pub fn ca_bundle(name: &str, pem: &[u8]) -> Result<TrustMaterial, Error> {
        let bad = |reason: String| Error::InvalidTrustedRoot {
            name: name.to_string(),
            reason,
        };
        let text = std::str::from_utf8(pem).map_err(|_| bad("not UTF-8 PEM text".into()))?;
        let certs = pem_blocks(text, "CERTIFICATE").map_err(bad)?;
        if certs.is_empty() {
            return Err(bad("no PEM block 'CERTIFICATE' in it".into()));
        }
        let authorities: Vec<serde_json::Value> = certs
            .iter()
            .map(|der| {
                serde_json::json!({
                    "subject": {},
                    "uri": "",
                    "certChain": {"certificates": [
                        {"rawBytes": base64::engine::general_purpose::STANDARD.encode(der)}
                    ]},
                    "validFor": {"start": "1970-01-01T00:00:00Z"},
                })
            })
            .collect();
        let json = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [],
            "certificateAuthorities": authorities,
            "ctlogs": [],
            "timestampAuthorities": [],
        });
        let root = TrustedRoot::from_json(&json.to_string()).map_err(|e| bad(e.to_string()))?;
        Ok(TrustMaterial {
            name: name.to_string(),
            root,
            from_ca_bundle: true,
        })
    }

    /// Reads either form: JSON is a trusted root, PEM a CA bundle.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<TrustMaterial, Error> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') {
            Self::trusted_root_json(name, bytes)
        } else {
            Self::ca_bundle(name, bytes)
        }
    }
}

/// A verification policy: who may sign, against which roots, and what
/// else must be attested.
#[derive(Clone, Debug)]
pub struct Policy {
    /// A signature by any of these keys is accepted.
    pub keys: Vec<PublicKey>,
    /// A certificate whose issuer and SAN match any of these is accepted.
    pub identities: Vec<IdentityMatcher>,
    /// Roots for certificates; Rekor and TSA keys for log entries and
    /// timestamps.
    pub trust: TrustMaterial,
    /// Whether key signatures need a log entry (default: optional).
    pub key_tlog: TlogRequirement,
    /// Whether certificate signatures need a log entry (default: required).
    pub identity_tlog: TlogRequirement,
    /// Predicate types that must each be attested by a trusted signer
    /// (in-toto statement whose subject is the digest).
    pub attestations: Vec<String>,
}

impl Policy {
    /// A policy with keys and/or identities, the public-good root and the
    /// default log requirements.
    pub fn new(keys: Vec<PublicKey>, identities: Vec<IdentityMatcher>) -> Result<Policy, Error> {
        Ok(Policy {
            keys,
            identities,
            trust: TrustMaterial::public_good()?,
            key_tlog: TlogRequirement::Optional,
            identity_tlog: TlogRequirement::Required,
            attestations: Vec::new(),
        })
    }

    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.keys.is_empty() && self.identities.is_empty() {
            return Err(Error::InvalidPolicy(
                "neither a public key nor a matchOIDCIdentity is configured, so no signer can be trusted"
                    .into(),
            ));
        }
        Ok(())
    }

    /// A stable digest of everything that decides a verification, so a
    /// caller can tell when a verified digest must be verified again.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for k in &self.keys {
            h.update(b"key\0");
            h.update(k.fingerprint.as_bytes());
        }
        for i in &self.identities {
            h.update(b"id\0");
            h.update(i.issuer_source.as_bytes());
            h.update(b"\0");
            h.update(i.subject_source.as_bytes());
        }
        h.update(b"root\0");
        h.update(
            serde_json::to_vec(&self.trust.root)
                .unwrap_or_default()
                .as_slice(),
        );
        h.update(format!("{:?}{:?}", self.key_tlog, self.identity_tlog).as_bytes());
        for a in &self.attestations {
            h.update(b"att\0");
            h.update(a.as_bytes());
        }
        format!("sha256:{}", hex(&h.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_regexes_are_anchored() {
        let m = IdentityMatcher::new("https://issuer\\.example", "ci@example\\.com").unwrap();
        assert!(m.matches("https://issuer.example", "ci@example.com"));
        assert!(!m.matches("https://issuer.example.evil", "ci@example.com"));
        assert!(!m.matches("https://issuer.example", "ci@example.com.evil"));
        assert!(!m.matches("https://issuer.example", "xci@example.com"));
        let alt = IdentityMatcher::new(".*", "a|b").unwrap();
        // The alternation is grouped: "a|b" must not become "^a|b$".
        assert!(alt.matches("x", "a") && alt.matches("x", "b"));
        assert!(!alt.matches("x", "ab") && !alt.matches("x", "xb"));
    }

    #[test]
    fn bad_regex_is_a_policy_error() {
        let err = IdentityMatcher::new("(", ".*").unwrap_err();
        assert_eq!(err.reason(), "InvalidVerificationPolicy");
    }

    #[test]
    fn pem_without_key_is_refused() {
        let err = PublicKey::parse_pem("cosign.pub", b"hello").unwrap_err();
        assert!(err.to_string().contains("cosign.pub"), "{err}");
    }

    #[test]
    fn public_good_root_loads() {
        let t = TrustMaterial::public_good().unwrap();
        assert!(!t.root.certificate_authorities.is_empty());
        assert!(!t.root.tlogs.is_empty());
    }
}
