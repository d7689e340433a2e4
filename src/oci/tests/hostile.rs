//! The client against registries that lie. Each test starts a small HTTP
//! server in this process (plain tokio; one response per connection) whose
//! answers are the hostile input, then asserts the client's error variant,
//! that nothing came back as success, and, where credentials are at stake,
//! that the other side never saw an `Authorization` header.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_oci::manifest::{HELM_CHART_LAYER, HELM_CONFIG, OCI_INDEX, OCI_MANIFEST};
use berth_oci::{Client, ClientOptions, Credentials, Descriptor, Digest, Error};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// A request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

enum Reply {
    /// Status, headers, body; `Content-Length` is added unless `close_delimited`.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        close_delimited: bool,
    },
    /// A body that never ends (until the client hangs up).
    Endless {
        status: u16,
        headers: Vec<(String, String)>,
    },
    /// Promise `length` bytes, send `prefix`, then go quiet.
    Stall {
        status: u16,
        headers: Vec<(String, String)>,
        prefix: Vec<u8>,
        length: usize,
    },
    /// Promise `length` bytes, send `prefix`, then close the connection.
    Cut { prefix: Vec<u8>, length: usize },
}

fn reply(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Reply {
    Reply::Full {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
        close_delimited: false,
    }
}

type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Server {
        Self::start_inner(Arc::new(handler), None).await
    }

    async fn start_tls(
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
        tls: tokio_rustls::TlsAcceptor,
    ) -> Server {
        Self::start_inner(Arc::new(handler), Some(tls)).await
    }

    async fn start_inner(handler: Handler, tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let handler = handler.clone();
                let log = log.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(sock).await {
                                serve(s, handler, log).await;
                            }
                        }
                        None => serve(sock, handler, log).await,
                    }
                });
            }
        });
        Server { addr, seen }
    }

    fn host(&self) -> String {
        self.addr.to_string()
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn saw_authorization(&self) -> bool {
        self.seen()
            .iter()
            .any(|s| s.header("authorization").is_some())
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    handler: Handler,
    log: Arc<Mutex<Vec<Seen>>>,
) {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return;
        }
        match s.read(&mut tmp).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = buf[head_end + 4..].to_vec();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while body.len() < len {
        match s.read(&mut tmp).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&tmp[..n]),
        }
    }
    let req = Seen {
        method,
        target,
        headers,
        body,
    };
    log.lock().unwrap().push(req.clone());
    let head = |status: u16, headers: &[(String, String)], length: Option<usize>| {
        let mut h = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
        for (k, v) in headers {
            h.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(l) = length {
            h.push_str(&format!("Content-Length: {l}\r\n"));
        }
        h.push_str("\r\n");
        h
    };
    match handler(&req) {
        Reply::Full {
            status,
            headers,
            body,
            close_delimited,
        } => {
            let has_length = headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
            let length = (!close_delimited && !has_length).then_some(body.len());
            let _ = s.write_all(head(status, &headers, length).as_bytes()).await;
            if req.method != "HEAD" {
                let _ = s.write_all(&body).await;
            }
        }
        Reply::Endless { status, headers } => {
            if s.write_all(head(status, &headers, None).as_bytes())
                .await
                .is_err()
            {
                return;
            }
            let chunk = vec![b'x'; 64 * 1024];
            while s.write_all(&chunk).await.is_ok() {}
        }
        Reply::Stall {
            status,
            headers,
            prefix,
            length,
        } => {
            let _ = s
                .write_all(head(status, &headers, Some(length)).as_bytes())
                .await;
            let _ = s.write_all(&prefix).await;
            let _ = s.flush().await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Reply::Cut { prefix, length } => {
            let _ = s.write_all(head(200, &[], Some(length)).as_bytes()).await;
            let _ = s.write_all(&prefix).await;
        }
    }
    let _ = s.shutdown().await;
}

fn options() -> ClientOptions {
    ClientOptions {
        insecure: true,
        timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    }
}

fn client(server: &Server, credentials: Credentials, o: ClientOptions) -> Client {
    Client::new(&server.host(), credentials, o).unwrap()
}

fn basic() -> Credentials {
    Credentials::Basic {
        username: "berth".into(),
        password: "s3cret".into(),
    }
}

/// The Authorization header `basic()` produces.
const BASIC_HEADER: &str = "Basic YmVydGg6czNjcmV0";

fn descriptor(media_type: &str, bytes: &[u8]) -> Descriptor {
    Descriptor {
        media_type: media_type.into(),
        digest: Digest::sha256_of(bytes),
        size: bytes.len() as u64,
        urls: None,
        annotations: None,
        artifact_type: None,
        platform: None,
    }
}

fn helm_manifest(layer: &Descriptor) -> Vec<u8> {
    let config = descriptor(HELM_CONFIG, b"{}");
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "config": config,
        "layers": [layer],
    }))
    .unwrap()
}

