//! The verification step of the OCIRepository reconciler, as a trait.
//!
//! The reconciler resolves `spec.ref` to a manifest digest, then, when
//! `spec.verify` is set, asks a [`Verifier`] about that digest before
//! anything is pulled or stored. Only `Ok` lets the artifact advance; any
//! error leaves the last good artifact in place and sets
//! `SourceVerified=False` with the error's reason and message.
//!
//! The controller reads everything the `verify` spec names from the API
//! server (the `secretRef` Secret, the `trustedRootRef` Secret or
//! ConfigMap) and hands the data over as plain bytes in
//! [`VerificationMaterial`], so an implementation needs no Kubernetes
//! client. It gets the registry client the reconciler already uses (same
//! registry, credentials and TLS), so signature lookups count in the same
//! request counters and never reach another registry with these
//! credentials.
//!
//! Until Cosign verification is wired in, [`UnavailableVerifier`] refuses
//! every request with `VerificationUnavailable`: a source with `verify` set
//! then never gets an artifact, which is the honest outcome.
//!
//! `berth-verify` (the Cosign crate) keeps its signatures free of
//! Kubernetes and API types; the `impl Verifier` adapting it lives in this
//! crate, next to this trait.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use crate::api::oci_repository::{OCIRepositoryVerification, VerifiedSigner};

/// Reason of the default verifier's refusal.
pub const VERIFICATION_UNAVAILABLE: &str = "VerificationUnavailable";

/// What one verification is about.
pub struct VerifyRequest<'a> {
    /// The client for the artifact's registry (its credentials and TLS).
    pub client: &'a berth_oci::Client,
    /// The repository (`host/path`, with the tag when the ref named or
    /// selected one).
    pub reference: &'a berth_oci::Reference,
    /// The manifest digest the ref resolved to: the digest that must be
    /// signed.
    pub digest: &'a berth_oci::Digest,
    /// The OCIRepository's `spec.verify`.
    pub spec: &'a OCIRepositoryVerification,
    /// The objects `spec` names, already read by the controller.
    pub material: &'a VerificationMaterial,
}

/// The data of the objects a `verify` spec names, read by the controller
/// from the OCIRepository's namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerificationMaterial {
    /// `spec.verify.secretRef`'s Secret data (key → bytes), when set:
    /// keys ending in `.pub` are PEM public keys.
    pub secret: Option<BTreeMap<String, Vec<u8>>>,
    /// `spec.verify.trustedRootRef`'s object data (a Secret's data or a
    /// ConfigMap's `data` and `binaryData`), when set.
    pub trusted_root: Option<BTreeMap<String, Vec<u8>>>,
}

/// Why verification did not say yes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct VerifyError {
    /// CamelCase condition reason, bounded (also a metric label), e.g.
    /// `VerificationFailed`, `SignatureNotFound`, `VerificationUnavailable`.
    pub reason: String,
    /// A message a human can act on, e.g. "signature does not match key
    /// cosign.pub for sha256:…".
    pub message: String,
    /// Whether trying again later can help without a spec change (the
    /// registry was unreachable while looking for signatures). A wrong
    /// signature is not retryable: the reconciler stalls until the spec,
    /// or the digest the ref resolves to, changes.
    pub retryable: bool,
}

/// A boxed verification future (the trait is used as `dyn Verifier`).
pub type VerifyFuture<'a> =
    Pin<Box<dyn Future<Output = Result<VerifiedSigner, VerifyError>> + Send + 'a>>;

/// Decides whether a resolved digest may advance.
pub trait Verifier: Send + Sync {
    /// `Ok` with the signer that satisfied `request.spec`, or why not.
    fn verify<'a>(&'a self, request: VerifyRequest<'a>) -> VerifyFuture<'a>;
}

/// The verifier used until Cosign verification is wired in: it refuses
/// every request, so nothing advances when `verify` is set.
#[derive(Clone, Copy, Debug, Default)]
pub struct UnavailableVerifier;

impl Verifier for UnavailableVerifier {
    fn verify<'a>(&'a self, request: VerifyRequest<'a>) -> VerifyFuture<'a> {
        let message = format!(
            "signature verification is not available in this build of berth; \
             {} was not verified, so it is not used (remove spec.verify to use unsigned artifacts)",
            request.digest
        );
        Box::pin(async move {
            Err(VerifyError {
                reason: VERIFICATION_UNAVAILABLE.to_string(),
                message,
                retryable: false,
            })
        })
    }
}
