//! The registry client: one per registry host, with its credentials, TLS
//! material and caps. See the crate documentation for the rules it keeps.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use url::Url;

use crate::credentials::Credentials;
use crate::digest::{Digest, Hasher};
use crate::error::Error;
use crate::headers::{next_link, parse_challenges, retry_after, Challenge};
use crate::manifest::{
    essence, parse_document, Descriptor, Document, DocumentError, MANIFEST_ACCEPT, OCI_INDEX,
};
use crate::reference::{validate_registry, validate_repository, validate_tag, Reference};

/// Default cap on a manifest, index, tag page or referrers page.
pub const DEFAULT_MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;
/// Cap on error bodies read for their message.
pub const MAX_ERROR_BODY: usize = 64 * 1024;
/// Cap on token endpoint responses.
pub const MAX_TOKEN_RESPONSE: u64 = 64 * 1024;
/// Default number of tag or referrers pages followed.
pub const DEFAULT_MAX_PAGES: usize = 100;
/// Token lifetime when the token endpoint names none (distribution spec).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// Delay reported for a 429 without a usable `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(10);
const OAUTH_CLIENT_ID: &str = "berth";

/// How the client talks to its registry. Credentials and TLS material
/// are plain data: the caller reads them from wherever they live.
#[derive(Clone)]
pub struct ClientOptions {
    /// Plain HTTP instead of HTTPS (Flux's `insecure: true`).
    pub insecure: bool,
    /// PEM bundle of the CAs to trust instead of the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate (chain) for mutual TLS; needs `client_key_pem`.
    pub client_cert_pem: Option<Vec<u8>>,
    /// PEM private key of `client_cert_pem`.
    pub client_key_pem: Option<Vec<u8>>,
    /// Whole-request timeout for everything but blob bodies, and the idle
    /// read timeout for blob bodies.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Accept a Bearer token realm on another host than the registry (and
    /// send the registry's credentials there). Off by default.
    pub allow_foreign_token_realm: bool,
    /// Cap on manifests, indexes, tag pages and referrers pages.
    pub max_manifest_size: u64,
    /// Tag and referrers pages followed before giving up.
    pub max_pages: usize,
    /// `n` for tag listing; the registry's default when `None`.
    pub tag_page_size: Option<u32>,
    /// Redirects followed per request.
    pub max_redirects: usize,
    /// Cap on the delay a 429 `Retry-After` can ask for.
    pub max_retry_after: Duration,
    pub user_agent: String,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is secret; the rest only says what is set.
        f.debug_struct("ClientOptions")
            .field("insecure", &self.insecure)
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "<set>"))
            .field(
                "client_cert_pem",
                &self.client_cert_pem.as_ref().map(|_| "<set>"),
            )
            .field(
                "client_key_pem",
                &self.client_key_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("allow_foreign_token_realm", &self.allow_foreign_token_realm)
            .field("max_manifest_size", &self.max_manifest_size)
            .field("max_pages", &self.max_pages)
            .field("tag_page_size", &self.tag_page_size)
            .field("max_redirects", &self.max_redirects)
            .field("max_retry_after", &self.max_retry_after)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            insecure: false,
            ca_pem: None,
            client_cert_pem: None,
            client_key_pem: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            allow_foreign_token_realm: false,
            max_manifest_size: DEFAULT_MAX_MANIFEST_SIZE,
            max_pages: DEFAULT_MAX_PAGES,
            tag_page_size: None,
            max_redirects: 5,
            max_retry_after: Duration::from_secs(300),
            user_agent: concat!("berth/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// The kind of request, for the request counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    Tags,
    Manifest,
    Blob,
    Referrers,
    Token,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Tags => "tags",
            Operation::Manifest => "manifest",
            Operation::Blob => "blob",
            Operation::Referrers => "referrers",
            Operation::Token => "token",
        }
    }
}

/// Requests sent by one client (every hop of a redirect counts), keyed
/// `"<operation> <METHOD>"`, e.g. `"manifest HEAD"`.
#[derive(Debug, Default)]
pub struct RequestCounters(Mutex<BTreeMap<String, u64>>);

impl RequestCounters {
    fn add(&self, op: Operation, method: &Method) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(format!("{} {method}", op.as_str())).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }
}

/// What a HEAD of a manifest told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestHead {
    pub digest: Option<Digest>,
    pub media_type: Option<String>,
    pub size: Option<u64>,
}

/// A fetched, checked manifest or index.
#[derive(Clone, Debug)]
pub struct FetchedManifest {
    /// The digest of `bytes` (equal to the requested digest when fetched
    /// by digest; otherwise what the tag pointed at).
    pub digest: Digest,
    /// The Content-Type it was served with (without parameters).
    pub media_type: String,
    pub bytes: Vec<u8>,
    pub document: Document,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KnownScheme {
    Basic,
    Bearer,
}

struct CachedToken {
    token: String,
    expires: Instant,
}

#[derive(Default)]
struct AuthState {
    scheme: Option<KnownScheme>,
    /// Bearer tokens by the scope the client asked for.
    tokens: HashMap<String, CachedToken>,
}

/// A client for one registry host.
pub struct Client {
    http: reqwest::Client,
    registry: String,
    base: Url,
    credentials: Credentials,
    options: ClientOptions,
    auth: Mutex<AuthState>,
    counters: Arc<RequestCounters>,
}

struct Request<'a> {
    op: Operation,
    method: Method,
    url: Url,
    accept: Option<&'a str>,
    scope: String,
    what: &'a str,
    /// Apply `timeout` to the whole exchange (not for blob bodies).
    bounded: bool,
}

