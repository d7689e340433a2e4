//! The client's error type: one variant per kind of failure a controller
//! has to tell apart (condition reason, retry or stall).

use std::time::Duration;

use crate::digest::Digest;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    InvalidReference(#[from] crate::reference::ReferenceError),

    #[error("invalid client options: {0}")]
    InvalidOptions(String),

    #[error("authentication to {registry} failed: {message}")]
    AuthFailed { registry: String, message: String },

    #[error("refused the token realm {realm:?} of {registry}: {reason}")]
    TokenRealmRefused {
        registry: String,
        realm: String,
        reason: String,
    },

    #[error("{what} not found: {message}")]
    NotFound { what: String, message: String },

    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: Digest,
        actual: String,
    },

    #[error("{what} is larger than the limit of {limit} bytes")]
    SizeExceeded { what: String, limit: u64 },

    #[error("{what} is {actual} bytes, but its descriptor says {expected}")]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },

    #[error("unsupported media type for {what}: {media_type:?}")]
    UnsupportedMediaType { what: String, media_type: String },

    #[error("invalid manifest {what}: {reason}")]
    InvalidManifest { what: String, reason: String },

    #[error("the registry does not support {what}: {reason}")]
    Unsupported { what: String, reason: String },

    #[error("the registry is rate limiting {what}; retry after {retry_after:?}")]
    RateLimited { what: String, retry_after: Duration },

    #[error("timed out: {what}")]
    Timeout { what: String },

    /// `detail` is the whole cause chain (e.g. the TLS verification
    /// error under reqwest's "error sending request"), for a message a
    /// human can act on.
    #[error("failed to reach the registry for {what}: {detail}")]
    Transport {
        what: String,
        detail: String,
        #[source]
        source: reqwest::Error,
    },

    #[error("refused a redirect for {what}: {reason}")]
    RedirectRefused { what: String, reason: String },

    #[error("refused to follow the pagination of {what}: {reason}")]
    Pagination { what: String, reason: String },

    #[error("{what}: the registry answered {status}: {message}")]
    Registry {
        what: String,
        status: u16,
        message: String,
    },

    #[error("invalid response for {what}: {reason}")]
    InvalidResponse { what: String, reason: String },

    #[error("failed to write {what}: {source}")]
    Write {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A stable PascalCase name for a condition reason or metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::InvalidReference(_) => "InvalidReference",
            Error::InvalidOptions(_) => "InvalidOptions",
            Error::AuthFailed { .. } => "AuthFailed",
            Error::TokenRealmRefused { .. } => "TokenRealmRefused",
            Error::NotFound { .. } => "NotFound",
            Error::DigestMismatch { .. } => "DigestMismatch",
            Error::SizeExceeded { .. } => "SizeExceeded",
            Error::SizeMismatch { .. } => "SizeMismatch",
            Error::UnsupportedMediaType { .. } => "UnsupportedMediaType",
            Error::InvalidManifest { .. } => "InvalidManifest",
            Error::Unsupported { .. } => "Unsupported",
            Error::RateLimited { .. } => "RateLimited",
            Error::Timeout { .. } => "Timeout",
            Error::Transport { .. } => "Transport",
            Error::RedirectRefused { .. } => "RedirectRefused",
            Error::Pagination { .. } => "Pagination",
            Error::Registry { .. } => "RegistryError",
            Error::InvalidResponse { .. } => "InvalidResponse",
            Error::Write { .. } => "WriteFailed",
        }
    }

    /// Whether trying again later can help without a change of spec
    /// (network trouble, rate limits, 5xx). Content and auth errors are
    /// not retryable: the same request gets the same answer.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Timeout { .. } | Error::Transport { .. } => true,
            Error::Registry { status, .. } => *status >= 500 || *status == 408,
            // A truncated body is what a dropped connection looks like.
            Error::SizeMismatch {
                expected, actual, ..
            } => actual < expected,
            _ => false,
        }
    }

    /// The delay the registry asked for (429 `Retry-After`, capped).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}
