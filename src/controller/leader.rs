//! Leader election on a `coordination.k8s.io/v1` Lease, so that only one of
//! several `berth controller` processes reconciles.
//!
//! The protocol is client-go's `leaderelection` on a Lease lock, written
//! here on `Api<Lease>` (kube has none):
//!
//! - A candidate reads the Lease. It may take it when nobody holds it
//!   (`holderIdentity` empty or absent), when it already holds it, or when
//!   the record has not changed for `leaseDurationSeconds` *as measured by
//!   the candidate's own clock* since it first saw that record. Comparing
//!   `renewTime` with the local wall clock would trust two machines'
//!   clocks to agree; watching the record change does not.
//! - Every write is a `replace` carrying the `resourceVersion` that was
//!   read, so two candidates racing for an expired Lease cannot both win:
//!   the API server answers the second with 409 Conflict.
//! - Taking the Lease from another holder (or from nobody) sets
//!   `acquireTime` and increments `leaseTransitions`; renewing keeps both
//!   and moves `renewTime`.
//! - The leader renews every `retry_period`. When no renewal has succeeded
//!   for `renew_deadline` (or the Lease shows another holder) leadership is
//!   lost: the controllers are told to stop and the process exits non-zero
//!   (as controller-runtime does) so that Kubernetes restarts it as a
//!   standby. `renew_deadline < lease_duration` leaves the old leader
//!   `lease_duration - renew_deadline` to stop before anyone else may take
//!   over.
//! - On a graceful shutdown the leader stops reconciling, lets in-flight
//!   reconciles finish, then releases the Lease (`holderIdentity` cleared,
//!   `leaseDurationSeconds: 1`, `renewTime` now) so a standby takes over at
//!   once instead of waiting for the lease to expire.
//!
//! Probes: `/healthz` and `/readyz` answer "ok" on standbys too, as in
//! controller-runtime. A standby is healthy and ready to take over; if
//! readiness waited for leadership, a rolling update would deadlock (the
//! new pod cannot lead until the old one is gone, and the old one is not
//! removed until the new one is Ready). Whether a process leads is the
//! gauge `berth_leader_election_status` on `/metrics` and the Lease's
//! `holderIdentity`.
//!
//! The decision logic ([`decide`], [`LeaseRecord::taken_by`],
//! [`LeaseRecord::released`]) is pure and tested alone.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};

/// The Lease name used without `--leader-election-id`.
pub const DEFAULT_LEASE_NAME: &str = "berth-leader";

/// Why leader election could not start, or why leadership ended.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("invalid leader election settings: {0}")]
    Settings(String),
    #[error("failed to read Lease {lease}: {source}")]
    Read {
        lease: String,
        #[source]
        source: kube::Error,
    },
    #[error("failed to create Lease {lease}: {source}")]
    Create {
        lease: String,
        #[source]
        source: kube::Error,
    },
    #[error("failed to update Lease {lease}: {source}")]
    Update {
        lease: String,
        #[source]
        source: kube::Error,
    },
    #[error("timed out after {0:?} talking to the API server about the Lease")]
    Timeout(Duration),
    #[error("lost the leadership of Lease {lease}: {reason}")]
    Lost { lease: String, reason: String },
}

/// The settings of an election (the `--leader-election-*` flags).
#[derive(Clone, Debug)]
pub struct ElectionConfig {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// Who this process is; written to `holderIdentity`. Unique per process
    /// (a restarted container with the same identity resumes its lease).
    pub identity: String,
    /// How long a standby waits, after the Lease last changed, before it
    /// takes the Lease over.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up.
    pub renew_deadline: Duration,
    /// The pause between attempts to acquire or renew.
    pub retry_period: Duration,
}

