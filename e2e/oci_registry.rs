//! berth's OCI client (`berth-oci`) against the real registries: content
//! pushed by the real `helm` and `oras`, read back by the client. Tags
//! across pages, tag → digest resolution, manifests and blobs verified,
//! referrers and their absence, basic auth, the Bearer token flow (the
//! suite's ggcr-registry with `-token-auth`), TLS with the run's CA and with
//! a required client certificate.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use berth_oci::manifest::{HELM_CHART_LAYER, HELM_CONFIG};
use berth_oci::{
    docker_config, Client, ClientOptions, Credentials, Digest, Document, Error, ImageManifest,
    Reference,
};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use crate::env::charts::{helm_push, package_chart};
use crate::env::process::{free_port, Process};
use crate::env::registry::{random_hex, run_fails, run_ok, ClientHome, Registry};
use crate::env::Env;

pub fn tests() -> Vec<crate::Test> {
    vec![
        crate::Test {
            name: "oci_tags_across_pages",
            run: tags_across_pages,
        },
        crate::Test {
            name: "oci_helm_chart_by_digest",
            run: helm_chart_by_digest,
        },
        crate::Test {
            name: "oci_oras_artifact_and_referrers",
            run: oras_artifact_and_referrers,
        },
        crate::Test {
            name: "oci_basic_auth_and_docker_config",
            run: basic_auth_and_docker_config,
        },
        crate::Test {
            name: "oci_bearer_token_auth",
            run: bearer_token_auth,
        },
        crate::Test {
            name: "oci_tls_ca_and_client_certificate",
            run: tls_ca_and_client_certificate,
        },
    ]
}

/// A client for one of the suite's registries (plain HTTP, or HTTPS with
/// the run's CA).
fn client_for(env: &Env, reg: &Registry, credentials: Credentials) -> Result<Client> {
    let mut options = ClientOptions {
        insecure: !reg.tls,
        timeout: Duration::from_secs(30),
        ..ClientOptions::default()
    };
    if reg.tls {
        options.ca_pem = Some(std::fs::read(&env.registries()?.ca_cert)?);
    }
    new_client(env, &reg.host, credentials, options)
}

fn new_client(
    env: &Env,
    host: &str,
    credentials: Credentials,
    options: ClientOptions,
) -> Result<Client> {
    // reqwest needs the runtime's reactor to build a client.
    let _rt = env.rt.enter();
    Ok(Client::new(host, credentials, options)?)
}

fn plain_http(reg: &Registry) -> Vec<String> {
    if reg.tls {
        vec![]
    } else {
        vec!["--plain-http".into()]
    }
}

fn manifest_of(doc: &Document) -> Result<&ImageManifest> {
    match doc {
        Document::Manifest(m) => Ok(m),
        Document::Index(_) => bail!("expected an image manifest, got an index"),
    }
}

/// Twelve tags read with a page size of 5: three pages on both registries
/// (distribution sends `Link`, ggcr honours `n`/`last` without one), and a
/// page cap of 2 is an error rather than a short list.
fn tags_across_pages(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let home = ClientHome::new(env, "oci-tags")?;
    let chart = package_chart(env, &home, "paged", "1.0.0")?;
    for reg in [&regs.no_referrers, &regs.referrers] {
        let repo = format!("tags-{}", random_hex(4)?);
        helm_push(env, &home, &chart, &reg.host, &repo, &plain_http(reg))?;
        let name = format!("{repo}/paged");
        let extra: Vec<String> = (1..=11).map(|i| format!("t{i:02}")).collect();
        let mut cmd = home.command(&env.tools, "oras");
        cmd.args(["tag", "--plain-http"])
            .arg(format!("{}:1.0.0", reg.repo(&name)))
            .args(&extra);
        run_ok(cmd)?;
        let mut expected: Vec<String> = extra.clone();
        expected.push("1.0.0".into());
        expected.sort();

        let paged = |max_pages| {
            let mut options = ClientOptions {
                insecure: true,
                tag_page_size: Some(5),
                ..ClientOptions::default()
            };
            options.max_pages = max_pages;
            new_client(env, &reg.host, Credentials::Anonymous, options)
        };
        let client = paged(100)?;
        let mut tags = env.rt.block_on(client.list_tags(&name))?;
        tags.sort();
        ensure!(tags == expected, "{}: listed {tags:?}", reg.name);
        let counts = client.counters().snapshot();
        ensure!(
            counts.get("tags GET") == Some(&3) && counts.len() == 1,
            "{}: expected three tag pages, counted {counts:?}",
            reg.name
        );

        let client = paged(2)?;
        match env.rt.block_on(client.list_tags(&name)) {
            Err(Error::Pagination { .. }) => {}
            other => bail!("{}: a page cap of 2 gave {other:?}", reg.name),
        }

        let client = client_for(env, reg, Credentials::Anonymous)?;
        let mut tags = env.rt.block_on(client.list_tags(&name))?;
        tags.sort();
        ensure!(tags == expected, "{}: unpaged listing {tags:?}", reg.name);
        ensure!(client.counters().total() == 1);
    }
    Ok(())
}

