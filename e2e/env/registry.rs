//! Real OCI registries on loopback, one per flavour the tests need:
//!
//! - `referrers`: plain HTTP, serves the OCI 1.1 referrers API
//!   (`ggcr-registry`, our main around go-containerregistry's registry);
//! - `no_referrers`: plain HTTP, no referrers API (distribution v3, the
//!   reference registry), so clients fall back to the referrers tag schema;
//! - `tls`: HTTPS with a certificate signed by a CA generated for this run
//!   (`ggcr-registry`, so it also serves referrers);
//! - `auth`: plain HTTP with basic authentication against a bcrypt htpasswd
//!   file (distribution), with a user and password generated for this run.
//!
//! Everything (config, certificates, storage, logs) lives under
//! `env.dir/registry/`. `ClientHome` gives the client tools (helm, cosign,
//! oras) a HOME, DOCKER_CONFIG and TMPDIR inside the run directory, so no
//! client ever reads or writes the user's real configuration.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use super::process::{free_port, Process};
use super::tools::Tools;

/// bcrypt cost of the htpasswd entry: distribution checks it on every
/// request, and Go's minimum is 4, so keep it cheap.
const HTPASSWD_BCRYPT_COST: u32 = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// User name and password of a registry with basic authentication.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// One running registry.
pub struct Registry {
    /// Short name, also the log file name (`<dir>/<name>.log`).
    pub name: &'static str,
    /// `127.0.0.1:<port>`, the registry part of a reference.
    pub host: String,
    /// Whether it is served over HTTPS (with `Registries::ca_cert`).
    pub tls: bool,
    /// Whether it serves `GET /v2/<name>/referrers/<digest>`.
    pub referrers: bool,
    /// Set when the registry requires basic authentication.
    pub credentials: Option<Credentials>,
    process: Mutex<Process>,
}

impl Registry {
    /// `http://127.0.0.1:<port>` or `https://…`.
    pub fn base_url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.host
        )
    }

    /// `127.0.0.1:<port>/<repo>`, a reference without scheme (oras, cosign).
    pub fn repo(&self, repo: &str) -> String {
        format!("{}/{}", self.host, repo)
    }

    /// `oci://127.0.0.1:<port>/<repo>` (helm, Flux-style URLs).
    pub fn oci_url(&self, repo: &str) -> String {
        format!("oci://{}/{}", self.host, repo)
    }

    /// Fail if the registry process has exited.
    pub fn check_running(&self) -> Result<()> {
        lock(&self.process).check_running()
    }

    /// The last lines of the registry's log, for error messages.
    pub fn log_tail(&self, lines: usize) -> String {
        lock(&self.process).log_tail(lines)
    }

    fn stop(self) {
        let process = self
            .process
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        process.stop();
    }
}

fn lock(p: &Mutex<Process>) -> std::sync::MutexGuard<'_, Process> {
    p.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub struct Registries {
    /// Plain HTTP, with the OCI 1.1 referrers API.
    pub referrers: Registry,
    /// Plain HTTP, without the referrers API.
    pub no_referrers: Registry,
    /// HTTPS with a per-run CA (`ca_cert`), with the referrers API.
    pub tls: Registry,
    /// Plain HTTP with basic authentication (`credentials`).
    pub auth: Registry,
    /// PEM of the CA that signed the `tls` registry's certificate.
    pub ca_cert: PathBuf,
    /// Where configs, certificates, storage and logs live.
    pub dir: PathBuf,
    client: reqwest::Client,
}

impl Registries {
    pub fn start(env: &super::Env) -> Result<Registries> {
        let dir = env.dir.path().join("registry");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("failed to create {}", dir.display()))?;

        let certs = write_tls_files(&dir)?;
        let credentials = Credentials {
            username: format!("berth-{}", random_hex(4)?),
            password: random_hex(16)?,
        };

        let referrers = start_ggcr(&env.tools, &dir, "registry-referrers", None, None)?;
        let no_referrers = start_distribution(&env.tools, &dir, "registry-no-referrers", None)?;
        let tls = start_ggcr(&env.tools, &dir, "registry-tls", Some(&certs), None)?;
        let auth = start_distribution(&env.tools, &dir, "registry-auth", Some(&credentials))?;