impl ElectionConfig {
    /// client-go's constraints: `lease_duration > renew_deadline >
    /// 1.2 * retry_period`, all positive, whole seconds for the lease
    /// (`leaseDurationSeconds` is an integer).
    pub fn validate(&self) -> Result<(), LeaderError> {
        let bad = |m: String| Err(LeaderError::Settings(m));
        if self.namespace.is_empty() || self.name.is_empty() {
            return bad("the Lease namespace and name must not be empty".into());
        }
        if self.identity.is_empty() {
            return bad("the identity must not be empty".into());
        }
        if self.retry_period.is_zero() {
            return bad("the retry period must be positive".into());
        }
        if self.lease_duration < Duration::from_secs(1)
            || self.lease_duration.as_secs() > i32::MAX as u64
        {
            return bad(format!(
                "the lease duration {:?} must be at least 1s",
                self.lease_duration
            ));
        }
        if self.lease_duration <= self.renew_deadline {
            return bad(format!(
                "the lease duration {:?} must be longer than the renew deadline {:?}",
                self.lease_duration, self.renew_deadline
            ));
        }
        if self.renew_deadline.as_secs_f64() <= 1.2 * self.retry_period.as_secs_f64() {
            return bad(format!(
                "the renew deadline {:?} must be longer than 1.2 times the retry period {:?}",
                self.renew_deadline, self.retry_period
            ));
        }
        Ok(())
    }

    fn lease_key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// The Lease name for a controller watching `label_selector`: shards (one
/// controller per selector) each elect their own leader, so the default
/// name gets a short hash of the selector (as Flux's controllers do).
pub fn default_lease_name(label_selector: Option<&str>) -> String {
    use sha2::{Digest as _, Sha256};
    match label_selector.map(str::trim).filter(|s| !s.is_empty()) {
        None => DEFAULT_LEASE_NAME.to_string(),
        Some(selector) => {
            let digest = Sha256::digest(selector.as_bytes());
            let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
            format!("{DEFAULT_LEASE_NAME}-{hex}")
        }
    }
}

/// This process' identity: `$POD_NAME` in a pod (stable across container
/// restarts, so a restarted leader resumes at once), else the host name
/// with a random suffix (two processes on one host differ).
pub fn default_identity() -> String {
    if let Some(pod) = std::env::var("POD_NAME").ok().filter(|s| !s.is_empty()) {
        return pod;
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "berth".to_string());
    format!("{host}_{}", random_suffix())
}

/// Eight hex digits from the kernel's random source (or, failing that,
/// the clock and the process id: uniqueness, not secrecy, is the point).
fn random_suffix() -> String {
    use std::io::Read as _;
    let mut bytes = [0u8; 4];
    let from_kernel = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !from_kernel {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        bytes = (nanos ^ std::process::id().rotate_left(16)).to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The leader-election fields of a Lease, as the candidate reasons about
/// them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRecord {
    /// Empty when nobody holds the Lease.
    pub holder: String,
    pub lease_duration: Duration,
    pub acquire_time: Option<jiff::Timestamp>,
    pub renew_time: Option<jiff::Timestamp>,
    pub transitions: i32,
}

impl LeaseRecord {
    fn from_spec(spec: Option<&LeaseSpec>) -> Self {
        let spec = spec.cloned().unwrap_or_default();
        LeaseRecord {
            holder: spec.holder_identity.unwrap_or_default(),
            lease_duration: Duration::from_secs(
                u64::try_from(spec.lease_duration_seconds.unwrap_or(0)).unwrap_or(0),
            ),
            acquire_time: spec.acquire_time.map(|t| t.0),
            renew_time: spec.renew_time.map(|t| t.0),
            transitions: spec.lease_transitions.unwrap_or(0),
        }
    }

    /// Writes the record into `spec`, leaving its other fields (strategy,
    /// preferredHolder) as they were.
    fn write_to(&self, spec: &mut LeaseSpec) {
        spec.holder_identity = (!self.holder.is_empty()).then(|| self.holder.clone());
        spec.lease_duration_seconds =
            Some(i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX));
        spec.acquire_time = self.acquire_time.map(MicroTime);
        spec.renew_time = self.renew_time.map(MicroTime);
        spec.lease_transitions = Some(self.transitions);
    }

    /// The record after `identity` acquires or renews it at `now`. `None`
    /// is a Lease that does not exist yet.
    pub fn taken_by(
        old: Option<&LeaseRecord>,
        identity: &str,
        lease_duration: Duration,
        now: jiff::Timestamp,
    ) -> LeaseRecord {
        match old {
            Some(old) if old.holder == identity => LeaseRecord {
                holder: identity.to_string(),
                lease_duration,
                acquire_time: old.acquire_time.or(Some(now)),
                renew_time: Some(now),
                transitions: old.transitions,
            },
            Some(old) => LeaseRecord {
                holder: identity.to_string(),
                lease_duration,
                acquire_time: Some(now),
                renew_time: Some(now),
                transitions: old.transitions.saturating_add(1),
            },
            None => LeaseRecord {
                holder: identity.to_string(),
                lease_duration,
                acquire_time: Some(now),
                renew_time: Some(now),
                transitions: 0,
            },
        }
    }

    /// The record after its holder gives it up at `now`: no holder, a
    /// one-second lease, the transitions kept (client-go's release).
    pub fn released(&self, now: jiff::Timestamp) -> LeaseRecord {
        LeaseRecord {
            holder: String::new(),
            lease_duration: Duration::from_secs(1),
            acquire_time: Some(now),
            renew_time: Some(now),
            transitions: self.transitions,
        }
    }
}

/// What a candidate should do about the Lease it just read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// It holds the Lease: renew it.
    Renew,
    /// Nobody holds it, or its holder let it expire: take it.
    Acquire,
    /// Another candidate holds it and has not let it expire.
    Wait {
        holder: String,
        expires_in: Duration,
    },
}

