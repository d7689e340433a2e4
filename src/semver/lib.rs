//! Semantic versions and version constraints with the exact semantics of
//! Masterminds/semver v3 (v3.5.0, the version Helm 4 builds with).
//!
//! Written by hand because no Rust crate has these semantics, and Helm
//! charts, Sprig's `semver`/`semverCompare` and Flux-style OCI tag selection
//! all depend on them:
//! - parsing is lenient (`v1`, `1.2`, `01.2.3` are versions; missing parts
//!   are 0), unlike the `semver` crate, which requires three parts;
//! - constraints use Masterminds' own grammar (`~`, `^`, `x` wildcards,
//!   hyphen ranges, `,`/space for AND, `||` for OR) and its pre-release rule:
//!   a pre-release version only satisfies an AND group when some comparator
//!   of that group itself names a pre-release (any version), and then it is
//!   compared by SemVer 2 precedence;
//! - error messages are Masterminds' verbatim, because templates show them.
//!
//! The grammar is defined by regular expressions upstream, including its
//! quirks (a version part may contain `|`; hyphen ranges are rewritten by
//! textual replacement of the first occurrence). We match the same
//! languages with hand-written scanners (`grammar.rs`) that report the same
//! capture groups as Go's leftmost-first matching, with Go's ASCII-only
//! `\s`. By hand because compiling the five expressions at start-up was the
//! largest single cost of a small `berth template` run (every chart using
//! `semverCompare` paid it once per process); a differential test
//! (`differential.rs`) compares the scanners with the expressions
//! themselves.

use std::cmp::Ordering;
use std::fmt;

mod grammar;
pub mod select;
pub use select::{select_tag, tag_version};

/// Longest version string `Version::parse` accepts, in bytes.
pub const MAX_VERSION_LEN: usize = 256;
/// Longest constraint string `Constraint::parse` accepts, in bytes.
pub const MAX_CONSTRAINT_LEN: usize = 512;
/// Most `||` groups a constraint may have.
pub const MAX_CONSTRAINT_GROUPS: usize = 32;

/// Why a version or constraint string was rejected. Messages are
/// Masterminds/semver's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("invalid semantic version")]
    InvalidSemVer,
    #[error("version string empty")]
    Empty,
    #[error("invalid characters in version")]
    InvalidCharacters,
    #[error("version segment starts with 0")]
    SegmentStartsZero,
    #[error("invalid metadata string")]
    InvalidMetadata,
    #[error("invalid prerelease string")]
    InvalidPrerelease,
    #[error("version string is too long (max {MAX_VERSION_LEN} bytes)")]
    VersionTooLong,
    /// A numeric segment does not fit in a `u64` (lenient parsing wraps
    /// Go's `strconv` error). The field is the segment.
    #[error("error parsing version segment: strconv.ParseUint: parsing {}: value out of range", go_quote(.0))]
    SegmentOutOfRange(String),
    /// The same for strict parsing, which returns `strconv`'s error bare.
    #[error("strconv.ParseUint: parsing {}: value out of range", go_quote(.0))]
    StrictSegmentOutOfRange(String),
    /// Strict parsing of an empty numeric segment (`1..3`).
    #[error("strconv.ParseUint: parsing \"\": invalid syntax")]
    StrictSegmentEmpty,
    #[error("constraint string is too long (max {MAX_CONSTRAINT_LEN} bytes)")]
    ConstraintTooLong,
    #[error("too many constraint groups (max {MAX_CONSTRAINT_GROUPS})")]
    TooManyConstraintGroups,
    /// The field is the offending part of the constraint.
    #[error("improper constraint: {}", go_quote(.0))]
    ImproperConstraint(String),
    /// A comparator matched the grammar but its version does not parse
    /// (e.g. `>1|2`, a segment beyond `u64`, a pre-release `01`).
    #[error("constraint parser error")]
    ConstraintParser,
}

