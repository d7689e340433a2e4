//! Registry credentials, handed to the client as data (the controller reads
//! them from Secrets), and the Docker `config.json` lookup.

use std::fmt;

/// What the client may present to its registry (and to a token realm the
/// client accepted for that registry; see `ClientOptions`).
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    /// No credentials; a Bearer challenge still gets an anonymous token.
    #[default]
    Anonymous,
    /// User name and password: HTTP Basic to the registry, or to the token
    /// realm to get a Bearer token.
    Basic { username: String, password: String },
    /// An OAuth2 refresh token (Docker's `identitytoken`), exchanged at the
    /// realm with `grant_type=refresh_token`.
    IdentityToken { token: String },
    /// A Bearer access token (Docker's `registrytoken`), sent as it is.
    RegistryToken { token: String },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => {
                write!(
                    f,
                    "Basic {{ username: {username:?}, password: <redacted> }}"
                )
            }
            Credentials::IdentityToken { .. } => f.write_str("IdentityToken(<redacted>)"),
            Credentials::RegistryToken { .. } => f.write_str("RegistryToken(<redacted>)"),
        }
    }
}

/// Docker `config.json` (the `.dockerconfigjson` of a
/// `kubernetes.io/dockerconfigjson` Secret).
pub mod docker_config {
    use std::collections::BTreeMap;

    use base64::Engine as _;
    use serde::Deserialize;

    use super::Credentials;