/// A chart pushed by helm: the tag resolves with one HEAD to helm's
/// digest, the manifest fetched by digest verifies, and the chart layer
/// comes back byte for byte (into memory and streamed into a file).
fn helm_chart_by_digest(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let home = ClientHome::new(env, "oci-helm")?;
    let chart = package_chart(env, &home, "pulled", "0.2.0")?;
    for reg in [&regs.referrers, &regs.no_referrers] {
        let repo = format!("charts-{}", random_hex(4)?);
        let pushed = helm_push(env, &home, &chart, &reg.host, &repo, &plain_http(reg))?;
        let reference =
            Reference::parse(&format!("{}:0.2.0", reg.oci_url(&format!("{repo}/pulled"))))?;
        let client = client_for(env, reg, Credentials::Anonymous)?;
        client.check_reference(&reference)?;
        let name = reference.repository();

        let digest = env.rt.block_on(client.resolve(name, "0.2.0"))?;
        ensure!(
            digest == pushed,
            "{}: resolved {digest}, helm pushed {pushed}",
            reg.name
        );
        let counts = client.counters().snapshot();
        ensure!(
            counts.get("manifest HEAD") == Some(&1) && client.counters().total() == 1,
            "{}: resolving a tag should cost one HEAD: {counts:?}",
            reg.name
        );

        let fetched = env
            .rt
            .block_on(client.fetch_manifest(name, &digest.to_string()))?;
        ensure!(fetched.digest == digest);
        let by_tag = env.rt.block_on(client.fetch_manifest(name, "0.2.0"))?;
        ensure!(by_tag.digest == digest && by_tag.bytes == fetched.bytes);
        let manifest = manifest_of(&fetched.document)?;
        ensure!(
            manifest.config.media_type == HELM_CONFIG,
            "{}: config {:?}",
            reg.name,
            manifest.config
        );
        let layer = manifest
            .layer_with_media_type(HELM_CHART_LAYER)
            .context("no chart layer")?;
        let blob = env
            .rt
            .block_on(client.fetch_blob_to_vec(name, layer, 10 << 20))?;
        ensure!(
            blob == chart.bytes,
            "{}: the chart layer differs from the package",
            reg.name
        );

        let path = home.tmp.join(format!("streamed-{}.tgz", reg.name));
        let written = env.rt.block_on(async {
            let mut file = tokio::fs::File::create(&path).await?;
            let n = client.fetch_blob(name, layer, &mut file).await?;
            anyhow::Ok(n)
        })?;
        ensure!(written == layer.size && std::fs::read(&path)? == chart.bytes);

        let config = env
            .rt
            .block_on(client.fetch_blob_to_vec(name, &manifest.config, 1 << 20))?;
        let config: serde_json::Value = serde_json::from_slice(&config)?;
        ensure!(
            config["name"] == "pulled" && config["version"] == "0.2.0",
            "config blob {config}"
        );

        // A digest the repository does not have, and a tag it does not.
        let missing = Digest::sha256_of(b"not pushed");
        match env
            .rt
            .block_on(client.fetch_manifest(name, &missing.to_string()))
        {
            Err(Error::NotFound { .. }) => {}
            other => bail!("{}: missing manifest gave {other:?}", reg.name),
        }
        match env.rt.block_on(client.resolve(name, "9.9.9")) {
            Err(Error::NotFound { .. }) => {}
            other => bail!("{}: missing tag gave {other:?}", reg.name),
        }
    }
    Ok(())
}

