//! Health by kstatus rules (the `Current` / `InProgress` / `Failed` of
//! sigs.k8s.io/cli-utils `kstatus`), computed from the live objects and
//! waited on with a timeout.

use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject};
use kube::Client;
use serde_json::Value;

use super::ssa::Applied;
use super::ObjectName;

/// An object's kstatus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Current,
    /// Not there yet, and why.
    InProgress(String),
    /// Will not get there without a change (a failed Job).
    Failed(String),
}

/// Why waiting failed.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("timed out after {timeout:?} waiting for {}", describe(.not_ready))]
    Timeout {
        timeout: Duration,
        /// Each object not Current, with the reason.
        not_ready: Vec<(ObjectName, String)>,
    },
    #[error("{object}: {reason}")]
    Failed { object: ObjectName, reason: String },
}

fn describe(list: &[(ObjectName, String)]) -> String {
    list.iter()
        .map(|(o, why)| format!("{o}: {why}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn int(v: &Value, path: &[&str]) -> Option<i64> {
    path.iter().try_fold(v, |v, k| v.get(*k))?.as_i64()
}

fn string<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(*k))?.as_str()
}

/// The condition `type_` of `status.conditions`: (status, reason, message).
fn condition<'a>(obj: &'a Value, type_: &str) -> Option<(&'a str, &'a str, &'a str)> {
    obj.get("status")?
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
        .map(|c| {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
            (s("status"), s("reason"), s("message"))
        })
}

/// The kstatus of `obj` (the whole object as JSON).
pub fn compute_status(kind: &str, group: &str, obj: &Value) -> Status {
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        return Status::InProgress("being deleted".to_string());
    }
    let generation = int(obj, &["metadata", "generation"]).unwrap_or(0);
    if let Some(observed) = int(obj, &["status", "observedGeneration"]) {
        if observed < generation {
            return Status::InProgress(format!(
                "the controller has not observed generation {generation} yet (observed {observed})"
            ));
        }
    }
    // kstatus's standard conditions, for any kind.
    if let Some(("True", reason, message)) = condition(obj, "Stalled") {
        return Status::Failed(format!("Stalled: {reason} {message}").trim().to_string());
    }
    if let Some(("True", reason, message)) = condition(obj, "Reconciling") {
        return Status::InProgress(
            format!("Reconciling: {reason} {message}")
                .trim()
                .to_string(),
        );
    }
    match (group, kind) {
        ("apps", "Deployment") => deployment(obj),
        ("apps", "StatefulSet") => statefulset(obj),
        ("apps", "DaemonSet") => daemonset(obj),
        ("batch", "Job") => job(obj),
        ("", "PersistentVolumeClaim") => match string(obj, &["status", "phase"]) {
            Some("Bound") => Status::Current,
            phase => Status::InProgress(format!(
                "phase is {}, not Bound",
                phase.unwrap_or("unknown")
            )),
        },
        ("", "Service") => service(obj),
        ("", "Pod") => pod(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(obj),
        _ => generic(obj),
    }
}

fn generic(obj: &Value) -> Status {
    match condition(obj, "Ready") {
        Some(("True", _, _)) | None => Status::Current,
        Some((status, reason, message)) => Status::InProgress(
            format!("Ready={status} {reason} {message}")
                .trim()
                .to_string(),
        ),
    }
}

fn need_observed(obj: &Value) -> Option<Status> {
    if int(obj, &["status", "observedGeneration"]).is_none() {
        return Some(Status::InProgress(
            "the controller has not observed it yet".to_string(),
        ));
    }
    None
}

fn deployment(obj: &Value) -> Status {
    if let Some(s) = need_observed(obj) {
        return s;
    }
    let want = int(obj, &["spec", "replicas"]).unwrap_or(1);
    let status = |k: &str| int(obj, &["status", k]).unwrap_or(0);
    if let Some(("False", "ProgressDeadlineExceeded", message)) = condition(obj, "Progressing") {
        return Status::Failed(format!("progress deadline exceeded: {message}"));
    }
    let (updated, total, available, ready) = (
        status("updatedReplicas"),
        status("replicas"),
        status("availableReplicas"),
        status("readyReplicas"),
    );
    if updated < want {
        return Status::InProgress(format!("{updated}/{want} replicas updated"));
    }
    if total > updated {
        return Status::InProgress(format!(
            "{} old replicas pending termination",
            total - updated
        ));
    }
    if available < want {
        return Status::InProgress(format!("{available}/{want} replicas available"));
    }
    if ready < want {
        return Status::InProgress(format!("{ready}/{want} replicas ready"));
    }
    match condition(obj, "Available") {
        Some(("True", _, _)) => Status::Current,
        Some((s, reason, _)) => {
            Status::InProgress(format!("Available={s} {reason}").trim().to_string())
        }
        None => Status::InProgress("no Available condition yet".to_string()),
    }
}

