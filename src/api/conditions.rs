//! kstatus-compatible conditions.
//!
//! Conditions are derived, not hand-set: reconcilers call `set_condition`
//! with what they observed, and `Ready` is computed from the rest with
//! `summarize`. `lastTransitionTime` only moves when a condition's status
//! flips, so a status patch that only repeats what is known changes nothing
//! (`conditions_changed` tells the caller whether to patch at all).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// Condition types.
pub mod types {
    /// The object is reconciled and its outcome is good.
    pub const READY: &str = "Ready";
    /// Work is in progress (kstatus: "InProgress").
    pub const RECONCILING: &str = "Reconciling";
    /// Reconciling cannot make progress until the spec changes (kstatus:
    /// "Failed").
    pub const STALLED: &str = "Stalled";
    /// The source's signature was verified.
    pub const SOURCE_VERIFIED: &str = "SourceVerified";
    /// The source's artifact is stored and usable.
    pub const ARTIFACT_IN_STORAGE: &str = "ArtifactInStorage";
    /// The release action (install, upgrade) succeeded.
    pub const RELEASED: &str = "Released";
    /// A failed release was remediated (rolled back or uninstalled).
    pub const REMEDIATED: &str = "Remediated";
}

/// Condition reasons (CamelCase, bounded: also used as metric labels).
pub mod reasons {
    pub const SUCCEEDED: &str = "Succeeded";
    pub const PROGRESSING: &str = "Progressing";
    pub const SUSPENDED: &str = "Suspended";
    pub const DEPENDENCY_NOT_READY: &str = "DependencyNotReady";
    pub const INVALID_SPEC: &str = "InvalidSpec";
    pub const AUTHENTICATION_FAILED: &str = "AuthenticationFailed";
    pub const REGISTRY_UNREACHABLE: &str = "RegistryUnreachable";
    pub const TAG_NOT_FOUND: &str = "TagNotFound";
    pub const NO_MATCHING_VERSION: &str = "NoMatchingVersion";
    pub const DIGEST_MISMATCH: &str = "DigestMismatch";
    pub const MEDIA_TYPE_MISMATCH: &str = "MediaTypeMismatch";
    pub const VERIFICATION_FAILED: &str = "VerificationFailed";
    pub const ARTIFACT_FAILED: &str = "ArtifactFailed";
    pub const ARTIFACT_NOT_READY: &str = "ArtifactNotReady";
    pub const CHART_LOAD_FAILED: &str = "ChartLoadFailed";
    pub const VALUES_FAILED: &str = "ValuesFailed";
    pub const RENDER_FAILED: &str = "RenderFailed";
    pub const INSTALL_SUCCEEDED: &str = "InstallSucceeded";
    pub const INSTALL_FAILED: &str = "InstallFailed";
    pub const UPGRADE_SUCCEEDED: &str = "UpgradeSucceeded";
    pub const UPGRADE_FAILED: &str = "UpgradeFailed";
    pub const ROLLBACK_SUCCEEDED: &str = "RollbackSucceeded";
    pub const ROLLBACK_FAILED: &str = "RollbackFailed";
    pub const UNINSTALL_SUCCEEDED: &str = "UninstallSucceeded";
    pub const UNINSTALL_FAILED: &str = "UninstallFailed";
    pub const HEALTH_CHECK_FAILED: &str = "HealthCheckFailed";
    pub const RETRIES_EXHAUSTED: &str = "RetriesExhausted";
}

/// `True`, `False` or `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    True,
    False,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::True => "True",
            Status::False => "False",
            Status::Unknown => "Unknown",
        }
    }
}

/// Set (add or replace) the condition of `type_`. The transition time is
/// kept when the status does not change; `observed_generation` is always
/// updated.
pub fn set_condition(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: Status,
    reason: &str,
    message: impl Into<String>,
    observed_generation: Option<i64>,
) {
    set_condition_at(
        conditions,
        type_,
        status,
        reason,
        message,
        observed_generation,
        Timestamp::now(),
    )
}

