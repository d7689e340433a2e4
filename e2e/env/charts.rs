//! Small charts for the suites: written under a client home, packaged and
//! pushed with the real `helm`.

use std::ffi::OsStr;
use std::path::PathBuf;

use anyhow::{ensure, Context as _, Result};

use super::registry::{run_ok, run_output, ClientHome};
use super::Env;

/// A `helm package`d chart: the `.tgz` and its bytes.
pub struct PackagedChart {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Write chart `name` at `version` (a values file and one ConfigMap that
/// names the release, the chart and its version) and `helm package` it.
pub fn package_chart(
    env: &Env,
    home: &ClientHome,
    name: &str,
    version: &str,
) -> Result<PackagedChart> {
    let src = home.tmp.join(format!("src-{name}-{version}")).join(name);
    std::fs::create_dir_all(src.join("templates"))?;
    std::fs::write(
        src.join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"1.0\"\n\
             description: berth e2e chart\n"
        ),
    )?;
    std::fs::write(src.join("values.yaml"), "greeting: hello\n")?;
    std::fs::write(
        src.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-{{ .Chart.Name }}\n\
         data:\n  greeting: {{ .Values.greeting | quote }}\n  version: {{ .Chart.Version | quote }}\n",
    )?;
    let dest = home.tmp.join(format!("pkg-{name}-{version}"));
    std::fs::create_dir_all(&dest)?;
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("package").arg(&src).arg("--destination").arg(&dest);
    run_ok(cmd)?;
    let path = dest.join(format!("{name}-{version}.tgz"));
    let bytes = std::fs::read(&path)
        .with_context(|| format!("helm package wrote no {}", path.display()))?;
    Ok(PackagedChart { path, bytes })
}

/// Write chart `name` at `version` with the given files (paths relative
/// to the chart root, `Chart.yaml` written here) and `helm package` it.
pub fn package_files(
    env: &Env,
    home: &ClientHome,
    name: &str,
    version: &str,
    files: &[(&str, &str)],
) -> Result<PackagedChart> {
    let src = home.tmp.join(format!("src-{name}-{version}")).join(name);
    if src.exists() {
        std::fs::remove_dir_all(&src)?;
    }
    std::fs::create_dir_all(src.join("templates"))?;
    std::fs::write(
        src.join("Chart.yaml"),
        format!(
            "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"{version}\"\n\
             description: berth e2e chart\n"
        ),
    )?;
    for (rel, text) in files {
        let path = src.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
    }
    let dest = home.tmp.join(format!("pkg-{name}-{version}"));
    std::fs::create_dir_all(&dest)?;
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("package").arg(&src).arg("--destination").arg(&dest);
    run_ok(cmd)?;
    let path = dest.join(format!("{name}-{version}.tgz"));
    let bytes = std::fs::read(&path)
        .with_context(|| format!("helm package wrote no {}", path.display()))?;
    Ok(PackagedChart { path, bytes })
}

/// `helm push CHART oci://<host>/<repo> FLAGS…`; the manifest digest helm
/// reports.
pub fn helm_push<S: AsRef<OsStr>>(
    env: &Env,
    home: &ClientHome,
    chart: &PackagedChart,
    host: &str,
    repo: &str,
    flags: &[S],
) -> Result<berth_oci::Digest> {
    let mut cmd = home.command(&env.tools, "helm");
    cmd.arg("push")
        .arg(&chart.path)
        .arg(format!("oci://{host}/{repo}"))
        .args(flags);
    let out = run_output(cmd)?;
    // helm prints its push summary on stderr.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(out.status.success(), "helm push failed:\n{text}");
    let digest = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Digest: "))
        .with_context(|| format!("no digest in helm push output:\n{text}"))?;
    Ok(berth_oci::Digest::parse(digest.trim())?)
}

/// Load the chart directory `chart`, prepare it with `values` and render
/// it with berth as the first install of release `release` in `ns` for
/// `caps` (with `lookup` answering Helm's `lookup`, if given). The
/// renderer is sync; with a `lookup` that blocks on the runtime, call it
/// from a blocking thread.
pub fn render_with_berth(
    chart: &std::path::Path,
    release: &str,
    ns: &str,
    values: berth_chart::Values,
    caps: &berth_render::Capabilities,
    lookup: Option<berth_template::engine::LookupHook>,
) -> Result<berth_render::Rendered> {
    let chart = berth_chart::load::load_path(chart)?;
    let prepared = berth_chart::process::prepare(
        chart,
        values,
        &berth_chart::process::ProcessOptions {
            kube_version: caps.kube_version.clone(),
            skip_schema_validation: false,
        },
    )?;
    let opts = berth_render::RenderOptions {
        release: berth_render::Release {
            name: release.to_string(),
            namespace: ns.to_string(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
        },
        capabilities: caps.clone(),
        lookup,
        ..berth_render::RenderOptions::default()
    };
    Ok(berth_render::engine::render(
        &prepared.chart,
        &prepared.values,
        &opts,
    )?)
}