fn statefulset(obj: &Value) -> Status {
    if string(obj, &["spec", "updateStrategy", "type"]) == Some("OnDelete") {
        return Status::Current;
    }
    if let Some(s) = need_observed(obj) {
        return s;
    }
    let want = int(obj, &["spec", "replicas"]).unwrap_or(1);
    let status = |k: &str| int(obj, &["status", k]).unwrap_or(0);
    let partition = int(
        obj,
        &["spec", "updateStrategy", "rollingUpdate", "partition"],
    )
    .unwrap_or(0);
    if status("replicas") < want {
        return Status::InProgress(format!("{}/{want} replicas", status("replicas")));
    }
    if status("readyReplicas") < want {
        return Status::InProgress(format!("{}/{want} replicas ready", status("readyReplicas")));
    }
    if status("availableReplicas") < want && obj.pointer("/status/availableReplicas").is_some() {
        return Status::InProgress(format!(
            "{}/{want} replicas available",
            status("availableReplicas")
        ));
    }
    if partition > 0 {
        let expected = (want - partition).max(0);
        if status("updatedReplicas") < expected {
            return Status::InProgress(format!(
                "{}/{expected} replicas updated (partition {partition})",
                status("updatedReplicas")
            ));
        }
        return Status::Current;
    }
    if status("currentReplicas") < want {
        return Status::InProgress(format!(
            "{}/{want} replicas current",
            status("currentReplicas")
        ));
    }
    let current = string(obj, &["status", "currentRevision"]);
    let update = string(obj, &["status", "updateRevision"]);
    if current != update {
        return Status::InProgress(format!(
            "rolling out revision {}",
            update.unwrap_or("unknown")
        ));
    }
    Status::Current
}

fn daemonset(obj: &Value) -> Status {
    if let Some(s) = need_observed(obj) {
        return s;
    }
    let status = |k: &str| int(obj, &["status", k]).unwrap_or(0);
    let want = status("desiredNumberScheduled");
    if obj.pointer("/status/desiredNumberScheduled").is_none() {
        return Status::InProgress("desiredNumberScheduled not reported yet".to_string());
    }
    for (k, what) in [
        ("currentNumberScheduled", "scheduled"),
        ("updatedNumberScheduled", "updated"),
        ("numberAvailable", "available"),
        ("numberReady", "ready"),
    ] {
        if status(k) < want {
            return Status::InProgress(format!("{}/{want} pods {what}", status(k)));
        }
    }
    Status::Current
}

fn job(obj: &Value) -> Status {
    if let Some(("True", reason, message)) = condition(obj, "Failed") {
        return Status::Failed(format!("Job failed: {reason} {message}").trim().to_string());
    }
    if let Some(("True", _, _)) = condition(obj, "Complete") {
        return Status::Current;
    }
    let succeeded = int(obj, &["status", "succeeded"]).unwrap_or(0);
    let completions = int(obj, &["spec", "completions"]).unwrap_or(1);
    Status::InProgress(format!("{succeeded}/{completions} completions"))
}

fn service(obj: &Value) -> Status {
    if string(obj, &["spec", "type"]) != Some("LoadBalancer") {
        return Status::Current;
    }
    let ingress = obj
        .pointer("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if ingress {
        Status::Current
    } else {
        Status::InProgress("no load balancer ingress yet".to_string())
    }
}

fn pod(obj: &Value) -> Status {
    match string(obj, &["status", "phase"]) {
        Some("Succeeded") => Status::Current,
        Some("Failed") => Status::Failed("Pod failed".to_string()),
        Some("Running") => match condition(obj, "Ready") {
            Some(("True", _, _)) => Status::Current,
            _ => Status::InProgress("Pod running but not Ready".to_string()),
        },
        phase => Status::InProgress(format!("phase {}", phase.unwrap_or("unknown"))),
    }
}

fn crd(obj: &Value) -> Status {
    if let Some(("False", reason, message)) = condition(obj, "NamesAccepted") {
        return Status::Failed(
            format!("names not accepted: {reason} {message}")
                .trim()
                .to_string(),
        );
    }
    match condition(obj, "Established") {
        Some(("True", _, _)) => Status::Current,
        _ => Status::InProgress("not Established yet".to_string()),
    }
}

/// Read `object` and compute its status; a missing object is not current.
async fn read_status(client: &Client, a: &Applied) -> Status {
    let api: Api<DynamicObject> = match &a.name.namespace {
        Some(ns) if a.namespaced => Api::namespaced_with(client.clone(), ns, &a.resource),
        _ => Api::all_with(client.clone(), &a.resource),
    };
    match api.get_opt(&a.name.name).await {
        Ok(Some(live)) => match serde_json::to_value(&live) {
            Ok(v) => compute_status(&a.resource.kind, &a.resource.group, &v),
            Err(e) => Status::InProgress(format!("failed to read it: {e}")),
        },
        Ok(None) => Status::InProgress("not found".to_string()),
        Err(e) => Status::InProgress(format!("failed to read it: {e}")),
    }
}