/// `oras push` of a file with a custom media type, read back by media type;
/// `oras attach` of an SBOM-like referrer, found through the referrers API
/// on ggcr (filtered by artifact type) and reported as unsupported by
/// distribution, where oras falls back to the `sha256-<hex>` tag index.
fn oras_artifact_and_referrers(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let home = ClientHome::new(env, "oci-oras")?;
    let media_type = "application/vnd.berth.e2e.config.v1+yaml";
    let artifact_type = "application/vnd.berth.e2e.bundle.v1";
    let referrer_type = "application/vnd.berth.e2e.sbom.v1";
    for reg in [&regs.referrers, &regs.no_referrers] {
        let work = home.tmp.join(reg.name);
        std::fs::create_dir_all(&work)?;
        let content = format!("payload: {}\n", random_hex(8)?);
        std::fs::write(work.join("payload.yaml"), &content)?;
        std::fs::write(work.join("sbom.json"), "{\"sbom\": true}\n")?;
        let name = format!("oras-{}/bundle", random_hex(4)?);
        let mut cmd = home.command(&env.tools, "oras");
        cmd.current_dir(&work)
            .args(["push", "--plain-http", "--artifact-type", artifact_type])
            .arg(format!("{}:v1", reg.repo(&name)))
            .arg(format!("payload.yaml:{media_type}"));
        run_ok(cmd)?;

        let client = client_for(env, reg, Credentials::Anonymous)?;
        let fetched = env.rt.block_on(client.fetch_manifest(&name, "v1"))?;
        let manifest = manifest_of(&fetched.document)?;
        ensure!(manifest.artifact_type.as_deref() == Some(artifact_type));
        let layer = manifest
            .layer_with_media_type(media_type)
            .context("no layer with the pushed media type")?;
        let blob = env
            .rt
            .block_on(client.fetch_blob_to_vec(&name, layer, 1 << 20))?;
        ensure!(blob == content.as_bytes());

        let mut cmd = home.command(&env.tools, "oras");
        cmd.current_dir(&work)
            .args(["attach", "--plain-http", "--artifact-type", referrer_type])
            .arg(format!("{}@{}", reg.repo(&name), fetched.digest))
            .arg("sbom.json");
        run_ok(cmd)?;

        let referrers =
            env.rt
                .block_on(client.referrers(&name, &fetched.digest, Some(referrer_type)));
        if reg.referrers {
            let referrers = referrers?;
            ensure!(
                referrers.len() == 1
                    && referrers[0].artifact_type.as_deref() == Some(referrer_type),
                "{}: referrers {referrers:?}",
                reg.name
            );
            let attached = env
                .rt
                .block_on(client.fetch_manifest(&name, &referrers[0].digest.to_string()))?;
            let attached = manifest_of(&attached.document)?;
            ensure!(attached.subject.as_ref().map(|s| &s.digest) == Some(&fetched.digest));
            let none = env.rt.block_on(client.referrers(
                &name,
                &fetched.digest,
                Some("application/vnd.other"),
            ))?;
            ensure!(none.is_empty(), "{}: filter kept {none:?}", reg.name);
            let all = env
                .rt
                .block_on(client.referrers(&name, &fetched.digest, None))?;
            ensure!(all.len() == 1);
        } else {
            match referrers {
                Err(Error::Unsupported { .. }) => {}
                other => bail!("{}: referrers gave {other:?}", reg.name),
            }
            let tag = format!("sha256-{}", fetched.digest.hex());
            let index = env.rt.block_on(client.fetch_manifest(&name, &tag))?;
            let Document::Index(index) = index.document else {
                bail!("{}: {tag} is not an index", reg.name);
            };
            ensure!(
                index.manifests.len() == 1
                    && index.manifests[0].artifact_type.as_deref() == Some(referrer_type),
                "{}: fallback index {index:?}",
                reg.name
            );
        }
    }
    Ok(())
}

