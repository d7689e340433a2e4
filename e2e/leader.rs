//! Leader election between real `berth controller` processes on one
//! Lease: exactly one reconciles; SIGKILL it and the standby takes over
//! within the lease duration; a leader that finds its Lease taken exits
//! non-zero; SIGTERM makes the leader release the Lease and exit 0.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _, Result};
use berth::api::oci_repository::OCIRepository;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, PostParams};
use serde_json::json;

use crate::env::berth::{
    create_namespace, install_crds, spawn_berth_with, BerthProcess, SHARD_LABEL,
};
use crate::env::charts::{helm_push, package_chart};
use crate::env::registry::{random_hex, ClientHome};
use crate::env::Env;

pub fn tests() -> Vec<crate::Test> {
    vec![crate::Test {
        name: "leader::election_failover_and_release",
        run: election_failover_and_release,
    }]
}

/// The label the e2e controllers shard on (shared with the other files'
/// controllers); these processes watch only `leader`.
const SHARD: &str = "leader";
const LEASE: &str = "berth-e2e-leader";
/// `--leader-election-lease-duration`, `-renew-deadline`, `-retry-period`.
const LEASE_DURATION: Duration = Duration::from_secs(4);
const RENEW_DEADLINE: &str = "3s";
const RETRY_PERIOD: Duration = Duration::from_secs(1);
const WAIT: Duration = Duration::from_secs(60);

/// A `berth controller` candidate (its identity the pod name) with its
/// own JSON log; killed when dropped.
struct Berth {
    identity: String,
    process: BerthProcess,
}

impl Berth {
    fn spawn(env: &Env, ns: &str, identity: &str) -> Result<Berth> {
        let log = env.dir.path().join(format!("leader-{identity}.log"));
        let selector = format!("{SHARD_LABEL}={SHARD}");
        let lease_duration = format!(
            "--leader-election-lease-duration={}s",
            LEASE_DURATION.as_secs()
        );
        let renew_deadline = format!("--leader-election-renew-deadline={RENEW_DEADLINE}");
        let retry_period = format!("--leader-election-retry-period={}s", RETRY_PERIOD.as_secs());
        let args = [
            "--log-format",
            "json",
            "--concurrency",
            "2",
            "--watch-label-selector",
            &selector,
            // Default on; said here so the test reads as what it tests.
            "--leader-elect",
            "--leader-election-namespace",
            ns,
            "--leader-election-id",
            LEASE,
            &lease_duration,
            &renew_deadline,
            &retry_period,
        ];
        let process = spawn_berth_with(env, &args, &log, |cmd| {
            // The identity a pod gets from the downward API.
            cmd.env("POD_NAME", identity).env_remove("POD_NAMESPACE");
        })
        .with_context(|| format!("failed to start berth controller {identity}"))?;
        Ok(Berth {
            identity: identity.to_string(),
            process,
        })
    }

    /// Every log line about an OCIRepository or HelmRelease reconcile
    /// (poll lines, reconcile spans).
    fn reconcile_lines(&self) -> Vec<String> {
        self.log_json()
            .into_iter()
            .filter(|v| v["fields"]["message"] == "polled" || v["span"]["name"] == "reconcile")
            .map(|v| v.to_string())
            .collect()
    }

