//! The `berth.dev/v1alpha1` API: `OCIRepository` and `HelmRelease`.
//!
//! The Rust types are the source of truth; `berth crds` prints the CRDs
//! generated from them and `crds/` holds that output (a test fails when it
//! is stale). Field names follow Flux's where the meaning is the same.

pub mod conditions;
pub mod helm_release;
pub mod oci_repository;

use kube::CustomResourceExt;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

pub use helm_release::{HelmRelease, HelmReleaseSpec, HelmReleaseStatus};
pub use oci_repository::{OCIRepository, OCIRepositorySpec, OCIRepositoryStatus};

/// The API group.
pub const GROUP: &str = "berth.dev";
/// The API version of every kind here.
pub const API_VERSION: &str = "berth.dev/v1alpha1";

/// A Go duration as Flux accepts it: `30s`, `5m`, `1h30m`, `1.5h`, `500ms`.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";
/// An OCI repository address: `oci://host[:port]/path`.
pub const OCI_URL_PATTERN: &str = r"^oci://[^/\s]+/[^\s]+$";

/// A reference to an object in the same namespace.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LocalObjectReference {
    /// The object's name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// Schema for free-form values: any object, kept as given.
fn preserve_unknown_fields(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// Every CRD of the API, in a stable order.
pub fn crds(
) -> Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>
{
    vec![OCIRepository::crd(), HelmRelease::crd()]
}

/// The CRDs as `(file name, YAML)` pairs, one file per CRD, as `crds/`
/// keeps them and `berth crds` prints them.
pub fn crd_files() -> Result<Vec<(String, String)>, serde_saphyr::SerializeError> {
    crds()
        .into_iter()
        .map(|crd| {
            let file = format!("{}.yaml", crd.metadata.name.clone().unwrap_or_default());
            Ok((file, serde_saphyr::to_string(&crd)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::helm_release::{CrdsPolicy, DriftDetectionMode, RemediationStrategy, ValuesKind};
    use super::oci_repository::LayerOperation;
    use super::*;

    /// A Flux `source.toolkit.fluxcd.io/v1` OCIRepository with only the
    /// apiVersion changed.
    const FLUX_OCI_REPOSITORY: &str = r#"
apiVersion: berth.dev/v1alpha1
kind: OCIRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 5m0s
  timeout: 60s
  url: oci://localhost:5000/charts/podinfo
  ref:
    semver: ">=6.0.0 <7.0.0"
    semverFilter: ".*-rc.*"
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
  secretRef:
    name: registry-auth
  certSecretRef:
    name: registry-tls
  serviceAccountName: puller
  verify:
    provider: cosign
    secretRef:
      name: cosign-pub
    matchOIDCIdentity:
      - issuer: ^https://token\.actions\.githubusercontent\.com$
        subject: ^https://github\.com/org/repo/.*$
"#;

    /// A Flux `helm.toolkit.fluxcd.io/v2` HelmRelease with only the
    /// apiVersion changed.
    const FLUX_HELM_RELEASE: &str = r#"
apiVersion: berth.dev/v1alpha1
kind: HelmRelease
metadata:
  name: podinfo
  namespace: apps
spec:
  interval: 10m
  timeout: 5m
  chartRef:
    kind: OCIRepository
    name: podinfo
    namespace: flux-system
  releaseName: podinfo
  targetNamespace: web
  storageNamespace: apps
  serviceAccountName: deployer
  maxHistory: 3
  install:
    createNamespace: true
    crds: CreateReplace
    remediation:
      retries: 3
  upgrade:
    crds: CreateReplace
    cleanupOnFail: true
    remediation:
      retries: 2
      remediateLastFailure: true
      strategy: uninstall
  rollback:
    cleanupOnFail: true
  uninstall:
    keepHistory: false
    deletionPropagation: foreground
  driftDetection:
    mode: enabled
    ignore:
      - paths: ["/spec/replicas"]
        target:
          kind: Deployment
  dependsOn:
    - name: cert-manager
      namespace: cert-manager
  values:
    replicaCount: 2
    ingress:
      enabled: true
      hosts: [a.example.com]
  valuesFrom:
    - kind: ConfigMap
      name: podinfo-values
    - kind: Secret
      name: podinfo-secret
      valuesKey: token
      targetPath: auth.token
      optional: true
"#;

    #[test]
    fn flux_oci_repository_deserialises_and_round_trips() {
        let repo: OCIRepository = serde_saphyr::from_str(FLUX_OCI_REPOSITORY).unwrap();
        assert_eq!(repo.spec.url, "oci://localhost:5000/charts/podinfo");
        assert_eq!(repo.spec.interval, "5m0s");
        let r = repo.spec.reference.as_ref().unwrap();
        assert_eq!(r.semver.as_deref(), Some(">=6.0.0 <7.0.0"));
        assert_eq!(r.semver_filter.as_deref(), Some(".*-rc.*"));
        let ls = repo.spec.layer_selector.as_ref().unwrap();
        assert_eq!(ls.operation, Some(LayerOperation::Copy));
        let v = repo.spec.verify.as_ref().unwrap();
        assert_eq!(v.secret_ref.as_ref().unwrap().name, "cosign-pub");
        assert_eq!(v.match_oidc_identity.len(), 1);
        assert_eq!(repo.spec.service_account_name.as_deref(), Some("puller"));

        let json = serde_json::to_value(&repo).unwrap();
        assert_eq!(json["spec"]["ref"]["semver"], ">=6.0.0 <7.0.0");
        assert_eq!(
            json["spec"]["verify"]["matchOIDCIdentity"][0]["issuer"],
            r"^https://token\.actions\.githubusercontent\.com$"
        );
        let back: OCIRepository = serde_json::from_value(json).unwrap();
        assert_eq!(back.spec, repo.spec);
    }

    #[test]
    fn flux_helm_release_deserialises_and_round_trips() {
        let hr: HelmRelease = serde_saphyr::from_str(FLUX_HELM_RELEASE).unwrap();
        let s = &hr.spec;
        assert_eq!(s.chart_ref.name, "podinfo");
        assert_eq!(s.chart_ref.namespace.as_deref(), Some("flux-system"));
        assert_eq!(s.max_history, 3);
        let install = s.install.as_ref().unwrap();
        assert!(install.create_namespace);
        assert_eq!(install.crds, Some(CrdsPolicy::CreateReplace));
        assert_eq!(install.remediation.as_ref().unwrap().retries, 3);
        let upgrade = s.upgrade.as_ref().unwrap();
        assert_eq!(
            upgrade.remediation.as_ref().unwrap().strategy,
            Some(RemediationStrategy::Uninstall)
        );
        assert_eq!(
            s.drift_detection.as_ref().unwrap().mode,
            DriftDetectionMode::Enabled
        );
        assert_eq!(s.values_from[1].kind, ValuesKind::Secret);
        assert_eq!(s.values_from[1].target_path.as_deref(), Some("auth.token"));
        assert!(s.values_from[1].optional);
        assert_eq!(s.values.as_ref().unwrap()["replicaCount"], 2);

        let json = serde_json::to_value(&hr).unwrap();
        assert_eq!(json["spec"]["chartRef"]["kind"], "OCIRepository");
        assert_eq!(json["spec"]["valuesFrom"][1]["valuesKey"], "token");
        let back: HelmRelease = serde_json::from_value(json).unwrap();
        assert_eq!(back.spec, hr.spec);
    }

    #[test]
    fn defaults_fill_a_minimal_spec() {
        let repo: OCIRepository = serde_saphyr::from_str(
            "apiVersion: berth.dev/v1alpha1\nkind: OCIRepository\nmetadata: {name: a}\nspec:\n  url: oci://localhost:5000/a\n",
        )
        .unwrap();
        assert_eq!(repo.spec.interval, "5m");
        assert_eq!(repo.spec.timeout, "60s");
        assert!(!repo.spec.insecure);
        let hr: HelmRelease = serde_saphyr::from_str(
            "apiVersion: berth.dev/v1alpha1\nkind: HelmRelease\nmetadata: {name: a}\nspec:\n  chartRef: {kind: OCIRepository, name: a}\n",
        )
        .unwrap();
        assert_eq!(hr.spec.interval, "10m");
        assert_eq!(hr.spec.timeout, "5m");
        assert_eq!(hr.spec.max_history, 5);
    }

    #[test]
    fn crd_schema_carries_validation_and_printer_columns() {
        let crd = serde_json::to_value(OCIRepository::crd()).unwrap();
        let v = &crd["spec"]["versions"][0];
        let spec = &v["schema"]["openAPIV3Schema"]["properties"]["spec"];
        assert_eq!(spec["properties"]["url"]["pattern"], OCI_URL_PATTERN);
        assert_eq!(spec["properties"]["interval"]["pattern"], DURATION_PATTERN);
        assert_eq!(spec["properties"]["interval"]["default"], "5m");
        let ops = &spec["properties"]["layerSelector"]["properties"]["operation"]["enum"];
        assert!(ops
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("extract")));
        assert!(ops.as_array().unwrap().contains(&serde_json::json!("copy")));
        assert!(!ops
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("delete")));
        let cols: Vec<&str> = v["additionalPrinterColumns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        for want in ["Ready", "Status", "Revision", "Age"] {
            assert!(cols.contains(&want), "missing printer column {want}");
        }
        assert!(v["subresources"]["status"].is_object());
        assert_eq!(
            crd["spec"]["names"]["shortNames"],
            serde_json::json!(["ocirepo"])
        );
        assert_eq!(
            crd["spec"]["names"]["categories"],
            serde_json::json!(["berth"])
        );

        let hr = serde_json::to_value(HelmRelease::crd()).unwrap();
        let hv = &hr["spec"]["versions"][0];
        let values = &hv["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["values"];
        assert_eq!(values["x-kubernetes-preserve-unknown-fields"], true);
        assert_eq!(hr["spec"]["names"]["shortNames"], serde_json::json!(["hr"]));
    }

    /// `crds/` must hold exactly what `berth crds` generates; run
    /// `make crds` after changing the API types.
    #[test]
    fn checked_in_crds_are_current() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
        let files = crd_files().unwrap();
        for (name, yaml) in &files {
            let on_disk = std::fs::read_to_string(dir.join(name))
                .unwrap_or_else(|e| panic!("crds/{name} is missing ({e}); run `make crds`"));
            assert!(on_disk == *yaml, "crds/{name} is stale; run `make crds`");
        }
        let count = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(
            count,
            files.len(),
            "crds/ holds files `berth crds` does not generate"
        );
    }
}