/// The decision for `identity` about `record`, which has looked exactly
/// like this to the candidate for `unchanged_for` (its own monotonic
/// clock, never the record's timestamps).
pub fn decide(record: &LeaseRecord, identity: &str, unchanged_for: Duration) -> Decision {
    if record.holder == identity {
        return Decision::Renew;
    }
    if record.holder.is_empty() || unchanged_for >= record.lease_duration {
        return Decision::Acquire;
    }
    Decision::Wait {
        holder: record.holder.clone(),
        expires_in: record.lease_duration - unchanged_for,
    }
}

/// Whether this process leads, rendered as the gauge
/// `berth_leader_election_status{lease="<namespace>/<name>"}` (1 leading,
/// 0 standing by), like controller-runtime's
/// `leader_election_master_status`.
#[derive(Clone, Debug)]
pub struct LeaderStatus {
    lease: String,
    leading: Arc<AtomicBool>,
}

impl LeaderStatus {
    pub fn is_leading(&self) -> bool {
        self.leading.load(Ordering::SeqCst)
    }

    /// The gauge in Prometheus' text format. Lease namespaces and names
    /// are DNS labels, which need no escaping.
    pub fn render_prometheus(&self) -> String {
        format!(
            "# HELP berth_leader_election_status Whether this process holds the leader-election Lease (1) or stands by (0).\n\
             # TYPE berth_leader_election_status gauge\n\
             berth_leader_election_status{{lease=\"{}\"}} {}\n",
            self.lease,
            u8::from(self.is_leading())
        )
    }
}

/// The result of one attempt to acquire or renew.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Attempt {
    /// We hold the Lease (acquired or renewed just now).
    Leading,
    /// Another candidate holds it and has not let it expire.
    HeldBy(String),
    /// Someone else wrote the Lease between our read and our write; try
    /// again after the retry period.
    Raced,
}

/// One candidate in an election.
pub struct Elector {
    api: Api<Lease>,
    config: ElectionConfig,
    /// The record as last read or written, and when (local clock) it was
    /// first seen in that state.
    observed: Option<(LeaseRecord, Instant)>,
    leading: Arc<AtomicBool>,
}

impl Elector {
    pub fn new(client: kube::Client, config: ElectionConfig) -> Result<Self, LeaderError> {
        config.validate()?;
        Ok(Elector {
            api: Api::namespaced(client, &config.namespace),
            config,
            observed: None,
            leading: Arc::new(AtomicBool::new(false)),
        })
    }

    pub fn config(&self) -> &ElectionConfig {
        &self.config
    }

    /// Whether this process holds the Lease, for `/metrics`.
    pub fn status(&self) -> LeaderStatus {
        LeaderStatus {
            lease: self.config.lease_key(),
            leading: self.leading.clone(),
        }
    }

    fn observe(&mut self, record: &LeaseRecord) -> Duration {
        match &self.observed {
            Some((seen, at)) if seen == record => at.elapsed(),
            _ => {
                self.observed = Some((record.clone(), Instant::now()));
                Duration::ZERO
            }
        }
    }