        // reqwest needs the runtime's reactor even to build a client.
        let client = {
            let _rt = env.rt.enter();
            http_client(&certs.ca_cert)?
        };
        let registries = Registries {
            referrers,
            no_referrers,
            tls,
            auth,
            ca_cert: certs.ca_cert,
            dir,
            client,
        };
        for r in registries.all() {
            wait_ready(env, &registries.client, r)?;
        }
        tracing::info!(
            referrers = %registries.referrers.host,
            no_referrers = %registries.no_referrers.host,
            tls = %registries.tls.host,
            auth = %registries.auth.host,
            "registries ready"
        );
        Ok(registries)
    }

    /// Every registry, in a fixed order.
    pub fn all(&self) -> [&Registry; 4] {
        [&self.referrers, &self.no_referrers, &self.tls, &self.auth]
    }

    /// An HTTP client (for `env.rt`) that trusts only the run's CA (for
    /// the `tls` registry) and talks plain HTTP to the others.
    pub fn http_client(&self) -> reqwest::Client {
        self.client.clone()
    }

    pub fn stop(self) {
        self.referrers.stop();
        self.no_referrers.stop();
        self.tls.stop();
        self.auth.stop();
    }
}

fn http_client(ca_cert: &Path) -> Result<reqwest::Client> {
    let pem =
        std::fs::read(ca_cert).with_context(|| format!("failed to read {}", ca_cert.display()))?;
    let ca = reqwest::Certificate::from_pem(&pem).context("failed to parse the run's CA")?;
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(10))
        .build()
        .context("failed to build the HTTP client")
}

/// A response read whole.
pub struct HttpResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// Send a request on the suite's runtime and read the whole body.
pub fn http_send(env: &super::Env, req: reqwest::RequestBuilder) -> Result<HttpResponse> {
    env.rt.block_on(async move {
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?.to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    })
}

/// Poll `GET /v2/` until the registry answers 200 (or 401 when it needs
/// credentials, which is the API's "yes, I am a registry").
fn wait_ready(env: &super::Env, client: &reqwest::Client, r: &Registry) -> Result<()> {
    let url = format!("{}/v2/", r.base_url());
    let expected = if r.credentials.is_some() { 401 } else { 200 };
    let mut last = String::from("no answer yet");
    let mut process = lock(&r.process);
    process
        .wait_until(READY_TIMEOUT, || {
            match http_send(env, client.get(&url)) {
                Ok(resp) if resp.status == expected => return true,
                Ok(resp) => last = format!("status {}", resp.status),
                Err(e) => last = format!("{e:#}"),
            }
            false
        })
        .with_context(|| format!("GET {url} (last: {last})"))
}

fn start_ggcr(
    tools: &Tools,
    dir: &Path,
    name: &'static str,
    tls: Option<&TlsFiles>,
    credentials: Option<&Credentials>,
) -> Result<Registry> {
    let port = free_port()?;
    let host = format!("127.0.0.1:{port}");
    let mut cmd = tools.command("ggcr-registry");
    cmd.arg("-listen").arg(&host);
    if let Some(tls) = tls {
        cmd.arg("-tls-cert").arg(&tls.server_cert);
        cmd.arg("-tls-key").arg(&tls.server_key);
    }
    if let Some(c) = credentials {
        cmd.args(["-user", &c.username, "-password", &c.password]);
    }
    let process = Process::spawn(name, cmd, dir)?;
    Ok(Registry {
        name,
        host,
        tls: tls.is_some(),
        referrers: true,
        credentials: credentials.cloned(),
        process: Mutex::new(process),
    })
}

fn start_distribution(
    tools: &Tools,
    dir: &Path,
    name: &'static str,
    credentials: Option<&Credentials>,
) -> Result<Registry> {
    let port = free_port()?;
    let host = format!("127.0.0.1:{port}");
    let storage = dir.join(format!("{name}-storage"));
    std::fs::create_dir_all(&storage)?;
    let mut auth = String::new();
    if let Some(c) = credentials {
        let htpasswd = dir.join(format!("{name}.htpasswd"));
        let hash = bcrypt::hash(&c.password, HTPASSWD_BCRYPT_COST)
            .context("failed to hash the registry password")?;
        std::fs::write(&htpasswd, format!("{}:{hash}\n", c.username))?;
        auth = format!(
            "auth:\n  htpasswd:\n    realm: berth-e2e\n    path: {}\n",
            yaml_str(&htpasswd)
        );
    }
    let config = format!(
        "version: 0.1\n\
         log:\n  level: info\n  formatter: text\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
         http:\n  addr: {host}\n  secret: {}\n{auth}",
        yaml_str(&storage),
        random_hex(16)?,
    );
    let config_path = dir.join(format!("{name}.yaml"));
    std::fs::write(&config_path, config)?;
    let mut cmd = tools.command("registry");
    cmd.arg("serve").arg(&config_path);
    // Distribution exports OpenTelemetry traces to an OTLP collector by
    // default; there is none.
    cmd.env("OTEL_TRACES_EXPORTER", "none");
    let process = Process::spawn(name, cmd, dir)?;
    Ok(Registry {
        name,
        host,
        tls: false,
        referrers: false,
        credentials: credentials.cloned(),
        process: Mutex::new(process),
    })
}

