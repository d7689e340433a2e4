//! Kubernetes versions as Helm reads them (`common.ParseKubeVersion`, on
//! apimachinery's generic version parser): for `--kube-version`,
//! `.Capabilities.KubeVersion` and the chart's `kubeVersion` check.

/// A Kubernetes version as Helm's `common.ParseKubeVersion` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeVersion {
    /// The input with a leading `v` (`v1.33.4-gke.1`).
    pub version: String,
    /// `v` + the numeric components only (`v1.33.4`), what `String()` and
    /// the chart's `kubeVersion` check use.
    pub normalized: String,
    pub major: String,
    pub minor: String,
}

/// Why a Kubernetes version string is not one (apimachinery's
/// `version.ParseGeneric` wording).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeVersionError {
    #[error("could not parse {0:?} as version")]
    Unparsable(String),
    #[error("illegal version string {0:?}")]
    Illegal(String),
    #[error("illegal zero-prefixed version component {0:?} in {1:?}")]
    ZeroPrefixed(String, String),
    #[error("illegal non-numeric version component {0:?} in {1:?}: {2}")]
    NonNumeric(String, String, String),
}

impl KubeVersion {
    /// `common.ParseKubeVersion`: apimachinery's generic version (at least
    /// two numeric components after an optional `v` and leading spaces;
    /// anything after them is kept only in `version`).
    pub fn parse(input: &str) -> Result<KubeVersion, KubeVersionError> {
        let trimmed = input.trim_start();
        let body = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let digits_end = body
            .char_indices()
            .scan(false, |after_dot_ok, (i, c)| {
                // The numeric part is `[0-9]+(\.[0-9]+)*`.
                if c.is_ascii_digit() {
                    *after_dot_ok = true;
                    Some(i + 1)
                } else if c == '.' && *after_dot_ok {
                    *after_dot_ok = false;
                    Some(i)
                } else {
                    None
                }
            })
            .last()
            .unwrap_or(0);
        let numbers = body[..digits_end].trim_end_matches('.');
        if numbers.is_empty() {
            return Err(KubeVersionError::Unparsable(input.to_string()));
        }
        let components: Vec<&str> = numbers.split('.').collect();
        if components.len() < 2 {
            return Err(KubeVersionError::Illegal(input.to_string()));
        }
        let mut nums = Vec::with_capacity(components.len());
        for (i, comp) in components.iter().enumerate() {
            if i == 0 && comp.starts_with('0') && *comp != "0" {
                return Err(KubeVersionError::ZeroPrefixed(
                    comp.to_string(),
                    input.to_string(),
                ));
            }
            let n: u64 = comp.parse().map_err(|e: std::num::ParseIntError| {
                KubeVersionError::NonNumeric(comp.to_string(), input.to_string(), e.to_string())
            })?;
            nums.push(n);
        }
        let version = if input.starts_with('v') {
            input.to_string()
        } else {
            format!("v{input}")
        };
        let normalized = format!(
            "v{}",
            nums.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(".")
        );
        Ok(KubeVersion {
            version,
            normalized,
            major: nums[0].to_string(),
            minor: nums[1].to_string(),
        })
    }
}