    async fn try_acquire_or_renew(&mut self) -> Result<Attempt, LeaderError> {
        let lease_key = self.config.lease_key();
        let now = jiff::Timestamp::now();
        let current = self
            .api
            .get_opt(&self.config.name)
            .await
            .map_err(|source| LeaderError::Read {
                lease: lease_key.clone(),
                source,
            })?;
        let Some(mut lease) = current else {
            let record =
                LeaseRecord::taken_by(None, &self.config.identity, self.config.lease_duration, now);
            let mut spec = LeaseSpec::default();
            record.write_to(&mut spec);
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.name.clone()),
                    namespace: Some(self.config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(spec),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => {
                    self.observed = Some((record, Instant::now()));
                    Ok(Attempt::Leading)
                }
                Err(kube::Error::Api(s)) if s.is_already_exists() => Ok(Attempt::Raced),
                Err(source) => Err(LeaderError::Create {
                    lease: lease_key,
                    source,
                }),
            };
        };
        let record = LeaseRecord::from_spec(lease.spec.as_ref());
        let unchanged_for = self.observe(&record);
        match decide(&record, &self.config.identity, unchanged_for) {
            Decision::Wait { holder, .. } => return Ok(Attempt::HeldBy(holder)),
            Decision::Renew | Decision::Acquire => {}
        }
        let next = LeaseRecord::taken_by(
            Some(&record),
            &self.config.identity,
            self.config.lease_duration,
            now,
        );
        next.write_to(lease.spec.get_or_insert_with(LeaseSpec::default));
        // `lease` carries the resourceVersion we read: a concurrent writer
        // makes this a 409 Conflict instead of a second leader.
        match self
            .api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => {
                if record.holder != self.config.identity {
                    tracing::info!(
                        lease = %lease_key,
                        identity = %self.config.identity,
                        previous = %record.holder,
                        transitions = next.transitions,
                        "acquired the leader lease"
                    );
                }
                self.observed = Some((next, Instant::now()));
                Ok(Attempt::Leading)
            }
            Err(kube::Error::Api(s)) if s.is_conflict() => Ok(Attempt::Raced),
            Err(source) => Err(LeaderError::Update {
                lease: lease_key,
                source,
            }),
        }
    }

    /// One attempt, bounded by `limit`.
    async fn attempt(&mut self, limit: Duration) -> Result<Attempt, LeaderError> {
        match tokio::time::timeout(limit, self.try_acquire_or_renew()).await {
            Ok(result) => result,
            Err(_) => Err(LeaderError::Timeout(limit)),
        }
    }

    /// Wait until this candidate holds the Lease (`true`) or `shutdown`
    /// resolves first (`false`). Errors talking to the API server are
    /// logged and retried: a standby keeps trying.
    pub async fn acquire(&mut self, shutdown: impl Future<Output = ()>) -> bool {
        let lease = self.config.lease_key();
        tracing::info!(
            lease = %lease,
            identity = %self.config.identity,
            "waiting to acquire the leader lease"
        );
        let mut shutdown = std::pin::pin!(shutdown.fuse());
        let mut last_holder = String::new();
        loop {
            let attempt = tokio::select! {
                biased;
                () = &mut shutdown => return false,
                a = self.attempt(self.config.renew_deadline) => a,
            };
            match attempt {
                Ok(Attempt::Leading) => {
                    self.leading.store(true, Ordering::SeqCst);
                    return true;
                }
                Ok(Attempt::HeldBy(holder)) => {
                    if holder != last_holder {
                        tracing::info!(lease = %lease, %holder, "the leader lease is held by another process; standing by");
                        last_holder = holder;
                    }
                }
                Ok(Attempt::Raced) => {
                    tracing::debug!(lease = %lease, "another process wrote the lease first")
                }
                Err(e) => {
                    tracing::warn!(lease = %lease, error = %e, "failed to acquire the leader lease")
                }
            }
            let pause = self.config.retry_period + super::jitter(self.config.retry_period, 20);
            tokio::select! {
                biased;
                () = &mut shutdown => return false,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Renew the Lease every retry period for as long as that succeeds;
    /// returns only when leadership is lost.
    pub async fn hold(&mut self) -> LeaderError {
        let lease = self.config.lease_key();
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(self.config.retry_period).await;
            let left = self.config.renew_deadline.saturating_sub(renewed.elapsed());
            let attempt = self.attempt(left.max(Duration::from_millis(100))).await;
            match attempt {
                Ok(Attempt::Leading) => {
                    renewed = Instant::now();
                    continue;
                }
                Ok(Attempt::HeldBy(holder)) => {
                    self.leading.store(false, Ordering::SeqCst);
                    return LeaderError::Lost {
                        lease,
                        reason: format!("the lease is now held by {holder}"),
                    };
                }
                Ok(Attempt::Raced) => {
                    tracing::warn!(lease = %lease, "the leader lease changed under its renewal")
                }
                Err(e) => {
                    tracing::warn!(lease = %lease, error = %e, "failed to renew the leader lease")
                }
            }
            if renewed.elapsed() >= self.config.renew_deadline {
                self.leading.store(false, Ordering::SeqCst);
                return LeaderError::Lost {
                    lease,
                    reason: format!(
                        "not renewed for {:?} (the renew deadline)",
                        self.config.renew_deadline
                    ),
                };
            }
        }
    }

    /// Give up the Lease if this candidate still holds it, so a standby
    /// takes over without waiting for it to expire.
    pub async fn release(&mut self) -> Result<(), LeaderError> {
        self.leading.store(false, Ordering::SeqCst);
        let lease_key = self.config.lease_key();
        let Some(mut lease) = self
            .api
            .get_opt(&self.config.name)
            .await
            .map_err(|source| LeaderError::Read {
                lease: lease_key.clone(),
                source,
            })?
        else {
            return Ok(());
        };
        let record = LeaseRecord::from_spec(lease.spec.as_ref());
        if record.holder != self.config.identity {
            return Ok(());
        }
        record
            .released(jiff::Timestamp::now())
            .write_to(lease.spec.get_or_insert_with(LeaseSpec::default));
        self.api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
            .map_err(|source| LeaderError::Update {
                lease: lease_key.clone(),
                source,
            })?;
        tracing::info!(lease = %lease_key, "released the leader lease");
        Ok(())
    }
}

/// Run `lead` only while this process holds the Lease.
///
/// Waits for the Lease (returning `Ok` if `shutdown` comes first), then
/// calls `lead` with a future that resolves on `shutdown` or when
/// leadership is lost, and keeps renewing while it runs. After a
/// shutdown, `lead` finishes its in-flight work, then the Lease is
/// released. After a loss, `lead` gets `lease_duration - renew_deadline`
/// to stop and `Err(Lost)` is returned: the caller should exit non-zero.
pub async fn run_leading<S, L, F>(
    mut elector: Elector,
    shutdown: S,
    lead: L,
) -> Result<(), LeaderError>
where
    S: Future<Output = ()> + Clone + Send + Unpin + 'static,
    L: FnOnce(futures::future::BoxFuture<'static, ()>) -> F,
    F: Future<Output = ()>,
{
    if !elector.acquire(shutdown.clone()).await {
        tracing::info!("shut down while standing by");
        return Ok(());
    }
    let (lost_tx, lost_rx) = tokio::sync::oneshot::channel::<()>();
    let stop = futures::future::select(shutdown, lost_rx)
        .map(|_| ())
        .boxed();
    let mut lead = std::pin::pin!(lead(stop));
    let lost = tokio::select! {
        () = &mut lead => None,
        e = elector.hold() => Some(e),
    };
    match lost {
        None => {
            let limit = elector.config.renew_deadline;
            match tokio::time::timeout(limit, elector.release()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "failed to release the leader lease"),
                Err(_) => tracing::warn!("timed out releasing the leader lease"),
            }
            Ok(())
        }
        Some(e) => {
            tracing::error!(error = %e, "leader election lost; stopping the controllers");
            let _ = lost_tx.send(());
            let grace = elector
                .config
                .lease_duration
                .saturating_sub(elector.config.renew_deadline);
            if tokio::time::timeout(grace, lead).await.is_err() {
                tracing::error!(
                    ?grace,
                    "the controllers did not stop before another leader may start"
                );
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(secs: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn held_by(holder: &str) -> LeaseRecord {
        LeaseRecord {
            holder: holder.to_string(),
            lease_duration: Duration::from_secs(15),
            acquire_time: Some(ts(0)),
            renew_time: Some(ts(10)),
            transitions: 3,
        }
    }

    #[test]
    fn ours_is_renewed_even_if_unchanged_for_long() {
        let r = held_by("me");
        assert_eq!(decide(&r, "me", Duration::ZERO), Decision::Renew);
        assert_eq!(decide(&r, "me", Duration::from_secs(60)), Decision::Renew);
    }

    #[test]
    fn held_by_another_waits_until_it_expires() {
        let r = held_by("other");
        assert_eq!(
            decide(&r, "me", Duration::from_secs(4)),
            Decision::Wait {
                holder: "other".into(),
                expires_in: Duration::from_secs(11)
            }
        );
        assert!(matches!(
            decide(&r, "me", Duration::from_millis(14_999)),
            Decision::Wait { .. }
        ));
        // Expired: unchanged for the whole lease duration.
        assert_eq!(decide(&r, "me", Duration::from_secs(15)), Decision::Acquire);
        assert_eq!(decide(&r, "me", Duration::from_secs(90)), Decision::Acquire);
    }

    #[test]
    fn a_released_lease_is_free_at_once() {
        let r = held_by("other").released(ts(20));
        assert_eq!(r.holder, "");
        assert_eq!(r.lease_duration, Duration::from_secs(1));
        assert_eq!(r.transitions, 3);
        assert_eq!(decide(&r, "me", Duration::ZERO), Decision::Acquire);
    }

    #[test]
    fn taking_from_another_counts_a_transition() {
        let old = held_by("other");
        let new = LeaseRecord::taken_by(Some(&old), "me", Duration::from_secs(4), ts(30));
        assert_eq!(new.holder, "me");
        assert_eq!(new.transitions, 4);
        assert_eq!(new.acquire_time, Some(ts(30)));
        assert_eq!(new.renew_time, Some(ts(30)));
        assert_eq!(new.lease_duration, Duration::from_secs(4));
    }

    #[test]
    fn renewing_keeps_acquire_time_and_transitions() {
        let old = held_by("me");
        let new = LeaseRecord::taken_by(Some(&old), "me", Duration::from_secs(15), ts(40));
        assert_eq!(new.acquire_time, Some(ts(0)));
        assert_eq!(new.renew_time, Some(ts(40)));
        assert_eq!(new.transitions, 3);
    }

    #[test]
    fn taking_a_released_lease_counts_a_transition_and_a_new_lease_none() {
        let released = held_by("other").released(ts(20));
        let new = LeaseRecord::taken_by(Some(&released), "me", Duration::from_secs(15), ts(21));
        assert_eq!(new.transitions, 4);
        let created = LeaseRecord::taken_by(None, "me", Duration::from_secs(15), ts(0));
        assert_eq!(created.transitions, 0);
        assert_eq!(created.holder, "me");
    }

    #[test]
    fn record_round_trips_through_the_lease_spec() {
        let r = held_by("me");
        let mut spec = LeaseSpec {
            strategy: Some("OldestEmulationVersion".into()),
            ..LeaseSpec::default()
        };
        r.write_to(&mut spec);
        assert_eq!(spec.holder_identity.as_deref(), Some("me"));
        assert_eq!(spec.lease_duration_seconds, Some(15));
        assert_eq!(spec.strategy.as_deref(), Some("OldestEmulationVersion"));
        assert_eq!(LeaseRecord::from_spec(Some(&spec)), r);
        // A released record clears holderIdentity.
        r.released(ts(50)).write_to(&mut spec);
        assert_eq!(spec.holder_identity, None);
        assert_eq!(LeaseRecord::from_spec(None).holder, "");
    }

    #[test]
    fn settings_follow_client_go_constraints() {
        let ok = ElectionConfig {
            namespace: "ns".into(),
            name: "berth-leader".into(),
            identity: "me".into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        };
        assert!(ok.validate().is_ok());
        let with = |f: fn(&mut ElectionConfig)| {
            let mut c = ok.clone();
            f(&mut c);
            c.validate()
        };
        assert!(with(|c| c.renew_deadline = Duration::from_secs(15)).is_err());
        assert!(with(|c| c.retry_period = Duration::from_secs(9)).is_err());
        assert!(with(|c| c.retry_period = Duration::ZERO).is_err());
        assert!(with(|c| c.lease_duration = Duration::from_millis(500)).is_err());
        assert!(with(|c| c.identity.clear()).is_err());
    }

    #[test]
    fn shards_get_their_own_lease() {
        assert_eq!(default_lease_name(None), "berth-leader");
        assert_eq!(default_lease_name(Some("  ")), "berth-leader");
        let a = default_lease_name(Some("shard=a"));
        let b = default_lease_name(Some("shard=b"));
        assert!(a.starts_with("berth-leader-") && a.len() == "berth-leader-".len() + 8);
        assert_ne!(a, b);
        assert_eq!(a, default_lease_name(Some("shard=a")));
    }

    #[test]
    fn identities_differ_without_a_pod_name() {
        if std::env::var_os("POD_NAME").is_none() {
            assert_ne!(default_identity(), default_identity());
        }
    }
}