    fn leader_gauge(&self, env: &Env, ns: &str) -> Result<String> {
        let metrics = self.scrape(env)?;
        let series = format!("berth_leader_election_status{{lease=\"{ns}/{LEASE}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series.as_str()))
            .map(str::to_string)
            .with_context(|| format!("{}: no {series} in /metrics:\n{metrics}", self.identity))
    }
}

impl std::ops::Deref for Berth {
    type Target = BerthProcess;
    fn deref(&self) -> &BerthProcess {
        &self.process
    }
}

impl std::ops::DerefMut for Berth {
    fn deref_mut(&mut self) -> &mut BerthProcess {
        &mut self.process
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> Result<bool>) -> Result<()> {
    let start = Instant::now();
    loop {
        if done()? {
            return Ok(());
        }
        ensure!(start.elapsed() < WAIT, "{what}: not after {WAIT:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn leases(env: &Env, ns: &str) -> Result<Api<Lease>> {
    Ok(Api::namespaced(env.cluster()?.client(&env.rt)?, ns))
}

/// The Lease's holderIdentity ("" when none) and leaseTransitions, or
/// `None` before the Lease exists.
fn lease_holder(env: &Env, ns: &str) -> Result<Option<(String, i32)>> {
    let lease = env.rt.block_on(leases(env, ns)?.get_opt(LEASE))?;
    Ok(lease.map(|l| {
        let spec = l.spec.unwrap_or_default();
        (
            spec.holder_identity.unwrap_or_default(),
            spec.lease_transitions.unwrap_or(0),
        )
    }))
}

fn create_repo(env: &Env, ns: &str, name: &str, url: &str, tag: &str) -> Result<()> {
    let api: Api<OCIRepository> = Api::namespaced(env.cluster()?.client(&env.rt)?, ns);
    let obj: OCIRepository = serde_json::from_value(json!({
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "OCIRepository",
        "metadata": {"name": name, "namespace": ns, "labels": {SHARD_LABEL: SHARD}},
        "spec": {"url": url, "insecure": true, "interval": "2s", "ref": {"tag": tag}},
    }))?;
    env.rt.block_on(api.create(&PostParams::default(), &obj))?;
    Ok(())
}

/// Wait until `ns/name` is Ready with a revision starting with `prefix`.
fn wait_ready(env: &Env, ns: &str, name: &str, prefix: &str) -> Result<()> {
    let api: Api<OCIRepository> = Api::namespaced(env.cluster()?.client(&env.rt)?, ns);
    let start = Instant::now();
    loop {
        let o = env.rt.block_on(api.get(name))?;
        let status = o.status.as_ref();
        let ready = status.is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        }) && status.and_then(|s| s.observed_generation) == o.metadata.generation;
        let revision = status
            .and_then(|s| s.artifact.as_ref())
            .map(|a| a.revision.as_str());
        if ready && revision.is_some_and(|r| r.starts_with(prefix)) {
            return Ok(());
        }
        ensure!(
            start.elapsed() < WAIT,
            "{ns}/{name}: not Ready at {prefix} after {WAIT:?}; status: {}",
            serde_json::to_string(&o.status).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn election_failover_and_release(env: &Env) -> Result<()> {
    install_crds(env)?;
    let regs = env.registries()?;
    let reg = &regs.referrers;
    let home = ClientHome::new(env, "leader")?;
    let repo = format!("leader-{}", random_hex(4)?);
    let chart = package_chart(env, &home, "led", "0.1.0")?;
    let pushed = helm_push(env, &home, &chart, &reg.host, &repo, &["--plain-http"])?;
    let url = reg.oci_url(&format!("{repo}/led"));
    let ns = create_namespace(env, "leader")?;

    // Two candidates at once: exactly one holds the Lease.
    let a = Berth::spawn(env, &ns, "berth-a")?;
    let b = Berth::spawn(env, &ns, "berth-b")?;
    wait_for("a holder of the Lease", || {
        Ok(lease_holder(env, &ns)?.is_some_and(|(h, _)| !h.is_empty()))
    })?;
    let (holder, transitions) = lease_holder(env, &ns)?.context("no Lease")?;
    let (mut leader, mut standby) = match holder.as_str() {
        "berth-a" => (a, b),
        "berth-b" => (b, a),
        other => bail!("the Lease is held by {other:?}, neither candidate"),
    };

    // Only the leader reconciles.
    create_repo(env, &ns, "first", &url, "0.1.0")?;
    wait_ready(env, &ns, "first", &format!("0.1.0@{pushed}"))?;
    wait_for("the leader's poll of first", || {
        Ok(leader.polled(&ns, "first"))
    })?;
    // A few more intervals (2s) in which a second reconciler would show.
    std::thread::sleep(Duration::from_secs(5));
    ensure!(
        lease_holder(env, &ns)?.map(|(h, _)| h) == Some(leader.identity.clone()),
        "the Lease changed hands without a failure"
    );
    let standby_reconciles = standby.reconcile_lines();
    ensure!(
        standby_reconciles.is_empty(),
        "the standby {} reconciled: {standby_reconciles:?}",
        standby.identity
    );
    ensure!(
        standby.log_text().contains("standing by"),
        "the standby never reported standing by:\n{}",
        standby.log_text()
    );
    ensure!(leader.exited()?.is_none() && standby.exited()?.is_none());
    // Both probes answer on both; the gauge tells who leads.
    ensure!(leader.leader_gauge(env, &ns)? == "1", "leader gauge");
    ensure!(standby.leader_gauge(env, &ns)? == "0", "standby gauge");

    // SIGKILL the leader: the standby takes over once the Lease has gone
    // unrenewed for the lease duration (plus a retry period with jitter,
    // plus slack for a loaded machine).
    leader.signal(libc::SIGKILL);
    let killed = Instant::now();
    leader.wait_exit(Duration::from_secs(5))?;
    let takeover_limit = LEASE_DURATION + RETRY_PERIOD * 2 + Duration::from_secs(4);
    loop {
        let now = lease_holder(env, &ns)?.context("the Lease vanished")?;
        if now.0 == standby.identity {
            ensure!(
                now.1 == transitions + 1,
                "leaseTransitions {} after one takeover from {transitions}",
                now.1
            );
            break;
        }
        ensure!(
            killed.elapsed() < takeover_limit,
            "{} did not take over within {takeover_limit:?} of the leader's death (holder {:?}); log:\n{}",
            standby.identity,
            now.0,
            standby.log_text()
        );
        standby.exited()?.map_or(Ok(()), |s| {
            Err(anyhow::anyhow!("{} exited ({s})", standby.identity))
        })?;
        std::thread::sleep(Duration::from_millis(200));
    }
    let took = killed.elapsed();
    ensure!(
        took >= LEASE_DURATION - RETRY_PERIOD,
        "{} took over after {took:?}, before the lease could expire",
        standby.identity
    );
    std::mem::swap(&mut leader, &mut standby);
    drop(standby);

    // The new leader reconciles a new object.
    create_repo(env, &ns, "second", &url, "0.1.0")?;
    wait_ready(env, &ns, "second", &format!("0.1.0@{pushed}"))?;
    wait_for("the new leader's poll of second", || {
        Ok(leader.polled(&ns, "second"))
    })?;

    // A third candidate stands by; then another holder writes the Lease
    // (as a rival that won an election would): the leader's next renewal
    // sees it, and it stops and exits non-zero so that it restarts as a
    // standby.
    let mut c = Berth::spawn(env, &ns, "berth-c")?;
    wait_for("berth-c standing by", || {
        Ok(c.log_text().contains("standing by"))
    })?;
    let api = leases(env, &ns)?;
    let mut lease = env.rt.block_on(api.get(LEASE))?;
    let spec = lease.spec.get_or_insert_with(Default::default);
    spec.holder_identity = Some("intruder".into());
    spec.renew_time = Some(MicroTime(jiff::Timestamp::now()));
    env.rt
        .block_on(api.replace(LEASE, &PostParams::default(), &lease))?;
    let status = leader.wait_exit(Duration::from_secs(10))?;
    let text = leader.log_text();
    ensure!(
        !status.success() && status.code() == Some(1),
        "{} exited with {status} after losing the Lease; log:\n{text}",
        leader.identity
    );
    ensure!(
        text.contains("leader election lost"),
        "no loss in the log:\n{text}"
    );
    // The intruder never renews: berth-c takes over when it expires.
    wait_for("berth-c taking over from the intruder", || {
        c.exited()?
            .map_or(Ok(()), |s| Err(anyhow::anyhow!("berth-c exited ({s})")))?;
        Ok(lease_holder(env, &ns)?.is_some_and(|(h, _)| h == "berth-c"))
    })?;
    create_repo(env, &ns, "third", &url, "0.1.0")?;
    wait_ready(env, &ns, "third", &format!("0.1.0@{pushed}"))?;
    ensure!(c.polled(&ns, "third"), "berth-c never polled third");

    // SIGTERM: in-flight work finishes, the Lease is released (no holder)
    // and the process exits 0 promptly.
    c.signal(libc::SIGTERM);
    let status = c.wait_exit(Duration::from_secs(15))?;
    let text = c.log_text();
    ensure!(
        status.success(),
        "berth-c exited with {status} after SIGTERM; log:\n{text}"
    );
    let (holder, _) = lease_holder(env, &ns)?.context("the Lease vanished")?;
    ensure!(
        holder.is_empty(),
        "the Lease is still held by {holder:?} after SIGTERM"
    );
    ensure!(
        text.contains("released the leader lease") && text.contains("\"stopped\""),
        "no release and clean stop in the log:\n{text}"
    );
    let lease = env.rt.block_on(api.get(LEASE))?;
    ensure!(
        lease.spec.and_then(|s| s.lease_duration_seconds) == Some(1),
        "a released Lease keeps a one-second duration"
    );
    Ok(())
}