// ---------------------------------------------------------------------------
// Manifests

#[tokio::test]
async fn manifest_whose_body_is_not_the_requested_digest() {
    let real = helm_manifest(&descriptor(HELM_CHART_LAYER, b"chart"));
    let other = helm_manifest(&descriptor(HELM_CHART_LAYER, b"evil"));
    let wanted = Digest::sha256_of(&real);
    let s =
        Server::start(move |_| reply(200, &[("Content-Type", OCI_MANIFEST)], other.clone())).await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c
        .fetch_manifest("charts/app", &wanted.to_string())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    // The same lie through HEAD's Docker-Content-Digest when pinned by digest.
    let lie = Digest::sha256_of(b"lie").to_string();
    let s = Server::start(move |_| {
        reply(
            200,
            &[
                ("Content-Type", OCI_MANIFEST),
                ("Docker-Content-Digest", lie.as_str()),
            ],
            "",
        )
    })
    .await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c
        .head_manifest("charts/app", &wanted.to_string())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
}

#[tokio::test]
async fn manifest_by_tag_with_a_lying_digest_header() {
    let body = helm_manifest(&descriptor(HELM_CHART_LAYER, b"chart"));
    let lie = Digest::sha256_of(b"something else").to_string();
    let s = Server::start(move |_| {
        reply(
            200,
            &[
                ("Content-Type", OCI_MANIFEST),
                ("Docker-Content-Digest", lie.as_str()),
            ],
            body.clone(),
        )
    })
    .await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c.fetch_manifest("charts/app", "1.0.0").await.unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
}

#[tokio::test]
async fn honest_manifest_by_tag_reports_its_digest() {
    let body = helm_manifest(&descriptor(HELM_CHART_LAYER, b"chart"));
    let digest = Digest::sha256_of(&body);
    let served = body.clone();
    let s = Server::start(move |req| {
        if req.method == "HEAD" && req.path().contains("nohead") {
            return reply(405, &[], "");
        }
        reply(200, &[("Content-Type", OCI_MANIFEST)], served.clone())
    })
    .await;
    let c = client(&s, Credentials::Anonymous, options());
    let m = c.fetch_manifest("charts/app", "1.0.0").await.unwrap();
    assert_eq!(m.digest, digest);
    assert_eq!(m.bytes, body);
    // No Docker-Content-Digest on HEAD: resolve hashes a GET.
    assert_eq!(c.resolve("charts/app", "1.0.0").await.unwrap(), digest);
    // HEAD not allowed: the same, through GET.
    assert_eq!(c.resolve("charts/nohead", "1.0.0").await.unwrap(), digest);
}

#[tokio::test]
async fn endless_and_oversized_manifests() {
    let s = Server::start(|_| Reply::Endless {
        status: 200,
        headers: vec![("Content-Type".into(), OCI_MANIFEST.into())],
    })
    .await;
    let c = client(
        &s,
        Credentials::Anonymous,
        ClientOptions {
            max_manifest_size: 256 * 1024,
            ..options()
        },
    );
    let err = c.fetch_manifest("charts/app", "1.0.0").await.unwrap_err();
    assert!(
        matches!(err, Error::SizeExceeded { limit: 262144, .. }),
        "{err}"
    );

    // A Content-Length over the cap is refused before reading.
    let s = Server::start(|_| {
        reply(
            200,
            &[
                ("Content-Type", OCI_MANIFEST),
                ("Content-Length", "104857600"),
            ],
            "",
        )
    })
    .await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c.fetch_manifest("charts/app", "1.0.0").await.unwrap_err();
    assert!(matches!(err, Error::SizeExceeded { .. }), "{err}");
}