impl Client {
    /// A client for `registry` (`host[:port]`, the same string as in a
    /// reference).
    pub fn new(
        registry: &str,
        credentials: Credentials,
        options: ClientOptions,
    ) -> Result<Client, Error> {
        validate_registry(registry)
            .map_err(|r| Error::InvalidOptions(format!("registry {registry:?}: {r}")))?;
        let scheme = if options.insecure { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{registry}/"))
            .map_err(|e| Error::InvalidOptions(format!("registry {registry:?}: {e}")))?;
        let mut builder = reqwest::Client::builder()
            .dns_resolver(GuardedResolver {
                registry_host: host_of(&base),
                registry_is_loopback: is_loopback_host(&host_of(&base)),
            })
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.timeout)
            .user_agent(options.user_agent.clone());
        if let Some(ca) = &options.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(ca).map_err(|e| {
                Error::InvalidOptions(format!("failed to parse the CA bundle: {e}"))
            })?;
            if certs.is_empty() {
                return Err(Error::InvalidOptions(
                    "the CA bundle holds no certificate".into(),
                ));
            }
            builder = builder.tls_certs_only(certs);
        }
        match (&options.client_cert_pem, &options.client_key_pem) {
            (Some(cert), Some(key)) => {
                let mut pem = cert.clone();
                pem.push(b'\n');
                pem.extend_from_slice(key);
                let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                    Error::InvalidOptions(format!(
                        "failed to parse the client certificate and key: {e}"
                    ))
                })?;
                builder = builder.identity(identity);
            }
            (None, None) => {}
            _ => {
                return Err(Error::InvalidOptions(
                    "a client certificate needs its key and a key its certificate".into(),
                ))
            }
        }
        let http = builder
            .build()
            .map_err(|e| Error::InvalidOptions(format!("failed to build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            registry: registry.to_string(),
            base,
            credentials,
            options,
            auth: Mutex::new(AuthState::default()),
            counters: Arc::new(RequestCounters::default()),
        })
    }

    /// The registry host this client talks to.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    pub fn counters(&self) -> Arc<RequestCounters> {
        self.counters.clone()
    }

    /// Fail unless `reference` belongs to this client's registry.
    pub fn check_reference(&self, reference: &Reference) -> Result<(), Error> {
        if reference.registry() != self.registry {
            return Err(Error::InvalidOptions(format!(
                "{reference} is not on {}; credentials are only used for their own registry",
                self.registry
            )));
        }
        Ok(())
    }

    // ---------------------------------------------------------------
    // Operations

    /// Every tag of `repository`, following `Link: rel="next"` (same
    /// origin only, at most `max_pages` pages, no loops). With
    /// `tag_page_size` set, a full page without a Link continues with
    /// `last=<its last tag>` (for registries that honour `n` but send no
    /// Link).
    pub async fn list_tags(&self, repository: &str) -> Result<Vec<String>, Error> {
        validate_repository(repository).map_err(|r| invalid_repo(repository, r))?;
        let what = format!("the tags of {}/{repository}", self.registry);
        let mut url = self.url(&format!("/v2/{repository}/tags/list"))?;
        if let Some(n) = self.options.tag_page_size {
            url.query_pairs_mut().append_pair("n", &n.to_string());
        }
        #[derive(Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let first_url = url.clone();
        let mut tags = Vec::new();
        let mut seen = HashSet::new();
        let mut last_tag: Option<String> = None;
        let mut pages = Paginator::new(&what, self.options.max_pages);
        loop {
            let page_url = pages.start(&url)?;
            let resp = self
                .send(&Request {
                    op: Operation::Tags,
                    method: Method::GET,
                    url: page_url.clone(),
                    accept: Some("application/json"),
                    scope: pull_scope(repository),
                    what: &what,
                    bounded: true,
                })
                .await?;
            let resp = self.expect_success(resp, &what).await?;
            let next = self.next_page(&page_url, resp.headers(), &what)?;
            let body = self
                .read_capped(resp, self.options.max_manifest_size, &what)
                .await?;
            let list: TagList =
                serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
                    what: what.clone(),
                    reason: format!("not a tag list: {e}"),
                })?;
            let page = list.tags.unwrap_or_default();
            let full_page = self
                .options
                .tag_page_size
                .is_some_and(|n| n > 0 && page.len() >= n as usize);
            // The lexically last tag of the page, valid or not, is where
            // the next page starts when there is no Link.
            let page_last = page.last().cloned();
            for tag in page {
                if let Some(last) = &last_tag {
                    // Tags come in lexical order after `last`; anything
                    // else is a registry repeating itself.
                    if tag <= *last {
                        continue;
                    }
                }
                match validate_tag(&tag) {
                    Ok(()) if seen.insert(tag.clone()) => tags.push(tag),
                    Ok(()) => {}
                    Err(reason) => tracing::warn!(%tag, reason, "skipping an invalid tag"),
                }
            }
            match (next, page_last) {
                (Some(n), _) => url = n,
                // No Link, but a full page: ask for the tags after its last
                // one (the spec's `last` parameter), as long as that moves
                // forward.
                (None, Some(last))
                    if full_page && last_tag.as_ref().is_none_or(|prev| last > *prev) =>
                {
                    url = first_url.clone();
                    url.query_pairs_mut().append_pair("last", &last);
                    last_tag = Some(last);
                }
                (None, _) => return Ok(tags),
            }
        }
    }

    /// HEAD a manifest by tag or digest.
    pub async fn head_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<ManifestHead, Error> {
        let (url, requested) = self.manifest_url(repository, reference)?;
        let what = format!("manifest {}/{repository}:{reference}", self.registry);
        let resp = self
            .send(&Request {
                op: Operation::Manifest,
                method: Method::HEAD,
                url,
                accept: Some(MANIFEST_ACCEPT),
                scope: pull_scope(repository),
                what: &what,
                bounded: true,
            })
            .await?;
        let resp = self.expect_success(resp, &what).await?;
        let digest = header_digest(resp.headers(), &what)?;
        if let (Some(req), Some(got)) = (&requested, &digest) {
            if req != got {
                return Err(Error::DigestMismatch {
                    what,
                    expected: req.clone(),
                    actual: got.to_string(),
                });
            }
        }
        Ok(ManifestHead {
            digest,
            media_type: header_str(resp.headers(), CONTENT_TYPE.as_str()).map(|s| essence(&s)),
            size: header_str(resp.headers(), "content-length").and_then(|s| s.parse().ok()),
        })
    }

    /// Resolve a tag to the digest of its manifest: one HEAD when the
    /// registry sends `Docker-Content-Digest`, else (no header, or HEAD
    /// answered 405/501) a GET whose body is hashed.
    pub async fn resolve(&self, repository: &str, tag: &str) -> Result<Digest, Error> {
        validate_tag(tag).map_err(|r| Error::InvalidOptions(format!("tag {tag:?}: {r}")))?;
        let head = match self.head_manifest(repository, tag).await {
            Ok(head) => head,
            // A registry without HEAD for manifests.
            Err(Error::Registry {
                status: 405 | 501, ..
            }) => return Ok(self.fetch_manifest(repository, tag).await?.digest),
            Err(e) => return Err(e),
        };
        match head.digest {
            Some(d) => Ok(d),
            None => Ok(self.fetch_manifest(repository, tag).await?.digest),
        }
    }

    /// GET a manifest or index by tag or digest, size-capped, checked
    /// (media type, ambiguity) and hashed. Fetched by digest, the body must
    /// hash to it; a `Docker-Content-Digest` header must match the body too.
    pub async fn fetch_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<FetchedManifest, Error> {
        let (url, requested) = self.manifest_url(repository, reference)?;
        let what = format!("manifest {}/{repository}:{reference}", self.registry);
        let resp = self
            .send(&Request {
                op: Operation::Manifest,
                method: Method::GET,
                url,
                accept: Some(MANIFEST_ACCEPT),
                scope: pull_scope(repository),
                what: &what,
                bounded: true,
            })
            .await?;
        let resp = self.expect_success(resp, &what).await?;
        let media_type =
            essence(&header_str(resp.headers(), CONTENT_TYPE.as_str()).unwrap_or_default());
        let header = header_digest(resp.headers(), &what)?;
        let bytes = self
            .read_capped(resp, self.options.max_manifest_size, &what)
            .await?;
        let digest = match &requested {
            Some(req) => {
                let got = req.of_bytes_like_self(&bytes);
                if &got != req {
                    return Err(Error::DigestMismatch {
                        what,
                        expected: req.clone(),
                        actual: got.to_string(),
                    });
                }
                got
            }
            None => Digest::sha256_of(&bytes),
        };
        if let Some(h) = header {
            let got = h.of_bytes_like_self(&bytes);
            if got != h {
                return Err(Error::DigestMismatch {
                    what: format!("{what} (Docker-Content-Digest header)"),
                    expected: h,
                    actual: got.to_string(),
                });
            }
        }
        let document = parse_document(&bytes, &media_type).map_err(|e| document_error(&what, e))?;
        Ok(FetchedManifest {
            digest,
            media_type,
            bytes,
            document,
        })
    }

    /// Stream a blob into `out`, checking its size while it arrives (a
    /// body longer than `descriptor.size` fails as soon as it exceeds it)
    /// and its digest at the end. Success means both matched; on any error
    /// the bytes already written to `out` must be discarded. Descriptor
    /// `urls` are never used. Returns the number of bytes written.
    pub async fn fetch_blob<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        repository: &str,
        descriptor: &Descriptor,
        out: &mut W,
    ) -> Result<u64, Error> {
        validate_repository(repository).map_err(|r| invalid_repo(repository, r))?;
        let expected = &descriptor.digest;
        let size = descriptor.size;
        let what = format!("blob {}/{repository}@{expected}", self.registry);
        let url = self.url(&format!("/v2/{repository}/blobs/{expected}"))?;
        let resp = self
            .send(&Request {
                op: Operation::Blob,
                method: Method::GET,
                url,
                accept: None,
                scope: pull_scope(repository),
                what: &what,
                bounded: false,
            })
            .await?;
        let resp = self.expect_success(resp, &what).await?;
        match resp.content_length() {
            Some(len) if len > size => {
                return Err(Error::SizeExceeded { what, limit: size });
            }
            Some(len) if len < size => {
                return Err(Error::SizeMismatch {
                    what,
                    expected: size,
                    actual: len,
                });
            }
            _ => {}
        }
        let mut hasher = Hasher::new(expected.algorithm());
        let mut total: u64 = 0;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| transport_error(&what, e))?;
            let len = chunk.len() as u64;
            if total.saturating_add(len) > size {
                return Err(Error::SizeExceeded { what, limit: size });
            }
            hasher.update(&chunk);
            out.write_all(&chunk).await.map_err(|source| Error::Write {
                what: what.clone(),
                source,
            })?;
            total += len;
        }
        if total != size {
            return Err(Error::SizeMismatch {
                what,
                expected: size,
                actual: total,
            });
        }
        let got = hasher.finish();
        if &got != expected {
            return Err(Error::DigestMismatch {
                what,
                expected: expected.clone(),
                actual: got.to_string(),
            });
        }
        out.flush().await.map_err(|source| Error::Write {
            what: what.clone(),
            source,
        })?;
        Ok(total)
    }

    /// A blob read into memory, refused before any request when its
    /// descriptor is larger than `cap`.
    pub async fn fetch_blob_to_vec(
        &self,
        repository: &str,
        descriptor: &Descriptor,
        cap: u64,
    ) -> Result<Vec<u8>, Error> {
        if descriptor.size > cap {
            return Err(Error::SizeExceeded {
                what: format!("blob {}@{}", repository, descriptor.digest),
                limit: cap,
            });
        }
        let mut buf = Vec::with_capacity(descriptor.size.min(1024 * 1024) as usize);
        self.fetch_blob(repository, descriptor, &mut buf).await?;
        Ok(buf)
    }

    /// The referrers of `digest` (OCI 1.1 API), optionally only those of
    /// `artifact_type` (filtered here when the registry did not). A 404 or
    /// an answer that is not an image index is `Error::Unsupported`: the
    /// caller falls back to the `<alg>-<hex>` tag scheme.
    pub async fn referrers(
        &self,
        repository: &str,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Error> {
        validate_repository(repository).map_err(|r| invalid_repo(repository, r))?;
        let what = format!("the referrers of {}/{repository}@{digest}", self.registry);
        let mut url = self.url(&format!("/v2/{repository}/referrers/{digest}"))?;
        if let Some(t) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", t);
        }
        let mut out = Vec::new();
        let mut pages = Paginator::new(&what, self.options.max_pages);
        loop {
            let page_url = pages.start(&url)?;
            let resp = self
                .send(&Request {
                    op: Operation::Referrers,
                    method: Method::GET,
                    url: page_url.clone(),
                    accept: Some(OCI_INDEX),
                    scope: pull_scope(repository),
                    what: &what,
                    bounded: true,
                })
                .await?;
            if resp.status() == StatusCode::NOT_FOUND {
                return Err(Error::Unsupported {
                    what: "the referrers API".into(),
                    reason: format!("{what} answered 404"),
                });
            }
            let resp = self.expect_success(resp, &what).await?;
            let ct =
                essence(&header_str(resp.headers(), CONTENT_TYPE.as_str()).unwrap_or_default());
            if ct != OCI_INDEX {
                return Err(Error::Unsupported {
                    what: "the referrers API".into(),
                    reason: format!("{what} answered with Content-Type {ct:?}"),
                });
            }
            let filtered_by_header = header_str(resp.headers(), "oci-filters-applied")
                .is_some_and(|v| v.split(',').any(|f| f.trim() == "artifactType"));
            let next = self.next_page(&page_url, resp.headers(), &what)?;
            let body = self
                .read_capped(resp, self.options.max_manifest_size, &what)
                .await?;
            let Document::Index(index) =
                parse_document(&body, OCI_INDEX).map_err(|e| document_error(&what, e))?
            else {
                return Err(Error::InvalidResponse {
                    what,
                    reason: "not an image index".into(),
                });
            };
            let filtered = filtered_by_header
                || index
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("org.opencontainers.referrers.filtersApplied"))
                    .is_some_and(|v| v.split(',').any(|f| f.trim() == "artifactType"));
            for d in index.manifests {
                let keep = match artifact_type {
                    Some(t) if !filtered => d.artifact_type.as_deref() == Some(t),
                    _ => true,
                };
                if keep {
                    out.push(d);
                }
            }
            match next {
                Some(n) => url = n,
                None => return Ok(out),
            }
        }
    }

    // ---------------------------------------------------------------
    // HTTP with auth and redirects

    fn url(&self, path: &str) -> Result<Url, Error> {
        self.base
            .join(path)
            .map_err(|e| Error::InvalidOptions(format!("bad request path {path:?}: {e}")))
    }

    fn manifest_url(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<(Url, Option<Digest>), Error> {
        validate_repository(repository).map_err(|r| invalid_repo(repository, r))?;
        let digest = if reference.contains(':') {
            Some(Digest::parse(reference).map_err(|e| Error::InvalidOptions(e.to_string()))?)
        } else {
            validate_tag(reference)
                .map_err(|r| Error::InvalidOptions(format!("tag {reference:?}: {r}")))?;
            None
        };
        Ok((
            self.url(&format!("/v2/{repository}/manifests/{reference}"))?,
            digest,
        ))
    }

    /// Send with cached credentials; on a 401 from the registry, answer the
    /// challenge once and send again.
    async fn send(&self, req: &Request<'_>) -> Result<Response, Error> {
        let mut answered = false;
        loop {
            let authorization = self.cached_authorization(&req.scope);
            let resp = self
                .send_following_redirects(req, authorization.as_deref())
                .await?;
            if resp.status() != StatusCode::UNAUTHORIZED || answered {
                return Ok(resp);
            }
            if !same_origin(resp.url(), &self.base) {
                // A storage host we were redirected to wants credentials;
                // it gets none of the registry's.
                return Err(Error::AuthFailed {
                    registry: self.registry.clone(),
                    message: format!(
                        "{} (reached by a redirect) answered 401; the registry's credentials are not sent there",
                        origin_string(resp.url())
                    ),
                });
            }
            let challenges = www_authenticate(resp.headers(), &self.registry)?;
            drop(resp);
            self.answer_challenge(&challenges, &req.scope).await?;
            answered = true;
        }
    }

    async fn send_following_redirects(
        &self,
        req: &Request<'_>,
        authorization: Option<&str>,
    ) -> Result<Response, Error> {
        let mut url = req.url.clone();
        let mut method = req.method.clone();
        for _ in 0..=self.options.max_redirects {
            let mut rb = self.http.request(method.clone(), url.clone());
            if let Some(accept) = req.accept {
                rb = rb.header(ACCEPT, accept);
            }
            // Credentials go to the registry's own origin only: scheme,
            // host and port all equal.
            if let Some(a) = authorization.filter(|_| same_origin(&url, &self.base)) {
                rb = rb.header(AUTHORIZATION, a);
            }
            if req.bounded {
                rb = rb.timeout(self.options.timeout);
            }
            self.counters.add(req.op, &method);
            let resp = rb.send().await.map_err(|e| transport_error(req.what, e))?;
            let status = resp.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                return Ok(resp);
            }
            let location = header_str(resp.headers(), LOCATION.as_str()).ok_or_else(|| {
                Error::InvalidResponse {
                    what: req.what.to_string(),
                    reason: format!("{status} without a Location header"),
                }
            })?;
            let next = url.join(&location).map_err(|e| Error::RedirectRefused {
                what: req.what.to_string(),
                reason: format!("bad Location {location:?}: {e}"),
            })?;
            self.check_redirect_target(&url, &next)
                .map_err(|reason| Error::RedirectRefused {
                    what: req.what.to_string(),
                    reason,
                })?;
            tracing::debug!(from = %origin_string(&url), to = %origin_string(&next), %status, "following a redirect");
            if status == StatusCode::SEE_OTHER && method != Method::HEAD {
                method = Method::GET;
            }
            url = next;
        }
        Err(Error::RedirectRefused {
            what: req.what.to_string(),
            reason: format!("more than {} redirects", self.options.max_redirects),
        })
    }

    fn check_redirect_target(&self, from: &Url, to: &Url) -> Result<(), String> {
        match to.scheme() {
            "https" => {}
            "http" if self.options.insecure => {}
            "http" => {
                return Err(format!(
                    "{} → {} would downgrade to plain HTTP",
                    origin_string(from),
                    origin_string(to)
                ))
            }
            other => return Err(format!("scheme {other:?} is not followed")),
        }
        if !to.username().is_empty() || to.password().is_some() {
            return Err("the target carries user info".into());
        }
        if let Some(reason) = self.special_address_refusal(to) {
            return Err(format!("{}: {reason}", origin_string(to)));
        }
        Ok(())
    }

    /// Why `url`'s host must not be contacted on the registry's behalf:
    /// link-local and cloud metadata addresses unless the registry itself
    /// is at that address, loopback unless the registry is on loopback,
    /// and the unspecified address.
    fn special_address_refusal(&self, url: &Url) -> Option<String> {
        let host = host_of(url);
        let registry_host = host_of(&self.base);
        if host == registry_host {
            return None;
        }
        let registry_is_loopback = is_loopback_host(&registry_host);
        if is_loopback_host(&host) && !registry_is_loopback {
            return Some("a loopback address, and the registry is not on loopback".into());
        }
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            let ip = canonical_ip(ip);
            if ip.is_unspecified() {
                return Some("the unspecified address".into());
            }
            if is_link_local_or_metadata(ip) {
                return Some("a link-local or cloud metadata address".into());
            }
        }
        None
    }

    fn cached_authorization(&self, scope: &str) -> Option<String> {
        if let Credentials::RegistryToken { token } = &self.credentials {
            return Some(format!("Bearer {token}"));
        }
        let state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
        match state.scheme? {
            KnownScheme::Basic => match &self.credentials {
                Credentials::Basic { username, password } => Some(basic_header(username, password)),
                _ => None,
            },
            KnownScheme::Bearer => state
                .tokens
                .get(scope)
                .filter(|t| t.expires > Instant::now())
                .map(|t| format!("Bearer {}", t.token)),
        }
    }

    async fn answer_challenge(&self, challenges: &[Challenge], scope: &str) -> Result<(), Error> {
        let auth_failed = |message: String| Error::AuthFailed {
            registry: self.registry.clone(),
            message,
        };
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            if let Credentials::RegistryToken { .. } = self.credentials {
                return Err(auth_failed("the registry token was refused".into()));
            }
            let realm = bearer
                .param("realm")
                .filter(|r| !r.is_empty())
                .ok_or_else(|| auth_failed("Bearer challenge without a realm".into()))?;
            let realm = self.check_realm(realm)?;
            let mut scopes: Vec<String> = bearer
                .param("scope")
                .unwrap_or_default()
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_string());
            }
            let (token, lifetime) = self
                .fetch_token(realm, bearer.param("service"), &scopes)
                .await?;
            let mut state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
            state.scheme = Some(KnownScheme::Bearer);
            let now = Instant::now();
            state.tokens.retain(|_, t| t.expires > now);
            state.tokens.insert(
                scope.to_string(),
                CachedToken {
                    token,
                    expires: Instant::now() + lifetime,
                },
            );
            return Ok(());
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            return match self.credentials {
                Credentials::Basic { .. } => {
                    let mut state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
                    if state.scheme == Some(KnownScheme::Basic) {
                        return Err(auth_failed("the user name or password was refused".into()));
                    }
                    state.scheme = Some(KnownScheme::Basic);
                    Ok(())
                }
                _ => Err(auth_failed(
                    "the registry asks for basic authentication and no user name and password were given".into(),
                )),
            };
        }
        let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        Err(auth_failed(format!(
            "401 with no usable challenge (schemes: {schemes:?})"
        )))
    }

    /// Accept a token realm only where the registry's credentials may go.
    fn check_realm(&self, realm: &str) -> Result<Url, Error> {
        let refuse = |reason: String| Error::TokenRealmRefused {
            registry: self.registry.clone(),
            realm: realm.chars().take(300).collect(),
            reason,
        };
        let url = Url::parse(realm).map_err(|e| refuse(format!("not an absolute URL: {e}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("the realm carries user info".into()));
        }
        if let Some(reason) = self.special_address_refusal(&url) {
            return Err(refuse(format!("the realm is {reason}")));
        }
        match url.scheme() {
            "https" => {}
            "http" if self.options.insecure && same_origin(&url, &self.base) => {}
            "http" if self.options.insecure => {
                return Err(refuse(
                    "a plain-HTTP token realm is only accepted on the registry's own origin".into(),
                ))
            }
            "http" => return Err(refuse("the token realm must use HTTPS".into())),
            other => return Err(refuse(format!("scheme {other:?}"))),
        }
        if host_of(&url) != host_of(&self.base) && !self.options.allow_foreign_token_realm {
            return Err(refuse(format!(
                "the realm is on another host than the registry ({}); \
                 set allow_foreign_token_realm to send credentials there",
                host_of(&url)
            )));
        }
        Ok(url)
    }

    /// Get a Bearer token from `realm`. Redirects are not followed.
    async fn fetch_token(
        &self,
        mut realm: Url,
        service: Option<&str>,
        scopes: &[String],
    ) -> Result<(String, Duration), Error> {
        let what = format!("a token from {}", origin_string(&realm));
        let auth_failed = |message: String| Error::AuthFailed {
            registry: self.registry.clone(),
            message,
        };
        let rb = match &self.credentials {
            Credentials::IdentityToken { token } => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", token)
                    .append_pair("client_id", OAUTH_CLIENT_ID);
                if let Some(s) = service {
                    form.append_pair("service", s);
                }
                if !scopes.is_empty() {
                    form.append_pair("scope", &scopes.join(" "));
                }
                self.counters.add(Operation::Token, &Method::POST);
                self.http
                    .post(realm)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.finish())
            }
            creds => {
                {
                    let mut q = realm.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    for s in scopes {
                        q.append_pair("scope", s);
                    }
                }
                self.counters.add(Operation::Token, &Method::GET);
                let rb = self.http.get(realm);
                match creds {
                    Credentials::Basic { username, password } => {
                        rb.header(AUTHORIZATION, basic_header(username, password))
                    }
                    _ => rb,
                }
            }
        };
        let resp = rb
            .timeout(self.options.timeout)
            .send()
            .await
            .map_err(|e| transport_error(&what, e))?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(auth_failed(format!(
                "the token endpoint answered {status}; redirects of token requests are not followed"
            )));
        }
        if status != StatusCode::OK {
            let message = error_message(resp).await;
            return Err(auth_failed(format!(
                "the token endpoint answered {status}: {message}"
            )));
        }
        let body = self.read_capped(resp, MAX_TOKEN_RESPONSE, &what).await?;
        #[derive(Deserialize)]
        struct TokenResponse {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
            #[serde(default)]
            expires_in: Option<u64>,
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| auth_failed(format!("the token response is not JSON: {e}")))?;
        let token = parsed
            .access_token
            .filter(|t| !t.is_empty())
            .or(parsed.token.filter(|t| !t.is_empty()))
            .ok_or_else(|| auth_failed("the token response holds no token".into()))?;
        if token.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(auth_failed(
                "the token holds characters a header cannot carry".into(),
            ));
        }
        let lifetime = parsed
            .expires_in
            .filter(|s| *s > 0)
            .map_or(DEFAULT_TOKEN_LIFETIME, |s| {
                Duration::from_secs(s.min(86_400))
            });
        Ok((token, lifetime))
    }

    /// Turn a non-2xx answer into an error; pass 2xx through.
    async fn expect_success(&self, resp: Response, what: &str) -> Result<Response, Error> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let retry = header_str(resp.headers(), "retry-after");
        let message = error_message(resp).await;
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Error::AuthFailed {
                registry: self.registry.clone(),
                message: format!("{what}: {status}: {message}"),
            },
            StatusCode::NOT_FOUND => Error::NotFound {
                what: what.to_string(),
                message,
            },
            StatusCode::TOO_MANY_REQUESTS => Error::RateLimited {
                what: what.to_string(),
                retry_after: retry
                    .as_deref()
                    .and_then(retry_after)
                    .unwrap_or(DEFAULT_RETRY_AFTER)
                    .min(self.options.max_retry_after),
            },
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::Unsupported {
                what: what.to_string(),
                reason: format!("415: {message}"),
            },
            _ => Error::Registry {
                what: what.to_string(),
                status: status.as_u16(),
                message,
            },
        })
    }

    /// The next page of a paginated answer, resolved against the page's
    /// URL; it must stay on the registry's origin.
    fn next_page(&self, page: &Url, headers: &HeaderMap, what: &str) -> Result<Option<Url>, Error> {
        let Some(link) = headers
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(next_link)
        else {
            return Ok(None);
        };
        let next = page.join(&link).map_err(|e| Error::Pagination {
            what: what.to_string(),
            reason: format!("bad Link target {link:?}: {e}"),
        })?;
        if !same_origin(&next, &self.base) {
            return Err(Error::Pagination {
                what: what.to_string(),
                reason: format!(
                    "the next page is on another origin ({})",
                    origin_string(&next)
                ),
            });
        }
        Ok(Some(next))
    }

    async fn read_capped(&self, resp: Response, cap: u64, what: &str) -> Result<Vec<u8>, Error> {
        if resp.content_length().is_some_and(|l| l > cap) {
            return Err(Error::SizeExceeded {
                what: what.to_string(),
                limit: cap,
            });
        }
        let mut buf = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| transport_error(what, e))?;
            if (buf.len() + chunk.len()) as u64 > cap {
                return Err(Error::SizeExceeded {
                    what: what.to_string(),
                    limit: cap,
                });
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    }
}

