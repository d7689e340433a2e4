//! The SRE commands: `berth get`, `berth reconcile`, `berth suspend`,
//! `berth resume` and `berth explain hr`, against the cluster of a
//! kubeconfig (as kubectl: `--kubeconfig`, `-n/--namespace`, `-A`).
//!
//! Each command returns its output as text (printed by [`run`]), so the
//! formatting is the same in the binary and in tests.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::ResourceExt;

use crate::api::conditions::{find, types};
use crate::api::helm_release::HelmRelease;
use crate::api::oci_repository::{OCIRepository, VerifiedSigner};
use crate::apply::discovery::Discovered;
use crate::apply::health::{compute_status, Status};
use crate::apply::inventory::ObjectRef;
use crate::controller::REQUESTED_AT_ANNOTATION;

/// Characters of a condition message shown in `berth get`.
const MESSAGE_WIDTH: usize = 60;

/// Where to find the cluster and the objects (kubectl's flags).
#[derive(clap::Args, Clone, Debug)]
pub struct ClusterArgs {
    /// Path of a kubeconfig; without it, $KUBECONFIG or ~/.kube/config.
    #[arg(long, env = "KUBECONFIG", global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// Namespace (default: the kubeconfig context's, else `default`).
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
}

/// `berth get`.
#[derive(clap::Args, Clone, Debug)]
pub struct GetArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// All namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
}

/// The kinds the commands act on.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An OCIRepository.
    #[value(alias = "ocirepository", alias = "ocirepo", alias = "oci")]
    Source,
    /// A HelmRelease.
    #[value(alias = "helmrelease", alias = "helmreleases")]
    Hr,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Source => "OCIRepository",
            Kind::Hr => "HelmRelease",
        }
    }
}

/// `berth reconcile <kind> <name>`.
#[derive(clap::Args, Clone, Debug)]
pub struct ReconcileArgs {
    pub kind: Kind,
    pub name: String,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// How long to wait for the result (a Go duration).
    #[arg(long, default_value = "5m")]
    pub timeout: String,
}