/// Why a version does not satisfy one comparator (what `Validate` reports).
/// Messages are Masterminds/semver's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("{} is a prerelease version and the constraint is only looking for release versions", go_quote(.version))]
    Prerelease { version: String },
    #[error("{} is equal to {}", go_quote(.version), go_quote(.constraint))]
    Equal { version: String, constraint: String },
    #[error("{} is not equal to {}", go_quote(.version), go_quote(.constraint))]
    NotEqual { version: String, constraint: String },
    #[error("{} is less than or equal to {}", go_quote(.version), go_quote(.constraint))]
    LessOrEqual { version: String, constraint: String },
    #[error("{} is greater than or equal to {}", go_quote(.version), go_quote(.constraint))]
    GreaterOrEqual { version: String, constraint: String },
    #[error("{} is less than {}", go_quote(.version), go_quote(.constraint))]
    Less { version: String, constraint: String },
    #[error("{} is greater than {}", go_quote(.version), go_quote(.constraint))]
    Greater { version: String, constraint: String },
    #[error("{} does not have same major version as {}", go_quote(.version), go_quote(.constraint))]
    MajorDiffers { version: String, constraint: String },
    #[error("{} does not have same major and minor version as {}", go_quote(.version), go_quote(.constraint))]
    MajorMinorDiffers { version: String, constraint: String },
    #[error("{} does not have same minor version as {}. Expected minor versions to match when constraint major version is 0", go_quote(.version), go_quote(.constraint))]
    MinorDiffersMajorZero { version: String, constraint: String },
    #[error("{} does not have same minor version as {}", go_quote(.version), go_quote(.constraint))]
    MinorDiffers { version: String, constraint: String },
    #[error("{} does not equal {}. Expect version and constraint to equal when major and minor versions are 0", go_quote(.version), go_quote(.constraint))]
    PatchDiffersMajorMinorZero { version: String, constraint: String },
}

/// A semantic version (Masterminds' `*semver.Version`).
///
/// Equality and ordering follow SemVer 2 precedence: build metadata and the
/// original spelling are ignored, so `1.2.3+a == 1.2.3+b`.
#[derive(Debug, Clone)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    metadata: String,
    original: String,
}

const ALLOWED_IDENT: fn(char) -> bool = |c| c.is_ascii_alphanumeric() || c == '-';

impl Version {
    /// Masterminds' `NewVersion`: lenient parsing (`v` prefix, missing minor
    /// or patch default to 0, leading zeros accepted).
    pub fn parse(input: &str) -> Result<Version, Error> {
        if input.len() > MAX_VERSION_LEN {
            return Err(Error::VersionTooLong);
        }
        // A version as the lenient `NewVersion` reads it: optional `v`, one
        // to three numeric parts (leading zeros allowed), then optional
        // `-pre` and `+meta`.
        let groups = grammar::loose_version(input).ok_or(Error::InvalidSemVer)?;
        let part = |i: usize| groups[i].map_or("", |g| g.of(input));
        let number = |s: &str| -> Result<u64, Error> {
            if s.is_empty() {
                return Ok(0);
            }
            s.parse::<u64>()
                .map_err(|_| Error::SegmentOutOfRange(s.to_string()))
        };
        let major = number(part(1))?;
        let minor = number(part(2).trim_start_matches('.'))?;
        let patch = number(part(3).trim_start_matches('.'))?;
        let pre = part(5);
        let metadata = part(8);
        if !pre.is_empty() {
            validate_prerelease(pre)?;
        }
        if !metadata.is_empty() {
            validate_metadata(metadata)?;
        }
        Ok(Version {
            major,
            minor,
            patch,
            pre: pre.to_string(),
            metadata: metadata.to_string(),
            original: input.to_string(),
        })
    }