    #[derive(Debug, thiserror::Error, PartialEq, Eq)]
    pub enum DockerConfigError {
        #[error("failed to parse the docker config JSON: {0}")]
        Parse(String),
        #[error(
            "failed to decode the \"auth\" field of the docker config entry {key:?}: {reason}"
        )]
        Auth { key: String, reason: &'static str },
        #[error(
            "the docker config names the credential helper {helper:?} for {host}; \
             credential helpers are not supported (put the credentials in \"auths\")"
        )]
        CredentialHelper { host: String, helper: String },
    }

    #[derive(Deserialize, Default)]
    struct ConfigFile {
        #[serde(default)]
        auths: Option<BTreeMap<String, AuthEntry>>,
        #[serde(default, rename = "credHelpers")]
        cred_helpers: BTreeMap<String, String>,
        #[serde(default, rename = "credsStore")]
        creds_store: Option<String>,
    }

    #[derive(Deserialize, Default, Clone)]
    struct AuthEntry {
        #[serde(default)]
        auth: Option<String>,
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        password: Option<String>,
        #[serde(default)]
        identitytoken: Option<String>,
        #[serde(default)]
        registrytoken: Option<String>,
    }

    /// The credentials for registry `host` (`host[:port]`, as in a
    /// reference) in a Docker config: `Ok(None)` when there is no entry.
    ///
    /// `auths` keys match exactly first, then by host name (scheme and any
    /// path stripped: `https://host:5000/v1/` matches `host:5000`). Keys
    /// are tried in sorted order so the answer never depends on map order.
    /// In an entry, `registrytoken` wins over `identitytoken`, which wins
    /// over `auth` (base64 `user:password`, split at the first `:`), which
    /// wins over `username`/`password`.
    ///
    /// A `credHelpers` entry for the host, or a `credsStore` with no usable
    /// `auths` entry, is an error: berth runs no helper programs.
    ///
    /// Registry aliases (a registry reachable under several names whose
    /// credentials are stored under one key) are the caller's business:
    /// use [`credentials_for_any`] with every name.
    pub fn credentials_for(
        json: &[u8],
        host: &str,
    ) -> Result<Option<Credentials>, DockerConfigError> {
        credentials_for_any(json, &[host])
    }

    /// Like [`credentials_for`], trying each of `hosts` in order.
    pub fn credentials_for_any(
        json: &[u8],
        hosts: &[&str],
    ) -> Result<Option<Credentials>, DockerConfigError> {
        let config = parse(json)?;
        for host in hosts {
            if let Some(helper) = config.cred_helpers.get(*host) {
                return Err(DockerConfigError::CredentialHelper {
                    host: host.to_string(),
                    helper: helper.clone(),
                });
            }
        }
        let auths = config.auths.unwrap_or_default();
        for host in hosts {
            let entry = auths.get(*host).map(|e| (host.to_string(), e)).or_else(|| {
                auths
                    .iter()
                    .find(|(k, _)| to_hostname(k).eq_ignore_ascii_case(host))
                    .map(|(k, e)| (k.clone(), e))
            });
            if let Some((key, entry)) = entry {
                if let Some(c) = entry_credentials(&key, entry)? {
                    return Ok(Some(c));
                }
            }
        }
        if let (Some(store), Some(host)) = (config.creds_store, hosts.first()) {
            return Err(DockerConfigError::CredentialHelper {
                host: host.to_string(),
                helper: store,
            });
        }
        Ok(None)
    }

    fn parse(json: &[u8]) -> Result<ConfigFile, DockerConfigError> {
        let value: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| DockerConfigError::Parse(e.to_string()))?;
        let obj = value
            .as_object()
            .ok_or_else(|| DockerConfigError::Parse("not a JSON object".into()))?;
        // The legacy `.dockercfg` format is the `auths` map itself.
        let is_legacy = !obj.is_empty()
            && !["auths", "credHelpers", "credsStore"]
                .iter()
                .any(|k| obj.contains_key(*k))
            && obj.values().all(|v| v.is_object());
        if is_legacy {
            let auths: BTreeMap<String, AuthEntry> = serde_json::from_value(value)
                .map_err(|e| DockerConfigError::Parse(e.to_string()))?;
            return Ok(ConfigFile {
                auths: Some(auths),
                ..ConfigFile::default()
            });
        }
        serde_json::from_value(value).map_err(|e| DockerConfigError::Parse(e.to_string()))
    }

    fn entry_credentials(
        key: &str,
        e: &AuthEntry,
    ) -> Result<Option<Credentials>, DockerConfigError> {
        let non_empty =
            |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(token) = non_empty(&e.registrytoken) {
            return Ok(Some(Credentials::RegistryToken { token }));
        }
        if let Some(token) = non_empty(&e.identitytoken) {
            return Ok(Some(Credentials::IdentityToken { token }));
        }
        if let Some(auth) = non_empty(&e.auth) {
            let err = |reason| DockerConfigError::Auth {
                key: key.to_string(),
                reason,
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| err("not base64"))?;
            let text = String::from_utf8(decoded).map_err(|_| err("not UTF-8"))?;
            let (username, password) = text
                .split_once(':')
                .ok_or_else(|| err("no ':' between user name and password"))?;
            return Ok(Some(Credentials::Basic {
                username: username.to_string(),
                password: password.to_string(),
            }));
        }
        match (non_empty(&e.username), non_empty(&e.password)) {
            (Some(username), Some(password)) => Ok(Some(Credentials::Basic { username, password })),
            _ => Ok(None),
        }
    }

    /// `https://host:5000/v1/` → `host:5000` (Docker's `ToHostname`).
    fn to_hostname(key: &str) -> &str {
        let rest = key
            .strip_prefix("http://")
            .or_else(|| key.strip_prefix("https://"))
            .unwrap_or(key);
        rest.split('/').next().unwrap_or(rest)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn b64(s: &str) -> String {
            base64::engine::general_purpose::STANDARD.encode(s)
        }

        fn basic(u: &str, p: &str) -> Option<Credentials> {
            Some(Credentials::Basic {
                username: u.into(),
                password: p.into(),
            })
        }

        #[test]
        fn exact_key_then_host_name() {
            let json = format!(
                r#"{{"auths": {{
                    "https://reg.example:5000/v1/": {{"auth": "{}"}},
                    "reg.example:5000": {{"auth": "{}"}},
                    "http://other.example/path": {{"username": "o", "password": "p"}}
                }}}}"#,
                b64("url:form"),
                b64("exact:key")
            );
            assert_eq!(
                credentials_for(json.as_bytes(), "reg.example:5000").unwrap(),
                basic("exact", "key")
            );
            assert_eq!(
                credentials_for(json.as_bytes(), "OTHER.example").unwrap(),
                basic("o", "p")
            );
            assert_eq!(
                credentials_for(json.as_bytes(), "reg.example").unwrap(),
                None
            );
            assert_eq!(
                credentials_for(json.as_bytes(), "missing.example").unwrap(),
                None
            );
        }

        #[test]
        fn auth_splits_at_the_first_colon() {
            let json = format!(
                r#"{{"auths": {{"h.example": {{"auth": "{}"}}}}}}"#,
                b64("user:pa:ss:")
            );
            assert_eq!(
                credentials_for(json.as_bytes(), "h.example").unwrap(),
                basic("user", "pa:ss:")
            );
            let json = format!(
                r#"{{"auths": {{"h.example": {{"auth": "{}"}}}}}}"#,
                b64("nocolon")
            );
            assert!(matches!(
                credentials_for(json.as_bytes(), "h.example"),
                Err(DockerConfigError::Auth { .. })
            ));
            let json = r#"{"auths": {"h.example": {"auth": "%%%"}}}"#;
            assert!(credentials_for(json.as_bytes(), "h.example").is_err());
        }

        #[test]
        fn tokens_win_over_passwords() {
            let json = format!(
                r#"{{"auths": {{
                    "a.example": {{"auth": "{0}", "identitytoken": "refresh"}},
                    "b.example": {{"auth": "{0}", "identitytoken": "refresh", "registrytoken": "access"}},
                    "c.example": {{"auth": "", "identitytoken": ""}}
                }}}}"#,
                b64("u:p")
            );
            assert_eq!(
                credentials_for(json.as_bytes(), "a.example").unwrap(),
                Some(Credentials::IdentityToken {
                    token: "refresh".into()
                })
            );
            assert_eq!(
                credentials_for(json.as_bytes(), "b.example").unwrap(),
                Some(Credentials::RegistryToken {
                    token: "access".into()
                })
            );
            assert_eq!(credentials_for(json.as_bytes(), "c.example").unwrap(), None);
        }

        #[test]
        fn helpers_are_refused_and_aliases_are_the_callers() {
            let json = r#"{"credHelpers": {"h.example": "ecr-login"}, "auths": {"h.example": {"username": "u", "password": "p"}}}"#;
            assert!(matches!(
                credentials_for(json.as_bytes(), "h.example"),
                Err(DockerConfigError::CredentialHelper { .. })
            ));
            let json = r#"{"credsStore": "desktop", "auths": {"h.example": {}}}"#;
            assert!(matches!(
                credentials_for(json.as_bytes(), "h.example"),
                Err(DockerConfigError::CredentialHelper { .. })
            ));
            let json = r#"{"credsStore": "desktop", "auths": {"h.example": {"username": "u", "password": "p"}}}"#;
            assert_eq!(
                credentials_for(json.as_bytes(), "h.example").unwrap(),
                basic("u", "p")
            );
            let json =
                r#"{"auths": {"https://alias.example/v1/": {"username": "u", "password": "p"}}}"#;
            assert_eq!(
                credentials_for(json.as_bytes(), "main.example").unwrap(),
                None
            );
            assert_eq!(
                credentials_for_any(json.as_bytes(), &["main.example", "alias.example"]).unwrap(),
                basic("u", "p")
            );
        }

        #[test]
        fn legacy_dockercfg_and_garbage() {
            let json = r#"{"h.example": {"username": "u", "password": "p"}}"#;
            assert_eq!(
                credentials_for(json.as_bytes(), "h.example").unwrap(),
                basic("u", "p")
            );
            assert!(credentials_for(b"[]", "h.example").is_err());
            assert!(credentials_for(b"{", "h.example").is_err());
            assert_eq!(credentials_for(b"{}", "h.example").unwrap(), None);
        }

        #[test]
        fn debug_output_hides_secrets() {
            let c = Credentials::Basic {
                username: "u".into(),
                password: "hunter2".into(),
            };
            assert!(!format!("{c:?}").contains("hunter2"));
            let c = Credentials::RegistryToken {
                token: "tok".into(),
            };
            assert!(!format!("{c:?}").contains("tok\""));
        }
    }
}
