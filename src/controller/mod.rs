//! The controllers: one reconciler per CRD, sharing one [`Context`] (the
//! kube client, the artifact store, the event recorder, the verifier).
//!
//! [`run`] starts every controller of the binary and returns when all of
//! them have shut down. Each controller is a kube-runtime `Controller`
//! driven by its own module (`oci_repository`, `helm_release`), stopping
//! gracefully when the shutdown future resolves.

pub mod cosign;
pub mod helm_release;
pub mod leader;
pub mod metrics;
pub mod oci_repository;
pub mod verify_hook;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::runtime::events::{Recorder, Reporter};

use crate::artifact::ArtifactStore;

pub use verify_hook::{
    UnavailableVerifier, VerificationMaterial, Verifier, VerifyError, VerifyFuture, VerifyRequest,
};

/// The annotation that requests a reconcile at once (Flux's).
pub const REQUESTED_AT_ANNOTATION: &str = "reconcile.fluxcd.io/requestedAt";
/// The name berth reports events and applies status as.
pub const CONTROLLER_NAME: &str = "berth";

/// What every reconciler shares.
pub struct Context {
    pub client: kube::Client,
    pub store: Arc<ArtifactStore>,
    /// Publishes events; repeats of one (object, type, reason, action)
    /// become a series of one Event.
    pub recorder: Recorder,
    pub reporter: Reporter,
    pub verifier: Arc<dyn Verifier>,
    /// Registry clients, one per source, rebuilt when the source's
    /// registry settings (credentials, TLS, timeout) change; they keep
    /// their Bearer tokens and request counters between polls.
    pub(crate) registry_clients: Mutex<HashMap<String, (u64, Arc<berth_oci::Client>)>>,
    /// Per-object schedule: when the next registry poll is due and how
    /// many failures in a row came before it.
    pub(crate) schedules: Mutex<HashMap<String, Schedule>>,
    /// Backoff for transient failures.
    pub backoff: Backoff,
    /// How often state kept for deleted objects is dropped.
    pub gc_interval: Duration,
    /// The kube config the client was built from: HelmReleases with a
    /// `serviceAccountName` get a client impersonating it, built from
    /// this. Without one, such HelmReleases fail with a clear reason.
    pub kube_config: Option<kube::Config>,
    /// Refuse `chartRef`s to sources in another namespace
    /// (`--no-cross-namespace-refs`).
    pub no_cross_namespace_refs: bool,
    /// The ServiceAccount HelmReleases without `serviceAccountName` are
    /// applied as (`--default-service-account`).
    pub default_service_account: Option<String>,
    /// The controllers' metrics (by default the process' registry, which
    /// `/metrics` serves).
    pub metrics: Arc<metrics::Registry>,
}

#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    pub due: Instant,
    pub failures: u32,
    /// The generation and reconcile request the schedule was made for; a
    /// change of either makes the object due at once.
    pub generation: Option<i64>,
    pub requested_at: Option<String>,
}

impl Context {
    pub fn new(
        client: kube::Client,
        store: Arc<ArtifactStore>,
        verifier: Arc<dyn Verifier>,
    ) -> Self {
        let reporter = Reporter {
            controller: CONTROLLER_NAME.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        let recorder = Recorder::new(client.clone(), reporter.clone());
        Context {
            client,
            store,
            recorder,
            reporter,
            verifier,
            registry_clients: Mutex::new(HashMap::new()),
            schedules: Mutex::new(HashMap::new()),
            backoff: Backoff::default(),
            gc_interval: Duration::from_secs(30),
            kube_config: None,
            no_cross_namespace_refs: false,
            default_service_account: None,
            metrics: metrics::Registry::global(),
        }
    }

    /// The request counters of the registry client the source `owner`
    /// (`namespace/name`) currently uses, if it has one.
    pub fn registry_counters(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<berth_oci::RequestCounters>> {
        let key = oci_repository::owner_key(namespace, name);
        let clients = self
            .registry_clients
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        clients.get(&key).map(|(_, c)| c.counters())
    }
}

/// Exponential backoff for transient failures: `base * 2^(n-1)`, capped,
/// plus up to 10% jitter.
#[derive(Clone, Debug)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The delay after the `failures`-th failure in a row (1-based).
    pub fn delay(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(20);
        let d = self.base.saturating_mul(1u32 << exp).min(self.max);
        d + jitter(d, 10)
    }
}

/// Up to `percent`% of `d`, from the clock's nanoseconds (spreads requeues
/// of many objects; not for anything security related).
pub fn jitter(d: Duration, percent: u32) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    let span = d.as_millis() as u64 * u64::from(percent) / 100;
    if span == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(u64::from(nanos) % span)
}

