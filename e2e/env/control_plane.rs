//! A real Kubernetes control plane on loopback: etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler and kwok (which plays the
//! kubelet for one fake Node, so Pods become Running/Ready without
//! containers). Certificates, keys and kubeconfigs are generated per run
//! under `env.dir/cluster/`; every process is a child of the suite (see
//! `process`) and is stopped by `stop`.

use std::fmt::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::Datelike;
use k8s_openapi::api::core::v1::{Node, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use tokio::runtime::Runtime;

use super::process::Process;

/// The Kubernetes version the pinned binaries report (`e2e/tools/kube`).
pub const KUBERNETES_VERSION: &str = "v1.37.2";
/// The one fake Node kwok manages.
pub const FAKE_NODE: &str = "kwok-node-0";
/// Annotation kwok is told to select its Nodes by.
const KWOK_NODE_ANNOTATION: (&str, &str) = ("kwok.x-k8s.io/node", "fake");
const SERVICE_CIDR: &str = "10.96.0.0/16";
/// First address of `SERVICE_CIDR`: the `kubernetes` Service's ClusterIP,
/// which in-cluster clients dial, so the serving cert names it.
const SERVICE_API_IP: &str = "10.96.0.1";
const SERVICE_ACCOUNT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const CLUSTER_NAME: &str = "berth-e2e";
/// The name the apiserver's aggregation-layer client cert carries.
const FRONT_PROXY_CLIENT: &str = "front-proxy-client";

pub struct ControlPlane {
    /// The admin (`system:masters`) kubeconfig.
    pub kubeconfig: PathBuf,
    /// `https://127.0.0.1:<port>` of kube-apiserver.
    pub server: String,
    /// The cluster CA certificate (PEM); it signs every serving and client
    /// certificate of the run.
    pub ca_cert: PathBuf,
    /// The admin client certificate and key (PEM, O=system:masters).
    pub admin_cert: PathBuf,
    pub admin_key: PathBuf,
    /// Where the processes' logs, certs and etcd data live.
    pub dir: PathBuf,
    kubectl: PathBuf,
    /// In start order; stopped in reverse.
    processes: Mutex<Vec<Process>>,
}

impl ControlPlane {
    pub fn start(env: &super::Env) -> Result<ControlPlane> {
        let started = Instant::now();
        let dir = env.dir.path().join("cluster");
        let pki = dir.join("pki");
        std::fs::create_dir_all(&pki)
            .with_context(|| format!("failed to create {}", pki.display()))?;
        for tool in [
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kwok",
            "kwok-stages",
            "kubectl",
        ] {
            if !env.tools.path(tool).exists() {
                bail!(
                    "{tool} is not built: run e2e/tools/build.sh etcd kube kwok ({} missing)",
                    env.tools.path(tool).display()
                );
            }
        }

        let [etcd_port, etcd_peer_port, api_port, kcm_port, scheduler_port] = free_ports()?;
        let server = format!("https://127.0.0.1:{api_port}");

        let certs = Pki::generate(&pki)?;
        let kubeconfig = dir.join("admin.kubeconfig");
        write_kubeconfig(&kubeconfig, &server, &certs.ca_cert, &certs.admin)?;
        let kcm_kubeconfig = dir.join("kube-controller-manager.kubeconfig");
        write_kubeconfig(
            &kcm_kubeconfig,
            &server,
            &certs.ca_cert,
            &certs.controller_manager,
        )?;
        let scheduler_kubeconfig = dir.join("kube-scheduler.kubeconfig");
        write_kubeconfig(
            &scheduler_kubeconfig,
            &server,
            &certs.ca_cert,
            &certs.scheduler,
        )?;

        let mut cp = ControlPlane {
            kubeconfig,
            server,
            ca_cert: certs.ca_cert.clone(),
            admin_cert: certs.admin.cert.clone(),
            admin_key: certs.admin.key.clone(),
            dir: dir.clone(),
            kubectl: env.tools.path("kubectl"),
            processes: Mutex::new(Vec::new()),
        };

        // etcd: plain HTTP on loopback, no fsync (the data dies with the run).
        let mut etcd = env.tools.command("etcd");
        etcd.arg("--name=berth-e2e")
            .arg(format!("--data-dir={}", dir.join("etcd").display()))
            .arg(format!("--listen-client-urls=http://127.0.0.1:{etcd_port}"))
            .arg(format!(
                "--advertise-client-urls=http://127.0.0.1:{etcd_port}"
            ))
            .arg(format!(
                "--listen-peer-urls=http://127.0.0.1:{etcd_peer_port}"
            ))
            .arg(format!(
                "--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer_port}"
            ))
            .arg(format!(
                "--initial-cluster=berth-e2e=http://127.0.0.1:{etcd_peer_port}"
            ))
            .arg("--unsafe-no-fsync")
            .arg("--log-level=warn");
        cp.spawn("etcd", etcd)?;
        cp.wait_for("etcd to listen", Duration::from_secs(30), || {
            TcpStream::connect(("127.0.0.1", etcd_port)).is_ok()
        })?;

        let mut apiserver = env.tools.command("kube-apiserver");
        apiserver
            .arg(format!("--etcd-servers=http://127.0.0.1:{etcd_port}"))
            .arg("--bind-address=127.0.0.1")
            .arg("--advertise-address=127.0.0.1")
            .arg(format!("--secure-port={api_port}"))
            .arg(format!("--cert-dir={}", pki.display()))
            .arg(format!(
                "--tls-cert-file={}",
                certs.apiserver.cert.display()
            ))
            .arg(format!(
                "--tls-private-key-file={}",
                certs.apiserver.key.display()
            ))
            .arg(format!("--client-ca-file={}", certs.ca_cert.display()))
            .arg(format!("--service-account-issuer={SERVICE_ACCOUNT_ISSUER}"))
            .arg(format!(
                "--service-account-key-file={}",
                certs.sa_public.display()
            ))
            .arg(format!(
                "--service-account-signing-key-file={}",
                certs.sa_private.display()
            ))
            .arg(format!("--service-cluster-ip-range={SERVICE_CIDR}"))
            .arg("--authorization-mode=Node,RBAC")
            .arg(format!(
                "--requestheader-client-ca-file={}",
                certs.front_proxy_ca_cert.display()
            ))
            .arg(format!(
                "--requestheader-allowed-names={FRONT_PROXY_CLIENT}"
            ))
            .arg("--requestheader-username-headers=X-Remote-User")
            .arg("--requestheader-group-headers=X-Remote-Group")
            .arg("--requestheader-extra-headers-prefix=X-Remote-Extra-")
            .arg(format!(
                "--proxy-client-cert-file={}",
                certs.front_proxy_client.cert.display()
            ))
            .arg(format!(
                "--proxy-client-key-file={}",
                certs.front_proxy_client.key.display()
            ))
            // The `kubernetes` Service's Endpoints would name 127.0.0.1, which
            // endpoint validation rejects (loopback); nothing here needs them.
            .arg("--endpoint-reconciler-type=none")
            .arg("--allow-privileged=true")
            .arg("--profiling=false");
        cp.spawn("kube-apiserver", apiserver)?;

        let admin = cp.client(&env.rt)?;
        cp.wait_for("kube-apiserver /readyz", Duration::from_secs(120), || {
            env.rt
                .block_on(get_text(&admin, "/readyz"))
                .is_some_and(|body| body.trim() == "ok")
        })?;
        tracing::info!(elapsed = ?started.elapsed(), "kube-apiserver ready");

        create_fake_node(&env.rt, &admin)?;

        let mut kcm = env.tools.command("kube-controller-manager");
        kcm.arg(format!("--kubeconfig={}", kcm_kubeconfig.display()))
            .arg(format!(
                "--authentication-kubeconfig={}",
                kcm_kubeconfig.display()
            ))
            .arg(format!(
                "--authorization-kubeconfig={}",
                kcm_kubeconfig.display()
            ))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--secure-port={kcm_port}"))
            .arg(format!(
                "--tls-cert-file={}",
                certs.components.cert.display()
            ))
            .arg(format!(
                "--tls-private-key-file={}",
                certs.components.key.display()
            ))
            .arg(format!("--client-ca-file={}", certs.ca_cert.display()))
            .arg("--leader-elect=false")
            .arg("--controllers=*")
            .arg("--use-service-account-credentials=true")
            .arg(format!(
                "--service-account-private-key-file={}",
                certs.sa_private.display()
            ))
            .arg(format!("--root-ca-file={}", certs.ca_cert.display()))
            .arg(format!(
                "--cluster-signing-cert-file={}",
                certs.ca_cert.display()
            ))
            .arg(format!(
                "--cluster-signing-key-file={}",
                certs.ca_key.display()
            ))
            .arg(format!("--service-cluster-ip-range={SERVICE_CIDR}"))
            .arg(format!("--cluster-name={CLUSTER_NAME}"))
            .arg("--profiling=false");
        cp.spawn("kube-controller-manager", kcm)?;

        let mut scheduler = env.tools.command("kube-scheduler");
        scheduler
            .arg(format!("--kubeconfig={}", scheduler_kubeconfig.display()))
            .arg(format!(
                "--authentication-kubeconfig={}",
                scheduler_kubeconfig.display()
            ))
            .arg(format!(
                "--authorization-kubeconfig={}",
                scheduler_kubeconfig.display()
            ))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--secure-port={scheduler_port}"))
            .arg(format!(
                "--tls-cert-file={}",
                certs.components.cert.display()
            ))
            .arg(format!(
                "--tls-private-key-file={}",
                certs.components.key.display()
            ))
            .arg(format!("--client-ca-file={}", certs.ca_cert.display()))
            .arg("--leader-elect=false")
            .arg("--profiling=false");
        cp.spawn("kube-scheduler", scheduler)?;

        // Standalone kwok has no Stages unless configured; kwok-stages prints
        // the defaults of the pinned kwok module (node init + lease
        // heartbeat, pod ready/complete/delete).
        let stages = env
            .tools
            .command("kwok-stages")
            .output()
            .context("failed to run kwok-stages")?;
        if !stages.status.success() {
            bail!(
                "kwok-stages failed ({}): {}",
                stages.status,
                String::from_utf8_lossy(&stages.stderr)
            );
        }
        let kwok_config = dir.join("kwok.yaml");
        std::fs::write(&kwok_config, &stages.stdout)
            .with_context(|| format!("failed to write {}", kwok_config.display()))?;
        // kwok also reads ~/.kwok/kwok.yaml; give it an empty home so only
        // our config counts.
        let kwok_home = dir.join("kwok-home");
        std::fs::create_dir_all(&kwok_home)?;
        let mut kwok = env.tools.command("kwok");
        kwok.env("HOME", &kwok_home)
            .arg(format!("--kubeconfig={}", cp.kubeconfig.display()))
            .arg(format!("--config={}", kwok_config.display()))
            .arg("--manage-all-nodes=false")
            .arg(format!(
                "--manage-nodes-with-annotation-selector={}={}",
                KWOK_NODE_ANNOTATION.0, KWOK_NODE_ANNOTATION.1
            ))
            .arg("--node-lease-duration-seconds=40")
            .arg("--cidr=10.244.0.0/24")
            .arg("--node-ip=10.0.0.10");
        cp.spawn("kwok", kwok)?;

        let kcm_health = cp.component_client(&env.rt, kcm_port)?;
        let scheduler_health = cp.component_client(&env.rt, scheduler_port)?;
        let nodes: Api<Node> = Api::all(admin.clone());
        let service_accounts: Api<ServiceAccount> = Api::namespaced(admin.clone(), "default");
        let (mut kcm_ok, mut scheduler_ok, mut node_ok, mut sa_ok) = (false, false, false, false);
        cp.wait_for(
            "kube-controller-manager, kube-scheduler and the kwok node",
            Duration::from_secs(90),
            || {
                env.rt.block_on(async {
                    if !kcm_ok {
                        kcm_ok = get_text(&kcm_health, "/healthz").await.as_deref() == Some("ok");
                    }
                    if !scheduler_ok {
                        scheduler_ok =
                            get_text(&scheduler_health, "/readyz").await.as_deref() == Some("ok");
                    }
                    if !node_ok {
                        node_ok = matches!(
                            with_timeout(nodes.get_opt(FAKE_NODE)).await,
                            Some(Ok(Some(node))) if node_is_ready(&node)
                        );
                    }
                    // The serviceaccount controller creates `default` in every
                    // namespace; Pods are refused until it exists.
                    if !sa_ok {
                        sa_ok = matches!(
                            with_timeout(service_accounts.get_opt("default")).await,
                            Some(Ok(Some(_)))
                        );
                    }
                });
                tracing::debug!(
                    kcm_ok,
                    scheduler_ok,
                    node_ok,
                    sa_ok,
                    "waiting for the control plane"
                );
                kcm_ok && scheduler_ok && node_ok && sa_ok
            },
        )
        .with_context(|| {
            format!(
                "kube-controller-manager healthy: {kcm_ok}, kube-scheduler ready: {scheduler_ok}, \
                 node {FAKE_NODE} Ready: {node_ok}, default ServiceAccount: {sa_ok}"
            )
        })?;
        tracing::info!(elapsed = ?started.elapsed(), "control plane ready");
        eprintln!(
            "e2e: control plane ({KUBERNETES_VERSION}) ready in {:.1}s at {}",
            started.elapsed().as_secs_f32(),
            cp.server
        );
        Ok(cp)
    }

    /// A client with the admin credential. Build it on the runtime that
    /// will drive it (`env.rt`).
    pub fn client(&self, rt: &Runtime) -> Result<kube::Client> {
        install_crypto_provider();
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig)
            .with_context(|| format!("failed to read {}", self.kubeconfig.display()))?;
        rt.block_on(async {
            let config =
                kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                    .await
                    .context("failed to load the admin kubeconfig")?;
            kube::Client::try_from(config).context("failed to build a kube client")
        })
    }

    /// `kubectl --kubeconfig <admin>`; add the rest of the arguments.
    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new(&self.kubectl);
        cmd.arg(format!("--kubeconfig={}", self.kubeconfig.display()));
        cmd
    }

    /// Run kubectl with `args` and return its stdout; fails with stderr if
    /// kubectl does.
    pub fn kubectl_output(&self, args: &[&str]) -> Result<String> {
        let out = self
            .kubectl()
            .args(args)
            .output()
            .context("failed to run kubectl")?;
        if !out.status.success() {
            bail!(
                "kubectl {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        String::from_utf8(out.stdout).context("kubectl printed non-UTF-8 output")
    }

    /// Fails naming every control-plane process that has exited.
    pub fn check_running(&self) -> Result<()> {
        let mut processes = self.processes.lock().unwrap_or_else(|p| p.into_inner());
        let dead: Vec<String> = processes
            .iter_mut()
            .filter_map(|p| p.check_running().err().map(|e| format!("{e:#}")))
            .collect();
        if !dead.is_empty() {
            bail!("{}", dead.join("\n"));
        }
        Ok(())
    }

    /// The last `lines` log lines of every process, for failure messages.
    pub fn log_tails(&self, lines: usize) -> String {
        let processes = self.processes.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for p in processes.iter() {
            let _ = writeln!(
                out,
                "--- {} ({}):\n{}",
                p.name,
                p.log.display(),
                p.log_tail(lines)
            );
        }
        out
    }

    /// Stop every process, newest first: the components before the
    /// apiserver, the apiserver before etcd (etcd waits out its grace
    /// period while the apiserver still holds connections).
    pub fn stop(self) {
        let mut processes = self
            .processes
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        while let Some(p) = processes.pop() {
            p.stop();
        }
    }

    fn spawn(&mut self, name: &str, cmd: Command) -> Result<()> {
        let process = Process::spawn(name, cmd, &self.dir)?;
        self.processes
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .push(process);
        Ok(())
    }

    /// Poll `ready` every 200 ms until it holds, failing early if any
    /// process exits and with every log tail if `timeout` passes.
    fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut ready: impl FnMut() -> bool,
    ) -> Result<()> {
        let start = Instant::now();
        loop {
            self.check_running()
                .with_context(|| format!("while waiting for {what}"))?;
            if ready() {
                tracing::debug!(what, elapsed = ?start.elapsed(), "ready");
                return Ok(());
            }
            if start.elapsed() > timeout {
                bail!(
                    "timed out after {timeout:?} waiting for {what}; logs:\n{}",
                    self.log_tails(20)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A client for a component's own HTTPS port (controller-manager,
    /// scheduler), trusting the run's CA and presenting the admin cert.
    fn component_client(&self, rt: &Runtime, port: u16) -> Result<kube::Client> {
        install_crypto_provider();
        let kubeconfig = Kubeconfig::read_from(&self.kubeconfig)?;
        rt.block_on(async {
            let mut config =
                kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                    .await?;
            config.cluster_url = format!("https://127.0.0.1:{port}").parse()?;
            Ok(kube::Client::try_from(config)?)
        })
    }
}

/// `N` distinct free loopback ports: all are held open until every one is
/// chosen, so the kernel cannot hand the same port out twice.
fn free_ports<const N: usize>() -> Result<[u16; N]> {
    let listeners = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .context("failed to reserve loopback ports")?;
    let mut ports = [0u16; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr()?.port();
    }
    Ok(ports)
}

pub fn install_crypto_provider() {
    // Fails only when a provider is already installed, which is fine.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Run `fut` with a short timeout, so one hung request cannot stall a wait
/// loop past its deadline.
async fn with_timeout<F: std::future::Future>(fut: F) -> Option<F::Output> {
    tokio::time::timeout(Duration::from_secs(3), fut).await.ok()
}

/// GET `path` and return the body on a 2xx answer.
async fn get_text(client: &kube::Client, path: &str) -> Option<String> {
    let request = http::Request::get(path).body(Vec::new()).ok()?;
    with_timeout(client.request_text(request)).await?.ok()
}

fn node_is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn create_fake_node(rt: &Runtime, client: &kube::Client) -> Result<()> {
    let node: Node = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": FAKE_NODE,
            "annotations": {
                KWOK_NODE_ANNOTATION.0: KWOK_NODE_ANNOTATION.1,
                "node.alpha.kubernetes.io/ttl": "0",
            },
            "labels": {
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": FAKE_NODE,
                "kubernetes.io/os": "linux",
                "type": "kwok",
            },
        },
    }))?;
    let nodes: Api<Node> = Api::all(client.clone());
    rt.block_on(nodes.create(&PostParams::default(), &node))
        .with_context(|| format!("failed to create the fake node {FAKE_NODE}"))?;
    Ok(())
}

/// A certificate and its private key, both PEM files.
struct CertPair {
    cert: PathBuf,
    key: PathBuf,
}

/// Every credential of one run.
struct Pki {
    ca_cert: PathBuf,
    ca_key: PathBuf,
    apiserver: CertPair,
    /// Serving cert of controller-manager and scheduler (127.0.0.1).
    components: CertPair,
    admin: CertPair,
    controller_manager: CertPair,
    scheduler: CertPair,
    front_proxy_ca_cert: PathBuf,
    front_proxy_client: CertPair,
    sa_private: PathBuf,
    sa_public: PathBuf,
}

impl Pki {
    fn generate(dir: &Path) -> Result<Pki> {
        let write = |file: &str, contents: &str| -> Result<PathBuf> {
            let path = dir.join(file);
            std::fs::write(&path, contents)
                .with_context(|| format!("failed to write {}", path.display()))?;
            Ok(path)
        };
        let leaf = |issuer: &Issuer<'_, KeyPair>,
                    file: &str,
                    common_name: &str,
                    organization: Option<&str>,
                    sans: &[&str],
                    usage: ExtendedKeyUsagePurpose|
         -> Result<CertPair> {
            let key = KeyPair::generate()?;
            let mut params =
                CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
            params.distinguished_name = name(common_name, organization);
            params.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ];
            params.extended_key_usages = vec![usage];
            params.use_authority_key_identifier_extension = true;
            set_validity(&mut params);
            let cert = params.signed_by(&key, issuer)?;
            Ok(CertPair {
                cert: write(&format!("{file}.crt"), &cert.pem())?,
                key: write(&format!("{file}.key"), &key.serialize_pem())?,
            })
        };

        let (ca_pem, ca) = new_ca("berth-e2e-ca")?;
        let apiserver = leaf(
            &ca,
            "apiserver",
            "kube-apiserver",
            None,
            &[
                "127.0.0.1",
                "localhost",
                SERVICE_API_IP,
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ],
            ExtendedKeyUsagePurpose::ServerAuth,
        )?;
        let components = leaf(
            &ca,
            "components",
            "berth-e2e-components",
            None,
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
        )?;
        let admin = leaf(
            &ca,
            "admin",
            "kubernetes-admin",
            Some("system:masters"),
            &[],
            ExtendedKeyUsagePurpose::ClientAuth,
        )?;
        // The names the bootstrap RBAC policy grants their roles to.
        let controller_manager = leaf(
            &ca,
            "kube-controller-manager",
            "system:kube-controller-manager",
            None,
            &[],
            ExtendedKeyUsagePurpose::ClientAuth,
        )?;
        let scheduler = leaf(
            &ca,
            "kube-scheduler",
            "system:kube-scheduler",
            None,
            &[],
            ExtendedKeyUsagePurpose::ClientAuth,
        )?;

        // The aggregation layer's own CA, as kubeadm sets it up: without it
        // every delegating component (controller-manager, scheduler,
        // extension API servers) keeps logging a missing requestheader CA.
        let (front_proxy_ca_pem, front_proxy_ca) = new_ca("berth-e2e-front-proxy-ca")?;
        let front_proxy_client = leaf(
            &front_proxy_ca,
            "front-proxy-client",
            FRONT_PROXY_CLIENT,
            None,
            &[],
            ExtendedKeyUsagePurpose::ClientAuth,
        )?;

        let sa_key = KeyPair::generate()?;
        Ok(Pki {
            ca_cert: write("ca.crt", &ca_pem)?,
            ca_key: write("ca.key", &ca.key().serialize_pem())?,
            apiserver,
            components,
            admin,
            controller_manager,
            scheduler,
            front_proxy_ca_cert: write("front-proxy-ca.crt", &front_proxy_ca_pem)?,
            front_proxy_client,
            sa_private: write("sa.key", &sa_key.serialize_pem())?,
            sa_public: write("sa.pub", &sa_key.public_key_pem())?,
        })
    }
}

