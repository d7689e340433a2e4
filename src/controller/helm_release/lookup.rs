//! Helm's `lookup` answered from the API server, and the impersonating client of `serviceAccountName`.
//!
//! `lookup` follows Helm v4.3.1 (`pkg/engine/lookup_func.go`): the kind is
//! resolved through discovery; with a name the object is returned as a
//! map (an empty map when it does not exist); without a name the list is
//! returned (`{apiVersion, kind: <Kind>List, metadata, items}`), in the
//! namespace when one is given and the kind is namespaced, else across all
//! namespaces; a cluster-scoped kind ignores the namespace. Any other error
//! fails the render with the API server's message.
//!
//! The requests go out with the release's client, so a release that
//! impersonates a ServiceAccount can only look up what that account may
//! read.

use std::sync::Arc;
use std::time::Duration;

use berth_template::engine::LookupHook;
use kube::api::ApiResource;
use serde_json::Value as Json;

use crate::apply::discovery::{split_api_version, Discovered};

/// How long one `lookup` may take before the render fails: a render must
/// not hang on a stuck API server.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Why an impersonating client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ImpersonationError {
    #[error("invalid service account {namespace}/{name}: {reason}")]
    InvalidName {
        namespace: String,
        name: String,
        reason: String,
    },
    #[error("failed to build a client impersonating {user}: {source}")]
    Client {
        user: String,
        #[source]
        source: Box<kube::Error>,
    },
}

impl ImpersonationError {
    /// The condition reason.
    pub fn reason(&self) -> &'static str {
        match self {
            ImpersonationError::InvalidName { .. } => "InvalidServiceAccount",
            ImpersonationError::Client { .. } => "ImpersonationFailed",
        }
    }
}

/// A client that impersonates `system:serviceaccount:<namespace>:<name>` built from the controller's own kube config.
///
/// Only the user is set (as Flux does): the API server adds the
/// ServiceAccount's groups (`system:serviceaccounts`,
/// `system:serviceaccounts:<namespace>`) itself. Any impersonation already
/// in `config` is replaced. Must be called within a Tokio runtime (the
/// client spawns its request buffer on it).
pub fn impersonating_client(
    config: &kube::Config,
    namespace: &str,
    service_account: &str,
) -> Result<kube::Client, ImpersonationError> {
    let invalid = |reason: String| ImpersonationError::InvalidName {
        namespace: namespace.to_string(),
        name: service_account.to_string(),
        reason,
    };
    check_dns_label(namespace).map_err(|r| invalid(format!("namespace {r}")))?;
    check_dns_subdomain(service_account).map_err(|r| invalid(format!("name {r}")))?;
    let user = service_account_user(namespace, service_account);
    let mut config = config.clone();
    config.auth_info.impersonate = Some(user.clone());
    config.auth_info.impersonate_groups = None;
    config.auth_info.impersonate_uid = None;
    config.auth_info.impersonate_user_extra = None;
    kube::Client::try_from(config).map_err(|e| ImpersonationError::Client {
        user,
        source: Box::new(e),
    })
}

/// The user name of a ServiceAccount.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

/// RFC 1123 label (a namespace name).
fn check_dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err(format!("{s:?} must be 1 to 63 characters"));
    }
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!("{s:?} is not a valid RFC 1123 label"))
    }
}

/// RFC 1123 subdomain (a ServiceAccount name).
fn check_dns_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err(format!("{s:?} must be 1 to 253 characters"));
    }
    let ok = s.split('.').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !part.starts_with('-')
            && !part.ends_with('-')
    });
    if ok {
        Ok(())
    } else {
        Err(format!("{s:?} is not a valid RFC 1123 subdomain"))
    }
}