/// Options of [`run`].
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Objects reconciled at the same time, per controller.
    pub concurrency: u16,
    /// Only objects matching this label selector are watched (sharding:
    /// several controllers, each with its own selector).
    pub label_selector: Option<String>,
}

/// Run every controller until `shutdown` resolves, then let in-flight
/// reconciles finish and return.
pub async fn run(
    ctx: Arc<Context>,
    options: RunOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    use futures::FutureExt as _;
    // One shutdown signal, cloned for every controller.
    let shutdown = shutdown.boxed().shared();
    futures::join!(
        oci_repository::run(ctx.clone(), &options, shutdown.clone()),
        helm_release::run(ctx, &options, shutdown),
    );
}

/// Publish an Event about `obj`. Normal events are news of their own
/// (a new revision, a release) and are published as new Events rather
/// than as a repeat in the series of the last one (the recorder's cache
/// ignores the note, so it would keep showing the first one).
pub async fn publish<K>(
    ctx: &Context,
    obj: &K,
    type_: kube::runtime::events::EventType,
    reason: &str,
    note: &str,
    action: &str,
) where
    K: kube::Resource<DynamicType = ()>,
{
    use kube::runtime::events::{Event, EventType};
    let mut note: String = note.chars().take(1000).collect();
    if note.is_empty() {
        note = reason.to_string();
    }
    let event = Event {
        type_,
        reason: reason.chars().take(128).collect(),
        note: Some(note),
        action: action.chars().take(128).collect(),
        secondary: None,
    };
    let result = if type_ == EventType::Normal {
        Recorder::new(ctx.client.clone(), ctx.reporter.clone())
            .publish(&event, &obj.object_ref(&()))
            .await
    } else {
        ctx.recorder.publish(&event, &obj.object_ref(&())).await
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "failed to publish an event");
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (expected a Go duration such as 30s, 5m or 1h30m)")]
pub struct DurationError {
    pub input: String,
    pub reason: &'static str,
}

/// A Go duration as Flux accepts it (`DURATION_PATTERN`): one or more
/// `<number>[.<fraction>]<unit>` with units `ms`, `s`, `m`, `h`.
pub fn parse_go_duration(input: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError {
        input: input.chars().take(100).collect(),
        reason,
    };
    if input.is_empty() {
        return Err(err("empty"));
    }
    let mut total = 0f64;
    let mut rest = input;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| err("missing unit"))?;
        if num_len == 0 {
            return Err(err("missing number"));
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| err("bad number"))?;
        rest = &rest[num_len..];
        let (unit, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else {
            return Err(err("unknown unit"));
        };
        total += number * unit;
        rest = &rest[len..];
    }
    if !total.is_finite() || total > 10.0 * 365.0 * 86400.0 {
        return Err(err("too long"));
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(
            parse_go_duration("1h30m").unwrap(),
            Duration::from_secs(5400)
        );
        assert_eq!(
            parse_go_duration("500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            parse_go_duration("1.5h").unwrap(),
            Duration::from_secs(5400)
        );
        assert_eq!(parse_go_duration("5m0s").unwrap(), Duration::from_secs(300));
        for bad in ["", "5", "m", "5d", "1.2.3s", "-1s"] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_caps() {
        let b = Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        let within = |d: Duration, lo: u64| {
            d >= Duration::from_secs(lo) && d <= Duration::from_millis(lo * 1100)
        };
        assert!(within(b.delay(1), 1));
        assert!(within(b.delay(2), 2));
        assert!(within(b.delay(4), 8));
        assert!(within(b.delay(10), 60));
        assert!(within(b.delay(u32::MAX), 60));
    }
}
