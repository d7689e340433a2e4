//! The controller's HTTP endpoint: `/metrics` (Prometheus text format) and
//! the probes `/healthz` and `/readyz`, on `--metrics-addr`.
//!
//! The metrics are rendered by the parts that own them (today the Cosign
//! verifier's `berth_verify_total{result}` and
//! `berth_verify_duration_seconds`); this module only serves them.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;

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
                        render(),
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
}
