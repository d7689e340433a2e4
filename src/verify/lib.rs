//! Cosign signature verification for berth: before a digest advances, prove
//! it was signed by a trusted key or certificate identity, in cosign's
//! legacy tag format or as a Sigstore bundle attached as a referrer.
//!
//! # What is ours and what is `sigstore-verify`'s
//!
//! The cryptographic checks of a Sigstore bundle come from
//! `sigstore-verify` 0.15 (sigstore-rust; built without its TUF and HTTP
//! features, on aws-lc-rs, which berth already links): the signature over
//! the artifact or the DSSE PAE, the in-toto subject against the digest,
//! the certificate chain to the trusted root at signing time with the
//! code-signing EKU, the SCT, Rekor entries (inclusion proof, checkpoint,
//! SET) and their consistency with the bundle, RFC 3161 timestamps. It is
//! the crate the Sigstore conformance vectors were checked against.
//!
//! The older `sigstore` crate (sigstore-rs 0.15) was not used: its identity
//! matching is exact only (we need anchored regular expressions), its
//! fetch errors are only logged, and its handling of cosign v3 bundles in
//! referrers is unclear; `sigstore-verify` does the bundle checks and
//! nothing else, which is what we need.
//!
//! `sigstore-verify` refuses a bundle with neither a log entry nor a
//! timestamp, which is what cosign writes with `--tlog-upload=false`. When
//! the policy makes the log optional, such signatures take our own path
//! (`offline`): the signature with `sigstore-crypto`, the in-toto subject,
//! and the certificate chain with `rustls-webpki` at the current time.
//! That path also accepts Ed25519ph, which cosign uses for Ed25519 keys and
//! `sigstore-crypto` does not offer (with `ed25519-dalek`); an Ed25519 key
//! signature that carries a log entry goes through `sigstore-verify` and is
//! refused, a known gap.
//!
//! Our own code: finding signatures in the registry through `berth-oci`
//! (referrers API, the `sha256-<hex>` referrers tag, the legacy
//! `sha256-<hex>.sig` / `.att` tags, all reads capped); turning a legacy
//! layer into an equivalent v0.1 bundle so both formats share one set of
//! checks ([`legacy`]); the simple-signing claim check
//! (`docker-manifest-digest` must equal the verified digest, which Flux
//! does not do); policy ([`policy`]): several keys, `matchOIDCIdentity`
//! regexes anchored at both ends, the transparency-log requirement
//! (required for identities, optional for keys by default), attestation
//! predicate types; trust from a `trusted_root.json` or a PEM CA bundle;
//! and error reasons a human can act on ([`error`]).
//!
//! # Trust roots
//!
//! The default root is the Sigstore public-good `trusted_root.json` that
//! `sigstore-trust-root` embeds (no network at verify time). To refresh
//! it, update `sigstore-trust-root`, or give berth a newer root: the output
//! of `cosign trusted-root create` or the TUF repository's
//! `trusted_root.json`, in the Secret/ConfigMap `verify` names.

pub mod bundle;
pub mod conformance;
pub mod error;
pub mod legacy;
pub mod oci;
mod offline;
pub mod policy;

pub use bundle::Signer;
pub use error::{Error, Rejection, RejectionKind};
pub use oci::{Format, Limits, Verified, Verifier};
pub use policy::{IdentityMatcher, Policy, PublicKey, TlogRequirement, TrustMaterial};