/// Helm's `lookup` answered from the API server with `client` (the release's, possibly impersonating, client):
/// Helm v4.3.1 `pkg/engine/lookup_func.go` semantics — name given → the object as a map (empty map when NotFound);
/// name empty → the list (`{apiVersion, kind: XList, metadata, items}`) in `namespace` (all namespaces when empty and namespaced);
/// cluster-scoped kinds ignore namespace; an unknown kind or any other API error → Err with Helm-like text.
///
/// The hook is synchronous (the renderer is) and drives each request with
/// `handle.block_on`: it must run on a thread outside the runtime's
/// workers (e.g. in `tokio::task::spawn_blocking`); called on a worker
/// thread, Tokio panics (the renderer reports that as a render error).
/// Kinds missing from `discovered` (a CRD installed since) are looked up
/// with a fresh discovery of their group/version, as Helm discovers on
/// every call.
pub fn lookup_hook(
    client: kube::Client,
    discovered: Arc<Discovered>,
    handle: tokio::runtime::Handle,
) -> LookupHook {
    Arc::new(move |api_version, kind, namespace, name| {
        let work = lookup(&client, &discovered, api_version, kind, namespace, name);
        let answer = handle.block_on(async { tokio::time::timeout(LOOKUP_TIMEOUT, work).await });
        match answer {
            Ok(Ok(json)) => Ok(berth_chart::values::json_to_template(&json)),
            Ok(Err(message)) => Err(message),
            Err(_) => Err(format!(
                "lookup of {kind} {namespace}/{name} in {api_version} timed out after {}s",
                LOOKUP_TIMEOUT.as_secs()
            )),
        }
    })
}

/// One `lookup`, as JSON (an empty object for "not found").
pub async fn lookup(
    client: &kube::Client,
    discovered: &Discovered,
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Result<Json, String> {
    let (resource, namespaced) = resolve(client, discovered, api_version, kind).await?;
    let scope = if namespaced && !namespace.is_empty() {
        check_path_segment(namespace)
            .map_err(|r| format!("invalid namespace {namespace:?}: {r}"))?;
        Some(namespace)
    } else {
        None
    };
    let path = collection_path(&resource, scope);
    let request = kube::core::Request::new(path.clone());
    let http_request = if name.is_empty() {
        request.list(&kube::api::ListParams::default())
    } else {
        check_path_segment(name).map_err(|r| format!("invalid resource name {name:?}: {r}"))?;
        request.get(&escape_path_segment(name), &kube::api::GetParams::default())
    }
    .map_err(|e| format!("failed to build the request for {path}: {e}"))?;
    match client.request::<Json>(http_request).await {
        Ok(object) if name.is_empty() => Ok(list_content(object)),
        Ok(object) => Ok(object),
        Err(kube::Error::Api(status)) if status.code == 404 => {
            tracing::debug!(
                api_version,
                kind,
                namespace,
                name,
                "lookup: resource not found"
            );
            Ok(Json::Object(serde_json::Map::new()))
        }
        Err(kube::Error::Api(status)) => Err(status.message.clone()),
        Err(e) => Err(e.to_string()),
    }
}

/// The resource serving `kind` at `api_version` and whether it is
/// namespaced: from the snapshot, else from the server.
async fn resolve(
    client: &kube::Client,
    discovered: &Discovered,
    api_version: &str,
    kind: &str,
) -> Result<(ApiResource, bool), String> {
    if let Some(r) = discovered.resolve(api_version, kind) {
        return Ok((r.resource.clone(), r.namespaced));
    }
    let (group, version) = split_api_version(api_version);
    let gvk = format!("{group}/{version}, Kind={kind}");
    let fail =
        |reason: String| format!("unable to get apiresource from unstructured: {gvk}: {reason}");
    if version.is_empty() || group.contains('/') {
        return Err(fail(format!("invalid apiVersion {api_version:?}")));
    }
    let listed = if group.is_empty() {
        client.list_core_api_resources(version).await
    } else {
        client.list_api_group_resources(api_version).await
    };
    let list = listed.map_err(|e| match e {
        kube::Error::Api(status) => fail(status.message.clone()),
        other => fail(other.to_string()),
    })?;
    let found = list
        .resources
        .into_iter()
        .find(|r| r.kind == kind && !r.name.contains('/'))
        .ok_or_else(|| {
            fail(format!(
                "the server does not serve kind {kind} in {api_version}"
            ))
        })?;
    Ok((
        ApiResource {
            group: group.to_string(),
            version: version.to_string(),
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            plural: found.name,
        },
        found.namespaced,
    ))
}

/// `/api/v1[/namespaces/<ns>]/<plural>` or `/apis/<group>/<version>[…]`.
fn collection_path(resource: &ApiResource, namespace: Option<&str>) -> String {
    let root = if resource.group.is_empty() {
        format!("/api/{}", resource.version)
    } else {
        format!("/apis/{}/{}", resource.group, resource.version)
    };
    match namespace {
        Some(ns) => format!(
            "{root}/namespaces/{}/{}",
            escape_path_segment(ns),
            resource.plural
        ),
        None => format!("{root}/{}", resource.plural),
    }
}

/// client-go's `IsValidPathSegmentName` (what its request builder checks
/// before a name or namespace goes into a URL), with its wording.
fn check_path_segment(segment: &str) -> Result<(), String> {
    if segment == "." || segment == ".." {
        return Err(format!("[may not be '{segment}']"));
    }
    let bad: Vec<String> = ["/", "%"]
        .iter()
        .filter(|c| segment.contains(*c))
        .map(|c| format!("may not contain '{c}'"))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("[{}]", bad.join(" ")))
    }
}

