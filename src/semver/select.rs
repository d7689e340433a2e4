//! Picking a tag by semver range, as Flux's OCIRepository does with
//! `ref.semver` and `ref.semverFilter`:
//!
//! - tags that do not match the filter (a regular expression, unanchored,
//!   as Go's `regexp.MatchString`) are dropped first;
//! - a tag is a version when it parses as a strict `MAJOR.MINOR.PATCH`
//!   version after an optional leading `v` (Flux's `version.ParseVersion`);
//!   `1.2` or `latest` are not versions;
//! - Helm stores a chart version's `+` as `_` in the tag (OCI tags cannot
//!   hold `+`), so `_` reads as `+` (`1.0.0_build.1` is `1.0.0+build.1`);
//! - the highest version the constraint accepts wins (pre-releases only
//!   when the constraint names one, Masterminds' rule); the tag is
//!   returned as the registry spells it.

pub use regex::{self, Regex};

use crate::{Constraint, Version};

/// The version a tag stands for, if it is one (see the module notes).
pub fn tag_version(tag: &str) -> Option<Version> {
    let text = tag.replace('_', "+");
    let bare = text.strip_prefix('v').unwrap_or(&text);
    Version::parse_strict(bare).ok()?;
    Version::parse(&text).ok()
}

/// The tag of the highest version in `tags` that passes `filter` and
/// `constraint`, or `None`. Among tags of equal precedence (`1.0.0` and
/// `v1.0.0`, or builds differing only in metadata) the lexically greatest
/// tag wins, so the answer never depends on the registry's order.
pub fn select_tag<'a, S: AsRef<str>>(
    tags: &'a [S],
    constraint: &Constraint,
    filter: Option<&Regex>,
) -> Option<&'a str> {
    let mut best: Option<(Version, &'a str)> = None;
    for tag in tags {
        let tag = tag.as_ref();
        if filter.is_some_and(|f| !f.is_match(tag)) {
            continue;
        }
        let Some(version) = tag_version(tag) else {
            continue;
        };
        if !constraint.matches(&version) {
            continue;
        }
        let better = match &best {
            None => true,
            Some((b, bt)) => match version.cmp(b) {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Equal => tag > *bt,
                std::cmp::Ordering::Less => false,
            },
        };
        if better {
            best = Some((version, tag));
        }
    }
    best.map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAGS: &[&str] = &[
        "1.0.0",
        "1.1.0",
        "2.0.0-rc.1",
        "2.0.0",
        "latest",
        "1.2",
        "v1.1.5",
        "sha256-abc.sig",
        "3.0.0_build.7",
        "01.2.3",
    ];

    fn pick(range: &str, filter: Option<&str>) -> Option<&'static str> {
        let c = Constraint::parse(range).unwrap();
        let f = filter.map(|f| Regex::new(f).unwrap());
        select_tag(TAGS, &c, f.as_ref())
    }

    #[test]
    fn highest_in_range() {
        assert_eq!(pick("^1", None), Some("v1.1.5"));
        assert_eq!(pick(">=1.0.0 <1.1.0", None), Some("1.0.0"));
        assert_eq!(pick("~2.0", None), Some("2.0.0"));
        assert_eq!(pick("*", None), Some("3.0.0_build.7"));
        assert_eq!(pick(">=4", None), None);
    }

    #[test]
    fn prereleases_only_when_named() {
        assert_eq!(pick(">=2.0.0-0 <2.0.0", None), Some("2.0.0-rc.1"));
        assert_eq!(pick(">=1.5 <2.0.0", None), None);
    }

    #[test]
    fn filter_applies_first() {
        assert_eq!(pick("*", Some(".*-rc.*")), None);
        assert_eq!(pick(">=2.0.0-0", Some(".*-rc.*")), Some("2.0.0-rc.1"));
        // Unanchored, as Go's MatchString.
        assert_eq!(pick("^1", Some("^1\\.")), Some("1.1.0"));
        assert_eq!(pick("^1", Some("0")), Some("1.1.0"));
    }

    #[test]
    fn tag_versions() {
        assert!(tag_version("1.2").is_none());
        assert!(tag_version("latest").is_none());
        assert!(tag_version("01.2.3").is_none());
        assert!(tag_version("vv1.0.0").is_none());
        let v = tag_version("3.0.0_build.7").unwrap();
        assert_eq!(v.metadata(), "build.7");
        assert_eq!(tag_version("v1.1.5").unwrap().patch(), 5);
    }

    #[test]
    fn equal_precedence_is_deterministic() {
        let c = Constraint::parse("^1").unwrap();
        assert_eq!(select_tag(&["v1.0.0", "1.0.0"], &c, None), Some("v1.0.0"));
        assert_eq!(select_tag(&["1.0.0", "v1.0.0"], &c, None), Some("v1.0.0"));
    }
}