#[tokio::test]
async fn ambiguous_and_mislabelled_documents() {
    let layer = descriptor(HELM_CHART_LAYER, b"chart");
    let mut ambiguous: serde_json::Value = serde_json::from_slice(&helm_manifest(&layer)).unwrap();
    ambiguous["manifests"] = serde_json::json!([layer]);
    let ambiguous = serde_json::to_vec(&ambiguous).unwrap();
    let mut labelled_index: serde_json::Value =
        serde_json::from_slice(&helm_manifest(&layer)).unwrap();
    labelled_index["mediaType"] = OCI_INDEX.into();
    let labelled_index = serde_json::to_vec(&labelled_index).unwrap();
    let plain = helm_manifest(&layer);

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("ambiguous as manifest", ambiguous.clone(), OCI_MANIFEST),
        ("ambiguous as index", ambiguous, OCI_INDEX),
        (
            "body says index, served as manifest",
            labelled_index,
            OCI_MANIFEST,
        ),
        ("manifest served as index", plain.clone(), OCI_INDEX),
    ];
    for (name, body, ct) in cases {
        let ct = ct.to_string();
        let s = Server::start(move |_| reply(200, &[("Content-Type", ct.as_str())], body.clone()))
            .await;
        let c = client(&s, Credentials::Anonymous, options());
        let err = c.fetch_manifest("charts/app", "1.0.0").await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidManifest { .. }),
            "{name}: {err}"
        );
    }
    let s =
        Server::start(move |_| reply(200, &[("Content-Type", "text/html")], plain.clone())).await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c.fetch_manifest("charts/app", "1.0.0").await.unwrap_err();
    assert!(matches!(err, Error::UnsupportedMediaType { .. }), "{err}");
}

// ---------------------------------------------------------------------------
// Blobs

#[tokio::test]
async fn blob_with_the_wrong_digest() {
    let desc = descriptor(HELM_CHART_LAYER, b"the real chart");
    let s = Server::start(|_| reply(200, &[], "the evil chart")).await;
    let c = client(&s, Credentials::Anonymous, options());
    let mut out = Vec::new();
    let err = c
        .fetch_blob("charts/app", &desc, &mut out)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    let err = c
        .fetch_blob_to_vec("charts/app", &desc, 1024)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
}

#[tokio::test]
async fn blob_longer_than_its_descriptor() {
    let desc = descriptor(HELM_CHART_LAYER, b"0123456789");
    // With an honest Content-Length, refused before reading.
    let s = Server::start(|_| reply(200, &[], "0123456789 and more")).await;
    let c = client(&s, Credentials::Anonymous, options());
    let mut out = Vec::new();
    let err = c
        .fetch_blob("charts/app", &desc, &mut out)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SizeExceeded { limit: 10, .. }),
        "{err}"
    );
    assert!(out.is_empty());

    // Without a length, refused as soon as the body passes the size: the
    // writer never gets more than `size` bytes.
    let s = Server::start(|_| Reply::Full {
        status: 200,
        headers: vec![],
        body: b"0123456789 and more".to_vec(),
        close_delimited: true,
    })
    .await;
    let c = client(&s, Credentials::Anonymous, options());
    let mut out = Vec::new();
    let err = c
        .fetch_blob("charts/app", &desc, &mut out)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::SizeExceeded { limit: 10, .. }),
        "{err}"
    );
    assert!(out.len() <= 10);

    // An endless body ends at the size too.
    let s = Server::start(|_| Reply::Endless {
        status: 200,
        headers: vec![],
    })
    .await;
    let c = client(&s, Credentials::Anonymous, options());
    let big = Descriptor {
        size: 1024 * 1024,
        ..desc.clone()
    };
    let mut out = Vec::new();
    let err = c
        .fetch_blob("charts/app", &big, &mut out)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SizeExceeded { .. }), "{err}");
    assert!(out.len() <= 1024 * 1024);
}