/// Percent-encode everything but RFC 3986 unreserved characters, so a
/// template-chosen name can never add a query or another path segment.
fn escape_path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'@') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A list as client-go's `UnstructuredList.UnstructuredContent` gives it:
/// the list's own fields and `items`, each item with `apiVersion` and
/// `kind` filled in when the server left both out (typed lists do).
fn list_content(list: Json) -> Json {
    let Json::Object(mut map) = list else {
        return list;
    };
    let api_version = map.get("apiVersion").cloned().unwrap_or(Json::Null);
    let item_kind = map
        .get("kind")
        .and_then(Json::as_str)
        .map(|k| k.strip_suffix("List").unwrap_or(k).to_string());
    let items = match map.remove("items") {
        Some(Json::Array(items)) => items,
        _ => Vec::new(),
    };
    let items = items
        .into_iter()
        .map(|item| match item {
            Json::Object(mut obj) => {
                let bare = !obj.contains_key("apiVersion") && !obj.contains_key("kind");
                if let (true, Some(kind)) = (bare, &item_kind) {
                    obj.insert("apiVersion".to_string(), api_version.clone());
                    obj.insert("kind".to_string(), Json::String(kind.clone()));
                }
                Json::Object(obj)
            }
            other => other,
        })
        .collect();
    map.insert("items".to_string(), Json::Array(items));
    Json::Object(map)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn list_items_get_api_version_and_kind() {
        let list = json!({
            "apiVersion": "v1",
            "kind": "ConfigMapList",
            "metadata": {"resourceVersion": "7"},
            "items": [
                {"metadata": {"name": "a"}},
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}},
            ]
        });
        assert_eq!(
            list_content(list),
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMapList",
                "metadata": {"resourceVersion": "7"},
                "items": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
                    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}},
                ]
            })
        );
        // An empty list still has `items: []` (client-go always sets it).
        assert_eq!(
            list_content(json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}})),
            json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": []})
        );
    }

    #[test]
    fn path_segments_are_checked_and_escaped() {
        assert!(check_path_segment("web-1.x").is_ok());
        assert_eq!(check_path_segment("..").unwrap_err(), "[may not be '..']");
        assert_eq!(
            check_path_segment("a/b%c").unwrap_err(),
            "[may not contain '/' may not contain '%']"
        );
        assert_eq!(escape_path_segment("a?b=c#d e"), "a%3Fb%3Dc%23d%20e");
        let cm = ApiResource {
            group: String::new(),
            version: "v1".into(),
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            plural: "configmaps".into(),
        };
        assert_eq!(
            collection_path(&cm, Some("ns")),
            "/api/v1/namespaces/ns/configmaps"
        );
        assert_eq!(collection_path(&cm, None), "/api/v1/configmaps");
        let dep = ApiResource {
            group: "apps".into(),
            version: "v1".into(),
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            plural: "deployments".into(),
        };
        assert_eq!(collection_path(&dep, None), "/apis/apps/v1/deployments");
    }

    #[test]
    fn service_account_names_are_validated() {
        assert_eq!(
            service_account_user("team-a", "deployer"),
            "system:serviceaccount:team-a:deployer"
        );
        assert!(check_dns_label("team-a").is_ok());
        assert!(check_dns_subdomain("deploy.er-1").is_ok());
        for bad in ["", "Team", "-a", "a-", "a:b", "a\nb"] {
            assert!(check_dns_label(bad).is_err(), "{bad:?}");
            assert!(check_dns_subdomain(bad).is_err(), "{bad:?}");
        }
        assert!(check_dns_subdomain("a..b").is_err());
        assert!(check_dns_label(&"a".repeat(64)).is_err());
    }
}