/// A new self-signed CA: its certificate (PEM) and the issuer that signs
/// with it.
fn new_ca(common_name: &str) -> Result<(String, Issuer<'static, KeyPair>)> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = name(common_name, None);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut params);
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

/// Valid from a year back (clock skew is no issue) to two years ahead.
fn set_validity(params: &mut CertificateParams) {
    let year = chrono::Utc::now().year();
    params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
    params.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
}

fn name(common_name: &str, organization: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    if let Some(org) = organization {
        dn.push(DnType::OrganizationName, org);
    }
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A kubeconfig naming the CA, the server and one client certificate by
/// path. Paths are written as JSON strings, which YAML reads verbatim.
fn write_kubeconfig(path: &Path, server: &str, ca: &Path, user: &CertPair) -> Result<()> {
    let quote = |p: &Path| serde_json::to_string(&p.display().to_string());
    let text = format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {CLUSTER_NAME}\n  \
           cluster:\n    \
             server: {server}\n    \
             certificate-authority: {ca}\n\
         users:\n\
         - name: {CLUSTER_NAME}-user\n  \
           user:\n    \
             client-certificate: {cert}\n    \
             client-key: {key}\n\
         contexts:\n\
         - name: {CLUSTER_NAME}\n  \
           context:\n    \
             cluster: {CLUSTER_NAME}\n    \
             user: {CLUSTER_NAME}-user\n\
         current-context: {CLUSTER_NAME}\n",
        ca = quote(ca)?,
        cert = quote(&user.cert)?,
        key = quote(&user.key)?,
    );
    std::fs::write(path, text).with_context(|| format!("failed to write {}", path.display()))
}

/// Whether `kubectl get KIND -n NS NAME` finds the object.
pub fn exists(cp: &ControlPlane, kind: &str, ns: &str, name: &str) -> Result<bool> {
    let out = cp.kubectl_output(&[
        "get",
        kind,
        "-n",
        ns,
        name,
        "--ignore-not-found",
        "-o",
        "name",
    ])?;
    Ok(!out.trim().is_empty())
}