#[tokio::test]
async fn blob_shorter_than_its_descriptor_and_a_descriptor_over_the_cap() {
    let desc = descriptor(HELM_CHART_LAYER, b"0123456789");
    let s = Server::start(|_| Reply::Full {
        status: 200,
        headers: vec![],
        body: b"01234".to_vec(),
        close_delimited: true,
    })
    .await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c
        .fetch_blob_to_vec("charts/app", &desc, 1024)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::SizeMismatch {
                expected: 10,
                actual: 5,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_retryable());
    let before = s.seen().len();
    let err = c
        .fetch_blob_to_vec("charts/app", &desc, 5)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SizeExceeded { .. }), "{err}");
    assert_eq!(
        s.seen().len(),
        before,
        "a request was sent for a blob over the cap"
    );
}

#[tokio::test]
async fn descriptor_urls_are_never_fetched() {
    let attacker = Server::start(|_| reply(200, &[], "payload")).await;
    let mut desc = descriptor(HELM_CHART_LAYER, b"payload");
    desc.urls = Some(vec![format!("http://{}/payload", attacker.host())]);
    let registry = Server::start(|_| {
        reply(
            404,
            &[],
            r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}"#,
        )
    })
    .await;
    let c = client(&registry, basic(), options());
    let err = c
        .fetch_blob_to_vec("charts/app", &desc, 1024)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(
        err.to_string().contains("BLOB_UNKNOWN: blob unknown"),
        "{err}"
    );
    assert!(attacker.seen().is_empty());
}

// ---------------------------------------------------------------------------
// Redirects