/// `set_condition` with an explicit clock, for tests and for computing a
/// whole status with one timestamp.
pub fn set_condition_at(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: Status,
    reason: &str,
    message: impl Into<String>,
    observed_generation: Option<i64>,
    now: Timestamp,
) {
    let message = message.into();
    if let Some(existing) = conditions.iter_mut().find(|c| c.type_ == type_) {
        if existing.status != status.as_str() {
            existing.last_transition_time = Time(now);
            existing.status = status.as_str().to_string();
        }
        existing.reason = reason.to_string();
        existing.message = message;
        existing.observed_generation = observed_generation;
    } else {
        conditions.push(Condition {
            type_: type_.to_string(),
            status: status.as_str().to_string(),
            reason: reason.to_string(),
            message,
            observed_generation,
            last_transition_time: Time(now),
        });
    }
}

/// Remove the condition of `type_`, if present.
pub fn remove_condition(conditions: &mut Vec<Condition>, type_: &str) {
    conditions.retain(|c| c.type_ != type_);
}

/// The condition of `type_`, if present.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of `type_` is present with status `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "True")
}

/// Whether two condition lists differ in anything but timestamps, i.e.
/// whether a status patch would tell a reader something new.
pub fn conditions_changed(old: &[Condition], new: &[Condition]) -> bool {
    if old.len() != new.len() {
        return true;
    }
    new.iter().any(|n| match find(old, &n.type_) {
        None => true,
        Some(o) => {
            o.status != n.status
                || o.reason != n.reason
                || o.message != n.message
                || o.observed_generation != n.observed_generation
        }
    })
}