/// distribution with htpasswd: anonymous and a wrong password fail with
/// `AuthFailed`; the credentials `oras login` wrote to a Docker config are
/// found by `docker_config::credentials_for` and work; once Basic is known,
/// later requests carry it at once.
fn basic_auth_and_docker_config(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let reg = &regs.auth;
    let creds = reg
        .credentials
        .clone()
        .context("the auth registry has no credentials")?;
    let home = ClientHome::new(env, "oci-basic")?;
    let mut cmd = home.command(&env.tools, "oras");
    cmd.args([
        "login",
        "--plain-http",
        &reg.host,
        "-u",
        &creds.username,
        "-p",
        &creds.password,
    ]);
    run_ok(cmd)?;
    let chart = package_chart(env, &home, "private", "1.0.0")?;
    let repo = format!("basic-{}", random_hex(4)?);
    let pushed = helm_push(env, &home, &chart, &reg.host, &repo, &plain_http(reg))?;
    let name = format!("{repo}/private");

    for (what, credentials) in [
        ("anonymous", Credentials::Anonymous),
        (
            "wrong password",
            Credentials::Basic {
                username: creds.username.clone(),
                password: "wrong".into(),
            },
        ),
    ] {
        let client = client_for(env, reg, credentials)?;
        match env.rt.block_on(client.resolve(&name, "1.0.0")) {
            Err(Error::AuthFailed { .. }) => {}
            other => bail!("{what}: {other:?}"),
        }
    }

    let config = std::fs::read(home.docker_config.join("config.json"))
        .context("oras login wrote no config.json")?;
    let found = docker_config::credentials_for(&config, &reg.host)?
        .context("no credentials for the registry in the docker config")?;
    ensure!(
        found
            == Credentials::Basic {
                username: creds.username.clone(),
                password: creds.password.clone()
            },
        "docker config gave {found:?}"
    );
    ensure!(docker_config::credentials_for(&config, "127.0.0.2:1")?.is_none());
    let client = client_for(env, reg, found)?;
    ensure!(env.rt.block_on(client.resolve(&name, "1.0.0"))? == pushed);
    let before = client.counters().total();
    ensure!(env.rt.block_on(client.resolve(&name, "1.0.0"))? == pushed);
    ensure!(
        client.counters().total() == before + 1,
        "a second resolve should be one request with Basic sent at once: {:?}",
        client.counters().snapshot()
    );
    let tags = env.rt.block_on(client.list_tags(&name))?;
    ensure!(tags == vec!["1.0.0".to_string()], "tags {tags:?}");
    Ok(())
}

