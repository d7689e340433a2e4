//! The controller's HTTP endpoint: `/metrics` (Prometheus text format) and
//! the probes `/healthz` and `/readyz`, on `--metrics-addr`.
//!
//! Two sources of metrics are served: the [`Render`] given to [`bind`]
//! (the Cosign verifier's `berth_verify_total{result}` and
//! `berth_verify_duration_seconds`), and the controllers' shared
//! [`Registry`] (reconcile, registry pull, artifact store, release and
//! stall series), rendered after it.
//!
//! Labels are bounded: `kind` is `OCIRepository` or `HelmRelease`,
//! `result` one of [`RESULTS`], `repository` a source's URL without tag
//! (one series per repository in use), `status` a Helm release status.
//!
//! [`instrumented`] wraps a controller's reconcile function: it runs each
//! pass in a `reconcile` span carrying `kind`, `namespace` and `object`
//! (the name: the JSON formatter prints the span's own name under `name`,
//! which would hide a field of that name), and times it.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use futures::future::BoxFuture;
use kube::runtime::controller::Action;
use tracing::Instrument as _;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::api::conditions::{find, reasons, types};
use crate::api::helm_release::{HelmRelease, HelmReleaseStatus};
use crate::api::oci_repository::{OCIRepository, OCIRepositoryStatus};

/// Renders every metric in Prometheus' text exposition format.
pub type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// Why the endpoint could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot listen on {addr} for metrics: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("metrics endpoint failed: {0}")]
    Serve(#[source] std::io::Error),
}

fn router(render: Render) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let render = render.clone();
                async move {
                    (
                        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                        render() + &Registry::global().render(),
                    )
                }
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }))
}

/// Bind `addr` (port 0 picks a free port) and return the bound address
/// with the serving future, which ends when `shutdown` resolves.
pub async fn bind(
    addr: SocketAddr,
    render: Render,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, impl Future<Output = Result<(), MetricsError>>), MetricsError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| MetricsError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| MetricsError::Bind { addr, source })?;
    let serve = async move {
        axum::serve(listener, router(render))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(MetricsError::Serve)
    };
    Ok((bound, serve))
}

/// The values of [`RESULTS`]: how a reconcile pass ended, read from the
/// conditions it wrote.
pub const RESULTS: [&str; 5] = ["success", "failure", "stalled", "waiting", "error"];

/// Upper bounds of the duration histograms' buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

#[derive(Clone, Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, n) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if secs <= *bound {
                *n += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, n) in BUCKETS.iter().zip(self.counts.iter()) {
            out.push_str(&format!(
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {n}\n"
            ));
        }
        out.push_str(&format!(
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}\n",
            self.count
        ));
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        out.push_str(&format!("{name}_sum{braces} {}\n", self.sum));
        out.push_str(&format!("{name}_count{braces} {}\n", self.count));
    }
}

/// What the last pass of one object left: the gauges count these.
#[derive(Clone, Debug, Default)]
struct ObjectState {
    stalled: bool,
    /// HelmReleases: the Helm status of the newest release.
    release_status: Option<String>,
}

