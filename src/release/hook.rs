//! Hooks inside a release record: Helm v4.3.1's `release.Hook`
//! (`pkg/release/v1/hook.go`), and the conversion from and to the
//! renderer's hooks (rollback and uninstall run the stored hooks).

use serde::{Deserialize, Serialize};

use berth_render::manifest::{Head, Hook, HookDeletePolicy, HookEvent, Manifest};

use super::go_time;
use super::null_default;

/// `release.Hook`. Events and policies are kept as Helm's strings, so a
/// record Helm wrote keeps values berth does not act on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookRecord {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The template the hook came from, as in `# Source:`
    /// (`chart/templates/hook.yaml`): Helm's `SortManifests` file path.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manifest: String,
    /// `pre-install`, `post-upgrade`, … in annotation order.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub events: Vec<String>,
    #[serde(default)]
    pub last_run: HookExecution,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight: i64,
    /// `before-hook-creation`, `hook-succeeded`, `hook-failed`.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub delete_policies: Vec<String>,
    /// `helm.sh/hook-output-log-policy` values (Helm 4).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub output_log_policies: Vec<String>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// `release.HookExecution`: when the hook last ran and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookExecution {
    #[serde(
        default,
        with = "go_time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub started_at: Option<jiff::Timestamp>,
    #[serde(
        default,
        with = "go_time::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub completed_at: Option<jiff::Timestamp>,
    /// Always written (`"phase": ""` for a hook that never ran).
    #[serde(default)]
    pub phase: HookPhase,
}

/// `release.HookPhase`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HookPhase {
    /// Never run: Go's zero value, `""`.
    #[default]
    #[serde(rename = "")]
    NotRun,
    Unknown,
    Running,
    Succeeded,
    Failed,
}

impl HookRecord {
    /// The record of a rendered hook that has not run yet.
    pub fn from_rendered(h: &Hook) -> HookRecord {
        HookRecord {
            name: h.manifest.head.name.clone(),
            kind: h.manifest.head.kind.clone(),
            path: h.manifest.source.clone(),
            manifest: h.manifest.content.clone(),
            events: h.events.iter().map(|e| e.as_str().to_string()).collect(),
            last_run: HookExecution::default(),
            weight: i64::from(h.weight),
            delete_policies: h
                .delete_policies
                .iter()
                .map(|p| p.as_str().to_string())
                .collect(),
            output_log_policies: Vec::new(),
        }
    }

    /// The hook to run again (rollback, uninstall): events and delete
    /// policies Helm does not know are dropped, as when Helm sorts them.
    /// The head is read from the stored manifest; if that fails (a record
    /// from elsewhere), kind and name come from the record.
    pub fn to_rendered(&self) -> Hook {
        let head = match berth_render::manifest::parse_head(&self.manifest) {
            Ok(simple) => simple.head,
            Err(_) => Head {
                kind: self.kind.clone(),
                name: self.name.clone(),
                ..Head::default()
            },
        };
        Hook {
            manifest: Manifest {
                source: self.path.clone(),
                content: self.manifest.clone(),
                head,
            },
            events: self
                .events
                .iter()
                .filter_map(|e| HookEvent::parse(&e.trim().to_lowercase()))
                .collect(),
            weight: i32::try_from(self.weight).unwrap_or(0),
            delete_policies: self
                .delete_policies
                .iter()
                .filter_map(|p| HookDeletePolicy::parse(&p.trim().to_lowercase()))
                .collect(),
        }
    }
}