/// `berth suspend|resume <kind> <name>`.
#[derive(clap::Args, Clone, Debug)]
pub struct SuspendArgs {
    pub kind: Kind,
    pub name: String,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// `berth explain hr <name>`.
#[derive(clap::Args, Clone, Debug)]
pub struct ExplainArgs {
    /// Only `hr` (HelmRelease) is explained.
    #[arg(value_parser = ["hr", "helmrelease"])]
    pub kind: String,
    pub name: String,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// One SRE command.
#[derive(Clone, Debug)]
pub enum Sre {
    Get(GetArgs),
    Reconcile(ReconcileArgs),
    Suspend(SuspendArgs),
    Resume(SuspendArgs),
    Explain(ExplainArgs),
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("failed to read the kubeconfig {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("failed to find a kubeconfig: {0}")]
    Infer(#[source] kube::config::InferConfigError),
    #[error("failed to build a kube client: {0}")]
    Client(#[source] kube::Error),
    #[error("{what}: {source}")]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error("{kind} {namespace}/{name} not found")]
    NotFound {
        kind: &'static str,
        namespace: String,
        name: String,
    },
    #[error("{0}")]
    Duration(#[from] crate::controller::DurationError),
    #[error("{kind} {namespace}/{name} is suspended: resume it first")]
    Suspended {
        kind: &'static str,
        namespace: String,
        name: String,
    },
    #[error("timed out after {timeout} waiting for {kind} {namespace}/{name} to handle the request {requested_at}")]
    Timeout {
        timeout: String,
        kind: &'static str,
        namespace: String,
        name: String,
        requested_at: String,
    },
    #[error("{0}")]
    NotReady(String),
    #[error("failed to start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

fn api_err(what: impl Into<String>) -> impl FnOnce(kube::Error) -> CliError {
    let what = what.into();
    move |source| CliError::Api { what, source }
}

/// A client and the namespace to use.
pub async fn connect(args: &ClusterArgs) -> Result<(kube::Client, String), CliError> {
    let config = match &args.kubeconfig {
        Some(path) => {
            let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(|source| {
                CliError::Kubeconfig {
                    path: path.clone(),
                    source,
                }
            })?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .map_err(|source| CliError::Kubeconfig {
                    path: path.clone(),
                    source,
                })?
        }
        None => kube::Config::infer().await.map_err(CliError::Infer)?,
    };
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = kube::Client::try_from(config).map_err(CliError::Client)?;
    Ok((client, namespace))
}

/// Run one command: output on stdout, `Error: …` on stderr; the exit
/// status (0 on success).
pub fn run(cmd: Sre) -> i32 {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: {}", CliError::Runtime(e));
            return 1;
        }
    };
    match rt.block_on(execute(cmd)) {
        Ok(out) => {
            print!("{out}");
            0
        }
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}

/// Run one command and return what it prints.
pub async fn execute(cmd: Sre) -> Result<String, CliError> {
    match cmd {
        Sre::Get(a) => {
            let (client, ns) = connect(&a.cluster).await?;
            get(&client, (!a.all_namespaces).then_some(ns.as_str())).await
        }
        Sre::Reconcile(a) => {
            let (client, ns) = connect(&a.cluster).await?;
            let timeout = crate::controller::parse_go_duration(&a.timeout)?;
            reconcile(&client, a.kind, &ns, &a.name, timeout, &a.timeout).await
        }
        Sre::Suspend(a) => {
            let (client, ns) = connect(&a.cluster).await?;
            set_suspend(&client, a.kind, &ns, &a.name, true).await
        }
        Sre::Resume(a) => {
            let (client, ns) = connect(&a.cluster).await?;
            set_suspend(&client, a.kind, &ns, &a.name, false).await
        }
        Sre::Explain(a) => {
            let (client, ns) = connect(&a.cluster).await?;
            explain_hr(&client, &ns, &a.name).await
        }
    }
}

/// `Ready`'s status, reason and message.
fn ready(conditions: &[Condition]) -> (&str, &str, &str) {
    match find(conditions, types::READY) {
        Some(c) => (&c.status, &c.reason, &c.message),
        None => ("Unknown", "", ""),
    }
}

/// A duration as kubectl prints ages: `42s`, `5m`, `3h`, `2d`.
pub fn age(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 * 2 => format!("{}m", s / 60),
        s if s < 86400 * 2 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

fn age_of(meta: &kube::api::ObjectMeta) -> String {
    match &meta.creation_timestamp {
        Some(t) => age(Timestamp::now().as_second() - t.0.as_second()),
        None => "-".into(),
    }
}

/// The first `width` characters of the first line of `s` (`…` when cut).
pub fn truncate(s: &str, width: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() <= width && !s.contains('\n') {
        return line.to_string();
    }
    let mut out: String = line.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Who signed, in one word: `key:<secret key>` or `<subject> (<issuer>)`.
pub fn signer(s: &VerifiedSigner) -> String {
    match (&s.key, &s.subject, &s.issuer) {
        (Some(k), _, _) => format!("key:{k}"),
        (None, Some(sub), Some(iss)) => format!("{sub} ({iss})"),
        (None, Some(sub), None) => sub.clone(),
        _ => "-".into(),
    }
}

/// Rows laid out in columns two spaces apart (as kubectl).
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count() + 2;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `berth get`: OCIRepositories then HelmReleases, in `namespace` or all.
pub async fn get(client: &kube::Client, namespace: Option<&str>) -> Result<String, CliError> {
    let (sources, releases): (Api<OCIRepository>, Api<HelmRelease>) = match namespace {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client.clone(), ns),
        ),
        None => (Api::all(client.clone()), Api::all(client.clone())),
    };
    let lp = ListParams::default();
    let mut sources = sources
        .list(&lp)
        .await
        .map_err(api_err("failed to list OCIRepositories"))?
        .items;
    let mut releases = releases
        .list(&lp)
        .await
        .map_err(api_err("failed to list HelmReleases"))?
        .items;
    let key = |m: &kube::api::ObjectMeta| (m.namespace.clone(), m.name.clone());
    sources.sort_by_key(|o| key(&o.metadata));
    releases.sort_by_key(|o| key(&o.metadata));
    let mut rows = vec![[
        "NAMESPACE",
        "KIND",
        "NAME",
        "READY",
        "SUSPENDED",
        "REVISION",
        "SIGNER",
        "AGE",
        "MESSAGE",
    ]
    .map(String::from)
    .to_vec()];
    for s in &sources {
        let st = s.status.clone().unwrap_or_default();
        let (r, _, msg) = ready(&st.conditions);
        rows.push(vec![
            s.namespace().unwrap_or_default(),
            "OCIRepository".into(),
            s.name_any(),
            r.into(),
            s.spec.suspend.to_string(),
            st.artifact
                .as_ref()
                .map_or("-".into(), |a| a.revision.clone()),
            st.verified_signer.as_ref().map_or("-".into(), signer),
            age_of(&s.metadata),
            truncate(msg, MESSAGE_WIDTH),
        ]);
    }
    for h in &releases {
        let st = h.status.clone().unwrap_or_default();
        let (r, _, msg) = ready(&st.conditions);
        let revision = match st.history.first() {
            Some(s) => format!("{}@{}", s.chart_name, s.chart_version),
            None => st.last_attempted_revision.clone().unwrap_or("-".into()),
        };
        rows.push(vec![
            h.namespace().unwrap_or_default(),
            "HelmRelease".into(),
            h.name_any(),
            r.into(),
            h.spec.suspend.to_string(),
            revision,
            "-".into(),
            age_of(&h.metadata),
            truncate(msg, MESSAGE_WIDTH),
        ]);
    }
    if rows.len() == 1 {
        return Ok(match namespace {
            Some(ns) => format!("No OCIRepositories or HelmReleases found in {ns} namespace.\n"),
            None => "No OCIRepositories or HelmReleases found.\n".into(),
        });
    }
    Ok(table(&rows))
}

/// The metadata, suspend flag, conditions and last handled request of an
/// object of `kind`.
struct Seen {
    suspended: bool,
    conditions: Vec<Condition>,
    last_handled: Option<String>,
}

async fn read(client: &kube::Client, kind: Kind, ns: &str, name: &str) -> Result<Seen, CliError> {
    let not_found = || CliError::NotFound {
        kind: kind.name(),
        namespace: ns.into(),
        name: name.into(),
    };
    let what = format!("failed to read {} {ns}/{name}", kind.name());
    Ok(match kind {
        Kind::Source => {
            let o = Api::<OCIRepository>::namespaced(client.clone(), ns)
                .get_opt(name)
                .await
                .map_err(api_err(what))?
                .ok_or_else(not_found)?;
            let st = o.status.unwrap_or_default();
            Seen {
                suspended: o.spec.suspend,
                conditions: st.conditions,
                last_handled: st.last_handled_reconcile_at,
            }
        }
        Kind::Hr => {
            let o = Api::<HelmRelease>::namespaced(client.clone(), ns)
                .get_opt(name)
                .await
                .map_err(api_err(what))?
                .ok_or_else(not_found)?;
            let st = o.status.unwrap_or_default();
            Seen {
                suspended: o.spec.suspend,
                conditions: st.conditions,
                last_handled: st.last_handled_reconcile_at,
            }
        }
    })
}

fn dynamic_api(client: &kube::Client, kind: Kind, ns: &str) -> Api<DynamicObject> {
    let ar = match kind {
        Kind::Source => kube::api::ApiResource::erase::<OCIRepository>(&()),
        Kind::Hr => kube::api::ApiResource::erase::<HelmRelease>(&()),
    };
    Api::namespaced_with(client.clone(), ns, &ar)
}

/// `berth reconcile`: set the request annotation, wait until the
/// controller handled it and finished (Ready True or False), and report
/// Ready. A Ready other than True is an error.
pub async fn reconcile(
    client: &kube::Client,
    kind: Kind,
    ns: &str,
    name: &str,
    timeout: Duration,
    timeout_text: &str,
) -> Result<String, CliError> {
    let seen = read(client, kind, ns, name).await?;
    if seen.suspended {
        return Err(CliError::Suspended {
            kind: kind.name(),
            namespace: ns.into(),
            name: name.into(),
        });
    }
    let requested_at = Timestamp::now().to_string();
    let patch = serde_json::json!({
        "metadata": {"annotations": {REQUESTED_AT_ANNOTATION: requested_at}}
    });
    dynamic_api(client, kind, ns)
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(api_err(format!(
            "failed to annotate {} {ns}/{name}",
            kind.name()
        )))?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let seen = read(client, kind, ns, name).await?;
        let (status, reason, message) = ready(&seen.conditions);
        let reconciling = find(&seen.conditions, types::RECONCILING)
            .is_some_and(|c| c.status == "True" && c.reason == "Progressing");
        if seen.last_handled.as_deref() == Some(requested_at.as_str())
            && status != "Unknown"
            && !reconciling
        {
            let line = format!(
                "{} {ns}/{name}: Ready={status} {reason}: {message}\n",
                kind.name()
            );
            return if status == "True" {
                Ok(line)
            } else {
                Err(CliError::NotReady(line.trim_end().to_string()))
            };
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(CliError::Timeout {
                timeout: timeout_text.into(),
                kind: kind.name(),
                namespace: ns.into(),
                name: name.into(),
                requested_at,
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `berth suspend|resume`: patch `spec.suspend`.
pub async fn set_suspend(
    client: &kube::Client,
    kind: Kind,
    ns: &str,
    name: &str,
    suspend: bool,
) -> Result<String, CliError> {
    read(client, kind, ns, name).await?;
    let patch = serde_json::json!({"spec": {"suspend": suspend}});
    dynamic_api(client, kind, ns)
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(api_err(format!(
            "failed to patch {} {ns}/{name}",
            kind.name()
        )))?;
    let verb = if suspend { "suspended" } else { "resumed" };
    Ok(format!("{} {ns}/{name} {verb}\n", kind.name()))
}

/// A revision `tag@digest` (or a bare digest) as (tag, digest).
fn split_revision(rev: &str) -> (Option<&str>, &str) {
    match rev.rsplit_once('@') {
        Some((tag, digest)) => (Some(tag), digest),
        None => (None, rev),
    }
}

fn health_word(s: &Status) -> String {
    match s {
        Status::Current => "Current".into(),
        Status::InProgress(why) => format!("InProgress: {why}"),
        Status::Failed(why) => format!("Failed: {why}"),
    }
}

/// `berth explain hr`: HelmRelease → OCIRepository (url, ref) → tag →
/// digest → signer → release revision and status → its objects and their
/// health.
pub async fn explain_hr(client: &kube::Client, ns: &str, name: &str) -> Result<String, CliError> {
    use std::fmt::Write as _;
    let hr = Api::<HelmRelease>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await
        .map_err(api_err(format!("failed to read HelmRelease {ns}/{name}")))?
        .ok_or_else(|| CliError::NotFound {
            kind: "HelmRelease",
            namespace: ns.into(),
            name: name.into(),
        })?;
    let st = hr.status.clone().unwrap_or_default();
    let mut out = String::new();
    let (r, reason, message) = ready(&st.conditions);
    let _ = writeln!(out, "HelmRelease  {ns}/{name}");
    let _ = writeln!(out, "  ready:     {r} {reason}: {message}");
    if hr.spec.suspend {
        let _ = writeln!(out, "  suspended: true");
    }

    let src_ns = hr
        .spec
        .chart_ref
        .namespace
        .clone()
        .unwrap_or(ns.to_string());
    let src_name = &hr.spec.chart_ref.name;
    let source = Api::<OCIRepository>::namespaced(client.clone(), &src_ns)
        .get_opt(src_name)
        .await
        .map_err(api_err(format!(
            "failed to read OCIRepository {src_ns}/{src_name}"
        )))?;
    let _ = writeln!(out, "OCIRepository  {src_ns}/{src_name}");
    match &source {
        None => {
            let _ = writeln!(out, "  not found");
        }
        Some(src) => {
            let sst = src.status.clone().unwrap_or_default();
            let (r, reason, message) = ready(&sst.conditions);
            let _ = writeln!(out, "  ready:     {r} {reason}: {message}");
            let _ = writeln!(out, "  url:       {}", src.spec.url);
            let reference = match &src.spec.reference {
                Some(rf) => match (&rf.digest, &rf.semver, &rf.tag) {
                    (Some(d), _, _) => format!("digest {d}"),
                    (None, Some(s), _) => format!("semver {s}"),
                    (None, None, Some(t)) => format!("tag {t}"),
                    _ => "tag latest".into(),
                },
                None => "tag latest".into(),
            };
            let _ = writeln!(out, "  ref:       {reference}");
            match &sst.artifact {
                Some(a) => {
                    let (tag, digest) = split_revision(&a.revision);
                    let _ = writeln!(out, "  tag:       {}", tag.unwrap_or("-"));
                    let _ = writeln!(out, "  digest:    {digest}");
                    let _ = writeln!(out, "  layer:     {}", a.digest);
                }
                None => {
                    let _ = writeln!(out, "  artifact:  none yet");
                }
            }
            let who = match (&src.spec.verify, &sst.verified_signer) {
                (None, _) => "not verified (no spec.verify)".to_string(),
                (Some(_), Some(s)) => {
                    let mut w = signer(s);
                    if let Some(f) = &s.format {
                        w.push_str(&format!(" [{f}]"));
                    }
                    w
                }
                (Some(_), None) => "not verified yet".to_string(),
            };
            let _ = writeln!(out, "  signer:    {who}");
        }
    }

    let release_name = crate::controller::helm_release::release_name(&hr);
    let storage_ns = st.storage_namespace.clone().unwrap_or(ns.to_string());
    let _ = writeln!(out, "Release  {storage_ns}/{release_name}");
    match st.history.first() {
        Some(s) => {
            let _ = writeln!(
                out,
                "  revision:  {} {} (chart {}@{})",
                s.version, s.status, s.chart_name, s.chart_version
            );
            if let Some(d) = &s.oci_digest {
                let _ = writeln!(out, "  chart:     {d}");
            }
            for older in st.history.iter().skip(1) {
                let _ = writeln!(
                    out,
                    "  earlier:   {} {} (chart {}@{})",
                    older.version, older.status, older.chart_name, older.chart_version
                );
            }
        }
        None => {
            let _ = writeln!(out, "  no release yet");
        }
    }

    // The objects: the inventory, else the newest release's manifest.
    let discovered = Discovered::run(client)
        .await
        .map_err(|e| CliError::NotReady(format!("failed to discover the API: {e}")))?;
    let mut refs: Vec<ObjectRef> = Vec::new();
    match &st.inventory {
        Some(inv) if !inv.entries.is_empty() => {
            for e in &inv.entries {
                if let Ok(r) = ObjectRef::from_entry(e) {
                    refs.push(r);
                }
            }
        }
        _ => {
            let store = crate::release::Store::new(client.clone(), &storage_ns);
            if let Ok(Some(rel)) = store.last(&release_name).await {
                let target = hr
                    .spec
                    .target_namespace
                    .clone()
                    .filter(|t| !t.is_empty())
                    .unwrap_or(ns.to_string());
                if let Ok(r) =
                    crate::apply::uninstall::refs_of_manifest(&discovered, &rel.manifest, &target)
                {
                    refs = r;
                }
            }
        }
    }
    let _ = writeln!(out, "Objects  {}", refs.len());
    let mut rows = Vec::new();
    for r in &refs {
        let gk = if r.group.is_empty() {
            r.kind.clone()
        } else {
            format!("{}.{}", r.kind, r.group)
        };
        let where_ = if r.namespace.is_empty() {
            r.name.clone()
        } else {
            format!("{}/{}", r.namespace, r.name)
        };
        let health = match discovered.resolve_group_kind(&r.group, &r.kind) {
            None => "Unknown: kind not served".to_string(),
            Some(res) => {
                let api: Api<DynamicObject> = if res.namespaced {
                    Api::namespaced_with(client.clone(), &r.namespace, &res.resource)
                } else {
                    Api::all_with(client.clone(), &res.resource)
                };
                match api.get_opt(&r.name).await {
                    Ok(Some(obj)) => match serde_json::to_value(&obj) {
                        Ok(v) => health_word(&compute_status(&r.kind, &r.group, &v)),
                        Err(e) => format!("Unknown: {e}"),
                    },
                    Ok(None) => "NotFound".to_string(),
                    Err(e) => format!("Unknown: {e}"),
                }
            }
        };
        rows.push(vec![format!("  {gk}"), where_, health]);
    }
    out.push_str(&table(&rows));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_as_kubectl() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(119), "119s");
        assert_eq!(age(600), "10m");
        assert_eq!(age(3 * 3600), "3h");
        assert_eq!(age(3 * 86400), "3d");
    }

    #[test]
    fn tables_and_truncation() {
        let rows = vec![
            vec!["A".to_string(), "BB".into(), "C".into()],
            vec!["xxx".to_string(), "y".into(), "".into()],
        ];
        assert_eq!(table(&rows), "A    BB  C\nxxx  y\n");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("abcdefghijkl", 5), "abcd…");
        assert_eq!(truncate("one\ntwo", 10), "one…");
    }

    #[test]
    fn revisions_split() {
        assert_eq!(
            split_revision("1.0.0@sha256:ab"),
            (Some("1.0.0"), "sha256:ab")
        );
        assert_eq!(split_revision("sha256:ab"), (None, "sha256:ab"));
    }
}