/// A ggcr-registry of our own with `-token-auth`: it answers 401 with a
/// Bearer challenge whose realm is its own `/token`. oras pushes through
/// that flow; berth's client gets a token with Basic credentials (GET) and
/// with a refresh token (OAuth2 POST), caches it, and fails cleanly with
/// wrong or no credentials.
fn bearer_token_auth(env: &Env) -> Result<()> {
    let home = ClientHome::new(env, "oci-token")?;
    let user = format!("berth-{}", random_hex(3)?);
    let password = random_hex(12)?;
    let refresh = random_hex(12)?;
    let host = format!("127.0.0.1:{}", free_port()?);
    let mut cmd = env.tools.command("ggcr-registry");
    cmd.args([
        "-listen",
        &host,
        "-token-auth",
        "-user",
        &user,
        "-password",
        &password,
    ])
    .args(["-refresh-token", &refresh]);
    let mut registry = start_registry(env, "oci-token-registry", cmd, &host)?;

    let work = home.tmp.join("push");
    std::fs::create_dir_all(&work)?;
    std::fs::write(work.join("data.txt"), "behind a token\n")?;
    let name = "token/data";
    let push = |extra: &[&str]| {
        let mut cmd = home.command(&env.tools, "oras");
        cmd.current_dir(&work)
            .args(["push", "--plain-http"])
            .args(extra)
            .arg(format!("{host}/{name}:v1"))
            .arg("data.txt");
        cmd
    };
    run_fails(push(&[]))?;
    run_ok(push(&["-u", &user, "-p", &password]))?;

    let options = || ClientOptions {
        insecure: true,
        ..ClientOptions::default()
    };
    let basic = Credentials::Basic {
        username: user.clone(),
        password: password.clone(),
    };
    let client = new_client(env, &host, basic, options())?;
    let digest = env.rt.block_on(client.resolve(name, "v1"))?;
    let fetched = env
        .rt
        .block_on(client.fetch_manifest(name, &digest.to_string()))?;
    let layer = manifest_of(&fetched.document)?
        .layers
        .first()
        .context("no layer")?
        .clone();
    let blob = env
        .rt
        .block_on(client.fetch_blob_to_vec(name, &layer, 1 << 20))?;
    ensure!(blob == b"behind a token\n");
    let counts = client.counters().snapshot();
    ensure!(
        counts.get("token GET") == Some(&1) && !counts.contains_key("token POST"),
        "one token for the whole session: {counts:?}"
    );
    // HEAD 401, token, HEAD; then GET manifest and GET blob with the token.
    ensure!(
        counts.get("manifest HEAD") == Some(&2) && counts.get("manifest GET") == Some(&1),
        "{counts:?}"
    );

    let config = format!(r#"{{"auths": {{"http://{host}": {{"identitytoken": "{refresh}"}}}}}}"#);
    let identity = docker_config::credentials_for(config.as_bytes(), &host)?.context("no entry")?;
    ensure!(matches!(identity, Credentials::IdentityToken { .. }));
    let client = new_client(env, &host, identity, options())?;
    ensure!(env.rt.block_on(client.resolve(name, "v1"))? == digest);
    ensure!(client.counters().snapshot().get("token POST") == Some(&1));

    for (what, credentials) in [
        ("anonymous", Credentials::Anonymous),
        (
            "wrong password",
            Credentials::Basic {
                username: user.clone(),
                password: "wrong".into(),
            },
        ),
        (
            "wrong refresh token",
            Credentials::IdentityToken {
                token: "nope".into(),
            },
        ),
        (
            "unknown registry token",
            Credentials::RegistryToken {
                token: "nope".into(),
            },
        ),
    ] {
        let client = new_client(env, &host, credentials, options())?;
        match env.rt.block_on(client.resolve(name, "v1")) {
            Err(Error::AuthFailed { .. }) => {}
            other => bail!("{what}: {other:?}"),
        }
    }
    registry.check_running()?;
    let log = registry.log_tail(200);
    ensure!(
        log.contains("POST /token: token for grant \"refresh_token\""),
        "registry log:\n{log}"
    );
    Ok(())
}

/// The suite's TLS registry with and without its CA, then a ggcr-registry
/// of our own that requires a client certificate: the client reaches it
/// only with the certificate and key.
fn tls_ca_and_client_certificate(env: &Env) -> Result<()> {
    let regs = env.registries()?;
    let reg = &regs.tls;
    let home = ClientHome::new(env, "oci-tls")?;
    let chart = package_chart(env, &home, "secure", "1.0.0")?;
    let repo = format!("tls-{}", random_hex(4)?);
    let ca_flag = vec!["--ca-file".to_string(), regs.ca_cert.display().to_string()];
    let pushed = helm_push(env, &home, &chart, &reg.host, &repo, &ca_flag)?;
    let name = format!("{repo}/secure");

    let client = client_for(env, reg, Credentials::Anonymous)?;
    ensure!(env.rt.block_on(client.resolve(&name, "1.0.0"))? == pushed);
    let system_roots = new_client(
        env,
        &reg.host,
        Credentials::Anonymous,
        ClientOptions::default(),
    )?;
    match env.rt.block_on(system_roots.resolve(&name, "1.0.0")) {
        Err(e @ Error::Transport { .. }) => {
            // The message names the cause, not just "error sending request".
            ensure!(e.to_string().contains("certificate"), "without the CA: {e}");
        }
        other => bail!("without the CA: {other:?}"),
    }
    let plain = new_client(
        env,
        &reg.host,
        Credentials::Anonymous,
        ClientOptions {
            insecure: true,
            ..ClientOptions::default()
        },
    )?;
    ensure!(
        env.rt.block_on(plain.resolve(&name, "1.0.0")).is_err(),
        "plain HTTP to the TLS port succeeded"
    );

    // mutual TLS
    let dir = home.tmp.join("mtls");
    std::fs::create_dir_all(&dir)?;
    let pki = write_mtls_files(&dir)?;
    let host = format!("127.0.0.1:{}", free_port()?);
    let mut cmd = env.tools.command("ggcr-registry");
    cmd.args(["-listen", &host])
        .arg("-tls-cert")
        .arg(&pki.server_cert)
        .arg("-tls-key")
        .arg(&pki.server_key)
        .arg("-client-ca")
        .arg(&pki.ca_cert);
    let _registry = start_registry(env, "oci-mtls-registry", cmd, &host)?;
    let flags: Vec<String> = [
        ("--ca-file", &pki.ca_cert),
        ("--cert-file", &pki.client_cert),
        ("--key-file", &pki.client_key),
    ]
    .iter()
    .flat_map(|(f, p)| [f.to_string(), p.display().to_string()])
    .collect();
    let pushed = helm_push(env, &home, &chart, &host, "mtls", &flags)?;
    let ca = std::fs::read(&pki.ca_cert)?;
    let with_cert = new_client(
        env,
        &host,
        Credentials::Anonymous,
        ClientOptions {
            ca_pem: Some(ca.clone()),
            client_cert_pem: Some(std::fs::read(&pki.client_cert)?),
            client_key_pem: Some(std::fs::read(&pki.client_key)?),
            ..ClientOptions::default()
        },
    )?;
    ensure!(env.rt.block_on(with_cert.resolve("mtls/secure", "1.0.0"))? == pushed);
    let without_cert = new_client(
        env,
        &host,
        Credentials::Anonymous,
        ClientOptions {
            ca_pem: Some(ca),
            timeout: std::time::Duration::from_secs(15),
            ..ClientOptions::default()
        },
    )?;
    match env
        .rt
        .block_on(without_cert.resolve("mtls/secure", "1.0.0"))
    {
        Err(e @ Error::Transport { .. }) => println!("    without a client certificate: {e}"),
        // Once in several runs the server's TLS 1.3 "certificate required"
        // alert never reached the client and the request ran into its
        // timeout instead; still a refusal, but worth knowing when it
        // happens.
        Err(e @ Error::Timeout { .. }) => {
            println!("    without a client certificate: {e} (no alert seen, timed out)")
        }
        other => bail!("without a client certificate: {other:?}"),
    }
    Ok(())
}

/// Start a registry process and wait until its port accepts connections.
fn start_registry(
    env: &Env,
    name: &str,
    cmd: std::process::Command,
    host: &str,
) -> Result<Process> {
    let dir = env.dir.path().join("registry");
    std::fs::create_dir_all(&dir)?;
    let mut process = Process::spawn(name, cmd, &dir)?;
    process.wait_until(Duration::from_secs(30), || {
        std::net::TcpStream::connect(host).is_ok()
    })?;
    Ok(process)
}

struct MtlsFiles {
    ca_cert: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

/// A CA, a serving certificate for 127.0.0.1 and a client certificate,
/// all generated for this run.
fn write_mtls_files(dir: &Path) -> Result<MtlsFiles> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "berth e2e mTLS CA");
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut server = CertificateParams::new(vec!["localhost".to_string()])?;
    server
        .subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_key = KeyPair::generate()?;
    let server_cert = server.signed_by(&server_key, &issuer)?;

    let mut client = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "berth e2e client");
    client.distinguished_name = dn;
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_key = KeyPair::generate()?;
    let client_cert = client.signed_by(&client_key, &issuer)?;

    let files = MtlsFiles {
        ca_cert: dir.join("ca.crt"),
        server_cert: dir.join("server.crt"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.crt"),
        client_key: dir.join("client.key"),
    };
    std::fs::write(&files.ca_cert, ca_cert.pem())?;
    std::fs::write(&files.server_cert, server_cert.pem())?;
    std::fs::write(&files.server_key, server_key.serialize_pem())?;
    std::fs::write(&files.client_cert, client_cert.pem())?;
    std::fs::write(&files.client_key, client_key.serialize_pem())?;
    Ok(files)
}