/// A path as a double-quoted YAML scalar.
fn yaml_str(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

struct TlsFiles {
    ca_cert: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
}

/// A CA and a serving certificate for 127.0.0.1 / localhost signed by it.
fn write_tls_files(dir: &Path) -> Result<TlsFiles> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "berth e2e registry CA");
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "127.0.0.1");
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;

    let files = TlsFiles {
        ca_cert: dir.join("ca.crt"),
        server_cert: dir.join("registry-tls.crt"),
        server_key: dir.join("registry-tls.key"),
    };
    std::fs::write(&files.ca_cert, ca_cert.pem())?;
    std::fs::write(&files.server_cert, cert.pem())?;
    std::fs::write(&files.server_key, key.serialize_pem())?;
    Ok(files)
}

/// `n` random bytes from the kernel, hex-encoded.
pub fn random_hex(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("failed to read /dev/urandom")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A proxy address nothing listens on: the client tools get it as
/// HTTP(S)_PROXY, so a request to anything but loopback (which Go never
/// proxies) fails at once with "proxyconnect" instead of leaving the machine
/// (cosign, for instance, fetches the public Sigstore TUF root unless told
/// otherwise). `run_output` turns that message into an error.
const DEAD_PROXY: &str = "http://127.0.0.1:1";

/// A private HOME for the client tools (helm, cosign, oras): HOME,
/// DOCKER_CONFIG, the XDG directories and TMPDIR all point inside the run
/// directory and the rest of the environment is cleared (no user
/// credentials, no `COSIGN_*` leaking in from the caller), with a dead
/// proxy so nothing leaves loopback.
pub struct ClientHome {
    pub home: PathBuf,
    pub docker_config: PathBuf,
    pub tmp: PathBuf,
}

impl ClientHome {
    /// `<env.dir>/clients/<name>/`, created fresh.
    pub fn new(env: &super::Env, name: &str) -> Result<ClientHome> {
        let root = env.dir.path().join("clients").join(name);
        let home = root.join("home");
        let docker_config = home.join(".docker");
        let tmp = root.join("tmp");
        for d in [&home, &docker_config, &tmp] {
            std::fs::create_dir_all(d)
                .with_context(|| format!("failed to create {}", d.display()))?;
        }
        Ok(ClientHome {
            home,
            docker_config,
            tmp,
        })
    }

    /// A command for a pinned tool, running in this home.
    pub fn command(&self, tools: &Tools, tool: &str) -> Command {
        let mut cmd = tools.command(tool);
        cmd.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &self.home)
            .env("DOCKER_CONFIG", &self.docker_config)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("TMPDIR", &self.tmp)
            .env("NO_COLOR", "1")
            .env("HTTP_PROXY", DEAD_PROXY)
            .env("HTTPS_PROXY", DEAD_PROXY)
            .env("NO_PROXY", "")
            .current_dir(&self.home);
        cmd
    }
}

/// How long a client command may run before it is killed.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Run a client command to completion (killing its process group after
/// `CLIENT_TIMEOUT`) and return its output whatever the exit status.
pub fn run_output(mut cmd: Command) -> Result<Output> {
    let shown = describe(&cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setpgid(0, 0);
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("failed to start {shown}"))?;
    let pid = child.id() as i32;
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            // SAFETY: plain syscall on our own child's process group.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            let _ = child.wait();
            bail!("{shown} timed out after {CLIENT_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    for text in [&stdout, &stderr] {
        let text = String::from_utf8_lossy(text);
        if let Some(line) = text.lines().find(|l| l.contains("proxyconnect")) {
            bail!("{shown} tried to reach a host outside loopback: {line}");
        }
    }
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Run a client command that must succeed; returns its stdout.
pub fn run_ok(cmd: Command) -> Result<String> {
    let shown = describe(&cmd);
    let out = run_output(cmd)?;
    if !out.status.success() {
        bail!(
            "{shown} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Run a client command that must fail; returns its stdout and stderr.
pub fn run_fails(cmd: Command) -> Result<String> {
    let shown = describe(&cmd);
    let out = run_output(cmd)?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        bail!("{shown} succeeded but should have failed:\n{text}");
    }
    Ok(text)
}

/// The program and arguments of a command, without its environment.
fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