    /// Masterminds' `StrictNewVersion`: exactly `MAJOR.MINOR.PATCH` with
    /// optional `-pre` and `+meta`, no `v`, no leading zeros.
    pub fn parse_strict(input: &str) -> Result<Version, Error> {
        if input.is_empty() {
            return Err(Error::Empty);
        }
        if input.len() > MAX_VERSION_LEN {
            return Err(Error::VersionTooLong);
        }
        let mut parts: Vec<&str> = input.splitn(3, '.').collect();
        if parts.len() != 3 {
            return Err(Error::InvalidSemVer);
        }
        let mut metadata = "";
        let mut pre = "";
        if let Some((rest, meta)) = parts[2].split_once('+') {
            metadata = meta;
            parts[2] = rest;
            validate_metadata(metadata)?;
        }
        if let Some((rest, p)) = parts[2].split_once('-') {
            pre = p;
            parts[2] = rest;
            validate_prerelease(pre)?;
        }
        for p in &parts {
            if !p.chars().all(|c| c.is_ascii_digit()) {
                return Err(Error::InvalidCharacters);
            }
            if p.len() > 1 && p.starts_with('0') {
                return Err(Error::SegmentStartsZero);
            }
        }
        let number = |s: &str| -> Result<u64, Error> {
            s.parse::<u64>().map_err(|_| {
                if s.is_empty() {
                    Error::StrictSegmentEmpty
                } else {
                    Error::StrictSegmentOutOfRange(s.to_string())
                }
            })
        };
        Ok(Version {
            major: number(parts[0])?,
            minor: number(parts[1])?,
            patch: number(parts[2])?,
            pre: pre.to_string(),
            metadata: metadata.to_string(),
            original: input.to_string(),
        })
    }

    /// Masterminds' `New`: a version from its parts; `original` is its
    /// canonical string.
    pub fn new(major: u64, minor: u64, patch: u64, pre: &str, metadata: &str) -> Version {
        let mut v = Version {
            major,
            minor,
            patch,
            pre: pre.to_string(),
            metadata: metadata.to_string(),
            original: String::new(),
        };
        v.original = v.to_string();
        v
    }

    pub fn major(&self) -> u64 {
        self.major
    }
    pub fn minor(&self) -> u64 {
        self.minor
    }
    pub fn patch(&self) -> u64 {
        self.patch
    }
    /// The pre-release without its `-` (empty when none).
    pub fn prerelease(&self) -> &str {
        &self.pre
    }
    /// The build metadata without its `+` (empty when none).
    pub fn metadata(&self) -> &str {
        &self.metadata
    }
    /// The string the version was parsed from.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// Masterminds' `Compare`: -1, 0 or 1 by SemVer 2 precedence.
    pub fn compare(&self, other: &Version) -> i32 {
        match self.cmp(other) {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        }
    }

    fn v_prefix(&self) -> &'static str {
        if self.original.starts_with('v') {
            "v"
        } else {
            ""
        }
    }

    fn with_original_from(mut self, base: &Version) -> Version {
        self.original = format!("{}{}", base.v_prefix(), self);
        self
    }

    /// `IncPatch`: drops pre-release and metadata; bumps the patch only
    /// when there was no pre-release (`1.2.3-rc1` → `1.2.3`). `None` on
    /// overflow (where Go panics).
    pub fn inc_patch(&self) -> Option<Version> {
        let mut next = self.clone();
        next.metadata.clear();
        next.pre.clear();
        if self.pre.is_empty() {
            next.patch = self.patch.checked_add(1)?;
        }
        Some(next.with_original_from(self))
    }

    /// `IncMinor`. `None` on overflow (where Go panics).
    pub fn inc_minor(&self) -> Option<Version> {
        let mut next = self.clone();
        next.metadata.clear();
        next.pre.clear();
        next.patch = 0;
        next.minor = self.minor.checked_add(1)?;
        Some(next.with_original_from(self))
    }

    /// `IncMajor`. `None` on overflow (where Go panics).
    pub fn inc_major(&self) -> Option<Version> {
        let mut next = self.clone();
        next.metadata.clear();
        next.pre.clear();
        next.patch = 0;
        next.minor = 0;
        next.major = self.major.checked_add(1)?;
        Some(next.with_original_from(self))
    }

    /// `SetPrerelease`: an empty string removes it.
    pub fn with_prerelease(&self, pre: &str) -> Result<Version, Error> {
        if !pre.is_empty() {
            validate_prerelease(pre)?;
        }
        let mut next = self.clone();
        next.pre = pre.to_string();
        Ok(next.with_original_from(self))
    }

    /// `SetMetadata`: an empty string removes it.
    pub fn with_metadata(&self, metadata: &str) -> Result<Version, Error> {
        if !metadata.is_empty() {
            validate_metadata(metadata)?;
        }
        let mut next = self.clone();
        next.metadata = metadata.to_string();
        Ok(next.with_original_from(self))
    }
}

