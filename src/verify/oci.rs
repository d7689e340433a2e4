//! Finding and checking the signatures of a digest in its registry.
//!
//! Order: Sigstore bundles among the digest's referrers (OCI 1.1 API, or
//! the `sha256-<hex>` referrers tag when the registry has no API), then the
//! legacy `sha256-<hex>.sig` tag. Either may satisfy the policy. Every read
//! goes through `berth-oci` (digest-checked, size-capped), and the number of
//! candidates looked at is capped.

use std::collections::BTreeMap;
use std::time::Instant;

use berth_oci::manifest::{Descriptor, Document};
use berth_oci::{Client, Digest};
use sigstore_types::{Artifact, ArtifactDigest, Bundle, HashAlgorithm};
use tracing::{debug, info, warn};

use crate::bundle::{predicate_type, verify_bundle, Signer};
use crate::error::{Error, Rejection, RejectionKind};
use crate::legacy::{
    layer_to_bundle, parse_simple_signing, LayerContent, DSSE_MEDIA_TYPE, SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING_MEDIA_TYPE,
};
use crate::policy::Policy;

/// The predicate type of cosign v3's signatures (an in-toto statement).
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
const BUNDLE_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";

/// Bounds on what a registry can make us read.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Referrers, and layers of a `.sig`/`.att` manifest, looked at (cosign: 1000).
    pub max_candidates: usize,
    /// Size of one bundle, payload or envelope blob.
    pub max_blob_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_candidates: 100,
            max_blob_size: 4 * 1024 * 1024,
        }
    }
}

/// The signature format that satisfied the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Simple-signing payload under the `sha256-<hex>.sig` tag.
    Legacy,
    /// Sigstore bundle attached as a referrer.
    Bundle,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Legacy => "legacy-tag",
            Format::Bundle => "bundle",
        }
    }
}

/// A successful verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub digest: String,
    pub signer: Signer,
    pub format: Format,
    /// Each required predicate type and who attested it.
    pub attestations: Vec<(String, Signer)>,
}

/// Verifies digests against one policy.
pub struct Verifier {
    policy: Policy,
    crypto: sigstore_verify::Verifier,
    limits: Limits,
}

impl Verifier {
    pub fn new(policy: Policy) -> Result<Verifier, Error> {
        policy.check()?;
        let crypto = sigstore_verify::Verifier::new(&policy.trust.root).map_err(|e| {
            Error::InvalidTrustedRoot {
                name: policy.trust.name.clone(),
                reason: e.to_string(),
            }
        })?;
        Ok(Verifier {
            policy,
            crypto,
            limits: Limits::default(),
        })
    }