/// Whether `service` (a Service with a selector) selects the pods of
/// `workload` (a Deployment, StatefulSet, ReplicaSet or DaemonSet that
/// runs at least one pod): every selector label is on the pod template.
pub fn selects_pods_of(service: &Value, workload: &Value) -> bool {
    let Some(selector) = service.pointer("/spec/selector").and_then(Value::as_object) else {
        return false;
    };
    if selector.is_empty() || string(service, &["spec", "type"]) == Some("ExternalName") {
        return false;
    }
    let kind = string(workload, &["kind"]).unwrap_or("");
    let runs_pods = match kind {
        "DaemonSet" => true,
        "Deployment" | "StatefulSet" | "ReplicaSet" => {
            int(workload, &["spec", "replicas"]).unwrap_or(1) > 0
        }
        _ => false,
    };
    if !runs_pods {
        return false;
    }
    let Some(labels) = workload
        .pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
    else {
        return false;
    };
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Ready endpoints of Service `name` in `namespace`, from its
/// EndpointSlices (an endpoint whose `ready` is unset counts as ready,
/// as the API documents); `usize::MAX` when the client may not read them.
async fn ready_endpoints(client: &Client, namespace: &str, name: &str) -> Result<usize, String> {
    use k8s_openapi::api::discovery::v1::EndpointSlice;
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), namespace);
    let params =
        kube::api::ListParams::default().labels(&format!("kubernetes.io/service-name={name}"));
    let slices = match api.list(&params).await {
        Ok(s) => s,
        // An account that may not read EndpointSlices (a tenant's) cannot
        // check: the Service counts as Current, as kstatus would have it.
        Err(kube::Error::Api(e)) if e.code == 403 => {
            tracing::debug!(
                service = name,
                "may not list EndpointSlices: endpoint check skipped"
            );
            return Ok(usize::MAX);
        }
        Err(e) => return Err(format!("failed to list its EndpointSlices: {e}")),
    };
    Ok(slices
        .items
        .iter()
        .flat_map(|s| s.endpoints.iter().flatten())
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
        .count())
}