/// The system resolver, minus the addresses berth does not contact on a
/// registry's behalf. A redirect target or token realm given by name is
/// checked where its name is resolved: link-local and metadata addresses,
/// the unspecified address, and loopback unless the registry is on
/// loopback, are dropped for every name but the registry's own.
struct GuardedResolver {
    registry_host: String,
    registry_is_loopback: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_string();
        let registry_host = self.registry_host.clone();
        let loopback_ok = self.registry_is_loopback;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let kept = allowed_addresses(&name, &registry_host, loopback_ok, addrs);
            if kept.is_empty() {
                return Err(format!(
                    "{name} resolves only to addresses berth does not contact for a registry \
                     (loopback, link-local, cloud metadata or unspecified)"
                )
                .into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

fn allowed_addresses(
    name: &str,
    registry_host: &str,
    registry_is_loopback: bool,
    addrs: Vec<SocketAddr>,
) -> Vec<SocketAddr> {
    if name.eq_ignore_ascii_case(registry_host) {
        return addrs;
    }
    addrs
        .into_iter()
        .filter(|a| {
            let ip = canonical_ip(a.ip());
            !(ip.is_unspecified()
                || is_link_local_or_metadata(ip)
                || (ip.is_loopback() && !registry_is_loopback))
        })
        .collect()
}

/// Counts the pages of one paginated listing and refuses loops.
struct Paginator<'a> {
    what: &'a str,
    max: usize,
    seen: HashSet<String>,
}

impl<'a> Paginator<'a> {
    fn new(what: &'a str, max: usize) -> Self {
        Paginator {
            what,
            max,
            seen: HashSet::new(),
        }
    }

    fn start(&mut self, url: &Url) -> Result<Url, Error> {
        if self.seen.len() >= self.max {
            return Err(Error::Pagination {
                what: self.what.to_string(),
                reason: format!("more than {} pages", self.max),
            });
        }
        if !self.seen.insert(url.to_string()) {
            return Err(Error::Pagination {
                what: self.what.to_string(),
                reason: "the next link points back to a page already read".into(),
            });
        }
        Ok(url.clone())
    }
}

fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

fn invalid_repo(repository: &str, reason: &str) -> Error {
    Error::InvalidOptions(format!(
        "repository {:?}: {reason}",
        repository.chars().take(300).collect::<String>()
    ))
}

fn basic_header(username: &str, password: &str) -> String {
    let raw = format!("{username}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn header_digest(headers: &HeaderMap, what: &str) -> Result<Option<Digest>, Error> {
    match header_str(headers, "docker-content-digest") {
        None => Ok(None),
        Some(s) => Digest::parse(s.trim())
            .map(Some)
            .map_err(|e| Error::InvalidResponse {
                what: what.to_string(),
                reason: format!("bad Docker-Content-Digest: {e}"),
            }),
    }
}

fn www_authenticate(headers: &HeaderMap, registry: &str) -> Result<Vec<Challenge>, Error> {
    let mut out = Vec::new();
    let mut total = 0;
    for value in headers.get_all("www-authenticate") {
        total += value.len();
        let text = value.to_str().map_err(|_| Error::AuthFailed {
            registry: registry.to_string(),
            message: "WWW-Authenticate is not ASCII".into(),
        })?;
        if total > crate::headers::MAX_CHALLENGE_LEN {
            return Err(Error::AuthFailed {
                registry: registry.to_string(),
                message: "the WWW-Authenticate headers are too long".into(),
            });
        }
        out.extend(parse_challenges(text).map_err(|e| Error::AuthFailed {
            registry: registry.to_string(),
            message: e.to_string(),
        })?);
    }
    if out.is_empty() {
        return Err(Error::AuthFailed {
            registry: registry.to_string(),
            message: "401 without a WWW-Authenticate challenge".into(),
        });
    }
    Ok(out)
}

/// Read at most `MAX_ERROR_BODY` bytes of an error answer and make them
/// readable: the distribution `errors[]` list when it is one, else the
/// text (shortened, control characters removed).
async fn error_message(resp: Response) -> String {
    let mut buf = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = MAX_ERROR_BODY - buf.len();
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    describe_error_body(&buf)
}

/// The readable form of an error body.
pub fn describe_error_body(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        detail: Option<serde_json::Value>,
    }
    if let Ok(e) = serde_json::from_slice::<Errors>(body) {
        if !e.errors.is_empty() {
            return e
                .errors
                .iter()
                .take(10)
                .map(|e| {
                    let mut s = e.code.clone().unwrap_or_else(|| "UNKNOWN".into());
                    if let Some(m) = e.message.as_deref().filter(|m| !m.is_empty()) {
                        s.push_str(": ");
                        s.push_str(m);
                    }
                    match &e.detail {
                        None | Some(serde_json::Value::Null) => {}
                        Some(d) => s.push_str(&format!(" ({d})")),
                    }
                    clean(&s, 300)
                })
                .collect::<Vec<_>>()
                .join("; ");
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = clean(text.trim(), 300);
    if text.is_empty() {
        "no details".into()
    } else {
        text
    }
}

fn clean(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

fn transport_error(what: &str, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout {
            what: what.to_string(),
        }
    } else {
        let mut detail = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            let text = c.to_string();
            if !detail.contains(&text) {
                detail.push_str(": ");
                detail.push_str(&text);
            }
            cause = c.source();
        }
        Error::Transport {
            what: what.to_string(),
            detail,
            source: e,
        }
    }
}

fn document_error(what: &str, e: DocumentError) -> Error {
    match e {
        DocumentError::UnsupportedMediaType(media_type) => Error::UnsupportedMediaType {
            what: what.to_string(),
            media_type,
        },
        other => Error::InvalidManifest {
            what: what.to_string(),
            reason: other.to_string(),
        },
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

fn origin_string(u: &Url) -> String {
    u.origin().ascii_serialization()
}

fn host_of(u: &Url) -> String {
    u.host_str().unwrap_or_default().to_ascii_lowercase()
}

fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_loopback_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| canonical_ip(ip).is_loopback())
}

/// 169.254.0.0/16 (where AWS, GCP and Azure serve instance metadata),
/// fe80::/10, the AWS IPv6 metadata address and Alibaba's 100.100.100.200.
fn is_link_local_or_metadata(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local() || v4.octets() == [100, 100, 100, 200],
        IpAddr::V6(v6) => {
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.segments() == [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(registry: &str, insecure: bool, foreign: bool) -> Client {
        Client::new(
            registry,
            Credentials::Anonymous,
            ClientOptions {
                insecure,
                allow_foreign_token_realm: foreign,
                ..ClientOptions::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn realm_rules() {
        let c = client("reg.example:5000", false, false);
        c.check_realm("https://reg.example/token").unwrap();
        c.check_realm("https://reg.example:5000/token?x=1").unwrap();
        for (realm, why) in [
            ("http://reg.example:5000/token", "HTTPS"),
            ("https://auth.example/token", "allow_foreign_token_realm"),
            ("https://169.254.169.254/token", "link-local"),
            ("https://[fe80::1]/token", "link-local"),
            ("https://[::ffff:169.254.169.254]/token", "link-local"),
            ("https://100.100.100.200/token", "metadata"),
            ("https://127.0.0.1/token", "loopback"),
            ("https://localhost/token", "loopback"),
            ("https://0.0.0.0/token", "unspecified"),
            ("https://user:pw@reg.example/token", "user info"),
            ("/token", "absolute"),
            ("ftp://reg.example/token", "scheme"),
        ] {
            let err = c.check_realm(realm).unwrap_err();
            assert!(err.to_string().contains(why), "{realm}: {err}");
        }
        // With the opt-in, another HTTPS host is fine; special addresses
        // are still refused.
        let c = client("reg.example", false, true);
        c.check_realm("https://auth.example/token").unwrap();
        assert!(c.check_realm("https://169.254.169.254/token").is_err());

        // A registry on loopback (the e2e suite) may use a loopback realm;
        // plain HTTP only on its own origin.
        let c = client("127.0.0.1:5000", true, false);
        c.check_realm("http://127.0.0.1:5000/token").unwrap();
        assert!(c.check_realm("http://127.0.0.1:5001/token").is_err());
        assert!(c.check_realm("https://169.254.169.254/token").is_err());
        assert!(c.check_realm("https://localhost:5000/token").is_err());
        // A registry that is itself on a link-local address may be its own realm.
        let c = client("169.254.10.10:5000", true, false);
        c.check_realm("http://169.254.10.10:5000/token").unwrap();
    }

    #[test]
    fn redirect_rules() {
        let c = client("reg.example", false, false);
        let from = Url::parse("https://reg.example/v2/a/blobs/x").unwrap();
        let ok = |to: &str| c.check_redirect_target(&from, &Url::parse(to).unwrap());
        ok("https://storage.example/blob?sig=1").unwrap();
        assert!(ok("http://reg.example/v2/a/blobs/x")
            .unwrap_err()
            .contains("plain HTTP"));
        assert!(ok("https://169.254.169.254/latest").is_err());
        assert!(ok("https://127.0.0.1/x").is_err());
        assert!(ok("file:///etc/passwd").is_err());
        assert!(ok("https://u:p@storage.example/").is_err());
    }

    #[test]
    fn resolved_addresses_are_filtered_for_other_names() {
        let addrs = |list: &[&str]| -> Vec<SocketAddr> {
            list.iter().map(|a| a.parse().unwrap()).collect()
        };
        let mixed = addrs(&[
            "169.254.169.254:0",
            "[fe80::1]:0",
            "127.0.0.1:0",
            "0.0.0.0:0",
            "[::ffff:169.254.169.254]:0",
            "100.100.100.200:0",
            "192.0.2.10:0",
            "[2001:db8::1]:0",
        ]);
        assert_eq!(
            allowed_addresses("storage.example", "reg.example", false, mixed.clone()),
            addrs(&["192.0.2.10:0", "[2001:db8::1]:0"])
        );
        assert_eq!(
            allowed_addresses("storage.example", "127.0.0.1", true, mixed.clone()),
            addrs(&["127.0.0.1:0", "192.0.2.10:0", "[2001:db8::1]:0"])
        );
        // The registry's own name resolves to whatever it resolves to.
        assert_eq!(
            allowed_addresses("REG.example", "reg.example", false, mixed.clone()),
            mixed
        );
        assert!(allowed_addresses(
            "meta.example",
            "reg.example",
            false,
            addrs(&["169.254.169.254:0"])
        )
        .is_empty());
    }

    #[test]
    fn error_bodies_are_readable() {
        assert_eq!(
            describe_error_body(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}},{"code":"DENIED"}]}"#
            ),
            r#"MANIFEST_UNKNOWN: manifest unknown ({"Tag":"x"}); DENIED"#
        );
        assert_eq!(describe_error_body(b"  plain\ntext "), "plain text");
        assert_eq!(describe_error_body(b""), "no details");
        let long = "x".repeat(1000);
        assert_eq!(describe_error_body(long.as_bytes()).chars().count(), 301);
    }

    /// The controller shares one client between tasks: it and its futures
    /// must be Send (no lock held across an await) and Sync.
    #[test]
    fn client_and_futures_are_send() {
        fn send<T: Send>(_: &T) {}
        fn sync<T: Sync>() {}
        sync::<Client>();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let c = client("reg.example", false, false);
        let d = Digest::sha256_of(b"x");
        let desc = Descriptor {
            media_type: "m".into(),
            digest: d.clone(),
            size: 1,
            urls: None,
            annotations: None,
            artifact_type: None,
            platform: None,
        };
        let mut out = Vec::new();
        send(&c.list_tags("a"));
        send(&c.resolve("a", "t"));
        send(&c.fetch_manifest("a", "t"));
        send(&c.fetch_blob("a", &desc, &mut out));
        send(&c.referrers("a", &d, None));
    }

    #[test]
    fn options_debug_hides_the_key() {
        let o = ClientOptions {
            client_key_pem: Some(b"-----BEGIN PRIVATE KEY-----secret".to_vec()),
            ..ClientOptions::default()
        };
        let shown = format!("{o:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("45, 45"),
            "{shown}"
        );
    }

    #[test]
    fn options_are_checked() {
        let bad = |o: ClientOptions| Client::new("reg.example", Credentials::Anonymous, o).is_err();
        assert!(bad(ClientOptions {
            ca_pem: Some(b"not pem".to_vec()),
            ..ClientOptions::default()
        }));
        assert!(bad(ClientOptions {
            client_cert_pem: Some(b"x".to_vec()),
            ..ClientOptions::default()
        }));
        assert!(Client::new("no_host", Credentials::Anonymous, ClientOptions::default()).is_err());
    }
}