/// Compute `Ready` from the other conditions, kstatus-style, and keep the
/// abnormal-true conditions (`Reconciling`, `Stalled`) consistent with it:
///
/// - any "negative polarity" condition (`Stalled`, `Reconciling`) that is
///   True makes Ready False (Stalled) or Unknown (Reconciling), carrying
///   its reason and message;
/// - otherwise the first of `owned` (positive polarity) that is False or
///   Unknown decides Ready, with its reason and message;
/// - otherwise Ready is True with `success_reason` / `success_message`.
pub fn summarize(
    conditions: &mut Vec<Condition>,
    owned: &[&str],
    success_reason: &str,
    success_message: &str,
    observed_generation: Option<i64>,
    now: Timestamp,
) {
    let stalled = find(conditions, types::STALLED)
        .filter(|c| c.status == "True")
        .cloned();
    let reconciling = find(conditions, types::RECONCILING)
        .filter(|c| c.status == "True")
        .cloned();
    let (status, reason, message) = if let Some(c) = stalled {
        (Status::False, c.reason, c.message)
    } else if let Some(c) = reconciling {
        (Status::Unknown, c.reason, c.message)
    } else if let Some(c) = owned
        .iter()
        .filter_map(|t| find(conditions, t))
        .find(|c| c.status != "True")
        .cloned()
    {
        let st = if c.status == "False" {
            Status::False
        } else {
            Status::Unknown
        };
        (st, c.reason, c.message)
    } else {
        (
            Status::True,
            success_reason.to_string(),
            success_message.to_string(),
        )
    };
    set_condition_at(
        conditions,
        types::READY,
        status,
        &reason,
        message,
        observed_generation,
        now,
    );
    // Ready first, then the others in a stable order, so `kubectl describe`
    // reads the same on every reconcile.
    conditions.sort_by_key(|c| (c.type_ != types::READY, c.type_.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn set_adds_then_replaces_by_type() {
        let mut c = Vec::new();
        set_condition_at(&mut c, "A", Status::True, "R1", "m1", Some(1), t(10));
        set_condition_at(&mut c, "B", Status::False, "R2", "m2", Some(1), t(10));
        set_condition_at(&mut c, "A", Status::True, "R3", "m3", Some(2), t(20));
        assert_eq!(c.len(), 2);
        let a = find(&c, "A").unwrap();
        assert_eq!(a.reason, "R3");
        assert_eq!(a.message, "m3");
        assert_eq!(a.observed_generation, Some(2));
    }

    #[test]
    fn transition_time_moves_only_when_status_flips() {
        let mut c = Vec::new();
        set_condition_at(&mut c, "Ready", Status::False, "X", "a", Some(1), t(10));
        set_condition_at(&mut c, "Ready", Status::False, "Y", "b", Some(2), t(20));
        assert_eq!(find(&c, "Ready").unwrap().last_transition_time, Time(t(10)));
        set_condition_at(&mut c, "Ready", Status::True, "Z", "c", Some(2), t(30));
        assert_eq!(find(&c, "Ready").unwrap().last_transition_time, Time(t(30)));
        assert_eq!(find(&c, "Ready").unwrap().status, "True");
    }

    #[test]
    fn changed_ignores_time_only_differences() {
        let mut a = Vec::new();
        set_condition_at(&mut a, "Ready", Status::True, "S", "ok", Some(1), t(10));
        let mut b = a.clone();
        b[0].last_transition_time = Time(t(99));
        assert!(!conditions_changed(&a, &b));
        set_condition_at(&mut b, "Ready", Status::True, "S", "ok", Some(2), t(99));
        assert!(conditions_changed(&a, &b));
        remove_condition(&mut b, "Ready");
        assert!(conditions_changed(&a, &b));
    }

    #[test]
    fn summarize_prefers_stalled_then_reconciling_then_owned() {
        let mut c = Vec::new();
        set_condition_at(
            &mut c,
            types::ARTIFACT_IN_STORAGE,
            Status::True,
            "Ok",
            "stored",
            Some(1),
            t(1),
        );
        set_condition_at(
            &mut c,
            types::SOURCE_VERIFIED,
            Status::False,
            reasons::VERIFICATION_FAILED,
            "signature does not match key cosign.pub",
            Some(1),
            t(1),
        );
        let owned = [types::SOURCE_VERIFIED, types::ARTIFACT_IN_STORAGE];
        summarize(&mut c, &owned, reasons::SUCCEEDED, "stored", Some(1), t(2));
        let ready = find(&c, types::READY).unwrap();
        assert_eq!(ready.status, "False");
        assert_eq!(ready.reason, reasons::VERIFICATION_FAILED);

        set_condition_at(
            &mut c,
            types::RECONCILING,
            Status::True,
            reasons::PROGRESSING,
            "pulling sha256:abc",
            Some(1),
            t(3),
        );
        summarize(&mut c, &owned, reasons::SUCCEEDED, "stored", Some(1), t(3));
        assert_eq!(find(&c, types::READY).unwrap().status, "Unknown");

        set_condition_at(
            &mut c,
            types::STALLED,
            Status::True,
            reasons::INVALID_SPEC,
            "bad semver",
            Some(1),
            t(4),
        );
        summarize(&mut c, &owned, reasons::SUCCEEDED, "stored", Some(1), t(4));
        let ready = find(&c, types::READY).unwrap();
        assert_eq!(ready.status, "False");
        assert_eq!(ready.reason, reasons::INVALID_SPEC);
        assert_eq!(c[0].type_, types::READY, "Ready sorts first");

        remove_condition(&mut c, types::STALLED);
        remove_condition(&mut c, types::RECONCILING);
        set_condition_at(
            &mut c,
            types::SOURCE_VERIFIED,
            Status::True,
            reasons::SUCCEEDED,
            "verified",
            Some(1),
            t(5),
        );
        summarize(
            &mut c,
            &owned,
            reasons::SUCCEEDED,
            "stored artifact for 1.2.3",
            Some(1),
            t(5),
        );
        let ready = find(&c, types::READY).unwrap();
        assert_eq!(ready.status, "True");
        assert_eq!(ready.message, "stored artifact for 1.2.3");
    }
}