    pub fn with_limits(mut self, limits: Limits) -> Verifier {
        self.limits = limits;
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Verify a bundle read from elsewhere (a file) over a blob or digest.
    pub fn verify_bundle(
        &self,
        bundle: &Bundle,
        artifact: &Artifact<'_>,
        what: &str,
    ) -> Result<Signer, Rejection> {
        verify_bundle(&self.crypto, &self.policy, bundle, artifact, what)
    }

    /// Prove that `digest` in `repository` (on `client`'s registry) is
    /// signed as the policy demands, and attested when it asks for that.
    pub async fn verify(
        &self,
        client: &Client,
        repository: &str,
        digest: &Digest,
    ) -> Result<Verified, Error> {
        let started = Instant::now();
        let result = self.verify_inner(client, repository, digest).await;
        let secs = started.elapsed().as_secs_f64();
        match &result {
            Ok(v) => {
                info!(%digest, signer = %v.signer, format = v.format.as_str(), secs, "signature verified")
            }
            Err(e) => {
                warn!(%digest, reason = e.reason(), error = %e, secs, "signature verification failed")
            }
        }
        result
    }

    async fn verify_inner(
        &self,
        client: &Client,
        repository: &str,
        digest: &Digest,
    ) -> Result<Verified, Error> {
        let digest_str = digest.to_string();
        let artifact_digest = artifact_digest(digest)?;
        let artifact = Artifact::from_digest(artifact_digest);
        let mut looked = Vec::new();
        let mut rejections = Vec::new();
        let mut attestation_bundles: Vec<(String, Bundle, String)> = Vec::new();

        // 1. Sigstore bundles among the referrers.
        let (referrers, where_) = self.referrers(client, repository, digest).await?;
        looked.push(where_.clone());
        let mut signed: Option<(Signer, Format)> = None;
        for d in referrers.iter().take(self.limits.max_candidates) {
            let what = format!("bundle {} ({where_})", d.digest);
            let bundle = match self.fetch_bundle(client, repository, d).await {
                Ok(Some(b)) => b,
                Ok(None) => continue,
                Err(r) => {
                    rejections.push(Rejection {
                        kind: RejectionKind::Malformed,
                        message: format!("{what}: {r}"),
                    });
                    continue;
                }
            };
            match predicate_type(&bundle).as_deref() {
                Some(COSIGN_SIGN_PREDICATE) | None => {
                    if signed.is_some() {
                        continue;
                    }
                    match verify_bundle(&self.crypto, &self.policy, &bundle, &artifact, &what) {
                        Ok(s) => signed = Some((s, Format::Bundle)),
                        Err(r) => rejections.push(r),
                    }
                }
                Some(other) => attestation_bundles.push((other.to_string(), bundle, what)),
            }
        }

        // 2. The legacy `.sig` tag.
        if signed.is_none() {
            let tag = format!("{}-{}.sig", digest.algorithm().as_str(), digest.hex());
            looked.push(format!("tag {tag}"));
            if let Some(layers) = self.legacy_layers(client, repository, &tag).await? {
                for layer in layers.iter().take(self.limits.max_candidates) {
                    if layer.media_type != SIMPLE_SIGNING_MEDIA_TYPE {
                        continue;
                    }
                    let what = format!("legacy signature {} (tag {tag})", layer.digest);
                    match self
                        .verify_legacy_signature(client, repository, layer, &digest_str, &what)
                        .await
                    {
                        Ok(s) => {
                            signed = Some((s, Format::Legacy));
                            break;
                        }
                        Err(r) => rejections.push(r),
                    }
                }
            }
        }

        let Some((signer, format)) = signed else {
            if rejections.is_empty() {
                return Err(Error::SignatureNotFound {
                    digest: digest_str,
                    looked: looked.join(" and "),
                });
            }
            return Err(Error::Rejected {
                digest: digest_str,
                rejections,
            });
        };

        // 3. Attestations, when the policy asks for them.
        let mut attestations = Vec::new();
        if !self.policy.attestations.is_empty() {
            let tag = format!("{}-{}.att", digest.algorithm().as_str(), digest.hex());
            if let Some(layers) = self.legacy_layers(client, repository, &tag).await? {
                for layer in layers.iter().take(self.limits.max_candidates) {
                    if layer.media_type != DSSE_MEDIA_TYPE {
                        continue;
                    }
                    let what = format!("legacy attestation {} (tag {tag})", layer.digest);
                    match self.legacy_attestation(client, repository, layer).await {
                        Ok(b) => {
                            let pt = predicate_type(&b).unwrap_or_default();
                            attestation_bundles.push((pt, b, what));
                        }
                        Err(m) => debug!(%what, error = %m, "skipping attestation layer"),
                    }
                }
            }
            for wanted in &self.policy.attestations {
                let mut att_rejections = Vec::new();
                let mut found = None;
                for (pt, b, what) in &attestation_bundles {
                    if pt != wanted {
                        continue;
                    }
                    match verify_bundle(&self.crypto, &self.policy, b, &artifact, what) {
                        Ok(s) => {
                            found = Some(s);
                            break;
                        }
                        Err(r) => att_rejections.push(r),
                    }
                }
                match found {
                    Some(s) => attestations.push((wanted.clone(), s)),
                    None => {
                        return Err(Error::AttestationMissing {
                            digest: digest_str,
                            predicate_type: wanted.clone(),
                            rejections: att_rejections,
                        })
                    }
                }
            }
        }
        Ok(Verified {
            digest: digest_str,
            signer,
            format,
            attestations,
        })
    }

    /// The referrers of `digest`, through the API or the tag scheme.
    async fn referrers(
        &self,
        client: &Client,
        repository: &str,
        digest: &Digest,
    ) -> Result<(Vec<Descriptor>, String), Error> {
        match client.referrers(repository, digest, None).await {
            Ok(list) => Ok((list, "referrers".to_string())),
            Err(berth_oci::Error::Unsupported { .. }) => {
                let tag = format!("{}-{}", digest.algorithm().as_str(), digest.hex());
                let where_ = format!("referrers tag {tag}");
                match client.fetch_manifest(repository, &tag).await {
                    Ok(m) => match m.document {
                        Document::Index(index) => Ok((index.manifests, where_)),
                        Document::Manifest(_) => Ok((Vec::new(), where_)),
                    },
                    Err(berth_oci::Error::NotFound { .. }) => Ok((Vec::new(), where_)),
                    Err(source) => Err(Error::Registry {
                        what: format!("{repository}:{tag}"),
                        source,
                    }),
                }
            }
            Err(source) => Err(Error::Registry {
                what: format!("the referrers of {repository}@{digest}"),
                source,
            }),
        }
    }

    /// The bundle a referrer holds, or `None` when it is not a bundle.
    async fn fetch_bundle(
        &self,
        client: &Client,
        repository: &str,
        d: &Descriptor,
    ) -> Result<Option<Bundle>, String> {
        // Referrers of other kinds (SBOMs, notation signatures) are skipped
        // without being fetched when the index says what they are.
        if let Some(t) = &d.artifact_type {
            if !t.starts_with(BUNDLE_MEDIA_TYPE_PREFIX) {
                return Ok(None);
            }
        }
        let m = client
            .fetch_manifest(repository, &d.digest.to_string())
            .await
            .map_err(|e| e.to_string())?;
        let Document::Manifest(manifest) = m.document else {
            return Ok(None);
        };
        let [layer] = manifest.layers.as_slice() else {
            return Ok(None);
        };
        if !layer.media_type.starts_with(BUNDLE_MEDIA_TYPE_PREFIX) {
            return Ok(None);
        }
        let blob = client
            .fetch_blob_to_vec(repository, layer, self.limits.max_blob_size)
            .await
            .map_err(|e| e.to_string())?;
        let text = std::str::from_utf8(&blob).map_err(|_| "the bundle is not UTF-8".to_string())?;
        Bundle::from_json(text)
            .map(Some)
            .map_err(|e| format!("not a valid Sigstore bundle: {e}"))
    }

    /// The layers of a legacy `.sig`/`.att` manifest; `None` when the tag
    /// does not exist.
    async fn legacy_layers(
        &self,
        client: &Client,
        repository: &str,
        tag: &str,
    ) -> Result<Option<Vec<Descriptor>>, Error> {
        match client.fetch_manifest(repository, tag).await {
            Ok(m) => match m.document {
                Document::Manifest(manifest) => Ok(Some(manifest.layers)),
                Document::Index(_) => Ok(None),
            },
            Err(berth_oci::Error::NotFound { .. }) => Ok(None),
            Err(source) => Err(Error::Registry {
                what: format!("{repository}:{tag}"),
                source,
            }),
        }
    }

    async fn verify_legacy_signature(
        &self,
        client: &Client,
        repository: &str,
        layer: &Descriptor,
        digest: &str,
        what: &str,
    ) -> Result<Signer, Rejection> {
        let malformed = |m: String| Rejection {
            kind: RejectionKind::Malformed,
            message: format!("{what}: {m}"),
        };
        let empty = BTreeMap::new();
        let annotations = layer.annotations.as_ref().unwrap_or(&empty);
        let signature = annotations
            .get(SIGNATURE_ANNOTATION)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| malformed(format!("no {SIGNATURE_ANNOTATION} annotation")))?;
        let payload = client
            .fetch_blob_to_vec(repository, layer, self.limits.max_blob_size)
            .await
            .map_err(|e| malformed(format!("failed to fetch the payload: {e}")))?;
        let bundle = layer_to_bundle(
            LayerContent::MessageSignature {
                signature_b64: signature,
                payload: &payload,
            },
            annotations,
        )
        .map_err(malformed)?;
        let signer = verify_bundle(
            &self.crypto,
            &self.policy,
            &bundle,
            &Artifact::from_blob(&payload),
            what,
        )?;
        // The signature is good; now it must be about this digest (cosign's
        // claim check, which Flux skips).
        let claim = parse_simple_signing(&payload).map_err(malformed)?;
        if claim.critical.image.docker_manifest_digest != digest {
            return Err(Rejection {
                kind: RejectionKind::DigestMismatch,
                message: format!(
                    "{what}: the signed payload is for {} (docker-reference {:?}), not for {digest}: \
                     the signature was made for another artifact",
                    claim.critical.image.docker_manifest_digest,
                    claim.critical.identity.docker_reference
                ),
            });
        }
        Ok(signer)
    }

    async fn legacy_attestation(
        &self,
        client: &Client,
        repository: &str,
        layer: &Descriptor,
    ) -> Result<Bundle, String> {
        let empty = BTreeMap::new();
        let annotations = layer.annotations.as_ref().unwrap_or(&empty);
        let envelope = client
            .fetch_blob_to_vec(repository, layer, self.limits.max_blob_size)
            .await
            .map_err(|e| e.to_string())?;
        layer_to_bundle(
            LayerContent::Dsse {
                envelope: &envelope,
            },
            annotations,
        )
    }
}

fn artifact_digest(digest: &Digest) -> Result<ArtifactDigest, Error> {
    let bad = |reason: String| Error::InvalidPolicy(format!("digest {digest}: {reason}"));
    if digest.algorithm().as_str() != "sha256" {
        return Err(bad("only sha256 digests can be verified".into()));
    }
    let hex = digest.hex();
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    let bytes = bytes.ok_or_else(|| bad("not hexadecimal".into()))?;
    ArtifactDigest::new(HashAlgorithm::Sha2256, bytes).map_err(|e| bad(e.to_string()))
}
