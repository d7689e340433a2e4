//! Errors of a verification, and why one signature was not accepted.

/// Why one signature candidate was not accepted. The kind picks the
/// condition reason when every candidate failed the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectionKind {
    /// The signature does not verify with any trusted key or with the
    /// certificate's key.
    SignatureMismatch,
    /// The signed payload names another artifact digest.
    DigestMismatch,
    /// The certificate does not chain to the trusted root, or was not
    /// valid at signing time.
    CertificateInvalid,
    /// The certificate's issuer or subject matches no `matchOIDCIdentity`.
    IdentityMismatch,
    /// A transparency-log entry is missing, invalid, or for something else.
    TlogInvalid,
    /// The signature's data cannot be parsed.
    Malformed,
}

impl RejectionKind {
    /// The CamelCase condition reason for this kind.
    pub fn reason(self) -> &'static str {
        match self {
            RejectionKind::SignatureMismatch => "SignatureMismatch",
            RejectionKind::DigestMismatch => "PayloadDigestMismatch",
            RejectionKind::CertificateInvalid => "CertificateInvalid",
            RejectionKind::IdentityMismatch => "IdentityMismatch",
            RejectionKind::TlogInvalid => "TransparencyLogInvalid",
            RejectionKind::Malformed => "MalformedSignature",
        }
    }
}

/// One candidate signature that did not satisfy the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub kind: RejectionKind,
    /// Where the candidate came from and what was wrong, e.g. "legacy
    /// signature under tag sha256-….sig: signature does not match key
    /// cosign.pub".
    pub message: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Why a digest was not verified.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The policy itself is unusable (no keys and no identities, a bad
    /// regular expression, …).
    #[error("invalid verification policy: {0}")]
    InvalidPolicy(String),
    /// A public key could not be read.
    #[error("failed to read public key {name}: {reason}")]
    InvalidKey { name: String, reason: String },
    /// The trusted root or CA bundle could not be read.
    #[error("failed to read the trusted root {name}: {reason}")]
    InvalidTrustedRoot { name: String, reason: String },
    /// Nothing that looks like a signature of the digest exists.
    #[error(
        "no signature found for {digest} (looked for {looked}); signatures live next to the \
         artifact, so an artifact copied from another registry or repository needs its \
         signatures copied too (cosign copy)"
    )]
    SignatureNotFound { digest: String, looked: String },
    /// Signatures exist, but none satisfies the policy.
    #[error("no signature of {digest} satisfies the policy: {}", join(.rejections))]
    Rejected {
        digest: String,
        rejections: Vec<Rejection>,
    },
    /// A required attestation type is missing or not verified.
    #[error("no verified attestation of type {predicate_type} for {digest}{}", detail(.rejections))]
    AttestationMissing {
        digest: String,
        predicate_type: String,
        rejections: Vec<Rejection>,
    },
    /// The registry could not be asked for signatures.
    #[error("failed to look for signatures of {what}: {source}")]
    Registry {
        what: String,
        #[source]
        source: berth_oci::Error,
    },
}

fn join(rejections: &[Rejection]) -> String {
    rejections
        .iter()
        .map(|r| r.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

fn detail(rejections: &[Rejection]) -> String {
    if rejections.is_empty() {
        String::new()
    } else {
        format!(": {}", join(rejections))
    }
}

impl Error {
    /// The CamelCase condition reason (bounded: also a metric label).
    pub fn reason(&self) -> &'static str {
        match self {
            Error::InvalidPolicy(_) => "InvalidVerificationPolicy",
            Error::InvalidKey { .. } => "InvalidPublicKey",
            Error::InvalidTrustedRoot { .. } => "InvalidTrustedRoot",
            Error::SignatureNotFound { .. } => "SignatureNotFound",
            Error::Rejected { rejections, .. } => common_kind(rejections)
                .map(RejectionKind::reason)
                .unwrap_or("SignatureVerificationFailed"),
            Error::AttestationMissing { .. } => "AttestationMissing",
            Error::Registry { .. } => "SignatureFetchFailed",
        }
    }

    /// Whether trying again later can help without a spec change.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Registry { source, .. } if source.is_retryable())
    }
}

/// The kind shared by every rejection, if they agree.
fn common_kind(rejections: &[Rejection]) -> Option<RejectionKind> {
    let first = rejections.first()?.kind;
    rejections.iter().all(|r| r.kind == first).then_some(first)
}