#[derive(Default)]
struct Inner {
    reconcile: BTreeMap<(&'static str, &'static str), Histogram>,
    pulls: BTreeMap<String, Histogram>,
    pull_failures: BTreeMap<String, u64>,
    objects: BTreeMap<(&'static str, String), ObjectState>,
    /// The result the running pass of an object wrote, taken when the pass
    /// ends (kube-runtime never runs two passes of one object at once).
    pending: HashMap<(&'static str, String), &'static str>,
    store_bytes: u64,
}

/// The controllers' metrics, shared through the `Context`.
#[derive(Default)]
pub struct Registry {
    inner: Mutex<Inner>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A source URL as the `repository` label: without a tag or digest.
pub fn repository_label(url: &str) -> &str {
    let url = url.split('@').next().unwrap_or(url);
    match url.rfind(':') {
        Some(i) if i > url.rfind('/').unwrap_or(0) => &url[..i],
        _ => url,
    }
}

/// The result a pass wrote: Ready=True is a success, Stalled=True a
/// stall, waiting on a dependency or a source "waiting", anything else
/// (Ready False or Unknown, a retry planned) a failure.
pub fn result_of(conditions: &[Condition]) -> &'static str {
    if find(conditions, types::STALLED).is_some_and(|c| c.status == "True") {
        return "stalled";
    }
    match find(conditions, types::READY) {
        Some(c) if c.status == "True" => "success",
        Some(c)
            if c.reason == reasons::DEPENDENCY_NOT_READY
                || c.reason == reasons::ARTIFACT_NOT_READY =>
        {
            "waiting"
        }
        _ => "failure",
    }
}

impl Registry {
    /// The process' registry: `/metrics` renders it.
    pub fn global() -> Arc<Registry> {
        static GLOBAL: OnceLock<Arc<Registry>> = OnceLock::new();
        GLOBAL.get_or_init(|| Arc::new(Registry::default())).clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn observe(
        &self,
        kind: &'static str,
        key: String,
        conditions: &[Condition],
        release_status: Option<String>,
    ) {
        let result = result_of(conditions);
        let mut inner = self.lock();
        inner.pending.insert((kind, key.clone()), result);
        inner.objects.insert(
            (kind, key),
            ObjectState {
                stalled: result == "stalled",
                release_status,
            },
        );
    }

    /// The status an OCIRepository pass is about to write.
    pub fn observe_source(&self, obj: &OCIRepository, status: &OCIRepositoryStatus) {
        let key = object_key(&obj.metadata);
        self.observe("OCIRepository", key, &status.conditions, None);
    }

    /// The status a HelmRelease pass is about to write.
    pub fn observe_release(&self, hr: &HelmRelease, status: &HelmReleaseStatus) {
        let key = object_key(&hr.metadata);
        let release = status.history.first().map(|s| s.status.clone());
        self.observe("HelmRelease", key, &status.conditions, release);
    }

    /// One registry pass of a source (resolve, verify, pull); `failed`
    /// when the registry failed it.
    pub fn observe_pull(&self, url: &str, elapsed: Duration, failed: bool) {
        let repo = repository_label(url).to_string();
        let mut inner = self.lock();
        inner
            .pulls
            .entry(repo.clone())
            .or_default()
            .observe(elapsed);
        let failures = inner.pull_failures.entry(repo).or_default();
        if failed {
            *failures += 1;
        }
    }

    /// Drop the gauges' state of a deleted object.
    pub fn forget(&self, kind: &'static str, namespace: &str, name: &str) {
        let key = format!("{namespace}/{name}");
        let mut inner = self.lock();
        inner.objects.remove(&(kind, key.clone()));
        inner.pending.remove(&(kind, key));
    }

    fn begin(&self, kind: &'static str, key: &str) {
        self.lock().pending.remove(&(kind, key.to_string()));
    }

    /// A pass ended: counted under the result its status showed, or
    /// `error` when it failed outright. Passes that wrote nothing (not
    /// due yet, suspended) are not counted.
    fn end(&self, kind: &'static str, key: &str, elapsed: Duration, errored: bool) {
        let mut inner = self.lock();
        let result = match inner.pending.remove(&(kind, key.to_string())) {
            _ if errored => "error",
            Some(r) => r,
            None => return,
        };
        inner
            .reconcile
            .entry((kind, result))
            .or_default()
            .observe(elapsed);
    }

    /// The bytes the artifact store holds.
    pub fn set_store_bytes(&self, bytes: u64) {
        self.lock().store_bytes = bytes;
    }

    /// Every metric in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let inner = self.lock();
        let mut out = String::new();
        out.push_str(
            "# HELP berth_reconcile_duration_seconds Duration of reconcile passes by kind and result.\n\
             # TYPE berth_reconcile_duration_seconds histogram\n",
        );
        for ((kind, result), h) in &inner.reconcile {
            let labels = format!("kind=\"{kind}\",result=\"{result}\"");
            h.render(&mut out, "berth_reconcile_duration_seconds", &labels);
        }
        out.push_str(
            "# HELP berth_reconcile_total Reconcile passes by kind and result.\n\
             # TYPE berth_reconcile_total counter\n",
        );
        for ((kind, result), h) in &inner.reconcile {
            out.push_str(&format!(
                "berth_reconcile_total{{kind=\"{kind}\",result=\"{result}\"}} {}\n",
                h.count
            ));
        }
        out.push_str(
            "# HELP berth_registry_pull_duration_seconds Duration of a source's registry pass (resolve, verify, pull) by repository.\n\
             # TYPE berth_registry_pull_duration_seconds histogram\n",
        );
        for (repo, h) in &inner.pulls {
            let labels = format!("repository=\"{}\"", escape(repo));
            h.render(&mut out, "berth_registry_pull_duration_seconds", &labels);
        }
        out.push_str(
            "# HELP berth_registry_pull_failures_total Registry passes the registry failed, by repository.\n\
             # TYPE berth_registry_pull_failures_total counter\n",
        );
        for (repo, n) in &inner.pull_failures {
            out.push_str(&format!(
                "berth_registry_pull_failures_total{{repository=\"{}\"}} {n}\n",
                escape(repo)
            ));
        }
        out.push_str(
            "# HELP berth_artifact_size_bytes Bytes of artifacts held by the artifact store.\n\
             # TYPE berth_artifact_size_bytes gauge\n",
        );
        out.push_str(&format!(
            "berth_artifact_size_bytes {}\n",
            inner.store_bytes
        ));
        let mut releases: BTreeMap<&str, u64> = BTreeMap::new();
        let mut stalled: BTreeMap<&str, u64> =
            BTreeMap::from([("HelmRelease", 0), ("OCIRepository", 0)]);
        for ((kind, _), state) in &inner.objects {
            if state.stalled {
                *stalled.entry(kind).or_default() += 1;
            }
            if *kind == "HelmRelease" {
                let status = state.release_status.as_deref().unwrap_or("none");
                *releases.entry(status).or_default() += 1;
            }
        }
        out.push_str(
            "# HELP berth_releases HelmReleases by the Helm status of their newest release (none before the first).\n\
             # TYPE berth_releases gauge\n",
        );
        for (status, n) in releases {
            out.push_str(&format!(
                "berth_releases{{status=\"{}\"}} {n}\n",
                escape(status)
            ));
        }
        out.push_str(
            "# HELP berth_stalled_objects Objects whose last pass stalled (Stalled=True), by kind.\n\
             # TYPE berth_stalled_objects gauge\n",
        );
        for (kind, n) in stalled {
            out.push_str(&format!("berth_stalled_objects{{kind=\"{kind}\"}} {n}\n"));
        }
        out
    }
}

fn object_key(meta: &kube::api::ObjectMeta) -> String {
    format!(
        "{}/{}",
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default()
    )
}

/// Wrap a controller's reconcile function: each pass runs in a
/// `reconcile` span (`kind`, `namespace`, `object`), is timed and counted
/// in the context's registry, and updates the artifact store gauge.
pub fn instrumented<K, E, F, Fut>(
    kind: &'static str,
    mut reconcile: F,
) -> impl FnMut(Arc<K>, Arc<super::Context>) -> BoxFuture<'static, Result<Action, E>>
where
    K: kube::Resource + Send + Sync + 'static,
    E: Send + 'static,
    F: FnMut(Arc<K>, Arc<super::Context>) -> Fut,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
{
    move |obj, ctx| {
        let meta = obj.meta();
        let namespace = meta.namespace.clone().unwrap_or_default();
        let name = meta.name.clone().unwrap_or_default();
        let deleting = meta.deletion_timestamp.is_some();
        let span = tracing::info_span!("reconcile", kind, namespace = %namespace, object = %name);
        let metrics = ctx.metrics.clone();
        let store = ctx.store.clone();
        let pass = reconcile(obj, ctx);
        Box::pin(
            async move {
                let key = format!("{namespace}/{name}");
                metrics.begin(kind, &key);
                let started = Instant::now();
                let result = pass.await;
                metrics.end(kind, &key, started.elapsed(), result.is_err());
                if deleting && result.is_ok() {
                    metrics.forget(kind, &namespace, &name);
                }
                metrics.set_store_bytes(store.total_bytes());
                result
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_metrics_and_probes_over_http() {
        let verifier = Arc::new(super::super::cosign::CosignVerifier::new());
        let v = verifier.clone();
        let render: Render = Arc::new(move || v.render_prometheus());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr, serve) = bind("127.0.0.1:0".parse().unwrap(), render, async {
            let _ = stop_rx.await;
        })
        .await
        .unwrap();
        let server = tokio::spawn(serve);
        let client = reqwest::Client::new();
        let body = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap();
        assert!(body.status().is_success());
        let text = body.text().await.unwrap();
        assert!(text.contains("# TYPE berth_verify_total counter"), "{text}");
        assert!(
            text.contains("berth_verify_duration_seconds_count 0"),
            "{text}"
        );
        for probe in ["healthz", "readyz"] {
            let r = client
                .get(format!("http://{addr}/{probe}"))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{probe}");
        }
        let missing = client
            .get(format!("http://{addr}/nope"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status().as_u16(), 404);
        stop_tx.send(()).unwrap();
        server.await.unwrap().unwrap();
    }

    fn cond(type_: &str, status: &str, reason: &str) -> Condition {
        Condition {
            type_: type_.into(),
            status: status.into(),
            reason: reason.into(),
            message: String::new(),
            observed_generation: None,
            last_transition_time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            ),
        }
    }

    #[test]
    fn repository_label_drops_tag_and_digest() {
        assert_eq!(
            repository_label("oci://r.test:5000/a/b"),
            "oci://r.test:5000/a/b"
        );
        assert_eq!(
            repository_label("oci://r.test:5000/a/b:1.0"),
            "oci://r.test:5000/a/b"
        );
        assert_eq!(
            repository_label("oci://r.test/a/b@sha256:00"),
            "oci://r.test/a/b"
        );
    }

    #[test]
    fn results_from_conditions() {
        assert_eq!(result_of(&[cond("Ready", "True", "Succeeded")]), "success");
        assert_eq!(
            result_of(&[
                cond("Ready", "False", "RenderFailed"),
                cond("Stalled", "True", "RenderFailed")
            ]),
            "stalled"
        );
        assert_eq!(
            result_of(&[cond("Ready", "False", reasons::DEPENDENCY_NOT_READY)]),
            "waiting"
        );
        assert_eq!(
            result_of(&[cond("Ready", "Unknown", "Progressing")]),
            "failure"
        );
        assert_eq!(result_of(&[]), "failure");
    }

    #[test]
    fn counts_passes_pulls_and_gauges() {
        let r = Registry::default();
        // A pass that wrote no status is not counted.
        r.begin("OCIRepository", "ns/a");
        r.end("OCIRepository", "ns/a", Duration::from_millis(1), false);
        r.begin("OCIRepository", "ns/a");
        r.observe(
            "OCIRepository",
            "ns/a".into(),
            &[cond("Ready", "True", "Succeeded")],
            None,
        );
        r.end("OCIRepository", "ns/a", Duration::from_millis(300), false);
        r.begin("HelmRelease", "ns/h");
        r.observe(
            "HelmRelease",
            "ns/h".into(),
            &[cond("Stalled", "True", "RenderFailed")],
            Some("failed".into()),
        );
        r.end("HelmRelease", "ns/h", Duration::from_secs(2), false);
        r.begin("HelmRelease", "ns/g");
        r.end("HelmRelease", "ns/g", Duration::from_secs(1), true);
        r.observe_pull("oci://r.test/a/b", Duration::from_millis(40), false);
        r.observe_pull("oci://r.test/a/b", Duration::from_millis(70), true);
        r.set_store_bytes(1234);
        let text = r.render();
        for line in [
            "berth_reconcile_total{kind=\"OCIRepository\",result=\"success\"} 1\n",
            "berth_reconcile_total{kind=\"HelmRelease\",result=\"stalled\"} 1\n",
            "berth_reconcile_total{kind=\"HelmRelease\",result=\"error\"} 1\n",
            "berth_reconcile_duration_seconds_bucket{kind=\"OCIRepository\",result=\"success\",le=\"0.25\"} 0\n",
            "berth_reconcile_duration_seconds_bucket{kind=\"OCIRepository\",result=\"success\",le=\"0.5\"} 1\n",
            "berth_reconcile_duration_seconds_count{kind=\"OCIRepository\",result=\"success\"} 1\n",
            "berth_registry_pull_duration_seconds_count{repository=\"oci://r.test/a/b\"} 2\n",
            "berth_registry_pull_duration_seconds_bucket{repository=\"oci://r.test/a/b\",le=\"0.05\"} 1\n",
            "berth_registry_pull_failures_total{repository=\"oci://r.test/a/b\"} 1\n",
            "berth_artifact_size_bytes 1234\n",
            "berth_releases{status=\"failed\"} 1\n",
            "berth_stalled_objects{kind=\"HelmRelease\"} 1\n",
            "berth_stalled_objects{kind=\"OCIRepository\"} 0\n",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
        r.forget("HelmRelease", "ns", "h");
        let text = r.render();
        assert!(
            text.contains("berth_stalled_objects{kind=\"HelmRelease\"} 0\n"),
            "{text}"
        );
        assert!(!text.contains("berth_releases{"), "{text}");
    }
}