/// Wait until every object of `applied` is Current, at most `timeout`.
/// A Failed object ends the wait at once. A Service whose selector picks
/// the pods of a workload applied with it must also have a ready
/// endpoint: the release brings its backends, so it is not serving until
/// one of them is behind it. (A Service whose pods come from elsewhere,
/// or from a workload scaled to zero, is Current as kstatus says.)
pub async fn wait_healthy(
    client: &Client,
    applied: &[Applied],
    timeout: Duration,
) -> Result<(), HealthError> {
    let start = Instant::now();
    let live: Vec<Value> = applied
        .iter()
        .map(|a| serde_json::to_value(&a.live).unwrap_or(Value::Null))
        .collect();
    let backed: Vec<bool> = applied
        .iter()
        .zip(&live)
        .map(|(a, svc)| {
            a.resource.group.is_empty()
                && a.resource.kind == "Service"
                && applied
                    .iter()
                    .zip(&live)
                    .any(|(w, wl)| w.name.namespace == a.name.namespace && selects_pods_of(svc, wl))
        })
        .collect();
    let mut pending: Vec<(&Applied, bool)> = applied.iter().zip(backed).collect();
    loop {
        let mut not_ready = Vec::new();
        let mut still = Vec::new();
        for (a, needs_endpoints) in pending {
            let mut status = read_status(client, a).await;
            if status == Status::Current && needs_endpoints {
                let ns = a.name.namespace.as_deref().unwrap_or_default();
                status = match ready_endpoints(client, ns, &a.name.name).await {
                    Ok(0) => Status::InProgress("no ready endpoints yet".to_string()),
                    Ok(_) => Status::Current,
                    Err(why) => Status::InProgress(why),
                };
            }
            match status {
                Status::Current => {}
                Status::InProgress(why) => {
                    not_ready.push((a.name.clone(), why));
                    still.push((a, needs_endpoints));
                }
                Status::Failed(reason) => {
                    return Err(HealthError::Failed {
                        object: a.name.clone(),
                        reason,
                    })
                }
            }
        }
        if still.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            return Err(HealthError::Timeout { timeout, not_ready });
        }
        pending = still;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_backed_by_workloads_of_the_release() {
        let svc = serde_json::json!({"kind": "Service", "spec": {"selector": {"app": "web"}}});
        let dep = |replicas: i64, labels: Value| {
            serde_json::json!({"kind": "Deployment", "spec": {"replicas": replicas,
                "template": {"metadata": {"labels": labels}}}})
        };
        assert!(selects_pods_of(
            &svc,
            &dep(1, serde_json::json!({"app": "web", "tier": "x"}))
        ));
        assert!(!selects_pods_of(
            &svc,
            &dep(0, serde_json::json!({"app": "web"}))
        ));
        assert!(!selects_pods_of(
            &svc,
            &dep(2, serde_json::json!({"app": "db"}))
        ));
        let ds = serde_json::json!({"kind": "DaemonSet", "spec": {
            "template": {"metadata": {"labels": {"app": "web"}}}}});
        assert!(selects_pods_of(&svc, &ds));
        let no_selector = serde_json::json!({"kind": "Service", "spec": {"clusterIP": "None"}});
        assert!(!selects_pods_of(&no_selector, &ds));
        let external = serde_json::json!({"kind": "Service",
            "spec": {"type": "ExternalName", "selector": {"app": "web"}}});
        assert!(!selects_pods_of(&external, &ds));
        let cm = serde_json::json!({"kind": "ConfigMap"});
        assert!(!selects_pods_of(&svc, &cm));
    }
    use serde_json::json;

    #[test]
    fn deployment_rules() {
        let mut d = json!({
            "metadata": {"generation": 2},
            "spec": {"replicas": 3},
            "status": {"observedGeneration": 1},
        });
        assert!(
            matches!(compute_status("Deployment", "apps", &d), Status::InProgress(m) if m.contains("not observed generation 2"))
        );
        d["status"] = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 1, "readyReplicas": 1});
        assert_eq!(
            compute_status("Deployment", "apps", &d),
            Status::InProgress("1/3 replicas available".into())
        );
        d["status"]["availableReplicas"] = json!(3);
        d["status"]["readyReplicas"] = json!(3);
        d["status"]["conditions"] = json!([{"type": "Available", "status": "True"}]);
        assert_eq!(compute_status("Deployment", "apps", &d), Status::Current);
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "took too long"}]);
        assert!(matches!(
            compute_status("Deployment", "apps", &d),
            Status::Failed(_)
        ));
    }

    #[test]
    fn statefulset_and_daemonset_rules() {
        let mut sts = json!({
            "metadata": {"generation": 1},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 1, "replicas": 2, "readyReplicas": 2, "currentReplicas": 2,
                       "updatedReplicas": 2, "currentRevision": "a", "updateRevision": "b"},
        });
        assert_eq!(
            compute_status("StatefulSet", "apps", &sts),
            Status::InProgress("rolling out revision b".into())
        );
        sts["status"]["currentRevision"] = json!("b");
        assert_eq!(compute_status("StatefulSet", "apps", &sts), Status::Current);
        sts["status"]["readyReplicas"] = json!(1);
        assert_eq!(
            compute_status("StatefulSet", "apps", &sts),
            Status::InProgress("1/2 replicas ready".into())
        );
        let mut ds = json!({
            "metadata": {"generation": 3},
            "status": {"observedGeneration": 3, "desiredNumberScheduled": 2, "currentNumberScheduled": 2,
                       "updatedNumberScheduled": 1, "numberAvailable": 1, "numberReady": 1},
        });
        assert_eq!(
            compute_status("DaemonSet", "apps", &ds),
            Status::InProgress("1/2 pods updated".into())
        );
        for k in ["updatedNumberScheduled", "numberAvailable", "numberReady"] {
            ds["status"][k] = json!(2);
        }
        assert_eq!(compute_status("DaemonSet", "apps", &ds), Status::Current);
    }

    #[test]
    fn job_pvc_service_crd_generic() {
        let failed = json!({"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}});
        assert_eq!(
            compute_status("Job", "batch", &failed),
            Status::Failed("Job failed: BackoffLimitExceeded".into())
        );
        let done = json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(compute_status("Job", "batch", &done), Status::Current);
        let pvc = json!({"status": {"phase": "Pending"}});
        assert!(matches!(
            compute_status("PersistentVolumeClaim", "", &pvc),
            Status::InProgress(_)
        ));
        let ip = json!({"spec": {"type": "ClusterIP"}});
        assert_eq!(compute_status("Service", "", &ip), Status::Current);
        let lb = json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}});
        assert!(matches!(
            compute_status("Service", "", &lb),
            Status::InProgress(_)
        ));
        let crd = json!({"status": {"conditions": [{"type": "Established", "status": "True"}]}});
        assert_eq!(
            compute_status("CustomResourceDefinition", "apiextensions.k8s.io", &crd),
            Status::Current
        );
        let cr = json!({"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Waiting"}]}});
        assert_eq!(
            compute_status("Widget", "example.com", &cr),
            Status::InProgress("Ready=False Waiting".into())
        );
        assert_eq!(
            compute_status("ConfigMap", "", &json!({"data": {}})),
            Status::Current
        );
    }
}
