//! The OCIRepository reconciler's [`Verifier`], on `berth-verify`.
//!
//! It turns `spec.verify` and the objects it names into a
//! [`berth_verify::Policy`]: every `*.pub` key of the `secretRef` Secret,
//! each `matchOIDCIdentity` entry (anchored regexes), and the trusted root
//! from `trustedRootRef` (a `trusted_root.json` or a PEM CA bundle; the
//! public-good Sigstore root when unset). Transparency-log entries are
//! optional for keys and required for identities (berth-verify's
//! defaults; the spec has no field to change them yet).
//!
//! A digest verified under a policy is remembered by (repository, digest,
//! policy fingerprint): later polls of the same digest do not go back to
//! the registry, while any change of keys, identities or root verifies
//! again. Outcomes are counted by result (`ok` or the failure reason) with
//! the time spent, for `berth_verify_total{result}` and the duration.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use berth_verify::{
    IdentityMatcher, Policy, PublicKey, Signer, TlogRequirement, TrustMaterial, Verifier as Cosign,
};

use super::verify_hook::{Verifier, VerifyError, VerifyFuture, VerifyRequest};
use crate::api::oci_repository::{
    OCIRepositoryVerification, TransparencyLogPolicy, VerifiedSigner,
};
use crate::controller::VerificationMaterial;

/// Verified (repository, digest, policy fingerprint) entries kept at most.
const CACHE_CAP: usize = 4096;

/// Counts of verification outcomes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VerifyMetrics {
    /// `ok` or the failure reason → count (`berth_verify_total{result}`).
    pub total: BTreeMap<String, u64>,
    /// Summed time of verifications that went to the registry.
    pub duration_sum: Duration,
    /// How many went to the registry (cache hits are not timed).
    pub duration_count: u64,
}

/// Cosign verification for the reconciler.
#[derive(Default)]
pub struct CosignVerifier {
    verified: Mutex<HashMap<String, VerifiedSigner>>,
    metrics: Mutex<VerifyMetrics>,
}

impl CosignVerifier {
    pub fn new() -> CosignVerifier {
        CosignVerifier::default()
    }