/// A registry that wants Basic auth, then redirects blob requests to
/// `target` (a URL prefix).
async fn redirecting_registry(target: String) -> Server {
    Server::start(move |req| {
        if req.header("authorization") != Some(BASIC_HEADER) {
            return reply(
                401,
                &[("WWW-Authenticate", r#"Basic realm="registry""#)],
                "",
            );
        }
        let location = format!("{target}{}", req.path());
        reply(307, &[("Location", location.as_str())], "")
    })
    .await
}

#[tokio::test]
async fn redirect_to_storage_on_another_origin_carries_no_credentials() {
    let blob = b"chart bytes".to_vec();
    let desc = descriptor(HELM_CHART_LAYER, &blob);
    let served = blob.clone();
    let storage = Server::start(move |_| reply(200, &[], served.clone())).await;
    for target in [
        // Same host, another port.
        format!("http://{}", storage.host()),
        // Another host name.
        format!("http://localhost:{}", storage.addr.port()),
    ] {
        let registry = redirecting_registry(target).await;
        let c = client(&registry, basic(), options());
        let got = c
            .fetch_blob_to_vec("charts/app", &desc, 1024)
            .await
            .unwrap();
        assert_eq!(got, blob);
        assert!(registry
            .seen()
            .iter()
            .any(|r| r.header("authorization") == Some(BASIC_HEADER)));
    }
    assert_eq!(storage.seen().len(), 2);
    assert!(!storage.saw_authorization(), "{:?}", storage.seen());
}

#[tokio::test]
async fn redirect_from_https_to_http_on_the_same_host_is_refused() {
    let (acceptor, ca_pem) = tls_acceptor();
    let attacker = Server::start(|_| reply(200, &[], "payload")).await;
    let target = format!("http://127.0.0.1:{}", attacker.addr.port());
    let registry = Server::start_tls(
        move |req| {
            if req.header("authorization") != Some(BASIC_HEADER) {
                return reply(
                    401,
                    &[("WWW-Authenticate", r#"Basic realm="registry""#)],
                    "",
                );
            }
            let location = format!("{target}{}", req.path());
            reply(302, &[("Location", location.as_str())], "")
        },
        acceptor,
    )
    .await;
    let c = client(
        &registry,
        basic(),
        ClientOptions {
            insecure: false,
            ca_pem: Some(ca_pem),
            ..options()
        },
    );
    let desc = descriptor(HELM_CHART_LAYER, b"payload");
    let err = c
        .fetch_blob_to_vec("charts/app", &desc, 1024)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RedirectRefused { .. }), "{err}");
    assert!(registry
        .seen()
        .iter()
        .any(|r| r.header("authorization") == Some(BASIC_HEADER)));
    assert!(attacker.seen().is_empty(), "{:?}", attacker.seen());
}

#[tokio::test]
async fn redirect_loops_and_link_local_targets() {
    let s = Server::start(|req| {
        let location = format!("{}x", req.path());
        reply(302, &[("Location", location.as_str())], "")
    })
    .await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c.fetch_manifest("charts/app", "1.0.0").await.unwrap_err();
    assert!(matches!(err, Error::RedirectRefused { .. }), "{err}");
    assert_eq!(s.seen().len(), 6, "max_redirects 5 means six requests");

    let s = Server::start(|_| {
        reply(
            302,
            &[("Location", "http://169.254.169.254/latest/meta-data/")],
            "",
        )
    })
    .await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c.fetch_manifest("charts/app", "1.0.0").await.unwrap_err();
    assert!(matches!(err, Error::RedirectRefused { .. }), "{err}");
}

// ---------------------------------------------------------------------------
// Token realms

#[tokio::test]
async fn token_realm_on_another_host_or_link_local_is_refused() {
    let attacker = Server::start(|_| reply(200, &[], r#"{"token":"stolen"}"#)).await;
    for (realm, why) in [
        // 127.0.0.1 and localhost are different hosts.
        (
            format!("https://localhost:{}/token", attacker.addr.port()),
            "allow_foreign_token_realm",
        ),
        (
            format!("http://127.0.0.1:{}/token", attacker.addr.port()),
            "own origin",
        ),
        ("https://169.254.169.254/token".to_string(), "link-local"),
    ] {
        let challenge =
            format!(r#"Bearer realm="{realm}",service="svc",scope="repository:charts/app:pull""#);
        let registry =
            Server::start(move |_| reply(401, &[("WWW-Authenticate", challenge.as_str())], ""))
                .await;
        let c = client(&registry, basic(), options());
        let err = c.list_tags("charts/app").await.unwrap_err();
        assert!(
            matches!(err, Error::TokenRealmRefused { .. }),
            "{realm}: {err}"
        );
        assert!(err.to_string().contains(why), "{realm}: {err}");
        assert!(!registry.saw_authorization());
    }
    assert!(attacker.seen().is_empty(), "{:?}", attacker.seen());
}

#[tokio::test]
async fn token_flow_on_the_registry_origin_with_caching() {
    let s = Server::start(|req| {
        if req.path() == "/token" {
            assert_eq!(req.header("authorization"), Some(BASIC_HEADER));
            assert!(
                req.target
                    .contains("scope=repository%3Acharts%2Fapp%3Apull"),
                "{}",
                req.target
            );
            assert!(req.target.contains("service=svc"), "{}", req.target);
            return reply(
                200,
                &[],
                r#"{"token":"t-old","access_token":"t-1","expires_in":300}"#,
            );
        }
        if req.header("authorization") == Some("Bearer t-1") {
            return reply(
                200,
                &[("Content-Type", "application/json")],
                r#"{"name":"charts/app","tags":["1.0.0"]}"#,
            );
        }
        let host = req.header("host").unwrap_or_default().to_string();
        let ch = format!(
            r#"Bearer realm="http://{host}/token",service="svc",scope="repository:charts/app:pull""#
        );
        reply(401, &[("WWW-Authenticate", ch.as_str())], "")
    })
    .await;
    let c = client(&s, basic(), options());
    assert_eq!(c.list_tags("charts/app").await.unwrap(), vec!["1.0.0"]);
    assert_eq!(c.list_tags("charts/app").await.unwrap(), vec!["1.0.0"]);
    let counts = c.counters().snapshot();
    assert_eq!(counts.get("token GET"), Some(&1), "{counts:?}");
    // 401, token, retry, then the cached token at once.
    assert_eq!(counts.get("tags GET"), Some(&3), "{counts:?}");
}

#[tokio::test]
async fn oauth2_refresh_token_is_posted() {
    let s = Server::start(|req| {
        if req.path() == "/token" {
            assert_eq!(req.method, "POST");
            let form = String::from_utf8_lossy(&req.body).into_owned();
            assert!(form.contains("grant_type=refresh_token"), "{form}");
            assert!(form.contains("refresh_token=r-1"), "{form}");
            assert!(
                form.contains("scope=repository%3Acharts%2Fapp%3Apull"),
                "{form}"
            );
            return reply(200, &[], r#"{"access_token":"t-2"}"#);
        }
        if req.header("authorization") == Some("Bearer t-2") {
            return reply(
                200,
                &[("Content-Type", "application/json")],
                r#"{"tags":null}"#,
            );
        }
        let host = req.header("host").unwrap_or_default().to_string();
        let ch = format!(r#"Bearer realm="http://{host}/token",service="svc""#);
        reply(401, &[("WWW-Authenticate", ch.as_str())], "")
    })
    .await;
    let c = client(
        &s,
        Credentials::IdentityToken {
            token: "r-1".into(),
        },
        options(),
    );
    assert_eq!(
        c.list_tags("charts/app").await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn giant_and_redirected_token_answers() {
    let attacker = Server::start(|_| reply(200, &[], r#"{"token":"x"}"#)).await;
    let redirect_to = format!("http://{}/token", attacker.host());
    let s = Server::start(move |req| match req.path() {
        "/token" if req.target.contains("giant") => Reply::Endless {
            status: 200,
            headers: vec![],
        },
        "/token" => reply(302, &[("Location", redirect_to.as_str())], ""),
        p => {
            let host = req.header("host").unwrap_or_default().to_string();
            let kind = if p.contains("giant") {
                "giant"
            } else {
                "redirect"
            };
            let ch = format!(r#"Bearer realm="http://{host}/token?{kind}=1",service="svc""#);
            reply(401, &[("WWW-Authenticate", ch.as_str())], "")
        }
    })
    .await;
    let c = client(&s, basic(), options());
    let err = c.list_tags("giant/app").await.unwrap_err();
    assert!(
        matches!(err, Error::SizeExceeded { limit: 65536, .. }),
        "{err}"
    );
    let err = c.list_tags("redirect/app").await.unwrap_err();
    assert!(matches!(err, Error::AuthFailed { .. }), "{err}");
    assert!(err.to_string().contains("not followed"), "{err}");
    assert!(attacker.seen().is_empty());
}

#[tokio::test]
async fn wrong_credentials_and_missing_challenges() {
    let s = Server::start(|req| {
        if req.header("authorization") == Some(BASIC_HEADER) {
            return reply(
                200,
                &[("Content-Type", "application/json")],
                r#"{"tags":["a"]}"#,
            );
        }
        reply(
            401,
            &[("WWW-Authenticate", r#"Basic realm="r""#)],
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
        )
    })
    .await;
    let wrong = Credentials::Basic {
        username: "berth".into(),
        password: "wrong".into(),
    };
    let c = client(&s, wrong, options());
    let err = c.list_tags("charts/app").await.unwrap_err();
    assert!(matches!(err, Error::AuthFailed { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("UNAUTHORIZED: authentication required"),
        "{err}"
    );
    // A second call does not loop: the known scheme is tried once.
    let err = c.list_tags("charts/app").await.unwrap_err();
    assert!(matches!(err, Error::AuthFailed { .. }), "{err}");
    let c = client(&s, Credentials::Anonymous, options());
    assert!(matches!(
        c.list_tags("charts/app").await.unwrap_err(),
        Error::AuthFailed { .. }
    ));
    let c = client(&s, basic(), options());
    assert_eq!(c.list_tags("charts/app").await.unwrap(), vec!["a"]);

    let s = Server::start(|_| reply(401, &[], "")).await;
    let c = client(&s, basic(), options());
    assert!(matches!(
        c.list_tags("charts/app").await.unwrap_err(),
        Error::AuthFailed { .. }
    ));
    let huge = format!(r#"Bearer realm="{}""#, "a".repeat(20_000));
    let s = Server::start(move |_| reply(401, &[("WWW-Authenticate", huge.as_str())], "")).await;
    let c = client(&s, basic(), options());
    assert!(matches!(
        c.list_tags("charts/app").await.unwrap_err(),
        Error::AuthFailed { .. }
    ));
}

// ---------------------------------------------------------------------------
// Pagination

fn tag_page(tags: &[&str], link: Option<String>) -> Reply {
    let body =
        serde_json::to_vec(&serde_json::json!({"name": "charts/app", "tags": tags})).unwrap();
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    if let Some(l) = link {
        headers.push(("Link".into(), l));
    }
    Reply::Full {
        status: 200,
        headers,
        body,
        close_delimited: false,
    }
}

#[tokio::test]
async fn tag_pages_are_followed_on_the_same_origin() {
    let s = Server::start(|req| {
        assert!(req.target.contains("n=2"), "{}", req.target);
        if req.target.contains("last=b") {
            tag_page(&["c"], None)
        } else {
            // Relative link, resolved against the request URL.
            tag_page(
                &["a", "b", "not a tag!"],
                Some(r#"</v2/charts/app/tags/list?n=2&last=b>; rel="next""#.into()),
            )
        }
    })
    .await;
    let c = client(
        &s,
        Credentials::Anonymous,
        ClientOptions {
            tag_page_size: Some(2),
            ..options()
        },
    );
    assert_eq!(
        c.list_tags("charts/app").await.unwrap(),
        vec!["a", "b", "c"]
    );
}

/// A registry that honours `n` and `last` but sends no Link, and (like
/// go-containerregistry's) starts over when no tag is after `last`.
#[tokio::test]
async fn tag_pages_without_link_continue_with_last() {
    let s = Server::start(|req| {
        let all = ["a", "b", "c", "d!", "e"];
        let query = req
            .target
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or_default();
        let mut n = all.len();
        let mut start = 0;
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("n", v)) => n = v.parse().unwrap(),
                Some(("last", v)) => start = all.iter().position(|t| *t > v).unwrap_or(0),
                _ => {}
            }
        }
        let page: Vec<&str> = all[start..].iter().take(n).copied().collect();
        tag_page(&page, None)
    })
    .await;
    // "d!" is not a valid tag: skipped, but the next page still starts
    // after it.
    for (n, requests) in [(2, 3), (5, 2), (4, 2), (9, 1)] {
        let c = client(
            &s,
            Credentials::Anonymous,
            ClientOptions {
                tag_page_size: Some(n),
                ..options()
            },
        );
        assert_eq!(
            c.list_tags("charts/app").await.unwrap(),
            vec!["a", "b", "c", "e"],
            "n={n}"
        );
        assert_eq!(
            c.counters().snapshot().get("tags GET"),
            Some(&requests),
            "n={n}"
        );
    }
}

#[tokio::test]
async fn hostile_tag_pagination() {
    let attacker = Server::start(|_| tag_page(&["evil"], None)).await;
    let other = format!(
        "<http://{}/v2/charts/app/tags/list>; rel=\"next\"",
        attacker.host()
    );
    let s = Server::start(move |_| tag_page(&["a"], Some(other.clone()))).await;
    let c = client(&s, basic(), options());
    let err = c.list_tags("charts/app").await.unwrap_err();
    assert!(matches!(err, Error::Pagination { .. }), "{err}");
    assert!(attacker.seen().is_empty());

    let s =
        Server::start(|req| tag_page(&["a"], Some(format!("<{}>; rel=next", req.target)))).await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c.list_tags("charts/app").await.unwrap_err();
    assert!(matches!(err, Error::Pagination { .. }), "{err}");
    assert!(err.to_string().contains("already read"), "{err}");
    assert_eq!(s.seen().len(), 1);

    // Endless distinct pages stop at max_pages.
    let s =
        Server::start(|req| tag_page(&["a"], Some(format!("<{}x>; rel=next", req.target)))).await;
    let c = client(
        &s,
        Credentials::Anonymous,
        ClientOptions {
            max_pages: 7,
            ..options()
        },
    );
    let err = c.list_tags("charts/app").await.unwrap_err();
    assert!(matches!(err, Error::Pagination { .. }), "{err}");
    assert_eq!(c.counters().snapshot().get("tags GET"), Some(&7));
}

// ---------------------------------------------------------------------------
// Error answers

#[tokio::test]
async fn giant_error_bodies_are_cut_and_rate_limits_reported() {
    let s = Server::start(|_| Reply::Endless {
        status: 404,
        headers: vec![],
    })
    .await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c.fetch_manifest("charts/app", "1.0.0").await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(err.to_string().len() < 1000);

    let s = Server::start(|_| reply(500, &[], vec![b'e'; 10 * 1024 * 1024])).await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c.fetch_manifest("charts/app", "1.0.0").await.unwrap_err();
    assert!(matches!(err, Error::Registry { status: 500, .. }), "{err}");
    assert!(err.is_retryable());

    let s = Server::start(|req| {
        let after = if req.path().contains("long") {
            "999999"
        } else {
            "7"
        };
        reply(
            429,
            &[("Retry-After", after)],
            r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#,
        )
    })
    .await;
    let c = client(
        &s,
        Credentials::Anonymous,
        ClientOptions {
            max_retry_after: Duration::from_secs(60),
            ..options()
        },
    );
    let err = c.list_tags("charts/app").await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.is_retryable());
    let err = c.list_tags("charts/long").await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
}

#[tokio::test]
async fn connection_cut_mid_blob() {
    let desc = descriptor(HELM_CHART_LAYER, &[b'x'; 1000]);
    let s = Server::start(|_| Reply::Cut {
        prefix: vec![b'x'; 100],
        length: 1000,
    })
    .await;
    let c = client(&s, Credentials::Anonymous, options());
    let err = c
        .fetch_blob_to_vec("charts/app", &desc, 4096)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn slow_bodies_time_out() {
    let manifest = helm_manifest(&descriptor(HELM_CHART_LAYER, b"chart"));
    let desc = descriptor(HELM_CHART_LAYER, &[b'x'; 1000]);
    let s = Server::start(move |req| Reply::Stall {
        status: 200,
        headers: vec![("Content-Type".into(), OCI_MANIFEST.into())],
        prefix: if req.path().contains("/blobs/") {
            vec![b'x'; 10]
        } else {
            manifest[..10].to_vec()
        },
        length: if req.path().contains("/blobs/") {
            1000
        } else {
            manifest.len()
        },
    })
    .await;
    let c = client(
        &s,
        Credentials::Anonymous,
        ClientOptions {
            timeout: Duration::from_secs(1),
            ..options()
        },
    );
    let started = std::time::Instant::now();
    let err = c.fetch_manifest("charts/app", "1.0.0").await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(err.is_retryable());
    let mut out = Vec::new();
    let err = c
        .fetch_blob("charts/app", &desc, &mut out)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

// ---------------------------------------------------------------------------
// Referrers

#[tokio::test]
async fn referrers_fallback_signals_and_client_side_filter() {
    let subject = Digest::sha256_of(b"subject");
    for (status, ct) in [
        (404, "application/json"),
        (200, "application/json"),
        (415, "application/json"),
    ] {
        let s = Server::start(move |_| reply(status, &[("Content-Type", ct)], "{}")).await;
        let c = client(&s, Credentials::Anonymous, options());
        let err = c.referrers("charts/app", &subject, None).await.unwrap_err();
        assert!(
            matches!(err, Error::Unsupported { .. }),
            "{status} {ct}: {err}"
        );
    }

    let mut a = descriptor(OCI_MANIFEST, b"a");
    a.artifact_type = Some("application/vnd.dev.sigstore.bundle.v0.3+json".into());
    let mut b = descriptor(OCI_MANIFEST, b"b");
    b.artifact_type = Some("application/vnd.other".into());
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [a, b]
    }))
    .unwrap();
    for (filtered_header, expected) in [(false, 1), (true, 2)] {
        let body = index.clone();
        let s = Server::start(move |req| {
            assert!(
                req.target
                    .contains("artifactType=application%2Fvnd.dev.sigstore"),
                "{}",
                req.target
            );
            let mut headers = vec![("Content-Type", OCI_INDEX)];
            if filtered_header {
                // The server claims it filtered (it did not): the client trusts it.
                headers.push(("OCI-Filters-Applied", "artifactType"));
            }
            reply(200, &headers, body.clone())
        })
        .await;
        let c = client(&s, Credentials::Anonymous, options());
        let got = c
            .referrers(
                "charts/app",
                &subject,
                Some("application/vnd.dev.sigstore.bundle.v0.3+json"),
            )
            .await
            .unwrap();
        assert_eq!(got.len(), expected);
    }
}

// ---------------------------------------------------------------------------
// TLS material for the HTTPS server.

fn tls_acceptor() -> (tokio_rustls::TlsAcceptor, Vec<u8>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, SanType};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    (
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        ca.pem().into_bytes(),
    )
}