impl fmt::Display for Version {
    /// The canonical form (`String()`): `MAJOR.MINOR.PATCH[-pre][+meta]`,
    /// without any `v`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Version {
    type Err = Error;
    fn from_str(s: &str) -> Result<Version, Error> {
        Version::parse(s)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Version) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        self.major
            .cmp(&other.major)
            .then(self.minor.cmp(&other.minor))
            .then(self.patch.cmp(&other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &other.pre),
            })
    }
}

impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Consistent with `Eq`, which ignores metadata and the original.
        (self.major, self.minor, self.patch, &self.pre).hash(state);
    }
}

/// Pre-release precedence, identifier by identifier; a missing identifier
/// sorts first.
fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let left: Vec<&str> = a.split('.').collect();
    let right: Vec<&str> = b.split('.').collect();
    for i in 0..left.len().max(right.len()) {
        let l = left.get(i).copied().unwrap_or("");
        let r = right.get(i).copied().unwrap_or("");
        let d = compare_prerelease_part(l, r);
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn compare_prerelease_part(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    if a.is_empty() {
        return Ordering::Less;
    }
    if b.is_empty() {
        return Ordering::Greater;
    }
    // Identifiers that parse as u64 are numeric (an oversized number counts
    // as alphanumeric, as upstream); numeric sorts before alphanumeric.
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Err(_), Err(_)) => a.cmp(b),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        // Distinct strings with equal values ("01" vs "1") sort as less,
        // as upstream does.
        (Ok(x), Ok(y)) => {
            if x > y {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

fn validate_prerelease(pre: &str) -> Result<(), Error> {
    for part in pre.split('.') {
        if part.is_empty() {
            return Err(Error::InvalidPrerelease);
        } else if part.chars().all(|c| c.is_ascii_digit()) {
            if part.len() > 1 && part.starts_with('0') {
                return Err(Error::SegmentStartsZero);
            }
        } else if !part.chars().all(ALLOWED_IDENT) {
            return Err(Error::InvalidPrerelease);
        }
    }
    Ok(())
}

fn validate_metadata(meta: &str) -> Result<(), Error> {
    for part in meta.split('.') {
        if part.is_empty() || !part.chars().all(ALLOWED_IDENT) {
            return Err(Error::InvalidMetadata);
        }
    }
    Ok(())
}

// ---- constraints ----------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

impl Op {
    fn from_str(op: &str) -> Option<Op> {
        Some(match op {
            "" | "=" => Op::TildeOrEqual,
            "!=" => Op::NotEqual,
            ">" => Op::Greater,
            "<" => Op::Less,
            ">=" | "=>" => Op::GreaterEqual,
            "<=" | "=<" => Op::LessEqual,
            "~" | "~>" => Op::Tilde,
            "^" => Op::Caret,
            _ => return None,
        })
    }
}

/// One comparator such as `>= 1.2` or `~1.x`.
#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    /// The operator as written (for `Display`).
    op_text: String,
    /// The version as written (for messages and `Display`).
    orig: String,
    /// The version with wildcards and missing parts as 0.
    version: Version,
    /// Some part was a wildcard or missing.
    dirty: bool,
    /// The minor (and so the patch) was a wildcard or missing.
    minor_dirty: bool,
    /// Only the patch was a wildcard or missing.
    patch_dirty: bool,
}

fn is_wildcard(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

impl Comparator {
    fn parse(text: &str) -> Result<Comparator, Error> {
        if text.is_empty() {
            // An empty comparator means "any version" (`>=0.0.0`, dirty).
            return Ok(Comparator {
                op: Op::TildeOrEqual,
                op_text: String::new(),
                orig: String::new(),
                version: Version::new(0, 0, 0, "", ""),
                dirty: true,
                minor_dirty: false,
                patch_dirty: false,
            });
        }
        // Groups 1 = operator, 2 = version, 3/4/5 = major/`.minor`/`.patch`,
        // 6 = `-pre`.
        let groups =
            grammar::comparator(text).ok_or_else(|| Error::ImproperConstraint(text.to_string()))?;
        let group = |i: usize| groups[i].map_or("", |g| g.of(text));
        let (op_text, orig) = (group(1), group(2));
        let (major, minor, patch, pre) = (group(3), group(4), group(5), group(6));
        let op = Op::from_str(op_text).ok_or(Error::ConstraintParser)?;
        let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
        let normalized = if is_wildcard(major) || major.is_empty() {
            dirty = true;
            format!("0.0.0{pre}")
        } else if minor.is_empty() || is_wildcard(minor.trim_start_matches('.')) {
            dirty = true;
            minor_dirty = true;
            format!("{major}.0.0{pre}")
        } else if patch.is_empty() || is_wildcard(patch.trim_start_matches('.')) {
            dirty = true;
            patch_dirty = true;
            format!("{major}{minor}.0{pre}")
        } else {
            orig.to_string()
        };
        let version = Version::parse(&normalized).map_err(|_| Error::ConstraintParser)?;
        Ok(Comparator {
            op,
            op_text: op_text.to_string(),
            orig: orig.to_string(),
            version,
            dirty,
            minor_dirty,
            patch_dirty,
        })
    }

    fn check(&self, v: &Version, include_pre: bool) -> Result<(), Rejection> {
        if !v.pre.is_empty() && !include_pre {
            return Err(Rejection::Prerelease {
                version: v.to_string(),
            });
        }
        match self.op {
            Op::TildeOrEqual if self.dirty => self.check_tilde(v),
            Op::TildeOrEqual => self.ok_if(v, *v == self.version, Rejection::not_equal),
            Op::NotEqual => self.check_not_equal(v),
            Op::Greater => self.check_greater(v),
            Op::Less => self.ok_if(v, *v < self.version, Rejection::greater_or_equal),
            Op::GreaterEqual => self.ok_if(v, *v >= self.version, Rejection::less),
            Op::LessEqual => self.check_less_equal(v),
            Op::Tilde => self.check_tilde(v),
            Op::Caret => self.check_caret(v),
        }
    }

    fn reject(&self, v: &Version, kind: fn(String, String) -> Rejection) -> Result<(), Rejection> {
        Err(kind(v.to_string(), self.orig.clone()))
    }

    fn ok_if(
        &self,
        v: &Version,
        ok: bool,
        kind: fn(String, String) -> Rejection,
    ) -> Result<(), Rejection> {
        if ok {
            Ok(())
        } else {
            self.reject(v, kind)
        }
    }

    fn check_not_equal(&self, v: &Version) -> Result<(), Rejection> {
        let c = &self.version;
        if self.dirty {
            if c.major != v.major {
                return Ok(());
            }
            if c.minor != v.minor && !self.minor_dirty {
                return Ok(());
            } else if self.minor_dirty {
                return self.reject(v, Rejection::equal);
            } else if c.patch != v.patch && !self.patch_dirty {
                return Ok(());
            } else if self.patch_dirty {
                if (!v.pre.is_empty() || !c.pre.is_empty())
                    && compare_prerelease(&v.pre, &c.pre) != Ordering::Equal
                {
                    return Ok(());
                }
                return self.reject(v, Rejection::equal);
            }
        }
        if v == c {
            return self.reject(v, Rejection::equal);
        }
        Ok(())
    }

    fn check_greater(&self, v: &Version) -> Result<(), Rejection> {
        let c = &self.version;
        let greater = if !self.dirty {
            v > c
        } else if v.major > c.major {
            true
        } else if v.major < c.major || self.minor_dirty {
            false
        } else if self.patch_dirty {
            v.minor > c.minor
        } else {
            v > c
        };
        if greater {
            Ok(())
        } else {
            self.reject(v, Rejection::less_or_equal)
        }
    }

    fn check_less_equal(&self, v: &Version) -> Result<(), Rejection> {
        let c = &self.version;
        if !self.dirty {
            return if v <= c {
                Ok(())
            } else {
                self.reject(v, Rejection::greater)
            };
        }
        if v.major > c.major || (v.major == c.major && v.minor > c.minor && !self.minor_dirty) {
            return self.reject(v, Rejection::greater);
        }
        Ok(())
    }

    fn check_tilde(&self, v: &Version) -> Result<(), Rejection> {
        let c = &self.version;
        if v < c {
            return self.reject(v, Rejection::less);
        }
        // `~0.0.0` (and `~0`-less spellings that are not dirty) accepts all.
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return Ok(());
        }
        if v.major != c.major {
            return self.reject(v, Rejection::major_differs);
        }
        if v.minor != c.minor && !self.minor_dirty {
            return self.reject(v, Rejection::major_minor_differs);
        }
        Ok(())
    }

    fn check_caret(&self, v: &Version) -> Result<(), Rejection> {
        let c = &self.version;
        if v < c {
            return self.reject(v, Rejection::less);
        }
        if c.major > 0 || self.minor_dirty {
            return if v.major == c.major {
                Ok(())
            } else {
                self.reject(v, Rejection::major_differs)
            };
        }
        if v.major > 0 {
            return self.reject(v, Rejection::major_differs);
        }
        if c.minor > 0 || self.patch_dirty {
            return if v.minor == c.minor {
                Ok(())
            } else {
                self.reject(v, Rejection::minor_differs_major_zero)
            };
        }
        if v.minor > 0 {
            return self.reject(v, Rejection::minor_differs);
        }
        if c.patch == v.patch {
            Ok(())
        } else {
            self.reject(v, Rejection::patch_differs_major_minor_zero)
        }
    }
}

impl Rejection {
    fn equal(version: String, constraint: String) -> Rejection {
        Rejection::Equal {
            version,
            constraint,
        }
    }
    fn not_equal(version: String, constraint: String) -> Rejection {
        Rejection::NotEqual {
            version,
            constraint,
        }
    }
    fn less_or_equal(version: String, constraint: String) -> Rejection {
        Rejection::LessOrEqual {
            version,
            constraint,
        }
    }
    fn greater_or_equal(version: String, constraint: String) -> Rejection {
        Rejection::GreaterOrEqual {
            version,
            constraint,
        }
    }
    fn less(version: String, constraint: String) -> Rejection {
        Rejection::Less {
            version,
            constraint,
        }
    }
    fn greater(version: String, constraint: String) -> Rejection {
        Rejection::Greater {
            version,
            constraint,
        }
    }
    fn major_differs(version: String, constraint: String) -> Rejection {
        Rejection::MajorDiffers {
            version,
            constraint,
        }
    }
    fn major_minor_differs(version: String, constraint: String) -> Rejection {
        Rejection::MajorMinorDiffers {
            version,
            constraint,
        }
    }
    fn minor_differs_major_zero(version: String, constraint: String) -> Rejection {
        Rejection::MinorDiffersMajorZero {
            version,
            constraint,
        }
    }
    fn minor_differs(version: String, constraint: String) -> Rejection {
        Rejection::MinorDiffers {
            version,
            constraint,
        }
    }
    fn patch_differs_major_minor_zero(version: String, constraint: String) -> Rejection {
        Rejection::PatchDiffersMajorMinorZero {
            version,
            constraint,
        }
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.op_text, self.orig)
    }
}

/// A version constraint (Masterminds' `*semver.Constraints`): OR groups of
/// AND-ed comparators.
#[derive(Debug, Clone)]
pub struct Constraint {
    groups: Vec<Vec<Comparator>>,
    /// Per group: some comparator names a pre-release, so pre-release
    /// versions are considered for it.
    group_has_pre: Vec<bool>,
    include_prerelease: bool,
}

impl Constraint {
    /// Masterminds' `NewConstraint`.
    pub fn parse(input: &str) -> Result<Constraint, Error> {
        if input.len() > MAX_CONSTRAINT_LEN {
            return Err(Error::ConstraintTooLong);
        }
        let rewritten = rewrite_hyphen_ranges(input);
        let ors: Vec<&str> = rewritten.split("||").collect();
        if ors.len() > MAX_CONSTRAINT_GROUPS {
            return Err(Error::TooManyConstraintGroups);
        }
        let mut groups = Vec::with_capacity(ors.len());
        let mut group_has_pre = Vec::with_capacity(ors.len());
        for group_text in ors {
            if !grammar::valid_group(group_text) {
                return Err(Error::ImproperConstraint(group_text.to_string()));
            }
            let mut found: Vec<&str> = grammar::find_comparators(group_text)
                .iter()
                .map(|g| g[0].map_or("", |m| m.of(group_text)))
                .collect();
            if found.is_empty() {
                found.push(group_text);
            }
            let mut comparators = Vec::with_capacity(found.len());
            let mut has_pre = false;
            for text in found {
                let c = Comparator::parse(text)?;
                has_pre |= !c.version.pre.is_empty();
                comparators.push(c);
            }
            groups.push(comparators);
            group_has_pre.push(has_pre);
        }
        Ok(Constraint {
            groups,
            group_has_pre,
            include_prerelease: false,
        })
    }

    /// Consider pre-release versions in every group (Masterminds'
    /// `IncludePrerelease`), not only in groups that name one.
    pub fn include_prerelease(mut self, include: bool) -> Constraint {
        self.include_prerelease = include;
        self
    }

    /// Masterminds' `Check`.
    pub fn matches(&self, v: &Version) -> bool {
        self.groups.iter().enumerate().any(|(i, group)| {
            let include_pre = self.include_prerelease || self.group_has_pre[i];
            group.iter().all(|c| c.check(v, include_pre).is_ok())
        })
    }

    /// Masterminds' `Validate`: `Ok` when some group matches, else every
    /// reason (one per failing comparator, the pre-release reason once).
    pub fn validate(&self, v: &Version) -> Result<(), Vec<Rejection>> {
        let mut reasons = Vec::new();
        let mut reported_pre = false;
        for (i, group) in self.groups.iter().enumerate() {
            let include_pre = self.include_prerelease || self.group_has_pre[i];
            let mut ok = true;
            for c in group {
                if !include_pre && !v.pre.is_empty() {
                    if !reported_pre {
                        reasons.push(Rejection::Prerelease {
                            version: v.to_string(),
                        });
                        reported_pre = true;
                    }
                    ok = false;
                } else if let Err(e) = c.check(v, include_pre) {
                    reasons.push(e);
                    ok = false;
                }
            }
            if ok {
                return Ok(());
            }
        }
        Err(reasons)
    }
}

impl fmt::Display for Constraint {
    /// Upstream's `String()`: comparators joined by spaces, groups by ` || `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, group) in self.groups.iter().enumerate() {
            if i > 0 {
                f.write_str(" || ")?;
            }
            for (j, c) in group.iter().enumerate() {
                if j > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for Constraint {
    type Err = Error;
    fn from_str(s: &str) -> Result<Constraint, Error> {
        Constraint::parse(s)
    }
}

/// Rewrites each `A - B` into `>= A, <= B `, replacing the first textual
/// occurrence of each match as upstream does.
fn rewrite_hyphen_ranges(input: &str) -> String {
    let mut out = input.to_string();
    for groups in grammar::hyphen_ranges(input) {
        let group = |i: usize| groups[i].map_or("", |g| g.of(input));
        let (whole, from, to) = (group(0), group(1), group(11));
        out = out.replacen(whole, &format!(">= {from}, <= {to} "), 1);
    }
    out
}

/// Go's `strconv.Quote`, as `%q` prints strings in upstream's messages.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint` without Unicode tables:
/// controls, separators other than ASCII space, and the common format
/// characters are not printable.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xFFFE | 0xFFFF)
}

#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;