    /// A snapshot of the outcome counters.
    pub fn metrics(&self) -> VerifyMetrics {
        self.metrics
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The counters in Prometheus' text format, for the metrics endpoint:
    /// `berth_verify_total{result}` and `berth_verify_duration_seconds`
    /// (sum and count), so "failure rate above 5 %" is
    /// `sum(rate(berth_verify_total{result!="ok"}[5m])) / sum(rate(berth_verify_total[5m])) > 0.05`.
    pub fn render_prometheus(&self) -> String {
        let m = self.metrics();
        let mut out = String::from(
            "# HELP berth_verify_total Signature verifications by result (ok or the failure reason).\n\
             # TYPE berth_verify_total counter\n",
        );
        for (result, n) in &m.total {
            out.push_str(&format!("berth_verify_total{{result=\"{result}\"}} {n}\n"));
        }
        out.push_str(
            "# HELP berth_verify_duration_seconds Time spent verifying against the registry.\n\
             # TYPE berth_verify_duration_seconds summary\n",
        );
        out.push_str(&format!(
            "berth_verify_duration_seconds_sum {}\nberth_verify_duration_seconds_count {}\n",
            m.duration_sum.as_secs_f64(),
            m.duration_count
        ));
        out
    }

    fn record(&self, result: &str, elapsed: Option<Duration>) {
        let mut m = self.metrics.lock().unwrap_or_else(|p| p.into_inner());
        *m.total.entry(result.to_string()).or_default() += 1;
        if let Some(d) = elapsed {
            m.duration_sum += d;
            m.duration_count += 1;
        }
    }
}

fn policy_error(e: berth_verify::Error) -> VerifyError {
    VerifyError {
        reason: e.reason().to_string(),
        message: e.to_string(),
        retryable: e.is_retryable(),
    }
}

/// The policy `spec` and `material` describe.
pub fn build_policy(
    spec: &OCIRepositoryVerification,
    material: &VerificationMaterial,
) -> Result<Policy, berth_verify::Error> {
    let mut keys = Vec::new();
    if let Some(secret_ref) = &spec.secret_ref {
        let data = material.secret.as_ref().ok_or_else(|| {
            berth_verify::Error::InvalidPolicy(format!(
                "the Secret {} named by verify.secretRef was not read",
                secret_ref.name
            ))
        })?;
        for (name, pem) in data.iter().filter(|(k, _)| k.ends_with(".pub")) {
            keys.extend(PublicKey::parse_pem(name, pem)?);
        }
        if keys.is_empty() {
            return Err(berth_verify::Error::InvalidPolicy(format!(
                "the Secret {} named by verify.secretRef has no key ending in .pub",
                secret_ref.name
            )));
        }
    }
    let identities = spec
        .match_oidc_identity
        .iter()
        .map(|m| IdentityMatcher::new(&m.issuer, &m.subject))
        .collect::<Result<Vec<_>, _>>()?;
    let mut policy = Policy::new(keys, identities)?;
    if let Some(tlog) = spec.transparency_log {
        let requirement = match tlog {
            TransparencyLogPolicy::Required => TlogRequirement::Required,
            TransparencyLogPolicy::Optional => TlogRequirement::Optional,
        };
        policy.key_tlog = requirement;
        policy.identity_tlog = requirement;
    }
    policy.attestations = spec.attestations.clone();
    if let Some(root_ref) = &spec.trusted_root_ref {
        let data = material.trusted_root.as_ref().ok_or_else(|| {
            berth_verify::Error::InvalidPolicy(format!(
                "the object {} named by verify.trustedRootRef was not read",
                root_ref.name
            ))
        })?;
        let (key, bytes) = match &root_ref.key {
            Some(k) => (
                k.clone(),
                data.get(k).ok_or_else(|| {
                    berth_verify::Error::InvalidPolicy(format!(
                        "{} has no key {k} (verify.trustedRootRef.key)",
                        root_ref.name
                    ))
                })?,
            ),
            None => {
                let found = data.get_key_value("trusted_root.json").or_else(|| {
                    let pems: Vec<_> = data
                        .iter()
                        .filter(|(k, _)| k.ends_with(".pem") || k.ends_with(".crt"))
                        .collect();
                    match pems.as_slice() {
                        [one] => Some(*one),
                        _ => None,
                    }
                });
                let (k, v) = found.ok_or_else(|| {
                    berth_verify::Error::InvalidPolicy(format!(
                        "{} has neither trusted_root.json nor a single .pem CA bundle; \
                         set verify.trustedRootRef.key",
                        root_ref.name
                    ))
                })?;
                (k.clone(), v)
            }
        };
        policy.trust = TrustMaterial::parse(&format!("{}/{key}", root_ref.name), bytes)?;
    }
    Ok(policy)
}

fn to_status(v: &berth_verify::Verified) -> VerifiedSigner {
    let format = Some(v.format.as_str().to_string());
    match &v.signer {
        Signer::Key { name, fingerprint } => VerifiedSigner {
            key: Some(format!("{name} ({fingerprint})")),
            issuer: None,
            subject: None,
            format,
        },
        Signer::Certificate { issuer, subject } => VerifiedSigner {
            key: None,
            issuer: Some(issuer.clone()),
            subject: Some(subject.clone()),
            format,
        },
    }
}

impl Verifier for CosignVerifier {
    fn verify<'a>(&'a self, request: VerifyRequest<'a>) -> VerifyFuture<'a> {
        Box::pin(async move {
            let policy = match build_policy(request.spec, request.material) {
                Ok(p) => p,
                Err(e) => {
                    self.record(e.reason(), None);
                    return Err(policy_error(e));
                }
            };
            let repository = request.reference.repository().to_string();
            let cache_key = format!(
                "{}/{repository}@{}#{}",
                request.reference.registry(),
                request.digest,
                policy.fingerprint()
            );
            let cached = self
                .verified
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&cache_key)
                .cloned();
            if let Some(signer) = cached {
                self.record("ok", None);
                return Ok(signer);
            }
            let started = Instant::now();
            let outcome = match Cosign::new(policy) {
                Ok(v) => v.verify(request.client, &repository, request.digest).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(v) => {
                    self.record("ok", Some(started.elapsed()));
                    let signer = to_status(&v);
                    let mut cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
                    if cache.len() >= CACHE_CAP {
                        cache.clear();
                    }
                    cache.insert(cache_key, signer.clone());
                    Ok(signer)
                }
                Err(e) => {
                    self.record(e.reason(), Some(started.elapsed()));
                    Err(policy_error(e))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::oci_repository::OIDCIdentityMatch;

    #[test]
    fn metrics_render_counts_by_result() {
        let v = CosignVerifier::new();
        v.record("ok", Some(Duration::from_millis(500)));
        v.record("ok", None);
        v.record("SignatureNotFound", Some(Duration::from_millis(250)));
        let text = v.render_prometheus();
        assert!(
            text.contains("berth_verify_total{result=\"ok\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("berth_verify_total{result=\"SignatureNotFound\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("berth_verify_duration_seconds_sum 0.75\n"),
            "{text}"
        );
        assert!(
            text.contains("berth_verify_duration_seconds_count 2\n"),
            "{text}"
        );
    }

    #[test]
    fn transparency_log_and_attestations_reach_the_policy() {
        let identity = || {
            vec![OIDCIdentityMatch {
                issuer: "https://issuer\\.test".into(),
                subject: "a@b\\.test".into(),
            }]
        };
        let material = VerificationMaterial {
            secret: None,
            trusted_root: None,
        };
        let defaults = build_policy(
            &OCIRepositoryVerification {
                match_oidc_identity: identity(),
                ..Default::default()
            },
            &material,
        )
        .unwrap();
        assert_eq!(defaults.identity_tlog, TlogRequirement::Required);
        assert_eq!(defaults.key_tlog, TlogRequirement::Optional);
        assert!(defaults.attestations.is_empty());
        let spec = OCIRepositoryVerification {
            match_oidc_identity: identity(),
            transparency_log: Some(TransparencyLogPolicy::Optional),
            attestations: vec!["https://slsa.dev/provenance/v1".into()],
            ..Default::default()
        };
        let policy = build_policy(&spec, &material).unwrap();
        assert_eq!(policy.identity_tlog, TlogRequirement::Optional);
        assert_eq!(policy.key_tlog, TlogRequirement::Optional);
        assert_eq!(
            policy.attestations,
            vec!["https://slsa.dev/provenance/v1".to_string()]
        );
        // A stricter policy is a different policy: cached verdicts do not carry over.
        assert_ne!(policy.fingerprint(), defaults.fingerprint());
    }

    #[test]
    fn secret_without_keys_is_a_policy_error() {
        let spec = OCIRepositoryVerification {
            secret_ref: Some(crate::api::LocalObjectReference {
                name: "keys".into(),
            }),
            ..Default::default()
        };
        let material = VerificationMaterial {
            secret: Some(BTreeMap::from([("README".to_string(), b"x".to_vec())])),
            trusted_root: None,
        };
        let err = build_policy(&spec, &material).unwrap_err();
        assert_eq!(err.reason(), "InvalidVerificationPolicy");
        assert!(err.to_string().contains(".pub"), "{err}");
    }

    #[test]
    fn identities_alone_make_a_policy_and_fingerprints_follow_changes() {
        let spec = |subject: &str| OCIRepositoryVerification {
            match_oidc_identity: vec![OIDCIdentityMatch {
                issuer: "https://issuer\\.test".into(),
                subject: subject.into(),
            }],
            ..Default::default()
        };
        let m = VerificationMaterial::default();
        let a = build_policy(&spec("a@test"), &m).unwrap();
        let b = build_policy(&spec("b@test"), &m).unwrap();
        assert_eq!(
            a.fingerprint(),
            build_policy(&spec("a@test"), &m).unwrap().fingerprint()
        );
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
