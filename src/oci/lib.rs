//! berth's OCI registry client.
//!
//! It pulls Helm charts and other artifacts from registries that berth does
//! not trust: every read is capped, and everything downloaded is checked
//! against its digest and declared size before it is returned.
//! Credentials go only to the registry they belong to.
//!
//! # Why our own HTTP layer rather than `oci-client`
//!
//! `oci-client` 0.18 (the latest release when this was written) was
//! evaluated first. Its types and request flow do not keep the rules below,
//! and it cannot be wrapped from outside to keep them:
//! - manifests, token responses and error bodies are read whole with
//!   `Response::bytes()`, with no cap;
//! - `pull_blob` streams until EOF without comparing the running length to
//!   the descriptor's size, and the digest is checked only at the end;
//! - the Bearer realm of a `WWW-Authenticate` challenge is used as it comes
//!   (any host, any scheme, link-local addresses included), and token
//!   requests go through reqwest's default redirect policy;
//! - that policy strips `Authorization` by host and port only, and
//!   redirects are followed for registry requests too;
//! - tag listing does not follow `Link` pagination, and there is no Docker
//!   `config.json` lookup.
//!
//! So the client is written directly on `reqwest` (already in the tree,
//! with rustls), with automatic redirects off. The manifest types are small
//! serde structs of our own rather than `oci-spec`'s. `oci-spec` pulls in a
//! builder-macro dependency tree and accepts documents we must refuse, such
//! as one with both `manifests` and `layers`. We run our own checks on the
//! raw JSON first (see [`manifest::parse_document`]). No code was copied
//! from either crate.
//!
//! # Rules
//! - **References** ([`Reference`]) follow the distribution spec grammar.
//!   The registry host is required, and it is the key credentials are found
//!   under ([`docker_config::credentials_for`]).
//! - **One [`Client`] per registry host.** Its credentials are sent only to
//!   the registry's origin, meaning the same scheme, host and port.
//!   Redirects are followed by hand, at most `max_redirects` times. A hop
//!   to another origin (a blob storage host) carries no `Authorization`.
//!   HTTPS→HTTP is refused unless `insecure` is set. Loopback, link-local
//!   and metadata addresses are refused unless the registry is there. That
//!   holds for IP literals and for names: the client's DNS resolver drops
//!   such addresses for every name but the registry's own.
//! - **Auth**: each request first goes out anonymously, or with a cached
//!   token or Basic header. On a 401 the client answers the challenge once.
//!   `Basic` gets the user name and password. `Bearer` gets a token from
//!   the realm: distribution GET (Basic auth when there is a password), or
//!   OAuth2 POST with a refresh token (`identitytoken`). A `registrytoken`
//!   is sent as it is. The realm must be HTTPS (plain HTTP only on the
//!   registry's own origin with `insecure`). It must be on the registry's
//!   host unless `allow_foreign_token_realm` is set, and never on a
//!   loopback, link-local or metadata address unless the registry is there.
//!   Token requests never follow redirects. Their answers are capped at
//!   64 KiB. Tokens are cached per scope until they expire.
//! - **Caps**: manifests and tag/referrers pages are capped at 4 MiB
//!   (configurable), error bodies at 64 KiB, and pagination at
//!   `max_pages` pages (default 100). Each next page must come from the
//!   same origin, and a page is never read twice. With `tag_page_size` set,
//!   a full page that has no `Link` continues with `last=<tag>`, for
//!   registries that honour `n` but send no Link. A blob may not grow past
//!   its descriptor's size.
//! - **Rate limits**: a 429 is [`Error::RateLimited`]. It carries the
//!   `Retry-After` delay (seconds or an HTTP-date), capped by
//!   `max_retry_after`. The client does not sleep or retry by itself: the
//!   caller's backoff decides.
//! - **Checks**: a manifest fetched by digest must hash to that digest. A
//!   `Docker-Content-Digest` header must match the body. The body's
//!   `mediaType` must agree with the Content-Type. Ambiguous documents are
//!   refused. Descriptor `urls` are never fetched.
//! - **Credential helpers** (`credHelpers`, `credsStore`) are not
//!   supported, because berth runs no external programs. They are reported
//!   as an error.
//!
//! Errors are one enum ([`Error`]). [`Error::reason`] gives the condition
//! reason and [`Error::is_retryable`] the retry class. [`RequestCounters`]
//! counts requests per operation and method.

pub mod client;
pub mod credentials;
pub mod digest;
pub mod error;
pub mod headers;
pub mod manifest;
pub mod reference;

pub use client::{
    Client, ClientOptions, FetchedManifest, ManifestHead, Operation, RequestCounters,
};
pub use credentials::{docker_config, Credentials};
pub use digest::Digest;
pub use error::Error;
pub use manifest::{Descriptor, Document, ImageIndex, ImageManifest};
pub use reference::Reference;
